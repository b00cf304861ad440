"""``status``, ``stats``, the morning briefing, ``backup`` and ``retention`` read in
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

YEAR = datetime.now(UTC).year



@pytest.fixture
def desk(tmp_path: Path, db_path: Path, cli_env: dict[str, str]) -> dict[str, str]:
    """Two cases in Jakarta's zone, one of them checked."""
    config = write_config(tmp_path, db_path, '[desk]\ntimezone = "Asia/Jakarta"\n')
    with Store.open(db_path) as store:
        for text in ("ada judi di pasar gede", "tawuran di jebres"):
            case = store.cases.create(NewCase(reporter="+6281234567110", text=text,
                                              received_at=datetime.now(UTC).isoformat()),
                                      operator="sari")
        store.cases.update(case.ticket, operator="sari", status="checking")
    return {**cli_env, "SMSBRIDGE_CONFIG": str(config)}


def test_status_reads_in_indonesian_and_exits_the_same(desk):
    shown, english = run(desk, "id", "status"), run(desk, "en", "status")
    assert shown.returncode == english.returncode == 1  # no daemon runs
    out = shown.stdout
    for words in ("daemon:   belum pernah dijalankan", "cek terakhir:", "SMS menunggu dikirim",
                  "mendesak terbuka", "terlambat", "waktu dalam WIB",
                  "masa simpan: nomor", "belum pernah jalan"):
        assert words in out, (words, out)
    for english_word in ("never started", "waiting to be sent", "urgent open", "retention:",
                         "times in"):
        assert english_word not in out, (english_word, out)
    assert "daemon:   never started on this database" in english.stdout


@pytest.mark.parametrize("args", [("status", "--json"), ("stats", "--json"),
                                  ("stats", "--all", "--json")])
def test_what_scripts_read_is_the_same_in_both_languages(desk, args):
    indonesian, english = run(desk, "id", *args), run(desk, "en", *args)
    assert indonesian.returncode == english.returncode
    assert indonesian.stdout == english.stdout
    assert "Kasus" not in indonesian.stdout and "masa simpan" not in indonesian.stdout


def test_stats_pictures_are_indonesian(desk):
    shown = run(desk, "id", "stats")
    assert shown.returncode == 0, shown.stderr
    out = shown.stdout
    for words in ("Kasus diterima dari", "Laporan palsu: 0,0%", "Terbuka sekarang: 2",
                  "baru 1", "dicek 1", "Kasus per hari: █ terbuka", "Menurut kategori:",
                  "Kasus menurut jam, dalam WIB", "tersibuk:", "Menurut status:"):
        assert words in out, (words, out)
    for english_word in ("Cases received", "Fake reports", "By status", "busiest"):
        assert english_word not in out, (english_word, out)


def test_the_briefing_page_is_indonesian_and_says_so(desk, tmp_path: Path):
    pytest.importorskip("pygal")
    target = tmp_path / "pagi.html"
    made = run(desk, "id", "report", "--html", str(target))
    assert made.returncode == 0, made.stderr
    assert "laporan pagi berisi 2 kasus ditulis ke" in made.stderr
    page = target.read_text()
    for words in ('<html lang="id"', "<h1>Laporan pagi</h1>", "<h2>Mendesak dan terlambat</h2>",
                  "<h2>Kecepatan</h2>", "<h2>Petugas</h2>", "Nomor pelapor disamarkan",
                  "Kasus per hari menurut kategori", "kasus lewat batas waktu"):
        assert words in page, words
    for english_word in ("Morning briefing", "Urgent and overdue", "Officers:"):
        assert english_word not in page, english_word
    english = tmp_path / "morning.html"
    assert run(desk, "en", "report", "--html", str(english)).returncode == 0
    assert '<html lang="en"' in english.read_text()


def test_backup_and_retention_speak_indonesian(desk, tmp_path: Path):
    saved = run(desk, "id", "backup", str(tmp_path / "cadangan.db"))
    assert saved.returncode == 0, saved.stderr
    assert "2 kasus dicadangkan ke" in saved.stdout and "integritas baik" in saved.stdout
    dry = run(desk, "id", "retention", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "akan melupakan nomor dari 0 kasus tertutup" in dry.stdout
    assert "kasus tertutup tidak pernah dihapus" in dry.stdout
    assert "would" not in dry.stdout


def test_credit_and_a_modems_state_follow_the_language():
    from smsbridge.cli.daemon_cmd import credit_words, state_word
    from smsbridge.cli.modem_cmd import registration_words

    balance = {"credit": 12500, "sms_left": 40, "active_until": "2026-12-31",
               "checked_at": "2026-12-07 08:00"}
    assert credit_words(balance) == ("Rp12.500, 40 SMS in the package, active until "
                                     "2026-12-31 (asked 2026-12-07 08:00)")
    try:
        i18n.install("id")
        assert credit_words(balance) == ("Rp12.500, 40 SMS di paket, aktif sampai "
                                         "2026-12-31 (ditanyakan 2026-12-07 08:00)")
        assert state_word("ready") == "siap" and state_word(None) == "belum dimulai"
        # --json keeps the English; the terminal gets Indonesian.
        assert registration_words(1) == "registered, home network"
        assert registration_words(1, translate=True) == "terdaftar, jaringan sendiri"
    finally:
        i18n.install("en")
