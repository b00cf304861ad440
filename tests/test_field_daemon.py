"""The field loop end to end: the daemon as a real process, the emulator on a real pty,
the desk's commands on the same SQLite file. A case goes out to an officer's phone,
the officer's SMS comes back, the reporter's phone hears of it; spoofed and mistaken
answers change nothing; a kill -9 neither loses nor repeats a notice."""

from __future__ import annotations

import json
import sqlite3
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
word = "mawarku"

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


def code_of(dispatch: str) -> str:
    """The one-time code of a dispatch SMS: after the ticket on its reply line."""
    return dispatch.splitlines()[-1].split(": ")[1].split()[1]


def to(emu: Emulator, number: str) -> list[str]:
    return [text for recipient, text in phones(emu) if recipient == number]


class Loop:
    def __init__(self, daemon: DaemonProcess, emu: Emulator):
        self.daemon, self.emu = daemon, emu

    def desk(self, *args: str) -> str:
        # A wide terminal: these tests read what the desk is told, not how it is cut to
        # fit 80 columns.
        result = CliRunner().invoke(main, ["--config", str(self.daemon.config), *args],
                                    env={"SMSBRIDGE_OPERATOR": "sari", "COLUMNS": "250"})
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


@pytest.fixture
def hooked(tmp_path: Path, emulator):
    """The loop with a hook that appends each payload to a file: (loop, that file)."""
    hooks = tmp_path / "hooks.jsonl"
    d = DaemonProcess(tmp_path, emulator.port, ROSTER + "[hook]\ncommand = '"
                      f'cat >> "{hooks}"; echo >> "{hooks}"' "'\n")
    d.start()
    try:
        d.wait_running()
        yield Loop(d, emulator), hooks
    finally:
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
    code = code_of(loop.dispatch(ticket))
    loop.answer(BUDI, f"MAWARKU {ticket.lower()} {code} benar: ada 10 motor")
    assert to(loop.emu, BUDI)[-1] == f"OK {ticket}: dicatat, status terkonfirmasi."
    wait_until(lambda: len(to(loop.emu, REPORTER)) >= 2, 30, "the reporter's notice")
    assert ticket in to(loop.emu, REPORTER)[-1] and "benar" in to(loop.emu, REPORTER)[-1]
    assert loop.case(ticket)[0] == "confirmed"
    assert query(loop.daemon.db, "SELECT count(*) FROM cases")[0][0] == 1
    assert "ada 10 motor" in loop.desk("cases", "show", ticket)


def test_wrong_word_number_ticket_or_officer_and_a_spoofed_number_change_nothing(loop):
    ticket = loop.report("Ada pesta miras di pos ronda Gang Melati")
    code = code_of(loop.dispatch(ticket))
    before, events = loop.case(ticket), loop.events(ticket)
    attempts = [
        (BUDI, f"melati {ticket} {code} PALSU"),  # a wrong word
        (BUDI, f"kenanga {ticket} {code} PALSU"),  # a colleague's word
        (BUDI, f"mawarku LP-000999 {code} PALSU"),  # an unknown ticket
        (SARI, f"kenanga {ticket} {code} PALSU"),  # a case not sent to her
        (BUDI, f"{ticket} {code} PALSU tidak ada apa-apa"),  # the officer's number, spoofed
        (BUDI, f"mawarku {ticket} PALSU"),  # no code
    ]
    for sender, text in attempts:
        loop.answer(sender, text)
        assert to(loop.emu, sender)[-1] == NEUTRAL
    assert loop.case(ticket) == before and loop.events(ticket) == events
    assert len(to(loop.emu, REPORTER)) == 1  # the acknowledgement, no notice
    # Nothing of what the officers typed shows their words to whoever reads the messages.
    texts = " ".join(t or "" for (t,) in query(loop.daemon.db, "SELECT text FROM messages"))
    assert "mawarku" not in texts and "kenanga" not in texts
    # The right word from another number: a citizen's report like any other.
    loop.emu.inject_text(STRANGER, f"mawarku {ticket} {code} PALSU")
    wait_until(lambda: len(to(loop.emu, STRANGER)) == 1, 30, "the stranger's reply")
    assert "LP-000002" in to(loop.emu, STRANGER)[0] and to(loop.emu, STRANGER)[0] != NEUTRAL
    assert query(loop.daemon.db, "SELECT count(*) FROM cases")[0][0] == 2
    refused = loop.desk("cases", "answers", "--refused")
    for reason in ("wrong verification word", "not registered for them", "unknown ticket",
                   "was not dispatched to sari", "no verification word", "no dispatch code"):
        assert reason in refused


