"""Shared fixtures: a real SQLite file per test and a config file pointing at it."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

# The suite reads the CLI in English, whatever the machine's locale or a config's
# [desk] language; tests of the Indonesian desk ask for it per process.
os.environ["SMSBRIDGE_LANG"] = "en"


@pytest.fixture
def emulator(tmp_path: Path):
    """The GSM modem emulator on a real pseudo-terminal, storage for 30 messages."""
    from smsbridge.emulator import Emulator, EmulatorSettings

    with Emulator(EmulatorSettings(storage_size=30), link=str(tmp_path / "modem")) as emu:
        yield emu


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    """Where a fresh case database goes (the file does not exist yet)."""
    return tmp_path / "smsbridge.db"


def write_config(directory: Path, db: Path, extra: str = "") -> Path:
    """A config file using ``db``; ``extra`` is appended TOML (more sections)."""
    path = directory / "config.toml"
    path.write_text(f'[database]\npath = "{db}"\nbusy_timeout = 30.0\n{extra}', encoding="utf-8")
    return path


@pytest.fixture
def config_file(tmp_path: Path, db_path: Path) -> Path:
    return write_config(tmp_path, db_path)


@pytest.fixture
def cli_env(config_file: Path) -> dict[str, str]:
    """Environment for running ``python -m smsbridge`` as a subprocess on ``db_path``."""
    env = dict(os.environ)
    env["SMSBRIDGE_CONFIG"] = str(config_file)
    env["SMSBRIDGE_OPERATOR"] = "test-operator"
    env.pop("COLUMNS", None)
    return env


@pytest.fixture
def python() -> str:
    return sys.executable


@pytest.fixture
def cli(config_file: Path, monkeypatch: pytest.MonkeyPatch):
    """``smsbridge`` in this process (click's runner) on ``config_file``, as operator
    "sari" on an 80-column terminal; ``cli(..., ok=False)`` for a command that may fail,
    ``config=`` for another config file."""
    from click.testing import CliRunner

    from smsbridge.cli import main

    monkeypatch.setenv("SMSBRIDGE_OPERATOR", "sari")
    monkeypatch.setenv("COLUMNS", "80")

    def run(*args: str, ok: bool = True, config: Path = config_file):
        result = CliRunner().invoke(main, ["--config", str(config), *args])
        if ok:
            assert result.exit_code == 0, result.output
        return result

    return run


@pytest.fixture
def at_modem(tmp_path: Path):
    """``at_modem(**settings, modem={...}, open_modem=True)``: (emulator, AtModem on it)."""
    # The emulator on tmp_path/gsm-modem; the driver with command_timeout 2 s and
    # sim_busy_wait 5 s unless ``modem`` says otherwise; both closed at teardown.
    from smsbridge.emulator import Emulator, EmulatorSettings
    from smsbridge.modem.atmodem import AtModem

    running: list[tuple[Emulator, AtModem]] = []

    def start(*, modem: dict | None = None, open_modem: bool = True,
              **settings) -> tuple[Emulator, AtModem]:
        emu = Emulator(EmulatorSettings(**settings), link=str(tmp_path / "gsm-modem"))
        emu.start()
        options = {"command_timeout": 2.0, "sim_busy_wait": 5.0, **(modem or {})}
        driver = AtModem(emu.port, **options)
        running.append((emu, driver))
        if open_modem:
            driver.open()
        return emu, driver

    yield start
    for emu, driver in running:
        driver.close()
        emu.stop()


@pytest.fixture
def daemon_process(tmp_path: Path, emulator):
    """``daemon_process(extra, backend)``: a DaemonProcess, not started, on ``emulator``."""
    # In tmp_path, ``extra`` TOML appended to its config; stopped (killed) at teardown.
    from rigs import DaemonProcess

    made: list[DaemonProcess] = []

    def make(extra: str = "", backend: str = "at") -> DaemonProcess:
        made.append(DaemonProcess(tmp_path, emulator.port, extra, backend=backend))
        return made[-1]

    yield make
    for daemon in made:
        daemon.stop()


@pytest.fixture
def pool_daemon(tmp_path: Path):
    """``pool_daemon(*names, settings=, roles=, extra=, tables=)``: Pool(daemon, emulators)."""
    # An emulator on tmp_path/NAME per name, a DaemonProcess (not started) with a
    # [[modems]] table for each (rigs.pool_toml); the daemon, then them, stopped at teardown.
    from rigs import DaemonProcess, Pool, pool_toml

    from smsbridge.emulator import Emulator, EmulatorSettings

    daemons: list[DaemonProcess] = []
    running: list[Emulator] = []

    def start(*names: str, settings: EmulatorSettings | None = None,
              roles: dict[str, str] | None = None, extra: str = "",
              tables: dict[str, str] | None = None) -> Pool:
        emus: dict[str, Emulator] = {}
        for name in names:
            emu = Emulator(settings or EmulatorSettings(), link=str(tmp_path / name))
            emu.start()
            running.append(emu)
            emus[name] = emu
        config = pool_toml({n: e.port for n, e in emus.items()}, roles, tables) + extra
        daemons.append(DaemonProcess(tmp_path, emus[names[0]].port, config))
        return Pool(daemons[-1], emus)

    yield start
    for daemon in daemons:
        daemon.stop()
    for emu in running:
        emu.stop()
