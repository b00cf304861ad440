"""The tallies ``stats`` reads on a big line (migration 0010) stay equal to the cases
they count, whatever happens to them."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from smsbridge.models import NewCase
from smsbridge.store import Store
from smsbridge.store.stats import case_stats

CATEGORIES = ("judi", "miras", "pencurian", None)


def counted(store: Store) -> tuple[dict, dict, dict]:
    db = store.db
    hours = {(r[0], r[1]): r[2] for r in db.all(
        "SELECT substr(received_at, 1, 13), status, count(*) FROM cases GROUP BY 1, 2")}
    categories = {(r[0], r[1]): (r[2], r[3]) for r in db.all(
        "SELECT substr(received_at, 1, 13), coalesce(category, ''), count(*),"
        " sum(status = 'fake') FROM cases GROUP BY 1, 2")}
    delays = {r[0]: r[1] for r in db.all(
        "SELECT CAST(round((julianday(first_action_at) - julianday(received_at)) * 86400)"
        " AS INTEGER), count(*) FROM cases WHERE first_action_at IS NOT NULL GROUP BY 1")}
    return hours, categories, delays


def tallied(store: Store) -> tuple[dict, dict, dict]:
    db = store.db
    return ({(r[0], r[1]): r[2] for r in db.all("SELECT * FROM case_hours WHERE cases")},
            {(r[0], r[1]): (r[2], r[3]) for r in db.all(
                "SELECT * FROM case_hour_categories WHERE cases")},
            {r[0]: r[1] for r in db.all("SELECT * FROM case_delays WHERE cases")})


def test_tallies_follow_every_insert_update_and_delete(db_path: Path):
    rng = random.Random(7)
    start = datetime(2026, 11, 1, tzinfo=UTC)
    with Store.open(db_path) as store:
        store.cases.import_many((NewCase(
            reporter=f"+62812000{i:05d}", text=f"laporan {i}",
            received_at=(start + timedelta(minutes=37 * i)).isoformat(),
            status=rng.choice(("new", "checking")), category=rng.choice(CATEGORIES),
            first_action_at=None if i % 3 else (start + timedelta(minutes=37 * i + i % 50))
            .isoformat()) for i in range(300)), operator="daemon")
        for number in rng.sample(range(1, 301), 60):
            store.cases.update(str(number), operator="sari", status="fake", note="cek")
        for number in rng.sample(range(1, 301), 40):
            store.cases.update(str(number), operator="sari", category="tawuran")
        with store.transaction() as db:
            db.execute("DELETE FROM case_events WHERE case_id IN (5, 6)")
            db.execute("DELETE FROM cases WHERE id IN (5, 6)")
        assert tallied(store) == counted(store)


def test_stats_from_the_tallies_equal_stats_counted_case_by_case(db_path: Path):
    start = datetime(2026, 11, 1, tzinfo=UTC)
    with Store.open(db_path) as store:
        store.cases.import_many((NewCase(
            reporter=f"+62812000{i:05d}", text="x", status=("new", "fake")[i % 2],
            received_at=(start + timedelta(minutes=53 * i)).isoformat(),
            category=CATEGORIES[i % 4],
            first_action_at=(start + timedelta(minutes=53 * i + i)).isoformat())
            for i in range(200)), operator="daemon")
        # On the hour: the tallies answer; a second past it: the cases are counted.
        fast = case_stats(store.db, since="2026-11-02T17:00:00+00:00", utc_offset_seconds=25200)
        slow = case_stats(store.db, since="2026-11-02T17:00:00.0+00:00",
                          utc_offset_seconds=25200)
        everything = case_stats(store.db, utc_offset_seconds=25200)
    assert fast.by_day_status == slow.by_day_status and fast.by_hour == slow.by_hour
    assert fast.by_category == slow.by_category and fast.total == slow.total
    assert everything.total == 200
    assert everything.median_first_action_seconds == 99.5 * 60


def test_the_fields_figures_of_all_time_equal_those_counted(db_path: Path):
    from smsbridge.fieldwork.answers import Officer

    start = datetime(2026, 11, 1, tzinfo=UTC)
    agus = Officer("agus", "+6281200000001", None, "mawar")
    with Store.open(db_path) as store:
        store.cases.import_many((NewCase(
            reporter=f"+62812000{i:05d}", text="x",
            received_at=(start + timedelta(minutes=41 * i)).isoformat())
            for i in range(40)), operator="daemon")
        for number in range(1, 40, 3):
            store.field.dispatch(str(number), [agus], compose=lambda c, code: c.ticket,
                                 operator="sari")
            if number % 2:
                store.field.dispatch(str(number), [agus], compose=lambda c, code: c.ticket,
                                     operator="sari")
        for number in range(1, 40, 6):
            for accepted in (False, True, True):
                store.field.record_answer(
                    message_id=None, officer="agus", case_id=number, ticket=None,
                    finding="confirmed", note="", accepted=accepted,
                    at=(datetime.now(UTC) + timedelta(minutes=number)).isoformat())
        tallied = store.field.stats()
        counted = store.field.stats(since="2000-01-01T00:00:00+00:00")
    assert tallied.dispatched == counted.dispatched == 13
    assert tallied.answered == counted.answered == 7
    assert tallied.median_report_to_dispatch_seconds == pytest.approx(
        counted.median_report_to_dispatch_seconds, abs=1)
    assert tallied.median_dispatch_to_answer_seconds == pytest.approx(
        counted.median_dispatch_to_answer_seconds, abs=1)
