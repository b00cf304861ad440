"""The notes smsbridge writes into a case's history, and why it refused an officer's
answer, as the desk reads them.

The database keeps them in English (for administrators, for searching, for --json);
``cases show`` and ``cases answers`` say the ones the program wrote in the operator's
language. A note an operator or an officer typed is theirs and is shown as it is; so is
any text of the program's that matches none of these forms (an older wording, say).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from smsbridge import i18n
from smsbridge.i18n import _, ngettext
from smsbridge.tickets import STATUSES, status_name

_STATUS = "|".join(STATUSES)


def _status(match: re.Match[str]) -> str:
    return status_name(match["status"])


def _reason(reason: str) -> str:
    """Why no notice went: the reply rules' words (replies.py), translated."""
    for pattern, say in _REASONS:
        found = re.fullmatch(pattern, reason)
        if found:
            return say(found)
    return reason


_REASONS: list[tuple[str, Callable[[re.Match[str]], str]]] = [
    (r"automatic replies are disabled", lambda m: _("automatic replies are disabled")),
    (r"sender is a service \(alphanumeric or short code\)",
     lambda m: _("sender is a service (alphanumeric or short code)")),
    (r"the sender cannot receive SMS: (?P<problem>.+)",
     lambda m: _("the sender cannot receive SMS: {problem}").format(problem=m["problem"])),
    (r"sender is on the blocklist", lambda m: _("sender is on the blocklist")),
    (r"reply loop suspected: the same text again and again",
     lambda m: _("reply loop suspected: the same text again and again")),
    (r"reply limit of (?P<n>\d+) an hour reached",
     lambda m: _("reply limit of {count} an hour reached").format(count=m["n"])),
    (r"the line's budget of (?P<n>\d+) automatic replies an hour is spent",
     lambda m: _("the line's budget of {count} automatic replies an hour is spent").format(
         count=m["n"])),
    (r"the line's budget of (?P<n>\d+) automatic replies a day is spent",
     lambda m: _("the line's budget of {count} automatic replies a day is spent").format(
         count=m["n"])),
]


def _sent_to(m: re.Match[str]) -> str:
    text = (_("sent to {names} (team {team})").format(names=m["names"], team=m["team"])
            if m["team"] else _("sent to {names}").format(names=m["names"]))
    return text + (f": {m['note']}" if m["note"] is not None else "")


def _requeued(m: re.Match[str]) -> str:
    from smsbridge.cli.words import sms_state

    count, state = int(m["n"]), sms_state(m["state"])
    if m["error"] is None:
        return ngettext("SMS #{id} queued again (was {state} after {count} attempt)",
                        "SMS #{id} queued again (was {state} after {count} attempts)",
                        count).format(id=m["id"], state=state, count=count)
    return ngettext("SMS #{id} queued again (was {state} after {count} attempt: {error})",
                    "SMS #{id} queued again (was {state} after {count} attempts: {error})",
                    count).format(id=m["id"], state=state, count=count, error=m["error"])


def _failed(m: re.Match[str]) -> str:
    count = int(m["n"])
    return ngettext("SMS not sent after {count} attempt: {error}",
                    "SMS not sent after {count} attempts: {error}", count).format(
                        count=count, error=m["error"])


# (action, the note's English form, what the desk reads). Tried in order, whole note.
_NOTES: list[tuple[str, str, Callable[[re.Match[str]], str]]] = [
    ("assign", r"assigned to (?P<name>.+)",
     lambda m: _("assigned to {name}").format(name=m["name"])),
    ("assign", r"unassigned", lambda m: _("unassigned")),
    ("category", r"category (?P<old>.+?) -> (?P<new>.+)",
     lambda m: _("category {old} -> {new}").format(old=m["old"].replace("_", " "),
                                                   new=m["new"].replace("_", " "))),
    ("place", r"place (?P<old>.*?) -> (?P<new>.*)",
     lambda m: _("place {old} -> {new}").format(old=m["old"], new=m["new"])),
    ("duplicate", r"duplicate of (?P<ticket>\S+?)(?:: (?P<note>.*))?",
     lambda m: _("duplicate of {ticket}").format(ticket=m["ticket"])
     + (f": {m['note']}" if m["note"] is not None else "")),
    ("dispatch", r"sent to (?P<names>[^:()]+?)(?: \(team (?P<team>[^)]+)\))?(?:: (?P<note>.*))?",
     _sent_to),
    ("notice", rf"the reporter is told the case is (?P<status>{_STATUS}) \(SMS #(?P<id>\d+)\)",
     lambda m: _("the reporter is told the case is {status} (SMS #{id})").format(
         status=_status(m), id=m["id"])),
    ("notice", rf"the reporter is told the incident it was merged into is (?P<status>{_STATUS})"
               r" \(SMS #(?P<id>\d+)\)",
     lambda m: _("the reporter is told the incident it was merged into is {status} "
                 "(SMS #{id})").format(status=_status(m), id=m["id"])),
    ("notice", rf"no notice of (?P<status>{_STATUS}): (?P<reason>.+)",
     lambda m: _("no notice of {status}: {reason}").format(status=_status(m),
                                                           reason=_reason(m["reason"]))),
    ("status", r"by field answer", lambda m: _("by field answer")),
    ("reveal", r"number revealed", lambda m: _("number revealed")),
    ("linked", r"possibly the same incident: (?P<tickets>.+)",
     lambda m: _("possibly the same incident: {tickets}").format(tickets=m["tickets"])),
    ("urgent", r"urgent: (?P<words>.+)",
     lambda m: _("urgent: {words}").format(words=m["words"])),
    ("reply_failed", r"SMS not sent after (?P<n>\d+) attempts: (?P<error>.*)", _failed),
    ("reply_cancelled", r"SMS #(?P<id>\d+) \((?P<kind>\w+)\) cancelled before it was sent",
     lambda m: _("SMS #{id} cancelled before it was sent").format(id=m["id"])),
    ("reply_requeued", r"SMS #(?P<id>\d+) \((?P<kind>\w+)\) queued again \(was (?P<state>\w+) "
                       r"after (?P<n>\d+) attempt\(s\)(?:: (?P<error>.*))?\)", _requeued),
    ("reply_sent", r"SMS #(?P<id>\d+) was already being sent when it was cancelled: it was sent",
     lambda m: _("SMS #{id} was already being sent when it was cancelled: it was "
                 "sent").format(id=m["id"])),
]


