"""Tell other systems about new cases: a command and/or an HTTP URL per case.

The hook queue lives in the database (a row per new case, written in the same
transaction as the case), so a hook survives restarts and is retried with backoff.
The runner is a thread of its own with its own database connection: a slow or
hanging hook can never hold up reception, which stays on the modem's thread, and
nothing a hook does can end that thread: whatever goes wrong with one hook is that
hook's failure, retried and given up like any other.

A command runs in a session of its own, so a timeout kills everything it started
(``sh -c 'slow & slower'`` included), not only the shell.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import subprocess
import threading
import urllib.error
import urllib.request
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from smsbridge.clock import Clock, SystemClock
from smsbridge.config.sections import Config, HookConfig
from smsbridge.errors import HookFailed, SmsBridgeError
from smsbridge.models import Case, to_iso
from smsbridge.privacy import mask_number
from smsbridge.retry import RetryPolicy
from smsbridge.sealing.keys import MaskOnly
from smsbridge.store import Store

log = logging.getLogger(__name__)

IDLE_WAIT = 5.0
# A failed hook is tried again after 30 s, 1 min, 2 min, … up to an hour apart.
BACKOFF = RetryPolicy(base=30.0, cap=3600.0)
# How long a killed command's group gets to let go of our pipes before we stop reading.
KILL_GRACE = 5.0


def case_payload(case: Case) -> dict[str, Any]:
    """What a hook receives of a case: never the reporter's number, only its mask."""
    return {
        "ticket": case.ticket,
        "status": case.status,
        "reporter": mask_number(case.reporter),
        "channel": case.channel,
        "text": case.text,
        "received_at": case.received_at,
        "incomplete": case.incomplete,
        "flags": list(case.flags),
        "urgent": case.urgent,
    }


