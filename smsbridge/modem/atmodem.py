"""AtModem: the Modem protocol over AT commands, driving ``at.AtSession`` over a ``port.Port``.

One thread owns an AtModem (STYLE.md example 6). URCs that arrive while a command runs
are queued and handed out by ``poll_events()``; nothing is called back.

Field problems handled here, each with its reason next to the code: a silent modem
(ModemTimeout), a port that vanished (PortError, re-opened on the next call), a SIM busy
after power-on (retried up to ``sim_busy_wait``), a wrong PIN (SimError, never retried),
a reboot that lost our settings (echo back on, a boot URC, or PDU mode lost: re-initialise),
a hanging or lying AT+CMGL (read slot by slot with AT+CMGR), indexes from 0 or 1, +CPMS
with one to three memories, a usage counter that lags after a delete.
"""

from __future__ import annotations

import contextlib
import logging
import random
import time
from collections import deque
from collections.abc import Callable
from dataclasses import replace
from typing import TypeVar

from smsbridge.config import ModemConfig
from smsbridge.errors import CommandError, ModemTimeout, PortError, SimError
from smsbridge.modem import profiles, sim
from smsbridge.modem.at import (
    Answer,
    AtSession,
    Echo,
    Final,
    PduLine,
    Prompt,
    Response,
    Urc,
    answer_fields,
    answer_value,
    parse_cops,
    parse_cpms,
    parse_creg,
    parse_csca,
    parse_csq,
    unquoted,
    urc_event,
)
from smsbridge.modem.base import (
    ModemEvent,
    ModemStatus,
    NewMessage,
    OtherEvent,
    StoredMessage,
)
from smsbridge.modem.port import Port, open_port
from smsbridge.sms.pdu import encode_submit

log = logging.getLogger(__name__)

T = TypeVar("T")
Opener = Callable[[str, int], Port]

# +CMS 314 / +CME 14 "SIM busy" and the manufacturer codes 512 (SIM not ready) and 515
# (initialisation in progress) all clear by themselves some seconds after power-on.
_BUSY = {("CMS", 314), ("CMS", 512), ("CMS", 515), ("CME", 14), ("CME", 515)}
_BUSY_PAUSE = 0.5
# 27.005 §3.2.5 321 "invalid memory index", 27.007 §9.2.1 21/22: the slot is empty.
_EMPTY_SLOT = {("CMS", 321), ("CME", 21), ("CME", 22)}
_WRONG_PIN = {("CME", 16)}
_NO_SIM = {("CME", 10), ("CMS", 310)}
# 27.005 §3.4.1: mt=1 stores and announces with +CMTI; ds=2 stores status reports and
# announces them with +CDSI. Older firmware refuses ds=2; ds=1 then sends +CDS directly.
_CNMI_CHOICES = ("AT+CNMI=2,1,0,2,0", "AT+CNMI=2,1,0,1,0")
_READ_SLICE = 0.2  # seconds per port read, so a deadline is never overshot by much
RESYNC_SECONDS = 0.2  # how long stale output is drained after opening the port


def _key(error: CommandError) -> tuple[str | None, int | None]:
    return error.kind, error.code