def test_an_officers_many_answers_are_never_rate_limited_away(tmp_path, emulator):
    d = DaemonProcess(tmp_path, emulator.port, ROSTER + "[abuse]\nreplies_per_hour = 1\n"
                      "line_replies_per_hour = 3\nloop_threshold = 1\n")
    d.start()
    try:
        d.wait_running()
        loop = Loop(d, emulator)
        ticket = loop.report("Parkir liar di trotoar depan Pasar Gede")
        code = code_of(loop.dispatch(ticket))
        for i in range(15):
            emulator.inject_text(BUDI, f"mawarku {ticket} {code} jukir ke-{i} masih ada")
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
        code = code_of(loop.dispatch(ticket))
        # The case changes and its notice is queued in one commit; the sends fail, so
        # the kill falls between that commit and the notice going out.
        emulator.fail_sends(1000)
        emulator.inject_text(BUDI, f"mawarku {ticket} {code} SELESAI sudah bubar")
        wait_until(lambda: loop.case(ticket)[0] == "resolved", 30, "the case to change")
        assert loop.notices(ticket) == [("queued",)]
        d.kill9()
        emulator.fail_sends(0)
        d.start()
        d.wait_running()
        wait_until(lambda: len(to(emulator, REPORTER)) >= 2, 60, "the notice after restart")
        # A kill while the officer's SMS waits on the SIM: read again, it changes nothing twice.
        emulator.inject_text(BUDI, f"mawarku {ticket} {code} SELESAI")
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


def test_a_guessing_run_of_300_sms_gets_a_citizens_reply_and_locks_the_word(hooked,
                                                                              emulator):
    """One SIM tries words on a real case: 200 SMS from its own number, then 100 with
    the officer's number spoofed. From its own number it is a citizen (one
    acknowledgement, whatever the word); from the officer's, the word locks after the
    fifth wrong one, so the right word at the 42nd is refused; the desk is told."""
    loop, hooks = hooked
    d = loop.daemon
    ticket = loop.report("Ada judi togel di warung belakang terminal")
    code = code_of(loop.dispatch(ticket))

    def answered(n: int) -> None:
        wait_until(lambda: query(d.db, "SELECT count(*) FROM field_answers")[0][0] >= n,
                   120, f"{n} answers recorded")

    for i in range(200):
        word = "mawarku" if i == 120 else f"tebak{i}"
        emulator.inject_text(STRANGER, f"{word} {ticket} {code} PALSU")
    answered(200)
    for i in range(41):
        emulator.inject_text(BUDI, f"coba{i} {ticket} {code} PALSU")
    answered(241)
    for i in range(59):
        word = "mawarku" if i in (0, 58) else f"coba{41 + i}"
        emulator.inject_text(BUDI, f"{word} {ticket} {code} PALSU {i}")
    answered(300)

    assert loop.case(ticket)[0] == "checking"
    assert len(to(emulator, STRANGER)) == 1  # the citizen's acknowledgement, once
    rows = query(d.db, "SELECT id, attempt, reason FROM field_answers ORDER BY id")
    assert len(rows) == 300 and not any(r[2] is None for r in rows)
    guesses = [i for i, (_, attempt, _) in enumerate(rows, 1) if attempt == "guess"]
    locked_at = guesses[4]  # the fifth wrong word
    refused_right = [i for i, (_, _, reason) in enumerate(rows, 1)
                     if "is locked after guessing" in reason]
    assert locked_at == 205 and refused_right == [242, 300]
    status = json.loads(loop.desk("status", "--json"))
    assert [w["owners"] for w in status["locked_words"]] == ["budi"]
    assert "verification word of budi LOCKED" in d.log_text()
    wait_until(lambda: hooks.exists() and "LOCKED" in hooks.read_text(), 30, "the hook")
    alert = [json.loads(line) for line in hooks.read_text().splitlines()
             if "alert" in line]
    assert alert[0]["ticket"] == ticket and "5 wrong words" in alert[0]["alert"]
    print(f"\nguessing run: 300 SMS, {len(to(emulator, STRANGER))} SMS back to the "
          f"guessing SIM, {to(emulator, BUDI).count(NEUTRAL)} neutral replies to the "
          f"officer's real phone, word locked at SMS {locked_at}, the right word "
          f"refused at {refused_right}")


