"""MANSCDP bodies: charsets, safety, messages, catalog accumulation."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from video.gb28181 import manscdp
from video.gb28181.catalog import CatalogAccumulator
from video.gb28181.manscdp import Alarm, CatalogChannel, ManscdpError, build_manscdp, parse_manscdp

DEVICE = "34020000001320000001"


def channels(count: int) -> list[CatalogChannel]:
    return [
        CatalogChannel(f"3402000000131000000{i}", name=f"东门摄像机{i}", longitude=116.3 + i / 100, latitude=39.9)
        for i in range(count)
    ]


def test_gb2312_body_round_trips_chinese_text():
    body = manscdp.catalog_responses(DEVICE, 7, channels(1))[0]
    assert body.startswith(b'<?xml version="1.0" encoding="GB2312"?>')
    assert "东门".encode("gb2312") in body
    message = parse_manscdp(body)
    assert (message.root, message.cmd_type, message.sn, message.device_id, message.sum_num) == (
        "Response", "Catalog", 7, DEVICE, 1)
    channel = CatalogChannel.from_item(message.items[0])
    assert channel.name == "东门摄像机0" and channel.longitude == pytest.approx(116.3) and channel.ptz_type is None


def test_utf8_body_and_body_mislabelled_as_gb2312_are_read():
    utf8 = '<?xml version="1.0" encoding="UTF-8"?><Notify><CmdType>Alarm</CmdType><SN>1</SN>' \
           f'<DeviceID>{DEVICE}</DeviceID><AlarmDescription>烟雾</AlarmDescription></Notify>'
    assert parse_manscdp(utf8.encode()).fields["AlarmDescription"] == "烟雾"
    mislabelled = utf8.replace("UTF-8", "GB2312").encode("utf-8")
    assert parse_manscdp(mislabelled).cmd_type == "Alarm"
    no_declaration = utf8.split("?>", 1)[1].encode("gb18030")
    assert parse_manscdp(no_declaration).fields["AlarmDescription"] == "烟雾"


def test_keepalive_query_and_control_bodies():
    keepalive = parse_manscdp(manscdp.keepalive(DEVICE, 3))
    assert (keepalive.root, keepalive.cmd_type, keepalive.fields["Status"]) == ("Notify", "Keepalive", "OK")
    assert parse_manscdp(manscdp.query("DeviceInfo", DEVICE, 4)).root == "Query"
    control = parse_manscdp(manscdp.ptz_control(DEVICE, 5, "A50F010800FA00B7"))
    assert control.fields["PTZCmd"] == "A50F010800FA00B7" and control.fields["Info.ControlPriority"] == "5"
    assert parse_manscdp(manscdp.iframe_request(DEVICE, 6)).fields["IFameCmd"] == "Send"


def test_device_info_and_status_responses():
    info = parse_manscdp(manscdp.device_info_response(DEVICE, 1, name="n", manufacturer="m", model="x",
                                                      firmware="f", channels=4))
    assert info.int_field("Channel") == 4 and info.fields["Manufacturer"] == "m"
    status = parse_manscdp(manscdp.device_status_response(DEVICE, 2))
    assert status.fields["Online"] == "ONLINE"


def test_alarm_notify_is_read_with_position_and_type():
    body = manscdp.alarm_notify(DEVICE, 9, priority=1, method=5, time="2026-01-01T00:00:00", description="越界",
                                longitude=116.4, latitude=39.9, alarm_type=2)
    alarm = Alarm.from_message(parse_manscdp(body))
    assert (alarm.priority, alarm.method, alarm.description, alarm.alarm_type) == (1, 5, "越界", 2)
    assert alarm.longitude == pytest.approx(116.4)


def test_catalog_split_over_several_messages_accumulates_to_sum_num():
    accumulator = CatalogAccumulator()
    bodies = manscdp.catalog_responses(DEVICE, 11, channels(7), per_message=3)
    assert len(bodies) == 3
    results = [accumulator.add(parse_manscdp(body)) for body in [bodies[0], bodies[0], bodies[1], bodies[2]]]
    assert results[:3] == [None, None, None]
    assert results[3].complete and len(results[3].channels) == 7


def test_catalog_that_never_completes_is_returned_partial_after_the_timeout():
    now = [0.0]
    accumulator = CatalogAccumulator(timeout=5, clock=lambda: now[0])
    first = manscdp.catalog_responses(DEVICE, 12, channels(5), per_message=2)[0]
    assert accumulator.add(parse_manscdp(first)) is None
    assert accumulator.expire() == []
    now[0] = 6
    (partial,) = accumulator.expire()
    assert not partial.complete and len(partial.channels) == 2 and partial.sum_num == 5


def test_empty_catalog_completes_at_once():
    result = CatalogAccumulator().add(parse_manscdp(manscdp.catalog_responses(DEVICE, 1, [])[0]))
    assert result is not None and result.complete and result.channels == []


BOMB = b"""<?xml version="1.0"?><!DOCTYPE q [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>
<Query><CmdType>Catalog</CmdType><SN>&b;</SN></Query>"""
EXTERNAL = b"""<?xml version="1.0"?><!DOCTYPE q [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<Query><CmdType>&x;</CmdType></Query>"""


@pytest.mark.parametrize(
    "body",
    [
        BOMB,
        EXTERNAL,
        b"<Query><CmdType>Catalog</CmdType><SN>&undefined;</SN></Query>",
        b"<Query><CmdType>Catalog</CmdType>",
        b"<Other><CmdType>Catalog</CmdType></Other>",
        b"<Query><SN>1</SN></Query>",
        b"<Query>" * 40 + b"</Query>" * 40,
        b"",
        b"\xff\xfe\x00garbage",
    ],
)
def test_unsafe_or_malformed_bodies_raise_manscdp_error(body):
    with pytest.raises(ManscdpError):
        parse_manscdp(body)


def test_builder_escapes_markup_in_values():
    body = build_manscdp("Notify", "Alarm", 1, DEVICE, [("AlarmDescription", "<b>&</b>")], encoding="UTF-8")
    assert parse_manscdp(body).fields["AlarmDescription"] == "<b>&</b>"


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=1024))
def test_random_bytes_only_raise_manscdp_error(data):
    try:
        parse_manscdp(data)
    except ManscdpError:
        pass


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=40), st.integers(0, 400), st.integers(0, 30))
def test_mutated_bodies_only_raise_manscdp_error(text, position, drop):
    body = manscdp.catalog_responses(DEVICE, 1, channels(2))[0]
    mutated = body[:position] + text.encode("utf-8") + body[position + drop :]
    try:
        message = parse_manscdp(mutated)
    except ManscdpError:
        return
    CatalogAccumulator().add(message)
    for item in message.items:
        CatalogChannel.from_item(item)
    Alarm.from_message(message)
