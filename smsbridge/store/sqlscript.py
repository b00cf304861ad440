"""Running a migration's SQL text inside the migration's own transaction.

sqlite3's executescript() would commit whatever transaction is open; a migration must
stay atomic with its bookkeeping row, so its script is split into statements here.
"""

from __future__ import annotations

import re
import sqlite3
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from sqlite_utils import Database as SqliteUtilsDatabase
    from sqlite_utils.migrations import Migrations

    Step = str | Callable[[SqliteUtilsDatabase], None]


def run_script(db: SqliteUtilsDatabase, script: str, version: int) -> None:
    # executescript() would COMMIT the surrounding transaction; run statement by
    # statement so the migration stays atomic with its bookkeeping row.
    for statement in split_sql(script):
        db.execute(statement)
    db.execute(f"PRAGMA user_version = {version}")


def widen_check(db: SqliteUtilsDatabase, table: str, old: str, new: str) -> None:
    """Rebuild ``table`` with the CHECK clause ``old`` replaced by ``new``: SQLite cannot
    alter a CHECK in place. Its columns and indexes are read from the database rather
    than written out here, so the rebuild keeps whatever earlier migrations gave it."""
    create = db.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?",
                        [table]).fetchone()[0]
    if create.count(old) != 1:
        raise RuntimeError(f"{table} has no single {old!r} to widen")
    head = re.match(rf'CREATE TABLE\s+"?{table}"?\s*\(', create)
    if head is None:
        raise RuntimeError(f"unexpected definition of {table}")
    indexes = [r[0] for r in db.execute(
        "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL",
        [table]).fetchall()]
    columns = ", ".join(r[1] for r in db.execute(f"PRAGMA table_info({table})").fetchall())
    db.execute(f"CREATE TABLE {table}_new (" + create[head.end():].replace(old, new))
    db.execute(f"INSERT INTO {table}_new ({columns}) SELECT {columns} FROM {table}")
    db.execute(f"DROP TABLE {table}")
    db.execute(f"ALTER TABLE {table}_new RENAME TO {table}")
    for index in indexes:
        db.execute(index)


def split_sql(script: str) -> list[str]:
    statements, current = [], ""
    for line in script.splitlines(keepends=True):
        if line.lstrip().startswith("--"):
            continue
        current += line
        if sqlite3.complete_statement(current):
            statements.append(current.strip())
            current = ""
    return [s for s in statements if s]


def named_migrations(steps: Sequence[tuple[int, str, Step]]) -> Migrations:
    """sqlite-utils' named migrations of ``steps`` (version, name, SQL or a function),
    each SQL text run by :func:`run_script` so that it sets its version."""
    from sqlite_utils.migrations import Migrations

    named = Migrations("smsbridge")
    for version, name, step in steps:
        named(name=name)(_step(step, version))
    return named


def _step(step: Step, version: int) -> Callable[[SqliteUtilsDatabase], None]:
    if callable(step):
        return step

    def run(db: SqliteUtilsDatabase) -> None:
        run_script(db, step, version)

    return run
