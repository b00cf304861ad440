"""Whatever an operator types, one clear line and no traceback; searching words
with punctuation; revealed numbers never cut; duplicate circles refused."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from rigs import run_smsbridge

from smsbridge.models import NewCase
from smsbridge.store import Store


def run_bytes(env: dict[str, str], *args: str | bytes) -> subprocess.CompletedProcess:
    """The CLI as a process, with arguments as raw bytes, as a shell passes them."""
    argv = [os.fsencode(sys.executable), b"-m", b"smsbridge",
            *(a if isinstance(a, bytes) else a.encode() for a in args)]
    return subprocess.run(argv, env=env, capture_output=True, timeout=60)


@pytest.fixture
def one_case(cli_env) -> dict[str, str]:
    added = run_bytes(cli_env, "cases", "add", "--reporter", "081234567110", "Ada judi")
    assert added.returncode == 0, added.stderr
    return cli_env


BAD = b"\xff\xfeRT"


# A process per argument, twenty of them: the full suite's tier.
@pytest.mark.slow
@pytest.mark.parametrize("args", [
    ("cases", "show", BAD),
    ("cases", "add", "--reporter", "081234567110", b"laporan " + BAD),
    ("cases", "add", "--reporter", BAD, "laporan"),
    ("cases", "list", "--search", BAD),
    ("cases", "list", "--reporter", BAD),
    ("cases", "list", "--since", BAD),
    ("cases", "list", "--status", BAD),
    ("cases", "update", "1", "--note", BAD),
    ("cases", "update", "1", "--assign", BAD),
    ("cases", "update", "1", "--duplicate-of", BAD),
    ("cases", "update", "1", "--note", "x", "--as", BAD),
    ("cases", "reply", "1", BAD),
    ("messages", "--sender", BAD),
    ("outbox", "list", "--status", BAD),
    ("outbox", "cancel", BAD),
    ("audit", "--since", BAD),
    ("stats", "--since", BAD),
    ("modem", "probe", "--port", BAD),
    (BAD,),
    ("--config", b"/nonexistent/" + BAD, "cases", "list"),
], ids=lambda args: " ".join(a if isinstance(a, str) else repr(a) for a in args))
def test_arguments_that_are_not_utf8_get_one_error_line_never_a_traceback(one_case, args):
    result = run_bytes(one_case, *args)
    err = result.stderr.decode("utf-8", "replace")
    assert result.returncode in (1, 2), err
    assert "Traceback" not in err
    assert err.strip().splitlines()[-1].startswith("Error: ")
    shown = run_bytes(one_case, "cases", "show", "1")
    assert b"status" not in shown.stderr and b"Ada judi" in shown.stdout  # nothing changed


def test_a_citizens_emoji_on_a_terminal_that_cannot_show_it_is_escaped(one_case):
    run_bytes(one_case, "cases", "add", "--reporter", "081234567110", "motor 😀 ngebut")
    env = {**one_case, "PYTHONIOENCODING": "latin-1"}
    for args in (("cases", "show", "2"), ("cases", "list")):
        result = run_bytes(env, *args)
        assert result.returncode == 0, result.stderr
        assert b"Traceback" not in result.stderr
    assert b"\\U0001f600" in run_bytes(env, "cases", "show", "2").stdout


@pytest.mark.parametrize("args", [
    ("demo", "--dir", "{file}/sub"),
    ("emulator", "--no-stdin", "--link", "{file}/sub/link"),
    ("emulator", "--no-stdin", "--link", "{tmp}/missing/link"),
    ("--config", "{file}/config.toml", "cases", "list"),
    ("--config", "{tmp}", "cases", "list"),
    ("modem", "probe", "--port", "{file}/tty"),
])
def test_a_path_that_cannot_be_used_is_one_line(cli_env, tmp_path: Path, args):
    # A regular file where a directory is needed stops root too (ENOTDIR).
    blocker = tmp_path / "plain-file"
    blocker.write_text("x")
    argv = [a.format(file=blocker, tmp=tmp_path) for a in args]
    result = run_smsbridge(*argv, env=cli_env, timeout=60)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = (result.stderr + result.stdout).strip().splitlines()
    assert any(line.startswith(("Error: ", "  - ")) for line in lines), lines
    if "Error: " in result.stderr:
        assert result.stderr.strip().splitlines()[-1].startswith("Error: ")


@pytest.mark.parametrize("typed, found", [
    ("RT-03", {"LP-000001"}),
    ("Al-Ikhlas", {"LP-000001", "LP-000002"}),
    ("LP-000042", {"LP-000003"}),
    ("al-ikhlas rt-03", {"LP-000001"}),
])
def test_searching_words_with_punctuation_finds_them(cli, typed, found):
    for text in ("Judi di RT-03 dekat Masjid Al-Ikhlas", "Ribut di Masjid Al-Ikhlas, RT 05/03",
                 "Soal LP-000042: terjadi lagi"):
        cli("cases", "add", "--reporter", "081234567110", text)
    lines = cli("cases", "list", "--search", typed).stdout.splitlines()[1:]  # the table
    assert {line.split()[0] for line in lines} == found


LONG = "+628123456789012345678"  # 21 digits, as a spoofing sender makes it


def test_reveal_never_cuts_a_number_and_the_text_takes_what_is_left(cli, db_path):
    cli("cases", "add", "--reporter", "081234567110", "biasa")
    with Store.open(db_path) as store:
        for reporter in (LONG, " 12345678", "+14155550100"):
            store.cases.create(NewCase(reporter, "teks " * 30), operator="x")
    lines = cli("cases", "list", "--reveal").output.splitlines()
    for number in (LONG, " 12345678", "+14155550100", "+6281234567110"):
        assert any(number in line for line in lines), number
    assert all(len(line) <= 80 for line in lines)
    masked = cli("cases", "list").output.splitlines()
    assert all(len(line) <= 80 for line in masked) and LONG not in "".join(masked)


def test_outbox_reveal_never_cuts_a_number(cli, db_path):
    cli("cases", "add", "--reporter", "081234567110", "biasa")
    with Store.open(db_path) as store:
        store.outbox.add(LONG, "Laporan diterima " * 5, kind="ack", case_id=1,
                         created_by="smsbridge")
    assert LONG in cli("outbox", "list", "--reveal").output


def test_a_duplicate_circle_is_one_line_and_changes_nothing(cli, db_path):
    for _ in range(3):
        cli("cases", "add", "--reporter", "081234567110", "sama")
    cli("cases", "update", "1", "--duplicate-of", "2")
    cli("cases", "update", "2", "--duplicate-of", "3")
    result = cli("cases", "update", "3", "--duplicate-of", "1", ok=False)
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        "Error: LP-000003 cannot be a duplicate of LP-000001: LP-000001 is already a "
        "duplicate of LP-000002, which is a duplicate of LP-000003; reopen LP-000001 first "
        "if it is the original"]
    with Store.open(db_path) as store:
        assert store.cases.get("3").status == "new"


@pytest.mark.parametrize("args", [
    ("cases", "list", "--limit", "99999999999999999999"),
    ("messages", "--limit", "99999999999999999999"),
    ("outbox", "list", "--limit", "99999999999999999999"),
    ("outbox", "cancel", "99999999999999999999"),
    ("audit", "--limit", "99999999999999999999"),
    ("cases", "list", "--since", "9999-12-31T23:59:59-14:00"),
    ("cases", "list", "--until", "9999-12-31"),
    ("stats", "--until", "9999-12-31"),
    ("audit", "--since", "0001-01-01T00:00+01:00"),
    ("cases", "list", "--search", "-"),
], ids=" ".join)
def test_numbers_and_dates_past_what_can_be_stored_are_one_line(cli, args):
    cli("cases", "add", "--reporter", "081234567110", "laporan")
    result = cli(*args, ok=False)
    assert result.exit_code in (1, 2)
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert result.output.strip().splitlines()[-1].startswith("Error: ")


def test_a_reply_to_a_number_no_phone_can_have_is_refused_in_one_line(cli, db_path):
    with Store.open(db_path) as store:
        store.cases.create(NewCase(LONG, "dari pengirim palsu"), operator="x")
    result = cli("cases", "reply", "1", "Terima kasih", ok=False)
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        "Error: LP-000001 cannot be answered: its reporter's number cannot receive SMS (not "
        "a phone number (22 characters): expected an optional '+' and 1 to 20 digits, "
        "nothing else)"]
