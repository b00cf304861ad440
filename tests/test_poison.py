"""No single SMS, reply or operator slip stops the line.

Each way in that once made the daemon exit on every start is replayed through the
real daemon on the emulator's pty: a bad item is set aside with its reason, and the
next citizen still gets their ticket.
"""

from __future__ import annotations

import dataclasses
import sqlite3
import threading

import pytest
from rigs import number, query, run_smsbridge, wait_until

from smsbridge.config import load as config_mod
from smsbridge.daemon import Daemon
from smsbridge.emulator import Emulator
from smsbridge.modem.factory import make_modem
from smsbridge.sdnotify import Notifier
from smsbridge.sms import pdu
from smsbridge.store import Store

pytestmark = pytest.mark.slow

# 20 digits in national form: +62 makes it 21, one more than an SMS address can hold.
LONG_SENDER = "08123456789012345678"


@pytest.fixture
def daemon(daemon_process):
    """The daemon (not started) on ``emulator``."""
    return daemon_process()


def acked(emulator: Emulator, reporter: str) -> bool:
    return any(s.recipient == reporter for s in emulator.sent)


def test_report_from_a_21_digit_sender_is_kept_and_the_line_goes_on(daemon, emulator):
    emulator.inject_text(LONG_SENDER, "ada judi di pasar")
    daemon.start()
    wait_until(lambda: query(daemon.db, "SELECT id FROM cases"), 30, "the case")
    emulator.inject_text(number(1), "laporan berikutnya")
    wait_until(lambda: acked(emulator, number(1)), 30, "the next reporter's ticket")
    assert daemon.proc.poll() is None
    [(reporter, case_id)] = query(daemon.db, "SELECT clear(reporter_sealed), id FROM cases"
                                  " WHERE reporter != token(?)", (number(1),))
    assert reporter.endswith(LONG_SENDER[1:])  # kept exactly as it came, for dedupe
    assert not query(daemon.db, "SELECT id FROM outbox WHERE case_id = ?", (case_id,))
    notes = [r[0] for r in query(daemon.db, "SELECT note FROM case_events WHERE case_id = ?",
                                 (case_id,))]
    assert any("cannot receive SMS" in (n or "") for n in notes)
    assert daemon.terminate() == 0


def test_part_from_an_alphanumeric_sender_stays_a_service_message_after_the_timeout(
        daemon, emulator):
    first, _second = pdu.encode_deliver(" 12345678", "promo " * 40, reference=7)
    emulator.inject_pdu(first)
    daemon.start()
    wait_until(lambda: query(daemon.db, "SELECT id FROM messages"), 30, "the part stored")
    assert daemon.terminate() == 0
    # The part timeout passes (backdated rather than waited for).
    conn = sqlite3.connect(daemon.db)
    with conn:
        conn.execute("UPDATE messages SET received_at = '2000-01-01T00:00:00+00:00'")
    conn.close()
    daemon.start()
    emulator.inject_text(number(2), "laporan setelahnya")
    wait_until(lambda: acked(emulator, number(2)), 30, "the next reporter's ticket")
    assert query(daemon.db, "SELECT clear(reporter_sealed) FROM cases") == [(number(2),)]
    assert query(daemon.db, "SELECT handled_at IS NOT NULL FROM messages WHERE sender = token(?)",
                 (" 12345678",)) == [(1,)]
    assert [s.recipient for s in emulator.sent] == [number(2)]
    assert daemon.terminate() == 0


def test_operator_cannot_enter_an_impossible_number_and_a_queued_one_is_set_aside(
        daemon, emulator):
    env = {**daemon.env, "SMSBRIDGE_OPERATOR": "sari"}
    refused = run_smsbridge("--config", str(daemon.config), "cases", "add", "--reporter",
                            "081234567890123456789", "laporan via telepon", timeout=30, env=env)
    assert refused.returncode == 1
    assert refused.stderr.count("\n") == 1 and "not a phone number" in refused.stderr
    assert "Traceback" not in refused.stderr
    # A reply to such a number already in a database (entered before numbers were
    # checked) must not stop the daemon either.
    with Store.open(daemon.db) as store:
        count = store.cases.import_many([pdu_case("+62812345678901234567890")],
                                        operator="sari")
        store.outbox.add("+62812345678901234567890", "Petugas menuju lokasi", kind="operator",
                         created_by="sari", case_id=1)
    assert count == 1
    daemon.start()
    emulator.inject_text(number(3), "laporan berikutnya")
    wait_until(lambda: acked(emulator, number(3)), 30, "the next reporter's ticket")
    [(state, error)] = query(daemon.db, "SELECT state, last_error FROM outbox WHERE case_id = 1")
    assert state == "gave_up" and "cannot receive SMS" in error
    notes = [r[0] for r in query(daemon.db, "SELECT note FROM case_events WHERE case_id = 1"
                                 " AND action = 'reply_failed'")]
    assert notes and "cannot receive SMS" in notes[0]
    out = run_smsbridge("--config", str(daemon.config), "status", timeout=30)
    assert "set aside: 1 item since the start" in out.stdout
    assert daemon.terminate() == 0


