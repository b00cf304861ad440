"""The daemon as systemd runs it: a real process, the emulator on a real pty, a real SQLite file.

These are the product's promises end to end: every report becomes exactly one case,
every reporter gets their ticket, a kill -9 at any moment loses and duplicates
nothing, the SIM never fills while replies queue up, and the process talks to
systemd (READY, WATCHDOG, STATUS, STOPPING) and obeys SIGTERM and SIGHUP.
"""

from __future__ import annotations

import json
import random
import signal
import socket
import time

import pytest
from rigs import BACKENDS, BIG_BUDGET, DaemonProcess, number, query, run_smsbridge, wait_until

from smsbridge.emulator import Emulator, EmulatorSettings
from smsbridge.sms import pdu

REPORT_TEXTS = [
    "Ada balap liar knalpot brong di Jl. Sudirman, tiap malam jam 11",
    "Lapor, judi sabung ayam di belakang Pasar Kliwon RT 03 RW 05",
    "Pemuda mabuk-mabukan di pos ronda Gang Melati, warga takut keluar",
    "Perkelahian di depan Kafe Senja Jl. Diponegoro, tolong cepat",
    "Ada pungli di parkiran pasar pagi, minta Rp20.000 per motor",
]


both_backends = pytest.mark.parametrize("backend", list(BACKENDS), indirect=True)
# A real process each, seconds to minutes: the full suite's tier, not the fast one.
pytestmark = pytest.mark.slow


@pytest.fixture
def backend(request):
    """The modem backend the daemon runs on: "at" unless a test asks for both."""
    return getattr(request, "param", "at")


@pytest.fixture
def daemon(daemon_process, backend):
    """The daemon (not started) on ``emulator`` and ``backend``, a reply budget per burst."""
    return daemon_process(BIG_BUDGET, backend=backend)


def acks_by_recipient(emu: Emulator) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for sms in emu.sent:
        out.setdefault(sms.recipient, []).append(sms.text)
    return out


# libgammu's AT listing re-reads the whole storage for each message it returns: the
# same mix, smaller, on gammu.
BURST_SIZES = {"at": 500, "gammu": 50}


@both_backends
def test_burst_of_500_mixed_messages_makes_every_case_and_every_reply_right(daemon, emulator,
                                                                              backend):
    expected_cases: dict[str, str] = {}  # reporter -> report text
    service = 0
    queries = 0
    for i, n in enumerate(range(BURST_SIZES[backend]), start=1):
        kind = n % 25
        if kind == 0:
            emulator.inject_text("TELKOMSEL", f"Sisa pulsa Anda Rp{n}.000")
            service += 1
        elif kind == 1:
            emulator.inject_text(number(i), "CEK LP-999999")
            queries += 1
        elif kind in (2, 3):
            text = f"Laporan {n}: " + "ada tawuran pelajar di dekat terminal bus kota. " * 5
            emulator.inject_text(number(i), text)
            expected_cases[number(i)] = text
        elif kind == 4:
            text = f"Laporan {n} 😡🚓 ada penjambretan di lampu merah Jl. Ahmad Yani"
            emulator.inject_text(number(i), text)
            expected_cases[number(i)] = text
        else:
            text = f"{REPORT_TEXTS[n % len(REPORT_TEXTS)]} (laporan {n})"
            emulator.inject_text(number(i), text)
            expected_cases[number(i)] = text
    daemon.start()
    want_replies = len(expected_cases) + queries
    wait_until(lambda: len(emulator.sent) >= want_replies, 240, "every reply",
               interval=0.2)
    rows = query(daemon.db, "SELECT ticket, clear(reporter_sealed), text, status FROM cases")
    assert len(rows) == len(expected_cases)
    by_reporter = {r[1]: r for r in rows}
    assert {r: row[2] for r, row in by_reporter.items()} == expected_cases
    replies = acks_by_recipient(emulator)
    for reporter, (ticket, *_rest) in by_reporter.items():
        assert len(replies[reporter]) == 1
        assert ticket in replies[reporter][0] and replies[reporter][0].startswith("Laporan")
    assert "TELKOMSEL" not in replies
    assert len(emulator.sent) == want_replies  # and nothing more
    kinds = dict(query(daemon.db, "SELECT kind, count(*) FROM messages GROUP BY kind"))
    # Multi-part reports are several messages; the rest one each.
    assert kinds["deliver"] >= BURST_SIZES[backend]
    assert daemon.terminate() == 0


# (reports, kills, the window after a start in which the kill falls): libgammu's AT
# Init takes about 4 s and its listing is slow, so the gammu run is smaller and kills
# only once the daemon is past Init, where there is something to lose.
CRASH_RUNS = {"at": (240, 20, (0.3, 1.2)), "gammu": (30, 5, (4.5, 7.0))}


