"""Urgent and overdue: reports naming a weapon, an explosive or a person in danger lead
the desk; cases left in a status past its deadline are marked and can be listed."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from rigs import START
from rigs import BridgeRig as Rig

from smsbridge.cli.watch import watch
from smsbridge.clock import ManualClock
from smsbridge.errors import InvalidInput
from smsbridge.models import CaseQuery, NewCase, to_iso
from smsbridge.store import Store
from smsbridge.triage.keywords import DEFAULT_URGENT
from smsbridge.triage.urgent import Deadlines, Urgent

NUMBER = "+6281234567110"
URGENT = Urgent.from_keywords(DEFAULT_URGENT)


@pytest.mark.parametrize("text,found", [
    ("ada bom di pasar gede", ("bom",)),
    ("orang gila ngamuk bawa parang", ("ngamuk", "parang")),
    ("ada yg dibacok di depan stasiun balapan", ("dibacok",)),
    ("tolong tolong ada celurit", ("tolong tolong", "celurit")),
    ("Temanku DISANDERA!!", ("disandera",)),
    ("tolong ditertibkan knalpot brong tiap malam", ()),
    ("ada judi di pasar legi", ()),
    ("bombardir diskon", ()),                        # whole words only
])
def test_urgent_words_are_weapons_explosives_and_people_in_danger(text, found):
    assert URGENT.words_in(text) == found


def test_deadlines_are_status_and_span_and_refuse_anything_else():
    deadlines = Deadlines.parse(["new 30m", "checking 24h", "confirmed 3d"])
    assert deadlines.minutes == {"new": 30, "checking": 1440, "confirmed": 4320}
    now = START
    assert deadlines.late_by("new", now - timedelta(minutes=29), now) is None
    assert deadlines.late_by("new", now - timedelta(minutes=90), now) == timedelta(hours=1)
    assert deadlines.late_by("resolved", now - timedelta(days=90), now) is None
    for bad in ("resolved 1h", "new", "new soon", "baru 30m"):
        with pytest.raises(InvalidInput, match="is not STATUS SPAN"):
            Deadlines.parse([bad])


def test_a_bad_deadline_in_the_config_is_one_line(cli, tmp_path: Path, db_path: Path):
    from conftest import write_config

    config = write_config(tmp_path, db_path, '[desk]\ndeadlines = ["new 30 minutes"]\n')
    result = cli("config", "check", config=config, ok=False)
    assert result.exit_code == 2 and "[desk.deadlines] deadline 'new 30 minutes'" in \
        result.output


@pytest.fixture
def rig(db_path: Path):
    clock = ManualClock(START)
    with Store.open(db_path, clock=clock) as store:
        yield Rig(store, clock)


def test_intake_flags_an_urgent_report_and_a_further_sms_can_make_it_so(rig):
    rig.sms("+6281100000001", "ada bom di pasar gede")
    rig.sms("+6281100000002", "ada orang mabuk di pos ronda")
    rig.step()
    first, second = sorted(rig.cases(), key=lambda c: c.id)
    assert first.urgent and not second.urgent
    assert ("created", "urgent: bom") in rig.events(first.id)
    rig.clock.advance(minutes=2)
    rig.sms("+6281100000002", "sekarang dia ngamuk bawa golok")
    rig.step()
    assert rig.store.cases.by_id(second.id).urgent
    assert ("urgent", "urgent: ngamuk, golok") in rig.events(second.id)


def test_a_report_entered_by_hand_is_flagged_like_an_sms(cli):
    ticket = cli("cases", "add", "--reporter", "081234567110", "--channel", "phone",
                 "tetangga", "ngamuk", "bawa", "celurit").stdout.strip()
    cli("cases", "add", "--reporter", "081234567110", "parkir liar")
    assert tickets(cli("cases", "list", "--urgent")) == [ticket]
    assert "Urgent:    yes" in cli("cases", "show", ticket).stdout


def test_urgent_hooks_go_first_and_say_so(rig):
    from smsbridge.hooks import case_payload

    store = rig.store
    calm = store.cases.create(NewCase(reporter=NUMBER, text="parkir liar"), operator="t")
    loud = store.cases.create(NewCase(reporter=NUMBER, text="ada bom", urgent=("bom",)),
                              operator="t")
    at = to_iso(START)
    store.hooks.add(calm.id, at=at)
    store.hooks.add(loud.id, at=at)
    due = store.hooks.due(at=at)
    assert [c.ticket for _, _, c in due] == [loud.ticket, calm.ticket]
    assert case_payload(due[0][2])["urgent"] is True


def seed(db_path: Path, texts: list[str], *, received_at: str | None = None) -> None:
    with Store.open(db_path) as store:
        for text in texts:
            store.cases.create(NewCase(reporter=NUMBER, text=text, received_at=received_at,
                                       urgent=URGENT.words_in(text)), operator="seed")


def tickets(result) -> list[str]:
    return [line.split()[0] for line in result.stdout.splitlines()[1:]]


def test_an_open_urgent_case_leads_the_list_and_is_marked(cli, db_path: Path):
    seed(db_path, ["ada bom di pasar gede", "knalpot brong", "parkir liar", "judi"])
    result = cli("cases", "list")
    assert tickets(result) == ["LP-000001", "LP-000004", "LP-000003", "LP-000002"]
    assert "!! " in result.stdout.splitlines()[1]
    assert tickets(cli("cases", "list", "--sort", "newest"))[0] == "LP-000004"
    assert tickets(cli("cases", "list", "--limit", "2", "--page", "2")) == [
        "LP-000003", "LP-000002"]
    assert tickets(cli("cases", "list", "--urgent")) == ["LP-000001"]
    cli("cases", "update", "1", "--status", "fake")
    assert tickets(cli("cases", "list"))[0] == "LP-000004"   # closed: no longer leads
    listed = json.loads(cli("cases", "list", "--urgent", "--json").stdout)
    assert listed[0]["urgent"] is True


def test_overdue_cases_are_marked_and_listed(cli, db_path: Path):
    old = to_iso(datetime.now(UTC) - timedelta(hours=3))
    seed(db_path, ["judi di pasar"], received_at=old)
    seed(db_path, ["knalpot brong"])
    result = cli("cases", "list")
    assert "late 2h " in result.stdout and "late" not in result.stdout.splitlines()[1]
    assert tickets(cli("cases", "list", "--overdue")) == ["LP-000001"]
    shown = cli("cases", "show", "1").stdout
    assert "Overdue:   2h past the deadline of new" in shown
    assert json.loads(cli("cases", "list", "--overdue", "--json").stdout)[0][
        "overdue_minutes"] >= 149
    cli("cases", "update", "1", "--status", "checking")     # checking: 24 h from now
    assert tickets(cli("cases", "list", "--overdue")) == []


def test_status_counts_urgent_and_overdue(cli, db_path: Path):
    seed(db_path, ["ada bom"], received_at=to_iso(datetime.now(UTC) - timedelta(hours=1)))
    seed(db_path, ["judi"])
    result = cli("status", "--json", ok=False)
    report = json.loads(result.stdout)
    assert report["urgent_open"] == 1 and report["overdue"] == {
        "new": 1, "checking": 0, "confirmed": 0}
    assert "cases:    1 urgent open, 1 overdue (new 1)" in cli("status", ok=False).stdout


def test_watch_rings_for_urgent_reports_and_tells_when_cases_run_late(db_path: Path):
    clock = ManualClock(START)
    deadlines = Deadlines.parse(["new 30m"])
    with Store.open(db_path, clock=clock) as writer:
        writer.cases.create(NewCase(reporter=NUMBER, text="judi lama",
                                    received_at=to_iso(START - timedelta(hours=2))),
                            operator="t")
        writer.cases.create(NewCase(reporter=NUMBER, text="parkir liar",
                                    received_at=to_iso(START - timedelta(minutes=20))),
                            operator="t")
        steps = iter([
            lambda: writer.cases.create(NewCase(reporter=NUMBER, text="ada bom",
                                                urgent=("bom",)), operator="t"),
            lambda: clock.advance(minutes=11),
            lambda: None,
        ])
        shown: list[str] = []
        with Store.open(db_path, create=False) as reader:
            watch(reader, CaseQuery(), show=shown.append, last=0, deadlines=deadlines,
                  now=clock.now, sleep=lambda _: next(steps)(),
                  stop=lambda: len(shown) >= 3)
    assert shown[0] == "1 case overdue now: smsbridge cases list --overdue"
    assert shown[1].startswith("\a") and "NEW !!    LP-000003" in shown[1]
    assert "LATE      LP-000002 new 1m past its deadline  parkir liar" in shown[2]


def test_watch_shows_officers_answers_and_refused_attempts(db_path: Path):
    with Store.open(db_path) as writer:
        judi = writer.cases.create(NewCase(reporter=NUMBER, text="judi", category="judi"),
                                   operator="t")
        other = writer.cases.create(NewCase(reporter=NUMBER, text="parkir",
                                            category="parkir_liar"), operator="t")

        def answer(case, accepted: bool, **more) -> None:
            writer.field.record_answer(message_id=None, officer="budi", case_id=case.id,
                                       ticket=case.ticket, finding="confirmed", note="ada",
                                       accepted=accepted, **more)

        steps = iter([
            lambda: answer(judi, True, new_status="confirmed"),
            lambda: answer(other, True, new_status="confirmed"),      # filtered out
            lambda: answer(other, False, reason="wrong verification word"),
        ])
        shown: list[str] = []
        with Store.open(db_path, create=False) as reader:
            watch(reader, CaseQuery(categories=("judi",)), show=shown.append, last=0,
                  sleep=lambda _: next(steps)(), stop=lambda: len(shown) >= 2)
    assert shown[0].split()[1:] == ["ANSWER", "LP-000001", "budi:", "BENAR", "->",
                                    "confirmed", '"ada"']
    assert shown[1].split()[1:3] == ["REFUSED", "LP-000002"]
    assert "budi: wrong verification word (BENAR)" in shown[1]


def test_pages_run_through_the_urgent_cases_then_the_others(db_path: Path):
    seed(db_path, ["bom 1", "judi 2", "bom 3", "judi 4", "bom 5", "judi 6"])
    with Store.open(db_path) as store:
        def page(offset: int, limit: int) -> list[int]:
            return [c.id for c in store.cases.query(CaseQuery(sort="urgent", offset=offset,
                                                              limit=limit))]

        assert page(0, 2) == [5, 3]
        assert page(2, 2) == [1, 6]
        assert page(4, 2) == [4, 2]
        assert page(1, 10) == [3, 1, 6, 4, 2]
        assert [c.id for c in store.cases.query(CaseQuery(sort="urgent", limit=None))] == [
            5, 3, 1, 6, 4, 2]


def test_overdue_cases_of_every_status_come_newest_first_page_by_page(db_path: Path):
    clock = ManualClock(START)
    deadlines = Deadlines.parse(["new 30m", "checking 24h"])
    with Store.open(db_path, clock=clock) as store:
        for i in range(6):
            store.cases.create(NewCase(reporter=NUMBER, text=f"judi {i}"), operator="t")
        for ticket in ("2", "4", "5"):
            store.cases.update(ticket, operator="t", status="checking")
        clock.advance(days=2)
        store.cases.update("5", operator="t", note="masih dicek")   # touched: not late
        store.cases.create(NewCase(reporter=NUMBER, text="baru"), operator="t")
        cutoffs = tuple((s, to_iso(t)) for s, t in deadlines.cutoffs(clock.now()).items())

        def ids(**more) -> list[int]:
            return [c.id for c in store.cases.query(CaseQuery(overdue=cutoffs, **more))]

        assert ids() == [6, 4, 3, 2, 1]
        assert ids(limit=2, offset=2) == [3, 2]
        assert ids(statuses=("checking",)) == [4, 2]
        assert ids(sort="oldest", limit=2) == [1, 2]
        assert store.desk.count(CaseQuery(overdue=cutoffs)) == 5
        assert ids(statuses=("resolved",)) == []



def test_stats_says_what_is_urgent_and_late_now_and_export_writes_for_a_spreadsheet(
        cli_env, tmp_path):
    from rigs import run_smsbridge

    for text in ("orang gila ngamuk bawa parang di pasar", "knalpot brong tiap malam"):
        assert run_smsbridge("cases", "add", "--reporter", "081234567110", text,
                             env=cli_env).returncode == 0
    shown = run_smsbridge("stats", env=cli_env)
    assert shown.returncode == 0, shown.stderr
    assert "1 urgent open" in shown.stdout
    figures = json.loads(run_smsbridge("stats", "--json", env=cli_env).stdout)
    assert figures["pressure"]["urgent_open"] == 1
    sheet = run_smsbridge("export", "--excel", env=cli_env)
    assert sheet.returncode == 0, sheet.stderr
    assert sheet.stdout.startswith("\ufeffticket;status;")
    refused = run_smsbridge("export", "--excel", "--format", "json", env=cli_env)
    assert refused.returncode == 1 and "--excel" in refused.stderr
