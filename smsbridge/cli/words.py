"""What the desk's terminal calls codes and times, in the operator's language: a time
as "07 Dec 11:50" ("07 Des 11:50"), the zone, the outbox's states, the history's
actions, the kinds of messages and SMS, the channels. The database, --json and CSV keep
the codes and ISO times; ``output`` re-exports these for the commands.
"""

from __future__ import annotations

from datetime import datetime, tzinfo

from smsbridge.i18n import NP_, _, pgettext
from smsbridge.models import to_local


def local_time(iso: str | None, *, seconds: bool = False, zone: tzinfo | None = None,
               year: bool = True) -> str:
    moment = to_local(iso, zone)
    if moment is None:
        return "-"
    day = "%Y-%m-%d" if year else "%m-%d"
    return moment.strftime(f"{day} %H:%M:%S" if seconds else f"{day} %H:%M")


# A desk reads 12-06 as 12 June; a month's name cannot be misread. Shown in the
# operator's language (Indonesian: Jan Feb Mar Apr Mei Jun Jul Agu Sep Okt Nov Des).
MONTHS = (NP_("month", "Jan"), NP_("month", "Feb"), NP_("month", "Mar"), NP_("month", "Apr"),
          NP_("month", "May"), NP_("month", "Jun"), NP_("month", "Jul"), NP_("month", "Aug"),
          NP_("month", "Sep"), NP_("month", "Oct"), NP_("month", "Nov"), NP_("month", "Dec"))


def desk_time(iso: str | None, *, zone: tzinfo | None = None, seconds: bool = False,
              year: bool | None = None) -> str:
    """A stored time as the desk reads it, in ``zone``: "07 Dec 11:50" ("07 Des 2025
    11:50" in Indonesian, for another year; ``year`` forces it either way); "-" for none."""
    moment = to_local(iso, zone)
    if moment is None:
        return "-"
    if year is None:
        year = moment.year != datetime.now(zone).year
    month = pgettext("month", MONTHS[moment.month - 1])
    day = f"{moment.day:02d} {month}" + (f" {moment.year}" if year else "")
    return f"{day} {moment:%H:%M:%S}" if seconds else f"{day} {moment:%H:%M}"


def clock_time(iso: str | None, *, zone: tzinfo | None = None) -> str:
    """The time of day alone ("11:50:03"), for lines of a day (``cases watch``)."""
    moment = to_local(iso, zone)
    return "--:--:--" if moment is None else f"{moment:%H:%M:%S}"


def times_in(zone: tzinfo | None) -> str:
    """The line under a table that names its times' zone."""
    return _("times in {zone}").format(zone=zone_name(zone))


def zone_name(zone: tzinfo | None) -> str:
    """What the zone is called where operators work: "WIB" (Asia/Jakarta)."""
    now = datetime.now(zone) if zone is not None else datetime.now().astimezone()
    short = now.tzname() or ""
    key = getattr(zone, "key", None)
    if key and short and not short.startswith(("+", "-")) and short != key:
        return f"{short} ({key})"
    return key or short or _("local time")


# What the outbox's states and the history's actions are called on a terminal (the
# database, --json and CSV keep the codes).
_SMS_STATES = {"queued": NP_("sms state", "queued"), "sent": NP_("sms state", "sent"),
               "delivered": NP_("sms state", "delivered"), "failed": NP_("sms state", "failed"),
               "gave_up": NP_("sms state", "gave_up"),
               "cancelled": NP_("sms state", "cancelled"),
               "unknown": NP_("sms state", "unknown"), "none": NP_("sms state", "none")}
_ACTIONS = {
    "created": NP_("history", "created"), "status": NP_("history", "status"),
    "duplicate": NP_("history", "duplicate"), "note": NP_("history", "note"),
    "assign": NP_("history", "assign"), "category": NP_("history", "category"),
    "place": NP_("history", "place"), "reply": NP_("history", "reply"),
    "reply_sent": NP_("history", "reply_sent"), "reply_failed": NP_("history", "reply_failed"),
    "reply_cancelled": NP_("history", "reply_cancelled"),
    "reply_requeued": NP_("history", "reply_requeued"), "notice": NP_("history", "notice"),
    "dispatch": NP_("history", "dispatch"), "reveal": NP_("history", "reveal"),
    "lookup": NP_("history", "lookup"), "flag": NP_("history", "flag"),
    "followup": NP_("history", "followup"), "urgent": NP_("history", "urgent"),
    "alert": NP_("history", "alert"), "linked": NP_("history", "linked"),
}
# What an incoming message is.
_MESSAGE_KINDS = {"deliver": NP_("message kind", "deliver"),
                  "status_report": NP_("message kind", "status_report"),
                  "undecodable": NP_("message kind", "undecodable")}
# What an outgoing SMS is.
_SMS_KINDS = {"ack": NP_("sms kind", "ack"), "status": NP_("sms kind", "status"),
              "operator": NP_("sms kind", "operator"), "notice": NP_("sms kind", "notice"),
              "dispatch": NP_("sms kind", "dispatch"), "field": NP_("sms kind", "field")}
# How a report came in.
_CHANNELS = {"sms": NP_("channel", "sms"), "phone": NP_("channel", "phone"),
             "whatsapp": NP_("channel", "whatsapp"), "walk-in": NP_("channel", "walk-in")}


def sms_state(state: str) -> str:
    """An outbox state as the operator reads it ("gave_up" -> "berhenti")."""
    return pgettext("sms state", _SMS_STATES[state]) if state in _SMS_STATES else state


def action_name(action: str) -> str:
    """A history line's action as the operator reads it ("notice" -> "pemberitahuan")."""
    return pgettext("history", _ACTIONS[action]) if action in _ACTIONS else action


def message_kind(kind: str) -> str:
    return pgettext("message kind", _MESSAGE_KINDS[kind]) if kind in _MESSAGE_KINDS else kind


def sms_kind(kind: str) -> str:
    return pgettext("sms kind", _SMS_KINDS[kind]) if kind in _SMS_KINDS else kind


def channel_name(channel: str) -> str:
    return pgettext("channel", _CHANNELS[channel]) if channel in _CHANNELS else channel


# What a case's flags say.
_FLAGS = {"loop": NP_("flag", "loop"), "undecodable": NP_("flag", "undecodable")}


def flag_name(flag: str) -> str:
    return pgettext("flag", _FLAGS[flag]) if flag in _FLAGS else flag
