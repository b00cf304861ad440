"""AtModem: the Modem protocol over AT commands, through ``at_channel.AtChannel``.

The channel runs one command at a time (``at.AtSession`` over a ``port.Port``); this
module decides what to ask and what the answers mean. One thread owns an AtModem
(STYLE.md example 6). URCs that arrive while a command runs are queued and handed out
by ``poll_events()``; nothing is called back.

Field problems handled here and in the channel, each with its reason next to the code:
a silent modem (ModemTimeout), a port that vanished (PortError, re-opened on the next
call), a SIM busy after power-on (retried up to ``sim_busy_wait``), a wrong PIN
(SimError, never retried), a reboot that lost our settings (echo back on, a boot URC, or
PDU mode lost: re-initialise), a hanging or lying AT+CMGL (read slot by slot with
AT+CMGR), indexes from 0 or 1, +CPMS with one to three memories, a usage counter that
lags after a delete.
"""

from __future__ import annotations

import contextlib
import logging
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import TypeVar

from smsbridge.config.sections import ModemConfig
from smsbridge.errors import CommandError, ModemTimeout, PortError, SimError
from smsbridge.modem import profiles, sim
from smsbridge.modem.at import (
    Answer,
    PduLine,
    answer_fields,
    answer_value,
    message_reference,
    parse_cpms,
)
from smsbridge.modem.at_channel import BUSY_PAUSE, SIM_BUSY, AtChannel, Opener, error_key
from smsbridge.modem.at_status import read_status
from smsbridge.modem.at_ussd import ask_ussd
from smsbridge.modem.base import ModemEvent, ModemStatus, NewMessage, StoredMessage
from smsbridge.sms.pdu import encode_submit

log = logging.getLogger(__name__)

T = TypeVar("T")

# 27.005 §3.2.5 321 "invalid memory index", 27.007 §9.2.1 21/22: the slot is empty.
_EMPTY_SLOT = {("CMS", 321), ("CME", 21), ("CME", 22)}
_WRONG_PIN = {("CME", 16)}
_NO_SIM = {("CME", 10), ("CMS", 310)}
# 27.005 §3.4.1: mt=1 stores and announces with +CMTI; ds=2 stores status reports and
# announces them with +CDSI. Older firmware refuses ds=2; ds=1 then sends +CDS directly.
_CNMI_CHOICES = ("AT+CNMI=2,1,0,2,0", "AT+CNMI=2,1,0,1,0")


