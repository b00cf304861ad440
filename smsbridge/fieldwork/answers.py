"""The field loop's rules (pure: no I/O, no clock): who the officers are, what their
SMS mean, and whether one may change a case.

The desk sends a case to an officer (``cases dispatch``); the officer checks it on the
spot and answers by SMS, in a small grammar with their verification word first::

    <word> <ticket> [BENAR|PALSU|SELESAI] [text]

    mawar LP-000123 BENAR ada 5 orang main kartu     confirmed, with a note
    Mawar lp123 palsu: pasar sepi                     fake
    mawar 123 selesai bubar                           resolved
    mawar LP-000123 pelaku naik motor hitam           a note only

The word comes first so that an answer without it is told apart from one with a
wrong word, and the rest reads like what operators type. A sender's number can be
spoofed, so the number names the officer and the word proves it: an answer changes a
case only when both are right and the case was dispatched to that officer. Whatever
fails changes nothing; the desk sees why (``Refuse.reason``), the sender never does.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from smsbridge.config.sections import Config
from smsbridge.errors import InvalidInput
from smsbridge.tickets import CaseFacts, parse_ticket, ticket_token

# Findings move a case along the main line of the workflow (tickets.py), one step at
# a time: "resolved" on a case still being checked confirms it first.
_MAIN_LINE = ("new", "checking", "confirmed", "resolved")
_PUNCTUATION = ".,:;!-"


# --- who the officers are -------------------------------------------------------------


@dataclass(frozen=True)
class Officer:
    name: str
    number: str  # international form, as senders are stored
    team: str | None
    word: str  # their own verification word, else their team's


class Roster:
    """The configured officers, found by number, by word, or by the name or team the
    desk types after ``--to``."""

    def __init__(self, officers: tuple[Officer, ...] = ()):
        self.officers = officers
        self._by_number = {o.number: o for o in officers}

    @classmethod
    def from_config(cls, cfg: Config) -> Roster:
        from smsbridge.numbers import normalize

        team_words = {t.name.casefold(): t.word for t in cfg.teams if t.word}
        # Numbers as senders are stored (+62…), however they were typed.
        return cls(tuple(
            Officer(o.name, normalize(o.number, cfg.daemon.country_code), o.team or None,
                    o.word or team_words.get(o.team.casefold(), ""))
            for o in cfg.officers))

    def by_number(self, number: str) -> Officer | None:
        return self._by_number.get(number)

    def owners_of(self, word: str) -> tuple[Officer, ...]:
        """Whose verification word ``word`` is (any case)."""
        folded = word.casefold()
        return tuple(o for o in self.officers if o.word.casefold() == folded)

    def resolve(self, to: str) -> tuple[tuple[Officer, ...], str | None]:
        """``--to NAME|TEAM`` -> the officers to send to and the team's name (None for
        one officer), or InvalidInput listing who there is."""
        wanted = to.strip().casefold()
        for officer in self.officers:
            if officer.name.casefold() == wanted:
                return (officer,), None
        team = tuple(o for o in self.officers if o.team and o.team.casefold() == wanted)
        if team:
            return team, team[0].team
        if not self.officers:
            raise InvalidInput("no officers are configured: add [[officers]] tables to the "
                               "config (see config.example.toml)")
        names = ", ".join(sorted({o.name for o in self.officers}))
        teams = ", ".join(sorted({o.team for o in self.officers if o.team}))
        raise InvalidInput(f"no officer or team {to!r}; officers: {names}"
                           + (f"; teams: {teams}" if teams else ""))


# --- what an officer's SMS says -------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    """An SMS in the officers' grammar, as far as it goes."""

    word: str | None  # what stands in the word's place; None when the text opens with a ticket
    ticket: str | None  # as typed; None when no ticket follows
    number: int | None  # the ticket's number, when it is one of this line's
    finding: str | None  # confirmed, fake, resolved; None: the text is a note
    note: str  # the officer's words after the ticket (and finding)


def finding_words(cfg: Config) -> dict[str, str]:
    """KEYWORD -> finding, from ``[fieldwork]``."""
    section = cfg.fieldwork
    return {w.upper(): kind for kind, words in (("confirmed", section.confirmed_words),
                                                 ("fake", section.fake_words),
                                                 ("resolved", section.resolved_words))
            for w in words}


