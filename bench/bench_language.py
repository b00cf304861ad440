"""What reading the desk in Indonesian costs: ``cases list`` as a whole process, with
the catalogue loaded (id) and without (en), on a database of your choosing.

    python bench/bench_language.py --db cases.db [--runs 7] [--command "cases list"]

Seed a large database first (bench/bench_store.py --cases 1000000 --db cases.db), then
point this at it. Prints the median wall and CPU time of each language.
"""

from __future__ import annotations

import argparse
import os
import resource
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def timed(args: list[str], env: dict[str, str]) -> tuple[float, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(args, env=env, check=True, capture_output=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True, type=Path)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--command", default="cases list")
    opts = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "config.toml"
        config.write_text(f'[database]\npath = "{opts.db.resolve()}"\n'
                          '[desk]\ntimezone = "Asia/Jakarta"\n', encoding="utf-8")
        args = [sys.executable, "-m", "smsbridge", "--config", str(config),
                *shlex.split(opts.command)]
        for language in ("en", "id"):
            env = {**os.environ, "SMSBRIDGE_LANG": language, "COLUMNS": "80"}
            timed(args, env)  # the page cache warmed, as on a desk used all day
            runs = [timed(args, env) for _ in range(opts.runs)]
            wall = statistics.median(w for w, _ in runs) * 1000
            cpu = statistics.median(c for _, c in runs) * 1000
            print(f"{opts.command!r} in {language}: median {wall:.0f} ms wall, "
                  f"{cpu:.0f} ms CPU ({opts.runs} runs)")


if __name__ == "__main__":
    main()