@both_backends
def test_kill_9_at_random_moments_loses_nothing_and_duplicates_no_case(daemon, emulator,
                                                                         backend):
    rng = random.Random(20261129)
    reports, kill_count, window = CRASH_RUNS[backend]
    for i in range(reports):
        emulator.inject_text(number(i), f"{REPORT_TEXTS[i % 5]} (laporan {i})")
    kills = 0
    while kills < kill_count:
        daemon.start()
        time.sleep(rng.uniform(*window))  # a random moment in the daemon's life
        daemon.kill9()
        kills += 1
    daemon.start()
    wait_until(lambda: len({s.recipient for s in emulator.sent}) >= reports, 240,
               "a reply to every reporter", interval=0.2)
    rows = query(daemon.db, "SELECT ticket, clear(reporter_sealed) FROM cases")
    assert len(rows) == reports, "a report was lost or made two cases"
    assert len({r[1] for r in rows}) == reports
    messages = query(daemon.db, "SELECT pdu_hash FROM messages WHERE kind = 'deliver'")
    assert len(messages) == reports == len(set(messages))
    replies = acks_by_recipient(emulator)
    tickets = dict((r[1], r[0]) for r in rows)
    for reporter, ticket in tickets.items():
        # A reply may go out twice only when a kill fell between the modem accepting it
        # and the database recording that: always the same ticket, never another.
        assert replies[reporter] and all(ticket in text for text in replies[reporter])
    assert emulator.network_queue == 0
    assert daemon.terminate() == 0


def test_sim_never_fills_while_slow_replies_back_up(tmp_path):
    """Storage 30, reports arriving at the network's pace, each send taking 0.3 s."""
    settings = EmulatorSettings(storage_size=30, send_delay=0.3, delivery_gap=0.02)
    with Emulator(settings, link=str(tmp_path / "modem")) as emu:
        d = DaemonProcess(tmp_path, emu.port)
        try:
            d.start()
            worst_queue = 0
            reports = 150
            for i in range(reports):
                emu.inject_text(number(i), f"laporan {i}: ada balap liar")
            deadline = time.monotonic() + 120
            while len(query(d.db, "SELECT id FROM cases")) < reports:
                worst_queue = max(worst_queue, emu.network_queue)
                assert time.monotonic() < deadline, "reports were not all stored"
                time.sleep(0.05)
            # Every report became a case long before the replies were all sent: the SIM
            # was drained between sends instead of waiting behind the outbox.
            assert len(emu.sent) < reports
            wait_until(lambda: len(emu.sent) >= reports, 120, "every reply")
            assert d.terminate() == 0
        finally:
            d.stop()
    # Reception ran at the network's pace; the queue at the network never had to hold
    # more than the injection burst itself while storage was free.
    assert worst_queue <= reports


@both_backends
def test_modem_vanishing_is_survived_and_reception_resumes(daemon, emulator):
    daemon.start()
    emulator.inject_text(number(1), "laporan pertama")
    wait_until(lambda: len(emulator.sent) >= 1, 30, "the first reply")
    emulator.vanish(2.0)
    emulator.inject_text(number(2), "laporan kedua saat modem hilang")
    wait_until(lambda: len(emulator.sent) >= 2, 60, "a reply after the modem came back")
    assert len(query(daemon.db, "SELECT id FROM cases")) == 2
    assert daemon.proc.poll() is None
    assert daemon.terminate() == 0


def test_silent_modem_is_reconnected_and_nothing_is_lost(daemon, emulator):
    daemon.start()
    emulator.inject_text(number(1), "laporan pertama")
    wait_until(lambda: len(emulator.sent) >= 1, 30, "the first reply")
    emulator.set_silent(True)
    emulator.inject_text(number(2), "laporan saat modem diam")
    wait_until(lambda: "modem" in daemon.log_text() and "no answer" in daemon.log_text(),
               30, "the daemon to notice the silence")
    emulator.set_silent(False)
    wait_until(lambda: len(emulator.sent) >= 2, 60, "the reply after the modem spoke again")
    assert len(query(daemon.db, "SELECT id FROM cases")) == 2
    assert daemon.terminate() == 0