def run_command(command: str, payload: bytes, timeout: float) -> None:
    """Run ``command`` with the case's JSON on stdin; HookFailed unless it exits 0 in time.

    It leads a new session (hence a process group of its own): on timeout the whole
    group is killed and reaped, so nothing it started outlives it.
    """
    try:
        proc = subprocess.Popen(command, shell=True, stdin=subprocess.PIPE,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                start_new_session=True)
    except OSError as exc:
        raise HookFailed(f"hook command could not run: {exc}") from None
    try:
        _, stderr = proc.communicate(payload, timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(proc)
        raise HookFailed(f"hook command timed out after {timeout:g} s") from None
    except BaseException:
        _kill_group(proc)
        raise
    if proc.returncode != 0:
        err = stderr.decode("utf-8", "replace").strip().splitlines()
        raise HookFailed(f"hook command exited {proc.returncode}"
                         + (f": {err[-1][:200]}" if err else ""))


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    # The group's id is the leader's pid, which cannot be reused while it is unreaped.
    with contextlib.suppress(ProcessLookupError):  # every member is gone already
        os.killpg(proc.pid, signal.SIGKILL)
    try:
        proc.communicate(timeout=KILL_GRACE)
    except subprocess.TimeoutExpired:
        # Something left the group (setsid) holding our pipe: stop reading, reap ours.
        for pipe in (proc.stdin, proc.stderr):
            if pipe:
                pipe.close()
        proc.wait()


def post_json(url: str, payload: bytes, timeout: float) -> None:
    request = urllib.request.Request(url, data=payload, method="POST",
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            if response.status >= 300:
                raise HookFailed(f"hook URL answered HTTP {response.status}")
    except urllib.error.HTTPError as exc:
        raise HookFailed(f"hook URL answered HTTP {exc.code}") from None
    except (urllib.error.URLError, OSError) as exc:
        raise HookFailed(f"hook URL unreachable: {exc}") from None


Deliver = Callable[[HookConfig, bytes], None]


def deliver(cfg: HookConfig, payload: bytes) -> None:
    """Hand one case's JSON to the configured command, then to the URL."""
    if cfg.command:
        run_command(cfg.command, payload, cfg.timeout_seconds)
    if cfg.url:
        post_json(cfg.url, payload, cfg.timeout_seconds)


class HookRunner:
    """Runs due hooks on a thread of its own. ``deliver`` hands one payload to the
    other system (default: the configured command and URL)."""

    def __init__(self, config: Config, db_path: str, *, clock: Clock | None = None,
                 backoff: RetryPolicy = BACKOFF, deliver: Deliver = deliver):
        self.config = config
        self._db_path = db_path
        self.clock = clock or SystemClock()
        self.backoff = backoff
        self._deliver = deliver
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def enabled(self) -> bool:
        return bool(self.config.hook.command or self.config.hook.url)

    def reconfigure(self, config: Config) -> None:
        self.config = config
        self.wake()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="hooks", daemon=True)
        self._thread.start()

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread:
            self._thread.join(timeout=self.config.hook.timeout_seconds + KILL_GRACE + 5)

    def _run(self) -> None:
        store: Store | None = None
        try:
            while not self._stop.is_set():
                if self.enabled:
                    try:
                        # The daemon made the database; the runner only uses it, and
                        # opens it again on the next round if it could not this time.
                        if store is None:
                            # Without the keys: what the hooks read are masks.
                            store = Store.open(
                                self._db_path, create=False, sealer=MaskOnly(),
                                busy_timeout=self.config.database.busy_timeout,
                                clock=self.clock)
                        self.run_due(store)
                    except Exception as exc:  # the thread must outlive any one round
                        log.error("hook runner: %s", _reason(exc))
                self._wake.wait(IDLE_WAIT)
                self._wake.clear()
        finally:
            if store is not None:
                store.close()

    def run_due(self, store: Store) -> int:
        """Run every hook that is due; return how many ran (successfully or not)."""
        cfg = self.config.hook
        count = 0
        for hook_id, attempts, case in store.hooks.due(at=to_iso(self.clock.now())):
            if self._stop.is_set():
                break
            count += 1
            try:
                data = case_payload(case)
                alert = store.hooks.alert_of(hook_id)
                if alert:
                    data["alert"] = alert  # the desk must act (a verification word locked)
                payload = json.dumps(data, ensure_ascii=False).encode()
                self._deliver(cfg, payload)
            except Exception as exc:  # one hook's trouble, whatever it is, is its own
                self._failed(store, hook_id, attempts + 1, case.ticket, _reason(exc))
                continue
            store.hooks.done(hook_id, at=to_iso(self.clock.now()))
        for alert_id, attempts, data in store.hooks.due_alerts(at=to_iso(self.clock.now())):
            if self._stop.is_set():
                break
            count += 1
            try:
                self._deliver(cfg, json.dumps(data, ensure_ascii=False).encode())
            except Exception as exc:  # as a case's hook: its own trouble, retried
                self._alert_failed(store, alert_id, attempts + 1, _reason(exc))
                continue
            store.hooks.alerts.done(alert_id, done_at=to_iso(self.clock.now()))
        return count

    def _alert_failed(self, store: Store, alert_id: int, tries: int, reason: str) -> None:
        if tries >= self.config.hook.max_attempts:
            store.hooks.alerts.gave_up(alert_id, reason, attempts=tries)
            log.error("hook alert %d given up after %d attempts: %s", alert_id, tries, reason)
        else:
            next_at = to_iso(self.clock.now()
                             + timedelta(seconds=self.backoff.delay(tries)))
            store.hooks.alerts.retry(alert_id, reason, attempts=tries, next_at=next_at)
            log.warning("hook alert %d failed (attempt %d): %s", alert_id, tries, reason)

    def _failed(self, store: Store, hook_id: int, tries: int, ticket: str,
                reason: str) -> None:
        if tries >= self.config.hook.max_attempts:
            store.hooks.gave_up(hook_id, reason, attempts=tries)
            log.error("hook for case %s given up after %d attempts: %s", ticket, tries,
                      reason)
        else:
            delay = self.backoff.delay(tries)
            next_at = to_iso(self.clock.now() + timedelta(seconds=delay))
            store.hooks.retry(hook_id, reason, attempts=tries, next_at=next_at)
            log.warning("hook for case %s failed (attempt %d): %s", ticket, tries, reason)


def _reason(exc: Exception) -> str:
    """Our errors say what happened; anything else is named, being a surprise."""
    if isinstance(exc, SmsBridgeError):
        return str(exc)
    return f"unexpected {type(exc).__name__}: {exc}"
