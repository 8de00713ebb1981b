"""Export of the case list on the console's screen as CSV or Excel (the rows come from the browser)."""

from __future__ import annotations

import io

import pandas as pd
from dash import Dash, Input, Output, State, ctx, dcc, no_update
from django.utils import timezone

COLUMNS = {
    "number": "案件编号", "title": "标题", "category": "类别", "severity": "等级", "status": "状态",
    "source": "来源", "street": "街道", "address": "地址", "created_at": "上报时间", "deadline": "时限",
    "sla": "时限状态",
}


def frame(rows: list[dict]) -> pd.DataFrame:
    """The rows as a table with Chinese column names, in the order of COLUMNS."""
    table = pd.DataFrame.from_records(rows or [], columns=list(COLUMNS))
    return table.rename(columns=COLUMNS)


def to_csv(rows: list[dict]) -> bytes:
    """CSV with a byte-order mark, so that Excel opens the Chinese text correctly."""
    return frame(rows).to_csv(index=False).encode("utf-8-sig")


def to_xlsx(rows: list[dict]) -> bytes:
    """An Excel workbook of one sheet, 案件列表."""
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        frame(rows).to_excel(writer, index=False, sheet_name="案件列表")
    return buffer.getvalue()


def register(app: Dash) -> None:
    """Attach the export callback to the console app."""

    @app.callback(
        Output("console-download", "data"),
        Input("export-csv", "n_clicks"),
        Input("export-xlsx", "n_clicks"),
        State("console-rows", "data"),
        prevent_initial_call=True,
    )
    def download(_csv: int | None, _xlsx: int | None, rows: list[dict] | None):
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
        if ctx.triggered_id == "export-csv":
            return dcc.send_bytes(to_csv(rows or []), f"cases-{stamp}.csv")
        if ctx.triggered_id == "export-xlsx":
            return dcc.send_bytes(to_xlsx(rows or []), f"cases-{stamp}.xlsx")
        return no_update
