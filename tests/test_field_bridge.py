"""The field loop through the bridge in milliseconds: the in-memory modem, a real SQLite
file, a held clock. A case goes to an officer, the officer's SMS comes back, the
reporter hears of it; and every answer that must not change a case does not.

The same loop runs through the real daemon and the emulator in test_field_daemon.py.
"""

from __future__ import annotations

import pytest
from rigs import START, BridgeRig

from smsbridge.clock import ManualClock
from smsbridge.config import load as config_mod
from smsbridge.fieldwork.answers import Roster
from smsbridge.fieldwork.texts import FieldTexts
from smsbridge.models import CaseQuery
from smsbridge.replies import Notices
from smsbridge.store import Store

REPORTER = "+6281234567001"
BUDI, SARI = "+6281234560001", "+6281345670002"
STRANGER = "+6285700000009"
ROSTER = {
    "officers": [{"name": "budi", "number": "0812-3456-0001", "team": "buser-1",
                  "word": "mawarku"},
                 {"name": "sari", "number": "081345670002", "team": "buser-1",
                  "word": "kenanga"}],
    "teams": [{"name": "buser-1"}],
}
NEUTRAL = FieldTexts().neutral()


class Rig(BridgeRig):
    """The shared bridge rig, with the officers of ROSTER in its config."""

    def __init__(self, store: Store, clock: ManualClock):
        super().__init__(store, clock, config_mod.from_dict(ROSTER))
        self.codes: dict[str, str] = {}

    def to(self, number: str) -> list[str]:
        return self.replies_to(number)

    def report(self, text: str = "Ada judi sabung ayam di belakang Pasar Kliwon") -> str:
        self.sms(REPORTER, text)
        self.step()
        return self.store.cases.query(CaseQuery(limit=1))[0].ticket

    def dispatch(self, ticket: str, to: str = "budi", note: str | None = None) -> str:
        """Send the case out; the code of the (first) officer's dispatch."""
        officers, team = Roster.from_config(self.config).resolve(to)
        texts = FieldTexts.from_config(self.config)
        _, records = self.store.field.dispatch(
            ticket, officers, team=team, note=note, operator="sari",
            compose=lambda case, code: texts.for_case(case, note, code))
        self.step()
        self.codes.update({r.officer: r.code for r in records})
        return records[0].code

    def case(self, ticket: str):
        return self.store.cases.get(ticket)

    def cases(self) -> int:
        return len(self.store.cases.query(CaseQuery(limit=None)))

    def answers(self):
        return self.store.field.recent_answers(limit=1000)


@pytest.fixture
def rig(db_path):
    clock = ManualClock(START)
    with Store.open(db_path, clock=clock) as store:
        yield Rig(store, clock)


def test_the_whole_loop_dispatch_answer_confirmation_and_notice(rig):
    ticket = rig.report()
    rig.dispatch(ticket, note="cek sore ini")
    [dispatch] = rig.to(BUDI)
    assert dispatch.startswith(f"TUGAS {ticket}\n") and "Pasar Kliwon" in dispatch
    assert rig.case(ticket).status == "checking" and rig.case(ticket).assigned_to == "budi"
    rig.clock.advance(minutes=20)
    code = rig.codes["budi"]
    assert dispatch.endswith(f"\nBalas (sandi Anda di depan): {ticket} {code} "
                             "BENAR/PALSU/SELESAI")
    rig.sms(BUDI, f"Mawarku {ticket.lower()} {code.lower()} benar ada 5 orang main")
    rig.step()
    case = rig.case(ticket)
    assert case.status == "confirmed"
    assert rig.to(BUDI)[-1] == f"OK {ticket}: dicatat, status terkonfirmasi."
    assert rig.to(REPORTER)[-1] == Notices.from_config(rig.config).text("confirmed", ticket)
    assert rig.cases() == 1  # the officer's SMS is no report
    history = [(e.operator, e.action, e.note) for e in rig.store.cases.detail(ticket).events]
    assert ("budi", "status", "ada 5 orang main") in history
    [answer] = rig.answers()
    assert answer.accepted and answer.officer == "budi" and answer.new_status == "confirmed"
    assert answer.reply_state == "sent"


