"""The case store on real SQLite files."""

from __future__ import annotations

import os
import sqlite3
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from smsbridge.clock import ManualClock
from smsbridge.errors import DatabaseError, InvalidInput, InvalidTransition, UnknownTicket
from smsbridge.models import CaseQuery, NewCase
from smsbridge.store import FILE_MODE, SCHEMA_VERSION, Store

REPORTER = "+6281234567110"


@pytest.fixture
def store(db_path: Path):
    with Store.open(db_path) as s:
        yield s


def add(store: Store, text: str = "ada judi di pasar", reporter: str = REPORTER):
    return store.cases.create(NewCase(reporter, text), operator="budi")


def test_new_database_is_private_wal_and_at_the_latest_schema(db_path: Path):
    with Store.open(db_path) as s:
        assert s.schema_version() == SCHEMA_VERSION
        assert s.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert s.db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        add(s)
    assert stat.S_IMODE(os.stat(db_path).st_mode) == FILE_MODE == 0o660


def test_tickets_are_consecutive_from_one(store: Store):
    assert [add(store).ticket for _ in range(3)] == ["LP-000001", "LP-000002", "LP-000003"]


def test_ticket_is_found_however_it_is_typed(store: Store):
    add(store)
    for typed in ("LP-000001", "lp000001", "lp 1", "1", "LP-OOOOO1"):
        assert store.cases.get(typed).ticket == "LP-000001"


def test_unknown_ticket_is_refused(store: Store):
    with pytest.raises(UnknownTicket, match="LP-000009"):
        store.cases.get("LP-000009")


def test_new_case_is_new_with_a_created_event(store: Store):
    case = add(store)
    detail = store.cases.detail(case.ticket)
    assert case.status == "new"
    assert [(e.action, e.operator, e.new_status) for e in detail.events] == [
        ("created", "budi", "new")]


def test_every_change_is_an_event_with_operator_and_note(store: Store):
    case = add(store)
    store.cases.update(case.ticket, operator="sari", status="checking", note="ke lokasi",
                      assign="budi")
    events = store.cases.detail(case.ticket).events[1:]
    assert [(e.action, e.operator, e.old_status, e.new_status, e.note) for e in events] == [
        ("status", "sari", "new", "checking", "ke lokasi"),
        ("assign", "sari", None, None, "assigned to budi"),
    ]
    assert store.cases.get(case.ticket).first_action_at is not None


def test_refused_transition_changes_nothing(store: Store):
    case = add(store)
    with pytest.raises(InvalidTransition, match="allowed next: checking, fake, duplicate"):
        store.cases.update(case.ticket, operator="sari", status="resolved", assign="budi")
    after = store.cases.get(case.ticket)
    assert (after.status, after.assigned_to, after.updated_at) == ("new", None, case.updated_at)
    assert len(store.cases.detail(case.ticket).events) == 1


def test_duplicate_names_the_other_ticket_and_reopening_clears_it(store: Store):
    first, second = add(store), add(store)
    dup = store.cases.update(second.ticket, operator="sari", duplicate_of="lp1")
    assert (dup.status, dup.duplicate_of) == ("duplicate", first.ticket)
    assert store.cases.detail(second.ticket).events[-1].note == "duplicate of LP-000001"
    with pytest.raises(InvalidTransition, match="needs a --note"):
        store.cases.update(second.ticket, operator="sari", status="checking")
    reopened = store.cases.update(second.ticket, operator="sari", status="checking",
                                 note="bukan laporan yang sama")
    assert (reopened.status, reopened.duplicate_of) == ("checking", None)


def test_case_cannot_duplicate_itself_or_a_missing_case(store: Store):
    case = add(store)
    with pytest.raises(InvalidInput, match="itself"):
        store.cases.update(case.ticket, operator="sari", duplicate_of=case.ticket)
    with pytest.raises(UnknownTicket):
        store.cases.update(case.ticket, operator="sari", duplicate_of="LP-000077")


def test_update_with_nothing_to_change_is_refused(store: Store):
    case = add(store)
    with pytest.raises(InvalidInput, match="nothing to update"):
        store.cases.update(case.ticket, operator="sari")


