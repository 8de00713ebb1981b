"""The GB/T 28181 flavour of SDP for live play: ``s=Play``, ``y=`` SSRC, ``f=`` media description, PS over RTP.

The transport is named from the platform's (receiver's) side: UDP; TCP-passive (the platform listens,
``a=setup:passive``, the device connects); TCP-active (the device listens, the platform connects).
"""

from __future__ import annotations

from dataclasses import dataclass

from video.gb28181.media_transport import TCP_ACTIVE, TCP_PASSIVE, UDP

CONTENT_TYPE = "APPLICATION/SDP"
MAX_SDP_LINES = 100


class SdpError(ValueError):
    """An SDP body we cannot use."""


@dataclass
class PlaySdp:
    """What matters in a GB play offer or answer."""

    channel_id: str
    host: str
    port: int
    transport: str  # UDP, TCP-passive or TCP-active, from the platform's side
    ssrc: int | None
    session: str = "Play"
    direction: str = "recvonly"


def ssrc_for(live: bool, platform_id: str, sequence: int) -> int:
    """A GB SSRC: 0 (live) or 1 (playback), the 4th-8th digits of the domain id, a 4-digit sequence."""
    domain_digits = platform_id[3:8].rjust(5, "0")
    return int(f"{0 if live else 1}{domain_digits}{sequence % 10000:04d}")


def build_sdp(sdp: PlaySdp, *, answer: bool = False) -> bytes:
    """The offer (platform → device) or answer (device → platform)."""
    tcp = sdp.transport != UDP
    if answer:  # the device takes the opposite role of the platform
        setup = "active" if sdp.transport == TCP_PASSIVE else "passive"
    else:
        setup = "passive" if sdp.transport == TCP_PASSIVE else "active"
    lines = [
        "v=0",
        f"o={sdp.channel_id} 0 0 IN IP4 {sdp.host}",
        f"s={sdp.session}",
        f"c=IN IP4 {sdp.host}",
        "t=0 0",
        f"m=video {sdp.port} {'TCP/RTP/AVP' if tcp else 'RTP/AVP'} 96 98 97",
        f"a={'sendonly' if answer else sdp.direction}",
        "a=rtpmap:96 PS/90000",
        "a=rtpmap:98 H264/90000",
        "a=rtpmap:97 MPEG4/90000",
    ]
    if tcp:
        lines += [f"a=setup:{setup}", "a=connection:new"]
    if sdp.ssrc is not None:
        lines.append(f"y={sdp.ssrc:010d}")
    lines.append("f=")
    return ("\r\n".join(lines) + "\r\n").encode("ascii")


def parse_sdp(body: bytes, *, answer: bool = False) -> PlaySdp:
    """Read an offer (or, with answer=True, an answer) into a PlaySdp; raises SdpError."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SdpError("SDP is not UTF-8") from exc
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if len(lines) > MAX_SDP_LINES:
        raise SdpError("SDP too long")
    values: dict[str, str] = {}
    attributes: dict[str, str] = {}
    for line in lines:
        key, sep, value = line.partition("=")
        if not sep or len(key) != 1:
            raise SdpError(f"bad SDP line {line[:60]!r}")
        if key == "a":
            name, _, attr = value.partition(":")
            attributes[name] = attr
        else:
            values.setdefault(key, value)
    try:
        media = values["m"].split()
        port = int(media[1])
        host = values.get("c", "").split()[2]
        channel_id = values.get("o", "").split()[0] if values.get("o") else ""
    except (KeyError, IndexError, ValueError) as exc:
        raise SdpError("SDP lacks a usable m= or c= line") from exc
    if not 0 <= port < 65536:
        raise SdpError("bad media port")
    if "TCP" in media[2].upper():
        setup = attributes.get("setup", "passive" if not answer else "active")
        # a platform offer says its own role; a device answer says the device's role (the opposite one)
        platform_listens = (setup == "passive") != answer
        transport = TCP_PASSIVE if platform_listens else TCP_ACTIVE
    else:
        transport = UDP
    ssrc_text = values.get("y", "")
    ssrc = int(ssrc_text) if ssrc_text.isdigit() and len(ssrc_text) <= 10 and int(ssrc_text) < 2**32 else None
    direction = next((d for d in ("recvonly", "sendonly", "sendrecv") if d in attributes), "recvonly")
    return PlaySdp(channel_id, host, port, transport, ssrc, values.get("s", ""), direction)
