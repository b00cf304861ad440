"""``smsbridge modem probe``: the verdict logic without a port, the command over a real pty."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from smsbridge.cli import main
from smsbridge.cli.modem_cmd import format_report, report_dict
from smsbridge.emulator import Emulator, EmulatorSettings
from smsbridge.errors import ModemTimeout, PortError, SimError
from smsbridge.modem import probe
from smsbridge.modem.base import ModemStatus

HEALTHY = ModemStatus(manufacturer="huawei", model="E173", imei="861234567890123", sim="READY",
                      registration=1, operator="TELKOMSEL", rssi=20, storage_memory="SM",
                      storage_used=3, storage_total=30, smsc="+6281100000")


def with_(**changes) -> ModemStatus:
    from dataclasses import replace

    return replace(HEALTHY, **changes)


def test_healthy_modem_is_ready_without_warnings():
    report = probe.assess("/dev/gsm-modem", HEALTHY)
    assert report.ready and report.warnings == ()


@pytest.mark.parametrize("status, fix", [
    (with_(sim="SIM PIN", registration=0), probe.FIX_PIN),
    (with_(sim="SIM PUK"), probe.FIX_PUK),
    (with_(sim="NOT INSERTED"), probe.FIX_NO_SIM),
    (with_(registration=0), probe.FIX_NO_NETWORK),
    (with_(registration=2), probe.FIX_NO_NETWORK),
    (with_(registration=3), probe.FIX_DENIED),
    (with_(storage_used=30), probe.FIX_STORAGE_FULL),
])
def test_each_blocking_problem_says_what_to_fix(status, fix):
    report = probe.assess("/dev/gsm-modem", status)
    assert not report.ready
    assert report.problems == (fix,)


def test_roaming_counts_as_registered():
    assert probe.assess("p", with_(registration=5)).ready


@pytest.mark.parametrize("status, fragment", [
    (with_(rssi=2), "weak signal"),
    (with_(smsc=None), "SMSC"),
    (with_(storage_used=25), "almost full"),
    (with_(rssi=99), "unknown"),
])
def test_warnings_do_not_block_receiving(status, fragment):
    report = probe.assess("p", status)
    assert report.ready
    assert any(fragment in w for w in report.warnings)


def test_port_not_found_points_at_the_udev_rule():
    report = probe.assess("/dev/gsm-modem", None, PortError("no such file", port="/dev/gsm-modem"))
    assert not report.ready
    assert "udev rule" in report.problems[0] and "ttyUSB" in report.problems[0]


def test_permission_denied_points_at_the_dialout_group():
    error = PortError("cannot open", port="/dev/ttyUSB0")
    error.__cause__ = OSError("[Errno 13] Permission denied: '/dev/ttyUSB0'")
    assert "dialout" in probe.assess("/dev/ttyUSB0", None, error).problems[0]


def test_silent_port_suggests_trying_the_other_ports():
    report = probe.assess("/dev/ttyUSB0", None, ModemTimeout("ATE0", 10))
    assert "other" in report.problems[0]


def test_sim_error_is_reported_once_even_when_the_status_says_it_too():
    report = probe.assess("p", with_(sim="SIM PIN"), SimError(probe.FIX_PIN))
    assert report.problems == (probe.FIX_PIN,)


@pytest.mark.parametrize("dbm, bars", [(None, 0), (-51, 5), (-73, 5), (-80, 4), (-90, 3),
                                       (-100, 2), (-108, 1), (-113, 0)])
def test_signal_bars(dbm, bars):
    assert probe.bars(dbm) == bars


def test_report_text_names_every_field_an_administrator_needs():
    text = format_report(probe.assess("/dev/gsm-modem", HEALTHY))
    for fragment in ("huawei E173", "861234567890123", "READY", "registered, home network",
                     "TELKOMSEL", "-73 dBm, 5/5 bars", "+6281100000", "3/30 used",
                     "verdict: READY"):
        assert fragment in text


def test_report_text_lists_the_fixes_when_not_ready():
    text = format_report(probe.assess("p", with_(registration=3)))
    assert "NOT READY" in text and probe.FIX_DENIED in text


def test_report_dict_is_json_ready():
    data = report_dict(probe.assess("p", HEALTHY))
    assert json.loads(json.dumps(data)) == data
    assert data["ready"] is True and data["status"]["signal_dbm"] == -73


# -- the command, against the emulator over a real pty ------------------------------------

@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(f'[modem]\nport = "{tmp_path / "gsm-modem"}"\ncommand_timeout = 1.0\n'
                    f"sim_busy_wait = 1.0\n", encoding="utf-8")
    return path


def run_probe(config: Path, *args: str):
    return CliRunner().invoke(main, ["--config", str(config), "modem", "probe", *args])


def test_probe_of_a_ready_modem_exits_zero(config, tmp_path):
    with Emulator(EmulatorSettings(operator="XL"), link=str(tmp_path / "gsm-modem")):
        result = run_probe(config)
    assert result.exit_code == 0, result.output
    assert "verdict: READY" in result.output and "XL" in result.output


def test_probe_json_of_a_sim_asking_for_a_pin_exits_one(config, tmp_path):
    with Emulator(EmulatorSettings(pin="1234"), link=str(tmp_path / "gsm-modem")):
        result = run_probe(config, "--json")
    assert result.exit_code == 1
    data = json.loads(result.output)
    assert data["ready"] is False
    assert data["problems"] == [probe.FIX_PIN]
    assert data["status"]["sim"] == "SIM PIN"


def test_probe_port_option_overrides_the_config(config, tmp_path):
    with Emulator(EmulatorSettings(), link=str(tmp_path / "other-port")) as emu:
        result = run_probe(config, "--port", emu.port)
    assert result.exit_code == 0, result.output


def test_probe_of_a_missing_port_says_how_to_find_it(config):
    result = run_probe(config)
    assert result.exit_code == 1
    assert "port not found" in result.output and "udev rule" in result.output


def test_probe_of_a_silent_modem_says_to_try_the_other_ports(config, tmp_path):
    with Emulator(EmulatorSettings(), link=str(tmp_path / "gsm-modem")) as emu:
        emu.set_silent(True)
        result = run_probe(config)
    assert result.exit_code == 1
    assert "does not answer AT" in result.output


def test_probe_of_a_full_storage_says_so(config, tmp_path):
    with Emulator(EmulatorSettings(storage_size=2), link=str(tmp_path / "gsm-modem")) as emu:
        emu.inject_text("+6281234567890", "a")
        emu.inject_text("+6281234567890", "b")
        assert emu.wait_for(lambda e: e.storage_used == 2, timeout=5)
        result = run_probe(config)
    assert result.exit_code == 1
    assert "storage full" in result.output


# -- a port that cannot be opened: which of "not found", "busy", "not serial" ---------------

HOLDER = """
import fcntl, os, sys
fd = os.open(sys.argv[1], os.O_RDWR | os.O_NOCTTY)
fcntl.flock(fd, fcntl.LOCK_EX)  # what pyserial's exclusive=True does, as the daemon opens it
print("held", flush=True)
sys.stdin.read()
"""


@pytest.fixture
def held_pty():
    """A real pty whose port another process holds, as a running daemon does."""
    import os
    import subprocess
    import sys

    master, slave = os.openpty()
    path = os.ttyname(slave)
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, path], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        yield path
    finally:
        holder.stdin.close()
        holder.wait(timeout=10)
        os.close(slave)
        os.close(master)


def test_probe_of_a_port_held_by_another_process_says_so(config, held_pty):
    result = run_probe(config, "--port", held_pty, "--json")
    assert result.exit_code == 1
    assert json.loads(result.output)["problems"] == [
        probe.FIX_BUSY.format(port=held_pty)]


def test_a_free_pty_is_not_reported_busy(config, tmp_path):
    # The same pty once its holder is gone opens (and then stays silent: no modem on it).
    import os

    master, slave = os.openpty()
    try:
        result = run_probe(config, "--port", os.ttyname(slave), "--json")
    finally:
        os.close(slave)
        os.close(master)
    assert json.loads(result.output)["problems"] == [probe.FIX_SILENT]


@pytest.mark.parametrize("make", ["file", "directory"])
def test_probe_of_something_that_is_not_a_serial_device_says_so(config, tmp_path, make):
    target = tmp_path / "not-a-tty"
    if make == "file":
        target.write_text("AT\r\n")
    else:
        target.mkdir()
    result = run_probe(config, "--port", str(target), "--json")
    assert result.exit_code == 1
    assert json.loads(result.output)["problems"] == [probe.FIX_NOT_SERIAL]


def test_a_missing_port_is_still_not_found(config, tmp_path):
    data = json.loads(run_probe(config, "--port", str(tmp_path / "ttyUSB9"), "--json").output)
    assert data["problems"][0].startswith(probe.FIX_PORT)


@pytest.mark.parametrize("reason, fix", [
    (PortError.BUSY, probe.FIX_BUSY.format(port="/dev/gsm-modem")),
    (PortError.NOT_SERIAL, probe.FIX_NOT_SERIAL),
    (PortError.NO_PERMISSION, probe.FIX_PERMISSION),
])
def test_each_reason_a_port_gives_has_its_own_fix(reason, fix):
    error = PortError("cannot open", port="/dev/gsm-modem", reason=reason)
    assert probe.assess("/dev/gsm-modem", None, error).problems == (fix,)


# -- a PIN the SIM refused is never sent again, by the daemon or a probe ----------------


@pytest.fixture
def pin_config(tmp_path: Path, config: Path) -> Path:
    from smsbridge.store import Store

    db = tmp_path / "cases.db"
    Store.open(db).close()  # the daemon ran here: its database exists
    config.write_text(config.read_text().replace("[modem]\n", '[modem]\npin = "9999"\n')
                      + f'[database]\npath = "{db}"\n', encoding="utf-8")
    return config


def test_a_probe_never_sends_a_pin_the_daemon_saw_refused(pin_config, tmp_path):
    from smsbridge.modem.sim import fingerprint
    from smsbridge.store import Store

    with Store.open(tmp_path / "cases.db") as store:  # what the daemon's worker records
        store.state.remember_refused_pin("modem", fingerprint("9999"), at="2026-12-01T10:00:00")
    with Emulator(EmulatorSettings(pin="1234"), link=str(tmp_path / "gsm-modem")) as emu:
        result = run_probe(pin_config)
        assert emu.wrong_pin_tries == 0
    assert result.exit_code == 1
    assert "refused the configured PIN before; not trying again" in result.output
    assert "fix the config first" in result.output


def test_two_probes_with_a_wrong_pin_spend_one_try_of_the_sim(pin_config, tmp_path):
    with Emulator(EmulatorSettings(pin="1234"), link=str(tmp_path / "gsm-modem")) as emu:
        first = run_probe(pin_config)
        second = run_probe(pin_config, "--json")
        assert emu.wrong_pin_tries == 1
    assert "refused the configured PIN; it is not retried" in first.output
    assert "fix the config first" in first.output
    assert "not trying again" in json.loads(second.output)["problems"][0]
    # The right PIN is tried, once, and the SIM opens.
    pin_config.write_text(pin_config.read_text().replace('pin = "9999"', 'pin = "1234"'),
                          encoding="utf-8")
    with Emulator(EmulatorSettings(pin="1234"), link=str(tmp_path / "gsm-modem")) as emu:
        assert run_probe(pin_config).exit_code == 0
