"""One step of the job at a time: emulator over a real pty -> AtModem -> Bridge -> SQLite.

The clock is injected (into the bridge and the store alike), so windows and timeouts
are tested without waiting; everything else is real.
"""

from __future__ import annotations

import pytest
from rigs import BridgeRig

from smsbridge.clock import ManualClock
from smsbridge.config.sections import ModemConfig
from smsbridge.modem.atmodem import AtModem
from smsbridge.modem.factory import make_modem
from smsbridge.sms import pdu
from smsbridge.store import Store

REPORTER = "+6281234567001"


@pytest.fixture
def clock():
    return ManualClock()


@pytest.fixture
def store(db_path, clock):
    s = Store.open(db_path, clock=clock)
    yield s
    s.close()


@pytest.fixture
def backend(request):
    """The modem backend under the bridge: "at" unless a test asks for both."""
    return getattr(request, "param", "at")


# The same emulator over the same pty, driven by our AT driver or by libgammu's (whose
# AT Init takes seconds: the full suite's tier).
both_backends = pytest.mark.parametrize(
    "backend", ["at", pytest.param("gammu", marks=pytest.mark.slow)], indirect=True)


@pytest.fixture
def rig(emulator, store, backend, clock):
    """rigs.BridgeRig over the emulator; ``rig.step()`` drains and sends everything due."""
    if backend == "gammu":
        modem = make_modem(ModemConfig(backend="gammu", port=emulator.port,
                                       gammu_connection="at", command_timeout=5))
    else:
        modem = AtModem(emulator.port, command_timeout=5)
    modem.open()
    yield BridgeRig(store, clock, modem=modem, emu=emulator)
    modem.close()


@both_backends
def test_report_becomes_a_case_and_the_reporter_gets_its_ticket(rig):
    rig.emu.inject_text(REPORTER, "Ada judi di belakang pasar")
    rig.step(expect_messages=1)
    [case] = rig.cases()
    assert case.reporter == REPORTER and case.text == "Ada judi di belakang pasar"
    assert rig.replies_to(REPORTER) == [rig.bridge.templates.render_ack(case.ticket)]


class Crash(BaseException):
    """Stands for the process dying: nothing after it runs."""


def test_message_listed_again_after_a_crash_is_not_stored_twice(rig):
    rig.emu.inject_text(REPORTER, "Balap liar di Jl. Sudirman")
    assert rig.emu.wait_for(lambda e: e.storage_used == 1, 5)
    real_delete = rig.modem.delete

    def crash_instead_of_deleting(index: int) -> None:
        raise Crash()

    # The process dies between the commit and the delete: the case is stored, the
    # message is still on the SIM, and the next run lists it again.
    rig.modem.delete = crash_instead_of_deleting
    with pytest.raises(Crash):
        rig.bridge.drain()
    rig.modem.delete = real_delete
    result = rig.bridge.drain()
    assert result.already_stored == 1 and result.stored == 0 and result.deleted == 1
    assert len(rig.cases()) == 1 and rig.emu.storage_used == 0


def test_crash_before_the_commit_leaves_the_message_on_the_sim_for_the_next_run(rig):
    rig.emu.inject_text(REPORTER, "Ada judi di gang sempit")
    assert rig.emu.wait_for(lambda e: e.storage_used == 1, 5)
    real_create = rig.store.cases.create

    def crash_in_the_transaction(*args, **kwargs):
        raise Crash()

    rig.store.cases.create = crash_in_the_transaction
    with pytest.raises(Crash):
        rig.bridge.drain()
    rig.store.cases.create = real_create
    assert rig.emu.storage_used == 1 and rig.cases() == []  # rolled back, not deleted
    rig.step()
    assert len(rig.cases()) == 1 and len(rig.replies_to(REPORTER)) == 1


@both_backends
def test_long_report_in_parts_makes_one_case_whatever_the_order(rig):
    text = "Ada sekelompok pemuda mabuk di pos ronda Gang Melati. " * 6
    parts = pdu.encode_deliver(REPORTER, text, reference=77)
    assert len(parts) >= 2
    for raw in reversed(parts):
        rig.emu.inject_pdu(raw)
    rig.step(expect_messages=len(parts))
    [case] = rig.cases()
    assert case.text == text and not case.incomplete and case.messages == len(parts)
    assert len(rig.replies_to(REPORTER)) == 1