def test_search_finds_every_word_in_any_order_newest_first(store: Store):
    add(store, "Ada judi di pasar malam")
    add(store, "Pencurian motor di pasar")
    add(store, "Pasar ramai, ada JUDI sabung ayam")
    found = store.cases.query(CaseQuery(search="judi pasar"))
    assert [c.ticket for c in found] == ["LP-000003", "LP-000001"]
    assert [c.ticket for c in store.cases.query(CaseQuery(search="pencuri*"))] == ["LP-000002"]


def test_search_text_with_fts_syntax_is_taken_literally(store: Store):
    add(store, 'jalan "rusak" AND NOT macet')
    assert store.cases.query(CaseQuery(search='"rusak" AND NOT: -(')) != []


@pytest.mark.parametrize(("typed", "expected"), [
    ("RT-03", ["LP-000003", "LP-000001"]),      # "RT 03" is the same place, typed apart
    ("Al-Ikhlas", ["LP-000002", "LP-000001"]),
    ("al-ikhlas rt-03", ["LP-000001"]),
    ("LP-000042", ["LP-000004"]),
    ("RT-0*", ["LP-000003", "LP-000002", "LP-000001"]),  # "RT 05" starts so too
])
def test_search_for_words_with_punctuation_finds_the_cases_holding_them(
        store: Store, typed: str, expected: list[str]):
    add(store, "Judi di RT-03 dekat Masjid Al-Ikhlas")
    add(store, "Ribut di Masjid Al-Ikhlas, RT 05 RW 03")  # both parts, not together
    add(store, "Balap liar rt 03, tiap malam")
    add(store, "Lanjutan laporan LP-000042: sudah terjadi lagi")
    assert [c.ticket for c in store.cases.query(CaseQuery(search=typed))] == expected


def test_search_with_punctuation_ignores_case_and_accents_as_the_index_does(store: Store):
    add(store, "Ribut di MASJID AL-IKHLÂS tadi malam")
    assert [c.ticket for c in store.cases.query(CaseQuery(search="al-ikhlas"))] == ["LP-000001"]


def test_search_with_punctuation_still_stops_at_the_limit(store: Store):
    for i in range(30):
        add(store, "RT 05 RW 03" if i % 2 else f"kejadian {i} di RT-03")
    found = store.cases.query(CaseQuery(search="RT-03", limit=5))
    assert [c.id for c in found] == [29, 27, 25, 23, 21]


def test_search_follows_edited_text(store: Store):
    case = add(store, "kata lama")
    with store.transaction() as conn:
        conn.execute("UPDATE cases SET text = 'kata baru' WHERE id = ?", (case.id,))
    assert store.cases.query(CaseQuery(search="lama")) == []
    assert len(store.cases.query(CaseQuery(search="baru"))) == 1


def test_list_filters_combine(store: Store):
    add(store, reporter="+6281111111111")
    b = add(store, reporter="+6282222222222")
    add(store, reporter="+6282222222222")
    store.cases.update(b.ticket, operator="sari", status="checking", assign="budi")
    assert [c.ticket for c in store.cases.query(CaseQuery(reporter="+6282222222222"))] == [
        "LP-000003", "LP-000002"]
    query = CaseQuery(statuses=("checking",), assigned="budi", reporter="+6282222222222")
    assert [c.ticket for c in store.cases.query(query)] == ["LP-000002"]
    assert len(store.cases.query(CaseQuery(limit=1))) == 1


def test_list_window_is_on_the_received_time(store: Store):
    store.cases.create(NewCase(REPORTER, "lama", received_at="2024-05-01T10:00:00+00:00"),
                      operator="x")
    store.cases.create(NewCase(REPORTER, "baru", received_at="2024-05-03T10:00:00+00:00"),
                      operator="x")
    window = CaseQuery(since="2024-05-02T00:00:00+00:00", until="2024-05-04T00:00:00+00:00")
    assert [c.text for c in store.cases.query(window)] == ["baru"]


def test_reply_is_queued_for_the_daemon_and_recorded(store: Store):
    case = add(store)
    item = store.outbox.add_reply(case.ticket, "Petugas menuju lokasi", operator="sari")
    assert (item.number, item.kind, item.state, item.created_by) == (
        REPORTER, "operator", "queued", "sari")
    detail = store.cases.detail(case.ticket)
    assert detail.outbox == (item,)
    assert detail.events[-1].action == "reply"


