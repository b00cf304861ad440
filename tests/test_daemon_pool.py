"""A pool of modems end to end: the daemon as a real process over emulators on real ptys.

Three modems take a burst together and one vanishes in the middle of it; the daemon is
killed at random moments while replies go out. Nothing is lost, no case is made twice,
every reporter gets an answer, and a reply goes out more than once only rarely.
"""

from __future__ import annotations

import random
import re
import time
from collections import Counter

import pytest
from rigs import DaemonProcess, number, pool_toml, query, run_smsbridge, wait_until

from smsbridge.emulator import Emulator, EmulatorSettings

pytestmark = pytest.mark.slow


def test_three_modems_take_a_burst_and_survive_one_vanishing(pool_daemon):
    d, emus = pool_daemon("a", "b", "c",
                          settings=EmulatorSettings(storage_size=30, send_delay=0.05))
    d.start()
    reports = 90
    for i in range(reports):
        emus["abc"[i % 3]].inject_text(number(i), f"laporan {i}: ada balap liar")
        if i == 45:
            emus["b"].vanish(3.0)  # mid-burst: b's port is gone for 3 s
    wait_until(lambda: len({s.recipient for e in emus.values() for s in e.sent})
               >= reports, 120, "every reporter answered")
    assert d.terminate() == 0
    sent = [s for e in emus.values() for s in e.sent]
    per = Counter((s.recipient, s.text) for s in sent)
    assert len(per) == reports and max(per.values()) == 1
    rows = query(d.db, "SELECT reporter FROM cases")
    assert len(rows) == reports == len(set(rows))
    by_modem = dict(query(d.db, "SELECT modem, count(*) FROM messages"
                                " WHERE kind = 'deliver' GROUP BY modem"))
    assert by_modem == {"a": 30, "b": 30, "c": 30}
    # Replies went out from several modems.
    assert sum(1 for e in emus.values() if e.sent) >= 2


def test_kill_9_while_replies_go_out_sends_each_reply_once(pool_daemon):
    """Sending through the modem's storage (AT+CMGW, AT+CMSS): a kill during a send is
    answered from the slot's status after the restart. Target: at most 1 duplicate reply
    per 10 kills, 0 reporters unanswered (bench/bench_pool.py crash measures it)."""
    rng = random.Random(20261202)
    reports, kills = 30, 10
    d, emus = pool_daemon("sim1", settings=EmulatorSettings(storage_size=40, send_delay=0.4))
    emu = emus["sim1"]
    for i in range(reports):
        emu.inject_text(number(i), f"laporan {i}: ada judi di pasar")
    for _ in range(kills):
        d.start()
        time.sleep(rng.uniform(1.0, 2.5))
        d.kill9()
    d.start()
    wait_until(lambda: len({s.recipient for s in emu.sent}) >= reports, 120,
               "a reply to every reporter")
    wait_until(lambda: emu.storage_used == 0, 30, "an empty storage")
    assert d.terminate() == 0
    per = Counter((s.recipient, s.text) for s in emu.sent)
    assert len(per) == reports
    assert sum(c - 1 for c in per.values()) <= 1
    assert query(d.db, "SELECT count(*) FROM outbox WHERE state = 'queued'") == [(0,)]
    # Nothing is left in the modem's storage: reports drained, written replies freed.
    assert emu.storage_used == 0


def test_kill_9_at_random_moments_with_three_modems_loses_and_doubles_nothing(pool_daemon):
    rng = random.Random(20261203)
    reports, kills = 60, 8
    d, emus = pool_daemon("a", "b", "c",
                          settings=EmulatorSettings(storage_size=30, send_delay=0.2))
    for i in range(reports):
        emus["abc"[i % 3]].inject_text(number(i), f"laporan {i}: ada tawuran")
    for _ in range(kills):
        d.start()
        time.sleep(rng.uniform(0.5, 2.5))
        d.kill9()
    d.start()
    wait_until(lambda: len({s.recipient for e in emus.values() for s in e.sent})
               >= reports, 120, "a reply to every reporter")
    assert d.terminate() == 0
    rows = query(d.db, "SELECT reporter FROM cases")
    assert len(rows) == reports == len(set(rows)), "a report lost or made two cases"
    messages = query(d.db, "SELECT pdu_hash, modem FROM messages WHERE kind = 'deliver'")
    assert len(messages) == reports == len(set(messages))
    per = Counter((s.recipient, s.text) for e in emus.values() for s in e.sent)
    assert len(per) == reports
    assert sum(n - 1 for n in per.values()) <= 1
    assert all(e.network_queue == 0 for e in emus.values())


