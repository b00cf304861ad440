"""Rows -> the frozen dataclasses of models.py, and the case filters several stores share."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from smsbridge import tickets
from smsbridge.models import Case, CaseEvent, CaseQuery, InboundRecord, OutboxItem
from smsbridge.store.sealed import Shown, pdu_shown
from smsbridge.store.search import fts_query
from smsbridge.triage.places import place_words

if TYPE_CHECKING:
    from smsbridge.sealing.keys import Sealer

# A case with its duplicate's ticket and its number of messages, in one row.
CASE_COLUMNS = """
    c.id, c.ticket, c.status, shown(c.reporter_sealed, c.reporter_mask, c.reporter),
    c.channel, c.text, c.received_at, c.updated_at,
    c.assigned_to, d.ticket, c.incomplete, c.flags, c.first_action_at, c.last_message_at,
    (SELECT count(*) FROM messages m WHERE m.case_id = c.id), c.category, c.place,
    c.incident_id, c.urgent, c.reporter, c.reporter_problem
"""
CASE_FROM = "cases c LEFT JOIN cases d ON d.id = c.duplicate_of"


def case(row: sqlite3.Row | tuple[Any, ...]) -> Case:
    return Case(
        id=row[0], ticket=row[1], status=row[2], reporter=row[3], channel=row[4],
        text=row[5], received_at=row[6], updated_at=row[7], assigned_to=row[8],
        duplicate_of=row[9], incomplete=bool(row[10]),
        flags=tuple(f for f in row[11].split(",") if f), first_action_at=row[12],
        last_message_at=row[13], messages=row[14], category=row[15], place=row[16],
        incident_id=row[17], urgent=bool(row[18]), reporter_token=row[19] or "",
        reporter_problem=row[20],
    )


def event(row: sqlite3.Row) -> CaseEvent:
    return CaseEvent(**dict(row))


def outbox(row: sqlite3.Row, shown: Shown) -> OutboxItem:
    data = dict(row)
    data["refs"] = tuple(json.loads(data["refs"] or "[]"))
    data["number_token"] = data["number"]
    data["number"] = shown(data.pop("number_sealed", None), data.pop("number_mask", None),
                           data["number"]) or ""
    return OutboxItem(**data)


def inbound(row: sqlite3.Row, shown: Shown, sealer: Sealer | None) -> InboundRecord:
    data = dict(row)
    data["sender_token"] = data["sender"]
    data["sender"] = shown(data.pop("sender_sealed", None), data.pop("sender_mask", None),
                           data["sender"])
    data["pdu"] = pdu_shown(data["pdu"], sealer)
    return InboundRecord(**data)


def case_filters(query: CaseQuery, token: Callable[[str], str] | None = None
                 ) -> tuple[list[str], list[Any]]:
    """WHERE terms (on ``cases c``) and their parameters for a query's filters;
    ``token`` finds a typed reporter's number (``Database.token``)."""
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
        if token is None:
            raise ValueError("a query by number needs its token")
        # A case whose number retention forgot is no longer found by the number (its
        # token still counts it in the number's track record).
        where.append("c.forgotten_at IS NULL")
        params.append(token(query.reporter))
    if query.assigned:
        where.append("c.assigned_to = ? COLLATE NOCASE")
        params.append(query.assigned)
    if query.urgent:
        where.append("c.urgent = 1")
    if query.lead is not None:
        # The open urgent cases, read once by their partial index: few, whatever the
        # other filters (which then walk their own index, not this one).
        lead = ("SELECT id FROM cases INDEXED BY cases_urgent WHERE urgent = 1 AND status"
                f" IN ({', '.join('?' * len(tickets.OPEN_STATUSES))})")
        where.append(f"c.id {'IN' if query.lead else 'NOT IN'} ({lead})")
        params += list(tickets.OPEN_STATUSES)
    if query.overdue is not None:
        # A new case's deadline counts from its arrival, any other's from its last
        # change (triage.urgent.status_since).
        terms = [f"(c.status = ? AND c.{'received_at' if s == 'new' else 'updated_at'} < ?)"
                 for s, _ in query.overdue]
        where.append(f"({' OR '.join(terms)})" if terms else "0")
        params += [p for pair in query.overdue for p in pair]
    if query.unassigned:
        where.append("coalesce(c.assigned_to, '') = ''")
    if query.dispatched:
        where.append("EXISTS (SELECT 1 FROM dispatches x WHERE x.case_id = c.id)")
    if query.min_fake:
        # Its number's N-th fake report came before it: an index range of the partial
        # index cases_fake_reporter (reporter, status), read up to N entries per case.
        where.append("c.id > (SELECT e.id FROM cases e INDEXED BY cases_fake_reporter"
                     " WHERE e.reporter = c.reporter AND e.status = 'fake'"
                     " ORDER BY e.id LIMIT 1 OFFSET ?)")
        params.append(query.min_fake - 1)
    if query.categories:
        where.append(f"c.category IN ({', '.join('?' * len(query.categories))})")
        params += list(query.categories)
    if query.place:
        # Words spelled out as stored ("jl" is "jalan"), every one in the place.
        where.append("c.id IN (SELECT rowid FROM places_fts WHERE places_fts MATCH ?)")
        typed = [place_words(w) + ("*" if w.endswith("*") else "") for w in query.place.split()]
        params.append(fts_query(" ".join(w for w in typed if w.strip("*")) or query.place))
    return where, params
