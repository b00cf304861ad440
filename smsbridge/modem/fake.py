"""An in-memory Modem: the daemon's logic tested in milliseconds, with no port.

Like httpx's ``MockTransport``, it implements the same narrow interface as the real
backends (``modem.base.Modem``) over plain data: a storage of raw PDUs, the SMS
"sent", and events waiting to be polled. Messages are real PDUs made by our codec,
so what the bridge decodes is what a modem would have listed. The pty emulator
stays the stand-in for integration tests; this one is for policy.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass
from datetime import datetime

from smsbridge.errors import CommandError, PortError
from smsbridge.modem.base import ModemEvent, ModemStatus, NewMessage, StoredMessage
from smsbridge.sms import pdu as pdu_codec


@dataclass(frozen=True)
class SentSms:
    recipient: str
    text: str
    references: tuple[int, ...]


class FakeModem:
    """A modem in memory. ``inject_text``/``inject_pdu`` play the network; ``sent`` is
    what reached it; ``fail_sends(n)`` and ``vanish()`` play a stick's faults."""

    url = "fake://modem"
    refused_pin: str | None = None

    def __init__(self, *, storage_size: int = 30, memory: str = "SM",
                 store_send: bool = False, marks_sent: bool = True,
                 waits: bool = False) -> None:
        self.storage_size = storage_size
        self.memory = memory
        self.storage: dict[int, bytes] = {}
        # AT+CMGW/AT+CMSS: the write memory, slot -> [stat, SMS-SUBMIT PDU].
        self.store_send = store_send
        self.marks_sent = marks_sent
        self.outbox_slots: dict[int, list] = {}
        self.sent: list[SentSms] = []
        self.deleted: list[int] = []
        self.opened = False
        self._events: deque[ModemEvent] = deque()
        # ``waits``: poll_events waits for an event up to its timeout, for a worker's
        # thread driving it while a test injects from another (under the lock).
        self._waits = waits
        self._lock = threading.RLock()
        self._arrived = threading.Event()
        self._failures = 0
        self._gone = False
        self._reference = 0

    # -- the network's side (tests) -------------------------------------------------

    def inject_pdu(self, pdu: bytes | str) -> int:
        """Store a raw PDU (SMSC part first) in the first free slot; return the slot."""
        raw = bytes.fromhex(pdu) if isinstance(pdu, str) else pdu
        with self._lock:
            index = next((i for i in range(self.storage_size) if i not in self.storage), None)
            if index is None:
                raise OverflowError("the fake modem's storage is full")
            self.storage[index] = raw
            self._events.append(NewMessage(self.memory, index))
        self._arrived.set()
        return index

    def inject_text(self, sender: str, text: str, *, timestamp: datetime | None = None
                    ) -> list[int]:
        """``text`` from ``sender`` as SMS-DELIVER part(s), each stored; their slots."""
        self._reference = self._reference % 255 + 1
        parts = pdu_codec.encode_deliver(sender, text, timestamp=timestamp,
                                         reference=self._reference)
        return [self.inject_pdu(part) for part in parts]

    def fail_sends(self, count: int) -> None:
        """The next ``count`` sends are refused with +CMS ERROR 500."""
        self._failures = count

    def vanish(self, gone: bool = True) -> None:
        """Unplugged (every call raises PortError) or plugged back in."""
        self._gone = gone

    @property
    def storage_used(self) -> int:
        return len(self.storage)

    # -- the Modem protocol -----------------------------------------------------------

    def open(self) -> None:
        self._check()
        self.opened = True

    def close(self) -> None:
        self.opened = False

    def list_stored(self) -> list[StoredMessage]:
        self._check()
        with self._lock:
            return [StoredMessage.from_pdu(self.memory, index, 0, raw)
                    for index, raw in sorted(self.storage.items())]

    def delete(self, index: int) -> None:
        self._check()
        with self._lock:
            if self.storage.pop(index, None) is not None:
                self.deleted.append(index)

    def send(self, number: str, text: str, *, status_report: bool = True,
             reference: int | None = None) -> list[int | None]:
        self._check()
        if self._failures:
            self._failures -= 1
            raise CommandError("AT+CMGS", "CMS", 500, "unknown error")
        # Encoding is the real codec's, so a number or text it refuses fails here as it
        # would on a real modem.
        parts = pdu_codec.encode_submit(number, text, reference=(reference or 0) & 0xFF,
                                        status_report=status_report)
        refs = tuple((len(self.sent) + i) % 256 for i in range(len(parts)))
        self.sent.append(SentSms(number, text, refs))
        return list(refs)

    # -- sending through storage (modem.base.StoreAndSend) ------------------------------

    def can_store_and_send(self) -> bool:
        self._check()
        return self.store_send

    def write(self, number: str, text: str, *, status_report: bool = True,
              reference: int | None = None) -> list[int]:
        self._check()
        slots = []
        for part in pdu_codec.encode_submit(number, text, reference=(reference or 0) & 0xFF,
                                            status_report=status_report):
            slot = next(i for i in range(1, 1000) if i not in self.outbox_slots)
            self.outbox_slots[slot] = [2, part.pdu]
            slots.append(slot)
        return slots

    def send_stored(self, slot: int) -> int | None:
        self._check()
        if slot not in self.outbox_slots:
            raise CommandError(f"AT+CMSS={slot}", "CMS", 321, "invalid memory index")
        if self._failures:
            self._failures -= 1
            raise CommandError(f"AT+CMSS={slot}", "CMS", 500, "unknown error")
        info = pdu_codec.decode_submit(self.outbox_slots[slot][1])
        reference = len(self.sent) % 256
        self.sent.append(SentSms(info.recipient, info.text, (reference,)))
        if self.marks_sent:
            self.outbox_slots[slot][0] = 3
        return reference

    def outgoing(self) -> list[StoredMessage]:
        self._check()
        return [StoredMessage.from_pdu("ME", slot, stat, raw)
                for slot, (stat, raw) in sorted(self.outbox_slots.items())]

    def delete_outgoing(self, slot: int) -> None:
        self._check()
        self.outbox_slots.pop(slot, None)

    def status(self) -> ModemStatus:
        self._check()
        return ModemStatus(manufacturer="fake", model="in-memory", sim="READY",
                           registration=1, operator="FAKE", rssi=20, storage_memory=self.memory,
                           storage_used=len(self.storage), storage_total=self.storage_size)

    def poll_events(self, timeout: float) -> list[ModemEvent]:
        # Never waits unless asked to: a test's clock, not the wall clock, decides what
        # time it is.
        self._check()
        if self._waits and not self._events:
            self._arrived.wait(timeout)
        with self._lock:
            self._arrived.clear()
            events = list(self._events)
            self._events.clear()
        return events

    def _check(self) -> None:
        if self._gone:
            raise PortError(f"{self.url}: the device vanished")
