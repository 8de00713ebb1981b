"""Default alarm rules for the seven sensor types, created once when no rule exists yet.

Thresholds in the units the demo sensors report:
- smoke, obscuration %obs/m: point smoke detectors alarm at about 2 %/m (EN 54-7 range 0.5–4 %/m)
- gas, %LEL: the usual first alarm level of a combustible-gas detector is 20 %LEL (GB 15322)
- noise, dB(A): 70 dB(A) for 10 minutes is above every daytime limit of GB 3096 (class 4a: 70)
- dust, PM2.5 µg/m³: 115 µg/m³ over an hour is moderate pollution (HJ 633 IAQI 150); clears at 75 (GB 3095 limit)
- water level, m above the gauge datum: the riverside warning stage of the demo river is 2.5 m
- sewage, COD mg/L: 60 mg/L is the GB 18918 class 1B limit for treated discharge; clears at 50 (class 1A)
- air, AQI: 150 and above is moderate pollution (HJ 633); clears at 100
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from dispatchd.models import AlarmRule

DEFAULT_RULES: list[dict[str, Any]] = [
    dict(sensor_type="smoke", name="烟雾浓度超限", threshold=2.0, clear_threshold=1.0, repeat=2,
         severity="major", case_category="SJ0406", offline_after_min=60),
    dict(sensor_type="gas", name="可燃气体浓度超限", threshold=20.0, clear_threshold=10.0,
         severity="major", case_category="SJ0403", offline_after_min=30),
    dict(sensor_type="noise", name="噪声超标", threshold=70.0, clear_threshold=65.0, duration_min=10,
         severity="normal", case_category="SJ0601", offline_after_min=30),
    dict(sensor_type="dust", name="扬尘超标", threshold=115.0, clear_threshold=75.0, duration_min=60,
         severity="normal", case_category="SJ0603", offline_after_min=60),
    dict(sensor_type="water_level", name="水位超警戒", threshold=2.5, clear_threshold=2.2, repeat=3,
         severity="high", case_category="SJ0404", offline_after_min=30),
    dict(sensor_type="sewage", name="污水COD超标", threshold=60.0, clear_threshold=50.0, duration_min=30,
         severity="high", case_category="SJ0604", offline_after_min=120),
    dict(sensor_type="air", name="空气质量超标", threshold=150.0, clear_threshold=100.0, duration_min=60,
         severity="normal", case_category="SJ0605", offline_after_min=120),
]


def ensure_default_rules() -> int:
    """Create the default rules if there are no alarm rules at all; how many were created."""
    with transaction.atomic():
        if AlarmRule.objects.exists():
            return 0
        return len(AlarmRule.objects.bulk_create([AlarmRule(**spec) for spec in DEFAULT_RULES]))
