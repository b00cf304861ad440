"""What an incoming text means, decided from facts alone (pure: no I/O, no clock).

The bridge gathers the facts about one text (who sent it, what they sent before, the
case it may belong to) and carries out what ``decide`` returns; every rule of the
line lives here, so each is tested in a millisecond with plain values:

    text + facts ──decide──> Ignore(reason)            kept, nobody's report
                             AnswerStatus(case, reply)  CEK <ticket>: the state, to its reporter
                             FollowUp(case, …)          more words for an open case
                             OpenCase(flags, reply)     a new report: a ticket and an ack
                             FieldAnswer(verdict, reply) an officer's SMS (fieldwork): never
                                                        a citizen's, whatever it says
"""

from __future__ import annotations

from dataclasses import dataclass

from smsbridge.fieldwork import answers as field
from smsbridge.models import Case
from smsbridge.numbers import SenderKind, classify
from smsbridge.replies import (
    ReplyDecision,
    StatusQuery,
    auto_reply_decision,
    line_budget_problem,
)


@dataclass(frozen=True)
class Policy:
    """The config's rules, as ``decide`` needs them."""

    short_code_max_digits: int = 5
    loop_threshold: int = 3
    replies_per_hour: int = 5
    replies_enabled: bool = True
    # The line's budget across all numbers: spoofed senders by the thousand must not
    # spend the SIM's credit or make the line an SMS cannon.
    line_replies_per_hour: int = 600
    line_replies_per_day: int = 5000
    # Follow-ups stop growing a case's text past this; they stay attached as messages.
    case_text_max_chars: int = 10_000


@dataclass(frozen=True)
class Facts:
    """What is known about one text when it is decided on.

    ``identical_last_hour`` counts the same text from the same sender in the last
    hour, this one included. ``open_case`` is the sender's open case still within the
    follow-up window; ``asked_case`` the case a status query names (or the sender's
    latest), only when it is the sender's own.
    """

    sender: str
    text: str
    alphanumeric: bool = False
    incomplete: bool = False
    blocked: bool = False
    command: StatusQuery | None = None
    identical_last_hour: int = 1
    replies_last_hour: int = 0
    line_replies_last_hour: int = 0  # automatic replies to anyone
    line_replies_last_day: int = 0
    number_problem: str | None = None
    open_case: Case | None = None
    asked_case: Case | None = None
    # Set when the sender is a registered officer's number, and only then: any other
    # sender is a citizen whatever its text says (no oracle for verification words).
    fieldwork: field.FieldFacts | None = None


@dataclass(frozen=True)
class Ignore:
    reason: str


@dataclass(frozen=True)
class AnswerStatus:
    case: Case | None  # None: no such ticket, or not theirs (answered alike)
    reply: ReplyDecision


@dataclass(frozen=True)
class FollowUp:
    case: Case
    repeated: bool  # the same words again: recorded, not appended
    flag_loop: bool
    capped: bool = False  # the case's text is at its limit: recorded, not appended

    @property
    def append(self) -> bool:
        return not (self.repeated or self.capped)


@dataclass(frozen=True)
class OpenCase:
    flags: tuple[str, ...]
    reply: ReplyDecision


@dataclass(frozen=True)
class FieldAnswer:
    verdict: field.Accept | field.Refuse
    # An accepted answer is always confirmed; a refused one gets the neutral reply only
    # within the limits of every automatic reply (a spoofer may send thousands).
    reply: ReplyDecision


Decision = Ignore | AnswerStatus | FollowUp | OpenCase | FieldAnswer


def is_repeat(case_text: str, text: str) -> bool:
    """A follow-up that adds nothing: its words are already in the case (a phone that
    resends, a citizen who sends the same report twice)."""
    return text.strip() in case_text


def decide(facts: Facts, policy: Policy) -> Decision:
    kind = classify(facts.sender, alphanumeric=facts.alphanumeric,
                    short_code_max_digits=policy.short_code_max_digits)
    if kind is not SenderKind.PERSON:
        # Operators' notices (credit, promotions) are kept, but are nobody's report.
        return Ignore("service sender")
    officer = facts.fieldwork is not None and facts.fieldwork.officer is not None
    if facts.blocked and not officer:
        return Ignore("blocklisted")
    if facts.fieldwork is not None:
        # Before every citizen's rule: an officer gets no acknowledgement, opens no
        # case and no per-number limit ever drops what they send.
        verdict = field.judge(facts.fieldwork)
        if isinstance(verdict, field.Accept):
            return FieldAnswer(verdict, ReplyDecision(True, ""))
        return FieldAnswer(verdict, _reply(facts, policy))
    if facts.command is not None and not facts.incomplete:
        return AnswerStatus(facts.asked_case, _reply(facts, policy))
    looping = facts.identical_last_hour > policy.loop_threshold
    if facts.open_case is not None:
        current = facts.open_case.text
        repeated = is_repeat(current, facts.text)
        capped = not repeated and len(current) + 1 + len(facts.text) > policy.case_text_max_chars
        return FollowUp(facts.open_case, repeated, looping, capped)
    return OpenCase(("loop",) if looping else (), _reply(facts, policy))


def _reply(facts: Facts, policy: Policy) -> ReplyDecision:
    return auto_reply_decision(
        sender_is_person=True, blocked=facts.blocked,
        replies_last_hour=facts.replies_last_hour, replies_per_hour=policy.replies_per_hour,
        identical_texts_last_hour=facts.identical_last_hour,
        loop_threshold=policy.loop_threshold, enabled=policy.replies_enabled,
        number_problem=facts.number_problem, budget_problem=_budget_problem(facts, policy))


def _budget_problem(facts: Facts, policy: Policy) -> str | None:
    return line_budget_problem(facts.line_replies_last_hour, facts.line_replies_last_day,
                               per_hour=policy.line_replies_per_hour,
                               per_day=policy.line_replies_per_day)
