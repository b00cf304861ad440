"""What reaches the journal: one line per event, nothing a terminal would act on."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from smsbridge.config import load as config
from smsbridge.daemon import JournalFormatter


def record(message: str, *args: object) -> logging.LogRecord:
    return logging.LogRecord("smsbridge.bridge", logging.WARNING, __file__, 1, message, args,
                             None)


def test_journal_lines_show_control_characters_instead_of_obeying_them():
    line = JournalFormatter("%(name)s: %(message)s").format(
        record("text %s", "judi\x1b[2J di\rpasar\u202e\u200b\nbaris dua"))
    assert line.startswith("<4>smsbridge.bridge: ")
    assert "\x1b" not in line and "\r" not in line and "\n" not in line
    assert "\u202e" not in line and "\u200b" not in line
    assert "␛[2J" in line and " | baris dua" in line


def test_a_traceback_stays_one_journal_entry():
    try:
        raise RuntimeError("boom")
    except RuntimeError as exc:
        rec = record("failed")
        rec.exc_info = (type(exc), exc, exc.__traceback__)
    line = JournalFormatter("%(message)s").format(rec)
    assert "\n" not in line and "RuntimeError: boom" in line


def test_a_world_readable_config_with_a_pin_is_warned_about(tmp_path: Path):
    path = tmp_path / "config.toml"
    path.write_text('[modem]\npin = "1234"\n')
    os.chmod(path, 0o644)
    warning = config.exposed_secrets(config.load(path))
    assert warning and "SIM PIN" in warning and "1234" not in warning
    os.chmod(path, 0o640)
    assert config.exposed_secrets(config.load(path)) is None


def test_a_config_without_secrets_may_be_readable(tmp_path: Path):
    path = tmp_path / "config.toml"
    path.write_text('[hook]\nurl = "http://127.0.0.1:9/hook"\n')
    os.chmod(path, 0o644)
    assert config.exposed_secrets(config.load(path)) is None
    path.write_text('[hook]\nurl = "https://desk:pw@hooks.example/"\n')
    assert "credentials" in config.exposed_secrets(config.load(path))
