"""Who sends which reply: the pool's routing as pure functions of plain facts.

Each send-capable worker asks :func:`choose` for the next reply it may claim, given the
waiting replies and what the pool knows of every sender. A reply is *reserved* for the
modems the first applicable rule of ``[pool] route`` names:

- ``received``: the modem its report came in on (the citizen sees the same number);
- ``on-net``: the modems whose prefixes match the number (cheaper, quicker);
- ``least-busy``: nobody in particular: whichever modem is free first takes it.

A rule names only *live* senders: up, under their daily cap, able to send (see
:class:`SendHealth`) and not stale. A sender is
stale when the oldest reply reserved for it has waited longer than ``failover``: its
replies then go out from the others. A reply nobody live may take is anyone's, so no
modem idles while a reply waits that it may send.

Within what a sender may claim, the first lane goes first (``models.FIRST_LANE``: field
SMS, operators' replies, citizens' notices), then the automatic answers, each lane
oldest due first.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from smsbridge.models import WaitingReply
from smsbridge.retry import RetryPolicy

RECEIVED, ON_NET, LEAST_BUSY = "received", "on-net", "least-busy"


Reply = WaitingReply


@dataclass(frozen=True)
class Sender:
    """A send-capable modem as the pool sees it now."""

    name: str
    prefixes: tuple[str, ...] = ()  # international form: "+62811"
    up: bool = True  # connected and initialised
    capped: bool = False  # its daily cap is reached
    can_send: bool = True  # False: its sends keep failing, or its SIM has no credit


@dataclass(frozen=True)
class Routing:
    order: tuple[str, ...] = (RECEIVED, ON_NET, LEAST_BUSY)
    failover: timedelta = timedelta(seconds=120)


def on_net(number: str, prefixes: Iterable[str]) -> bool:
    return any(number.startswith(p) for p in prefixes)


def _reserved(reply: Reply, live: Sequence[Sender], order: Sequence[str]) -> frozenset[str] | None:
    for rule in order:
        if rule == RECEIVED:
            if reply.prefer is not None and any(s.name == reply.prefer for s in live):
                return frozenset({reply.prefer})
        elif rule == ON_NET:
            matching = frozenset(s.name for s in live if on_net(reply.number, s.prefixes))
            if matching:
                return matching
        elif rule == LEAST_BUSY:
            return None
    return None


def reservations(replies: Sequence[Reply], senders: Sequence[Sender], routing: Routing,
                 now: datetime) -> dict[int, frozenset[str] | None]:
    """reply id -> the modems that may send it (None: any sender)."""
    live = [s for s in senders if s.up and not s.capped and s.can_send]
    first = {r.id: _reserved(r, live, routing.order) for r in replies}
    oldest: dict[str, datetime] = {}
    for reply in replies:
        for name in first[reply.id] or ():
            if name not in oldest or reply.due_at < oldest[name]:
                oldest[name] = reply.due_at
    stale = {name for name, due in oldest.items() if now - due > routing.failover}
    if not stale:
        return first
    fresh = [s for s in live if s.name not in stale]
    return {r.id: _reserved(r, fresh, routing.order) for r in replies}


def choose(me: str, replies: Sequence[Reply], senders: Sequence[Sender], routing: Routing,
           now: datetime) -> list[int]:
    """The replies ``me`` may claim, in the order to try them: the first lane first,
    then oldest due first."""
    allowed = reservations(replies, senders, routing, now)
    mine = [r for r in replies if allowed[r.id] is None or me in (allowed[r.id] or ())]
    return [r.id for r in sorted(mine, key=lambda r: (r.lane, r.due_at, r.id))]


@dataclass(frozen=True)
class Pace:
    """A SIM's send rate (SMS a minute, 0 none) and daily cap (0 none)."""

    per_minute: float = 0.0
    daily_cap: int = 0

    def gap_after(self, parts: int) -> float:
        """Seconds to wait after sending ``parts`` SMS, so the rate holds."""
        return 0.0 if self.per_minute <= 0 else 60.0 * max(parts, 1) / self.per_minute

    def capped(self, sent_today: int) -> bool:
        return self.daily_cap > 0 and sent_today >= self.daily_cap


