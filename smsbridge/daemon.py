"""The smsbridge process: the main loop, signals, reconnects, sd_notify, logging.

One thread owns the modem and runs the loop below; each turn it drains the
modem's storage when a +CMTI came or the poll timer ran out, sends at most ONE
reply (sending takes seconds; draining between two sends keeps the SIM from
filling), then waits for the modem's next event. The hook runner has a thread of
its own and never touches the modem.
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
from dataclasses import dataclass
from typing import ClassVar

from smsbridge import config as config_mod
from smsbridge.bridge import Bridge
from smsbridge.clock import Clock, SystemClock
from smsbridge.errors import DatabaseError, ModemError, SmsBridgeError
from smsbridge.hooks import HookRunner
from smsbridge.models import to_iso
from smsbridge.modem.base import Modem, ModemStatus, NewMessage, NewStatusReport, OtherEvent
from smsbridge.modem.factory import make_modem
from smsbridge.privacy import mask_numbers_in, neutralise
from smsbridge.retry import RetryPolicy
from smsbridge.sdnotify import Notifier
from smsbridge.store import Store

log = logging.getLogger(__name__)

HOUSEKEEPING_SECONDS = 60.0
MODEM_STATUS_SECONDS = 60.0
HEARTBEAT_SECONDS = 5.0
# Longest single wait for the modem, so that signals and the watchdog are served promptly.
MAX_WAIT = 1.0
# Waits after a database error: 1 s, doubling up to 30 s. Reconnecting to the modem
# doubles from 1 s up to [daemon] reconnect_max_seconds.
DB_BACKOFF = RetryPolicy(base=1.0, cap=30.0)


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


def setup_logging(level: str) -> None:
    """stderr, one line per event."""
    handler = logging.StreamHandler(sys.stderr)
    if os.environ.get("JOURNAL_STREAM"):
        handler.setFormatter(JournalFormatter("%(name)s: %(message)s"))
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)


@dataclass
class Session:
    """One connection to the modem: what exists only while it answers. A reconnect
    makes a new one, so nothing of a dead connection is ever used again."""

    modem: Modem
    bridge: Bridge


class Daemon:
    # The process's own resources, made by run() and kept until it returns.
    store: Store
    hooks: HookRunner

    def __init__(self, config: config_mod.Config, *,
                 modem_factory: Callable[..., Modem] = make_modem,
                 reload: Callable[[], config_mod.Config] | None = None,
                 notifier: Notifier | None = None, clock: Clock | None = None):
        self.config = config
        # The process's one clock: the store, the bridge and the hooks get this one.
        self.clock = clock or SystemClock()
        self._modem_factory = modem_factory
        self._reload = reload
        self.notifier = notifier or Notifier()
        self._stop = threading.Event()
        self._reload_requested = False
        self._ready_sent = False
        self._last_error: str | None = None
        self._set_aside_count = 0
        self._over_budget: str | None = None
        # sim.fingerprint() of a PIN the SIM refused: kept in the database, so neither a
        # reconnect nor a restart sends it again (a third wrong PIN locks the SIM).
        self._refused_pin: str | None = None
        self._next_watchdog = 0.0

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
        self._refused_pin = self.store.state.read().get("sim_pin_refused")
        self._state(pid=os.getpid(), started_at=self._utc(), stopped_at=None, last_error=None,
                    set_aside_count=0, reply_budget_spent=None,
                    modem=None, heartbeat=self._utc())
        self.hooks = HookRunner(self.config, self.store.path, clock=self.clock)
        self.hooks.start()
        log.info("smsbridge daemon started (pid %d, database %s, modem %s via %s)",
                 os.getpid(), self.config.database.path, self.config.modem.port,
                 self.config.modem.backend)
        exposed = config_mod.exposed_secrets(self.config)
        if exposed:
            log.warning("%s", exposed)
        failures = 0
        try:
            while not self._stop.is_set():
                if self._reload_requested:
                    self._do_reload(None)
                modem: Modem | None = None
                try:
                    modem = self._modem_factory(self.config.modem, refused_pin=self._refused_pin)
                    session = self._connect(modem)
                    failures = 0
                    self._serve(session)
                except ModemError as exc:
                    if modem is not None:
                        self._remember_refused_pin(modem)
                    self._error(f"modem: {exc}")
                    self.notifier.notify(STATUS=f"modem unavailable, retrying: {exc}")
                    # Let go of the port before waiting: the stick may come back on it.
                    if modem is not None:
                        self._close(modem)
                        modem = None
                    failures += 1
                    reconnect = RetryPolicy(1.0, self.config.daemon.reconnect_max_seconds)
                    self._pause(reconnect.delay(failures))
                finally:
                    if modem is not None:
                        self._close(modem)
        finally:
            self.notifier.notify(STOPPING=1, STATUS="stopping")
            self.hooks.stop()
            self._state(stopped_at=self._utc(), pid=None)
            self.store.close()
            log.info("smsbridge daemon stopped")
        return 0

    def _state(self, **values: object) -> None:
        """Record what ``smsbridge status`` shows (it reads this from the database).

        Best effort: when the database cannot be written (disk full), the job's own
        writes fail and are retried; the status line must not take the loop down.
        """
        try:
            self.store.state.update(
                {k: None if v is None else str(v) for k, v in values.items()})
        except DatabaseError as exc:
            log.debug("daemon state not recorded: %s", exc)

    def _watchdog(self) -> None:
        interval = self.notifier.watchdog_interval
        now = time.monotonic()
        if interval and now >= self._next_watchdog:
            self.notifier.notify(WATCHDOG=1)
            self._next_watchdog = now + interval

    def _pause(self, seconds: float) -> None:
        """Wait (cut short by stop or a reload) while still telling systemd's watchdog we
        are alive: a vanished modem is a state we handle, not a hang to be restarted."""
        deadline = time.monotonic() + seconds
        while (not self._stop.is_set() and not self._reload_requested
               and (left := deadline - time.monotonic()) > 0):
            self._watchdog()
            self._stop.wait(min(left, MAX_WAIT))

    def _remember_refused_pin(self, modem: Modem) -> None:
        if modem.refused_pin and modem.refused_pin != self._refused_pin:
            self._refused_pin = modem.refused_pin
            self._state(sim_pin_refused=self._refused_pin, sim_pin_refused_at=self._utc())

    def _record_set_aside(self, bridge: Bridge) -> None:
        """Tell ``status`` about items the bridge set aside (the line went on), and
        whether the line's reply budget is spent."""
        reasons = bridge.take_set_aside()
        if reasons:
            count = self._set_aside_count + len(reasons)
            self._set_aside_count = count
            self._state(set_aside_count=count, last_set_aside=reasons[-1],
                        last_set_aside_at=self._utc())
        if bridge.over_budget != self._over_budget:
            self._over_budget = bridge.over_budget
            self._state(reply_budget_spent=self._over_budget)

    def _error(self, message: str, *, exc_info: BaseException | None = None) -> None:
        # Log a failure once, not every second while it lasts.
        if message != self._last_error:
            log.error("%s", message, exc_info=exc_info)
            self._last_error = message
            self._state(last_error=message, last_error_at=self._utc())

    def _connect(self, modem: Modem) -> Session:
        modem.open()
        session = Session(modem, Bridge(modem, self.store, self.config, clock=self.clock))
        if self._last_error:
            log.info("modem is back")
        self._last_error = None
        status = self._refresh_modem_status(modem)
        log.info("modem ready: %s %s, signal %s dBm, storage %s/%s",
                 status.manufacturer or "?", status.model or "?",
                 status.signal_dbm if status.signal_dbm is not None else "?",
                 status.storage_used, status.storage_total)
        if not self._ready_sent:
            self.notifier.notify(READY=1, STATUS="modem ready")
            self._ready_sent = True
        return session

    @staticmethod
    def _close(modem: Modem) -> None:
        with contextlib.suppress(SmsBridgeError):
            modem.close()

    def _refresh_modem_status(self, modem: Modem) -> ModemStatus:
        status = modem.status()
        backlog = self.store.outbox.backlog()
        self._state(
            modem=" ".join(filter(None, [status.manufacturer, status.model])) or None,
            signal_dbm=status.signal_dbm, registration=status.registration,
            operator=status.operator, storage_used=status.storage_used,
            storage_total=status.storage_total, backlog=backlog, modem_checked_at=self._utc())
        self.notifier.notify(STATUS=(
            f"signal {status.signal_dbm if status.signal_dbm is not None else '?'} dBm, "
            f"storage {status.storage_used}/{status.storage_total}, backlog {backlog}"))
        return status

    def _do_reload(self, session: Session | None) -> None:
        """Take the reloaded config; with no modem connected (it is failing), the next
        connection uses it: that is how a corrected SIM PIN gets tried."""
        self._reload_requested = False
        if self._reload is None:
            return
        try:
            new = self._reload()
        except SmsBridgeError as exc:
            log.error("config not reloaded, keeping the old one: %s", exc)
            return
        modem_changed = new.modem != self.config.modem
        self.config = new
        logging.getLogger().setLevel(new.logging.level)
        if session is not None:
            session.bridge.reconfigure(new)
        self.hooks.reconfigure(new)
        log.info("config reloaded from %s", new.source or "defaults")
        if modem_changed and session is not None:
            raise ModemError("modem settings changed: reconnecting")

    def _serve(self, session: Session) -> None:
        bridge, modem = session.bridge, session.modem
        mono = time.monotonic
        need_drain = True  # whatever arrived while we were away
        next_poll = next_housekeeping = next_status = next_beat = 0.0
        db_failures = 0
        while not self._stop.is_set():
            if self._reload_requested:
                self._do_reload(session)
            now = mono()
            try:
                if need_drain or now >= next_poll:
                    result = bridge.drain()
                    need_drain = False
                    next_poll = now + self.config.daemon.poll_seconds
                    self._state(last_poll=self._utc())
                    if result.listed:
                        log.debug("drained %d message(s), %d new case(s)", result.listed,
                                  len(result.new_cases))
                    if result.new_cases:
                        self.hooks.wake()
                if now >= next_housekeeping:
                    bridge.expire_parts()
                    next_housekeeping = now + HOUSEKEEPING_SECONDS
                if now >= next_status:
                    self._refresh_modem_status(modem)
                    next_status = now + MODEM_STATUS_SECONDS
                sent = bridge.send_one()
                self._record_set_aside(bridge)
                db_failures = 0
            except DatabaseError as exc:
                # Disk full, database locked for too long, read-only file: nothing was
                # deleted from the modem (drain deletes only after a commit), so wait and
                # try again; the modem keeps the messages meanwhile.
                self._error(f"database: {exc} (messages stay on the modem)")
                need_drain = True
                db_failures += 1
                self._pause(DB_BACKOFF.delay(db_failures))
                continue
            except ModemError:
                raise
            except Exception as exc:
                # The bridge sets bad items aside itself; this is the last line of defence
                # against a bug: log it whole once, keep the watchdog fed, carry on.
                self._error(f"unexpected {type(exc).__name__}: {mask_numbers_in(str(exc))}",
                            exc_info=exc)
                need_drain = True
                db_failures += 1
                self._pause(DB_BACKOFF.delay(db_failures))
                continue
            if self._last_error and self._last_error.startswith("database"):
                log.info("database writable again")
                self._last_error = None
                self._state(last_error=None)
            due_in = bridge.next_send_due_in()
            wait = min(MAX_WAIT, max(0.0, next_poll - mono()))
            if sent or (due_in is not None and due_in == 0):
                wait = 0.0
            elif due_in is not None:
                wait = min(wait, due_in)
            for event in modem.poll_events(wait):
                if isinstance(event, (NewMessage, NewStatusReport)):
                    need_drain = True
                elif isinstance(event, OtherEvent):
                    # +CLIP and the like carry a caller's number: never log it whole.
                    log.debug("modem event: %s", mask_numbers_in(event.line))
            now = mono()
            self._watchdog()
            if now >= next_beat:
                self._state(heartbeat=self._utc())
                next_beat = now + HEARTBEAT_SECONDS
