"""The one thread that ever touches a gammu StateMachine (STYLE.md example 6).

python-gammu's ``worker.py`` pattern: every gammu call is a job put on this thread's
queue, and the caller waits for its result with a deadline. A call stuck inside
libgammu cannot be interrupted, so the caller gives up waiting instead (the thread is a
daemon thread, abandoned with its StateMachine). Knows nothing of gammu itself.
"""

from __future__ import annotations

import os
import queue
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any, TypeVar

T = TypeVar("T")

# While a call runs, how often to look whether the device node still exists. libgammu
# ignores read errors from a port whose USB device was reset and waits out its own
# timeout (a minute for SendSMS); the node disappearing says so at once.
_GONE_CHECK = 0.25


class DeviceGone(Exception):
    """The device node disappeared while libgammu was using it."""


class OwnerThread:
    """The one thread that ever touches a StateMachine: callers submit jobs and wait."""

    def __init__(self, name: str) -> None:
        self._jobs: queue.Queue[tuple[Callable[[], Any], Future] | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    @property
    def thread(self) -> threading.Thread:
        return self._thread

    def call(self, job: Callable[[], T], timeout: float,
             gone: Callable[[], bool] = lambda: False) -> T:
        """The job's result; FutureTimeout after ``timeout`` s, DeviceGone when
        ``gone()`` turns true while the job runs."""
        if threading.current_thread() is self._thread:
            # A gammu callback calling gammu again: libgammu forbids it, and here it
            # would also deadlock waiting for itself.
            raise RuntimeError("gammu must not be called from the owner thread's callbacks")
        future: Future = Future()
        self._jobs.put((job, future))
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            try:
                return future.result(min(max(remaining, 0), _GONE_CHECK))
            except FutureTimeout:
                if remaining <= _GONE_CHECK:
                    raise
                if gone():
                    raise DeviceGone() from None

    def stop(self, timeout: float) -> None:
        self._jobs.put(None)
        self._thread.join(timeout)

    def _run(self) -> None:
        while (item := self._jobs.get()) is not None:
            job, future = item
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(job())
            except BaseException as exc:  # handed to the caller, who raises it
                future.set_exception(exc)


def load_defaults(sm: Any) -> None:
    """Fill a fresh StateMachine's configuration with libgammu's defaults.

    A fresh StateMachine leaves the settings python-gammu's SetConfig does not expose
    zeroed, CNMIParams among them; the AT driver then refuses SetIncomingSMS
    (ERR_NOTSUPPORTED) and no +CMTI is ever announced. Only ReadConfig sets them
    (to "auto"), and it reads a file: an empty [gammu] section is enough.
    """
    with tempfile.TemporaryDirectory(prefix="smsbridge-gammu-") as directory:
        path = os.path.join(directory, "gammurc")
        with open(path, "w", encoding="ascii") as f:
            f.write("[gammu]\n")
        sm.ReadConfig(Section=0, Configuration=0, Filename=path)
