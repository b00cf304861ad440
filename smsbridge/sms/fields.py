"""TPDU fields shared by every message type: addresses (23.040 §9.1.2.5) and time
stamps (§9.2.3.11), plus a bounds-checked reader so that any malformed PDU ends in
one ``PduError`` that names the field and the octet.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

from smsbridge.errors import EncodeError, PduError
from smsbridge.sms import gsm7

TOA_INTERNATIONAL = 0x91
TOA_UNKNOWN = 0x81
TOA_ALPHANUMERIC = 0xD0

# 23.040 §9.1.2.3: semi-octet values 0xA-0xE are "*", "#", "a", "b", "c"; 0xF pads.
_BCD_DIGITS = "0123456789*#abc"
_NUMBER = re.compile(r"\+?[0-9*#]{1,20}")
_MAX_ADDRESS_DIGITS = 20  # §9.1.2.5: the address value holds at most 10 octets


class Reader:
    """Reads a PDU front to back; running short raises ``PduError`` with the offset."""

    __slots__ = ("data", "pos")

    def __init__(self, data: bytes, pos: int = 0) -> None:
        self.data = data
        self.pos = pos

    def octet(self, field: str) -> int:
        pos = self.pos
        if pos >= len(self.data):
            raise PduError(f"PDU ends before {field}", offset=pos)
        self.pos = pos + 1
        return self.data[pos]

    def take(self, count: int, field: str) -> bytes:
        pos = self.pos
        end = pos + count
        if end > len(self.data):
            raise PduError(
                f"{field} needs {count} octets but only {len(self.data) - pos} remain",
                offset=pos,
            )
        self.pos = end
        return self.data[pos:end]


def is_alphanumeric_toa(toa: int) -> bool:
    # §9.1.2.5: type of number 101 (bits 6-4) is alphanumeric, GSM-7 coded.
    return toa & 0x70 == 0x50


# §9.1.2.3 puts the first digit of each pair in the low semi-octet. Swapping the halves of
# every octet (one bytes.translate) turns that into plain hex order, so bytes.hex() and
# bytes.fromhex() do the work in C; hex digit a-f <-> semi-octet value 0xA-0xF.
_SWAP_SEMI_OCTETS = bytes((octet & 0x0F) << 4 | octet >> 4 for octet in range(256))
_HEX_TO_DIGIT = str.maketrans("0123456789abcde", _BCD_DIGITS, "f")  # 0xF filler dropped
_DIGIT_TO_HEX = str.maketrans(_BCD_DIGITS, "0123456789abcde")


def decode_digits(raw: bytes, count: int) -> str:
    """Swapped semi-octets (§9.1.2.3) -> the first ``count`` digits; 0xF fillers dropped."""
    return raw.translate(_SWAP_SEMI_OCTETS).hex()[:count].translate(_HEX_TO_DIGIT)


def encode_digits(digits: str) -> bytes:
    """Digits -> swapped semi-octets, padded with 0xF to a whole octet.

    ``digits`` holds only characters of ``_BCD_DIGITS`` (callers check with ``_NUMBER``).
    """
    hex_digits = digits.translate(_DIGIT_TO_HEX)
    if len(hex_digits) % 2:
        hex_digits += "f"
    return bytes.fromhex(hex_digits).translate(_SWAP_SEMI_OCTETS)


def read_address(r: Reader, field: str) -> tuple[str, int]:
    """TP-OA / TP-DA / TP-RA: length in useful semi-octets, type, value (§9.1.2.5)."""
    start = r.pos
    length = r.octet(f"{field} length")
    toa = r.octet(f"{field} type")
    if length > _MAX_ADDRESS_DIGITS:
        raise PduError(f"{field} claims {length} semi-octets; at most 20 fit", offset=start)
    raw = r.take((length + 1) // 2, field)
    if is_alphanumeric_toa(toa):
        septets = gsm7.unpack_bytes(raw, length * 4 // 7)
        return gsm7.decode(septets), toa
    number = decode_digits(raw, length)
    if toa & 0x70 == 0x10 and number:
        number = "+" + number
    return number, toa


def read_smsc(r: Reader) -> str | None:
    """The SMSC part a modem puts before the TPDU; its length counts octets (24.011 §8.2.5.2)."""
    length = r.octet("SMSC length")
    if length == 0:
        return None
    if length > 11:
        raise PduError(f"SMSC length {length} exceeds the 11 octets allowed", offset=0)
    raw = r.take(length, "SMSC address")
    toa = raw[0]
    number = decode_digits(raw[1:], 2 * (length - 1))
    if toa & 0x70 == 0x10 and number:
        number = "+" + number
    return number or None


def check_number(number: str) -> tuple[str, int]:
    """A phone number -> (digits, type of address). "+…" is international (0x91)."""
    if not _NUMBER.fullmatch(number):
        # The number is a reporter's identity: say what is wrong, not what it is.
        raise EncodeError(
            f"not a phone number ({len(number)} characters): expected an optional '+' "
            "and 1 to 20 digits, nothing else"
        )
    if number.startswith("+"):
        return number[1:], TOA_INTERNATIONAL
    return number, TOA_UNKNOWN


def encode_address(number: str) -> bytes:
    """TP-DA/TP-OA for a phone number, or for an alphanumeric name (0xD0, GSM-7 packed)."""
    if _NUMBER.fullmatch(number):
        digits, toa = check_number(number)
        return bytes((len(digits), toa)) + encode_digits(digits)
    septets = gsm7.encode(number)
    if septets is None or not 0 < len(septets) <= 11:
        # Possibly a mistyped phone number: describe it without repeating it.
        raise EncodeError(
            f"address of {len(number)} characters is neither a phone number "
            "('+' and digits) nor an alphanumeric name of 1 to 11 GSM-7 characters"
        )
    semi_octets = (7 * len(septets) + 3) // 4
    return bytes((semi_octets, TOA_ALPHANUMERIC)) + gsm7.pack(septets)


def encode_smsc(smsc: str | None) -> bytes:
    """The SMSC part: a lone 0x00 means "use the SMSC stored in the modem"."""
    if smsc is None:
        return b"\x00"
    digits, toa = check_number(smsc)
    value = encode_digits(digits)
    return bytes((len(value) + 1, toa)) + value


# Swapped BCD octet -> its value 0-99, or -1 when a semi-octet is not a decimal digit.
_BCD_VALUE = tuple(
    (octet & 0x0F) * 10 + (octet >> 4) if octet & 0x0F <= 9 and octet >> 4 <= 9 else -1
    for octet in range(256)
)


def _zone(octet: int) -> timezone:
    # The zone is in quarter hours; bit 3 of the first (low) semi-octet is the sign.
    quarters = (octet & 0x07) * 10 + (octet >> 4)
    return timezone(timedelta(minutes=-15 * quarters if octet & 0x08 else 15 * quarters))


# Zone octet -> tzinfo, built once: the high semi-octet must be decimal (checked on read).
_ZONES = {octet: _zone(octet) for octet in range(0xA0)}


def read_timestamp(r: Reader, field: str) -> datetime:
    """TP-SCTS / TP-DT: YY MM DD hh mm ss zone, each octet semi-octet swapped (§9.2.3.11)."""
    start = r.pos
    raw = r.take(7, field)
    year, month, day, hour, minute, second = values = [_BCD_VALUE[o] for o in raw[:6]]
    if -1 in values:
        i = values.index(-1)
        raise PduError(f"{field} has a non-decimal semi-octet {raw[i]:02X}", offset=start + i)
    zone = raw[6]
    if zone >> 4 > 9:
        raise PduError(f"{field} zone has a non-decimal semi-octet {zone:02X}", offset=start + 6)
    # Two-digit years: 90-99 are the 1990s, as gammu and most phones read them.
    try:
        return datetime(
            year + (2000 if year < 90 else 1900), month, day, hour, minute, second,
            tzinfo=_ZONES[zone],
        )
    except ValueError as exc:
        raise PduError(f"{field} is not a valid time: {exc}", offset=start) from None


def _swapped(value: int) -> int:
    return (value % 10) << 4 | value // 10


def encode_timestamp(when: datetime) -> bytes:
    """A time-zone aware datetime -> the 7 octets of TP-SCTS (§9.2.3.11)."""
    offset = when.utcoffset()
    if offset is None:
        raise EncodeError("a PDU time stamp needs a time zone; got a naive datetime")
    minutes = offset.total_seconds() / 60
    quarters = int(minutes // 15)
    if minutes % 15 or abs(quarters) > 79:
        raise EncodeError(f"time zone {offset} is not a whole number of quarter hours")
    if not 1990 <= when.year <= 2089:
        raise EncodeError(f"a PDU time stamp holds years 1990-2089, not {when.year}")
    fields = (when.year % 100, when.month, when.day, when.hour, when.minute, when.second)
    zone = _swapped(abs(quarters)) | (0x08 if quarters < 0 else 0)
    return bytes(_swapped(v) for v in fields) + bytes((zone,))