def test_an_officers_sms_is_never_a_report_and_gets_no_acknowledgement(rig):
    rig.sms(BUDI, "halo pak, ada yang bisa dibantu?")
    rig.step()
    assert rig.cases() == 0 and rig.to(BUDI) == [NEUTRAL]
    [answer] = rig.answers()
    assert not answer.accepted and answer.reason == "wrong verification word"


@pytest.mark.parametrize(("sender", "text", "reason"), [
    (BUDI, "melati {t} {c} BENAR", "wrong verification word"),
    (BUDI, "kenanga {t} {c} BENAR", "wrong verification word"),  # sari's word
    (BUDI, "{t} {c} BENAR ada judi", "no verification word"),  # a spoofed number, no word
    (BUDI, "mawarku LP-000777 {c} BENAR", "unknown ticket LP-000777"),
    (SARI, "kenanga {t} {c} BENAR", "{t} was not dispatched to sari"),
    (BUDI, "mawarku {t} BENAR", "no dispatch code after the ticket"),
    (BUDI, "mawarku {t} KATA BENAR", "no dispatch code after the ticket"),
    (BUDI, "mawarku {t} 9TXA BENAR", "wrong dispatch code"),
])
def test_an_answer_that_fails_changes_nothing_is_kept_and_gets_the_neutral_reply(
        rig, sender, text, reason):
    ticket = rig.report()
    rig.dispatch(ticket)
    before = rig.case(ticket)
    history = len(rig.store.cases.detail(ticket).events)
    rig.sms(sender, text.format(t=ticket, c=rig.codes["budi"]))
    rig.step()
    assert rig.case(ticket) == before
    assert len(rig.store.cases.detail(ticket).events) == history
    assert rig.cases() == 1
    [answer] = rig.answers()
    assert not answer.accepted and answer.reason == reason.format(t=ticket)
    assert rig.to(sender)[-1] == NEUTRAL
    assert len(rig.to(REPORTER)) == 1  # the acknowledgement alone


def test_the_verification_word_is_not_kept_readable_in_the_stored_message(rig):
    ticket = rig.report()
    code = rig.dispatch(ticket)
    rig.sms(BUDI, f"mawarku {ticket} {code} BENAR ada")
    rig.sms(BUDI, f"mawat {ticket} {code} BENAR typo")
    rig.step()
    texts = [m.text for m in rig.store.inbox.recent(limit=10)]
    assert f"**** {ticket} {code} BENAR ada" in texts
    assert f"**** {ticket} {code} BENAR typo" in texts
    assert not any("mawarku" in (t or "") or "mawat" in (t or "") for t in texts)


def test_a_spoofed_officer_number_without_the_word_can_neither_change_nor_flood(rig):
    ticket = rig.report()
    rig.dispatch(ticket)
    for i in range(40):
        rig.sms(BUDI, f"{ticket} PALSU spoof {i}")
        if i % 10 == 9:
            rig.step()
    rig.step()
    assert rig.case(ticket).status == "checking" and rig.cases() == 1
    # The neutral reply goes to the real officer's phone, within the per-number limit.
    assert rig.to(BUDI).count(NEUTRAL) == rig.config.abuse.replies_per_hour
    assert len([a for a in rig.answers() if not a.accepted]) == 40


def test_an_officers_many_answers_are_never_rate_limited_away(rig):
    rig.bridge.reconfigure(rig.config.replace(abuse={"replies_per_hour": 1,
                                                     "line_replies_per_hour": 2}))
    ticket = rig.report()
    rig.dispatch(ticket)
    for i in range(25):
        rig.sms(BUDI, f"mawarku {ticket} {rig.codes['budi']} pelaku ke-{i} terlihat")
    rig.step()
    notes = [e.note for e in rig.store.cases.detail(ticket).events
             if e.operator == "budi" and e.action == "note"]
    assert len(notes) == 25 and len(rig.to(BUDI)) == 1 + 25
    assert all(a.accepted for a in rig.answers())


