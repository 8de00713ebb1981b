"""SIP message model: parsing, building, limits, dialogs."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from video.gb28181.sip.dialog import Dialog, ack_for_failure, build_request, build_response
from video.gb28181.sip.headers import parse_name_addr, parse_uri, parse_via
from video.gb28181.sip.message import (
    MAX_HEADERS,
    MAX_MESSAGE_BYTES,
    SipParseError,
    SipRequest,
    SipResponse,
    SipStreamParser,
    parse_message,
)

REGISTER = (
    b"REGISTER sip:34020000002000000001@3402000000 SIP/2.0\r\n"
    b"v: SIP/2.0/UDP 192.168.1.64:5060;rport;branch=z9hG4bK1\r\n"
    b"Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK2, SIP/2.0/UDP 10.0.0.2;branch=z9hG4bK3\r\n"
    b"f: <sip:34020000001320000001@3402000000>;tag=abc\r\n"
    b"t: <sip:34020000001320000001@3402000000>\r\n"
    b"i: 123@192.168.1.64\r\n"
    b"cseq: 1 REGISTER\r\n"
    b"m: <sip:34020000001320000001@192.168.1.64:5060>\r\n"
    b"l: 5\r\n"
    b"\r\n"
    b"helloEXTRA"
)


def make_request(body: bytes = b"") -> SipRequest:
    return build_request(
        "MESSAGE", "sip:34020000001320000001@127.0.0.1:5060", from_addr="<sip:a@b>;tag=1", to_addr="<sip:c@d>",
        via_host="127.0.0.1", via_port=5060, transport="UDP", call_id="x@y", cseq=7, body=body,
        content_type="Application/MANSCDP+xml",
    )


def test_compact_forms_and_case_insensitive_headers_are_understood():
    message = parse_message(REGISTER)
    assert isinstance(message, SipRequest)
    assert message.method == "REGISTER"
    assert message.headers.get("VIA").startswith("SIP/2.0/UDP 192.168.1.64")
    assert message.headers.get("call-id") == "123@192.168.1.64"
    assert message.cseq == (1, "REGISTER")
    assert parse_name_addr(message.headers.get("From")).tag == "abc"
    assert parse_name_addr(message.headers.get("Contact")).uri.port == 5060


def test_multiple_via_values_are_kept_in_order():
    vias = parse_message(REGISTER).headers.get_all("Via")
    assert [parse_via(v).branch for v in vias] == ["z9hG4bK1", "z9hG4bK2", "z9hG4bK3"]
    assert parse_via(vias[0]).params["rport"] == ""


def test_body_is_cut_at_content_length():
    assert parse_message(REGISTER).body == b"hello"


def test_request_round_trips_through_bytes():
    request = make_request("<Query>中文</Query>".encode("gb18030"))
    again = parse_message(request.to_bytes())
    assert isinstance(again, SipRequest)
    assert (again.method, again.uri, again.body, again.call_id) == (request.method, request.uri, request.body, "x@y")
    assert again.headers.get("Content-Length") == str(len(request.body))


def test_response_copies_the_transaction_headers_and_adds_a_tag():
    request = make_request()
    response = parse_message(build_response(request, 200, "OK", to_tag="t1").to_bytes())
    assert isinstance(response, SipResponse)
    assert response.status == 200 and response.reason == "OK"
    assert response.headers.get_all("Via") == request.headers.get_all("Via")
    assert parse_name_addr(response.headers.get("To")).tag == "t1"
    assert response.cseq == (7, "MESSAGE")


def test_dialog_requests_reuse_call_id_and_tags_and_increment_cseq():
    invite = build_request("INVITE", "sip:ch@127.0.0.1:5061", from_addr="<sip:p@d>;tag=me", to_addr="<sip:ch@d>",
                           via_host="127.0.0.1", via_port=5060, transport="UDP", call_id="c1", cseq=3)
    ok = build_response(invite, 200, "OK", to_tag="them", extra=[("Contact", "<sip:ch@127.0.0.1:6000>")])
    dialog = Dialog.from_uac(invite, ok, "127.0.0.1", 5060)
    ack, bye = dialog.request("ACK", cseq=3), dialog.request("BYE")
    assert ack.cseq == (3, "ACK") and bye.cseq == (4, "BYE")
    assert bye.uri == "sip:ch@127.0.0.1:6000"
    assert parse_name_addr(bye.headers.get("To")).tag == "them"
    assert parse_name_addr(bye.headers.get("From")).tag == "me"
    assert bye.call_id == "c1"
    assert parse_via(bye.headers.get("Via")).branch != parse_via(invite.headers.get("Via")).branch


def test_ack_for_a_failure_stays_in_the_invite_transaction():
    invite = make_request()
    busy = build_response(invite, 486, "Busy Here", to_tag="z")
    ack = ack_for_failure(invite, busy)
    assert ack.headers.get("Via") == invite.headers.get("Via")
    assert ack.cseq == (7, "ACK")


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\r\n\r\n",
        b"GARBAGE\r\n\r\n",
        b"INVITE sip:a@b SIP/3.0\r\nCall-ID: 1\r\n\r\n",
        REGISTER.replace(b"i: 123@192.168.1.64\r\n", b""),
        REGISTER.replace(b"cseq: 1 REGISTER", b"cseq: one REGISTER"),
        REGISTER.replace(b"cseq: 1 REGISTER", b"cseq: 1 INVITE"),
        REGISTER.replace(b"l: 5", b"l: 500"),
        REGISTER.replace(b"l: 5", b"l: -1"),
        REGISTER.replace(b"f: <sip", b"no colon here <sip"),
        b"SIP/2.0 99 Odd\r\nVia: SIP/2.0/UDP a\r\nFrom: <sip:a@b>\r\nTo: <sip:a@b>\r\nCall-ID: 1\r\nCSeq: 1 X\r\n\r\n",
        REGISTER.split(b"\r\n\r\n")[0],
    ],
)
def test_malformed_messages_raise_sip_parse_error(data):
    with pytest.raises(SipParseError):
        parse_message(data)


def test_too_many_headers_and_oversized_messages_are_refused():
    head, _, _ = REGISTER.partition(b"\r\n\r\n")
    extra = b"".join(b"X-Pad-%d: 1\r\n" % i for i in range(MAX_HEADERS))
    with pytest.raises(SipParseError, match="too many"):
        parse_message(head + b"\r\n" + extra + b"\r\n")
    with pytest.raises(SipParseError, match="too large"):
        parse_message(REGISTER + b"x" * MAX_MESSAGE_BYTES)


def test_stream_parser_frames_messages_split_anywhere():
    stream = b"\r\n\r\n" + REGISTER.replace(b"EXTRA", b"") * 3
    parser = SipStreamParser()
    messages = []
    for index in range(0, len(stream), 7):
        messages += parser.feed(stream[index : index + 7])
    assert [m.body for m in messages] == [b"hello"] * 3


def test_uri_parsing():
    uri = parse_uri("sip:34020000001320000001@192.168.1.64:5060;transport=tcp")
    assert (uri.user, uri.host, uri.port) == ("34020000001320000001", "192.168.1.64", 5060)
    assert uri.params == {"transport": "tcp"}
    with pytest.raises(SipParseError):
        parse_uri("http://x")


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2048))
def test_random_bytes_only_raise_parse_errors(data):
    try:
        parse_message(data)
    except SipParseError:
        pass


@settings(max_examples=300, deadline=None)
@given(st.integers(0, len(REGISTER) - 1), st.binary(min_size=1, max_size=8), st.integers(0, 8))
def test_mutated_messages_only_raise_parse_errors(position, insert, drop):
    data = REGISTER[:position] + insert + REGISTER[position + drop :]
    for parse in (parse_message, lambda d: SipStreamParser().feed(d)):
        try:
            parse(data)
        except SipParseError:
            pass
