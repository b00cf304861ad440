"""The field loop's pure parts: the officers' grammar, who may change a case, what the
SMS say (and never say), and the roster in the config."""

from __future__ import annotations

import pytest

from smsbridge import intake
from smsbridge.config import load as config
from smsbridge.errors import ConfigError, InvalidInput
from smsbridge.fieldwork.answers import (
    Accept,
    Answer,
    DispatchFacts,
    FieldFacts,
    Officer,
    Refuse,
    Roster,
    judge,
    new_code,
    parse_answer,
    steps_to,
)
from smsbridge.fieldwork.texts import (
    DISPATCH_MAX_PARTS,
    NOTE_MAX_CHARS,
    FieldTexts,
    scrub,
)
from smsbridge.replies import NoticeCounts, Notices, built_in_notice
from smsbridge.sms import pdu
from smsbridge.tickets import STATUSES, CaseFacts

FINDINGS = {"BENAR": "confirmed", "PALSU": "fake", "SELESAI": "resolved"}
BUDI = Officer("budi", "+6281234560001", "buser-1", "mawar")
SARI = Officer("sari", "+6281345670002", "buser-1", "melati")
CASE = CaseFacts(123, "LP-000123", "checking")
LONGEST_TICKETS = ["ABCD-1234567", "AB-123456789", "1234567890"]
REPORTER = "+6281234567001"
# Every way the reporter's number can be written, or shown by us.
REPORTER_FORMS = ["+6281234567001", "081234567001", "6281234567001", "0812 3456 7001",
                  "0812-3456-7001", "+62 812-3456-7001", "(0812) 3456-7001", "+62 812 ••••• 01",
                  "0812 ••••• 01", "0812.3456.7001"]


def parse(text: str) -> Answer:
    return parse_answer(text, findings=FINDINGS, prefix="LP", digits=6)


# --- the grammar ---------------------------------------------------------------------


@pytest.mark.parametrize(("text", "word", "number", "finding", "note"), [
    ("mawar LP-000123 BENAR ada 5 orang main kartu", "mawar", 123, "confirmed",
     "ada 5 orang main kartu"),
    ("Mawar lp123 palsu: pasar sepi", "Mawar", 123, "fake", "pasar sepi"),
    ("mawar 123 selesai bubar", "mawar", 123, "resolved", "bubar"),
    ("MAWAR lp 000123 Benar.", "MAWAR", 123, "confirmed", ""),
    ("mawar LP-OOO123 SELESAI", "mawar", 123, "resolved", ""),
    ("mawar: LP#123, PALSU, tidak ada apa-apa", "mawar", 123, "fake", "tidak ada apa-apa"),
    ("mawar LP-000123 pelaku naik motor hitam", "mawar", 123, None, "pelaku naik motor hitam"),
    ("  mawar   LP-000123   BENAR   ", "mawar", 123, "confirmed", ""),
    ("mawar LP-000123 benarkah itu", "mawar", 123, None, "benarkah itu"),
    ("mawar\nLP-000123\nSELESAI\nsudah bubar", "mawar", 123, "resolved", "sudah bubar"),
])
def test_answers_are_read_whatever_their_case_separators_and_lookalike_digits(
        text, word, number, finding, note):
    answer = parse(text)
    assert (answer.word, answer.number, answer.finding, answer.note) == (word, number,
                                                                          finding, note)


def test_an_answer_that_opens_with_its_ticket_has_no_word():
    answer = parse("LP-000123 BENAR ada judi")
    assert answer.word is None and answer.number == 123 and answer.finding == "confirmed"


def test_an_answer_without_a_ticket_says_so():
    answer = parse("mawar sudah dicek semua aman")
    assert answer.word == "mawar" and answer.ticket is None and answer.number is None


def test_another_lines_ticket_is_typed_but_not_a_number():
    answer = parse("mawar 99999999999 BENAR")
    assert answer.ticket == "99999999999" and answer.number is None


# --- who may change a case -----------------------------------------------------------


def facts(text: str, officer: Officer | None = BUDI, case: CaseFacts | None = CASE,
          dispatched: tuple[str, ...] = ("budi",), owners: tuple[str, ...] = (),
          ever: tuple[str, ...] | None = None, code: str = "K7RA",
          earlier: tuple[str, ...] = (), used: tuple = (), locked: bool = False
          ) -> FieldFacts:
    sent = DispatchFacts(dispatched, dispatched if ever is None else ever, code, earlier, used)
    return FieldFacts(parse(text), officer, owners, case, sent, locked)


