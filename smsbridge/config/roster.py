"""The officers' roster as a whole: ``[fieldwork]``, ``[[officers]]`` and ``[[teams]]``.

Officers are the plain-clothes police who check reports on the spot. Each has a name,
a phone number and, optionally, a team; each authenticates their answers with a
verification word, their own or their team's, because an SMS's sender number can be
spoofed. ``load`` reads these tables like its others (every key checked); the checks
that need the whole roster are here.
"""

from __future__ import annotations

import re

from smsbridge.config.sections import NOTICE_STATUSES, Config
from smsbridge.config.values import check_one_sms, check_template
from smsbridge.errors import ConfigError, InvalidInput
from smsbridge.i18n import _
from smsbridge.numbers import parse_operator_number
from smsbridge.tickets import ticket_token
from smsbridge.triage.vocabulary import COMMON_WORDS, DIGIT_WORDS

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,31}")
_WORD = re.compile(r"[A-Za-z0-9]{6,24}")


def check_roster(cfg: Config, path: str | None) -> None:
    """Refuse a roster that cannot work: names, numbers and words each unmistakable."""

    section, officers, teams = cfg.fieldwork, cfg.officers, cfg.teams
    country_code, ticket_prefix = cfg.daemon.country_code, cfg.tickets.prefix
    status_keywords = cfg.replies.status_keywords

    findings: dict[str, str] = {}
    for kind in ("confirmed", "fake", "resolved"):
        key = f"fieldwork.{kind}_words"
        words = getattr(section, key.split(".")[1])
        if not words:
            raise ConfigError("expected at least one word", path=path, key=key)
        for word in words:
            if not word.strip() or len(word.split()) != 1:
                raise ConfigError(f"expected single words, got {word!r}", path=path, key=key)
            if word.upper() in findings:
                raise ConfigError(f"{word!r} already means {findings[word.upper()]}",
                                  path=path, key=key)
            findings[word.upper()] = kind
    for status in NOTICE_STATUSES:
        template = getattr(section, f"notice_{status}")
        check_template(template, {"ticket"}, path, f"fieldwork.notice_{status}")
        check_one_sms(template, ticket_prefix, path, f"fieldwork.notice_{status}")

    names: dict[str, str] = {}
    team_words: dict[str, str] = {}
    reserved = {*findings, *(k.upper() for k in status_keywords)}
    # Every name of the roster, known before any word is checked against them.
    roster_names = {o.name.casefold() for o in officers} | {
        t.name.casefold() for t in teams} | {o.team.casefold() for o in officers if o.team}
    common = COMMON_WORDS | DIGIT_WORDS | _keywords(cfg)
    owners: dict[str, str] = {}  # word (folded) -> whose it is
    for i, team in enumerate(teams, start=1):
        where = f"teams[{i}]"
        _check_name(team.name, names, path, f"{where}.name")
        names[team.name.casefold()] = "a team"
        if team.word:
            _check_word(team.word, reserved, ticket_prefix, path, f"{where}.word")
            _check_strength(team.word, roster_names, common, owners, f"team {team.name}",
                            path, f"{where}.word")
            team_words[team.name.casefold()] = team.word
    numbers: dict[str, str] = {}
    for i, officer in enumerate(officers, start=1):
        where = f"officers[{i}]"
        _check_name(officer.name, names, path, f"{where}.name")
        names[officer.name.casefold()] = "an officer"
        try:
            # Said in the language of "is not a phone number" (English in the daemon).
            number = parse_operator_number(officer.number, country_code,
                                           what=_("the number"))
        except InvalidInput as exc:
            raise ConfigError(str(exc), path=path, key=f"{where}.number") from None
        if number in numbers:
            raise ConfigError(f"{officer.name} and {numbers[number]} have one number: an "
                              "answer must tell who sent it", path=path, key=f"{where}.number")
        numbers[number] = officer.name
        if officer.team and officer.team.casefold() not in names:
            # A team needs no table of its own unless it shares a word: the officers'
            # own words still authenticate them.
            names[officer.team.casefold()] = "a team"
        elif officer.team and names[officer.team.casefold()] != "a team":
            raise ConfigError(f"{officer.team!r} is an officer's name, not a team", path=path,
                              key=f"{where}.team")
        if officer.word:
            _check_word(officer.word, reserved, ticket_prefix, path, f"{where}.word")
            _check_strength(officer.word, roster_names, common, owners, officer.name, path,
                            f"{where}.word")
        elif officer.team.casefold() not in team_words:
            raise ConfigError(f"{officer.name} has no verification word: give word = …, or a "
                              "[[teams]] entry with a word for their team", path=path,
                              key=f"{where}.word")


def secrets_held(cfg: Config) -> list[str]:
    """What of the roster must stay private (``config.exposed_secrets``)."""
    words = any(o.word for o in cfg.officers) or any(t.word for t in cfg.teams)
    return ["the officers' verification words"] if words else []


def _check_name(name: str, names: dict[str, str], path: str | None, key: str) -> None:
    if not _NAME.fullmatch(name):
        raise ConfigError(f"expected up to 32 letters, digits, '-', '_' or '.', got {name!r}",
                          path=path, key=key)
    if name.casefold() in names:
        raise ConfigError(f"{name!r} is already {names[name.casefold()]}'s name: `cases "
                          "dispatch --to` must find one", path=path, key=key)


def _check_word(word: str, reserved: set[str], prefix: str, path: str | None,
                key: str) -> None:
    if word.upper() in reserved:
        raise ConfigError(f"{word!r} is a keyword of the line; choose a word nobody types "
                          "by chance", path=path, key=key)
    if ticket_token(prefix).match(word):
        raise ConfigError(f"{word!r} reads as a ticket; choose another word", path=path,
                          key=key)
    if not _WORD.fullmatch(word) or word.isdigit():
        # Short words are guessed in a few tries, and typed by chance.
        raise ConfigError("expected 6 to 24 letters and digits, not only digits", path=path,
                          key=key)


def _check_strength(word: str, names: set[str], common: frozenset[str] | set[str],
                    owners: dict[str, str], owner: str, path: str | None, key: str) -> None:
    """Refuse a word that is easy to guess or that tells nobody apart."""
    folded = word.casefold()
    if folded in names or any(n and n in folded for n in names if len(n) >= 4):
        raise ConfigError(f"{word!r} is (or holds) a name of the roster: anyone who knows "
                          "the officers guesses it", path=path, key=key)
    half = len(folded) // 2
    if (len(folded) % 2 == 0 and folded[:half] == folded[half:]) or len(set(folded)) <= 2:
        raise ConfigError(f"{word!r} is one word twice (or one letter over and over): "
                          "choose a word that is not", path=path, key=key)
    if folded in common:
        raise ConfigError(f"{word!r} is a common word of this line (its reports, its "
                          "categories): citizens type it by chance", path=path, key=key)
    if folded in owners and owners[folded] != owner:
        raise ConfigError(f"{word!r} is already the word of {owners[folded]}: an answer "
                          "must tell whose word it is (share a word through a team)",
                          path=path, key=key)
    owners[folded] = owner


def _keywords(cfg: Config) -> set[str]:
    """The words of the configured categories' keywords."""
    found: set[str] = set()
    for words in vars(cfg.categories).values():
        for phrase in words:
            found |= {part.strip("*").casefold() for part in phrase.split() if part.strip("*")}
    return found
