"""The GSM 03.38 default alphabet, its extension table, and septet packing."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from smsbridge.sms import gsm7

ALL_CHARS = "".join(c for c in gsm7.DEFAULT_ALPHABET if c != "\x1b") + "".join(
    gsm7.EXTENSION.values())


def test_hellohello_packs_to_the_23038_example():
    assert gsm7.pack(gsm7.encode("hellohello")).hex().upper() == "E8329BFD4697D9EC37"


def test_extension_characters_cost_two_septets():
    assert gsm7.encode("€[") == [0x1B, 0x65, 0x1B, 0x3C]
    assert gsm7.septet_length("€") == 2 and gsm7.septet_length("a") == 1


def test_unencodable_text_gives_none():
    assert gsm7.encode("ç") is None and not gsm7.fits("halo ç")
    assert gsm7.septet_length("ç") == 0


def test_escape_before_an_unknown_code_shows_the_default_character():
    # 23.038 §6.2.1.1: ESC + a code without extension meaning -> the default table's.
    assert gsm7.decode([0x1B, 0x41]) == "A"
    assert gsm7.decode([0x41, 0x1B]) == "A "


def test_fill_bits_shift_the_septets():
    # One fill bit, as after a 6-octet concatenation header.
    assert gsm7.pack([0x7F], fill_bits=1) == bytes([0xFE])
    assert gsm7.unpack(bytes([0xFE]), 1, fill_bits=1) == [0x7F]


@settings(max_examples=300, derandomize=True)
@given(st.text(alphabet=ALL_CHARS, max_size=200), st.integers(0, 6))
def test_text_survives_encode_pack_unpack_decode(text, fill):
    septets = gsm7.encode(text)
    packed = gsm7.pack(septets, fill)
    assert len(packed) == gsm7.packed_length(len(septets), fill)
    assert gsm7.decode(gsm7.unpack(packed, len(septets), fill)) == text
