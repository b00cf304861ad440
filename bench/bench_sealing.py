"""Sealed numbers on a million cases: sealing a database written before, the daemon's door.

    python bench/bench_sealing.py                                  # 1,000,000 cases (minutes)
    python bench/bench_sealing.py --cases 20000 --messages 24000   # a quick try
    python bench/bench_sealing.py --reuse     # the door and the backup again, sealed db kept

    # one commit's code for every process, while the tree changes under the bench:
    git archive COMMIT smsbridge | tar -x -C /tmp/src && PYTHONPATH=/tmp/src python bench/…

Run as root (the CLI's processes become another user). Seeds, with plain SQL, a database
of schema 14 (the version before sealed numbers) as an older smsbridge left it: --cases
cases over two years (a fifth as many reporters' numbers as cases, in clear), --messages
messages (one per case, the rest follow-ups; raw PDUs in hex, a few thousand distinct
ones reused), an ack per case in the outbox (clear numbers), a "created" history line per
case. Then measures:

1. ``Store.open`` migrating from 14 to today's schema: 0015_sealed_numbers (ALTER TABLE
   ADD COLUMN, partial indexes; the keys made) and those after it    target: seconds
2. the sealing, ``Sealing(store, keys, clock).run_all()`` in batches of
   ``sealing.run.BATCH`` (the daemon's code, back to back): seconds and rows/s; every
   batch's transaction timed (from BEGIN to the end of COMMIT: how long the line's
   writers could wait behind it), and the final check ``unsealed_values`` (must be [])
3. through a real daemon (``smsbridge daemon`` over ``smsbridge emulator``) on the sealed
   database, as whole processes of another uid (--operator-uid, default nobody) that
   cannot read the key file, so every clear number and token comes through the
   daemon's socket (checked in the daemon's audit lines, "… (via the daemon, pid N)"):
   ``cases list --reveal``, ``cases show TICKET --reveal``, ``cases list --reporter
   NUMBER``, median of --runs                                   target < 300 ms each
4. ``smsbridge backup FILE`` (whole process, with the daemon running) and its size.

With ``--beside N`` it measures instead what a writer of the line waits while the
daemon seals (a seed of N cases in --dir/beside): the sealing driven as the daemon's
loop drives it (a ``tick`` of up to ``sealing.run.SLICE`` seconds of batches, then
``daemon.TICK`` of pause), and beside it a thread with its own connection writing the
daemon's state every 0.1 s, as a modem's worker writes an SMS: each write timed.

The working directory (--dir) is mode 2770, group --group: the daemon (root) and the
operator's uid share it as a line's state directory is shared; the key file stays
0600 root. When the operator's uid cannot run this interpreter (a pyenv build in root's
home), a copy of the interpreter's standard library is made in --dir and used with this
venv's site-packages (the same build and packages, only readable). Figures of the
sealing are kept in --dir/figures.json for --reuse. Prints a Markdown section for
bench/RESULTS.md. A script, not a test: timings depend on the machine.
"""

from __future__ import annotations

import argparse
import contextlib
import grp
import json
import os
import platform
import pwd
import random
import re
import resource
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_brief import seed_cases
from bench_store import cpu_model

from smsbridge.clock import SystemClock
from smsbridge.daemon import TICK
from smsbridge.sealing.keys import load_keys
from smsbridge.sealing.run import BATCH, Sealing
from smsbridge.sms.pdu import encode_deliver
from smsbridge.store import MIGRATION_NAMES, SCHEMA_VERSION, Store, migrations
from smsbridge.store.sealed import NUMBER_COLUMNS, unsealed_values

DEFAULT_DIR = Path(tempfile.gettempdir()) / "bench-sealing"
ACK = ("Laporan Anda diterima. No tiket: {ticket}. Identitas Anda dirahasiakan. "
       "Cek status: kirim CEK {ticket}")
DISTINCT_PDUS = 3000
TICKET_ID = 123
CHUNK = 50_000


