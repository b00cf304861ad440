"""The AT command session, sans-I/O: bytes from the modem in, events out; commands in, bytes out.

Like h11's connection object, ``AtSession`` never touches a port, never sleeps and never
starts a thread; the driver (``atmodem.py``) moves the bytes. Feed what the port gave with
``receive_data()`` and take events with ``next_event()`` until it returns ``None``.

A line is classified by the session's state, not by its prefix alone (STYLE.md example 2):
``+CMTI: "SM",3`` between two lines of a ``+CMGL`` answer is unsolicited, while the same
``+CREG: 0,1`` line is the answer while ``AT+CREG?`` runs and a URC otherwise. 27.007 §5.1
lets a modem emit URCs between the lines of an answer, so a session that assumes "what
follows my command is my answer" loses messages.

Below the session are the pure parsers of answer lines (``+CPMS:``, ``+CREG:``, …) and
``urc_event()``, which turns a URC into the event the daemon sees.

Events:
    Final(ok, kind, code, name)  the command ended: OK, ERROR, +CME/+CMS ERROR, NO CARRIER …
    Response(line)               an answer line of the running command
    PduLine(header, pdu)         the hex line after a +CMGL / +CMGR header, as bytes
    Prompt()                     the "> " of AT+CMGS / AT+CMGW: send the PDU now
    Echo(line)                   the modem echoed our command (echo on: after a reset, ATE0 lost)
    Urc(name, args, line, pdu)   an unsolicited line (+CDS / +CMT carry their PDU line)
"""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass

from smsbridge.errors import CommandError, ModemError
from smsbridge.modem.base import ModemEvent, NewMessage, NewStatusReport, OtherEvent

CTRL_Z = b"\x1a"  # ends the PDU after the prompt (27.005 §3.5.1)
ESC = b"\x1b"  # cancels the prompt without sending

# 27.005 §3.2.5 (+CMS ERROR) and the TP-FCS / RP causes a modem reports through it.
CMS_ERRORS: dict[int, str] = {
    1: "unassigned number", 8: "operator determined barring", 10: "call barred",
    21: "short message transfer rejected", 27: "destination out of service",
    28: "unidentified subscriber", 29: "facility rejected", 30: "unknown subscriber",
    38: "network out of order", 41: "temporary failure", 42: "congestion",
    47: "resources unavailable", 50: "requested facility not subscribed",
    69: "requested facility not implemented", 81: "invalid short message reference",
    95: "invalid message", 96: "invalid mandatory information",
    97: "message type non-existent", 98: "message not compatible with state",
    99: "information element non-existent", 111: "protocol error", 127: "interworking",
    208: "SIM SMS storage full", 209: "no SMS storage capability in SIM",
    210: "error in MS", 211: "memory capacity exceeded", 212: "SIM toolkit busy",
    255: "unspecified error",
    300: "ME failure", 301: "SMS service of ME reserved", 302: "operation not allowed",
    303: "operation not supported", 304: "invalid PDU mode parameter",
    305: "invalid text mode parameter", 310: "SIM not inserted", 311: "SIM PIN required",
    312: "PH-SIM PIN required", 313: "SIM failure", 314: "SIM busy", 315: "SIM wrong",
    316: "SIM PUK required", 317: "SIM PIN2 required", 318: "SIM PUK2 required",
    320: "memory failure", 321: "invalid memory index", 322: "memory full",
    330: "SMSC address unknown", 331: "no network service", 332: "network timeout",
    340: "no +CNMA acknowledgement expected", 500: "unknown error",
    # 512 and up are manufacturer specific; these are the meanings met in the field.
    512: "SIM not ready (manufacturer specific)",
    513: "lower layer failure (manufacturer specific)",
    514: "network busy (manufacturer specific)",
    515: "please wait, initialisation in progress (manufacturer specific)",
    516: "message length exceeded (manufacturer specific)",
    517: "SIM toolkit busy (manufacturer specific)",
}

# 27.007 §9.2.1 (+CME ERROR).
CME_ERRORS: dict[int, str] = {
    0: "phone failure", 1: "no connection to phone", 2: "phone adaptor link reserved",
    3: "operation not allowed", 4: "operation not supported", 5: "PH-SIM PIN required",
    6: "PH-FSIM PIN required", 7: "PH-FSIM PUK required", 10: "SIM not inserted",
    11: "SIM PIN required", 12: "SIM PUK required", 13: "SIM failure", 14: "SIM busy",
    15: "SIM wrong", 16: "incorrect password", 17: "SIM PIN2 required",
    18: "SIM PUK2 required", 20: "memory full", 21: "invalid index", 22: "not found",
    23: "memory failure", 24: "text string too long", 25: "invalid characters in text string",
    26: "dial string too long", 27: "invalid characters in dial string",
    30: "no network service", 31: "network timeout",
    32: "network not allowed, emergency calls only", 40: "network personalisation PIN required",
    100: "unknown", 103: "illegal MS", 106: "illegal ME", 107: "GPRS services not allowed",
    148: "unspecified GPRS error",
}

