"""The daemon's pool in one process: a worker thread per FakeModem, one real SQLite file.

What a pool promises, in seconds rather than minutes: a dedicated receive modem never
sends, a modem that vanishes stops only its own worker and rejoins by itself, replies
move to the modems that are up, and the watchdog is fed only while every worker lives.
"""

from __future__ import annotations

import threading
import time

import pytest
from rigs import number, query, wait_until

from smsbridge.config import load as config_mod
from smsbridge.daemon import Daemon
from smsbridge.modem.fake import FakeModem
from smsbridge.store import Store


class Notes:
    """A Notifier that keeps what the daemon tells systemd."""

    watchdog_interval = 0.1

    def __init__(self) -> None:
        self.seen: list[dict] = []

    def notify(self, **fields) -> None:
        self.seen.append(fields)


def pool_config(tmp_path, modems: str, extra: str = "") -> config_mod.Config:
    path = tmp_path / "config.toml"
    path.write_text(f'[database]\npath = "{tmp_path / "cases.db"}"\n'
                    '[daemon]\npoll_seconds = 0.5\nreconnect_max_seconds = 1.0\n'
                    + modems + extra, encoding="utf-8")
    return config_mod.load(path, environ={})


@pytest.fixture
def run_pool(tmp_path):
    started: list[tuple[Daemon, threading.Thread]] = []

    def start(modems: str, fakes: dict[str, FakeModem], extra: str = "") -> Daemon:
        cfg = pool_config(tmp_path, modems, extra)
        daemon = Daemon(cfg, notifier=Notes(),
                        modem_factory=lambda mc, **kw: fakes[mc.name])
        thread = threading.Thread(target=daemon.run, daemon=True)
        thread.start()
        started.append((daemon, thread))
        return daemon

    yield start
    for daemon, thread in started:
        daemon.stop()
        thread.join(30)


TWO_BOTH = ('[[modems]]\nname = "a"\nport = "fake://a"\n'
            '[[modems]]\nname = "b"\nport = "fake://b"\n')


def fakes(*names: str, **kw) -> dict[str, FakeModem]:
    return {n: FakeModem(waits=True, **kw) for n in names}


def test_a_dedicated_receive_modem_never_sends_and_every_report_is_answered(tmp_path,
                                                                           run_pool):
    modems = fakes("rx", "tx")
    run_pool('[[modems]]\nname = "rx"\nport = "fake://rx"\nrole = "receive"\n'
             '[[modems]]\nname = "tx"\nport = "fake://tx"\nrole = "send"\n', modems)
    for i in range(10):
        modems["rx"].inject_text(number(i), f"laporan {i}: ada balap liar")
    wait_until(lambda: len(modems["tx"].sent) >= 10, 30, "every reply from tx")
    assert modems["rx"].sent == []
    db = tmp_path / "cases.db"
    assert query(db, "SELECT DISTINCT modem FROM messages") == [("rx",)]
    assert query(db, "SELECT DISTINCT sent_by FROM outbox") == [("tx",)]
    assert sorted(s.recipient for s in modems["tx"].sent) == [number(i) for i in range(10)]


def test_a_vanished_modem_stops_only_its_worker_and_its_replies_move(tmp_path, run_pool):
    modems = fakes("a", "b")
    daemon = run_pool(TWO_BOTH, modems, "[pool]\nfailover_seconds = 1.0\n")
    modems["a"].inject_text(number(1), "laporan pertama")
    wait_until(lambda: len(modems["a"].sent) == 1, 30, "a's reply from a")
    modems["a"].vanish()
    modems["b"].inject_text(number(2), "laporan lewat b")
    wait_until(lambda: len(modems["b"].sent) == 1, 30, "b going on alone")
    wait_until(lambda: daemon.workers["a"].health.state == "down", 30, "a seen down")
    # A reply that prefers a (an operator's answer to a's reporter) goes out from b.
    with Store.open(tmp_path / "cases.db") as store:
        store.outbox.add(number(1), "Petugas menuju lokasi", kind="operator",
                         created_by="budi", prefer_modem="a")
    wait_until(lambda: any(s.recipient == number(1) for s in modems["b"].sent), 30,
               "a's reply moved to b")
    modems["a"].vanish(False)
    modems["a"].inject_text(number(3), "laporan setelah a kembali")
    wait_until(lambda: any(s.recipient == number(3) for s in modems["a"].sent), 30,
               "a back by itself")
    db = tmp_path / "cases.db"
    assert query(db, "SELECT count(*) FROM cases") == [(3,)]
    # The modem has the SMS a moment before the worker's commit records it sent.
    wait_until(lambda: query(db, "SELECT count(*) FROM outbox WHERE state != 'sent'")
               == [(0,)], 10, "every reply recorded sent")


