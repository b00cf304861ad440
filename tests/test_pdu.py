"""SMS-DELIVER / STATUS-REPORT decoding and SMS-SUBMIT encoding (23.040 §9.2)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from smsbridge.errors import EncodeError, PduError
from smsbridge.sms import pdu
from smsbridge.sms.pdu import Concat, Deliver, StatusReport

WIB = timezone(timedelta(hours=7))
T0 = datetime(2024, 5, 6, 7, 8, 9, tzinfo=WIB)


def test_deliver_round_trips_sender_time_and_text():
    [raw] = pdu.encode_deliver("+6281234567890", "Ada pencurian di Jl. Merdeka", timestamp=T0)
    msg = pdu.decode(raw)
    assert isinstance(msg, Deliver)
    assert (msg.sender, msg.sender_toa, msg.timestamp, msg.text) == (
        "+6281234567890", 0x91, T0, "Ada pencurian di Jl. Merdeka")
    assert msg.smsc == "+6281100000"
    assert msg.concat is None and msg.data is None
    assert not msg.is_alphanumeric


def test_long_deliver_is_split_into_concatenated_parts_that_rejoin():
    text = "laporan " * 40
    parts = [pdu.decode(p) for p in pdu.encode_deliver("081234567", text, reference=300)]
    assert [p.concat for p in parts] == [Concat(300 & 0xFF, 3, i) for i in (1, 2, 3)]
    assert "".join(p.text for p in parts) == text
    assert parts[0].sender == "081234567" and parts[0].sender_toa == 0x81


def test_alphanumeric_sender_is_flagged():
    [raw] = pdu.encode_deliver("TELKOMSEL", "Sisa pulsa Anda Rp 5.000")
    msg = pdu.decode(raw.hex())
    assert msg.sender == "TELKOMSEL" and msg.sender_toa == 0xD0 and msg.is_alphanumeric


def test_submit_length_excludes_the_smsc_octet():
    [part] = pdu.encode_submit("+6281234567890", "Tiket A-1")
    assert part.pdu[0] == 0x00
    assert part.tpdu_length == len(part.pdu) - 1
    assert part.hex == part.pdu.hex().upper()


def test_submit_round_trips_through_decode_submit():
    parts = pdu.encode_submit("+6281234567890", "😀 " * 50, reference=0x1234)
    infos = [pdu.decode_submit(p.hex) for p in parts]
    assert "".join(i.text for i in infos) == "😀 " * 50
    assert {i.concat.reference for i in infos} == {0x34}
    assert all(i.recipient == "+6281234567890" and i.status_report_requested for i in infos)


def test_status_report_states():
    raw = pdu.encode_status_report(42, "+6281234567890", status=0x30, submitted_at=T0,
                                   discharged_at=T0 + timedelta(minutes=2))
    report = pdu.decode(raw)
    assert isinstance(report, StatusReport)
    assert (report.reference, report.recipient, report.status) == (42, "+6281234567890", 0x30)
    assert report.discharged_at - report.submitted_at == timedelta(minutes=2)
    assert not report.delivered and not report.final


def test_truncated_pdu_raises_pdu_error():
    [raw] = pdu.encode_deliver("+6281234567890", "halo", timestamp=T0)
    with pytest.raises(PduError):
        pdu.decode(raw[:-2])


def test_bad_number_raises_encode_error():
    with pytest.raises(EncodeError):
        pdu.encode_submit("0812-ABC", "x")