@pytest.mark.parametrize("reporter", [
    "TELKOMSEL", "3636", " 12345678", "+628123456789012345678", "+62812345678901234567890"])
def test_reply_to_a_number_that_cannot_receive_sms_is_refused_without_naming_it(
        store: Store, reporter: str):
    case = add(store, reporter=reporter)
    with pytest.raises(InvalidInput, match="cannot receive SMS") as refused:
        store.outbox.add_reply(case.ticket, "halo", operator="sari")
    assert reporter.strip() not in str(refused.value)
    assert store.cases.detail(case.ticket).outbox == ()


def test_reply_refusal_follows_the_configured_short_code_length(store: Store):
    case = add(store, reporter="123456")
    with pytest.raises(InvalidInput, match="short code"):
        store.outbox.add_reply(case.ticket, "halo", operator="sari", short_code_max_digits=6)
    assert store.outbox.add_reply(case.ticket, "halo", operator="sari").state == "queued"


def test_reveal_is_recorded_with_the_operator(store: Store):
    case = add(store)
    store.cases.record_reveal(case.ticket, operator="sari")
    last = store.cases.detail(case.ticket).events[-1]
    assert (last.action, last.operator, last.note) == ("reveal", "sari", "number revealed")


def test_stats_count_statuses_days_fakes_and_first_action(store: Store):
    for day in ("01", "01", "02"):
        store.cases.create(NewCase("+6281111111111", "x",
                                  received_at=f"2024-05-{day}T10:00:00+00:00"), operator="x")
    store.cases.update("1", operator="sari", status="fake")
    store.cases.update("2", operator="sari", status="checking")
    stats = store.cases.stats(since="2024-05-01T00:00:00+00:00")
    assert stats.total == 3
    assert stats.by_status["fake"] == 1 and stats.by_status["new"] == 1
    assert stats.by_day == (("2024-05-01", 2), ("2024-05-02", 1))
    assert stats.fake_share == pytest.approx(1 / 3)
    assert stats.median_first_action_seconds > 0
    assert stats.top_fake_reporters == (("+6281111111111", 1),)


def test_stats_days_follow_the_operators_zone(store: Store):
    store.cases.create(NewCase(REPORTER, "x", received_at="2024-05-01T20:00:00+00:00"),
                      operator="x")
    wib = 7 * 3600  # Western Indonesia Time
    assert store.cases.stats(utc_offset_seconds=wib).by_day == (("2024-05-02", 1),)


def test_import_cases_gives_consecutive_tickets_in_batches(store: Store):
    add(store)
    count = store.cases.import_many((NewCase(REPORTER, f"laporan {i}") for i in range(25)),
                               operator="import", batch_size=10)
    assert count == 25
    assert store.cases.query(CaseQuery(limit=1))[0].ticket == "LP-000026"
    assert len(store.cases.query(CaseQuery(search="laporan", limit=None))) == 25


def test_failed_transaction_leaves_no_trace(store: Store):
    with pytest.raises(RuntimeError), store.transaction():
        add(store)
        raise RuntimeError("crash between the writes")
    assert store.cases.query(CaseQuery()) == []
    assert add(store).ticket == "LP-000001"


def test_nested_transaction_is_part_of_the_outer_one(store: Store):
    with store.transaction():
        add(store)
        with pytest.raises(InvalidInput), store.transaction():
            add(store)
            raise InvalidInput("inner fails")
        add(store)
    # The inner case rolled back with its ticket number: numbers never have gaps.
    assert [c.ticket for c in store.cases.query(CaseQuery())] == ["LP-000002", "LP-000001"]


# --- a database that is missing, locked, corrupt or read-only ---------------------


def test_missing_directory_is_an_error_not_a_new_database(tmp_path: Path):
    path = tmp_path / "nowhere" / "cases.db"
    with pytest.raises(DatabaseError, match="does not exist"):
        Store.open(path)
    assert not path.parent.exists()


