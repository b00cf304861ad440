"""Rows -> the frozen dataclasses of models.py, and the case filters several stores share."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from smsbridge import tickets
from smsbridge.models import Case, CaseEvent, CaseQuery, InboundRecord, OutboxItem

# A case with its duplicate's ticket and its number of messages, in one row.
CASE_COLUMNS = """
    c.id, c.ticket, c.status, c.reporter, c.channel, c.text, c.received_at, c.updated_at,
    c.assigned_to, d.ticket, c.incomplete, c.flags, c.first_action_at, c.last_message_at,
    (SELECT count(*) FROM messages m WHERE m.case_id = c.id)
"""
CASE_FROM = "cases c LEFT JOIN cases d ON d.id = c.duplicate_of"


def case(row: sqlite3.Row | tuple[Any, ...]) -> Case:
    return Case(
        id=row[0], ticket=row[1], status=row[2], reporter=row[3], channel=row[4],
        text=row[5], received_at=row[6], updated_at=row[7], assigned_to=row[8],
        duplicate_of=row[9], incomplete=bool(row[10]),
        flags=tuple(f for f in row[11].split(",") if f), first_action_at=row[12],
        last_message_at=row[13], messages=row[14],
    )


def event(row: sqlite3.Row) -> CaseEvent:
    return CaseEvent(**dict(row))


def outbox(row: sqlite3.Row) -> OutboxItem:
    data = dict(row)
    data["refs"] = tuple(json.loads(data["refs"] or "[]"))
    return OutboxItem(**data)


def inbound(row: sqlite3.Row) -> InboundRecord:
    return InboundRecord(**dict(row))


def case_filters(query: CaseQuery) -> tuple[list[str], list[Any]]:
    """WHERE terms (on ``cases c``) and their parameters for a query's filters."""
    where: list[str] = []
    params: list[Any] = []
    if query.statuses:
        where.append(f"c.status IN ({', '.join('?' * len(query.statuses))})")
        params += [tickets.check_status(s) for s in query.statuses]
    if query.since:
        where.append("c.received_at >= ?")
        params.append(query.since)
    if query.until:
        where.append("c.received_at < ?")
        params.append(query.until)
    if query.reporter:
        where.append("c.reporter = ?")
        params.append(query.reporter)
    if query.assigned:
        where.append("c.assigned_to = ? COLLATE NOCASE")
        params.append(query.assigned)
    return where, params
