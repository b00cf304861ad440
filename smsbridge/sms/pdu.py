"""SMS-DELIVER and SMS-STATUS-REPORT decoding, SMS-SUBMIT encoding (3GPP TS 23.040 §9.2).

Decoding takes a PDU as a modem lists it in PDU mode (27.005 §3.1: the SMSC part, then
the TPDU), as bytes or hex. Anything malformed raises ``PduError`` naming the field and
octet. The encoders for SMS-DELIVER and SMS-STATUS-REPORT exist for the modem emulator
and for tests; the daemon only ever sends SMS-SUBMIT.
"""

from __future__ import annotations

import binascii
import math
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from smsbridge.errors import EncodeError, PduError
from smsbridge.sms import gsm7
from smsbridge.sms.fields import (
    Reader,
    check_number,
    encode_address,
    encode_smsc,
    encode_timestamp,
    is_alphanumeric_toa,
    read_address,
    read_smsc,
    read_timestamp,
)
from smsbridge.sms.userdata import Concat, build_user_data, parts_needed, read_user_data

__all__ = [
    "Concat",
    "Deliver",
    "StatusReport",
    "Submit",
    "SubmitInfo",
    "decode",
    "decode_submit",
    "encode_deliver",
    "encode_status_report",
    "encode_submit",
    "fits_gsm7",
    "parts_needed",
]

# TP-MTI, bits 1-0 of the first octet (§9.2.3.1), as seen by the mobile.
MTI_DELIVER = 0x00
MTI_SUBMIT = 0x01
MTI_STATUS_REPORT = 0x02

# First-octet flags (§9.2.3.2-§9.2.3.5, §9.2.3.23).
TP_MMS = 0x04  # DELIVER: set = no more messages waiting
TP_VPF_RELATIVE = 0x10  # SUBMIT: a one-octet relative validity period follows TP-DCS
TP_SRR = 0x20  # SUBMIT: ask for a status report
TP_UDHI = 0x40

DEFAULT_SMSC = "+6281100000"
WIB = timezone(timedelta(hours=7), "WIB")  # the SMSCs this bridge meets stamp local time


@dataclass(frozen=True)
class Deliver:
    """An SMS-DELIVER (§9.2.2.1): one received message or one part of a long one."""

    smsc: str | None
    sender: str
    sender_toa: int
    timestamp: datetime
    text: str  # text of this part; "" for 8-bit data
    data: bytes | None  # user data of 8-bit messages, else None
    dcs: int
    pid: int
    concat: Concat | None

    @property
    def is_alphanumeric(self) -> bool:
        """A named sender ("TELKOMSEL"): a service, never someone to reply to."""
        return is_alphanumeric_toa(self.sender_toa)


@dataclass(frozen=True)
class StatusReport:
    """An SMS-STATUS-REPORT (§9.2.2.3) about a message we sent with TP-MR ``reference``."""

    smsc: str | None
    reference: int
    recipient: str
    recipient_toa: int
    submitted_at: datetime
    discharged_at: datetime
    status: int  # TP-ST, §9.2.3.15

    @property
    def delivered(self) -> bool:
        # TP-ST 0x00-0x1F: "short message transaction completed" (delivered, replaced …).
        return self.status <= 0x1F

    @property
    def final(self) -> bool:
        # 0x20-0x3F: temporary error, the SC is still trying; everything else is final.
        return not 0x20 <= self.status <= 0x3F


@dataclass(frozen=True)
class Submit:
    """One encoded SMS-SUBMIT part, ready for AT+CMGS."""

    pdu: bytes  # 0x00 (use the SMSC stored in the modem) + TPDU
    tpdu_length: int  # AT+CMGS=<length>: TPDU octets without the SMSC part (27.005 §3.5.1)

    @property
    def hex(self) -> str:
        return self.pdu.hex().upper()


@dataclass(frozen=True)
class SubmitInfo:
    """What an SMS-SUBMIT asks for (read by the modem emulator)."""

    recipient: str
    text: str
    concat: Concat | None
    status_report_requested: bool
    reference: int  # TP-MR


