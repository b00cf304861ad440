"""The smsbridge process: one worker per modem, signals, sd_notify, logging.

Each modem of the pool has a worker (``pool/worker.py``): a thread that owns its port, its
Session and its own store connection, drains, sends and reconnects by itself. The
main thread only supervises: it restarts a worker whose thread died, feeds systemd's
watchdog only while every worker shows signs of life, summarises the pool in STATUS=,
and applies SIGHUP reloads. The hook runner has a thread of its own and never touches
a modem.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from typing import ClassVar

from smsbridge.clock import Clock, SystemClock
from smsbridge.config import load as config_mod
from smsbridge.errors import DatabaseError, SmsBridgeError
from smsbridge.hooks import HookRunner
from smsbridge.models import to_iso
from smsbridge.modem.base import Modem
from smsbridge.modem.factory import make_modem
from smsbridge.pool.stick import Board
from smsbridge.pool.worker import HEARTBEAT_SECONDS, Worker, describe
from smsbridge.privacy import neutralise
from smsbridge.retention import DailyRetention
from smsbridge.sdnotify import Notifier
from smsbridge.sealing.door import socket_path
from smsbridge.sealing.run import Sealing
from smsbridge.sealing.server import Door
from smsbridge.store import Store

log = logging.getLogger(__name__)

# How often the main thread looks at its workers, signals and the watchdog.
TICK = 0.5
# A worker's thread that died (a bug) is started again after this pause.
RESTART_PAUSE = 5.0
# STATUS= and the backlog it shows are refreshed at least this often.
STATUS_SECONDS = 30.0
# How long a stop waits for a worker to finish its step (a send takes seconds).
STOP_WAIT = 60.0



class JournalFormatter(logging.Formatter):
    """``<N>`` syslog priority prefixes (sd-daemon(3)), so journalctl -p filters work;
    the journal adds the time and the unit itself."""

    PRIORITY: ClassVar[dict[int, int]] = {
        logging.DEBUG: 7, logging.INFO: 6, logging.WARNING: 4, logging.ERROR: 3,
        logging.CRITICAL: 2}

    def format(self, record: logging.LogRecord) -> str:
        priority = self.PRIORITY.get(record.levelno, 6)
        # One event, one journal line: a multi-line message would become several entries;
        # and whatever a sender put in a text that reaches a log line (ESC, CR, bidi
        # marks) is shown, never acted on by whoever reads the journal.
        text = neutralise(super().format(record).replace("\r\n", "\n").replace("\n", " | "))
        return f"<{priority}>{text}"


class ModemTag(logging.Filter):
    """Names the modem on every line its worker logs (``smsbridge.bridge[tsel-1]: …``),
    so the journal of a pool says which stick each event happened on."""

    def filter(self, record: logging.LogRecord) -> bool:
        thread = threading.current_thread().name
        record.modem = f"[{thread[6:]}]" if thread.startswith("modem ") else ""
        return True


def setup_logging(level: str, *, name_modems: bool = False) -> None:
    """stderr, one line per event; with ``name_modems`` (a pool of several), each
    line a worker logs names its modem."""
    handler = logging.StreamHandler(sys.stderr)
    where = "%(name)s%(modem)s" if name_modems else "%(name)s"
    if name_modems:
        handler.addFilter(ModemTag())
    if os.environ.get("JOURNAL_STREAM"):
        handler.setFormatter(JournalFormatter(f"{where}: %(message)s"))
    else:
        handler.setFormatter(logging.Formatter(f"%(asctime)s %(levelname)s {where}: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)


class Daemon:
    # The process's own resources, made by run() and kept until it returns.
    store: Store
    hooks: HookRunner

    def __init__(self, config: config_mod.Config, *,
                 modem_factory: Callable[..., Modem] = make_modem,
                 reload: Callable[[], config_mod.Config] | None = None,
                 notifier: Notifier | None = None, clock: Clock | None = None):
        self.config = config
        # The process's one clock: the stores, the bridges and the hooks get this one.
        self.clock = clock or SystemClock()
        self._modem_factory = modem_factory
        self._reload = reload
        self.notifier = notifier or Notifier()
        self._stop = threading.Event()
        self._reload_requested = False
        self._ready_sent = False
        self._next_watchdog = 0.0
        self.board = Board()
        self.workers: dict[str, Worker] = {}
        # Workers being replaced (their modem's settings changed on reload): the new one
        # starts once the old one let go of the port.
        self._replacing: list[tuple[Worker, config_mod.ModemConfig]] = []
        self._restart_at: dict[str, float] = {}
        self._last_status = ""
        self._status_at = 0.0
        self._next_beat = 0.0
        self._backlog = 0

    def _utc(self) -> str:
        return to_iso(self.clock.now())

    # -- signals ------------------------------------------------------------------------

    def install_signal_handlers(self) -> None:
        signal.signal(signal.SIGTERM, lambda *_: self.stop())
        signal.signal(signal.SIGINT, lambda *_: self.stop())
        signal.signal(signal.SIGHUP, lambda *_: self.request_reload())

    def stop(self) -> None:
        self._stop.set()

    def request_reload(self) -> None:
        self._reload_requested = True

    # -- the process --------------------------------------------------------------------

    def run(self) -> int:
        """Run until stopped; the exit code for the process."""
        self.store = Store.from_config(self.config, create=True, clock=self.clock)
        names = [m.name for m in self.config.pool_modems]
        self._state(pid=os.getpid(), started_at=self._utc(), stopped_at=None, last_error=None,
                    set_aside_count=0, reply_budget_spent=None, modems=",".join(names),
                    heartbeat=self._utc())
        self.hooks = HookRunner(self.config, self.store.path, clock=self.clock)
        self.hooks.start()
        log.info("smsbridge daemon started (pid %d, database %s, %s)", os.getpid(),
                 self.config.database.path,
                 ", ".join(f"{m.name} on {m.port} via {m.backend} ({m.role})"
                           for m in self.config.pool_modems))
        exposed = config_mod.exposed_secrets(self.config)
        if exposed:
            log.warning("%s", exposed)
        if self.config.hook.reveal_numbers:
            log.warning("[hook] reveal_numbers is ignored: a hook never gets a reporter's "
                        "number, only its mask")
        self.keys = self.store.db.sealer.keys  # type: ignore[union-attr]
        self.retention = self._start_retention()
        self.sealing = Sealing(self.store, self.keys, self.clock)
        self.door = self._open_door()
        try:
            for modem_config in self.config.pool_modems:
                self._start_worker(modem_config)
            while not self._stop.is_set():
                if self._reload_requested:
                    self._do_reload()
                self._supervise()
                self._report()
                self._retain()
                self._seal()
                self._stop.wait(TICK)
        finally:
            self.notifier.notify(STOPPING=1, STATUS="stopping")
            for worker in self.workers.values():
                worker.stop()
            deadline = time.monotonic() + STOP_WAIT
            for worker in self.workers.values():
                worker.join(max(0.0, deadline - time.monotonic()))
            self.hooks.stop()
            if self.door is not None:
                self.door.stop()
            self._report()
            self._state(stopped_at=self._utc(), pid=None)
            self.store.close()
            log.info("smsbridge daemon stopped")
        return 0

    def _start_retention(self) -> DailyRetention:
        """[retention]'s daily job; its pseudonyms are the numbers' tokens."""
        return DailyRetention(self.store, self.config, self.clock, self.keys.hash_key)

    def _open_door(self) -> Door | None:
        """The socket operators' commands ask for what needs the keys; without it the
        line runs on, and those commands say the daemon does not answer."""
        door = Door(socket_path(self.config),
                    lambda: Store.from_config(self.config, create=False, clock=self.clock),
                    self.keys, country_code=self.config.daemon.country_code,
                    lookups_per_hour=self.config.privacy.lookups_per_hour)
        try:
            door.start()
        except (OSError, SmsBridgeError) as exc:
            self._error(f"door closed: {exc}")
            return None
        return door

    def _seal(self) -> None:
        """One batch of the sealing of rows written before version 15, while any is
        left: a short transaction per turn of the loop."""
        try:
            self.sealing.tick()
        except DatabaseError as exc:
            self._error(f"sealing: {exc}")

    def _retain(self) -> None:
        """One batch of retention when due: a short transaction per turn of the loop."""
        if self.retention is None:
            return
        try:
            self.retention.tick()
        except DatabaseError as exc:
            self._error(f"retention: {exc}")

    def _start_worker(self, modem_config: config_mod.ModemConfig) -> Worker:
        worker = Worker(modem_config, self.config, clock=self.clock, board=self.board,
                        modem_factory=self._modem_factory, new_cases=self.hooks.wake)
        self.workers[modem_config.name] = worker
        worker.start()
        return worker

    def _supervise(self) -> None:
        """Start what should run: replacements whose predecessor let go of its port, and
        workers whose thread died (a bug: logged, started again after a pause)."""
        now = time.monotonic()
        for old, modem_config in list(self._replacing):
            if not old.alive:
                self._replacing.remove((old, modem_config))
                self.workers.pop(old.name, None)
                self._start_worker(modem_config)
        replacing = {old.name for old, _ in self._replacing}
        for name, worker in list(self.workers.items()):
            if worker.alive or name in replacing or self._stop.is_set():
                continue
            if name not in self._restart_at:
                log.error("the worker of %s stopped (%s); starting it again in %gs", name,
                          worker.health.last_error or "no error recorded", RESTART_PAUSE)
                self._restart_at[name] = now + RESTART_PAUSE
            elif now >= self._restart_at.pop(name):
                self._start_worker(worker.modem_config)

    def _report(self) -> None:
        """The watchdog, READY, STATUS= and what ``status`` reads, from this thread."""
        now = time.monotonic()
        workers = list(self.workers.values())
        # A worker being replaced on reload is still among them until it has finished
        # its step and let go of its port: it counts like the others meanwhile.
        if all(w.responsive(now) for w in workers):
            self._watchdog()
        elif any(not w.responsive(now) and w.alive for w in workers):
            # A worker stuck in one step for longer than any command may take: no more
            # WATCHDOG=1, so systemd restarts the process (a thread cannot be killed).
            stuck = [w.name for w in workers if w.alive and not w.responsive(now)]
            self._error(f"worker(s) not responding: {', '.join(stuck)}")
        if not self._ready_sent and any(w.health.state == "ready" for w in workers):
            self.notifier.notify(READY=1, STATUS="modem ready")
            self._ready_sent = True
        if now >= self._next_beat:
            self._state(heartbeat=self._utc())
            self._next_beat = now + HEARTBEAT_SECONDS
            with contextlib.suppress(DatabaseError):  # the last one stands meanwhile
                self._backlog = self.store.outbox.backlog()
            self._state(backlog=self._backlog)
        # A modem's state shows at once; the backlog as of the last heartbeat.
        status = describe(workers, self._backlog)
        if status != self._last_status or now - self._status_at >= STATUS_SECONDS:
            self.notifier.notify(STATUS=status)
            self._last_status, self._status_at = status, now

    def _state(self, **values: object) -> None:
        """Record what ``smsbridge status`` shows (it reads this from the database).

        Best effort: when the database cannot be written (disk full), the workers' own
        writes fail and are retried; the status line must not take the loop down.
        """
        try:
            self.store.state.update(
                {k: None if v is None else str(v) for k, v in values.items()})
        except DatabaseError as exc:
            log.debug("daemon state not recorded: %s", exc)

    def _error(self, message: str) -> None:
        state = self.store.state
        try:
            if state.read().get("last_error") == message:
                return
        except DatabaseError:
            pass
        log.error("%s", message)
        self._state(last_error=message, last_error_at=self._utc())

    def _watchdog(self) -> None:
        interval = self.notifier.watchdog_interval
        now = time.monotonic()
        if interval and now >= self._next_watchdog:
            self.notifier.notify(WATCHDOG=1)
            self._next_watchdog = now + interval

    def _do_reload(self) -> None:
        """Take the reloaded config: workers whose modem settings are unchanged take it
        at their next turn; a changed or new modem gets a new worker (the old one first
        lets go of its port); a removed one stops. A failing modem's next connection
        uses the new settings: that is how a corrected SIM PIN gets tried."""
        self._reload_requested = False
        if self._reload is None:
            return
        try:
            new = self._reload()
        except SmsBridgeError as exc:
            log.error("config not reloaded, keeping the old one: %s", exc)
            return
        self.config = new
        logging.getLogger().setLevel(new.logging.level)
        self.hooks.reconfigure(new)
        if self.retention is not None:
            self.retention.reconfigure(new)
        wanted = {m.name: m for m in new.pool_modems}
        for name, worker in list(self.workers.items()):
            if name not in wanted:
                log.info("%s is no longer configured: stopping its worker", name)
                worker.stop()
                self._replacing = [r for r in self._replacing if r[0] is not worker]
                self.workers.pop(name)
                self.board.forget(name)
            elif wanted[name] != worker.modem_config:
                log.info("%s: modem settings changed, reconnecting", name)
                worker.stop()
                self._replacing.append((worker, wanted[name]))
            else:
                worker.reconfigure(new)
        for name, modem_config in wanted.items():
            if name not in self.workers:
                self._start_worker(modem_config)
        self._state(modems=",".join(wanted))
        log.info("config reloaded from %s", new.source or "defaults")
