"""Rigs that several test files share: the daemon as a child process over the emulator.

A plain module (not a test file): tests import what they need from it, as from
gammu_dummy.py.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import NamedTuple

from sqlite_utils import Database as SqliteUtilsDatabase

from smsbridge.bridge import Bridge
from smsbridge.clock import ManualClock
from smsbridge.config.sections import Config
from smsbridge.emulator import Emulator
from smsbridge.models import CaseQuery
from smsbridge.modem.base import Modem
from smsbridge.modem.fake import FakeModem
from smsbridge.pool.sending import Outcome, Sending
from smsbridge.sealing.keys import Keys
from smsbridge.sms.pdu import encode_deliver
from smsbridge.store import MIGRATION_NAMES, SCHEMA_VERSION, Store, migrations


def run_smsbridge(*args: str, **options) -> subprocess.CompletedProcess:
    """``python -m smsbridge ARGS`` as a separate process, its output captured as text.

    ``options`` go to subprocess.run (env, timeout, input, check, umask, cwd); the
    timeout is 60 s unless given, so a hung command fails its test instead of the run.
    """
    options.setdefault("timeout", 60)
    return subprocess.run([sys.executable, "-m", "smsbridge", *args], capture_output=True,
                          text=True, **options)


def run_in_language(env: dict[str, str], language: str, *args: str,
                    timeout: float = 120) -> subprocess.CompletedProcess:
    """The command line as a process that reads ``language`` ("id", "en") on a terminal
    100 columns wide, ``env`` otherwise."""
    return run_smsbridge(*args, env={**env, "SMSBRIDGE_LANG": language, "COLUMNS": "100"},
                         timeout=timeout)


def number(i: int) -> str:
    return f"+62812{i:08d}"


def wait_until(predicate, timeout: float, what: str, interval: float = 0.05) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(interval)


def query(db: Path, sql: str, params=()) -> list[tuple]:
    """Rows of ``sql`` on the database file as it is. Numbers are sealed in it: with
    the daemon's keys beside it, ``clear(x_sealed)`` opens one and ``token(number)``
    finds one (``WHERE number = token(?)``)."""
    if not db.exists():
        return []
    conn = sqlite3.connect(db, timeout=30)
    keys_at = db.parent / "smsbridge.key"
    if keys_at.exists():
        from smsbridge.sealing.keys import load_keys

        keys = load_keys(keys_at)
        conn.create_function("clear", 1, lambda v: keys.open(v) if v else None)
        conn.create_function("token", 1, keys.token)
    try:
        return conn.execute(sql, params).fetchall()
    except sqlite3.OperationalError:
        return []  # not migrated yet
    finally:
        conn.close()


# The [modem] lines that choose each backend; both drive the same emulator on its pty.
BACKENDS = {"at": "", "gammu": 'backend = "gammu"\ngammu_connection = "at"\n'}
# libgammu's AT driver spends about 4 s in Init (byte-by-byte writes and a 0.4 s pause
# after each command until it knows the model) and re-reads the whole storage for
# every message it lists, so the burst and the crash test run smaller on gammu, and
# the silent-modem test (passes on gammu, 37 s) and the tests of the AT-only paths run
# on the AT backend alone.


class DaemonProcess:
    """``smsbridge daemon`` as a child process, restartable, with its log kept."""

    def __init__(self, directory: Path, port: str, extra_config: str = "",
                 env: dict[str, str] | None = None, backend: str = "at"):
        self.backend = backend
        self.dir = directory
        self.db = directory / "cases.db"
        self.config = directory / "config.toml"
        self.log = directory / "daemon.log"
        self.write_config(port, extra_config)
        self.env = {**os.environ, **(env or {})}
        self.proc: subprocess.Popen | None = None

    def write_config(self, port: str, extra: str = "") -> None:
        self.config.write_text(
            f'[modem]\nport = "{port}"\n{BACKENDS[self.backend]}'
            'command_timeout = 3.0\nsim_busy_wait = 10.0\n'
            f'[database]\npath = "{self.db}"\n'
            '[daemon]\npoll_seconds = 1.0\nreconnect_max_seconds = 2.0\n'
            '[logging]\nlevel = "DEBUG"\n' + extra, encoding="utf-8")

    def start(self) -> None:
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "smsbridge", "--config", str(self.config), "daemon"],
                stdout=log, stderr=log, stdin=subprocess.DEVNULL, env=self.env)

    def wait_running(self, timeout: float = 30) -> None:
        """Until this process has recorded itself in the database (handlers installed)."""
        wait_until(lambda: (str(self.proc.pid),) in query(
            self.db, "SELECT value FROM daemon_state WHERE key = 'pid'"), timeout,
            "the daemon to record its pid")

    def kill9(self) -> None:
        self.proc.kill()
        self.proc.wait(10)

    def terminate(self, timeout: float = 30) -> int:
        self.wait_running()
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


# A burst of hundreds of reports is more than the line's default reply budget (300 an
# hour): the tests of bursts are about every report being answered, so the budget is the
# burst's.
BIG_BUDGET = "[abuse]\nline_replies_per_hour = 100000\nline_replies_per_day = 100000\n"


def pool_toml(ports: dict[str, str], roles: dict[str, str] | None = None,
              tables: dict[str, str] | None = None) -> str:
    """Config TOML for a pool: the big reply budget, a [[modems]] table per name and port."""
    # A modem's role is "both" unless ``roles`` names it; ``tables`` adds lines to one's table.
    roles, tables = roles or {}, tables or {}
    return BIG_BUDGET + "".join(
        f'[[modems]]\nname = "{name}"\nport = "{port}"\nrole = "{roles.get(name, "both")}"\n'
        + tables.get(name, "") for name, port in ports.items())


class Pool(NamedTuple):
    """What the ``pool_daemon`` fixture gives: the daemon and its emulators by name."""

    daemon: DaemonProcess
    emus: dict[str, Emulator]


# A whole second: stored times have seconds, so waits computed from them are exact.
START = datetime(2026, 12, 1, 20, 0, tzinfo=UTC)


class BridgeRig:
    """The bridge over a modem, a real SQLite store and a held clock; ``step()`` drains and
    sends everything due."""

    # The modem is the in-memory one unless one is given; ``emu`` is the emulator behind a
    # real modem, which then says what was sent.
    def __init__(self, store: Store, clock: ManualClock, config: Config | None = None, *,
                 modem: Modem | None = None, emu: Emulator | None = None):
        self.modem = modem if modem is not None else FakeModem()
        self.emu = emu
        self.store, self.clock = store, clock
        self.config = config or Config()
        self.bridge = Bridge(self.modem, store, self.config, clock=clock)
        self.sending = Sending(self.modem, store, self.config, name="modem", clock=clock)
        self._set_aside: list[str] = []  # replies sending set aside, with their reasons

    def configure(self, **sections) -> None:
        self.config = self.config.replace(**sections)
        self.bridge.reconfigure(self.config)
        self.sending.config = self.config

    def sms(self, sender: str, text: str) -> list[int]:
        """An SMS from ``sender`` stamped by the network at the test's time."""
        return self.modem.inject_text(sender, text, timestamp=self.clock.now())

    def step(self, expect_messages: int | None = None) -> None:
        """Drain, then send until nothing is due; with ``expect_messages``, first wait
        until the emulator's storage holds that many."""
        if expect_messages is not None:
            assert self.emu.wait_for(lambda e: e.storage_used >= expect_messages, 5)
        self.bridge.drain()
        while (result := self.sending.send_one()).tried:
            if result.outcome is Outcome.SET_ASIDE and result.reason:
                self._set_aside.append(result.reason)

    def take_set_aside(self) -> list[str]:
        """Why anything was set aside since the last call: messages (the bridge) and
        replies (sending), as the worker gathers them for ``status``."""
        taken, self._set_aside = self.bridge.take_set_aside() + self._set_aside, []
        return taken

    def replies_to(self, number: str) -> list[str]:
        sent = self.emu.sent if self.emu is not None else self.modem.sent
        return [s.text for s in sent if s.recipient == number]

    def cases(self):
        return self.store.cases.query(CaseQuery(limit=None))

    def events(self, case_id: int) -> list[tuple[str, str | None]]:
        return [(e.action, e.note) for e in self.store.cases.detail(str(case_id)).events]