def test_demo_spreads_reports_over_a_pool_and_replies_from_several_modems(tmp_path):

    result = run_smsbridge("demo", "--modems", "3", "--dir", str(tmp_path / "demo"), timeout=120)
    assert result.returncode == 0, result.stderr
    assert "spread over 3 modems" in result.stdout
    senders = {line.split(":")[0].strip() for line in result.stdout.splitlines()
               if line.strip().startswith("from modem")}
    assert len(senders) >= 2
    # Three modems drain at once: which report got LP-000001 is no longer fixed.
    assert re.search(r"Laporan LP-\d{6} sudah dicek petugas dan benar", result.stdout)


def test_with_300_acks_queued_a_dispatch_is_the_next_sms_the_daemon_sends(tmp_path,
                                                                          pool_daemon):
    from smsbridge.store import Store

    officer = "+6281399990001"
    with Store.open(tmp_path / "cases.db") as store:
        for i in range(300):
            store.outbox.add(number(i), f"Laporan diterima. No tiket: LP-{i:06d}", kind="ack",
                             created_by="smsbridge")
        store.outbox.add(officer, "TUGAS LP-000007: ada judi di pasar", kind="dispatch",
                         created_by="sari")
    d, emus = pool_daemon("a", settings=EmulatorSettings(send_delay=0.05))
    a = emus["a"]
    d.start()
    wait_until(lambda: len(a.sent) >= 3, 60, "the first sends")
    assert d.terminate() == 0
    assert a.sent[0].recipient == officer
    # The acknowledgements follow in the order they were queued.
    assert [s.recipient for s in a.sent[1:3]] == [number(0), number(1)]


def test_a_stick_refusing_every_send_loses_its_replies_to_the_other_two(pool_daemon):
    """+CMS ERROR: 38 (network out of order: what a barred or empty SIM answers) to every
    send on c: after 3 failures in a row c claims nothing, and every reply, those of the
    reports c received included, goes out from a or b at once."""
    d, emus = pool_daemon("a", "b", "c",
                          settings=EmulatorSettings(storage_size=30, send_delay=0.05))
    a, b, c = emus.values()
    c.fail_sends(10**6, code=38)
    d.start()
    reports = 30
    start = time.monotonic()
    for i in range(reports):
        emus["abc"[i % 3]].inject_text(number(i), f"laporan {i}: ada balap liar")
    wait_until(lambda: len({s.recipient for e in emus.values() for s in e.sent})
               >= reports, 60, "every reporter answered")
    stranded = time.monotonic() - start
    status = run_smsbridge("--config", str(d.config), "status", timeout=60)
    assert d.terminate() == 0
    print(f"every reply out {stranded:.1f} s after the reports reached the network")
    assert c.sent == []
    per = Counter((s.recipient, s.text) for s in a.sent + b.sent)
    assert len(per) == reports and max(per.values()) == 1
    # No reply spent its attempts on c: each failed once at most, and none gave up.
    assert query(d.db, "SELECT count(*) FROM outbox WHERE state = 'gave_up'") == [(0,)]
    assert "modem c (both)" in status.stdout
    assert "cannot send: 3 sends failed in a row" in status.stdout, status.stdout
    assert "+CMS ERROR 38" in status.stdout


def test_last_poll_moves_on_while_the_daemon_works(pool_daemon):
    def last_poll():
        rows = query(d.db, "SELECT value FROM daemon_state WHERE key = 'modem.a.last_poll'")
        return rows[0][0] if rows else None

    d, _ = pool_daemon("a")
    d.start()
    wait_until(lambda: last_poll() is not None, 30, "a first poll noted")
    first = last_poll()
    # Polls every second ([daemon] poll_seconds = 1): noted at most every 3 s.
    wait_until(lambda: last_poll() != first, 15, "a later poll noted")
    assert d.terminate() == 0


