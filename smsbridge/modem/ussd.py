"""USSD answers (27.007 §7.15 AT+CUSD) and what a prepaid SIM's balance answer says.

Pure: lines and strings in, values out. Indonesian operators answer a balance code
(``*888#``, ``*123#``, ``*555#``) with one text holding the credit (pulsa, "Rp12.500"),
often the SMS package left ("250 SMS") and the card's active period ("Aktif s.d.
31/12/2026", "masa aktif 31-12-2026"). The shapes differ by operator and change
without notice, so the parser looks for each fact on its own and leaves what it does
not find as None; the raw answer is always kept for a person to read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from smsbridge.sms import gsm7

# 27.007 §7.15 <m>.
DONE, MORE, ENDED_BY_NETWORK, OTHER_CLIENT, NOT_SUPPORTED, TIMED_OUT = 0, 1, 2, 3, 4, 5


@dataclass(frozen=True)
class UssdAnswer:
    status: int  # <m>: 0 done, 1 the network waits for more, 2 ended, 4 not supported
    text: str


def parse_cusd(line: str) -> UssdAnswer:
    """``+CUSD: <m>[,"<str>",<dcs>]`` -> the answer. The string comes as text, or as hex
    where the modem's character set or the coding asks for it: UCS2 (dcs 72) and,
    from Huawei sticks, GSM 7-bit packed octets (dcs 15) in hex."""
    body = line.split(":", 1)[1].strip() if ":" in line else line.strip()
    head, _, rest = body.partition(",")
    status = int(head) if head.strip().isdigit() else NOT_SUPPORTED
    text, dcs = rest, None
    if rest.startswith('"'):
        end = rest.rfind('"')
        text = rest[1:end] if end > 0 else rest[1:]
        tail = rest[end + 1:].strip().lstrip(",").strip() if end > 0 else ""
        dcs = int(tail) if tail.isdigit() else None
    return UssdAnswer(status, _decode(text, dcs))


def _decode(text: str, dcs: int | None) -> str:
    hexlike = len(text) >= 2 and len(text) % 2 == 0 and re.fullmatch(r"[0-9A-Fa-f]+", text)
    if not hexlike:
        return text
    raw = bytes.fromhex(text)
    if dcs is not None and dcs & 0x0C == 0x08:  # 23.038 §5: UCS2
        return raw.decode("utf-16-be", errors="replace")
    if dcs in (None, 15, 0) and len(text) >= 8:
        try:
            decoded = gsm7.decode(gsm7.unpack(raw, len(raw) * 8 // 7))
        except (ValueError, KeyError, IndexError):
            return text
        return decoded.rstrip("@\r\n")
    return text


@dataclass(frozen=True)
class Balance:
    """What a balance answer said; None where it said nothing about it."""

    raw: str
    credit: int | None = None  # rupiah
    sms_left: int | None = None
    active_until: date | None = None


_MONEY = re.compile(r"(?:pulsa|saldo|balance|sisa)[^0-9]{0,30}?rp\.?\s*([0-9][0-9.,]*)"
                    r"|rp\.?\s*([0-9][0-9.,]*)", re.IGNORECASE)
_SMS = re.compile(r"([0-9][0-9.]*)\s*sms\b|sms[^0-9]{0,20}?([0-9][0-9.]*)", re.IGNORECASE)
_DATE = re.compile(r"(?:aktif|berlaku|expir\w*|valid|s\.?d\.?|until|hingga|sampai)"
                   r"[^0-9]{0,20}?(\d{1,2})[-/.](\d{1,2})[-/.](\d{2,4})", re.IGNORECASE)


def parse_balance(text: str) -> Balance:
    """A balance answer -> the credit, the SMS left and the active period, each if said."""
    credit = None
    if (m := _MONEY.search(text)) is not None:
        credit = _amount(m.group(1) or m.group(2))
    sms_left = None
    if (m := _SMS.search(text)) is not None:
        sms_left = _amount(m.group(1) or m.group(2))
    until = None
    if (m := _DATE.search(text)) is not None:
        day, month, year = (int(g) for g in m.groups())
        year += 2000 if year < 100 else 0
        try:
            until = date(year, month, day)
        except ValueError:
            until = None
    return Balance(text, credit, sms_left, until)


def _amount(digits: str) -> int | None:
    # "12.500" and "12,500" are twelve thousand five hundred; "12.500,00" has cents.
    whole = re.split(r",\d{2}$", digits.strip(".,"))[0]
    cleaned = whole.replace(".", "").replace(",", "")
    return int(cleaned) if cleaned.isdigit() else None


@dataclass(frozen=True)
class CreditLimits:
    min_credit: int = 0  # rupiah; 0: not watched
    min_sms: int = 0  # SMS left in the package; 0: not watched
    warn_days: int = 0  # days before the card's active period ends; 0: not watched


def credit_warnings(balance: Balance, limits: CreditLimits, today: date) -> list[str]:
    """What an administrator must hear about a balance (pure)."""
    found = []
    if limits.min_credit and balance.credit is not None and balance.credit < limits.min_credit:
        found.append(f"credit Rp{balance.credit:,} is under Rp{limits.min_credit:,}"
                     .replace(",", "."))
    if limits.min_sms and balance.sms_left is not None and balance.sms_left < limits.min_sms:
        found.append(f"{balance.sms_left} SMS left in the package, under {limits.min_sms}")
    if balance.active_until is not None:
        days = (balance.active_until - today).days
        if days < 0:
            found.append(f"the card expired on {balance.active_until.isoformat()}")
        elif limits.warn_days and days <= limits.warn_days:
            found.append(f"the card expires on {balance.active_until.isoformat()} "
                         f"({days} day(s) left)")
    return found


def cannot_send(balance: Balance, today: date) -> str | None:
    """Why a SIM cannot send at all by its balance, or None: no credit and no SMS package
    left, or the card expired."""
    if balance.active_until is not None and balance.active_until < today:
        return f"the card expired on {balance.active_until.isoformat()}"
    if balance.credit == 0 and not balance.sms_left:
        return "no credit and no SMS package left"
    return None
