"""A copy of the case database that can be restored, made while the daemon writes.

SQLite's online backup API copies the pages in one step, inside one read transaction:
in WAL mode that is one consistent state of the database (every transaction committed
before it began, none after), and the daemon goes on writing meanwhile. The copy is
checked (``PRAGMA integrity_check``) and made a self-contained file (rollback journal,
no -wal) before it takes its name, so a backup that exists is whole and sound:

* it is written to a new temporary file beside the destination (mode 0640 whatever
  the umask, created exclusively, never through a symbolic link), synced, then renamed
  over the destination: a crash leaves the old backup or the new one, never half;
* a destination that is a symbolic link or not a regular file is refused;
* ``rotate`` keeps the newest backups of a directory that this module named.
"""

from __future__ import annotations

import contextlib
import os
import re
import sqlite3
import stat
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from smsbridge.errors import DatabaseError
from smsbridge.store.db import Database

# Owner reads and writes, the group (operators, the backup job) reads.
BACKUP_MODE = 0o640
_NAMED = re.compile(r"^cases-\d{8}-\d{6}\.db$")


@dataclass(frozen=True)
class BackupResult:
    path: Path
    cases: int
    size: int
    seconds: float


def timed_name(now: datetime) -> str:
    """``cases-20261207-031500.db``: names that sort by time, the ones ``rotate`` keeps."""
    return f"cases-{now:%Y%m%d-%H%M%S}.db"


def backup(source: Database, dest: Path) -> BackupResult:
    """Copy ``source`` to ``dest`` consistently; DatabaseError if anything is wrong with
    the copy, in which case ``dest`` is left as it was."""
    began = time.perf_counter()
    _refuse_odd_destination(dest)
    temp = dest.with_name(f".{dest.name}.{os.getpid()}.part")
    try:
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, BACKUP_MODE)
    except OSError as exc:
        raise DatabaseError(f"{dest}: cannot write the backup there: {exc.strerror}") from None
    os.fchmod(fd, BACKUP_MODE)
    os.close(fd)
    try:
        cases = _copy(source, temp)
        fd = os.open(temp, os.O_RDONLY | os.O_NOFOLLOW)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        # rename() replaces whatever has the name, a link included, and writes through
        # nothing: the backup lands at dest itself.
        os.replace(temp, dest)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
    _sync_directory(dest.parent)
    return BackupResult(dest, cases, dest.stat().st_size, time.perf_counter() - began)


def _refuse_odd_destination(dest: Path) -> None:
    if not dest.parent.is_dir():
        raise DatabaseError(f"{dest}: directory {dest.parent} does not exist")
    try:
        info = os.lstat(dest)
    except FileNotFoundError:
        return
    if stat.S_ISLNK(info.st_mode):
        raise DatabaseError(f"{dest}: is a symbolic link; refused, nothing was written. "
                            "Name the file itself")
    if not stat.S_ISREG(info.st_mode):
        raise DatabaseError(f"{dest}: is not a regular file; refused, nothing was written")


def _copy(source: Database, temp: Path) -> int:
    """The backup into ``temp``, checked; the number of cases it holds."""
    target = sqlite3.connect(temp, isolation_level=None)
    try:
        with source.mapped():
            # pages=-1: all pages in one step, one read transaction, one state.
            source.conn.backup(target, pages=-1)
        try:
            # A single file: no -wal beside it to lose when it is copied off the box.
            target.execute("PRAGMA journal_mode = DELETE")
            problems = [row[0] for row in target.execute("PRAGMA integrity_check")]
            cases = int(target.execute("SELECT count(*) FROM cases").fetchone()[0])
        except sqlite3.Error as exc:
            raise DatabaseError(f"{temp}: the copy cannot be read back: {exc}") from exc
    finally:
        target.close()
    if problems != ["ok"]:
        raise DatabaseError(f"the copy failed its integrity check ({problems[0]}); the "
                            "database itself may be damaged: run `smsbridge backup` again, "
                            "and keep the previous backups")
    return cases


def _sync_directory(directory: Path) -> None:
    # The rename is durable once the directory is: a power cut keeps the new name.
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def rotate(directory: Path, keep: int) -> list[Path]:
    """Delete all but the newest ``keep`` backups in ``directory`` (only regular files
    named like ``timed_name``'s); the ones deleted."""
    named = []
    for entry in os.scandir(directory):
        if _NAMED.match(entry.name) and entry.is_file(follow_symlinks=False):
            named.append(Path(entry.path))
    named.sort(key=lambda p: p.name)
    gone = named[:-keep] if keep else named
    for path in gone:
        path.unlink()
    return gone