@both_backends
def test_garbage_reboot_and_sim_busy_do_not_lose_reports(daemon, emulator):
    emulator.sim_busy(2.0)
    daemon.start()
    emulator.inject_text(number(1), "laporan satu")
    wait_until(lambda: len(emulator.sent) >= 1, 30, "a reply despite the busy SIM")
    emulator.inject_garbage(b"\xff\x00\x13garbage\r\n+XYZ: ???\r\n")
    emulator.inject_text(number(2), "laporan dua")
    wait_until(lambda: len(emulator.sent) >= 2, 30, "a reply after garbage on the line")
    emulator.reboot()
    emulator.inject_text(number(3), "laporan tiga setelah modem restart")
    wait_until(lambda: len(emulator.sent) >= 3, 60, "a reply after the modem rebooted")
    assert len(query(daemon.db, "SELECT id FROM cases")) == 3
    assert daemon.terminate() == 0


def test_failed_sends_are_retried_until_the_reply_goes_out(tmp_path, emulator):
    d = DaemonProcess(tmp_path, emulator.port, '[outbox]\nretry_base_seconds = 0.5\n')
    try:
        emulator.fail_sends(2)
        d.start()
        emulator.inject_text(number(1), "ada maling motor")
        wait_until(lambda: len(emulator.sent) >= 1, 60, "the reply after two failures")
        # The emulator has the SMS a moment before the worker's commit records it sent.
        wait_until(lambda: query(d.db, "SELECT state FROM outbox") in ([("sent",)],
                                                                      [("delivered",)]),
                   10, "the reply recorded sent")
        [(attempts, state)] = query(d.db, "SELECT attempts, state FROM outbox")
        assert attempts == 3 and state in ("sent", "delivered")
        assert d.terminate() == 0
    finally:
        d.stop()


@both_backends
def test_sigterm_finishes_the_step_and_exits_0(daemon, emulator):
    daemon.start()
    emulator.inject_text(number(1), "laporan")
    wait_until(lambda: len(emulator.sent) >= 1, 30, "the reply")
    assert daemon.terminate() == 0
    state = dict(query(daemon.db, "SELECT key, value FROM daemon_state"))
    assert state["stopped_at"] and not state.get("pid")


@both_backends
def test_sighup_reloads_the_reply_template(daemon, emulator):
    daemon.start()
    emulator.inject_text(number(1), "laporan pertama")
    wait_until(lambda: len(emulator.sent) >= 1, 30, "the first reply")
    daemon.write_config(emulator.port, '[replies]\nack = "Tiket Anda {ticket}"\n')
    daemon.proc.send_signal(signal.SIGHUP)
    wait_until(lambda: "config reloaded" in daemon.log_text(), 30, "the reload")
    emulator.inject_text(number(2), "laporan kedua")
    wait_until(lambda: len(emulator.sent) >= 2, 30, "the second reply")
    assert emulator.sent[-1].text.startswith("Tiket Anda LP-")
    assert daemon.proc.poll() is None
    assert daemon.terminate() == 0


def test_bad_config_on_sighup_keeps_the_old_one(daemon, emulator):
    daemon.start()
    wait_until(lambda: "modem ready" in daemon.log_text(), 30, "the daemon to be ready")
    daemon.config.write_text("[modem]\nbaud = 1\n")
    daemon.proc.send_signal(signal.SIGHUP)
    wait_until(lambda: "config not reloaded" in daemon.log_text(), 30, "the refusal")
    emulator.inject_text(number(1), "laporan")
    wait_until(lambda: len(emulator.sent) >= 1, 30, "a reply with the old config")
    assert daemon.terminate() == 0


def test_sd_notify_ready_watchdog_status_and_stopping(tmp_path, emulator):
    path = tmp_path / "notify"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(path))
    sock.settimeout(30)
    d = DaemonProcess(tmp_path, emulator.port,
                      env={"NOTIFY_SOCKET": str(path), "WATCHDOG_USEC": "2000000"})
    try:
        d.start()
        seen: list[str] = []

        def until(field: str) -> None:
            while not any(field in m for m in seen):
                seen.append(sock.recv(4096).decode())

        until("READY=1")
        until("WATCHDOG=1")
        assert any(m.startswith("STATUS=") and "storage" in m for m in seen)
        d.proc.send_signal(signal.SIGTERM)
        until("STOPPING=1")
        assert d.proc.wait(30) == 0
    finally:
        d.stop()
        sock.close()


@both_backends
def test_status_command_reports_the_running_daemon(daemon, emulator):
    daemon.start()
    emulator.inject_text(number(1), "laporan")
    wait_until(lambda: len(emulator.sent) >= 1, 30, "the reply")
    wait_until(lambda: query(daemon.db, "SELECT value FROM daemon_state"
                                        " WHERE key = 'modem.modem.modem'"),
               10, "the modem's state")
    out = run_smsbridge("--config", str(daemon.config), "status", timeout=30)
    assert out.returncode == 0, out.stderr
    assert "running" in out.stdout and "huawei" in out.stdout.lower()
    daemon.terminate()
    out = run_smsbridge("--config", str(daemon.config), "status", timeout=30)
    assert out.returncode == 1 and "NOT running" in out.stdout