def pdu_case(reporter: str):
    from smsbridge.models import NewCase

    return NewCase(reporter=reporter, text="laporan lama", channel="phone")


class FaultyModem:
    """The real AtModem over the pty, with one fault injected per kind of item: the
    report from ``bad_sender`` fails to decode with an error nobody expects, and the
    reply to ``bad_recipient`` fails to send the same way."""

    def __init__(self, inner, *, bad_sender: str, bad_recipient: str):
        self._inner = inner
        self.bad_sender = bad_sender
        self.bad_recipient = bad_recipient

    def __getattr__(self, name):
        return getattr(self._inner, name)

    def list_stored(self):
        listed = self._inner.list_stored()
        return [dataclasses.replace(m, pdu=_Poison(m.pdu)) if self._is_bad(m) else m
                for m in listed]

    def _is_bad(self, message) -> bool:
        try:
            decoded = pdu.decode(message.pdu)
        except Exception:
            return False
        return getattr(decoded, "sender", None) == self.bad_sender

    def send(self, number, text, **kwargs):
        if number == self.bad_recipient:
            raise RuntimeError("injected fault while sending")
        return self._inner.send(number, text, **kwargs)

    def write(self, number, text, **kwargs):  # sending through storage (AT+CMGW)
        if number == self.bad_recipient:
            raise RuntimeError("injected fault while sending")
        return self._inner.write(number, text, **kwargs)


class _Poison(bytes):
    """A PDU whose decoding raises what no code path expects."""

    def __bytes__(self) -> bytes:
        raise RuntimeError("injected fault while decoding")


def test_unexpected_errors_set_one_item_aside_and_later_reports_are_answered(tmp_path,
                                                                             emulator):
    path = tmp_path / "config.toml"
    path.write_text(
        f'[modem]\nport = "{emulator.port}"\ncommand_timeout = 3.0\n'
        f'[database]\npath = "{tmp_path / "cases.db"}"\n'
        '[daemon]\npoll_seconds = 1.0\n', encoding="utf-8")
    cfg = config_mod.load(str(path))
    daemon = Daemon(cfg, notifier=Notifier(), modem_factory=lambda mc, **kw: FaultyModem(
        make_modem(mc, **kw), bad_sender=number(10), bad_recipient=number(11)))
    runner = threading.Thread(target=daemon.run, daemon=True)
    emulator.inject_text(number(10), "laporan yang gagal dibaca")
    emulator.inject_text(number(11), "laporan yang balasannya gagal")
    runner.start()
    try:
        for i in (12, 13):
            emulator.inject_text(number(i), f"laporan {i}")
        wait_until(lambda: acked(emulator, number(12)) and acked(emulator, number(13)), 30,
                   "the later reporters' tickets")
        wait_until(lambda: emulator.storage_used == 0, 30, "an empty SIM")
        assert runner.is_alive()
    finally:
        daemon.stop()
        runner.join(30)
    db = tmp_path / "cases.db"
    reporters = {r[0] for r in query(db, "SELECT clear(reporter_sealed) FROM cases")}
    assert reporters == {number(11), number(12), number(13)}
    [(kind, error)] = query(db, "SELECT kind, error FROM messages WHERE case_id IS NULL"
                                " AND kind != 'status_report'")
    assert kind == "undecodable" and "set aside: RuntimeError: injected fault" in error
    [(state, last_error)] = query(db, "SELECT state, last_error FROM outbox"
                                      " WHERE number = token(?)", (number(11),))
    assert state == "gave_up" and "RuntimeError" in last_error
    state_rows = dict(query(db, "SELECT key, value FROM daemon_state"))
    assert int(state_rows["set_aside_count"]) == 2
    assert not acked(emulator, number(10)) and not acked(emulator, number(11))

