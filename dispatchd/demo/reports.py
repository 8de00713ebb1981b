"""Plausible case reports from every source: who reports what, where, in which words."""

from __future__ import annotations

import random
from dataclasses import dataclass

from shapely.geometry import Point, shape
from shapely.geometry.base import BaseGeometry

from dispatchd.actors import Actor
from dispatchd.demo.catalog import SUBS
from dispatchd.demo.devices import SENSOR_KINDS
from dispatchd.demo.names import estate, person_name, phone
from dispatchd.demo.policy import SIM
from dispatchd.geo.gridindex import locate
from dispatchd.intake import Report
from dispatchd.models import Camera, Community, District, Sensor, Worker

SOURCE_WEIGHTS = {
    "hotline": 30, "app": 30, "wechat": 12, "mailbox": 4, "sensor": 8, "video_ai": 10, "other_system": 6,
}
# How often citizens and grid workers report a 小类, relative to 1 (unlisted).
COMMON = {
    "SJ0101": 8, "SJ0501": 7, "SJ0503": 6, "SJ0201": 5, "SJ0105": 5, "SJ0502": 5, "SJ0303": 4, "SJ0504": 4,
    "SJ0601": 4, "SJ0103": 3, "BJ0201": 3, "BJ0102": 2, "BJ0101": 2, "SJ0302": 2, "SJ0405": 2,
    "SJ0403": 0.3, "SJ0401": 0.3, "SJ0406": 0.2, "SJ0605": 0, "SJ0604": 0.5,
}
SENSOR_CATEGORY = {
    "smoke": "SJ0406", "gas": "SJ0403", "noise": "SJ0601", "dust": "SJ0603", "water_level": "SJ0404",
    "sewage": "SJ0604", "air": "SJ0605",
}
VIDEO_CATEGORIES = ("SJ0501", "SJ0502", "SJ0503", "SJ0504", "SJ0101", "SJ0105", "SJ0304", "SJ0505")
OTHER_SYSTEMS = (("数字城管平台", "SZCG"), ("河长制管理系统", "HZZ"), ("交通运行监测平台", "JTJC"))
LEADS = {"hotline": "市民来电反映", "wechat": "市民通过微信公众号反映", "mailbox": "市民来信反映"}
OUTSIDE_SHARE = 0.02
PHRASES = {sub.code: sub.phrase for sub in SUBS}
NAMES = {sub.code: sub.name for sub in SUBS}


@dataclass
class Scene:
    """What reporters can see of the city, loaded once from the database."""

    district: BaseGeometry  # lon/lat
    places: dict[int, str]  # community id → "街道社区"
    sensors: list[Sensor]
    cameras: list[Camera]
    grid_workers: list[Worker]

    @classmethod
    def load(cls) -> Scene:
        """Read the district, places, devices and grid workers."""
        district = District.objects.order_by("id").first()
        if district is None:
            raise LookupError("no district: seed the demo city first")
        places = {c.id: f"{c.street.name}{c.name}" for c in Community.objects.select_related("street")}
        return cls(
            district=shape(district.polygon),
            places=places,
            sensors=list(Sensor.objects.order_by("id")),
            cameras=list(Camera.objects.order_by("id")),
            grid_workers=list(Worker.objects.filter(department__code__startswith="WG.").order_by("id")),
        )

    def random_point(self, rng: random.Random) -> tuple[float, float]:
        """(lat, lon): inside the district, or now and then just outside it."""
        minx, miny, maxx, maxy = self.district.bounds
        outside = rng.random() < OUTSIDE_SHARE
        while True:
            pad = 0.02 if outside else 0.0
            lon, lat = rng.uniform(minx - pad, maxx + pad), rng.uniform(miny - pad, maxy + pad)
            if self.district.contains(Point(lon, lat)) != outside:
                return round(lat, 6), round(lon, 6)


def _weighted(rng: random.Random, weights: dict[str, float]) -> str:
    keys = list(weights)
    return rng.choices(keys, weights=[weights[k] for k in keys])[0]


