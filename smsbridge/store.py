"""The case database: every SQL statement of smsbridge lives in this module.

One SQLite file, shared by the daemon and any number of operators' CLIs:

* WAL, so readers never wait for the writer and the writer never waits for readers;
* every write in ``transaction()``: ``BEGIN IMMEDIATE`` takes the write lock up front
  (a deferred transaction that reads first can fail with SQLITE_BUSY at its first
  write, whatever the busy timeout), and a busy database is waited for, not failed;
* ``synchronous=FULL``: the daemon deletes an SMS from the SIM once its row is
  committed, so a commit must survive a power cut, not only a crash;
* schema changes are named migrations (``sqlite_utils.migrations``), each also
  setting ``PRAGMA user_version``; they run on open, under the write lock, so two
  processes opening a new file at once cannot both migrate it.

sqlite-utils is imported only when a migration has to run: it costs more start-up
time than an operator's whole ``cases list`` may take. Day-to-day queries are plain
parameterised SQL on the same connection.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import json
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from smsbridge import tickets
from smsbridge.errors import DatabaseError, InvalidInput, UnknownTicket
from smsbridge.models import (
    Case,
    CaseDetail,
    CaseEvent,
    CaseQuery,
    InboundRecord,
    NewCase,
    OutboxItem,
    Stats,
    now_iso,
)

if TYPE_CHECKING:
    from sqlite_utils import Database
    from sqlite_utils.migrations import Migrations

    from smsbridge.config import Config

SCHEMA_VERSION = 4
# Owner and group only: the service user, and operators in its group, who must be
# able to write (updates, replies) as well as read.
FILE_MODE = 0o660
CHANNELS = ("sms", "phone", "whatsapp", "walk-in")
OUTBOX_KINDS = ("ack", "status", "operator", "notice")
OUTBOX_STATES = ("queued", "sent", "delivered", "failed", "gave_up")
MESSAGE_KINDS = ("deliver", "status_report", "undecodable")
MAX_REPLY_CHARS = 1000

_T = TypeVar("_T")


def _sql_list(values: Iterable[str]) -> str:
    return ", ".join(f"'{v}'" for v in values)


# --- schema -----------------------------------------------------------------------

# Version 1: the tables the daemon and the CLI share.
_SCHEMA_1 = f"""
CREATE TABLE counters (
    name TEXT PRIMARY KEY,
    value INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO counters (name, value) VALUES ('ticket', 0);

-- id is the ticket's number, taken from counters.ticket inside the creating
-- transaction: monotonic, never reused, and a bare number finds its case directly.
CREATE TABLE cases (
    id INTEGER PRIMARY KEY,
    ticket TEXT NOT NULL UNIQUE,
    status TEXT NOT NULL DEFAULT 'new' CHECK (status IN ({_sql_list(tickets.STATUSES)})),
    reporter TEXT NOT NULL,
    channel TEXT NOT NULL DEFAULT 'sms' CHECK (channel IN ({_sql_list(CHANNELS)})),
    text TEXT NOT NULL DEFAULT '',
    received_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    assigned_to TEXT,
    duplicate_of INTEGER REFERENCES cases (id),
    incomplete INTEGER NOT NULL DEFAULT 0 CHECK (incomplete IN (0, 1)),
    flags TEXT NOT NULL DEFAULT '',
    first_action_at TEXT,
    last_message_at TEXT
);
CREATE INDEX cases_status ON cases (status);
CREATE INDEX cases_reporter ON cases (reporter, status);
CREATE INDEX cases_received ON cases (received_at);
CREATE INDEX cases_assigned ON cases (assigned_to) WHERE assigned_to IS NOT NULL;
CREATE INDEX cases_duplicate_of ON cases (duplicate_of) WHERE duplicate_of IS NOT NULL;

CREATE TABLE messages (
    id INTEGER PRIMARY KEY,
    pdu_hash TEXT NOT NULL UNIQUE,
    pdu TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ({_sql_list(MESSAGE_KINDS)})),
    error TEXT,
    sender TEXT,
    sender_toa INTEGER,
    smsc TEXT,
    sent_at TEXT,
    received_at TEXT NOT NULL,
    text TEXT,
    concat_ref INTEGER,
    concat_total INTEGER,
    concat_seq INTEGER,
    case_id INTEGER REFERENCES cases (id)
);
CREATE INDEX messages_concat ON messages (sender, concat_ref, concat_total);
CREATE INDEX messages_sender_received ON messages (sender, received_at);
CREATE INDEX messages_case ON messages (case_id);

CREATE TABLE case_events (
    id INTEGER PRIMARY KEY,
    case_id INTEGER NOT NULL REFERENCES cases (id),
    at TEXT NOT NULL,
    operator TEXT NOT NULL,
    action TEXT NOT NULL,
    old_status TEXT,
    new_status TEXT,
    note TEXT
);
CREATE INDEX case_events_case ON case_events (case_id);

CREATE TABLE outbox (
    id INTEGER PRIMARY KEY,
    case_id INTEGER REFERENCES cases (id),
    number TEXT NOT NULL,
    text TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ({_sql_list(OUTBOX_KINDS)})),
    state TEXT NOT NULL DEFAULT 'queued' CHECK (state IN ({_sql_list(OUTBOX_STATES)})),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT,
    last_error TEXT,
    created_at TEXT NOT NULL,
    sent_at TEXT,
    delivered_at TEXT,
    refs TEXT NOT NULL DEFAULT '[]',
    created_by TEXT NOT NULL
);
CREATE INDEX outbox_due ON outbox (state, next_attempt_at);
CREATE INDEX outbox_case ON outbox (case_id);
CREATE INDEX outbox_number ON outbox (number, created_at);

