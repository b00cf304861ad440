"""A PIN the SIM refused is never sent again: not on reconnect, not after a restart,
until the configured PIN changes (a third wrong PIN locks the SIM until its PUK)."""

from __future__ import annotations

import signal
import time

import pytest
from rigs import BACKENDS, DaemonProcess, number, query, run_smsbridge, wait_until

from smsbridge.emulator import Emulator, EmulatorSettings

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("backend", list(BACKENDS))
def test_a_refused_pin_is_not_tried_again_until_it_changes(tmp_path, backend):
    settings = EmulatorSettings(storage_size=30, pin="1234")
    with Emulator(settings, link=str(tmp_path / "modem")) as emu:
        d = DaemonProcess(tmp_path, emu.port, '', backend=backend)
        d.write_config(emu.port, '')
        d.config.write_text(d.config.read_text().replace(
            "[modem]\n", '[modem]\npin = "9999"\n'), encoding="utf-8")
        try:
            d.start()
            wait_until(lambda: emu.wrong_pin_tries >= 1, 60, "the wrong PIN to be tried")
            # Several reconnects (reconnect_max_seconds = 2): none sends the PIN again.
            wait_until(lambda: d.log_text().count("modem:") >= 1, 30, "the error logged")
            time.sleep(6)
            assert emu.wrong_pin_tries == 1
            status = run_smsbridge("--config", str(d.config), "status", timeout=30)
            assert "refused the configured PIN" in status.stdout
            assert "systemctl reload smsbridge" in status.stdout
            assert "9999" not in status.stdout + d.log_text()
            # A restart remembers the refusal.
            d.kill9()
            d.start()
            d.wait_running()
            time.sleep(5)
            assert emu.wrong_pin_tries == 1
            # The right PIN, and a reload: tried once, and the line comes up.
            d.config.write_text(d.config.read_text().replace('pin = "9999"', 'pin = "1234"'),
                                encoding="utf-8")
            d.proc.send_signal(signal.SIGHUP)
            emu.inject_text(number(1), "laporan setelah PIN benar")
            wait_until(lambda: len(emu.sent) >= 1, 90, "the reply once the SIM is unlocked")
            assert emu.wrong_pin_tries == 1
            assert query(d.db, "SELECT count(*) FROM cases") == [(1,)]
            assert d.terminate() == 0
        finally:
            d.stop()
