"""Phone numbers as citizens' phones and networks present them (pure).

The same handset can reach us as ``+6281234567890`` or ``081234567890`` depending on
the network path; cases, rate limits and ``CEK`` ownership checks must see one
reporter, so every sender is normalised to international form before it is stored.
"""

from __future__ import annotations

from enum import Enum


class SenderKind(Enum):
    PERSON = "person"
    SHORT_CODE = "short_code"  # 3-5 digit service numbers: paid services, operators
    ALPHANUMERIC = "alphanumeric"  # "TELKOMSEL", "INFO": never a citizen


def normalize(number: str, country_code: str = "62") -> str:
    """International form for a subscriber number; anything else unchanged.

    ``0812…`` -> ``+62812…``; ``62812…`` -> ``+62812…``; ``+62…`` stays. Numbers of
    other countries and short codes keep their digits.
    """
    raw = number.strip()
    digits = "".join(ch for ch in raw if ch.isdigit())
    if not digits or any(ch.isalpha() for ch in raw):
        return raw
    if raw.startswith("+"):
        return "+" + digits
    if digits.startswith("00"):
        return "+" + digits[2:]
    if country_code and digits.startswith(country_code) and len(digits) >= 10:
        return "+" + digits
    if country_code and digits.startswith("0") and len(digits) >= 8:
        return "+" + country_code + digits[1:]
    return digits


def classify(number: str, *, alphanumeric: bool = False, short_code_max_digits: int = 5
             ) -> SenderKind:
    """Who sent this: a person we may answer, or a service we must never auto-reply to."""
    if alphanumeric or any(ch.isalpha() for ch in number):
        return SenderKind.ALPHANUMERIC
    digits = "".join(ch for ch in number if ch.isdigit())
    if len(digits) <= short_code_max_digits:
        return SenderKind.SHORT_CODE
    return SenderKind.PERSON
