from __future__ import annotations

import pytest

from smsbridge.numbers import SenderKind, classify, normalize


@pytest.mark.parametrize("raw, expected", [
    ("081234567890", "+6281234567890"),
    ("+6281234567890", "+6281234567890"),
    ("6281234567890", "+6281234567890"),
    ("0062812345678", "+62812345678"),
    ("+14155550100", "+14155550100"),
    ("3636", "3636"),
    ("TELKOMSEL", "TELKOMSEL"),
])
def test_one_phone_is_one_reporter_whatever_form_the_network_gives(raw, expected):
    assert normalize(raw) == expected


@pytest.mark.parametrize("number, kind", [
    ("+6281234567890", SenderKind.PERSON),
    ("3636", SenderKind.SHORT_CODE),
    ("777", SenderKind.SHORT_CODE),
    ("TELKOMSEL", SenderKind.ALPHANUMERIC),
    ("INFO", SenderKind.ALPHANUMERIC),
])
def test_services_are_told_apart_from_people(number, kind):
    assert classify(number) is kind


def test_alphanumeric_address_type_wins_even_for_digits():
    assert classify("12345678", alphanumeric=True) is SenderKind.ALPHANUMERIC
