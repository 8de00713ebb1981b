"""The `wall` command line: demo, serve, dispatchd, token, bench, manage."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wall.settings")
    import django

    django.setup()


def _migrate(verbose: bool = False) -> None:
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=1 if verbose else 0)


def cmd_demo(args: argparse.Namespace) -> int:
    """Migrate, seed the demo city if empty, serve with the daemon and simulators inside."""
    _setup()
    from dispatchd.daemon import run_daemon
    from dispatchd.demo import seed_if_empty
    from dispatchd.demo.flow import run_case_flow
    from wall.auth import create_token
    from wall.server import serve

    print("wall demo: migrating the database …", flush=True)
    _migrate()
    seeded = seed_if_empty(progress=lambda msg: print(f"wall demo: {msg}", flush=True))
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

    tasks = {"dispatchd": run_daemon}
    if not args.no_simulate:
        tasks["case-flow"] = run_case_flow
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
    """Run the dispatch daemon alone (production `dispatchd` process)."""
    _setup()
    from dispatchd.daemon import run_daemon

    try:
        asyncio.run(run_daemon())
    except KeyboardInterrupt:
        pass
    return 0


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

    token = sub.add_parser("token", help="manage API tokens")
    token_sub = token.add_subparsers(dest="token_command", required=True)
    create = token_sub.add_parser("create", help="create a token")
    create.add_argument("--role", required=True, choices=["wall", "commander", "worker", "device", "admin"])
    create.add_argument("--name", required=True)
    create.add_argument("--worker", help="worker code (required for --role worker)")
    create.set_defaults(func=cmd_token)

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
