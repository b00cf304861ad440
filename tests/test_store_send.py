"""Sending through the modem's own storage over a real pty: AT+CMGW writes to ME, AT+CMSS
sends from there, the slot reads "STO SENT"; modems without it, or whose CMSS does not
mark the slot, send with AT+CMGS."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from smsbridge.bridge import Bridge
from smsbridge.config.sections import Config
from smsbridge.emulator import Emulator, EmulatorSettings
from smsbridge.modem.atmodem import AtModem
from smsbridge.modem.base import store_and_send
from smsbridge.pool.sending import Sending
from smsbridge.store import Store

CITIZEN = "+6281234567001"


@pytest.fixture
def start(tmp_path: Path) -> Iterator:
    running: list[tuple[Emulator, AtModem]] = []

    def _start(**settings) -> tuple[Emulator, AtModem]:
        emu = Emulator(EmulatorSettings(**settings), link=str(tmp_path / "gsm-modem"))
        emu.start()
        driver = AtModem(emu.port, command_timeout=2.0, sim_busy_wait=5.0)
        running.append((emu, driver))
        driver.open()
        return emu, driver

    yield _start
    for emu, driver in running:
        driver.close()
        emu.stop()


def test_a_reply_is_written_to_me_sent_from_there_and_marked_sent(start):
    emu, modem = start()
    assert store_and_send(modem) is modem
    slots = modem.write(CITIZEN, "Laporan Anda diterima. No tiket: LP-000001")
    assert emu.stored_status("ME") == {slots[0]: 2} and emu.stored_status("SM") == {}
    assert [(m.index, m.status) for m in modem.outgoing()] == [(slots[0], 2)]
    reference = modem.send_stored(slots[0])
    assert [s.reference for s in emu.sent] == [reference]
    assert emu.stored_status("ME") == {slots[0]: 3}
    modem.delete_outgoing(slots[0])
    assert emu.stored_status("ME") == {} and modem.outgoing() == []


def test_without_me_replies_wait_on_the_sim_and_the_drain_leaves_them(start, db_path):
    emu, modem = start(memories=("SM",))
    slots = modem.write(CITIZEN, "balasan")
    emu.inject_text("+6281234567002", "ada judi di pasar")
    assert emu.wait_for(lambda e: len(e.stored_status()) == 2, 5)
    with Store.open(db_path) as store:
        Bridge(modem, store, Config()).drain()
        assert store.db.scalar("SELECT count(*) FROM messages") == 1
    assert emu.stored_status() == {slots[0]: 2}  # the report gone, our reply kept


def test_a_modem_without_cmgw_and_cmss_sends_with_cmgs(start, db_path):
    emu, modem = start(store_send=False)
    assert store_and_send(modem) is None
    with Store.open(db_path) as store:
        store.outbox.add(CITIZEN, "balasan", kind="ack", created_by="smsbridge")
        Sending(modem, store, Config(), name="modem").send_one()
    assert [s.recipient for s in emu.sent] == [CITIZEN]


def test_a_modem_whose_cmss_leaves_the_slot_unsent_falls_back_to_cmgs(start, db_path):
    emu, modem = start(cmss_marks_sent=False)
    with Store.open(db_path) as store:
        for i in range(3):
            store.outbox.add(f"+628123456700{i}", "balasan", kind="ack", created_by="x")
        sending = Sending(modem, store, Config(), name="modem")
        while sending.send_one().tried:
            pass
        assert store.db.scalar("SELECT count(*) FROM outbox WHERE state = 'sent'") == 3
    assert len(emu.sent) == 3  # each once: the first through storage, the rest by CMGS
    assert emu.stored_status("ME") == {}


def test_after_a_restart_the_slots_in_me_tell_what_was_sent(start, db_path):
    emu, modem = start()
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
