"""Reports of one incident: linked at intake, counted in the list, merged in one go."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rigs import START
from rigs import BridgeRig as Rig

from smsbridge.clock import ManualClock
from smsbridge.store import Store

A, B, C, D = (f"+62812000000{i}" for i in range(1, 5))


@pytest.fixture
def rig(db_path: Path):
    clock = ManualClock(START)
    with Store.open(db_path, clock=clock) as store:
        yield Rig(store, clock)


def report(rig, sender: str, text: str, *, minutes: float = 1) -> None:
    rig.clock.advance(minutes=minutes)
    rig.sms(sender, text)
    rig.step()


def incidents(rig) -> dict[str, int | None]:
    return {c.ticket: c.incident_id for c in rig.cases()}


def test_reports_of_one_fight_at_one_place_are_one_incident(rig):
    report(rig, A, "tawuran di perempatan Panggung, tolong pak")
    report(rig, B, "ada tawuran pelajar dekat perempatan panggung sekarang")
    report(rig, C, "tawuran di pasar legi")                        # another place
    report(rig, D, "ada yang berantem di perempatan Panggung")     # the same fight
    assert incidents(rig) == {"LP-000004": 1, "LP-000003": None, "LP-000002": 1,
                              "LP-000001": 1}


def test_nearly_the_same_words_link_reports_that_name_no_place(rig):
    report(rig, A, "ada balap liar rame banget motor banyak")
    report(rig, B, "balap liar rame banget, motor banyak sekali")
    assert incidents(rig)["LP-000002"] == 1


def test_only_open_cases_within_the_window_are_linked(rig):
    report(rig, A, "judi sabung ayam di gg. mawar")
    rig.store.cases.update("1", operator="sari", status="fake")
    report(rig, B, "judi sabung ayam di gang mawar")               # LP-1 is closed
    report(rig, C, "sabung ayam lagi di gg mawar", minutes=181)    # LP-2 is too old
    assert set(incidents(rig).values()) == {None}


def test_no_window_links_nothing(rig):
    rig.configure(desk={"related_minutes": 0})
    report(rig, A, "tawuran di perempatan Panggung")
    report(rig, B, "tawuran di perempatan Panggung")
    assert set(incidents(rig).values()) == {None}


def test_the_list_counts_related_reports_and_show_lists_them(rig, cli):
    report(rig, A, "tawuran di perempatan Panggung")
    report(rig, B, "tawuran dekat perempatan panggung")
    report(rig, C, "tawuran di perempatan Panggung lagi")
    rows = cli("cases", "list").stdout.splitlines()[1:]
    assert len(rows) == 3 and all(" ≈2 " in row for row in rows)
    assert [c["related"] for c in json.loads(cli("cases", "list", "--json").output)] == [2, 2, 2]
    shown = cli("cases", "show", "2").stdout
    assert "Possibly the same incident (2):" in shown
    assert "  LP-000001  new" in shown and "  LP-000003  new" in shown
    data = json.loads(cli("cases", "show", "1", "--json").output)
    assert [r["ticket"] for r in data["related"]] == ["LP-000002", "LP-000003"]


def test_merge_makes_one_line_per_incident(rig, cli):
    report(rig, A, "tawuran di perempatan Panggung")
    report(rig, B, "tawuran dekat perempatan panggung")
    report(rig, C, "tawuran di perempatan Panggung lagi")
    report(rig, D, "knalpot brong di jl veteran")
    out = cli("cases", "merge", "LP-000001", "--note", "tawuran yang sama").output
    assert out.strip() == "2 marked duplicate of LP-000001: LP-000002, LP-000003"
    rows = cli("cases", "list", "--status", "open").stdout.splitlines()[1:]
    assert [r.split()[0] for r in rows] == ["LP-000004", "LP-000001"]
    history = json.loads(cli("cases", "show", "3", "--json").output)["history"]
    assert history[-1]["note"] == "duplicate of LP-000001: tawuran yang sama"
    assert "no open related reports" in cli("cases", "merge", "1", ok=False).output


def test_merge_is_all_or_none_and_refuses_a_cycle(rig, cli):
    for sender in (A, B, C):
        report(rig, sender, "judi kartu di pos ronda gg. mawar")
    cli("cases", "merge", "2", "1")                    # LP-1 is a duplicate of LP-2
    result = cli("cases", "merge", "1", "3", "2", ok=False)
    assert result.exit_code == 1 and "cannot be a duplicate of LP-000001" in result.output
    statuses = {c["ticket"]: c["status"] for c in json.loads(cli("cases", "list", "--json").output)}
    assert statuses == {"LP-000003": "new", "LP-000002": "new", "LP-000001": "duplicate"}
