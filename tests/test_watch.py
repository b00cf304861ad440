"""``cases watch``: changes committed by other processes show as they happen."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from rigs import run_smsbridge

from smsbridge.cli.watch import MAX_WAIT, MIN_WAIT, watch
from smsbridge.models import CaseQuery, NewCase
from smsbridge.store import Store

REPORTER = "+6281234567110"


def add(store: Store, text: str, category: str = "judi") -> str:
    return store.cases.create(NewCase(reporter=REPORTER, text=text, category=category,
                                      place="pasar gede"), operator="smsbridge").ticket


def test_changes_from_another_connection_show_and_an_idle_watch_backs_off(db_path: Path):
    with Store.open(db_path) as writer:
        add(writer, "lama")
        shown: list[str] = []
        waits: list[float] = []
        steps = iter([
            lambda: None, lambda: None, lambda: None,            # idle: waits grow
            lambda: add(writer, "ada judi di pasar gede"),
            lambda: writer.cases.update("2", operator="budi", status="checking"),
            lambda: add(writer, "knalpot brong", category="knalpot_brong"),  # filtered out
            lambda: writer.cases.update("1", operator="budi", note="dicek"),
        ])

        def sleep(seconds: float) -> None:
            waits.append(seconds)
            next(steps)()

        with Store.open(db_path, create=False) as reader:
            watch(reader, CaseQuery(categories=("judi",)), show=shown.append, last=1,
                  sleep=sleep, stop=lambda: len(waits) >= 7)
    assert [line.split()[1:3] for line in shown] == [
        ["NEW", "LP-000001"], ["NEW", "LP-000002"], ["STATUS", "LP-000002"],
        ["NOTE", "LP-000001"]]
    assert "new -> checking (budi)" in shown[2] and "pasar gede | ada judi" in shown[1]
    assert waits[:4] == [MIN_WAIT, MIN_WAIT * 2, MIN_WAIT * 4, MIN_WAIT * 8]
    assert waits[4] == MIN_WAIT                               # after a change, short again
    assert max(waits) <= MAX_WAIT


def test_json_lines_and_the_bell_for_new_cases_only(db_path: Path):
    with Store.open(db_path) as writer:
        steps = iter([lambda: add(writer, "ada judi"),
                      lambda: writer.cases.update("1", operator="sari", note="dicek")])

        def run(**options) -> list[str]:
            out: list[str] = []
            with Store.open(db_path, create=False) as reader:
                watch(reader, CaseQuery(), show=out.append, last=0,
                      sleep=lambda s: next(steps, lambda: None)(), stop=lambda: len(out) >= 2,
                      **options)
            return out

        rung = run(bell=True)
        assert rung[0].startswith("\a") and not rung[1].startswith("\a")
        steps = iter([lambda: add(writer, "lagi"),
                      lambda: writer.cases.update("2", operator="sari", status="fake")])
        lines = [json.loads(line) for line in run(as_json=True)]
    assert [(d["action"], d["ticket"]) for d in lines] == [("created", "LP-000002"),
                                                           ("status", "LP-000002")]
    assert lines[1]["new_status"] == "fake" and lines[0]["text"] == "lagi"


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@pytest.mark.slow
def test_watch_shows_what_another_process_writes_and_stops_cleanly_on_ctrl_c(
        cli_env: dict[str, str], db_path: Path):
    run = [sys.executable, "-m", "smsbridge"]
    run_smsbridge("cases", "add", "--reporter", "081234567110", "lama", env=cli_env, check=True)
    env = dict(cli_env, COLUMNS="80")
    # As from a terminal: a test run started in the background inherits SIGINT ignored,
    # and Python then never turns Ctrl-C into KeyboardInterrupt.
    watcher = subprocess.Popen([*run, "cases", "watch", "--last", "0"], env=env, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(x) for x in watcher.stdout], daemon=True).start()
    errors: list[str] = []
    threading.Thread(target=lambda: errors.extend(watcher.stderr), daemon=True).start()

    def next_line() -> str:
        return lines.get(timeout=20)

    try:
        deadline = time.monotonic() + 20
        while not errors and time.monotonic() < deadline:
            time.sleep(0.05)
        assert errors and errors[0].startswith("Watching ")
        subprocess.run([*run, "cases", "add", "--reporter", "081234567111",
                        "ada tawuran di perempatan Panggung"], env=cli_env, check=True,
                       capture_output=True, timeout=60)
        new = next_line()
        assert " NEW " in new and "LP-000002 tawuran" in new and len(new.rstrip("\n")) <= 80
        subprocess.run([*run, "cases", "update", "2", "--status", "checking", "--as", "budi"],
                       env=cli_env, check=True, capture_output=True, timeout=60)
        assert "STATUS    LP-000002 new -> checking (budi)" in next_line()
        # Idle, it sleeps: well under a tenth of a CPU.
        before = _cpu_seconds(watcher.pid)
        time.sleep(2)
        assert _cpu_seconds(watcher.pid) - before < 0.2
        watcher.send_signal(signal.SIGINT)
        assert watcher.wait(timeout=20) == 0
    finally:
        if watcher.poll() is None:
            watcher.kill()
            watcher.wait()
    time.sleep(0.1)
    assert "stopped\n" in errors and not any("Traceback" in e for e in errors)
    assert lines.empty()
