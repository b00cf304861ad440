"""Replies across the pool and across crashes, in milliseconds: FakeModems, a real SQLite
file, a held clock. Claims and leases, sending through the modem's storage (AT+CMGW,
AT+CMSS) and what a restart makes of the slots a killed process left behind."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from smsbridge.bridge import Bridge
from smsbridge.clock import ManualClock
from smsbridge.config.sections import Config
from smsbridge.modem.fake import FakeModem
from smsbridge.pool.sending import Sending
from smsbridge.store import Store

START = datetime(2026, 12, 1, 20, 0, tzinfo=UTC)
CITIZEN = "+6281234567001"


class Killed(BaseException):
    """The process dies here (kill -9): nothing after it runs."""


@pytest.fixture
def clock():
    return ManualClock(START)


@pytest.fixture
def store(db_path, clock):
    s = Store.open(db_path, clock=clock)
    yield s
    s.close()


def sender(store, clock, name="a", **modem) -> tuple[Sending, FakeModem]:
    fake = FakeModem(**modem)
    return Sending(fake, store, Config(), name=name, clock=clock), fake


def queue(store, text="Laporan Anda diterima. No tiket: LP-000001", number=CITIZEN,
          prefer=None) -> int:
    return store.outbox.add(number, text, kind="ack", created_by="smsbridge",
                            prefer_modem=prefer).id


def row(store, item_id):
    return store.db.one("SELECT * FROM outbox WHERE id = ?", (item_id,))


def test_a_claim_is_one_modems_until_its_lease_runs_out(store, clock):
    a, _ = sender(store, clock, "a")
    b, _ = sender(store, clock, "b")
    item_id = queue(store)
    assert a.claim([item_id]).id == item_id
    assert b.claim([item_id]) is None  # leased to a
    clock.advance(timedelta(seconds=Config().pool.lease_seconds + 1))
    # a died with it: after the lease the reply is anyone's again.
    claimed = b.claim([item_id])
    assert claimed.id == item_id and claimed.lease_owner == "b"


def test_a_reply_goes_out_once_and_records_the_modem_that_sent_it(store, clock):
    a, fake = sender(store, clock, "a", store_send=True)
    item_id = queue(store)
    assert a.send_one().tried and not a.send_one().tried
    assert [s.recipient for s in fake.sent] == [CITIZEN]
    r = row(store, item_id)
    assert (r["state"], r["sent_by"], r["lease_owner"], r["slots"]) == ("sent", "a", None, None)
    assert fake.outbox_slots == {}  # the slot is freed once the database said sent


def restart(store, clock, fake, name="a") -> Sending:
    """A new process's Sending over the same modem (its storage kept)."""
    return Sending(fake, store, Config(), name=name, clock=clock)


def test_killed_after_cmss_the_slot_reads_sto_sent_and_is_not_sent_again(store, clock):
    a, fake = sender(store, clock, "a", store_send=True)
    item_id = queue(store)
    a._done = lambda item, refs: (_ for _ in ()).throw(Killed())  # dies before recording
    with pytest.raises(Killed):
        a.send_one()
    assert len(fake.sent) == 1 and row(store, item_id)["state"] == "queued"
    restart(store, clock, fake).recover()
    assert len(fake.sent) == 1
    assert row(store, item_id)["state"] == "sent" and fake.outbox_slots == {}


def test_killed_between_recording_the_slot_and_cmss_the_slot_is_sent_after(store, clock):
    a, fake = sender(store, clock, "a", store_send=True)
    item_id = queue(store)
    fake.send_stored = lambda slot: (_ for _ in ()).throw(Killed())
    with pytest.raises(Killed):
        a.send_one()
    assert row(store, item_id)["slots"] is not None and fake.sent == []
    del fake.send_stored  # the modem works again after the restart
    restart(store, clock, fake).recover()
    assert [s.recipient for s in fake.sent] == [CITIZEN]
    assert row(store, item_id)["state"] == "sent"


def test_killed_right_after_cmgw_the_slot_is_found_by_recipient_and_text(store, clock):
    a, fake = sender(store, clock, "a", store_send=True)
    item_id = queue(store)
    long_text = "Petugas sedang menuju lokasi laporan Anda. " * 6  # two parts
    other_id = queue(store, long_text, number="+6281234567002")
    store.leases.record_slots = lambda *a, **k: (_ for _ in ()).throw(Killed())
    with pytest.raises(Killed):
        a.send_one()
    del store.leases.record_slots
    # A second reply written but not recorded either, and a leftover of a sent one.
    a2 = restart(store, clock, fake)
    item = a2.claim()
    assert item.id == other_id
    fake.write(item.number, item.text, reference=item.id & 0xFF)
    fake.outbox_slots[99] = [3, fake.outbox_slots[1][1]]
    restart(store, clock, fake).recover()
    sent = sorted((s.recipient, s.text) for s in fake.sent)
    assert [r for r, _ in sent] == [CITIZEN, "+6281234567002", "+6281234567002"]
    assert row(store, item_id)["state"] == row(store, other_id)["state"] == "sent"
    assert fake.outbox_slots == {}


