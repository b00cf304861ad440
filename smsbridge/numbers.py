"""Phone numbers as citizens' phones and networks present them (pure).

The same handset can reach us as ``+6281234567890`` or ``081234567890`` depending on
the network path; cases, rate limits and ``CEK`` ownership checks must see one
reporter, so every sender is normalised to international form before it is stored.
"""

from __future__ import annotations

import re
from enum import Enum

_TRUNK_ZERO = re.compile(r"^((?:\+|00)?\d{1,3})[\s-]*\(\s*0\s*\)")


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
    # "+62 (0) 812…": the trunk 0 in brackets is not dialled after a country code (as
    # phonenumbers reads it, so config check, the roster and the blocklist agree).
    raw = _TRUNK_ZERO.sub(r"\1", raw)
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


def reply_problem(number: str, *, short_code_max_digits: int = 5) -> str | None:
    """Why no SMS can go to ``number``, or None when one can.

    A sender is attacker-controlled: a spoofed numeric sender of 21 digits, or a name
    made of digits, reaches us as readily as a real phone. Anything queued to such a
    "number" would fail to encode at send time, so it is refused before it is queued.
    The reason never repeats the number: it is a reporter's identity.
    ``short_code_max_digits`` is the line's ``[abuse]`` setting.
    """
    from smsbridge.errors import EncodeError
    from smsbridge.sms.fields import check_number

    try:
        check_number(number)
    except EncodeError as exc:
        return str(exc)
    if classify(number, short_code_max_digits=short_code_max_digits) is not SenderKind.PERSON:
        return "a short code or service number, which cannot receive our SMS"
    return None


def known_problem(number: str, written: str | None, *,
                  short_code_max_digits: int = 5) -> str | None:
    """``reply_problem`` of a number as it was read: from the number itself, or, where
    only its mask could be read (an operator's command: the number is sealed), what
    was found when it was written (``sealing.StoredNumber.problem``)."""
    if "\u2022" in number:  # privacy.HIDDEN: a mask
        return written
    return reply_problem(number, short_code_max_digits=short_code_max_digits)


def parse_operator_number(text: str, country_code: str = "62", *, what: str = "number") -> str:
    """A phone number an operator typed -> its international form, or InvalidInput.

    Operators type numbers every which way (``0812-3456-7890``, ``+62 812…``); a typo
    that makes an impossible number must be refused here, where it is typed, not
    found out later when the daemon cannot send to it. The reason does not repeat
    the number, which may be a reporter's.
    """
    import phonenumbers

    from smsbridge.errors import InvalidInput
    from smsbridge.i18n import _

    region = phonenumbers.region_code_for_country_code(int(country_code or "0"))
    try:
        parsed = phonenumbers.parse(text, None if region == "ZZ" else region)
    except phonenumbers.NumberParseException as exc:
        reasons = {
            exc.INVALID_COUNTRY_CODE: _("unknown country code; write it with + and the code"),
            exc.NOT_A_NUMBER: _("it has no digits"),
            exc.TOO_SHORT_AFTER_IDD: _("too short after the country code"),
            exc.TOO_SHORT_NSN: _("too short"),
            exc.TOO_LONG: _("too long"),
        }
        raise InvalidInput(_("{what} is not a phone number: {reason}").format(
            what=what, reason=reasons.get(exc.error_type) or _("not understood"))) from None
    if not phonenumbers.is_possible_number(parsed):
        raise InvalidInput(_("{what} cannot be a phone number: it has too few or too many "
                             "digits for its country").format(what=what))
    if not phonenumbers.is_valid_number(parsed):
        raise InvalidInput(_("{what} is not a phone number in use (no such prefix for its "
                             "country); check it, and write a foreign number with +")
                           .format(what=what))
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)

