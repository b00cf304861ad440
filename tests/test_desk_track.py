"""A reporter's track record at triage, told without the number."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from smsbridge.models import CaseQuery, NewCase, TrackRecord
from smsbridge.store import Store

PRANKSTER = "+6281200000001"
CITIZEN = "+6281200000002"
NUMBER_SHOWN = "81200000001"


@pytest.fixture
def history(db_path: Path) -> Path:
    """The prankster: 4 reports, 2 fake, 1 confirmed, then a 5th; the citizen: one."""
    with Store.open(db_path) as store:
        for reporter, status in [(PRANKSTER, "fake"), (PRANKSTER, "fake"),
                                 (PRANKSTER, "confirmed"), (PRANKSTER, "new"),
                                 (CITIZEN, "new"), (PRANKSTER, "new")]:
            store.cases.import_many([NewCase(reporter=reporter, text="ada judi",
                                             status=status)], operator="seed")
    return db_path


def test_the_record_counts_only_reports_before_the_case(history: Path):
    with Store.open(history) as store:
        cases = store.cases.query(CaseQuery(limit=None))
        records = store.desk.track_records(cases)
    by_ticket = {c.ticket: records[c.id] for c in cases}
    assert by_ticket["LP-000006"] == TrackRecord(earlier=4, confirmed=1, fake=2)
    assert by_ticket["LP-000003"] == TrackRecord(earlier=2, confirmed=0, fake=2)
    assert by_ticket["LP-000001"] == TrackRecord()
    assert by_ticket["LP-000005"] == TrackRecord()
    assert str(by_ticket["LP-000006"]) == "4 earlier: 1 confirmed, 2 fake"


def test_a_resolved_report_counts_as_confirmed(history: Path, cli):
    cli("cases", "update", "3", "--status", "resolved")
    with Store.open(history) as store:
        case = store.cases.get("6")
        assert store.desk.track_records([case])[case.id].confirmed == 1


def test_the_record_is_read_from_the_reporter_index_not_the_table(history: Path):
    with Store.open(history) as store:
        plan = " ".join(str(tuple(r)) for r in store.db.all(
            "EXPLAIN QUERY PLAN SELECT status, count(*) FROM cases INDEXED BY cases_reporter"
            " WHERE reporter = ? AND id < ? GROUP BY status", (PRANKSTER, 6)))
    assert "COVERING INDEX cases_reporter" in plan


def test_list_show_and_json_tell_the_record_without_the_number(history: Path, cli):
    listed = cli("cases", "list")
    row = next(line for line in listed.stdout.splitlines() if line.startswith("LP-000006"))
    assert "4 1✓ 2✗" in row
    assert "EARLIER" in listed.stdout.splitlines()[0] and "✗ fake" in listed.stderr
    shown = cli("cases", "show", "6").stdout
    assert "Earlier:   4 earlier: 1 confirmed, 2 fake" in shown
    data = json.loads(cli("cases", "list", "--json").output)
    assert data[0]["earlier"] == {"reports": 4, "confirmed": 1, "fake": 2}
    assert json.loads(cli("cases", "show", "6", "--json").output)["earlier"]["fake"] == 2
    assert NUMBER_SHOWN not in listed.output + shown + json.dumps(data)


def test_min_fake_keeps_cases_whose_number_sent_that_many_fakes_before(history: Path, cli):
    def tickets(*args):
        return [line.split()[0] for line in cli("cases", "list", *args).stdout.splitlines()[1:]]

    assert tickets("--min-fake", "2") == ["LP-000006", "LP-000004", "LP-000003"]
    assert tickets("--min-fake", "1") == ["LP-000006", "LP-000004", "LP-000003", "LP-000002"]
    assert tickets("--min-fake", "3") == []
    assert tickets("--min-fake", "2", "--status", "new") == ["LP-000006", "LP-000004"]
    assert "2 of 3 shown" in cli("cases", "list", "--min-fake", "2", "--limit", "2").stderr
    assert cli("cases", "list", "--min-fake", "0", ok=False).exit_code == 2


def test_min_fake_counts_its_matches_only_so_far(history: Path, cli, monkeypatch):
    # On a big line the count stops at COUNT_CAP (10,000): the page is exact, its total
    # "at least".
    monkeypatch.setattr("smsbridge.store.desk.COUNT_CAP", 2)
    said = cli("cases", "list", "--min-fake", "1", "--limit", "1").stderr
    assert "1 of 2+ shown, newest first; more with --offset 1" in said
    assert "1 of 3 shown" in cli("cases", "list", "--status", "new", "--limit", "1").stderr


def test_an_undecodable_sms_has_no_record(db_path: Path):
    with Store.open(db_path) as store:
        store.cases.import_many([NewCase(reporter="unknown", text="[undecodable]")] * 2,
                                operator="seed")
        cases = store.cases.query(CaseQuery())
        assert store.desk.track_records(cases) == {}
