"""A GSM modem on a pseudo-terminal (and optionally TCP), for tests, demos and benchmarks.

A driver opens :attr:`Emulator.port` exactly as it opens ``/dev/ttyUSB0``: the
emulator is a real device to it, with echo, URCs that interleave with answers,
finite SIM storage, a slow network and the faults seen in the field. What the modem
answers lives in ``core.py``; ``server.py`` is the plumbing that serves it from one
thread. This module is what tests, the CLI and the benchmarks hold: the control API,
whose every call takes the server's lock, changes state and wakes that thread.

Example::

    with Emulator(EmulatorSettings(storage_size=5), link="/tmp/gsm") as emu:
        emu.inject_text("+6281234567890", "Ada pencurian di pasar")
        ...  # open /tmp/gsm with pyserial, AT+CMGL=4 lists it
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from types import TracebackType

from smsbridge.emulator.server import Server
from smsbridge.emulator.settings import EmulatorSettings
from smsbridge.emulator.state import SentSms
from smsbridge.errors import PduError
from smsbridge.sms import pdu as pdu_codec

_DEFAULTS = EmulatorSettings()


class Emulator:
    """A GSM modem served on a pty (``port``) and optionally on TCP 127.0.0.1."""

    def __init__(self, settings: EmulatorSettings = _DEFAULTS, *,
                 link: str | None = None, tcp_port: int | None = None):
        if settings.first_index not in (0, 1) or settings.storage_size < 1:
            raise ValueError("storage needs first_index 0 or 1 and at least one slot")
        if settings.cpms_memories not in (1, 2, 3):
            raise ValueError("cpms_memories is how many memories +CPMS reports: 1, 2 or 3")
        self.settings = settings
        self.link = link
        self._server = Server(settings, link=link, tcp_port=tcp_port)
        self._core = self._server.core
        self._lock = self._server.lock
        self._concat_ref = 0

    # ---------------------------------------------------------------- lifecycle
    def start(self) -> None:
        self._server.start()

    def stop(self) -> None:
        self._server.stop()

    def __enter__(self) -> Emulator:
        self.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    @property
    def port(self) -> str:
        """What a driver opens: the symlink ``link`` if given, else the pty slave path."""
        return self._server.port

    @property
    def tcp_port(self) -> int | None:
        """The TCP port actually bound (``tcp_port=0`` asks for a free one)."""
        return self._server.tcp_port

    @property
    def tcp_url(self) -> str | None:
        """``socket://127.0.0.1:<port>`` for ``serial_for_url``, if TCP is served."""
        return self._server.tcp_url

    # ---------------------------------------------------------------- network side
    def inject_text(self, sender: str, text: str, *, timestamp: datetime | None = None) -> int:
        """Queue ``text`` from ``sender`` at the network as SMS-DELIVER part(s); return how many."""
        with self._lock:
            self._concat_ref = self._concat_ref % 255 + 1
            parts = pdu_codec.encode_deliver(sender, text, timestamp=timestamp,
                                             reference=self._concat_ref,
                                             smsc=self.settings.smsc)
            for part in parts:
                self._core.inject(part)
            self._server.wake()
            return len(parts)

    def inject_pdu(self, pdu: bytes | str) -> None:
        """Queue any raw PDU (SMSC part first), malformed ones included."""
        if isinstance(pdu, str):
            try:
                pdu = bytes.fromhex(pdu)
            except ValueError:
                raise PduError(f"not hexadecimal: {pdu[:40]!r}") from None
        with self._lock:
            self._core.inject(pdu)
            self._server.wake()

    @property
    def network_queue(self) -> int:
        """Messages waiting at the network (storage full, delivery gap, held, vanished)."""
        with self._lock:
            return len(self._core.network.queue)

    @property
    def wrong_pin_tries(self) -> int:
        """Wrong PINs entered since the SIM last unlocked (three lock it: SIM PUK)."""
        with self._lock:
            return self._core.sim.wrong_tries

    @property
    def storage_used(self) -> int:
        """Messages the modem holds, on the SIM and in ME (where a driver may point <mem3>)."""
        with self._lock:
            return len(self._core.storage) + len(self._core.phone_storage)

    def stored(self) -> dict[int, bytes]:
        """index -> PDU of every message stored on the SIM, a snapshot."""
        with self._lock:
            return {i: slot.pdu for i, slot in sorted(self._core.storage.items())}

    def stored_status(self, memory: str = "SM") -> dict[int, int]:
        """index -> 27.005 <stat> (0 unread, 1 read, 2 unsent, 3 sent) of the SIM's slots,
        or of the modem's own memory with ``memory="ME"``, a snapshot."""
        with self._lock:
            store = self._core.phone_storage if memory == "ME" else self._core.storage
            return {i: slot.stat for i, slot in sorted(store.items())}

    def deliveries(self) -> list[tuple[float, bytes]]:
        """(``time.monotonic()``, PDU) of each message put into storage (+CMTI/+CDSI), oldest
        first: the latest 100,000, a copy."""
        with self._lock:
            return list(self._core.deliveries)

    @property
    def sent(self) -> list[SentSms]:
        """Every SMS-SUBMIT accepted, in order (a copy)."""
        with self._lock:
            return list(self._core.sent)

    def wait_for(self, predicate: Callable[[Emulator], bool], timeout: float) -> bool:
        """Wait until ``predicate(self)`` holds; False if ``timeout`` seconds pass first."""
        deadline = time.monotonic() + timeout
        with self._server.changed:
            while not predicate(self):
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                # Woken on every served event; the cap covers changes made by other threads.
                self._server.changed.wait(min(left, 0.05))
            return True

    def hold_network(self, on: bool) -> None:
        """Keep messages at the network (no coverage) until released."""
        with self._lock:
            self._core.network.held = on
            self._server.wake()

    def urc_during_next_listing(self, after: int = 1) -> None:
        """The next AT+CMGL delivers one queued message after ``after`` entries.

        Its +CMTI lands between the lines of the listing, deterministically: what
        a real modem does when a message arrives mid-answer. Combine with
        :meth:`hold_network` so the message waits in the queue until then.
        """
        with self._lock:
            self._core.listing_hook = after

    def emit_urc(self, line: str) -> None:
        """Write one unsolicited line (``RING``, ``^RSSI:12`` …) to every line now."""
        with self._lock:
            self._server.urc(f"\r\n{line}\r\n".encode("latin-1"))
            self._server.wake()

    # ---------------------------------------------------------------- faults
    def set_silent(self, on: bool) -> None:
        """A hung modem: commands are swallowed, nothing is written (not even URCs)."""
        self._server.set_silent(on)

    def inject_garbage(self, data: bytes) -> None:
        """Write raw bytes to every line now (line noise, a vendor's binary burst)."""
        self._server.write_raw(data)

    def fail_sends(self, count: int, code: int = 500) -> None:
        """The next ``count`` AT+CMGS answer ``+CMS ERROR: <code>`` after the send delay."""
        with self._lock:
            self._core.fail_sends = count
            self._core.fail_code = code

    def odd_references(self, count: int, kind: str = "missing") -> None:
        """The next ``count`` sends go out and are answered OK, but with no
        ``+CMGS:``/``+CMSS:`` line ("missing") or line noise instead of it ("garbage");
        or they go out and are answered a bare ERROR ("error"), or nothing ("silent")."""
        if kind not in ("missing", "garbage", "error", "silent"):
            raise ValueError(f"kind is missing, garbage, error or silent, not {kind!r}")
        with self._lock:
            self._core.odd_references = count
            self._core.odd_reference_kind = kind

    def run_out_of_credit(self) -> None:
        """The SIM's credit and SMS package are spent: sends answer +CMS ERROR: 38 and
        the balance code says Rp0 and 0 SMS, until :meth:`top_up`."""
        self.top_up(credit=0, sms=0)

    def top_up(self, *, credit: int, sms: int = 0) -> None:
        with self._lock:
            self._core.credit, self._core.sms_left = credit, sms

    def refuse_sends(self, on: bool = True) -> None:
        """Every send answers +CMS ERROR: 38 (a barred SIM), whatever its credit."""
        with self._lock:
            self._core.settings = replace(self._core.settings, refuse_sends=on)

    def set_latency(self, seconds: float) -> None:
        """From now on each answer comes ``seconds`` after its command."""
        with self._lock:
            self._core.settings = replace(self._core.settings, command_latency=seconds)
            self._server.settings = self._core.settings

    def drop_next(self, prefix: str) -> None:
        """The next command starting with ``prefix`` ("AT+CMSS") gets no answer at all
        and does nothing, as if lost on the line."""
        with self._lock:
            self._core.drop_next = prefix.upper()

    def drop_commands(self, every: int) -> None:
        """From now on every ``every``-th command gets no answer at all (0: none)."""
        with self._lock:
            self._core.settings = replace(self._core.settings, drop_one_in=every)
            self._core.commands_seen = 0

    @property
    def balance_text(self) -> str:
        with self._lock:
            return self._core.balance_text()

    def sim_busy(self, seconds: float) -> None:
        """SIM commands answer +CMS ERROR 314 / +CME ERROR 14 for ``seconds`` from now."""
        with self._lock:
            self._core.sim.busy_until = time.monotonic() + seconds

    def reboot(self) -> None:
        """The modem restarts: echo on, CMGF/CNMI/CPMS/CMEE reset, PIN asked again."""
        self._server.reboot()

    def vanish(self, seconds: float) -> None:
        """The port disappears (pty closed, link removed) and comes back after ``seconds``.

        Like a USB reset: the device returns as a new pty (the link re-pointed to it)
        and the modem has rebooted.
        """
        self._server.vanish(seconds)

    @property
    def vanished(self) -> bool:
        with self._lock:
            return self._server.vanished
