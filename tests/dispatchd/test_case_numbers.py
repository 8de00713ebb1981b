"""Case numbers: local date plus a per-day sequence, unique even when cases are reported at once."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from dispatchd.models import Case
from dispatchd.numbering import next_number
from tests.dispatchd.helpers import race, report

SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_numbers_are_the_local_date_and_a_daily_sequence(db):
    late_evening_utc = datetime(2025, 3, 1, 16, 30, tzinfo=ZoneInfo("UTC"))  # 00:30 on 2 March in Shanghai
    assert [next_number(late_evening_utc) for _ in range(3)] == ["20250302-00001", "20250302-00002", "20250302-00003"]
    assert next_number(datetime(2025, 3, 3, 9, 0, tzinfo=SHANGHAI)) == "20250303-00001"


def test_reported_cases_get_readable_numbers(city, clock):
    numbers = [report(city).number for _ in range(2)]
    assert numbers == ["20250930-00001", "20250930-00002"]
    assert all(re.fullmatch(r"\d{8}-\d{5}", n) for n in numbers)


@pytest.mark.django_db(transaction=True)
def test_numbers_stay_unique_when_cases_are_reported_at_once(city):
    outcomes = race(*[lambda: report(city)] * 8)
    assert all(isinstance(o, Case) for o in outcomes), outcomes
    numbers = sorted(o.number for o in outcomes)
    day = numbers[0][:8]
    assert numbers == [f"{day}-{n:05d}" for n in range(1, 9)]
    assert Case.objects.count() == 8