def note_shown(action: str, note: str) -> str:
    """A history note in the operator's language when smsbridge wrote it, else as it is
    (in English, always as it is: the words the database keeps)."""
    if i18n.language() == "en":
        return note
    for wanted, pattern, say in _NOTES:
        if wanted == action:
            found = re.fullmatch(pattern, note, re.S)
            if found:
                return say(found)
    return note


# Why an officer's answer changed nothing (fieldwork/answers.py's judge), whole reason.
_REFUSALS: list[tuple[str, Callable[[re.Match[str]], str]]] = [
    (r"the verification word of (?P<owners>.+) from a number that is not registered for them",
     lambda m: _("the verification word of {owners} from a number that is not registered "
                 "for them").format(owners=m["owners"])),
    (r"no verification word", lambda m: _("no verification word")),
    (r"(?P<word>'.*') from the reply line instead of the verification word",
     lambda m: _("{word} from the reply line instead of the verification word").format(
         word=m["word"])),
    (r"wrong verification word", lambda m: _("wrong verification word")),
    (r"the verification word of (?P<name>.+) is locked after guessing: the administrator "
     r"must change it",
     lambda m: _("the verification word of {name} is locked after guessing: the "
                 "administrator must change it").format(name=m["name"])),
    (r"not understood: no ticket after the word",
     lambda m: _("not understood: no ticket after the word")),
    (r"(?P<ticket>'.*') is not a ticket of this line",
     lambda m: _("{ticket} is not a ticket of this line").format(ticket=m["ticket"])),
    (r"unknown ticket (?P<ticket>\S+)",
     lambda m: _("unknown ticket {ticket}").format(ticket=m["ticket"])),
    (r"(?P<ticket>\S+) was not dispatched to (?P<name>.+)",
     lambda m: _("{ticket} was not dispatched to {name}").format(ticket=m["ticket"],
                                                                 name=m["name"])),
    (r"(?P<ticket>\S+) has since been dispatched to (?P<names>[^:]+): (?P<name>.+) is no "
     r"longer on it",
     lambda m: _("{ticket} has since been dispatched to {names}: {name} is no longer on "
                 "it").format(ticket=m["ticket"], names=m["names"], name=m["name"])),
    (r"no dispatch code after the ticket", lambda m: _("no dispatch code after the ticket")),
    (r"the code of an earlier dispatch", lambda m: _("the code of an earlier dispatch")),
    (r"wrong dispatch code", lambda m: _("wrong dispatch code")),
    (r"nothing to record: no finding and no text",
     lambda m: _("nothing to record: no finding and no text")),
    (r"replayed: this note was already recorded with this dispatch's code",
     lambda m: _("replayed: this note was already recorded with this dispatch's code")),
    (r"replayed: (?P<finding>\w+) was already recorded with this dispatch's code",
     lambda m: _("replayed: {finding} was already recorded with this dispatch's code").format(
         finding=status_name(m["finding"]) if m["finding"] in STATUSES else m["finding"])),
]


def reason_shown(reason: str | None) -> str:
    """Why an officer's answer was refused, in the operator's language where smsbridge
    said it."""
    if not reason or i18n.language() == "en":
        return reason or ""
    for pattern, say in _REFUSALS:
        found = re.fullmatch(pattern, reason, re.S)
        if found:
            return say(found)
    return reason
