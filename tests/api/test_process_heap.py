"""Service processes freeze their start-up heap, so full garbage collections under load skip it."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
from pathlib import Path

from wall.server import freeze_startup_heap

ROOT = Path(__file__).resolve().parents[2]


class _Node:
    def __init__(self) -> None:
        self.peer = self  # a cycle: only the collector can free it


def test_start_up_objects_leave_the_collections_and_garbage_is_collected_first():
    gc.unfreeze()
    alive = [{"kept": True}]
    _Node()  # start-up garbage: collected, not frozen for good
    try:
        freeze_startup_heap()
        assert gc.get_freeze_count() > 0
        tracked = {id(o) for generation in range(3) for o in gc.get_objects(generation)}
        assert id(alive) not in tracked
    finally:
        gc.unfreeze()
    everything = gc.get_objects()  # the frozen objects are back in the oldest generation
    assert any(o is alive for o in everything)
    assert not any(isinstance(o, _Node) for o in everything)  # the garbage was collected, not frozen


_PROBE = """
import gc, sys
from wall.cli import _setup
_setup()
from wall.server import freeze_startup_heap, load_url_conf
if sys.argv[1] == "load":
    load_url_conf()
freeze_startup_heap()
from django.urls import get_resolver
get_resolver().resolve("/api/openapi.json")  # what the first request does
gc.collect()
print(len(gc.get_objects()))
"""


def _collected_after_first_request(tmp_path, how: str) -> int:
    env = dict(os.environ, WALL_DATA_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="wall.settings")
    out = subprocess.run([sys.executable, "-c", _PROBE, how], env=env, cwd=ROOT, capture_output=True, text=True,
                         timeout=120, check=True)
    return int(out.stdout.strip().splitlines()[-1])


def test_the_url_conf_is_loaded_before_the_freeze_so_the_first_request_leaves_little_to_collect(tmp_path):
    loaded = _collected_after_first_request(tmp_path, "load")
    lazy = _collected_after_first_request(tmp_path, "lazy")
    # lazily, the views' modules (the API, its schemas, the video stack) stay in every full collection
    assert lazy > 20_000
    assert loaded < 2_000
