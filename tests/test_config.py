"""The config file: lookup order, defaults, and one clear line for every mistake."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from smsbridge.cli import main
from smsbridge.config import load as config
from smsbridge.errors import ConfigError

ROOT = Path(__file__).resolve().parent.parent


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.skipif(config.SYSTEM_CONFIG.exists(), reason="this machine has a system config")
def test_without_any_file_the_defaults_work():
    cfg = config.load(None, environ={})
    assert cfg == config.Config()
    assert cfg.tickets.prefix == "LP" and cfg.tickets.digits == 6


def test_explicit_path_wins_over_the_environment(tmp_path: Path):
    mine = write(tmp_path, '[tickets]\nprefix = "SL"\n')
    other = tmp_path / "other.toml"
    other.write_text('[tickets]\nprefix = "XY"\n')
    assert config.load(mine, environ={config.ENV_VAR: str(other)}).tickets.prefix == "SL"
    assert config.load(None, environ={config.ENV_VAR: str(other)}).tickets.prefix == "XY"


def test_example_config_is_valid_and_documents_every_key():
    example = ROOT / "config.example.toml"
    cfg = config.load(example, environ={})
    text = example.read_text()
    for section, keys in config.as_dict(cfg).items():
        assert f"[{section}]" in text
        for key in keys:
            assert f"{key} =" in text or f"# {key} =" in text, f"{section}.{key}"


def test_relative_database_path_is_relative_to_the_config_file(tmp_path: Path):
    cfg = config.load(write(tmp_path, '[database]\npath = "data/cases.db"\n'), environ={})
    assert cfg.database.path == str(tmp_path / "data" / "cases.db")


@pytest.mark.parametrize(("text", "key", "expected"), [
    ("[modem]\nspeed = 9600\n", "modem.speed", "unknown key"),
    ("[moden]\nport = 'x'\n", "moden", "unknown section"),
    ("[modem]\nbaudrate = 'fast'\n", "modem.baudrate", "expected a whole number"),
    ("[modem]\nbaudrate = 10\n", "modem.baudrate", "expected a value from 300"),
    ("[modem]\nbackend = 'serial'\n", "modem.backend", "expected one of at, gammu"),
    ("[database]\nbusy_timeout = true\n", "database.busy_timeout", "expected a number"),
    ("[tickets]\nprefix = 'POL'\n", "tickets.prefix", "O and I are not allowed"),
    ("[tickets]\nprefix = 'LP1'\n", "tickets.prefix", "up to 4 letters"),
    ("[tickets]\nprefix = 'ABCD'\ndigits = 10\n", "tickets.digits", "at most 12"),
    ("[modem]\npin = '12'\n", "modem.pin", "4 to 8 digits"),
])
def test_mistake_is_one_line_naming_file_key_and_expectation(tmp_path, text, key, expected):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        config.load(path, environ={})
    message = str(info.value)
    assert str(path) in message and f"[{key}]" in message and expected in message
    assert "\n" not in message


def test_missing_and_broken_files_are_config_errors(tmp_path: Path):
    with pytest.raises(ConfigError, match="not found"):
        config.load(tmp_path / "nope.toml", environ={})
    with pytest.raises(ConfigError, match="not valid TOML"):
        config.load(write(tmp_path, "[modem\n"), environ={})


def test_config_check_masks_the_pin_and_bad_config_exits_2(tmp_path: Path):
    good = write(tmp_path, '[modem]\npin = "1234"\n')
    result = CliRunner().invoke(main, ["--config", str(good), "config", "check", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["modem"]["pin"] == "****" and "1234" not in result.output
    bad = write(tmp_path, "[modem]\nbaudrate = 'fast'\n")
    result = CliRunner().invoke(main, ["--config", str(bad), "config", "check"])
    assert result.exit_code == 2
    assert len(result.output.strip().splitlines()) == 1


def test_cli_commands_report_config_errors_with_exit_2(tmp_path: Path):
    bad = write(tmp_path, "[tickets]\nprefix = 'POL'\n")
    result = CliRunner().invoke(main, ["--config", str(bad), "cases", "list"])
    assert result.exit_code == 2 and "tickets.prefix" in result.output


@pytest.mark.parametrize("text, key, why", [
    ('[abuse]\nblocklist = ["081234567890", "0812345678901234567890"]\n', "abuse.blocklist",
     "entry 2 is not a phone number: too long"),
    ('[abuse]\nblocklist = ["12"]\n', "abuse.blocklist", "entry 1 cannot be a phone number"),
    ('[daemon]\ncountry_code = "+62"\n', "daemon.country_code", "1 to 3 digits"),
])
def test_numbers_in_the_config_are_checked_where_they_are_written(tmp_path: Path, text, key,
                                                                   why):
    with pytest.raises(ConfigError) as caught:
        config.load(write(tmp_path, text))
    assert f"[{key}]" in str(caught.value) and why in str(caught.value)


def test_a_valid_blocklist_loads():
    cfg = config.from_dict({"abuse": {"blocklist": ["0812-3456-7890", "+14155550100"]}})
    assert len(cfg.abuse.blocklist) == 2


def test_config_check_masks_credentials_in_the_hook_url(tmp_path: Path):
    path = write(tmp_path, '[hook]\nurl = "https://desk:s3cret@hooks.example/new?token=abc"\n')
    result = CliRunner().invoke(main, ["--config", str(path), "config", "check"])
    assert result.exit_code == 0, result.output
    assert "s3cret" not in result.output and "abc" not in result.output
    assert "https://desk:****@hooks.example/new?token=****" in result.output


def test_config_check_warns_when_a_file_with_secrets_is_readable_by_others(tmp_path: Path):
    path = write(tmp_path, '[[officers]]\nname = "budi"\nnumber = "+62 (0) 812-3456-0001"\n'
                           'word = "mawarku"\n[hook]\ncommand = "notify --token abc"\n')
    path.chmod(0o644)
    result = CliRunner().invoke(main, ["--config", str(path), "config", "check"])
    assert result.exit_code == 0 and "readable by every user" in result.output
    assert "verification words" in result.output and "[hook] command" in result.output
    data = json.loads(CliRunner().invoke(main, ["--config", str(path), "config", "check",
                                                "--json"]).output)
    assert "readable by every user" in data["warning"]
    path.chmod(0o640)
    result = CliRunner().invoke(main, ["--config", str(path), "config", "check"])
    assert result.exit_code == 0 and "warning" not in result.output
