"""USSD over an AT channel (27.007 §7.15 AT+CUSD): ask a code, wait for the network's
answer. Most sticks answer OK at once and the ``+CUSD:`` line seconds later, unsolicited;
some give it as the command's answer. Events that arrive meanwhile stay queued."""

from __future__ import annotations

import contextlib
import time

from smsbridge.errors import CommandError, ModemTimeout
from smsbridge.modem.at_channel import AtChannel
from smsbridge.modem.base import OtherEvent
from smsbridge.modem.ussd import MORE, NOT_SUPPORTED, parse_cusd

_SLICE = 0.2


def ask_ussd(channel: AtChannel, code: str, timeout: float) -> str:
    """The network's answer to ``code`` as text; ModemTimeout when none came."""
    if not code or '"' in code:
        raise CommandError("AT+CUSD", None, None, f"not a USSD code: {code!r}")
    command = f'AT+CUSD=1,"{code}",15'
    answer = channel.command(command)
    line = next((getattr(a, "line", "") for a in answer
                 if getattr(a, "line", "").upper().startswith("+CUSD")), None)
    deadline = time.monotonic() + timeout
    while line is None:
        found = next((e for e in channel.events if isinstance(e, OtherEvent)
                      and e.line.upper().startswith("+CUSD")), None)
        if found is not None:
            channel.events.remove(found)
            line = found.line
            break
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise ModemTimeout(command, timeout)
        channel.pump(min(remaining, _SLICE))
    result = parse_cusd(line)
    if result.status == MORE:
        # A menu waits for a choice: end the session, or the next code is refused.
        with contextlib.suppress(CommandError):
            channel.command("AT+CUSD=2")
    if result.status == NOT_SUPPORTED:
        raise CommandError(command, None, None, "the network does not support this code")
    return result.text
