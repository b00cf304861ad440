"""The commander's figures on a million cases: ``stats --all``, ``report --html`` for 30
days, and migrating an old database to today's schema.

    python bench/bench_brief.py seed --db big.db     # 1,000,000 cases
    python bench/bench_brief.py time --db big.db     # stats, report
    python bench/bench_brief.py migrate --db old.db  # seed at 0005, migrate

``seed`` makes cases as a line a year or two into service has them: categories and
places (the city's landmarks), reports of the same incident linked, reporters with
history, statuses mixed, operators' actions, dispatches to officers and their answers.
``migrate`` seeds a database at schema 0005 (1,000,000 cases, 1,200,000 messages) with
plain SQL, then times ``Store.open`` migrating it and the longest single step (how long
the write lock is held). Prints Markdown for bench/RESULTS.md; a script, not a test.
"""

from __future__ import annotations

import argparse
import hashlib
import random
import sqlite3
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_store import STATUS_MIX, cpu_model, texts, time_command

from smsbridge.models import NewCase
from smsbridge.store import Store

CATEGORIES = (("knalpot_brong", 18), ("judi", 10), ("miras", 10), ("balap_liar", 9),
              ("pencurian", 12), ("tawuran", 7), ("narkoba", 5), ("parkir_liar", 6),
              ("kebisingan", 8), ("orang_hilang", 2), ("other", 13))
PLACES = ("Stasiun Solo Balapan", "Pasar Gede", "Ngarsopuro", "CFD Slamet Riyadi",
          "Stadion Manahan", "Keraton Kasunanan", "Pasar Klewer", "Terminal Tirtonadi",
          "Alun-alun Kidul", "Jl. Slamet Riyadi", "Jebres", "Laweyan", "Pasar Kliwon",
          "Banjarsari", "Serengan", "Solo Square", "Taman Balekambang", "Gladak",
          "Purwosari", "Jl. Adi Sucipto")
OFFICERS = ("bripka.agus", "brigpol.dewi", "aiptu.slamet", "bripda.rina", "briptu.joko")
OPERATORS = ("sari", "budi", "wati", "eko")


