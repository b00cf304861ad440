"""Cases: tickets, the case history, what operators list, read and change.

The workflow (which status may follow which, duplicates, reopening) is decided by
``tickets.plan_update`` from facts read here, whether a follow-up repeats its case by
``intake`` in the caller; this module only reads and writes.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from smsbridge import tickets
from smsbridge.errors import DatabaseError, InvalidInput, UnknownTicket
from smsbridge.i18n import _
from smsbridge.models import Case, CaseDetail, CaseQuery, NewCase, Stats
from smsbridge.privacy import mask_number
from smsbridge.sealing.keys import StoredNumber
from smsbridge.store import rows
from smsbridge.store.audit import AuditLog, found
from smsbridge.store.db import Database
from smsbridge.store.rows import CASE_COLUMNS, CASE_FROM
from smsbridge.store.schema import CHANNELS, sql_list
from smsbridge.store.search import adjacent, fts_query
from smsbridge.store.stats import case_stats
from smsbridge.triage.places import place_words


class Cases:
    """The cases and case_events tables (and the ticket counter). Every case event is
    stamped with ``audit.login``, the OS account, beside the operator's name."""

    def __init__(self, db: Database, *, audit: AuditLog, prefix: str = "LP", digits: int = 6):
        self._db = db
        self.audit = audit
        self.prefix = prefix
        self.digits = digits

    # tickets -----------------------------------------------------------------------

    def ticket_number(self, text: str) -> int:
        return tickets.parse_ticket(text, self.prefix, self.digits)

    def _allocate(self, count: int = 1) -> int:
        """Reserve ``count`` ticket numbers; returns the first. Call inside a transaction."""
        last = self._db.scalar(
            "UPDATE counters SET value = value + ? WHERE name = 'ticket' RETURNING value",
            (count,))
        return int(last) - count + 1

    def _case_id(self, ticket: str) -> int:
        number = self.ticket_number(ticket)
        if self._db.one("SELECT 1 FROM cases WHERE id = ?", (number,)) is None:
            raise UnknownTicket(ticket)
        return number

    # creating ----------------------------------------------------------------------

    def create(self, new: NewCase, *, operator: str, note: str | None = None) -> Case:
        """A new case with the next ticket, and its "created" event."""
        _check_new_case(new)
        if new.status != "new":
            raise InvalidInput(_("a new case starts as new, not {status!r}").format(
                status=new.status))
        with self._db.transaction():
            number = self._allocate()
            self._insert(number, [new], operator, note)
            return self.by_id(number)

    def import_many(self, cases: Iterable[NewCase], *, operator: str,
                    batch_size: int = 20_000) -> int:
        """Create many cases fast (one transaction per batch); returns how many."""
        total = 0
        batch: list[NewCase] = []

        def flush() -> None:
            with self._db.transaction():
                self._insert(self._allocate(len(batch)), batch, operator, None)

        for new in cases:
            _check_new_case(new)
            batch.append(new)
            if len(batch) >= batch_size:
                flush()
                total += len(batch)
                batch = []
        if batch:
            flush()
            total += len(batch)
        return total

    def _insert(self, first: int, cases: list[NewCase], operator: str,
                note: str | None) -> None:
        now = self._db.now()
        values: list[tuple[Any, ...]] = []
        events: list[tuple[Any, ...]] = []
        sealed: dict[str, StoredNumber] = {}  # one sealing per number of the batch
        for number, new in enumerate(cases, start=first):
            at = new.received_at or now
            if new.reporter not in sealed:
                sealed[new.reporter] = self._db.stored(new.reporter)
            who = sealed[new.reporter]
            values.append((number, tickets.format_ticket(number, self.prefix, self.digits),
                           new.status, who.token, who.sealed, who.mask, who.problem,
                           new.channel,
                           new.text, at, now,
                           int(new.incomplete), ",".join(new.flags), new.first_action_at, at,
                           new.category, new.place,
                           place_words(new.place) if new.place else None, new.incident_id,
                           int(bool(new.urgent))))
            said = f"urgent: {', '.join(new.urgent)}" if new.urgent else None
            events.append((number, now, operator, self.audit.login, "created", None,
                           new.status, "; ".join(filter(None, [said, note])) or None))
        self._db.executemany(
            "INSERT INTO cases (id, ticket, status, reporter, reporter_sealed, reporter_mask,"
            " reporter_problem, channel, text, received_at,"
            " updated_at, incomplete, flags, first_action_at, last_message_at, category,"
            " place, place_words, incident_id, urgent)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            values,
        )
        # The first case of an incident names itself once a second one joins it, and its
        # history says which (no status changes: nobody is told anything).
        joined: dict[int, list[str]] = {}
        for number, new in enumerate(cases, start=first):
            if new.incident_id is not None:
                joined.setdefault(new.incident_id, []).append(
                    tickets.format_ticket(number, self.prefix, self.digits))
        self._db.executemany(
            "UPDATE cases SET incident_id = id WHERE id = ? AND incident_id IS NULL",
            [(first_id,) for first_id in joined])
        events += [(first_id, now, operator, self.audit.login, "linked", None, None,
                    f"possibly the same incident: {', '.join(named)}")
                   for first_id, named in joined.items()]
        self._db.executemany(
            "INSERT INTO case_events (case_id, at, operator, login, action, old_status,"
            " new_status, note) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            events,
        )

    # reading -----------------------------------------------------------------------

    def stored_reporter(self, case_id: int) -> StoredNumber:
        """The case's number as the database keeps it, to queue an SMS to it without
        opening it (an operator's reply, a notice). A case the sealing has not reached
        yet gives its old value, which the sealing then reaches in the outbox too."""
        row = self._db.one("SELECT reporter, reporter_sealed, reporter_mask, reporter_problem"
                           " FROM cases WHERE id = ?", (case_id,))
        if row is None:
            raise UnknownTicket(tickets.format_ticket(case_id, self.prefix, self.digits))
        return StoredNumber(row[0], row[1], row[2], row[3])

    def by_id(self, number: int) -> Case:
        row = self._db.one(f"SELECT {CASE_COLUMNS} FROM {CASE_FROM} WHERE c.id = ?",
                           (number,))
        if row is None:
            raise UnknownTicket(tickets.format_ticket(number, self.prefix, self.digits))
        return rows.case(row)

    def get(self, ticket: str) -> Case:
        number = self.ticket_number(ticket)
        row = self._db.one(f"SELECT {CASE_COLUMNS} FROM {CASE_FROM} WHERE c.id = ?",
                           (number,))
        if row is None:
            raise UnknownTicket(ticket)
        return rows.case(row)

    def detail(self, ticket: str) -> CaseDetail:
        """The case, its messages, its history and its outgoing SMS, read consistently."""
        with self._db.snapshot():
            case = self.get(ticket)
            messages = self._db.all(
                "SELECT * FROM messages WHERE case_id = ? ORDER BY concat_seq, id", (case.id,))
            events = self._db.all(
                "SELECT * FROM case_events WHERE case_id = ? ORDER BY id", (case.id,))
            outbox = self._db.all(
                "SELECT * FROM outbox WHERE case_id = ? ORDER BY id", (case.id,))
        shown, sealer = self._db.shown, self._db.sealer
        return CaseDetail(case, tuple(rows.inbound(m, shown, sealer) for m in messages),
                          tuple(map(rows.event, events)),
                          tuple(rows.outbox(o, shown) for o in outbox))

    def query(self, query: CaseQuery) -> list[Case]:
        """Cases matching every filter, newest (highest ticket) first; oldest first
        with ``sort="oldest"``; with ``sort="urgent"`` the open urgent ones (few: read
        by their own index) lead the newest of the others."""
        if query.sort == "urgent":
            return self._urgent_first(query)
        where, params = rows.case_filters(query, self._db.token)
        order = "ASC" if query.sort == "oldest" else "DESC"
        if query.search:
            # FTS5 walks its matches in rowid order itself: the first ``limit`` newest
            # matches come without sorting all of them.
            sql = (f"SELECT {CASE_COLUMNS} FROM cases_fts f JOIN cases c ON c.id = f.rowid"
                   " LEFT JOIN cases d ON d.id = c.duplicate_of"
                   f" WHERE cases_fts MATCH ? {''.join(' AND ' + w for w in where)}"
                   f" ORDER BY f.rowid {order}")
            params = [fts_query(query.search), *params]
        elif query.overdue is not None and query.limit is not None:
            # The newest overdue cases of each status: a walk down that status's cases
            # in ticket order (cases_status) until enough are late. When many are late
            # the first ones are; when few are, a well-kept desk, their statuses hold few
            # cases. (Read by the deadline's index instead, every late case would be
            # fetched and sorted: a quarter of a million on a neglected desk.)
            wanted = [(s, cutoff) for s, cutoff in query.overdue
                      if not query.statuses or s in query.statuses]
            where, params = rows.case_filters(
                dataclasses.replace(query, statuses=(), overdue=None), self._db.token)
            walks, params_ = [], []
            for status, cutoff in wanted:
                column = "received_at" if status == "new" else "updated_at"
                walks.append("SELECT * FROM (SELECT c.id FROM cases c INDEXED BY cases_status"
                             f" WHERE c.status = ? AND c.{column} < ?"
                             f"{''.join(' AND ' + w for w in where)}"
                             f" ORDER BY c.id {order} LIMIT ?)")
                params_ += [status, cutoff, *params, query.limit + query.offset]
            if not walks:
                return []
            sql = (f"SELECT {CASE_COLUMNS} FROM {CASE_FROM} WHERE c.id IN ("
                   + " UNION ALL ".join(walks) + f") ORDER BY c.id {order}")
            params = params_
        elif len(query.statuses) > 1 and query.limit is not None:
            # The newest ``limit`` of each status, merged: one short index walk per
            # status instead of sorting every case of all of them.
            statuses = [tickets.check_status(s) for s in query.statuses]
            where, params = rows.case_filters(dataclasses.replace(query, statuses=()),
                                              self._db.token)
            walk = ("SELECT * FROM (SELECT c.id FROM cases c WHERE "
                    + " AND ".join(["c.status = ?", *where]) + f" ORDER BY c.id {order} LIMIT ?)")
            sql = (f"SELECT {CASE_COLUMNS} FROM {CASE_FROM} WHERE c.id IN ("
                   + " UNION ALL ".join([walk] * len(statuses)) + f") ORDER BY c.id {order}")
            params = [p for s in statuses
                      for p in (s, *params, query.limit + query.offset)]
        else:
            sql = (f"SELECT {CASE_COLUMNS} FROM {CASE_FROM}"
                   f"{' WHERE ' + ' AND '.join(where) if where else ''} ORDER BY c.id {order}")
        together = adjacent(query.search) if query.search else None
        try:
            if together is not None:
                return self._filtered(sql, params, together, query.limit, query.offset)
            if query.limit is not None or query.offset:
                sql += " LIMIT ? OFFSET ?"
                params += [-1 if query.limit is None else query.limit, query.offset]
            return [rows.case(row) for row in self._db.all(sql, params)]
        except DatabaseError as exc:
            cause = exc.__cause__
            if cause is not None and "fts5" in str(cause).lower():
                raise InvalidInput(_("cannot search for {words!r}: {error}").format(
                    words=query.search, error=cause)) from None
            raise

    def _urgent_first(self, query: CaseQuery) -> list[Case]:
        newest = dataclasses.replace(query, sort="newest")
        # No more of the leading cases than the page needs: fewer than that is all of them.
        leading = self.query(dataclasses.replace(
            newest, lead=True, offset=0,
            limit=None if query.limit is None else query.offset + query.limit))
        page = leading[query.offset:]
        if query.limit is not None:
            page = page[:query.limit]
            if len(page) == query.limit:
                return page
        rest = self.query(dataclasses.replace(
            newest, lead=False, offset=max(0, query.offset - len(leading)),
            limit=None if query.limit is None else query.limit - len(page)))
        return page + rest

    def _filtered(self, sql: str, params: list[Any], keep: Callable[[str], bool],
                  limit: int | None, offset: int = 0) -> list[Case]:
        """Newest matches first, streamed until ``limit`` of them pass ``keep`` after
        the first ``offset`` that do."""
        kept: list[Case] = []
        for row in self._db.iterate(sql, params, batch=200):
            if keep(row[5]):  # c.text (rows.CASE_COLUMNS), before building the Case
                if offset:
                    offset -= 1
                    continue
                kept.append(rows.case(row))
                if limit is not None and len(kept) >= limit:
                    break
        return kept

    def stream(self, *, since: str | None = None, until: str | None = None
               ) -> Iterator[Case]:
        """Every case received in the window, oldest first, streamed (for exports)."""
        where, params = rows.case_filters(CaseQuery(since=since, until=until))
        sql = (f"SELECT {CASE_COLUMNS} FROM {CASE_FROM}"
               f"{' WHERE ' + ' AND '.join(where) if where else ''} ORDER BY c.id")
        for row in self._db.iterate(sql, params):
            yield rows.case(row)

    def stats(self, *, since: str | None = None, until: str | None = None, top: int = 5,
              utc_offset_seconds: int = 0, daemon: str | None = None) -> Stats:
        """Counts for the window [since, until); see ``stats.case_stats``."""
        return case_stats(self._db, since=since, until=until, top=top,
                          utc_offset_seconds=utc_offset_seconds, daemon=daemon)

    # a reporter's cases (the daemon's side) ------------------------------------------

    def open_case_of(self, reporter: str, *, since: str) -> Case | None:
        """The reporter's open case that last heard from them at or after ``since``."""
        row = self._db.one(
            f"SELECT {CASE_COLUMNS} FROM {CASE_FROM} WHERE c.reporter = ?"
            f" AND c.status IN ({sql_list(tickets.OPEN_STATUSES)})"
            " AND c.last_message_at >= ? ORDER BY c.id DESC LIMIT 1",
            (self._db.token(reporter), since))
        return rows.case(row) if row else None

    def latest_of(self, reporter: str) -> Case | None:
        row = self._db.one(
            f"SELECT {CASE_COLUMNS} FROM {CASE_FROM} WHERE c.reporter = ?"
            " ORDER BY c.id DESC LIMIT 1", (self._db.token(reporter),))
        return rows.case(row) if row else None

    def find_of(self, ticket: str, *, reporter: str) -> Case | None:
        """The case with this ticket if ``reporter`` reported it; None otherwise."""
        try:
            number = self.ticket_number(ticket)
        except (InvalidInput, UnknownTicket):
            return None
        row = self._db.one(
            f"SELECT {CASE_COLUMNS} FROM {CASE_FROM} WHERE c.id = ? AND c.reporter = ?",
            (number, self._db.token(reporter)))
        return rows.case(row) if row else None

    # changing ----------------------------------------------------------------------

    def update(self, ticket: str, *, operator: str, status: str | None = None,
               note: str | None = None, assign: str | None = None,
               duplicate_of: str | None = None, category: str | None = None,
               place: str | None = None) -> Case:
        """Change status, add a note, (un)assign (``assign=""``), mark a duplicate,
        correct the category or the place (``place=""`` clears it).

        All or nothing; each change is one case event carrying the operator's name.
        """
        request = tickets.check_update(status=status, note=note, assign=assign,
                                       duplicate_of=duplicate_of, category=category,
                                       place=place)
        with self._db.transaction():
            number = self._case_id(ticket)
            case = self.by_id(number)
            duplicate: tickets.CaseFacts | InvalidInput | UnknownTicket | None = None
            chain: list[tickets.CaseFacts] = []
            if request.status == "duplicate" and request.duplicate_of:
                duplicate = self._facts_or_error(request.duplicate_of)
                if isinstance(duplicate, tickets.CaseFacts):
                    chain = self._duplicate_chain(duplicate.id)
            change = tickets.plan_update(
                tickets.CaseFacts(case.id, case.ticket, case.status, case.assigned_to,
                                  case.category, case.place),
                request, duplicate=duplicate, duplicate_chain=chain)
            if not change.events:
                return case
            now = self._db.now()
            sets: dict[str, Any] = {**change.columns, "updated_at": now}
            if "place" in sets:
                sets["place_words"] = place_words(sets["place"]) if sets["place"] else None
            columns = ", ".join(f"{k} = ?" for k in sets)
            self._db.execute(
                f"UPDATE cases SET {columns}, first_action_at = coalesce(first_action_at, ?)"
                " WHERE id = ?",
                (*sets.values(), now, number),
            )
            self._db.executemany(
                "INSERT INTO case_events (case_id, at, operator, login, action, old_status,"
                " new_status, note) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [(number, now, operator, self.audit.login, e.action, e.old_status,
                  e.new_status, e.note) for e in change.events],
            )
            return self.by_id(number)

    def _facts_or_error(self, ticket: str) -> tickets.CaseFacts | InvalidInput | UnknownTicket:
        try:
            other = self.by_id(self._case_id(ticket))
        except (InvalidInput, UnknownTicket) as exc:
            return exc
        return tickets.CaseFacts(other.id, other.ticket, other.status, other.assigned_to)

    def _duplicate_chain(self, case_id: int) -> list[tickets.CaseFacts]:
        """The cases ``case_id`` is a duplicate of, of which that one is, and so on. A
        cycle already stored (before they were refused) ends the walk where it closes."""
        chain: list[tickets.CaseFacts] = []
        seen = {case_id}
        row = self._db.one("SELECT duplicate_of FROM cases WHERE id = ?", (case_id,))
        following = row["duplicate_of"] if row else None
        while following is not None and following not in seen:
            seen.add(following)
            row = self._db.one("SELECT id, ticket, status, assigned_to, duplicate_of"
                               " FROM cases WHERE id = ?", (following,))
            if row is None:
                break
            chain.append(tickets.CaseFacts(row["id"], row["ticket"], row["status"],
                                           row["assigned_to"]))
            following = row["duplicate_of"]
        return chain

    def record_reveal(self, ticket: str, *, operator: str, via: str = "cases show") -> None:
        """Audit an operator seeing a reporter's full number: in the case's history and
        in the audit log."""
        with self._db.transaction():
            number = self._case_id(ticket)
            self.event(number, operator, "reveal", note="number revealed")
            self.audit.record("reveal", f"{via}: "
                              f"{tickets.format_ticket(number, self.prefix, self.digits)}",
                              operator=operator)

    def lookup(self, query: CaseQuery, *, operator: str, reveal: bool = False,
               via: str = "cases list") -> list[Case]:
        """``query`` as an operator asked it, audited.

        Looking up a reporter's number says whether that number reported, so it is
        recorded (masked) even when nothing matched; with ``reveal`` every case shown
        gets a "number revealed" line. The read and its record are one transaction: a
        look that cannot be recorded (a read-only database) shows nothing.
        """
        if not (reveal or query.reporter):
            return self.query(query)
        self._db.ask_first(query.reporter)
        with self._db.transaction():
            cases = self.query(query)
            shown = found("case", [c.ticket for c in cases])
            if query.reporter:
                self.audit.record("lookup", f"{via} --reporter "
                                  f"{mask_number(query.reporter)}: {shown}", operator=operator)
            if reveal:
                for case in cases:
                    self.event(case.id, operator, "reveal", note="number revealed")
                self.audit.record("reveal", f"{via}: {shown}", operator=operator)
            return cases

    def add_followup(self, case_id: int, text: str, *, append: bool, note: str, at: str,
                     operator: str, before: bool = False) -> None:
        """Record another SMS of the reporter on their open case (no new ticket): its
        text added when ``append`` (``intake.decide`` says when), after the case's text
        or, ``before``, ahead of it (it was sent first, and arrived later), and a
        history line with ``note``. Its messages are attached with ``Inbox.attach``."""
        with self._db.transaction():
            if append:
                joined = "? || ? || text" if before else "text || ? || ?"
                self._db.execute(f"UPDATE cases SET text = {joined}, updated_at = ?"
                                 " WHERE id = ?",
                                 (text, "\n", at, case_id) if before else ("\n", text, at,
                                                                           case_id))
            self.event(case_id, operator, "followup", note=note)

    def flag(self, case_id: int, flag: str, *, operator: str, note: str) -> None:
        with self._db.transaction():
            flags = self._db.scalar("SELECT flags FROM cases WHERE id = ?", (case_id,))
            if flag in flags.split(","):
                return
            self._db.execute("UPDATE cases SET flags = ? WHERE id = ?",
                             (",".join(filter(None, [*flags.split(","), flag])), case_id))
            self.event(case_id, operator, "flag", note=f"{flag}: {note}")

    def add_note(self, case_id: int, note: str, *, operator: str) -> None:
        with self._db.transaction():
            self.event(case_id, operator, "note", note=note)

    def touch(self, case_id: int) -> None:
        """An operator acted on the case: it is updated now, and acted on from now."""
        now = self._db.now()
        self._db.execute("UPDATE cases SET updated_at = ?, first_action_at ="
                         " coalesce(first_action_at, ?) WHERE id = ?", (now, now, case_id))

    def event(self, case_id: int, operator: str, action: str, *, old: str | None = None,
              new: str | None = None, note: str | None = None) -> None:
        """One line of the case's history (inside the caller's transaction)."""
        self._db.execute(
            "INSERT INTO case_events (case_id, at, operator, login, action, old_status,"
            " new_status, note) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (case_id, self._db.now(), operator, self.audit.login, action, old, new, note),
        )


def _check_new_case(new: NewCase) -> None:
    if new.channel not in CHANNELS:
        raise InvalidInput(_("unknown channel {channel!r}; expected one of {channels}").format(
            channel=new.channel, channels=", ".join(CHANNELS)))
    if not new.reporter.strip():
        raise InvalidInput(_("the reporter's number is empty"))
    tickets.check_status(new.status)