class AtModem:
    """A GSM modem spoken to with 27.005/27.007 AT commands over a pyserial URL."""

    def __init__(self, port: str, *, baudrate: int = 115200, pin: str = "",
                 memory: str = "SM", profile: str = "auto", command_timeout: float = 10.0,
                 send_timeout: float = 60.0, sim_busy_wait: float = 30.0,
                 opener: Opener | None = None, refused_pin: str | None = None) -> None:
        self.url = port
        self._pin = pin
        self._memory = memory
        self._profile_name = profile
        self._profile = profiles.GENERIC if profile == "auto" else profiles.by_name(profile)
        self.send_timeout = send_timeout
        self._channel = AtChannel(port, baudrate=baudrate, command_timeout=command_timeout,
                                  sim_busy_wait=sim_busy_wait, opener=opener)
        self._channel.reboot_hints = self._profile.reboot_hints
        self._wanted_open = False
        self._ready = False  # initialised since the port was last opened
        self._refused_pin = refused_pin  # sim.fingerprint() of a PIN the SIM refused
        self._cmgl_broken = False
        # Where replies are written to be sent (<mem2>), and whether AT+CMGW/AT+CMSS
        # answer at all: both learnt in _initialise.
        self._write_memory = memory
        self._store_send = False
        self._index_base: int | None = self._profile.index_base
        # 23.040 §9.2.3.24.1: one concatenation reference per message; start anywhere so a
        # restart does not reuse the reference of a message the network still reassembles.
        self._reference = random.randrange(256)

    @classmethod
    def from_config(cls, cfg: ModemConfig, *, port: str | None = None,
                    refused_pin: str | None = None) -> AtModem:
        return cls(port or cfg.port, baudrate=cfg.baudrate, pin=cfg.pin, memory=cfg.memory,
                   profile=cfg.profile, command_timeout=cfg.command_timeout,
                   send_timeout=cfg.send_timeout, sim_busy_wait=cfg.sim_busy_wait,
                   refused_pin=refused_pin)

    @property
    def profile(self) -> profiles.Profile:
        return self._profile

    @property
    def command_timeout(self) -> float:
        return self._channel.command_timeout

    @property
    def sim_busy_wait(self) -> float:
        return self._channel.sim_busy_wait

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
        self._ready = False
        self._channel.close()

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
                    self._channel.command("AT", timeout=min(self.command_timeout, 2.0))
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
            self._channel.command(f"AT+CMGD={index}")
        except CommandError as exc:
            if error_key(exc) not in _EMPTY_SLOT:
                raise

    def send(self, number: str, text: str, *, status_report: bool = True,
             reference: int | None = None) -> list[int | None]:
        """Send every part with AT+CMGS; the TP-MR of each (None: accepted without a
        readable one). A refusal mid-way raises CommandError with the modem's code; the
        parts before it were sent."""
        self._ensure_ready()
        if reference is None:
            self._reference = (self._reference + 1) % 256
            reference = self._reference
        parts = encode_submit(number, text, reference=reference & 0xFF,
                              status_report=status_report)
        references: list[int | None] = []
        for part in parts:
            answer = self._channel.command(f"AT+CMGS={part.tpdu_length}",
                                           timeout=self.send_timeout, pdu_hex=part.hex)
            references.append(self._reference_of(answer, "+CMGS"))
        self._recover_settings()
        return references

    # -- sending through storage (modem.base.StoreAndSend) -----------------------------

    def can_store_and_send(self) -> bool:
        self._ensure_ready()
        return self._store_send

    def write(self, number: str, text: str, *, status_report: bool = True,
              reference: int | None = None) -> list[int]:
        """AT+CMGW each part (27.005 §3.5.3): stored "STO UNSENT" in <mem2>."""
        self._ensure_ready()
        if reference is None:
            self._reference = (self._reference + 1) % 256
            reference = self._reference
        slots = []
        for part in encode_submit(number, text, reference=reference & 0xFF,
                                  status_report=status_report):
            answer = self._channel.command(f"AT+CMGW={part.tpdu_length}", pdu_hex=part.hex)
            value = answer_value(answer, "+CMGW")
            if value is None or not value.strip().isdigit():
                raise CommandError(f"AT+CMGW={part.tpdu_length}", None, None,
                                   f"no storage index in the answer {value!r}")
            slots.append(int(value))
        return slots

    def send_stored(self, slot: int) -> int | None:
        """AT+CMSS (27.005 §3.5.2): send a slot of <mem2>; its TP-MR (None: accepted
        without a readable one). CommandLost when the stick answered a probe sent behind
        it instead: whether it went out is the slot's to say (``pool/sending.py``)."""
        self._ensure_ready()
        answer = self._channel.command(f"AT+CMSS={slot}", timeout=self.send_timeout,
                                       settled_by_caller=True)
        return self._reference_of(answer, "+CMSS")

    def _reference_of(self, answer: Answer, prefix: str) -> int | None:
        reference = message_reference(answer, prefix)
        if reference is None:
            log.warning("%s: the modem accepted the SMS (OK) without a readable message "
                        "reference (%r): sent, its delivery report cannot be matched",
                        prefix, answer_value(answer, prefix))
        return reference

    def outgoing(self) -> list[StoredMessage]:
        self._ensure_ready()
        with self._reading_write_memory():
            listed = self._list()
        return [m for m in listed if m.status in (2, 3)]

    def delete_outgoing(self, slot: int) -> None:
        self._ensure_ready()
        with self._reading_write_memory():
            self._delete(slot)

    @contextlib.contextmanager
    def _reading_write_memory(self) -> Iterator[None]:
        # Listing, reading and deleting act on <mem1>: point it at the write memory for
        # the moment, then back at the memory reports arrive in.
        if self._write_memory == self._memory:
            yield
            return
        self._channel.command(self._cpms(self._write_memory))
        try:
            yield
        finally:
            self._channel.command(self._cpms(self._memory))

    def status(self) -> ModemStatus:
        """What the modem says about itself; each unanswerable question stays None."""
        self._ensure_port()
        return read_status(self._channel, sim=self._sim_state(), memory=self._memory)

    def ussd(self, code: str, *, timeout: float = 30.0) -> str:
        """Ask the network ``code`` (27.007 §7.15 AT+CUSD); its answer as text."""
        self._ensure_ready()
        return ask_ussd(self._channel, code, timeout)

    def poll_events(self, timeout: float) -> list[ModemEvent]:
        self._ensure_port()
        self._channel.wait_for_events(timeout)
        if self._channel.port is not None and self._ready:
            self._recover_settings()
        return self._channel.take_events()

    # -- connection and initialisation ---------------------------------------------------

    def _connect(self) -> None:
        self._ready = False
        self._channel.open()

    def _ensure_port(self) -> None:
        if self._channel.port is None:
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
        self._channel.echo_off = False  # ATE0 itself may be echoed
        self._channel.command("ATE0")
        self._channel.echo_off = True
        self._channel.settings_suspect = self._channel.restarted = False
        self._channel.command("AT+CMEE=1")
        if self._profile_name == "auto":
            self._profile = profiles.for_manufacturer(self._channel.query("AT+CGMI"))
            self._channel.reboot_hints = self._profile.reboot_hints
            if self._index_base is None:
                self._index_base = self._profile.index_base
        self._unlock_sim()
        self._channel.command("AT+CMGF=0")
        self._write_memory = self._choose_write_memory()
        self._select_storage()
        self._store_send = self._profile.store_send and all(
            self._answers(f"{c}=?") for c in ("AT+CMGW", "AT+CMSS"))
        self._first_accepted(_CNMI_CHOICES)
        for extra in self._profile.init_extra:
            try:
                self._channel.command(extra)
            except CommandError as exc:
                log.info("optional %s refused: %s", extra, exc)
        self._ready = True
        log.info("modem initialised (profile %s, memory %s)", self._profile.name, self._memory)

    def _unlock_sim(self) -> None:
        facts = sim.SimFacts(self._sim_state(), self._pin, self._refused_pin)
        decision = sim.decide(facts)
        if isinstance(decision, sim.EnterPin):
            try:
                self._channel.command(f'AT+CPIN="{decision.pin}"', log_as='AT+CPIN="****"')
            except CommandError as exc:
                if error_key(exc) in _WRONG_PIN:
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
            self._channel.wait(BUSY_PAUSE)

    def _sim_state(self) -> str | None:
        try:
            answer = self._channel.command("AT+CPIN?")
        except CommandError as exc:
            if error_key(exc) in _NO_SIM:
                return sim.NOT_INSERTED
            if error_key(exc) in SIM_BUSY:
                return "BUSY"
            return exc.name or "ERROR"
        return (answer_value(answer, "+CPIN") or "").upper() or None

    def _select_storage(self) -> None:
        memory = f'"{self._memory}"'
        choices = [f"AT+CPMS={','.join([memory] * n)}"
                   for n in range(self._profile.cpms_memories, 0, -1)]
        if self._write_memory != self._memory:
            try:
                self._channel.command(self._cpms(self._memory))
                return
            except CommandError as exc:
                log.info("%s refused (%s): replies are written to %s", self._cpms(self._memory),
                         exc, self._memory)
                self._write_memory = self._memory
        self._first_accepted(choices)

    def _choose_write_memory(self) -> str:
        """ME for replies waiting in storage, where the modem has it and AT+CPMS takes
        a separate <mem2>: they then never take a SIM slot an incoming report needs."""
        if self._memory != "SM" or self._profile.cpms_memories < 2:
            return self._memory
        offered = self._channel.query("AT+CPMS=?") or ""
        groups = offered.split("),")
        mem2 = groups[1] if len(groups) > 1 else groups[0]
        return "ME" if '"ME"' in mem2 else self._memory

    def _cpms(self, first: str) -> str:
        return f'AT+CPMS="{first}","{self._write_memory}","{self._memory}"'

    def _answers(self, command: str) -> bool:
        try:
            self._channel.command(command)
        except CommandError:
            return False
        return True

    def _first_accepted(self, commands: list[str] | tuple[str, ...]) -> Answer:
        for command in commands[:-1]:
            try:
                return self._channel.command(command)
            except CommandError as exc:
                log.info("%s refused (%s), trying the next form", command, exc)
        return self._channel.command(commands[-1])

    def _recover_settings(self) -> bool:
        """Re-initialise when the modem restarted behind our back; True if it did."""
        if self._channel.restarted:
            log.warning("the modem echoes commands again: it restarted; re-initialising")
        elif self._channel.settings_suspect:
            self._channel.settings_suspect = False
            mode = self._channel.query("AT+CMGF?")
            if mode is not None and mode.strip() == "0" and not self._channel.restarted:
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
            self._channel.events.append(NewMessage(message.memory, message.index))

    def _retrying_after_restart(self, operation: Callable[[], T]) -> T:
        """Run a storage operation; if it failed because the modem restarted (PDU mode
        lost: CMGL/CMGR/CMGD answer ERROR), re-initialise and run it once more."""
        try:
            result = operation()
        except CommandError:
            self._channel.settings_suspect = True
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
        answer = self._channel.command("AT+CMGL=4", timeout=timeout)
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
        value = self._channel.query("AT+CPMS?")
        parsed = parse_cpms(f"+CPMS: {value}") if value else None
        return parsed[1] if parsed else None

    def _list_by_slot(self) -> list[StoredMessage]:
        value = self._channel.query("AT+CPMS?")
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
            answer = self._channel.command(f"AT+CMGR={index}")
        except CommandError as exc:
            if error_key(exc) in _EMPTY_SLOT:
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
