"""The demo's IoT sensors (物联感知) and surveillance cameras with GB/T 28181 ids."""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass

import numpy as np
from django.utils import timezone
from shapely.geometry import Point

from dispatchd.demo import geometry as geo
from dispatchd.demo.geography import Geography
from dispatchd.geo.gridindex import locate
from dispatchd.models import Camera, Sensor


@dataclass(frozen=True)
class SensorKind:
    """How many sensors of a type, their code prefix, unit, label and normal reading (mean, spread)."""

    count: int
    prefix: str
    unit: str
    label: str
    mean: float
    spread: float


SENSOR_KINDS: dict[str, SensorKind] = {
    "smoke": SensorKind(12, "YG", "%obs/m", "烟感", 0.2, 0.08),
    "gas": SensorKind(10, "RQ", "%LEL", "可燃气体探测器", 1.0, 0.5),
    "noise": SensorKind(8, "ZS", "dB(A)", "噪声监测点", 58.0, 5.0),
    "dust": SensorKind(8, "YC", "μg/m³", "扬尘监测点", 62.0, 15.0),
    "water_level": SensorKind(8, "SW", "m", "水位监测点", 1.2, 0.3),
    "sewage": SensorKind(6, "WS", "mg/L", "污水水质监测点", 32.0, 8.0),
    "air": SensorKind(8, "KQ", "AQI", "空气质量微站", 45.0, 12.0),
}
RIVERSIDE = {"water_level", "sewage"}

CAMERAS = 24
CENTRE_CODE = "44039900"  # province 44, city 03, county 99 (invented), 00: the district's own centre
INDUSTRY_ROAD, INDUSTRY_COMMUNITY = "00", "01"  # 社会治安路面接入 / 社区接入
TYPE_NVR, TYPE_CAMERA, TYPE_IPC = "118", "131", "132"
NETWORK_GOV = "6"  # 政务网


def gb_id(industry: str, type_code: str, serial: int, centre: str = CENTRE_CODE, network: str = NETWORK_GOV) -> str:
    """A GB/T 28181 id: centre (8) + industry (2) + type (3) + network (1) + serial (6) = 20 digits."""
    code = f"{centre}{industry}{type_code}{network}{serial:06d}"
    if len(code) != 20 or not code.isdigit():
        raise ValueError(f"not a GB/T 28181 id: {code}")
    return code


def _riverside_point(rng: np.random.Generator, geography: Geography) -> tuple[float, float]:
    plane, district = geography.plane, geography.district.polygon
    for _ in range(1000):
        lon, lat = geography.river.line.interpolate(rng.uniform(0.05, 0.95), normalized=True).coords[0]
        x, y = plane.from_lonlat(lon, lat)
        lon, lat = plane.lonlat(x + rng.normal(0, 25), y + rng.normal(0, 25))
        if district.contains(Point(lon, lat)):
            return lon, lat
    raise ValueError("the river does not cross the district")


def save_sensors(seed: int, geography: Geography) -> list[Sensor]:
    """Create the sensors, riverside ones along the river, the others in random grid cells."""
    rng = np.random.default_rng([seed, 4])
    now = timezone.now()
    sensors = []
    for kind, spec in SENSOR_KINDS.items():
        for n in range(1, spec.count + 1):
            if kind in RIVERSIDE:
                lon, lat = _riverside_point(rng, geography)
            else:
                lon, lat = geo.point_in(rng, geography.cells[int(rng.integers(len(geography.cells)))].polygon)
            community = geography.communities[_community_of(geography, Point(lon, lat))]
            lon, lat = round(lon, 6), round(lat, 6)
            sensors.append(Sensor(
                code=f"{spec.prefix}-{n:03d}", name=f"{community.name}{spec.label}{n:02d}", type=kind,
                unit=spec.unit, lat=lat, lon=lon, grid_id=locate(lat, lon).grid_id,
                online=rng.random() > 0.05, last_value=round(max(0.0, rng.normal(spec.mean, spec.spread)), 2),
                last_seen=now,
            ))
    return Sensor.objects.bulk_create(sensors)


def _community_of(geography: Geography, point: Point) -> int:
    return next(i for i, c in enumerate(geography.communities) if c.polygon.covers(point))


def _camera_sites(rng: random.Random, geography: Geography) -> list[tuple[str, Point, bool]]:
    """(name, point, at a crossing) for each camera: road crossings first, then along roads."""
    district = geography.district.polygon
    crossings: dict[str, Point] = {}
    for a, b in itertools.combinations(geography.roads, 2):
        crossing = a.line.intersection(b.line)
        for point in getattr(crossing, "geoms", [crossing]):
            if point.geom_type == "Point" and district.contains(point):
                crossings.setdefault(f"{a.name}与{b.name}交叉口", point)
    names = sorted(crossings)
    rng.shuffle(names)
    sites = {name: (crossings[name], True) for name in names[: CAMERAS * 2 // 3]}
    while len(sites) < CAMERAS:
        road = rng.choice(geography.roads)
        point = road.line.interpolate(rng.uniform(0.1, 0.9), normalized=True)
        if district.contains(point):
            community = geography.communities[_community_of(geography, point)]
            sites.setdefault(f"{road.name}{community.name}段", (point, False))
    return [(name, point, crossing) for name, (point, crossing) in sites.items()]


def save_cameras(seed: int, geography: Geography) -> list[Camera]:
    """Create the cameras: PTZ domes (IPC, 132) at crossings, fixed cameras (131) on street NVRs elsewhere."""
    rng = random.Random(f"{seed}-cameras")
    cameras = []
    for serial, (name, point, crossing) in enumerate(_camera_sites(rng, geography), start=1):
        if crossing:
            code = gb_id(INDUSTRY_ROAD, TYPE_IPC, serial)
            device = code
        else:
            code = gb_id(INDUSTRY_COMMUNITY, TYPE_CAMERA, serial)
            street = geography.communities[_community_of(geography, point)].parent
            device = gb_id(INDUSTRY_COMMUNITY, TYPE_NVR, street + 1)  # the street's NVR
        lon, lat = round(point.x, 6), round(point.y, 6)
        cameras.append(Camera(
            gb_id=code, device_id=device, name=name, lat=lat, lon=lon, grid_id=locate(lat, lon).grid_id,
            online=False, codec="H.265" if rng.random() < 0.3 else "H.264", ptz=crossing,
        ))
    return Camera.objects.bulk_create(cameras)
