"""Categories and places: found at intake, corrected by operators, listed and counted."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import write_config
from rigs import START
from rigs import BridgeRig as Rig

from smsbridge.clock import ManualClock
from smsbridge.config.sections import Config
from smsbridge.models import CaseQuery, NewCase
from smsbridge.store import Store

REPORTER = "+6281234567001"


@pytest.fixture
def rig(db_path: Path):
    clock = ManualClock(START)
    with Store.open(db_path, clock=clock) as store:
        yield Rig(store, clock)


def seed(db_path: Path, *cases: tuple[str, str | None, str | None]) -> None:
    with Store.open(db_path) as store:
        for text, category, place in cases:
            store.cases.create(NewCase(reporter=REPORTER, text=text, category=category,
                                       place=place), operator="seed")


def test_intake_files_a_report_under_its_category_and_place(rig):
    rig.sms(REPORTER, "ada judi sabung ayam di gg. mawar rt 3 tiap malam")
    rig.step()
    [case] = rig.cases()
    assert (case.category, case.place) == ("judi", "gg. mawar rt 3")


def test_the_configs_keywords_decide_the_category(rig):
    rig.configure(categories={"judi": ["kartu gaple"], "kebisingan": []})
    rig.sms(REPORTER, "main kartu gaple di pos ronda, berisik")
    rig.step()
    [case] = rig.cases()
    assert (case.category, case.place) == ("judi", "pos ronda")


def test_a_report_matching_no_keyword_is_other_and_may_name_no_place(rig):
    rig.sms(REPORTER, "tolong pak lampu jalan mati")
    rig.step()
    [case] = rig.cases()
    assert (case.category, case.place) == ("other", None)


def test_an_operator_corrects_category_and_place_and_the_history_says_so(cli, db_path):
    seed(db_path, ("ada mabok di pasar", "miras", "pasar"))
    out = cli("cases", "update", "1", "--category", "Tawuran", "--place", "Pasar  Legi").output
    assert out.strip() == "LP-000001: new"
    data = json.loads(cli("cases", "show", "1", "--json").output)
    assert (data["category"], data["place"]) == ("tawuran", "Pasar Legi")
    notes = [(e["action"], e["note"], e["operator"]) for e in data["history"][1:]]
    assert notes == [("category", "category miras -> tawuran", "sari"),
                     ("place", "place pasar -> Pasar Legi", "sari")]
    shown = cli("cases", "show", "1").output
    assert "Category:  tawuran" in shown and "Place:     Pasar Legi" in shown
    cli("cases", "update", "1", "--place", "")
    assert json.loads(cli("cases", "show", "1", "--json").output)["place"] is None
    # The same category again changes nothing and records nothing.
    cli("cases", "update", "1", "--category", "tawuran")
    assert len(json.loads(cli("cases", "show", "1", "--json").output)["history"]) == 4


def test_an_unknown_category_is_refused_with_the_known_ones(cli, db_path):
    seed(db_path, ("ada judi", "judi", None))
    result = cli("cases", "update", "1", "--category", "pungli", ok=False)
    assert result.exit_code == 1
    assert "unknown category 'pungli'" in result.output and "knalpot_brong" in result.output
    assert "unknown category" in cli("cases", "list", "--category", "x", ok=False).output


def test_list_filters_by_category_and_shows_it(cli, db_path):
    seed(db_path, ("judi di pasar", "judi", "pasar"), ("miras di gang", "miras", "gang"),
         ("knalpot brong", "knalpot_brong", None))
    out = cli("cases", "list", "--category", "judi,knalpot brong").stdout
    assert [line.split()[0] for line in out.splitlines()[1:]] == ["LP-000003", "LP-000001"]
    assert "knalpot brong" in out and "pasar | judi di pasar" in out
    assert out.splitlines()[0].split()[:5] == ["TICKET", "STATUS", "TODAY", "CATEGORY",
                                               "EARLIER"]


@pytest.mark.parametrize(("typed", "found"), [
    ("slamet riyadi", ["LP-000001"]),
    ("jalan slamet", ["LP-000001"]),          # "Jl." is stored spelled out
    ("pasar gede", ["LP-000002", "LP-000001"]),
    ("gang mawar rt 3", ["LP-000003"]),       # written "gg.mawar rt.03"
    ("mawar", ["LP-000003"]),
    ("sla*", ["LP-000001"]),
    ("legi", []),
])
def test_place_search_finds_every_word_however_it_was_abbreviated(cli, db_path, typed, found):
    seed(db_path, ("a", "judi", "Jl. Slamet Riyadi depan Pasar Gede"),
         ("b", "judi", "pasar gede"), ("c", "miras", "gg.mawar rt.03/rw.05"))
    out = cli("cases", "list", "--place", typed).stdout
    assert [line.split()[0] for line in out.splitlines()[1:]] == found


def test_a_corrected_place_is_found_by_its_new_words_only(cli, db_path):
    seed(db_path, ("a", "judi", "Pasar Gede"))
    cli("cases", "update", "1", "--place", "Pasar Legi")
    assert cli("cases", "list", "--place", "gede").stdout == ""
    assert "LP-000001" in cli("cases", "list", "--place", "legi").stdout


def test_cases_entered_by_operators_are_categorised_too(cli, db_path):
    cli("cases", "add", "--reporter", "081234567110", "ada balap liar di jalan adi sucipto")
    with Store.open(db_path) as store:
        [case] = store.cases.query(CaseQuery())
    assert (case.category, case.place) == ("balap_liar", "jalan adi sucipto")


def test_stats_count_cases_by_category(cli, db_path):
    seed(db_path, ("a", "judi", None), ("b", "judi", None), ("c", "miras", None))
    data = json.loads(cli("stats", "--json").output)
    assert data["by_category"] == [{"category": "judi", "cases": 2, "fake": 0},
                                   {"category": "miras", "cases": 1, "fake": 0}]
    assert "By category:" in cli("stats").output


def test_json_and_csv_carry_category_and_place(cli, db_path):
    seed(db_path, ("a", "judi", "=pasar"))
    [case] = json.loads(cli("cases", "list", "--json").output)
    assert (case["category"], case["place"]) == ("judi", "=pasar")
    header, row = cli("cases", "list", "--csv").output.splitlines()[:2]
    assert "category,place,text" in header and "judi,'=pasar,a" in row


def test_categories_in_the_config_are_checked(tmp_path: Path, db_path: Path):
    from smsbridge.config import load as config
    from smsbridge.errors import ConfigError

    path = write_config(tmp_path, db_path, '[categories]\njudi = "togel"\n')
    with pytest.raises(ConfigError, match=r"categories\.judi"):
        config.load(path)
    assert Config().categories.judi[:2] == ["judi*", "berjudi"]


# --- a follow-up completes the report ---------------------------------------------------

def test_a_follow_up_sent_first_but_delivered_later_on_another_stick_is_put_first(rig):
    from datetime import timedelta

    from smsbridge.bridge import Bridge
    from smsbridge.modem.fake import FakeModem

    other = FakeModem()
    second = Bridge(other, rig.store, rig.config, clock=rig.clock, name="stick-2")
    sent = rig.clock.now()
    # The report went first, the follow-up 20 s later; stick 2 delivers the follow-up
    # before stick 1 delivers the report.
    other.inject_text(REPORTER, "sekitar 10 orang, tolong cepat",
                      timestamp=sent + timedelta(seconds=20))
    second.drain()
    [case] = rig.cases()
    assert case.category == "other"
    rig.clock.advance(seconds=30)
    rig.modem.inject_text(REPORTER, "copet beraksi di Stasiun Balapan", timestamp=sent)
    rig.step()
    [case] = rig.cases()
    assert case.text == "copet beraksi di Stasiun Balapan\nsekitar 10 orang, tolong cepat"
    assert (case.category, case.place) == ("pencurian", "Stasiun Balapan")
    actions = [action for action, _ in rig.events(case.id)]
    assert actions[-1] == "triage"


def test_a_follow_up_never_overturns_an_operators_category(rig):
    rig.sms(REPORTER, "ada rame2 di pasar gede")
    rig.step()
    rig.store.cases.update("1", operator="sari", category="tawuran")
    rig.clock.advance(seconds=60)
    rig.sms(REPORTER, "mereka judi kartu")
    rig.step()
    [case] = rig.cases()
    assert case.category == "tawuran"
    assert "triage" not in [action for action, _ in rig.events(case.id)]


def test_a_follow_up_in_order_is_appended_and_the_category_re_decided(rig):
    rig.sms(REPORTER, "tolong pak di pasar gede")
    rig.step()
    rig.clock.advance(seconds=60)
    rig.sms(REPORTER, "ada yang jualan ciu")
    rig.step()
    [case] = rig.cases()
    assert case.text == "tolong pak di pasar gede\nada yang jualan ciu"
    assert (case.category, case.place) == ("miras", "pasar gede")


def test_a_report_entered_by_phone_is_related_like_one_by_sms(cli, db_path):
    cli("cases", "add", "--reporter", "081234567110", "tawuran di pasar gede")
    result = cli("cases", "add", "--reporter", "081234567111", "--channel", "walk-in",
                 "ada tawuran pelajar di Pasar Gede")
    assert "possibly the same incident as LP-000001" in result.output
    with Store.open(db_path) as store:
        first, second = store.cases.by_id(1), store.cases.by_id(2)
    assert second.incident_id == first.id == first.incident_id


def test_retriage_fills_older_cases_in_batches_and_records_each_change(cli, db_path):
    seed(db_path, ("copet di stasiun balapan", None, None),
         ("anak saya hilang di CFD", None, None),
         ("balap liar di jalan", "balap_liar", "jalan"),
         ("jalan rusak", None, None))
    out = cli("cases", "retriage", "--batch", "2").output
    assert "3 cases read, 3 given a new category or place" in out
    with Store.open(db_path) as store:
        cases = {c.id: (c.category, c.place) for c in store.cases.query(CaseQuery(limit=None))}
        history = store.cases.detail("1").events
    assert cases == {1: ("pencurian", "stasiun balapan"), 2: ("orang_hilang", "CFD"),
                     3: ("balap_liar", "jalan"), 4: ("other", None)}
    assert (history[-1].action, history[-1].operator) == ("triage", "sari")
    # Run again: nothing is left to fill.
    assert "0 cases read" in cli("cases", "retriage").output


def test_retriage_redo_goes_on_where_it_stopped_and_spares_operators_choices(cli, db_path):
    seed(db_path, ("copet di stasiun balapan", "balap_liar", "stasiun"),
         ("HP dijambret di Stasiun Balapan", "balap_liar", None),
         ("copet di Pasar Gede", "other", None))
    cli("cases", "update", "3", "--category", "judi")
    with Store.open(db_path) as store:
        # A run that stopped after the first case.
        store.retriage.save_checkpoint("all:redo", 1)
    out = cli("cases", "retriage", "--redo").output
    assert "going on after case 1" in out and "1 cases read" in out
    with Store.open(db_path) as store:
        cases = {c.id: c.category for c in store.cases.query(CaseQuery(limit=None))}
    assert cases == {1: "balap_liar", 2: "pencurian", 3: "judi"}
