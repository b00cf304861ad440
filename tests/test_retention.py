"""[retention]: a long-closed case's sealed number and raw SMS destroyed, daily, in
batches; the masked form and the number's token stay, so its old cases count together."""

from __future__ import annotations

import json
import os
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from conftest import write_config
from rigs import (
    START,
    BridgeRig,
    DaemonProcess,
    every_value,
    query,
    run_smsbridge,
    wait_until,
)

from smsbridge.clock import ManualClock
from smsbridge.config.sections import Config
from smsbridge.models import CaseQuery
from smsbridge.retention import DailyRetention
from smsbridge.sealing.keys import load_keys
from smsbridge.store import Store

OLD = "+6281234567001"  # two reports, both closed long ago
OPEN = "+6281234567002"  # a report still open
RECENT = "+6281234567003"  # closed last week
HIDDEN = "1234567001"  # what must be gone: the digits the mask hides, and more


def line_with_history(db: Path, clock: ManualClock) -> None:
    """Reports made through the bridge (raw PDUs, replies, history), some closed."""
    with Store.open(db, clock=clock) as store:
        rig = BridgeRig(store, clock)
        rig.sms(OLD, "ada judi di pasar")
        rig.sms(OPEN, "ada balap liar")
        rig.step()
        clock.advance(hours=1)
        rig.sms(OLD, "CEK")
        rig.step()
        store.cases.update("LP-000001", operator="sari", status="fake")
        clock.advance(days=30)
        rig.sms(OLD, "ada tawuran lagi")
        rig.step()
        for step in ("checking", "confirmed"):
            store.cases.update("LP-000003", operator="sari", status=step)
        store.cases.update("LP-000003", operator="sari", status="resolved",
                           note=f"ditelepon balik ke {OLD}")
        clock.advance(days=400)
        rig.sms(RECENT, "ada miras")
        rig.step()
        for step in ("checking", "confirmed"):
            store.cases.update("LP-000004", operator="sari", status=step)
        store.cases.update("LP-000004", operator="sari", status="resolved")
        clock.advance(days=7)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def past() -> ManualClock:
    """For the CLI, whose clock is the machine's: a history that ended a week ago."""
    return ManualClock(datetime.now(UTC) - timedelta(days=438))


def test_a_day_of_retention_forgets_long_closed_numbers_and_keeps_the_record(
        db_path: Path, tmp_path: Path, clock: ManualClock):
    line_with_history(db_path, clock)
    key = load_keys(tmp_path / "smsbridge.key").hash_key
    cfg = Config().replace(retention={"batch_size": 1})
    with Store.open(db_path, clock=clock) as store:
        job = DailyRetention(store, cfg, clock, key)
        for _ in range(3):  # one case per batch: two, then one that finds nothing
            job.tick()
        cases = {c.ticket: c for c in store.cases.query(CaseQuery(limit=None))}
        state = store.state.read()
        audit = store.audit.entries()
    first, second = cases["LP-000001"], cases["LP-000003"]
    # Even the daemon's keys no longer open them: the mask is all there is to show, and
    # the token still tells the two are one number's.
    assert first.reporter == second.reporter == "+62 812 \u2022\u2022\u2022\u2022\u2022 01"
    assert first.reporter_token == second.reporter_token
    assert query(db_path, "SELECT count(*) FROM cases WHERE reporter_sealed IS NULL") == [(2,)]
    assert cases["LP-000002"].reporter == OPEN and cases["LP-000004"].reporter == RECENT
    assert HIDDEN not in every_value(db_path, text_indexes=False)
    assert query(db_path, "SELECT count(*) FROM messages WHERE pdu = ''") == [(3,)]
    assert state["retention_last_run"] and "2 numbers of closed cases forgotten" in (
        state["retention_last"])
    [entry] = [e for e in audit if e.action == "retention"]
    assert entry.detail.startswith("2 numbers of closed cases forgotten, ")


def test_the_job_runs_once_a_day_by_its_clock(db_path: Path, tmp_path: Path,
                                              clock: ManualClock):
    line_with_history(db_path, clock)
    key = load_keys(tmp_path / "smsbridge.key").hash_key
    with Store.open(db_path, clock=clock) as store:
        job = DailyRetention(store, Config(), clock, key)
        job.tick()
        job.tick()  # the run ends: nothing more was due
        first = store.state.read()["retention_last_run"]
        clock.advance(hours=23)
        job.tick()
        assert store.state.read()["retention_last_run"] == first
        clock.advance(hours=1)
        job.tick()
        assert store.state.read()["retention_last_run"] > first