_ERROR_NAMES = {"CMS": CMS_ERRORS, "CME": CME_ERRORS}
# AT+CMEE=2 gives names instead of numbers; map them back so the driver sees one code.
_ERROR_CODES = {kind: {name.lower(): code for code, name in table.items()}
                for kind, table in _ERROR_NAMES.items()}

# V.250 §5.7.1 result codes that end a command, plus Huawei's non-standard finals.
_FINAL_WORDS: dict[str, bool] = {
    "OK": True, "ERROR": False, "NO CARRIER": False, "BUSY": False, "NO ANSWER": False,
    "NO DIALTONE": False, "COMMAND NOT SUPPORT": False, "TOO MANY PARAMETERS": False,
}

# Unsolicited result codes we know by name (27.005 §3.4.1, 27.007 §7–8, vendor manuals).
KNOWN_URCS = frozenset({
    "+CMTI", "+CDSI", "+CDS", "+CMT", "+CBM", "+CBMI", "RING", "+CRING", "+CLIP", "+CCWA",
    "+CREG", "+CGREG", "+CEREG", "+CUSD", "+CPIN", "+CFUN", "+PBREADY",
    "^RSSI", "^BOOT", "^MODE", "^SRVST", "^SIMST", "^HCSQ", "^SYSSTART", "^DSFLOWRPT",
    "^STIN", "^NDISSTAT", "+QIND", "+ZUSIMR", "+ZPASR", "RDY", "CALL READY", "SMS READY",
    "NO CARRIER",
})
# 27.005 §3.4.1: in PDU mode these URCs are a header line followed by the PDU line.
_TWO_LINE_URCS = frozenset({"+CDS", "+CMT", "+CBM"})
# Commands whose answer header is followed by a PDU line (27.005 §3.4.2, §3.4.3).
_PDU_HEADERS = frozenset({"+CMGL", "+CMGR"})
_PROMPT_COMMANDS = frozenset({"+CMGS", "+CMGW", "+CMGC"})

_LINE_END = re.compile(rb"[\r\n]+")
# Bytes that are never part of an AT line: C0 controls (CR/LF split lines before this),
# DEL and the high half. Line noise at power-on and the echoed Ctrl-Z vanish here.
_NOISE = bytes(range(0x00, 0x20)) + bytes(range(0x7F, 0x100))
_HEX = re.compile(r"[0-9A-Fa-f]+")
_COMMAND_PREFIX = re.compile(r"AT([+^$%*#][A-Z0-9]+)", re.IGNORECASE)
_ERROR_LINE = re.compile(r"\+(CMS|CME) ERROR:\s*(.*)", re.IGNORECASE)
_INT = re.compile(r"-?\d+")


@dataclass(frozen=True, slots=True)
class Final:
    """The command ended. ``kind`` is "CMS"/"CME" for coded errors, else None; ``name`` is
    the result word ("OK", "ERROR", "NO CARRIER") or the error code's name."""

    ok: bool
    kind: str | None = None
    code: int | None = None
    name: str | None = None

    def error(self, command: str) -> CommandError:
        return CommandError(command, self.kind, self.code,
                            self.name if self.kind else None)


@dataclass(frozen=True, slots=True)
class Response:
    line: str


@dataclass(frozen=True, slots=True)
class PduLine:
    header: str
    pdu: bytes


@dataclass(frozen=True, slots=True)
class Prompt:
    pass


@dataclass(frozen=True, slots=True)
class Echo:
    line: str


@dataclass(frozen=True, slots=True)
class Urc:
    """``name`` is "+CMTI", "RING", "^RSSI" …, or "" for a line that names nothing."""

    name: str
    args: str
    line: str
    pdu: bytes | None = None

    @property
    def known(self) -> bool:
        return self.name.upper() in KNOWN_URCS


Event = Final | Response | PduLine | Prompt | Echo | Urc
Answer = list[Response | PduLine]  # what a command answered before its final result


def parse_final(line: str) -> Final | None:
    """The Final a line stands for, or None when it does not end a command."""
    word = line.upper()
    if word in _FINAL_WORDS:
        return Final(_FINAL_WORDS[word], None, None, word)
    m = _ERROR_LINE.fullmatch(line)
    if m is None:
        return None
    kind, value = m.group(1).upper(), m.group(2).strip()
    if value.isdigit():
        code = int(value)
        return Final(False, kind, code, _ERROR_NAMES[kind].get(code))
    return Final(False, kind, _ERROR_CODES[kind].get(value.lower()), value or None)