def test_a_modem_at_its_daily_cap_stops_and_the_other_takes_over(tmp_path, run_pool):
    modems = fakes("a", "b")
    run_pool('[[modems]]\nname = "a"\nport = "fake://a"\ndaily_cap = 2\n'
             '[[modems]]\nname = "b"\nport = "fake://b"\nrole = "send"\n', modems)
    for i in range(6):
        modems["a"].inject_text(number(i), f"laporan {i}")
    wait_until(lambda: len(modems["a"].sent) + len(modems["b"].sent) >= 6, 30,
               "every reply")
    assert len(modems["a"].sent) == 2 and len(modems["b"].sent) == 4


def test_on_net_routing_picks_the_matching_sim(tmp_path, run_pool):
    modems = fakes("rx", "tsel", "isat")
    run_pool('[[modems]]\nname = "rx"\nport = "fake://rx"\nrole = "receive"\n'
             '[[modems]]\nname = "tsel"\nport = "fake://t"\nrole = "send"\n'
             'prefixes = ["0811", "0812", "0813"]\n'
             '[[modems]]\nname = "isat"\nport = "fake://i"\nrole = "send"\n'
             'prefixes = ["0814", "0815", "0816"]\n', modems)
    tsel = [f"+62812{i:08d}" for i in range(4)]
    isat = [f"+62815{i:08d}" for i in range(4)]
    for n in tsel + isat:
        modems["rx"].inject_text(n, "laporan")
    wait_until(lambda: len(modems["tsel"].sent) + len(modems["isat"].sent) >= 8, 30,
               "every reply")
    assert sorted(s.recipient for s in modems["tsel"].sent) == tsel
    assert sorted(s.recipient for s in modems["isat"].sent) == isat


def test_the_watchdog_is_fed_only_while_every_worker_responds(tmp_path, run_pool):
    modems = fakes("a", "b")
    daemon = run_pool(TWO_BOTH, modems)
    notes = daemon.notifier
    wait_until(lambda: any("WATCHDOG" in n for n in notes.seen), 30, "a first WATCHDOG=1")
    wait_until(lambda: any(n.get("READY") for n in notes.seen), 30, "READY=1")
    wait_until(lambda: any("2/2 modems ready" in str(n.get("STATUS")) for n in notes.seen),
               30, "STATUS= summing up the pool")
    # b's worker stuck in one step for longer than any modem command may take.
    daemon.workers["b"].health.stalled_after = 0.2
    hang = threading.Event()

    def hung(timeout: float) -> list:
        hang.wait()
        return []

    modems["b"].poll_events = hung
    wait_until(lambda: not daemon.workers["b"].responsive(time.monotonic()), 10,
               "b's next turn to hang")
    time.sleep(0.6)  # the main loop's next tick has seen it
    count = sum(1 for n in notes.seen if "WATCHDOG" in n)
    time.sleep(0.6)  # a tick of the main loop and several watchdog intervals
    assert sum(1 for n in notes.seen if "WATCHDOG" in n) == count
    hang.set()


def test_a_reload_starts_a_new_modem_and_reconnects_a_changed_one(tmp_path):
    modems = fakes("a", "b")
    first = pool_config(tmp_path, '[[modems]]\nname = "a"\nport = "fake://a"\n')
    second = pool_config(tmp_path, '[[modems]]\nname = "a"\nport = "fake://a"\n'
                                   'command_timeout = 5.0\n'
                                   '[[modems]]\nname = "b"\nport = "fake://b"\n')
    daemon = Daemon(first, notifier=Notes(), reload=lambda: second,
                    modem_factory=lambda mc, **kw: modems[mc.name])
    thread = threading.Thread(target=daemon.run, daemon=True)
    thread.start()
    try:
        wait_until(lambda: "a" in daemon.workers and
                   daemon.workers["a"].health.state == "ready", 30, "a ready")
        old_a = daemon.workers["a"]
        daemon.request_reload()
        wait_until(lambda: "b" in daemon.workers and
                   daemon.workers["b"].health.state == "ready", 30, "b started")
        wait_until(lambda: daemon.workers["a"] is not old_a and
                   daemon.workers["a"].health.state == "ready", 30, "a reconnected")
        assert daemon.workers["a"].modem_config.command_timeout == 5.0
        modems["b"].inject_text(number(1), "laporan lewat modem baru")
        wait_until(lambda: len(modems["a"].sent) + len(modems["b"].sent) == 1, 30, "a reply")
    finally:
        daemon.stop()
        thread.join(30)
