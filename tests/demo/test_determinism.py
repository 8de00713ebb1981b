"""Seeding is deterministic: the same seed writes the same cells, categories, workers and devices."""

from __future__ import annotations

import hashlib
import json

from django.db import transaction

from dispatchd.demo import seed_demo_city
from dispatchd.geo.gridindex import invalidate
from dispatchd.models import Camera, Category, GridCell, Sensor, Worker


def city_digest() -> str:
    """A digest of everything the seed decides, independent of database ids."""
    rows = {
        "cells": list(GridCell.objects.order_by("code").values_list("code", "name", "community__code", "polygon")),
        "categories": list(Category.objects.order_by("code").values_list(
            "code", "name", "kind", "parent__code", "default_department__code", "default_severity", "timing",
            "limits", "urgent_limits")),
        "workers": list(Worker.objects.order_by("code").values_list(
            "code", "name", "phone", "grid__code", "department__code", "skills", "state", "lat", "lon")),
        "sensors": list(Sensor.objects.order_by("code").values_list("code", "name", "type", "unit", "lat", "lon")),
        "cameras": list(Camera.objects.order_by("gb_id").values_list("gb_id", "device_id", "name", "lat", "lon")),
    }
    return hashlib.sha256(json.dumps(rows, ensure_ascii=False, default=str).encode()).hexdigest()


def seeded_digest(seed: int) -> str:
    """Seed inside a savepoint, digest, roll back."""
    with transaction.atomic():
        seed_demo_city(seed, history=False)
        digest = city_digest()
        transaction.set_rollback(True)
    invalidate()
    return digest


def test_the_same_seed_writes_the_same_city(db):
    first = seeded_digest(7)
    assert GridCell.objects.count() == 0
    assert seeded_digest(7) == first