CREATE TABLE daemon_state (
    key TEXT PRIMARY KEY,
    value TEXT,
    updated_at TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE hooks (
    id INTEGER PRIMARY KEY,
    case_id INTEGER NOT NULL REFERENCES cases (id),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT,
    last_error TEXT,
    done_at TEXT
);
CREATE INDEX hooks_pending ON hooks (done_at, next_attempt_at);
"""

# Version 2: full-text search over case texts. An external-content FTS5 table (the
# text is stored once, in cases) kept in step by triggers; detail=column keeps the
# index small and still answers "every word, in any order" and prefix queries.
_SCHEMA_2 = """
CREATE VIRTUAL TABLE cases_fts USING fts5(
    text, content='cases', content_rowid='id',
    tokenize='unicode61 remove_diacritics 2', detail=column
);
CREATE TRIGGER cases_fts_insert AFTER INSERT ON cases BEGIN
    INSERT INTO cases_fts (rowid, text) VALUES (new.id, new.text);
END;
CREATE TRIGGER cases_fts_delete AFTER DELETE ON cases BEGIN
    INSERT INTO cases_fts (cases_fts, rowid, text) VALUES ('delete', old.id, old.text);
END;
CREATE TRIGGER cases_fts_update AFTER UPDATE OF text ON cases BEGIN
    INSERT INTO cases_fts (cases_fts, rowid, text) VALUES ('delete', old.id, old.text);
    INSERT INTO cases_fts (rowid, text) VALUES (new.id, new.text);
END;
INSERT INTO cases_fts (cases_fts) VALUES ('rebuild');
"""

# Version 3: a part of a long SMS waits (handled_at NULL) until its siblings make a
# case with it, or the part timeout makes an incomplete case; whatever happens to it,
# handled_at says it is done, so it is never picked up twice.
_SCHEMA_3 = """
ALTER TABLE messages ADD COLUMN handled_at TEXT;
UPDATE messages SET handled_at = received_at WHERE case_id IS NOT NULL
    OR concat_total IS NULL OR concat_total <= 1;
CREATE INDEX messages_waiting ON messages (concat_total) WHERE handled_at IS NULL;
"""

# Version 4: ``stats`` reads one index range instead of a million table rows: every
# column it needs (status, first action, reporter) rides along with received_at.
_SCHEMA_4 = """
DROP INDEX cases_received;
CREATE INDEX cases_received ON cases (received_at, status, first_action_at, reporter);
"""

MIGRATION_NAMES = ("0001_initial", "0002_case_search", "0003_message_handled",
                   "0004_stats_index")


def _run_script(db: Database, script: str, version: int) -> None:
    # executescript() would COMMIT the surrounding transaction; run statement by
    # statement so the migration stays atomic with its bookkeeping row.
    for statement in _split_sql(script):
        db.execute(statement)
    db.execute(f"PRAGMA user_version = {version}")


def _split_sql(script: str) -> list[str]:
    statements, current = [], ""
    for line in script.splitlines(keepends=True):
        if line.lstrip().startswith("--"):
            continue
        current += line
        if sqlite3.complete_statement(current):
            statements.append(current.strip())
            current = ""
    return [s for s in statements if s]


def migrations() -> Migrations:
    """The named migrations of the schema, in order (imports sqlite-utils)."""
    from sqlite_utils.migrations import Migrations

    steps = Migrations("smsbridge")

    @steps(name=MIGRATION_NAMES[0])
    def initial(db: Database) -> None:
        _run_script(db, _SCHEMA_1, 1)

    @steps(name=MIGRATION_NAMES[1])
    def case_search(db: Database) -> None:
        _run_script(db, _SCHEMA_2, 2)

    @steps(name=MIGRATION_NAMES[2])
    def message_handled(db: Database) -> None:
        _run_script(db, _SCHEMA_3, 3)

    @steps(name=MIGRATION_NAMES[3])
    def stats_index(db: Database) -> None:
        _run_script(db, _SCHEMA_4, 4)

    return steps


# --- errors -----------------------------------------------------------------------


def _explain(path: str, exc: sqlite3.Error, busy_timeout: float) -> DatabaseError:
    text = str(exc)
    low = text.lower()
    if "locked" in low or "busy" in low:
        msg = (f"{path}: the database stayed locked by another process for more than "
               f"{busy_timeout:g} s ([database] busy_timeout); nothing was changed, try again")
    elif "readonly" in low or "read-only" in low:
        msg = (f"{path}: the database is read-only for this user; run as the smsbridge "
               "service user, or give the group write access to the file and its directory")
    elif "full" in low or "disk i/o" in low:
        msg = (f"{path}: cannot write ({text}): the disk is full or failing; free space "
               "on the disk that holds the database. Nothing was changed")
    elif "not a database" in low or "malformed" in low or "corrupt" in low:
        msg = f"{path}: not an SQLite database or corrupt ({text}); restore it from a backup"
    elif "unable to open" in low:
        msg = f"{path}: cannot open the database ({text}); check the path and its permissions"
    else:
        msg = f"{path}: database error: {text}"
    err = DatabaseError(msg)
    err.__cause__ = exc
    return err


def _guarded(fn: Callable[..., _T]) -> Callable[..., _T]:
    """SQLite errors leave the store only as DatabaseError with a line that explains."""

    @functools.wraps(fn)
    def wrapper(self: CaseStore, *args: Any, **kwargs: Any) -> _T:
        try:
            return fn(self, *args, **kwargs)
        except sqlite3.Error as exc:
            raise _explain(self.path, exc, self.busy_timeout) from exc

    return wrapper


def _guarded_iter(fn: Callable[..., Iterator[_T]]) -> Callable[..., Iterator[_T]]:
    @functools.wraps(fn)
    def wrapper(self: CaseStore, *args: Any, **kwargs: Any) -> Iterator[_T]:
        try:
            yield from fn(self, *args, **kwargs)
        except sqlite3.Error as exc:
            raise _explain(self.path, exc, self.busy_timeout) from exc

    return wrapper


# --- row conversion ---------------------------------------------------------------

_CASE_COLUMNS = """
    c.id, c.ticket, c.status, c.reporter, c.channel, c.text, c.received_at, c.updated_at,
    c.assigned_to, d.ticket, c.incomplete, c.flags, c.first_action_at, c.last_message_at,
    (SELECT count(*) FROM messages m WHERE m.case_id = c.id)
"""
_CASE_FROM = "cases c LEFT JOIN cases d ON d.id = c.duplicate_of"


def _case(row: tuple) -> Case:
    return Case(
        id=row[0], ticket=row[1], status=row[2], reporter=row[3], channel=row[4],
        text=row[5], received_at=row[6], updated_at=row[7], assigned_to=row[8],
        duplicate_of=row[9], incomplete=bool(row[10]),
        flags=tuple(f for f in row[11].split(",") if f), first_action_at=row[12],
        last_message_at=row[13], messages=row[14],
    )


def _event(row: sqlite3.Row) -> CaseEvent:
    return CaseEvent(**dict(row))


def _outbox(row: sqlite3.Row) -> OutboxItem:
    data = dict(row)
    data["refs"] = tuple(json.loads(data["refs"] or "[]"))
    return OutboxItem(**data)


def _inbound(row: sqlite3.Row) -> InboundRecord:
    return InboundRecord(**dict(row))


def fts_query(text: str) -> str:
    """Words as typed -> an FTS5 query matching cases that contain every word.

    Each word is quoted, so FTS5 syntax (``AND``, ``-``, ``:``, ``"``) in what an
    operator types cannot cause a syntax error; a trailing ``*`` keeps its meaning
    of "any word starting with".
    """
    terms = []
    for word in text.split():
        prefix = word.endswith("*")
        word = word.rstrip("*").replace('"', "")
        if word:
            terms.append(f'"{word}"' + ("*" if prefix else ""))
    if not terms:
        raise InvalidInput(f"nothing to search for in {text!r}; give one or more words")
    return " ".join(terms)


# --- the store --------------------------------------------------------------------


class CaseStore:
    """The case database. Open with ``CaseStore.open(path)``; close when done.

    One store per thread (sqlite3 connections are not shared between threads).
    Every public write runs in one ``transaction()``; calling them inside an outer
    ``transaction()`` makes them part of it (nested ones become savepoints).
    """

    def __init__(self, conn: sqlite3.Connection, path: str, *, busy_timeout: float,
                 prefix: str, digits: int):
        self.conn = conn
        self.path = path
        self.busy_timeout = busy_timeout
        self.prefix = prefix
        self.digits = digits
        self._depth = 0
        self._db: Database | None = None

    # opening -----------------------------------------------------------------------

    @classmethod
    def open(cls, path: str | os.PathLike, *, busy_timeout: float = 30.0, create: bool = True,
             ticket_prefix: str = "LP", ticket_digits: int = 6) -> CaseStore:
        """Open (and migrate) the database at ``path``.

        A missing file is created (mode 0660) only with ``create``; a missing
        directory is always an error, so a wrong path is never silently replaced by
        an empty database.
        """
        where = str(path)
        if where != ":memory:":
            file = Path(where)
            if not file.parent.is_dir():
                raise DatabaseError(f"{where}: directory {file.parent} does not exist; "
                                    "check [database] path in the config")
            if not file.exists():
                if not create:
                    raise DatabaseError(
                        f"{where}: no database yet; the daemon creates it when it starts, "
                        "or `smsbridge cases add` does (check [database] path in the config)"
                    )
                _create_private_file(file)
            elif file.is_dir():
                raise DatabaseError(f"{where}: is a directory, not a database file")
        try:
            conn = sqlite3.connect(where, timeout=busy_timeout, isolation_level=None)
        except sqlite3.Error as exc:
            raise _explain(where, exc, busy_timeout) from exc
        store = cls(conn, where, busy_timeout=busy_timeout, prefix=ticket_prefix,
                    digits=ticket_digits)
        try:
            store._prepare()
        except BaseException:
            conn.close()
            raise
        return store

    @classmethod
    def from_config(cls, cfg: Config, *, create: bool = True) -> CaseStore:
        return cls.open(cfg.database.path, busy_timeout=cfg.database.busy_timeout,
                        create=create, ticket_prefix=cfg.tickets.prefix,
                        ticket_digits=cfg.tickets.digits)

    @_guarded
    def _prepare(self) -> None:
        self.conn.row_factory = sqlite3.Row
        self.conn.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout * 1000)}")
        self.conn.execute("PRAGMA foreign_keys = ON")
        self.conn.execute("PRAGMA synchronous = FULL")
        version = self.schema_version()
        if version > SCHEMA_VERSION:
            raise DatabaseError(
                f"{self.path}: schema version {version} is newer than this smsbridge "
                f"understands ({SCHEMA_VERSION}); upgrade smsbridge"
            )
        if self.conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
            self.conn.execute("PRAGMA journal_mode = WAL")
        if version < SCHEMA_VERSION:
            self.migrate()

    def schema_version(self) -> int:
        return self.conn.execute("PRAGMA user_version").fetchone()[0]

    @_guarded
    def migrate(self, *, stop_before: str | None = None) -> None:
        """Apply pending migrations, all under one write lock."""
        from sqlite_utils import Database

        db = Database(self.conn, execute_plugins=False)
        with self.transaction():
            migrations().apply(db, stop_before=stop_before)

    @property
    def db(self) -> Database:
        """The sqlite-utils view of the same connection (imports sqlite-utils)."""
        if self._db is None:
            from sqlite_utils import Database

            self._db = Database(self.conn, execute_plugins=False)
        return self._db

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> CaseStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # transactions ------------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction holding the write lock from its first statement.

        Nested use makes a savepoint. An exception rolls everything back.
        """
        if self._depth:
            name = f"sp{self._depth}"
            self.conn.execute(f"SAVEPOINT {name}")
            self._depth += 1
            try:
                yield self.conn
            except BaseException:
                # The error being raised matters, not a failing rollback (disk I/O): the
                # outermost transaction rolls everything back anyway.
                with contextlib.suppress(sqlite3.Error):
                    self.conn.execute(f"ROLLBACK TO {name}")
                    self.conn.execute(f"RELEASE {name}")
                raise
            else:
                self.conn.execute(f"RELEASE {name}")
            finally:
                self._depth -= 1
            return
        self._begin_immediate()
        self._depth = 1
        try:
            yield self.conn
            try:
                self.conn.execute("COMMIT")
            except sqlite3.Error as exc:
                # A full disk shows here first (the WAL grows at commit): the caller must
                # see a DatabaseError and know nothing was committed.
                raise _explain(self.path, exc, self.busy_timeout) from exc
        except BaseException:
            if self.conn.in_transaction:
                with contextlib.suppress(sqlite3.Error):
                    self.conn.execute("ROLLBACK")
            raise
        finally:
            self._depth = 0

    @contextmanager
    def _snapshot(self) -> Iterator[None]:
        """Several reads that see one state of the database (the daemon may commit
        between them otherwise). Inside a transaction, that transaction is the view."""
        if self.conn.in_transaction:
            yield
            return
        self.conn.execute("BEGIN")
        try:
            yield
        finally:
            self.conn.execute("COMMIT")

    def _begin_immediate(self) -> None:
        # The busy handler already waits up to busy_timeout inside BEGIN IMMEDIATE;
        # SQLite skips it in a few cases (a WAL being recovered, a lock held while
        # another connection checkpoints), so keep trying until the same deadline.
        deadline = time.monotonic() + self.busy_timeout
        pause = 0.005
        waiter = threading.Event()
        while True:
            try:
                self.conn.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                low = str(exc).lower()
                if ("locked" not in low and "busy" not in low) or time.monotonic() >= deadline:
                    raise _explain(self.path, exc, self.busy_timeout) from exc
            waiter.wait(pause)
            pause = min(pause * 2, 0.25)

    # tickets -----------------------------------------------------------------------

    def ticket_number(self, text: str) -> int:
        return tickets.parse_ticket(text, self.prefix, self.digits)

    def _allocate(self, conn: sqlite3.Connection, count: int = 1) -> int:
        """Reserve ``count`` ticket numbers; returns the first. Call inside a transaction."""
        row = conn.execute(
            "UPDATE counters SET value = value + ? WHERE name = 'ticket' RETURNING value",
            (count,),
        ).fetchone()
        return row[0] - count + 1

    def _case_id(self, conn: sqlite3.Connection, ticket: str) -> int:
        number = self.ticket_number(ticket)
        if conn.execute("SELECT 1 FROM cases WHERE id = ?", (number,)).fetchone() is None:
            raise UnknownTicket(ticket)
        return number

    # cases -------------------------------------------------------------------------

    @_guarded
    def create_case(self, new: NewCase, *, operator: str, note: str | None = None) -> Case:
        """A new case with the next ticket, and its "created" event."""
        _check_new_case(new)
        if new.status != "new":
            raise InvalidInput(f"a new case starts as new, not {new.status!r}")
        with self.transaction() as conn:
            number = self._allocate(conn)
            self._insert_cases(conn, number, [new], operator, note)
            return self._get(conn, number)

    @_guarded
    def import_cases(self, cases: Iterable[NewCase], *, operator: str,
                     batch_size: int = 20_000) -> int:
        """Create many cases fast (one transaction per batch); returns how many."""
        total = 0
        batch: list[NewCase] = []

        def flush() -> None:
            with self.transaction() as conn:
                first = self._allocate(conn, len(batch))
                self._insert_cases(conn, first, batch, operator, None)

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

    def _insert_cases(self, conn: sqlite3.Connection, first: int, cases: list[NewCase],
                      operator: str, note: str | None) -> None:
        now = now_iso()
        rows, events = [], []
        for number, new in enumerate(cases, start=first):
            at = new.received_at or now
            rows.append((number, tickets.format_ticket(number, self.prefix, self.digits),
                         new.status, new.reporter, new.channel, new.text, at, now,
                         int(new.incomplete), ",".join(new.flags), new.first_action_at, at))
            events.append((number, now, operator, "created", None, new.status, note))
        conn.executemany(
            "INSERT INTO cases (id, ticket, status, reporter, channel, text, received_at,"
            " updated_at, incomplete, flags, first_action_at, last_message_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
        conn.executemany(
            "INSERT INTO case_events (case_id, at, operator, action, old_status, new_status,"
            " note) VALUES (?, ?, ?, ?, ?, ?, ?)",
            events,
        )

    def _get(self, conn: sqlite3.Connection, number: int) -> Case:
        row = conn.execute(f"SELECT {_CASE_COLUMNS} FROM {_CASE_FROM} WHERE c.id = ?",
                           (number,)).fetchone()
        if row is None:
            raise UnknownTicket(tickets.format_ticket(number, self.prefix, self.digits))
        return _case(row)

    @_guarded
    def get_case(self, ticket: str) -> Case:
        number = self.ticket_number(ticket)
        row = self.conn.execute(f"SELECT {_CASE_COLUMNS} FROM {_CASE_FROM} WHERE c.id = ?",
                                (number,)).fetchone()
        if row is None:
            raise UnknownTicket(ticket)
        return _case(row)

    @_guarded
    def case_detail(self, ticket: str) -> CaseDetail:
        """The case, its messages, its history and its outgoing SMS, read consistently."""
        with self._snapshot():
            case = self.get_case(ticket)
            messages = self.conn.execute(
                "SELECT * FROM messages WHERE case_id = ? ORDER BY concat_seq, id", (case.id,)
            ).fetchall()
            events = self.conn.execute(
                "SELECT * FROM case_events WHERE case_id = ? ORDER BY id", (case.id,)
            ).fetchall()
            outbox = self.conn.execute(
                "SELECT * FROM outbox WHERE case_id = ? ORDER BY id", (case.id,)
            ).fetchall()
        return CaseDetail(case, tuple(map(_inbound, messages)), tuple(map(_event, events)),
                          tuple(map(_outbox, outbox)))

    @_guarded
    def list_cases(self, query: CaseQuery) -> list[Case]:
        """Cases matching every filter, newest (highest ticket) first."""
        where, params = self._filters(query)
        if query.search:
            # FTS5 walks its matches in rowid order itself: the first ``limit`` newest
            # matches come without sorting all of them.
            sql = (f"SELECT {_CASE_COLUMNS} FROM cases_fts f JOIN cases c ON c.id = f.rowid"
                   " LEFT JOIN cases d ON d.id = c.duplicate_of"
                   f" WHERE cases_fts MATCH ? {''.join(' AND ' + w for w in where)}"
                   " ORDER BY f.rowid DESC")
            params = [fts_query(query.search), *params]
        elif len(query.statuses) > 1 and query.limit is not None:
            # The newest ``limit`` of each status, merged: one short index walk per
            # status instead of sorting every case of all of them.
            statuses = [tickets.check_status(s) for s in query.statuses]
            where, params = self._filters(dataclasses.replace(query, statuses=()))
            walk = ("SELECT * FROM (SELECT c.id FROM cases c WHERE "
                    + " AND ".join(["c.status = ?", *where]) + " ORDER BY c.id DESC LIMIT ?)")
            sql = (f"SELECT {_CASE_COLUMNS} FROM {_CASE_FROM} WHERE c.id IN ("
                   + " UNION ALL ".join([walk] * len(statuses)) + ") ORDER BY c.id DESC")
            params = [p for s in statuses for p in (s, *params, query.limit)]
        else:
            sql = (f"SELECT {_CASE_COLUMNS} FROM {_CASE_FROM}"
                   f"{' WHERE ' + ' AND '.join(where) if where else ''} ORDER BY c.id DESC")
        if query.limit is not None:
            sql += " LIMIT ?"
            params.append(query.limit)
        try:
            return [_case(row) for row in self.conn.execute(sql, params)]
        except sqlite3.OperationalError as exc:
            if "fts5" in str(exc).lower():
                raise InvalidInput(f"cannot search for {query.search!r}: {exc}") from None
            raise

    @staticmethod
    def _filters(query: CaseQuery) -> tuple[list[str], list[Any]]:
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
            where.append("c.assigned_to = ?")
            params.append(query.assigned)
        return where, params

    @_guarded_iter
    def iter_cases(self, *, since: str | None = None, until: str | None = None
                   ) -> Iterator[Case]:
        """Every case received in the window, oldest first, streamed (for exports)."""
        where, params = self._filters(CaseQuery(since=since, until=until))
        sql = (f"SELECT {_CASE_COLUMNS} FROM {_CASE_FROM}"
               f"{' WHERE ' + ' AND '.join(where) if where else ''} ORDER BY c.id")
        for row in self.conn.execute(sql, params):
            yield _case(row)

    @_guarded
    def update_case(self, ticket: str, *, operator: str, status: str | None = None,
                    note: str | None = None, assign: str | None = None,
                    duplicate_of: str | None = None) -> Case:
        """Change status, add a note, (un)assign (``assign=""``), mark a duplicate.

        All or nothing; each change is one case event carrying the operator's name.
        """
        if status is None and duplicate_of is not None:
            status = "duplicate"
        if status is None and note is None and assign is None:
            raise InvalidInput("nothing to update: give --status, --note, --assign or "
                               "--duplicate-of")
        if note is not None and not note.strip():
            raise InvalidInput("the note is empty")
        wanted = tickets.check_status(status) if status is not None else None
        with self.transaction() as conn:
            number = self._case_id(conn, ticket)
            case = self._get(conn, number)
            now = now_iso()
            sets: dict[str, Any] = {}
            events: list[tuple] = []
            if wanted is not None:
                tickets.check_transition(case.ticket, case.status, wanted, note=note,
                                         duplicate_of=duplicate_of)
                sets["status"] = wanted
                action = "status"
                if wanted == "duplicate":
                    assert duplicate_of is not None
                    other = self._case_id(conn, duplicate_of)
                    if other == number:
                        raise InvalidInput(f"{case.ticket} cannot be a duplicate of itself")
                    sets["duplicate_of"] = other
                    action = "duplicate"
                    other_ticket = self._get(conn, other).ticket
                    note = f"duplicate of {other_ticket}" + (f": {note}" if note else "")
                elif case.status == "duplicate":
                    sets["duplicate_of"] = None
                events.append((action, case.status, wanted, note))
            elif note is not None:
                events.append(("note", None, None, note))
            if assign is not None:
                name = assign.strip() or None
                if name != case.assigned_to:
                    sets["assigned_to"] = name
                    events.append(("assign", None, None,
                                   f"assigned to {name}" if name else "unassigned"))
            if not events:
                return case
            sets["updated_at"] = now
            columns = ", ".join(f"{k} = ?" for k in sets)
            conn.execute(
                f"UPDATE cases SET {columns}, first_action_at = coalesce(first_action_at, ?)"
                " WHERE id = ?",
                (*sets.values(), now, number),
            )
            conn.executemany(
                "INSERT INTO case_events (case_id, at, operator, action, old_status,"
                " new_status, note) VALUES (?, ?, ?, ?, ?, ?, ?)",
                [(number, now, operator, *event) for event in events],
            )
            return self._get(conn, number)

    @_guarded
    def record_reveal(self, ticket: str, *, operator: str) -> None:
        """Audit an operator seeing a reporter's full number."""
        with self.transaction() as conn:
            number = self._case_id(conn, ticket)
            self._event(conn, number, operator, "reveal", note="number revealed")

    def _event(self, conn: sqlite3.Connection, case_id: int, operator: str, action: str,
               *, old: str | None = None, new: str | None = None,
               note: str | None = None) -> None:
        conn.execute(
            "INSERT INTO case_events (case_id, at, operator, action, old_status, new_status,"
            " note) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (case_id, now_iso(), operator, action, old, new, note),
        )

    # outbox ------------------------------------------------------------------------

    @_guarded
    def queue_reply(self, ticket: str, text: str, *, operator: str) -> OutboxItem:
        """Queue an operator's SMS to the case's reporter; the daemon sends it."""
        from smsbridge.numbers import SenderKind, classify

        body = text.strip()
        if not body:
            raise InvalidInput("the reply is empty")
        if len(body) > MAX_REPLY_CHARS:
            raise InvalidInput(f"the reply has {len(body)} characters; at most "
                               f"{MAX_REPLY_CHARS} fit a few SMS")
        with self.transaction() as conn:
            number = self._case_id(conn, ticket)
            case = self._get(conn, number)
            if classify(case.reporter) is not SenderKind.PERSON:
                raise InvalidInput(f"{case.ticket} came from a service ({case.reporter}), "
                                   "which cannot receive SMS")
            item = self.queue_sms(case.reporter, body, kind="operator", case_id=number,
                                  created_by=operator)
            self._event(conn, number, operator, "reply", note=body)
            now = now_iso()
            conn.execute("UPDATE cases SET updated_at = ?, first_action_at ="
                         " coalesce(first_action_at, ?) WHERE id = ?", (now, now, number))
            return item

    @_guarded
    def queue_sms(self, number: str, text: str, *, kind: str, created_by: str,
                  case_id: int | None = None, at: str | None = None) -> OutboxItem:
        """Put one SMS in the outbox (state queued, due ``at``, default now)."""
        if kind not in OUTBOX_KINDS:
            raise InvalidInput(f"outbox kind {kind!r}; expected one of {', '.join(OUTBOX_KINDS)}")
        now = at or now_iso()
        with self.transaction() as conn:
            row = conn.execute(
                "INSERT INTO outbox (case_id, number, text, kind, state, created_at,"
                " next_attempt_at, created_by) VALUES (?, ?, ?, ?, 'queued', ?, ?, ?)"
                " RETURNING *",
                (case_id, number, text, kind, now, now, created_by),
            ).fetchone()
            return _outbox(row)

    # statistics --------------------------------------------------------------------

    @_guarded
    def stats(self, *, since: str | None = None, until: str | None = None,
              top: int = 5, utc_offset_seconds: int = 0) -> Stats:
        """Counts for the window [since, until): by status, by day, fakes, speed.

        Days are counted in the zone ``utc_offset_seconds`` east of UTC (the
        operators' local time: Indonesia has no daylight saving time).
        """
        where, params = self._filters(CaseQuery(since=since, until=until))
        # Every query reads only the covering index cases_received (migration 0004):
        # named, so a planner without ANALYZE figures cannot pick a table scan.
        source = "cases c INDEXED BY cases_received"
        clause = (" WHERE " + " AND ".join(where)) if where else ""
        by_status = {status: 0 for status in tickets.STATUSES}
        days: dict[str, int] = {}
        with self._snapshot():
            for day, status, count in self.conn.execute(
                    f"SELECT date(received_at, '{int(utc_offset_seconds):+d} seconds'), status,"
                    f" count(*) FROM {source}{clause} GROUP BY 1, 2", params):
                by_status[status] += count
                days[day] = days.get(day, 0) + count
            delays = [r[0] for r in self.conn.execute(
                "SELECT (julianday(first_action_at) - julianday(received_at)) * 86400"
                f" FROM {source} WHERE {' AND '.join([*where, 'first_action_at IS NOT NULL'])}",
                params)]
            fakes = " AND ".join([*where, "c.status = 'fake'"])
            top_fake = tuple(tuple(r) for r in self.conn.execute(
                f"SELECT reporter, count(*) AS n FROM {source} WHERE {fakes}"
                " GROUP BY reporter ORDER BY n DESC, reporter LIMIT ?", [*params, top]))
        by_day = tuple(sorted(days.items()))
        total = sum(by_status.values())
        return Stats(
            since=since, until=until, total=total, by_status=by_status, by_day=by_day,
            fake_share=(by_status["fake"] / total) if total else None,
            median_first_action_seconds=_median(delays),
            top_fake_reporters=top_fake,
        )


    # --- the daemon's side: inbound messages, parts, follow-ups, the outbox -------------
    # Called by bridge.py inside one ``transaction()`` per drained batch, so a batch's
    # messages, cases, events and replies commit together or not at all.

    @_guarded
    def daemon_state(self) -> dict[str, str | None]:
        """What the daemon last said about itself (``smsbridge status`` reads it)."""
        return {r[0]: r[1] for r in self.conn.execute("SELECT key, value FROM daemon_state")}

    @_guarded
    def set_daemon_state(self, values: dict[str, str | None]) -> None:
        now = now_iso()
        with self.transaction() as conn:
            conn.executemany(
                "INSERT INTO daemon_state (key, value, updated_at) VALUES (?, ?, ?)"
                " ON CONFLICT (key) DO UPDATE SET value = excluded.value,"
                " updated_at = excluded.updated_at",
                [(k, v, now) for k, v in values.items()])

    @_guarded
    def list_messages(self, *, without_case: bool = False, kind: str | None = None,
                      sender: str | None = None, limit: int | None = 50
                      ) -> list[InboundRecord]:
        """Inbound messages, newest first: e.g. the operator's notices (SIM credit),
        which are stored but belong to no case."""
        where, params = [], []
        if without_case:
            where.append("case_id IS NULL")
        if kind is not None:
            if kind not in MESSAGE_KINDS:
                raise InvalidInput(f"unknown message kind {kind!r}; expected one of "
                                   f"{', '.join(MESSAGE_KINDS)}")
            where.append("kind = ?")
            params.append(kind)
        if sender is not None:
            where.append("sender = ?")
            params.append(sender)
        sql = ("SELECT * FROM messages" + (" WHERE " + " AND ".join(where) if where else "")
               + " ORDER BY id DESC")
        if limit:
            sql += " LIMIT ?"
            params.append(limit)
        return [_inbound(r) for r in self.conn.execute(sql, params)]

    @_guarded
    def message_seen(self, pdu_hash: str) -> bool:
        return self.conn.execute("SELECT 1 FROM messages WHERE pdu_hash = ?",
                                 (pdu_hash,)).fetchone() is not None

    @_guarded
    def add_message(self, *, pdu_hash: str, pdu: str, kind: str, received_at: str,
                    error: str | None = None, sender: str | None = None,
                    sender_toa: int | None = None, smsc: str | None = None,
                    sent_at: str | None = None, text: str | None = None,
                    concat_ref: int | None = None, concat_total: int | None = None,
                    concat_seq: int | None = None) -> int:
        """Store one raw inbound PDU with what was decoded of it; returns its id."""
        if kind not in MESSAGE_KINDS:
            raise InvalidInput(f"message kind {kind!r}")
        # Only a multi-part part waits for siblings; anything else is handled in the
        # same transaction that stores it.
        handled = None if concat_total and concat_total > 1 else received_at
        with self.transaction() as conn:
            return conn.execute(
                "INSERT INTO messages (pdu_hash, pdu, kind, error, sender, sender_toa, smsc,"
                " sent_at, received_at, text, concat_ref, concat_total, concat_seq,"
                " handled_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                (pdu_hash, pdu, kind, error, sender, sender_toa, smsc, sent_at, received_at,
                 text, concat_ref, concat_total, concat_seq, handled),
            ).fetchone()[0]

    @_guarded
    def waiting_parts(self, sender: str, reference: int, total: int, *, since: str
                      ) -> list[InboundRecord]:
        """Parts of one long SMS that have not made a case yet, oldest first."""
        rows = self.conn.execute(
            "SELECT * FROM messages WHERE sender = ? AND concat_ref = ? AND concat_total = ?"
            " AND handled_at IS NULL AND received_at >= ? ORDER BY id",
            (sender, reference, total, since)).fetchall()
        return [_inbound(r) for r in rows]

    @_guarded
    def stale_part_groups(self, *, before: str) -> list[list[InboundRecord]]:
        """Groups of waiting parts whose first part arrived before ``before``."""
        rows = self.conn.execute(
            "SELECT * FROM messages WHERE handled_at IS NULL AND concat_total > 1"
            " ORDER BY sender, concat_ref, concat_total, id").fetchall()
        groups: dict[tuple, list[InboundRecord]] = {}
        for row in rows:
            rec = _inbound(row)
            groups.setdefault((rec.sender, rec.concat_ref, rec.concat_total), []).append(rec)
        return [g for g in groups.values() if min(p.received_at for p in g) < before]

    @_guarded
    def finish_messages(self, message_ids: Iterable[int], *, at: str) -> None:
        """Mark waiting parts as dealt with (made a case, or kept without one)."""
        with self.transaction() as conn:
            conn.executemany("UPDATE messages SET handled_at = ? WHERE id = ?",
                             [(at, i) for i in message_ids])

    @_guarded
    def attach_messages(self, message_ids: Iterable[int], case_id: int) -> None:
        ids = list(message_ids)
        now = now_iso()
        with self.transaction() as conn:
            conn.executemany(
                "UPDATE messages SET case_id = ?, handled_at = coalesce(handled_at, ?)"
                " WHERE id = ?", [(case_id, now, i) for i in ids])
            conn.execute("UPDATE cases SET last_message_at = ? WHERE id = ?", (now, case_id))

    @_guarded
    def open_case_of(self, reporter: str, *, since: str) -> Case | None:
        """The reporter's open case that last heard from them at or after ``since``."""
        row = self.conn.execute(
            f"SELECT {_CASE_COLUMNS} FROM {_CASE_FROM} WHERE c.reporter = ?"
            f" AND c.status IN ({_sql_list(tickets.OPEN_STATUSES)})"
            " AND c.last_message_at >= ? ORDER BY c.id DESC LIMIT 1",
            (reporter, since)).fetchone()
        return _case(row) if row else None

    @_guarded
    def latest_case_of(self, reporter: str) -> Case | None:
        row = self.conn.execute(
            f"SELECT {_CASE_COLUMNS} FROM {_CASE_FROM} WHERE c.reporter = ?"
            " ORDER BY c.id DESC LIMIT 1", (reporter,)).fetchone()
        return _case(row) if row else None

    @_guarded
    def find_case_of(self, ticket: str, *, reporter: str) -> Case | None:
        """The case with this ticket if ``reporter`` reported it; None otherwise."""
        try:
            number = self.ticket_number(ticket)
        except (InvalidInput, UnknownTicket):
            return None
        row = self.conn.execute(
            f"SELECT {_CASE_COLUMNS} FROM {_CASE_FROM} WHERE c.id = ? AND c.reporter = ?",
            (number, reporter)).fetchone()
        return _case(row) if row else None

    @_guarded
    def add_followup(self, case_id: int, message_ids: Iterable[int], text: str, *, at: str,
                     operator: str) -> None:
        """Add a later SMS of the reporter to their open case (no new ticket)."""
        with self.transaction() as conn:
            self.attach_messages(message_ids, case_id)
            current = conn.execute("SELECT text FROM cases WHERE id = ?",
                                   (case_id,)).fetchone()[0]
            repeated = text.strip() in current
            if not repeated:
                conn.execute("UPDATE cases SET text = text || ? || ?, updated_at = ?"
                             " WHERE id = ?", ("\n", text, at, case_id))
            self._event(conn, case_id, operator, "followup",
                        note="the same text again" if repeated else text)

    @_guarded
    def flag_case(self, case_id: int, flag: str, *, operator: str, note: str) -> None:
        with self.transaction() as conn:
            flags = conn.execute("SELECT flags FROM cases WHERE id = ?", (case_id,)).fetchone()[0]
            if flag in flags.split(","):
                return
            conn.execute("UPDATE cases SET flags = ? WHERE id = ?",
                         (",".join(filter(None, [*flags.split(","), flag])), case_id))
            self._event(conn, case_id, operator, "flag", note=f"{flag}: {note}")

    @_guarded
    def add_note(self, case_id: int, note: str, *, operator: str, at: str | None = None) -> None:
        with self.transaction() as conn:
            self._event(conn, case_id, operator, "note", note=note)

    @_guarded
    def count_messages_from(self, sender: str, *, since: str, text: str | None = None) -> int:
        sql = ("SELECT count(*) FROM messages WHERE sender = ? AND received_at >= ?"
               " AND kind = 'deliver'")
        params: list[Any] = [sender, since]
        if text is not None:
            sql += " AND text = ?"
            params.append(text)
        return self.conn.execute(sql, params).fetchone()[0]

    @_guarded
    def count_auto_replies(self, number: str, *, since: str) -> int:
        return self.conn.execute(
            "SELECT count(*) FROM outbox WHERE number = ? AND created_at >= ?"
            " AND kind IN ('ack', 'status')", (number, since)).fetchone()[0]

    @_guarded
    def next_due_sms(self, *, at: str) -> OutboxItem | None:
        row = self.conn.execute(
            "SELECT * FROM outbox WHERE state = 'queued' AND next_attempt_at <= ?"
            " ORDER BY next_attempt_at, id LIMIT 1", (at,)).fetchone()
        return _outbox(row) if row else None

    @_guarded
    def next_send_time(self) -> str | None:
        return self.conn.execute(
            "SELECT min(next_attempt_at) FROM outbox WHERE state = 'queued'").fetchone()[0]

    @_guarded
    def outbox_backlog(self) -> int:
        return self.conn.execute(
            "SELECT count(*) FROM outbox WHERE state = 'queued'").fetchone()[0]

    @_guarded
    def mark_sent(self, outbox_id: int, refs: list[int], *, at: str) -> None:
        with self.transaction() as conn:
            conn.execute(
                "UPDATE outbox SET state = 'sent', sent_at = ?, refs = ?, attempts ="
                " attempts + 1, last_error = NULL, next_attempt_at = NULL WHERE id = ?",
                (at, json.dumps(refs), outbox_id))

    @_guarded
    def mark_retry(self, outbox_id: int, error: str, *, attempts: int, next_at: str) -> None:
        with self.transaction() as conn:
            conn.execute("UPDATE outbox SET attempts = ?, last_error = ?, next_attempt_at = ?"
                         " WHERE id = ?", (attempts, error, next_at, outbox_id))

    @_guarded
    def mark_gave_up(self, outbox_id: int, error: str, *, attempts: int, at: str) -> None:
        with self.transaction() as conn:
            row = conn.execute(
                "UPDATE outbox SET state = 'gave_up', attempts = ?, last_error = ?,"
                " next_attempt_at = NULL WHERE id = ? RETURNING case_id, created_by",
                (attempts, error, outbox_id)).fetchone()
            if row and row[0] is not None:
                self._event(conn, row[0], row[1], "reply_failed",
                            note=f"SMS not sent after {attempts} attempts: {error}")

    @_guarded
    def record_delivery(self, number: str, reference: int, *, delivered: bool, status: int,
                        at: str) -> bool:
        """Apply a status report to the SMS it answers; False when none matches."""
        with self.transaction() as conn:
            row = conn.execute(
                "SELECT id FROM outbox WHERE number = ? AND state IN ('sent', 'delivered')"
                " AND EXISTS (SELECT 1 FROM json_each(outbox.refs) WHERE value = ?)"
                " ORDER BY id DESC LIMIT 1", (number, reference)).fetchone()
            if row is None:
                return False
            if delivered:
                conn.execute("UPDATE outbox SET state = 'delivered', delivered_at = ?"
                             " WHERE id = ?", (at, row[0]))
            else:
                conn.execute("UPDATE outbox SET state = 'failed', last_error = ? WHERE id = ?",
                             (f"not delivered (TP-ST 0x{status:02X})", row[0]))
            return True

    @_guarded
    def queue_hook(self, case_id: int, *, at: str) -> None:
        with self.transaction() as conn:
            conn.execute("INSERT INTO hooks (case_id, next_attempt_at) VALUES (?, ?)",
                         (case_id, at))

    @_guarded
    def due_hooks(self, *, at: str, limit: int = 50) -> list[tuple[int, int, Case]]:
        rows = self.conn.execute(
            "SELECT id, case_id, attempts FROM hooks WHERE done_at IS NULL"
            " AND next_attempt_at <= ? ORDER BY id LIMIT ?", (at, limit)).fetchall()
        return [(r[0], r[2], self._get(self.conn, r[1])) for r in rows]

    @_guarded
    def hook_done(self, hook_id: int, *, at: str) -> None:
        with self.transaction() as conn:
            conn.execute("UPDATE hooks SET done_at = ?, last_error = NULL WHERE id = ?",
                         (at, hook_id))

    @_guarded
    def hook_retry(self, hook_id: int, error: str, *, attempts: int, next_at: str) -> None:
        with self.transaction() as conn:
            conn.execute("UPDATE hooks SET attempts = ?, last_error = ?, next_attempt_at = ?"
                         " WHERE id = ?", (attempts, error, next_at, hook_id))

    @_guarded
    def hook_gave_up(self, hook_id: int, error: str, *, attempts: int) -> None:
        # done_at stays NULL and next_attempt_at NULL: visible as given up, never retried.
        with self.transaction() as conn:
            conn.execute("UPDATE hooks SET attempts = ?, last_error = ?, next_attempt_at = NULL"
                         " WHERE id = ?", (attempts, error, hook_id))


def _median(values: list[float]) -> float | None:
    # Not statistics.median: importing statistics costs more than a whole CLI call may.
    if not values:
        return None
    values.sort()
    middle = len(values) // 2
    return values[middle] if len(values) % 2 else (values[middle - 1] + values[middle]) / 2


def _check_new_case(new: NewCase) -> None:
    if new.channel not in CHANNELS:
        raise InvalidInput(f"unknown channel {new.channel!r}; expected one of "
                           f"{', '.join(CHANNELS)}")
    if not new.reporter.strip():
        raise InvalidInput("the reporter's number is empty")
    tickets.check_status(new.status)


def _create_private_file(file: Path) -> None:
    """Create the database file 0660 whatever the umask; SQLite gives its -wal and
    -shm files the same mode."""
    try:
        fd = os.open(file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    except FileExistsError:
        return  # another process won the race; it set the mode
    except OSError as exc:
        raise DatabaseError(f"{file}: cannot create the database: {exc.strerror}") from None
    try:
        os.fchmod(fd, FILE_MODE)
    finally:
        os.close(fd)