def test_reading_a_missing_file_does_not_create_it(db_path: Path):
    with pytest.raises(DatabaseError, match="no database yet"):
        Store.open(db_path, create=False)
    assert not db_path.exists()


def test_corrupt_file_is_reported_as_such(db_path: Path):
    db_path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(DatabaseError, match="not an SQLite database or corrupt"):
        Store.open(db_path)


def test_locked_database_fails_after_the_busy_timeout_with_nothing_changed(db_path: Path):
    with Store.open(db_path) as holder, holder.transaction():
        add(holder)
        with Store.open(db_path, busy_timeout=0.2) as other, \
                pytest.raises(DatabaseError, match="locked"):
            add(other)
    with Store.open(db_path) as s:
        assert len(s.cases.query(CaseQuery())) == 1


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes read-only files")
def test_read_only_database_refuses_writes_clearly(db_path: Path):
    with Store.open(db_path) as s:
        add(s)
    db_path.chmod(0o440)
    try:
        with Store.open(db_path) as s:
            assert len(s.cases.query(CaseQuery())) == 1
            with pytest.raises(DatabaseError, match="read-only"):
                add(s)
    finally:
        db_path.chmod(0o640)


def test_newer_schema_is_refused(db_path: Path):
    with Store.open(db_path) as s:
        s.db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(DatabaseError, match="newer"):
        Store.open(db_path)


