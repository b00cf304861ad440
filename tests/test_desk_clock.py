"""One clock face: every command tells times in the desk's zone, named, as "07 Dec
11:50" (ISO in JSON and CSV); tables fit 80 columns; CSV for an Indonesian spreadsheet."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from conftest import write_config

from smsbridge.cli.output import desk_time
from smsbridge.models import NewCase
from smsbridge.store import Store

JAKARTA = ZoneInfo("Asia/Jakarta")
NUMBER = "+6281234567110"


def test_a_date_is_a_day_and_a_months_name_that_cannot_be_misread():
    this_year = datetime.now(UTC).year
    assert desk_time(f"{this_year}-12-07T04:50:00+00:00", zone=JAKARTA) == "07 Dec 11:50"
    assert desk_time(f"{this_year}-06-12T04:50:03+00:00", zone=JAKARTA,
                     seconds=True) == "12 Jun 11:50:03"
    assert desk_time("2024-05-31T20:00:00+00:00", zone=JAKARTA) == "01 Jun 2024 03:00"
    assert desk_time(None) == "-"


@pytest.fixture
def desk(tmp_path: Path, db_path: Path) -> Path:
    """A config in Jakarta's zone, a database with a case, an audited lookup, a
    refused field answer with a long reason and an SMS in the outbox."""
    config = write_config(tmp_path, db_path, '[desk]\ntimezone = "Asia/Jakarta"\n')
    with Store.open(db_path) as store:
        case = store.cases.create(NewCase(reporter=NUMBER, text="ada judi " * 20,
                                          received_at="2026-05-01T03:00:00+00:00"),
                                  operator="sari")
        store.audit.record("lookup", "cases list --reporter +62812****7110: " + "LP-1, " * 40,
                           operator="sari")
        store.field.record_answer(message_id=None, officer="budi-the-longest-name",
                                  case_id=case.id, ticket=case.ticket, finding="confirmed",
                                  note="sudah dicek ke lokasi " * 5, accepted=False,
                                  reason="wrong verification word")
        store.inbox.add(pdu_hash="h1", pdu="00", kind="deliver", sender="TELKOMSEL",
                        received_at="2026-05-01T03:00:00+00:00", text="Sisa pulsa 5000")
        store.outbox.add(NUMBER, "Laporan Anda diterima " * 5, kind="ack", case_id=case.id,
                         created_by="smsbridge", at="2026-05-01T03:00:05+00:00")
        store.state.update({"pid": "1", "heartbeat": "2026-05-01T03:00:00+00:00",
                            "started_at": "2026-05-01T02:00:00+00:00",
                            "last_error": "modem gave no answer to AT+CMGL=4 within 10 s "
                                          "while the SIM was busy " * 2,
                            "last_error_at": "2026-05-01T02:59:00+00:00"})
    return config


@pytest.mark.parametrize("args", [
    ("cases", "list"), ("cases", "answers"), ("audit",), ("outbox", "list"), ("status",),
    ("messages", "--all"), ("cases", "show", "1")])
def test_every_command_names_the_zone_and_fits_80_columns(cli, desk: Path, args):
    result = cli(*args, config=desk, ok=False)
    assert result.exit_code in (0, 1), result.output
    lines = result.output.splitlines()
    assert any("WIB (Asia/Jakarta)" in line for line in lines), result.output
    assert all(len(line) <= 80 for line in lines if not line.startswith("    ")), \
        [line for line in lines if len(line) > 80]
    assert "01 May" in result.output or (args[0] in ("audit", "cases") and "Dec" in
                                         result.output)


def test_excel_csv_has_a_bom_semicolons_and_iso_times(cli, desk: Path):
    data = cli("cases", "list", "--excel", config=desk).stdout_bytes
    assert data.startswith("\ufeff".encode())
    head, row = data.decode("utf-8-sig").splitlines()[:2]
    assert head.startswith("ticket;status;reporter;channel;received_at")
    assert ";2026-05-01T03:00:00+00:00;" in row
    assert "choose one of --json and --csv" in cli("cases", "list", "--excel", "--json",
                                                   config=desk, ok=False).output