def test_the_registered_officer_with_their_word_changes_a_case_dispatched_to_them():
    verdict = judge(facts("mawar LP-000123 k7ra BENAR ada 5 orang"))
    assert verdict == Accept(BUDI, CASE, "confirmed", "ada 5 orang", ("confirmed",), "K7RA")


@pytest.mark.parametrize(("text", "kwargs", "reason"), [
    ("melati LP-000123 K7RA BENAR", {}, "wrong verification word"),
    ("LP-000123 K7RA BENAR", {}, "no verification word"),
    ("mawar LP-000999 K7RA BENAR", {"case": None}, "unknown ticket LP-000999"),
    ("mawar LP-000123 K7RA BENAR", {"dispatched": ("sari",)},
     "LP-000123 was not dispatched to budi"),
    ("mawar LP-000123 K7RA BENAR", {"officer": None, "owners": ("budi",)},
     "the verification word of budi from a number that is not registered for them"),
    ("mawar apa kabar", {}, "not understood: no ticket after the word"),
    ("mawar LP-000123 K7RA", {}, "nothing to record: no finding and no text"),
    ("mawar 99999999999 BENAR", {}, "'99999999999' is not a ticket of this line"),
    ("mawar LP-000123 BENAR", {}, "no dispatch code after the ticket"),
    ("mawar LP-000123 KATA BENAR", {}, "no dispatch code after the ticket"),
    ("mawar LP-000123 9TXA BENAR", {}, "wrong dispatch code"),
    ("mawar LP-000123 9TXA BENAR", {"earlier": ("9TXA",)}, "the code of an earlier dispatch"),
    ("mawar LP-000123 K7RA BENAR", {"dispatched": ("sari",), "ever": ("budi", "sari")},
     "LP-000123 has since been dispatched to sari: budi is no longer on it"),
    ("mawar LP-000123 K7RA BENAR lagi", {"used": (("confirmed", ""),)},
     "replayed: confirmed was already recorded with this dispatch's code"),
    ("mawar LP-000123 K7RA pelaku lari", {"used": ((None, "pelaku lari"),)},
     "replayed: this note was already recorded with this dispatch's code"),
    ("sandi LP-000123 K7RA BENAR", {}, "'sandi' from the reply line instead of the "
     "verification word"),
    ("mawar LP-000123 K7RA BENAR", {"locked": True},
     "the verification word of budi is locked after guessing: the administrator must "
     "change it"),
])
def test_an_answer_that_fails_any_check_changes_nothing_and_says_why_to_the_desk(
        text, kwargs, reason):
    verdict = judge(facts(text, **kwargs))
    assert isinstance(verdict, Refuse) and verdict.reason == reason


def test_a_team_mates_word_is_not_the_officers_own():
    assert isinstance(judge(facts("melati LP-000123 K7RA BENAR",
                                  dispatched=("budi", "sari"))), Refuse)


def test_a_second_note_and_a_later_finding_with_one_code_are_accepted():
    used = (("confirmed", ""), (None, "pelaku lari"))
    for text in ("mawar 123 K7RA pelaku ke utara", "mawar 123 K7RA SELESAI"):
        assert isinstance(judge(facts(text, used=used)), Accept)


@pytest.mark.parametrize(("text", "code", "finding", "note"), [
    ("mawar LP-000123 K7RA BENAR ada", "K7RA", "confirmed", "ada"),
    ("mawar lp123 k7ra, palsu", "K7RA", "fake", ""),
    ("mawar 123 K7RA pelaku lari", "K7RA", None, "pelaku lari"),
    ("mawar 123 ADA judi", None, None, "ADA judi"),  # a word of the note, not a code
    ("mawar 123 BENAR", None, "confirmed", ""),
])
def test_the_code_stands_after_the_ticket_and_is_told_from_a_note(text, code, finding, note):
    answer = parse(text)
    assert (answer.code, answer.finding, answer.note) == (code, finding, note)


def test_codes_are_fresh_readable_and_never_a_word():
    codes = {new_code() for _ in range(200)}
    assert len(codes) > 190
    for code in codes:
        assert parse(f"mawar 123 {code} BENAR").code == code
        assert not set(code) & set("0O1IL2Z5S8B6G")


@pytest.mark.parametrize(("current", "finding", "steps"), [
    ("checking", "confirmed", ("confirmed",)),
    ("new", "confirmed", ("checking", "confirmed")),
    ("checking", "resolved", ("confirmed", "resolved")),
    ("confirmed", "resolved", ("resolved",)),
    ("checking", "fake", ("fake",)),
    ("confirmed", "fake", ()),  # the desk decides; the officer's words become a note
    ("confirmed", "confirmed", ()),
    ("resolved", "confirmed", ()),  # reopening is the desk's decision
    ("duplicate", "resolved", ()),
    ("checking", None, ()),
])
def test_a_finding_moves_a_case_forward_along_the_workflow_only(current, finding, steps):
    assert steps_to(current, finding) == steps


