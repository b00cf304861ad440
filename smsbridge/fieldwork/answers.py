"""The field loop's rules (pure: no I/O, no clock): who the officers are, what their
SMS mean, and whether one may change a case.

The desk sends a case to an officer (``cases dispatch``); the officer checks it on the
spot and answers by SMS, in a small grammar with their verification word first and
the dispatch's one-time code after the ticket::

    <word> <ticket> <code> [BENAR|PALSU|SELESAI] [text]

    mawar LP-000123 K7RA BENAR ada 5 orang main kartu     confirmed, with a note
    Mawar lp123 k7ra palsu: pasar sepi                     fake
    mawar 123 K7RA selesai bubar                           resolved
    mawar LP-000123 K7RA pelaku naik motor hitam           a note only

The word comes first so that an answer without it is told apart from one with a
wrong word, and the rest reads like what operators type. A sender's number can be
spoofed, so the number names the officer and the word proves it; the code binds the
answer to the dispatch it answers, so an answer replayed, or sent to a case that has
since gone to someone else, changes nothing. Only registered numbers are read in this
grammar (``intake``): any other sender is a citizen whatever its first word. Whatever
fails changes nothing; the desk sees why (``Refuse.reason``), the sender never does.
"""

from __future__ import annotations

import functools
import hashlib
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass

from smsbridge.config.sections import Config
from smsbridge.errors import InvalidInput
from smsbridge.tickets import CaseFacts, parse_ticket, ticket_token

# Findings move a case along the main line of the workflow (tickets.py), one step at
# a time: "resolved" on a case still being checked confirms it first.
_MAIN_LINE = ("new", "checking", "confirmed", "resolved")
_PUNCTUATION = ".,:;!-"
# A dispatch's code: letters and digits nobody misreads for one another (no 0/O, 1/I/L,
# 2/Z, 5/S, 8/B, 6/G) and always both, so that no word of a note ("ADA") reads as one.
CODE_ALPHABET = "ACDEFHJKMNPRTUVWXY3479"
CODE_LENGTH = 4
_CODE = re.compile(rf"(?=[{CODE_ALPHABET}]*[3479])(?=[{CODE_ALPHABET}]*[A-Z])"
                   rf"[{CODE_ALPHABET}]{{{CODE_LENGTH}}}")
# What a verification word may look like (config.roster checks the configured ones); a
# first token of this shape before a ticket and a finding makes an SMS answer-shaped.
WORD_SHAPE = re.compile(r"[A-Za-z0-9]{3,24}")


WORD_MASK = "****"


@functools.lru_cache(maxsize=8)
def _words_pattern(words: frozenset[str]) -> re.Pattern[str]:
    alternatives = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
    return re.compile(rf"(?<![^\W_])(?:{alternatives})(?![^\W_])", re.IGNORECASE)


def new_code() -> str:
    """A fresh one-time code for one dispatch to one officer."""
    while True:
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        if _CODE.fullmatch(code):
            return code


def word_hash(word: str) -> str:
    """What the store keeps of a verification word (a lock names the word by this): the
    word itself never rests in the database."""
    return hashlib.sha256(f"smsbridge-word\0{word.casefold()}".encode()).hexdigest()


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

    def words_pattern(self, also: str | None = None) -> re.Pattern[str] | None:
        """What finds every roster word (and ``also``: what an officer typed in the
        word's place) wherever it stands, in any case; None when there is none."""
        words = {o.word.casefold() for o in self.officers if o.word}
        if also:
            words.add(also.casefold())
        return _words_pattern(frozenset(words)) if words else None

    def mask(self, text: str, also: str | None = None) -> str:
        """``text`` with every roster word (and ``also``) made ``****``, however often."""
        pattern = self.words_pattern(also)
        return pattern.sub(WORD_MASK, text) if pattern else text

    def word_hashes(self) -> list[str]:
        """The hashes of the words the roster holds (``word_hash``)."""
        return sorted({word_hash(o.word) for o in self.officers if o.word})

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
    note: str  # the officer's words after the ticket (code and finding)
    code: str | None = None  # the dispatch's code after the ticket, upper case

    @property
    def shaped(self) -> bool:
        """A word-like first token, a ticket and a finding: what someone trying words
        sends, from whatever number."""
        return (self.word is not None and WORD_SHAPE.fullmatch(self.word) is not None
                and self.ticket is not None and self.finding is not None)


def finding_words(cfg: Config) -> dict[str, str]:
    """KEYWORD -> finding, from ``[fieldwork]``."""
    section = cfg.fieldwork
    return {w.upper(): kind for kind, words in (("confirmed", section.confirmed_words),
                                                 ("fake", section.fake_words),
                                                 ("resolved", section.resolved_words))
            for w in words}


def parse_answer(text: str, *, findings: Mapping[str, str], prefix: str = "LP",
                 digits: int = 6) -> Answer:
    """Read ``<word> <ticket> [code] [finding] [text]``; what is missing is None."""
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
    code = None
    if _CODE.fullmatch(head.rstrip(_PUNCTUATION).upper()):
        code = head.rstrip(_PUNCTUATION).upper()
        rest = tail[0].lstrip(_PUNCTUATION + " \t\r\n") if tail else ""
        head, *tail = rest.split(maxsplit=1) or [""]
    finding = findings.get(head.rstrip(_PUNCTUATION).upper())
    after = tail[0] if tail else ""
    note = (after if finding else rest).lstrip(_PUNCTUATION + " \t\r\n").strip()
    return Answer(word, typed, number, finding, note, code)