def _as_bytes(pdu: bytes | str) -> bytes:
    if isinstance(pdu, str):
        try:
            return binascii.unhexlify("".join(pdu.split()))
        except (binascii.Error, ValueError) as exc:
            raise PduError(f"not hexadecimal: {exc}") from None
    return bytes(pdu)


def _start(pdu: bytes | str, with_smsc: bool) -> tuple[Reader, str | None, int]:
    data = _as_bytes(pdu)
    r = Reader(data)
    smsc = read_smsc(r) if with_smsc else None
    return r, smsc, r.octet("first octet")


def decode(pdu: bytes | str, *, with_smsc: bool = True) -> Deliver | StatusReport:
    """Decode what a modem lists: an SMS-DELIVER or an SMS-STATUS-REPORT.

    ``pdu`` is bytes or hex (spaces and case tolerated). ``with_smsc=False`` for a bare
    TPDU. Raises ``PduError`` for anything malformed or of another message type.
    """
    r, smsc, first = _start(pdu, with_smsc)
    first_offset = r.pos - 1
    mti = first & 0x03
    if mti == MTI_DELIVER:
        return _decode_deliver(r, smsc, first)
    if mti == MTI_STATUS_REPORT:
        return _decode_status_report(r, smsc)
    kind = "an SMS-SUBMIT-REPORT or SMS-SUBMIT" if mti == MTI_SUBMIT else "reserved"
    raise PduError(f"TP-MTI {mti} is {kind}, not a received message", offset=first_offset)


def _decode_deliver(r: Reader, smsc: str | None, first: int) -> Deliver:
    sender, toa = read_address(r, "TP-OA")
    pid = r.octet("TP-PID")
    dcs_offset = r.pos
    dcs = r.octet("TP-DCS")
    timestamp = read_timestamp(r, "TP-SCTS")
    text, data, concat = read_user_data(r, dcs, bool(first & TP_UDHI), dcs_offset)
    return Deliver(smsc, sender, toa, timestamp, text, data, dcs, pid, concat)


def _decode_status_report(r: Reader, smsc: str | None) -> StatusReport:
    reference = r.octet("TP-MR")
    recipient, toa = read_address(r, "TP-RA")
    submitted = read_timestamp(r, "TP-SCTS")
    discharged = read_timestamp(r, "TP-DT")
    status = r.octet("TP-ST")
    # TP-PI and the optional PID/DCS/UD after it carry nothing we use (§9.2.2.3).
    return StatusReport(smsc, reference, recipient, toa, submitted, discharged, status)


def decode_submit(pdu: bytes | str, *, with_smsc: bool = True) -> SubmitInfo:
    """Decode an SMS-SUBMIT, as a modem receives it after AT+CMGS."""
    r, _, first = _start(pdu, with_smsc)
    if first & 0x03 != MTI_SUBMIT:
        raise PduError(f"TP-MTI {first & 0x03} is not SMS-SUBMIT", offset=r.pos - 1)
    reference = r.octet("TP-MR")
    recipient, _ = read_address(r, "TP-DA")
    r.octet("TP-PID")
    dcs_offset = r.pos
    dcs = r.octet("TP-DCS")
    vpf = (first >> 3) & 0x03
    # §9.2.3.3: 10 relative (1 octet); 01 enhanced and 11 absolute (7 octets each).
    r.take({0: 0, 2: 1, 1: 7, 3: 7}[vpf], "TP-VP")
    text, _, concat = read_user_data(r, dcs, bool(first & TP_UDHI), dcs_offset)
    return SubmitInfo(recipient, text, concat, bool(first & TP_SRR), reference)


