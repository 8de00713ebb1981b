"""The wall's statistics panels: a server callback every 30 s, pandas over read-only queries."""

from __future__ import annotations

from typing import Any

from dash import Dash, Input, Output, html, no_update
from django.utils import timezone

from layouts import db, figures, stats
from layouts.access import may_read
from layouts.labels import labels

RANKED = 6
OUTPUTS = (
    ("wall-kpis", "children"), ("fig-source", "figure"), ("fig-category", "figure"), ("fig-street", "figure"),
    ("fig-status", "figure"), ("fig-trend", "figure"), ("rank-street", "children"), ("rank-department", "children"),
    ("stats-updated", "children"),
)


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}"


def _number(value: float | None, digits: int = 1) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def kpi_tiles(figures_: dict[str, Any]) -> list[html.Div]:
    """The headline tiles: big numerals with their unit and name."""
    tiles = [
        ("今日上报", figures_["reported_today"], "件", ""),
        ("今日结案", figures_["closed_today"], "件", "good"),
        ("在办案件", figures_["open"], "件", ""),
        ("超期案件", figures_["overdue"], "件", "bad" if figures_["overdue"] else ""),
        ("按期办结率", _percent(figures_["ontime_rate"]), "%", "good"),
        ("平均处置时长", _number(figures_["avg_handle_h"]), "小时", ""),
    ]
    return [
        html.Div(
            [html.Div([html.Span(str(value), className="num"), html.Span(unit, className="unit")], className="val"),
             html.Div(name, className="name")],
            className=f"kpi {tone}".strip(), **{"data-kpi": name},
        )
        for name, value, unit, tone in tiles
    ]


def ranking_rows(table) -> html.Ol:
    """The ranking as rows: place, name, score bar, score and on-time rate."""
    rows = []
    for place, (name, row) in enumerate(table.head(RANKED).iterrows(), start=1):
        rows.append(
            html.Li(
                [
                    html.Span(str(place), className=f"place p{place}"),
                    html.Span(str(name), className="rank-name"),
                    html.Span(html.Span(style={"width": f"{row['score']:.0f}%"}, className="bar-fill"),
                              className="bar"),
                    html.Span(f"{row['score']:.1f}", className="score"),
                    html.Span(f"按期 {row['ontime_rate'] * 100:.0f}%", className="sub"),
                ]
            )
        )
    return html.Ol(rows or [html.Li("暂无数据", className="empty")], className="rank-list")


def compute(street: int | None) -> tuple:
    """Every panel's content for the optional street filter."""
    now = timezone.localtime()
    frame = db.run(stats.load_cases, now, street)
    names = db.run(labels)
    return (
        kpi_tiles(stats.kpis(frame, now)),
        figures.hbar(stats.today_by(frame, now, "source"), names["source"]),
        figures.hbar(stats.today_by(frame, now, "category")),
        figures.hbar(stats.today_by(frame, now, "street")),
        figures.hbar(stats.today_by(frame, now, "status"), names["status"]),
        figures.trend(stats.trend(frame, now)),
        ranking_rows(stats.ranking(frame, now, "street")),
        ranking_rows(stats.ranking(frame, now, "department")),
        now.strftime("%H:%M:%S"),
    )


def register(app: Dash) -> None:
    """Attach the statistics callback to the wall app."""

    @app.callback([Output(i, p) for i, p in OUTPUTS], Input("wall-tick", "n_intervals"), Input("wall-auth", "data"))
    def refresh(_n: int | None, auth: dict | None):
        auth = auth or {}
        if not may_read(auth.get("token")):
            return [no_update] * (len(OUTPUTS) - 1) + ["未授权"]
        street = auth.get("street")
        return compute(int(street) if isinstance(street, int | str) and str(street).isdigit() else None)