def command_prefix(command: str) -> str | None:
    """``AT+CMGL=4`` -> ``+CMGL``: the prefix of the command's own answer lines (27.007 §4.1)."""
    m = _COMMAND_PREFIX.match(command)
    return m.group(1).upper() if m else None


def _split_urc(line: str) -> tuple[str, str]:
    head, colon, args = line.partition(":")
    if colon and head[:1] in "+^" and " " not in head:
        return head.upper(), args.strip()
    if line.upper() in KNOWN_URCS:
        return line.upper(), ""
    return "", line


class AtSession:
    """The state of one AT conversation: which command runs and what its lines mean."""

    def __init__(self) -> None:
        self._buffer = b""
        self._lines: deque[str] = deque()
        self._events: deque[Event] = deque()
        self._command: str | None = None
        self._prefix: str | None = None
        self._awaiting_prompt = False
        self._prompted = False
        self._pdu_sent: str | None = None
        self._answered = False  # a line other than echo has arrived for the running command
        self._pdu_header: str | None = None  # a +CMGL/+CMGR header waiting for its PDU line
        self._urc_header: Urc | None = None  # a +CDS/+CMT header waiting for its PDU line

    @property
    def running(self) -> str | None:
        """The command waiting for its final result code, or None."""
        return self._command

    @property
    def prompted(self) -> bool:
        return self._prompted

    def send(self, command: str) -> bytes:
        """The bytes to write for ``command`` (e.g. ``"AT+CMGL=4"``); it becomes the running one."""
        if self._command is not None:
            raise ModemError(f"cannot send {command}: {self._command} is still running")
        self._command = command
        self._prefix = command_prefix(command)
        self._awaiting_prompt = self._prefix in _PROMPT_COMMANDS
        self._prompted = False
        self._pdu_sent = None
        self._answered = False
        self._pdu_header = None
        # V.250 §5.2.1: S3 (CR) ends the command line.
        return command.encode("ascii") + b"\r"

    def send_pdu(self, pdu_hex: str) -> bytes:
        """After ``Prompt``: the PDU in hex and Ctrl-Z (27.005 §3.5.1)."""
        if not self._prompted:
            raise ModemError("cannot send a PDU: the modem has not prompted for one")
        self._prompted = False
        self._pdu_sent = pdu_hex.upper()
        return pdu_hex.encode("ascii") + CTRL_Z

    def cancel_prompt(self) -> bytes:
        """After ``Prompt``: ESC abandons the message; the modem then answers OK or an error."""
        self._prompted = False
        return ESC

    def abort(self) -> None:
        """Forget the running command (it timed out); later lines are read as unsolicited."""
        self._command = None
        self._prefix = None
        self._awaiting_prompt = self._prompted = False
        self._pdu_header = None

    def receive_data(self, data: bytes) -> None:
        buffer = self._buffer + data
        parts = _LINE_END.split(buffer)
        self._buffer = parts.pop()
        for raw in parts:
            line = raw.translate(None, _NOISE).decode("ascii").strip()
            if line:
                self._lines.append(line)

    def next_event(self) -> Event | None:
        """The next event, or None when more bytes are needed."""
        while not self._events:
            if self._lines:
                self._classify(self._lines.popleft())
            elif self._awaiting_prompt and self._buffer.strip().startswith(b">"):
                # 27.005 §3.5.1: the prompt is "> " with no line end after it.
                self._buffer = b""
                self._awaiting_prompt = False
                self._prompted = True
                return Prompt()
            else:
                return None
        return self._events.popleft()

    def events(self) -> list[Event]:
        """Every event available now."""
        out = []
        while (event := self.next_event()) is not None:
            out.append(event)
        return out

    def _classify(self, line: str) -> None:
        if self._urc_header is not None:
            header, self._urc_header = self._urc_header, None
            if _HEX.fullmatch(line) and len(line) % 2 == 0:
                self._events.append(Urc(header.name, header.args, header.line,
                                        bytes.fromhex(line)))
                return
            self._events.append(header)
        if self._command is None:
            self._unsolicited(line)
        else:
            self._answer(line)

    def _answer(self, line: str) -> None:
        upper = line.upper()
        if not self._answered and upper == self._command.upper():  # type: ignore[union-attr]
            self._events.append(Echo(line))
            return
        if self._pdu_sent is not None and upper == self._pdu_sent:
            self._events.append(Echo(line))
            return
        final = parse_final(line)
        if final is not None:
            self._events.append(final)
            self._command = None
            self._awaiting_prompt = self._prompted = False
            self._pdu_header = None
            return
        self._answered = True
        if self._pdu_header is not None and _HEX.fullmatch(line) and len(line) % 2 == 0:
            self._events.append(PduLine(self._pdu_header, bytes.fromhex(line)))
            self._pdu_header = None
            return
        name, _ = _split_urc(line)
        if self._prefix is not None and name == self._prefix:
            self._events.append(Response(line))
            if name in _PDU_HEADERS:
                self._pdu_header = line
            return
        if name and (name[0] in "+^" or name in KNOWN_URCS):
            # A "+"/"^" line that is not our command's answer, or a bare URC word.
            self._unsolicited(line)
            return
        # Free text answers (AT+CGMI "huawei", AT+CGSN digits, ATI).
        self._events.append(Response(line))

    def _unsolicited(self, line: str) -> None:
        name, args = _split_urc(line)
        urc = Urc(name, args if name else "", line)
        if name in _TWO_LINE_URCS:
            self._urc_header = urc
            return
        self._events.append(urc)


