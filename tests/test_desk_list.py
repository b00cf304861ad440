"""``cases list`` and ``cases show`` for a desk that gets thousands of reports a day."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import write_config

from smsbridge.models import NewCase
from smsbridge.store import Store

NUMBER = "+6281234567110"


def seed(db_path: Path, count: int, *, text: str = "ada judi di pasar",
         received_at: str | None = "2026-05-01T03:00:00+00:00") -> None:
    with Store.open(db_path) as store:
        store.cases.import_many((NewCase(reporter=NUMBER, text=f"{text} {i}",
                                         received_at=received_at) for i in range(count)),
                                operator="seed")


def tickets(result) -> list[str]:
    return [line.split()[0] for line in result.stdout.splitlines()[1:]]


def test_the_list_says_how_many_match_and_pages_through_them(cli, db_path: Path):
    seed(db_path, 60)
    first = cli("cases", "list")
    assert len(tickets(first)) == 50
    assert first.stderr.startswith("50 of 60 shown, newest first; more with --offset 50")
    second = cli("cases", "list", "--page", "2")
    assert tickets(second) == [f"LP-0000{n:02d}" for n in range(10, 0, -1)]
    assert second.stderr.startswith("51-60 of 60 shown")
    middle = cli("cases", "list", "--offset", "5", "--limit", "3")
    assert tickets(middle) == ["LP-000055", "LP-000054", "LP-000053"]
    assert "6-8 of 60 shown" in middle.stderr
    past = cli("cases", "list", "--offset", "80")
    assert past.stdout == "" and "none past --offset 80: 60 match" in past.stderr
    assert "choose one of --offset and --page" in cli(
        "cases", "list", "--offset", "3", "--page", "2", ok=False).output


def test_a_search_counts_every_match_not_only_the_page(cli, db_path: Path):
    seed(db_path, 30, text="tawuran di RT 03")
    seed(db_path, 5, text="tawuran di RT 05 RW 03")
    result = cli("cases", "list", "--search", "RT-03", "--limit", "10")
    assert "10 of 30 shown" in result.stderr


def test_status_open_and_closed_stand_for_their_statuses(cli, db_path: Path):
    seed(db_path, 4)
    cli("cases", "update", "1", "--status", "fake")
    cli("cases", "update", "2", "--status", "checking")
    cli("cases", "update", "3", "--duplicate-of", "2")
    assert tickets(cli("cases", "list", "--status", "open")) == ["LP-000004", "LP-000002"]
    assert tickets(cli("cases", "list", "--status", "CLOSED")) == ["LP-000003", "LP-000001"]
    assert tickets(cli("cases", "list", "--status", "closed,new")) == [
        "LP-000004", "LP-000003", "LP-000001"]


def test_assigned_ignores_case(cli, db_path: Path):
    seed(db_path, 2)
    cli("cases", "update", "1", "--assign", "budi")
    assert tickets(cli("cases", "list", "--assigned", "BUDI")) == ["LP-000001"]
    assert tickets(cli("cases", "list", "--assigned", " Budi ")) == ["LP-000001"]


def test_the_text_takes_the_width_the_other_columns_leave(cli, db_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch):
    seed(db_path, 1, text="laporan " * 40)
    narrow = cli("cases", "list").stdout.splitlines()
    assert max(map(len, narrow)) == 80
    assert narrow[1].split()[0] == "LP-000001" and "LP-000001 new" in narrow[1]
    monkeypatch.setenv("COLUMNS", "132")
    wide = cli("cases", "list").stdout.splitlines()
    assert max(map(len, wide)) == 132
    assert wide[1].count("laporan") >= narrow[1].count("laporan") + 4


def test_times_are_in_the_configured_zone_and_say_which(cli, tmp_path: Path, db_path: Path):
    seed(db_path, 1)  # 03:00 UTC is 10:00 in Jakarta
    config = write_config(tmp_path, db_path, '[desk]\ntimezone = "Asia/Jakarta"\n')
    listed = cli("cases", "list", config=config)
    assert "01 May 10:00" in listed.stdout or "01 May 2026 10:00" in listed.stdout
    assert "times in WIB (Asia/Jakarta)" in listed.stderr
    shown = cli("cases", "show", "1", config=config).stdout
    assert ("Received:  01 May 10:00:00 WIB (Asia/Jakarta)" in shown
            or "Received:  01 May 2026 10:00:00 WIB (Asia/Jakarta)" in shown)
    # A bare day is a day in that zone: 2026-05-01 starts at 17:00 UTC the day before.
    assert tickets(cli("cases", "list", "--since", "2026-05-01", "--until", "2026-05-01",
                       config=config)) == ["LP-000001"]
    assert tickets(cli("cases", "list", "--since", "2026-05-01T10:30", config=config)) == []


def test_an_unknown_zone_is_a_config_error(cli, tmp_path: Path, db_path: Path):
    config = write_config(tmp_path, db_path, '[desk]\ntimezone = "Asia/Solo"\n')
    result = cli("cases", "list", config=config, ok=False)
    assert result.exit_code == 2 and "desk.timezone" in result.output


def test_show_wraps_long_lines_to_the_terminal(cli, db_path: Path,
                                               monkeypatch: pytest.MonkeyPatch):
    words = "laporan tawuran di perempatan Panggung sangat ramai " * 7
    seed(db_path, 1, text=words)
    cli("cases", "update", "1", "--note", "catatan panjang " * 20)
    monkeypatch.setenv("COLUMNS", "60")
    lines = cli("cases", "show", "1").stdout.splitlines()
    assert max(map(len, lines)) <= 60
    assert sum("laporan" in line for line in lines) >= 7
    notes = [line for line in lines if "catatan" in line]
    assert len(notes) > 2 and all(line.startswith("    ") for line in notes[1:])


def test_a_masked_number_is_refused_with_what_to_do(cli, db_path: Path):
    seed(db_path, 1)
    result = cli("cases", "list", "--reporter", "+62 812 ••••• 10", ok=False)
    assert result.exit_code == 1
    assert "masked number" in result.output and "in full" in result.output
    assert len(result.output.strip().splitlines()) == 1


@pytest.mark.parametrize("args", [
    ("cases", "list", "--since", "2026-05-02", "--until", "2026-05-01"),
    ("stats", "--since", "2026-05-02", "--until", "2026-05-01"),
    ("export", "--since", "2026-05-02", "--until", "2026-05-01"),
])
def test_an_inverted_date_range_is_an_error(cli, db_path: Path, args):
    seed(db_path, 1)
    result = cli(*args, ok=False)
    assert result.exit_code == 1
    assert "is not before --until" in result.output
