"""Several modems in one config: [[modems]], what they share with [modem], and the pool
mistakes config check refuses."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from smsbridge.cli import main
from smsbridge.config import load as config
from smsbridge.config import pool as pool_config
from smsbridge.errors import ConfigError


def load(tmp_path: Path, text: str) -> config.Config:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return config.load(path, environ={})


def test_a_single_modem_table_is_a_pool_of_one(tmp_path):
    cfg = load(tmp_path, '[modem]\nport = "/dev/ttyUSB0"\n')
    assert cfg.modems == ()
    [only] = cfg.pool_modems
    assert only is cfg.modem and only.role == "both" and only.name == "modem"


def test_modems_entries_take_modem_as_their_shared_keys(tmp_path):
    cfg = load(tmp_path, """
[modem]
command_timeout = 5.0
[[modems]]
name = "tsel"
port = "/dev/ttyUSB0"
role = "receive"
[[modems]]
port = "/dev/ttyUSB4"
role = "send"
prefixes = ["0811", "62812", "+62813"]
send_per_minute = 12
daily_cap = 900
command_timeout = 7.5
[abuse]
line_replies_per_day = 900
line_replies_per_hour = 300
""")
    first, second = cfg.pool_modems
    assert (first.name, first.role, first.command_timeout) == ("tsel", "receive", 5.0)
    assert (second.name, second.role, second.command_timeout) == ("modem2", "send", 7.5)
    assert second.send_per_minute == 12.0 and second.daily_cap == 900
    assert [pool_config.normalize_prefix(p, "62") for p in second.prefixes] == [
        "+62811", "+62812", "+62813"]


@pytest.mark.parametrize(("text", "key", "words"), [
    ('[[modems]]\nport = "/dev/a"\n[[modems]]\nport = "/dev/a"\n', "modems[2].port",
     "on one port"),
    ('[[modems]]\nport = "/dev/a"\nrole = "receive"\n[[modems]]\nport = "/dev/b"\n'
     'role = "receive"\n', "modems", "no modem sends"),
    ('[[modems]]\nport = "/dev/a"\nrole = "send"\n', "modems", "no modem receives"),
    ('[modem]\nrole = "send"\n', "modems", "no modem receives"),
    ('[[modems]]\nname = "x"\nport = "/dev/a"\n[[modems]]\nname = "x"\nport = "/dev/b"\n',
     "modems[2].name", "two modems are named"),
    ('[[modems]]\nname = "a b"\nport = "/dev/a"\n', "modems[1].name", "expected up to 32"),
    ('[[modems]]\nport = "/dev/a"\nprefixes = ["08x1"]\n', "modems[1].prefixes",
     "number prefix"),
    ('[[modems]]\nport = "/dev/a"\nrole = "all"\n', "modems[1].role", "expected one of"),
    ('[[modems]]\nport = "/dev/a"\nspeed = 1\n', "modems[1].speed", "unknown key"),
    ('[[modems]]\nport = "/dev/a"\npin = "12"\n', "modems[1].pin", "4 to 8 digits"),
    ("modems = 3\n", "modems", "one [[modems]] table"),
    ('[pool]\nroute = ["received", "cheapest"]\n', "pool.route", "cheapest"),
])
def test_pool_mistakes_are_refused_with_the_key(tmp_path, text, key, words):
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, text)
    assert caught.value.key == key
    assert words in str(caught.value)


def test_two_names_of_one_device_are_one_port(tmp_path):
    device = tmp_path / "ttyUSB0"
    device.touch()
    os.symlink(device, tmp_path / "gsm-a")
    text = (f'[[modems]]\nport = "{tmp_path / "gsm-a"}"\n'
            f'[[modems]]\nport = "spy://{device}"\n')
    with pytest.raises(ConfigError, match="on one port"):
        load(tmp_path, text)


def test_config_check_prints_each_modem_of_the_pool(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text('[[modems]]\nname = "a"\nport = "/dev/a"\npin = "1234"\n'
                    '[[modems]]\nname = "b"\nport = "/dev/b"\n')
    result = CliRunner().invoke(main, ["--config", str(path), "config", "check"])
    assert result.exit_code == 0, result.output
    assert result.output.count("[[modems]]") == 2
    assert 'name = "a"' in result.output and "1234" not in result.output


def test_a_line_budget_larger_than_the_sticks_caps_together_is_refused(tmp_path):
    sticks = """
[[modems]]
name = "a"
port = "/dev/ttyUSB0"
daily_cap = 300
[[modems]]
name = "b"
port = "/dev/ttyUSB1"
daily_cap = 200
"""
    with pytest.raises(ConfigError, match=r"abuse\.line_replies_per_day.*\(500\)"):
        load(tmp_path, sticks + "[abuse]\nline_replies_per_day = 501\n")
    assert load(tmp_path, sticks + "[abuse]\nline_replies_per_day = 500\n"
                "line_replies_per_hour = 100\n").abuse.line_replies_per_day == 500
    # A stick with no cap sends what the line needs: nothing to compare.
    assert load(tmp_path, sticks.replace("daily_cap = 200", "daily_cap = 0"))