def test_the_reporter_hears_once_per_status_change(rig):
    ticket = rig.report()
    rig.dispatch(ticket)
    for text in ("mawarku {t} {c} BENAR", "mawarku {t} {c} catatan saja",
                 "mawarku {t} {c} SELESAI bubar"):
        rig.sms(BUDI, text.format(t=ticket, c=rig.codes["budi"]))
        rig.step()
    notices = Notices.from_config(rig.config)
    assert rig.to(REPORTER)[1:] == [notices.text("confirmed", ticket),
                                    notices.text("resolved", ticket)]
    assert rig.case(ticket).status == "resolved"
    assert rig.to(BUDI)[-1] == f"OK {ticket}: dicatat, status selesai."


def test_resolved_straight_from_checking_confirms_on_the_way_and_tells_once(rig):
    ticket = rig.report()
    rig.dispatch(ticket)
    rig.sms(BUDI, f"mawarku {ticket} {rig.codes['budi']} SELESAI sudah dibubarkan")
    rig.step()
    statuses = [(e.old_status, e.new_status) for e in rig.store.cases.detail(ticket).events
                if e.action == "status"]
    assert statuses[-2:] == [("checking", "confirmed"), ("confirmed", "resolved")]
    assert rig.to(REPORTER)[1:] == [Notices.from_config(rig.config).text("resolved", ticket)]


def test_fake_tells_the_reporter_nothing_by_default(rig):
    ticket = rig.report()
    rig.dispatch(ticket)
    rig.sms(BUDI, f"mawarku {ticket} {rig.codes['budi']} PALSU pasar sepi")
    rig.step()
    assert rig.case(ticket).status == "fake" and len(rig.to(REPORTER)) == 1


def test_an_operators_status_change_tells_the_reporter_too(rig):
    ticket = rig.report()
    notices = Notices.from_config(rig.config)
    rig.store.change_case(ticket, notices=notices, operator="sari", status="checking")
    rig.store.change_case(ticket, notices=notices, operator="sari", status="confirmed")
    rig.store.change_case(ticket, notices=notices, operator="sari", note="just a note")
    rig.step()
    assert rig.to(REPORTER)[1:] == [notices.text("confirmed", ticket)]


def test_a_team_dispatch_reaches_each_officer_and_either_may_answer(rig):
    ticket = rig.report()
    rig.dispatch(ticket, to="BUSER-1")
    assert len(rig.to(BUDI)) == 1 and len(rig.to(SARI)) == 1
    assert rig.case(ticket).assigned_to == "buser-1"
    rig.sms(SARI, f"kenanga {ticket} {rig.codes['sari']} BENAR")
    rig.step()
    assert rig.case(ticket).status == "confirmed"


@pytest.mark.parametrize("word", ["mawarku", "melati", "kenanga"])
def test_a_stranger_gets_what_any_citizen_gets_whatever_its_first_word(rig, word):
    """No oracle: budi's word (mawarku), sari's (kenanga) and a wrong one from another
    number each open a case and get its acknowledgement, the same way and numbering."""
    ticket = rig.report()
    code = rig.dispatch(ticket)
    rig.sms(STRANGER, f"{word} {ticket} {code} PALSU")
    rig.step()
    assert rig.case(ticket).status == "checking"
    [reply] = rig.to(STRANGER)
    assert reply == rig.to(REPORTER)[0].replace(ticket, "LP-000002")
    assert rig.cases() == 2
    [attempt] = rig.answers()
    assert not attempt.accepted and attempt.sender == STRANGER
    owner = {"mawarku": "budi", "kenanga": "sari"}.get(word)
    assert attempt.attempt == ("leak" if owner else None)
    assert attempt.reason == (f"the verification word of {owner or 'nobody'} from a number "
                              "that is not registered for them")


def test_a_citizen_whose_report_opens_like_an_answer_still_reports(rig):
    rig.sms(STRANGER, "Melati 12 selesai isya ada judi di gang")
    rig.step()
    assert rig.cases() == 1
    assert rig.to(STRANGER) == [rig.bridge.templates.render_ack("LP-000001")]