def local_midnight(now: datetime) -> datetime:
    """Where "today" starts for a daily cap: SIM packages reset at local midnight."""
    local = now.astimezone()
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


@dataclass(frozen=True)
class SendHealth:
    """Whether a stick can send, judged by what its own sends did, not by the schedule.

    A stick whose sends fail ``limit`` times in a row, or whose SIM says it has no
    credit, *cannot send*: it claims nothing, the others take its replies at once, and
    it tries one reply again after a backoff (``retry_at``); the first success brings
    it back. A failed try costs the reply nothing (the stick, not the reply, is in
    question).
    """

    failures: int = 0  # sends failed in a row
    reason: str | None = None  # set: it cannot send, and why
    retry_at: datetime | None = None  # when it may try one reply again
    tries: int = 0  # tries since it stopped sending (the backoff counts them)

    @property
    def can_send(self) -> bool:
        return self.reason is None

    def may_try(self, now: datetime) -> bool:
        return self.reason is None or (self.retry_at is not None and now >= self.retry_at)

    def succeeded(self) -> SendHealth:
        return SendHealth()

    def failed(self, error: str, now: datetime, *, limit: int,
               backoff: RetryPolicy) -> SendHealth:
        failures = self.failures + 1
        if self.reason is None and failures < limit:
            return SendHealth(failures)
        reason = self.reason or f"{failures} sends failed in a row, the last: {error}"
        return self._stopped(reason, now, backoff, failures)

    def no_credit(self, why: str, now: datetime, *, backoff: RetryPolicy) -> SendHealth:
        return self._stopped(why, now, backoff, self.failures)

    def _stopped(self, reason: str, now: datetime, backoff: RetryPolicy,
                 failures: int) -> SendHealth:
        tries = self.tries + 1
        return SendHealth(failures, reason, now + timedelta(seconds=backoff.delay(tries)),
                          tries)


@dataclass(frozen=True)
class Identity:
    """What a stick is, whatever port name it has: its SIM (IMSI) and device (IMEI)."""

    imsi: str | None = None
    imei: str | None = None

    @property
    def known(self) -> bool:
        return bool(self.imsi or self.imei)

    def differs(self, other: Identity) -> bool:
        """True when a field both know disagrees (a stick that did not answer one of them
        is not called another for it)."""
        return any(a and b and a != b for a, b in ((self.imsi, other.imsi),
                                                    (self.imei, other.imei)))

    def __str__(self) -> str:
        return f"IMSI {self.imsi or '?'}, IMEI {self.imei or '?'}"


class Known(enum.Enum):
    SAME = "same"  # the stick seen on this name before: it takes back what it held
    FIRST = "first"  # nothing seen on this name before
    NEW = "new"  # another stick, accepted: it starts afresh, the old one's leases untouched
    REFUSED = "refused"  # another stick, not confirmed: it is not used


def judge_identity(seen: Identity, last: Identity, configured: Identity, *,
                   join_new: bool) -> Known:
    """Whether the stick now behind a port name may serve as that name's stick.

    ``configured`` (``[[modems]] imsi``/``imei``) is the administrator's word and wins;
    without it the stick last seen on the name is expected, and another one joins only
    with ``join_new`` (``[[modems]] new_stick = "join"``)."""
    if configured.known:
        if seen.differs(configured):
            return Known.REFUSED
        return Known.NEW if last.known and seen.differs(last) else (
            Known.SAME if last.known else Known.FIRST)
    if not last.known:
        return Known.FIRST
    if not seen.differs(last):
        return Known.SAME
    return Known.NEW if join_new else Known.REFUSED
