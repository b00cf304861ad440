"""Migration 0007 in place: the schema _SCHEMA_7 defines, without copying the table.

_SCHEMA_7 copies ``messages`` into a new table because SQLite cannot change a UNIQUE
constraint in place (pdu_hash alone becomes pdu_hash with the modem): on 1.2 million
messages that held the write lock for 21 s. The same schema comes in a few seconds by
SQLite's procedure for changes that leave the rows' format alone (lang_altertable.html,
"Making Other Kinds Of Table Schema Changes"): the column is added, the table's
recorded definition is rewritten to exactly what the copy leaves, and the unique
autoindex on pdu_hash becomes a plain named index (the same b-tree), then is dropped so
its pages are freed. tests/test_migrations.py checks the result against the copy's,
schema and rows, and the file with PRAGMA integrity_check.
"""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlite_utils import Database as SqliteUtilsDatabase


class NotInPlace(Exception):
    """The table is not of the shape the in-place change is for: copy it instead."""


def modem_pool_in_place(db: SqliteUtilsDatabase, statements: list[str]) -> None:
    """Apply version 7 (``statements``: _SCHEMA_7's) to ``messages`` in place."""
    create = next(s for s in statements if s.startswith("CREATE TABLE messages_new"))
    model = sqlite3.connect(":memory:")
    model.execute(create)
    model.execute("ALTER TABLE messages_new RENAME TO messages")
    target = model.execute("SELECT sql FROM sqlite_master WHERE name = 'messages'").fetchone()[0]
    wanted = [r[1] for r in model.execute("PRAGMA table_info(messages)")]
    model.close()
    columns = [r[1] for r in db.execute("PRAGMA table_info(messages)").fetchall()]
    unique = [r[2] for r in db.execute(
        "PRAGMA index_info('sqlite_autoindex_messages_1')").fetchall()]
    indexes = {r[0] for r in db.execute(
        "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'messages'"
        " AND sql IS NOT NULL").fetchall()}
    kept = {s.rstrip(";") for s in statements if s.startswith("CREATE INDEX messages_")}
    if [*columns, "modem"] != wanted or unique != ["pdu_hash"] or indexes != kept:
        raise NotInPlace(columns, unique, indexes)
    db.execute("ALTER TABLE messages ADD COLUMN modem TEXT NOT NULL DEFAULT ''")
    version = db.execute("PRAGMA schema_version").fetchone()[0]
    db.execute("PRAGMA writable_schema = ON")
    try:
        db.execute("UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = 'messages'",
                   [target])
        db.execute("UPDATE sqlite_master SET name = 'messages_old_unique', sql = 'CREATE UNIQUE"
                   " INDEX messages_old_unique ON messages (pdu_hash)' WHERE type = 'index'"
                   " AND name = 'sqlite_autoindex_messages_1'")
        db.execute(f"PRAGMA schema_version = {int(version) + 1}")
    finally:
        db.execute("PRAGMA writable_schema = OFF")
    db.execute("DROP INDEX messages_old_unique")
    db.execute("CREATE UNIQUE INDEX messages_delivery ON messages (pdu_hash, modem)")
    for statement in statements:
        if "outbox" in statement:
            db.execute(statement)
    db.execute("PRAGMA user_version = 7")


def modem_pool(db: SqliteUtilsDatabase, schema_7: str) -> None:
    """Version 7: in place when the table allows it (a few seconds on 1.2 million
    messages instead of a 21 s copy), else by the copy the script makes."""
    from smsbridge.store.sqlscript import run_script, split_sql

    db.execute("SAVEPOINT modem_pool")
    try:
        modem_pool_in_place(db, split_sql(schema_7))
    except (sqlite3.DatabaseError, NotInPlace):
        db.execute("ROLLBACK TO modem_pool")
        run_script(db, schema_7, 7)
    db.execute("RELEASE modem_pool")
