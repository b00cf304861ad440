"""The emulated GSM modem itself: AT commands, SIM storage and the network side.

No I/O and no threads here: :class:`ModemCore` is fed one command line at a time
by the server in ``device.py`` (which owns the pty/TCP lines, the clock-driven
timers and the lock) and answers through a :class:`Sink`. Keeping the modem's
behaviour apart from the plumbing lets each be read on its own.

The answers follow 27.007 (general commands) and 27.005 (SMS, PDU mode) as USB
sticks of the Huawei E173 kind give them, V.250 verbose format (``\\r\\n<text>\\r\\n``).
"""

from __future__ import annotations

import csv
import re
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from smsbridge.emulator.settings import EmulatorSettings
from smsbridge.errors import CommandError, PduError
from smsbridge.sms import pdu as pdu_codec

# Verbose texts for AT+CMEE=2 (27.005 §3.2.5, 27.007 §9.2).
CMS_TEXT = {
    300: "ME failure", 302: "operation not allowed", 303: "operation not supported",
    304: "invalid PDU mode parameter", 310: "SIM not inserted", 311: "SIM PIN required",
    314: "SIM busy", 316: "SIM PUK required", 321: "invalid memory index",
    322: "memory full", 500: "unknown error",
}
CME_TEXT = {
    3: "operation not allowed", 4: "operation not supported", 11: "SIM PIN required",
    12: "SIM PUK required", 14: "SIM busy", 16: "incorrect password", 100: "unknown",
}

_EXTENDED = re.compile(r"([+^][A-Za-z]+)(=\?|=|\?)?(.*)", re.S)
_BASIC = re.compile(r"(&?[A-Za-z])(\d*)")


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
class _Slot:
    stat: int  # 0 REC UNREAD, 1 REC READ, 2 STO UNSENT, 3 STO SENT
    pdu: bytes


@dataclass
class _Session:
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
class _Sim:
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
class _Network:
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