@pytest.mark.slow  # the benchmark script, run as processes
def test_store_benchmark_runs_end_to_end_on_a_small_seed(tmp_path: Path):
    import subprocess
    import sys

    bench = Path(__file__).parent.parent / "bench" / "bench_store.py"
    result = subprocess.run([sys.executable, str(bench), "--cases", "300", "--runs", "1",
                             "--db", str(tmp_path / "bench.db")],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "bytes per case" in result.stdout and "cases list --status new" in result.stdout


def test_several_statuses_list_the_newest_of_all_of_them(store: Store):
    for _ in range(6):
        add(store)
    for ticket, status in (("1", "checking"), ("4", "checking"), ("5", "fake")):
        store.cases.update(ticket, operator="sari", status=status)
    query = CaseQuery(statuses=("new", "checking"), limit=3)
    assert [c.id for c in store.cases.query(query)] == [6, 4, 3]
    query = CaseQuery(statuses=("new", "checking"), limit=None)
    assert [c.id for c in store.cases.query(query)] == [6, 4, 3, 2, 1]


# --- one connection, one clock, one error boundary, one retry queue -----------------

T0 = datetime(2024, 5, 1, 10, 0, tzinfo=UTC)


def test_rows_are_stamped_by_the_clock_the_store_was_given(db_path: Path):
    clock = ManualClock(T0)
    with Store.open(db_path, clock=clock) as s:
        case = add(s)
        clock.advance(minutes=5)
        s.cases.update(case.ticket, operator="sari", status="checking")
        after = s.cases.get(case.ticket)
        assert case.received_at == "2024-05-01T10:00:00+00:00"
        assert after.updated_at == after.first_action_at == "2024-05-01T10:05:00+00:00"
        assert [e.at for e in s.cases.detail(case.ticket).events] == [
            "2024-05-01T10:00:00+00:00", "2024-05-01T10:05:00+00:00"]


def test_an_sqlite_error_leaves_the_store_only_as_a_database_error(store: Store):
    with pytest.raises(DatabaseError, match="no such table: nowhere") as info:
        store.db.all("SELECT * FROM nowhere")
    assert isinstance(info.value.__cause__, sqlite3.OperationalError)
    with pytest.raises(DatabaseError), store.transaction() as db:
        db.execute("INSERT INTO cases (id) VALUES (1)")  # NOT NULL columns missing


def test_one_transaction_covers_every_store(store: Store):
    with pytest.raises(RuntimeError), store.transaction():
        message_id = store.inbox.add(pdu_hash="h1", pdu="00", kind="deliver",
                                     received_at="2024-05-01T10:00:00+00:00", sender=REPORTER)
        case = add(store)
        store.inbox.attach([message_id], case.id)
        store.outbox.add(REPORTER, "diterima", kind="ack", created_by="smsbridge",
                         case_id=case.id)
        store.hooks.add(case.id, at="2024-05-01T10:00:00+00:00")
        raise RuntimeError("the process dies before the commit")
    assert not store.inbox.seen("h1") and store.cases.query(CaseQuery()) == []
    assert store.outbox.backlog() == 0 and store.hooks.due(at="9999") == []


def test_outbox_retries_then_gives_up_with_the_reason_on_the_case(db_path: Path):
    clock = ManualClock(T0)
    with Store.open(db_path, clock=clock) as s:
        case = add(s)
        item = s.outbox.add(REPORTER, "diterima", kind="ack", created_by="smsbridge",
                            case_id=case.id)
        due = [r["id"] for r in s.outbox.queue.due(at=s.db.now(), limit=1)]
        assert due == [item.id] and s.outbox.backlog() == 1
        later = (T0 + timedelta(seconds=60)).isoformat()
        s.outbox.retry(item.id, "+CMS ERROR 500", attempts=1, next_at=later)
        assert s.outbox.queue.due(at=s.db.now(), limit=1) == []
        assert s.outbox.next_due_at() == later
        s.outbox.gave_up(item.id, "+CMS ERROR 500", attempts=2)
        [gone] = s.cases.detail(case.ticket).outbox
        assert (gone.state, gone.attempts, gone.next_attempt_at) == ("gave_up", 2, None)
        assert s.outbox.backlog() == 0 and s.outbox.next_due_at() is None
        assert s.cases.detail(case.ticket).events[-1].action == "reply_failed"


def test_sent_sms_is_matched_by_its_status_report(store: Store):
    item = store.outbox.add(REPORTER, "diterima", kind="ack", created_by="smsbridge")
    store.outbox.sent(item.id, [17, 18], at="2024-05-01T10:00:05+00:00")
    assert store.outbox.backlog() == 0
    assert not store.outbox.record_delivery(REPORTER, 99, delivered=True, status=0, at="x")
    assert store.outbox.record_delivery(REPORTER, 18, delivered=True, status=0,
                                        at="2024-05-01T10:00:09+00:00")


def test_hooks_use_the_same_queue_and_given_up_hooks_stay_visible(store: Store):
    case = add(store)
    store.hooks.add(case.id, at="2024-05-01T10:00:00+00:00")
    [(hook_id, attempts, due_case)] = store.hooks.due(at="2024-05-01T10:00:00+00:00")
    assert attempts == 0 and due_case.ticket == case.ticket
    store.hooks.retry(hook_id, "exited 3", attempts=1, next_at="2024-05-01T10:00:30+00:00")
    assert store.hooks.due(at="2024-05-01T10:00:29+00:00") == []
    store.hooks.gave_up(hook_id, "exited 3", attempts=2)
    assert store.hooks.due(at="9999") == []
    row = store.db.one("SELECT attempts, last_error, done_at FROM hooks")
    assert tuple(row) == (2, "exited 3", None)


def test_a_duplicate_circle_is_refused_and_changes_nothing(store: Store):
    for _ in range(3):
        add(store)
    store.cases.update("1", operator="sari", duplicate_of="2")
    with pytest.raises(InvalidInput, match="LP-000001 is already a duplicate of LP-000002"):
        store.cases.update("2", operator="sari", duplicate_of="1")
    store.cases.update("2", operator="sari", duplicate_of="3")  # 1 -> 2 -> 3: a chain
    with pytest.raises(InvalidInput, match="LP-000001 is already a duplicate of LP-000002, "
                                           "which is a duplicate of LP-000003"):
        store.cases.update("3", operator="sari", duplicate_of="1")
    assert (store.cases.get("3").status, store.cases.get("3").duplicate_of) == ("new", None)


def test_a_circle_stored_before_they_were_refused_does_not_hang_the_check(store: Store):
    for _ in range(3):
        add(store)
    with store.transaction() as db:
        db.execute("UPDATE cases SET status = 'duplicate', duplicate_of = 2 WHERE id = 1")
        db.execute("UPDATE cases SET status = 'duplicate', duplicate_of = 1 WHERE id = 2")
    assert store.cases.update("3", operator="sari", duplicate_of="1").status == "duplicate"
