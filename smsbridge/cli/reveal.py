"""``--reveal`` where the numbers are sealed: asked of the daemon, which records it.

A process that holds the keys (the daemon's user) opens the numbers itself, and the
store records the look in the read's transaction. Any other operator's command asks
the daemon (``sealing/door.py``) for exactly the rows it shows; the daemon writes the
history lines and the audit line, with the login the kernel gives it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import TYPE_CHECKING

from smsbridge.models import Case, CaseDetail, OutboxItem
from smsbridge.store import Store

if TYPE_CHECKING:
    from smsbridge.sealing.door import DoorSealer


def locally(store: Store, reveal: bool) -> bool:
    """Whether the store itself opens (and records) what ``reveal`` shows."""
    return reveal and store.can_open


def _door(store: Store) -> DoorSealer:
    from smsbridge.sealing.door import DoorSealer

    sealer = store.db.sealer
    assert isinstance(sealer, DoorSealer)
    return sealer


def _numbers(store: Store, rows: dict[str, list[int]]) -> dict[str, dict[int, str]]:
    """Opened here when this process holds the keys (the store recorded the look with
    the read), else by the daemon (which records it, once for the whole look)."""
    if store.can_open:
        return {kind: {i: clear for i, (clear, _) in store.db.open_rows(kind, ids).items()}
                for kind, ids in rows.items()}
    return _door(store).reveal(rows)


def cases(store: Store, found: Sequence[Case]) -> list[Case]:
    """``found`` with their reporters' numbers in clear."""
    numbers = _numbers(store, {"case": [c.id for c in found]})["case"]
    return [dataclasses.replace(c, reporter=numbers.get(c.id, c.reporter)) for c in found]


def outbox(store: Store, items: Sequence[OutboxItem]) -> list[OutboxItem]:
    numbers = _numbers(store, {"outbox": [i.id for i in items]})["outbox"]
    return [dataclasses.replace(i, number=numbers.get(i.id, i.number)) for i in items]


def detail(store: Store, shown: CaseDetail) -> CaseDetail:
    """A case's reporter, its messages' senders and its replies' numbers in clear: one
    look, one record."""
    numbers = _numbers(store, {"case": [shown.case.id],
                               "message": [m.id for m in shown.messages],
                               "outbox": [o.id for o in shown.outbox]})
    case = dataclasses.replace(shown.case, reporter=numbers["case"].get(
        shown.case.id, shown.case.reporter))
    messages = tuple(dataclasses.replace(m, sender=numbers["message"].get(m.id, m.sender))
                     for m in shown.messages)
    replies = tuple(dataclasses.replace(o, number=numbers["outbox"].get(o.id, o.number))
                    for o in shown.outbox)
    return dataclasses.replace(shown, case=case, messages=messages, outbox=replies)
