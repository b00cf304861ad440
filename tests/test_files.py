"""The database file: modes narrowed on open, and commands that only read never change
it (real files, the CLI as a process)."""

from __future__ import annotations

import hashlib
import logging
import os
import pwd
import shutil
import sqlite3
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from rigs import as_user, older_database, run_smsbridge, said

from smsbridge.errors import DatabaseError
from smsbridge.models import CaseQuery, NewCase
from smsbridge.store import SCHEMA_VERSION, Store

READ_COMMANDS = [
    ["cases", "list"],
    ["cases", "show", "LP-000001"],
    ["stats"],
    ["export"],
    ["messages", "--all"],
    ["status"],
]


def smsbridge(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return run_smsbridge(*args, env=env, timeout=60)


def fingerprint(path: Path) -> tuple[str, int, int]:
    """Content, modification time and size: what a write would change."""
    info = os.stat(path)
    return hashlib.sha256(path.read_bytes()).hexdigest(), info.st_mtime_ns, info.st_size


def mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def add_case(path: Path) -> None:
    with Store.open(path) as store:
        store.cases.create(NewCase("+6281234567110", "ada judi di pasar"), operator="budi")


# --- modes ----------------------------------------------------------------------------


def test_wide_modes_of_the_file_its_wal_and_shm_are_narrowed_with_a_warning(
        db_path: Path, caplog: pytest.LogCaptureFixture):
    add_case(db_path)
    daemon = sqlite3.connect(db_path)  # keeps the -wal and -shm in place
    try:
        daemon.execute("SELECT count(*) FROM cases").fetchone()
        files = [db_path, Path(f"{db_path}-wal"), Path(f"{db_path}-shm")]
        for path, wide in zip(files, (0o666, 0o664, 0o777), strict=True):
            path.chmod(wide)
        with caplog.at_level(logging.WARNING, logger="smsbridge.store.db"):
            Store.open(db_path, create=False).close()
        assert [mode(p) for p in files] == [0o660, 0o660, 0o660]
    finally:
        daemon.close()
    warned = [r.getMessage() for r in caplog.records]
    assert len(warned) == 3
    assert f"{db_path}: mode 0666 was wider than 0660; changed to 0660" in warned


def test_narrowing_only_takes_bits_away(db_path: Path):
    add_case(db_path)
    db_path.chmod(0o644)  # the group could not write: it still cannot, others lose read
    Store.open(db_path, create=False).close()
    assert mode(db_path) == 0o640


def test_private_modes_are_left_alone_without_a_word(db_path: Path,
                                                     caplog: pytest.LogCaptureFixture):
    add_case(db_path)
    db_path.chmod(0o640)
    with caplog.at_level(logging.WARNING):
        Store.open(db_path, create=False).close()
    assert mode(db_path) == 0o640 and caplog.records == []


def test_cli_says_in_one_line_on_stderr_that_it_narrowed_the_mode(db_path: Path, cli_env):
    add_case(db_path)
    db_path.chmod(0o666)
    # `cases show`: its stderr carries nothing else (the list adds its footer there).
    result = smsbridge(cli_env, "cases", "show", "LP-000001")
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines() == [
        f"{db_path}: mode 0666 was wider than 0660; changed to 0660"]
    assert "LP-000001" in result.stdout and mode(db_path) == 0o660


@pytest.mark.skipif(os.geteuid() != 0,
                    reason="needs a database owned by another user; only root can make one")
def test_a_mode_that_cannot_be_changed_is_left_as_it_is_with_the_warning():
    # nobody cannot reach pytest's private tmp_path: a world-usable directory instead.
    where = Path(tempfile.mkdtemp(prefix="smsbridge-modes-"))
    try:
        where.chmod(0o777)
        db = where / "cases.db"
        add_case(db)
        db.chmod(0o666)
        said = as_nobody(db)
        assert said[0].startswith(f"{db}: mode 0666 is wider than 0660 and cannot be changed")
        assert "chmod 660" in said[0] and said[1:] == ["cases: 1"]
        assert mode(db) == 0o666
    finally:
        shutil.rmtree(where)


def as_nobody(db: Path) -> list[str]:
    """Open ``db`` in a child that is user nobody; what it logged, then what it read."""
    nobody = pwd.getpwnam("nobody")
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        status = 1
        try:
            os.close(read)
            os.setgid(nobody.pw_gid)
            os.setuid(nobody.pw_uid)
            with os.fdopen(write, "w") as out:
                logging.getLogger("smsbridge.store.db").addHandler(logging.StreamHandler(out))
                try:
                    with Store.open(db, create=False) as store:
                        out.write(f"cases: {len(store.cases.query(CaseQuery()))}\n")
                    status = 0
                except BaseException as exc:
                    out.write(f"failed: {exc!r}\n")
        finally:
            os._exit(status)
    os.close(write)
    with os.fdopen(read) as got:
        lines = got.read().splitlines()
    _, status = os.waitpid(pid, 0)
    assert status == 0, lines
    return lines


# --- reading never writes -------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("content", [b"", b"this is a text file, not a database\n" * 50],
                         ids=["empty", "not-sqlite"])