def test_a_replayed_answer_changes_nothing_after_the_desk_reopens(rig):
    ticket = rig.report()
    code = rig.dispatch(ticket)
    answer = f"mawarku {ticket} {code} SELESAI bubar"
    rig.sms(BUDI, answer)
    rig.step()
    assert rig.case(ticket).status == "resolved"
    notices = Notices.from_config(rig.config)
    rig.store.change_case(ticket, notices=notices, operator="sari", status="checking",
                          note="pelapor bilang masih ada")
    rig.sms(BUDI, answer + " ")  # the same answer again (a new PDU)
    rig.step()
    assert rig.case(ticket).status == "checking"
    refused = rig.answers()[0]
    assert not refused.accepted and refused.reason.startswith("replayed: resolved")
    assert rig.to(BUDI)[-1] == NEUTRAL


def test_an_answer_to_an_earlier_dispatch_changes_nothing(rig):
    ticket = rig.report()
    first = rig.dispatch(ticket)
    second = rig.dispatch(ticket, note="cek lagi")
    assert first != second
    rig.sms(BUDI, f"mawarku {ticket} {first} PALSU")
    rig.step()
    assert rig.case(ticket).status == "checking"
    assert rig.answers()[0].reason == "the code of an earlier dispatch"
    rig.sms(BUDI, f"mawarku {ticket} {second} PALSU")
    rig.step()
    assert rig.case(ticket).status == "fake"


def test_an_officer_no_longer_on_the_case_cannot_change_it(rig):
    ticket = rig.report()
    code = rig.dispatch(ticket, to="budi")
    rig.dispatch(ticket, to="sari")
    rig.sms(BUDI, f"mawarku {ticket} {code} SELESAI")
    rig.step()
    assert rig.case(ticket).status == "checking"
    assert rig.answers()[0].reason == (f"{ticket} has since been dispatched to sari: budi "
                                       "is no longer on it")
    [budi, sari] = rig.store.field.dispatches(rig.case(ticket).id)
    assert budi.superseded and not sari.superseded and budi.code != sari.code


def test_a_citizen_who_writes_an_officers_word_still_reports(rig):
    rig.sms(STRANGER, "mawarku 2 ada judi di gang")
    rig.step()
    assert rig.cases() == 1 and rig.answers() == []


def test_dispatch_sms_to_officers_and_confirmations_spend_no_reply_budget(rig):
    ticket = rig.report()
    rig.dispatch(ticket)
    rig.sms(BUDI, f"mawarku {ticket} {rig.codes['budi']} catatan")
    rig.sms(BUDI, f"melati {ticket} {rig.codes['budi']} BENAR")
    rig.step()
    since = "2000-01-01T00:00:00+00:00"
    # The acknowledgement and the one neutral reply; not the dispatch nor the confirmation.
    assert rig.store.outbox.count_auto_replies(since=since) == 2


# --- guessing is detected and stopped ------------------------------------------------


def test_wrong_words_from_an_officers_number_lock_the_word_until_it_is_changed(rig, caplog):
    ticket = rig.report()
    code = rig.dispatch(ticket)
    limit = rig.config.fieldwork.guess_limit
    for i in range(limit):
        rig.sms(BUDI, f"tebak{i} {ticket} {code} PALSU")
        rig.step()
    assert "verification word of budi LOCKED" in caplog.text
    rig.sms(BUDI, f"mawarku {ticket} {code} PALSU")  # the right word, too late
    rig.step()
    assert rig.case(ticket).status == "checking"
    assert "is locked after guessing" in rig.answers()[0].reason
    assert [a.attempt for a in rig.answers()[1:]] == ["guess"] * limit
    alerts = [n for a, n in rig.events(rig.case(ticket).id) if a == "alert"]
    assert len(alerts) == 1 and f"{limit} wrong words" in alerts[0]
    from smsbridge.cli.watch import change_line  # what `cases watch` prints

    watched = [change_line(c, zone=None, width=200)
               for c in rig.store.desk.newest_changes(3, CaseQuery())]
    assert any(" ALERT " in line and "budi LOCKED" in line for line in watched)
    assert "tebak" not in " ".join(m.text or "" for m in rig.store.inbox.recent(limit=20))
    # The administrator gives budi a new word: the lock was on the old one.
    officers = [dict(o, word="anyelir") if o["name"] == "budi" else o
                for o in ROSTER["officers"]]
    rig.configure(officers=tuple(config_mod.from_dict({**ROSTER, "officers": officers})
                                 .officers))
    rig.sms(BUDI, f"anyelir {ticket} {code} PALSU")
    rig.step()
    assert rig.case(ticket).status == "fake"


