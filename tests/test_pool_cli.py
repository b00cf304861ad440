"""What an administrator sees of a pool: `modem probe --all`, `status` per modem."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from click.testing import CliRunner

from smsbridge.cli import main
from smsbridge.cli.daemon_cmd import daemon_report, modem_report
from smsbridge.emulator import Emulator, EmulatorSettings


def probe_config(tmp_path: Path, *, tsel: str) -> Path:
    """A pool of two for `modem probe`: tsel (on link a, in role ``tsel``) and isat, a
    sender (on link b), answering within a second."""
    config = tmp_path / "config.toml"
    config.write_text(
        '[modem]\ncommand_timeout = 1.0\nsim_busy_wait = 1.0\n'
        f'[[modems]]\nname = "tsel"\nport = "{tmp_path / "a"}"\nrole = "{tsel}"\n'
        f'[[modems]]\nname = "isat"\nport = "{tmp_path / "b"}"\nrole = "send"\n',
        encoding="utf-8")
    return config


def test_probe_all_probes_every_modem_of_the_pool(tmp_path: Path):
    config = probe_config(tmp_path, tsel="receive")
    with Emulator(EmulatorSettings(operator="TELKOMSEL"), link=str(tmp_path / "a")), \
            Emulator(EmulatorSettings(operator="INDOSAT", pin="1234"),
                     link=str(tmp_path / "b")):
        text = CliRunner().invoke(main, ["--config", str(config), "modem", "probe", "--all"])
        data = CliRunner().invoke(main, ["--config", str(config), "modem", "probe", "--all",
                                         "--json"])
    assert text.exit_code == 1  # isat's SIM asks for a PIN
    assert "== tsel (receive)" in text.output and "== isat (send)" in text.output
    assert "verdict: READY to receive SMS" in text.output
    assert "TELKOMSEL" in text.output and "INDOSAT" in text.output
    reports = json.loads(data.output)
    assert [(r["name"], r["ready"]) for r in reports] == [("tsel", True), ("isat", False)]


def test_status_lists_each_modem_with_its_role_state_and_cap():
    now = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    state = {"pid": "42", "heartbeat": "2026-12-01T11:59:58+00:00", "modems": "tsel,isat",
             "modem.tsel.role": "receive", "modem.tsel.state": "ready",
             "modem.tsel.modem": "huawei E173", "modem.tsel.signal_dbm": "-73",
             "modem.tsel.operator": "TELKOMSEL", "modem.tsel.storage_used": "2",
             "modem.tsel.storage_total": "30",
             "modem.isat.role": "send", "modem.isat.state": "down",
             "modem.isat.daily_cap": "500", "modem.isat.capped": "True",
             "modem.isat.last_error": "modem: the device vanished",
             "modem.isat.last_error_at": "2026-12-01T11:58:00+00:00"}
    modems = [modem_report(state, "tsel", sent_today=0, queue=3),
              modem_report(state, "isat", sent_today=500, queue=7)]
    report = daemon_report(state, 10, now=now, modems=modems)
    assert report["signal_dbm"] == -73 and report["last_error"].endswith("vanished")
    assert [(m["name"], m["role"], m["state"]) for m in report["modems"]] == [
        ("tsel", "receive", "ready"), ("isat", "send", "down")]
    isat = report["modems"][1]
    assert (isat["sent_today"], isat["daily_cap"], isat["capped"], isat["queue"]) == (
        500, 500, True, 7)


def test_in_a_pool_each_line_a_worker_logs_names_its_modem(capsys):
    import logging
    import threading

    from smsbridge.daemon import setup_logging

    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        setup_logging("INFO", name_modems=True)
        log = logging.getLogger("smsbridge.bridge")
        worker = threading.Thread(target=lambda: log.info("new case LP-000001"),
                                  name="modem tsel-1")
        worker.start()
        worker.join()
        log.info("config reloaded")
    finally:
        root.handlers[:], level = saved
        root.setLevel(level)
    lines = capsys.readouterr().err.splitlines()
    assert lines[0].endswith("smsbridge.bridge[tsel-1]: new case LP-000001")
    assert lines[1].endswith("smsbridge.bridge: config reloaded")


def test_emulator_runs_a_pool_with_one_control_stream(tmp_path: Path):
    result = CliRunner().invoke(
        main, ["emulator", "--modems", "3", "--link", str(tmp_path / "gsm-")],
        input="@2 +6281234567890 Ada judi di pasar\n@9 /status\n/status\n")
    assert result.exit_code == 0, result.output
    out = result.output
    assert f"port 1: {tmp_path / 'gsm-1'} (TELKOMSEL)" in out
    assert f"port 3: {tmp_path / 'gsm-3'} (XL)" in out
    assert "queued 1 part(s) from +6281234567890" in out
    assert "no modem '9'; they are 1 to 3" in out
    status = [line for line in out.splitlines() if line[:3] in ("1: ", "2: ", "3: ")]
    assert status[0] == "1: storage 0/30, network queue 0, sent 0"
    assert status[1] != "2: storage 0/30, network queue 0, sent 0"  # modem 2 got the SMS


def test_status_prints_a_line_per_modem(tmp_path: Path):
    from smsbridge.store import Store

    db = tmp_path / "cases.db"
    config = tmp_path / "config.toml"
    config.write_text(f'[database]\npath = "{db}"\n'
                      '[[modems]]\nname = "tsel"\nport = "/dev/a"\nrole = "receive"\n'
                      '[[modems]]\nname = "isat"\nport = "/dev/b"\nrole = "send"\n'
                      'daily_cap = 500\n[abuse]\nline_replies_per_day = 500\n'
                      'line_replies_per_hour = 100\n', encoding="utf-8")
    with Store.open(db) as store:
        store.state.update({"modem.tsel.state": "ready", "modem.tsel.role": "receive",
                            "modem.tsel.modem": "huawei E173", "modem.tsel.signal_dbm": "-73",
                            "modem.isat.state": "down", "modem.isat.role": "send",
                            "modem.isat.daily_cap": "500",
                            "modem.isat.last_error": "modem: the device vanished",
                            "modem.isat.last_error_at": "2026-12-01T11:58:00+00:00"})
    result = CliRunner().invoke(main, ["--config", str(config), "status"])
    assert result.exit_code == 1  # no daemon running
    lines = result.output.splitlines()
    tsel = next(line for line in lines if line.startswith("modem tsel"))
    isat = next(line for line in lines if line.startswith("modem isat"))
    assert "(receive): ready, huawei E173" in tsel and "-73 dBm" in tsel
    assert "(send): down" in isat and "sent today 0/500" in isat
    assert "last error: modem: the device vanished" in result.output


def test_status_says_what_each_stick_can_do_now_and_why_not():
    from smsbridge.cli.daemon_cmd import abilities

    ready = {"state": "ready", "last_error": None, "cannot_send": None, "capped": False}
    assert abilities({**ready, "role": "both"}) == (["receive", "send"], None)
    assert abilities({**ready, "role": "receive"}) == (["receive"], None)
    # A send-only stick is never said to receive.
    assert abilities({**ready, "role": "send"}) == (["send"], None)
    assert abilities({**ready, "role": "both", "cannot_send": "3 sends failed"}) == (
        ["receive"], "cannot send: 3 sends failed")
    assert abilities({**ready, "role": "send", "capped": True}) == (
        [], "cannot send: its daily cap is reached")
    assert abilities({**ready, "role": "both", "state": "down",
                      "last_error": "modem: gone"}) == ([], "down: modem: gone")


def test_status_shows_device_strings_neutralised_and_what_each_stick_can_do(tmp_path: Path):
    from smsbridge.store import Store

    db = tmp_path / "cases.db"
    config = tmp_path / "config.toml"
    config.write_text(f'[database]\npath = "{db}"\n'
                      '[[modems]]\nname = "tsel"\nport = "/dev/a"\nrole = "send"\n'
                      '[[modems]]\nname = "rx"\nport = "/dev/b"\nrole = "receive"\n',
                      encoding="utf-8")
    with Store.open(db) as store:
        store.state.update({"modem.tsel.state": "ready", "modem.tsel.role": "send",
                            "modem.tsel.modem": "huawei \x1b[2JE173",
                            "modem.tsel.operator": "TSEL\x1b]0;owned\x07",
                            "modem.tsel.cannot_send": "+CMS ERROR 38\x1b[31m",
                            "modem.tsel.cannot_send_at": "2026-12-01T11:58:00+00:00"})
    result = CliRunner().invoke(main, ["--config", str(config), "status"])
    assert "\x1b" not in result.output and "\x07" not in result.output
    assert "huawei ␛[2JE173" in result.output
    assert "can now: neither receive nor send (cannot send: +CMS ERROR 38␛[31m)" in \
        result.output


def test_probe_on_a_pool_probes_every_stick_and_never_calls_a_sender_a_receiver(
        tmp_path: Path):
    config = probe_config(tmp_path, tsel="both")
    with Emulator(EmulatorSettings(operator="TELKOMSEL"), link=str(tmp_path / "a")), \
            Emulator(EmulatorSettings(operator="INDOSAT\x1b[2J"), link=str(tmp_path / "b")):
        result = CliRunner().invoke(main, ["--config", str(config), "modem", "probe"])
    assert result.exit_code == 0, result.output
    tsel, isat = result.output.split("== isat (send)")
    assert "== tsel (both)" in tsel and "verdict: READY to receive and send SMS" in tsel
    assert "verdict: READY to send SMS" in isat and "receive" not in isat
    assert "\x1b" not in result.output and "INDOSAT" in result.output
