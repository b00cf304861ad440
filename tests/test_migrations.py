"""The schema migrates on open: from an empty file and from every earlier version."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest
from sqlite_utils import Database

from smsbridge.models import CaseQuery
from smsbridge.store import MIGRATION_NAMES, SCHEMA_VERSION, Store, migrations


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
