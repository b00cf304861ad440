"""The daemon with a pool of modems: replies exactly once across kill -9, and reception
while replies flood out. The real ``smsbridge daemon`` process over emulators on ptys.

    python bench/bench_pool.py crash [--method store|direct] [--kills 10] [--reports 40]
    python bench/bench_pool.py latency [--pool shared|dedicated] [--backlog 300]
    python bench/bench_pool.py scaling [--modems 1 2 4] [--seconds 120]
    python bench/bench_pool.py idle [--modems 4] [--seconds 60]
    python bench/bench_pool.py credit [--reports 150] [--pace 1]

crash: reports wait on the SIM; the daemon is started and killed -9 at random moments
while it answers them (each send takes --send-delay s), --kills times, then left to
finish. Counted: duplicate replies (the same text to the same number more than once) and
reporters never answered. ``store`` sends through the modem's storage (AT+CMGW then
AT+CMSS, the slot recorded in between); ``direct`` is the modem without them (AT+CMGS).

latency: a backlog of replies (3 s per send) is queued, then reports reach the network
one every --pace s; +CMTI -> committed report is measured for each. ``shared``: one
modem, role both; ``dedicated``: a receive modem and a send modem.

scaling: replies per minute with 1, 2, 4 modems sending a queued backlog at 3 s per
send. idle: the daemon's CPU and RSS with several modems and nothing to do.

credit: three sticks answer a steady stream of reports and one runs out of credit
midway: replies per minute before and after, and nobody unanswered.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

from bench_daemon import REPORT, CommitWatcher, Daemon, number, pct, pdu_hash, poll_until

from smsbridge.emulator import Emulator, EmulatorSettings
from smsbridge.store import Store


def write_pool_config(directory: Path, modems: dict[str, tuple[str, str]],
                      level: str = "INFO", *, single: bool = False) -> Path:
    """``modems``: name -> (port, role). ``single``: one [modem] table, as a config of
    before the pool (to measure an older checkout with the same script)."""
    tables = "".join(f'[[modems]]\nname = "{name}"\nport = "{port}"\nrole = "{role}"\n\n'
                     for name, (port, role) in modems.items())
    if single:
        [(port, _role)] = modems.values()
        tables = ""
    path = directory / "config.toml"
    path.write_text(
        "[modem]\ncommand_timeout = 10.0\n" + (f'port = "{port}"\n' if single else "")
        + "\n" + tables
        + '[database]\npath = "cases.db"\n\n[daemon]\npoll_seconds = 10.0\n'
        "reconnect_max_seconds = 2.0\n\n"
        # A burst from distinct numbers: the line's budget is not what is measured.
        "[abuse]\nline_replies_per_hour = 100000\nline_replies_per_day = 100000\n\n"
        f'[logging]\nlevel = "{level}"\n', encoding="utf-8")
    return path


# Another checkout's package for the daemon (--daemon-from), to measure it as it was.
DAEMON_FROM: str | None = None


def start(directory: Path, config: Path) -> Daemon:
    log_path = directory / "daemon.log"
    env = {**os.environ, "PYTHONPATH": DAEMON_FROM} if DAEMON_FROM else None
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "smsbridge", "--config", str(config), "daemon"],
            stdout=subprocess.DEVNULL, stderr=log, cwd=directory, env=env)
    return Daemon(process, directory / "cases.db", log_path)


def wait_ready(daemon: Daemon, modems: int, timeout: float = 30.0) -> None:
    ok = poll_until(lambda: _ready(daemon) >= modems, timeout, every=0.05)
    if not ok:
        raise SystemExit(f"daemon not ready; log: {daemon.log_path}")


def _ready(daemon: Daemon) -> int:
    with contextlib.suppress(Exception):
        return daemon.count("SELECT count(*) FROM daemon_state WHERE key LIKE 'modem.%.state'"
                            " AND value = 'ready'")
    return 0


# --------------------------------------------------------------------------- crash


def crash(args: argparse.Namespace) -> None:
    rng = random.Random(args.seed)
    settings = EmulatorSettings(storage_size=args.reports + 10, send_delay=args.send_delay,
                                store_send=args.method == "store")
    directory = Path(tempfile.mkdtemp(prefix="bench-pool-crash-"))
    try:
        with Emulator(settings, link=str(directory / "modem")) as emu:
            config = write_pool_config(directory, {"sim1": (emu.port, "both")},
                                       single=args.single)
            for i in range(args.reports):
                emu.inject_text(number(i), REPORT.format(n=i))
            for _ in range(args.kills):
                daemon = start(directory, config)
                # A random moment while replies go out (the daemon needs about a second
                # to start, then sends one reply every send_delay seconds).
                time.sleep(rng.uniform(*args.window))
                daemon.process.send_signal(signal.SIGKILL)
                daemon.process.wait()
            daemon = start(directory, config)
            answered = poll_until(lambda: len({s.recipient for s in emu.sent}) >= args.reports,
                                  timeout=args.reports * args.send_delay * 3 + 60, every=0.2)
            time.sleep(2 * args.send_delay)  # anything still going out
            daemon.stop()
            per = Counter((s.recipient, s.text) for s in emu.sent)
            duplicates = sum(c - 1 for c in per.values())
            unanswered = args.reports - len({s.recipient for s in emu.sent})
            cases = daemon.count("SELECT count(*) FROM cases")
    finally:
        if not args.keep:
            shutil.rmtree(directory, ignore_errors=True)
    print(f"crash ({args.method}): {args.reports} reports, {args.kills} kills -9 "
          f"{args.window[0]:g}-{args.window[1]:g} s after each start, sends of "
          f"{args.send_delay:g} s")
    print(f"  cases {cases}, SMS sent {len(emu.sent)}, duplicate replies {duplicates}, "
          f"unanswered {unanswered}{'' if answered else ' (timed out)'}")


# --------------------------------------------------------------------------- latency


def latency(args: argparse.Namespace) -> None:
    slow = EmulatorSettings(storage_size=30, baudrate=115200, command_latency=0.02,
                            send_delay=3.0, delivery_gap=0.0)
    directory = Path(tempfile.mkdtemp(prefix="bench-pool-latency-"))
    try:
        with contextlib.ExitStack() as stack:
            rx = stack.enter_context(Emulator(slow, link=str(directory / "rx")))
            if args.pool == "dedicated":
                tx = stack.enter_context(Emulator(slow, link=str(directory / "tx")))
                modems = {"rx": (rx.port, "receive"), "tx": (tx.port, "send")}
            else:
                tx = rx
                modems = {"rx": (rx.port, "both")}
            config = write_pool_config(directory, modems)
            # The flood: replies already waiting when the reports come.
            with Store.open(directory / "cases.db") as store:
                for i in range(args.backlog):
                    store.outbox.add(f"+62813{i:07d}", f"Pemberitahuan {i}: petugas menuju "
                                     "lokasi laporan Anda.", kind="notice",
                                     created_by="bench")
            daemon = start(directory, config)
            try:
                wait_ready(daemon, len(modems))
                with CommitWatcher(daemon) as watcher:
                    t0 = time.monotonic()
                    for i in range(args.reports):
                        time.sleep(max(0.0, t0 + i * args.pace - time.monotonic()))
                        rx.inject_text(number(i), REPORT.format(n=i))
                    poll_until(lambda: len(watcher.seen) >= args.reports, 120)
                sent = len(tx.sent)
                elapsed = time.monotonic() - t0
            finally:
                daemon.stop()
            latencies = []
            for at, pdu in rx.deliveries():
                seen = watcher.seen.get(pdu_hash(pdu))
                if seen is not None:
                    latencies.append(seen - at)
    finally:
        if not args.keep:
            shutil.rmtree(directory, ignore_errors=True)
    print(f"latency ({args.pool}): {args.reports} reports one every {args.pace:g} s while "
          f"{args.backlog} replies wait (3 s per send, 115200 Bd, 20 ms command latency)")
    print(f"  +CMTI -> committed: median {statistics.median(latencies) * 1000:.0f} ms, "
          f"p95 {pct(latencies, 0.95) * 1000:.0f} ms, max {max(latencies) * 1000:.0f} ms "
          f"({len(latencies)} reports); replies sent meanwhile: {sent} in {elapsed:.0f} s")


# --------------------------------------------------------------------------- scaling


def queue_backlog(directory: Path, count: int) -> None:
    with Store.open(directory / "cases.db") as store:
        for i in range(count):
            store.outbox.add(f"+62813{i:07d}", f"Pemberitahuan {i}: petugas menuju lokasi "
                             "laporan Anda.", kind="notice", created_by="bench")


def scaling(args: argparse.Namespace) -> None:
    slow = EmulatorSettings(storage_size=30, baudrate=115200, command_latency=0.02,
                            send_delay=3.0)
    rates = {}
    for count in args.modems:
        directory = Path(tempfile.mkdtemp(prefix="bench-pool-scaling-"))
        try:
            with contextlib.ExitStack() as stack:
                emus = [stack.enter_context(Emulator(slow, link=str(directory / f"m{i}")))
                        for i in range(count)]
                config = write_pool_config(
                    directory, {f"m{i}": (e.port, "both") for i, e in enumerate(emus)})
                queue_backlog(directory, args.backlog)
                daemon = start(directory, config)
                try:
                    wait_ready(daemon, count)
                    time.sleep(args.warmup)
                    before = sum(len(e.sent) for e in emus)
                    time.sleep(args.seconds)
                    after = sum(len(e.sent) for e in emus)
                    per_modem = [len(e.sent) for e in emus]
                finally:
                    daemon.stop()
        finally:
            if not args.keep:
                shutil.rmtree(directory, ignore_errors=True)
        rates[count] = (after - before) * 60 / args.seconds
        print(f"  {count} modem(s): {rates[count]:.1f} replies/min "
              f"(sent by each: {per_modem})", flush=True)
    one = rates.get(1)
    print(f"scaling: {args.backlog} replies queued, 3 s per send, measured over "
          f"{args.seconds:g} s after {args.warmup:g} s")
    for count, rate in rates.items():
        ratio = f", {rate / (count * one):.2f} x linear" if one else ""
        print(f"  {count} modem(s): {rate:.1f} replies/min{ratio}")


def credit(args: argparse.Namespace) -> None:
    """Three sticks answer a steady stream of reports; one runs out of credit midway
    (its sends answer +CMS ERROR: 38 and its balance code says Rp0): replies per minute
    before and after, and whether anybody was left unanswered."""
    slow = EmulatorSettings(storage_size=30, baudrate=115200, command_latency=0.02,
                            send_delay=3.0)
    n = args.reports
    directory = Path(tempfile.mkdtemp(prefix="bench-pool-credit-"))
    try:
        with contextlib.ExitStack() as stack:
            emus = [stack.enter_context(Emulator(slow, link=str(directory / f"m{i}")))
                    for i in range(3)]
            config = write_pool_config(
                directory, {f"m{i}": (e.port, "both") for i, e in enumerate(emus)})
            config.write_text(config.read_text().replace(
                'role = "both"\n', 'role = "both"\nbalance_ussd = "*888#"\n'
                f"balance_check_seconds = {args.check:g}\n"), encoding="utf-8")
            daemon = start(directory, config)
            try:
                wait_ready(daemon, 3)
                t0 = time.monotonic()
                stop = threading.Event()

                def feed() -> None:
                    for i in range(n):
                        stop.wait(max(0.0, t0 + i * args.pace - time.monotonic()))
                        emus[i % 3].inject_text(number(i), REPORT.format(n=i))

                feeder = threading.Thread(target=feed, daemon=True)
                feeder.start()

                def sent() -> int:
                    return sum(len(e.sent) for e in emus)

                time.sleep(args.warmup)
                before0 = sent()
                time.sleep(args.seconds)
                before = (sent() - before0) * 60 / args.seconds
                lost_at = time.monotonic()
                emus[2].run_out_of_credit()
                stranded_from = len(emus[2].sent)
                time.sleep(args.settle)
                after0 = sent()
                time.sleep(args.seconds)
                after = (sent() - after0) * 60 / args.seconds
                answered = poll_until(
                    lambda: len({s.recipient for e in emus for s in e.sent}) >= n,
                    timeout=n * 3 + 120, every=0.5)
                done_at = time.monotonic() - t0
                stop.set()
                feeder.join()
                recipients = len({s.recipient for e in emus for s in e.sent})
                by = [len(e.sent) for e in emus]
                log_text = daemon.log_path.read_text(errors="replace")
            finally:
                daemon.stop()
    finally:
        if not args.keep:
            shutil.rmtree(directory, ignore_errors=True)
    stopped = "m2 cannot send" in log_text
    print(f"credit: {n} reports, one every {args.pace:g} s round the three sticks, 3 s per "
          f"send; m2 runs out of credit {args.warmup + args.seconds:g} s in (balance "
          f"checked every {args.check:g} s)")
    print(f"  replies/min: {before:.1f} before, {after:.1f} after ({args.settle:g} s to "
          f"settle); m2 sent {by[2] - stranded_from} after it ran out; m2 stopped: {stopped}")
    print(f"  answered {recipients}/{n}{'' if answered else ' (timed out)'} after "
          f"{done_at:.0f} s (m2 ran out at {lost_at - t0:.0f} s); sent by each: {by}")


def idle(args: argparse.Namespace) -> None:
    from bench_daemon import proc_stat

    directory = Path(tempfile.mkdtemp(prefix="bench-pool-idle-"))
    try:
        with contextlib.ExitStack() as stack:
            emus = [stack.enter_context(Emulator(EmulatorSettings(),
                                                 link=str(directory / f"m{i}")))
                    for i in range(args.modems)]
            config = write_pool_config(
                directory, {f"m{i}": (e.port, "both") for i, e in enumerate(emus)})
            daemon = start(directory, config)
            try:
                wait_ready(daemon, args.modems)
                time.sleep(5)
                cpu0, _, _ = proc_stat(daemon.process.pid)
                t0 = time.monotonic()
                time.sleep(args.seconds)
                cpu1, rss, hwm = proc_stat(daemon.process.pid)
                elapsed = time.monotonic() - t0
            finally:
                daemon.stop()
    finally:
        if not args.keep:
            shutil.rmtree(directory, ignore_errors=True)
    print(f"idle: {args.modems} modems, {args.seconds:g} s: CPU "
          f"{(cpu1 - cpu0) / elapsed * 100:.2f} %, RSS {rss / 1024:.1f} MB "
          f"(peak {hwm / 1024:.1f} MB)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="scenario", required=True)
    p = sub.add_parser("crash")
    p.add_argument("--method", choices=("store", "direct"), default="store")
    p.add_argument("--kills", type=int, default=10)
    p.add_argument("--reports", type=int, default=40)
    p.add_argument("--send-delay", type=float, default=0.5)
    p.add_argument("--window", type=float, nargs=2, default=(1.0, 3.0))
    p.add_argument("--seed", type=int, default=20261202)
    p.add_argument("--single", action="store_true",
                   help="a [modem] table instead of [[modems]] (for checkouts of before)")
    p.add_argument("--daemon-from", metavar="DIR",
                   help="run the daemon from another checkout (with --single: one of before "
                        "the pool)")
    p.add_argument("--keep", action="store_true")
    p = sub.add_parser("latency")
    p.add_argument("--pool", choices=("shared", "dedicated"), default="dedicated")
    p.add_argument("--backlog", type=int, default=300)
    p.add_argument("--reports", type=int, default=30)
    p.add_argument("--pace", type=float, default=2.0)
    p.add_argument("--keep", action="store_true")
    p = sub.add_parser("scaling")
    p.add_argument("--modems", type=int, nargs="+", default=[1, 2, 4])
    p.add_argument("--backlog", type=int, default=1000)
    p.add_argument("--warmup", type=float, default=10.0)
    p.add_argument("--seconds", type=float, default=120.0)
    p.add_argument("--keep", action="store_true")
    p = sub.add_parser("credit")
    p.add_argument("--reports", type=int, default=150)
    p.add_argument("--pace", type=float, default=1.0)
    p.add_argument("--warmup", type=float, default=10.0)
    p.add_argument("--seconds", type=float, default=45.0)
    p.add_argument("--settle", type=float, default=10.0)
    p.add_argument("--check", type=float, default=60.0)
    p.add_argument("--keep", action="store_true")
    p = sub.add_parser("idle")
    p.add_argument("--modems", type=int, default=4)
    p.add_argument("--seconds", type=float, default=60.0)
    p.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    global DAEMON_FROM
    DAEMON_FROM = getattr(args, "daemon_from", None)
    {"crash": crash, "latency": latency, "scaling": scaling,
     "idle": idle, "credit": credit}[args.scenario](args)


if __name__ == "__main__":
    main()
