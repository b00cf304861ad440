"""Case store benchmark: seed N cases, then time operators' commands as whole processes.

    python bench/bench_store.py                      # 1,000,000 cases, 7 runs per command
    python bench/bench_store.py --cases 20000 --runs 3
    python bench/bench_store.py --db big.db --reuse  # time again on an existing seed

Seeds cases of about 200 characters (Indonesian report vocabulary, place names,
times) spread over two years, with a realistic mix of statuses, categories and
places of the city, reporters with a history, related reports, urgent ones and
assignments (``seed_cases``, ``settle``), then measures the
median wall time of ``python -m smsbridge …`` for:

    cases list with each filter (status, open, category, place, min-fake,
    assigned none, overdue, urgent, sort), and --search WORD   target < 300 ms
    cases show TICKET                                          target < 300 ms
    cases watch, until its first screen (10 changes)           target < 300 ms
    stats, stats --all                                         target < 1 s

and the database size per case (target < 1 KB). Prints a Markdown section for
bench/RESULTS.md. A script, not a test: timings depend on the machine.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import resource
import select
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

from smsbridge.models import NewCase
from smsbridge.store import Store

_VOCABULARY = """
ada laporan judi sabung ayam di pasar malam jalan gang dekat masjid sekolah warung
kios terminal pelabuhan stasiun rumah kos kontrakan narkoba sabu ganja pencurian
motor mobil helm tas dompet handphone begal jambret preman pungli parkir liar
perkelahian tawuran pelajar remaja minuman keras mabuk balap liar knalpot bising
malam hari siang pagi sore setiap minggu sering sekali tolong segera pak polisi
petugas datang cek lokasi warga resah takut melapor identitas dirahasiakan mohon
bantuan terima kasih kejadian sudah lama belum ada tindakan orang tidak dikenal
membawa senjata tajam mengancam memalak pedagang sopir angkot ojek penumpang
kecelakaan lalu lintas jalan rusak lampu mati gelap rawan banjir macet total
penipuan online transfer rekening pinjaman arisan investasi bodong kekerasan
rumah tangga anak perempuan tetangga berteriak minta tolong kebakaran asap
"""
WORDS = _VOCABULARY.split()
PLACES = ["Merdeka", "Sudirman", "Diponegoro", "Gajah Mada", "Ahmad Yani", "Pemuda",
          "Veteran", "Pahlawan", "Kartini", "Imam Bonjol", "Gatot Subroto", "Hasanuddin"]
SEARCH_WORD = "sabung"
# A line several months into service: most cases are closed.
STATUS_MIX = (("resolved", 55), ("fake", 12), ("duplicate", 8), ("confirmed", 8),
              ("checking", 9), ("new", 8))
# What intake finds in a year of Surakarta's reports (other: none of the categories).
CATEGORY_MIX = (("knalpot_brong", 18), ("balap_liar", 9), ("judi", 12), ("miras", 12),
                ("narkoba", 5), ("tawuran", 8), ("pencurian", 11), ("parkir_liar", 9),
                ("other", 16))
SOLO_PLACES = ["Pasar Gede", "Pasar Legi", "Pasar Klewer", "Stasiun Balapan",
               "Terminal Tirtonadi", "Alun-alun Kidul", "Manahan", "Ngarsopuro",
               "Jalan Slamet Riyadi", "Jalan Adi Sucipto", "Gladag", "Purwosari",
               "Jebres", "Laweyan", "Banjarsari", "Kampung Baru", "Solo Baru", "Kerten",
               "Sriwedari", "Tipes", "Panggung", "Gilingan", "Mojosongo", "Pucang Sawit"]
OFFICERS = ["budi", "sari", "joko", "wati", "agus", "dewi", "buser-1", "buser-2"]
PLACE_WORD = "balapan"


def texts(rng: random.Random) -> Iterator[str]:
    while True:
        words = rng.choices(WORDS, k=40)
        place = f"Jl. {rng.choice(PLACES)} No. {rng.randint(1, 250)}"
        when = f"jam {rng.randint(0, 23):02d}.{rng.choice(('00', '15', '30', '45'))}"
        text = " ".join(words[:12]) + f" {place} " + " ".join(words[12:]) + f" {when}"
        yield text[:200].rsplit(" ", 1)[0].capitalize()


def seed_cases(n: int, rng: random.Random) -> Iterator[NewCase]:
    """Cases over two years: a status, a category and (mostly) a place of the city;
    reporters with a history (five reports each on average, a few who send mostly fake
    ones); one in twelve linked to an earlier report as the same incident; one in a
    hundred urgent. The ids are 1..n in order (a fresh database)."""
    statuses = [s for s, _ in STATUS_MIX]
    weights = [w for _, w in STATUS_MIX]
    categories = [c for c, _ in CATEGORY_MIX]
    category_weights = [w for _, w in CATEGORY_MIX]
    start = datetime.now(UTC) - timedelta(days=730)
    step = timedelta(days=730) / n
    reporters = [f"+628{rng.randint(10**9, 10**10 - 1)}" for _ in range(max(n // 5, 1))]
    pranksters = set(rng.sample(reporters, max(len(reporters) // 50, 1)))
    text = texts(rng)
    for i in range(n):
        received = start + step * i
        reporter = rng.choice(reporters)
        status = "fake" if reporter in pranksters and rng.random() < 0.7 else \
            rng.choices(statuses, weights)[0]
        acted = None
        if status != "new":
            acted = (received + timedelta(minutes=rng.expovariate(1 / 45))).isoformat(
                timespec="seconds")
        place = None
        if rng.random() < 0.8:
            place = rng.choice(SOLO_PLACES) + (f" RT {rng.randint(1, 12):02d}"
                                               if rng.random() < 0.3 else "")
        linked = i + 1 - rng.randint(1, 5) if i >= 5 and rng.random() < 1 / 12 else None
        yield NewCase(reporter=reporter, text=next(text) + (f" di {place}" if place else ""),
                      channel="sms", received_at=received.isoformat(timespec="seconds"),
                      status=status, first_action_at=acted, place=place,
                      category=rng.choices(categories, category_weights)[0],
                      incident_id=linked, urgent=("parang",) if rng.random() < 0.01 else ())


def settle(db: Path) -> None:
    """What operators did to the seeded cases: each was last changed when first acted
    on (or when it arrived), and most acted-on ones are assigned to an officer or a
    team. No ANALYZE: a line's database never runs it, so the planner works as it
    would there."""
    names = " ".join(f"WHEN {i} THEN '{name}'" for i, name in enumerate(OFFICERS))
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE cases SET updated_at = coalesce(first_action_at, received_at),"
                     f" assigned_to = CASE WHEN status != 'new' AND id % 3 != 0"
                     f" THEN CASE id % {len(OFFICERS)} {names} END END")


def time_command(config: Path, args: list[str], runs: int) -> tuple[float, float]:
    """Median wall time and median CPU time (user + system) of the whole process.

    CPU time is reported too because wall time on a shared machine includes waiting
    for a core; CPU time does not.
    """
    env = dict(os.environ, SMSBRIDGE_CONFIG=str(config), SMSBRIDGE_OPERATOR="bench")
    wall, cpu = [], []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        began = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "smsbridge", *args], env=env,
                              capture_output=True, text=True)
        wall.append(time.perf_counter() - began)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
        if done.returncode != 0:
            raise SystemExit(f"smsbridge {' '.join(args)} failed: {done.stderr.strip()}")
    return statistics.median(wall), statistics.median(cpu)


def time_first_screen(config: Path, args: list[str], lines: int, runs: int,
                      more: int = 0) -> tuple[float, float]:
    """Median wall time from starting a command that runs until stopped (``cases
    watch``) to its ``lines``-th line on stdout (or the ``lines + more``-th, when it
    comes within a second), and the CPU time it took by then."""
    env = dict(os.environ, SMSBRIDGE_CONFIG=str(config), SMSBRIDGE_OPERATOR="bench")
    wall, cpu = [], []
    for _ in range(runs):
        began = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-m", "smsbridge", *args], env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, bufsize=0)
        assert proc.stdout is not None
        seen, done = 0, None
        while seen < lines + more:
            wait = None if seen < lines else 1.0
            if not select.select([proc.stdout], [], [], wait)[0]:
                break  # the lines past ``lines`` did not come
            chunk = os.read(proc.stdout.fileno(), 65536)
            if not chunk:
                raise SystemExit(f"smsbridge {' '.join(args)} ended before {lines} lines")
            seen += chunk.count(b"\n")
            done = time.perf_counter()
        assert done is not None
        wall.append(done - began)
        try:
            stat = Path(f"/proc/{proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
            cpu.append((int(stat[11]) + int(stat[12])) / os.sysconf("SC_CLK_TCK"))
        except OSError:
            cpu.append(float("nan"))
        proc.kill()
        proc.wait()
    return statistics.median(wall), statistics.median(cpu)


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--db", type=Path, help="database file (default: a temporary one)")
    parser.add_argument("--reuse", action="store_true", help="time an existing --db as is")
    parser.add_argument("--seed", type=int, default=2024)
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="smsbridge-bench-"))
    db = (args.db or workdir / "bench.db").resolve()
    config = workdir / "config.toml"
    config.write_text(f'[database]\npath = "{db}"\n', encoding="utf-8")

    seconds = None
    if not args.reuse:
        if db.exists():
            raise SystemExit(f"{db} exists; pass --reuse to time it, or remove it")
        began = time.perf_counter()
        with Store.open(db) as store:
            count = store.cases.import_many(seed_cases(args.cases, random.Random(args.seed)),
                                            operator="bench", batch_size=50_000)
        settle(db)
        seconds = time.perf_counter() - began
    with Store.open(db, create=False) as store:
        count = store.cases.stats().total
    size = db.stat().st_size
    ticket = f"LP-{random.Random(args.seed).randint(1, count):06d}"

    lists = {
        "": [],
        "--status new": ["--status", "new"],
        "--status open": ["--status", "open"],
        "--category judi": ["--category", "judi"],
        f"--place {PLACE_WORD}": ["--place", PLACE_WORD],
        "--min-fake 2": ["--min-fake", "2"],
        "--assigned none": ["--assigned", "none"],
        "--status open --assigned none": ["--status", "open", "--assigned", "none"],
        "--overdue": ["--overdue"],
        "--urgent": ["--urgent"],
        "--sort newest": ["--sort", "newest"],
        "--sort oldest": ["--sort", "oldest"],
        "--status open --sort oldest": ["--status", "open", "--sort", "oldest"],
        f"--search {SEARCH_WORD}": ["--search", SEARCH_WORD],
    }
    commands = {f"cases list {name}".rstrip(): ["cases", "list", *argv]
                for name, argv in lists.items()}
    commands.update({
        f"cases show {ticket}": ["cases", "show", ticket],
        "stats (last 30 days)": ["stats"],
        "stats --all": ["stats", "--all"],
        "smsbridge --help (start-up alone)": ["--help"],
    })
    targets = {name: 0.3 for name in commands if name.startswith(("cases list", "cases show"))}
    targets.update({"stats (last 30 days)": 1.0, "stats --all": 1.0})
    results = [(name, time_command(config, argv, args.runs)) for name, argv in
               commands.items()]
    results.append(("cases watch (first screen: 10 changes, how many are overdue)",
                    time_first_screen(config, ["cases", "watch", "--last", "10"], 10,
                                      args.runs, more=1)))
    targets[results[-1][0]] = 0.3

    print(f"Machine: {os.cpu_count()} CPUs ({cpu_model()}), Python "
          f"{platform.python_version()}, SQLite {sqlite3.sqlite_version}, "
          f"{datetime.now(UTC):%Y-%m-%d}")
    print(f"Cases: {count:,}; database {size / 2**20:,.0f} MiB = {size / count:,.0f} bytes "
          f"per case (target < 1024)")
    if seconds is not None:
        print(f"Seeding: {seconds:,.1f} s = {count / seconds:,.0f} cases/s")
    print(f"Load average while timing: {os.getloadavg()[0]:.1f}")
    print(f"\n| command (whole process, median of {args.runs}) | wall | CPU | target |")
    print("| --- | ---: | ---: | ---: |")
    for name, (wall, cpu) in results:
        target = f"< {targets[name] * 1000:.0f} ms" if name in targets else ""
        print(f"| `{name}` | {wall * 1000:,.0f} ms | {cpu * 1000:,.0f} ms | {target} |")


if __name__ == "__main__":
    main()
