"""The database file: opening it, its pragmas and migrations, transactions, and the one
place where SQLite's errors become ours.

One SQLite file, shared by the daemon and any number of operators' CLIs:

* WAL, so readers never wait for the writer and the writer never waits for readers;
* every write in ``transaction()``: ``BEGIN IMMEDIATE`` takes the write lock up front
  (a deferred transaction that reads first can fail with SQLITE_BUSY at its first
  write, whatever the busy timeout), and a busy database is waited for, not failed;
* ``synchronous=FULL``: the daemon deletes an SMS from the SIM once its row is
  committed, so a commit must survive a power cut, not only a crash;
* migrations (``schema.py``) run on open, under the write lock, so two processes
  opening a new file at once cannot both migrate it; only openers that write migrate:
  an open for reading changes nothing in the file (see ``Database.open``);
* the file, its -wal and its -shm are for the service user and its group only:
  a wider mode found on open is narrowed (on files the opener owns), and said so; a
  symbolic link or a device in their place is refused, never followed.

Every statement goes through ``Database`` (execute, one, all, scalar, iterate), whose
``mapped()`` turns an ``sqlite3.Error`` into a ``DatabaseError`` whose message says
what happened and what to do; nothing above this module catches sqlite3's errors.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import stat
import threading
import time
import urllib.parse
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from smsbridge.clock import Clock, SystemClock
from smsbridge.errors import DatabaseError
from smsbridge.i18n import _
from smsbridge.models import to_iso
from smsbridge.retry import RetryPolicy
from smsbridge.store.schema import SCHEMA_VERSION, migrations
from smsbridge.store.sealed import NumberColumns

log = logging.getLogger(__name__)

# Owner and group only: the service user, and operators in its group, who must be
# able to write (updates, replies) as well as read.
FILE_MODE = 0o660
# Tables that make a file a smsbridge database (migration 0001 creates them together).
_OUR_TABLES = frozenset({"counters", "cases", "case_events"})
# How often BEGIN IMMEDIATE is tried again when SQLite's busy handler gave up early.
_LOCK_RETRY = RetryPolicy(base=0.005, cap=0.25)

Params = Sequence[Any]


def explain(path: str, exc: sqlite3.Error, busy_timeout: float) -> DatabaseError:
    """The DatabaseError for an sqlite3 error: one line saying what to do about it."""
    text = str(exc)
    low = text.lower()
    # The CLI says these in the operator's language; the daemon (which installs none)
    # logs them in English.
    if "locked" in low or "busy" in low:
        msg = _("{path}: the database stayed locked by another process for more than "
                "{seconds:g} s ([database] busy_timeout); nothing was changed, try again"
                ).format(path=path, seconds=busy_timeout)
    elif "readonly" in low or "read-only" in low:
        msg = _("{path}: the database is read-only for this user; run as the smsbridge "
                "service user, or give the group write access to the file and its "
                "directory").format(path=path)
    elif "full" in low or "disk i/o" in low:
        msg = _("{path}: cannot write ({error}): the disk is full or failing; free space "
                "on the disk that holds the database. Nothing was changed").format(
                    path=path, error=text)
    elif "not a database" in low or "malformed" in low or "corrupt" in low:
        msg = _("{path}: not an SQLite database or corrupt ({error}); restore it from a "
                "backup").format(path=path, error=text)
    elif "unable to open" in low:
        msg = _("{path}: cannot open the database ({error}); check the path and its "
                "permissions").format(path=path, error=text)
    else:
        msg = _("{path}: database error: {error}").format(path=path, error=text)
    err = DatabaseError(msg)
    err.__cause__ = exc
    return err


class Database(NumberColumns):
    """One connection to the case database, shared by the small stores of ``Store``.

    One per thread (sqlite3 connections are not shared between threads). Writes run
    in ``transaction()``; a ``transaction()`` inside another one is a savepoint of it,
    so a caller's outer transaction covers whatever the stores do inside it.
    """

    def __init__(self, conn: sqlite3.Connection, path: str, *, busy_timeout: float,
                 clock: Clock):
        self.conn = conn  # raw, unmapped: for tests and diagnostics only
        self.path = path
        self.busy_timeout = busy_timeout
        self.clock = clock
        self._depth = 0
        self.use_sealer(None)  # until the Store says how numbers are sealed

    # opening -----------------------------------------------------------------------

    @classmethod
    def open(cls, path: str | os.PathLike[str], *, busy_timeout: float = 30.0,
             create: bool = True, migrate: bool | None = None,
             clock: Clock | None = None) -> Database:
        """Open the database at ``path``; what the opener may change decides how.

        * ``create`` (the daemon, ``cases add``): a missing file is created (mode 0660)
          and an empty one set up, then migrated like any other;
        * ``migrate`` (default: ``create``; commands that write): a database of an
          older schema is migrated first;
        * neither (commands that read): nothing in the file changes, neither its schema
          nor its journal mode, and a database of an older schema is refused. The
          connection can still write rows (an audit line for a reveal).

        Whoever opens it: a missing directory is an error, so a wrong path is never
        silently replaced by an empty database; a file that is not a smsbridge
        database (empty, another program's, not SQLite at all) is refused as it is,
        unless ``create`` may set up an empty one; modes wider than 0660 on the file,
        its -wal and its -shm are narrowed, with a warning, and any of them that is a
        symbolic link or not a regular file is refused.
        """
        if migrate is None:
            migrate = create
        elif create and not migrate:
            raise ValueError("a database that may be created is migrated too")
        where = str(path)
        target = where
        if where != ":memory:":
            file = Path(where)
            if not file.parent.is_dir():
                raise DatabaseError(_("{path}: directory {directory} does not exist; check "
                                      "[database] path in the config").format(
                                          path=where, directory=file.parent))
            if _lstat(file) is None:
                if not create:
                    raise DatabaseError(_(
                        "{path}: no database yet; the daemon creates it when it starts, "
                        "or `smsbridge cases add` does (check [database] path in the config)"
                    ).format(path=where))
                _create_private_file(file)
            _check_files(file)
            # mode=rw: SQLite itself never creates the file (with the umask's mode, or
            # at a path that vanished since the checks above).
            target = ("file:" + urllib.parse.quote(os.fsencode(os.path.abspath(where)))
                      + "?mode=rw")
        try:
            conn = sqlite3.connect(target, timeout=busy_timeout, isolation_level=None,
                                   uri=target != where)
        except sqlite3.Error as exc:
            raise explain(where, exc, busy_timeout) from exc
        db = cls(conn, where, busy_timeout=busy_timeout, clock=clock or SystemClock())
        try:
            db._prepare(create=create, migrate=migrate)
        except DatabaseError as exc:
            conn.close()
            why = _foreign_sidecar(Path(where)) if where != ":memory:" else None
            if why:
                raise DatabaseError(why) from exc
            raise
        except BaseException:
            conn.close()
            raise
        return db

    def _prepare(self, *, create: bool, migrate: bool) -> None:
        self.conn.row_factory = sqlite3.Row
        self.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout * 1000)}")
        # Before any other PRAGMA: some read the file, and a foreign one is refused here.
        version = self._identify(empty_ok=create)
        self.execute("PRAGMA foreign_keys = ON")
        self.execute("PRAGMA synchronous = FULL")
        if version > SCHEMA_VERSION:
            raise DatabaseError(_(
                "{path}: schema version {version} is newer than this smsbridge "
                "understands ({known}); upgrade smsbridge"
            ).format(path=self.path, version=version, known=SCHEMA_VERSION))
        if not migrate:
            if version < SCHEMA_VERSION:
                raise DatabaseError(_(
                    "{path}: the database has schema version {version} and this "
                    "smsbridge needs {needed}; start (or restart) the daemon, or "
                    "run a command that writes such as `smsbridge cases update`, to upgrade "
                    "it (commands that only read never change the database)"
                ).format(path=self.path, version=version, needed=SCHEMA_VERSION))
            return
        # Setting WAL writes the file's header: only openers that may write do it.
        if self.scalar("PRAGMA journal_mode") != "wal":
            self.execute("PRAGMA journal_mode = WAL")
        if version < SCHEMA_VERSION:
            self.migrate()

    def _identify(self, *, empty_ok: bool) -> int:
        """The schema version of a smsbridge database (0: empty, when ``empty_ok``);
        anything else is refused before a byte of it is written."""
        def refusal(why: str) -> str:
            return _("{path}: not a smsbridge database ({why}); check [database] path in "
                     "the config").format(path=self.path, why=why)

        try:
            version = int(self.conn.execute("PRAGMA user_version").fetchone()[0])
            tables = {row[0] for row in self.conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'")}
        except sqlite3.DatabaseError as exc:
            if "not a database" not in str(exc).lower():
                raise explain(self.path, exc, self.busy_timeout) from exc
            raise DatabaseError(_("{refusal}, or restore the file from a backup").format(
                refusal=refusal(_("not an SQLite database or corrupt: {error}").format(
                    error=exc)))) from exc
        if version == 0 and not tables:
            if empty_ok:
                return 0
            raise DatabaseError(_("{refusal}, or start the daemon to set it up").format(
                refusal=refusal(_("the file is empty"))))
        if version == 0 or not _OUR_TABLES.issubset(tables):
            raise DatabaseError(refusal(_("it holds another program's tables")))
        return version

    def schema_version(self) -> int:
        return int(self.scalar("PRAGMA user_version"))

    def migrate(self, *, stop_before: str | None = None) -> None:
        """Apply pending migrations, all under one write lock."""
        from sqlite_utils import Database as SqliteUtilsDatabase

        with self.mapped(), self.transaction():
            migrations().apply(SqliteUtilsDatabase(self.conn, execute_plugins=False),
                               stop_before=stop_before)

    def close(self) -> None:
        self.conn.close()

    def now(self) -> str:
        """The time rows are stamped with, from the injected clock, as stored."""
        return to_iso(self.clock.now())

    # the error boundary --------------------------------------------------------------

    @contextmanager
    def mapped(self) -> Iterator[None]:
        """sqlite3 errors raised inside leave as a DatabaseError that explains them."""
        try:
            yield
        except sqlite3.Error as exc:
            raise explain(self.path, exc, self.busy_timeout) from exc

    def execute(self, sql: str, params: Params = ()) -> sqlite3.Cursor:
        """Run a statement for its effect; read rows with one/all/scalar/iterate, so
        that errors met while stepping through them are mapped too."""
        with self.mapped():
            return self.conn.execute(sql, params)

    def executemany(self, sql: str, rows: Iterable[Params]) -> None:
        with self.mapped():
            self.conn.executemany(sql, rows)

    def one(self, sql: str, params: Params = ()) -> sqlite3.Row | None:
        with self.mapped():
            row: sqlite3.Row | None = self.conn.execute(sql, params).fetchone()
            return row

    def all(self, sql: str, params: Params = ()) -> list[sqlite3.Row]:
        with self.mapped():
            return self.conn.execute(sql, params).fetchall()

    def scalar(self, sql: str, params: Params = ()) -> Any:
        """The first column of the first row (None when there is no row)."""
        row = self.one(sql, params)
        return None if row is None else row[0]

    def iterate(self, sql: str, params: Params = (), *, batch: int = 1000
                ) -> Iterator[sqlite3.Row]:
        """Rows streamed as the caller consumes them (exports of a million cases)."""
        with self.mapped():
            cursor = self.conn.execute(sql, params)
        while True:
            with self.mapped():
                rows = cursor.fetchmany(batch)
            if not rows:
                return
            yield from rows

    # transactions ------------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[Database]:
        """A write transaction holding the write lock from its first statement.

        Nested use makes a savepoint. An exception rolls everything back.
        """
        if self._depth:
            name = f"sp{self._depth}"
            self.execute(f"SAVEPOINT {name}")
            self._depth += 1
            try:
                yield self
            except BaseException:
                # The error being raised matters, not a failing rollback (disk I/O): the
                # outermost transaction rolls everything back anyway.
                with contextlib.suppress(sqlite3.Error):
                    self.conn.execute(f"ROLLBACK TO {name}")
                    self.conn.execute(f"RELEASE {name}")
                raise
            else:
                self.execute(f"RELEASE {name}")
            finally:
                self._depth -= 1
            return
        self._begin_immediate()
        self._depth = 1
        try:
            yield self
            # A full disk shows here first (the WAL grows at commit): the caller must
            # see a DatabaseError and know nothing was committed.
            self.execute("COMMIT")
        except BaseException:
            if self.conn.in_transaction:
                with contextlib.suppress(sqlite3.Error):
                    self.conn.execute("ROLLBACK")
            raise
        finally:
            self._depth = 0

    @contextmanager
    def snapshot(self) -> Iterator[None]:
        """Several reads that see one state of the database (the daemon may commit
        between them otherwise). Inside a transaction, that transaction is the view."""
        if self.conn.in_transaction:
            yield
            return
        self.execute("BEGIN")
        try:
            yield
        finally:
            self.execute("COMMIT")

    def _begin_immediate(self) -> None:
        # The busy handler already waits up to busy_timeout inside BEGIN IMMEDIATE;
        # SQLite skips it in a few cases (a WAL being recovered, a lock held while
        # another connection checkpoints), so keep trying until the same deadline.
        deadline = time.monotonic() + self.busy_timeout
        waiter = threading.Event()
        attempt = 0
        while True:
            try:
                self.conn.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.Error as exc:
                low = str(exc).lower()
                busy = isinstance(exc, sqlite3.OperationalError) and (
                    "locked" in low or "busy" in low)
                if not busy or time.monotonic() >= deadline:
                    raise explain(self.path, exc, self.busy_timeout) from exc
            attempt += 1
            waiter.wait(_LOCK_RETRY.delay(attempt))


def _create_private_file(file: Path) -> None:
    """Create the database file 0660 whatever the umask; SQLite gives its -wal and
    -shm files the same mode."""
    try:
        fd = os.open(file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    except FileExistsError:
        return  # another process won the race; it set the mode
    except OSError as exc:
        raise DatabaseError(_("{path}: cannot create the database: {error}").format(
            path=file, error=exc.strerror)) from None
    try:
        os.fchmod(fd, FILE_MODE)
    finally:
        os.close(fd)


def _lstat(path: Path) -> os.stat_result | None:
    try:
        return os.lstat(path)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise DatabaseError(_("{path}: cannot examine it: {reason}").format(
            path=path, reason=exc.strerror)) from None


def _refuse_unless_regular(path: Path, info: os.stat_result) -> None:
    """A database file, -wal or -shm that is anything but a regular file is refused.

    The directory is group-writable: a symbolic link planted as ``cases.db-shm`` would
    have SQLite, or a chmod, act on whatever it points to (with an administrator's
    rights under sudo), and a device (``/dev/null`` as the path) is not ours to change.
    """
    if stat.S_ISLNK(info.st_mode):
        raise DatabaseError(_("{path}: is a symbolic link; refused, nothing was changed. "
                              "The database's files must be the files themselves: remove "
                              "the link, or set [database] path to the real file").format(
                                  path=path))
    if stat.S_ISDIR(info.st_mode):
        raise DatabaseError(_("{path}: is a directory, not a database file").format(path=path))
    if not stat.S_ISREG(info.st_mode):
        if stat.S_ISCHR(info.st_mode) or stat.S_ISBLK(info.st_mode):
            raise DatabaseError(_("{path}: is a device; refused, nothing was changed. Check "
                                  "[database] path in the config").format(path=path))
        raise DatabaseError(_("{path}: is not a regular file; refused, nothing was changed. "
                              "Check [database] path in the config").format(path=path))


def _check_files(file: Path) -> None:
    """The file, its -wal and its -shm: each a regular file, each owner and group only.

    SQLite gives a new -wal and -shm the database file's mode, so a wide file widens
    them too. Only files this process owns are narrowed, through a descriptor of the
    very file that was examined (lstat, then open without following links and fstat),
    so nothing outside these three files ever changes.
    """
    found = []
    for path in (file, file.with_name(file.name + "-wal"), file.with_name(file.name + "-shm")):
        info = _lstat(path)
        if info is not None:  # no -wal or -shm right now; a missing file is dealt with elsewhere
            _refuse_unless_regular(path, info)
            found.append((path, info))
    # Only once all three are known good: a refusal changes nothing at all.
    for path, info in found:
        mode = stat.S_IMODE(info.st_mode)
        if not mode & ~FILE_MODE:
            continue
        # Only bits are taken away: a file the group could not write stays so.
        narrow = mode & FILE_MODE
        problem = _fchmod_own(path, info, narrow)
        if problem:
            log.warning("%s: mode %04o is wider than %04o and cannot be changed (%s); its "
                        "owner should run: chmod %o %s", path, mode, FILE_MODE, problem,
                        narrow, path)
        else:
            log.warning("%s: mode %04o was wider than %04o; changed to %04o", path, mode,
                        FILE_MODE, narrow)


def _foreign_sidecar(file: Path) -> str | None:
    """Why this user cannot use the -wal or -shm another user's command made, if so.

    Another process holding the database open keeps them; they get the group of the
    directory only when it is setgid, else their maker's own group.
    """
    for path in (file.with_name(file.name + "-wal"), file.with_name(file.name + "-shm")):
        info = _lstat(path)
        if info is None or os.access(path, os.R_OK | os.W_OK):
            continue
        return _("{path}: belongs to uid {uid} gid {gid} and this user cannot write it: a "
                 "command run by another user holds the database open. Make the directory "
                 "keep its group (chmod 2770 {directory}; the unit's StateDirectoryMode=2770); "
                 "the file goes when that command ends").format(
                     path=path, uid=info.st_uid, gid=info.st_gid, directory=file.parent)
    return None


def _fchmod_own(path: Path, info: os.stat_result, mode: int) -> str | None:
    """``mode`` on the regular file ``info`` describes, if this process owns it; why not
    otherwise."""
    if info.st_uid != os.geteuid():
        return f"it belongs to uid {info.st_uid}"
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY)
    except OSError as exc:
        return exc.strerror or str(exc)
    try:
        now = os.fstat(fd)
        if (now.st_dev, now.st_ino) != (info.st_dev, info.st_ino) or not stat.S_ISREG(
                now.st_mode):
            return "it was replaced while being examined"
        os.fchmod(fd, mode)
    except OSError as exc:
        return exc.strerror or str(exc)
    finally:
        os.close(fd)
    return None
