"""Physically possible readings per sensor type: anything outside is a faulty device, refused before storing."""

from __future__ import annotations

from collections.abc import Sequence

from dispatchd.errors import InvalidInput
from dispatchd.models import SensorReading

# type → (lowest, highest) value a working sensor of that type can report, in the demo's units
VALID_RANGE: dict[str, tuple[float, float]] = {
    "smoke": (0.0, 100.0),  # obscuration, %obs/m
    "gas": (0.0, 100.0),  # combustible gas, %LEL (a detector saturates at 100)
    "noise": (0.0, 194.0),  # sound level, dB(A) (194 dB is the limit of sound in air)
    "dust": (0.0, 10_000.0),  # PM2.5 / PM10, µg/m³
    "water_level": (-100.0, 1_000.0),  # stage above the gauge datum, m
    "sewage": (0.0, 100_000.0),  # COD, mg/L
    "air": (0.0, 500.0),  # AQI (HJ 633 caps the index at 500)
}


def check_readings(readings: Sequence[SensorReading]) -> None:
    """Refuse the whole batch (InvalidInput) if any value is impossible for its sensor's type."""
    errors = {}
    for index, reading in enumerate(readings):
        low, high = VALID_RANGE.get(reading.sensor.type, (float("-inf"), float("inf")))
        if not low <= reading.value <= high:
            unit = f" {reading.sensor.unit}" if reading.sensor.unit else ""
            errors[f"items[{index}].value"] = (
                f"{reading.value:g} is impossible for {reading.sensor.type} sensor {reading.sensor.code} "
                f"(valid: {low:g} to {high:g}{unit})"
            )
    if errors:
        raise InvalidInput(errors)