def _category(rng: random.Random) -> str:
    return _weighted(rng, {sub.code: COMMON.get(sub.code, 1.0) for sub in SUBS})


def _near(rng: random.Random, lat: float, lon: float, metres: float) -> tuple[float, float]:
    deg = metres / 111_000
    return round(lat + rng.uniform(-deg, deg), 6), round(lon + rng.uniform(-deg, deg), 6)


def make_report(rng: random.Random, scene: Scene) -> tuple[Report, Actor]:
    """A new report from a random source, and the actor who files it."""
    source = _weighted(rng, SOURCE_WEIGHTS)
    if source == "sensor" and scene.sensors:
        sensor = rng.choice(scene.sensors)
        spec = SENSOR_KINDS[sensor.type]
        value = round(spec.mean + spec.spread * rng.uniform(3, 6), 2)
        code = SENSOR_CATEGORY[sensor.type]
        text = f"{sensor.name}读数{value}{spec.unit}，超过告警阈值，系统自动生成事件。"
        return _report(code, sensor.lat, sensor.lon, source, scene, rng, text, sensor.name, "", sensor.code), SIM
    if source == "video_ai" and scene.cameras:
        camera = rng.choice(scene.cameras)
        code = rng.choice(VIDEO_CATEGORIES)
        lat, lon = _near(rng, camera.lat, camera.lon, 60)
        text = f"{camera.name}视频智能识别：疑似{NAMES[code]}，置信度{rng.uniform(0.82, 0.98):.2f}。"
        return _report(code, lat, lon, source, scene, rng, text, camera.name, "", camera.gb_id), SIM
    if source == "app" and scene.grid_workers:
        worker = rng.choice(scene.grid_workers)
        lat, lon = _near(rng, worker.lat, worker.lon, 150) if worker.lat is not None else scene.random_point(rng)
        code = _category(rng)
        text = f"网格员巡查发现：{PHRASES[code]}。"
        actor = Actor(name=worker.code, role="worker", worker_id=worker.id)
        return _report(code, lat, lon, source, scene, rng, text, worker.name, worker.phone, ""), actor
    lat, lon = scene.random_point(rng)
    code = _category(rng)
    if source == "other_system":
        system, prefix = rng.choice(OTHER_SYSTEMS)
        text = f"{system}推送：{PHRASES[code]}。"
        ext = f"{prefix}{rng.randrange(10**7):07d}"
        return _report(code, lat, lon, source, scene, rng, text, system, "", ext), SIM
    lead = LEADS.get(source, "群众反映")
    ext = f"12345-{rng.randrange(10**8):08d}" if source == "hotline" else ""
    text = f"{lead}：{PHRASES[code]}，请尽快处理。"
    return _report(code, lat, lon, source, scene, rng, text, person_name(rng), phone(rng), ext), SIM


def repeat_report(rng: random.Random, scene: Scene, category: str, lat: float, lon: float) -> tuple[Report, Actor]:
    """A second citizen calling about the same problem a few metres away (a duplicate to merge)."""
    lat, lon = _near(rng, lat, lon, 15)
    text = f"市民来电反映：{PHRASES.get(category, '')}，此前已有人反映，至今未处理。"
    return _report(category, lat, lon, "hotline", scene, rng, text, person_name(rng), phone(rng), ""), SIM


def _report(code: str, lat: float, lon: float, source: str, scene: Scene, rng: random.Random, text: str,
            reporter: str, reporter_phone: str, external_id: str) -> Report:
    place = locate(lat, lon)
    spot = estate(rng)
    where = scene.places.get(place.community_id, "辖区外") if place.community_id else "辖区外"
    return Report(
        title=f"{spot}附近{NAMES[code]}", category=code, lat=lat, lon=lon, source=source,
        description=text, address=f"{where}{spot}附近", reporter=reporter, reporter_phone=reporter_phone,
        external_id=external_id,
    )
