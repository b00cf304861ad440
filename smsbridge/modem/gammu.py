"""GammuModem: the Modem protocol on python-gammu's StateMachine (libgammu).

libgammu knows hundreds of phones and modems; administrators who already run Gammu
keep their gammurc. This module and ``gammu_convert.py`` (libgammu's dicts and errors
as our types, no StateMachine) are the only ones that import ``gammu``.

One thread owns the StateMachine (STYLE.md example 6, ``gammu_owner.py``): every gammu
call is a job run on that thread, and the daemon's thread waits for its result.
libgammu calls our incoming-message callback from inside a gammu call on the owner
thread; the callback only puts an event on a queue (gammu must not be called from its
own callbacks).

Gammu hands out parsed messages, not raw PDUs. ``list_stored()`` keys each message by
a hash of the fields libgammu decoded (``message_key``), which is what the daemon's crash
dedupe compares, and rebuilds an equivalent PDU for the daemon to decode and store:
SMS-DELIVER through ``gammu.EncodePDU``, SMS-STATUS-REPORT (which EncodePDU cannot
produce) through our own encoder.
"""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, replace
from functools import partial
from typing import Any, TypeVar

import gammu

from smsbridge.config.sections import ModemConfig
from smsbridge.errors import ModemTimeout, PortError, SimError
from smsbridge.modem import sim
from smsbridge.modem.base import ModemEvent, ModemStatus, StoredMessage
from smsbridge.modem.gammu_convert import (
    PORT_ERRORS,
    UNSUPPORTED,
    GammuCommandError,
    corrupt_message,
    encode_parts,
    error_name,
    incoming_event,
    modem_status,
    sim_state,
    stored_message,
    translate,
)
from smsbridge.modem.gammu_owner import DeviceGone, OwnerThread, load_defaults

log = logging.getLogger(__name__)

# libgammu's flat (Folder 0) numbering puts the phone's own memory after this.
PHONE_BASE = 100000

T = TypeVar("T")
StateMachineFactory = Callable[[], Any]

_POLL_SLICE = 0.2  # seconds between two looks at the device while waiting for events
_SIM_PAUSE = 0.5


@dataclass(frozen=True)
class GammuSettings:
    """Where the StateMachine's configuration comes from: a gammurc section, or ours."""

    device: str
    connection: str = "at"
    gammurc: str = ""
    section: int = 0
    device_override: bool = False  # with gammurc: replace its device with ``device``

    @property
    def description(self) -> str:
        if self.gammurc and not self.device_override:
            return f"{self.gammurc} [gammu{self.section or ''}]"
        return self.device


