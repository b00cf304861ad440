"""The README's quick start stays true: CI runs its test command, and the demo works."""

from __future__ import annotations

import re
from pathlib import Path

from rigs import run_smsbridge

ROOT = Path(__file__).resolve().parent.parent


def quick_start() -> list[str]:
    text = (ROOT / "README.md").read_text()
    section = text.split("## Quick start", 1)[1]
    block = re.search(r"```sh\n(.*?)```", section, re.S).group(1)
    return [line for line in block.splitlines() if line.strip()]


def test_quick_start_is_exactly_two_commands():
    commands = quick_start()
    assert len(commands) == 2
    assert commands[0].endswith("smsbridge demo")
    assert "pytest" in commands[1]


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text()
    assert quick_start()[1] in ci.splitlines()


def test_quick_start_installs_into_a_virtual_environment():
    # Debian 12 and Ubuntu 24.04 refuse pip into the system's Python (PEP 668).
    for command in quick_start():
        assert command.startswith("python3 -m venv .venv && .venv/bin/python -m pip install")


def test_demo_runs_the_daemon_and_shows_cases_and_replies(tmp_path):
    result = run_smsbridge("demo", "--dir", str(tmp_path / "demo"), timeout=120)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "LP-000001" in out and "Laporan Anda diterima" in out
    assert "Tiket LP-000001:" in out  # the CEK query was answered
    # The field loop: the case went to the officer, who confirmed it; the reporter heard.
    assert "TUGAS LP-000001" in out and "OK LP-000001: dicatat, status terkonfirmasi." in out
    assert "Laporan LP-000001 sudah dicek petugas dan benar" in out
    assert "+62 812 ••••• 01" in out and "+6281234567001" not in out
    listed = run_smsbridge("--config", str(tmp_path / "demo" / "config.toml"), "cases", "list",
                           timeout=60)
    assert listed.returncode == 0 and "LP-000004" in listed.stdout