def test_read_commands_refuse_a_file_that_is_not_ours_and_leave_it_unchanged(
        db_path: Path, cli_env, content: bytes):
    db_path.write_bytes(content)
    db_path.chmod(0o660)
    before = fingerprint(db_path)
    for command in READ_COMMANDS:
        result = smsbridge(cli_env, *command)
        assert result.returncode == 1, (command, result.stderr)
        [line] = result.stderr.splitlines()
        assert "not a smsbridge database" in line and "Traceback" not in line
        assert fingerprint(db_path) == before, command
    assert sorted(os.listdir(db_path.parent)) == ["config.toml", db_path.name]


def test_another_programs_database_is_refused_unchanged_even_by_the_daemon(db_path: Path):
    with sqlite3.connect(db_path) as conn:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("CREATE TABLE notes (body TEXT)")
        conn.execute("INSERT INTO notes VALUES ('mine')")
    conn.close()
    db_path.chmod(0o660)
    before = fingerprint(db_path)
    for create in (False, True):
        with pytest.raises(DatabaseError, match=r"smsbridge database \(it holds another"):
            Store.open(db_path, create=create)
        assert fingerprint(db_path) == before


def test_only_an_opener_that_creates_sets_up_an_empty_file(db_path: Path):
    db_path.touch()
    for migrate in (False, True):
        with pytest.raises(DatabaseError, match=r"not a smsbridge database \(the file is empty"):
            Store.open(db_path, create=False, migrate=migrate)
    assert db_path.stat().st_size == 0
    with Store.open(db_path, create=True) as store:
        assert store.schema_version() == SCHEMA_VERSION


def test_a_reader_refuses_an_older_schema_unchanged_and_a_writer_migrates_it(db_path: Path):
    version = older_database(db_path)
    before = fingerprint(db_path)
    with pytest.raises(DatabaseError, match=f"schema version {version} and this smsbridge "
                                            f"needs {SCHEMA_VERSION}; start"):
        Store.open(db_path, create=False)
    assert fingerprint(db_path) == before
    with Store.open(db_path, create=False, migrate=True) as store:
        assert store.schema_version() == SCHEMA_VERSION
        assert store.cases.get("LP-000001").text == "jalan rusak"


@pytest.mark.slow
def test_read_commands_refuse_an_older_schema_unchanged_and_say_how_to_upgrade(
        db_path: Path, cli_env):
    version = older_database(db_path)
    before = fingerprint(db_path)
    for command in READ_COMMANDS:
        result = smsbridge(cli_env, *command)
        assert result.returncode == 1, (command, result.stderr)
        [line] = result.stderr.splitlines()
        assert f"schema version {version}" in line and "start (or restart) the daemon" in line
        assert fingerprint(db_path) == before, command


