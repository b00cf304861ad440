"""TP-DCS, TP-UD and its header (23.040 §9.2.3.16, §9.2.3.24; 23.038 §4): the text of one
part, and the splitting of a long text into concatenated parts.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from smsbridge.errors import EncodeError, PduError
from smsbridge.sms import gsm7
from smsbridge.sms.fields import Reader

MAX_SEPTETS = 160  # §9.2.3.16: TP-UDL counts septets for GSM-7 ...
MAX_OCTETS = 140  # ... and octets otherwise
IE_CONCAT_8 = 0x00  # §9.2.3.24.1
IE_CONCAT_16 = 0x08  # §9.2.3.24.8


class Alphabet(Enum):
    GSM7 = 0
    DATA8 = 1
    UCS2 = 2


@dataclass(frozen=True)
class Concat:
    """One part of a concatenated message: IE 0x00 (8-bit reference) or 0x08 (16-bit)."""

    reference: int
    total: int
    sequence: int  # 1-based


def alphabet_of(dcs: int, offset: int) -> Alphabet:
    """The character set a TP-DCS selects (23.038 §4)."""
    group = dcs >> 4
    if group <= 0x7:  # 00xx general data coding, 01xx automatic deletion
        if dcs & 0x20:
            raise PduError(
                f"TP-DCS {dcs:02X} asks for compressed text, which is not supported",
                offset=offset,
            )
        bits = (dcs >> 2) & 0x03
        # 23.038 §4: the reserved value 11 is read as the default alphabet.
        return (Alphabet.GSM7, Alphabet.DATA8, Alphabet.UCS2, Alphabet.GSM7)[bits]
    if group == 0xE:  # message waiting indication, store message, UCS2
        return Alphabet.UCS2
    if group == 0xF:  # data coding / message class: bit 2 chooses 8-bit data
        return Alphabet.DATA8 if dcs & 0x04 else Alphabet.GSM7
    # 0xC, 0xD message waiting (GSM-7); 0x8-0xB reserved, read as the default alphabet.
    return Alphabet.GSM7


def _concat_from_header(header: bytes, offset: int) -> Concat | None:
    """Walk the information elements; keep the concatenation one, skip the others."""
    concat: Concat | None = None
    i = 0
    while i < len(header):
        if i + 2 > len(header):
            raise PduError("user data header ends inside an element", offset=offset + i)
        iei, length = header[i], header[i + 1]
        body = header[i + 2 : i + 2 + length]
        if len(body) != length:
            raise PduError(
                f"header element {iei:02X} claims {length} octets past the header's end",
                offset=offset + i,
            )
        if concat is None and iei == IE_CONCAT_8 and length == 3:
            ref, total, seq = body
            concat = _valid_concat(ref, total, seq)
        elif concat is None and iei == IE_CONCAT_16 and length == 4:
            concat = _valid_concat(body[0] << 8 | body[1], body[2], body[3])
        i += 2 + length
    return concat


def _valid_concat(reference: int, total: int, sequence: int) -> Concat | None:
    # §9.2.3.24.1: a zero count, or a sequence beyond it, voids the element.
    if total == 0 or not 1 <= sequence <= total:
        return None
    return Concat(reference, total, sequence)


def read_user_data(
    r: Reader, dcs: int, has_header: bool, dcs_offset: int
) -> tuple[str, bytes | None, Concat | None]:
    """TP-UDL and TP-UD -> (text, raw 8-bit data or None, concatenation info)."""
    alphabet = alphabet_of(dcs, dcs_offset)
    udl_offset = r.pos
    udl = r.octet("TP-UDL")
    if alphabet is Alphabet.GSM7:
        if udl > MAX_SEPTETS:
            raise PduError(f"TP-UDL {udl} septets exceeds {MAX_SEPTETS}", offset=udl_offset)
        ud_offset = r.pos
        ud = r.take(gsm7.packed_length(udl), f"TP-UD of {udl} septets")
        concat = None
        header_octets = 0
        if has_header:
            header_octets = _header_octets(ud, udl_offset + 1)
            concat = _concat_from_header(ud[1:header_octets], ud_offset + 1)
        header_septets = (8 * header_octets + 6) // 7
        if header_septets > udl:
            raise PduError(
                f"user data header of {header_octets} octets does not fit TP-UDL {udl}",
                offset=udl_offset,
            )
        fill = 7 * header_septets - 8 * header_octets
        septets = gsm7.unpack_bytes(ud[header_octets:], udl - header_septets, fill)
        return gsm7.decode(septets), None, concat

    if udl > MAX_OCTETS:
        raise PduError(f"TP-UDL {udl} octets exceeds {MAX_OCTETS}", offset=udl_offset)
    ud_offset = r.pos
    ud = r.take(udl, f"TP-UD of {udl} octets")
    concat = None
    body = ud
    if has_header:
        header_octets = _header_octets(ud, ud_offset)
        concat = _concat_from_header(ud[1:header_octets], ud_offset + 1)
        body = ud[header_octets:]
    if alphabet is Alphabet.DATA8:
        return "", body, concat
    if len(body) % 2:
        raise PduError(f"UCS2 text of odd length {len(body)}", offset=ud_offset)
    # Phones that split a surrogate pair across parts leave a lone half: show U+FFFD
    # rather than lose the message.
    return body.decode("utf-16-be", errors="replace"), None, concat


def _header_octets(ud: bytes, offset: int) -> int:
    """Octets of TP-UDHL plus the header it announces."""
    if not ud:
        raise PduError("TP-UDHI is set but the user data is empty", offset=offset)
    total = 1 + ud[0]
    if total > len(ud):
        raise PduError(
            f"user data header of {ud[0]} octets is longer than the user data", offset=offset
        )
    return total


# --- encoding -------------------------------------------------------------------------


@dataclass(frozen=True)
class UserData:
    """One part ready to go into a TPDU: DCS, whether a header is present, UDL + UD."""

    dcs: int
    has_header: bool
    body: bytes  # TP-UDL octet followed by TP-UD


def _concat_header(reference: int, total: int, sequence: int, wide: bool) -> bytes:
    if wide:
        return bytes((6, IE_CONCAT_16, 4, reference >> 8 & 0xFF, reference & 0xFF, total, sequence))
    return bytes((5, IE_CONCAT_8, 3, reference & 0xFF, total, sequence))


def split_gsm7(septets: bytes, per_part: int) -> list[bytes]:
    """Cut septets into parts of at most ``per_part``, never between ESC and its code."""
    parts = []
    start, n = 0, len(septets)
    while start < n:
        end = min(start + per_part, n)
        if end < n and septets[end - 1] == gsm7.ESC:
            end -= 1
        parts.append(septets[start:end])
        start = end
    return parts or [b""]


def split_ucs2(encoded: bytes, per_part: int) -> list[bytes]:
    """Cut UTF-16-BE into parts of at most ``per_part`` octets, never inside a surrogate pair."""
    parts = []
    start, n = 0, len(encoded)
    while start < n:
        end = min(start + per_part, n)
        if end < n and 0xD8 <= encoded[end - 2] <= 0xDB:  # a high surrogate ends the part
            end -= 2
        parts.append(encoded[start:end])
        start = end
    return parts or [b""]


def _utf16(text: str) -> bytes:
    try:
        return text.encode("utf-16-be")
    except UnicodeEncodeError as exc:
        raise EncodeError(
            f"text holds a lone surrogate U+{ord(exc.object[exc.start]):04X}, "
            "which no SMS can carry"
        ) from None


def _chunks(text: str, wide_reference: bool) -> tuple[Alphabet, list[bytes]]:
    """The text's alphabet and its parts (septets for GSM-7, UTF-16-BE octets for UCS2)."""
    septets = gsm7.encode_bytes(text)
    header_len = 7 if wide_reference else 6
    if septets is not None:
        if len(septets) <= MAX_SEPTETS:
            return Alphabet.GSM7, [septets]
        return Alphabet.GSM7, split_gsm7(septets, MAX_SEPTETS - (8 * header_len + 6) // 7)
    encoded = _utf16(text)
    if len(encoded) <= MAX_OCTETS:
        return Alphabet.UCS2, [encoded]
    return Alphabet.UCS2, split_ucs2(encoded, (MAX_OCTETS - header_len) & ~1)


def parts_needed(text: str) -> int:
    """How many SMS ``text`` takes once split (160/153 GSM-7 septets, 70/67 UCS2 chars)."""
    return len(_chunks(text, False)[1])


def build_user_data(text: str, reference: int, wide_reference: bool = False) -> list[UserData]:
    """Text -> the user data of each part, with concatenation headers when it needs more."""
    alphabet, chunks = _chunks(text, wide_reference)
    total = len(chunks)
    if total > 255:
        raise EncodeError(f"text needs {total} parts; a concatenated SMS has at most 255")
    parts = []
    for seq, chunk in enumerate(chunks, 1):
        header = _concat_header(reference, total, seq, wide_reference) if total > 1 else b""
        if alphabet is Alphabet.GSM7:
            header_septets = (8 * len(header) + 6) // 7
            fill = 7 * header_septets - 8 * len(header)
            udl = header_septets + len(chunk)
            body = bytes((udl,)) + header + gsm7.pack(chunk, fill)
            parts.append(UserData(0x00, bool(header), body))
        else:
            ud = header + chunk
            parts.append(UserData(0x08, bool(header), bytes((len(ud),)) + ud))
    return parts
