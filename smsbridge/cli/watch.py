"""``cases watch``: new and changed cases as they happen, one line each.

Waiting: SQLite's ``PRAGMA data_version`` changes when another connection commits.
It is read from the WAL index in shared memory (no disk access, a few microseconds),
so the loop asks it after a pause that doubles while nothing happens (50 ms up to
1 s) and starts short again after a change: a change shows within a second, an idle
watch costs next to nothing. Chosen over inotify on the ``-wal`` file, which fires
on frames written before a commit and on checkpoints (each wake then still needs
this check), needs a library or ctypes, and does not work on every filesystem.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import tzinfo
from typing import TYPE_CHECKING, Any

from smsbridge.cli.output import category_shown, fit, local_time, to_json
from smsbridge.models import CaseQuery, Change
from smsbridge.privacy import neutralise

if TYPE_CHECKING:
    from smsbridge.store import Store

MIN_WAIT = 0.05
MAX_WAIT = 1.0
BATCH = 200

LABELS = {"created": "NEW", "followup": "MORE", "status": "STATUS", "duplicate": "DUPLICATE",
          "note": "NOTE", "assign": "ASSIGN", "reply": "REPLY", "category": "CATEGORY",
          "place": "PLACE", "flag": "FLAG", "alert": "ALERT"}


def change_line(change: Change, *, zone: tzinfo | None, width: int = 80) -> str:
    """One change in one line of ``width`` cells."""
    event, case = change.event, change.case
    label = LABELS.get(event.action, event.action.upper())
    when = local_time(event.at, seconds=True, zone=zone)[11:]
    if event.action == "created":
        place = f"{case.place} | " if case.place else ""
        # ≈: linked to an earlier open report as possibly the same incident.
        same = "≈ " if case.incident_id not in (None, case.id) else ""
        what = f"{category_shown(case.category)}  {same}{place}{case.text}"
    elif event.action == "followup":
        what = event.note or ""
    elif event.action == "status":
        what = f"{event.old_status} -> {event.new_status}" + (
            f": {event.note}" if event.note else "") + f" ({event.operator})"
    else:
        what = f"{event.note or ''} ({event.operator})"
    return fit(neutralise(f"{when} {label:<9} {case.ticket} {what}"), width).rstrip()


def change_dict(change: Change) -> dict[str, Any]:
    event, case = change.event, change.case
    return {"id": event.id, "at": event.at, "action": event.action, "ticket": case.ticket,
            "status": case.status, "category": case.category, "place": case.place,
            "operator": event.operator, "old_status": event.old_status,
            "new_status": event.new_status, "note": event.note,
            "text": case.text if event.action == "created" else None}


def watch(store: Store, query: CaseQuery, *, show: Callable[[str], None], bell: bool = False,
          as_json: bool = False, zone: tzinfo | None = None, width: int = 80, last: int = 10,
          stop: Callable[[], bool] = lambda: False,
          sleep: Callable[[float], None] = time.sleep) -> None:
    """Show the ``last`` matching changes, then every new one until ``stop()`` (or
    Ctrl-C, which the caller ends quietly)."""

    def emit(change: Change, *, live: bool = True) -> None:
        if as_json:
            show(to_json(change_dict(change), indent=None))
            return
        ring = "\a" if bell and live and change.event.action in ("created", "alert") else ""
        show(ring + change_line(change, zone=zone, width=width))

    desk = store.desk
    version = desk.data_version()
    seen = desk.last_change_id()
    for change in desk.newest_changes(last, query):
        emit(change, live=False)
        seen = max(seen, change.event.id)
    wait = MIN_WAIT
    while not stop():
        sleep(wait)
        current = desk.data_version()
        if current == version:
            wait = min(wait * 2, MAX_WAIT)
            continue
        version, wait = current, MIN_WAIT
        while True:
            top = desk.last_change_id()
            changes = desk.changes_after(seen, query, limit=BATCH)
            for change in changes:
                emit(change)
            if len(changes) < BATCH:
                # Lines of cases the filters leave out are passed over for good.
                seen = max(top, seen)
                break
            seen = changes[-1].event.id
