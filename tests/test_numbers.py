from __future__ import annotations

import pytest

from smsbridge.errors import InvalidInput
from smsbridge.numbers import (
    SenderKind,
    classify,
    normalize,
    parse_operator_number,
    reply_problem,
)


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


@pytest.mark.parametrize("number", ["+6281234567890", "081234567890", "+14155550100"])
def test_a_phone_can_be_answered(number):
    assert reply_problem(number) is None


@pytest.mark.parametrize("number, why", [
    ("+62812345678901234567890", "not a phone number"),  # 23 characters: spoofed
    ("+628123456789012345678", "not a phone number"),  # 21 digits
    (" 12345678", "not a phone number"),  # an alphanumeric sender made of digits
    ("TELKOMSEL", "not a phone number"),
    ("3636", "short code"),
])
def test_a_number_that_cannot_take_an_sms_says_why_without_repeating_it(number, why):
    problem = reply_problem(number)
    assert problem and why in problem
    assert number.strip() not in problem


@pytest.mark.parametrize("typed, stored", [
    ("081234567890", "+6281234567890"),
    ("0812-3456-7890", "+6281234567890"),
    ("+62 812 3456 7890", "+6281234567890"),
    ("+14155550100", "+14155550100"),
])
def test_operators_may_type_a_number_any_usual_way(typed, stored):
    assert parse_operator_number(typed, "62") == stored


@pytest.mark.parametrize("typed, why", [
    ("081234567890123456789", "too long"),
    ("12", "too few or too many digits"),
    ("budi", "no digits"),
    ("021555123", "not a phone number in use"),
    ("+999123456789", "unknown country code"),
])
def test_an_impossible_number_from_an_operator_is_refused_in_one_line(typed, why):
    with pytest.raises(InvalidInput) as caught:
        parse_operator_number(typed, "62", what="--reporter")
    message = str(caught.value)
    assert why in message and message.startswith("--reporter") and "\n" not in message
