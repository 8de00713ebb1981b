"""Benchmarks: `wall bench NAME [--json]`, each printing one JSON line of figures last."""

from __future__ import annotations

import importlib
import json
import sys

BENCHES = ("hub", "nearest", "relay", "calls", "wall", "soak", "trails")


def emit(figures: dict, as_json: bool) -> None:
    """Print a bench's figures: one per line unless `as_json`, then always the JSON line last."""
    if not as_json:
        for key, value in figures.items():
            print(f"{key:28s} {value}")
    print(json.dumps(figures))


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