def test_parts_wait_across_drains_and_expire_into_an_incomplete_case(rig):
    text = "Perkelahian antar geng di depan Kafe Senja, banyak yang membawa senjata tajam. " * 3
    parts = pdu.encode_deliver(REPORTER, text, reference=5)
    rig.emu.inject_pdu(parts[0])
    rig.step(expect_messages=1)
    assert rig.cases() == [] and rig.emu.storage_used == 0
    assert rig.bridge.expire_parts() == []
    rig.clock.advance(minutes=31)
    [ticket] = rig.bridge.expire_parts()
    [case] = rig.cases()
    assert case.ticket == ticket and case.incomplete and case.text.startswith("Perkelahian")
    assert "[…]" in case.text


@both_backends
def test_follow_up_within_the_window_joins_the_open_case_without_a_second_reply(rig):
    rig.emu.inject_text(REPORTER, "Ada judi sabung ayam di RT 03")
    rig.step(expect_messages=1)
    rig.clock.advance(minutes=5)
    rig.emu.inject_text("081234567001", "Pelakunya sekitar 10 orang")  # same phone, national form
    rig.step(expect_messages=1)
    [case] = rig.cases()
    assert "Pelakunya sekitar 10 orang" in case.text and case.messages == 2
    assert len(rig.replies_to(REPORTER)) == 1
    rig.clock.advance(minutes=11)
    rig.emu.inject_text(REPORTER, "Sekarang ada balap liar di Jl. Sudirman")
    rig.step(expect_messages=1)
    assert len(rig.cases()) == 2 and len(rig.replies_to(REPORTER)) == 2


@both_backends
def test_cek_answers_the_status_only_to_the_number_that_reported(rig):
    rig.emu.inject_text(REPORTER, "Knalpot brong tiap malam")
    rig.step(expect_messages=1)
    [case] = rig.cases()
    rig.store.cases.update(case.ticket, operator="budi", status="checking")
    rig.clock.advance(minutes=20)
    rig.emu.inject_text(REPORTER, f"cek {case.ticket.lower()}")
    rig.emu.inject_text("+6289999999999", f"CEK {case.ticket}")
    rig.step(expect_messages=2)
    assert rig.replies_to(REPORTER)[-1] == rig.bridge.templates.render_status(case.ticket,
                                                                              "checking")
    assert rig.replies_to("+6289999999999") == [
        rig.bridge.templates.render_unknown(case.ticket)]
    assert len(rig.cases()) == 1  # a query is not a report


def test_services_and_blocklisted_numbers_get_no_case_and_no_reply(rig):
    rig.configure(abuse={"blocklist": ["081111111111"]})
    rig.emu.inject_text("TELKOMSEL", "Sisa pulsa Anda Rp2.500")
    rig.emu.inject_text("3636", "Promo kuota")
    rig.emu.inject_text("+6281111111111", "laporan palsu lagi")
    rig.step(expect_messages=3)
    assert rig.cases() == [] and rig.emu.sent == [] and rig.emu.storage_used == 0


def test_reply_limit_and_loop_detection_stop_automatic_replies_but_keep_reports(rig):
    rig.configure(daemon={"followup_minutes": 0.0})  # every SMS a new case
    for i in range(8):
        rig.clock.advance(minutes=1)
        rig.emu.inject_text(REPORTER, f"laporan nomor {i}")
        rig.step(expect_messages=1)
    assert len(rig.cases()) == 8
    assert len(rig.replies_to(REPORTER)) == 5
    other = "+6285700000001"
    for _ in range(5):
        # An auto-responder answering our replies: the same text, seconds or minutes apart
        # (a different network timestamp each time, so each is a distinct SMS).
        rig.emu.inject_text(other, "AUTO REPLY: saya sedang sibuk", timestamp=rig.clock.now())
        rig.step(expect_messages=1)
        rig.clock.advance(minutes=1)
    looped = [c for c in rig.cases() if c.reporter == other]
    assert len(looped) == 5 and "loop" in looped[0].flags
    assert len(rig.replies_to(other)) == 3


def test_undecodable_pdu_is_kept_raw_shown_as_a_case_and_removed_from_the_sim(rig):
    rig.emu.inject_pdu("07912618485400F9040B916128")  # truncated after the sender
    rig.step(expect_messages=1)
    [case] = rig.cases()
    assert "undecodable" in case.flags and case.reporter == "unknown"
    detail = rig.store.cases.detail(case.ticket)
    assert detail.messages[0].kind == "undecodable" and detail.messages[0].error
    assert rig.emu.storage_used == 0 and rig.emu.sent == []


