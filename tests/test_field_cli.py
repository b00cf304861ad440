"""The desk's side of the field loop: `cases dispatch`, `cases list --dispatched`,
`cases answers`, the timeline of `cases show`, the loop's figures in `stats`, and the
notice an operator's status change queues."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import write_config
from rigs import run_smsbridge

from smsbridge.cli import main
from smsbridge.store import Store

REPORTER = "081234567001"
ROSTER = """
[[officers]]
name = "budi"
number = "0812-3456-0001"
team = "buser-1"
word = "mawarku"

[[officers]]
name = "sari"
number = "081345670002"
team = "buser-1"

[[teams]]
name = "buser-1"
word = "melati"
"""


@pytest.fixture
def cli(tmp_path: Path, db_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("SMSBRIDGE_OPERATOR", "sari")
    config_file = write_config(tmp_path, db_path, ROSTER)

    def run(*args: str, ok: bool = True):
        result = CliRunner().invoke(main, ["--config", str(config_file), *args])
        if ok:
            assert result.exit_code == 0, result.output
        return result

    return run


def add(cli, text: str = "Ada judi di belakang Pasar Kliwon, hubungi saya 0812-3456-7001"):
    return cli("cases", "add", "--reporter", REPORTER, text).output.strip()


def outbox(db_path: Path, kind: str) -> list:
    with Store.open(db_path) as store:
        return [i for i in store.outbox.listing(operator="t", limit=None) if i.kind == kind]


def test_dispatch_queues_one_sms_without_the_reporter_and_moves_the_case_on(cli, db_path):
    ticket = add(cli)
    out = cli("cases", "dispatch", ticket.lower(), "--to", "Budi", "--note", "cek sore ini")
    assert out.output.splitlines()[0] == (f"{ticket}: sent to budi (SMS #1); the daemon "
                                          "sends it. Now checking, assigned to budi.")
    [sms] = outbox(db_path, "dispatch")
    assert sms.number == "+6281234560001" and sms.text.startswith(f"TUGAS {ticket}\n")
    assert "Catatan: cek sore ini" in sms.text and "[nomor]" in sms.text
    assert "7001" not in sms.text and "7001" not in out.output
    shown = " ".join(cli("cases", "show", ticket).output.split())
    assert "dispatch: sent to budi: cek sore ini" in shown
    assert "dispatch by sari to budi: cek sore ini [queued]" in shown


def test_dispatch_to_a_team_sends_to_each_officer(cli, db_path):
    ticket = add(cli)
    cli("cases", "dispatch", ticket, "--to", "buser-1")
    assert sorted(s.number for s in outbox(db_path, "dispatch")) == ["+6281234560001",
                                                                     "+6281345670002"]
    assert ticket in cli("cases", "list", "--dispatched", "--assigned", "buser-1").output


@pytest.mark.parametrize(("args", "message"), [
    (("--to", "joko"), "no officer or team 'joko'; officers: budi, sari; teams: buser-1"),
    (("--to", "budi", "--note", "x" * 101), "at most 100"),
])
def test_dispatch_refuses_what_cannot_go_out(cli, db_path, args, message):
    ticket = add(cli)
    result = cli("cases", "dispatch", ticket, *args, ok=False)
    assert result.exit_code == 1 and message in result.output
    assert outbox(db_path, "dispatch") == []


def test_a_closed_case_is_reopened_before_it_goes_out_again(cli):
    ticket = add(cli)
    cli("cases", "update", ticket, "--status", "fake")
    result = cli("cases", "dispatch", ticket, "--to", "budi", ok=False)
    assert "is fake; reopen it first" in result.output


def test_without_officers_dispatch_says_how_to_configure_them(tmp_path, db_path):
    config_file = write_config(tmp_path, db_path)
    runner = CliRunner()
    runner.invoke(main, ["--config", str(config_file), "cases", "add", "--reporter", REPORTER,
                         "x"])
    result = runner.invoke(main, ["--config", str(config_file), "cases", "dispatch",
                                  "LP-000001", "--to", "budi"])
    assert result.exit_code == 1 and "no officers are configured" in result.output


def test_list_dispatched_shows_only_cases_sent_to_officers(cli):
    first, second = add(cli), add(cli, "Balap liar di Jl. Sudirman")
    cli("cases", "dispatch", second, "--to", "budi")
    listed = cli("cases", "list", "--dispatched").output
    assert second in listed and first not in listed


def test_an_operators_status_change_queues_the_reporters_notice_once(cli, db_path):
    ticket = add(cli)
    cli("cases", "update", ticket, "--status", "checking")
    cli("cases", "update", ticket, "--status", "confirmed")
    cli("cases", "update", ticket, "--note", "petugas di lokasi")
    [notice] = outbox(db_path, "notice")
    assert notice.number == "+6281234567001" and ticket in notice.text
    history = " ".join(cli("cases", "show", ticket).output.split())
    assert f"the reporter is told the case is confirmed (SMS #{notice.id})" in history
    assert "notice (confirmed) to +62 812 ••••• 01 [queued]" in history


def test_show_json_has_the_timeline(cli):
    ticket = add(cli)
    cli("cases", "dispatch", ticket, "--to", "budi")
    data = json.loads(cli("cases", "show", ticket, "--json").output)
    assert [e["kind"] for e in data["timeline"]] == ["report", "dispatch"]


def test_stats_give_the_loops_times_and_share_answered(cli):
    ticket = add(cli)
    cli("cases", "dispatch", ticket, "--to", "budi")
    text = cli("stats").output
    assert "Field loop: 1 case sent to officers, 0 answered (0%)" in text
    data = json.loads(cli("stats", "--json").output)
    assert data["field"]["dispatched"] == 1 and data["field"]["answered"] == 0


def test_answers_lists_what_officers_sent_and_why_one_was_refused(cli, db_path):
    ticket = add(cli)
    with Store.open(db_path) as store:
        store.field.record_answer(message_id=None, officer="budi", case_id=1, ticket=ticket,
                                  finding="confirmed", note="ada", accepted=False,
                                  reason="wrong verification word")
    lines = cli("cases", "answers", "--refused").stdout.splitlines()
    assert len(lines) == 1 and "budi" in lines[0]
    assert "REFUSED: wrong verification word" in lines[0]
    assert json.loads(cli("cases", "answers", "--json").output)[0]["accepted"] is False


def test_dispatch_edit_lets_the_desk_correct_the_sms_and_scrubs_what_it_wrote(
        tmp_path, db_path, monkeypatch):
    monkeypatch.setenv("SMSBRIDGE_OPERATOR", "sari")
    config_file = write_config(tmp_path, db_path, ROSTER)
    ticket = CliRunner().invoke(main, ["--config", str(config_file), "cases", "add",
                                       "--reporter", REPORTER, "Ada judi di pasar"]
                                ).output.strip()
    editor = tmp_path / "editor.sh"
    # The operator fixes the place and, carelessly, pastes the reporter's number.
    editor.write_text('#!/bin/sh\nsed -i "s/pasar/Pasar Kliwon, pelapor 0812–3456–7001/" "$1"\n')
    editor.chmod(0o755)
    result = CliRunner().invoke(main, ["--config", str(config_file), "cases", "dispatch",
                                       ticket, "--to", "budi", "--edit"],
                                env={"EDITOR": str(editor)})
    assert result.exit_code == 0, result.output
    [sms] = outbox(db_path, "dispatch")
    assert "Pasar Kliwon, pelapor [nomor]" in sms.text and "3456" not in sms.text
    code = sms.text.splitlines()[-1].split(": ")[1].split()[1]
    assert len(code) == 4 and "####" not in sms.text


def test_dispatch_on_a_terminal_shows_the_sms_and_asks_first(tmp_path, db_path):
    """The real CLI on a pseudo-terminal: "n" queues nothing, "y" queues the SMS."""
    import os
    import pty
    import subprocess
    import sys

    config_file = write_config(tmp_path, db_path, ROSTER)
    env = {**os.environ, "SMSBRIDGE_OPERATOR": "sari"}
    base = [sys.executable, "-m", "smsbridge", "--config", str(config_file)]
    ticket = run_smsbridge("--config", str(config_file), "cases", "add", "--reporter",
                           REPORTER, "Ada judi", env=env, check=True).stdout.strip()

    def dispatch(answer: bytes) -> str:
        leader, follower = pty.openpty()
        proc = subprocess.Popen([*base, "cases", "dispatch", ticket, "--to", "budi"],
                                stdin=follower, stdout=follower, stderr=follower, env=env)
        os.close(follower)
        seen = b""
        while b"Queue this SMS?" not in seen:
            seen += os.read(leader, 1024)
        os.write(leader, answer + b"\n")
        proc.wait(30)
        try:
            while chunk := os.read(leader, 1024):
                seen += chunk
        except OSError:
            pass
        os.close(leader)
        return seen.decode(errors="replace")

    shown = dispatch(b"n")
    assert f"TUGAS {ticket}" in shown and "####" in shown
    assert outbox(db_path, "dispatch") == []
    dispatch(b"y")
    assert len(outbox(db_path, "dispatch")) == 1
    # --yes on the same terminal: no question.
    leader, follower = pty.openpty()
    proc = subprocess.Popen([*base, "cases", "dispatch", ticket, "--to", "sari", "--yes"],
                            stdin=follower, stdout=follower, stderr=follower, env=env)
    os.close(follower)
    assert proc.wait(30) == 0
    os.close(leader)
    assert len(outbox(db_path, "dispatch")) == 2


def test_the_desks_note_is_scrubbed_in_the_sms_and_in_the_record(cli, db_path):
    ticket = add(cli, "Ada judi di pasar")
    cli("cases", "dispatch", ticket, "--to", "budi", "--note",
        "pelapor Bu Siti Aminah, hp 0812–3456–7001")
    [sms] = outbox(db_path, "dispatch")
    shown = cli("cases", "show", ticket).output
    for text in (sms.text, shown):
        assert "Siti" not in text and "3456" not in text and "[nomor]" in text
