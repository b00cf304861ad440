"""The GSM 7-bit default alphabet (3GPP TS 23.038 §6.2.1) and septet packing (§6.1.2.1).

Text becomes a list of septets: one per character of the default table, two (ESC, code)
per character of the extension table (§6.2.1.1). Septets are packed little-endian, eight
septets in seven octets; ``fill_bits`` zero bits come first so that text following a
user-data header starts on a septet boundary (23.040 §9.2.3.24).
"""

from __future__ import annotations

import codecs
import re
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


# str.translate does the whole text in C: each GSM-7 character becomes its septets as
# code points 0-127, and every other ASCII character (ESC itself, "`", control codes)
# becomes U+0080. A character left untranslated is non-ASCII and so not in GSM-7 either,
# so the text fits exactly when the result is pure ASCII.
_UNFIT = "\x80"
_TRANSLATE = {i: _UNFIT for i in range(128)}
_TRANSLATE.update({ord(c): septets.decode("ascii") for c, septets in _ENCODE.items()})


def encode_bytes(text: str) -> bytes | None:
    """``text`` as septet values in a bytes object, or None when a character does not fit."""
    septets = text.translate(_TRANSLATE)
    return septets.encode("ascii") if septets.isascii() else None


def encode(text: str) -> list[int] | None:
    """``text`` as a list of septets, or None when a character is not in GSM-7."""
    septets = encode_bytes(text)
    return None if septets is None else list(septets)


def fits(text: str) -> bool:
    """True when every character of ``text`` is in the default alphabet or its extension."""
    return encode_bytes(text) is not None


# charmap_decode turns septets into text in C. ESC is kept as "\x1b" here so that escape
# sequences can then be replaced in one regex pass (escapes are rare: one call each).
_DECODE_TABLE = "".join(_DECODE_DEFAULT) + "\ufffe" * 128
_DECODE_KEEP_ESC = _DECODE_TABLE[:ESC] + "\x1b" + _DECODE_TABLE[ESC + 1 :]
_ESCAPE_SEQUENCE = re.compile("\x1b.?", re.DOTALL)
# ESC + the default character of a code -> the extension character (or the default one);
# ESC ESC and a trailing lone ESC show as a space.
_UNESCAPE = {"\x1b" + _DECODE_DEFAULT[i]: _DECODE_EXTENSION[i] for i in range(128) if i != ESC}
_UNESCAPE.update({"\x1b\x1b": " ", "\x1b": " "})


def decode(septets: Sequence[int]) -> str:
    """Septets (each 0..127) back to text; a trailing lone ESC shows as a space."""
    if ESC not in septets:
        return codecs.charmap_decode(bytes(septets), "strict", _DECODE_TABLE)[0]
    text = codecs.charmap_decode(bytes(septets), "strict", _DECODE_KEEP_ESC)[0]
    return _ESCAPE_SEQUENCE.sub(lambda m: _UNESCAPE[m[0]], text)


# Septet packing without a Python loop per septet or per octet. Read as one integer, the
# packed septets sit 7 bits apart (septet i at bit 7i); one septet per byte puts them 8
# bits apart (bit 8i), so unpacking moves septet i left by i bits. All septets move at
# once, in one step per bit of i, high bits first: step j moves every septet whose index
# has bit j set left by 2**j. Before step j, septets whose indexes differ only in bits
# 0..j are still 7 bits apart, so the moving septets form runs of 7 * 2**j bits that
# recur every 2**(j + 1) septets, i.e. every 2**(j + 4) bits of the final layout. Each
# step is thus a precomputed mask, a shift and an xor on a ~1,100-bit int: 8 steps for
# 160 septets instead of 160 shifts in Python. Packing runs the same steps backwards.
_BLOCK_LEVELS = 8  # one block holds 2**8 = 256 septets: 224 octets packed, 256 unpacked
_BLOCK_SEPTETS = 1 << _BLOCK_LEVELS


def _run_mask(j: int) -> int:
    """Bits of the runs that step ``j`` moves, in the layout before it moves them."""
    run = 7 << j
    pattern = ((1 << run) - 1) << run
    return sum(pattern << k for k in range(0, 8 * _BLOCK_SEPTETS, 1 << (j + 4)))


# (shift, mask) per step, lowest step first; unpacking runs them in reverse.
_UNPACK_STEPS = tuple((1 << j, _run_mask(j)) for j in range(_BLOCK_LEVELS))
# Packing: the same runs, found where unpacking left them (``shift`` bits further left).
_PACK_STEPS = tuple((shift, mask << shift) for shift, mask in _UNPACK_STEPS)


def pack(septets: Sequence[int], fill_bits: int = 0) -> bytes:
    """Pack septets LSB first (23.038 §6.1.2.1.1), after ``fill_bits`` zero bits."""
    raw = bytes(septets)
    count = len(raw)
    if count > _BLOCK_SEPTETS:
        # Longer than any TP-UD. 256 septets pack into exactly 224 octets, so packed
        # blocks simply follow each other.
        head = pack(raw[:_BLOCK_SEPTETS])
        value = int.from_bytes(head + pack(raw[_BLOCK_SEPTETS:]), "little")
    else:
        value = int.from_bytes(raw, "little")
        for shift, mask in _PACK_STEPS[: (count - 1).bit_length()]:
            moving = value & mask
            value = value ^ moving | moving >> shift
    return (value << fill_bits).to_bytes(packed_length(count, fill_bits), "little")


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
    value = int.from_bytes(data[: packed_length(count, fill_bits)], "little") >> fill_bits
    if count <= _BLOCK_SEPTETS:
        return _unpack_block(value, count)
    # Longer than any TP-UD, but the function promises any count: one block at a time.
    blocks = []
    for start in range(0, count, _BLOCK_SEPTETS):
        blocks.append(_unpack_block(value, min(_BLOCK_SEPTETS, count - start)))
        value >>= 7 * _BLOCK_SEPTETS
    return b"".join(blocks)


def _unpack_block(value: int, count: int) -> bytes:
    # Bits past the last septet (padding, or garbage in a malformed PDU) must not move in.
    value &= (1 << 7 * count) - 1
    for shift, mask in reversed(_UNPACK_STEPS[: (count - 1).bit_length()]):
        moving = value & mask
        value = value ^ moving | moving << shift
    return value.to_bytes(count, "little")