class GammuModem:
    """A phone or modem driven by libgammu, behind the Modem protocol."""

    def __init__(self, settings: GammuSettings, *, pin: str = "", memory: str = "SM",
                 command_timeout: float = 10.0, send_timeout: float = 60.0,
                 sim_busy_wait: float = 30.0,
                 state_machine: StateMachineFactory | None = None,
                 refused_pin: str | None = None) -> None:
        self.settings = settings
        self.url = settings.description
        self._pin = pin
        self._memory = memory
        self.command_timeout = command_timeout
        self.send_timeout = send_timeout
        self.sim_busy_wait = sim_busy_wait
        self._factory: StateMachineFactory = state_machine or gammu.StateMachine
        self._owner: OwnerThread | None = None
        self._sm: Any = None  # touched only by jobs on the owner thread
        self._wanted_open = False
        self._refused_pin = refused_pin  # sim.fingerprint() of a PIN the SIM refused
        self._events: queue.SimpleQueue[ModemEvent] = queue.SimpleQueue()
        self._ussd: queue.SimpleQueue[str] = queue.SimpleQueue()
        self._incoming = False  # libgammu announces new SMS through our callback
        self._ready = False  # connected and the SIM unlocked
        self._smsc_time = True  # the driver reads a status report's TP-DT

    @classmethod
    def from_config(cls, cfg: ModemConfig, *, port: str | None = None,
                    refused_pin: str | None = None) -> GammuModem:
        if cfg.gammurc:
            settings = GammuSettings(port or cfg.port, cfg.gammu_connection, cfg.gammurc,
                                     cfg.gammu_section, device_override=port is not None)
        else:
            settings = GammuSettings(port or cfg.port, cfg.gammu_connection)
        return cls(settings, pin=cfg.pin, memory=cfg.memory,
                   command_timeout=cfg.command_timeout, send_timeout=cfg.send_timeout,
                   sim_busy_wait=cfg.sim_busy_wait, refused_pin=refused_pin)

    @property
    def owner_thread(self) -> threading.Thread | None:
        return self._owner.thread if self._owner else None

    @property
    def refused_pin(self) -> str | None:
        """``sim.fingerprint()`` of the PIN the SIM refused, if it did: never sent again."""
        return self._refused_pin

    # -- the Modem protocol ------------------------------------------------------------

    def open(self) -> None:
        """Connect and unlock the SIM; SimError leaves the phone connected for ``status()``."""
        self._wanted_open = True
        self._connect()
        self._run(self._unlock_sim, "GetSecurityStatus",
                  timeout=self.sim_busy_wait + self._net_timeout)

    def close(self) -> None:
        self._wanted_open = False
        if self._owner is None:
            return
        try:
            self._run(self._terminate, "Terminate")
        except (ModemTimeout, PortError) as exc:
            log.warning("closing gammu: %s", exc)
        self._owner.stop(self.command_timeout)
        self._owner = None

    def list_stored(self) -> list[StoredMessage]:
        self._ensure_open()
        found: list[StoredMessage] = []
        location: int | None = None
        while True:
            try:
                parts = self._run(partial(self._next_sms, location), "GetNextSMS")
            except GammuCommandError as exc:
                if exc.name == "ERR_EMPTY":
                    break
                if exc.name == "ERR_CORRUPTED":
                    # libgammu stops GetNextSMS at a PDU it cannot parse and names no
                    # location: read slot by slot, so the bad one can be stored and
                    # deleted instead of blocking every listing after it.
                    log.warning("gammu cannot list past a corrupt message: reading "
                                "storage slot by slot")
                    return self._list_by_slot()
                raise
            for part in parts:
                location = int(part["Location"])
                message = stored_message(part, self._memory, smsc_time=self._smsc_time)
                if message is not None:
                    found.append(message)
        return found

    def _list_by_slot(self) -> list[StoredMessage]:
        usage = self._run(self._sm.GetSMSStatus, "GetSMSStatus")
        # Folder 0 numbers the SIM from 1 and the phone's memory from PHONE_BASE + 1.
        areas = [(1, usage.get("SIMSize") or 0, usage.get("SIMUsed") or 0),
                 (PHONE_BASE + 1, usage.get("PhoneSize") or 0, usage.get("PhoneUsed") or 0)]
        found: list[StoredMessage] = []
        for first, size, used in areas:
            seen = 0
            for location in range(first, first + size):
                if seen >= used:
                    break
                try:
                    parts = self._run(partial(self._get_sms, location), "GetSMS")
                except GammuCommandError as exc:
                    if exc.name in ("ERR_EMPTY", "ERR_INVALIDLOCATION"):
                        continue
                    if exc.name != "ERR_CORRUPTED":
                        raise
                    seen += 1
                    found.append(corrupt_message(self._memory, location))
                    continue
                seen += 1
                for part in parts:
                    message = stored_message(part, self._memory, smsc_time=self._smsc_time)
                    if message is not None:
                        found.append(message)
        return found

    def delete(self, index: int) -> None:
        """Delete by the flat location that ``list_stored()`` gave (GetNextSMS with Folder 0).

        The folder a listed message names is not the one to delete from with that
        location: libgammu's AT driver numbers every folder's messages in one flat
        range (ME's messages from 100000 on, listed in folder 3) and maps it back only
        when asked with Folder 0; with the listed folder it would ask ME for a slot
        numbered beyond 100000. The dummy driver maps Folder 0 back alike.
        """
        self._ensure_open()
        try:
            self._run(lambda: self._sm.DeleteSMS(Folder=0, Location=index), "DeleteSMS")
        except GammuCommandError as exc:
            if exc.name not in ("ERR_EMPTY", "ERR_INVALIDLOCATION"):
                raise

    def send(self, number: str, text: str, *, status_report: bool = True,
             reference: int | None = None) -> list[int | None]:
        """Encode with gammu.EncodeSMS (GSM-7 when it fits, else UCS2; concatenated when
        long) and send each part; the TP-MR of each (None: sent without a readable one).
        Parts before a refusal were sent. ``reference`` is not passed on: libgammu picks
        the concatenation reference."""
        self._ensure_open()
        parts = encode_parts(number, text, status_report=status_report)
        references: list[int | None] = []
        for part in parts:
            reference = self._run(partial(self._send_sms, part), "SendSMS",
                                  timeout=self.send_timeout + self._net_timeout)
            # SendSMS returned: the part is sent, whatever libgammu made of the reference.
            references.append(reference if isinstance(reference, int)
                              and 0 <= reference < 256 else None)
        return references

    def status(self) -> ModemStatus:
        """What libgammu learns from the device; each unanswerable question stays None."""
        self._ensure_connected()
        return self._run(self._status, "status",
                         timeout=self.command_timeout * 10 + self._net_timeout)

    def poll_events(self, timeout: float) -> list[ModemEvent]:
        """New-message events from libgammu's callback (AT: +CMTI). Drivers without
        callbacks (the dummy phone) return [] after ``timeout``: the daemon's poll timer
        then finds new messages."""
        self._ensure_connected()
        deadline = time.monotonic() + timeout
        events = self._drain_events()
        while not events:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            if self._incoming:
                # ReadDevice makes libgammu read the port and dispatch what came,
                # calling our callback for +CMTI and friends.
                self._run(lambda: self._sm.ReadDevice(False), "ReadDevice")
            with contextlib.suppress(queue.Empty):
                events.append(self._events.get(timeout=min(remaining, _POLL_SLICE)))
            events += self._drain_events()
        return events

    def ussd(self, code: str, *, timeout: float = 30.0) -> str:
        """Ask the network ``code`` (libgammu's DialService: AT+CUSD on the AT driver)
        and wait for the answer libgammu hands to the incoming callback."""
        self._ensure_connected()
        while not self._ussd.empty():
            self._ussd.get_nowait()  # a late answer to an earlier code

        def dial() -> None:
            with contextlib.suppress(gammu.GSMError):
                self._sm.SetIncomingUSSD(True)
            self._sm.DialService(code)

        self._run(dial, "DialService")
        deadline = time.monotonic() + timeout
        while True:
            with contextlib.suppress(queue.Empty):
                return self._ussd.get_nowait()
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise ModemTimeout("DialService", timeout)
            self._run(lambda: self._sm.ReadDevice(False), "ReadDevice")
            with contextlib.suppress(queue.Empty):
                return self._ussd.get(timeout=min(remaining, _POLL_SLICE))

    # -- running jobs on the owner thread ---------------------------------------------

    @property
    def _net_timeout(self) -> float:
        # libgammu has its own timeouts and answers ERR_TIMEOUT; ours is the safety net
        # for a call that never returns, so it is well above libgammu's.
        return self.command_timeout * 3

    def _run(self, job: Callable[[], T], what: str, *, timeout: float | None = None) -> T:
        if self._owner is None:
            raise PortError("the modem is not open", port=self.url)
        seconds = timeout if timeout is not None else self._net_timeout
        try:
            return self._owner.call(job, seconds, self._device_gone)
        except DeviceGone:
            log.error("%s disappeared during gammu %s; abandoning its thread", self.url, what)
            self._owner = None
            self._sm = None
            raise PortError("the device disappeared", port=self.url) from None
        except FutureTimeout:
            # The owner thread is stuck inside libgammu: abandon it (a daemon thread)
            # and its StateMachine; the next call starts a fresh owner.
            log.error("gammu %s did not return within %g s; abandoning its thread", what,
                      seconds)
            self._owner = None
            self._sm = None
            raise ModemTimeout(what, seconds) from None
        except gammu.GSMError as exc:
            error = translate(exc, what, device=self.url, seconds=self.command_timeout)
            if isinstance(error, PortError):
                self._drop()
            raise error from None

    def _drop(self) -> None:
        owner = self._owner
        if owner is None:
            return
        with contextlib.suppress(FutureTimeout, gammu.GSMError):
            owner.call(self._terminate, self.command_timeout)

    def _device_gone(self) -> bool:
        s = self.settings
        device = s.device if (not s.gammurc or s.device_override) else ""
        # Only a device node can vanish; a gammurc's device or a connection over the
        # network (no path) is left to libgammu's timeouts.
        return device.startswith("/") and s.connection != "none" and not os.path.exists(device)

    def _connect(self) -> None:
        if self._owner is None:
            self._owner = OwnerThread(f"gammu {self.url}")
        if self._sm is not None:
            self._drop()
        self._run(self._init, "Init", timeout=self.command_timeout * 3 + self._net_timeout)

    def _ensure_connected(self) -> None:
        if self._owner is None or self._sm is None:
            if not self._wanted_open:
                raise PortError("the modem is not open", port=self.url)
            log.info("re-opening %s with gammu", self.url)
            self._connect()
            # On SimError status() still reports it; list/send raise it again.
            with contextlib.suppress(SimError):
                self._run(self._unlock_sim, "GetSecurityStatus",
                          timeout=self.sim_busy_wait + self._net_timeout)

    def _ensure_open(self) -> None:
        self._ensure_connected()
        if not self._ready:
            self._run(self._unlock_sim, "GetSecurityStatus",
                      timeout=self.sim_busy_wait + self._net_timeout)

    # -- jobs (these run on the owner thread only) ------------------------------------

    def _init(self) -> None:
        sm = self._factory()
        s = self.settings
        if s.gammurc:
            sm.ReadConfig(Section=s.section, Configuration=0, Filename=s.gammurc)
            if s.device_override:
                config = sm.GetConfig(0)
                config["Device"] = s.device
                sm.SetConfig(0, config)
        else:
            # Connection "none" exists only for gammu's dummy phone (a directory posing
            # as a phone); any other connection lets libgammu detect the model.
            model = "dummy" if s.connection == "none" else ""
            load_defaults(sm)
            config = sm.GetConfig(0)
            config.update({"Device": s.device, "Connection": s.connection, "Model": model})
            sm.SetConfig(0, config)
        sm.Init()
        # The dummy driver's SMS files hold no TP-DT: gammu fills in the current time,
        # which would make a status report's rebuilt PDU differ on every listing.
        self._smsc_time = sm.GetConfig(0).get("Connection") != "none"
        self._sm = sm
        self._ready = self._incoming = False
        sm.SetIncomingCallback(self._on_incoming)
        try:
            sm.SetIncomingSMS(True)
        except gammu.GSMError as exc:
            log.info("gammu cannot announce new SMS here (%s); the poll timer finds them",
                     error_name(exc))
        else:
            self._incoming = True
        log.info("gammu connected to %s", self.url)

    def _terminate(self) -> None:
        sm, self._sm = self._sm, None
        self._ready = False
        if sm is not None:
            sm.Terminate()

    def _sim_state(self) -> str:
        try:
            code = self._sm.GetSecurityStatus()
        except gammu.GSMError as exc:
            if error_name(exc) == "ERR_NOSIM":
                return sim.NOT_INSERTED
            raise
        return sim_state(code)

    def _unlock_sim(self) -> None:
        try:
            state = self._sim_state()
        except gammu.GSMError as exc:
            if error_name(exc) not in UNSUPPORTED:
                raise
            state = sim.READY  # a driver that cannot tell has no PIN to ask for
        facts = sim.SimFacts(state, self._pin, self._refused_pin, source="gammu reports")
        decision = sim.decide(facts)
        if isinstance(decision, sim.EnterPin):
            try:
                self._sm.EnterSecurityCode("PIN", decision.pin)
            except gammu.GSMError as exc:
                if error_name(exc) == "ERR_SECURITYERROR":
                    self._refused_pin = sim.fingerprint(decision.pin)
                    raise sim.pin_refused() from None
                raise
            # After a correct PIN the SIM reads its files for a few seconds.
            deadline = time.monotonic() + self.sim_busy_wait
            while (state := self._sim_state()) != sim.READY and time.monotonic() < deadline:
                threading.Event().wait(_SIM_PAUSE)
            sim.decide(replace(facts, state=state, pin_entered=True))
        self._ready = True

    def _next_sms(self, location: int | None) -> list[dict]:
        if location is None:
            return self._sm.GetNextSMS(Start=True, Folder=0)
        return self._sm.GetNextSMS(Location=location, Folder=0)

    def _get_sms(self, location: int) -> list[dict]:
        return self._sm.GetSMS(Folder=0, Location=location)

    def _send_sms(self, part: dict) -> int:
        return self._sm.SendSMS(part)

    def _status(self) -> ModemStatus:
        sm = self._sm

        def ask(question: Callable[[], Any]) -> Any:
            try:
                return question()
            except gammu.GSMError as exc:
                name = error_name(exc)
                if name == "ERR_TIMEOUT" or name in PORT_ERRORS:
                    raise
                return None

        model = ask(sm.GetModel)
        firmware = ask(sm.GetFirmware)
        network = ask(sm.GetNetworkInfo)
        sms = ask(sm.GetSMSStatus)
        smsc = ask(lambda: sm.GetSMSC(Location=1))
        try:
            sim = self._sim_state()
        except gammu.GSMError as exc:
            if error_name(exc) == "ERR_TIMEOUT" or error_name(exc) in PORT_ERRORS:
                raise
            sim = None
        manufacturer = ask(sm.GetManufacturer)
        imei = ask(sm.GetIMEI)
        imsi = ask(sm.GetSIMIMSI)
        signal = ask(sm.GetSignalQuality)
        return modem_status(self._memory, manufacturer=manufacturer, model=model,
                            firmware=firmware, imei=imei, imsi=imsi, sim=sim,
                            network=network, signal=signal, sms=sms, smsc=smsc)

    def _on_incoming(self, _sm: Any, kind: str, data: Any) -> None:
        # Called by libgammu inside a gammu call on the owner thread: queue, nothing more.
        if kind == "USSD" and isinstance(data, dict):
            self._ussd.put(str(data.get("Text") or ""))
            return
        self._events.put(incoming_event(kind, data, self._memory))

    def _drain_events(self) -> list[ModemEvent]:
        events: list[ModemEvent] = []
        while True:
            try:
                events.append(self._events.get_nowait())
            except queue.Empty:
                return events

