"""``smsbridge backup``: a consistent, checked copy, made while the daemon writes, that
restores as the operators' guide says."""

from __future__ import annotations

import os
import shutil
import sqlite3
import stat
from pathlib import Path

import pytest
from rigs import DaemonProcess, number, query, run_smsbridge, wait_until

from smsbridge.models import NewCase
from smsbridge.store import Store


def mode(path: Path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


def seed(db: Path, n: int) -> None:
    with Store.open(db) as store:
        for i in range(n):
            store.cases.create(NewCase(number(i), f"laporan {i}"), operator="budi")


def integrity(db: Path) -> str:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return conn.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        conn.close()


def restore(backup: Path, db: Path) -> None:
    """docs/operators.en.md, "Backups" (docs/operators.md, "Cadangan (backup)"): with
    the daemon stopped, the live files set aside and the backup put in their place, 0660."""
    for suffix in ("", "-wal", "-shm"):
        live = db.with_name(db.name + suffix)
        if live.exists():
            live.rename(live.with_name(live.name + ".broken"))
    shutil.copyfile(backup, db)
    db.chmod(0o660)


def test_a_backup_holds_every_case_is_sound_and_is_0640_whatever_the_umask(
        cli, db_path: Path, tmp_path: Path):
    seed(db_path, 25)
    dest = tmp_path / "backup.db"
    old = os.umask(0)
    try:
        said = cli("backup", str(dest)).output
    finally:
        os.umask(old)
    assert said.startswith(f"25 cases backed up to {dest}: ") and "integrity ok" in said
    assert mode(dest) == 0o640 and integrity(dest) == "ok"
    # One self-contained file, nothing left beside it.
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("backup")) == [
        "backup.db"]
    assert query(dest, "PRAGMA journal_mode") == [("delete",)]
    assert query(dest, "SELECT count(*) FROM cases") == [(25,)]


def test_a_backup_replaces_an_older_one_whole(cli, db_path: Path, tmp_path: Path):
    dest = tmp_path / "backup.db"
    seed(db_path, 2)
    cli("backup", str(dest))
    seed(db_path, 3)
    cli("backup", str(dest))
    assert query(dest, "SELECT count(*) FROM cases") == [(5,)]
    assert [p.name for p in tmp_path.iterdir() if ".part" in p.name] == []


def test_a_link_as_the_backup_is_refused_and_what_it_points_to_is_untouched(
        cli, db_path: Path, tmp_path: Path):
    seed(db_path, 1)
    target = tmp_path / "precious"
    target.write_text("not a backup\n")
    link = tmp_path / "backup.db"
    link.symlink_to(target)
    result = cli("backup", str(link), ok=False)
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        f"Error: {link}: is a symbolic link; refused, nothing was written. Name the file "
        "itself"]
    assert target.read_text() == "not a backup\n" and link.is_symlink()


def test_keep_deletes_the_oldest_of_its_own_backups_and_nothing_else(
        cli, db_path: Path, tmp_path: Path):
    seed(db_path, 1)
    where = tmp_path / "backups"
    where.mkdir()
    for day in range(1, 5):
        (where / f"cases-202612{day:02d}-031500.db").write_text("old")
    (where / "notes.txt").write_text("mine")
    (where / "cases-20261201-000000.db.keep").write_text("mine")
    (where / "cases-20261130-031500.db").symlink_to(tmp_path / "elsewhere")
    said = cli("backup", "--keep", "3", str(where)).output
    names = sorted(p.name for p in where.iterdir())
    assert names[:4] == ["cases-20261130-031500.db", "cases-20261201-000000.db.keep",
                         "cases-20261203-031500.db", "cases-20261204-031500.db"]
    assert names[4].startswith("cases-") and names[5:] == ["notes.txt"]
    assert said.count("removed the old backup") == 2


def test_keep_wants_a_directory(cli, db_path: Path, tmp_path: Path):
    seed(db_path, 1)
    result = cli("backup", "--keep", "3", str(tmp_path / "cases.db"), ok=False)
    assert result.exit_code == 2 and "directory" in result.output


def test_no_database_no_backup(cli, tmp_path: Path):
    dest = tmp_path / "backup.db"
    result = cli("backup", str(dest), ok=False)
    assert result.exit_code == 1 and "no database yet" in result.output
    assert list(tmp_path.glob("*backup*")) == []


@pytest.mark.slow
def test_a_backup_made_during_a_burst_restores_every_case_committed_before_it(
        tmp_path: Path, emulator):
    d = DaemonProcess(tmp_path, emulator.port,
                      "[abuse]\nline_replies_per_hour = 100000\nline_replies_per_day = 100000\n")
    burst = 300
    for i in range(burst):
        emulator.inject_text(number(i), f"laporan {i}: ada judi di pasar")
    dest = tmp_path / "backup.db"
    try:
        d.start()
        wait_until(lambda: query(d.db, "SELECT count(*) FROM cases") >= [(20,)], 60,
                   "the first cases")
        [(before,)] = query(d.db, "SELECT count(*) FROM cases")
        result = run_smsbridge("--config", str(d.config), "backup", str(dest), timeout=120)
        assert result.returncode == 0, result.stderr
        [(after,)] = query(d.db, "SELECT count(*) FROM cases")
        wait_until(lambda: query(d.db, "SELECT count(*) FROM cases") == [(burst,)], 240,
                   "every case", interval=0.2)
        assert d.terminate() == 0
    finally:
        d.stop()
    assert integrity(dest) == "ok"
    backed = query(dest, "SELECT id, ticket, reporter, text FROM cases ORDER BY id")
    # Every case committed before the backup began, and no half of anything after it.
    assert before <= len(backed) <= after < burst
    live = query(d.db, "SELECT id, ticket, reporter, text FROM cases ORDER BY id")
    assert backed == live[:len(backed)]
    restore(dest, d.db)
    listed = run_smsbridge("--config", str(d.config), "stats", "--all", timeout=60)
    assert listed.returncode == 0, listed.stderr
    assert integrity(d.db) == "ok"
    assert query(d.db, "SELECT count(*) FROM cases") == [(len(backed),)]