# --- intake: officers are never citizens ---------------------------------------------


def test_an_officer_is_decided_before_every_citizens_rule():
    policy = intake.Policy(replies_per_hour=1, line_replies_per_hour=0)
    decided = intake.decide(intake.Facts(
        sender=BUDI.number, text="x", blocked=True, replies_last_hour=50,
        line_replies_last_hour=10_000, fieldwork=facts("mawar LP-000123 K7RA BENAR")), policy)
    assert isinstance(decided, intake.FieldAnswer)
    assert isinstance(decided.verdict, Accept) and decided.reply.send


def test_a_refused_answer_is_answered_only_within_the_reply_limits():
    policy = intake.Policy(replies_per_hour=5)
    spoofed = facts("LP-000123 BENAR")
    quiet = intake.decide(intake.Facts(sender=BUDI.number, text="x", replies_last_hour=5,
                                       fieldwork=spoofed), policy)
    assert isinstance(quiet, intake.FieldAnswer) and not quiet.reply.send
    answered = intake.decide(intake.Facts(sender=BUDI.number, text="x", fieldwork=spoofed),
                             policy)
    assert isinstance(answered, intake.FieldAnswer) and answered.reply.send


def test_a_blocklisted_stranger_trying_a_word_is_ignored():
    decided = intake.decide(intake.Facts(
        sender="+6285700000009", text="mawar LP-000123 BENAR", blocked=True,
        fieldwork=facts("mawar LP-000123 BENAR", officer=None, owners=("budi",))),
        intake.Policy())
    assert decided == intake.Ignore("blocklisted")


# --- what the SMS say ----------------------------------------------------------------


@pytest.mark.parametrize("form", REPORTER_FORMS)
def test_scrub_removes_a_phone_number_in_any_form(form):
    text = scrub(f"Saya lihat sendiri, hubungi saya di {form} kalau perlu")
    assert "[nomor]" in text
    assert not any(f in text for f in REPORTER_FORMS) and "7001" not in text


def test_scrub_keeps_dates_times_house_numbers_and_rt_rw():
    text = "Tgl 12-05-2024 jam 20.30 di Gg. Mawar no 5 RT 03/RW 05, plat AD 1234 XY"
    assert scrub(text) == text


@pytest.mark.parametrize("text", [
    "Nama saya Budi Santoso, ada judi di pasar", "nama saya budi, ada judi",
    "Saya Budi Santoso melapor ada judi", "saya ini Budi, ada judi", "Ada judi. Saya Budi.",
    "my name is Budi, gambling at the market", "Nama: Budi. Ada judi",
])
def test_scrub_removes_a_name_the_writer_gives_as_theirs(text):
    scrubbed = scrub(text)
    assert "budi" not in scrubbed.lower() and "Santoso" not in scrubbed
    assert "[nama]" in scrubbed and ("judi" in scrubbed or "gambling" in scrubbed)


def test_scrub_keeps_what_follows_saya_when_it_is_no_name():
    assert scrub("saya lihat sendiri ada judi") == "saya lihat sendiri ada judi"


@pytest.mark.parametrize("form", REPORTER_FORMS)
def test_a_dispatch_never_carries_the_reporters_number(form):
    texts = FieldTexts()
    report = f"Ada judi di belakang pasar. Ini nomor saya {form}, nama saya Andi Wijaya."
    sms = texts.dispatch(ticket="LP-000123", report=report, category="judi",
                         place=f"belakang pasar dekat rumah {form}",
                         note=f"reporter {form} minta dihubungi")
    digits = "".join(c for c in sms if c.isdigit())
    for shape in REPORTER_FORMS:
        assert shape not in sms
    assert "81234567001" not in digits and "7001" not in sms
    assert "Andi" not in sms and "Wijaya" not in sms


def test_a_dispatch_holds_ticket_category_place_report_and_note_in_two_sms():
    sms = FieldTexts().dispatch(ticket="LP-000123", report="Ada judi sabung ayam ramai",
                                category="judi", place="belakang Pasar Kliwon",
                                note="cek sore ini", code="K7RA")
    assert sms.splitlines() == [
        "TUGAS LP-000123", "Kategori: judi", "Lokasi: belakang Pasar Kliwon",
        "Laporan: Ada judi sabung ayam ramai", "Catatan: cek sore ini",
        "Balas (sandi Anda di depan): LP-000123 K7RA BENAR/PALSU/SELESAI"]
    assert pdu.fits_gsm7(sms) and pdu.parts_needed(sms) <= DISPATCH_MAX_PARTS


