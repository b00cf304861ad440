"""Every look at a reporter's identity is recorded, with the OS login beside the
name given; through the CLI on real SQLite files, and as processes."""

from __future__ import annotations

import json
import os
import pwd
import subprocess

import pytest
from rigs import run_smsbridge

from smsbridge.store import Database, Store

NUMBER = "+6281234567110"
MASKED = "+62 812 ••••• 10"
ACCOUNT = pwd.getpwuid(os.getuid()).pw_name


def audit(cli) -> list[dict]:
    return json.loads(cli("audit", "--json").output)


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return run_smsbridge(*args, env=env, timeout=60)


def test_looking_up_a_number_is_recorded_masked_even_when_nothing_matched(cli):
    cli("cases", "add", "--reporter", "081234567110", "Ada judi")
    cli("cases", "list", "--reporter", "085700001111")
    cli("cases", "list", "--reporter", "081234567110", "--json", "--as", "budi")
    newest, oldest = audit(cli)
    assert oldest["detail"] == "cases list --reporter +62 857 ••••• 11: no case"
    assert (oldest["operator"], oldest["action"]) == ("sari", "lookup")
    assert newest["detail"] == f"cases list --reporter {MASKED}: 1 case: LP-000001"
    assert newest["operator"] == "budi" and newest["login"].startswith(ACCOUNT)
    assert "4567110" not in json.dumps([newest, oldest], ensure_ascii=False)


def test_a_plain_list_or_search_is_not_a_lookup(cli):
    cli("cases", "add", "--reporter", "081234567110", "Ada judi")
    cli("cases", "list")
    cli("cases", "list", "--search", "judi")
    assert audit(cli) == []


def test_messages_by_a_persons_number_are_recorded_and_by_a_service_name_not(cli, db_path):
    cli("cases", "add", "--reporter", "081234567110", "x")  # the database exists
    with Store.open(db_path) as store:
        store.inbox.add(pdu_hash="h1", pdu="00", kind="deliver", sender="TELKOMSEL",
                        received_at="2024-05-01T10:00:00+00:00", text="Sisa pulsa 5000")
    cli("messages", "--sender", "TELKOMSEL")
    assert audit(cli) == []
    cli("messages", "--all", "--sender", "081234567110")
    [entry] = audit(cli)
    assert entry["action"] == "lookup"
    assert entry["detail"] == f"messages --sender {MASKED}: no message"


def test_reveals_stay_in_the_case_history_and_are_in_the_audit_with_the_login(cli):
    cli("cases", "add", "--reporter", "081234567110", "Ada judi")
    cli("cases", "show", "1", "--reveal", "--as", "budi")
    cli("cases", "list", "--reveal")
    history = json.loads(cli("cases", "show", "1", "--json").output)["history"]
    reveals = [(e["operator"], e["note"]) for e in history if e["action"] == "reveal"]
    assert reveals == [("budi", "number revealed"), ("sari", "number revealed")]
    assert all(e["login"].startswith(ACCOUNT) for e in history)
    assert [(e["action"], e["detail"]) for e in audit(cli)] == [
        ("reveal", "cases list: 1 case: LP-000001"), ("reveal", "cases show: LP-000001")]


@pytest.mark.parametrize("name", ["", "   ", "\t"])
def test_an_empty_as_is_refused_in_one_line_and_nothing_changes(cli, db_path, name):
    cli("cases", "add", "--reporter", "081234567110", "Ada judi")
    for args in (("cases", "update", "1", "--status", "checking", "--as", name),
                 ("cases", "list", "--reporter", "081234567110", "--as", name),
                 ("outbox", "list", "--as", name)):
        result = cli(*args, ok=False)
        assert result.exit_code == 1
        assert result.output.strip().splitlines() == [
            "Error: --as needs a name; leave it out to be recorded by your login name"]
    with Store.open(db_path) as store:
        assert store.cases.get("1").status == "new"
    assert audit(cli) == []


def test_a_name_that_could_hide_in_the_history_is_refused(cli):
    cli("cases", "add", "--reporter", "081234567110", "Ada judi")
    result = cli("cases", "update", "1", "--note", "x", "--as", "budi\x1b[2K", ok=False)
    assert result.exit_code == 1 and "control or invisible" in result.output


@pytest.mark.slow  # several processes
def test_the_login_is_the_os_account_whatever_the_environment_says(cli_env, tmp_path):
    env = {**cli_env, "USER": "mallory", "LOGNAME": "mallory", "SMSBRIDGE_OPERATOR": "budi"}
    assert run(env, "cases", "add", "--reporter", "081234567110", "laporan").returncode == 0
    assert run(env, "cases", "list", "--reporter", "081234567110", "--as", "sari"
               ).returncode == 0
    listed = run(env, "audit", "--json")
    assert listed.returncode == 0, listed.stderr
    [entry] = json.loads(listed.stdout)
    assert entry["operator"] == "sari"
    assert entry["login"].startswith(ACCOUNT) and "mallory" not in entry["login"]
    shown = json.loads(run(env, "cases", "show", "1", "--json").stdout)
    assert shown["history"][0]["operator"] == "budi"
    assert shown["history"][0]["login"].startswith(ACCOUNT)
    text = run(env, "audit").stdout
    assert f"(as sari)  lookup  cases list --reporter {MASKED}" in text


def test_history_shows_the_login_beside_a_different_name(cli):
    cli("cases", "add", "--reporter", "081234567110", "Ada judi", "--as", "budi")
    shown = cli("cases", "show", "1").output
    assert f"budi (login {ACCOUNT}" in shown


def test_every_event_and_audit_line_carries_the_stores_login(db_path):
    from smsbridge.models import CaseQuery, NewCase

    with Store(Database.open(db_path), login="ops1") as store:
        case = store.cases.create(NewCase(NUMBER, "x"), operator="budi")
        store.cases.update(case.ticket, operator="budi", status="checking")
        store.cases.lookup(CaseQuery(reporter=NUMBER), operator="budi")
        events = store.cases.detail(case.ticket).events
        assert {(e.operator, e.login) for e in events} == {("budi", "ops1")}
        [entry] = store.audit.entries()
        assert (entry.login, entry.operator) == ("ops1", "budi")


def test_audit_window_and_limit(cli):
    cli("cases", "add", "--reporter", "081234567110", "Ada judi")
    for _ in range(3):
        cli("cases", "list", "--reporter", "081234567110")
    assert len(audit(cli)) == 3
    assert len(json.loads(cli("audit", "--json", "--limit", "2").output)) == 2
    assert json.loads(cli("audit", "--json", "--since", "2999-01-01").output) == []
    assert "(no entries)" in cli("audit", "--until", "2000-01-01").output
