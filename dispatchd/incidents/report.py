"""The incident report: timeline, responders (ordered, acknowledged, arrived), response-time statistics; exports."""

from __future__ import annotations

import io
from typing import Any

import pandas as pd
from django.db.models import Count, Q

from dispatchd.incidents.command import get, incident_dict
from dispatchd.incidents.timeline import action_dict
from dispatchd.models import Broadcast, Incident, OrderState, Responder, Worker

ANSWERED = (OrderState.ACCEPTED, OrderState.DECLINED)
COLUMNS = {
    "timeline": {"at": "时间", "actor": "操作人", "kind": "动作", "text": "内容"},
    "responders": {"worker_code": "工号", "worker_name": "姓名", "distance_m": "派遣距离(米)",
                   "dispatched_at": "派遣时间", "order_state": "接单状态", "acknowledged_at": "应答时间",
                   "ack_s": "应答用时(秒)", "arrived_at": "到达时间", "arrival_s": "到达用时(秒)"},
    "broadcasts": {"sent_at": "时间", "ring_m": "范围(米)", "text": "内容", "delivered": "送达", "read": "已读"},
}


def _iso(value) -> str | None:
    return value.isoformat() if value else None


def _seconds(end, start) -> float | None:
    return round((end - start).total_seconds(), 1) if end and start else None


def responders(incident: Incident) -> list[dict[str, Any]]:
    """Every dispatched worker: order and acknowledgement times, arrival inside the inner ring."""
    rows = []
    query = Responder.objects.filter(incident=incident).select_related("order").order_by("dispatched_at", "id")
    names = {w.pk: w for w in Worker.objects.filter(pk__in=query.values("worker_id"))}
    for r in query:
        order = r.order
        acked = order.responded_at if order is not None and order.state in ANSWERED else None
        worker = names.get(r.worker_id)
        rows.append({
            "worker_id": r.worker_id, "worker_code": worker.code if worker else "",
            "worker_name": worker.name if worker else "", "order_id": order.id if order else None,
            "distance_m": r.distance_m, "dispatched_at": _iso(r.dispatched_at),
            "order_state": order.state if order else "", "acknowledged_at": _iso(acked),
            "ack_s": _seconds(acked, r.dispatched_at), "arrived_at": _iso(r.arrived_at),
            "arrival_s": _seconds(r.arrived_at, r.dispatched_at),
        })
    return rows


def _stats(values: pd.Series) -> dict[str, float | int | None]:
    values = values.dropna()
    if values.empty:
        return {"count": 0, "mean_s": None, "median_s": None, "p90_s": None, "max_s": None}
    return {"count": int(values.size), "mean_s": round(float(values.mean()), 1),
            "median_s": round(float(values.median()), 1), "p90_s": round(float(values.quantile(0.9)), 1),
            "max_s": round(float(values.max()), 1)}


def report(incident_id: int) -> dict[str, Any]:
    """Everything the report page and the exports show."""
    incident = get(incident_id)
    people = responders(incident)
    table = pd.DataFrame.from_records(people, columns=["ack_s", "arrival_s", "order_state"])
    counted = Broadcast.objects.filter(incident=incident).annotate(
        delivered=Count("receipts"), read=Count("receipts", filter=Q(receipts__read_at__isnull=False))
    )
    broadcasts = [
        {"id": b.id, "sent_at": b.sent_at.isoformat(), "ring_m": b.ring_m, "text": b.text,
         "delivered": b.delivered, "read": b.read}
        for b in counted.order_by("sent_at", "id")
    ]
    end = incident.stood_down_at
    return {
        "incident": incident_dict(incident),
        "duration_s": _seconds(end, incident.declared_at),
        "timeline": [action_dict(a) for a in incident.actions.order_by("at", "id")],
        "responders": people,
        "broadcasts": broadcasts,
        "stats": {
            "dispatched": len(people),
            "accepted": int((table["order_state"] == OrderState.ACCEPTED).sum()),
            "declined": int((table["order_state"] == OrderState.DECLINED).sum()),
            "arrived": int(table["arrival_s"].notna().sum()),
            "acknowledgement": _stats(table["ack_s"]),
            "arrival": _stats(table["arrival_s"]),
        },
    }


def _frames(data: dict[str, Any]) -> dict[str, pd.DataFrame]:
    stats = data["stats"]
    incident = data["incident"]
    summary = [
        ("事件", incident["title"]), ("等级", incident["level_label"]), ("指挥长", incident["commander"]),
        ("宣布时间", incident["declared_at"]), ("解除时间", incident["stood_down_at"] or "—"),
        ("持续(秒)", data["duration_s"]), ("派遣人数", stats["dispatched"]), ("接单", stats["accepted"]),
        ("拒单", stats["declined"]), ("到达", stats["arrived"]),
    ]
    for key, label in (("acknowledgement", "应答"), ("arrival", "到达")):
        for name, title in (("mean_s", "平均"), ("median_s", "中位"), ("p90_s", "P90"), ("max_s", "最长")):
            summary.append((f"{label}用时{title}(秒)", stats[key][name]))
    frames = {"概况": pd.DataFrame(summary, columns=["项目", "值"])}
    for key, sheet in (("timeline", "时间线"), ("responders", "出动人员"), ("broadcasts", "广播")):
        frames[sheet] = pd.DataFrame.from_records(data[key], columns=list(COLUMNS[key])).rename(columns=COLUMNS[key])
    return frames


def to_csv(data: dict[str, Any]) -> bytes:
    """One CSV (UTF-8 with BOM, for Excel) holding each table in turn under its title."""
    out = io.StringIO()
    for title, frame in _frames(data).items():
        out.write(f"{title}\n")
        frame.to_csv(out, index=False)
        out.write("\n")
    return out.getvalue().encode("utf-8-sig")


def to_xlsx(data: dict[str, Any]) -> bytes:
    """An Excel workbook, one sheet per table."""
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        for title, frame in _frames(data).items():
            frame.to_excel(writer, index=False, sheet_name=title)
    return buffer.getvalue()


def to_pdf(data: dict[str, Any]) -> bytes:
    """A printable PDF (A4 landscape): the summary, then the timeline, responders and broadcasts as tables.

    Chinese text uses the PDF standard CID font STSong-Light, which every PDF reader carries: no font file ships.
    """
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    if "STSong-Light" not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    title = ParagraphStyle("title", fontName="STSong-Light", fontSize=16, leading=22)
    heading = ParagraphStyle("heading", fontName="STSong-Light", fontSize=12, leading=18, spaceBefore=8)
    cell = ParagraphStyle("cell", fontName="STSong-Light", fontSize=8, leading=10)
    story: list[Any] = [Paragraph(f"事件报告：{data['incident']['title']}", title), Spacer(1, 4 * mm)]
    for name, frame in _frames(data).items():
        story.append(Paragraph(name, heading))
        rows = [list(frame.columns)] + frame.astype(object).where(frame.notna(), "").values.tolist()
        table = Table([[Paragraph(str(value), cell) for value in row] for row in rows], repeatRows=1)
        table.setStyle(TableStyle([
            ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
            ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#dfe6f0")),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ]))
        story.append(table)
    buffer = io.BytesIO()
    SimpleDocTemplate(buffer, pagesize=landscape(A4), title=f"incident {data['incident']['id']} report",
                      leftMargin=12 * mm, rightMargin=12 * mm, topMargin=12 * mm, bottomMargin=12 * mm).build(story)
    return buffer.getvalue()