def test_direct_sending_sends_again_what_a_kill_left_unknown(store, clock):
    a, fake = sender(store, clock, "a", store_send=False)
    item_id = queue(store)
    a.claim()
    restart(store, clock, fake).recover()  # a kill during AT+CMGS: no trace on the modem
    b = restart(store, clock, fake)
    assert b.send_one().reply_id == item_id and len(fake.sent) == 1


def test_a_modem_that_does_not_mark_cmss_sends_falls_back_to_cmgs(store, clock):
    a, fake = sender(store, clock, "a", store_send=True, marks_sent=False)
    queue(store)
    queue(store, number="+6281234567002")
    a.send_one()
    a.send_one()
    assert len(fake.sent) == 2
    assert a._store_path() is None  # the second one went through AT+CMGS


def test_a_failed_cmss_frees_its_slots_and_retries_later(store, clock):
    a, fake = sender(store, clock, "a", store_send=True)
    item_id = queue(store)
    fake.fail_sends(1)
    a.send_one()
    r = row(store, item_id)
    assert (r["state"], r["attempts"], r["lease_owner"]) == ("queued", 1, None)
    assert fake.outbox_slots == {}


def test_two_modems_holding_identical_pdus_store_two_deliveries(store, clock):
    a, b = FakeModem(), FakeModem()
    raw = a.inject_text(CITIZEN, "ada judi di pasar", timestamp=START)
    b.inject_pdu(a.storage[raw[0]])
    # Crash between commit and delete on a: listed again, it is stored once.
    Bridge(a, store, Config(), clock=clock, name="a").drain()
    a.inject_pdu(b.storage[min(b.storage)])
    Bridge(a, store, Config(), clock=clock, name="a").drain()
    Bridge(b, store, Config(), clock=clock, name="b").drain()
    rows = store.db.all("SELECT modem FROM messages ORDER BY id")
    assert [r[0] for r in rows] == ["a", "b"]
    # The second delivery of the same text is a follow-up: one case, one reply.
    assert store.db.scalar("SELECT count(*) FROM cases") == 1
    [prefer] = [r[0] for r in store.db.all("SELECT prefer_modem FROM outbox")]
    assert prefer == "a"


def test_a_status_report_marks_the_sms_of_the_modem_it_came_back_to(store, clock):
    # Two modems number their messages alike: the same TP-MR to the same citizen.
    first, second = queue(store), queue(store, "Petugas menuju lokasi")
    for item_id, modem in ((first, "a"), (second, "b")):
        store.outbox.sent(item_id, [7], at="2026-12-01T20:00:00+00:00")
        store.leases.mark_sent_by(item_id, modem)
    assert store.outbox.record_delivery(CITIZEN, 7, delivered=True, status=0, at="x",
                                        modem="a")
    assert (row(store, first)["state"], row(store, second)["state"]) == ("delivered", "sent")


def test_a_modem_lost_during_cmss_keeps_the_reply_until_its_slot_is_read(store, clock):
    from smsbridge.errors import ModemTimeout

    a, fake = sender(store, clock, "a", store_send=True)
    item_id = queue(store)
    real = fake.send_stored

    def sent_then_silent(slot: int) -> int:
        real(slot)  # the network took it; the answer never came
        raise ModemTimeout("AT+CMSS=1", 60.0)

    fake.send_stored = sent_then_silent
    with pytest.raises(ModemTimeout):
        a.send_one()
    r = row(store, item_id)
    assert (r["state"], r["lease_owner"], r["attempts"]) == ("queued", "a", 0)
    del fake.send_stored
    restart(store, clock, fake).recover()  # the worker's next connection
    assert len(fake.sent) == 1 and row(store, item_id)["state"] == "sent"


def test_an_operators_reply_prefers_the_modem_its_case_last_came_in_on(store, clock):
    from smsbridge.models import NewCase

    case = store.cases.create(NewCase(reporter=CITIZEN, text="ada judi", channel="sms",
                                      received_at="2026-12-01T19:00:00+00:00"),
                              operator="smsbridge")
    for modem, digest in (("a", "d1"), ("b", "d2")):
        message = store.inbox.add(pdu_hash=digest, pdu="00", kind="deliver",
                                  received_at="2026-12-01T19:00:00+00:00", modem=modem)
        store.inbox.attach([message], case.id)
    store.outbox.add_reply(case.ticket, "Petugas menuju lokasi", operator="budi")
    [waiting] = store.leases.waiting(now="2026-12-01T21:00:00+00:00")
    assert waiting.prefer == "b"


def test_with_300_acks_queued_a_dispatch_is_the_next_sms_sent(store, clock):
    for i in range(300):
        queue(store, number=f"+62812{i:08d}")
    clock.advance(seconds=60)
    officer = "+6281399990001"
    dispatch = store.outbox.add(officer, "TUGAS LP-000001 ...", kind="dispatch",
                                created_by="sari").id
    notice = store.outbox.add(CITIZEN, "Laporan LP-000001 selesai", kind="notice",
                              created_by="sari").id
    a, fake = sender(store, clock)
    assert a.send_one().reply_id == dispatch and fake.sent[0].recipient == officer
    assert a.send_one().reply_id == notice
    # The acknowledgements follow, in the order they were queued.
    assert [a.send_one().reply_id for _ in range(3)] == [1, 2, 3]
