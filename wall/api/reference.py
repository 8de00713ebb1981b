"""Reference data: categories, departments, the grid hierarchy as GeoJSON."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Router, Schema

from dispatchd.models import Category, Department, GridCell, Street
from wall.api.base import api
from wall.api.roles import READERS, require

router = Router(tags=["reference"])


class CategoryOut(Schema):
    id: int
    code: str
    name: str
    kind: str
    parent_id: int | None
    default_department_id: int | None
    default_severity: str
    timing: str
    limits: dict
    urgent_limits: dict


@router.get("/categories", response=list[CategoryOut], summary="Categories (大类 and 小类)")
def categories(request: HttpRequest):
    require(request, *READERS)
    return list(Category.objects.order_by("code"))


class DepartmentOut(Schema):
    id: int
    code: str
    name: str
    parent_id: int | None


@router.get("/departments", response=list[DepartmentOut], summary="Departments")
def departments(request: HttpRequest):
    require(request, *READERS)
    return list(Department.objects.order_by("code"))


class StreetOut(Schema):
    id: int
    code: str
    name: str


@router.get("/streets", response=list[StreetOut], summary="Streets (街道)")
def streets(request: HttpRequest):
    require(request, *READERS)
    return list(Street.objects.order_by("code"))


@router.get("/grid.geojson", summary="Grid cells as a GeoJSON FeatureCollection")
def grid_geojson(request: HttpRequest):
    require(request, *READERS)
    cells = GridCell.objects.select_related("community__street").order_by("id")
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "id": c.id,
                "geometry": c.polygon,
                "properties": {
                    "code": c.code,
                    "name": c.name,
                    "community": c.community.name,
                    "street": c.community.street.name,
                    "street_id": c.community.street_id,
                },
            }
            for c in cells
        ],
    }


api.add_router("/", router)
