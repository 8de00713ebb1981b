"""`wall bench relay`: simulated GB/T 28181 cameras → SIP platform → relay → WebRTC → viewers, on one machine.

Three kinds of process, so that the server's CPU is measured alone:
- *server*: GbPlatform + Relay + ViewerSessions (the `sip` process minus Django), with a loopback
  JSON-lines signalling socket standing in for the HTTP play API (tested separately);
- *cameras*: N simulated cameras streaming a pre-encoded looping 1080p25 clip (~2 Mbit/s, encoded once)
  as PS over RTP/UDP, each frame stamped with an SEI (frame number, send time);
- *viewers*: aiortc peers receiving the WebRTC streams. They do not decode every frame: a probe takes the
  RTP packets from the receiver, rebuilds each frame, reads its stamp (simulator → viewer latency, gaps =
  lost frames) and decodes only each viewer's first frame to check it is a decodable keyframe.
After every viewer has its first frame, figures are taken over a window of --duration seconds.
Added latency is RTP arrival at the relay (the frame's last packet) → its last RTP packet handed to the
WebRTC transport. Time to first frame is play request → first complete frame at the viewer.
With `--incident N` an incident is active: its war room plays the N cameras nearest to it, one more
viewer on each of N cameras (counted like the others).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bench import emit

CAMERA_DOMAIN = "4403990000"
PLATFORM_ID = "44039900002000000001"
PASSWORD = "bench-relay"


def _log(message: str) -> None:
    print(f"bench relay: {message}", file=sys.stderr, flush=True)


def _use_loopback() -> None:
    from video.webrtc import use_ice_addresses

    use_ice_addresses(["127.0.0.1"])


async def _command(conn) -> Any:
    """The next command from the parent (waiting in a thread, not blocking the loop)."""
    return await asyncio.get_running_loop().run_in_executor(None, conn.recv)


# ----- server process -----

async def _server(conn, options: dict) -> None:
    from video.gb28181.gbservice import GbService, RelayRefused
    from video.gb28181.relay import NotPlayable, RelaySettings
    from video.gb28181.settings import GbSettings
    from video.stats import LatencyHistogram

    _use_loopback()
    settings = GbSettings(platform_id=PLATFORM_ID, domain=CAMERA_DOMAIN, sip_port=0, password=PASSWORD,
                          request_timeout=10.0, catalog_timeout=5.0)
    most = options["cameras"] * options["viewers"] + options["incident"] + 8
    service = GbService(settings, RelaySettings(grace=5.0), max_viewers=most)
    await service.start()

    async def signalling(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, ValueError):
            request = json.loads(await reader.readline())
            try:
                reply = await service.play(request["device"], request["channel"], request["sdp"])
            except (RelayRefused, NotPlayable) as exc:
                reply = {"error": str(exc)}
            writer.write(json.dumps(reply).encode() + b"\n")
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(signalling, "127.0.0.1", 0)
    conn.send({"sip_port": service.platform.port, "signal_port": server.sockets[0].getsockname()[1]})
    cpu_start = wall_start = 0.0
    bytes_start = dropped_start = 0
    while True:
        command = await _command(conn)
        if command == "registered":
            conn.send(sum(device.online for device in service.platform.registry.devices.values()))
        elif command == "mark":  # the measurement window starts: fresh latency figures and CPU baseline
            for session in service.viewers.sessions.values():
                session.track.stats.latency = LatencyHistogram()
            cpu_start, wall_start = time.process_time(), time.monotonic()
            bytes_start = sum(s["bytes_in"] for s in service.streams())
            dropped_start = sum(session.track.stats.dropped for session in service.viewers.sessions.values())
            conn.send(True)
        elif command == "report":
            cpu, wall = time.process_time() - cpu_start, time.monotonic() - wall_start
            latency, dropped, frames_out = LatencyHistogram(), 0, 0
            for session in service.viewers.sessions.values():
                latency.merge(session.track.stats.latency)
                dropped += session.track.stats.dropped
                frames_out += session.track.stats.frames_out
            streams = service.streams()
            conn.send({
                "cpu_cores": cpu / wall if wall else None, "latency": latency.summary(),
                "relay_dropped": dropped - dropped_start,
                "frames_out": frames_out, "reencoded": 0, "streams": len(streams),
                "frames_in": sum(s["frames_in"] for s in streams),
                "pulls": len(service.platform.sessions),
                "relay_first_frame_s": sorted(s["first_frame_s"] for s in streams if s["first_frame_s"] is not None),
                "bitrate_in_mbps": (sum(s["bytes_in"] for s in streams) - bytes_start) * 8 / wall / 1e6,
            })
        else:
            break
    await service.close()
    server.close()


# ----- cameras process -----

async def _cameras(conn, options: dict, sip_port: int) -> None:
    from video.gb28181.simulator.camera import CameraConfig, run_cameras
    from video.gb28181.simulator.clip import encode_clip

    width, height = options["size"]
    encode_clip(width, height, options["fps"], bitrate_kbps=options["bitrate"])  # once, before anything starts
    base = CameraConfig(f"{CAMERA_DOMAIN}1320000000", server_port=sip_port, server_id=PLATFORM_ID,
                        domain=CAMERA_DOMAIN, password=PASSWORD, width=width, height=height, fps=options["fps"],
                        bitrate_kbps=options["bitrate"], stamp=True, keepalive_interval=20.0)
    cameras = await run_cameras(options["cameras"], base)
    conn.send([(c.config.device_id, c.config.channel_ids()[0]) for c in cameras])
    await _command(conn)
    for camera in cameras:
        await camera.stop()


# ----- viewers process -----

@dataclass
class Probe:
    """Rebuilds frames from one viewer's RTP packets and checks them, without decoding each one."""

    window: tuple[float, float] = (float("inf"), float("inf"))
    started: float = field(default_factory=time.monotonic)
    first_frame_s: float | None = None
    answer_s: float | None = None
    first_decoded: bool | None = None
    frames: int = 0
    lost: int = 0
    broken: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    _parts: list[bytes] = field(default_factory=list)
    _rtp_seq: int | None = None
    _incomplete: bool = False
    _last_frame: int | None = None

    async def packet(self, packet, arrival_time_ms: int = 0) -> None:
        """Take one RTP packet (in place of aiortc's receiver: no jitter buffer, no decoder)."""
        from aiortc.codecs.h264 import h264_depayload

        if self._rtp_seq is not None and packet.sequence_number != (self._rtp_seq + 1) & 0xFFFF:
            self._incomplete = True
        self._rtp_seq = packet.sequence_number
        with contextlib.suppress(ValueError, IndexError):
            self._parts.append(h264_depayload(packet.payload))
        if packet.marker:
            data, incomplete = b"".join(self._parts), self._incomplete
            self._parts, self._incomplete = [], False
            self._frame(data, incomplete)

    def _frame(self, data: bytes, incomplete: bool) -> None:
        from video.gb28181.simulator.stamp import read_stamp

        now = time.monotonic()
        stamp = read_stamp(data)
        if self.first_frame_s is None:
            self.first_frame_s = now - self.started
            self.first_decoded = _decodes(data)
        in_window = self.window[0] <= now <= self.window[1]
        if stamp is None or incomplete:
            self.broken += in_window
            return
        number, sent_ns = stamp
        if in_window:
            self.frames += 1
            self.latencies_ms.append((time.monotonic_ns() - sent_ns) / 1e6)
            if self._last_frame is not None and number > self._last_frame + 1:
                self.lost += number - self._last_frame - 1
        self._last_frame = number