@pytest.mark.parametrize("language", ["id", "en"])
def test_a_long_report_is_shortened_to_fit_two_sms_in_gsm7(language):
    report = "Selamat malam 😡 “petugas”, " + "ada sekelompok pemuda mabuk di pos ronda " * 30
    sms = FieldTexts(language).dispatch(ticket="ABCD-1234567", report=report,
                                        category="miras", place="Gang Melati 2",
                                        note="x" * NOTE_MAX_CHARS, code="K7RA")
    assert pdu.fits_gsm7(sms) and pdu.parts_needed(sms) == DISPATCH_MAX_PARTS
    assert "😡" not in sms and '"petugas"' in sms
    [report] = [line for line in sms.splitlines() if line.startswith(("Laporan", "Report"))]
    assert report.endswith("...") and len(report) > 70  # the reply line carries the code
    assert sms.splitlines()[-1].endswith("K7RA BENAR/PALSU/SELESAI")


def test_a_note_too_long_to_leave_room_for_the_report_is_refused():
    with pytest.raises(InvalidInput, match=f"at most {NOTE_MAX_CHARS}"):
        FieldTexts().dispatch(ticket="LP-000001", report="x", note="y" * (NOTE_MAX_CHARS + 1))


@pytest.mark.parametrize("language", ["id", "en"])
@pytest.mark.parametrize("ticket", LONGEST_TICKETS)
def test_officers_replies_and_reporters_notices_fit_one_gsm7_sms(language, ticket):
    texts = FieldTexts(language)
    sent = [texts.neutral()]
    for status in STATUSES:
        sent += [texts.confirmation(ticket, finding="confirmed", status=status, changed=c)
                 for c in (True, False)]
        sent.append(texts.confirmation(ticket, finding=None, status=status, changed=False))
    sent += [built_in_notice(language, s).format(ticket=ticket)
             for s in ("confirmed", "resolved", "fake", "duplicate")]
    for text in sent:
        assert pdu.fits_gsm7(text) and pdu.parts_needed(text) == 1, (len(text), text)


def test_a_notice_never_tells_a_reporter_their_report_was_fake():
    for language in ("id", "en"):
        assert not {"fake", "palsu"} & set(built_in_notice(language, "fake").lower().split())


def test_the_neutral_reply_is_the_same_whatever_failed_and_names_nothing():
    text = FieldTexts().neutral()
    assert "LP" not in text and not any(c.isdigit() for c in text)


# --- notices -------------------------------------------------------------------------


def test_notices_go_for_confirmed_and_resolved_by_default_and_not_for_fake_or_duplicate():
    notices = Notices.from_config(config.Config())
    assert set(notices.templates) == {"confirmed", "resolved"}
    assert notices.decide(REPORTER, "fake", "LP-000001", NoticeCounts()) is None
    text, reply = notices.decide(REPORTER, "resolved", "LP-000001", NoticeCounts())
    assert reply.send and "LP-000001" in text


def test_a_notice_keeps_to_the_limits_of_every_automatic_reply():
    notices = Notices.from_config(config.from_dict({"abuse": {"line_replies_per_hour": 300}}))
    _, over = notices.decide(REPORTER, "confirmed", "LP-000001",
                             NoticeCounts(line_last_hour=300))
    assert not over.send and over.over_budget
    _, unknown = notices.decide("unknown", "confirmed", "LP-000001", NoticeCounts())
    assert not unknown.send


def test_notices_are_configured_per_status():
    cfg = config.from_dict({"fieldwork": {"notify_confirmed": False, "notify_fake": True,
                                          "notice_fake": "Tiket {ticket} ditutup."}})
    notices = Notices.from_config(cfg)
    assert set(notices.templates) == {"resolved", "fake"}
    assert notices.text("fake", "LP-000002") == "Tiket LP-000002 ditutup."


# --- the roster in the config --------------------------------------------------------


ROSTER = {
    "officers": [{"name": "budi", "number": "0812-3456-0001", "team": "buser-1",
                  "word": "mawarku"},
                 {"name": "sari", "number": "+62 813 4567 0002", "team": "buser-1"}],
    "teams": [{"name": "buser-1", "word": "melati"}],
}


