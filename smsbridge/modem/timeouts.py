"""How long to wait for a command's answer, learned from the stick's own answer times.

A stick that drops one command in fifty should cost about a second, not the whole
``command_timeout`` (10 s): each kind of command (``AT+CPMS?``, ``AT+CMGL``) keeps its
recent answer times, and once it has a few, it waits ``FACTOR`` times the slowest of
them, never less than ``FLOOR`` nor more than the configured timeout. A command not
seen often enough yet (the identity questions, asked once per connection) waits as
long as the stick's slowest quick answer suggests (``stick_wide``): the channel probes
behind a command instead of asking it again blindly, so a probe sent too early costs
one extra command, never a mistaken answer. Pure: the channel measures and asks;
nothing here reads a clock.
"""

from __future__ import annotations

from collections import deque

FLOOR = 1.0  # seconds: below this a busy stick's scheduling hiccup would look like silence
FACTOR = 4.0
SAMPLES = 20  # answer times kept per command
NEEDED = 3  # answers seen before the learned timeout is used

# Commands that must never be asked twice: what they do is not idempotent (an SMS sent,
# a USSD session, a PIN tried: three wrong tries lock the SIM), or takes its own time.
_ONCE = ("AT+CMGS", "AT+CMGW", "AT+CMSS", "AT+CMGC", "AT+CUSD", "AT+CPIN=", "ATD", "ATA",
         "AT+CFUN", "ATZ", "AT&F", "AT+COPS=")


def command_key(command: str) -> str:
    """What commands share their answer times by: ``AT+CMGR=3`` -> ``AT+CMGR=``."""
    upper = command.strip().upper()
    for mark in ("=?", "?", "="):
        at = upper.find(mark)
        if at >= 0:
            return upper[:at + len(mark)]
    return upper


def repeatable(command: str) -> bool:
    """A command that may be asked again when its answer did not come (a query, a
    listing, a setting, a delete of a slot)."""
    upper = command.strip().upper()
    if upper.endswith("?"):
        return True  # a read or test command ("AT+CPMS?", "AT+CMSS=?") changes nothing
    return not upper.startswith(_ONCE)


class AnswerTimes:
    """Recent answer times per command, and the timeout they suggest."""

    def __init__(self) -> None:
        self._seen: dict[str, deque[float]] = {}
        self._quick: deque[float] = deque(maxlen=4 * SAMPLES)  # every quick answer's time

    def record(self, command: str, seconds: float, *, quick: bool = False) -> None:
        self._seen.setdefault(command_key(command), deque(maxlen=SAMPLES)).append(seconds)
        if quick:
            self._quick.append(seconds)

    def timeout(self, command: str, ceiling: float, *, stick_wide: bool = False) -> float:
        """The wait for ``command``'s answer: learned from its own answers, else (with
        ``stick_wide``) from every quick answer of this stick, else ``ceiling``."""
        seen = self._seen.get(command_key(command))
        if not seen or len(seen) < NEEDED:
            if not stick_wide or len(self._quick) < NEEDED:
                return ceiling
            seen = self._quick
        return min(ceiling, max(FLOOR, FACTOR * max(seen)))