class AtModem:
    """A GSM modem spoken to with 27.005/27.007 AT commands over a pyserial URL."""

    def __init__(self, port: str, *, baudrate: int = 115200, pin: str = "",
                 memory: str = "SM", profile: str = "auto", command_timeout: float = 10.0,
                 send_timeout: float = 60.0, sim_busy_wait: float = 30.0,
                 opener: Opener | None = None, refused_pin: str | None = None) -> None:
        self.url = port
        self._baudrate = baudrate
        self._pin = pin
        self._memory = memory
        self._profile_name = profile
        self._profile = profiles.GENERIC if profile == "auto" else profiles.by_name(profile)
        self.command_timeout = command_timeout
        self.send_timeout = send_timeout
        self.sim_busy_wait = sim_busy_wait
        self._opener: Opener = opener or (lambda url, baud: open_port(url, baudrate=baud))
        self._port: Port | None = None
        self._session = AtSession()
        self._events: deque[ModemEvent] = deque()
        self._wanted_open = False
        self._ready = False
        self._echo_off = False
        self._settings_suspect = False
        self._reinit_needed = False
        self._refused_pin = refused_pin  # sim.fingerprint() of a PIN the SIM refused
        self._cmgl_broken = False
        self._index_base: int | None = self._profile.index_base
        # 23.040 §9.2.3.24.1: one concatenation reference per message; start anywhere so a
        # restart does not reuse the reference of a message the network still reassembles.
        self._reference = random.randrange(256)

    @classmethod
    def from_config(cls, cfg: ModemConfig, *, port: str | None = None) -> AtModem:
        return cls(port or cfg.port, baudrate=cfg.baudrate, pin=cfg.pin, memory=cfg.memory,
                   profile=cfg.profile, command_timeout=cfg.command_timeout,
                   send_timeout=cfg.send_timeout, sim_busy_wait=cfg.sim_busy_wait)

    @property
    def profile(self) -> profiles.Profile:
        return self._profile

    @property
    def refused_pin(self) -> str | None:
        """``sim.fingerprint()`` of the PIN the SIM refused, if it did: never sent again."""
        return self._refused_pin

    # -- the Modem protocol ------------------------------------------------------------

    def open(self) -> None:
        """Open the port and initialise; SimError leaves the port open for ``status()``."""
        self._wanted_open = True
        self._connect()
        self._initialise()

    def close(self) -> None:
        self._wanted_open = False
        self._drop_port()

    def list_stored(self) -> list[StoredMessage]:
        self._ensure_ready()
        return self._retrying_after_restart(self._list)

    def _list(self) -> list[StoredMessage]:
        if self._profile.cmgl and not self._cmgl_broken:
            # Count first, list second: storage only grows until we delete, so a listing
            # with at least that many messages is complete even when more arrive meanwhile
            # (counting after the listing made every busy drain look short).
            expected = self._settled_storage_used()
            try:
                messages = self._list_cmgl()
            except ModemTimeout as hung:
                # A modem that still answers AT is alive: only its CMGL hangs (Huawei).
                # One that does not is silent altogether, and the timeout stands.
                try:
                    self._command("AT", timeout=min(self.command_timeout, 2.0))
                except ModemTimeout:
                    raise hung from None
                log.warning("AT+CMGL=4 got no answer: reading storage slot by slot from now on")
                self._cmgl_broken = True
            else:
                if expected is None or len(messages) >= expected:
                    return messages
                log.warning("AT+CMGL=4 listed fewer messages than +CPMS counts: "
                            "reading storage slot by slot")
        return self._list_by_slot()

    def read(self, index: int) -> StoredMessage | None:
        """One slot (AT+CMGR); None when it is empty."""
        self._ensure_ready()
        return self._retrying_after_restart(lambda: self._read(index))

    def delete(self, index: int) -> None:
        self._ensure_ready()
        self._retrying_after_restart(lambda: self._delete(index))

    def _delete(self, index: int) -> None:
        try:
            self._command(f"AT+CMGD={index}")
        except CommandError as exc:
            if _key(exc) not in _EMPTY_SLOT:
                raise

    def send(self, number: str, text: str, *, status_report: bool = True,
             reference: int | None = None) -> list[int]:
        """Send every part with AT+CMGS; the TP-MR of each. A refusal mid-way raises
        CommandError with the modem's code; the parts before it were sent."""
        self._ensure_ready()
        if reference is None:
            self._reference = (self._reference + 1) % 256
            reference = self._reference
        parts = encode_submit(number, text, reference=reference & 0xFF,
                              status_report=status_report)
        references = []
        for part in parts:
            answer = self._command(f"AT+CMGS={part.tpdu_length}", timeout=self.send_timeout,
                                   pdu_hex=part.hex)
            value = answer_value(answer, "+CMGS")
            if value is None or not value.split(",")[0].strip().isdigit():
                raise CommandError(f"AT+CMGS={part.tpdu_length}", None, None,
                                   f"no message reference in the answer {value!r}")
            references.append(int(value.split(",")[0]))
        self._recover_settings()
        return references

    def status(self) -> ModemStatus:
        """What the modem says about itself; each unanswerable question stays None."""
        self._ensure_port()
        sim = self._sim_state()
        storage = None
        cpms = self._query("AT+CPMS?")
        if cpms:
            storage = parse_cpms(f"+CPMS: {cpms}")
        creg = self._query("AT+CREG?")
        cops = self._query("AT+COPS?")
        csq = self._query("AT+CSQ")
        csca = self._query("AT+CSCA?")
        return ModemStatus(
            manufacturer=unquoted(self._query("AT+CGMI")),
            model=unquoted(self._query("AT+CGMM")),
            revision=unquoted(self._query("AT+CGMR")),
            imei=unquoted(self._query("AT+CGSN")),
            imsi=unquoted(self._query("AT+CIMI")),
            sim=sim,
            registration=parse_creg(f"+CREG: {creg}") if creg else None,
            operator=parse_cops(f"+COPS: {cops}") if cops else None,
            rssi=parse_csq(f"+CSQ: {csq}") if csq else None,
            storage_memory=storage[0] or self._memory if storage else None,
            storage_used=storage[1] if storage else None,
            storage_total=storage[2] if storage else None,
            smsc=parse_csca(f"+CSCA: {csca}") if csca else None,
        )

    def poll_events(self, timeout: float) -> list[ModemEvent]:
        self._ensure_port()
        deadline = time.monotonic() + timeout
        while not self._events:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            self._pump(min(remaining, _READ_SLICE))
        if self._port is not None and self._ready:
            self._recover_settings()
        events = list(self._events)
        self._events.clear()
        return events

    # -- connection and initialisation ---------------------------------------------------

    def _connect(self) -> None:
        self._drop_port()
        self._port = self._opener(self.url, self._baudrate)
        self._resync(self._port)
        self._session = AtSession()
        self._echo_off = False

    def _resync(self, port: Port) -> None:
        # Whoever had the port before (a daemon killed mid-send) may have left the modem
        # at the "> " prompt of AT+CMGS: our first command would then become the body of
        # an SMS. ESC cancels a pending prompt (27.005 §3.5.1) and is ignored otherwise;
        # whatever the modem still says is stale. Dropping a +CMTI here loses nothing:
        # the daemon lists the whole storage after every (re)connect.
        port.write(b"\x1b\r")
        deadline = time.monotonic() + RESYNC_SECONDS
        while (left := deadline - time.monotonic()) > 0:
            port.read(min(left, 0.05))

    def _drop_port(self) -> None:
        if self._port is not None:
            self._port.close()
        self._port = None
        self._ready = False

    def _ensure_port(self) -> None:
        if self._port is None:
            if not self._wanted_open:
                raise PortError("the modem is not open", port=self.url)
            log.info("re-opening %s", self.url)
            self._connect()
            # On SimError status() still works; the ready-path raises it again.
            with contextlib.suppress(SimError):
                self._initialise()

    def _ensure_ready(self) -> None:
        self._ensure_port()
        if not self._ready:
            self._initialise()
        self._recover_settings()

    def _initialise(self) -> None:
        self._ready = False
        self._echo_off = False  # ATE0 itself may be echoed
        self._command("ATE0")
        self._echo_off = True
        self._settings_suspect = self._reinit_needed = False
        self._command("AT+CMEE=1")
        if self._profile_name == "auto":
            self._profile = profiles.for_manufacturer(self._query("AT+CGMI"))
            if self._index_base is None:
                self._index_base = self._profile.index_base
        self._unlock_sim()
        self._command("AT+CMGF=0")
        self._select_storage()
        self._first_accepted(_CNMI_CHOICES)
        for extra in self._profile.init_extra:
            try:
                self._command(extra)
            except CommandError as exc:
                log.info("optional %s refused: %s", extra, exc)
        self._ready = True
        log.info("modem initialised (profile %s, memory %s)", self._profile.name, self._memory)

    def _unlock_sim(self) -> None:
        facts = sim.SimFacts(self._sim_state(), self._pin, self._refused_pin)
        decision = sim.decide(facts)
        if isinstance(decision, sim.EnterPin):
            try:
                self._command(f'AT+CPIN="{decision.pin}"', log_as='AT+CPIN="****"')
            except CommandError as exc:
                if _key(exc) in _WRONG_PIN:
                    self._refused_pin = sim.fingerprint(decision.pin)
                    raise sim.pin_refused() from None
                raise
            sim.decide(replace(facts, state=self._wait_sim_ready(), pin_entered=True))

    def _wait_sim_ready(self) -> str | None:
        # After a correct PIN the SIM reads its files for a few seconds (CPIN? may still
        # say SIM PIN or answer SIM busy): poll until READY or sim_busy_wait ran out.
        deadline = time.monotonic() + self.sim_busy_wait
        while True:
            state = self._sim_state()
            if state == sim.READY or time.monotonic() >= deadline:
                return state
            self._wait(_BUSY_PAUSE)

    def _sim_state(self) -> str | None:
        try:
            answer = self._command("AT+CPIN?")
        except CommandError as exc:
            if _key(exc) in _NO_SIM:
                return sim.NOT_INSERTED
            if _key(exc) in _BUSY:
                return "BUSY"
            return exc.name or "ERROR"
        return (answer_value(answer, "+CPIN") or "").upper() or None

    def _select_storage(self) -> None:
        memory = f'"{self._memory}"'
        choices = [f"AT+CPMS={','.join([memory] * n)}"
                   for n in range(self._profile.cpms_memories, 0, -1)]
        self._first_accepted(choices)

    def _first_accepted(self, commands: list[str] | tuple[str, ...]) -> Answer:
        for command in commands[:-1]:
            try:
                return self._command(command)
            except CommandError as exc:
                log.info("%s refused (%s), trying the next form", command, exc)
        return self._command(commands[-1])

    def _recover_settings(self) -> bool:
        """Re-initialise when the modem restarted behind our back; True if it did."""
        if self._reinit_needed:
            log.warning("the modem echoes commands again: it restarted; re-initialising")
        elif self._settings_suspect:
            self._settings_suspect = False
            mode = self._query("AT+CMGF?")
            if mode is not None and mode.strip() == "0" and not self._reinit_needed:
                return False
            log.warning("the modem lost its settings (a restart?): re-initialising")
        else:
            return False
        self._initialise()
        self._announce_stored()
        return True

    def _announce_stored(self) -> None:
        """Between a restart and our AT+CNMI, new messages were stored without +CMTI:
        announce what storage holds so the daemon drains it now, not at its next poll."""
        for message in self._list():
            self._events.append(NewMessage(message.memory, message.index))

    def _retrying_after_restart(self, operation: Callable[[], T]) -> T:
        """Run a storage operation; if it failed because the modem restarted (PDU mode
        lost: CMGL/CMGR/CMGD answer ERROR), re-initialise and run it once more."""
        try:
            result = operation()
        except CommandError:
            self._settings_suspect = True
            if not self._recover_settings():
                raise
            return operation()
        # An echo seen during a command that still worked: restore CNMI & co. now, not at
        # the next call, so the messages arriving meanwhile are announced.
        self._recover_settings()
        return result

    # -- storage -----------------------------------------------------------------------

    def _list_cmgl(self) -> list[StoredMessage]:
        timeout = min(self._profile.cmgl_timeout or self.command_timeout, self.command_timeout)
        answer = self._command("AT+CMGL=4", timeout=timeout)
        messages = []
        for item in answer:
            if isinstance(item, PduLine):
                fields = answer_fields(item.header)
                if len(fields) >= 2 and fields[0].isdigit() and fields[1].isdigit():
                    self._learn_index(int(fields[0]))
                    messages.append(StoredMessage.from_pdu(self._memory, int(fields[0]),
                                                           int(fields[1]), item.pdu))
        return messages

    def _settled_storage_used(self) -> int | None:
        # Some modems report the count of before the last delete once: ask twice.
        used = self._storage_used()
        return self._storage_used() if used is not None else None

    def _storage_used(self) -> int | None:
        value = self._query("AT+CPMS?")
        parsed = parse_cpms(f"+CPMS: {value}") if value else None
        return parsed[1] if parsed else None

    def _list_by_slot(self) -> list[StoredMessage]:
        value = self._query("AT+CPMS?")
        parsed = parse_cpms(f"+CPMS: {value}") if value else None
        if parsed is None:
            raise CommandError("AT+CPMS?", None, None, "no storage usage in the answer")
        _, used, total = parsed
        # Indexes start at 0 on some modems and 1 on others: without knowing, scan both ends.
        slots = (range(self._index_base, self._index_base + total)
                 if self._index_base is not None else range(0, total + 1))
        found: list[StoredMessage] = []
        for index in slots:
            if len(found) >= used:
                break
            message = self._read(index)
            if message is not None:
                found.append(message)
        return found

    def _read(self, index: int) -> StoredMessage | None:
        try:
            answer = self._command(f"AT+CMGR={index}")
        except CommandError as exc:
            if _key(exc) in _EMPTY_SLOT:
                return None
            raise
        for item in answer:
            if isinstance(item, PduLine):
                fields = answer_fields(item.header)
                status = int(fields[0]) if fields and fields[0].isdigit() else 0
                self._learn_index(index)
                return StoredMessage.from_pdu(self._memory, index, status, item.pdu)
        return None  # some modems answer an empty slot with a bare header (+CMGR: 0,,0)

    def _learn_index(self, index: int) -> None:
        if index == 0:
            self._index_base = 0

    # -- commands ----------------------------------------------------------------------

    def _query(self, command: str) -> str | None:
        """A one-line answer without its prefix, or None when the modem refuses."""
        try:
            answer = self._command(command)
        except CommandError:
            return None
        return answer_value(answer, command[2:].split("=")[0].rstrip("?").upper())

    def _command(self, command: str, *, timeout: float | None = None,
                 pdu_hex: str | None = None, log_as: str | None = None) -> Answer:
        """Run one command; retry SIM busy for up to ``sim_busy_wait`` seconds."""
        deadline = time.monotonic() + self.sim_busy_wait
        while True:
            try:
                return self._execute(command, timeout or self.command_timeout, pdu_hex,
                                     log_as or command)
            except CommandError as exc:
                if _key(exc) not in _BUSY or time.monotonic() >= deadline:
                    raise
                log.info("%s: %s; retrying", log_as or command, exc.name)
                self._wait(min(_BUSY_PAUSE, max(0.0, deadline - time.monotonic())))

    def _execute(self, command: str, timeout: float, pdu_hex: str | None,
                 shown: str) -> Answer:
        if self._port is None:
            raise PortError("the modem port is closed", port=self.url)
        self._pump(0)  # lines that arrived while idle are unsolicited: file them first
        self._write(self._session.send(command))
        deadline = time.monotonic() + timeout
        answer: Answer = []
        while True:
            event = self._session.next_event()
            if event is None:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    if self._session.prompted:
                        self._write(self._session.cancel_prompt())
                    self._session.abort()
                    raise ModemTimeout(shown, timeout)
                self._read_into_session(min(remaining, _READ_SLICE))
                continue
            if isinstance(event, Final):
                if event.ok:
                    return answer
                raise event.error(shown)
            if isinstance(event, Response | PduLine):
                answer.append(event)
            elif isinstance(event, Prompt):
                self._write(self._session.send_pdu(pdu_hex) if pdu_hex
                            else self._session.cancel_prompt())
            elif isinstance(event, Echo):
                self._on_echo()
            elif isinstance(event, Urc):
                self._on_urc(event)

    def _pump(self, max_wait: float) -> None:
        """Read what the port has within ``max_wait`` and queue the URCs in it."""
        if self._port is None:
            return
        self._read_into_session(max_wait)
        while (event := self._session.next_event()) is not None:
            if isinstance(event, Urc):
                self._on_urc(event)
            elif isinstance(event, Echo):
                self._on_echo()

    def _wait(self, seconds: float) -> None:
        """Let ``seconds`` pass while still filing URCs (a pause, not a sleep)."""
        deadline = time.monotonic() + seconds
        while (remaining := deadline - time.monotonic()) > 0:
            self._pump(min(remaining, _READ_SLICE))

    def _read_into_session(self, max_wait: float) -> None:
        assert self._port is not None
        try:
            data = self._port.read(max_wait)
        except PortError:
            self._drop_port()
            raise
        if data:
            self._session.receive_data(data)

    def _write(self, data: bytes) -> None:
        assert self._port is not None
        try:
            self._port.write(data)
        except PortError:
            self._drop_port()
            raise

    def _on_echo(self) -> None:
        if self._echo_off:
            # ATE0 is lost only when the modem restarted: everything else was lost too.
            self._reinit_needed = True

    def _on_urc(self, urc: Urc) -> None:
        if not urc.name and urc.line.upper() in ("OK", "ERROR"):
            log.debug("late final result code dropped: %s", urc.line)
            return
        if urc.name in self._profile.reboot_hints:
            self._settings_suspect = True
        event = urc_event(urc)
        if isinstance(event, OtherEvent):
            log.debug("unsolicited: %s", urc.name or "unknown line")
        self._events.append(event)
