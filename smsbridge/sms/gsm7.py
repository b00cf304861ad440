"""The GSM 7-bit default alphabet (3GPP TS 23.038 §6.2.1) and septet packing (§6.1.2.1).

Text becomes a list of septets: one per character of the default table, two (ESC, code)
per character of the extension table (§6.2.1.1). Septets are packed little-endian, eight
septets in seven octets; ``fill_bits`` zero bits come first so that text following a
user-data header starts on a septet boundary (23.040 §9.2.3.24).
"""

from __future__ import annotations

import codecs
from collections.abc import Sequence

ESC = 0x1B

# 23.038 §6.2.1, code points 0x00-0x7F. 0x1B is the escape to the extension table; it
# decodes to a space when it stands alone (§6.2.1.1: "display a space").
DEFAULT_ALPHABET = (
    "@£$¥èéùìòÇ\nØø\rÅå"
    "Δ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ"
    " !\"#¤%&'()*+,-./"
    "0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNO"
    "PQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmno"
    "pqrstuvwxyzäöñüà"
)
assert len(DEFAULT_ALPHABET) == 128

# 23.038 §6.2.1.1: the characters reached by ESC + code. 0x0A is a page break (form feed).
EXTENSION = {
    0x0A: "\f",
    0x14: "^",
    0x28: "{",
    0x29: "}",
    0x2F: "\\",
    0x3C: "[",
    0x3D: "~",
    0x3E: "]",
    0x40: "|",
    0x65: "€",
}

# char -> its septets as bytes (1 or 2 long): lets encode() run as one C-level join.
_ENCODE: dict[str, bytes] = {c: bytes((i,)) for i, c in enumerate(DEFAULT_ALPHABET) if i != ESC}
_ENCODE.update({c: bytes((ESC, code)) for code, c in EXTENSION.items()})

# Decoding: every septet of the default table, and for ESC + code the extension
# character, else (§6.2.1.1) the default table's character for that code;
# ESC ESC is reserved for a further table and shows as a space.
_DECODE_DEFAULT = tuple(" " if i == ESC else c for i, c in enumerate(DEFAULT_ALPHABET))
_DECODE_EXTENSION = tuple(EXTENSION.get(i, _DECODE_DEFAULT[i]) for i in range(128))


def septet_length(char: str) -> int:
    """Septets one character takes (1 or 2), or 0 when it is not in the GSM-7 alphabet."""
    septets = _ENCODE.get(char)
    return len(septets) if septets is not None else 0


def encode_bytes(text: str) -> bytes | None:
    """``text`` as septet values in a bytes object, or None when a character does not fit."""
    try:
        return b"".join(map(_ENCODE.__getitem__, text))
    except KeyError:
        return None


def encode(text: str) -> list[int] | None:
    """``text`` as a list of septets, or None when a character is not in GSM-7."""
    septets = encode_bytes(text)
    return None if septets is None else list(septets)


def fits(text: str) -> bool:
    """True when every character of ``text`` is in the default alphabet or its extension."""
    return all(c in _ENCODE for c in text)


# charmap_decode does the common, escape-free case in C.
_DECODE_TABLE = "".join(_DECODE_DEFAULT) + "\ufffe" * 128


def decode(septets: Sequence[int]) -> str:
    """Septets (each 0..127) back to text; a trailing lone ESC shows as a space."""
    if ESC not in septets:
        return codecs.charmap_decode(bytes(septets), "strict", _DECODE_TABLE)[0]
    out: list[str] = []
    escaped = False
    for s in septets:
        if escaped:
            out.append(_DECODE_EXTENSION[s])
            escaped = False
        elif s == ESC:
            escaped = True
        else:
            out.append(_DECODE_DEFAULT[s])
    if escaped:
        out.append(" ")
    return "".join(out)


def pack(septets: Sequence[int], fill_bits: int = 0) -> bytes:
    """Pack septets LSB first (23.038 §6.1.2.1.1), after ``fill_bits`` zero bits."""
    value = 0
    for i, s in enumerate(septets):
        value |= s << (7 * i)
    bits = 7 * len(septets) + fill_bits
    return (value << fill_bits).to_bytes((bits + 7) // 8, "little")


def packed_length(count: int, fill_bits: int = 0) -> int:
    """Octets that ``count`` septets take once packed after ``fill_bits``."""
    return (7 * count + fill_bits + 7) // 8


def unpack(data: bytes, count: int, fill_bits: int = 0) -> list[int]:
    """The first ``count`` septets packed in ``data`` after ``fill_bits`` bits.

    ``data`` must hold at least ``packed_length(count, fill_bits)`` octets; the caller
    checks that, since it knows which octet of the PDU to blame.
    """
    return list(unpack_bytes(data, count, fill_bits))


def unpack_bytes(data: bytes, count: int, fill_bits: int = 0) -> bytes:
    """``unpack`` returning the septets as a bytes object (the decoder's fast path)."""
    raw = data[: packed_length(count, fill_bits)]
    if fill_bits:
        raw = (int.from_bytes(raw, "little") >> fill_bits).to_bytes(len(raw), "little")
    out = bytearray()
    for i in range(0, len(raw), 7):
        v = int.from_bytes(raw[i : i + 7], "little")
        out += bytes((v & 0x7F, v >> 7 & 0x7F, v >> 14 & 0x7F, v >> 21 & 0x7F,
                      v >> 28 & 0x7F, v >> 35 & 0x7F, v >> 42 & 0x7F, v >> 49 & 0x7F))
    return bytes(out[:count])
