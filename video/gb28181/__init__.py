"""GB/T 28181 camera relay: SIP signalling, MANSCDP, RTP/PS media, device simulator.

Pure asyncio code with no Django dependency; settings come in as :class:`GbSettings`.
"""
