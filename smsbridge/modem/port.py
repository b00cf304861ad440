"""The serial port, opened from a URL: the only module that imports pyserial.

``serial_for_url`` takes a device path (``/dev/gsm-modem``), ``socket://host:port``,
``rfc2217://host:port`` or ``spy:///dev/ttyUSB0`` (logs the traffic: handy in the field).
pyserial's exceptions become PortError here, so nothing above knows pyserial exists.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import termios
from typing import Protocol

import serial

from smsbridge.errors import PortError

# pyserial lets termios.error (not an OSError) escape from flush() on a vanished pty.
_PORT_FAILURES = (serial.SerialException, OSError, termios.error)


class Port(Protocol):
    """What the AT driver needs from a byte stream to a modem."""

    url: str

    def write(self, data: bytes) -> None: ...

    def read(self, max_wait: float) -> bytes:
        """Bytes available within ``max_wait`` seconds (maybe none)."""

    def close(self) -> None: ...


class SerialPort:
    """A pyserial port behind the ``Port`` interface."""

    def __init__(self, url: str, handle: serial.SerialBase) -> None:
        self.url = url
        self._handle = handle

    def write(self, data: bytes) -> None:
        try:
            self._handle.write(data)
            self._handle.flush()
        except _PORT_FAILURES as exc:
            raise PortError(f"write failed, the device may have vanished: {exc}",
                            port=self.url) from exc

    def read(self, max_wait: float) -> bytes:
        try:
            self._handle.timeout = max(0.0, max_wait)
            first = self._handle.read(1)
            if not first:
                return b""
            waiting = self._handle.in_waiting
            return first + (self._handle.read(waiting) if waiting else b"")
        except _PORT_FAILURES as exc:
            raise PortError(f"read failed, the device may have vanished: {exc}",
                            port=self.url) from exc

    def close(self) -> None:
        # Closing a port whose device already vanished must not fail the caller.
        with contextlib.suppress(*_PORT_FAILURES):
            self._handle.close()


def open_port(url: str, *, baudrate: int = 115200) -> SerialPort:
    """Open ``url`` for AT traffic (8N1, no flow control) or raise PortError."""
    try:
        handle = serial.serial_for_url(url, baudrate=baudrate, timeout=0, write_timeout=10,
                                       exclusive=True if "://" not in url else None)
    except (*_PORT_FAILURES, ValueError) as exc:
        hint = ("check the udev rule / `ls /dev/ttyUSB*`" if "://" not in url
                else "check the URL and that the other end is listening")
        raise PortError(f"cannot open the modem port ({exc}); {hint}", port=url,
                        reason=None if "://" in url else _why(url, exc)) from exc
    return SerialPort(url, handle)


# The system's answer, as pyserial passes it on (its SerialException carries the errno,
# or was raised while handling termios.error).
_REASONS = {
    errno.ENOENT: PortError.NOT_FOUND,
    errno.ENODEV: PortError.NOT_FOUND,  # a device node left behind by an unplugged stick
    errno.ENXIO: PortError.NOT_FOUND,
    errno.EACCES: PortError.NO_PERMISSION,
    errno.EPERM: PortError.NO_PERMISSION,
    errno.EBUSY: PortError.BUSY,  # open(2) on a tty its holder made exclusive (TIOCEXCL)
    errno.EWOULDBLOCK: PortError.BUSY,  # flock(2): the daemon (or another) has it locked
    errno.ENOTTY: PortError.NOT_SERIAL,  # the terminal ioctls refused: a file, /dev/null
    errno.EISDIR: PortError.NOT_SERIAL,
}


def _why(path: str, exc: BaseException) -> str | None:
    """Why a device path could not be opened, from the errno (never from the wording)."""
    for cause in (exc, exc.__cause__, exc.__context__):
        code = getattr(cause, "errno", None)
        if code is None and isinstance(cause, termios.error) and cause.args:
            code = cause.args[0]
        if isinstance(code, int) and code in _REASONS:
            return _REASONS[code]
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return None
    return None if stat.S_ISCHR(mode) else PortError.NOT_SERIAL


def port_present(url: str) -> bool | None:
    """Whether the device a port URL names is there now (its path exists); None for a
    URL that names no path here (``socket://``, ``rfc2217://``)."""
    path = url.strip()
    if path.startswith("spy://"):
        path = path[len("spy://"):]
    if not path.startswith("/"):
        return None
    return os.path.exists(path)
