"""Fixtures of the fault suite: the production layout on a private Redis and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.cluster import Cluster


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """2 web + dispatchd + sip, started by the suite on servers of its own; stopped after the module."""
    workdir: Path = tmp_path_factory.mktemp("faults")
    made = Cluster(workdir)
    try:
        made.start()
    except Exception:
        made.stop()
        raise
    yield made
    made.stop()
