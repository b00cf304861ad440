"""The field loop end to end: the daemon as a real process, the emulator on a real pty,
the desk's commands on the same SQLite file. A case goes out to an officer's phone,
the officer's SMS comes back, the reporter's phone hears of it; spoofed and mistaken
answers change nothing; a kill -9 neither loses nor repeats a notice."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from rigs import DaemonProcess, query, wait_until

from smsbridge.cli import main
from smsbridge.emulator import Emulator
from smsbridge.fieldwork.texts import FieldTexts

pytestmark = pytest.mark.slow

REPORTER = "+6281234567001"
BUDI, SARI = "+6281234560001", "+6281345670002"
STRANGER = "+6285700000009"
ROSTER = """
[outbox]
retry_base_seconds = 1.0
retry_max_seconds = 2.0

[[officers]]
name = "budi"
number = "0812-3456-0001"
word = "mawar"

[[officers]]
name = "sari"
number = "081345670002"
word = "kenanga"
"""
NEUTRAL = FieldTexts().neutral()
# Every way the reporter's number is written, or shown by us.
FORMS = ["+6281234567001", "081234567001", "6281234567001", "0812 3456 7001", "0812-3456-7001",
         "+62 812 ••••• 01", "81234567001", "7001"]


def phones(emu: Emulator) -> list[tuple[str, str]]:
    """(recipient, text) of each SMS as the phone shows it: parts joined."""
    whole, pending = [], {}
    for sms in emu.sent:
        if sms.concat is None or sms.concat.total == 1:
            whole.append((sms.recipient, sms.text))
            continue
        parts = pending.setdefault((sms.recipient, sms.concat.reference), {})
        parts[sms.concat.sequence] = sms.text
        if len(parts) == sms.concat.total:
            whole.append((sms.recipient, "".join(parts[i] for i in sorted(parts))))
    return whole


def to(emu: Emulator, number: str) -> list[str]:
    return [text for recipient, text in phones(emu) if recipient == number]


class Loop:
    def __init__(self, daemon: DaemonProcess, emu: Emulator):
        self.daemon, self.emu = daemon, emu

    def desk(self, *args: str) -> str:
        result = CliRunner().invoke(main, ["--config", str(self.daemon.config), *args],
                                    env={"SMSBRIDGE_OPERATOR": "sari"})
        assert result.exit_code == 0, result.output
        return result.output

    def report(self, text: str) -> str:
        before = len(to(self.emu, REPORTER))
        self.emu.inject_text(REPORTER, text)
        wait_until(lambda: len(to(self.emu, REPORTER)) > before, 30, "the acknowledgement")
        return query(self.daemon.db, "SELECT ticket FROM cases ORDER BY id DESC LIMIT 1")[0][0]

    def dispatch(self, ticket: str, to_name: str = "budi") -> str:
        number = BUDI if to_name == "budi" else SARI
        before = len(to(self.emu, number))
        self.desk("cases", "dispatch", ticket, "--to", to_name)
        wait_until(lambda: len(to(self.emu, number)) > before, 30, "the dispatch SMS")
        return to(self.emu, number)[-1]

    def answer(self, sender: str, text: str, *, replies: int = 1) -> None:
        before = len(to(self.emu, sender))
        self.emu.inject_text(sender, text)
        wait_until(lambda: len(to(self.emu, sender)) >= before + replies, 30,
                   "the reply to the answer")

    def case(self, ticket: str) -> tuple:
        return query(self.daemon.db, "SELECT status, assigned_to, updated_at, text FROM cases"
                     " WHERE ticket = ?", (ticket,))[0]

    def events(self, ticket: str) -> int:
        return query(self.daemon.db, "SELECT count(*) FROM case_events e JOIN cases c"
                     " ON c.id = e.case_id WHERE c.ticket = ?", (ticket,))[0][0]

    def notices(self, ticket: str) -> list[tuple]:
        return query(self.daemon.db, "SELECT o.state FROM outbox o JOIN cases c"
                     " ON c.id = o.case_id WHERE c.ticket = ? AND o.kind = 'notice'", (ticket,))


@pytest.fixture
def loop(tmp_path: Path, emulator):
    d = DaemonProcess(tmp_path, emulator.port, ROSTER)
    d.start()
    d.wait_running()
    yield Loop(d, emulator)
    d.stop()


def test_a_dispatch_sms_carries_nothing_of_the_reporter_in_any_form(loop):
    ticket = loop.report("Ada judi sabung ayam di belakang Pasar Kliwon RT 03. Nama saya "
                         "Andi Wijaya, telp 0812-3456-7001 / +62 812 ••••• 01 / 6281234567001 "
                         "/ 0812 3456 7001. Ramai sore ini.")
    sms = loop.dispatch(ticket)
    assert sms.startswith(f"TUGAS {ticket}\n") and "Pasar Kliwon" in sms
    for form in FORMS:
        assert form not in sms, form
    assert "81234567001" not in "".join(c for c in sms if c.isdigit())
    assert "Andi" not in sms and "Wijaya" not in sms
    status, assigned, _, _ = loop.case(ticket)
    assert (status, assigned) == ("checking", "budi")
    shown = loop.desk("cases", "show", ticket)
    assert "dispatch by sari to budi  [sent" in shown or "budi  [delivered" in shown


def test_the_officers_answer_updates_the_case_confirms_and_tells_the_reporter(loop):
    ticket = loop.report("Balap liar di Jl. Sudirman tiap malam")
    loop.dispatch(ticket)
    loop.answer(BUDI, f"MAWAR {ticket.lower()} benar: ada 10 motor")
    assert to(loop.emu, BUDI)[-1] == f"OK {ticket}: dicatat, status terkonfirmasi."
    wait_until(lambda: len(to(loop.emu, REPORTER)) >= 2, 30, "the reporter's notice")
    assert ticket in to(loop.emu, REPORTER)[-1] and "benar" in to(loop.emu, REPORTER)[-1]
    assert loop.case(ticket)[0] == "confirmed"
    assert query(loop.daemon.db, "SELECT count(*) FROM cases")[0][0] == 1
    assert "ada 10 motor" in loop.desk("cases", "show", ticket)


def test_wrong_word_number_ticket_or_officer_and_a_spoofed_number_change_nothing(loop):
    ticket = loop.report("Ada pesta miras di pos ronda Gang Melati")
    loop.dispatch(ticket)
    before, events = loop.case(ticket), loop.events(ticket)
    attempts = [
        (BUDI, f"melati {ticket} PALSU"),  # a wrong word
        (BUDI, f"kenanga {ticket} PALSU"),  # a colleague's word
        (STRANGER, f"mawar {ticket} PALSU"),  # the right word from another number
        (BUDI, "mawar LP-000999 PALSU"),  # an unknown ticket
        (SARI, f"kenanga {ticket} PALSU"),  # a case not sent to her
        (BUDI, f"{ticket} PALSU tidak ada apa-apa"),  # the officer's number, spoofed
    ]
    for sender, text in attempts:
        loop.answer(sender, text)
        assert to(loop.emu, sender)[-1] == NEUTRAL
    assert loop.case(ticket) == before and loop.events(ticket) == events
    assert len(to(loop.emu, REPORTER)) == 1  # the acknowledgement, no notice
    refused = loop.desk("cases", "answers", "--refused")
    for reason in ("wrong verification word", "not registered for them", "unknown ticket",
                   "was not dispatched to sari", "no verification word"):
        assert reason in refused
    assert query(loop.daemon.db, "SELECT count(*) FROM cases")[0][0] == 1
    # Nothing of what the officers typed shows their words to whoever reads the messages.
    texts = " ".join(t or "" for (t,) in query(loop.daemon.db, "SELECT text FROM messages"))
    assert "mawar" not in texts and "kenanga" not in texts


def test_an_officers_many_answers_are_never_rate_limited_away(tmp_path, emulator):
    d = DaemonProcess(tmp_path, emulator.port, ROSTER + "[abuse]\nreplies_per_hour = 1\n"
                      "line_replies_per_hour = 3\nloop_threshold = 1\n")
    d.start()
    try:
        d.wait_running()
        loop = Loop(d, emulator)
        ticket = loop.report("Parkir liar di trotoar depan Pasar Gede")
        loop.dispatch(ticket)
        for i in range(15):
            emulator.inject_text(BUDI, f"mawar {ticket} jukir ke-{i} masih ada")
        wait_until(lambda: len(to(emulator, BUDI)) >= 1 + 15, 60, "every confirmation")
        notes = query(d.db, "SELECT count(*) FROM case_events WHERE operator = 'budi'"
                      " AND action = 'note'")[0][0]
        assert notes == 15 and set(to(emulator, BUDI)[1:]) == {f"OK {ticket}: catatan dicatat."}
    finally:
        d.stop()


def test_the_notice_goes_out_once_per_status_change_across_kill_9(tmp_path, emulator):
    d = DaemonProcess(tmp_path, emulator.port, ROSTER)
    d.start()
    try:
        d.wait_running()
        loop = Loop(d, emulator)
        ticket = loop.report("Tawuran pelajar di depan SMA 3")
        loop.dispatch(ticket)
        # The case changes and its notice is queued in one commit; the sends fail, so
        # the kill falls between that commit and the notice going out.
        emulator.fail_sends(1000)
        emulator.inject_text(BUDI, f"mawar {ticket} SELESAI sudah bubar")
        wait_until(lambda: loop.case(ticket)[0] == "resolved", 30, "the case to change")
        assert loop.notices(ticket) == [("queued",)]
        d.kill9()
        emulator.fail_sends(0)
        d.start()
        d.wait_running()
        wait_until(lambda: len(to(emulator, REPORTER)) >= 2, 60, "the notice after restart")
        # A kill while the officer's SMS waits on the SIM: read again, it changes nothing twice.
        emulator.inject_text(BUDI, f"mawar {ticket} SELESAI")
        d.kill9()
        d.start()
        d.wait_running()
        wait_until(lambda: len(to(emulator, BUDI)) >= 3, 60, "the second confirmation")
        wait_until(lambda: all(s != "queued" for (s,) in loop.notices(ticket)), 30,
                   "the outbox to settle")
        assert [t for t in to(emulator, REPORTER) if ticket in t][1:] == [
            to(emulator, REPORTER)[-1]]
        assert len(loop.notices(ticket)) == 1
    finally:
        d.stop()
