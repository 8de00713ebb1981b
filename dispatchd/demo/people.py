"""The demo's 300 field workers: grid workers (网格员) in every street and department field staff."""

from __future__ import annotations

import random

import numpy as np
from django.utils import timezone

from dispatchd.demo import geometry as geo
from dispatchd.demo.geography import Geography
from dispatchd.demo.names import person_name, phone
from dispatchd.models import Department, GridCell, Worker

SKILLS = ("general", "sanitation", "road", "electric", "greening", "enforcement", "water", "gas", "traffic",
          "first_aid")
GRID_WORKERS = 180
# Field staff: (department key, or a street-unit prefix ending in ".S", head count, skills)
FIELD_STAFF: tuple[tuple[str, int, tuple[str, ...]], ...] = (
    ("HW.1", 10, ("sanitation",)), ("HW.2", 10, ("sanitation",)), ("HW.3", 10, ("sanitation",)),
    ("SZ.RD", 9, ("road",)), ("SZ.LT", 6, ("electric", "road")), ("YL", 10, ("greening",)),
    ("ZF.S", 30, ("enforcement",)), ("JJ", 8, ("traffic",)), ("SW.PS", 6, ("water",)), ("SW.HD", 4, ("water",)),
    ("RQ", 6, ("gas",)), ("GD", 6, ("electric",)), ("YJ", 5, ("first_aid", "gas")),
)
ON_DUTY_SHARE = 0.75


def save_workers(seed: int, geography: Geography, cells: list[GridCell],
                 departments: dict[str, Department]) -> list[Worker]:
    """Create the workers: each in a grid cell, at a random point of it, on or off duty."""
    rng = random.Random(f"{seed}-people")
    np_rng = np.random.default_rng([seed, 3])
    street_cells: dict[int, list[int]] = {}
    for index, cell in enumerate(geography.cells):
        street_cells.setdefault(geography.communities[cell.parent].parent, []).append(index)
    plan: list[tuple[int, str, list[str]]] = []  # (cell index, department key, skills)
    for index in sorted(rng.sample(range(len(cells)), GRID_WORKERS)):
        street = geography.communities[geography.cells[index].parent].parent
        extra = ["first_aid"] if rng.random() < 0.2 else []
        plan.append((index, f"WG.S{street + 1}", ["general", *extra]))
    for key, count, skills in FIELD_STAFF:
        for n in range(count):
            if key.endswith(".S"):
                street = n % len(geography.streets)
                plan.append((rng.choice(street_cells[street]), f"{key}{street + 1}", list(skills)))
            else:
                plan.append((rng.randrange(len(cells)), key, list(skills)))
    now = timezone.now()
    workers = []
    for number, (index, dept, skills) in enumerate(plan, start=1):
        lon, lat = geo.point_in(np_rng, geography.cells[index].polygon)
        workers.append(Worker(
            code=f"W{number:04d}", name=person_name(rng), phone=phone(rng), grid=cells[index],
            department=departments[dept], skills=skills,
            state="on_duty" if rng.random() < ON_DUTY_SHARE else "off_duty",
            lat=round(lat, 6), lon=round(lon, 6), last_seen=now,
        ))
    return Worker.objects.bulk_create(workers)
