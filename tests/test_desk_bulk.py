"""Work in bulk: several tickets (or a list's output) for `cases update` and `cases
dispatch`, all or none; unassigned cases, the list's order and days as a desk says them."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import write_config
from test_field_cli import ROSTER

from smsbridge.cli import main
from smsbridge.models import NewCase, to_iso
from smsbridge.store import Store

NUMBER = "+6281234567110"


def seed(db_path: Path, count: int, *, received_at: str | None = None) -> None:
    with Store.open(db_path) as store:
        store.cases.import_many((NewCase(reporter=NUMBER, text=f"ada judi di pasar {i}",
                                         received_at=received_at) for i in range(count)),
                                operator="seed")


def tickets(result) -> list[str]:
    return [line.split()[0] for line in result.stdout.splitlines()[1:]]


def events(db_path: Path, action: str) -> list[tuple[int, str]]:
    with Store.open(db_path) as store:
        return [(r[0], r[1]) for r in store.db.all(
            "SELECT case_id, operator FROM case_events WHERE action = ? ORDER BY id",
            (action,))]


def test_update_changes_several_tickets_with_one_history_line_each(cli, db_path: Path):
    seed(db_path, 4)
    result = cli("cases", "update", "LP-000001", "lp2", "3", "--status", "fake")
    assert result.stdout.splitlines() == ["LP-000001: fake", "LP-000002: fake",
                                          "LP-000003: fake"]
    assert events(db_path, "status") == [(1, "sari"), (2, "sari"), (3, "sari")]
    assert tickets(cli("cases", "list", "--status", "new")) == ["LP-000004"]


def test_one_refused_ticket_refuses_them_all_and_names_it(cli, db_path: Path):
    seed(db_path, 3)
    cli("cases", "update", "2", "--status", "fake")
    result = cli("cases", "update", "1", "2", "3", "--status", "checking", ok=False)
    assert result.exit_code == 1
    assert "2: case LP-000002 is fake; it cannot become checking" in result.output
    assert "none of the 3 cases was changed" in result.output
    assert tickets(cli("cases", "list", "--status", "checking")) == []
    assert "no case with ticket '9'" in cli(
        "cases", "update", "1", "9", "--assign", "budi", ok=False).output
    assert tickets(cli("cases", "list", "--assigned", "budi")) == []


def test_a_list_json_feeds_update_through_stdin(cli, config_file: Path, db_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch):
    seed(db_path, 5)
    listed = cli("cases", "list", "--limit", "3", "--json").stdout
    result = CliRunner().invoke(main, ["--config", str(config_file), "cases", "update", "-",
                                       "--assign", "budi"], input=listed)
    assert result.exit_code == 0, result.output
    assert len(result.stdout.splitlines()) == 3
    assert tickets(cli("cases", "list", "--assigned", "budi")) == [
        "LP-000005", "LP-000004", "LP-000003"]


@pytest.mark.parametrize("text", ["LP-000001\nLP-000002\n", "LP-000001 LP-000002",
                                  "TICKET STATUS\nLP-000001 new 10:00 other 0 judi\n"
                                  "LP-000002 new 10:00 other 0 judi\n"])
def test_stdin_takes_tickets_one_a_line_on_one_line_or_a_table(text):
    from smsbridge.cli.desk import tickets_from

    assert tickets_from(["-"], text) == ["LP-000001", "LP-000002"]
    assert tickets_from(["LP-000002", "-"], text) == ["LP-000002", "LP-000001"]


def test_dispatch_sends_several_cases_one_sms_each(tmp_path: Path, db_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("SMSBRIDGE_OPERATOR", "sari")
    config = write_config(tmp_path, db_path, ROSTER)
    seed(db_path, 3)
    run = CliRunner().invoke
    result = run(main, ["--config", str(config), "cases", "dispatch", "1", "-", "--to",
                        "budi"], input="LP-000003\n")
    assert result.exit_code == 0, result.output
    assert [t for t, _ in events(db_path, "dispatch")] == [1, 3]
    with Store.open(db_path) as store:
        assert store.db.scalar("SELECT count(*) FROM outbox WHERE kind = 'dispatch'") == 2
    run(main, ["--config", str(config), "cases", "update", "2", "--status", "fake"])
    refused = run(main, ["--config", str(config), "cases", "dispatch", "2", "1", "--to",
                         "budi"])
    assert refused.exit_code == 1 and "LP-000002 is fake" in refused.output
    assert [t for t, _ in events(db_path, "dispatch")] == [1, 3]


def test_assigned_none_lists_the_cases_nobody_has(cli, db_path: Path):
    seed(db_path, 3)
    cli("cases", "update", "2", "--assign", "budi")
    assert tickets(cli("cases", "list", "--assigned", "none")) == ["LP-000003", "LP-000001"]
    cli("cases", "update", "2", "--assign", "")
    assert len(tickets(cli("cases", "list", "--assigned", "none"))) == 3


def test_sort_oldest_puts_the_longest_waiting_first(cli, db_path: Path):
    seed(db_path, 5)
    result = cli("cases", "list", "--sort", "oldest", "--limit", "2")
    assert tickets(result) == ["LP-000001", "LP-000002"]
    assert "2 of 5 shown, oldest first" in result.stderr
    assert tickets(cli("cases", "list", "--sort", "oldest", "--status", "new,checking",
                       "--limit", "2")) == ["LP-000001", "LP-000002"]
    assert tickets(cli("cases", "list", "--sort", "oldest", "--search", "judi",
                       "--limit", "1")) == ["LP-000001"]


@pytest.mark.parametrize("word,days", [("today", 0), ("hari-ini", 0), ("yesterday", 1),
                                       ("kemarin", 1)])
def test_since_takes_days_as_a_desk_says_them(word, days):
    from zoneinfo import ZoneInfo

    from smsbridge.cli.when import parse_when

    zone = ZoneInfo("Asia/Jakarta")
    midnight = datetime.now(zone).replace(hour=0, minute=0, second=0, microsecond=0)
    assert parse_when(word, option="--since", zone=zone) == to_iso(
        midnight - timedelta(days=days))
    assert parse_when(word, option="--until", zone=zone, end_of_day=True) == to_iso(
        midnight - timedelta(days=days - 1))


def test_since_takes_a_time_ago(cli, db_path: Path):
    now = datetime.now(UTC)
    seed(db_path, 2, received_at=to_iso(now - timedelta(days=3)))
    seed(db_path, 1, received_at=to_iso(now - timedelta(hours=2)))
    assert tickets(cli("cases", "list", "--since", "24h")) == ["LP-000003"]
    assert len(tickets(cli("cases", "list", "--since", "7d"))) == 3
    assert json.loads(cli("cases", "list", "--since", "4d", "--json").stdout)[0][
        "ticket"] == "LP-000003"