def parse_answer(text: str, *, findings: Mapping[str, str], prefix: str = "LP",
                 digits: int = 6) -> Answer:
    """Read ``<word> <ticket> [finding] [text]``; what is missing is None."""
    body = text.strip()
    ticket_re = ticket_token(prefix)
    word: str | None = None
    if body and ticket_re.match(body) is None:
        first, *rest_of_it = body.split(maxsplit=1)
        word = first.rstrip(_PUNCTUATION) or None
        body = rest_of_it[0] if rest_of_it else ""
    found = ticket_re.match(body)
    if found is None:
        return Answer(word, None, None, None, body)
    typed = found.group(0).strip()
    try:
        number: int | None = parse_ticket(typed, prefix, digits)
    except InvalidInput:
        number = None
    rest = body[found.end():].lstrip(_PUNCTUATION + " \t\r\n")
    head, *tail = rest.split(maxsplit=1) or [""]
    finding = findings.get(head.rstrip(_PUNCTUATION).upper())
    after = tail[0] if tail else ""
    note = (after if finding else rest).lstrip(_PUNCTUATION + " \t\r\n").strip()
    return Answer(word, typed, number, finding, note)


# --- whether an answer may change its case --------------------------------------------


@dataclass(frozen=True)
class FieldFacts:
    """What the bridge knows about an SMS in the officers' grammar."""

    answer: Answer
    officer: Officer | None  # registered under the sender's number
    word_owners: tuple[str, ...] = ()  # whose word the text carries (a clue for the desk)
    case: CaseFacts | None = None  # the case the ticket names, if it exists
    dispatched_to: tuple[str, ...] = ()  # the officers that case was dispatched to


@dataclass(frozen=True)
class Accept:
    officer: Officer
    case: CaseFacts
    finding: str | None
    note: str
    steps: tuple[str, ...]  # the statuses the case goes through; () changes no status


@dataclass(frozen=True)
class Refuse:
    reason: str  # for the desk; the sender gets the same neutral reply whatever it is
    officer: Officer | None
    case_id: int | None


def judge(facts: FieldFacts) -> Accept | Refuse:
    """Accept an answer only from the registered number with the right word, naming a
    case dispatched to that officer; the first failing check is the reason."""
    answer, officer, case = facts.answer, facts.officer, facts.case
    case_id = case.id if case else None
    if officer is None:
        owners = ", ".join(facts.word_owners) or "nobody"
        return Refuse(f"the verification word of {owners} from a number that is not "
                      "registered for them", None, case_id)
    if answer.word is None:
        return Refuse("no verification word", officer, case_id)
    if answer.word.casefold() != officer.word.casefold():
        return Refuse("wrong verification word", officer, case_id)
    if answer.ticket is None:
        return Refuse("not understood: no ticket after the word", officer, None)
    if answer.number is None:
        return Refuse(f"{answer.ticket!r} is not a ticket of this line", officer, None)
    if case is None:
        return Refuse(f"unknown ticket {answer.ticket}", officer, None)
    if officer.name not in facts.dispatched_to:
        return Refuse(f"{case.ticket} was not dispatched to {officer.name}", officer, case.id)
    if answer.finding is None and not answer.note:
        return Refuse("nothing to record: no finding and no text", officer, case.id)
    return Accept(officer, case, answer.finding, answer.note,
                  steps_to(case.status, answer.finding))


def steps_to(current: str, finding: str | None) -> tuple[str, ...]:
    """The statuses a finding moves a case through from ``current``; () when it moves
    it nowhere (already there, or closed: reopening is the desk's decision)."""
    if finding is None or finding == current:
        return ()
    if finding == "fake":
        return ("fake",) if current in ("new", "checking") else ()
    if current not in _MAIN_LINE:
        return ()
    here, there = _MAIN_LINE.index(current), _MAIN_LINE.index(finding)
    return _MAIN_LINE[here + 1:there + 1] if there > here else ()


# --- what the desk reads back ---------------------------------------------------------


@dataclass(frozen=True)
class DispatchRecord:
    """A case sent to one officer, with its SMS's delivery state."""

    id: int
    case_id: int
    officer: str
    team: str | None
    at: str
    operator: str
    note: str | None
    outbox_id: int | None
    state: str | None = None  # the SMS's outbox state
    sent_at: str | None = None
    delivered_at: str | None = None
    error: str | None = None


@dataclass(frozen=True)
class AnswerRecord:
    """An SMS in the officers' grammar, accepted or not; ``note`` never holds the word."""

    id: int
    at: str
    officer: str | None
    case_id: int | None
    ticket: str | None  # as typed
    finding: str | None
    note: str
    accepted: bool
    reason: str | None
    new_status: str | None = None
    reply_id: int | None = None  # the confirmation (or neutral reply) in the outbox
    reply_state: str | None = None
    sender: str | None = None  # the number it came from
    case_ticket: str | None = None  # the case's ticket as it is written


@dataclass(frozen=True)
class FieldStats:
    """The field loop over cases received in a window."""

    dispatched: int  # cases sent to officers at least once
    answered: int  # of those, cases with an accepted field answer
    median_report_to_dispatch_seconds: float | None
    median_dispatch_to_answer_seconds: float | None

    @property
    def answered_share(self) -> float | None:
        return self.answered / self.dispatched if self.dispatched else None
