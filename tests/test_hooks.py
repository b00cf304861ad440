"""Hooks tell other systems about new cases: a real command, a real local HTTP server."""

from __future__ import annotations

import contextlib
import http.server
import json
import os
import shlex
import signal
import sys
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import ClassVar

import pytest

from smsbridge.config.sections import Config, HookConfig
from smsbridge.hooks import Deliver, HookRunner
from smsbridge.models import NewCase, to_iso
from smsbridge.store import Store


@pytest.fixture
def store(db_path):
    s = Store.open(db_path)
    yield s
    s.close()


def new_case(store: Store, text: str = "Ada judi di pasar") -> int:
    case = store.cases.create(NewCase(reporter="+6281234567110", text=text), operator="test")
    store.hooks.add(case.id, at=to_iso(datetime.now(UTC)))
    return case.id


def hooks(store: Store) -> list[tuple]:
    return store.db.execute(
        "SELECT attempts, done_at, last_error, next_attempt_at FROM hooks").fetchall()


def test_command_gets_the_case_as_json_with_the_number_masked(tmp_path, store):
    out = tmp_path / "hook.json"
    command = f"{shlex.quote(sys.executable)} -c 'import sys; open(sys.argv[1], \"wb\")" \
              f".write(sys.stdin.buffer.read())' {shlex.quote(str(out))}"
    runner = HookRunner(Config().replace(hook={"command": command}), store.path)
    new_case(store)
    assert runner.run_due(store) == 1
    payload = json.loads(out.read_text())
    assert payload["ticket"] == "LP-000001" and payload["text"] == "Ada judi di pasar"
    assert payload["reporter"] == "+62 812 ••••• 10"
    [(attempts, done_at, error, _)] = hooks(store)
    assert attempts == 0 and done_at and error is None


def test_a_hook_never_gets_the_number_even_with_the_retired_reveal_numbers(tmp_path, store):
    out = tmp_path / "hook.json"
    command = f"cat > {shlex.quote(str(out))}"
    cfg = Config().replace(hook={"command": command, "reveal_numbers": True})
    new_case(store)
    HookRunner(cfg, store.path).run_due(store)  # with the daemon's own, opening store
    assert json.loads(out.read_text())["reporter"] == "+62 812 \u2022\u2022\u2022\u2022\u2022 10"


def test_failing_command_is_retried_later_then_given_up(store):
    cfg = Config().replace(hook={"command": "echo nope >&2; exit 3", "max_attempts": 2})
    runner = HookRunner(cfg, store.path)
    new_case(store)
    runner.run_due(store)
    [(attempts, done_at, error, next_at)] = hooks(store)
    assert attempts == 1 and done_at is None and "exited 3: nope" in error
    assert next_at > to_iso(datetime.now(UTC))
    assert runner.run_due(store) == 0  # not due yet
    store.db.execute("UPDATE hooks SET next_attempt_at = ?",
                       (to_iso(datetime.now(UTC) - timedelta(seconds=1)),))
    runner.run_due(store)
    [(attempts, done_at, error, next_at)] = hooks(store)
    assert attempts == 2 and done_at is None and next_at is None  # given up, kept visible


def test_hanging_command_times_out(store):
    cfg = Config().replace(hook={"command": "sleep 30", "timeout_seconds": 0.5})
    new_case(store)
    HookRunner(cfg, store.path).run_due(store)
    [(attempts, _, error, _)] = hooks(store)
    assert attempts == 1 and "timed out" in error


