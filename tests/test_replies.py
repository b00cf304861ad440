"""Citizen-facing texts and keyword commands, and when smsbridge must stay quiet."""

from __future__ import annotations

import pytest

from smsbridge.config.sections import ReplyConfig
from smsbridge.errors import InvalidInput
from smsbridge.replies import (
    MAX_REPLY_CHARS,
    STATUSES,
    StatusQuery,
    Templates,
    auto_reply_decision,
    operator_reply_text,
    parse_command,
)

LONGEST_TICKETS = ["ABCD-1234567", "AB-123456789", "1234567890"]


@pytest.mark.parametrize("language", ["id", "en"])
@pytest.mark.parametrize("ticket", LONGEST_TICKETS)
def test_default_templates_fit_one_gsm7_sms_with_the_longest_ticket(language, ticket):
    from smsbridge.sms import pdu

    t = Templates.from_config(ReplyConfig(language=language))
    texts = [t.render_ack(ticket), t.render_unknown(ticket), t.no_case]
    texts += [t.render_status(ticket, status) for status in STATUSES]
    for text in texts:
        assert pdu.fits_gsm7(text), text
        assert pdu.parts_needed(text) == 1, (len(text), text)


def test_status_words_never_tell_a_reporter_their_report_was_fake():
    for language in ("id", "en"):
        t = Templates.from_config(ReplyConfig(language=language))
        reply = t.render_status("LP-000001", "fake")
        assert "fake" not in reply.lower() and "palsu" not in reply.lower()


def test_configured_template_replaces_the_built_in_one():
    t = Templates.from_config(ReplyConfig(ack="Terima kasih, tiket {ticket}"))
    assert t.render_ack("LP-000007") == "Terima kasih, tiket LP-000007"


@pytest.mark.parametrize("text, ticket", [
    ("CEK LP-000123", "LP-000123"),
    ("cek lp000123", "LP-000123"),
    ("Cek  LP 000123", "LP-000123"),
    ("STATUS 123", "LP-000123"),
    ("cek: LP-000123", "LP-000123"),
    ("CEK", None),
    # Trailing punctuation and words, the separators people type.
    ("CEK LP-000148 ?", "LP-000148"),
    ("CEK LP-000148?", "LP-000148"),
    ("cek LP-000148 tolong dicek", "LP-000148"),
    ("CEK LP_000123", "LP-000123"),
    ("CEK LP/123", "LP-000123"),
    ("CEK lp.000123!", "LP-000123"),
    # Anything that is not a ticket of this line: the number's latest report.
    ("cek laporan saya", None),
    ("CEK ?", None),
    ("CEK AB-123", None),
])
def test_status_query_is_recognised(text, ticket):
    # The ticket comes back canonical: a reply never echoes what was typed.
    assert parse_command(text, ["CEK", "STATUS"]) == StatusQuery(ticket)


@pytest.mark.parametrize("text", [
    "cek lokasi judi di pasar minggu malam ini",
    "Ada balap liar di jalan sudirman",
    "",
    "CEKLP000123 tolong",
    "cek LP-000123 ada judi lagi di pasar malam ini",
    # Longer than one SMS: never a command, whatever it holds.
    "CEK LP" + "." * 1500 + "1",
    "CEK " + "LP-000001 " * 20,
])
def test_a_report_that_starts_like_a_command_is_still_a_report(text):
    assert parse_command(text, ["CEK", "STATUS"]) is None


def _decide(**overrides):
    args = dict(sender_is_person=True, blocked=False, replies_last_hour=0, replies_per_hour=5,
                identical_texts_last_hour=1, loop_threshold=3)
    args.update(overrides)
    return auto_reply_decision(**args)


def test_a_first_report_from_a_person_is_answered():
    assert _decide().send


@pytest.mark.parametrize("overrides, reason", [
    ({"sender_is_person": False}, "service"),
    ({"blocked": True}, "blocklist"),
    ({"replies_last_hour": 5}, "limit"),
    ({"identical_texts_last_hour": 4}, "loop"),
    ({"enabled": False}, "disabled"),
])
def test_no_automatic_reply_when_a_rule_forbids_it(overrides, reason):
    decision = _decide(**overrides)
    assert not decision.send and reason in decision.reason


def test_no_automatic_reply_to_a_number_that_cannot_take_an_sms():
    decision = auto_reply_decision(
        sender_is_person=True, blocked=False, replies_last_hour=0, replies_per_hour=5,
        identical_texts_last_hour=1, loop_threshold=3,
        number_problem="not a phone number (23 characters)")
    assert not decision.send and "cannot receive SMS" in decision.reason


def test_operator_reply_is_trimmed_and_must_fit_a_few_sms():
    assert operator_reply_text("  Petugas menuju lokasi \n") == "Petugas menuju lokasi"
    with pytest.raises(InvalidInput, match="empty"):
        operator_reply_text("   ")
    with pytest.raises(InvalidInput, match=f"at most {MAX_REPLY_CHARS}"):
        operator_reply_text("x" * (MAX_REPLY_CHARS + 1))


def test_every_status_word_fits_the_room_templates_are_checked_with():
    from smsbridge.config.values import STATUS_WORD_ROOM
    from smsbridge.replies import _STATUS_WORDS

    assert max(len(w) for words in _STATUS_WORDS.values() for w in words.values()) \
        <= STATUS_WORD_ROOM


@pytest.mark.parametrize("section, key", [("replies", "ack"), ("replies", "status"),
                                          ("replies", "unknown_ticket"),
                                          ("fieldwork", "notice_confirmed")])
def test_a_template_longer_than_one_sms_is_refused_at_load(section, key):
    from smsbridge.config import load as config
    from smsbridge.errors import ConfigError

    long = "Laporan {ticket} " + "diterima dengan baik " * 7
    with pytest.raises(ConfigError, match=f"{section}.{key}.*fit one SMS"):
        config.from_dict({section: {key: long}})
    # Letters outside the GSM alphabet leave 70 characters.
    with pytest.raises(ConfigError, match="one SMS"):
        config.from_dict({section: {key: "Laporan {ticket} diterima 🙏 " + "x" * 40}})
    config.from_dict({section: {key: "Laporan {ticket} diterima, terima kasih."}})