class ModemCore:
    """State and behaviour of one emulated modem; every call under the server's lock."""

    def __init__(self, settings: EmulatorSettings, clock: Callable[[], float], sink: Sink):
        self.settings = settings
        self.clock = clock
        self.sink = sink
        self.session = _Session(echo=settings.echo)
        self.sim = _Sim(pin=settings.pin)
        self.network = _Network()
        # 27.005 §3.2.2: the SIM ("SM") and the modem's own memory ("ME") are separate
        # storages, each with its own indexes (a Huawei E1752 answers AT+CPMS="ME","ME"
        # with "+CPMS: 0,23,0,23,1,50": 23 slots in ME, 50 on the SIM). Messages land in
        # <mem3>; a driver that reads every memory in turn (Gammu) finds each once.
        self.storage: dict[int, _Slot] = {}  # the SIM
        self.phone_storage: dict[int, _Slot] = {}  # ME
        self.sent: list[SentSms] = []
        self.powered = True
        self.radio_on = True
        self.revision = settings.revision
        self.smsc = settings.smsc
        self.fail_sends = 0
        self.fail_code = 500
        self.listing_hook: int | None = None  # deliver one message after this many entries
        # (clock time, PDU) of each delivery into storage, i.e. each +CMTI/+CDSI: what
        # benchmarks measure latency from. Bounded, so a long-running emulator stays small.
        self.deliveries: deque[tuple[float, bytes]] = deque(maxlen=100_000)
        self._next_mr = 0
        self._lagged_used: int | None = None
        self._handlers: dict[str, Callable[[str, list[str]], None]] = {
            "+CMEE": self._cmee, "+CPIN": self._cpin, "+CMGF": self._cmgf, "+CPMS": self._cpms,
            "+CNMI": self._cnmi, "+CMGL": self._cmgl, "+CMGR": self._cmgr, "+CMGD": self._cmgd,
            "+CMGS": self._cmgs, "+CMGW": self._cmgw, "+CSQ": self._csq, "+CREG": self._creg,
            "+COPS": self._cops, "+CGMI": self._cgmi, "+CGMM": self._cgmm, "+CGMR": self._cgmr,
            "+CGSN": self._cgsn, "+GMI": self._cgmi, "+GMM": self._cgmm, "+GMR": self._cgmr,
            "+GSN": self._cgsn, "+CIMI": self._cimi, "+CSCA": self._csca, "+CFUN": self._cfun,
            "+CSMS": self._csms, "^CURC": self._accept, "+CSCS": self._cscs,
            "+CMMS": self._cmms, "+CGREG": self._cgreg, "+CGATT": self._cgatt,
            # Call waiting and USSD: a Huawei stick takes Gammu's init switching them off.
            "+CCWA": self._accept, "+CUSD": self._accept,
            # Huawei: which port gets URCs; Gammu sends it after ^CURC=0 to any "huawei".
            "^PORTSEL": self._accept,
        }
        self.boot()

    # ---------------------------------------------------------------- power
    def boot(self) -> None:
        """Power-on: session settings lost; the SIM asks for its PIN again; storage kept."""
        self.session = _Session(echo=self.settings.echo)
        self.sim = _Sim(pin=self.settings.pin,
                        busy_until=self.clock() + self.settings.sim_busy_at_start)
        self.radio_on = True
        self._lagged_used = None
        for line in self.settings.boot_urcs:
            self.sink.urc(_block(line))

    # ---------------------------------------------------------------- storage
    @property
    def indexes(self) -> range:
        return self._indexes("SM")

    def _store(self, memory: str) -> dict[int, _Slot]:
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
        net = self.network
        while net.queue and not net.held and self.powered and self.radio_on:
            if now < net.next_delivery:
                return net.next_delivery
            if not self._deliver_one():
                return None
            net.next_delivery = now + self.settings.delivery_gap
        return None

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
        self._store(memory)[index] = _Slot(0, pdu)
        self.deliveries.append((self.clock(), pdu))
        if is_report and ds == 2:
            self.sink.urc(_block(f'+CDSI: "{memory}",{index}'))
        elif not is_report and mt in (1, 3):
            self.sink.urc(_block(f'+CMTI: "{memory}",{index}'))
        return True

    # ---------------------------------------------------------------- commands
    def execute(self, line: str) -> Prompt | None:
        """Run one command line (``AT…``); the answer goes to the sink.

        Returns a Prompt when the command waits for a PDU; the caller then feeds
        the bytes up to Ctrl-Z to :meth:`finish_body` (or ESC to :meth:`cancel_body`).
        """
        text = line.strip()
        if text[:2].upper() != "AT":
            return None  # noise without the AT prefix is ignored, as by real modems
        prompt: Prompt | None = None
        try:
            for segment in _split_outside_quotes(text[2:], ";"):
                prompt = self._segment(segment.strip())
        except _AlreadyAnswered:
            return None
        except CommandError as exc:
            self._final_error(exc)
            return None
        if prompt is None:
            self.sink.reply(b"\r\nOK\r\n")
        else:
            self.sink.reply(b"\r\n> ")
        return prompt

    def _segment(self, segment: str) -> Prompt | None:
        while segment and segment[0] not in "+^":
            match = _BASIC.match(segment)
            if match is None:
                raise CommandError(segment)
            self._basic(match[1].upper(), match[2])
            segment = segment[match.end():]
        if not segment:
            return None
        match = _EXTENDED.fullmatch(segment)
        if match is None:
            raise CommandError(segment)
        name, op, rest = match[1].upper(), match[2] or "", match[3]
        if rest and op not in ("=",):
            raise CommandError(name)
        handler = self._handlers.get(name)
        if handler is None:
            raise CommandError(name, "CME", 100)
        args = [a.strip() for a in next(csv.reader([rest], skipinitialspace=True))] if rest else []
        if name in ("+CMGS", "+CMGW") and op == "=":
            return self._prompt(name, args)
        handler(op, args)
        return None

    def _basic(self, letter: str, value: str) -> None:
        if letter == "E":
            self.session.echo = value == "1"
        elif letter == "Z" or letter == "&F":
            self.session = _Session(echo=self.settings.echo)
        elif letter == "I":
            self._info(self.settings.manufacturer, self.settings.model,
                       f"Revision: {self.revision}")
        elif letter in ("V", "Q", "&W", "&C", "&D", "S", "X"):
            if letter == "V" and value == "0":
                raise CommandError("ATV0", "CME", 4)  # numeric result codes: not emulated
        else:
            raise CommandError(f"AT{letter}{value}")

    def _final_error(self, exc: CommandError) -> None:
        cmee = self.session.cmee
        if exc.kind is None or cmee == 0:
            self.sink.reply(b"\r\nERROR\r\n")
            return
        table = CMS_TEXT if exc.kind == "CMS" else CME_TEXT
        code = exc.code if exc.code is not None else 100
        what = table.get(code, str(code)) if cmee == 2 else str(code)
        self.sink.reply(f"\r\n+{exc.kind} ERROR: {what}\r\n".encode())

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

    # ---------------------------------------------------------------- general (27.007)
    def _accept(self, op: str, args: list[str]) -> None:
        pass

    def _cmee(self, op: str, args: list[str]) -> None:
        if op == "?":
            self._info(f"+CMEE: {self.session.cmee}")
        elif op == "=?":
            self._info("+CMEE: (0-2)")
        else:
            self.session.cmee = self._int("+CMEE", args[0] if args else "0", 0, 2, "CME")

    def _cscs(self, op: str, args: list[str]) -> None:
        # 27.007 §5.5. Only what text-mode and phonebook strings would be in: PDU mode
        # (all we serve) ignores it, but Gammu's init asks for it and gives up on an error.
        charsets = ("GSM", "IRA", "UCS2")
        if op == "?":
            self._info(f'+CSCS: "{self.session.cscs}"')
        elif op == "=?":
            self._info("+CSCS: (" + ",".join(f'"{c}"' for c in charsets) + ")")
        elif args and args[0].strip('"').upper() in charsets:
            self.session.cscs = args[0].strip('"').upper()
        else:
            raise CommandError("+CSCS", "CME", 4)

    def _cmms(self, op: str, args: list[str]) -> None:
        # 27.005 §3.5.6 "more messages to send": keeps the radio link between sends.
        if op == "?":
            self._info("+CMMS: 0")
        elif op == "=?":
            self._info("+CMMS: (0-2)")
        else:
            self._int("+CMMS", args[0] if args else "0", 0, 2)

    def _cpin(self, op: str, args: list[str]) -> None:
        if self.clock() < self.sim.busy_until:
            raise CommandError("+CPIN", "CME", 14)
        if op == "?":
            self._info(f"+CPIN: {self.sim.state}")
            return
        if op != "=" or not args:
            raise CommandError("+CPIN", "CME", 3)
        state = self.sim.state
        if state == "SIM PUK":
            raise CommandError("+CPIN", "CME", 12)
        if state == "READY":
            raise CommandError("+CPIN", "CME", 3)
        if args[0] != self.sim.pin:
            # Three wrong PINs lock the SIM (31.102): why a driver must never retry one.
            self.sim.wrong_tries += 1
            raise CommandError("+CPIN", "CME", 16)
        self.sim.unlocked = True

    def _csq(self, op: str, args: list[str]) -> None:
        rssi = self.settings.rssi if self.radio_on else 99
        self._info(f"+CSQ: {rssi},99")

    def _creg(self, op: str, args: list[str]) -> None:
        if op == "?":
            self._info(self._registration("+CREG", self.session.creg_n))
        elif op == "=?":
            self._info("+CREG: (0-2)")
        else:
            self.session.creg_n = self._int("+CREG", args[0] if args else "0", 0, 2, "CME")

    def _cgreg(self, op: str, args: list[str]) -> None:
        # 27.007 §10.1.20, the packet-domain twin of +CREG; Gammu's GetNetworkInfo sets
        # it and gives up when it is unknown. The stick attaches where it registers.
        if op == "?":
            self._info(self._registration("+CGREG", self.session.cgreg_n))
        elif op == "=?":
            self._info("+CGREG: (0-2)")
        else:
            self.session.cgreg_n = self._int("+CGREG", args[0] if args else "0", 0, 2, "CME")

    def _cgatt(self, op: str, args: list[str]) -> None:
        # 27.007 §10.1.9: attached to the packet domain whenever registered.
        if op == "?":
            self._info(f"+CGATT: {int(self.radio_on and self.settings.registration in (1, 5))}")
        elif op == "=?":
            self._info("+CGATT: (0-1)")

    def _registration(self, name: str, n: int) -> str:
        stat = self.settings.registration if self.radio_on else 0
        if n == 2 and stat in (1, 5):
            # 27.007 §7.2: with <n>=2 the answer names the cell, <lac> and <ci> in hex.
            return f'{name}: {n},{stat},"{self.settings.lac}","{self.settings.cell}"'
        return f"{name}: {n},{stat}"

    def _cops(self, op: str, args: list[str]) -> None:
        numeric = self.settings.imsi[:5]  # MCC+MNC: the home network's code
        if op == "?":
            if self.radio_on and self.settings.registration in (1, 5):
                fmt = self.session.cops_format
                name = numeric if fmt == 2 else self.settings.operator
                self._info(f'+COPS: 0,{fmt},"{name}",2')
            else:
                self._info("+COPS: 0")
        elif op == "=?":
            self._info(f'+COPS: (2,"{self.settings.operator}","{self.settings.operator}",'
                       f'"{numeric}",2),,(0-4),(0-2)')
        elif args and args[0] == "3":
            # 27.007 §7.3 <mode>=3: only sets the <format> of later answers (Gammu asks
            # for the numeric code, then the name).
            self.session.cops_format = self._int("+COPS", args[1] if len(args) > 1 else "0",
                                                 0, 2, "CME")

    def _cgmi(self, op: str, args: list[str]) -> None:
        self._info(self.settings.manufacturer)

    def _cgmm(self, op: str, args: list[str]) -> None:
        self._info(self.settings.model)

    def _cgmr(self, op: str, args: list[str]) -> None:
        self._info(self.revision)

    def _cgsn(self, op: str, args: list[str]) -> None:
        self._info(self.settings.imei)

    def _cimi(self, op: str, args: list[str]) -> None:
        self._require_sim("+CIMI", "CME")
        self._info(self.settings.imsi)

    def _cfun(self, op: str, args: list[str]) -> None:
        if op == "?":
            self._info(f"+CFUN: {1 if self.radio_on else 0}")
        elif op == "=?":
            self._info("+CFUN: (0,1,4),(0-1)")
        elif op == "=":
            fun = self._int("+CFUN", args[0] if args else "", 0, 4, "CME")
            reset = len(args) > 1 and args[1] == "1"
            if reset:
                # 27.007 §8.2: reset before setting; the OK goes out first, then the boot.
                self.sink.reply(b"\r\nOK\r\n")
                self.boot()
                raise _AlreadyAnswered()
            self.radio_on = fun == 1

    # ---------------------------------------------------------------- SMS (27.005)
    def _cmgf(self, op: str, args: list[str]) -> None:
        if op == "?":
            self._info(f"+CMGF: {self.session.cmgf}")
        elif op == "=?":
            self._info("+CMGF: (0)")
        elif args and args[0] == "0":
            self.session.cmgf = 0
        else:
            # Text mode is not emulated: it loses encodings, concatenation and zones.
            raise CommandError("+CMGF", "CMS", 303)

    def _csms(self, op: str, args: list[str]) -> None:
        if op == "?":
            self._info("+CSMS: 0,1,1,1")
        elif op == "=?":
            self._info("+CSMS: (0,1)")
        else:
            self._info("+CSMS: 1,1,1")

    def _csca(self, op: str, args: list[str]) -> None:
        if op == "?":
            kind = 145 if self.smsc.startswith("+") else 129
            self._info(f'+CSCA: "{self.smsc}",{kind}')
        elif op == "=" and args:
            self.smsc = args[0]

    def _cpms(self, op: str, args: list[str]) -> None:
        count = self.settings.cpms_memories
        if op == "=?":
            names = ",".join(f'"{m}"' for m in self.settings.memories)
            self._info("+CPMS: " + ",".join([f"({names})"] * count))
            return
        self._require_sim("+CPMS", "CMS")
        if op == "=":
            offered = self.settings.memories
            if not args or len(args) > 3 or any(a.upper() not in offered for a in args):
                raise CommandError("+CPMS", "CMS", 302)
            mems = [a.upper() for a in args]
            while len(mems) < 3:
                mems.append(self.session.cpms[len(mems)])
            self.session.cpms = (mems[0], mems[1], mems[2])
        sim_used = self._reported_used()
        fields = []
        for memory in self.session.cpms[:count]:
            store = self._store(memory)
            used = sim_used if store is self.storage else len(store)
            usage = f"{used},{len(self._indexes(memory))}"
            fields.append(f'"{memory}",{usage}' if op == "?" else usage)
        self._info("+CPMS: " + ",".join(fields))

    def _reported_used(self) -> int:
        """The SIM's used count as +CPMS reports it."""
        # Quirk (usage_lag): some sticks count a delete only from the second query on.
        if self.settings.usage_lag and self._lagged_used is not None:
            used, self._lagged_used = self._lagged_used, None
            return used
        self._lagged_used = None
        return len(self.storage)

    def _cnmi(self, op: str, args: list[str]) -> None:
        if op == "?":
            self._info("+CNMI: " + ",".join(map(str, self.session.cnmi)))
        elif op == "=?":
            self._info("+CNMI: (0-2),(0-3),(0,2),(0-2),(0,1)")
        else:
            limits = (2, 3, 3, 2, 1)
            if len(args) > len(limits):
                raise CommandError("+CNMI", "CMS", 302)
            values = [self._int("+CNMI", a or "0", 0, hi)
                      for a, hi in zip(args, limits, strict=False)]
            values += list(self.session.cnmi[len(values):])
            self.session.cnmi = (values[0], values[1], values[2], values[3], values[4])

    def _cmgl(self, op: str, args: list[str]) -> None:
        if op == "=?":
            self._info("+CMGL: (0-4)")
            return
        self._require_sim("+CMGL", "CMS")
        # 27.005 §3.4.2: in PDU mode <stat> is 0-4 and defaults to 0 (REC UNREAD).
        stat = self._int("+CMGL", args[0] if args else "0", 0, 4)
        if self.settings.cmgl_broken:
            raise _AlreadyAnswered()  # Huawei quirk: the listing never answers
        store = self._store(self.session.cpms[0])
        entries = [(i, s) for i, s in sorted(store.items()) if stat in (4, s.stat)]
        for count, (index, slot) in enumerate(entries, start=1):
            self._info(f"+CMGL: {index},{slot.stat},,{tpdu_length(slot.pdu)}",
                       slot.pdu.hex().upper())
            if slot.stat == 0:
                slot.stat = 1
            if self.listing_hook == count:
                self.listing_hook = None
                if self.network.queue:
                    self._deliver_one()

    def _cmgr(self, op: str, args: list[str]) -> None:
        if op == "=?":
            return
        self._require_sim("+CMGR", "CMS")
        index = self._int("+CMGR", args[0] if args else "", 0, 65535)
        slot = self._store(self.session.cpms[0]).get(index)
        if slot is None:
            raise CommandError("+CMGR", "CMS", 321)
        self._info(f"+CMGR: {slot.stat},,{tpdu_length(slot.pdu)}", slot.pdu.hex().upper())
        if slot.stat == 0:
            slot.stat = 1

    def _cmgd(self, op: str, args: list[str]) -> None:
        memory = self.session.cpms[0]
        store = self._store(memory)
        if op == "=?":
            used = ",".join(map(str, sorted(store)))
            self._info(f"+CMGD: ({used}),(0-4)")
            return
        self._require_sim("+CMGD", "CMS")
        index = self._int("+CMGD", args[0] if args else "", 0, 65535)
        flag = self._int("+CMGD", args[1], 0, 4) if len(args) > 1 and args[1] else 0
        if flag == 0:
            if index not in self._indexes(memory):
                raise CommandError("+CMGD", "CMS", 321)
            self._delete(memory, index)
            return
        # 27.005 §3.5.4 <delflag>: 1 read, 2 read+sent, 3 read+sent+unsent, 4 all.
        doomed = {1: {1}, 2: {1, 3}, 3: {1, 2, 3}, 4: {0, 1, 2, 3}}[flag]
        for i in [i for i, s in store.items() if s.stat in doomed]:
            self._delete(memory, i)

    def _cmgs(self, op: str, args: list[str]) -> None:
        pass  # only "=?" reaches here; "=" goes through _prompt

    _cmgw = _cmgs

    def _prompt(self, name: str, args: list[str]) -> Prompt:
        self._require_sim(name, "CMS")
        length = self._int(name, args[0] if args else "", 1, 255)
        stat = self._int(name, args[1], 2, 3) if name == "+CMGW" and len(args) > 1 else 2
        if name == "+CMGW" and self._free_index(self.session.cpms[1]) is None:
            raise CommandError(name, "CMS", 322)
        return Prompt(name, length, stat)

    def cancel_body(self) -> None:
        """ESC after the prompt: nothing is sent."""
        self.sink.reply(b"\r\nOK\r\n")

    def finish_body(self, prompt: Prompt, body: bytes) -> None:
        """The PDU hex written after the prompt, up to (not including) Ctrl-Z."""
        try:
            self._finish_body(prompt, body)
        except _AlreadyAnswered:
            pass
        except CommandError as exc:
            self._final_error(exc)

    def _finish_body(self, prompt: Prompt, body: bytes) -> None:
        try:
            pdu = bytes.fromhex(body.decode("ascii").strip())
        except (UnicodeDecodeError, ValueError):
            raise CommandError(prompt.command, "CMS", 304) from None
        if tpdu_length(pdu) != prompt.length:
            raise CommandError(prompt.command, "CMS", 304)
        if prompt.command == "+CMGW":
            memory = self.session.cpms[1]
            index = self._free_index(memory)
            if index is None:
                raise CommandError(prompt.command, "CMS", 322)
            self._store(memory)[index] = _Slot(prompt.stat, pdu)
            self._info(f"+CMGW: {index}")
            self.sink.reply(b"\r\nOK\r\n")
            return
        if self.fail_sends > 0:
            self.fail_sends -= 1
            raise CommandError(prompt.command, "CMS", self.fail_code)
        try:
            info = pdu_codec.decode_submit(pdu, with_smsc=True)
        except PduError:
            raise CommandError(prompt.command, "CMS", 304) from None
        reference = self._next_mr
        self._next_mr = (self._next_mr + 1) % 256
        self.sent.append(SentSms(info.recipient, info.text, pdu, reference, info.concat,
                                 self.clock()))
        self._info(f"+CMGS: {reference}")
        self.sink.reply(b"\r\nOK\r\n")
        if info.status_report_requested and self.settings.status_reports:
            report = pdu_codec.encode_status_report(reference, info.recipient, smsc=self.smsc)
            self.inject(report, report=True)


class _AlreadyAnswered(CommandError):
    """A command that wrote its own final answer (or, for a hang, none at all)."""

    def __init__(self) -> None:
        super().__init__("(answered)")


def _block(*lines: str) -> bytes:
    return ("\r\n" + "\r\n".join(lines) + "\r\n").encode("latin-1")


def _split_outside_quotes(text: str, sep: str) -> list[str]:
    parts: list[str] = []
    current: list[str] = []
    quoted = False
    for char in text:
        if char == '"':
            quoted = not quoted
        if char == sep and not quoted:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return parts