# --------------------------------------------------------------------------- seeding


def seed_schema_14(db: Path, cases: int, messages: int, outbox: int, rng: random.Random
                   ) -> float:
    """The database an older smsbridge (schema 14) left: numbers and raw PDUs in clear."""
    from sqlite_utils import Database as SqliteUtilsDatabase

    began = time.perf_counter()
    old = SqliteUtilsDatabase(db)
    migrations().apply(old, stop_before=MIGRATION_NAMES[14])
    old.close()
    conn = sqlite3.connect(db, isolation_level=None)
    # A seed, not a line: no journal, no fsync, a big cache for the indexes.
    conn.execute("PRAGMA journal_mode = OFF")
    conn.execute("PRAGMA synchronous = OFF")
    conn.execute("PRAGMA cache_size = -2000000")
    new = seed_cases(cases, rng)
    pdus: list[str] = []
    follow_ups = max(messages - cases, 0) / max(cases, 1)
    message_id = 0
    outbox_left = outbox
    for first in range(1, cases + 1, CHUNK):
        rows = []
        for number in range(first, min(first + CHUNK, cases + 1)):
            c = next(new)
            updated = c.first_action_at or c.received_at
            rows.append((number, f"LP-{number:06d}", c.status, c.reporter, c.text,
                         c.received_at, updated, c.first_action_at, c.received_at,
                         c.category, c.place, c.incident_id, int(bool(c.flags))))
            if len(pdus) < DISTINCT_PDUS:  # encoding 1.2 million is slow: a pool, reused
                pdus.append(encode_deliver(c.reporter, c.text[:160])[0].hex().upper())
        msgs = []
        for r in rows:
            for _ in range(2 if rng.random() < follow_ups else 1):
                message_id += 1
                if message_id <= messages:
                    msgs.append((message_id, f"h{message_id}", pdus[message_id % len(pdus)],
                                 r[3], r[5], r[5], r[4], r[0], r[5]))
        acks = rows[:outbox_left]
        outbox_left -= len(acks)
        conn.execute("BEGIN")
        conn.executemany(
            "INSERT INTO cases (id, ticket, status, reporter, text, received_at, updated_at,"
            " first_action_at, last_message_at, category, place, incident_id, urgent)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
        conn.executemany(
            "INSERT INTO messages (id, pdu_hash, pdu, kind, sender, sender_toa, sent_at,"
            " received_at, text, case_id, handled_at, modem) VALUES (?, ?, ?, 'deliver', ?,"
            " 145, ?, ?, ?, ?, ?, '')", msgs)
        conn.executemany(
            "INSERT INTO outbox (case_id, number, text, kind, state, attempts, created_at,"
            " sent_at, refs, created_by, parts, sent_by) VALUES (?, ?, ?, 'ack', 'sent', 1,"
            " ?, ?, ?, 'smsbridge', 1, 'modem')",
            ((r[0], r[3], ACK.format(ticket=r[1]), r[5], r[5], f"[{r[0] % 256}]")
             for r in acks))
        conn.executemany(
            "INSERT INTO case_events (case_id, at, operator, action, new_status, login)"
            " VALUES (?, ?, 'smsbridge', 'created', 'new', 'smsbridge')",
            ((r[0], r[5]) for r in rows))
        conn.execute("COMMIT")
    conn.execute("UPDATE counters SET value = ? WHERE name = 'ticket'", (cases,))
    conn.execute("PRAGMA journal_mode = WAL")  # as the line left it
    conn.close()
    return time.perf_counter() - began


def counts(db: Path) -> dict[str, int]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return {table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
                for table, *_ in NUMBER_COLUMNS}
    finally:
        conn.close()


def size_of(db: Path) -> int:
    """The database's bytes on disk, its -wal included."""
    wal = db.with_name(db.name + "-wal")
    return db.stat().st_size + (wal.stat().st_size if wal.exists() else 0)


# --------------------------------------------------------------------------- sealing


def migrate_and_seal(db: Path) -> dict:
    """Store.open (14 -> 15, keys made), then the daemon's sealing, every batch timed."""
    figures: dict = {"rows": counts(db), "size_14": size_of(db)}
    began = time.perf_counter()
    store = Store.open(db)
    figures["migration"] = time.perf_counter() - began
    try:
        assert store.schema_version() == SCHEMA_VERSION, store.schema_version()
        keys = store.db.sealer.keys  # type: ignore[union-attr]
        batches: list[float] = []
        plain = store.transaction

        @contextlib.contextmanager
        def timed() -> Iterator:
            # A batch's transaction, BEGIN IMMEDIATE to the end of COMMIT: what a
            # writer of the line (a modem's worker) waits for at worst.
            start = time.perf_counter()
            with plain() as conn:
                yield conn
            batches.append(time.perf_counter() - start)

        store.transaction = timed  # type: ignore[method-assign]
        sealing = Sealing(store, keys, SystemClock(), batch=BATCH)
        cpu = time.process_time()
        began = time.perf_counter()
        sealed = sealing.run_all()
        figures["sealing"] = time.perf_counter() - began
        figures["sealing_cpu"] = time.process_time() - cpu
        figures["load_sealing"] = os.getloadavg()[0]
        store.transaction = plain  # type: ignore[method-assign]
        figures["sealed"] = sealed
        figures["done"] = sealing.done
        figures["batches"] = sorted(batches)
        began = time.perf_counter()
        figures["unsealed"] = unsealed_values(store.db)
        figures["check"] = time.perf_counter() - began
        store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        store.close()
    figures["size_15"] = size_of(db)
    return figures


# --------------------------------------------------------------------------- the operator


def operator_python(work: Path, uid: int, gid: int) -> tuple[list[str], dict[str, str], str]:
    """How the operator's uid runs ``python -m smsbridge``: this interpreter when it can,
    else a copy of it (binary, libpython, standard library with its compiled files) in
    ``work`` with this venv's site-packages linked in. The environment it needs."""
    env = {"PATH": "/usr/bin:/bin", "HOME": str(work), "LANG": "C.UTF-8",
           "COLUMNS": "100", "SMSBRIDGE_OPERATOR": "bench",
           # The operator cannot write the tree's __pycache__: its own compiled files.
           "PYTHONPYCACHEPREFIX": str(work / "pycache")}
    if os.environ.get("PYTHONPATH"):  # a snapshot of the package: the same for every process
        env["PYTHONPATH"] = os.environ["PYTHONPATH"]
    (work / "pycache").mkdir(exist_ok=True)
    (work / "pycache").chmod(0o2770)

    def works(python: list[str], extra: dict[str, str]) -> bool:
        try:
            return subprocess.run([*python, "-c", "import smsbridge.cli, nacl"],
                                  env={**env, **extra}, user=uid, group=gid,
                                  extra_groups=[gid], cwd=work,
                                  capture_output=True).returncode == 0
        except OSError:  # the interpreter itself is out of its reach
            return False

    if works([sys.executable], {}):
        return [sys.executable], env, "this interpreter"
    base = Path(sys.base_prefix)
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    copy = work / "python"
    if not (copy / "bin" / version).exists():
        (copy / "bin").mkdir(parents=True, exist_ok=True)
        (copy / "lib").mkdir(exist_ok=True)
        shutil.copy2(Path(sys._base_executable).resolve(), copy / "bin" / version)
        for lib in (base / "lib").glob("libpython*"):
            shutil.copy2(lib, copy / "lib" / lib.name, follow_symlinks=False)
        stdlib = base / "lib" / version
        left_out = {"site-packages", "test", "idlelib", "tkinter", "turtledemo", "ensurepip"}
        shutil.copytree(stdlib, copy / "lib" / version, symlinks=True, ignore=lambda d, names: [
            n for n in names if Path(d) == stdlib and (n in left_out or n.startswith("config-"))])
    venv = work / "venv"
    (venv / "bin").mkdir(parents=True, exist_ok=True)
    (venv / "lib" / version).mkdir(parents=True, exist_ok=True)
    if not (venv / "bin" / "python").exists():
        (venv / "bin" / "python").symlink_to(copy / "bin" / version)
    packages = venv / "lib" / version / "site-packages"
    if not packages.exists():
        packages.symlink_to(sysconfig.get_paths()["purelib"])
    (venv / "pyvenv.cfg").write_text(
        f"home = {copy / 'bin'}\ninclude-system-site-packages = false\n"
        f"version = {platform.python_version()}\n", encoding="utf-8")
    for path in (copy, venv):
        os.chmod(path, 0o755)
    extra = {"LD_LIBRARY_PATH": str(copy / "lib")}
    python = [str(venv / "bin" / "python")]
    if works(python, extra):
        return python, {**env, **extra}, "a copy of this interpreter"
    raise SystemExit(f"uid {uid} cannot run {sys.executable} nor its copy in {copy}")


def run_as(python: list[str], env: dict[str, str], uid: int | None, gid: int, work: Path,
           config: Path, argv: list[str]) -> tuple[float, float, str]:
    """Wall and CPU seconds of one whole ``smsbridge`` process; what it printed."""
    options = {} if uid is None else {"user": uid, "group": gid, "extra_groups": [gid]}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    began = time.perf_counter()
    done = subprocess.run([*python, "-m", "smsbridge", "--config", str(config), *argv],
                          env=env, cwd=work, capture_output=True, text=True, timeout=120,
                          **options)
    wall = time.perf_counter() - began
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"smsbridge {' '.join(argv)} failed ({done.returncode}):\n"
                         f"{done.stdout}{done.stderr}")
    return (wall, after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime,
            done.stdout)


