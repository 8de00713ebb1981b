"""The war-room API: roles, declare from a case or directly, nearby, dispatch, broadcast and receipts, report."""

from __future__ import annotations

import base64
import contextlib
import io
import re
import zlib

import openpyxl

from dispatchd.models import DispatchOrder
from tests.dispatchd.helpers import report as report_case


def declare(api, city, **extra):
    """POST /api/incidents from a fresh case in cell 0; the answer's JSON."""
    case = report_case(city, cell=0, title="燃气泄漏")
    answer = api.post("incidents", {"case_id": case.id, "level": 1, "commander": "张指挥", **extra})
    assert answer.status_code == 201, answer.content
    return answer.json()


def test_only_commanders_declare_and_walls_read(city, scene, api_as):
    wall = api_as("wall")
    assert wall.post("incidents", {"title": "x", "lat": scene.lat, "lon": scene.lon, "category": "0101"}).status_code \
        == 403
    incident = declare(api_as("commander"), city)
    assert wall.get(f"incidents/{incident['id']}").json()["actions"][0]["kind"] == "declared"
    assert [i["id"] for i in wall.get("incidents", {"state": "declared"}).json()] == [incident["id"]]
    assert api_as("worker", city.workers[0]).get(f"incidents/{incident['id']}/nearby").status_code == 403


def test_bad_input_is_a_400_with_field_errors(city, scene, api_as):
    commander = api_as("commander")
    answer = commander.post("incidents", {"title": "无位置"})
    assert answer.status_code == 400 and set(answer.json()["detail"]) == {"lat", "lon", "category"}
    assert commander.post("incidents", {"case_id": 999}).json()["detail"] == {"case_id": "unknown case 999"}
    assert commander.post("incidents", {"case_id": 1, "rings_m": [5]}).status_code == 400
    incident = declare(commander, city)
    assert commander.post(f"incidents/{incident['id']}/broadcast", {"ring_m": 700, "text": "x"}).status_code == 400
    assert commander.post(f"incidents/{incident['id']}/dispatch-nearest", {"n": 0}).status_code == 400
    assert commander.get("incidents/999/nearby").status_code == 404


def test_nearby_dispatch_and_broadcast_over_http(city, scene, api_as):
    commander = api_as("commander")
    incident = declare(commander, city)
    nearby = commander.get(f"incidents/{incident['id']}/nearby").json()
    assert [w["ring_m"] for w in nearby["workers"]] == [500, 500, 1000, 3000, 3000]
    orders = commander.post(f"incidents/{incident['id']}/dispatch-nearest", {"n": 2}).json()["orders"]
    assert len(orders) == 2 and DispatchOrder.objects.filter(case_id=incident["case_id"]).count() == 2
    sent = commander.post(f"incidents/{incident['id']}/broadcast", {"ring_m": 500, "text": "封锁路口"})
    assert sent.status_code == 201
    assert sorted(r["worker_id"] for r in sent.json()["receipts"]) == sorted(w.id for w in city.workers[:2])


def test_a_worker_reads_only_its_own_broadcasts(city, scene, api_as):
    commander = api_as("commander")
    incident = declare(commander, city)
    item = commander.post(f"incidents/{incident['id']}/broadcast", {"ring_m": 500, "text": "封锁路口"}).json()
    near, far = api_as("worker", city.workers[0]), api_as("worker", city.workers[4])
    path = f"incidents/{incident['id']}/broadcasts"
    assert [r["worker_id"] for r in near.get(path).json()[0]["receipts"]] == [city.workers[0].id]
    assert far.get(path).json() == []
    assert near.post(f"{path}/{item['id']}/read").status_code == 200
    assert far.post(f"{path}/{item['id']}/read").status_code == 404
    assert commander.post(f"{path}/{item['id']}/read").status_code == 403
    assert commander.get(path).json()[0]["read"] == 1


def test_stand_down_then_report_as_json_csv_and_excel(city, scene, api_as):
    commander = api_as("commander")
    incident = declare(commander, city)
    base = f"incidents/{incident['id']}"
    commander.post(f"{base}/dispatch-nearest", {"n": 1})
    commander.post(f"{base}/notes", {"text": "召开现场会商", "kind": "conference", "call_id": "c-1"})
    assert commander.post(f"{base}/stand-down", {"note": "险情排除"}).json()["state"] == "stood_down"
    assert commander.post(f"{base}/stand-down").status_code == 409
    assert commander.post(f"{base}/notes", {"text": "太晚了"}).status_code == 409
    data = api_as("wall").get(f"{base}/report").json()
    assert [a["kind"] for a in data["timeline"]] == ["declared", "dispatch", "conference", "stood_down"]
    csv = commander.get(f"{base}/report", {"format": "csv"})
    assert csv["Content-Type"].startswith("text/csv") and "召开现场会商" in csv.content.decode("utf-8-sig")
    xlsx = commander.get(f"{base}/report", {"format": "xlsx"})
    book = openpyxl.load_workbook(io.BytesIO(xlsx.content))
    assert book.sheetnames == ["概况", "时间线", "出动人员", "广播"]
    assert book["出动人员"].max_row == 2  # header + the one worker dispatched
    pdf = commander.get(f"{base}/report", {"format": "pdf"})
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF-")
    assert f'incident-{incident["id"]}-report.pdf' in pdf["Content-Disposition"]
    assert f"事件报告：{incident['title']}" in pdf_text(pdf.content)


def pdf_text(document: bytes) -> str:
    """The text a PDF shows: its content streams decoded (ASCII85, then Flate, as reportlab writes them) and
    the literal strings of their text operators read as UCS-2 big-endian (the CID font's encoding)."""
    shown = []
    for raw in re.findall(rb"stream\r?\n(.*?)endstream", document, re.S):
        data = raw.strip()
        if data.endswith(b"~>"):
            data = base64.a85decode(data[:-2].replace(b"\n", b""))
        with contextlib.suppress(zlib.error):
            data = zlib.decompress(data)
        for literal in re.findall(rb"\(((?:[^()\\]|\\.)*)\) Tj", data, re.S):
            unescaped = re.sub(rb"\\([0-7]{1,3}|.)", lambda m: bytes([int(m[1], 8)]) if m[1].isdigit() else m[1],
                               literal)
            if len(unescaped) % 2 == 0:
                shown.append(unescaped.decode("utf-16-be", "replace"))
    return "".join(shown)