def test_officers_are_found_by_number_as_senders_are_stored_and_by_name_or_team():
    roster = Roster.from_config(config.from_dict(ROSTER))
    assert roster.by_number("+6281234560001").name == "budi"
    assert roster.by_number("+6281345670002").word == "melati"  # the team's word
    assert roster.resolve("BUDI") == ((roster.officers[0],), None)
    officers, team = roster.resolve("buser-1")
    assert [o.name for o in officers] == ["budi", "sari"] and team == "buser-1"
    with pytest.raises(InvalidInput, match="officers: budi, sari; teams: buser-1"):
        roster.resolve("joko")


@pytest.mark.parametrize(("change", "key", "message"), [
    ({"teams": []}, "officers[2].word", "sari has no verification word"),
    ({"officers": [{"name": "budi", "number": "08123", "word": "mawarku"}]},
     "officers[1].number", "not a phone number"),
    ({"officers": [{"name": "budi", "number": "081234560001", "word": "mawarku"},
                   {"name": "Budi", "number": "081345670002", "word": "kenanga"}]},
     "officers[2].name", "already an officer's name"),
    ({"officers": [{"name": "budi", "number": "081234560001", "word": "mawarku"},
                   {"name": "joko", "number": "+6281234560001", "word": "kenanga"}]},
     "officers[2].number", "one number"),
    ({"officers": [{"name": "budi", "number": "081234560001", "word": "LP123"}]},
     "officers[1].word", "reads as a ticket"),
    ({"officers": [{"name": "budi", "number": "081234560001", "word": "benar"}]},
     "officers[1].word", "keyword of the line"),
    ({"officers": [{"name": "budi", "number": "081234560001", "word": "ab"}]},
     "officers[1].word", "6 to 24 letters"),
    ({"teams": [{"name": "budi", "word": "melati"}]}, "officers[1].name", "a team's name"),
    ({"officers": [{"name": "budi", "number": "081234560001", "word": "mawar"}]},
     "officers[1].word", "6 to 24 letters"),
    ({"officers": [{"name": "budiman", "number": "081234560001", "word": "BudiMan"}]},
     "officers[1].word", "a name of the roster"),
    ({"teams": [{"name": "buser-1", "word": "mawarku"}]}, "officers[1].word",
     "already the word of team buser-1"),
    ({"officers": [{"name": "budi", "number": "081234560001", "word": "kenanga"},
                   {"name": "sari", "number": "081345670002", "word": "Kenanga"}]},
     "officers[2].word", "already the word of budi"),
    ({"officers": [{"name": "budi", "number": "081234560001", "word": "mawarmawar"}]},
     "officers[1].word", "one word twice"),
    ({"officers": [{"name": "budi", "number": "081234560001", "word": "sekarang"}]},
     "officers[1].word", "common word"),
    ({"officers": [{"name": "budi", "number": "081234560001", "word": "tawuran"}]},
     "officers[1].word", "common word"),
    ({"fieldwork": {"fake_words": ["PALSU", "benar"]}}, "fieldwork.fake_words",
     "already means confirmed"),
    ({"fieldwork": {"notice_resolved": "Tiket {tiket} selesai"}}, "fieldwork.notice_resolved",
     "unknown placeholder"),
])
def test_a_roster_that_cannot_work_is_refused_naming_the_key(change, key, message):
    with pytest.raises(ConfigError, match=message) as caught:
        config.from_dict({**ROSTER, **change})
    assert caught.value.key == key


def test_an_officers_number_reads_alike_in_the_config_check_the_roster_and_the_blocklist():
    from smsbridge.numbers import normalize

    cfg = config.from_dict({"officers": [{"name": "budi", "number": "+62 (0) 812-3456-0001",
                                          "word": "mawarku"}],
                            "abuse": {"blocklist": ["+62 (0) 812-3456-0001"]}})
    assert Roster.from_config(cfg).by_number("+6281234560001").name == "budi"
    assert normalize(cfg.abuse.blocklist[0]) == "+6281234560001"


def test_verification_words_are_secrets_in_config_show():
    shown = config.as_dict(config.from_dict(ROSTER))
    assert [o["word"] for o in shown["officers"]] == ["****", ""]
    assert shown["teams"][0]["word"] == "****"


def test_a_dispatch_of_a_case_names_its_category_and_place_but_not_other():
    from smsbridge.models import Case

    case = Case(1, "LP-000001", "new", REPORTER, "sms", "Ada judi", "t", "t",
                category="judi", place="belakang Pasar Kliwon")
    lines = FieldTexts().for_case(case).splitlines()
    assert lines[1:3] == ["Kategori: judi", "Lokasi: belakang Pasar Kliwon"]
    other = FieldTexts().for_case(Case(2, "LP-000002", "new", REPORTER, "sms", "x", "t", "t",
                                       category="other"))
    assert "Kategori" not in other and "Lokasi" not in other
