"""The emulated GSM modem itself: command lines in, answers out.

No I/O and no threads here: :class:`ModemCore` is fed one command line at a time
by the server in ``server.py`` (which owns the pty/TCP lines, the clock-driven
timers and the lock) and answers through a :class:`~smsbridge.emulator.state.Sink`.
Keeping the modem's behaviour apart from the plumbing lets each be read on its own.

This module parses a command line (V.250: basic commands, extended ones, ``;``
between them) and dispatches each command to its handler: 27.007 general commands
in ``general_commands.py``, 27.005 SMS commands in ``sms_commands.py``, both over
what the modem holds (``state.py``). The answers follow 27.007 and 27.005 (PDU mode)
as USB sticks of the Huawei E173 kind give them, V.250 verbose format
(``\\r\\n<text>\\r\\n``).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable

from smsbridge.emulator.general_commands import GeneralCommands
from smsbridge.emulator.settings import EmulatorSettings
from smsbridge.emulator.sms_commands import SmsCommands
from smsbridge.emulator.state import AlreadyAnswered, Prompt, Session, Sink
from smsbridge.errors import CommandError

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


class ModemCore(GeneralCommands, SmsCommands):
    """One emulated modem: its state and every command; every call under the server's lock."""

    def __init__(self, settings: EmulatorSettings, clock: Callable[[], float], sink: Sink):
        super().__init__(settings, clock, sink)
        self._handlers: dict[str, Callable[[str, list[str]], None]] = {
            "+CMEE": self._cmee, "+CPIN": self._cpin, "+CMGF": self._cmgf, "+CPMS": self._cpms,
            "+CNMI": self._cnmi, "+CMGL": self._cmgl, "+CMGR": self._cmgr, "+CMGD": self._cmgd,
            "+CMGS": self._cmgs, "+CMGW": self._cmgw, "+CMSS": self._cmss,
            "+CSQ": self._csq, "+CREG": self._creg,
            "+COPS": self._cops, "+CGMI": self._cgmi, "+CGMM": self._cgmm, "+CGMR": self._cgmr,
            "+CGSN": self._cgsn, "+GMI": self._cgmi, "+GMM": self._cgmm, "+GMR": self._cgmr,
            "+GSN": self._cgsn, "+CIMI": self._cimi, "+CSCA": self._csca, "+CFUN": self._cfun,
            "+CSMS": self._csms, "^CURC": self._accept, "+CSCS": self._cscs,
            "+CMMS": self._cmms, "+CGREG": self._cgreg, "+CGATT": self._cgatt,
            # Call waiting and USSD: a Huawei stick takes Gammu's init switching them off.
            "+CCWA": self._accept, "+CUSD": self._cusd,
            # Huawei: which port gets URCs; Gammu sends it after ^CURC=0 to any "huawei".
            "^PORTSEL": self._accept,
        }
        self.boot()

    # ---------------------------------------------------------------- commands
    def execute(self, line: str) -> Prompt | None:
        """Run one command line (``AT…``); the answer goes to the sink.

        Returns a Prompt when the command waits for a PDU; the caller then feeds
        the bytes up to Ctrl-Z to :meth:`finish_body` (or ESC to :meth:`cancel_body`).
        """
        text = line.strip()
        if text[:2].upper() != "AT":
            return None  # noise without the AT prefix is ignored, as by real modems
        self.commands_seen += 1
        every = self.settings.drop_one_in
        if every and self.commands_seen % every == 0:
            return None  # lost on the way: no answer at all, nothing done
        if self.drop_next and text.upper().startswith(self.drop_next):
            self.drop_next = None
            return None
        prompt: Prompt | None = None
        try:
            for segment in _split_outside_quotes(text[2:], ";"):
                prompt = self._segment(segment.strip())
        except AlreadyAnswered:
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
            self.session = Session(echo=self.settings.echo)
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

    def cancel_body(self) -> None:
        """ESC after the prompt: nothing is sent."""
        self.sink.reply(b"\r\nOK\r\n")

    def finish_body(self, prompt: Prompt, body: bytes) -> None:
        """The PDU hex written after the prompt, up to (not including) Ctrl-Z."""
        try:
            self._finish_body(prompt, body)
        except AlreadyAnswered:
            pass
        except CommandError as exc:
            self._final_error(exc)


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
