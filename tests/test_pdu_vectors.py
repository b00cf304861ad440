"""Table tests on published PDUs: the classic 23.040 walk-throughs and PDUs as real
modems listed them (Huawei/ZTE/SIMCom-style +CMGL/+CMGR/+CDS output, operator messages).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from smsbridge.errors import PduError
from smsbridge.sms import pdu
from smsbridge.sms.pdu import Concat, Deliver, StatusReport


def tz(hours: float) -> timezone:
    return timezone(timedelta(hours=hours))


DELIVERS = [
    # The SMS-DELIVER walk-through that every PDU tutorial uses: national sender
    # (TOA 0xC8), a 1999 time stamp in +02:00, "hellohello".
    ("07917283010010F5040BC87238880900F10000993092516195800AE8329BFD4697D9EC37",
     "+27381000015", "27838890001", 0xC8, datetime(1999, 3, 29, 15, 16, 59, tzinfo=tz(2)),
     "hellohello", None),
    # Zone octet 08: "minus zero" quarter hours.
    ("07911326040000F0040B911346610089F60000208062917314080CC8F71D14969741F977FD07",
     "+31624000000", "+31641600986", 0x91, datetime(2002, 8, 26, 19, 37, 41, tzinfo=tz(0)),
     "How are you?", None),
    # As a modem listed it, 6-octet SMSC.
    ("06917228195339040B917228214365F70000313080512061800 5D4F29C2E03",
     "+2782913593", "+27821234567", 0x91, datetime(2013, 3, 8, 15, 2, 16, tzinfo=tz(2)),
     "Test2", None),
    # +08:00 zone (0x23), 49 septets.
    ("07915892000000F0040B915892214365F700007040213252242331493A283D0795C3F33C88FE06C9CB61"
     "32885EC6D341EDF27C1E3E97E7207B3A0C0A5241E377BB1D7693E72E",
     "+85290000000", "+85291234567", 0x91, datetime(2007, 4, 12, 23, 25, 42, tzinfo=tz(8)),
     "It is easy to read text messages via AT commands.", None),
    # Extension table characters and a default-alphabet "é".
    ("06917228195339040B917228214365F70000313062315352800A800D8A5E98D337A910",
     "+2782913593", "+27821234567", 0x91, datetime(2013, 3, 26, 13, 35, 25, tzinfo=tz(2)),
     "@{tést}!", None),
    # An operator's airtime notice: short national sender (TOA 0x81), part 1 of 1 of a
    # concatenated message with UDH and one fill bit.
    ("0591721891F1400781721881F800003160526104848059050003C30101916536FB1DCABEEB2074D85E"
     "064941B19CAB060319A5C522289C96D3D3ED32286C0FA7D96131BBEC024941B19CAB0603DDD36C36A8"
     "8C87A7E565D0DB0D82C55EB0DB4B068BCD5C20",
     "+2781191", "2781188", 0x81, datetime(2013, 6, 25, 16, 40, 48, tzinfo=tz(2)),
     "Hello!You have R 19.50 FREE airtime available. R 19.50 will expire on 01/07/2013. ",
     Concat(0xC3, 1, 1)),
]


@pytest.mark.parametrize(
    ("hexpdu", "smsc", "sender", "toa", "when", "text", "concat"), DELIVERS,
    ids=[v[5][:16] for v in DELIVERS],
)
def test_published_deliver_decodes_to_its_documented_fields(
    hexpdu, smsc, sender, toa, when, text, concat
):
    msg = pdu.decode(hexpdu)
    assert isinstance(msg, Deliver)
    assert (msg.smsc, msg.sender, msg.sender_toa) == (smsc, sender, toa)
    assert msg.timestamp == when and msg.timestamp.utcoffset() == when.utcoffset()
    assert (msg.text, msg.concat) == (text, concat)


# The next vectors follow the layout of a Huawei +CMGL listing; each was cross-checked
# field by field against gammu.DecodePDU.
def test_alphanumeric_sender_with_ucs2_emoji_in_wib():
    hexpdu = (
        "06912618010000"  # SMSC +6281100000
        "04"  # SMS-DELIVER, no more messages waiting
        "0DD0D46991D94A1201"  # 13 semi-octets, TOA 0xD0: "TSEL-ID" GSM-7 packed
        "0008"  # PID 0, UCS2
        "42506070809082"  # 2024-05-06 07:08:09, zone 82 = +28 quarter hours (WIB)
        "10"
        "00500075006C007300610020D83DDE00"  # "Pulsa 😀": the emoji is a surrogate pair
    )
    msg = pdu.decode(hexpdu)
    assert (msg.smsc, msg.sender, msg.is_alphanumeric) == ("+6281100000", "TSEL-ID", True)
    assert msg.timestamp == datetime(2024, 5, 6, 7, 8, 9, tzinfo=tz(7))
    assert msg.text == "Pulsa 😀"


def test_ucs2_deliver_with_16_bit_concatenation_reference():
    hexpdu = (
        "00"  # empty SMSC part
        "44"  # SMS-DELIVER with UDH
        "0C91261810325476"  # +628101234567
        "0008"
        "42506070809082"
        "0D"
        "060804BEEF0302"  # IE 08 (23.040 §9.2.3.24.8): ref 0xBEEF, part 2 of 3
        "0041006B0075"  # "Aku"
    )
    msg = pdu.decode(hexpdu)
    assert msg.concat == Concat(0xBEEF, 3, 2)
    assert msg.text == "Aku"


def test_unknown_information_elements_are_skipped():
    # Port addressing (IE 05) before the concatenation IE.
    hexpdu = "00440B915892214365F70008425060708090820E" "0B0504158A00000003C30201" "0041"
    msg = pdu.decode(hexpdu)
    assert msg.concat == Concat(0xC3, 2, 1)
    assert msg.text == "A"


def test_eight_bit_data_is_kept_raw():
    hexpdu = "00040B915892214365F700F64250607080908204DEADBEEF"
    msg = pdu.decode(hexpdu)
    assert (msg.text, msg.data) == ("", bytes.fromhex("DEADBEEF"))


STATUS_REPORTS = [
    # +CDS as a modem delivers it, bare TPDU without SMSC part.
    ("06000B910221815716F2709021510121807090215101718000", False,
     0, "+20121875612", datetime(2007, 9, 12, 15, 10, 12, tzinfo=tz(2)),
     datetime(2007, 9, 12, 15, 10, 17, tzinfo=tz(2)), 0x00),
    # As +CMGR lists it (empty SMSC part).
    ("0006D60B911326880736F4111011719551401110117195714000", True,
     214, "+31628870634", datetime(2011, 1, 11, 17, 59, 15, tzinfo=tz(1)),
     datetime(2011, 1, 11, 17, 59, 17, tzinfo=tz(1)), 0x00),
    # A ZTE modem's report with a recipient the modem garbled: still decodes.
    ("0297F1061C0F910B487228297020F5317062419272803170624192138000", True,
     28, "+#08427829207025", datetime(2013, 7, 26, 14, 29, 27, tzinfo=tz(2)),
     datetime(2013, 7, 26, 14, 29, 31, tzinfo=tz(2)), 0x00),
]


@pytest.mark.parametrize(
    ("hexpdu", "with_smsc", "mr", "recipient", "scts", "dt", "st"), STATUS_REPORTS
)
def test_published_status_report_decodes(hexpdu, with_smsc, mr, recipient, scts, dt, st):
    report = pdu.decode(hexpdu, with_smsc=with_smsc)
    assert isinstance(report, StatusReport)
    assert (report.reference, report.recipient, report.status) == (mr, recipient, st)
    assert (report.submitted_at, report.discharged_at) == (scts, dt)
    assert report.delivered and report.final


@pytest.mark.parametrize(
    ("status", "delivered", "final"),
    [(0x00, True, True), (0x02, True, True), (0x20, False, False), (0x3F, False, False),
     (0x40, False, True), (0x60, False, True)],
)
def test_status_classes_follow_23040_9_2_3_15(status, delivered, final):
    report = pdu.decode(pdu.encode_status_report(1, "+6281234", status=status))
    assert (report.delivered, report.final) == (delivered, final)


SUBMITS = [
    # Relative validity + status report requested (first octet 0x31).
    ("07911326040000F0310D0B911326880736F40000A90FF7FBDD454E87CDE1B0DB357EB701",
     "+31628870634", "www.diafaan.com", True, 0x0D),
    # A module vendor's manual: UCS2 "hello" to a national number, no validity.
    ("0891683110808805F001000B813124819396F300080A00680065006C006C006F",
     "13421839693", "hello", False, 0x00),
    # Absolute validity period (7 octets) is skipped correctly.
    ("0019000B917228001011F100003170013193008017D474BB3CA787DB70903DCC4E93D3F43C885E9ED301",
     "+27820001111", "Timestamp validity test", False, 0x00),
]


@pytest.mark.parametrize(("hexpdu", "recipient", "text", "srr", "mr"), SUBMITS)
def test_published_submit_decodes(hexpdu, recipient, text, srr, mr):
    info = pdu.decode_submit(hexpdu)
    assert (info.recipient, info.text, info.status_report_requested, info.reference) == (
        recipient, text, srr, mr)


@pytest.mark.parametrize(
    ("number", "text", "hours", "expected"),
    [
        # The tutorial SMS-SUBMIT: VP 0xAA = 4 days.
        ("+46708251358", "hellohello", 96, "0011000B916407281553F80000AA0AE8329BFD4697D9EC37"),
        ("1234657", "hello", 96, "0011000781214356F70000AA05E8329BFD06"),
    ],
)
def test_submit_encodes_byte_exact(number, text, hours, expected):
    [part] = pdu.encode_submit(number, text, status_report=False, validity_hours=hours)
    assert part.hex == expected
    assert part.tpdu_length == len(expected) // 2 - 1


def test_ucs2_user_data_length_over_140_is_rejected():
    # A real-world SMS-SUBMIT whose TP-UDL (0xA0) claims more than UCS2 allows.
    with pytest.raises(PduError, match="TP-UDL 160"):
        pdu.decode_submit("0041010C910661345542F60008A0050003000301306F3044")


@pytest.mark.parametrize(
    ("hours", "octet"),
    [(0.5, 5), (12, 143), (16, 151), (24, 167), (72, 169), (96, 170), (24 * 35, 197),
     (24 * 7 * 100, 255)],
)
def test_relative_validity_octet(hours, octet):
    [part] = pdu.encode_submit("+62812", "x", validity_hours=hours)
    assert part.pdu[1] & 0x18 == 0x10
    assert part.pdu[-3] == octet
