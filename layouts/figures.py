"""Plotly figures in the wall's dark style, sized for a 3840×2160 stage."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

TEXT = "#cfe3ff"
MUTED = "#7f9cc4"
GRID = "rgba(90,140,220,0.18)"
CYAN = "#29d3ff"
BLUE = "#2f7bff"
GREEN = "#3ddc97"
FONT = "Noto Sans CJK SC, Microsoft YaHei, sans-serif"


def _base(font_size: int) -> go.Layout:
    return go.Layout(
        autosize=True,
        margin=dict(l=10, r=30, t=10, b=10),
        paper_bgcolor="rgba(0,0,0,0)",
        plot_bgcolor="rgba(0,0,0,0)",
        font=dict(family=FONT, color=TEXT, size=font_size),
        showlegend=False,
        bargap=0.35,
        uirevision="keep",
    )


def hbar(counts: pd.Series, labels: dict[str, str] | None = None, top: int = 8) -> go.Figure:
    """Horizontal bars of counts, largest on top, each labelled with its number."""
    counts = counts.head(top)[::-1]
    names = [labels.get(str(k), str(k)) if labels else str(k) for k in counts.index]
    figure = go.Figure(
        go.Bar(
            x=counts.values, y=names, orientation="h", text=counts.values, textposition="outside",
            marker=dict(color=[CYAN if i == len(counts) - 1 else BLUE for i in range(len(counts))],
                        line=dict(width=0)),
            cliponaxis=False, hoverinfo="skip",
        ),
        layout=_base(24),
    )
    figure.update_xaxes(visible=False, range=[0, max(1, int(counts.max() if len(counts) else 1)) * 1.2])
    figure.update_yaxes(tickfont=dict(size=24, color=TEXT), automargin=True, ticksuffix="  ")
    return figure


def trend(days: pd.DataFrame) -> go.Figure:
    """Reported (bars) and closed (line) per day over the window."""
    x = [d.strftime("%m-%d") for d in days.index]
    figure = go.Figure(layout=_base(22))
    figure.add_bar(x=x, y=days["reported"], name="上报", marker=dict(color=BLUE), hoverinfo="skip",
                   text=days["reported"], textposition="outside", cliponaxis=False)
    figure.add_scatter(x=x, y=days["closed"], name="结案", mode="lines+markers", hoverinfo="skip",
                       line=dict(color=GREEN, width=5), marker=dict(size=14))
    figure.update_layout(showlegend=True, legend=dict(orientation="h", x=1, xanchor="right", y=1.12,
                                                      font=dict(size=22)), margin=dict(l=50, r=20, t=50, b=40))
    figure.update_yaxes(gridcolor=GRID, zeroline=False, tickfont=dict(color=MUTED), rangemode="tozero")
    figure.update_xaxes(tickfont=dict(color=MUTED), showgrid=False)
    return figure
