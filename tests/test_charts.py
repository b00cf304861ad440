"""``stats`` in pictures: bars that read in 80 columns, without colour."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from smsbridge.cli import charts, main
from smsbridge.models import NewCase, Stats, to_iso
from smsbridge.store import Store

NOW = datetime(2026, 5, 20, 5, 0, tzinfo=UTC)


def test_a_bar_ends_in_eighths_of_a_cell():
    assert charts.bar(8, 8, 10) == "█" * 10
    assert charts.bar(1, 8, 4) == "▌"                # half a cell
    assert charts.bar(3, 8, 4) == "█▌"
    assert charts.bar(0, 8, 4) == "" and charts.bar(1, 0, 4) == ""
    assert charts.bar(1, 10_000, 4) == "▏"           # never rounded away


def test_a_stacked_bar_is_to_scale_and_keeps_every_part_visible():
    parts = [(90, "█"), (0, "▓"), (9, "▒"), (1, "░")]
    drawn = charts.stacked(parts, 100, 50)
    assert len(drawn) == 50
    assert drawn.count("░") == 1 and "▓" not in drawn and drawn.startswith("█" * 40)
    assert charts.stacked([(6, "█")], 100, 50) == "███"


def test_columns_rise_in_eighths():
    rows = charts.columns([0, 4, 8], height=2, width=2)
    assert rows == ["    █", "  █ █"]


def stats(days: int) -> Stats:
    start = datetime(2026, 1, 1)
    by_day = tuple(((start + timedelta(days=i)).date().isoformat(), {"new": 1, "fake": i % 3})
                   for i in range(days))
    return Stats(None, None, 0, {}, (), None, None, by_day_status=by_day)


def test_a_long_window_is_drawn_by_week():
    lines = list(charts.day_chart(stats(100)))
    assert lines[0].startswith("Cases per week")
    assert lines[2].startswith("w2025-12-29")
    assert len(lines) == 2 + 15  # 100 days from a Thursday: 15 weeks from Mondays
    assert all(len(line) <= 80 for line in lines)


def test_days_without_cases_are_drawn_empty_between_the_others():
    two = Stats(None, None, 0, {}, (), None, None,
                by_day_status=(("2026-01-01", {"new": 2}), ("2026-01-04", {"fake": 1})))
    lines = list(charts.day_chart(two))[2:]
    assert [line[:10] for line in lines] == ["2026-01-01", "2026-01-02", "2026-01-03",
                                             "2026-01-04"]
    assert lines[1].split()[-2:] == ["0", "-"] and lines[3].endswith("1  100%")


@pytest.fixture
def seeded(db_path: Path) -> Path:
    with Store.open(db_path) as store:
        cases = []
        for day in range(3):
            for hour, status, category in [(1, "new", "judi"), (12, "fake", "judi"),
                                           (12, "resolved", "miras"), (13, "duplicate", None)]:
                at = NOW - timedelta(days=day) + timedelta(hours=hour - 5)
                cases.append(NewCase(reporter=f"+6281200000{day}{hour:02d}", text="x",
                                     received_at=to_iso(at), status=status,
                                     category=category))
        store.cases.import_many(cases, operator="smsbridge")
        for ticket in ("1", "5"):
            store.cases.update(ticket, operator="budi", status="checking")
        store.cases.update("3", operator="sari", note="dicek")
        store.cases.add_note(10, "no automatic reply", operator="smsbridge")
    return db_path


def run(config_file: Path, *args: str) -> str:
    result = CliRunner().invoke(main, ["--config", str(config_file), "stats", "--all", *args],
                                env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    return result.output


def test_the_stats_page_draws_every_picture_in_80_columns(seeded, config_file):
    out = run(config_file)
    lines = out.splitlines()
    assert max(map(len, lines)) <= 80
    assert "\x1b" not in out                         # no colour, no escapes
    for heading in ("Cases per day: █ open  ▓ confirmed/resolved  ▒ duplicate  ░ fake",
                    "By category:", "Cases by hour of day", "Actions per operator:",
                    "Open now: 3 (new 1, checking 2, confirmed 0)",
                    "Oldest unhandled: LP-000009"):
        assert any(line.startswith(heading) for line in lines), heading
    judi = next(line for line in lines if line.startswith("  judi "))
    assert judi.split()[-2:] == ["6", "50%"]
    budi = next(line for line in lines if line.startswith("  budi "))
    assert budi.endswith(" 2") and not any(line.startswith("  smsbridge") for line in lines)


def test_stats_json_has_the_pictures_figures(seeded, config_file):
    data = json.loads(run(config_file, "--json"))
    assert data["open_now"] == {"new": 1, "checking": 2, "confirmed": 0}
    assert data["oldest_unhandled"]["ticket"] == "LP-000009"
    assert sum(data["by_hour"]) == data["total"] == 12
    assert data["actions_by_operator"] == [{"operator": "budi", "actions": 2},
                                           {"operator": "sari", "actions": 1}]
    assert data["by_day_status"][0] == {"day": data["by_day"][0]["day"], "new": 1,
                                        "fake": 1, "resolved": 1, "duplicate": 1}
    assert {"category": "-", "cases": 3, "fake": 0} in data["by_category"]
