"""The narrow interface the daemon uses to talk to any modem backend.

A backend (AT over pyserial, python-gammu) owns its device from one thread; the
daemon calls these methods from that same thread only.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class StoredMessage:
    """One message as it sits in the modem's storage.

    ``pdu`` is the PDU exactly as the modem listed it (SMSC part included), so the
    daemon can store it raw. A backend that cannot give raw PDUs (gammu) fills ``pdu``
    with an equivalent PDU it built.

    ``key`` names the message for the daemon's crash dedupe: the same message listed
    again (after a crash between commit and delete) has the same key, and it is what
    the daemon stores as ``pdu_hash``. Each backend derives it from what it reads
    directly: the raw PDU (``from_pdu``), or the fields libgammu decoded.
    """

    memory: str
    index: int
    status: int  # 27.005 <stat>: 0 unread, 1 read, 2 unsent, 3 sent
    pdu: bytes
    key: str

    @classmethod
    def from_pdu(cls, memory: str, index: int, status: int, pdu: bytes) -> StoredMessage:
        """A message whose key is the hash of its raw PDU, as the modem gave it."""
        return cls(memory, index, status, pdu, pdu_key(pdu))


# 27.005 §3.1 <stat> of the SMS-SUBMITs a modem keeps in storage: written and not yet
# sent (AT+CMGW), and sent from there (AT+CMSS). After a crash they tell which of our
# replies went out; both are left alone by the receive path.
STO_UNSENT, STO_SENT = 2, 3


def pdu_key(pdu: bytes) -> str:
    """The dedupe key of a raw PDU: hex SHA-256 of its bytes, SMSC part included.

    Databases written before messages carried a key hold exactly this as ``pdu_hash``,
    so it must not change.
    """
    return hashlib.sha256(pdu).hexdigest()


@dataclass(frozen=True)
class NewMessage:
    """+CMTI: a message was stored at ``index`` of ``memory``."""

    memory: str
    index: int


@dataclass(frozen=True)
class NewStatusReport:
    """+CDSI (stored) or +CDS (delivered directly, ``pdu`` set)."""

    memory: str | None
    index: int | None
    pdu: bytes | None = None


@dataclass(frozen=True)
class OtherEvent:
    """Any other unsolicited line (RING, +CREG, ^RSSI, …): logged, otherwise ignored."""

    line: str


ModemEvent = NewMessage | NewStatusReport | OtherEvent


@dataclass(frozen=True)
class ModemStatus:
    manufacturer: str | None = None
    model: str | None = None
    revision: str | None = None
    imei: str | None = None
    imsi: str | None = None
    sim: str | None = None  # "READY", "SIM PIN", "SIM PUK", "NOT INSERTED", …
    # +CREG <stat>: 1 home, 5 roaming, 2 searching, 3 denied, 0 not registered
    registration: int | None = None
    operator: str | None = None
    rssi: int | None = None  # +CSQ raw 0..31, 99 unknown
    storage_memory: str | None = None
    storage_used: int | None = None
    storage_total: int | None = None
    smsc: str | None = None

    @property
    def signal_dbm(self) -> int | None:
        if self.rssi is None or self.rssi == 99 or not 0 <= self.rssi <= 31:
            return None
        return -113 + 2 * self.rssi

    @property
    def registered(self) -> bool:
        return self.registration in (1, 5)


class Modem(Protocol):
    """What the daemon needs from a modem. Every method may raise ModemError."""

    @property
    def url(self) -> str:
        """Where the device is, for people and logs: a port URL, or a gammurc section."""

    @property
    def refused_pin(self) -> str | None:
        """``sim.fingerprint()`` of a PIN the SIM refused (given at construction, or
        learnt in open()): the daemon keeps it across reconnects and restarts."""

    def open(self) -> None:
        """Open the device and initialise it so that new messages are stored and announced."""

    def close(self) -> None: ...

    def list_stored(self) -> list[StoredMessage]:
        """Every message in storage (received, read, and status reports)."""

    def delete(self, index: int) -> None:
        """Delete one slot. Deleting an already empty slot is not an error."""

    def send(self, number: str, text: str, *, status_report: bool = True,
             reference: int | None = None) -> list[int | None]:
        """Send ``text`` (split into parts as needed); return the TP-MR of each part, None
        for a part the modem accepted without a readable one (sent, reference unknown:
        never a refusal, or it would be sent again).

        ``reference`` is the concatenation reference for a long text. The daemon gives
        the same one on every retry of one reply: when a retry resends parts that went
        out before a failure, phones see the same (reference, part) again and keep one.
        """

    def status(self) -> ModemStatus: ...

    def poll_events(self, timeout: float) -> list[ModemEvent]:
        """Wait up to ``timeout`` seconds for unsolicited events; return those seen (maybe none)."""


class StoreAndSend(Protocol):
    """Optional: sending through the modem's own storage (27.005 §3.5.3 AT+CMGW, §3.5.2
    AT+CMSS), so that a slot's "STO UNSENT"/"STO SENT" tells after a crash whether a
    reply went out. Slots are in the modem's write memory (ME where it has one, so
    replies never take a SIM slot that an incoming report needs)."""

    def can_store_and_send(self) -> bool:
        """Whether this modem, as connected now, has AT+CMGW and AT+CMSS."""

    def write(self, number: str, text: str, *, status_report: bool = True,
              reference: int | None = None) -> list[int]:
        """Write every part as "STO UNSENT"; the slot of each, in order."""

    def send_stored(self, slot: int) -> int | None:
        """Send one written part; its TP-MR (None: accepted without a readable one)."""

    def outgoing(self) -> list[StoredMessage]:
        """The SMS-SUBMITs in the write memory, "STO UNSENT" (2) and "STO SENT" (3)."""

    def delete_outgoing(self, slot: int) -> None:
        """Delete one slot of the write memory; an empty slot is not an error."""


def store_and_send(modem: object) -> StoreAndSend | None:
    """``modem`` as a StoreAndSend when its backend and the device both have it."""
    can = getattr(modem, "can_store_and_send", None)
    if can is None or not can():
        return None
    return modem  # type: ignore[return-value]


class Ussd(Protocol):
    """Optional: USSD (27.007 §7.15 AT+CUSD): what the operator answers a code such as
    ``*888#`` (the balance)."""

    def ussd(self, code: str, *, timeout: float = 30.0) -> str:
        """The network's answer to ``code``, as text; ModemError when none came."""


def ussd_of(modem: object) -> Ussd | None:
    """``modem`` as a Ussd when its backend can ask one."""
    return modem if callable(getattr(modem, "ussd", None)) else None  # type: ignore[return-value]
