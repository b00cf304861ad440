"""``smsbridge stats`` and ``smsbridge export`` on real databases."""

from __future__ import annotations

import csv
import io
import json
import os
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner
from rigs import run_smsbridge

from smsbridge.cli import main
from smsbridge.models import NewCase
from smsbridge.store import Store

FAKER = "+6281299998888"


@pytest.fixture
def seeded(db_path: Path) -> Path:
    with Store.open(db_path) as store:
        for i in range(3):
            store.cases.create(NewCase(FAKER, f"=cmd|' /C calc'!A0 palsu {i}"), operator="x")
        store.cases.create(NewCase("+6285700001111", "jalan rusak\x1b[31m"), operator="x")
        store.cases.update("1", operator="sari", status="fake")
        store.cases.update("2", operator="sari", status="fake")
        store.cases.update("4", operator="sari", status="checking")
    return db_path


def invoke(config_file: Path, *args: str):
    result = CliRunner().invoke(main, ["--config", str(config_file), *args])
    assert result.exit_code == 0, result.output
    return result.output


def test_stats_show_statuses_fake_share_speed_and_masked_fakers(seeded, config_file):
    out = invoke(config_file, "stats")
    fake = next(line for line in out.splitlines() if line.startswith("  fake "))
    assert fake.endswith(" 2")
    assert "Fake reports: 50.0%" in out
    assert "Median time from report to first action:" in out
    assert "+62 812 ••••• 88" in out and FAKER not in out


def test_stats_json(seeded, config_file):
    data = json.loads(invoke(config_file, "stats", "--all", "--json"))
    assert data["total"] == 4 and data["by_status"]["fake"] == 2
    assert data["fake_share"] == 0.5
    assert data["top_fake_reporters"] == [{"reporter": "+62 812 ••••• 88", "fake_cases": 2}]
    assert sum(day["cases"] for day in data["by_day"]) == 4


def test_stats_window_excludes_older_cases(seeded, config_file):
    data = json.loads(invoke(config_file, "stats", "--since", "2999-01-01", "--json"))
    assert data["total"] == 0 and data["fake_share"] is None


def test_export_csv_is_masked_formula_safe_and_oldest_first(seeded, config_file):
    rows = list(csv.DictReader(io.StringIO(invoke(config_file, "export"))))
    assert [r["ticket"] for r in rows] == ["LP-000001", "LP-000002", "LP-000003", "LP-000004"]
    assert rows[0]["reporter"] == "+62 812 ••••• 88"
    assert rows[0]["text"].startswith("'=cmd")
    assert rows[3]["text"] == "jalan rusak␛[31m"


def test_export_json_to_a_private_file(seeded, config_file, tmp_path: Path):
    target = tmp_path / "out.json"
    invoke(config_file, "export", "--format", "json", "-o", str(target))
    data = json.loads(target.read_text())
    assert len(data) == 4 and data[0]["reporter"] == "+62 812 ••••• 88"
    assert stat.S_IMODE(os.stat(target).st_mode) & 0o007 == 0


def test_bad_date_is_one_line(seeded, config_file):
    result = CliRunner().invoke(main, ["--config", str(config_file), "stats", "--since", "x"])
    assert result.exit_code == 1 and "is not a date" in result.output


def test_stats_and_export_as_processes(seeded, cli_env):
    for args in (["stats", "--json"], ["export", "--format", "json"]):
        result = run_smsbridge(*args, env=cli_env, timeout=60)
        assert result.returncode == 0, result.stderr
        json.loads(result.stdout)
