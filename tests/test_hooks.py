"""Hooks tell other systems about new cases: a real command, a real local HTTP server."""

from __future__ import annotations

import http.server
import json
import shlex
import sys
import threading
from datetime import UTC, datetime, timedelta
from typing import ClassVar

import pytest

from smsbridge.config import Config
from smsbridge.hooks import HookRunner
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
    assert payload["reporter"] == "+62812****7110"
    [(attempts, done_at, error, _)] = hooks(store)
    assert attempts == 0 and done_at and error is None


def test_reveal_numbers_gives_the_full_number(tmp_path, store):
    out = tmp_path / "hook.json"
    command = f"cat > {shlex.quote(str(out))}"
    cfg = Config().replace(hook={"command": command, "reveal_numbers": True})
    new_case(store)
    HookRunner(cfg, store.path).run_due(store)
    assert json.loads(out.read_text())["reporter"] == "+6281234567110"


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
