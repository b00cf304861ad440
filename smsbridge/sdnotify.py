"""The systemd notify protocol: one datagram to ``$NOTIFY_SOCKET`` (sd_notify(3)).

Written out rather than depending on a library: it is a dozen lines, and the
daemon must run the same with or without systemd (no socket -> every call is a no-op).
"""

from __future__ import annotations

import os
import socket


class Notifier:
    def __init__(self, environ: dict[str, str] | None = None):
        env = os.environ if environ is None else environ
        self._address = env.get("NOTIFY_SOCKET") or None
        usec = env.get("WATCHDOG_USEC", "")
        pid = env.get("WATCHDOG_PID", "")
        mine = not pid or pid == str(os.getpid())
        self.watchdog_interval: float | None = (
            int(usec) / 1e6 / 2 if usec.isdigit() and int(usec) > 0 and mine else None
        )
        self._sock: socket.socket | None = None

    @property
    def enabled(self) -> bool:
        return self._address is not None

    def notify(self, **fields: str | int) -> bool:
        """Send e.g. ``notify(READY=1, STATUS="…")``; True when a datagram went out."""
        if not self._address:
            return False
        address = self._address
        if address.startswith("@"):
            # An abstract socket: its name starts with a NUL byte on the wire.
            address = "\0" + address[1:]
        payload = "\n".join(f"{key}={value}" for key, value in fields.items()).encode()
        try:
            if self._sock is None:
                self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
            self._sock.sendto(payload, address)
            return True
        except OSError:
            # systemd gone or socket unreadable: the daemon's job goes on regardless.
            return False

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None