def _decodes(data: bytes) -> bool:
    import av

    codec = av.CodecContext.create("h264", "r")
    try:
        return bool(codec.decode(av.Packet(data)) + codec.decode(None))
    except av.error.FFmpegError:
        return False


async def _watch(signal_port: int, device: str, channel: str, probe: Probe, pcs: list) -> str | None:
    from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription

    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    pcs.append(pc)
    transceiver = pc.addTransceiver("video", direction="recvonly")
    transceiver.receiver._handle_rtp_packet = probe.packet  # the probe replaces jitter buffer and decoder
    await pc.setLocalDescription(await pc.createOffer())
    probe.started = time.monotonic()
    reader, writer = await asyncio.open_connection("127.0.0.1", signal_port)
    writer.write(json.dumps({"device": device, "channel": channel, "sdp": pc.localDescription.sdp}).encode() + b"\n")
    reply = json.loads(await reader.readline())
    probe.answer_s = time.monotonic() - probe.started
    writer.close()
    if "error" in reply:
        return reply["error"]
    await pc.setRemoteDescription(RTCSessionDescription(reply["sdp"], reply["type"]))
    return None


async def answer_commands(conn, probes: Callable[[], list], report: Callable[[], Any]) -> None:
    """Answer the parent's commands to a viewer process (first frames, measuring window, report) until stop."""
    cpu_start = 0.0
    while (command := await _command(conn)) != "stop":
        current = probes()
        if command == "first":
            conn.send(sum(p.first_frame_s is not None for p in current))
        elif isinstance(command, tuple):  # the window
            for probe in current:
                probe.window = command
            cpu_start = time.process_time()
            conn.send(True)
        elif command == "report":
            cpu = (time.process_time() - cpu_start) / (time.monotonic() - current[0].window[0])
            conn.send((cpu, report()))


