"""The line's rules for one incoming text, with plain values (intake.decide is pure)."""

from __future__ import annotations

import pytest

from smsbridge.intake import (
    AnswerStatus,
    Facts,
    FollowUp,
    Ignore,
    OpenCase,
    Policy,
    decide,
    is_repeat,
)
from smsbridge.models import Case
from smsbridge.replies import StatusQuery

PERSON = "+6281234567001"
POLICY = Policy()


def case(text: str = "ada judi di pasar", **kw) -> Case:
    return Case(id=1, ticket="LP-000001", status="new", reporter=PERSON, channel="sms",
                text=text, received_at="2026-12-01T00:00:00+00:00",
                updated_at="2026-12-01T00:00:00+00:00", **kw)


def test_a_first_report_opens_a_case_and_is_acknowledged():
    decision = decide(Facts(PERSON, "ada judi di pasar"), POLICY)
    assert decision == OpenCase((), decision.reply) and decision.reply.send


@pytest.mark.parametrize("sender, alphanumeric", [
    ("TELKOMSEL", True), ("3636", False), (" 12345678", True)])
def test_services_are_kept_but_make_no_case(sender, alphanumeric):
    assert decide(Facts(sender, "Sisa pulsa Rp5.000", alphanumeric=alphanumeric),
                  POLICY) == Ignore("service sender")


def test_a_blocklisted_number_makes_no_case():
    assert decide(Facts(PERSON, "laporan", blocked=True), POLICY) == Ignore("blocklisted")


def test_more_words_within_the_window_follow_up_the_open_case():
    decision = decide(Facts(PERSON, "sekarang sudah ramai", open_case=case()), POLICY)
    assert decision == FollowUp(case(), repeated=False, flag_loop=False)


def test_the_same_words_again_are_a_repeat_not_new_text():
    decision = decide(Facts(PERSON, "  ada judi di pasar ", open_case=case()), POLICY)
    assert isinstance(decision, FollowUp) and decision.repeated
    assert is_repeat("ada judi\ndi pasar", "di pasar")


def test_a_text_sent_again_and_again_is_a_loop_and_not_answered():
    decision = decide(Facts(PERSON, "tes", identical_last_hour=4), POLICY)
    assert isinstance(decision, OpenCase) and decision.flags == ("loop",)
    assert not decision.reply.send and "loop" in decision.reply.reason


def test_a_status_query_is_answered_for_the_reporters_own_case_only():
    mine = decide(Facts(PERSON, "CEK LP-000001", command=StatusQuery("LP-000001"),
                        asked_case=case()), POLICY)
    assert mine == AnswerStatus(case(), mine.reply) and mine.reply.send
    theirs = decide(Facts(PERSON, "CEK LP-000002", command=StatusQuery("LP-000002")), POLICY)
    assert isinstance(theirs, AnswerStatus) and theirs.case is None and theirs.reply.send


def test_an_incomplete_text_that_looks_like_a_query_is_a_report():
    decision = decide(Facts(PERSON, "CEK 12", command=StatusQuery("12"), incomplete=True),
                      POLICY)
    assert isinstance(decision, OpenCase)


@pytest.mark.parametrize("facts, policy, reason", [
    (Facts(PERSON, "laporan", replies_last_hour=5), POLICY, "reply limit"),
    (Facts(PERSON, "laporan"), Policy(replies_enabled=False), "disabled"),
    (Facts(PERSON, "laporan", number_problem="not a phone number (23 characters)"), POLICY,
     "cannot receive SMS"),
])
def test_a_report_is_kept_when_no_reply_may_go(facts, policy, reason):
    decision = decide(facts, policy)
    assert isinstance(decision, OpenCase) and not decision.reply.send
    assert reason in decision.reply.reason


@pytest.mark.parametrize("facts, why", [
    (Facts(PERSON, "laporan", line_replies_last_hour=600), "600 automatic replies an hour"),
    (Facts(PERSON, "laporan", line_replies_last_day=5000), "5000 automatic replies a day"),
])
def test_the_lines_reply_budget_keeps_reports_without_an_ack(facts, why):
    decision = decide(facts, POLICY)
    assert isinstance(decision, OpenCase) and not decision.reply.send
    assert decision.reply.over_budget and why in decision.reply.reason


def test_a_senders_own_limit_is_named_before_the_lines_budget():
    decision = decide(Facts(PERSON, "laporan", replies_last_hour=5,
                            line_replies_last_hour=600), POLICY)
    assert "reply limit of 5" in decision.reply.reason and not decision.reply.over_budget


def test_a_case_text_stops_growing_at_its_limit():
    policy = Policy(case_text_max_chars=30)
    near = case("x" * 25)
    decision = decide(Facts(PERSON, "lagi dan lagi", open_case=near), policy)
    assert isinstance(decision, FollowUp) and decision.capped and not decision.append
    small = decide(Facts(PERSON, "ok", open_case=near), policy)
    assert small.append
