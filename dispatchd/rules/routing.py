"""Routing: category (+ optional street or grid cell) → department."""

from __future__ import annotations

from django.db.models import Q

from dispatchd.models import Category, Department, RoutingRule


def route(category: Category, street_id: int | None, grid_id: int | None) -> tuple[Department | None, str]:
    """The department a case goes to, and why: a grid rule beats a street rule beats a category-wide one."""
    rules = RoutingRule.objects.filter(category=category).filter(
        Q(grid__isnull=True) | Q(grid_id=grid_id)
    ).filter(Q(street__isnull=True) | Q(street_id=street_id)).select_related("department")

    def specificity(rule: RoutingRule) -> tuple[int, int, int]:
        return (1 if rule.grid_id else 0, 1 if rule.street_id else 0, rule.priority)

    best = max(rules, key=specificity, default=None)
    if best is not None:
        return best.department, f"rule #{best.pk}"
    if category.default_department_id:
        return category.default_department, "category default"
    return None, "no rule"
