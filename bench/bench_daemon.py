"""The daemon end to end: the real ``smsbridge daemon`` process against the modem emulator.

The emulator runs in this process and serves a pty; the daemon is a subprocess
(``smsbridge --config <dir>/config.toml daemon``) that opens the pty's link exactly as
it opens ``/dev/gsm-modem`` and writes its own SQLite database, which this script reads
(read-only, WAL) to see what is committed.

    python bench/bench_daemon.py throughput [--reports 2000]   # (a) zero latency: reports/s
    python bench/bench_daemon.py realistic [--reports 150]     # (b) 115200 Bd, 20 ms, 3 s sends
    python bench/bench_daemon.py idle [--minutes 10]           # (c) RSS and CPU while idle
    python bench/bench_daemon.py gammu [--reports 2000]        # (d) the burst through gammu-smsd
    python bench/bench_daemon.py flood [--reports 1000] [--pace 1]  # a flood of reports
    python bench/bench_daemon.py faults [--reports 60] [--drop 50]  # a stick that misbehaves

Every scenario prints its figures; ``--keep`` leaves the working directory (config,
database, daemon log) for a look afterwards.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import hashlib
import os
import pstats
import resource
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from smsbridge.emulator import Emulator, EmulatorSettings

REPORT = ("Lapor pak, ada pencurian motor di Jl. Merdeka no. {n} tadi malam, pelaku dua "
          "orang kabur ke arah pasar.")
REALISTIC = EmulatorSettings(storage_size=30, baudrate=115200, command_latency=0.02,
                             send_delay=3.0, delivery_gap=1.0)


def number(n: int) -> str:
    return f"+62812{n:07d}"


def clock_ticks() -> int:
    return os.sysconf("SC_CLK_TCK")


# --------------------------------------------------------------------------- the rig


@dataclass
class Daemon:
    process: subprocess.Popen
    db_path: Path
    log_path: Path

    def db(self) -> sqlite3.Connection:
        return sqlite3.connect(f"file:{self.db_path}?mode=ro", uri=True,
                               check_same_thread=False)

    def count(self, sql: str) -> int:
        with contextlib.closing(self.db()) as conn:
            return conn.execute(sql).fetchone()[0]

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                return self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
        return self.process.wait()


def write_config(directory: Path, port: str, *, replies: bool = True,
                 poll_seconds: float = 10.0, level: str = "INFO") -> Path:
    path = directory / "config.toml"
    path.write_text(
        f"[modem]\nport = {port!r}\ncommand_timeout = 10.0\n\n"
        "[database]\npath = \"cases.db\"\n\n"
        f"[daemon]\npoll_seconds = {poll_seconds}\n\n"
        # Every reporter here is a distinct number, so per-number limits never apply.
        f"[replies]\nenabled = {'true' if replies else 'false'}\n\n"
        f"[logging]\nlevel = {level!r}\n",
        encoding="utf-8")
    return path


@contextlib.contextmanager
def rig(settings: EmulatorSettings, *, keep: bool, replies: bool = True,
        poll_seconds: float = 10.0, profile: bool = False) -> Iterator[tuple[Emulator, Daemon]]:
    directory = Path(tempfile.mkdtemp(prefix="bench-daemon-"))
    try:
        with Emulator(settings, link=str(directory / "modem")) as emu:
            config = write_config(directory, emu.port, replies=replies,
                                  poll_seconds=poll_seconds)
            log_path = directory / "daemon.log"
            with open(log_path, "wb") as log:
                profiler = (["-m", "cProfile", "-o", str(directory / "daemon.prof")]
                            if profile else [])
                process = subprocess.Popen(
                    [sys.executable, *profiler, "-m", "smsbridge", "--config", str(config),
                     "daemon"],
                    stdout=subprocess.DEVNULL, stderr=log, cwd=directory)
            daemon = Daemon(process, directory / "cases.db", log_path)
            try:
                wait_ready(daemon)
                yield emu, daemon
            finally:
                code = daemon.stop()
                if code != 0:
                    print(f"daemon exited {code}; its log: {log_path}")
                if profile:
                    stats = pstats.Stats(str(directory / "daemon.prof"))
                    stats.sort_stats("tottime").print_stats(25)
    finally:
        if keep:
            print(f"kept {directory}")
        else:
            shutil.rmtree(directory, ignore_errors=True)


def wait_ready(daemon: Daemon, timeout: float = 30.0) -> None:
    """Until the daemon has opened the modem (it records the modem's status in the DB)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if daemon.process.poll() is not None:
            raise SystemExit(f"daemon exited {daemon.process.returncode}: "
                             f"{daemon.log_path.read_text()[-2000:]}")
        with contextlib.suppress(sqlite3.Error):
            if daemon.count("SELECT count(*) FROM daemon_state"
                            " WHERE key LIKE 'modem.%.modem_checked_at'"
                            " AND value IS NOT NULL"):
                return
        time.sleep(0.05)
    raise SystemExit("daemon not ready in time")


def poll_until(predicate: Callable[[], bool], timeout: float, every: float = 0.02) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(every)
    return predicate()


def proc_stat(pid: int) -> tuple[float, int, int]:
    """(CPU seconds: utime + stime, VmRSS kB, VmHWM kB) of a process."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / clock_ticks()
    status = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text()
                  .splitlines() if ":" in line)
    return cpu, int(status["VmRSS"].split()[0]), int(status["VmHWM"].split()[0])


def own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def pdu_hash(pdu: bytes) -> str:
    return hashlib.sha256(pdu).hexdigest()


class CommitWatcher:
    """Polls the database for newly committed reports and notes when each was first seen."""

    def __init__(self, daemon: Daemon, every: float = 0.005):
        self.seen: dict[str, float] = {}
        self._daemon = daemon
        self._every = every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> CommitWatcher:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        last = 0
        with contextlib.closing(self._daemon.db()) as conn:
            while not self._stop.is_set():
                rows = conn.execute("SELECT id, pdu_hash, kind FROM messages WHERE id > ?",
                                    (last,)).fetchall()
                now = time.monotonic()
                for row_id, digest, kind in rows:
                    # Reports only: status reports of our replies are not what we count.
                    if kind == "deliver":
                        self.seen.setdefault(digest, now)
                    last = max(last, row_id)
                self._stop.wait(self._every)


# --------------------------------------------------------------------------- (a)


def throughput(args: argparse.Namespace) -> None:
    n = args.reports
    with rig(EmulatorSettings(storage_size=30), keep=args.keep,
             profile=args.profile) as (emu, daemon):
        pid = daemon.process.pid
        cpu0 = proc_stat(pid)[0]
        own0 = own_cpu()
        t0 = time.monotonic()
        for i in range(n):
            emu.inject_text(number(i), REPORT.format(n=i))
        injected = time.monotonic() - t0

        def done() -> bool:
            return (daemon.count("SELECT count(*) FROM cases") >= n
                    and daemon.count("SELECT count(*) FROM outbox") >= n)

        ok = poll_until(done, timeout=max(60.0, n / 20))
        elapsed = time.monotonic() - t0
        cpu, rss, hwm = proc_stat(pid)
        own = own_cpu() - own0
        cases = daemon.count("SELECT count(*) FROM cases")
        queued = daemon.count("SELECT count(*) FROM outbox")
        messages = daemon.count("SELECT count(*) FROM messages")
        sent = len(emu.sent)
        print(f"throughput: {n} reports from {n} numbers, emulator storage 30, zero latency")
        print(f"  injection took {injected:.2f} s (included in the time below)")
        print(f"  all {cases} cases with queued replies committed: {ok}, in {elapsed:.2f} s"
              f" -> {cases / elapsed:.0f} reports/s")
        print(f"  messages {messages}, replies queued {queued}, sent meanwhile {sent}, "
              f"network queue {emu.network_queue}, storage {emu.storage_used}")
        print(f"  daemon CPU {cpu - cpu0:.2f} s ({(cpu - cpu0) / elapsed:.0%} of a core), "
              f"RSS {rss / 1024:.1f} MB, peak {hwm / 1024:.1f} MB; emulator and this "
              f"script {own:.2f} s ({own / elapsed:.0%})")


# --------------------------------------------------------------------------- (b)


def realistic(args: argparse.Namespace) -> None:
    n = args.reports
    settings = dataclasses.replace(REALISTIC, delivery_gap=args.gap)
    gap = settings.delivery_gap
    with rig(settings, keep=args.keep, replies=not args.no_replies) as (emu, daemon), \
            CommitWatcher(daemon) as watcher:
        for i in range(n):
            emu.inject_text(number(i), REPORT.format(n=i))
        poll_until(lambda: len(watcher.seen) >= n, timeout=n * gap * 2 + 60, every=0.2)
        deliveries = emu.deliveries()
        sent = len(emu.sent)
    latencies = [watcher.seen[pdu_hash(pdu)] - at for at, pdu in deliveries
                 if pdu_hash(pdu) in watcher.seen]
    first = deliveries[0][0]
    last_commit = max(watcher.seen.values())
    per_minute = (len(watcher.seen) - 1) / (last_commit - first) * 60
    ceiling = 60 / gap
    print(f"realistic: {n} reports queued at the network at once; 115200 Bd, 20 ms command "
          f"latency, 3 s send delay, delivery gap {gap:g} s, storage 30, replies "
          f"{'off' if args.no_replies else 'on'}")
    print(f"  stored {len(watcher.seen)}/{n}; {per_minute:.1f} per minute vs the emulator's "
          f"ceiling {ceiling:.0f} -> efficiency {per_minute / ceiling:.3f}")
    print(f"  +CMTI -> committed case: median {statistics.median(latencies) * 1000:.0f} ms, "
          f"p95 {pct(latencies, 0.95) * 1000:.0f} ms, max {max(latencies) * 1000:.0f} ms "
          f"(database polled every 5 ms)")
    print(f"  replies sent during the run: {sent}")


# --------------------------------------------------------------------------- (c)


def idle(args: argparse.Namespace) -> None:
    seconds = args.minutes * 60
    with rig(EmulatorSettings(), keep=args.keep) as (_emu, daemon):
        pid = daemon.process.pid
        time.sleep(2)  # past start-up: measure the steady state
        cpu0, rss0, _ = proc_stat(pid)
        t0 = time.monotonic()
        samples = [rss0]
        while (left := t0 + seconds - time.monotonic()) > 0:
            time.sleep(min(30.0, left))
            samples.append(proc_stat(pid)[1])
        cpu1, rss1, hwm = proc_stat(pid)
        elapsed = time.monotonic() - t0
    print(f"idle: {elapsed / 60:.1f} minutes, poll_seconds 10, modem status every 60 s")
    print(f"  CPU {cpu1 - cpu0:.2f} s = {(cpu1 - cpu0) / elapsed:.2%} of a core")
    print(f"  VmRSS {rss0 / 1024:.1f} MB at start, {rss1 / 1024:.1f} MB at end, "
          f"max sampled {max(samples) / 1024:.1f} MB; VmHWM {hwm / 1024:.1f} MB")


# --------------------------------------------------------------------------- (d)

GAMMU_CONFIG = """\
[gammu]
device = {port}
connection = at115200
logfile = {directory}/gammu.log
logformat = {logformat}

[smsd]
service = files
inboxpath = {directory}/inbox/
outboxpath = {directory}/outbox/
sentsmspath = {directory}/sent/
errorsmspath = {directory}/error/
inboxformat = unicode
logfile = {directory}/smsd.log
debuglevel = {debuglevel}
phoneid = bench
# Its best settings for receiving: look for new messages on every loop turn, sleep as
# little as it allows between turns, and spend no time on checks a bench does not need.
receivefrequency = 0
loopsleep = 0
statusfrequency = 0
checksecurity = 0
checkbattery = 0
checksignal = 0
checknetwork = 0
resetfrequency = 0
hardresetfrequency = 0
"""


@dataclass
class BurstResult:
    name: str
    stored: int
    duplicates: int
    elapsed: float
    latencies: list[float]
    cpu: float

    def show(self, n: int) -> None:
        lat = self.latencies or [float("nan")]
        rate = self.stored / self.elapsed
        print(f"  {self.name:<12} stored {self.stored}/{n} (lost {n - self.stored}, "
              f"duplicates {self.duplicates}) in {self.elapsed:.2f} s -> "
              f"{rate:.{1 if rate < 10 else 0}f}/s; +CMTI -> stored: median "
              f"{statistics.median(lat) * 1000:.0f} ms, p95 {pct(lat, 0.95) * 1000:.0f} ms; "
              f"CPU {self.cpu:.2f} s")


def inject_burst(emu: Emulator, n: int) -> float:
    t0 = time.monotonic()
    for i in range(n):
        emu.inject_text(number(i), REPORT.format(n=i))
    return t0


def burst_smsbridge(settings: EmulatorSettings, n: int, timeout: float, *, replies: bool,
                    keep: bool) -> BurstResult:
    with rig(settings, keep=keep, replies=replies) as (emu, daemon), \
            CommitWatcher(daemon) as watcher:
        cpu0 = proc_stat(daemon.process.pid)[0]
        t0 = inject_burst(emu, n)
        poll_until(lambda: len(watcher.seen) >= n, timeout, every=0.05)
        elapsed = max(watcher.seen.values(), default=time.monotonic()) - t0
        cpu = proc_stat(daemon.process.pid)[0] - cpu0
        deliveries = emu.deliveries()
    latencies = [watcher.seen[pdu_hash(pdu)] - at for at, pdu in deliveries
                 if pdu_hash(pdu) in watcher.seen]
    return BurstResult("smsbridge", len(watcher.seen), 0, elapsed, latencies, cpu)


def burst_gammu(settings: EmulatorSettings, n: int, timeout: float, *, debug: bool,
                keep: bool) -> BurstResult:
    from smsbridge.sms import pdu as pdu_codec

    binary = shutil.which("gammu-smsd")
    if binary is None:
        raise SystemExit("gammu-smsd is not installed (Debian: apt-get install gammu-smsd)")
    # Gammu reads every memory +CPMS offers; the emulator's memories all name one storage,
    # so offering ME too would show Gammu each message twice.
    settings = dataclasses.replace(settings, memories=("SM",))
    directory = Path(tempfile.mkdtemp(prefix="bench-gammu-"))
    inbox = directory / "inbox"
    for sub in ("inbox", "outbox", "sent", "error"):
        (directory / sub).mkdir()
    seen: dict[str, float] = {}  # file name -> when first seen
    try:
        with Emulator(settings, link=str(directory / "modem")) as emu:
            config = directory / "smsdrc"
            config.write_text(GAMMU_CONFIG.format(
                port=emu.port, directory=directory, debuglevel=255 if debug else 0,
                logformat="textalldate" if debug else "nothing"), encoding="utf-8")
            process = subprocess.Popen([binary, "-c", str(config)], cwd=directory,
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            try:
                # Ready once it has initialised the modem and started polling it: give it
                # a moment, then check it is still there.
                time.sleep(3)
                if process.poll() is not None:
                    raise SystemExit(f"gammu-smsd exited {process.returncode}; see "
                                     f"{directory / 'smsd.log'} (--keep keeps it)")
                cpu0 = proc_stat(process.pid)[0]
                t0 = inject_burst(emu, n)
                deadline = time.monotonic() + timeout
                while len(seen) < n and time.monotonic() < deadline:
                    names = os.listdir(inbox)
                    now = time.monotonic()
                    for name in names:
                        seen.setdefault(name, now)
                    if process.poll() is not None:
                        break
                    time.sleep(0.005)
                if len(seen) < n:  # stopped before the end: whatever is left after a grace
                    time.sleep(2)
                    for name in os.listdir(inbox):
                        seen.setdefault(name, time.monotonic())
                elapsed = max(seen.values(), default=time.monotonic()) - t0
                cpu = proc_stat(process.pid)[0] - cpu0 if process.poll() is None else 0.0
                deliveries = emu.deliveries()
                left = emu.network_queue + emu.storage_used
            finally:
                if process.poll() is None:
                    process.send_signal(signal.SIGTERM)
                    try:
                        process.wait(timeout=15)
                    except subprocess.TimeoutExpired:
                        process.kill()
        # Inbox files are named IN<date>_<time>_<serial>_<sender>_<part>.txt.
        first_seen: dict[str, float] = {}
        duplicates = 0
        for name, at in seen.items():
            sender = name.split("_")[3]
            if sender in first_seen:
                duplicates += 1
            first_seen[sender] = min(at, first_seen.get(sender, at))
        latencies = []
        for at, pdu in deliveries:
            sender = pdu_codec.decode(pdu).sender
            if sender in first_seen:
                latencies.append(first_seen[sender] - at)
        print(f"  gammu-smsd left {left} message(s) on the emulator (network queue + "
              f"storage; it saves a message, then deletes it)")
        return BurstResult("gammu-smsd", len(first_seen), duplicates, elapsed, latencies, cpu)
    finally:
        if keep:
            print(f"kept {directory}")
        else:
            shutil.rmtree(directory, ignore_errors=True)


def gammu(args: argparse.Namespace) -> None:
    n = args.reports
    settings = (REALISTIC if args.realistic else EmulatorSettings(storage_size=30))
    timeout = max(120.0, n * settings.delivery_gap * 2 + 60)
    print(f"burst: {n} reports from {n} numbers queued at once; emulator "
          f"{'realistic (115200 Bd, 20 ms, gap 1 s)' if args.realistic else 'zero latency'}"
          f", storage 30; smsbridge replies {'on' if not args.realistic else 'off'}")
    results = [burst_gammu(settings, n, timeout, debug=args.debug, keep=args.keep)]
    if not args.gammu_only:
        results.append(burst_smsbridge(settings, n, timeout, replies=not args.realistic,
                                       keep=args.keep))
    for result in results:
        result.show(n)


# ------------------------------------------------------------------------ a flood of reports


def flood(args: argparse.Namespace) -> None:
    n, pace = args.reports, args.pace
    settings = dataclasses.replace(REALISTIC, delivery_gap=0.0)
    with rig(settings, keep=args.keep) as (emu, daemon):
        stop = threading.Event()
        peak = {"queue": 0, "storage": 0}

        def feed() -> None:
            # The citizens' phones: one report reaches the network every `pace` seconds.
            start = time.monotonic()
            for i in range(n):
                stop.wait(max(0.0, start + i * pace - time.monotonic()))
                emu.inject_text(number(i), REPORT.format(n=i))

        def watch() -> None:
            while not stop.wait(0.05):
                peak["queue"] = max(peak["queue"], emu.network_queue)
                peak["storage"] = max(peak["storage"], emu.storage_used)

        feeder = threading.Thread(target=feed, daemon=True)
        watcher = threading.Thread(target=watch, daemon=True)
        t0 = time.monotonic()
        feeder.start()
        watcher.start()
        poll_until(lambda: daemon.count("SELECT count(*) FROM cases") >= n,
                   timeout=n * pace + 120, every=0.5)
        cases_at = time.monotonic() - t0
        cases = daemon.count("SELECT count(*) FROM cases")
        sent_then = len(emu.sent)
        replied = poll_until(lambda: len(emu.sent) >= n, timeout=args.reply_minutes * 60,
                             every=1.0)
        replies_at = time.monotonic() - t0
        stop.set()
        feeder.join()
        watcher.join()
        sent = len(emu.sent)
        recipients = len({sms.recipient for sms in emu.sent})
        backlog = daemon.count("SELECT count(*) FROM outbox WHERE state = 'queued'")
    print(f"flood: {n} reports reaching the network one every {pace:g} s; storage 30, "
          f"115200 Bd, 20 ms command latency, each send 3 s")
    print(f"  network queue: max {peak['queue']}; storage: max {peak['storage']}/30")
    print(f"  cases: {cases}/{n} after {cases_at:.0f} s (the last report reached the network "
          f"at {(n - 1) * pace:.0f} s); replies sent by then: {sent_then}")
    if replied:
        print(f"  all {sent} replies sent ({recipients} reporters) after {replies_at:.0f} s: "
              f"{(replies_at - cases_at) / 60:.1f} min after the last case")
    else:
        print(f"  replies sent after {replies_at / 60:.1f} min: {sent} to {recipients} reporters"
              f"; {backlog} still queued: at 3 s each, about {backlog * 3 / 60:.0f} min more")


# --------------------------------------------------------------------------- faults


def faults(args: argparse.Namespace) -> None:
    """A stick that drops 1 command in 50, spits junk bytes now and then and vanishes
    once: how long a report waits between the SIM (+CMTI) and the database."""
    n, gap = args.reports, args.gap
    settings = dataclasses.replace(REALISTIC, delivery_gap=gap, drop_one_in=args.drop)
    with rig(settings, keep=args.keep) as (emu, daemon), CommitWatcher(daemon) as watcher:
        stop = threading.Event()

        def trouble() -> None:
            started = time.monotonic()
            vanished = False
            while not stop.wait(args.junk_every):
                emu.inject_garbage(b"\x00\xff\x1b[2J\xfe\x80\r\n")
                if not vanished and time.monotonic() - started > n * gap / 2:
                    emu.vanish(3.0)
                    vanished = True

        troublemaker = threading.Thread(target=trouble, daemon=True)
        troublemaker.start()
        for i in range(n):
            emu.inject_text(number(i), REPORT.format(n=i))
        poll_until(lambda: len(watcher.seen) >= n, timeout=n * gap * 3 + 120, every=0.2)
        stop.set()
        troublemaker.join()
        deliveries = emu.deliveries()
        poll_until(lambda: len(emu.sent) >= n, timeout=n * 4 + 60, every=0.5)
        sent = len({s.recipient for s in emu.sent})
        timeouts = daemon.log_path.read_text(errors="replace").count("asking again")
    latencies = [watcher.seen[pdu_hash(pdu)] - at for at, pdu in deliveries
                 if pdu_hash(pdu) in watcher.seen]
    print(f"faults: {n} reports, one reaching the SIM every {gap:g} s; 1 command in "
          f"{args.drop} unanswered, junk bytes every {args.junk_every:g} s, one 3 s vanish; "
          f"115200 Bd, 20 ms command latency, 3 s sends, replies on")
    print(f"  stored {len(watcher.seen)}/{n}, reporters answered {sent}/{n}; commands asked "
          f"again after a learned wait: {timeouts}")
    print(f"  +CMTI -> committed case: median {statistics.median(latencies):.2f} s, "
          f"p95 {pct(latencies, 0.95):.2f} s, max {max(latencies):.2f} s")


# --------------------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="scenario", required=True)
    for name, default in (("throughput", 2000), ("realistic", 150), ("gammu", 2000),
                          ("flood", 1000)):
        p = sub.add_parser(name)
        p.add_argument("--reports", type=int, default=default)
        p.add_argument("--keep", action="store_true")
        if name == "throughput":
            p.add_argument("--profile", action="store_true",
                           help="run the daemon under cProfile and print where its time goes")
        if name == "flood":
            p.add_argument("--pace", type=float, default=1.0,
                           help="seconds between two reports reaching the network")
            p.add_argument("--reply-minutes", type=float, default=60.0,
                           help="stop waiting for the replies after this long")
        if name == "gammu":
            p.add_argument("--realistic", action="store_true",
                           help="the realistic emulator of `realistic` (smsbridge replies off)")
            p.add_argument("--debug", action="store_true", help="gammu's full debug log")
            p.add_argument("--gammu-only", action="store_true")
        if name == "realistic":
            p.add_argument("--no-replies", action="store_true",
                           help="replies off: latency without 3 s sends in the way")
            p.add_argument("--gap", type=float, default=REALISTIC.delivery_gap,
                           help="seconds between two deliveries (1 s: a flood the 3 s "
                                "sends cannot keep up with; 6 s: a busy, steady line)")
    p = sub.add_parser("faults")
    p.add_argument("--reports", type=int, default=60)
    p.add_argument("--gap", type=float, default=3.0,
                   help="seconds between two reports reaching the SIM")
    p.add_argument("--drop", type=int, default=50, help="1 command in this many unanswered")
    p.add_argument("--junk-every", type=float, default=7.0)
    p.add_argument("--keep", action="store_true")
    p = sub.add_parser("idle")
    p.add_argument("--minutes", type=float, default=10.0)
    p.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    {"throughput": throughput, "realistic": realistic, "idle": idle,
     "gammu": gammu, "flood": flood, "faults": faults}[args.scenario](args)


if __name__ == "__main__":
    main()