def test_daemon_logs_mask_reporters_numbers(daemon, emulator):
    daemon.start()
    emulator.inject_text(number(7), "laporan rahasia")
    wait_until(lambda: len(emulator.sent) >= 1, 30, "the reply")
    daemon.terminate()
    log = daemon.log_text()
    assert "new case" in log
    assert number(7) not in log and number(7)[1:] not in log


@both_backends
def test_undecodable_pdu_does_not_clog_the_sim(daemon, emulator):
    emulator.inject_pdu("07912618485400F9040B916128")
    emulator.inject_pdu(pdu.encode_deliver(number(1), "laporan sah")[0])
    daemon.start()
    wait_until(lambda: len(emulator.sent) >= 1, 30, "the reply to the good report")
    wait_until(lambda: emulator.storage_used == 0, 30, "an empty SIM")
    flags = [r[0] for r in query(daemon.db, "SELECT flags FROM cases")]
    assert "undecodable" in flags
    assert daemon.terminate() == 0


def test_disk_full_keeps_messages_on_the_modem_until_space_is_back(tmp_path, emulator):
    """A real write failure: the daemon's file-size limit stops the database growing
    (EFBIG, as on a full disk); raising it again is space coming back."""
    import resource

    d = DaemonProcess(tmp_path, emulator.port)
    try:
        d.start()
        emulator.inject_text(number(0), "laporan sebelum disk penuh")
        wait_until(lambda: len(emulator.sent) >= 1, 30, "the first reply")
        d.wait_running()
        size = sum(p.stat().st_size for p in tmp_path.glob("cases.db*"))
        resource.prlimit(d.proc.pid, resource.RLIMIT_FSIZE, (size + 4096, resource.RLIM_INFINITY))
        reports = 60
        for i in range(1, reports + 1):
            emulator.inject_text(number(i), "laporan saat disk penuh " + "x" * 120)
        wait_until(lambda: "messages stay on the modem" in d.log_text(), 60,
                   "the daemon to notice the full disk")
        assert d.proc.poll() is None
        # Nothing that could not be committed was deleted: the SIM holds it (and the
        # network holds the rest, the SIM being full).
        assert emulator.storage_used + emulator.network_queue > 0
        resource.prlimit(d.proc.pid, resource.RLIMIT_FSIZE,
                         (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
        wait_until(lambda: len(query(d.db, "SELECT id FROM cases")) == reports + 1, 90,
                   "every report once space is back")
        wait_until(lambda: len({s.recipient for s in emulator.sent}) == reports + 1, 90,
                   "every reply")
        assert d.terminate() == 0
    finally:
        d.stop()


def test_under_systemd_log_lines_carry_syslog_priorities(tmp_path, emulator):
    d = DaemonProcess(tmp_path, emulator.port, env={"JOURNAL_STREAM": "8:12345"})
    try:
        d.start()
        emulator.inject_text(number(1), "laporan\ndua baris")
        wait_until(lambda: len(emulator.sent) >= 1, 30, "the reply")
        assert d.terminate() == 0
    finally:
        d.stop()
    lines = [line for line in d.log_text().splitlines() if line]
    assert lines and all(line[:3] in {"<7>", "<6>", "<4>", "<3>", "<2>"} for line in lines)
    assert any(line.startswith("<6>smsbridge.bridge: new case") for line in lines)


def test_hook_runs_for_each_new_case_without_holding_up_reception(tmp_path, emulator):
    out = tmp_path / "hooks.jsonl"
    # A slow hook (1 s each): reception and replies must not wait for it.
    command = f"sleep 1; cat >> {out}; echo >> {out}"
    d = DaemonProcess(tmp_path, emulator.port, f'[hook]\ncommand = "{command}"\n')
    try:
        d.start()
        for i in range(5):
            emulator.inject_text(number(i), f"laporan {i}")
        wait_until(lambda: len(emulator.sent) >= 5, 30, "every reply")
        assert not out.exists() or len(out.read_text().splitlines()) < 5
        wait_until(lambda: out.exists() and out.read_text().count("\n") >= 5, 60,
                   "every hook (a JSON line each)")
        assert d.terminate() == 0
    finally:
        d.stop()
    payloads = [json.loads(x) for x in out.read_text().splitlines() if x]
    assert sorted(p["text"] for p in payloads) == [f"laporan {i}" for i in range(5)]
    assert all("•••••" in p["reporter"] for p in payloads)
