"""Video calls and three-party dispatch sessions: media forwarded through the server, never re-encoded.

Modules: ``tap`` (encoded frames out of aiortc's receiver), ``forwarding`` (sources → slots, transcoding
only for a pair whose codecs differ), ``peer`` (one participant's connection and its slot layout),
``model``/``sessions`` (calls, participants, signalling state, clean-up), ``signalling`` (hub events),
``recording`` (PyAV remux), ``cameras`` (a relay camera as participant), ``service`` (the process's service).
"""
