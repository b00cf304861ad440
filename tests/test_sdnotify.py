"""sd_notify against a real datagram socket, as systemd would listen."""

from __future__ import annotations

import os
import socket

from smsbridge.sdnotify import Notifier


def _listener(path):
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(path))
    sock.settimeout(5)
    return sock


def test_notify_sends_one_datagram_with_every_field(tmp_path):
    path = tmp_path / "notify"
    with _listener(path) as sock:
        n = Notifier({"NOTIFY_SOCKET": str(path)})
        assert n.notify(READY=1, STATUS="modem ready")
        assert sock.recv(4096) == b"READY=1\nSTATUS=modem ready"
        n.close()


def test_abstract_socket_address_is_supported():
    name = f"smsbridge-test-{os.getpid()}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind("\0" + name)
        sock.settimeout(5)
        n = Notifier({"NOTIFY_SOCKET": "@" + name})
        assert n.notify(WATCHDOG=1)
        assert sock.recv(100) == b"WATCHDOG=1"
        n.close()


def test_without_systemd_notify_is_a_no_op():
    n = Notifier({})
    assert not n.enabled and not n.notify(READY=1)
    assert n.watchdog_interval is None


def test_watchdog_interval_is_half_of_watchdog_usec_for_this_process():
    n = Notifier({"NOTIFY_SOCKET": "/nonexistent", "WATCHDOG_USEC": "60000000",
                  "WATCHDOG_PID": str(os.getpid())})
    assert n.watchdog_interval == 30.0
    other = Notifier({"WATCHDOG_USEC": "60000000", "WATCHDOG_PID": "1"})
    assert other.watchdog_interval is None


def test_a_vanished_socket_does_not_break_the_daemon(tmp_path):
    n = Notifier({"NOTIFY_SOCKET": str(tmp_path / "gone")})
    assert n.notify(READY=1) is False
