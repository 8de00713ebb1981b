"""The grid hierarchy: district → street (街道) → community (社区) → grid cell (网格)."""

from __future__ import annotations

from django.db import models


class District(models.Model):
    """An administrative district (区), the root of the hierarchy."""

    code = models.CharField(max_length=32, unique=True)
    name = models.CharField(max_length=64)
    polygon = models.JSONField(help_text="GeoJSON Polygon or MultiPolygon geometry (lon/lat)")

    def __str__(self) -> str:
        return self.name


class Street(models.Model):
    """A street office area (街道)."""

    district = models.ForeignKey(District, on_delete=models.CASCADE, related_name="streets")
    code = models.CharField(max_length=32, unique=True)
    name = models.CharField(max_length=64)
    polygon = models.JSONField(null=True, blank=True)

    def __str__(self) -> str:
        return self.name


class Community(models.Model):
    """A community (社区) inside a street."""

    street = models.ForeignKey(Street, on_delete=models.CASCADE, related_name="communities")
    code = models.CharField(max_length=32, unique=True)
    name = models.CharField(max_length=64)
    polygon = models.JSONField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "communities"

    def __str__(self) -> str:
        return self.name


class GridCell(models.Model):
    """A unit grid cell (单元网格), the smallest area a grid worker looks after."""

    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="cells")
    code = models.CharField(max_length=32, unique=True)
    name = models.CharField(max_length=64)
    polygon = models.JSONField(help_text="GeoJSON Polygon geometry (lon/lat)")

    def __str__(self) -> str:
        return self.code