class _Collector(http.server.BaseHTTPRequestHandler):
    received: ClassVar[list[dict]] = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append(json.loads(body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_url_gets_the_case_posted_as_json(store):
    _Collector.received = []
    server = http.server.HTTPServer(("127.0.0.1", 0), _Collector)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/cases"
        new_case(store, "Ada tawuran")
        HookRunner(Config().replace(hook={"url": url}), store.path).run_due(store)
    finally:
        server.shutdown()
    assert [c["text"] for c in _Collector.received] == ["Ada tawuran"]
    assert hooks(store)[0][1]  # done


def test_unreachable_url_is_an_error_recorded_for_a_retry(store):
    new_case(store)
    cfg = Config().replace(hook={"url": "http://127.0.0.1:9/", "timeout_seconds": 2})
    HookRunner(cfg, store.path).run_due(store)
    [(attempts, done_at, error, _)] = hooks(store)
    assert attempts == 1 and done_at is None and "unreachable" in error


def test_runner_thread_runs_hooks_without_the_caller(tmp_path, store):
    out = tmp_path / "hook.json"
    runner = HookRunner(Config().replace(hook={"command": f"cat > {shlex.quote(str(out))}"}),
                        store.path)
    new_case(store)
    runner.start()
    try:
        runner.wake()
        deadline = datetime.now(UTC) + timedelta(seconds=20)
        while not (out.exists() and out.read_text()) and datetime.now(UTC) < deadline:
            threading.Event().wait(0.05)
    finally:
        runner.stop()
    assert json.loads(out.read_text())["ticket"] == "LP-000001"


def running(pid: int) -> bool:
    """``pid`` is a live process (a zombie is dead already, waiting to be reaped)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def group_exists(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def test_timed_out_command_is_killed_with_everything_it_started(tmp_path, store):
    pids = tmp_path / "pids"
    # The shell notes its pid (the group's id), then starts a shell that leaves a
    # sleeper in the background and becomes another: killing the first shell alone
    # would orphan both sleepers, which hold the hook's stderr open.
    command = (f"echo $$ >> {pids}; "
               f"sh -c 'sleep 300 & echo $! >> {pids}; echo $$ >> {pids}; exec sleep 300'")
    cfg = Config().replace(hook={"command": command, "timeout_seconds": 1.0})
    new_case(store)
    started: list[int] = []
    try:
        HookRunner(cfg, store.path).run_due(store)
        started = [int(pid) for pid in pids.read_text().split()]
        assert len(started) == 3
        assert [pid for pid in started if running(pid)] == []
        # Their zombies are init's to reap (their parents died with them); then the
        # group is gone altogether.
        wait_for(lambda: not group_exists(started[0]))
    finally:
        for pid in started or [int(p) for p in pids.read_text().split()]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
    [(attempts, done_at, error, _)] = hooks(store)
    assert attempts == 1 and done_at is None and "timed out after 1 s" in error


def test_command_runs_in_a_process_group_of_its_own(tmp_path, store):
    out = tmp_path / "ids"
    new_case(store)
    command = f"ps -o pid=,pgid=,sid= -p $$ > {shlex.quote(str(out))}"
    HookRunner(Config().replace(hook={"command": command}), store.path).run_due(store)
    pid, pgid, sid = out.read_text().split()
    assert pid == pgid == sid and int(pgid) != os.getpgrp()


def _deliver_failing_for(ticket: str, delivered: list[str]) -> Deliver:
    def deliver(cfg: HookConfig, payload: bytes) -> None:
        case = json.loads(payload)
        if case["ticket"] == ticket:
            raise RuntimeError("something nobody expected")
        delivered.append(case["ticket"])

    return deliver


def wait_for(condition, seconds: float = 20.0) -> None:
    deadline = datetime.now(UTC) + timedelta(seconds=seconds)
    while not condition():
        assert datetime.now(UTC) < deadline, "condition not met in time"
        threading.Event().wait(0.05)


@pytest.mark.parametrize("max_attempts", [5, 1], ids=["retried", "given-up"])
def test_unexpected_error_in_one_hook_is_its_failure_and_the_runner_goes_on(
        store, max_attempts: int):
    delivered: list[str] = []
    cfg = Config().replace(hook={"command": "true", "max_attempts": max_attempts})
    runner = HookRunner(cfg, store.path, deliver=_deliver_failing_for("LP-000001", delivered))
    new_case(store, "Ada judi")
    new_case(store, "Ada tawuran")
    runner.start()
    try:
        runner.wake()
        wait_for(lambda: delivered == ["LP-000002"])
        assert runner.alive
        new_case(store, "Balap liar")  # the thread still takes new work
        runner.wake()
        wait_for(lambda: delivered == ["LP-000002", "LP-000003"])
    finally:
        runner.stop()
    first, second, third = hooks(store)
    attempts, done_at, error, next_at = first
    assert attempts == 1 and done_at is None
    assert error == "unexpected RuntimeError: something nobody expected"
    assert (next_at is not None) == (max_attempts > 1)  # retried later, or given up
    assert second[1] and third[1]  # done


def test_runner_waits_for_a_database_it_cannot_open_yet(tmp_path, db_path):
    delivered: list[str] = []
    cfg = Config().replace(hook={"command": "true"})
    runner = HookRunner(cfg, str(db_path), deliver=_deliver_failing_for("-", delivered))
    runner.start()  # no database yet: the round fails, the thread stays
    try:
        wait_for(lambda: runner.alive)
        with Store.open(db_path) as s:
            new_case(s)
        runner.wake()
        wait_for(lambda: delivered == ["LP-000001"])
    finally:
        runner.stop()