async def _viewers(conn, signal_port: int, targets: list[tuple[str, str]], interval: float) -> None:
    _use_loopback()
    probes = [Probe() for _ in targets]
    pcs: list = []

    async def watch(index: int) -> str | None:
        await asyncio.sleep(index * interval)  # plays arrive one after another, as a wall opens its tiles
        (device, channel), probe = targets[index], probes[index]
        return await _watch(signal_port, device, channel, probe, pcs)

    errors = await asyncio.gather(*(watch(index) for index in range(len(targets))))
    conn.send([e for e in errors if e])
    fields = ("first_frame_s", "answer_s", "first_decoded", "frames", "lost", "broken", "latencies_ms")
    await answer_commands(conn, lambda: probes, lambda: [{k: getattr(p, k) for k in fields} for p in probes])
    for pc in pcs:
        await pc.close()


def _child(role: str, conn, *args: Any) -> None:
    os.environ.setdefault("PYTHONHASHSEED", "0")
    runner = {"server": _server, "cameras": _cameras, "viewers": _viewers}[role]
    asyncio.run(runner(conn, *args))


# ----- orchestration -----

def _percentile(values: list[float], fraction: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))], 2)


def _size(text: str) -> tuple[int, int]:
    width, _, height = text.partition("x")
    return int(width), int(height)


def start_child(ctx, child: Callable[..., None], role: str, *args: Any) -> tuple[Any, Any]:
    """Start `child(role, conn, *args)` in a process of its own; (the process, the parent's end of its pipe)."""
    parent, conn = ctx.Pipe()
    process = ctx.Process(target=child, args=(role, conn, *args), daemon=True, name=f"bench-{role}")
    process.start()
    return process, parent


def measure(server_conn, workers: list[tuple[Any, Any]], duration: float) -> tuple[Any, list]:
    """Open the measuring window in every worker and the server, wait it out; (server report, worker reports)."""
    start = time.monotonic()
    for _, conn in workers:
        conn.send((start, start + duration))
        conn.recv()
    server_conn.send("mark")
    server_conn.recv()
    time.sleep(duration)
    server_conn.send("report")
    server = server_conn.recv()
    reports = []
    for _, conn in workers:
        conn.send("report")
        reports.append(conn.recv())
    return server, reports


def stop_children(processes: list[tuple[Any, Any]]) -> None:
    """Tell every child to stop (last started first), then make sure it has."""
    for process, conn in reversed(processes):
        with contextlib.suppress(OSError, BrokenPipeError):
            conn.send("stop")
        process.join(10)
        if process.is_alive():
            process.terminate()


def _start(ctx, role: str, *args: Any):
    return start_child(ctx, _child, role, *args)


def _wait_for(conn, command: str, target: int, timeout: float) -> int:
    deadline = time.monotonic() + timeout
    value = 0
    while time.monotonic() < deadline:
        conn.send(command)
        value = conn.recv()
        if value >= target:
            break
        time.sleep(0.25)
    return value


