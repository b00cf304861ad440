"""The desk reads a case, the outbox, the audit log and the database's errors in
Indonesian; what scripts read (--json, exit codes) is the same byte for byte."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from conftest import write_config
from rigs import run_in_language as run

from smsbridge import i18n
from smsbridge.models import NewCase
from smsbridge.store import Store

NUMBER = "+6281234567110"
YEAR = datetime.now(UTC).year  # a time of this year is shown without its year



@pytest.fixture
def desk(tmp_path: Path, db_path: Path, cli_env: dict[str, str]) -> dict[str, str]:
    """A case in Jakarta's zone, checked, assigned, answered, its number revealed once."""
    config = write_config(tmp_path, db_path, '[desk]\ntimezone = "Asia/Jakarta"\n')
    with Store.open(db_path) as store:
        case = store.cases.create(NewCase(reporter=NUMBER, text="ada judi di pasar gede",
                                          received_at=f"{YEAR}-12-07T04:50:00+00:00"),
                                  operator="sari")
        store.cases.update(case.ticket, operator="sari", status="checking", assign="budi")
        store.outbox.add_reply(case.ticket, "Petugas menuju lokasi.", operator="sari")
        store.audit.record("lookup", "cases list --reporter +62812****7110: LP-000001",
                           operator="sari")
    return {**cli_env, "SMSBRIDGE_CONFIG": str(config)}


def test_cases_show_reads_in_indonesian_with_the_desks_months_and_words(desk):
    shown = run(desk, "id", "cases", "show", "LP-000001")
    assert shown.returncode == 0, shown.stderr
    out = shown.stdout
    for words in ("Tiket:", "Status:      dicek", "Pelapor:", "Ditugaskan:  budi",
                  "Diterima:    07 Des 11:50:00 WIB (Asia/Jakarta)", "Riwayat (",
                  "status baru -> dicek", "balasan operator oleh sari", ": antre",
                  "Kronologi (", "laporan masuk (SMS)"):
        assert words in out, (words, out)
    for english in ("Ticket:", "Reporter:", "History (", "Timeline (", "queued", " Dec "):
        assert english not in out, (english, out)
    assert "Received:  07 Dec 11:50:00 WIB" in run(desk, "en", "cases", "show",
                                                  "LP-000001").stdout


@pytest.mark.parametrize("args", [
    ("cases", "show", "LP-000001", "--json"), ("outbox", "list", "--json"),
    ("audit", "--json"), ("cases", "list", "--json"), ("cases", "list", "--csv")])
def test_what_scripts_read_is_the_same_in_both_languages(desk, args):
    english, indonesian = run(desk, "en", *args), run(desk, "id", *args)
    assert english.returncode == indonesian.returncode == 0, indonesian.stderr
    assert english.stdout == indonesian.stdout


def test_tables_and_notes_under_them_are_indonesian(desk):
    outbox = run(desk, "id", "outbox", "list")
    assert outbox.stdout.split()[:7] == ["ID", "STATUS", "DIBUAT", "TIKET", "COBA", "NOMOR",
                                         "TEKS"]
    assert "antre" in outbox.stdout and "waktu dalam WIB (Asia/Jakarta)" in outbox.stderr
    audit = run(desk, "id", "audit")
    assert "cari nomor" in audit.stdout and "waktu dalam WIB" in audit.stderr
    nothing = run(desk, "id", "outbox", "list", "--status", "failed")
    assert "(tidak ada SMS yang cocok)" in nothing.stderr
    # The desk's words are typed in either language, and mean the same codes.
    for language in ("id", "en"):
        assert run(desk, language, "outbox", "list", "--status", "antre", "--json").stdout == \
            run(desk, "en", "outbox", "list", "--status", "queued", "--json").stdout


def test_errors_are_indonesian_and_exit_the_same(desk, tmp_path: Path):
    for args, words in [
        (("audit", "--since", "besok"), "bukan tanggal"),
        (("outbox", "cancel", "99"), "tidak ada SMS #99 di kotak keluar"),
        (("outbox", "list", "--status", "lost"),
         "status SMS 'lost' tidak dikenal; status yang ada: antre, terkirim, sampai, gagal, "
         "menyerah, dibatalkan"),
    ]:
        english, indonesian = run(desk, "en", *args), run(desk, "id", *args)
        assert english.returncode == indonesian.returncode == 1, indonesian.stderr
        assert words in indonesian.stderr, indonesian.stderr
    (tmp_path / "none").mkdir()
    missing = write_config(tmp_path / "none", tmp_path / "none" / "smsbridge.db")
    env = {**desk, "SMSBRIDGE_CONFIG": str(missing)}
    english, indonesian = run(env, "en", "outbox", "list"), run(env, "id", "outbox", "list")
    assert english.returncode == indonesian.returncode == 1
    assert "no database yet" in english.stderr
    assert "basis data belum ada" in indonesian.stderr


def test_months_and_units_follow_the_language():
    from smsbridge.cli.output import desk_time, duration

    try:
        i18n.install("id")
        assert desk_time("2026-05-01T03:00:00+00:00", year=False).split()[1] == "Mei"
        assert (duration(3 * 86400), duration(9000)) == ("3,0 hari", "2,5 jam")
    finally:
        i18n.install("en")
    assert desk_time("2026-05-01T03:00:00+00:00", year=False).split()[1] == "May"
    assert (duration(3 * 86400), duration(9000)) == ("3.0 days", "2.5 h")


def test_what_smsbridge_wrote_in_a_history_is_said_in_the_desks_language():
    from smsbridge.cli.history import note_shown, reason_shown

    notes = [("notice", "no notice of confirmed: reply limit of 5 an hour reached"),
             ("dispatch", "sent to budi, sari (team buser-1): pelaku 10 orang"),
             ("assign", "assigned to budi"), ("reply", "Petugas menuju lokasi.")]
    english = [note_shown(action, note) for action, note in notes]
    assert english == [note for _, note in notes]
    assert reason_shown("wrong verification word") == "wrong verification word"
    try:
        i18n.install("id")
        assert [note_shown(action, note) for action, note in notes] == [
            "tidak ada pemberitahuan terkonfirmasi: batas 5 balasan per jam sudah tercapai",
            "dikirim ke budi, sari (tim buser-1): pelaku 10 orang",
            "ditugaskan ke budi",
            "Petugas menuju lokasi."]  # an operator's words stay theirs
        assert reason_shown("wrong verification word") == "sandi salah"
        assert reason_shown("LP-000002 was not dispatched to budi") == \
            "LP-000002 tidak pernah dikirim ke budi"
    finally:
        i18n.install("en")
