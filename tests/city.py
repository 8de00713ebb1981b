"""A small deterministic city for tests (the demo city is far larger)."""

from __future__ import annotations

from dataclasses import dataclass

from dispatchd.actors import Actor
from dispatchd.models import Category, Community, Department, District, GridCell, RoutingRule, Street, Worker


def square(lon: float, lat: float, size: float = 0.01) -> dict:
    """A GeoJSON square polygon with its south-west corner at lon/lat."""
    ring = [[lon, lat], [lon + size, lat], [lon + size, lat + size], [lon, lat + size], [lon, lat]]
    return {"type": "Polygon", "coordinates": [ring]}


@dataclass
class SmallCity:
    district: District
    streets: list[Street]
    cells: list[GridCell]
    departments: dict[str, Department]
    categories: dict[str, Category]
    workers: list[Worker]
    commander: Actor
    admin: Actor

    def worker_actor(self, index: int = 0) -> Actor:
        """An actor for worker `index`."""
        worker = self.workers[index]
        return Actor(name=worker.code, role="worker", worker_id=worker.id)

    def point_in(self, cell_index: int) -> tuple[float, float]:
        """(lat, lon) of the centre of cell `cell_index`."""
        ring = self.cells[cell_index].polygon["coordinates"][0]
        return ring[0][1] + 0.005, ring[0][0] + 0.005


def build_small_city() -> SmallCity:
    """Create the small city in the test database."""
    base_lon, base_lat = 114.30, 22.70
    district = District.objects.create(code="D1", name="测试区", polygon=square(base_lon, base_lat, 0.02))
    streets, cells = [], []
    for s in range(2):
        street = Street.objects.create(district=district, code=f"S{s}", name=f"街道{s}")
        community = Community.objects.create(street=street, code=f"C{s}", name=f"社区{s}")
        streets.append(street)
        for c in range(2):
            polygon = square(base_lon + 0.01 * c, base_lat + 0.01 * s)
            cells.append(
                GridCell.objects.create(community=community, code=f"G{s}{c}", name=f"网格{s}{c}", polygon=polygon)
            )
    departments = {
        code: Department.objects.create(code=code, name=name)
        for code, name in [("ENV", "环卫所"), ("ROAD", "市政所"), ("LAW", "城管执法队"), ("GAS", "燃气公司")]
    }
    departments["ENV1"] = Department.objects.create(code="ENV1", name="环卫一班", parent=departments["ENV"])
    big = Category.objects.create(code="01", name="市容环境", kind="event")
    road_big = Category.objects.create(code="02", name="市政设施", kind="component")
    categories = {
        "big": big,
        "litter": Category.objects.create(
            code="0101",
            name="暴露垃圾",
            parent=big,
            default_department=departments["ENV"],
            timing="calendar",
            limits={"handle": 4},
            urgent_limits={"handle": 1},
        ),
        "manhole": Category.objects.create(
            code="0201",
            name="井盖缺失",
            parent=road_big,
            default_department=departments["ROAD"],
            default_severity="high",
            timing="working",
            limits={"handle": 8},
        ),
        "untimed": Category.objects.create(code="0102", name="其他", parent=big, timing="none"),
    }
    RoutingRule.objects.create(category=categories["litter"], street=streets[1], department=departments["ENV1"])
    workers = [
        Worker.objects.create(
            code=f"W{i}",
            name=f"网格员{i}",
            grid=cells[i % 4],
            department=departments["ENV" if i % 2 else "ROAD"],
            skills=["electric"] if i % 3 == 0 else ["general"],
            state="on_duty",
        )
        for i in range(6)
    ]
    return SmallCity(
        district=district,
        streets=streets,
        cells=cells,
        departments=departments,
        categories=categories,
        workers=workers,
        commander=Actor("duty1", "commander"),
        admin=Actor("root", "admin"),
    )
