"""Benchmarks: `wall bench NAME [--json]`, each printing one JSON line of figures last."""

from __future__ import annotations

import importlib
import sys

BENCHES = ("hub", "nearest", "relay", "calls", "wall", "soak")


def run_bench(name: str, argv: list[str], as_json: bool = False) -> int:
    """Run the bench module `bench.<name>`; returns its exit code."""
    if name not in BENCHES:
        print(f"wall bench: unknown bench {name!r}; one of {', '.join(BENCHES)}", file=sys.stderr)
        return 2
    try:
        module = importlib.import_module(f"bench.{name}")
    except ModuleNotFoundError as exc:
        if exc.name != f"bench.{name}":
            raise
        print(f"wall bench: the {name} bench is not built yet", file=sys.stderr)
        return 2
    return module.main(argv, as_json=as_json)