def test_a_real_word_sent_from_other_numbers_is_locked_and_they_stay_citizens(rig):
    ticket = rig.report()
    code = rig.dispatch(ticket)
    for i in range(rig.config.fieldwork.leak_limit):
        stranger = f"+62857000000{i:02d}"
        rig.sms(stranger, f"mawarku {ticket} {code} PALSU")
        rig.step()
        assert len(rig.to(stranger)) == 1 and "LP-0000" in rig.to(stranger)[0]
    assert [owners for _, owners, _, _ in rig.bridge.field.locks()] == ["budi"]
    rig.sms(BUDI, f"mawarku {ticket} {code} PALSU")
    rig.step()
    assert rig.case(ticket).status == "checking" and rig.to(BUDI)[-1] == NEUTRAL


def test_a_few_mistakes_in_a_day_lock_nothing(rig):
    ticket = rig.report()
    code = rig.dispatch(ticket)
    for _ in range(rig.config.fieldwork.guess_limit - 1):
        rig.sms(BUDI, f"mawat {ticket} {code} BENAR")
        rig.step()
        rig.clock.advance(minutes=30)
    rig.clock.advance(hours=24)
    rig.sms(BUDI, f"mawat {ticket} {code} BENAR")
    rig.step()
    rig.sms(BUDI, f"mawarku {ticket} {code} BENAR")
    rig.step()
    assert rig.case(ticket).status == "confirmed" and rig.bridge.field.locks() == []


# --- the word never rests in clear ---------------------------------------------------


def test_an_officers_word_is_masked_wherever_and_however_often_it_stands(rig):
    ticket = rig.report()
    code = rig.dispatch(ticket)
    rig.sms(BUDI, f"Mawarku {ticket} {code} BENAR ada 5 orang, mawarku MAWARKU")
    rig.sms(BUDI, f"{ticket} mawarku BENAR")  # the word in the wrong place
    rig.step()
    messages = rig.store.inbox.recent(limit=10)
    assert not any("mawarku" in (m.text or "").casefold() for m in messages)
    officer = [m for m in messages if m.sender == BUDI]
    assert len(officer) == 2 and all(m.pdu.startswith("withheld") for m in officer)
    notes = [a.note for a in rig.answers()] + [n or "" for _, n in rig.events(
        rig.case(ticket).id)]
    assert "ada 5 orang, **** ****" in notes
    assert not any("mawarku" in n.casefold() for n in notes)


def test_a_citizens_text_carrying_a_word_is_kept_without_it(rig):
    rig.sms(STRANGER, "mawarku LP-000001 SELESAI dari hp lain, melati juga tahu kenanga")
    rig.step()
    [case] = rig.store.cases.query(CaseQuery(limit=None))
    assert case.text == "**** LP-000001 SELESAI dari hp lain, melati juga tahu ****"
    [message] = rig.store.inbox.recent(limit=1)
    assert message.text == case.text and message.pdu.startswith("withheld")
    # A citizen's text without a word keeps its PDU for forensics.
    rig.sms(REPORTER, "Ada judi di gang Melati")
    rig.step()
    assert not rig.store.inbox.recent(limit=1)[0].pdu.startswith("withheld")


def test_a_word_split_across_the_parts_of_a_long_sms_is_masked_across_them(rig):
    ticket = rig.report()
    code = rig.dispatch(ticket)
    head = f"x {ticket} {code} "
    text = head + "y" * (151 - len(head)) + " mawarku ada di pasar"  # parts of 153 septets
    assert len(rig.sms(BUDI, text)) == 2
    rig.step()
    parts = sorted(rig.store.inbox.recent(limit=2), key=lambda m: m.concat_seq)
    joined = "".join(m.text for m in parts)
    assert joined.endswith(" ******* ada di pasar") and "*" in parts[0].text
    assert parts[1].text.startswith("*") and "awar" not in joined
