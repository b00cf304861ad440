"""The case database: every SQL statement of smsbridge lives in this package.

``Store`` opens one connection (``db.Database``: pragmas, migrations, transactions, the
one place where SQLite's errors become ``DatabaseError``) and hands it to a small store
per table family, so one ``transaction()`` covers whatever they do together::

    with Store.open(path) as store:
        with store.transaction():               # the bridge's batch: all or nothing
            message_id = store.inbox.add(...)
            case = store.cases.create(...)
            store.inbox.attach([message_id], case.id)
            store.outbox.add(case.reporter, text, kind="ack", created_by="smsbridge")

``cases`` (tickets, history, lists, figures), ``changes`` (the one path for every
change of a case: ``change_case`` commits the case, its history and the reporters'
notices together), ``inbox`` (raw inbound messages),
``outbox`` and ``hooks`` (two retry queues), ``leases`` (the pool's claims on the
outbox), ``state`` (what the daemon says),
``field`` (cases sent to officers, their answers),
``audit`` (who looked up or revealed reporters' numbers), ``desk`` (what the operators'
desk reads beside a page of cases).
Business rules live in ``tickets``, ``replies`` and ``intake``; the stores read
facts for them and write down what they decide.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from smsbridge.clock import Clock
from smsbridge.identity import os_login
from smsbridge.store.audit import AuditLog
from smsbridge.store.cases import Cases
from smsbridge.store.changes import CaseChanges
from smsbridge.store.db import FILE_MODE, Database
from smsbridge.store.desk import Desk
from smsbridge.store.field import FieldLog
from smsbridge.store.hooks import HookQueue
from smsbridge.store.inbox import Inbox
from smsbridge.store.leases import Leases
from smsbridge.store.outbox import Outbox
from smsbridge.store.retriage import Retriage
from smsbridge.store.schema import MIGRATION_NAMES, SCHEMA_VERSION, migrations
from smsbridge.store.search import fts_query
from smsbridge.store.state import DaemonState

if TYPE_CHECKING:
    from smsbridge.config.sections import Config
    from smsbridge.sealing.keys import Sealer

__all__ = ["FILE_MODE", "MIGRATION_NAMES", "SCHEMA_VERSION", "Database", "Store", "fts_query",
           "migrations", "sealer_for"]


def sealer_for(db: Database, cfg: Config | None, *, make_keys: bool | str) -> Sealer:
    """The keys, made first with ``make_keys`` (the daemon; ``"if-owner"``: when this
    process owns the database file, i.e. is the daemon's user); else this process's
    own when it may read them (the daemon's user), else the daemon through its socket.

    Keys are made only for a database that holds nothing sealed yet (a lost key file
    must be restored, not replaced: new keys would open nothing), and keys that are not
    the ones the database was sealed with are refused (``sealed.check_keys``)."""
    from pathlib import Path

    from smsbridge.sealing import keys as sealing
    from smsbridge.sealing.door import DoorSealer, socket_path
    from smsbridge.store.sealed import check_keys

    path = db.path
    if path == ":memory:":
        return sealing.LocalSealer(sealing.Keys.generate())
    keys_at = sealing.key_path(cfg) if cfg else sealing.default_key_path(path)
    if make_keys == "if-owner":
        try:
            make_keys = os.stat(path).st_uid == os.geteuid()
        except OSError:
            make_keys = False
    if make_keys:
        keys = sealing.load_keys(keys_at, create=not check_keys.sealed_before(db),
                                 legacy=sealing.legacy_hash_key_path(cfg, path))
    else:
        found = sealing.readable_keys(keys_at)
        if found is None:
            return DoorSealer(socket_path(cfg) if cfg else Path(path).parent / "smsbridge.sock")
        keys = found
    check_keys(db, keys, keys_at)
    return sealing.LocalSealer(keys)


class Store:
    """The case database. Open with ``Store.open(path)`` or ``Store.from_config(cfg)``;
    close when done (or use it as a context manager). One per thread."""

    def __init__(self, db: Database, *, ticket_prefix: str = "LP", ticket_digits: int = 6,
                 login: str | None = None, sealer: Sealer | None = None):
        self.db = db
        if sealer is None and db.sealer is None:
            sealer = sealer_for(db, None, make_keys="if-owner")
        if sealer is not None:
            db.use_sealer(sealer)
        # Whoever opens the store, the OS account is what history and audit lines carry
        # beside the name given; ``login`` is for tests.
        self.audit = AuditLog(db, login or os_login())
        self.cases = Cases(db, audit=self.audit, prefix=ticket_prefix, digits=ticket_digits)
        self.inbox = Inbox(db, audit=self.audit)
        self.outbox = Outbox(db, self.cases)
        self.hooks = HookQueue(db, self.cases)
        # The one path for every change of a case that may tell its reporters.
        self.changes = CaseChanges(db, self.cases, self.outbox)
        self.change_case = self.changes.change_case
        self.field = FieldLog(db, self.cases, self.outbox, self.changes)
        self.state = DaemonState(db)
        self.leases = Leases(db)
        self.desk = Desk(db, self.cases, self.changes)
        self.retriage = Retriage(db, login=self.audit.login)

    @classmethod
    def open(cls, path: str | os.PathLike[str], *, busy_timeout: float = 30.0,
             create: bool = True, migrate: bool | None = None, ticket_prefix: str = "LP",
             ticket_digits: int = 6, clock: Clock | None = None,
             make_keys: bool | str | None = None, config: Config | None = None,
             sealer: Sealer | None = None) -> Store:
        """Open the database at ``path``: created and migrated with ``create``, migrated
        with ``migrate``, else only used as it is (see ``Database.open``). Rows are
        stamped with ``clock`` (default: the system clock). Numbers are sealed with the
        keys (``sealer_for``): made when missing with ``make_keys`` (default:
        ``create``), else this process's own or the daemon's through its socket."""
        db = Database.open(path, busy_timeout=busy_timeout, create=create,
                           migrate=migrate, clock=clock)
        try:
            sealer = sealer or sealer_for(
                db, config, make_keys=create if make_keys is None else make_keys)
        except BaseException:
            db.close()
            raise
        return cls(db, ticket_prefix=ticket_prefix, ticket_digits=ticket_digits,
                   sealer=sealer)

    @classmethod
    def from_config(cls, cfg: Config, *, create: bool = True, migrate: bool | None = None,
                    clock: Clock | None = None, make_keys: bool | str | None = None
                    ) -> Store:
        return cls.open(cfg.database.path, busy_timeout=cfg.database.busy_timeout,
                        create=create, migrate=migrate, ticket_prefix=cfg.tickets.prefix,
                        ticket_digits=cfg.tickets.digits, clock=clock, make_keys=make_keys,
                        config=cfg)

    @property
    def can_open(self) -> bool:
        """Whether this process holds the keys (else numbers read are masks)."""
        return self.db.can_open

    @property
    def path(self) -> str:
        return self.db.path

    @contextmanager
    def transaction(self) -> Iterator[Database]:
        """One write transaction over every store (nested: a savepoint)."""
        with self.db.transaction() as db:
            yield db

    def schema_version(self) -> int:
        return self.db.schema_version()

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
