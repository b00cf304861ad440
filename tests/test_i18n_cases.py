"""The case commands, the desk's list, watch and the demo in Indonesian; --json and exit
codes the same in both languages."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from rigs import run_in_language as run

from smsbridge import i18n


@pytest.fixture
def desk(cli_env: dict[str, str]) -> dict[str, str]:
    """Two cases: one new, one checking and assigned to budi."""
    for text in ("Ada judi di pasar Legi", "Ada tawuran di depan sekolah"):
        added = run(cli_env, "en", "cases", "add", "--reporter", "081234567110", text)
        assert added.returncode == 0, added.stderr
    assert run(cli_env, "en", "cases", "update", "2", "--status", "checking",
               "--assign", "budi").returncode == 0
    return cli_env


def test_the_list_and_its_note_read_in_indonesian(desk: dict[str, str]):
    listed = run(desk, "id", "cases", "list")
    assert listed.returncode == 0, listed.stderr
    head = listed.stdout.splitlines()[0].split()
    assert head[:2] == ["TIKET", "STATUS"] and "KATEGORI" in head
    assert " baru " in listed.stdout and " dicek " in listed.stdout
    assert "2 kasus; waktu dalam" in listed.stderr and "RIWAYAT:" in listed.stderr
    english = run(desk, "en", "cases", "list")
    assert "TICKET" in english.stdout and " new " in english.stdout
    assert "2 cases; times in" in english.stderr


@pytest.mark.parametrize("command", [
    ("cases", "list", "--json"),
    ("cases", "list", "--status", "baru", "--json"),
    ("cases", "show", "LP-000002", "--json"),
    ("cases", "answers", "--json"),
    ("cases", "list", "--csv"),
])
def test_json_and_csv_are_the_same_in_both_languages(desk: dict[str, str], command):
    english, indonesian = run(desk, "en", *command), run(desk, "id", *command)
    assert english.returncode == indonesian.returncode == 0, indonesian.stderr
    assert english.stdout == indonesian.stdout


@pytest.mark.parametrize(("command", "said"), [
    (("cases", "update", "1", "--status", "selesai"),
     "kasus LP-000001 berstatus baru; tidak bisa menjadi selesai (status berikutnya yang "
     "boleh: dicek, palsu, duplikat)"),
    (("cases", "update", "2", "--status", "dicek"), "statusnya memang sudah dicek"),
    (("cases", "show", "LP-000099"), "tidak ada kasus dengan tiket 'LP-000099'"),
    (("cases", "show", "XY-1"), "bukan tiket layanan ini"),
    (("cases", "list", "--category", "zz"), "kategori 'zz' tidak dikenal"),
    (("cases", "update", "1", "--note", " "), "catatannya kosong"),
    (("cases", "add", "--reporter", "0812", "teks"), "tidak mungkin nomor telepon"),
])
def test_errors_in_indonesian_exit_as_in_english(desk: dict[str, str], command, said):
    english, indonesian = run(desk, "en", *command), run(desk, "id", *command)
    assert indonesian.returncode == english.returncode == 1
    assert said in indonesian.stderr, indonesian.stderr
    assert said not in english.stderr


def test_updates_replies_and_merges_say_it_in_indonesian(desk: dict[str, str]):
    updated = run(desk, "id", "cases", "update", "1", "--assign", "sari")
    assert updated.stdout.strip() == "LP-000001: baru, ditugaskan ke sari"
    priced = run(desk, "id", "cases", "reply", "1", "--dry-run", "Terima kasih")
    assert priced.stdout.strip() == "12 karakter: 1 SMS"
    other = run(desk, "en", "cases", "update", "1", "--category", "lainnya")
    assert other.returncode == 0, other.stderr
    assert '"category": "other"' in run(desk, "id", "cases", "show", "1", "--json").stdout
    refused = run(desk, "id", "cases", "list", "--category", "zz")
    assert refused.stderr.rstrip().endswith(", lainnya")
    merged = run(desk, "id", "cases", "merge", "1", "2")
    assert merged.stdout.strip() == "1 kasus ditandai duplikat dari LP-000001: LP-000002"


def test_watch_lines_spans_and_counts_in_indonesian():
    from smsbridge.cli import desk
    from smsbridge.triage.urgent import span_text

    try:
        i18n.install("id")
        assert [span_text(timedelta(minutes=m)) for m in (5, 180, 3000)] == ["5m", "3j", "2h"]
        assert desk.shown_count(50, 1284, 0) == "50 dari 1.284 ditampilkan, terbaru lebih " \
                                                "dulu; berikutnya dengan --offset 50"
        assert desk.shown_count(0, 0, 0) == "(tidak ada kasus yang cocok)"
    finally:
        i18n.install("en")
    assert [span_text(timedelta(minutes=m)) for m in (5, 180, 3000)] == ["5m", "3h", "2d"]
    assert desk.shown_count(50, 1284, 0) == ("50 of 1,284 shown, newest first; more with "
                                             "--offset 50")


@pytest.mark.slow
def test_the_demo_narrates_in_indonesian(tmp_path: Path, cli_env: dict[str, str]):
    shown = run(cli_env, "id", "demo", "--dir", str(tmp_path / "demo"))
    assert shown.returncode == 0, shown.stderr
    for said in ("daemon berjalan", "Seorang warga menanyakan laporannya: CEK LP-000001",
                 "Piket mengirim LP-000001 ke petugas budi", "terkonfirmasi",
                 "Kasus di basis data"):
        assert said in shown.stdout


def test_the_daemon_writes_english_whatever_the_desk_reads(config_file: Path,
                                                           monkeypatch: pytest.MonkeyPatch):
    from click.testing import CliRunner

    import smsbridge.daemon
    from smsbridge.cli import main

    seen: list[str] = []

    class Daemon:
        def __init__(self, *args, **kwargs) -> None:
            pass

        def install_signal_handlers(self) -> None:
            pass

        def run(self) -> int:
            seen.append(i18n.language())
            return 0

    monkeypatch.setattr(smsbridge.daemon, "Daemon", Daemon)
    monkeypatch.setattr(smsbridge.daemon, "setup_logging", lambda *a, **k: None)
    try:
        i18n.install("id")
        result = CliRunner().invoke(main, ["--config", str(config_file), "daemon"])
    finally:
        i18n.install("en")
    assert result.exit_code == 0, result.output
    assert seen == ["en"]
