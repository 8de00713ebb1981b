"""A demo city committed once per test module (seeding is too slow to repeat per test)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.core.management import call_command

from dispatchd.demo import seed_demo_city
from dispatchd.geo.gridindex import invalidate


@contextmanager
def committed_demo_city(django_db_blocker, history: bool) -> Iterator[None]:
    """Seed and commit the demo city; flush the database afterwards so other tests start empty."""
    with django_db_blocker.unblock():
        seed_demo_city(history=history)
    try:
        yield
    finally:
        with django_db_blocker.unblock():
            call_command("flush", interactive=False, verbosity=0)
        invalidate()
