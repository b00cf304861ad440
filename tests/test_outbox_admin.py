"""``smsbridge outbox …``: operators list, cancel and re-send the line's SMS; the daemon's
side is the real Bridge over the in-memory modem, on the same SQLite file."""

from __future__ import annotations

import json
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from rigs import run_smsbridge

from smsbridge.clock import ManualClock
from smsbridge.config.sections import Config
from smsbridge.modem.fake import FakeModem
from smsbridge.pool.sending import Sending
from smsbridge.store import Store

NUMBER = "+6281234567110"
MASKED = "+62 812 ••••• 10"
SPOOFED = "+628123456789012345678"  # 21 digits: no SMS can go there


class Daemon:
    """The daemon's sending side on the same file: a clock a day ahead, so whatever the
    CLI queued "now" is due."""

    def __init__(self, db_path: Path, max_attempts: int = 6):
        self.modem = FakeModem()
        self.clock = ManualClock(datetime.now(UTC) + timedelta(days=1))
        self.store = Store.open(db_path, clock=self.clock)
        config = Config().replace(outbox={"max_attempts": max_attempts})
        self.sending = Sending(self.modem, self.store, config, name="modem",
                               clock=self.clock)

    def send_all(self) -> int:
        tried = 0
        while self.sending.send_one().tried:
            tried += 1
        return tried

    def close(self) -> None:
        self.store.close()


@pytest.fixture
def case_with_reply(cli) -> None:
    cli("cases", "add", "--reporter", "081234567110", "Ada judi di pasar")
    cli("cases", "reply", "LP-000001", "Petugas menuju lokasi")


def history(cli, ticket: str = "1") -> list[dict]:
    return json.loads(cli("cases", "show", ticket, "--json").output)["history"]


def test_a_cancelled_reply_is_never_sent_and_the_history_says_who(cli, case_with_reply,
                                                                  db_path):
    out = cli("outbox", "cancel", "1", "--as", "budi").output
    assert out.strip() == "SMS #1 (LP-000001) cancelled: it will not be sent"
    daemon = Daemon(db_path)
    try:
        assert daemon.send_all() == 0
        assert daemon.modem.sent == []
    finally:
        daemon.close()
    last = history(cli)[-1]
    assert (last["action"], last["operator"]) == ("reply_cancelled", "budi")
    assert last["login"]  # the OS account, beside the name given
    [item] = json.loads(cli("outbox", "list", "--json").output)
    assert item["state"] == "cancelled"


def test_a_given_up_reply_is_sent_again_with_its_attempts_starting_over(cli, case_with_reply,
                                                                        db_path):
    daemon = Daemon(db_path, max_attempts=1)
    try:
        daemon.modem.fail_sends(1)
        daemon.send_all()
        [given_up] = json.loads(cli("outbox", "list", "--status", "gave-up", "--json").output)
        assert (given_up["id"], given_up["attempts"]) == (1, 1)
        assert "CMS ERROR 500" in given_up["last_error"]

        assert cli("outbox", "retry", "1").output.strip() == (
            "SMS #1 (LP-000001) queued again; the daemon will send it")
        [queued] = json.loads(cli("outbox", "list", "--status", "queued", "--json").output)
        assert (queued["attempts"], queued["last_error"]) == (0, None)

        assert daemon.send_all() == 1
        assert [(s.recipient, s.text) for s in daemon.modem.sent] == [
            (NUMBER, "Petugas menuju lokasi")]
    finally:
        daemon.close()
    actions = [(e["action"], e["operator"]) for e in history(cli)]
    assert ("reply_requeued", "sari") in actions
    requeued = next(e for e in history(cli) if e["action"] == "reply_requeued")
    assert "was gave_up after 1 attempt(s)" in requeued["note"]
    assert "CMS ERROR 500" in requeued["note"]