def test_dry_run_says_what_would_go_and_changes_nothing(cli, db_path: Path, tmp_path: Path,
                                                        past: ManualClock):
    line_with_history(db_path, past)
    before = every_value(db_path, text_indexes=False)
    out = cli("retention", "--dry-run").output
    assert "would forget the numbers of 2 closed cases (and clear 3 of their SMS)" in out
    assert "closed cases are never deleted" in out
    assert every_value(db_path, text_indexes=False) == before


def test_retention_through_the_cli_needs_the_keys_then_forgets_and_status_shows_it(
        cli, db_path: Path, tmp_path: Path, past: ManualClock):
    line_with_history(db_path, past)
    keys = tmp_path / "smsbridge.key"
    if os.geteuid() == 0:  # another user's keys are never used, even by root
        os.chown(keys, 65534, 65534)
        refused = cli("retention", ok=False)
        assert refused.exit_code == 1 and "the key file must belong to this user" in (
            refused.output)
        os.chown(keys, 0, 0)
    assert "retention: 2 numbers of closed cases forgotten" in cli("retention").output
    assert HIDDEN not in every_value(db_path, text_indexes=False)
    status = cli("status", ok=False).output
    assert "retention: numbers forgotten 365 days after closing; last run " in status
    listed = json.loads(cli("cases", "list", "--json", "--status", "fake").output)
    assert listed[0]["reporter"] == "+62 812 \u2022\u2022\u2022\u2022\u2022 01"
    assert "number_forgotten" in cli("cases", "show", "LP-000001").output


def test_whole_closed_cases_are_deleted_when_configured(cli, db_path: Path, tmp_path: Path,
                                                        past: ManualClock):
    line_with_history(db_path, past)
    (tmp_path / "del").mkdir()
    config = write_config(tmp_path / "del", db_path,
                          "[retention]\ndelete_cases_after_days = 100\n")
    assert "would delete 2 closed cases" in cli("retention", "--dry-run", config=config).output
    assert "2 closed cases deleted" in cli("retention", config=config).output
    assert [r[0] for r in query(db_path, "SELECT ticket FROM cases ORDER BY id")] == [
        "LP-000002", "LP-000004"]
    assert query(db_path, "SELECT count(*) FROM case_events WHERE case_id IN (1, 3)") == [(0,)]


@pytest.mark.slow
def test_the_daemon_forgets_at_its_first_daily_run(tmp_path: Path, emulator):
    db = tmp_path / "cases.db"
    line_with_history(db, ManualClock(datetime.now(UTC) - timedelta(days=800)))
    d = DaemonProcess(tmp_path, emulator.port)
    try:
        d.start()
        wait_until(lambda: query(db, "SELECT value FROM daemon_state WHERE key ="
                                     " 'retention_last_run'"), 30, "the daily run")
        status = run_smsbridge("--config", str(d.config), "status", timeout=60)
        assert d.terminate() == 0
    finally:
        d.stop()
    assert "retention: numbers forgotten 365 days after closing; last run" in status.stdout
    assert "3 numbers of closed cases forgotten" in status.stdout
    stored = every_value(db, text_indexes=False)
    assert HIDDEN not in stored and "1234567003" not in stored
    assert stat.S_IMODE(os.lstat(tmp_path / "smsbridge.key").st_mode) == 0o600


def test_a_new_report_still_counts_the_forgotten_cases_of_its_number(
        db_path: Path, tmp_path: Path, clock: ManualClock):
    line_with_history(db_path, clock)
    key = load_keys(tmp_path / "smsbridge.key").hash_key
    with Store.open(db_path, clock=clock) as store:
        job = DailyRetention(store, Config(), clock, key)
        job.tick()
        job.tick()
        rig = BridgeRig(store, clock)
        rig.sms(OLD, "ada judi lagi di pasar")
        rig.step()
        new = store.cases.query(CaseQuery(limit=1))[0]
        # Found by the number's token, which the forgotten cases keep: at once.
        keyed = store.desk.track_records([new])[new.id]
        forgotten = store.cases.get("LP-000001")
        again = store.desk.track_records([forgotten])[forgotten.id]
    assert new.reporter == OLD
    assert (keyed.earlier, keyed.fake, keyed.confirmed) == (2, 1, 1)
    assert again.earlier == 0  # nothing before the first one, and nothing counted twice