def _validity_octet(hours: float) -> int:
    """Relative TP-VP (§9.2.3.12.1), rounded up so the message lives at least ``hours``."""
    if hours <= 0:
        raise EncodeError(f"validity must be positive, not {hours} hours")
    minutes = hours * 60
    if minutes <= 12 * 60:  # 0-143: (VP + 1) x 5 minutes
        return max(0, math.ceil(minutes / 5) - 1)
    if minutes <= 24 * 60:  # 144-167: 12 hours + (VP - 143) x 30 minutes
        return 143 + math.ceil((minutes - 720) / 30)
    if minutes <= 30 * 24 * 60:  # 168-196: (VP - 166) days
        return 166 + math.ceil(minutes / 1440)
    return min(255, 192 + math.ceil(minutes / 10080))  # 197-255: (VP - 192) weeks


def encode_submit(
    number: str,
    text: str,
    *,
    reference: int = 0,
    status_report: bool = True,
    validity_hours: float | None = 24,
    wide_reference: bool = False,
) -> list[Submit]:
    """Encode ``text`` to ``number`` as one or more SMS-SUBMIT PDUs for AT+CMGS.

    GSM-7 when every character fits, else UCS2. A long text is split into concatenated
    parts under reference ``reference & 0xFF`` (or a 16-bit one with ``wide_reference``).
    TP-MR is 0: the modem assigns the real one and answers it in +CMGS.
    """
    check_number(number)  # an SMS cannot be sent to an alphanumeric name
    address = encode_address(number)
    first = MTI_SUBMIT | (TP_SRR if status_report else 0)
    validity = b""
    if validity_hours is not None:
        first |= TP_VPF_RELATIVE
        validity = bytes((_validity_octet(validity_hours),))
    submits = []
    for part in build_user_data(text, reference, wide_reference):
        head = bytes((first | (TP_UDHI if part.has_header else 0), 0x00))
        tpdu = head + address + bytes((0x00, part.dcs)) + validity + part.body
        submits.append(Submit(b"\x00" + tpdu, len(tpdu)))
    return submits


def encode_deliver(
    sender: str,
    text: str,
    *,
    timestamp: datetime | None = None,
    reference: int = 0,
    smsc: str | None = DEFAULT_SMSC,
    wide_reference: bool = False,
) -> list[bytes]:
    """Full SMS-DELIVER PDUs (SMSC part included) as a modem would list them.

    A sender of digits (optionally "+…") is a number; anything else is an alphanumeric
    sender (TOA 0xD0). ``timestamp`` defaults to now in WIB.
    """
    when = timestamp if timestamp is not None else datetime.now(WIB).replace(microsecond=0)
    head = encode_smsc(smsc)
    address = encode_address(sender)
    scts = encode_timestamp(when)
    pdus = []
    for part in build_user_data(text, reference, wide_reference):
        first = TP_MMS | (TP_UDHI if part.has_header else 0)
        pdus.append(
            head + bytes((first,)) + address + bytes((0x00, part.dcs)) + scts + part.body
        )
    return pdus


def encode_status_report(
    reference: int,
    recipient: str,
    *,
    status: int = 0,
    submitted_at: datetime | None = None,
    discharged_at: datetime | None = None,
    smsc: str | None = DEFAULT_SMSC,
) -> bytes:
    """A full SMS-STATUS-REPORT PDU (SMSC part included) about TP-MR ``reference``."""
    if not 0 <= reference <= 255 or not 0 <= status <= 255:
        raise EncodeError(f"TP-MR {reference} and TP-ST {status} must each fit one octet")
    now = datetime.now(WIB).replace(microsecond=0)
    submitted = submitted_at if submitted_at is not None else now
    discharged = discharged_at if discharged_at is not None else submitted
    return (
        encode_smsc(smsc)
        + bytes((MTI_STATUS_REPORT | TP_MMS, reference))
        + encode_address(recipient)
        + encode_timestamp(submitted)
        + encode_timestamp(discharged)
        + bytes((status,))
    )


def fits_gsm7(text: str) -> bool:
    """True when ``text`` goes out in GSM-7 (so 160 characters per SMS, not 70)."""
    return gsm7.fits(text)

