"""``[retention]``: numbers and raw SMS of long-closed cases destroyed, daily, in batches.

Indonesia's personal data protection law (UU 27/2022) asks that personal data be kept
no longer than its purpose needs. A reporter's number serves the open case (replies,
follow-ups, CEK) and the track record the desk reads while deciding on new reports;
long after a case is closed it serves nothing a masked form and a keyed pseudonym do
not (``store/retention.py`` says what is kept). The daemon runs this once a day, one
small batch per turn of its loop, so reception never waits for more than a batch;
``smsbridge retention`` shows what is due and can run it at once.

The pseudonyms are the numbers' tokens (``sealing/keys.py``), made with the daemon's keys:
a sealed case already has its own, and forgetting it only destroys its sealed copy. A
case the sealing has not reached yet gets its token from the number here.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from smsbridge.clock import Clock
from smsbridge.config.sections import Config, RetentionConfig
from smsbridge.models import to_iso
from smsbridge.privacy import pseudonym
from smsbridge.store import Store
from smsbridge.store.retention import Retention

log = logging.getLogger(__name__)

EVERY = timedelta(days=1)


@dataclass(frozen=True)
class Cutoffs:
    """Stored times: cases last changed before these are due (None: never)."""

    forget_before: str | None
    delete_before: str | None


def cutoffs(section: RetentionConfig, now: datetime) -> Cutoffs:
    def before(days: int) -> str | None:
        return to_iso(now - timedelta(days=days)) if days else None

    return Cutoffs(before(section.forget_numbers_after_days),
                   before(section.delete_cases_after_days))


@dataclass(frozen=True)
class Progress:
    forgotten: int = 0
    loose: int = 0
    deleted: int = 0

    def __add__(self, other: Progress) -> Progress:
        return Progress(self.forgotten + other.forgotten, self.loose + other.loose,
                        self.deleted + other.deleted)

    def __str__(self) -> str:
        return (f"{self.forgotten} numbers of closed cases forgotten, {self.loose} SMS of "
                f"no case cleared, {self.deleted} closed cases deleted")

    @classmethod
    def parse(cls, text: str | None) -> Progress | None:
        """The summary ``str()`` wrote (and the daemon keeps, in English), read back so
        that the desk can be shown it in its own language; None for any other text."""
        found = _SUMMARY.fullmatch(text or "")
        return cls(*(int(n) for n in found.groups())) if found else None


_SUMMARY = re.compile(r"(\d+) numbers of closed cases forgotten, (\d+) SMS of no case "
                      r"cleared, (\d+) closed cases deleted")


def run_batch(store: Store, cfg: Config, key: bytes, now: datetime) -> Progress:
    """One batch of each kind of work that is due at ``now``."""
    due = cutoffs(cfg.retention, now)
    retention = Retention(store.db, store.audit)
    size = cfg.retention.batch_size
    done = Progress()
    if due.forget_before:
        done += Progress(
            forgotten=retention.forget_batch(due.forget_before, size,
                                             lambda number: pseudonym(key, number),
                                             operator=cfg.daemon.operator_name),
            loose=retention.forget_loose_batch(due.forget_before, size))
    if due.delete_before:
        done += Progress(deleted=len(retention.delete_batch(due.delete_before, size)))
    return done


def finish(store: Store, cfg: Config, total: Progress, now: datetime) -> None:
    """Record a run: in the audit log when it changed something, and for ``status``."""
    if total != Progress():
        Retention(store.db, store.audit).record(str(total), operator=cfg.daemon.operator_name)
    store.state.update({"retention_last_run": to_iso(now), "retention_last": str(total)})


def run_all(store: Store, cfg: Config, key: bytes, now: datetime) -> Progress:
    """Everything due at ``now``, batch after batch, recorded."""
    total = Progress()
    while True:
        step = run_batch(store, cfg, key, now)
        total += step
        if step == Progress():
            break
    finish(store, cfg, total, now)
    return total


class DailyRetention:
    """The daemon's daily run, one batch per ``tick``: the first run at the first tick,
    then a day after each run began. ``clock`` decides when a day has passed. Every
    tick also gives a batch of new cases their number's pseudonym."""

    def __init__(self, store: Store, cfg: Config, clock: Clock, key: bytes):
        self._store = store
        self._cfg = cfg
        self._clock = clock
        self._key = key
        self._next: datetime | None = None  # the first tick starts a run
        self._run: tuple[datetime, Progress] | None = None

    def reconfigure(self, cfg: Config) -> None:
        """A reloaded config: the next batch uses it; the schedule stays."""
        self._cfg = cfg

    @property
    def enabled(self) -> bool:
        section = self._cfg.retention
        return bool(section.forget_numbers_after_days or section.delete_cases_after_days)

    def tick(self) -> None:
        if not self.enabled:
            return
        # New cases get their number's pseudonym at once (a batch per turn, whenever
        # due), so their track record finds the number's forgotten cases.
        Retention(self._store.db, self._store.audit).key_batch(
            self._cfg.retention.batch_size, lambda number: pseudonym(self._key, number))
        now = self._clock.now()
        if self._run is None:
            if self._next is not None and now < self._next:
                return
            self._run = (now, Progress())
            self._next = now + EVERY
        began, total = self._run
        step = run_batch(self._store, self._cfg, self._key, began)
        total += step
        if step == Progress():
            finish(self._store, self._cfg, total, began)
            if total != Progress():
                log.info("retention: %s", total)
            self._run = None
        else:
            self._run = (began, total)
