"""The schema migrates on open: from an empty file and from every earlier version."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest
from rigs import database_at
from sqlite_utils import Database

from smsbridge.models import CaseQuery
from smsbridge.store import MIGRATION_NAMES, SCHEMA_VERSION, Store, migrations
from smsbridge.store import Database as SmsbridgeDatabase


def applied_names(path: Path) -> list[str]:
    with sqlite3.connect(path) as conn:
        return [r[0] for r in conn.execute(
            "SELECT name FROM _sqlite_migrations WHERE migration_set = 'smsbridge' ORDER BY id")]


def user_version(path: Path) -> int:
    with sqlite3.connect(path) as conn:
        return conn.execute("PRAGMA user_version").fetchone()[0]


def test_every_migration_has_a_name_and_sets_the_version():
    assert len(MIGRATION_NAMES) == SCHEMA_VERSION
    assert [m.name for m in migrations()._migrations] == list(MIGRATION_NAMES)


def test_empty_file_migrates_to_the_latest_version(db_path: Path):
    db_path.touch()
    Store.open(db_path).close()
    assert user_version(db_path) == SCHEMA_VERSION
    assert applied_names(db_path) == list(MIGRATION_NAMES)


def test_reopening_applies_nothing_again(db_path: Path):
    Store.open(db_path).close()
    Store.open(db_path).close()
    assert applied_names(db_path) == list(MIGRATION_NAMES)


@pytest.mark.parametrize("version", range(1, SCHEMA_VERSION))
def test_database_of_an_earlier_version_migrates_with_its_cases(db_path: Path, version: int):
    db = Database(db_path)
    migrations().apply(db, stop_before=MIGRATION_NAMES[version])
    assert db.execute("PRAGMA user_version").fetchone()[0] == version
    # A case as version 1 (the oldest shape) stores it.
    db.execute("UPDATE counters SET value = 1 WHERE name = 'ticket'")
    db.execute(
        "INSERT INTO cases (id, ticket, reporter, text, received_at, updated_at)"
        " VALUES (1, 'LP-000001', '+6281234567110', 'jalan rusak di pasar',"
        " '2024-05-01T10:00:00+00:00', '2024-05-01T10:00:00+00:00')")
    db.conn.commit()
    db.close()

    with Store.open(db_path) as store:
        assert store.schema_version() == SCHEMA_VERSION
        assert [c.ticket for c in store.cases.query(CaseQuery(search="rusak"))] == ["LP-000001"]
        assert store.cases.query(CaseQuery(limit=1))[0].text == "jalan rusak di pasar"
    assert applied_names(db_path) == list(MIGRATION_NAMES)


def test_processes_opening_a_new_file_at_once_migrate_it_once(db_path: Path):
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def open_it() -> None:
        try:
            start.wait(timeout=10)
            Store.open(db_path).close()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=open_it) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    assert applied_names(db_path) == list(MIGRATION_NAMES)


def _index_sql(conn: sqlite3.Connection, table: str) -> dict[str, str]:
    return {name: sql for name, sql in conn.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ?"
        " AND sql IS NOT NULL", (table,))}


@pytest.mark.parametrize("version", range(1, 6))
def test_outbox_rebuilt_by_0006_keeps_rows_ids_and_every_index(tmp_path: Path, version: int):
    fresh = tmp_path / "fresh.db"
    Store.open(fresh).close()
    old = tmp_path / "old.db"
    db = database_at(old, version, "judi")
    db.execute("INSERT INTO case_events (case_id, at, operator, action)"
               " VALUES (1, '2024-05-01T10:00:00+00:00', 'budi', 'created')")
    rows = [(7, 1, "+6281234567110", "Laporan diterima", "ack", "sent", 1, None, None,
             "2024-05-01T10:00:01+00:00", "2024-05-01T10:00:05+00:00", None, "[12]",
             "smsbridge"),
            (9, None, "+6281234567110", "Petugas menuju", "operator", "gave_up", 5, None,
             "modem answered +CMS ERROR 38", "2024-05-01T11:00:00+00:00", None, None, "[]",
             "sari")]
    db.conn.executemany("INSERT INTO outbox (id, case_id, number, text, kind, state, attempts,"
                        " next_attempt_at, last_error, created_at, sent_at, delivered_at, refs,"
                        " created_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    db.conn.commit()
    db.close()

    Store.open(old).close()
    with sqlite3.connect(old) as conn, sqlite3.connect(fresh) as new:
        # The columns of version 6 (later versions add their own beside them).
        columns = ("id, case_id, number, text, kind, state, attempts, next_attempt_at,"
                   " last_error, created_at, sent_at, delivered_at, refs, created_by")
        assert conn.execute(f"SELECT {columns} FROM outbox ORDER BY id").fetchall() == rows
        assert _index_sql(conn, "outbox") == _index_sql(new, "outbox")
        assert {"outbox_due", "outbox_case", "outbox_number",
                "outbox_auto_created"} <= set(_index_sql(conn, "outbox"))
        assert conn.execute("SELECT login FROM case_events").fetchall() == [(None,)]
        conn.execute("UPDATE outbox SET state = 'cancelled' WHERE id = 9")
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert applied_names(old) == list(MIGRATION_NAMES)


def test_audit_log_refuses_changes_to_what_it_holds(db_path: Path):
    with Store(SmsbridgeDatabase.open(db_path), login="budi") as store:
        store.audit.record("lookup", "cases list --reporter +62812****7110: no case",
                           operator="budi")
    with sqlite3.connect(db_path) as conn:
        for statement in ("UPDATE audit_log SET operator = 'x'", "DELETE FROM audit_log"):
            with pytest.raises(sqlite3.IntegrityError, match="audit log cannot be changed"):
                conn.execute(statement)
        assert conn.execute("SELECT login, operator, action FROM audit_log").fetchall() == [
            ("budi", "budi", "lookup")]


@pytest.mark.parametrize("version", range(1, 7))
def test_messages_rebuilt_by_0007_keep_rows_and_dedupe_per_modem(tmp_path: Path, version: int):
    fresh = tmp_path / "fresh.db"
    Store.open(fresh).close()
    old = tmp_path / "old.db"
    db = Database(old)
    migrations().apply(db, stop_before=MIGRATION_NAMES[version])
    db.execute("INSERT INTO messages (id, pdu_hash, pdu, kind, received_at, sender, text)"
               " VALUES (5, 'abc', '00', 'deliver', '2024-05-01T10:00:00+00:00',"
               " '+6281234567110', 'judi')")
    db.conn.commit()
    db.close()

    with Store.open(old) as store:
        # A row of before the pool counts as any modem's: never stored again after a crash.
        assert store.inbox.seen("abc", "tsel-1") and store.inbox.seen("abc")
        store.inbox.add(pdu_hash="def", pdu="00", kind="deliver", received_at="x",
                        modem="tsel-1")
        # Byte-identical on another SIM: a second delivery, stored.
        assert not store.inbox.seen("def", "isat-1")
        store.inbox.add(pdu_hash="def", pdu="00", kind="deliver", received_at="x",
                        modem="isat-1")
        with pytest.raises(Exception, match="UNIQUE"):
            store.inbox.add(pdu_hash="def", pdu="00", kind="deliver", received_at="x",
                            modem="isat-1")
    with sqlite3.connect(old) as conn, sqlite3.connect(fresh) as new:
        assert conn.execute("SELECT id, pdu_hash, modem FROM messages WHERE id = 5"
                            ).fetchall() == [(5, "abc", "")]
        assert _index_sql(conn, "messages") == _index_sql(new, "messages")
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)


def _at_version_6_with_messages(path: Path, *, extra_column: bool = False) -> None:
    db = Database(path)
    migrations().apply(db, stop_before=MIGRATION_NAMES[6])
    db.execute("UPDATE counters SET value = 1 WHERE name = 'ticket'")
    db.execute("INSERT INTO cases (id, ticket, reporter, text, received_at, updated_at)"
               " VALUES (1, 'LP-000001', '+6281234567110', 'judi', '2024-05-01T10:00:00+00:00',"
               " '2024-05-01T10:00:00+00:00')")
    if extra_column:
        db.execute("ALTER TABLE messages ADD COLUMN note TEXT")
    for i in range(1, 41):
        db.execute("INSERT INTO messages (id, pdu_hash, pdu, kind, sender, received_at, text,"
                   " case_id, handled_at) VALUES (?, ?, '07', 'deliver', '+6281234567110',"
                   " '2024-05-01T10:00:00+00:00', ?, ?, ?)",
                   (i, f"hash{i}", f"sms {i}", 1 if i % 2 else None,
                    None if i % 3 else "2024-05-01T10:00:01+00:00"))
    db.conn.commit()
    db.close()


def _schema_and_messages(path: Path) -> tuple[set, list]:
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        schema = set(conn.execute("SELECT type, name, tbl_name, sql FROM sqlite_master"
                                  " WHERE name NOT LIKE '%fts%'"))
        rows = conn.execute("SELECT * FROM messages ORDER BY id").fetchall()
    return schema, rows


def test_0007_in_place_leaves_what_the_copy_leaves(tmp_path: Path):
    from smsbridge.store.inplace import modem_pool_in_place
    from smsbridge.store.schema import _SCHEMA_7
    from smsbridge.store.sqlscript import run_script, split_sql

    in_place, copied = tmp_path / "in_place.db", tmp_path / "copied.db"
    _at_version_6_with_messages(in_place)
    _at_version_6_with_messages(copied)
    db = Database(copied)
    with db.conn:
        run_script(db, _SCHEMA_7, 7)
        db.execute("INSERT INTO _sqlite_migrations (migration_set, name, applied_at)"
                   " VALUES ('smsbridge', '0007_modem_pool', '2024-05-01')")
    db.close()
    db = Database(in_place)
    with db.conn:
        modem_pool_in_place(db, split_sql(_SCHEMA_7))  # raises rather than copy
        db.execute("INSERT INTO _sqlite_migrations (migration_set, name, applied_at)"
                   " VALUES ('smsbridge', '0007_modem_pool', '2024-05-01')")
    db.close()
    for path in (in_place, copied):
        Store.open(path).close()
    assert _schema_and_messages(in_place) == _schema_and_messages(copied)
    with sqlite3.connect(in_place) as conn:
        # The same delivery on another stick is stored; on the same stick it is not.
        conn.execute("INSERT INTO messages (pdu_hash, pdu, kind, received_at, modem)"
                     " VALUES ('hash1', '07', 'deliver', 't', 'stick-2')")
        with pytest.raises(sqlite3.IntegrityError):
            conn.execute("INSERT INTO messages (pdu_hash, pdu, kind, received_at, modem)"
                         " VALUES ('hash1', '07', 'deliver', 't', 'stick-2')")


def test_0007_migrates_in_place_when_it_opens(db_path: Path):
    _at_version_6_with_messages(db_path)
    with sqlite3.connect(db_path) as conn:
        before = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = 'messages'"
                              ).fetchone()
    with Store.open(db_path) as store:
        # The same table, not a copy of it.
        assert store.db.one("SELECT rootpage FROM sqlite_master WHERE name = 'messages'"
                            )[0] == before[0]


def test_0007_copies_a_messages_table_of_another_shape(db_path: Path):
    _at_version_6_with_messages(db_path, extra_column=True)
    with Store.open(db_path) as store:
        columns = [r[1] for r in store.db.all("PRAGMA table_info(messages)")]
        # 0007's shape (later versions add columns after it).
        at = columns.index("handled_at")
        assert columns[at:at + 2] == ["handled_at", "modem"] and "note" not in columns
        assert store.db.scalar("SELECT count(*) FROM messages") == 40
