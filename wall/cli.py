"""The `wall` command line: demo, serve, dispatchd, token, bench, manage."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Callable


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wall.settings")
    import django

    django.setup()


def _migrate(verbose: bool = False) -> None:
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=1 if verbose else 0)


def prepare_demo(progress: Callable[[str], None] | None = None) -> bool:
    """Migrate, seed the demo city if the database is empty, add the default sensor rules; True if it seeded."""
    from dispatchd.demo import seed_if_empty
    from dispatchd.sensors.defaults import ensure_default_rules

    _migrate()
    seeded = seed_if_empty(progress=progress)
    ensure_default_rules()
    return seeded


def cmd_demo(args: argparse.Namespace) -> int:
    """Migrate, seed the demo city if empty, serve with the daemon, SIP relay and simulators inside."""
    os.environ.setdefault("WALL_GB_SIP_PORT", "15060")  # no root needed, no clash with a real 5060
    _setup()
    from dispatchd.daemon import run_daemon
    from dispatchd.demo.flow import run_case_flow
    from dispatchd.demo.roads import use_demo_roads
    from dispatchd.sensors.mqtt import run_mqtt
    from dispatchd.sensors.simulate import run_sensor_feed
    from video.gb28181.service import run_sip
    from video.gb28181.simulator.cli import build_parser as camera_options
    from video.gb28181.simulator.cli import config_from
    from video.gb28181.simulator.seeded import simulate_seeded
    from wall.auth import create_token
    from wall.server import serve

    print("wall demo: migrating the database …", flush=True)
    seeded = prepare_demo(progress=lambda msg: print(f"wall demo: {msg}", flush=True))
    print(f"wall demo: nearest workers ranked by travel time over {use_demo_roads()}", flush=True)
    token = create_token("commander", "demo-commander")
    base = f"http://{args.host}:{args.port}"

    def banner() -> None:
        print(
            "\n".join(
                [
                    f"wall demo: serving on {base}  ({'new demo city' if seeded else 'existing data'})",
                    f"  wall       {base}/wall/",
                    f"  console    {base}/console/",
                    f"  war room   {base}/warroom/",
                    f"  API        {base}/api/docs  (schema {base}/api/openapi.json)",
                    f"  health     {base}/healthz",
                    f"  commander token: {token}",
                    "Ctrl-C stops.",
                ]
            ),
            flush=True,
        )

    tasks = {"dispatchd": run_daemon, "sip": run_sip, "mqtt": run_mqtt}
    if not args.no_simulate:
        tasks["case-flow"] = run_case_flow
        tasks["sensor-feed"] = run_sensor_feed
        cameras = config_from(camera_options().parse_args(["--server-port", os.environ["WALL_GB_SIP_PORT"]]))
        tasks["cameras"] = lambda: simulate_seeded(cameras)
    serve(args.host, args.port, tasks, on_ready=banner)
    print("wall demo: stopped", flush=True)
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    """Serve HTTP and WebSockets (production `web` process)."""
    _setup()
    from wall.server import serve

    if args.migrate:
        _migrate()
    serve(args.host, args.port, {}, on_ready=lambda: print(f"wall serve: {args.host}:{args.port}", flush=True))
    return 0


def cmd_dispatchd(args: argparse.Namespace) -> int:
    """Run the dispatch daemon and the MQTT sensor subscriber (production `dispatchd` process)."""
    _setup()
    from dispatchd.daemon import run_daemon
    from dispatchd.sensors.defaults import ensure_default_rules
    from dispatchd.sensors.mqtt import run_mqtt
    from wall.server import freeze_startup_heap

    ensure_default_rules()
    freeze_startup_heap()

    async def main() -> None:
        await asyncio.gather(run_daemon(), run_mqtt())

    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
    return 0


def cmd_sip(args: argparse.Namespace) -> int:
    """GB/T 28181 signalling and the camera relay (production `sip` process), with its small HTTP side."""
    _setup()
    from django.conf import settings

    from video.gb28181.service import run_sip
    from wall.server import serve

    host, port = settings.WALL_GB_HTTP_HOST, settings.WALL_GB_HTTP_PORT
    serve(host, port, {"sip": run_sip}, on_ready=lambda: print(f"wall sip: relay HTTP on {host}:{port}", flush=True))
    return 0


def cmd_simulate(args: argparse.Namespace) -> int:
    """Simulated devices: `wall simulate cameras --count N …`."""
    from video.gb28181.simulator.cli import run

    return run(args.rest)


def cmd_token(args: argparse.Namespace) -> int:
    """Create an API token; the token alone is printed on the last line."""
    _setup()
    from dispatchd.models import Worker
    from wall.auth import create_token

    worker_id = None
    if args.worker:
        worker = Worker.objects.filter(code=args.worker).first()
        if worker is None:
            print(f"wall token: no worker with code {args.worker!r}", file=sys.stderr)
            return 2
        worker_id = worker.id
    try:
        token = create_token(args.role, args.name, worker_id)
    except ValueError as exc:
        print(f"wall token: {exc}", file=sys.stderr)
        return 2
    print(f"token for {args.name} ({args.role}); keep it secret, it is shown only once:", file=sys.stderr)
    print(token)
    return 0


def cmd_token_list(args: argparse.Namespace) -> int:
    """List the API tokens (never the tokens themselves: only their prefix)."""
    _setup()
    from wall.models import ApiToken

    tokens = ApiToken.objects.select_related("worker").order_by("id")
    if not args.all:
        tokens = tokens.filter(revoked_at__isnull=True)
    print(f"{'id':>5}  {'prefix':8}  {'role':9}  {'name':24}  {'worker':8}  {'created':16}  {'last used':16}  revoked")
    for t in tokens:
        when = [f"{d:%Y-%m-%d %H:%M}" if d else "-" for d in (t.created_at, t.last_used_at, t.revoked_at)]
        worker = t.worker.code if t.worker else "-"
        print(f"{t.id:>5}  {t.prefix:8}  {t.role:9}  {t.name[:24]:24}  {worker:8}  {when[0]:16}  {when[1]:16}", when[2])
    return 0


def cmd_token_revoke(args: argparse.Namespace) -> int:
    """Revoke the live tokens with this prefix (as `wall token list` shows it), this name, or this very token."""
    _setup()
    from django.db.models import Q

    from wall.auth import digest_of, revoke_tokens
    from wall.models import ApiToken

    ref = args.token.strip()
    match = Q(digest=digest_of(ref)) if ref.startswith("wt_") else Q(prefix=ref) | Q(name=ref)
    revoked = revoke_tokens(ApiToken.objects.filter(match))
    if not revoked:
        print(f"wall token: no live token with prefix or name {ref[:40]!r}", file=sys.stderr)
        return 2
    for t in revoked:
        print(f"revoked {t.prefix} {t.role} {t.name}")
    return 0


def cmd_manage(args: argparse.Namespace) -> int:
    """Run a Django management command (migrate, createsuperuser, …)."""
    _setup()
    from django.core.management import execute_from_command_line

    execute_from_command_line(["wall manage", *args.rest])
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    """Run a benchmark; its last output line is one JSON object."""
    from bench import run_bench

    rest = [a for a in args.rest if a != "--json"]
    return run_bench(args.name, rest, as_json=args.json or len(rest) != len(args.rest))


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of `wall`."""
    parser = argparse.ArgumentParser(prog="wall", description="Command-and-dispatch wall service")
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="run everything in one process with a simulated city")
    demo.add_argument("--host", default="127.0.0.1")
    demo.add_argument("--port", type=int, default=8000)
    demo.add_argument("--no-simulate", action="store_true", help="no background flow of cases")
    demo.set_defaults(func=cmd_demo)

    serve = sub.add_parser("serve", help="serve HTTP and WebSockets (web process)")
    serve.add_argument("--host", default=os.environ.get("WALL_HOST", "127.0.0.1"))
    serve.add_argument("--port", type=int, default=int(os.environ.get("PORT", 8000)))
    serve.add_argument("--migrate", action="store_true", help="apply migrations first")
    serve.set_defaults(func=cmd_serve)

    daemon = sub.add_parser("dispatchd", help="run the dispatch daemon (timers, rules)")
    daemon.set_defaults(func=cmd_dispatchd)

    sip = sub.add_parser("sip", help="run GB/T 28181 signalling and the camera relay (sip process)")
    sip.set_defaults(func=cmd_sip)

    simulate = sub.add_parser("simulate", help="simulated devices: `wall simulate cameras --count N …`")
    simulate.add_argument("kind", choices=["cameras"])
    simulate.add_argument("rest", nargs=argparse.REMAINDER)
    simulate.set_defaults(func=cmd_simulate)

    token = sub.add_parser("token", help="manage API tokens")
    token_sub = token.add_subparsers(dest="token_command", required=True)
    create = token_sub.add_parser("create", help="create a token")
    create.add_argument("--role", required=True, choices=["wall", "commander", "worker", "device", "admin"])
    create.add_argument("--name", required=True)
    create.add_argument("--worker", help="worker code (required for --role worker)")
    create.set_defaults(func=cmd_token)
    listing = token_sub.add_parser("list", help="list tokens (prefix, role, name, last use)")
    listing.add_argument("--all", action="store_true", help="revoked tokens too")
    listing.set_defaults(func=cmd_token_list)
    revoke = token_sub.add_parser("revoke", help="revoke tokens at once (by prefix, name or the token itself)")
    revoke.add_argument("token", help="the prefix `wall token list` shows (after `--` if it begins with -), "
                        "the token's name, or the token")
    revoke.set_defaults(func=cmd_token_revoke)

    bench = sub.add_parser("bench", help="run a benchmark")
    bench.add_argument("name")
    bench.add_argument("--json", action="store_true", help="print only the JSON line")
    bench.add_argument("rest", nargs=argparse.REMAINDER)
    bench.set_defaults(func=cmd_bench)

    manage = sub.add_parser("manage", help="run a Django management command")
    manage.add_argument("rest", nargs=argparse.REMAINDER)
    manage.set_defaults(func=cmd_manage)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `wall` console script."""
    args = build_parser().parse_args(argv)
    return args.func(args) or 0


if __name__ == "__main__":
    sys.exit(main())