# --- databases an older smsbridge left ------------------------------------------------


def database_at(path: Path, version: int, text: str = "jalan rusak") -> SqliteUtilsDatabase:
    """A smsbridge database of schema ``version`` with one case (LP-000001, of
    +6281234567110), still open for more rows."""
    db = SqliteUtilsDatabase(path)
    migrations().apply(db, stop_before=MIGRATION_NAMES[version])
    db.execute("UPDATE counters SET value = 1 WHERE name = 'ticket'")
    db.execute("INSERT INTO cases (id, ticket, reporter, text, received_at, updated_at)"
               " VALUES (1, 'LP-000001', '+6281234567110', ?,"
               " '2024-05-01T10:00:00+00:00', '2024-05-01T10:00:00+00:00')", (text,))
    return db


def every_value(db: Path, *, text_indexes: bool = True) -> str:
    """Every value of every column of every table (the full-text indexes' shadow
    tables too, unless not ``text_indexes``), as one text."""
    conn = sqlite3.connect(db)
    try:
        tables = [r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'")
            if text_indexes or "fts" not in r[0]]
        return "\n".join(repr(row) for table in tables
                         for row in conn.execute(f'SELECT * FROM "{table}"'))
    finally:
        conn.close()


def older_database(path: Path) -> int:
    """A smsbridge database one schema version behind, with a case; its version."""
    version = SCHEMA_VERSION - 1
    db = database_at(path, version)
    db.conn.commit()
    db.close()
    path.chmod(0o660)  # as the daemon would have made it: no warning about its mode
    return version