def via_daemon(db: Path) -> list[tuple[str, str, str]]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return conn.execute("SELECT login, action, detail FROM audit_log"
                            " WHERE login LIKE '%via the daemon%' ORDER BY id").fetchall()
    finally:
        conn.close()


def daemon_pid(db: Path) -> str | None:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    try:
        row = conn.execute("SELECT value FROM daemon_state WHERE key = 'pid'").fetchone()
        return row[0] if row else None
    except sqlite3.OperationalError:
        return None
    finally:
        conn.close()


def wait_for(predicate, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(0.1)


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


def through_the_door(work: Path, db: Path, runs: int, uid: int, gid: int,
                     backup_runs: int) -> dict:
    """The daemon over the emulator; the operator's commands timed as ``uid``; backup."""
    figures: dict = {}
    key = work / "smsbridge.key"
    keys = load_keys(key)
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    ticket, sealed = conn.execute("SELECT ticket, reporter_sealed FROM cases WHERE id = ?",
                                  (TICKET_ID,)).fetchone()
    conn.close()
    number = keys.open(sealed)
    link = work / "modem"
    config = work / "config.toml"
    config.write_text(
        f'[modem]\nport = "{link}"\n'
        f'[database]\npath = "{db}"\n'
        '[privacy]\nlookups_per_hour = 100000\n'
        # The first daily run would forget the numbers of two years' closed cases, batch
        # after batch beside the timings: retention has a bench of its own.
        '[retention]\nforget_numbers_after_days = 0\n', encoding="utf-8")
    os.chown(config, 0, gid)
    config.chmod(0o640)
    python, env, how = operator_python(work, uid, gid)
    figures["operator_python"] = how
    probe = subprocess.run([*python, "-c", f"open({str(key)!r}).read()"], env=env, cwd=work,
                           user=uid, group=gid, extra_groups=[gid], capture_output=True,
                           text=True)
    assert probe.returncode != 0 and "PermissionError" in probe.stderr, probe
    link.unlink(missing_ok=True)  # a link left by an emulator before
    with open(work / "daemon.log", "ab") as daemon_log:
        emulator = subprocess.Popen(
            [sys.executable, "-m", "smsbridge", "emulator", "--link", str(link), "--no-stdin"],
            stdout=daemon_log, stderr=daemon_log, stdin=subprocess.DEVNULL)
        daemon = None
        try:
            wait_for(link.exists, 30, "the emulator's pty")
            began = time.perf_counter()
            daemon = subprocess.Popen(
                [sys.executable, "-m", "smsbridge", "--config", str(config), "daemon"],
                stdout=daemon_log, stderr=daemon_log, stdin=subprocess.DEVNULL)
            wait_for(lambda: daemon_pid(db) == str(daemon.pid), 120, "the daemon to start")
            wait_for((work / "smsbridge.sock").exists, 30, "the daemon's socket")
            figures["daemon_start"] = time.perf_counter() - began
            commands = {
                "cases list (masks: no socket)": ["cases", "list"],
                "cases list --reveal": ["cases", "list", "--reveal"],
                f"cases show {ticket} --reveal": ["cases", "show", ticket, "--reveal"],
                "cases list --reporter NUMBER": ["cases", "list", "--reporter", number],
            }
            figures["commands"] = {}
            for name, argv in commands.items():
                seen = len(via_daemon(db))
                run_as(python, env, uid, gid, work, config, argv)  # not counted: caches warm
                walls, cpus = [], []
                for _ in range(runs):
                    wall, cpu, out = run_as(python, env, uid, gid, work, config, argv)
                    walls.append(wall)
                    cpus.append(cpu)
                lines = via_daemon(db)[seen:]
                if "--reporter" in argv:
                    assert ticket in out, out
                elif "--reveal" in argv:
                    assert number in out or re.search(r"\+628\d{9}", out), out
                else:  # masks only, read from the file
                    assert not lines and not re.search(r"\+628\d{9}", out), out
                figures["commands"][name] = {
                    "walls": walls, "cpus": cpus, "audit_lines": len(lines),
                    "actions": sorted({action for _, action, _ in lines}),
                    "login": re.sub(r"pid \d+", "pid N", lines[-1][0]) if lines else None}
            figures["load"] = os.getloadavg()[0]
            figures["daemon_cpu"] = daemon_cpu(daemon.pid)
            backup = work / "backup.db"
            walls, cpus, said = [], [], ""
            for _ in range(backup_runs):
                wall, cpu, said = run_as([sys.executable], dict(os.environ), None, gid, work,
                                         config, ["backup", str(backup)])
                walls.append(wall)
                cpus.append(cpu)
            figures["backup"] = {"walls": walls, "cpus": cpus, "size": backup.stat().st_size,
                                 "source": size_of(db), "said": said.strip()}
            backup.unlink()
        finally:
            if daemon is not None:
                stop(daemon)
            stop(emulator)
    return figures


def daemon_cpu(pid: int) -> float:
    """CPU seconds the daemon has used so far (utime + stime)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# --------------------------------------------------------------------------- beside


def beside_the_line(work: Path, cases: int, every: float) -> dict:
    """The sealing as the daemon's loop runs it, and a writer beside it timed."""
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    db = work / "cases.db"
    seed_schema_14(db, cases, cases * 6 // 5, cases, random.Random(16))
    waits: list[float] = []
    stopping = threading.Event()

    def writer() -> None:
        with Store.open(db, create=False) as other:
            i = 0
            while not stopping.is_set():
                began = time.perf_counter()
                other.state.update({"bench_writer": str(i)})
                waits.append(time.perf_counter() - began)
                i += 1
                stopping.wait(every)

    with Store.open(db) as store:
        sealing = Sealing(store, store.db.sealer.keys, SystemClock())  # type: ignore
        thread = threading.Thread(target=writer, name="writer")
        thread.start()
        began = time.perf_counter()
        ticks = 0
        while not sealing.done:
            sealing.tick()
            ticks += 1
            time.sleep(TICK)
        seconds = time.perf_counter() - began
        stopping.set()
        thread.join()
    rows = counts(db)
    shutil.rmtree(work)
    return {"rows": rows, "sealed": sealing.sealed, "seconds": seconds, "ticks": ticks,
            "waits": sorted(waits), "every": every}


def report_beside(args: argparse.Namespace, got: dict) -> None:
    waits = got["waits"]
    rows = got["rows"]
    print(f"Machine: {os.cpu_count()} CPUs ({cpu_model()}), Python "
          f"{platform.python_version()}, SQLite {sqlite3.sqlite_version}, "
          f"{datetime.now(UTC):%Y-%m-%d}; load average {os.getloadavg()[0]:.1f}")
    print(f"\n| the sealing as the daemon runs it ({rows['cases']:,} cases, "
          f"{rows['messages']:,} messages, {rows['outbox']:,} outbox rows) | value |")
    print("| --- | ---: |")
    print(f"| sealing, turns of the loop (slices of batches, {TICK} s pause) | "
          f"{got['seconds']:,.0f} s, {got['ticks']:,} turns, {got['sealed']:,} rows |")
    print(f"| a write beside it every {got['every']} s ({len(waits):,} writes): median / "
          f"99th percentile / longest | {ms(statistics.median(waits))} / "
          f"{ms(waits[min(len(waits) - 1, int(len(waits) * 0.99))])} / "
          f"**{ms(waits[-1])}** |")
    print(f"| writes that waited longer than 0.5 s / 1 s | "
          f"{sum(w > 0.5 for w in waits):,} / {sum(w > 1 for w in waits):,} |")


# --------------------------------------------------------------------------- report


def ms(seconds: float) -> str:
    return f"{seconds * 1000:,.0f} ms"


def mib(size: int) -> str:
    return f"{size / 2**20:,.0f} MiB"


def report(args: argparse.Namespace, sealing: dict, door: dict) -> None:
    rows = sealing["rows"]
    batches = sealing["batches"]
    print(f"Machine: {os.cpu_count()} CPUs ({cpu_model()}), Python "
          f"{platform.python_version()}, SQLite {sqlite3.sqlite_version}, "
          f"{datetime.now(UTC):%Y-%m-%d}; load average {door.get('load', 0):.1f} while "
          "timing the commands")
    if "seed" in sealing:
        print(f"Seed (schema 14, plain SQL): {sealing['seed']:,.0f} s; load average "
              f"{sealing.get('load_sealing', 0):.1f} at the end of the sealing")
    print(f"\n| figure ({rows['cases']:,} cases, {rows['messages']:,} messages, "
          f"{rows['outbox']:,} outbox rows) | value | target |")
    print("| --- | ---: | ---: |")
    print(f"| migration 14 -> {SCHEMA_VERSION}, `Store.open` (columns, partial indexes, keys"
          " made) | "
          f"{sealing['migration']:,.1f} s | seconds |")
    print(f"| sealing, `Sealing(...).run_all()`, batches of {BATCH} per table | "
          f"{sealing['sealing']:,.0f} s ({sealing['sealing_cpu']:,.0f} s CPU), "
          f"{sealing['sealed']:,} rows = {sealing['sealed'] / sealing['sealing']:,.0f} rows/s"
          " | |")
    print(f"| its transactions: {len(batches):,}, median / 99th percentile / longest | "
          f"{ms(statistics.median(batches))} / "
          f"{ms(batches[min(len(batches) - 1, int(len(batches) * 0.99))])} / "
          f"**{ms(batches[-1])}** | |")
    print(f"| the final check, `unsealed_values` (reads every row) | "
          f"{sealing['check']:,.1f} s, {sealing['unsealed'] or '[]'} | [] |")
    print(f"| database file, schema 14 -> sealed | {mib(sealing['size_14'])} -> "
          f"{mib(sealing['size_15'])} | |")
    for name, got in door.get("commands", {}).items():
        target = "< 300 ms" if "socket" not in name else ""
        print(f"| `{name}` as uid {args.operator_uid}, whole process, median of "
              f"{len(got['walls'])} (CPU) | **{ms(statistics.median(got['walls']))}** "
              f"({ms(statistics.median(got['cpus']))}; range {ms(min(got['walls']))} – "
              f"{ms(max(got['walls']))}) | {target} |")
    if "backup" in door:
        got = door["backup"]
        print(f"| `smsbridge backup FILE`, whole process, daemon running (CPU) | "
              f"{statistics.median(got['walls']):,.1f} s "
              f"({statistics.median(got['cpus']):,.1f} s) | |")
        print(f"| backup file (source with its -wal) | {mib(got['size'])} "
              f"({mib(got['source'])}) | |")
    if door:
        print(f"\nOperator's processes: uid {args.operator_uid}, {door['operator_python']};"
              f" daemon started in {door['daemon_start']:,.1f} s, "
              f"{door['daemon_cpu']:,.1f} s CPU by the end of the commands.")
        for name, got in door["commands"].items():
            if not got["audit_lines"]:
                continue
            print(f"- `{name}`: {got['audit_lines']} audit lines by the daemon "
                  f"({', '.join(got['actions'])}), login {got['login']!r}")
        if "backup" in door:
            print(f"- backup said: {door['backup']['said']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--messages", type=int, default=1_200_000)
    parser.add_argument("--outbox", type=int, help="acks in the outbox (default: one per "
                        "case)")
    parser.add_argument("--dir", type=Path, default=DEFAULT_DIR,
                        help=f"working directory, made if missing (default {DEFAULT_DIR})")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--backup-runs", type=int, default=1)
    parser.add_argument("--operator-uid", type=int, default=pwd.getpwnam("nobody").pw_uid)
    parser.add_argument("--group", default=grp.getgrgid(
        pwd.getpwnam("nobody").pw_gid).gr_name, help="the group the daemon and the "
        "operator share (the directory's)")
    parser.add_argument("--reuse", action="store_true",
                        help="the sealed database in --dir as it is: door and backup only")
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument("--beside", type=int, metavar="N", help="only: a writer's waits "
                        "while the daemon's loop seals N cases written before")
    args = parser.parse_args()
    work = args.dir.resolve()
    if args.beside:
        report_beside(args, beside_the_line(work / "beside", args.beside, 0.1))
        return
    if os.geteuid() != 0:
        raise SystemExit("run as root: the operator's commands run as another uid")
    gid = grp.getgrnam(args.group).gr_gid
    db = work / "cases.db"
    kept = work / "figures.json"
    if args.reuse:
        sealing = json.loads(kept.read_text())
    else:
        if work.exists():
            shutil.rmtree(work)
        work.mkdir(parents=True)
        os.chown(work, 0, gid)
        work.chmod(0o2770)  # the state directory: the daemon's group, files 0660
        seconds = seed_schema_14(db, args.cases, args.messages,
                                 args.cases if args.outbox is None else args.outbox,
                                 random.Random(args.seed))
        os.chown(db, 0, gid)
        db.chmod(0o660)
        print(f"seeded in {seconds:,.0f} s: {counts(db)}, {mib(size_of(db))}",
              file=sys.stderr, flush=True)
        sealing = migrate_and_seal(db)
        sealing["seed"] = seconds
        kept.write_text(json.dumps(sealing), encoding="utf-8")
        print(f"migrated in {sealing['migration']:.1f} s, sealed in "
              f"{sealing['sealing']:.0f} s", file=sys.stderr, flush=True)
    door = through_the_door(work, db, args.runs, args.operator_uid, gid, args.backup_runs)
    report(args, sealing, door)


if __name__ == "__main__":
    main()
