"""The plumbing that serves one emulated modem: a pty and TCP lines, from one thread.

One thread serves every line (the pty master, TCP clients) with ``select`` on their
fds and a wake-up pipe: it paces output at the line's speed, feeds the commands
waiting in the lines' buffers to the modem (``core.py``) one at a time, and runs the
timers of the timing model (command latency, send delay, a vanished port's return).
The modem answers through this server, which is its Sink. Whoever changes the modem
from another thread (the control API in ``device.py``) holds :attr:`Server.lock` and
then calls :meth:`Server.wake`.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import logging
import os
import re
import select
import socket
import threading
import time
import tty
from collections import deque
from collections.abc import Callable

from smsbridge.emulator.core import ModemCore
from smsbridge.emulator.settings import EmulatorSettings
from smsbridge.emulator.state import Prompt
from smsbridge.errors import PortError

log = logging.getLogger(__name__)

ESC = 0x1B
_MAX_LINE = 4096  # a command line longer than this is noise: dropped like a modem's overflow
_BODY_END = re.compile(rb"[\x1a\x1b]")  # Ctrl-Z sends, ESC cancels (27.005 §3.5.1)


class _Line:
    """One connection to the modem: the pty master or a TCP client."""

    def __init__(self, fd: int, name: str, sock: socket.socket | None = None):
        self.fd = fd
        self.name = name
        self.sock = sock
        self.inbuf = bytearray()
        self.out: deque[tuple[float, bytes]] = deque()  # (not before, bytes), FIFO
        self.free_at = 0.0  # when the paced line has sent everything queued
        self.prompt: Prompt | None = None
        self.blocked = False  # the kernel buffer is full: wait until writable

class Server:
    """Serves one ModemCore (:attr:`core`) on a pty and optionally on TCP 127.0.0.1."""

    def __init__(self, settings: EmulatorSettings, *, link: str | None,
                 tcp_port: int | None):
        self.settings = settings
        self.link = link
        self._want_tcp = tcp_port
        self.tcp_port: int | None = None  # the port actually bound
        self.lock = threading.RLock()
        self.changed = threading.Condition(self.lock)  # notified after every served event
        self._lines: dict[int, _Line] = {}
        self.core = ModemCore(settings, time.monotonic, self)
        self._pty: _Line | None = None
        self._slave_fd: int | None = None
        self._slave_path: str | None = None
        self._listener: socket.socket | None = None
        self._current: _Line | None = None  # the line whose command is running
        self._timers: list[tuple[float, int, Callable[[], None]]] = []
        self._seq = itertools.count()
        self._busy = False  # a command is waiting out its latency or send delay
        self._generation = 0  # bumped by reboot/vanish: stale timers do nothing
        self._silent = False
        self.vanished = False
        self._wake_r = self._wake_w = -1
        self._thread: threading.Thread | None = None
        self._stopping = False

    # ---------------------------------------------------------------- lifecycle
    def start(self) -> None:
        with self.lock:
            if self._thread is not None:
                return
            self._stopping = False
            self._wake_r, self._wake_w = os.pipe()
            os.set_blocking(self._wake_r, False)
            os.set_blocking(self._wake_w, False)
            self._open_ports()
            self.core.boot()  # power-on now: SIM busy and boot URCs count from here
            self._thread = threading.Thread(target=self._serve, name="gsm-emulator",
                                            daemon=True)
            self._thread.start()

    def stop(self) -> None:
        with self.lock:
            if self._thread is None:
                return
            self._stopping = True
            self.wake()
            thread = self._thread
        thread.join()
        with self.lock:
            self._thread = None
            self._close_ports()
            os.close(self._wake_r)
            os.close(self._wake_w)

    @property
    def port(self) -> str:
        """What a driver opens: the symlink ``link`` if given, else the pty slave path."""
        with self.lock:
            if self.link is not None:
                return self.link
            if self._slave_path is None:
                raise PortError("the emulator is not started", port=None)
            return self._slave_path

    @property
    def tcp_url(self) -> str | None:
        """``socket://127.0.0.1:<port>`` for ``serial_for_url``, if TCP is served."""
        return None if self.tcp_port is None else f"socket://127.0.0.1:{self.tcp_port}"

    # ---------------------------------------------------------------- faults on the lines
    def set_silent(self, on: bool) -> None:
        """Swallow every command and write nothing, URCs neither; half-typed input is lost."""
        with self.lock:
            self._silent = on
            for line in self._lines.values():
                line.inbuf.clear()
                line.prompt = None
            self.wake()

    def write_raw(self, data: bytes) -> None:
        """Write ``data`` to every line now, even a silent one."""
        with self.lock:
            for line in self._lines.values():
                self._queue(line, data, force=True)
            self.wake()

    def reboot(self) -> None:
        """The modem boots again; answers still pending on the lines die with it."""
        with self.lock:
            self._reset_lines()
            self.core.boot()
            self.wake()

    def vanish(self, seconds: float) -> None:
        """Close every line, the pty and the link; after ``seconds`` a new pty appears
        (the link re-pointed to it) and the modem boots."""
        with self.lock:
            if self.vanished:
                return
            self.vanished = True
            self.core.powered = False
            self._close_ports()
            self._reset_lines()
            self._at(time.monotonic() + seconds, self._reappear)
            self.wake()

    # ---------------------------------------------------------------- ports
    def _open_ports(self) -> None:
        master, slave = os.openpty()
        # Raw: no echo, no CR/LF mapping by the line discipline; the modem does its own echo.
        tty.setraw(slave)
        os.set_blocking(master, False)
        # Holding the slave open keeps the master from reading EIO while no driver has it.
        self._slave_fd = slave
        self._slave_path = os.ttyname(slave)
        self._pty = _Line(master, self._slave_path)
        self._lines[master] = self._pty
        if self.link is not None:
            temporary = f"{self.link}.{os.getpid()}.new"
            try:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(temporary)
                os.symlink(self._slave_path, temporary)
                os.replace(temporary, self.link)  # atomic: a driver never sees no link mid-swap
            except OSError as exc:
                raise PortError(f"cannot make the link to the emulator's pty: {exc.strerror}",
                                port=self.link) from exc
        if self._want_tcp is not None:
            listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            listener.bind(("127.0.0.1", self.tcp_port or self._want_tcp))
            listener.listen(4)
            listener.setblocking(False)
            self._listener = listener
            self.tcp_port = listener.getsockname()[1]
        log.info("GSM emulator on %s%s", self.port,
                 f" and {self.tcp_url}" if self.tcp_port is not None else "")

    def _close_ports(self) -> None:
        for line in list(self._lines.values()):
            self._drop_line(line)
        if self._slave_fd is not None:
            os.close(self._slave_fd)
            self._slave_fd = None
        if self.link is not None:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.link)
        if self._listener is not None:
            self._listener.close()
            self._listener = None

    def _drop_line(self, line: _Line) -> None:
        self._lines.pop(line.fd, None)
        if line is self._pty:
            self._pty = None
        if line.sock is not None:
            line.sock.close()
        else:
            os.close(line.fd)

    def _reappear(self) -> None:
        if not self.vanished or self._stopping:
            return
        self.vanished = False
        self.core.powered = True
        self._reset_lines()
        self.core.boot()
        self._open_ports()

    def _reset_lines(self) -> None:
        self._generation += 1
        self._busy = False  # pending answers die with the generation they belonged to
        for line in self._lines.values():
            line.inbuf.clear()
            line.prompt = None

    # ---------------------------------------------------------------- output
    def _queue(self, line: _Line, data: bytes, *, force: bool = False) -> None:
        if self._silent and not force:
            return
        now = time.monotonic()
        baud = self.settings.baudrate
        start = max(now, line.free_at)
        if not baud:
            line.out.append((start, data))
            line.free_at = start
            return
        # 8N1: ten bit times per byte; release in ~10 ms slices so pacing stays smooth.
        rate = baud / 10
        step = max(1, int(rate / 100))
        for offset in range(0, len(data), step):
            piece = data[offset:offset + step]
            line.out.append((start, piece))
            start += len(piece) / rate
        line.free_at = start

    def reply(self, data: bytes) -> None:
        """Sink: bytes for the line whose command is running."""
        if self._current is not None and self._current.fd in self._lines:
            self._queue(self._current, data)

    def urc(self, data: bytes) -> None:
        """Sink: an unsolicited result code, for every line."""
        for line in self._lines.values():
            self._queue(line, data)

    def _flush(self, line: _Line, now: float) -> None:
        while line.out and line.out[0][0] <= now:
            data = line.out[0][1]
            try:
                written = os.write(line.fd, data)
            except BlockingIOError:
                line.blocked = True
                return
            except OSError as exc:
                log.debug("%s: write failed (%s); dropping the line", line.name, exc)
                if line is not self._pty:
                    self._drop_line(line)
                else:
                    line.out.clear()
                return
            line.blocked = False
            if written < len(data):
                line.out[0] = (line.out[0][0], data[written:])
                line.blocked = True
                return
            line.out.popleft()

    # ---------------------------------------------------------------- input
    def _on_input(self, line: _Line, data: bytes) -> None:
        if self._silent:
            return
        if self.core.session.echo:
            self._queue(line, data)
        line.inbuf += data
        self._pump()

    def _pump(self) -> None:
        """Run the commands waiting in the lines' buffers, one at a time, in order."""
        progress = True
        while progress and not self._busy:
            progress = False
            for line in list(self._lines.values()):
                while not self._busy and self._take(line):
                    progress = True

    def _take(self, line: _Line) -> bool:
        buf = line.inbuf
        if line.prompt is not None:
            found = _BODY_END.search(buf)
            if found is None:
                return False
            end = found.start()
            body, terminator = bytes(buf[:end]), buf[end]
            del buf[:end + 1]
            prompt, line.prompt = line.prompt, None
            self._current = line
            if terminator == ESC:
                self.core.cancel_body()
                return True
            # Writing to storage (AT+CMGW) is the modem's own business; only a send
            # (AT+CMGS here, AT+CMSS as a command) waits for the network.
            delay = self.settings.send_delay if prompt.command == "+CMGS" else 0.0
            self._defer(delay, lambda: self.core.finish_body(prompt, body), line)
            return True
        end = buf.find(b"\r")
        if end < 0:
            if len(buf) > _MAX_LINE:
                buf.clear()
            return False
        text = buf[:end].decode("latin-1").strip(" \n\t\x00")
        del buf[:end + 1]
        if not text:
            return True
        # AT+CMSS sends like AT+CMGS after its prompt: it takes the network's time.
        delay = self.settings.command_latency + (
            self.settings.send_delay if text[:8].upper() == "AT+CMSS=" and
            not text.endswith("?") else 0.0)
        if delay > 0:
            self._defer(delay, lambda: self._execute(line, text), line)
        else:
            self._execute(line, text)
        return True

    def _execute(self, line: _Line, text: str) -> None:
        self._current = line
        line.prompt = self.core.execute(text)

    def _defer(self, delay: float, action: Callable[[], None], line: _Line) -> None:
        """Keep the modem busy for ``delay``, then run ``action`` and the next commands."""
        if delay <= 0:
            self._current = line
            action()
            return
        self._busy = True
        generation = self._generation

        def run() -> None:
            if generation != self._generation:
                return
            self._busy = False
            if line.fd in self._lines:
                self._current = line
                action()
            self._pump()

        self._at(time.monotonic() + delay, run)

    def _at(self, when: float, action: Callable[[], None]) -> None:
        heapq.heappush(self._timers, (when, next(self._seq), action))

    def wake(self) -> None:
        if self._thread is None:
            return  # not serving: the next start() looks at the state anyway
        with contextlib.suppress(BlockingIOError):
            os.write(self._wake_w, b"!")

    # ---------------------------------------------------------------- the thread
    def _serve(self) -> None:
        while True:
            with self.lock:
                if self._stopping:
                    return
                try:
                    timeout = self._step()
                except Exception:
                    # A bug here must not leave drivers hanging on a dead line: log, serve on.
                    log.exception("emulator step failed")
                    timeout = 0.05
                self.changed.notify_all()
                readers = [self._wake_r, *self._lines]
                if self._listener is not None:
                    readers.append(self._listener.fileno())
                writers = [fd for fd, line in self._lines.items() if line.blocked]
            try:
                readable, writable, _ = select.select(readers, writers, [], timeout)
            except (OSError, ValueError):
                continue  # an fd closed under us (vanish): rebuild the lists
            with self.lock:
                for fd in writable:
                    line = self._lines.get(fd)
                    if line is not None:
                        line.blocked = False
                for fd in readable:
                    try:
                        self._readable(fd)
                    except Exception:
                        log.exception("emulator failed serving fd %d", fd)

    def _step(self) -> float | None:
        """Run what is due; return how long select may sleep."""
        now = time.monotonic()
        while self._timers and self._timers[0][0] <= now:
            _when, _seq, action = heapq.heappop(self._timers)
            action()
        self._pump()
        deadlines = []
        next_delivery = self.core.deliver_due(now)
        if next_delivery is not None:
            deadlines.append(next_delivery)
        for line in list(self._lines.values()):
            if not line.blocked:
                self._flush(line, now)
            if line.out and not line.blocked and line.fd in self._lines:
                deadlines.append(line.out[0][0])
        if self._timers:
            deadlines.append(self._timers[0][0])
        if not deadlines:
            return None
        return max(0.0, min(deadlines) - time.monotonic())

    def _readable(self, fd: int) -> None:
        if fd == self._wake_r:
            with contextlib.suppress(BlockingIOError):
                os.read(self._wake_r, 4096)
            return
        if self._listener is not None and fd == self._listener.fileno():
            with contextlib.suppress(BlockingIOError):
                sock, _addr = self._listener.accept()
                sock.setblocking(False)
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                self._lines[sock.fileno()] = _Line(sock.fileno(), "tcp", sock)
            return
        line = self._lines.get(fd)
        if line is None:
            return
        try:
            data = os.read(fd, 65536)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            if line is not self._pty:
                self._drop_line(line)  # the TCP client hung up
            return
        self._on_input(line, data)