def older_line(path: Path, legacy_key: Keys, cases: int = 60) -> None:
    """A database of the version before sealed numbers, as an older smsbridge left it."""
    # Clear numbers, raw PDUs, replies, and a case whose number retention forgot.
    db = SqliteUtilsDatabase(path)
    migrations().apply(db, stop_before=MIGRATION_NAMES[14])
    at = "2026-11-01T10:00:00+00:00"
    for i in range(1, cases + 1):
        number = f"+62812345670{i:02d}"
        db.execute("INSERT INTO cases (id, ticket, reporter, text, received_at, updated_at,"
                   " last_message_at) VALUES (?, ?, ?, 'ada judi', ?, ?, ?)",
                   (i, f"LP-{i:06d}", number, at, at, at))
        pdu = encode_deliver(number, "ada judi")[0].hex().upper()
        db.execute("INSERT INTO messages (pdu_hash, pdu, kind, sender, received_at, text,"
                   " case_id, handled_at, modem) VALUES (?, ?, 'deliver', ?, ?, 'ada judi',"
                   " ?, ?, '')", (f"h{i}", pdu, number, at, i, at))
        db.execute("INSERT INTO outbox (case_id, number, text, kind, state, attempts,"
                   " created_at, created_by) VALUES (?, ?, 'Laporan diterima', 'ack', 'sent',"
                   " 1, ?, 'smsbridge')", (i, number, at))
    forgotten = "+6281299999999"
    pseudonym = legacy_key.token(forgotten)[1:]  # what retention kept: the token, unmarked
    db.execute("INSERT INTO cases (id, ticket, status, reporter, reporter_key, forgotten_at,"
               " text, received_at, updated_at) VALUES (?, ?, 'fake', ?, ?, ?, 'palsu', ?, ?)",
               (cases + 1, f"LP-{cases + 1:06d}",
                f"+62 812 \u2022\u2022\u2022\u2022\u2022 99 ~{pseudonym}", pseudonym, at, at,
                at))
    db.execute("UPDATE counters SET value = ? WHERE name = 'ticket'", (cases + 1,))
    db.conn.commit()
    db.close()
    path.chmod(0o660)


def as_user(uid: int, gid: int, groups: list[int], work, *,
            hold: tuple[int, int] | None = None) -> tuple[int, int]:
    """Fork a child that becomes uid/gid with ``groups`` and runs ``work()``; its pid and
    the read end of a pipe that gets "ok", or what failed, once ``work`` returned. With
    ``hold`` (a pipe) the child then waits until the parent closes its write end."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        try:
            os.close(read)
            if hold is not None:
                os.close(hold[1])
            os.setgroups(groups)
            os.setgid(gid)
            os.setuid(uid)
            try:
                work()
                os.write(write, b"ok\n")
            except BaseException as exc:
                os.write(write, f"failed: {exc}\n".encode())
            if hold is not None:
                os.read(hold[0], 1)
        finally:
            os._exit(0)
    os.close(write)
    return pid, read


def said(read: int) -> str:
    with os.fdopen(read) as got:
        return got.readline().strip()