def run(options: dict) -> dict:
    """Run the bench with the given options and return its figures."""
    ctx = multiprocessing.get_context("spawn")
    processes = []
    try:
        server, server_conn = _start(ctx, "server", options)
        processes.append((server, server_conn))
        ports = server_conn.recv()
        cams, cams_conn = _start(ctx, "cameras", options, ports["sip_port"])
        processes.append((cams, cams_conn))
        targets = cams_conn.recv()
        registered = _wait_for(server_conn, "registered", len(targets), 30)
        _log(f"{registered}/{len(targets)} cameras registered; starting {options['viewers']} viewers each")
        viewer_targets = [t for t in targets for _ in range(options["viewers"])] + targets[: options["incident"]]
        groups = [viewer_targets[i :: options["viewer_procs"]] for i in range(options["viewer_procs"])]
        interval = len(groups) / options["play_rate"] if options["play_rate"] > 0 else 0.0
        viewers = [_start(ctx, "viewers", ports["signal_port"], group, interval) for group in groups if group]
        processes += viewers
        refused = [error for _, conn in viewers for error in conn.recv()]
        first = sum(_wait_for(conn, "first", len(group), 30 + len(group) * interval)
                    for (_, conn), group in zip(viewers, groups, strict=False))
        _log(f"{first}/{len(viewer_targets)} viewers have a picture ({len(refused)} refused); "
             f"measuring {options['duration']:g} s")
        relay, reports = measure(server_conn, viewers, options["duration"])
        probes, watched, viewer_cpu = [], [], 0.0
        for (cpu, group_probes), group in zip(reports, groups, strict=False):
            probes += group_probes
            watched += group
            viewer_cpu += cpu
    finally:
        stop_children(processes)
    latencies = [ms for probe in probes for ms in probe["latencies_ms"]]
    first_frames = [probe["first_frame_s"] * 1000 for probe in probes if probe["first_frame_s"] is not None]
    lost = sum(probe["lost"] + probe["broken"] for probe in probes)
    clean: dict[tuple[str, str], bool] = {}
    for target, probe in zip(watched, probes, strict=True):
        ok = probe["first_frame_s"] is not None and probe["frames"] > 0 and not probe["lost"] + probe["broken"]
        clean[tuple(target)] = clean.get(tuple(target), True) and ok
    viewers_total = len(viewer_targets)
    return {
        "cameras": len(targets), "viewers": viewers_total, "duration_s": options["duration"],
        "play_rate_per_s": options["play_rate"], "incident_viewers": options["incident"],
        "reencoded": relay["reencoded"], "pulls": relay["pulls"],
        "added_latency_p50_ms": relay["latency"]["p50_ms"], "added_latency_p99_ms": relay["latency"]["p99_ms"],
        "added_latency_max_ms": relay["latency"]["max_ms"],
        "end_to_end_p50_ms": _percentile(latencies, 0.5), "end_to_end_p99_ms": _percentile(latencies, 0.99),
        "first_frame_p50_ms": _percentile(first_frames, 0.5), "first_frame_p99_ms": _percentile(first_frames, 0.99),
        "answer_p99_ms": _percentile([p["answer_s"] * 1000 for p in probes if p["answer_s"] is not None], 0.99),
        "first_frames_decodable": sum(bool(p["first_decoded"]) for p in probes),
        "frames_received": sum(p["frames"] for p in probes), "frames_lost": lost,
        "frames_missing": sum(p["lost"] for p in probes), "frames_incomplete": sum(p["broken"] for p in probes),
        "relay_dropped": relay["relay_dropped"], "refused": len(refused),
        "cpu_cores": round(relay["cpu_cores"], 3) if relay["cpu_cores"] is not None else None,
        "cpu_pct_per_viewer_stream": round(relay["cpu_cores"] * 100 / viewers_total, 3) if viewers_total else None,
        "bitrate_in_mbps": round(relay["bitrate_in_mbps"], 2), "viewer_cpu_cores": round(viewer_cpu, 3),
        "cameras_held": sum(clean.values()),  # cameras all of whose viewers got every frame in the window
    }


def main(argv: list[str], as_json: bool = False) -> int:
    """Run the bench; the last line printed is one JSON object of figures."""
    parser = argparse.ArgumentParser(prog="wall bench relay")
    parser.add_argument("--cameras", type=int, default=32)
    parser.add_argument("--viewers", type=int, default=2, help="viewers per camera")
    parser.add_argument("--duration", type=float, default=30.0, help="seconds measured")
    parser.add_argument("--size", type=_size, default=(1920, 1080))
    parser.add_argument("--fps", type=int, default=25)
    parser.add_argument("--bitrate", type=int, default=2000, help="kbit/s of each camera")
    parser.add_argument("--play-rate", type=float, default=8.0, help="plays started per second (0: all at once)")
    parser.add_argument("--viewer-procs", type=int, default=2, help="processes the viewers are spread over")
    parser.add_argument("--incident", type=int, default=0, metavar="N",
                        help="an incident is active: its war room also plays N of the cameras")
    parser.add_argument("--json", action="store_true", help="print only the JSON line")
    args = parser.parse_args(argv)
    as_json = as_json or args.json
    options = {"cameras": args.cameras, "viewers": args.viewers, "duration": args.duration, "size": args.size,
               "fps": args.fps, "bitrate": args.bitrate, "viewer_procs": max(1, args.viewer_procs),
               "play_rate": args.play_rate, "incident": max(0, args.incident)}
    _log(f"{args.cameras} cameras {args.size[0]}x{args.size[1]}@{args.fps} {args.bitrate} kbit/s, "
         f"{args.viewers} viewers each, {args.duration:g} s")
    emit(run(options), as_json)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
