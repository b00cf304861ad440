"""What to do about the SIM's lock: one decision for every backend, no I/O.

A backend reads the SIM's state (AT+CPIN?, gammu's GetSecurityStatus) in the words of
AT+CPIN? ("READY", "SIM PIN", "SIM PUK", "NOT INSERTED", …), asks ``decide()``, and
carries the answer out: nothing to do, or send the PIN and wait for READY, then ask
again with ``pin_entered=True``. Every dead end is a SimError whose message says what
the administrator has to do.

The one rule that matters most: a PIN the SIM refused is never sent again, since the
third wrong PIN locks the SIM until its PUK is entered in a phone. What the SIM refused
is a fact (``refused``, a ``fingerprint()`` of that PIN) rather than a flag, so that it
can outlive the process and still lets a corrected PIN through.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from smsbridge.errors import SimError

READY = "READY"
SIM_PIN = "SIM PIN"
SIM_PUK = "SIM PUK"
NOT_INSERTED = "NOT INSERTED"

# Also the probe's advice for a SIM asking for a PIN, so the two never drift apart.
NEEDS_PIN = "SIM needs a PIN: set [modem] pin"
# A new PIN is taken on reload: the daemon reconnects and tries it, once. The daemon and
# `modem probe` keep the refusal in one record and say the same.
FIX_REFUSED = ("fix the config first: put the right PIN in [modem] pin, then reload "
               "(systemctl reload smsbridge), restart, or probe again")


@dataclass(frozen=True)
class SimFacts:
    state: str | None  # in the words of AT+CPIN?; None when the modem gave no answer
    pin: str  # the configured PIN, "" for none
    refused: str | None = None  # fingerprint() of a PIN this SIM refused
    pin_entered: bool = False  # the PIN was sent in this unlock: do not send it again
    source: str = "AT+CPIN? answered"  # who reported ``state``, for the error message


@dataclass(frozen=True)
class Ready:
    """The SIM is unlocked: go on initialising."""


@dataclass(frozen=True, repr=False)
class EnterPin:
    """Send ``pin``, then wait until the SIM says READY (it reads its files a while)."""

    pin: str

    def __repr__(self) -> str:
        return "EnterPin(****)"  # never a PIN in a log line or a test report


SimDecision = Ready | EnterPin


def fingerprint(pin: str) -> str:
    """Names a PIN without spelling it out, to remember that the SIM refused it.

    A four-digit PIN is found from its hash in a blink, so whatever keeps one must be
    guarded like the config that holds the PIN itself.
    """
    return hashlib.sha256(f"smsbridge SIM PIN {pin}".encode()).hexdigest()


def decide(facts: SimFacts) -> SimDecision:
    """What to do about the SIM, or SimError when only a person can help."""
    state = facts.state
    if state == READY:
        return Ready()
    if state == SIM_PIN and not facts.pin_entered:
        if facts.pin and facts.refused == fingerprint(facts.pin):
            raise SimError("the SIM refused the configured PIN before; not trying again "
                           f"(a third wrong PIN locks the SIM): {FIX_REFUSED}")
        if not facts.pin:
            raise SimError(NEEDS_PIN)
        return EnterPin(facts.pin)
    if state == SIM_PUK:
        raise SimError("SIM is locked and needs its PUK: unlock it in a phone")
    if state == NOT_INSERTED:
        raise SimError("no SIM card: insert one (power the modem off first)")
    raise SimError(f"SIM not usable: {facts.source} {state}")


def pin_refused() -> SimError:
    """The error for a PIN the SIM has just refused; remember ``fingerprint(pin)``."""
    return SimError("the SIM refused the configured PIN; it is not retried "
                    f"(a third wrong PIN locks the SIM): {FIX_REFUSED}")
