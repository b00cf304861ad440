"""Sending through the modem's own storage over a real pty: AT+CMGW writes to ME, AT+CMSS
sends from there, the slot reads "STO SENT"; modems without it, or whose CMSS does not
mark the slot, send with AT+CMGS."""

from __future__ import annotations

import time
from contextlib import contextmanager

import pytest

from smsbridge.bridge import Bridge
from smsbridge.config.sections import Config
from smsbridge.modem.base import store_and_send
from smsbridge.pool.sending import Sending
from smsbridge.store import Store

CITIZEN = "+6281234567001"


def test_a_reply_is_written_to_me_sent_from_there_and_marked_sent(at_modem):
    emu, modem = at_modem()
    assert store_and_send(modem) is modem
    slots = modem.write(CITIZEN, "Laporan Anda diterima. No tiket: LP-000001")
    assert emu.stored_status("ME") == {slots[0]: 2} and emu.stored_status("SM") == {}
    assert [(m.index, m.status) for m in modem.outgoing()] == [(slots[0], 2)]
    reference = modem.send_stored(slots[0])
    assert [s.reference for s in emu.sent] == [reference]
    assert emu.stored_status("ME") == {slots[0]: 3}
    modem.delete_outgoing(slots[0])
    assert emu.stored_status("ME") == {} and modem.outgoing() == []


def test_without_me_replies_wait_on_the_sim_and_the_drain_leaves_them(at_modem, db_path):
    emu, modem = at_modem(memories=("SM",))
    slots = modem.write(CITIZEN, "balasan")
    emu.inject_text("+6281234567002", "ada judi di pasar")
    assert emu.wait_for(lambda e: len(e.stored_status()) == 2, 5)
    with Store.open(db_path) as store:
        Bridge(modem, store, Config()).drain()
        assert store.db.scalar("SELECT count(*) FROM messages") == 1
    assert emu.stored_status() == {slots[0]: 2}  # the report gone, our reply kept


def test_a_modem_without_cmgw_and_cmss_sends_with_cmgs(at_modem, db_path):
    emu, modem = at_modem(store_send=False)
    assert store_and_send(modem) is None
    with Store.open(db_path) as store:
        store.outbox.add(CITIZEN, "balasan", kind="ack", created_by="smsbridge")
        Sending(modem, store, Config(), name="modem").send_one()
    assert [s.recipient for s in emu.sent] == [CITIZEN]


def test_a_modem_whose_cmss_leaves_the_slot_unsent_falls_back_to_cmgs(at_modem, db_path):
    emu, modem = at_modem(cmss_marks_sent=False)
    with Store.open(db_path) as store:
        for i in range(3):
            store.outbox.add(f"+628123456700{i}", "balasan", kind="ack", created_by="x")
        sending = Sending(modem, store, Config(), name="modem")
        while sending.send_one().tried:
            pass
        assert store.db.scalar("SELECT count(*) FROM outbox WHERE state = 'sent'") == 3
    assert len(emu.sent) == 3  # each once: the first through storage, the rest by CMGS
    assert emu.stored_status("ME") == {}


def test_after_a_restart_the_slots_in_me_tell_what_was_sent(at_modem, db_path):
    emu, modem = at_modem()
    with Store.open(db_path) as store:
        sent_before = store.outbox.add("+6281234567001", "terkirim", kind="ack",
                                       created_by="x")
        written_only = store.outbox.add("+6281234567002", "tertulis", kind="ack",
                                        created_by="x")
        sending = Sending(modem, store, Config(), name="modem")
        # The process that died: it claimed both, wrote both, recorded the first's slot
        # and sent it, and was killed before recording the second's slot.
        for item in (sending.claim(), sending.claim()):
            slots = modem.write(item.number, item.text, reference=item.id & 0xFF)
            if item.id == sent_before.id:
                store.leases.record_slots(item.id, owner="modem", slots=slots)
                modem.send_stored(slots[0])
        leftover = modem.write("+6281234567003", "sisa", reference=7)
        assert len(emu.sent) == 1
        Sending(modem, store, Config(), name="modem").recover()
        states = dict(store.db.all("SELECT id, state FROM outbox"))
    assert states == {sent_before.id: "sent", written_only.id: "sent"}
    assert sorted(s.recipient for s in emu.sent) == ["+6281234567001", "+6281234567002"]
    assert emu.stored_status("ME") == {}  # the leftover of nobody's reply deleted too
    assert leftover


# --- a send the modem accepted is never sent again -----------------------------------


@pytest.mark.parametrize("kind", ["missing", "garbage"])
def test_an_ok_without_a_readable_reference_is_sent_reference_unknown(at_modem, kind):
    emu, modem = at_modem(store_send=False)
    emu.odd_references(1, kind)
    assert modem.send(CITIZEN, "Laporan Anda diterima") == [None]
    assert [s.recipient for s in emu.sent] == [CITIZEN]


@pytest.mark.parametrize("kind", ["missing", "garbage"])
def test_an_ok_to_cmss_without_a_readable_reference_is_sent_reference_unknown(at_modem, kind):
    emu, modem = at_modem()
    slots = modem.write(CITIZEN, "Laporan Anda diterima")
    emu.odd_references(1, kind)
    assert modem.send_stored(slots[0]) is None
    assert len(emu.sent) == 1 and emu.stored_status("ME") == {slots[0]: 3}