def seed_cases(n: int, rng: random.Random, days: int = 730) -> Iterator[NewCase]:
    statuses = [s for s, _ in STATUS_MIX]
    weights = [w for _, w in STATUS_MIX]
    categories = [c for c, _ in CATEGORIES]
    category_weights = [w for _, w in CATEGORIES]
    start = datetime.now(UTC) - timedelta(days=days)
    step = timedelta(days=days) / n
    # Reporters with history: a fifth as many numbers as cases, a few of them often.
    reporters = [f"+628{rng.randint(10**9, 10**10 - 1)}" for _ in range(max(n // 5, 1))]
    text = texts(rng)
    for i in range(n):
        received = start + step * i
        status = rng.choices(statuses, weights)[0]
        acted = None
        if status != "new":
            acted = (received + timedelta(minutes=rng.expovariate(1 / 45))).isoformat(
                timespec="seconds")
        category = rng.choices(categories, category_weights)[0]
        place = rng.choice(PLACES) if rng.random() < 0.8 else None
        # One report in ten repeats one of the twenty before it.
        incident = (i + 1 - rng.randint(1, 20)) if i > 20 and rng.random() < 0.1 else None
        # Weapons, a life in danger: one report in a hundred is flagged urgent.
        flags = ("urgent",) if rng.random() < 0.01 else ()
        yield NewCase(reporter=rng.choice(reporters), text=next(text), channel="sms",
                      received_at=received.isoformat(timespec="seconds"), status=status,
                      first_action_at=acted, category=category, place=place,
                      incident_id=incident, flags=flags)


def seed(db: Path, n: int, rng: random.Random, days: int = 730) -> float:
    began = time.perf_counter()
    with Store.open(db) as store:
        store.cases.import_many(seed_cases(n, rng, days), operator="daemon", batch_size=50_000)
    conn = sqlite3.connect(db)
    # Operators' actions, dispatches and answers for one case in five.
    rows = conn.execute("SELECT id, received_at, first_action_at, status FROM cases"
                        " WHERE first_action_at IS NOT NULL AND id % 5 = 0").fetchall()
    events, dispatches, answers = [], [], []
    for case_id, _received, acted, status in rows:
        operator = rng.choice(OPERATORS)
        events.append((case_id, acted, operator, "status", "new", status))
        sent = datetime.fromisoformat(acted) + timedelta(minutes=rng.expovariate(1 / 10))
        officer = rng.choice(OFFICERS)
        dispatches.append((case_id, officer, sent.isoformat(timespec="seconds"), operator))
        if rng.random() < 0.7:
            answered = sent + timedelta(minutes=rng.expovariate(1 / 90))
            answers.append((answered.isoformat(timespec="seconds"), officer, case_id,
                            "confirmed" if status != "fake" else "fake"))
    with conn:
        conn.executemany("INSERT INTO case_events (case_id, at, operator, action, old_status,"
                         " new_status) VALUES (?, ?, ?, ?, ?, ?)", events)
        conn.executemany("INSERT INTO dispatches (case_id, officer, at, operator)"
                         " VALUES (?, ?, ?, ?)", dispatches)
        conn.executemany("INSERT INTO field_answers (at, officer, case_id, finding, accepted)"
                         " VALUES (?, ?, ?, ?, 1)", answers)
    conn.execute("ANALYZE")
    conn.close()
    return time.perf_counter() - began


def seed_0005(db: Path, cases: int, messages: int, rng: random.Random) -> float:
    """A database at schema 0005 (before the pool's rebuild of ``messages``), filled
    with plain SQL: as an old line's file would be."""
    from sqlite_utils import Database

    from smsbridge.store import MIGRATION_NAMES, migrations

    began = time.perf_counter()
    old = Database(db)
    migrations().apply(old, stop_before=MIGRATION_NAMES[5])
    old.close()
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA journal_mode = WAL")
    new = seed_cases(cases, rng)
    batch = 50_000
    for first in range(1, cases + 1, batch):
        rows, msgs = [], []
        for number in range(first, min(first + batch, cases + 1)):
            c = next(new)
            rows.append((number, f"LP-{number:06d}", c.status, c.reporter, c.text,
                         c.received_at, c.received_at, c.first_action_at, c.received_at))
        with conn:
            conn.executemany(
                "INSERT INTO cases (id, ticket, status, reporter, text, received_at,"
                " updated_at, first_action_at, last_message_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
            for r in rows:
                for _ in range(1 if rng.random() > (messages - cases) / cases else 2):
                    msgs.append(r)
            conn.executemany(
                "INSERT INTO messages (pdu_hash, pdu, kind, sender, sender_toa, sent_at,"
                " received_at, text, case_id, handled_at) VALUES (?, ?, 'deliver', ?, 145,"
                " ?, ?, ?, ?, ?)",
                ((hashlib.sha256(f"{r[0]}-{i}".encode()).hexdigest(), "07" + "00" * 60, r[3],
                  r[5], r[5], r[4], r[0], r[5]) for i, r in enumerate(msgs)))
            conn.executemany("INSERT INTO case_events (case_id, at, operator, action,"
                             " new_status) VALUES (?, ?, 'daemon', 'created', 'new')",
                             ((r[0], r[5]) for r in rows))
    conn.execute("UPDATE counters SET value = ? WHERE name = 'ticket'", [cases])
    conn.commit()
    conn.close()
    return time.perf_counter() - began


def time_migration(db: Path) -> list[tuple[str, float]]:
    """Each pending migration's seconds, one transaction each. ``Store.open`` applies
    them all in one transaction: the write lock is held for their sum."""
    from sqlite_utils import Database

    from smsbridge.store import MIGRATION_NAMES, migrations

    conn = sqlite3.connect(db, isolation_level=None)
    done = conn.execute("PRAGMA user_version").fetchone()[0]
    steps = []
    for index in range(done, len(MIGRATION_NAMES)):
        stop = MIGRATION_NAMES[index + 1] if index + 1 < len(MIGRATION_NAMES) else None
        began = time.perf_counter()
        conn.execute("BEGIN IMMEDIATE")
        migrations().apply(Database(conn, execute_plugins=False), stop_before=stop)
        conn.execute("COMMIT")
        steps.append((MIGRATION_NAMES[index], time.perf_counter() - began))
    conn.close()
    return steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("what", choices=("seed", "time", "migrate"))
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--messages", type=int, default=1_200_000)
    parser.add_argument("--days", type=int, default=730, help="seed: over so many days")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    print(f"Machine: {cpu_model()}, SQLite {sqlite3.sqlite_version}, "
          f"{datetime.now(UTC):%Y-%m-%d}")
    if args.what == "seed":
        if args.db.exists():
            raise SystemExit(f"{args.db} exists")
        seconds = seed(args.db, args.cases, rng, args.days)
        print(f"Seeded {args.cases:,} cases in {seconds:,.0f} s")
    elif args.what == "time":
        workdir = Path(tempfile.mkdtemp(prefix="smsbridge-bench-"))
        config = workdir / "config.toml"
        config.write_text(f'[database]\npath = "{args.db.resolve()}"\n', encoding="utf-8")
        out = workdir / "briefing.html"
        commands = {
            "stats --all": (["stats", "--all"], 1.0),
            "stats --all --json": (["stats", "--all", "--json"], 1.0),
            "report --html FILE (last 30 days)": (["report", "--html", str(out)], 2.0),
        }
        print(f"\n| command (whole process, median of {args.runs}) | wall | CPU | target |")
        print("| --- | ---: | ---: | ---: |")
        for name, (argv, target) in commands.items():
            wall, cpu = time_command(config, argv, args.runs)
            print(f"| `{name}` | {wall * 1000:,.0f} ms | {cpu * 1000:,.0f} ms "
                  f"| < {target * 1000:,.0f} ms |")
    else:
        if not args.db.exists():
            seconds = seed_0005(args.db, args.cases, args.messages, rng)
            print(f"Seeded schema 0005: {args.cases:,} cases, {args.messages:,} messages "
                  f"in {seconds:,.0f} s")
        steps = time_migration(args.db)
        print("\n| migration | seconds (write lock held) |\n| --- | ---: |")
        for name, seconds in steps:
            print(f"| {name} | {seconds:,.1f} |")
        print(f"| **all** | {sum(s for _, s in steps):,.1f} |")


if __name__ == "__main__":
    main()
