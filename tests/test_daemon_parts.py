"""Parts are the unit, through the real daemon on the emulator's pty: one SMS in, however
long, buys at most one single-part SMS out, and the budgets are charged what the SIM is
charged. (A 10-part "CEK LP……1" once bought an 11-part reply echoing it.)"""

from __future__ import annotations

import pytest
from rigs import DaemonProcess, query, wait_until

from smsbridge.sms import pdu

pytestmark = pytest.mark.slow

TEN = "+6281234567010"
MAX = "+6281234567255"
CEK_10 = "CEK LP" + "." * 1500 + "1"
CEK_255 = "CEK LP" + "." * (255 * 153 - 7) + "1"


def test_ten_and_255_part_ceks_each_get_one_single_part_reply_charged_one_part(
        tmp_path, emulator):
    assert (pdu.parts_needed(CEK_10), pdu.parts_needed(CEK_255)) == (10, 255)
    daemon = DaemonProcess(tmp_path, emulator.port)
    daemon.start()
    try:
        daemon.wait_running()
        assert emulator.inject_text(TEN, CEK_10) == 10
        assert emulator.inject_text(MAX, CEK_255) == 255
        wait_until(lambda: {s.recipient for s in emulator.sent} >= {TEN, MAX}, 120,
                   "a reply to each")
        # Every part is in, every reply out: nothing more follows.
        wait_until(lambda: emulator.storage_used == 0 and emulator.network_queue == 0,
                   60, "the storage to empty")
        wait_until(lambda: query(daemon.db, "SELECT count(*) FROM outbox WHERE state ="
                                 " 'queued'") == [(0,)], 30, "the outbox to empty")
        for number in (TEN, MAX):
            sent = [s for s in emulator.sent if s.recipient == number]
            assert len(sent) == 1 and sent[0].concat is None, [s.text for s in sent]
            assert pdu.parts_needed(sent[0].text) == 1
            assert "..." not in sent[0].text
            # What the budgets count: one part, to this number and for the line.
            assert query(daemon.db, "SELECT kind, parts FROM outbox WHERE number = token(?)",
                         (number,)) == [("ack", 1)]
        assert query(daemon.db, "SELECT count(*), sum(parts) FROM outbox") == [(2, 2)]
    finally:
        daemon.stop()