def test_a_write_command_upgrades_an_older_schema_then_reads_work(db_path: Path, cli_env):
    older_database(db_path)
    result = smsbridge(cli_env, "cases", "update", "LP-000001", "--status", "checking")
    assert result.returncode == 0, result.stderr
    with Store.open(db_path, create=False) as store:
        assert store.schema_version() == SCHEMA_VERSION
    listed = smsbridge(cli_env, "cases", "list")
    assert listed.returncode == 0 and "checking" in listed.stdout


@pytest.mark.slow
def test_read_commands_leave_a_quiet_database_byte_for_byte_and_no_wal_behind(
        db_path: Path, cli_env):
    add_case(db_path)
    before = fingerprint(db_path)
    for command in READ_COMMANDS:
        result = smsbridge(cli_env, *command)
        assert result.returncode in (0, 1) and "Traceback" not in result.stderr  # status: 1
        assert fingerprint(db_path) == before, command
        # A read-write connection removes its -wal and -shm when it is the last one; a
        # read-only one would leave them, owned by the operator, in the daemon's way.
        assert sorted(os.listdir(db_path.parent)) == ["config.toml", db_path.name,
                                                      "smsbridge.key"], command


def test_a_read_sees_what_the_daemon_committed_that_is_still_only_in_its_wal(
        db_path: Path, cli_env):
    add_case(db_path)
    with Store.open(db_path) as daemon:
        daemon.db.execute("PRAGMA wal_autocheckpoint = 0")
        daemon.cases.create(NewCase("+6285700001111", "balap liar tiap malam"),
                            operator="smsbridge")
        assert os.path.getsize(f"{db_path}-wal") > 0
        listed = smsbridge(cli_env, "cases", "list")
        shown = smsbridge(cli_env, "cases", "show", "LP-000002")
    assert listed.returncode == 0 and "LP-000002" in listed.stdout
    assert shown.returncode == 0 and "balap liar" in shown.stdout


def test_a_read_after_a_crash_sees_what_was_committed_before_it(db_path: Path, cli_env):
    add_case(db_path)
    crash = ("import os, sys\n"
             "from smsbridge.models import NewCase\n"
             "from smsbridge.store import Store\n"
             "s = Store.open(sys.argv[1])\n"
             "s.db.execute('PRAGMA wal_autocheckpoint = 0')\n"
             "s.cases.create(NewCase('+6285700001111', 'tawuran'), operator='smsbridge')\n"
             "os._exit(0)\n")
    subprocess.run([sys.executable, "-c", crash, str(db_path)], check=True, timeout=60)
    assert os.path.getsize(f"{db_path}-wal") > 0
    result = smsbridge(cli_env, "cases", "show", "LP-000002")
    assert result.returncode == 0 and "tawuran" in result.stdout


def test_a_reader_can_still_record_an_audit_line(db_path: Path, cli_env):
    add_case(db_path)
    result = smsbridge(cli_env, "cases", "show", "LP-000001", "--reveal")
    assert result.returncode == 0 and "+6281234567110" in result.stdout
    with Store.open(db_path, create=False) as store:
        assert [e.action for e in store.cases.detail("LP-000001").events][-1] == "reveal"


# --- what the database's files may be --------------------------------------------------

def test_a_planted_shm_link_is_refused_and_what_it_points_to_is_untouched(
        db_path: Path, tmp_path: Path, cli_env):
    # The state directory is group-writable: an operator can plant a link and wait for
    # an administrator's `sudo smsbridge …`.
    add_case(db_path)
    db_path.chmod(0o666)  # a mode the open would narrow: the link must stop it first
    target = tmp_path / "setuid-program"
    target.write_bytes(b"#!/bin/sh\n")
    target.chmod(0o4755)
    before = fingerprint(target)
    db_path.with_name(db_path.name + "-shm").symlink_to(target)
    for args in (["cases", "list"], ["cases", "add", "--reporter", "081234567110", "x"]):
        result = smsbridge(cli_env, *args)
        assert result.returncode == 1
        assert result.stderr.splitlines() == [
            f"Error: {db_path}-shm: is a symbolic link; refused, nothing was changed. The "
            "database's files must be the files themselves: remove the link, or set "
            "[database] path to the real file"]
    assert mode(target) == 0o4755 and fingerprint(target) == before
    assert mode(db_path) == 0o666 and not db_path.with_name(db_path.name + "-wal").exists()


