"""Seeding the demo city: geography, organisation, catalogue, people, devices and a week of history."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.db import transaction

from dispatchd.demo import catalog
from dispatchd.demo.devices import save_cameras, save_sensors
from dispatchd.demo.geography import DEFAULT_SEED, build_geography, save_geography
from dispatchd.demo.history import seed_history
from dispatchd.demo.people import save_workers
from dispatchd.models import District

Progress = Callable[[str], None]


def seed_demo_city(seed: int = DEFAULT_SEED, progress: Progress | None = None, history: bool = True) -> None:
    """Create the whole demo city for `seed` in one transaction (same seed, same city)."""
    say = progress or (lambda _msg: None)
    began = time.monotonic()
    with transaction.atomic():
        geography = build_geography(seed)
        records = save_geography(geography)
        say(f"demo city: {len(records.streets)} streets, {len(records.communities)} communities, "
            f"{len(records.cells)} grid cells")
        departments = catalog.save_departments(records.streets)
        categories = catalog.save_categories(departments)
        rules = catalog.save_routing(records.streets, departments, categories)
        holidays = catalog.save_holidays()
        say(f"demo city: {len(departments)} departments, {len(categories)} categories, {rules} routing rules, "
            f"{holidays} holiday days")
        workers = save_workers(seed, geography, records.cells, departments)
        sensors = save_sensors(seed, geography)
        cameras = save_cameras(seed, geography)
        say(f"demo city: {len(workers)} workers, {len(sensors)} sensors, {len(cameras)} cameras")
        if history:
            statuses = seed_history(seed, progress=say)
            summary = ", ".join(f"{status} {count}" for status, count in statuses.most_common())
            say(f"demo city: a week of cases: {summary}")
    say(f"demo city: seeded in {time.monotonic() - began:.1f} s")


def seed_if_empty(progress: Progress | None = None) -> bool:
    """Seed the demo city when the database holds no district; return whether it seeded."""
    if District.objects.exists():
        return False
    seed_demo_city(progress=progress)
    return True