def test_another_stick_behind_the_link_after_a_kill_takes_nothing_of_the_old_one(tmp_path):
    """A pty reused by another device (or a stick swapped into a hub port): the worker
    compares IMSI and IMEI, runs no slot recovery and releases no lease of the old
    stick, says so in the journal and `status`, and joins once the config names it."""
    from smsbridge.store import Store

    link = str(tmp_path / "a")
    state = "SELECT value FROM daemon_state WHERE key = ?"
    old_imsi = EmulatorSettings().imsi
    with Emulator(EmulatorSettings(), link=link) as old:
        d = DaemonProcess(tmp_path, old.port, pool_toml({"a": link}))
        try:
            d.start()
            wait_until(lambda: query(d.db, state, ("modem.a.imsi",)) == [(old_imsi,)], 30,
                       "the stick's identity recorded")
            d.kill9()
        finally:
            d.stop()
    # What the old stick held when the process died: a reply leased to "a", its part
    # written to the old stick's slot 1.
    with Store.open(d.db) as store:
        held = store.outbox.add(number(1), "Laporan diterima. No tiket: LP-000001",
                                kind="ack", created_by="smsbridge").id
        store.db.execute("UPDATE outbox SET lease_owner = 'a', lease_until ="
                         " '2099-01-01T00:00:00+00:00', slots = '[1]' WHERE id = ?", (held,))
    other = EmulatorSettings(imsi="510019876543210", imei="869999999999999")
    with Emulator(other, link=link) as new:
        new.inject_text(number(2), "laporan lewat stick baru: ada tawuran")
        try:
            d.start()
            wait_until(lambda: query(d.db, state, ("modem.a.unknown_stick",)) not in ([],
                                                                                   [(None,)]),
                       30, "the other stick noticed")
            status = run_smsbridge("--config", str(d.config), "status", timeout=60)
            assert d.terminate() == 0
            assert new.sent == [] and new.storage_used == 1  # the report waits on it
            assert query(d.db, "SELECT lease_owner, state FROM outbox WHERE id = ?",
                         (held,)) == [("a", "queued")]
            assert "another stick on its port: IMSI 510019876543210" in status.stdout
            assert "another stick is on" in d.log_text()
            # The administrator confirms it: it joins as a new stick.
            d.write_config(link, pool_toml({"a": link})
                           + 'imsi = "510019876543210"\n')
            d.start()
            wait_until(lambda: any(s.recipient == number(2) for s in new.sent), 30,
                       "the confirmed stick answering its report")
            assert d.terminate() == 0
        finally:
            d.stop()
    # The old stick's reply was never sent from the new one, nor released to it.
    assert all(s.recipient != number(1) for s in new.sent)
    [(owner, row_state)] = query(d.db, "SELECT lease_owner, state FROM outbox WHERE id = ?",
                                 (held,))
    assert row_state == "queued" and owner.startswith(f"a (IMSI {old_imsi}")


def test_a_stick_out_of_credit_stops_sending_until_topped_up(pool_daemon):
    """The balance code answers Rp0 and no SMS package: a claims no reply (b sends them
    all), status shows its credit and why it cannot send; topped up, it sends again at
    the next check."""
    d, emus = pool_daemon("a", "b", settings=EmulatorSettings(storage_size=30, send_delay=0.05),
                          tables={"a": 'balance_ussd = "*888#"\nbalance_check_seconds = 5\n'})
    a, b = emus.values()
    a.run_out_of_credit()
    d.start()
    for i in range(10):
        a.inject_text(number(i), f"laporan {i}: ada balap liar")
    wait_until(lambda: len({s.recipient for s in b.sent}) >= 10, 60,
               "every reply from b")
    status = run_smsbridge("--config", str(d.config), "status", timeout=60)
    assert a.sent == []
    a.top_up(credit=20_000, sms=100)
    wait_until(lambda: "a sends again (topped up" in d.log_text(), 30,
               "the next balance check")
    a.inject_text(number(50), "laporan setelah isi pulsa")
    wait_until(lambda: a.sent, 30, "a sending again after the top-up")
    assert d.terminate() == 0
    assert "credit: Rp0, 0 SMS in the package, active until 2027-06-30" in status.stdout
    assert "CREDIT WARNING: credit Rp0 is under Rp5.000" in status.stdout
    assert "cannot send: no credit and no SMS package left" in status.stdout
    assert "a credit: credit Rp0 is under Rp5.000" in d.log_text()
