"""The case store on real SQLite files."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from smsbridge.models import NewCase
from smsbridge.store import SCHEMA_VERSION, CaseStore

REPORTER = "+6281234567110"


@pytest.fixture
def store(db_path: Path):
    with CaseStore.open(db_path) as s:
        yield s


def add(store: CaseStore, text: str = "ada judi di pasar", reporter: str = REPORTER):
    return store.create_case(NewCase(reporter, text), operator="budi")


def test_new_database_is_private_wal_and_at_the_latest_schema(db_path: Path):
    with CaseStore.open(db_path) as s:
        assert s.schema_version() == SCHEMA_VERSION
        assert s.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert s.conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        add(s)
    assert stat.S_IMODE(os.stat(db_path).st_mode) == 0o640
