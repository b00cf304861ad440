"""Reporters' numbers hidden, and citizens' text made harmless for terminals (pure).

A reporter's number is shown masked everywhere, by ``mask_number`` alone, unless an
operator asks to reveal it (the store records who did). Text that came by SMS is
untrusted: an ESC sequence in a report could clear an operator's screen, retitle the
window or hide lines, and a CR or backspace could overwrite what the table shows; a
text opening with ``=`` runs as a formula when an export is opened in a spreadsheet.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MASK = "****"

# Numbers this short are services (short codes), not people: nothing to protect.
_SHORT_CODE_MAX = 5

# C0 and C1 controls and DEL; Unicode bidi overrides and isolates, which reorder what a
# terminal shows ("Trojan Source", CVE-2021-42574); line and paragraph separators; and
# the invisible ones, which make two different texts look the same to an operator
# (zero-width space/joiners, word joiner, BOM, the tag characters).
_CONTROL = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2064"
    "\u2066-\u2069\u2028\u2029\ufeff\U000e0000-\U000e007f]"
)


def _visible(char: str) -> str:
    code = ord(char)
    if code < 0x20:
        return chr(0x2400 + code)  # Unicode control pictures: ␛ ␍ ␇ ␈
    if code == 0x7F:
        return "\u2421"  # ␡
    return f"<U+{code:04X}>"


def neutralise(text: str, *, multiline: bool = False) -> str:
    """``text`` with every control character shown as a harmless visible symbol.

    Escape sequences stay readable (``␛[2J``) so an operator can see that a report
    tried something. With ``multiline`` newlines and tabs are kept (``cases
    show``); otherwise they become ``⏎`` and a space (one table row per case).
    CRLF is a line end from phones, not an attack; with ``multiline`` a lone CR too.
    """
    text = text.replace("\r\n", "\n")
    if multiline:
        text = text.replace("\r", "\n")
    # ESC itself becomes visible, so "ESC [2J" prints as the harmless text "␛[2J".
    text = _CONTROL.sub(lambda m: _visible(m.group(0)), text)
    if multiline:
        return text.replace("\t", "    ")
    return text.replace("\n", "\u23ce").replace("\t", " ")


@dataclass(frozen=True)
class MaskPolicy:
    """How much of a reporter's number a mask shows (``[privacy]``): at most the
    network prefix (``+62 857``, which millions of numbers share) and the last two
    digits. Either can be dropped; nothing more can be shown."""

    prefix: bool = True
    last_digits: int = 2

    def __post_init__(self) -> None:
        if not 0 <= self.last_digits <= 2:
            raise ValueError("a mask shows at most the last two digits")


_policy = MaskPolicy()


def set_mask_policy(policy: MaskPolicy) -> None:
    """The mask every later ``mask_number`` of this process uses; set once, where the
    config is loaded, so the CLI, the journal, the hooks and the exports agree."""
    global _policy
    _policy = policy


# Hidden digits are always shown as this many dots, whatever their count: a number's
# length narrows down whose it is too.
HIDDEN = "\u2022" * 5
# However short the number, at least this many of its digits stay hidden.
_HIDDEN_MIN = 4


def _network_prefix(plus: bool, digits: str) -> str:
    if digits.startswith("62"):
        # Indonesia: country code and the operator's 8xx prefix, which a whole network shares.
        return ("+" if plus else "") + "62 " + digits[2:5]
    if digits.startswith("0"):
        return digits[:4]  # 0857: the same prefix written nationally
    # A foreign number: where its country code ends is not known here; two digits at most.
    return ("+" if plus else "") + digits[:2]


def mask_number(number: str | None, policy: MaskPolicy | None = None) -> str:
    """``+6285712345611`` -> ``+62 857 \u2022\u2022\u2022\u2022\u2022 11``: the
    network and the last two digits, never enough to confirm whose number it is.

    This is the one place a number is formatted for display (CLI, exports, hooks, the
    journal, reports). Short codes and alphanumeric senders (``TELKOMSEL``) are
    services and shown as they are. ``policy`` defaults to the process's
    (``set_mask_policy``).
    """
    if not number:
        return ""
    policy = policy or _policy
    plus = number.startswith("+")
    digits = number[1:] if plus else number
    if not digits.isdigit():
        # A name, but names are chosen by the sender: " 12345678" is a phone number
        # in all but its type of address, so its digits are masked all the same.
        return mask_numbers_in(number, policy)
    if len(digits) <= _SHORT_CODE_MAX:
        return number
    head = _network_prefix(plus, digits) if policy.prefix else ""
    tail = policy.last_digits
    head_digits = sum(c.isdigit() for c in head)
    if len(digits) - head_digits - tail < _HIDDEN_MIN:
        head, head_digits = "", 0
    if len(digits) - tail < _HIDDEN_MIN:
        tail = 0
    return " ".join(part for part in (head, HIDDEN, digits[len(digits) - tail:] if tail else "")
                    if part)


# Hex digits as letters: a pseudonym has no run of digits a mask would take for a number.
_AS_LETTERS = str.maketrans("0123456789abcdef", "abcdefghijklmnop")


def pseudonym(key: bytes, number: str) -> str:
    """``kpfmdaobhcje``: the same for one number under one key, nothing about it
    without the key (HMAC-SHA256, 48 bits: enough to keep a line's reporters apart)."""
    import hashlib
    import hmac

    return hmac.new(key, number.encode(), hashlib.sha256).hexdigest()[:12].translate(
        _AS_LETTERS)


_NUMBER_IN_TEXT = re.compile(r"\+?[0-9]{6,}")


def mask_numbers_in(text: str, policy: MaskPolicy | None = None) -> str:
    """Every phone-number-like run of digits in free text masked (e.g. a +CLIP line
    with a caller's number, on its way to a log)."""
    return _NUMBER_IN_TEXT.sub(lambda m: mask_number(m.group(), policy), text)


def mask_url(url: str) -> str:
    """A hook URL fit to show: a password in it, and the values of its query (where
    tokens ride), become ``****``."""
    from urllib.parse import urlsplit, urlunsplit

    try:
        parts = urlsplit(url)
    except ValueError:
        return MASK if url else url
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, _, host = netloc.rpartition("@")
        # "user:password@" keeps the user; a lone "token@" is all secret.
        user, colon, _ = userinfo.partition(":")
        netloc = f"{user}:{MASK}@{host}" if colon and user else f"{MASK}@{host}"
    query = "&".join(f"{pair.partition('=')[0]}={MASK}" if "=" in pair else pair
                     for pair in parts.query.split("&")) if parts.query else ""
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


# A number, or one as mask_number shows it: "+62 857 \u2022\u2022\u2022\u2022\u2022 11".
# A forgotten one ends in its pseudonym: "… 11 ~kpfmdaobhcje".
_MASKED_OR_NUMBER = re.compile(
    r"\+?[0-9]+|(?:\+?[0-9]+(?: [0-9]+)? )?\u2022{5}(?: [0-9]+)?(?: ~[a-p]+)?")


def csv_safe(value: str) -> str:
    """A cell a spreadsheet will not run: a leading = + - @ (or TAB/CR) gets a quote.

    Numbers, masked (``+62 812 \u2022\u2022\u2022\u2022\u2022 10``) or not, are left
    alone: they are data, not formulas. (OWASP "CSV Injection".)
    """
    if value and value[0] in "=+-@\t\r" and not _MASKED_OR_NUMBER.fullmatch(value):
        return "'" + value
    return value
