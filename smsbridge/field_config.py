"""The field loop's config: ``[fieldwork]``, ``[[officers]]`` and ``[[teams]]``.

Officers are the plain-clothes police who check reports on the spot. Each has a name,
a phone number and, optionally, a team; each authenticates their answers with a
verification word, their own or their team's, because an SMS's sender number can be
spoofed. ``config.py`` reads these tables like its others (every key checked); the
checks that need the whole roster are ``check``'s.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from smsbridge.errors import ConfigError

if TYPE_CHECKING:
    from smsbridge.config import Config


def _opt(default: Any, *, secret: bool = False) -> Any:
    # The same metadata as config._opt: config's checks read it.
    meta = {"lo": None, "hi": None, "choices": None, "secret": secret}
    if isinstance(default, list):
        return field(default_factory=lambda: list(default), metadata=meta)
    return field(default=default, metadata=meta)


@dataclass(frozen=True)
class FieldConfig:
    # The findings an officer answers with, as the first word after the ticket (any
    # case): the case becomes confirmed, fake or resolved.
    confirmed_words: list = _opt(["BENAR"])
    fake_words: list = _opt(["PALSU"])
    resolved_words: list = _opt(["SELESAI"])
    # The reporter gets one SMS when their case becomes this status.
    notify_confirmed: bool = _opt(True)
    notify_resolved: bool = _opt(True)
    notify_fake: bool = _opt(False)
    notify_duplicate: bool = _opt(False)
    # Empty: the built-in text in [replies] language; {ticket} is the case's ticket.
    notice_confirmed: str = _opt("")
    notice_resolved: str = _opt("")
    notice_fake: str = _opt("")
    notice_duplicate: str = _opt("")


@dataclass(frozen=True)
class OfficerConfig:
    name: str = _opt("")
    number: str = _opt("")
    team: str = _opt("")
    word: str = _opt("", secret=True)


@dataclass(frozen=True)
class TeamConfig:
    name: str = _opt("")
    word: str = _opt("", secret=True)


# The arrays of tables config.py reads with these keys.
ARRAYS: dict[str, type] = {"officers": OfficerConfig, "teams": TeamConfig}
NOTICE_STATUSES = ("confirmed", "resolved", "fake", "duplicate")

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,31}")
_WORD = re.compile(r"[A-Za-z0-9]{3,24}")
_ENDS = ".,:;!-"


def ticket_token(prefix: str) -> re.Pattern[str]:
    """A ticket as people type it at the start of a text: the prefix optional and in
    any case, separators, a number that may hold O, I and l for 0 and 1 (as
    tickets.parse_ticket reads them) but holds a digit. A verification word must
    never read as one, or an answer could not tell its word from its ticket."""
    lead = f"(?:{re.escape(prefix)})?[\\s\\-_./#:]*" if prefix else ""
    return re.compile(rf"{lead}[0-9OoIl]*[0-9][0-9OoIl]*(?=$|[\s{re.escape(_ENDS)}])",
                      re.IGNORECASE)


def check_roster(cfg: Config, path: str | None) -> None:
    """Refuse a roster that cannot work: names, numbers and words each unmistakable."""
    from smsbridge.errors import InvalidInput
    from smsbridge.numbers import parse_operator_number

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
        if template:
            _check_template(template, path, f"fieldwork.notice_{status}")

    names: dict[str, str] = {}
    team_words: dict[str, str] = {}
    reserved = {*findings, *(k.upper() for k in status_keywords)}
    for i, team in enumerate(teams, start=1):
        where = f"teams[{i}]"
        _check_name(team.name, names, path, f"{where}.name")
        names[team.name.casefold()] = "a team"
        if team.word:
            _check_word(team.word, reserved, ticket_prefix, path, f"{where}.word")
            team_words[team.name.casefold()] = team.word
    numbers: dict[str, str] = {}
    for i, officer in enumerate(officers, start=1):
        where = f"officers[{i}]"
        _check_name(officer.name, names, path, f"{where}.name")
        names[officer.name.casefold()] = "an officer"
        try:
            number = parse_operator_number(officer.number, country_code, what="the number")
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
    if not _WORD.fullmatch(word) or word.isdigit():
        raise ConfigError("expected 3 to 24 letters and digits, not only digits", path=path,
                          key=key)
    if word.upper() in reserved:
        raise ConfigError(f"{word!r} is a keyword of the line; choose a word nobody types "
                          "by chance", path=path, key=key)
    if ticket_token(prefix).match(word):
        raise ConfigError(f"{word!r} reads as a ticket; choose another word", path=path,
                          key=key)


def _check_template(text: str, path: str | None, key: str) -> None:
    import string

    try:
        used = {f for _, f, _, _ in string.Formatter().parse(text) if f is not None}
    except ValueError as exc:
        raise ConfigError(f"not a valid template ({exc}); write braces as {{{{ }}}}",
                          path=path, key=key) from None
    if used - {"ticket"}:
        raise ConfigError(f"unknown placeholder {{{sorted(used - {'ticket'})[0]}}}; allowed: "
                          "{ticket}", path=path, key=key)