def test_failed_send_is_retried_with_backoff_then_given_up_and_recorded(rig):
    rig.configure(outbox={"max_attempts": 3, "retry_base_seconds": 60.0})
    rig.emu.fail_sends(10)
    rig.emu.inject_text(REPORTER, "Ada tawuran")
    rig.step(expect_messages=1)
    [item] = rig.store.cases.detail(rig.cases()[0].ticket).outbox
    assert item.state == "queued" and item.attempts == 1 and "500" in item.last_error
    rig.step()  # not due yet: nothing is tried
    assert rig.store.cases.detail(rig.cases()[0].ticket).outbox[0].attempts == 1
    rig.clock.advance(seconds=61)
    rig.step()
    rig.clock.advance(seconds=121)
    rig.step()
    detail = rig.store.cases.detail(rig.cases()[0].ticket)
    assert detail.outbox[0].state == "gave_up" and detail.outbox[0].attempts == 3
    assert any(e.action == "reply_failed" for e in detail.events)


def test_send_failure_then_success_delivers_and_status_report_marks_it(rig):
    rig.configure(outbox={"retry_base_seconds": 1.0})
    rig.emu.fail_sends(1)
    rig.emu.inject_text(REPORTER, "Ada orang mabuk")
    rig.step(expect_messages=1)
    rig.clock.advance(seconds=2)
    rig.step()
    assert len(rig.replies_to(REPORTER)) == 1
    rig.step(expect_messages=1)  # the network's status report for our reply
    [item] = rig.store.cases.detail(rig.cases()[0].ticket).outbox
    assert item.state == "delivered" and item.delivered_at


def test_operator_reply_goes_out_through_the_same_outbox(rig):
    rig.emu.inject_text(REPORTER, "Ada judi online di warnet")
    rig.step(expect_messages=1)
    ticket = rig.cases()[0].ticket
    rig.store.outbox.add_reply(ticket, "Petugas sedang menuju lokasi. Terima kasih.",
                               operator="budi")
    rig.step()
    assert rig.replies_to(REPORTER)[-1] == "Petugas sedang menuju lokasi. Terima kasih."


@both_backends
def test_long_unicode_reply_goes_out_in_parts_that_phones_join(rig):
    rig.emu.inject_text(REPORTER, "Ada kebakaran")
    rig.step(expect_messages=1)
    text = "Terima kasih 🙏 petugas sudah di lokasi. " * 5
    rig.store.outbox.add_reply(rig.cases()[0].ticket, text, operator="budi")
    rig.step()
    parts = [s for s in rig.emu.sent if s.concat is not None]
    assert len(parts) >= 2 and "".join(p.text for p in parts) == text.strip()


def test_every_attempt_of_a_long_reply_uses_the_same_concatenation_reference(rig):
    rig.configure(outbox={"retry_base_seconds": 1.0})
    rig.emu.inject_text(REPORTER, "Ada kebakaran lahan")
    rig.step(expect_messages=1)
    item = rig.store.outbox.add_reply(rig.cases()[0].ticket,
                                      "Petugas pemadam menuju lokasi. " * 8, operator="budi")
    rig.emu.fail_sends(1)
    rig.step()
    rig.clock.advance(seconds=2)
    rig.step()
    parts = [s for s in rig.emu.sent if s.concat is not None]
    assert len(parts) >= 2
    assert {p.concat.reference for p in parts} == {item.id & 0xFF}


def test_messages_that_made_no_case_are_listed_for_the_administrator(rig, tmp_path, db_path):
    from click.testing import CliRunner
    from conftest import write_config

    from smsbridge.cli import main

    rig.emu.inject_text("TELKOMSEL", "Sisa pulsa Anda Rp2.500. Isi ulang \x1b[2J sekarang")
    rig.emu.inject_text(REPORTER, "Ada judi di pasar")
    rig.step(expect_messages=2)
    config = write_config(tmp_path, db_path)
    result = CliRunner().invoke(main, ["--config", str(config), "messages"])
    assert result.exit_code == 0, result.output
    assert "TELKOMSEL" in result.output and "Sisa pulsa" in result.output
    assert "\x1b" not in result.output  # an SMS cannot drive the operator's terminal
    assert "Ada judi" not in result.output  # that one is a case
    everything = CliRunner().invoke(main, ["--config", str(config), "messages", "--all"])
    assert "Ada judi" in everything.output and "+62 812 ••••• 01" in everything.output
    assert REPORTER not in everything.output
