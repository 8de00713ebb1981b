"""Case numbers: the local date and a per-day sequence, e.g. 20261121-00042."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F

from dispatchd.models import CaseCounter


def next_number(now: datetime) -> str:
    """Allocate the next case number for the local day of `now` (unique under concurrency)."""
    day = now.astimezone(ZoneInfo(settings.TIME_ZONE)).strftime("%Y%m%d")
    with transaction.atomic():
        updated = CaseCounter.objects.filter(day=day).update(value=F("value") + 1)
        if not updated:
            try:
                with transaction.atomic():
                    CaseCounter.objects.create(day=day, value=1)
            except IntegrityError:  # another writer created the day's row first
                CaseCounter.objects.filter(day=day).update(value=F("value") + 1)
        value = CaseCounter.objects.get(day=day).value
    return f"{day}-{value:05d}"
