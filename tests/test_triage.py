"""Category, place and related reports, decided from a report's words (triage.py)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from smsbridge.config import load as config
from smsbridge.triage import places
from smsbridge.triage import rules as triage

ROOT = Path(__file__).resolve().parent.parent
RULES = triage.Rules.from_section(config.Config().categories)


def _bench():
    spec = importlib.util.spec_from_file_location("bench_places",
                                                  ROOT / "bench" / "bench_places.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_places"] = module
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(("text", "category"), [
    ("ada knalpot brong tiap malam", "knalpot_brong"),
    ("KNALPOT BROOONG lewat terus", "knalpot_brong"),
    ("kenalpot racing bikin kaget", "knalpot_brong"),
    ("balap liar di ringroad", "balap_liar"),
    ("anak2 trek2an tiap malam minggu", "balap_liar"),
    ("judi sabung ayam di kebun", "judi"),
    ("ada bandar togel di warung", "judi"),
    ("org mabuk2an minum ciu", "miras"),
    ("jual miras oplosan", "miras"),
    ("transaksi sabu di kos", "narkoba"),
    ("anak punk mabuk lem", "narkoba"),
    ("tawuran pelajar bawa celurit", "tawuran"),
    ("pengeroyokan di depan cafe", "tawuran"),
    ("motor saya dicuri", "pencurian"),
    ("maling helm di masjid", "pencurian"),
    ("jukir liar minta 5rb", "parkir_liar"),
    ("parkir sembarangan di trotoar", "parkir_liar"),
    ("musik keras sampai pagi, berisik", "kebisingan"),
    ("knalpot bising", "knalpot_brong"),  # a tie goes to the first in the config
    ("jalan berlubang depan rumah", "other"),
])
def test_default_rules_know_the_lines_usual_reports_and_their_slang(text, category):
    assert triage.categorise(text, RULES) == category


def test_a_keyword_is_a_whole_word_unless_it_ends_in_a_star():
    rules = triage.Rules.from_mapping({"pencurian": ["curi"], "judi": ["judi*"]})
    assert triage.categorise("saya curiga dengan tamu itu", rules) == "other"
    assert triage.categorise("ada perjudian", rules) == "other"
    assert triage.categorise("ada judian di pos", rules) == "judi"


def test_an_empty_list_turns_a_category_off():
    rules = triage.Rules.from_mapping({"judi": [], "miras": ["miras"]})
    assert rules.categories == ("miras", "other")


def test_category_names_as_operators_type_them():
    assert triage.category_name("Knalpot Brong") == "knalpot_brong"
    assert triage.category_name("parkir-liar") == "parkir_liar"


@pytest.mark.parametrize(("text", "place"), [
    ("ada knalpot brong tiap malam di Jl. Slamet Riyadi depan Pasar Gede",
     "Jl. Slamet Riyadi depan Pasar Gede"),
    ("judi sabung ayam dekat masjid Al-Ikhlas RT 03", "dekat masjid Al-Ikhlas RT 03"),
    ("ada org mabuk2an di gang melati rw 5 bikin resah warga", "gang melati rw 5"),
    ("mabuk di gg.mawar rt.03/rw.05", "gg.mawar rt.03/rw.05"),
    ("tawuran di Jl. Ahmad Yani. tolong cepat", "Jl. Ahmad Yani"),
    ("motor saya di curi di parkiran pasar", "parkiran pasar"),
    ("ada maling masuk di rumah saya di perum graha indah", "perum graha indah"),
    ("ADA JUDI DI GANG MELATI RT 3", "GANG MELATI RT 3"),
    ("tolong pak ada yg berantem", None),
    ("ada org mabuk di situ tiap malam", None),
    ("togel online di hp", None),
    ("", None),
])
def test_the_place_is_the_phrase_as_written(text, place):
    assert places.extract_place(text) == place


def test_place_extraction_stays_accurate_on_the_labelled_reports():
    bench = _bench()
    for name, floor in (("places.tsv", 0.95), ("places_holdout.tsv", 0.9)):
        rows = bench.labelled(bench.DATA / name)
        result = bench.score(rows)
        assert result.reports >= (200 if name == "places.tsv" else 50)
        assert result.precision >= floor, (name, result.precision)
        assert result.recall >= floor, (name, result.recall)
        assert result.exact >= floor - 0.1, (name, result.exact)


def test_labelled_places_are_spans_of_their_reports():
    bench = _bench()
    for name in bench.SETS:
        for text, place in bench.labelled(bench.DATA / name):
            assert place is None or place in text, text


@pytest.mark.parametrize(("a", "b", "same"), [
    ("Pasar Gede", "Jl. Slamet Riyadi depan pasar gede", True),
    ("gg. mawar rt 3", "gang mawar RT 03", True),
    ("dekat masjid Al-Ikhlas RT 03", "depan SD 3 RT 03", False),
    ("Pasar Gede", "Pasar Legi", False),
    ("jalan", "jalan depan rumah saya", False),
    (None, "Pasar Gede", False),
])
def test_same_place_looks_at_the_words_that_tell_places_apart(a, b, same):
    assert places.same_place(a, b) is same


def test_a_report_is_related_to_an_open_one_of_its_category_and_place():
    fight = triage.Report(7, "tawuran", "perempatan Panggung", "tawuran di perempatan Panggung")
    noise = triage.Report(8, "kebisingan", "perempatan Panggung", "berisik di perempatan Panggung")
    result = triage.triage("ada yg tawuran lagi dekat perempatan panggung pak", RULES,
                           [fight, noise])
    assert result.category == "tawuran"
    assert result.related == fight
    assert result.incident_id == 7


def test_nearly_the_same_words_relate_reports_whatever_their_category():
    earlier = triage.Report(3, "other", None, "jalan rusak parah banyak lubang bahaya")
    result = triage.triage("jalan rusak parah banyak lubang", RULES, [earlier])
    assert result.related == earlier


def test_a_related_report_joins_the_incident_of_the_one_it_repeats():
    first = triage.Report(3, "judi", "pos ronda gg. mawar", "judi di pos ronda gg. mawar", 1)
    result = triage.triage("judi kartu di pos ronda gang mawar", RULES, [first])
    assert result.incident_id == 1


def test_unrelated_reports_stay_apart():
    other = triage.Report(3, "judi", "Pasar Legi", "judi dadu di pasar legi")
    assert triage.triage("judi dadu di pasar gede", RULES, [other]).related is None
    assert triage.triage("ada judi", RULES, [other]).related is None


# --- the city: landmarks, missing persons, chatter and counts ---------------------------

def _triage_bench():
    spec = importlib.util.spec_from_file_location("bench_triage",
                                                  ROOT / "bench" / "bench_triage.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_triage"] = module
    spec.loader.exec_module(module)
    return module


TUNED = _triage_bench().labelled(ROOT / "tests" / "data" / "triage.tsv")


@pytest.mark.parametrize(("text", "category", "place"), TUNED, ids=[t[:40] for t, _, _ in TUNED])
def test_the_city_aware_triage_reads_the_misreads_of_the_desk(text, category, place):
    found = triage.classify(text, RULES)
    assert (found.category, found.place) == (category, place)


def test_triage_stays_accurate_on_reports_it_was_never_tuned_on():
    bench = _triage_bench()
    rows = bench.labelled(ROOT / "tests" / "data" / "triage_holdout.tsv")
    right, per, _ = bench.category_scores(rows, bench.default_rules())
    assert len(rows) >= 50 and right >= 0.9, right
    assert per["pencurian"][1] >= 0.8 and per["orang_hilang"][1] >= 0.8, per
    result = _bench().score([(text, place) for text, _, place in rows])
    assert result.precision >= 0.9 and result.recall >= 0.9, result


def test_the_labelled_sets_hold_at_least_300_reports():
    places_bench, triage_bench = _bench(), _triage_bench()
    count = sum(len(places_bench.labelled(places_bench.DATA / n)) for n in places_bench.SETS)
    count += sum(len(triage_bench.labelled(ROOT / "tests" / "data" / n))
                 for n in triage_bench.TRIAGE_SETS)
    assert count >= 300


def test_a_landmark_of_the_config_never_decides_a_category():
    keywords = {"balap_liar": ["balap*"], "pencurian": ["copet*"]}
    city = triage.Rules.from_mapping(keywords, places=["Stasiun Balapan", "Balapan Lama"])
    assert triage.categorise("ada balapan di stasiun balapan", city) == "balap_liar"
    assert triage.categorise("copet di Stasiun Balapan", city) == "pencurian"
    assert triage.categorise("rame di balapan lama", city) == "other"
    # Without the city's names, the station's name reads as a street race.
    nowhere = triage.Rules.from_mapping(keywords, places=[])
    assert triage.categorise("rame di stasiun balapan", nowhere) == "balap_liar"


@pytest.mark.parametrize(("text", "category"), [
    ("anak saya hilang di CFD", "orang_hilang"),
    ("suami saya belum pulang dari kemarin", "orang_hilang"),
    ("ada anak kecil tersesat di manahan", "orang_hilang"),
    ("HP saya hilang di angkot", "pencurian"),
    ("kehilangan dompet di pasar", "pencurian"),
])
def test_missing_persons_are_their_own_category(text, category):
    assert triage.categorise(text, RULES) == category


@pytest.mark.parametrize(("text", "place"), [
    ("ada balap liar di pasar gede wkwkwk", "pasar gede"),
    ("copet di Stasiun Solo Balapan makasih", "Stasiun Solo Balapan"),
    ("ada yg jual miras di pasar malam Ngarsopuro", "pasar malam Ngarsopuro"),
    ("ribut sekitar 10 orang", None),
    ("tawuran di manahan sekitar 20 orang", "manahan"),
    ("parkir liar di depan pasar gede terima kasih pak", "depan pasar gede"),
    ("mabuk2an di alun alun kidul hahaha", "alun alun kidul"),
])
def test_chatter_and_counts_are_not_places(text, place):
    assert triage.classify(text, RULES).place == place
