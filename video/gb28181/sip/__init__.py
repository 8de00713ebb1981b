"""SIP message model, header helpers, dialogs and the asyncio transport."""

from video.gb28181.sip.message import SipMessage, SipParseError, SipRequest, SipResponse, parse_message

__all__ = ["SipMessage", "SipParseError", "SipRequest", "SipResponse", "parse_message"]
