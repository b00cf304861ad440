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


def _numbers(store: Store, kind: str, ids: list[int]) -> dict[int, str]:
    """Opened here when this process holds the keys (the store recorded the look with
    the read), else by the daemon (which records it)."""
    if not ids:
        return {}
    if store.can_open:
        return {i: clear for i, (clear, _) in store.db.open_rows(kind, ids).items()}
    return _door(store).reveal(kind, ids)


def cases(store: Store, found: Sequence[Case]) -> list[Case]:
    """``found`` with their reporters' numbers in clear."""
    numbers = _numbers(store, "case", [c.id for c in found])
    return [dataclasses.replace(c, reporter=numbers.get(c.id, c.reporter)) for c in found]


def outbox(store: Store, items: Sequence[OutboxItem]) -> list[OutboxItem]:
    numbers = _numbers(store, "outbox", [i.id for i in items])
    return [dataclasses.replace(i, number=numbers.get(i.id, i.number)) for i in items]


def detail(store: Store, shown: CaseDetail) -> CaseDetail:
    """A case's reporter, its messages' senders and its replies' numbers in clear."""
    case = cases(store, [shown.case])[0]
    senders = _numbers(store, "message", [m.id for m in shown.messages])
    messages = tuple(dataclasses.replace(m, sender=senders.get(m.id, m.sender))
                     for m in shown.messages)
    return dataclasses.replace(shown, case=case, messages=messages,
                               outbox=tuple(outbox(store, shown.outbox)))