def _reply_to_a_case(store: Store, number: str = CITIZEN):
    from smsbridge.models import NewCase

    case = store.cases.create(NewCase(reporter=number, text="ada judi", channel="sms"),
                              operator="smsbridge")
    return case, store.outbox.add(number, "Laporan Anda diterima", kind="ack",
                                  created_by="smsbridge", case_id=case.id)


@pytest.mark.parametrize("kind", ["missing", "garbage"])
@pytest.mark.parametrize("store_send", [True, False], ids=["cmss", "cmgs"])
def test_a_reply_accepted_without_its_reference_goes_out_once_and_the_case_says_so(
        at_modem, db_path, kind, store_send):
    emu, modem = at_modem(store_send=store_send)
    with Store.open(db_path) as store:
        case, _ = _reply_to_a_case(store)
        emu.odd_references(1, kind)
        sending = Sending(modem, store, Config(), name="modem")
        while sending.send_one().tried:
            pass
        sent = store.outbox.listing(operator="x")[0]
        assert (sent.state, sent.refs, sent.attempts) == ("sent", (None,), 1)
        notes = [e.note for e in store.cases.detail(case.ticket).events
                 if e.action == "reply_sent"]
        assert len(notes) == 1 and "sent, reference unknown" in notes[0]
        Sending(modem, store, Config(), name="modem").recover()
        assert not sending.send_one().tried
    assert [s.recipient for s in emu.sent] == [CITIZEN]
    assert emu.stored_status("ME") == {}


def test_a_bare_error_to_cmss_is_settled_by_the_slot_before_anything_is_sent_again(
        at_modem, db_path):
    emu, modem = at_modem()
    with Store.open(db_path) as store:
        sending = Sending(modem, store, Config(), name="modem")
        store.outbox.add("+6281234567009", "pertama", kind="ack", created_by="x")
        sending.send_one()  # the first send learns that this modem marks "STO SENT"
        _reply_to_a_case(store)
        emu.odd_references(1, "error")  # it goes out, and the modem answers ERROR
        while sending.send_one().tried:
            pass
        assert store.outbox.listing(operator="x")[0].state == "sent"
    assert [s.recipient for s in emu.sent] == ["+6281234567009", CITIZEN]
    assert emu.stored_status("ME") == {}


def test_a_clear_refusal_of_cmss_is_tried_again(at_modem, db_path):
    emu, modem = at_modem()
    with Store.open(db_path) as store:
        sending = Sending(modem, store, Config(), name="modem")
        store.outbox.add("+6281234567009", "pertama", kind="ack", created_by="x")
        sending.send_one()
        _reply_to_a_case(store)
        emu.fail_sends(1)  # +CMS ERROR 500: a clear refusal, nothing went out
        sending.send_one()
        failed = store.outbox.listing(operator="x")[0]
        assert (failed.state, failed.attempts) == ("queued", 1)
    assert [s.recipient for s in emu.sent] == ["+6281234567009"]


@contextmanager
def after_three_replies(at_modem, db_path, **settings):
    """(emu, store, sending) once three replies went out (the stick's own send and
    prompt times learned) and a reply to CITIZEN waits, for a test to spoil its send."""
    emu, modem = at_modem(**settings)
    with Store.open(db_path) as store:
        sending = Sending(modem, store, Config(), name="modem")
        for i in range(3):
            store.outbox.add(f"+628123456701{i}", "terima kasih", kind="ack", created_by="x")
        while sending.send_one().tried:
            pass
        store.outbox.add(CITIZEN, "laporan diterima", kind="ack", created_by="x")
        yield emu, store, sending


def send_timed(sending: Sending) -> float:
    """Seconds the next send took, which must have been tried."""
    started = time.monotonic()
    assert sending.send_one().tried
    return time.monotonic() - started


def the_reply(store: Store):
    [item] = [i for i in store.outbox.listing(operator="x") if i.number == CITIZEN]
    return item


@pytest.mark.parametrize(("command", "settings", "at_most"), [
    ("AT+CMSS", {"send_delay": 0.3}, 10), ("AT+CMGW", {}, 5)])
def test_a_lost_send_command_costs_its_learned_wait_and_goes_out_once(
        at_modem, db_path, command, settings, at_most):
    """1 command in 50 gets no answer on a cheap stick. A lost AT+CMSS used to stall the
    stick for the whole send timeout (60 s), a lost AT+CMGW for the command timeout
    (10 s). Now a probe (for AT+CMGW, ESC first: a late prompt takes nothing) shows it
    lost after a few of the stick's own times; the slot, still unsent, is sent once, and
    no slot is written twice."""
    with after_three_replies(at_modem, db_path, **settings) as (emu, store, sending):
        emu.drop_next(command)
        took = send_timed(sending)
        item = the_reply(store)
    assert item.state == "sent" and item.attempts == 1
    assert took < at_most, f"a lost {command} stalled the stick for {took:.1f} s"
    assert [s.recipient for s in emu.sent].count(CITIZEN) == 1
    assert emu.stored_status("ME") == {}


def test_a_cmss_whose_answer_was_lost_after_it_went_out_is_not_sent_again(at_modem,
                                                                           db_path):
    """The send went out and only its answer was lost (junk on the line): the probe
    answers first, the slot reads "STO SENT", and nothing is sent a second time."""
    with after_three_replies(at_modem, db_path, send_delay=0.3) as (emu, store, sending):
        emu.odd_references(1, "silent")  # it goes out; no line of its answer arrives
        send_timed(sending)
        item = the_reply(store)
    assert item.state == "sent"
    assert [s.recipient for s in emu.sent].count(CITIZEN) == 1
