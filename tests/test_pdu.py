"""SMS-DELIVER / STATUS-REPORT decoding and SMS-SUBMIT encoding (23.040 §9.2)."""

from __future__ import annotations

import contextlib
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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


@settings(max_examples=2000, derandomize=True, database=None)
@given(st.binary(max_size=200), st.booleans())
def test_random_bytes_raise_only_pdu_error(data, with_smsc):
    for decoder in (pdu.decode, pdu.decode_submit):
        with contextlib.suppress(PduError):
            decoder(data, with_smsc=with_smsc)


@settings(max_examples=1000, derandomize=True, database=None)
@given(st.data())
def test_corrupted_valid_pdus_raise_only_pdu_error(data):
    [raw, *_] = pdu.encode_deliver("+6281234567890", "laporan € " * 20, timestamp=T0)
    pos = data.draw(st.integers(0, len(raw) - 1))
    mutated = raw[:pos] + bytes([data.draw(st.integers(0, 255))]) + raw[pos + 1:]
    cut = data.draw(st.integers(0, len(mutated)))
    with contextlib.suppress(PduError):
        pdu.decode(mutated[:cut])


def test_bad_hex_raises_pdu_error():
    with pytest.raises(PduError, match="not hexadecimal"):
        pdu.decode("07 91 XY")


def test_split_never_cuts_an_escape_sequence():
    # 152 plain septets then "€": the escape pair must move whole to part 2.
    text = "a" * 152 + "€" + "b" * 10
    parts = [pdu.decode_submit(p.pdu).text for p in pdu.encode_submit("+62812", text)]
    assert parts[0] == "a" * 152 and parts[1].startswith("€")


def test_split_never_cuts_a_surrogate_pair():
    text = "x" * 66 + "😀" * 5
    parts = [pdu.decode_submit(p.pdu).text for p in pdu.encode_submit("+62812", text)]
    assert parts[0] == "x" * 66 and "".join(parts) == text


@pytest.mark.parametrize(
    ("text", "parts"),
    [("", 1), ("a" * 160, 1), ("a" * 161, 2), ("a" * 306, 2), ("a" * 307, 3),
     ("€" * 80, 1), ("€" * 81, 2), ("é" * 160, 1), ("ç" * 70, 1), ("ç" * 71, 2),
     ("ç" * 134, 2), ("ç" * 135, 3)],
)
def test_parts_needed_follows_160_153_70_67(text, parts):
    assert pdu.parts_needed(text) == parts == len(pdu.encode_submit("+62812", text))


def test_gsm7_is_chosen_only_when_every_character_fits():
    assert pdu.fits_gsm7("Tiket A-12 {ok} €") and not pdu.fits_gsm7("Tiket ✓")
    # SMSC 00, first octet, TP-MR, TP-DA "+62812" (5 octets), TP-PID, then TP-DCS.
    dcs_at = 1 + 1 + 1 + 5 + 1
    assert pdu.encode_submit("+62812", "Tiket {ok}")[0].pdu[dcs_at] == 0x00
    assert pdu.encode_submit("+62812", "Tiket ✓")[0].pdu[dcs_at] == 0x08


def test_lone_surrogate_text_raises_encode_error():
    with pytest.raises(EncodeError, match="lone surrogate"):
        pdu.encode_submit("+62812", "a\ud800b")


def test_encode_error_does_not_repeat_the_number():
    with pytest.raises(EncodeError) as info:
        pdu.encode_submit("+62 812 3456 789", "x")
    assert "3456" not in str(info.value)


def test_timestamp_zone_survives_with_negative_quarter_hours():
    when = datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone(-timedelta(hours=3, minutes=30)))
    [raw] = pdu.encode_deliver("+1555", "x", timestamp=when)
    assert pdu.decode(raw).timestamp.utcoffset() == when.utcoffset()


def test_wide_reference_uses_information_element_08():
    parts = pdu.encode_deliver("+6281", "z" * 200, reference=0xABCD, wide_reference=True)
    assert [pdu.decode(p).concat for p in parts] == [Concat(0xABCD, 2, 1), Concat(0xABCD, 2, 2)]
