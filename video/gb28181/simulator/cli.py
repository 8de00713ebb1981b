"""`wall simulate cameras --count N …`: simulated GB/T 28181 cameras registering with the platform.

Defaults come from the environment the `sip` process reads (WALL_GB_SIP_PORT, WALL_GB_PLATFORM_ID,
WALL_GB_DOMAIN, WALL_GB_PASSWORD), so the simulators find the platform without flags.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import re

from video.gb28181.ps_mux import MAX_PES_PAYLOAD, MuxOptions
from video.gb28181.simulator.camera import CameraConfig, SimulatedCamera, run_cameras


def _size(text: str) -> tuple[int, int]:
    match = re.fullmatch(r"(\d{2,4})x(\d{2,4})", text)
    if not match or int(match[1]) % 2 or int(match[2]) % 2:
        raise argparse.ArgumentTypeError("size is WxH with even numbers, e.g. 1920x1080")
    return int(match[1]), int(match[2])


def _fraction(text: str) -> float:
    value = float(text)
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError("a fraction between 0 and 1")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The options of `wall simulate cameras`."""
    env = os.environ.get
    parser = argparse.ArgumentParser(prog="wall simulate cameras", description="Simulated GB/T 28181 cameras")
    parser.add_argument("--count", type=int, default=4, help="number of devices")
    parser.add_argument("--channels", type=int, default=1, help="channels per device")
    parser.add_argument("--first", type=int, default=1, help="serial number of the first device")
    parser.add_argument("--server-host", default=env("WALL_GB_HOST", "127.0.0.1"))
    parser.add_argument("--server-port", type=int, default=int(env("WALL_GB_SIP_PORT", "5060")))
    parser.add_argument("--server-id", default=env("WALL_GB_PLATFORM_ID", "44039900002000000001"))
    parser.add_argument("--domain", default=env("WALL_GB_DOMAIN", "4403990000"))
    parser.add_argument("--password", default=env("WALL_GB_PASSWORD", "12345678"))
    parser.add_argument("--transport", choices=["udp", "tcp"], default="udp", help="SIP transport")
    parser.add_argument("--codec", choices=["h264", "h265"], default="h264")
    parser.add_argument("--size", type=_size, default=(640, 360), help="picture size WxH")
    parser.add_argument("--fps", type=int, default=25)
    parser.add_argument("--bitrate", type=int, default=0, help="kbit/s of a textured clip (0: plain clip)")
    parser.add_argument("--no-psm", action="store_true", help="send no program stream map")
    parser.add_argument("--stuffing", type=int, choices=range(8), default=0, metavar="0-7", help="pack stuffing")
    parser.add_argument("--pes-payload", type=int, default=MAX_PES_PAYLOAD, help="split frames into PES this big")
    parser.add_argument("--zero-pes-length", action="store_true", help="PES_packet_length = 0")
    parser.add_argument("--loss", type=_fraction, default=0.0, help="share of RTP packets dropped")
    parser.add_argument("--reorder", type=_fraction, default=0.0, help="share of RTP packets swapped")
    parser.add_argument("--lon", type=float, default=114.35, help="longitude of the first camera")
    parser.add_argument("--lat", type=float, default=22.71, help="latitude of the first camera")
    parser.add_argument("--keepalive", type=float, default=30.0, help="seconds between keepalives")
    return parser


def config_from(args: argparse.Namespace) -> CameraConfig:
    """The base camera config for parsed options (device ids are numbered from it)."""
    if not 1 <= args.pes_payload <= MAX_PES_PAYLOAD:
        raise ValueError(f"--pes-payload is 1-{MAX_PES_PAYLOAD}")
    width, height = args.size
    domain = args.domain[:10].ljust(10, "0")
    return CameraConfig(
        device_id=f"{domain}1320000000", server_host=args.server_host, server_port=args.server_port,
        server_id=args.server_id, domain=args.domain, password=args.password, transport=args.transport.upper(),
        channels=args.channels, keepalive_interval=args.keepalive, width=width, height=height, fps=args.fps,
        codec=args.codec, bitrate_kbps=args.bitrate, loss=args.loss, reorder=args.reorder,
        longitude=args.lon, latitude=args.lat,
        mux=MuxOptions(codec=args.codec, psm=not args.no_psm, stuffing=args.stuffing, pes_payload=args.pes_payload,
                       zero_pes_length=args.zero_pes_length),
    )


async def simulate(count: int, base: CameraConfig, first: int = 1) -> None:
    """Run `count` cameras until cancelled (what `wall demo` starts as a task)."""
    cameras: list[SimulatedCamera] = []
    try:
        cameras = await run_cameras(count, base, first)
        await asyncio.Event().wait()
    finally:
        for camera in cameras:
            await camera.stop()


def run(argv: list[str]) -> int:
    """Entry point of `wall simulate cameras`; runs until Ctrl-C."""
    args = build_parser().parse_args(argv)
    try:
        base = config_from(args)
    except ValueError as exc:
        print(f"wall simulate cameras: {exc}")
        return 2
    print(f"wall simulate cameras: {args.count} device(s) → {args.server_host}:{args.server_port}", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        try:
            asyncio.run(simulate(args.count, base, args.first))
        except (OSError, RuntimeError) as exc:
            print(f"wall simulate cameras: {exc}")
            return 1
    return 0
