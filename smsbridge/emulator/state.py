"""What one emulated modem holds, and what happens to it without a command.

The session settings that ATZ resets, the SIM's lock, the two storages (27.005 §3.2.2),
power, and the network side: its queue and the deliveries into storage that a driver
hears of as +CMTI/+CDSI. :class:`ModemState` also has the few helpers every command
shares (an information answer, a number argument, the SIM check). The commands are in
``general_commands.py`` (27.007) and ``sms_commands.py`` (27.005); ``core.py`` puts
them together as :class:`~smsbridge.emulator.core.ModemCore`. No I/O here either.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from smsbridge.emulator.settings import EmulatorSettings
from smsbridge.errors import CommandError
from smsbridge.sms import pdu as pdu_codec


class Sink(Protocol):
    def reply(self, data: bytes) -> None:
        """Bytes for the line whose command is running."""

    def urc(self, data: bytes) -> None:
        """An unsolicited result code, for every line."""


@dataclass(frozen=True)
class SentSms:
    """One SMS-SUBMIT the emulator accepted (what a driver sent)."""

    recipient: str
    text: str
    pdu: bytes  # as written after the prompt, SMSC part included
    reference: int  # the TP-MR answered in "+CMGS: <mr>"
    concat: pdu_codec.Concat | None
    at: float  # monotonic time of acceptance


@dataclass(frozen=True)
class Prompt:
    """A command waiting for its PDU after "> " (27.005 §3.5.1 CMGS, §3.5.3 CMGW)."""

    command: str  # "+CMGS" or "+CMGW"
    length: int  # TPDU octets announced, the SMSC part excluded
    stat: int = 2  # for CMGW: the <stat> to store with


@dataclass
class Slot:
    stat: int  # 0 REC UNREAD, 1 REC READ, 2 STO UNSENT, 3 STO SENT
    pdu: bytes


@dataclass
class Session:
    """What ATZ or a reboot sets back to power-on values."""

    echo: bool
    cmee: int = 0
    cmgf: int = 0
    cnmi: tuple[int, int, int, int, int] = (0, 0, 0, 0, 0)
    cpms: tuple[str, str, str] = ("SM", "SM", "SM")
    creg_n: int = 0
    cgreg_n: int = 0
    cops_format: int = 0  # +COPS <format>: 0 long name, 1 short name, 2 numeric
    cscs: str = "GSM"


@dataclass
class Sim:
    pin: str | None
    unlocked: bool = False
    wrong_tries: int = 0
    busy_until: float = 0.0

    @property
    def state(self) -> str:
        if self.wrong_tries >= 3:
            return "SIM PUK"
        if self.pin is not None and not self.unlocked:
            return "SIM PIN"
        return "READY"


@dataclass
class Network:
    queue: deque[tuple[bool, bytes]] = field(default_factory=deque)  # (is_report, pdu)
    held: bool = False
    next_delivery: float = 0.0


def tpdu_length(pdu: bytes) -> int:
    """The <length> of a listing: octets after the SMSC part (27.005 §3.1)."""
    if not pdu:
        return 0
    return max(0, len(pdu) - 1 - pdu[0])


def _is_status_report(pdu: bytes) -> bool:
    # TP-MTI (23.040 §9.2.3.1) of the first TPDU octet; 0b10 is SMS-STATUS-REPORT.
    first = 1 + pdu[0] if pdu else 0
    return first < len(pdu) and pdu[first] & 0x03 == 0x02


class ModemState:
    """The state of one emulated modem and the rules that change it without a command."""

    def __init__(self, settings: EmulatorSettings, clock: Callable[[], float], sink: Sink):
        self.settings = settings
        self.clock = clock
        self.sink = sink
        self.session = Session(echo=settings.echo)
        self.sim = Sim(pin=settings.pin)
        self.network = Network()
        # 27.005 §3.2.2: the SIM ("SM") and the modem's own memory ("ME") are separate
        # storages, each with its own indexes (a Huawei E1752 answers AT+CPMS="ME","ME"
        # with "+CPMS: 0,23,0,23,1,50": 23 slots in ME, 50 on the SIM). Messages land in
        # <mem3>; a driver that reads every memory in turn (Gammu) finds each once.
        self.storage: dict[int, Slot] = {}  # the SIM
        self.phone_storage: dict[int, Slot] = {}  # ME
        self.sent: list[SentSms] = []
        self.powered = True
        self.radio_on = True
        self.revision = settings.revision
        self.smsc = settings.smsc
        self.fail_sends = 0
        self.fail_code = 500
        # The next sends accepted with OK but no readable "+CMGS:/+CMSS: <mr>" line:
        # "missing" leaves it out, "garbage" writes line noise in its place.
        self.odd_references = 0
        self.odd_reference_kind = "missing"
        self.credit = settings.credit
        self.sms_left = settings.sms_package
        self.active_until = settings.active_until
        self.later: list[tuple[float, bytes]] = []  # (when, URC): answers that come late
        self.commands_seen = 0  # for settings.drop_one_in
        self.drop_next: str | None = None  # the next command starting so is lost
        self.listing_hook: int | None = None  # deliver one message after this many entries
        # (clock time, PDU) of each delivery into storage, i.e. each +CMTI/+CDSI: what
        # benchmarks measure latency from. Bounded, so a long-running emulator stays small.
        self.deliveries: deque[tuple[float, bytes]] = deque(maxlen=100_000)
        self._next_mr = 0
        self._lagged_used: int | None = None

    # ---------------------------------------------------------------- power
    def boot(self) -> None:
        """Power-on: session settings lost; the SIM asks for its PIN again; storage kept."""
        self.session = Session(echo=self.settings.echo)
        self.sim = Sim(pin=self.settings.pin,
                        busy_until=self.clock() + self.settings.sim_busy_at_start)
        self.radio_on = True
        self._lagged_used = None
        for line in self.settings.boot_urcs:
            self.sink.urc(_block(line))

    # ---------------------------------------------------------------- storage
    @property
    def indexes(self) -> range:
        return self._indexes("SM")

    def _store(self, memory: str) -> dict[int, Slot]:
        # "MT" ("any storage of the ME", 27.005 §3.1) is served from the SIM, where
        # this modem keeps what it receives unless <mem3> says "ME".
        return self.phone_storage if memory == "ME" else self.storage

    def _indexes(self, memory: str) -> range:
        first = self.settings.first_index
        size = self.settings.phone_storage_size if memory == "ME" else self.settings.storage_size
        return range(first, first + size)

    def _free_index(self, memory: str = "SM") -> int | None:
        store = self._store(memory)
        for index in self._indexes(memory):
            if index not in store:
                return index
        return None

    def _delete(self, memory: str, index: int) -> None:
        store = self._store(memory)
        if index in store:
            if self._lagged_used is None and store is self.storage:
                self._lagged_used = len(store)
            del store[index]

    # ---------------------------------------------------------------- network side
    def inject(self, pdu: bytes, *, report: bool | None = None) -> None:
        is_report = _is_status_report(pdu) if report is None else report
        self.network.queue.append((is_report, pdu))

    def deliver_due(self, now: float) -> float | None:
        """Deliver what the network may deliver now; return when to try again.

        ``None`` means nothing will become deliverable by time alone (queue empty,
        held, or storage full: a delete or a control call wakes the server).
        """
        waiting = []
        for when, urc in self.later:
            if when <= now:
                self.sink.urc(urc)
            else:
                waiting.append((when, urc))
        self.later = waiting
        net = self.network
        while net.queue and not net.held and self.powered and self.radio_on:
            if now < net.next_delivery:
                return net.next_delivery
            if not self._deliver_one():
                return None
            net.next_delivery = now + self.settings.delivery_gap
        return min((when for when, _ in self.later), default=None)

    def _deliver_one(self) -> bool:
        """Hand the oldest queued message to the modem; False while storage is full."""
        is_report, pdu = self.network.queue[0]
        _mode, mt, _bm, ds, _bfr = self.session.cnmi
        # 27.005 §3.4.1: mt=2 / ds=1 route the PDU straight to the TE, unstored.
        direct = ds == 1 if is_report else mt == 2
        if direct:
            self.network.queue.popleft()
            urc = "+CDS: " if is_report else "+CMT: ,"
            self.sink.urc(_block(f"{urc}{tpdu_length(pdu)}", pdu.hex().upper()))
            return True
        memory = self.session.cpms[2]
        index = self._free_index(memory)
        if index is None:
            return False
        self.network.queue.popleft()
        self._store(memory)[index] = Slot(0, pdu)
        self.deliveries.append((self.clock(), pdu))
        if is_report and ds == 2:
            self.sink.urc(_block(f'+CDSI: "{memory}",{index}'))
        elif not is_report and mt in (1, 3):
            self.sink.urc(_block(f'+CMTI: "{memory}",{index}'))
        return True

    # ---------------------------------------------------------------- for every command
    def _info(self, *lines: str) -> None:
        self.sink.reply(_block(*lines))

    def _require_sim(self, command: str, kind: str) -> None:
        if self.clock() < self.sim.busy_until:
            raise CommandError(command, kind, 314 if kind == "CMS" else 14)
        state = self.sim.state
        if state == "SIM PIN":
            raise CommandError(command, kind, 311 if kind == "CMS" else 11)
        if state == "SIM PUK":
            raise CommandError(command, kind, 316 if kind == "CMS" else 12)

    @staticmethod
    def _int(command: str, value: str, lo: int, hi: int, kind: str = "CMS") -> int:
        if not value.isdigit() or not lo <= int(value) <= hi:
            raise CommandError(command, kind, 304 if kind == "CMS" else 3)
        return int(value)


class AlreadyAnswered(CommandError):
    """A command that wrote its own final answer (or, for a hang, none at all)."""

    def __init__(self) -> None:
        super().__init__("(answered)")


def _block(*lines: str) -> bytes:
    return ("\r\n" + "\r\n".join(lines) + "\r\n").encode("latin-1")