# -- answers -------------------------------------------------------------------------


def answer_fields(line: str) -> list[str]:
    """The comma-separated fields after ``+XXX:``, quotes removed."""
    _, _, rest = line.partition(":")
    return [f.strip().strip('"') for f in rest.split(",")] if rest.strip() else []


def answer_value(answer: Answer, prefix: str | None = None) -> str | None:
    """The first answer line, without its ``+XXX:`` prefix when it has one."""
    for item in answer:
        if isinstance(item, Response):
            line = item.line
            if prefix and line.upper().startswith(prefix):
                line = line[len(prefix):].lstrip(":").strip()
            return line or None
    return None


def message_reference(answer: Answer, prefix: str) -> int | None:
    """The TP-MR of an accepted send (``+CMGS: <mr>``, ``+CMSS: <mr>``, 27.005 §3.5.1,
    §3.5.2), or None when the final OK came without a readable one.

    The OK is what says the network took the SMS; the reference only lets a status
    report be matched to it. Some modems leave the line out, or garble it: that is
    "sent, reference unknown", never a refusal, or the SMS would be sent again.
    """
    value = answer_value(answer, prefix)
    head = value.split(",")[0].strip() if value else ""
    return int(head) if head.isdigit() and int(head) < 256 else None


def unquoted(value: str | None) -> str | None:
    return value.strip().strip('"') or None if value else None


def parse_cpms(line: str) -> tuple[str | None, int, int] | None:
    """``+CPMS:`` with 1 to 3 memories, query or set form -> (memory, used, total) of the first."""
    fields = answer_fields(line)
    memory = fields[0] if fields and not _INT.fullmatch(fields[0]) else None
    numbers = [int(f) for f in fields if _INT.fullmatch(f)]
    if len(numbers) < 2:
        return None
    return memory, numbers[0], numbers[1]


def parse_creg(line: str) -> int | None:
    """``+CREG: <n>,<stat>[,…]`` (answer) or ``+CREG: <stat>[,…]`` (URC form) -> stat."""
    fields = answer_fields(line)
    numbers = [f for f in fields[:2] if _INT.fullmatch(f)]
    if not numbers:
        return None
    # Answer form has two leading numbers (n, stat); the URC form starts with stat
    # followed by a quoted LAC (27.007 §7.2).
    return int(numbers[1]) if len(numbers) == 2 else int(numbers[0])


def parse_csq(line: str) -> int | None:
    """``+CSQ: <rssi>,<ber>`` -> rssi as given (0..31, 99 unknown; 27.007 §8.5)."""
    fields = answer_fields(line)
    return int(fields[0]) if fields and _INT.fullmatch(fields[0]) else None


def parse_cops(line: str) -> str | None:
    """``+COPS: <mode>[,<format>,<oper>[,<AcT>]]`` -> oper, None when not registered."""
    fields = answer_fields(line)
    return fields[2] if len(fields) >= 3 and fields[2] else None


def parse_csca(line: str) -> str | None:
    """``+CSCA: <sca>[,<tosca>]`` -> the SMSC number, None when unset."""
    fields = answer_fields(line)
    return fields[0] or None if fields else None


def urc_event(urc: Urc) -> ModemEvent:
    """A URC as the daemon sees it (27.005 §3.4.1)."""
    fields = [f.strip().strip('"') for f in urc.args.split(",")]
    if urc.name in ("+CMTI", "+CDSI") and len(fields) >= 2 and fields[1].isdigit():
        memory, index = fields[0] or "SM", int(fields[1])
        return NewMessage(memory, index) if urc.name == "+CMTI" else NewStatusReport(memory, index)
    if urc.name == "+CDS" and urc.pdu is not None:
        return NewStatusReport(None, None, urc.pdu)
    return OtherEvent(urc.line)
