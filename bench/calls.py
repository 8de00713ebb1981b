"""`wall bench calls`: N three-party sessions forwarded through the call server, on one machine.

Processes, so that the server's CPU is measured alone:
- *server*: a :class:`CallManager` (the media side of `wall demo`/`sip`, minus Django and the hub), with a
  loopback JSON-lines signalling socket standing in for the HTTP API (tested separately in tests/calls);
- *peers* (``--peer-procs``): 3 × N aiortc participants. Each sends a pre-encoded looping 720p25 H.264 clip
  (~1.5 Mbit/s, encoded once, frame number in the picture) as it is, every frame stamped with an SEI
  (frame number, send time), plus pre-encoded 20 ms Opus packets; each receives the other two through its
  slots. Receivers do not decode every frame: the relay bench's probe rebuilds each frame from the RTP
  packets, reads the stamp (send → receive latency, lost frames) and decodes only the first one.
Figures are taken over --duration seconds once every receiver has a picture.
- ``added_latency_*``: sender's stamp (frame handed to its RTP sender) → last packet at the receiver: the
  whole path through the server. ``server_latency_*``: frame complete in the server → handed to the
  outgoing RTP sender (the part the server adds itself).
- ``freezes``: gaps of more than 200 ms between frames at a receiver; ``sessions_sustained``: sessions all of
  whose six streams had no freeze, no lost and no broken frame; ``cpu_pct_per_stream``: server CPU (one
  core = 100 %) per forwarded video stream (6 per session; audio forwarding included in the cost).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing
import sys
import time
from dataclasses import dataclass
from typing import Any

from bench import emit
from bench.relay import (
    Probe,
    _command,
    _percentile,
    _size,
    _use_loopback,
    answer_commands,
    measure,
    start_child,
    stop_children,
)

FREEZE_S = 0.2
PARTIES = 3


def _log(message: str) -> None:
    print(f"bench calls: {message}", file=sys.stderr, flush=True)


# ----- server process -----

async def _server(conn, options: dict) -> None:
    from video.calls.config import CallSettings
    from video.calls.model import Caller, CallError, Kind
    from video.calls.sessions import CallManager
    from video.stats import LatencyHistogram

    async def publish(topic: str, event: dict) -> int:
        return 0

    _use_loopback()
    manager = CallManager(CallSettings(max_sessions=options["sessions"] + 4, connect_timeout=60.0), publish)
    creator = Caller("commander:bench", "commander", "bench")
    sessions = [(await manager.create(creator, Kind.SESSION, [], None))[0].id for _ in range(options["sessions"])]

    async def signalling(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, ValueError):
            request = json.loads(await reader.readline())
            caller = Caller(request["identity"], "commander", request["identity"])
            try:
                reply = await manager.join(request["session"], caller, request["sdp"])
            except CallError as exc:
                reply = {"error": exc.detail}
            writer.write(json.dumps(reply, default=str).encode() + b"\n")
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(signalling, "127.0.0.1", 0)
    conn.send({"signal_port": server.sockets[0].getsockname()[1], "sessions": sessions})
    cpu_start = wall_start = 0.0

    def slots():
        return [slot for s in manager.sessions.values() for p in s.participants.values() if p.media
                for slot in p.media.slots if slot.video is not None and slot.video.source is not None]

    while True:
        command = await _command(conn)
        if command == "mark":
            for slot in slots():
                slot.video.stats.latency = LatencyHistogram()
            cpu_start, wall_start = time.process_time(), time.monotonic()
            conn.send(True)
        elif command == "report":
            cpu, wall = time.process_time() - cpu_start, time.monotonic() - wall_start
            latency = LatencyHistogram()
            for slot in slots():
                latency.merge(slot.video.stats.latency)
            conn.send({"cpu_cores": cpu / wall if wall else None, "latency": latency.summary(),
                       "forwarded": len(slots()),
                       "reencoded": sum(len(s.transcoded()) for s in manager.sessions.values())})
        else:
            break
    await manager.close()
    server.close()


# ----- peers process -----

@dataclass
class CallProbe(Probe):
    """The relay bench's probe, plus freezes: frames arriving more than FREEZE_S apart."""

    freezes: int = 0
    _last_arrival: float | None = None

    def _frame(self, data: bytes, incomplete: bool) -> None:
        now = time.monotonic()
        if self._last_arrival is not None and self.window[0] <= now <= self.window[1]:
            self.freezes += now - self._last_arrival > FREEZE_S
        self._last_arrival = now
        super()._frame(data, incomplete)


async def _discard(packet, arrival_time_ms: int = 0) -> None:
    """Received audio is not looked at (its forwarding is what is measured, on the server)."""