# --- whether an answer may change its case --------------------------------------------


@dataclass(frozen=True)
class DispatchFacts:
    """What the dispatches of one case say about one officer."""

    current: tuple[str, ...] = ()  # the officers of the case's latest dispatch
    ever: tuple[str, ...] = ()  # every officer the case was ever dispatched to
    code: str | None = None  # the officer's code in the latest dispatch
    earlier_codes: tuple[str, ...] = ()  # the officer's codes of earlier dispatches
    # (finding, note) of the answers already accepted with ``code``.
    used: tuple[tuple[str | None, str], ...] = ()


@dataclass(frozen=True)
class FieldFacts:
    """What the bridge knows about an SMS from a registered officer's number."""

    answer: Answer
    officer: Officer | None  # registered under the sender's number
    word_owners: tuple[str, ...] = ()  # whose word the text carries (a clue for the desk)
    case: CaseFacts | None = None  # the case the ticket names, if it exists
    dispatch: DispatchFacts = DispatchFacts()
    locked: bool = False  # the officer's word is locked after guessing (``lock_due``)


@dataclass(frozen=True)
class Accept:
    officer: Officer
    case: CaseFacts
    finding: str | None
    note: str
    steps: tuple[str, ...]  # the statuses the case goes through; () changes no status
    code: str | None = None


@dataclass(frozen=True)
class Refuse:
    reason: str  # for the desk; the sender gets the same neutral reply whatever it is
    officer: Officer | None
    case_id: int | None
    # Someone trying words: "guess" (a wrong word from an officer's number), "leak" (a
    # real word from a number not registered for it); None for a mere mistake.
    attempt: str | None = None


WRONG_WORD = "wrong verification word"
# What the dispatch's reply line says in the word's place: typed literally, it is a
# mistake to call the officer about, not someone guessing.
HINTS = frozenset({"sandi", "kata", "katasandi", "word", "your", "kata_sandi"})


def judge(facts: FieldFacts) -> Accept | Refuse:
    """Accept an answer only from the registered number with the right word, naming a
    case whose current dispatch went to that officer, with that dispatch's code, and
    saying what was not said with that code before; the first failing check is the
    reason."""
    answer, officer, case, sent = facts.answer, facts.officer, facts.case, facts.dispatch
    case_id = case.id if case else None
    if officer is None:
        owners = ", ".join(facts.word_owners) or "nobody"
        return Refuse(f"the verification word of {owners} from a number that is not "
                      "registered for them", None, case_id,
                      "leak" if facts.word_owners else None)
    if answer.word is None:
        return Refuse("no verification word", officer, case_id)
    if answer.word.casefold() in HINTS:
        return Refuse(f"{answer.word!r} from the reply line instead of the verification "
                      "word", officer, case_id)
    if answer.word.casefold() != officer.word.casefold():
        return Refuse(WRONG_WORD, officer, case_id, "guess")
    if facts.locked:
        return Refuse(f"the verification word of {officer.name} is locked after guessing: "
                      "the administrator must change it", officer, case_id)
    if answer.ticket is None:
        return Refuse("not understood: no ticket after the word", officer, None)
    if answer.number is None:
        return Refuse(f"{answer.ticket!r} is not a ticket of this line", officer, None)
    if case is None:
        return Refuse(f"unknown ticket {answer.ticket}", officer, None)
    if officer.name not in sent.ever:
        return Refuse(f"{case.ticket} was not dispatched to {officer.name}", officer, case.id)
    if officer.name not in sent.current:
        return Refuse(f"{case.ticket} has since been dispatched to "
                      f"{', '.join(sent.current)}: {officer.name} is no longer on it",
                      officer, case.id)
    if answer.code is None:
        return Refuse("no dispatch code after the ticket", officer, case.id)
    if answer.code != sent.code:
        earlier = answer.code in sent.earlier_codes
        return Refuse("the code of an earlier dispatch" if earlier else "wrong dispatch code",
                      officer, case.id)
    if answer.finding is None and not answer.note:
        return Refuse("nothing to record: no finding and no text", officer, case.id)
    said = {finding for finding, _ in sent.used if finding}
    if (answer.finding in said
            or (answer.finding is None and (None, answer.note) in sent.used)):
        return Refuse(f"replayed: {answer.finding or 'this note'} was already recorded with "
                      "this dispatch's code", officer, case.id)
    return Accept(officer, case, answer.finding, answer.note,
                  steps_to(case.status, answer.finding), answer.code)


def lock_due(failures: int, limit: int) -> bool:
    """Whether a word with ``failures`` recent attempts against it is to be locked."""
    return limit > 0 and failures >= limit


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
    code: str | None = None  # the one-time code the officer's answers must quote
    superseded: bool = False  # a later dispatch of the case replaced this one


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
    attempt: str | None = None  # "guess" or "leak": someone trying a word


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
