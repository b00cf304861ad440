"""Tell other systems about new cases: a command and/or an HTTP URL per case.

The hook queue lives in the database (a row per new case, written in the same
transaction as the case), so a hook survives restarts and is retried with backoff.
The runner is a thread of its own with its own database connection: a slow or
hanging hook can never hold up reception, which stays on the modem's thread.
"""

from __future__ import annotations

import json
import logging
import subprocess
import threading
import urllib.error
import urllib.request
from datetime import timedelta
from typing import Any

from smsbridge.clock import Clock, SystemClock
from smsbridge.config import Config
from smsbridge.errors import SmsBridgeError
from smsbridge.models import Case, to_iso
from smsbridge.privacy import mask_number
from smsbridge.retry import RetryPolicy
from smsbridge.store import Store

log = logging.getLogger(__name__)

IDLE_WAIT = 5.0
# A failed hook is tried again after 30 s, 1 min, 2 min, … up to an hour apart.
BACKOFF = RetryPolicy(base=30.0, cap=3600.0)


class HookFailed(SmsBridgeError):
    pass


def case_payload(case: Case, *, reveal: bool) -> dict[str, Any]:
    return {
        "ticket": case.ticket,
        "status": case.status,
        "reporter": case.reporter if reveal else mask_number(case.reporter),
        "channel": case.channel,
        "text": case.text,
        "received_at": case.received_at,
        "incomplete": case.incomplete,
        "flags": list(case.flags),
    }


def run_command(command: str, payload: bytes, timeout: float) -> None:
    try:
        result = subprocess.run(command, shell=True, input=payload, capture_output=True,
                                timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise HookFailed(f"hook command timed out after {timeout:g} s") from None
    except OSError as exc:
        raise HookFailed(f"hook command could not run: {exc}") from None
    if result.returncode != 0:
        err = result.stderr.decode("utf-8", "replace").strip().splitlines()
        raise HookFailed(f"hook command exited {result.returncode}"
                         + (f": {err[-1][:200]}" if err else ""))


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


class HookRunner:
    def __init__(self, config: Config, db_path: str, *, clock: Clock | None = None,
                 backoff: RetryPolicy = BACKOFF):
        self.config = config
        self._db_path = db_path
        self.clock = clock or SystemClock()
        self.backoff = backoff
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

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread:
            self._thread.join(timeout=self.config.hook.timeout_seconds + 5)

    def _run(self) -> None:
        store = Store.open(self._db_path, busy_timeout=self.config.database.busy_timeout,
                           clock=self.clock)
        try:
            while not self._stop.is_set():
                if self.enabled:
                    try:
                        self.run_due(store)
                    except SmsBridgeError as exc:
                        log.error("hook runner: %s", exc)
                self._wake.wait(IDLE_WAIT)
                self._wake.clear()
        finally:
            store.close()

    def run_due(self, store: Store) -> int:
        """Run every hook that is due; return how many ran (successfully or not)."""
        cfg = self.config.hook
        count = 0
        for hook_id, attempts, case in store.hooks.due(at=to_iso(self.clock.now())):
            if self._stop.is_set():
                break
            payload = json.dumps(case_payload(case, reveal=cfg.reveal_numbers),
                                 ensure_ascii=False).encode()
            count += 1
            try:
                if cfg.command:
                    run_command(cfg.command, payload, cfg.timeout_seconds)
                if cfg.url:
                    post_json(cfg.url, payload, cfg.timeout_seconds)
            except HookFailed as exc:
                tries = attempts + 1
                if tries >= cfg.max_attempts:
                    store.hooks.gave_up(hook_id, str(exc), attempts=tries)
                    log.error("hook for case %s given up after %d attempts: %s", case.ticket,
                              tries, exc)
                else:
                    delay = self.backoff.delay(tries)
                    next_at = to_iso(self.clock.now() + timedelta(seconds=delay))
                    store.hooks.retry(hook_id, str(exc), attempts=tries, next_at=next_at)
                    log.warning("hook for case %s failed (attempt %d): %s", case.ticket,
                                tries, exc)
                continue
            store.hooks.done(hook_id, at=to_iso(self.clock.now()))
        return count