class BenchPeer:
    """One participant: sends the stamped clip and Opus, probes what it receives in its two slots."""

    def __init__(self, session: str, identity: str) -> None:
        from aiortc import RTCPeerConnection

        from video.calls.peer import ice_configuration
        from video.passthrough import PassthroughTrack

        self.session, self.identity = session, identity
        self.pc = RTCPeerConnection(ice_configuration([]))
        self.video = PassthroughTrack()
        self.audio = PassthroughTrack(kind="audio", clock_rate=48_000)
        self.pc.addTransceiver(self.video, direction="sendonly")
        self.pc.addTransceiver(self.audio, direction="sendonly")
        self.probes: dict[str, CallProbe] = {}
        self._video_receivers = []
        for _ in range(PARTIES - 1):
            probe = CallProbe()
            transceiver = self.pc.addTransceiver("video", direction="recvonly")
            transceiver.receiver._handle_rtp_packet = probe.packet  # the probe replaces jitter buffer and decoder
            self._video_receivers.append((transceiver, probe))
            self.pc.addTransceiver("audio", direction="recvonly").receiver._handle_rtp_packet = _discard

    async def join(self, signal_port: int) -> str | None:
        """Offer, get the answer through the signalling socket, apply it; an error text or None."""
        from aiortc import RTCSessionDescription

        await self.pc.setLocalDescription(await self.pc.createOffer())
        reader, writer = await asyncio.open_connection("127.0.0.1", signal_port)
        request = {"session": self.session, "identity": self.identity, "sdp": self.pc.localDescription.sdp}
        writer.write(json.dumps(request).encode() + b"\n")
        reply = json.loads(await reader.readline())
        writer.close()
        if "error" in reply:
            return reply["error"]
        await self.pc.setRemoteDescription(RTCSessionDescription(reply["sdp"], reply["type"]))
        for transceiver, probe in self._video_receivers:
            self.probes[transceiver.mid] = probe
        return None

    async def feed(self, units: list[tuple[bytes, bool]], opus: list[bytes], fps: int, offset: float) -> None:
        """Send the clip and the audio in real time, from `offset` seconds on, until closed."""
        from video.gb28181.h264 import START_CODE
        from video.gb28181.simulator.stamp import stamp_nal
        from video.passthrough import EncodedUnit

        loop = asyncio.get_running_loop()
        await asyncio.sleep(offset)
        start, frame, packet = loop.time(), 0, 0
        while self.video.readyState == "live":
            now = loop.time() - start
            while packet * 0.02 <= now:
                self.audio.push(EncodedUnit(opus[packet % len(opus)], True, packet * 960))
                packet += 1
            if frame / fps <= now:
                data, keyframe = units[frame % len(units)]
                stamped = START_CODE + stamp_nal(frame, time.monotonic_ns()) + data
                self.video.push(EncodedUnit(stamped, keyframe, frame * 90_000 // fps))
                frame += 1
            await asyncio.sleep(min(frame / fps, packet * 0.02) - (loop.time() - start))


def _media(options: dict) -> tuple[list[tuple[bytes, bool]], list[bytes]]:
    """The 720p clip with SPS/PPS before each keyframe, and 1 s of Opus: both encoded once."""
    import fractions

    import av
    import numpy as np

    from video.calls.media import ParameterSets, nal_types
    from video.gb28181.simulator.clip import encode_clip

    width, height = options["size"]
    sets = ParameterSets()
    units = [(sets.complete(f.data, nal_types(f.data)), f.keyframe)
             for f in encode_clip(width, height, options["fps"], frames=options["fps"] * 2, gop=options["fps"] * 2,
                                  bitrate_kbps=options["bitrate"])]
    encoder = av.CodecContext.create("libopus", "w")
    encoder.sample_rate, encoder.format, encoder.layout = 48_000, "s16", "stereo"
    encoder.time_base = fractions.Fraction(1, 48_000)
    opus: list[bytes] = []
    for index in range(55):
        samples = (np.sin(np.arange(index * 960, (index + 1) * 960) * 0.0576) * 6000).astype(np.int16)
        frame = av.AudioFrame.from_ndarray(np.repeat(samples, 2)[None, :], format="s16", layout="stereo")
        frame.sample_rate, frame.pts = 48_000, index * 960
        opus += [bytes(p) for p in encoder.encode(frame)]
    return units, opus[:50]


async def _peers(conn, signal_port: int, members: list[tuple[str, str]], options: dict) -> None:
    _use_loopback()
    units, opus = _media(options)
    peers = [BenchPeer(session, identity) for session, identity in members]
    errors = [e for e in await asyncio.gather(*(peer.join(signal_port) for peer in peers)) if e]
    feeds = [asyncio.ensure_future(peer.feed(units, opus, options["fps"], index / len(peers) / options["fps"]))
             for index, peer in enumerate(peers)]
    conn.send(errors)
    fields = ("first_decoded", "frames", "lost", "broken", "freezes", "latencies_ms")
    await answer_commands(
        conn,
        lambda: [probe for peer in peers for probe in peer.probes.values()],
        lambda: [[{k: getattr(p, k) for k in fields} for p in peer.probes.values()] for peer in peers],
    )
    for task in feeds:
        task.cancel()
    for peer in peers:
        await peer.pc.close()


def _child(role: str, conn, *args: Any) -> None:
    runner = {"server": _server, "peers": _peers}[role]
    asyncio.run(runner(conn, *args))


# ----- orchestration -----

def _start(ctx, role: str, *args: Any):
    return start_child(ctx, _child, role, *args)


def run(options: dict) -> dict:
    """Run the bench with the given options and return its figures."""
    ctx = multiprocessing.get_context("spawn")
    processes = []
    try:
        server, server_conn = _start(ctx, "server", options)
        processes.append((server, server_conn))
        ready = server_conn.recv()
        members = [(session, f"commander:s{s}p{p}") for s, session in enumerate(ready["sessions"])
                   for p in range(PARTIES)]
        groups = [members[i :: options["peer_procs"]] for i in range(options["peer_procs"])]
        peers = [_start(ctx, "peers", ready["signal_port"], group, options) for group in groups if group]
        processes += peers
        refused = [error for _, conn in peers for error in conn.recv()]
        expected = len(members) * (PARTIES - 1)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            pictures = 0
            for _, conn in peers:
                conn.send("first")
                pictures += conn.recv()
            if pictures >= expected:
                break
            time.sleep(0.25)
        _log(f"{pictures}/{expected} receivers have a picture ({len(refused)} refused); "
             f"measuring {options['duration']:g} s")
        figures, peer_reports = measure(server_conn, peers, options["duration"])
        by_peer, peer_cpu = [], 0.0
        for cpu, reports in peer_reports:
            by_peer += reports
            peer_cpu += cpu
    finally:
        stop_children(processes)
    probes = [probe for reports in by_peer for probe in reports]
    latencies = [ms for probe in probes for ms in probe["latencies_ms"]]
    sessions: dict[str, bool] = {}
    peer_members = [m for group in groups for m in group]
    for (session, _), reports in zip(peer_members, by_peer, strict=True):
        clean = len(reports) == PARTIES - 1 and all(
            p["frames"] > 0 and not (p["lost"] + p["broken"] + p["freezes"]) for p in reports)
        sessions[session] = sessions.get(session, True) and clean
    forwarded = figures["forwarded"]
    cpu_cores = figures["cpu_cores"] or 0.0
    return {
        "sessions": options["sessions"], "duration_s": options["duration"],
        "size": f"{options['size'][0]}x{options['size'][1]}", "fps": options["fps"], "bitrate_kbps": options["bitrate"],
        "reencoded": figures["reencoded"], "forwarded_streams": forwarded,
        "cpu_cores": round(cpu_cores, 3),
        "cpu_pct_per_stream": round(cpu_cores * 100 / forwarded, 3) if forwarded else None,
        "added_latency_p50_ms": _percentile(latencies, 0.5), "added_latency_p99_ms": _percentile(latencies, 0.99),
        "server_latency_p50_ms": figures["latency"]["p50_ms"], "server_latency_p99_ms": figures["latency"]["p99_ms"],
        "freezes": sum(p["freezes"] for p in probes), "frames_received": sum(p["frames"] for p in probes),
        "frames_lost": sum(p["lost"] + p["broken"] for p in probes),
        "first_frames_decodable": sum(bool(p["first_decoded"]) for p in probes), "receivers": len(probes),
        "refused": len(refused), "sessions_sustained": sum(sessions.values()),
        "peer_cpu_cores": round(peer_cpu, 3),
    }


def main(argv: list[str], as_json: bool = False) -> int:
    """Run the bench; the last line printed is one JSON object of figures."""
    parser = argparse.ArgumentParser(prog="wall bench calls")
    parser.add_argument("--sessions", type=int, default=4, help="three-party sessions")
    parser.add_argument("--duration", type=float, default=30.0, help="seconds measured")
    parser.add_argument("--size", type=_size, default=(1280, 720))
    parser.add_argument("--fps", type=int, default=25)
    parser.add_argument("--bitrate", type=int, default=1500, help="kbit/s of each sender")
    parser.add_argument("--peer-procs", type=int, default=2, help="processes the peers are spread over")
    parser.add_argument("--json", action="store_true", help="print only the JSON line")
    args = parser.parse_args(argv)
    as_json = as_json or args.json
    options = {"sessions": max(1, args.sessions), "duration": args.duration, "size": args.size, "fps": args.fps,
               "bitrate": args.bitrate, "peer_procs": max(1, args.peer_procs)}
    _log(f"{args.sessions} three-party sessions, {args.size[0]}x{args.size[1]}@{args.fps} {args.bitrate} kbit/s, "
         f"{args.duration:g} s")
    emit(run(options), as_json)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
