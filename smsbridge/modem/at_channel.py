"""AtChannel: one AT command at a time over a port, the blocking side of ``at.AtSession``.

``at.py`` knows the protocol and does no I/O; this module moves its bytes. It writes a
command, reads until the final result code or a deadline, answers the "> " prompt with
the PDU, retries while the SIM is busy, and files whatever else the modem says: URCs
become events for ``poll_events()``, and two signs that the modem restarted behind our
back (an echo after ATE0, a boot URC of the vendor's profile) are kept for
``atmodem.py``, which decides what to ask the modem and what to make of its answers.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable, Collection

from smsbridge.errors import CommandError, CommandLost, ModemTimeout, PortError
from smsbridge.modem.at import (
    Answer,
    AtSession,
    Echo,
    Final,
    PduLine,
    Prompt,
    Response,
    Urc,
    answer_value,
    urc_event,
)
from smsbridge.modem.base import ModemEvent, OtherEvent
from smsbridge.modem.port import Port, open_port
from smsbridge.modem.timeouts import AnswerTimes, repeatable

log = logging.getLogger(__name__)

Opener = Callable[[str, int], Port]

# +CMS 314 / +CME 14 "SIM busy" and the manufacturer codes 512 (SIM not ready) and 515
# (initialisation in progress) all clear by themselves some seconds after power-on.
SIM_BUSY = {("CMS", 314), ("CMS", 512), ("CMS", 515), ("CME", 14), ("CME", 515)}
BUSY_PAUSE = 0.5
_READ_SLICE = 0.2  # seconds per port read, so a deadline is never overshot by much
RESYNC_SECONDS = 0.2  # how long stale output is drained after opening the port


def error_key(error: CommandError) -> tuple[str | None, int | None]:
    return error.kind, error.code


# The answer times learned per port URL, for the process's life.
_LEARNED: dict[str, AnswerTimes] = {}


# What the wait for a command's prompt is learned under (beside its whole answer's).
_PROMPT = ">"


def _probe_for(command: str) -> str:
    """A read every 27.007 modem answers with a line of its own name, unlike ``command``."""
    return "AT+CSCS?" if "CMEE" in command.upper() else "AT+CMEE?"


class AtChannel:
    """The port to one modem and the AT session on it; one thread uses it."""

    def __init__(self, url: str, *, baudrate: int, command_timeout: float,
                 sim_busy_wait: float, opener: Opener | None = None) -> None:
        self.url = url
        self._baudrate = baudrate
        self.command_timeout = command_timeout
        self.sim_busy_wait = sim_busy_wait
        self._opener: Opener = opener or (lambda url, baud: open_port(url, baudrate=baud))
        self.port: Port | None = None  # None: closed, or dropped when it failed
        self._session = AtSession()
        self.events: deque[ModemEvent] = deque()
        # Kept across reconnects (a new channel on the same port after a reopen): the
        # stick answers as fast as before, and a drop at connect costs a learned wait.
        self.answer_times = _LEARNED.setdefault(url, AnswerTimes())
        self.reboot_hints: Collection[str] = ()  # the profile's URCs that may mean a restart
        # Signs of a restart, for the driver to act on and to clear after re-initialising:
        self.echo_off = False  # set by the driver once ATE0 is answered
        self.restarted = False  # an echo although echo_off: everything was lost
        self.settings_suspect = False  # a reboot hint came: check whether settings were lost
        self._prompt_after: float | None = None  # seconds to the last command's prompt

    # -- the port ------------------------------------------------------------------------

    def open(self) -> None:
        """Open the port afresh, after closing the one held, and start a new session."""
        self.close()
        self.port = self._opener(self.url, self._baudrate)
        self._resync(self.port)
        self._session = AtSession()
        self.echo_off = False

    def close(self) -> None:
        if self.port is not None:
            self.port.close()
        self.port = None

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

    # -- commands --------------------------------------------------------------------------

    def query(self, command: str) -> str | None:
        """A one-line answer without its prefix, or None when the modem refuses."""
        try:
            answer = self.command(command)
        except CommandError:
            return None
        return answer_value(answer, command[2:].split("=")[0].rstrip("?").upper())

    def command(self, command: str, *, timeout: float | None = None,
                pdu_hex: str | None = None, log_as: str | None = None,
                settled_by_caller: bool = False) -> Answer:
        """Run one command; retry SIM busy for up to ``sim_busy_wait`` seconds.

        Without ``timeout`` a repeatable command left unanswered for as long as this
        stick's answers to it suggest (``timeouts.py``) is followed by a probe, and
        asked again when the probe shows it was lost: one dropped command costs about
        a second, and a stick that went silent still gets its full timeout. A command
        that must not be asked twice (AT+CMSS: a send) is probed the same way with
        ``settled_by_caller``, and CommandLost tells the caller, who reads what it did."""
        deadline = time.monotonic() + self.sim_busy_wait
        while True:
            try:
                return self._timed(command, timeout, pdu_hex, log_as or command,
                                   settled_by_caller)
            except CommandError as exc:
                if error_key(exc) not in SIM_BUSY or time.monotonic() >= deadline:
                    raise
                log.info("%s: %s; retrying", log_as or command, exc.name)
                self.wait(min(BUSY_PAUSE, max(0.0, deadline - time.monotonic())))

    def _timed(self, command: str, timeout: float | None, pdu_hex: str | None,
               shown: str, settled_by_caller: bool = False) -> Answer:
        # A repeatable command is probed whatever its timeout (a listing's is its own):
        # the probe tells a lost command from a slow one, so a probe too early costs an
        # extra command, never a mistaken answer.
        learned = pdu_hex is None and (timeout is None or settled_by_caller
                                       or repeatable(command))
        wait = timeout or self.command_timeout
        quick = None
        if learned and (repeatable(command) or settled_by_caller):
            quick = self.answer_times.timeout(command, wait, stick_wide=not settled_by_caller)
        elif pdu_hex is not None:
            # A command that takes a PDU is probed only until its prompt: ESC first, so
            # a prompt that comes late takes nothing, and nothing was written or sent.
            quick = self.answer_times.timeout(_PROMPT + command, self.command_timeout,
                                              stick_wide=True)
        if quick is not None and quick >= wait:
            quick = None
        start = time.monotonic()
        try:
            answer = self._execute(command, wait, pdu_hex, shown, quick=quick)
        except CommandLost:
            if settled_by_caller:
                raise
            log.info("%s: no answer within %.1f s (the stick answered the next command); "
                     "asking again", shown, quick)
            start = time.monotonic()
            answer = self._execute(command, wait, pdu_hex, shown)
        if learned:
            self.answer_times.record(command, time.monotonic() - start,
                                     quick=not settled_by_caller)
        if pdu_hex is not None and self._prompt_after is not None:
            self.answer_times.record(_PROMPT + command, self._prompt_after, quick=True)
        return answer

    def _execute(self, command: str, timeout: float, pdu_hex: str | None,
                 shown: str, *, quick: float | None = None) -> Answer:
        """Run ``command`` and collect its answer. With ``quick``: when nothing came by
        then, a probe (a read whose answer cannot be mistaken) is sent behind it. The
        command's answer, if it was only late, comes before the probe's; if the probe's
        comes first, the command was lost (nothing done) and CommandLost is raised, so
        that no late answer is ever taken for the next command's."""
        if self.port is None:
            raise PortError("the modem port is closed", port=self.url)
        self.pump(0)  # lines that arrived while idle are unsolicited: file them first
        self._write(self._session.send(command))
        start = time.monotonic()
        self._prompt_after = None
        escaped = False  # ESC went out before a prompt: whatever comes, nothing was done
        deadline = start + timeout
        hard_stop = deadline + 2 * max(timeout, self.command_timeout)
        probe_at = None if quick is None else start + quick
        probe, probed, probe_seen = _probe_for(command), False, False
        answer: Answer = []
        while True:
            event = self._session.next_event()
            if event is None:
                now = time.monotonic()
                if (probe_at is not None and not probed and now >= probe_at and not answer
                        and self._prompt_after is None):
                    if pdu_hex is not None:
                        # No prompt yet: ESC (and a line end, which a modem in command
                        # mode takes for an empty line) cancels one that is on its way.
                        self._write(b"\x1b\r")
                        escaped = True
                    self._write(f"{probe}\r".encode("ascii"))
                    probed = True
                    deadline = max(deadline, now + self.command_timeout)
                    continue
                remaining = deadline - now
                if remaining <= 0:
                    if self._session.prompted:
                        self._write(self._session.cancel_prompt())
                    self._session.abort()
                    raise ModemTimeout(shown, timeout)
                wake = remaining if probe_at is None or probed else min(remaining,
                                                                        probe_at - now)
                self._read_into_session(max(0.0, min(wake, _READ_SLICE)))
                continue
            if isinstance(event, Final):
                if probe_seen:
                    raise CommandLost(shown, quick or timeout)
                if probed:
                    self._finish_probe(probe)
                if escaped:
                    raise CommandLost(shown, quick or timeout)  # cancelled: asked again
                if event.ok:
                    return answer
                raise event.error(shown)
            if isinstance(event, Urc) and probed and event.name == probe[2:-1].upper():
                probe_seen = True
                continue
            if isinstance(event, Response | PduLine):
                answer.append(event)
                # A stick still answering is not silent: a long listing keeps its
                # command alive line by line (bounded, against a stick that babbles).
                deadline = min(max(deadline, time.monotonic() + timeout), hard_stop)
            elif isinstance(event, Prompt):
                if self._prompt_after is None:
                    self._prompt_after = time.monotonic() - start
                self._write(self._session.send_pdu(pdu_hex) if pdu_hex and not escaped
                            else self._session.cancel_prompt())
            elif isinstance(event, Echo):
                self._on_echo()
            elif isinstance(event, Urc):
                self._on_urc(event)

    def _finish_probe(self, probe: str) -> None:
        """The command answered late, after a probe went out behind it: take in the
        probe's answer now, so that it is not taken for the next command's."""
        name = probe[2:-1].upper()
        seen = False
        deadline = time.monotonic() + self.command_timeout
        while (left := deadline - time.monotonic()) > 0:
            event = self._session.next_event()
            if event is None:
                self._read_into_session(min(left, _READ_SLICE))
                continue
            if isinstance(event, Urc):
                if event.name == name:
                    seen = True
                elif seen and not event.name and event.line.upper() in ("OK", "ERROR"):
                    return
                else:
                    self._on_urc(event)
            elif isinstance(event, Echo):
                self._on_echo()
        log.warning("the probe %s was not answered; the next command may get its answer",
                    probe)

    # -- between commands ----------------------------------------------------------------

    def pump(self, max_wait: float) -> None:
        """Read what the port has within ``max_wait`` and queue the URCs in it."""
        if self.port is None:
            return
        self._read_into_session(max_wait)
        while (event := self._session.next_event()) is not None:
            if isinstance(event, Urc):
                self._on_urc(event)
            elif isinstance(event, Echo):
                self._on_echo()

    def wait(self, seconds: float) -> None:
        """Let ``seconds`` pass while still filing URCs (a pause, not a sleep)."""
        deadline = time.monotonic() + seconds
        while (remaining := deadline - time.monotonic()) > 0:
            self.pump(min(remaining, _READ_SLICE))

    def wait_for_events(self, timeout: float) -> None:
        """Read until an event is queued or ``timeout`` seconds passed."""
        deadline = time.monotonic() + timeout
        while not self.events:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            self.pump(min(remaining, _READ_SLICE))

    def take_events(self) -> list[ModemEvent]:
        events = list(self.events)
        self.events.clear()
        return events

    def _read_into_session(self, max_wait: float) -> None:
        assert self.port is not None
        try:
            data = self.port.read(max_wait)
        except PortError:
            self.close()
            raise
        if data:
            self._session.receive_data(data)

    def _write(self, data: bytes) -> None:
        assert self.port is not None
        try:
            self.port.write(data)
        except PortError:
            self.close()
            raise

    def _on_echo(self) -> None:
        if self.echo_off:
            # ATE0 is lost only when the modem restarted: everything else was lost too.
            self.restarted = True

    def _on_urc(self, urc: Urc) -> None:
        if not urc.name and urc.line.upper() in ("OK", "ERROR"):
            log.debug("late final result code dropped: %s", urc.line)
            return
        if urc.name in self.reboot_hints:
            self.settings_suspect = True
        event = urc_event(urc)
        if isinstance(event, OtherEvent):
            log.debug("unsolicited: %s", urc.name or "unknown line")
        self.events.append(event)