def test_the_word_rests_nowhere_in_clear(hooked, emulator):
    """Answers with the word typed twice, in the wrong place, and from another phone:
    no row of the database, no export, no hook payload, no journal line holds it."""
    loop, hooks = hooked
    d = loop.daemon
    ticket = loop.report("Ada judi kartu di pos ronda")
    code = code_of(loop.dispatch(ticket))
    loop.answer(BUDI, f"Mawarku {ticket} {code} BENAR ada 5 orang, mawarku MAWARKU")
    loop.answer(BUDI, f"{ticket} mawarku BENAR")
    loop.emu.inject_text(STRANGER, f"mawarku {ticket} SELESAI dari hp lain, kenanga tahu")
    wait_until(lambda: len(to(emulator, STRANGER)) == 1, 30, "the stranger's reply")
    wait_until(lambda: hooks.exists() and hooks.read_text().count("ticket") >= 2, 30,
               "both cases' hooks")
    conn = sqlite3.connect(d.db)
    dump = "\n".join(conn.iterdump()).casefold()
    conn.close()
    pdus = [p for (p,) in query(d.db, "SELECT pdu FROM messages WHERE kind = 'deliver'"
                                      " AND sender IN (token(?), token(?))", (BUDI, STRANGER))]
    exported = loop.desk("export", "--format", "json") + loop.desk(
        "cases", "show", ticket) + loop.desk("cases", "answers") + loop.desk(
        "messages", "--limit", "50")
    for where, text in (("the database", dump), ("the export and the desk", exported),
                        ("the hooks", hooks.read_text()), ("the journal", d.log_text())):
        assert "mawarku" not in text.casefold() and "kenanga" not in text.casefold(), where
    assert len(pdus) == 3 and all(p.startswith("withheld") for p in pdus)


def test_a_real_word_sent_from_other_phones_is_locked_and_the_desk_told(loop):
    ticket = loop.report("Ada pesta sabu di kos belakang kampus")
    code = code_of(loop.dispatch(ticket))
    strangers = [f"+6285700000{i:03d}" for i in range(3)]
    for number in strangers:
        loop.emu.inject_text(number, f"mawarku {ticket} {code} PALSU")
    wait_until(lambda: all(len(to(loop.emu, n)) == 1 for n in strangers), 30,
               "the strangers' acknowledgements")
    assert all(to(loop.emu, n)[0] != NEUTRAL for n in strangers)
    loop.answer(BUDI, f"mawarku {ticket} {code} PALSU")
    assert to(loop.emu, BUDI)[-1] == NEUTRAL and loop.case(ticket)[0] == "checking"
    status = loop.desk("status")
    assert "verification word of budi LOCKED" in status and "3 answers carrying it" in status
    assert "verification word of budi LOCKED" in loop.daemon.log_text()
    refused = loop.desk("cases", "answers", "--refused")
    assert refused.count("[a real word, wrong phone]") == 3
    assert not any(number in refused for number in strangers)  # shown masked


def test_an_answer_replayed_or_to_an_earlier_dispatch_changes_nothing(loop):
    ticket = loop.report("Ada judi dadu di pos kamling")
    code = code_of(loop.dispatch(ticket))
    answer = f"mawarku {ticket} {code} SELESAI sudah bubar"
    loop.answer(BUDI, answer)
    assert loop.case(ticket)[0] == "resolved"
    loop.desk("cases", "update", ticket, "--status", "checking", "--note", "masih ada")
    loop.answer(BUDI, answer + " lagi")  # the old answer, sent again
    assert loop.case(ticket)[0] == "checking" and to(loop.emu, BUDI)[-1] == NEUTRAL
    sari_code = code_of(loop.dispatch(ticket, "sari"))
    loop.answer(BUDI, f"mawarku {ticket} {code} PALSU")  # no longer on the case
    assert loop.case(ticket)[0] == "checking"
    loop.answer(SARI, f"kenanga {ticket} {sari_code} SELESAI")
    assert loop.case(ticket)[0] == "resolved"
    refused = loop.desk("cases", "answers", "--refused")
    assert "replayed: resolved was already recorded" in refused
    assert "budi is no longer on it" in refused
