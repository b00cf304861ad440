"""Backup benchmark: ``smsbridge backup`` of a seeded database, as a whole process.

    python bench/bench_store.py --cases 1000000 --db big.db --runs 1   # seed once
    python bench/bench_backup.py --db big.db --runs 3

Times ``python -m smsbridge backup FILE`` (the online backup, the integrity check of
the copy, the fsync and the rename), and reports the copy's size beside the source's.
Prints a Markdown section for bench/RESULTS.md. A script, not a test.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", type=Path, required=True, help="a seeded case database")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--out", type=Path, help="directory for the copies (default: a "
                        "temporary one beside --db)")
    args = parser.parse_args()
    db = args.db.resolve()
    work = Path(tempfile.mkdtemp(prefix="smsbridge-backup-bench-", dir=args.out or db.parent))
    config = work / "config.toml"
    config.write_text(f'[database]\npath = "{db}"\n', encoding="utf-8")
    dest = work / "backup.db"
    walls, cpus = [], []
    for _ in range(args.runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        began = time.perf_counter()
        subprocess.run([sys.executable, "-m", "smsbridge", "--config", str(config), "backup",
                        str(dest)], check=True, stdout=subprocess.DEVNULL)
        walls.append(time.perf_counter() - began)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    conn = sqlite3.connect(f"file:{dest}?mode=ro", uri=True)
    cases = conn.execute("SELECT count(*) FROM cases").fetchone()[0]
    messages = conn.execute("SELECT count(*) FROM messages").fetchone()[0]
    conn.close()
    size, source = dest.stat().st_size, db.stat().st_size
    dest.unlink()
    config.unlink()
    work.rmdir()
    print(f"Machine: {os.cpu_count()} CPUs, Python {platform.python_version()}, SQLite "
          f"{sqlite3.sqlite_version}, {datetime.now(UTC):%Y-%m-%d}; load average "
          f"{os.getloadavg()[0]:.1f}")
    print(f"\n| figure ({cases:,} cases, {messages:,} messages) | value |")
    print("| --- | ---: |")
    print(f"| `smsbridge backup FILE`, whole process, median of {args.runs} | "
          f"{statistics.median(walls):,.1f} s (range {min(walls):,.1f} – {max(walls):,.1f}) |")
    print(f"| CPU of it (median) | {statistics.median(cpus):,.1f} s |")
    print(f"| source database | {source / 2**20:,.0f} MiB |")
    print(f"| backup file | {size / 2**20:,.0f} MiB |")


if __name__ == "__main__":
    main()
