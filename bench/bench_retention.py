"""Retention benchmark: the first daily run on a line with a long history.

    python bench/bench_store.py --cases 1000000 --db big.db --runs 1   # seed once
    python bench/bench_retention.py --db big.db

Works on a copy of --db whose cases were last changed when they were acted on (the
seeder stamps them all with the seeding time). Times migration 0010 (two columns and
partial indexes), ``smsbridge retention --dry-run`` as a whole process, giving every
case its pseudonym, and the first run, batch by batch as the daemon does them: each
batch is one transaction that the daemon's reception waits behind, so its worst time
is the figure that matters.
Prints a Markdown section for bench/RESULTS.md. A script, not a test.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from smsbridge.config.sections import Config
from smsbridge.privacy import pseudonym
from smsbridge.retention import Progress, finish, run_batch
from smsbridge.store import Store
from smsbridge.store.retention import Retention


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", type=Path, required=True, help="a seeded case database")
    parser.add_argument("--batch", type=int, default=200)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="smsbridge-retention-bench-", dir=args.db.parent))
    db = work / "cases.db"
    shutil.copyfile(args.db, db)
    db.chmod(0o660)
    conn = sqlite3.connect(db)
    conn.execute("UPDATE cases SET updated_at = coalesce(first_action_at, received_at)")
    conn.commit()
    conn.close()

    began = time.perf_counter()
    Store.open(db).close()  # migrates to the current schema
    migration = time.perf_counter() - began
    config = work / "config.toml"
    config.write_text(f'[database]\npath = "{db}"\n[retention]\nbatch_size = {args.batch}\n',
                      encoding="utf-8")
    began = time.perf_counter()
    dry = subprocess.run([sys.executable, "-m", "smsbridge", "--config", str(config),
                          "retention", "--dry-run"], check=True, capture_output=True,
                         text=True).stdout
    dry_seconds = time.perf_counter() - began

    cfg = Config().replace(retention={"batch_size": args.batch})
    key = os.urandom(32)
    now = datetime.now(UTC)
    batches, total = [], Progress()
    keying: list[float] = []
    with Store.open(db) as store:
        retention = Retention(store.db, store.audit)
        began = time.perf_counter()
        while True:
            start = time.perf_counter()
            keyed = retention.key_batch(args.batch, lambda number: pseudonym(key, number))
            keying.append(time.perf_counter() - start)
            if not keyed:
                break
        keying_whole = time.perf_counter() - began
        began = time.perf_counter()
        while True:
            start = time.perf_counter()
            step = run_batch(store, cfg, key, now)
            batches.append(time.perf_counter() - start)
            total += step
            if step == Progress():
                break
        finish(store, cfg, total, now)
        whole = time.perf_counter() - began
        cases = store.db.scalar("SELECT count(*) FROM cases")
    shutil.rmtree(work)
    ordered = sorted(batches)
    print(f"Machine: {os.cpu_count()} CPUs, Python {platform.python_version()}, SQLite "
          f"{sqlite3.sqlite_version}, {datetime.now(UTC):%Y-%m-%d}; load average "
          f"{os.getloadavg()[0]:.1f}")
    print(f"\n| figure ({cases:,} cases, batches of {args.batch}) | value |")
    print("| --- | ---: |")
    print(f"| migration 0010_retention | {migration:,.1f} s |")
    print(f"| `smsbridge retention --dry-run`, whole process | {dry_seconds:,.2f} s |")
    print(f"| every case keyed (its pseudonym), back to back | {keying_whole:,.0f} s in "
          f"{len(keying):,} batches; one: median {statistics.median(keying) * 1000:,.0f} ms,"
          f" worst {max(keying) * 1000:,.0f} ms |")
    print(f"| first run: {total} | {whole:,.0f} s in {len(batches):,} batches |")
    print(f"| one batch: median / 99th percentile / worst | "
          f"{statistics.median(batches) * 1000:,.0f} / "
          f"{ordered[int(len(ordered) * 0.99)] * 1000:,.0f} / {ordered[-1] * 1000:,.0f} ms |")
    print(f"\n{dry.strip()}")


if __name__ == "__main__":
    main()