def test_retry_refuses_a_number_that_cannot_receive_sms_in_one_line(cli, db_path):
    cli("cases", "add", "--reporter", "081234567110", "laporan")
    with Store.open(db_path) as store:
        item = store.outbox.add(SPOOFED, "Laporan diterima", kind="ack", case_id=1,
                                created_by="smsbridge")
        store.outbox.gave_up(item.id, "the number cannot receive SMS", attempts=1)
    result = cli("outbox", "retry", str(item.id), ok=False)
    assert result.exit_code == 1
    assert len(result.output.strip().splitlines()) == 1
    assert "cannot receive SMS" in result.output and SPOOFED[3:] not in result.output
    [listed] = json.loads(cli("outbox", "list", "--json").output)
    assert listed["state"] == "gave_up"


@pytest.mark.parametrize(("args", "message"), [
    (("outbox", "cancel", "9"), "no SMS #9 in the outbox"),
    (("outbox", "retry", "1"), "SMS #1 is queued; only a failed, given-up or cancelled"),
    (("outbox", "list", "--status", "lost"), "unknown outbox state 'lost'"),
    (("outbox", "cancel", "0"), "0"),
])
def test_refusals_are_one_line_and_change_nothing(cli, case_with_reply, args, message):
    result = cli(*args, ok=False)
    assert result.exit_code in (1, 2)
    assert message in result.output and "Traceback" not in result.output
    assert json.loads(cli("outbox", "list", "--json").output)[0]["state"] == "queued"


def test_a_sent_sms_cannot_be_cancelled(cli, case_with_reply, db_path):
    daemon = Daemon(db_path)
    try:
        daemon.send_all()
    finally:
        daemon.close()
    result = cli("outbox", "cancel", "1", ok=False)
    assert result.output.strip() == "Error: SMS #1 is sent; only a queued SMS can be cancelled"


def test_a_cancel_that_comes_while_the_daemon_sends_leaves_the_truth(case_with_reply, cli,
                                                                     db_path):
    daemon = Daemon(db_path)
    try:
        [item] = daemon.store.outbox.listing(states=("queued",), operator="sari")
        cli("outbox", "cancel", str(item.id))  # the daemon is between picking and sending
        daemon.store.outbox.sent(item.id, [3], at="2030-01-01T00:00:00+00:00")
    finally:
        daemon.close()
    assert json.loads(cli("outbox", "list", "--json").output)[0]["state"] == "sent"
    assert history(cli)[-1]["action"] == "reply_sent"


def test_list_masks_numbers_and_reveal_is_recorded_on_the_case_and_in_the_audit(
        cli, case_with_reply):
    table = cli("outbox", "list").output
    assert MASKED in table and NUMBER not in table
    assert table.splitlines()[1].split()[:2] == ["#1", "queued"]
    revealed = cli("outbox", "list", "--reveal", "--as", "budi").output
    assert NUMBER in revealed
    last = history(cli)[-1]
    assert (last["action"], last["operator"]) == ("reveal", "budi")
    [entry] = json.loads(cli("audit", "--json").output)
    assert (entry["action"], entry["operator"]) == ("reveal", "budi")
    assert entry["detail"] == "outbox list: 1 SMS: #1"


def test_cancelling_an_sms_of_no_case_is_kept_in_the_audit_log(cli, db_path):
    cli("cases", "add", "--reporter", "081234567110", "laporan")
    with Store.open(db_path) as store:
        item = store.outbox.add(NUMBER, "Tiket tidak ditemukan", kind="status",
                                created_by="smsbridge")
    cli("outbox", "cancel", str(item.id))
    [entry] = json.loads(cli("audit", "--json").output)
    assert entry["action"] == "reply_cancelled" and MASKED in entry["detail"]
    assert NUMBER not in entry["detail"]


def test_outbox_commands_work_as_processes(cli_env, case_with_reply):
    def run(*args: str) -> subprocess.CompletedProcess:
        return run_smsbridge(*args, env=cli_env, timeout=60)

    assert run("outbox", "cancel", "1").returncode == 0
    assert run("outbox", "retry", "1").returncode == 0
    listed = run("outbox", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    assert json.loads(listed.stdout)[0]["state"] == "queued"
