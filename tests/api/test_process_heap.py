"""Service processes freeze their start-up heap, so full garbage collections under load skip it."""

from __future__ import annotations

import gc

from wall.server import freeze_startup_heap


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
