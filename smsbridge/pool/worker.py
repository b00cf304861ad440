"""One worker per modem: the thread that owns its port, and the loop it runs.

A worker connects (a new Session per connection: the modem and the Bridge over it),
drains the modem's storage when a +CMTI came or the poll timer ran out, sends at most
ONE reply per turn when its role allows (sending takes seconds; draining between two
sends keeps the SIM from filling), then waits for the modem's next event. A modem that
vanishes, hangs or reboots raises ModemError here, and only here: the worker lets go of
the port, waits with backoff and connects again (hot-plug), while the other workers go
on. Each worker has its own store connection (sqlite3 connections are per thread).

The daemon's main thread reads each worker's :class:`Health` for the watchdog and
``smsbridge status``; workers tell each other, through the :class:`Board`, which of
them are up and may send, for the pool's routing (``routing.py``).
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta

from smsbridge.bridge import Bridge
from smsbridge.clock import Clock
from smsbridge.config.pool import normalize_prefix
from smsbridge.config.sections import Config, ModemConfig
from smsbridge.errors import (
    DatabaseError,
    ModemError,
    SmsBridgeError,
)
from smsbridge.models import to_iso
from smsbridge.modem.base import (
    Modem,
    ModemStatus,
    NewMessage,
    NewStatusReport,
    OtherEvent,
)
from smsbridge.modem.port import port_present
from smsbridge.pool import routing as pool
from smsbridge.pool.sending import Outcome, Sending
from smsbridge.pool.stick import Board, Stick
from smsbridge.privacy import mask_numbers_in, neutralise
from smsbridge.retry import RetryPolicy
from smsbridge.store import Store

log = logging.getLogger(__name__)

HOUSEKEEPING_SECONDS = 60.0
MODEM_STATUS_SECONDS = 60.0
HEARTBEAT_SECONDS = 5.0
# "last poll" is written at most this often: every poll would be a write a second.
POLL_NOTE_SECONDS = 3.0
# Longest single wait for the modem, so that a stop, a reload and replies queued by
# another worker (the receive modem's acknowledgements) are noticed within a second.
MAX_WAIT = 1.0
# Waits after a database error: 1 s, doubling up to 30 s. Reconnecting to the modem
# doubles from 1 s up to [daemon] reconnect_max_seconds.
DB_BACKOFF = RetryPolicy(base=1.0, cap=30.0)
# How often a worker re-counts its SIM's parts sent today against its daily cap.
CAP_CHECK_SECONDS = 60.0

ModemFactory = Callable[..., Modem]


@dataclass
class Session:
    """One connection to the modem: what exists only while it answers. A reconnect
    makes a new one, so nothing of a dead connection is ever used again."""

    modem: Modem
    bridge: Bridge  # what arrives: drained, stored, answered (queued)
    sending: Sending  # what goes out: claimed replies sent once


@dataclass
class Health:
    """What the main thread reads of a worker: plain attributes, each written whole."""

    state: str = "starting"  # starting, connecting, ready, down, stopped
    beat: float = 0.0  # time.monotonic() of the last sign of life
    last_error: str | None = None
    stalled_after: float = 120.0  # no sign of life for this long: the worker hangs
    signal_dbm: int | None = None
    storage: str = "?"  # "used/total" as the modem last said


class Worker:
    """The thread that owns one modem of the pool."""

    def __init__(self, modem_config: ModemConfig, config: Config, *, clock: Clock,
                 board: Board, modem_factory: ModemFactory,
                 new_cases: Callable[[], None]) -> None:
        self.modem_config = modem_config
        self.name = modem_config.name
        self.config = config
        self.clock = clock
        self.board = board
        self._modem_factory = modem_factory
        self._new_cases = new_cases
        self._stop = threading.Event()
        self._pending_config: Config | None = None
        self.health = Health(stalled_after=2 * max(modem_config.send_timeout,
                                                   modem_config.command_timeout,
                                                   modem_config.sim_busy_wait) + 30)
        self._thread: threading.Thread | None = None
        self._refused_pin: str | None = None
        self._over_budget: str | None = None
        self._pace = pool.Pace(modem_config.send_per_minute, modem_config.daily_cap)
        self._next_send = 0.0  # monotonic: the send rate allows the next send from then
        self._capped = False
        self._next_cap_check = 0.0
        self.stick = Stick(modem_config, clock)
        self._prefixes = tuple(p for p in (normalize_prefix(x, config.daemon.country_code)
                                           for x in modem_config.prefixes) if p)
        self.store: Store | None = None

    @property
    def sends(self) -> bool:
        return self.modem_config.role in ("send", "both")

    # -- the thread, as the daemon sees it ----------------------------------------------

    def start(self) -> None:
        self.health.beat = time.monotonic()
        # Counted on while it connects: the others leave it what is routed to it until
        # it fails (then it says so at once) or falls behind by the failover bound.
        self._publish(up=True)
        self._thread = threading.Thread(target=self._run, name=f"modem {self.name}",
                                        daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def join(self, timeout: float) -> None:
        if self._thread is not None:
            self._thread.join(timeout)

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def responsive(self, now: float) -> bool:
        """Alive, and not stuck in one step longer than any modem command may take."""
        return self.alive and now - self.health.beat < self.health.stalled_after

    def reconfigure(self, config: Config) -> None:
        """Take a reloaded config at the worker's next turn (its own thread applies it)."""
        self._pending_config = config

    # -- the thread's own side -------------------------------------------------------------

    def _run(self) -> None:
        try:
            self.store = Store.from_config(self.config, create=False, clock=self.clock)
        except SmsBridgeError as exc:
            self.health.last_error = f"database: {exc}"
            log.error("%s cannot open the database: %s", self.name, exc)
            self.health.state = "stopped"
            return
        try:
            self._refused_pin = self.store.state.read().get(self._key("sim_pin_refused"))
            self._state(role=self.modem_config.role, port=self.modem_config.port,
                        state="connecting", daily_cap=self.modem_config.daily_cap or None,
                        cannot_send=None, cannot_send_at=None)
            self._connect_loop()
        finally:
            self.health.state = "stopped"
            self.board.forget(self.name)
            self._state(state="stopped")
            self.store.close()

    def _connect_loop(self) -> None:
        failures = 0
        while not self._stop.is_set():
            self._take_config(None)
            modem: Modem | None = None
            try:
                self.health.state = "connecting"
                modem = self._modem_factory(self.modem_config, refused_pin=self._refused_pin)
                session = self._connect(modem)
                failures = 0
                self._serve(session)
            except ModemError as exc:
                if modem is not None:
                    self._remember_refused_pin(modem)
                self._down(f"modem: {exc}")
                # Let go of the port before waiting: the stick may come back on it.
                if modem is not None:
                    self._close(modem)
                    modem = None
                failures += 1
                reconnect = RetryPolicy(1.0, self.config.daemon.reconnect_max_seconds)
                self._pause(reconnect.delay(failures), back=self._port_back())
            finally:
                if modem is not None:
                    self._close(modem)

    def _connect(self, modem: Modem) -> Session:
        assert self.store is not None
        modem.open()
        bridge = Bridge(modem, self.store, self.config, clock=self.clock, name=self.name)
        sending = Sending(modem, self.store, self.config, name=self.name, clock=self.clock)
        session = Session(modem, bridge, sending)
        if self.health.last_error:
            log.info("%s is back", self.name)
        self.health.last_error = None
        status = self._refresh_status(modem)
        known = self.stick.check_identity(self.store, status, modem.status)
        log.info("%s ready: %s %s, signal %s dBm, storage %s/%s", self.name,
                 status.manufacturer or "?", status.model or "?",
                 status.signal_dbm if status.signal_dbm is not None else "?",
                 status.storage_used, status.storage_total)
        if self.sends and known is not pool.Known.NEW:
            # What this modem held when the process or the connection died; a stick
            # new on this name held nothing, and the slots are another stick's.
            sending.recover()
        self.health.state = "ready"
        self._state(state="ready", last_error=None)
        self._publish(up=True)
        return session

    def _down(self, message: str) -> None:
        self.health.state = "down"
        self._publish(up=False)
        self._error(message)
        self._state(state="down")

    def _publish(self, *, up: bool) -> None:
        if self.sends:
            self.board.publish(pool.Sender(self.name, self._prefixes, up=up,
                                           capped=self._capped,
                                           can_send=self.stick.health.can_send))

    def _key(self, key: str) -> str:
        return f"modem.{self.name}.{key}"

    def _state(self, **values: object) -> None:
        """Record what ``smsbridge status`` shows of this modem. Best effort: a
        database that cannot be written must not take the worker down."""
        if self.store is None:
            return
        try:
            self.store.state.update({self._key(k): None if v is None else str(v)
                                     for k, v in values.items()})
        except DatabaseError as exc:
            log.debug("%s state not recorded: %s", self.name, exc)

    def _error(self, message: str, *, exc_info: BaseException | None = None) -> None:
        # Log a failure once, not every second while it lasts.
        if message != self.health.last_error:
            log.error("%s: %s", self.name, message, exc_info=exc_info)
            self.health.last_error = message
            self._state(last_error=message, last_error_at=to_iso(self.clock.now()))

    def _pause(self, seconds: float, *, back: Callable[[], bool] | None = None) -> None:
        """Wait, cut short by a stop (or when ``back()`` says the port is back); a
        vanished modem is a state we handle, not a hang, so the worker keeps showing
        signs of life meanwhile."""
        deadline = time.monotonic() + seconds
        while not self._stop.is_set() and (left := deadline - time.monotonic()) > 0:
            self.health.beat = time.monotonic()
            if back is not None and back():
                log.info("%s: its port is back; connecting now", self.name)
                break
            self._stop.wait(min(left, 0.2 if back else 0.5))
        self.health.beat = time.monotonic()

    def _port_back(self) -> Callable[[], bool] | None:
        """For a port that vanished (its path gone): a check that it reappeared, so the
        reconnect does not wait out the whole backoff. None when it cannot be told."""
        if port_present(self.modem_config.port) is not False:
            return None
        return lambda: bool(port_present(self.modem_config.port))

    def _remember_refused_pin(self, modem: Modem) -> None:
        if modem.refused_pin and modem.refused_pin != self._refused_pin:
            self._refused_pin = modem.refused_pin
            self._state(sim_pin_refused=self._refused_pin,
                        sim_pin_refused_at=to_iso(self.clock.now()))

    @staticmethod
    def _close(modem: Modem) -> None:
        with contextlib.suppress(SmsBridgeError):
            modem.close()

    def _take_config(self, session: Session | None) -> None:
        new, self._pending_config = self._pending_config, None
        if new is None:
            return
        self.config = new
        if session is not None:
            session.bridge.reconfigure(new)
            session.sending.config = new

    def _refresh_status(self, modem: Modem) -> ModemStatus:
        status = modem.status()
        self.health.signal_dbm = status.signal_dbm
        self.health.storage = f"{status.storage_used}/{status.storage_total}"
        # What the device and the network say is kept like SMS text: neutralised.
        model = " ".join(filter(None, [status.manufacturer, status.model]))
        self._state(
            modem=neutralise(model) if model else None,
            signal_dbm=status.signal_dbm, registration=status.registration,
            operator=neutralise(status.operator) if status.operator else None,
            storage_used=status.storage_used,
            storage_total=status.storage_total, modem_checked_at=to_iso(self.clock.now()))
        return status

    # -- sending: who may send what, and when -------------------------------------------------

    def _may_send_now(self) -> bool:
        if not self.sends:
            return False
        now = time.monotonic()
        if now >= self._next_cap_check:
            self._check_cap()
            self._next_cap_check = now + CAP_CHECK_SECONDS
        return (not self._capped and now >= self._next_send
                and self.stick.health.may_try(self.clock.now()))

    def _check_cap(self) -> None:
        assert self.store is not None
        if not self._pace.daily_cap:
            return
        since = to_iso(pool.local_midnight(self.clock.now()))
        capped = self._pace.capped(self.store.leases.parts_sent(self.name, since=since))
        if capped != self._capped:
            self._capped = capped
            if capped:
                log.warning("%s reached its daily cap of %d SMS: the other modems send",
                            self.name, self._pace.daily_cap)
            else:
                log.info("%s may send again (a new day under its cap)", self.name)
            self._state(capped=capped or None)
            self._publish(up=True)

    def _send(self, sending: Sending) -> bool:
        """Ask routing (pure) which replies this modem may claim, hand the order to
        sending, and act on what it says happened."""
        assert self.store is not None
        now = self.clock.now()
        waiting = self.store.leases.waiting(now=to_iso(now))
        if not waiting:
            return False
        routing = pool.Routing(tuple(self.config.pool.route),
                               timedelta(seconds=self.config.pool.failover_seconds))
        me = pool.Sender(self.name, self._prefixes, up=True, capped=self._capped,
                         can_send=self.stick.health.can_send)
        senders = [s for s in self.board.senders() if s.name != self.name] + [me]
        order = pool.choose(self.name, waiting, senders, routing, now)
        result = sending.send_next(order, trial=not self.stick.health.can_send)
        if not result.tried:
            return False
        if result.outcome is Outcome.SET_ASIDE and result.reason:
            self._record_set_aside([result.reason])
        if self.stick.judge(self.store, result):
            self._publish(up=True)
        self._next_send = time.monotonic() + self._pace.gap_after(max(1, result.parts))
        if self._pace.daily_cap:
            self._next_cap_check = 0.0  # count again before the next one
        return True

    # -- the loop of one connection -------------------------------------------------------

    def _serve(self, session: Session) -> None:
        assert self.store is not None
        bridge, modem = session.bridge, session.modem
        mono = time.monotonic
        need_drain = True  # whatever arrived while we were away
        next_poll = next_housekeeping = next_status = next_beat = next_poll_note = 0.0
        next_balance = 0.0
        db_failures = 0
        while not self._stop.is_set():
            self._take_config(session)
            now = mono()
            self.health.beat = now
            sent = False
            due_in: float | None = None
            try:
                if need_drain or now >= next_poll:
                    result = bridge.drain()
                    need_drain = False
                    next_poll = now + self.config.daemon.poll_seconds
                    if now >= next_poll_note:
                        self._state(last_poll=to_iso(self.clock.now()))
                        next_poll_note = now + POLL_NOTE_SECONDS
                    if result.listed:
                        log.debug("%s: drained %d message(s), %d new case(s)", self.name,
                                  result.listed, len(result.new_cases))
                    if result.new_cases:
                        self._new_cases()
                # Every worker looks, so parts time out while any modem is up; the read
                # is inside the write transaction, so two workers never make one case twice.
                if now >= next_housekeeping:
                    bridge.expire_parts()
                    next_housekeeping = now + HOUSEKEEPING_SECONDS
                if now >= next_status:
                    self._refresh_status(modem)
                    next_status = now + MODEM_STATUS_SECONDS
                if self.modem_config.balance_ussd and now >= next_balance:
                    if self.stick.check_balance(self.store, modem, sends=self.sends):
                        self._publish(up=True)
                    next_balance = now + self.modem_config.balance_check_seconds
                # One cheap query a turn tells whether a reply may be claimed at all: an
                # idle pool of four stays under 1 % of a core.
                due_in = session.sending.next_due_in() if self.sends else None
                if due_in == 0 and self._may_send_now():
                    sent = self._send(session.sending)
                self._record_set_aside(bridge.take_set_aside())
                self._note_budget(bridge)
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
                # against a bug: log it whole once, keep showing signs of life, carry on.
                self._error(f"unexpected {type(exc).__name__}: {mask_numbers_in(str(exc))}",
                            exc_info=exc)
                need_drain = True
                db_failures += 1
                self._pause(DB_BACKOFF.delay(db_failures))
                continue
            if self.health.last_error and self.health.last_error.startswith("database"):
                log.info("%s: database writable again", self.name)
                self.health.last_error = None
                self._state(last_error=None)
            wait = min(MAX_WAIT, max(0.0, next_poll - mono()))
            if sent:
                wait = 0.0
            elif due_in is not None and not self._capped and self.stick.health.can_send:
                # Due later: wake then; due now but not claimed: reserved for another
                # modem (look again after MAX_WAIT) or this SIM's send rate holds it.
                if due_in > 0:
                    wait = min(wait, due_in)
                if self._next_send > mono():
                    wait = min(wait, self._next_send - mono())
            for event in modem.poll_events(wait):
                if isinstance(event, (NewMessage, NewStatusReport)):
                    need_drain = True
                elif isinstance(event, OtherEvent):
                    # +CLIP and the like carry a caller's number: never log it whole.
                    log.debug("%s event: %s", self.name, mask_numbers_in(event.line))
            now = mono()
            self.health.beat = now
            if now >= next_beat:
                self._state(heartbeat=to_iso(self.clock.now()))
                next_beat = now + HEARTBEAT_SECONDS

    def _record_set_aside(self, reasons: list[str]) -> None:
        """Tell ``status`` about items set aside (the line went on), counted over the
        whole pool."""
        assert self.store is not None
        if reasons:
            with self.store.transaction():
                count = int(self.store.state.read().get("set_aside_count") or 0)
                self.store.state.update({
                    "set_aside_count": str(count + len(reasons)),
                    "last_set_aside": reasons[-1],
                    "last_set_aside_at": to_iso(self.clock.now())})

    def _note_budget(self, bridge: Bridge) -> None:
        """Tell ``status`` whether the line's reply budget is spent."""
        assert self.store is not None
        if bridge.over_budget != self._over_budget:
            self._over_budget = bridge.over_budget
            self.store.state.update({"reply_budget_spent": self._over_budget})


def describe(workers: Sequence[Worker], backlog: int) -> str:
    """The pool in one line, for systemd's STATUS=: how many modems are up, each
    one's state, and the replies waiting."""
    ready = sum(1 for w in workers if w.health.state == "ready")
    each = []
    for w in workers:
        h = w.health
        signal = f"{h.signal_dbm} dBm" if h.signal_dbm is not None else "? dBm"
        each.append(f"{w.name} {h.state}, signal {signal}, storage {h.storage}")
    return f"{ready}/{len(workers)} modems ready ({'; '.join(each)}); backlog {backlog}"