def test_a_database_path_that_is_a_link_is_refused(db_path: Path, tmp_path: Path, cli_env):
    real = tmp_path / "real.db"
    add_case(real)
    real.chmod(0o666)
    db_path.symlink_to(real)
    result = smsbridge(cli_env, "cases", "list")
    assert result.returncode == 1 and "is a symbolic link; refused" in result.stderr
    assert mode(real) == 0o666


@pytest.mark.parametrize("command", [["cases", "list"], ["status"],
                                     ["cases", "add", "--reporter", "081234567110", "x"]])
def test_a_device_as_the_database_is_refused_and_left_as_it_is(tmp_path: Path, cli_env,
                                                                 command):
    (tmp_path / "config.toml").write_text('[database]\npath = "/dev/null"\n')
    before = os.stat("/dev/null")
    result = smsbridge(cli_env, *command)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "Error: /dev/null: is a device; refused, nothing was changed. Check [database] "
        "path in the config"]
    after = os.stat("/dev/null")
    assert (after.st_mode, after.st_uid, after.st_gid) == (
        before.st_mode, before.st_uid, before.st_gid)


# --- two users, one database: the restart after an operator's command -----------------

# Made-up ids: a child process takes them on with setuid/setgid, no account needed.
SERVICE_GROUP, DAEMON_UID, OPERATOR_UID, OPERATOR_GROUP = 61000, 61001, 61002, 61002


def daemon_opens(db: Path):
    def work() -> None:
        with Store.open(db) as store:  # as the daemon opens it: create and migrate
            store.cases.create(NewCase("+6281234567110", "ada judi"), operator="smsbridge")
    return work


@pytest.mark.skipif(os.geteuid() != 0, reason="needs two users; only root can become them")
@pytest.mark.parametrize("directory_mode", [0o2770, 0o770])
def test_the_daemon_starts_while_an_operator_holds_the_database_open(directory_mode):
    # The unit's StateDirectoryMode=2770: a -wal/-shm an operator's command makes keeps
    # the directory's group, which the daemon is in. 0770 (the old unit) shows why.
    where = Path(tempfile.mkdtemp(prefix="smsbridge-users-"))
    try:
        where.chmod(0o755)
        state = where / "state"
        state.mkdir()
        os.chown(state, DAEMON_UID, SERVICE_GROUP)
        state.chmod(directory_mode)
        db = state / "cases.db"
        pid, read = as_user(DAEMON_UID, SERVICE_GROUP, [SERVICE_GROUP], daemon_opens(db))
        assert said(read) == "ok"
        os.waitpid(pid, 0)

        def operator_reads() -> None:  # `cases watch`, left running
            store = Store.open(db, create=False)
            store.cases.query(CaseQuery())

        release_read, release = os.pipe()
        operator, read = as_user(OPERATOR_UID, OPERATOR_GROUP, [OPERATOR_GROUP, SERVICE_GROUP],
                                 operator_reads, hold=(release_read, release))
        try:
            assert said(read) == "ok"
            shm = os.stat(db.with_name("cases.db-shm"))
            assert shm.st_uid == OPERATOR_UID
            daemon, read = as_user(DAEMON_UID, SERVICE_GROUP, [SERVICE_GROUP],
                                   daemon_opens(db))
            outcome = said(read)
            os.waitpid(daemon, 0)
        finally:
            os.close(release)
            os.waitpid(operator, 0)
            os.close(release_read)
        if directory_mode & stat.S_ISGID:
            assert shm.st_gid == SERVICE_GROUP and outcome == "ok"
        else:
            assert shm.st_gid == OPERATOR_GROUP
            assert outcome.startswith(f"failed: {db}-") and "chmod 2770" in outcome
    finally:
        shutil.rmtree(where)
