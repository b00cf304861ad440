"""The case store on real SQLite files."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from smsbridge.errors import DatabaseError, InvalidInput, InvalidTransition, UnknownTicket
from smsbridge.models import CaseQuery, NewCase
from smsbridge.store import FILE_MODE, SCHEMA_VERSION, CaseStore

REPORTER = "+6281234567110"


@pytest.fixture
def store(db_path: Path):
    with CaseStore.open(db_path) as s:
        yield s


def add(store: CaseStore, text: str = "ada judi di pasar", reporter: str = REPORTER):
    return store.create_case(NewCase(reporter, text), operator="budi")


def test_new_database_is_private_wal_and_at_the_latest_schema(db_path: Path):
    with CaseStore.open(db_path) as s:
        assert s.schema_version() == SCHEMA_VERSION
        assert s.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert s.conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        add(s)
    assert stat.S_IMODE(os.stat(db_path).st_mode) == FILE_MODE == 0o660


def test_tickets_are_consecutive_from_one(store: CaseStore):
    assert [add(store).ticket for _ in range(3)] == ["LP-000001", "LP-000002", "LP-000003"]


def test_ticket_is_found_however_it_is_typed(store: CaseStore):
    add(store)
    for typed in ("LP-000001", "lp000001", "lp 1", "1", "LP-OOOOO1"):
        assert store.get_case(typed).ticket == "LP-000001"


def test_unknown_ticket_is_refused(store: CaseStore):
    with pytest.raises(UnknownTicket, match="LP-000009"):
        store.get_case("LP-000009")


def test_new_case_is_new_with_a_created_event(store: CaseStore):
    case = add(store)
    detail = store.case_detail(case.ticket)
    assert case.status == "new"
    assert [(e.action, e.operator, e.new_status) for e in detail.events] == [
        ("created", "budi", "new")]


def test_every_change_is_an_event_with_operator_and_note(store: CaseStore):
    case = add(store)
    store.update_case(case.ticket, operator="sari", status="checking", note="ke lokasi",
                      assign="budi")
    events = store.case_detail(case.ticket).events[1:]
    assert [(e.action, e.operator, e.old_status, e.new_status, e.note) for e in events] == [
        ("status", "sari", "new", "checking", "ke lokasi"),
        ("assign", "sari", None, None, "assigned to budi"),
    ]
    assert store.get_case(case.ticket).first_action_at is not None


def test_refused_transition_changes_nothing(store: CaseStore):
    case = add(store)
    with pytest.raises(InvalidTransition, match="allowed next: checking, fake, duplicate"):
        store.update_case(case.ticket, operator="sari", status="resolved", assign="budi")
    after = store.get_case(case.ticket)
    assert (after.status, after.assigned_to, after.updated_at) == ("new", None, case.updated_at)
    assert len(store.case_detail(case.ticket).events) == 1


def test_duplicate_names_the_other_ticket_and_reopening_clears_it(store: CaseStore):
    first, second = add(store), add(store)
    dup = store.update_case(second.ticket, operator="sari", duplicate_of="lp1")
    assert (dup.status, dup.duplicate_of) == ("duplicate", first.ticket)
    assert store.case_detail(second.ticket).events[-1].note == "duplicate of LP-000001"
    with pytest.raises(InvalidTransition, match="needs a --note"):
        store.update_case(second.ticket, operator="sari", status="checking")
    reopened = store.update_case(second.ticket, operator="sari", status="checking",
                                 note="bukan laporan yang sama")
    assert (reopened.status, reopened.duplicate_of) == ("checking", None)


def test_case_cannot_duplicate_itself_or_a_missing_case(store: CaseStore):
    case = add(store)
    with pytest.raises(InvalidInput, match="itself"):
        store.update_case(case.ticket, operator="sari", duplicate_of=case.ticket)
    with pytest.raises(UnknownTicket):
        store.update_case(case.ticket, operator="sari", duplicate_of="LP-000077")


def test_update_with_nothing_to_change_is_refused(store: CaseStore):
    case = add(store)
    with pytest.raises(InvalidInput, match="nothing to update"):
        store.update_case(case.ticket, operator="sari")


def test_search_finds_every_word_in_any_order_newest_first(store: CaseStore):
    add(store, "Ada judi di pasar malam")
    add(store, "Pencurian motor di pasar")
    add(store, "Pasar ramai, ada JUDI sabung ayam")
    found = store.list_cases(CaseQuery(search="judi pasar"))
    assert [c.ticket for c in found] == ["LP-000003", "LP-000001"]
    assert [c.ticket for c in store.list_cases(CaseQuery(search="pencuri*"))] == ["LP-000002"]


def test_search_text_with_fts_syntax_is_taken_literally(store: CaseStore):
    add(store, 'jalan "rusak" AND NOT macet')
    assert store.list_cases(CaseQuery(search='"rusak" AND NOT: -(')) != []


def test_search_follows_edited_text(store: CaseStore):
    case = add(store, "kata lama")
    with store.transaction() as conn:
        conn.execute("UPDATE cases SET text = 'kata baru' WHERE id = ?", (case.id,))
    assert store.list_cases(CaseQuery(search="lama")) == []
    assert len(store.list_cases(CaseQuery(search="baru"))) == 1


def test_list_filters_combine(store: CaseStore):
    add(store, reporter="+6281111111111")
    b = add(store, reporter="+6282222222222")
    add(store, reporter="+6282222222222")
    store.update_case(b.ticket, operator="sari", status="checking", assign="budi")
    assert [c.ticket for c in store.list_cases(CaseQuery(reporter="+6282222222222"))] == [
        "LP-000003", "LP-000002"]
    query = CaseQuery(statuses=("checking",), assigned="budi", reporter="+6282222222222")
    assert [c.ticket for c in store.list_cases(query)] == ["LP-000002"]
    assert len(store.list_cases(CaseQuery(limit=1))) == 1


def test_list_window_is_on_the_received_time(store: CaseStore):
    store.create_case(NewCase(REPORTER, "lama", received_at="2024-05-01T10:00:00+00:00"),
                      operator="x")
    store.create_case(NewCase(REPORTER, "baru", received_at="2024-05-03T10:00:00+00:00"),
                      operator="x")
    window = CaseQuery(since="2024-05-02T00:00:00+00:00", until="2024-05-04T00:00:00+00:00")
    assert [c.text for c in store.list_cases(window)] == ["baru"]


def test_reply_is_queued_for_the_daemon_and_recorded(store: CaseStore):
    case = add(store)
    item = store.queue_reply(case.ticket, "Petugas menuju lokasi", operator="sari")
    assert (item.number, item.kind, item.state, item.created_by) == (
        REPORTER, "operator", "queued", "sari")
    detail = store.case_detail(case.ticket)
    assert detail.outbox == (item,)
    assert detail.events[-1].action == "reply"


def test_reply_to_a_service_sender_is_refused(store: CaseStore):
    case = add(store, reporter="TELKOMSEL")
    with pytest.raises(InvalidInput, match="service"):
        store.queue_reply(case.ticket, "halo", operator="sari")
    assert store.case_detail(case.ticket).outbox == ()


def test_reveal_is_recorded_with_the_operator(store: CaseStore):
    case = add(store)
    store.record_reveal(case.ticket, operator="sari")
    last = store.case_detail(case.ticket).events[-1]
    assert (last.action, last.operator, last.note) == ("reveal", "sari", "number revealed")


def test_stats_count_statuses_days_fakes_and_first_action(store: CaseStore):
    for day in ("01", "01", "02"):
        store.create_case(NewCase("+6281111111111", "x",
                                  received_at=f"2024-05-{day}T10:00:00+00:00"), operator="x")
    store.update_case("1", operator="sari", status="fake")
    store.update_case("2", operator="sari", status="checking")
    stats = store.stats(since="2024-05-01T00:00:00+00:00")
    assert stats.total == 3
    assert stats.by_status["fake"] == 1 and stats.by_status["new"] == 1
    assert stats.by_day == (("2024-05-01", 2), ("2024-05-02", 1))
    assert stats.fake_share == pytest.approx(1 / 3)
    assert stats.median_first_action_seconds > 0
    assert stats.top_fake_reporters == (("+6281111111111", 1),)


def test_stats_days_follow_the_operators_zone(store: CaseStore):
    store.create_case(NewCase(REPORTER, "x", received_at="2024-05-01T20:00:00+00:00"),
                      operator="x")
    wib = 7 * 3600  # Western Indonesia Time
    assert store.stats(utc_offset_seconds=wib).by_day == (("2024-05-02", 1),)


def test_import_cases_gives_consecutive_tickets_in_batches(store: CaseStore):
    add(store)
    count = store.import_cases((NewCase(REPORTER, f"laporan {i}") for i in range(25)),
                               operator="import", batch_size=10)
    assert count == 25
    assert store.list_cases(CaseQuery(limit=1))[0].ticket == "LP-000026"
    assert len(store.list_cases(CaseQuery(search="laporan", limit=None))) == 25


def test_failed_transaction_leaves_no_trace(store: CaseStore):
    with pytest.raises(RuntimeError), store.transaction():
        add(store)
        raise RuntimeError("crash between the writes")
    assert store.list_cases(CaseQuery()) == []
    assert add(store).ticket == "LP-000001"


def test_nested_transaction_is_part_of_the_outer_one(store: CaseStore):
    with store.transaction():
        add(store)
        with pytest.raises(InvalidInput), store.transaction():
            add(store)
            raise InvalidInput("inner fails")
        add(store)
    # The inner case rolled back with its ticket number: numbers never have gaps.
    assert [c.ticket for c in store.list_cases(CaseQuery())] == ["LP-000002", "LP-000001"]


# --- a database that is missing, locked, corrupt or read-only ---------------------


def test_missing_directory_is_an_error_not_a_new_database(tmp_path: Path):
    path = tmp_path / "nowhere" / "cases.db"
    with pytest.raises(DatabaseError, match="does not exist"):
        CaseStore.open(path)
    assert not path.parent.exists()


def test_reading_a_missing_file_does_not_create_it(db_path: Path):
    with pytest.raises(DatabaseError, match="no database yet"):
        CaseStore.open(db_path, create=False)
    assert not db_path.exists()


def test_corrupt_file_is_reported_as_such(db_path: Path):
    db_path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(DatabaseError, match="not an SQLite database or corrupt"):
        CaseStore.open(db_path)


def test_locked_database_fails_after_the_busy_timeout_with_nothing_changed(db_path: Path):
    with CaseStore.open(db_path) as holder, holder.transaction():
        add(holder)
        with CaseStore.open(db_path, busy_timeout=0.2) as other, \
                pytest.raises(DatabaseError, match="locked"):
            add(other)
    with CaseStore.open(db_path) as s:
        assert len(s.list_cases(CaseQuery())) == 1


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes read-only files")
def test_read_only_database_refuses_writes_clearly(db_path: Path):
    with CaseStore.open(db_path) as s:
        add(s)
    db_path.chmod(0o440)
    try:
        with CaseStore.open(db_path) as s:
            assert len(s.list_cases(CaseQuery())) == 1
            with pytest.raises(DatabaseError, match="read-only"):
                add(s)
    finally:
        db_path.chmod(0o640)


def test_newer_schema_is_refused(db_path: Path):
    with CaseStore.open(db_path) as s:
        s.conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(DatabaseError, match="newer"):
        CaseStore.open(db_path)


def test_store_benchmark_runs_end_to_end_on_a_small_seed(tmp_path: Path):
    import subprocess
    import sys

    bench = Path(__file__).parent.parent / "bench" / "bench_store.py"
    result = subprocess.run([sys.executable, str(bench), "--cases", "300", "--runs", "1",
                             "--db", str(tmp_path / "bench.db")],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "bytes per case" in result.stdout and "cases list --status new" in result.stdout


def test_several_statuses_list_the_newest_of_all_of_them(store: CaseStore):
    for _ in range(6):
        add(store)
    for ticket, status in (("1", "checking"), ("4", "checking"), ("5", "fake")):
        store.update_case(ticket, operator="sari", status=status)
    query = CaseQuery(statuses=("new", "checking"), limit=3)
    assert [c.id for c in store.list_cases(query)] == [6, 4, 3]
    query = CaseQuery(statuses=("new", "checking"), limit=None)
    assert [c.id for c in store.list_cases(query)] == [6, 4, 3, 2, 1]
