"""The config's shape: one frozen dataclass per TOML section, each key with its
default and the limits ``values.check_value`` enforces.

Nothing here reads a file or checks more than one key: ``load`` reads the TOML,
``checks`` (with ``pool`` and ``roster``) refuses what cannot work as a whole.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from smsbridge.triage.keywords import (
    DEFAULT_DEADLINES,
    DEFAULT_KEYWORDS,
    DEFAULT_PLACES,
    DEFAULT_URGENT,
)

# A modem's roles, and the orders [pool] route may give its rules in.
ROLES = ("receive", "send", "both")
ROUTES = ("received", "on-net", "least-busy")
# The statuses a reporter may be told of ([fieldwork] notify_*/notice_*).
NOTICE_STATUSES = ("confirmed", "resolved", "fake", "duplicate")


def _opt(default: Any, *, lo: float | None = None, hi: float | None = None,
         choices: tuple[str, ...] | None = None, secret: bool = False) -> Any:
    meta = {"lo": lo, "hi": hi, "choices": choices, "secret": secret}
    if isinstance(default, (list, dict)):
        return field(default_factory=lambda: type(default)(default), metadata=meta)
    return field(default=default, metadata=meta)



@dataclass(frozen=True)
class ModemConfig:
    # How the journal, ``status`` and the database name this modem (messages.modem,
    # outbox.sent_by): keep it once chosen, or history names a modem that is gone.
    name: str = _opt("modem")
    # receive: drains its storage and never sends; send: sends and still drains
    # (citizens answer the number that texted them); both: one drain between two sends.
    role: str = _opt("both", choices=ROLES)
    # National or international prefixes of this SIM's network ("0811", "+62811"):
    # replies to such numbers prefer this modem (on-net SMS is cheaper and quicker).
    prefixes: list = _opt([])
    # Most SMS this SIM sends a minute (0: as fast as the modem takes them), and a day
    # (0: no cap), as its SMS package allows. A long reply counts each of its parts.
    send_per_minute: float = _opt(0.0, lo=0, hi=600)
    daily_cap: int = _opt(0, lo=0, hi=1_000_000)
    # Sends failed in a row after which this stick stops claiming replies (the others
    # take them at once); it tries one again after send_retry_seconds, doubling up to
    # an hour, and sends again from the first success.
    send_failures: int = _opt(3, lo=1, hi=1000)
    send_retry_seconds: float = _opt(60.0, lo=0.1, hi=86400)
    # The stick expected on this port, by its SIM (IMSI) and device (IMEI); empty: the
    # one last seen on it. Another stick behind the port name (a hub port, a udev name
    # now pointing elsewhere) is not used until written here, unless new_stick = "join".
    imsi: str = _opt("")
    imei: str = _opt("")
    new_stick: str = _opt("confirm", choices=("confirm", "join"))
    # The operator's balance code (Telkomsel "*888#", Indosat "*555#", XL "*123#"); empty:
    # the credit is not watched. Asked at connect and every balance_check_seconds; the
    # journal and `status` warn under min_credit (rupiah) or min_sms (SMS left in the
    # package), and expiry_warn_days before the card's active period ends. A SIM with
    # no credit and no package, or an expired card, stops claiming replies.
    balance_ussd: str = _opt("")
    balance_check_seconds: float = _opt(3600.0, lo=5, hi=7 * 86400)
    min_credit: int = _opt(5000, lo=0, hi=100_000_000)
    min_sms: int = _opt(20, lo=0, hi=1_000_000)
    expiry_warn_days: int = _opt(7, lo=0, hi=365)
    backend: str = _opt("at", choices=("at", "gammu"))
    port: str = _opt("/dev/gsm-modem")
    baudrate: int = _opt(115200, lo=300, hi=4_000_000)
    pin: str = _opt("", secret=True)
    memory: str = _opt("SM", choices=("SM", "ME", "MT", "SR"))
    profile: str = _opt("auto")
    command_timeout: float = _opt(10.0, lo=0.5, hi=600)
    send_timeout: float = _opt(60.0, lo=1, hi=600)
    sim_busy_wait: float = _opt(30.0, lo=0, hi=600)
    gammurc: str = _opt("")
    gammu_section: int = _opt(0, lo=0, hi=99)
    gammu_connection: str = _opt("at")


@dataclass(frozen=True)
class DatabaseConfig:
    path: str = _opt("smsbridge.db")
    busy_timeout: float = _opt(30.0, lo=0.1, hi=3600)


@dataclass(frozen=True)
class TicketConfig:
    prefix: str = _opt("LP")
    digits: int = _opt(6, lo=3, hi=10)


@dataclass(frozen=True)
class ReplyConfig:
    language: str = _opt("id", choices=("id", "en"))
    enabled: bool = _opt(True)
    status_keywords: list = _opt(["CEK", "STATUS"])
    # Empty strings mean "the built-in text of ``language``" (see replies.py).
    ack: str = _opt("")
    status: str = _opt("")
    unknown_ticket: str = _opt("")


@dataclass(frozen=True)
class DaemonConfig:
    poll_seconds: float = _opt(10.0, lo=0.5, hi=3600)
    followup_minutes: float = _opt(10.0, lo=0, hi=7 * 24 * 60)
    part_timeout_minutes: float = _opt(30.0, lo=1, hi=7 * 24 * 60)
    reconnect_max_seconds: float = _opt(60.0, lo=1, hi=3600)
    operator_name: str = _opt("smsbridge")
    # Numbers starting 0 are national: stored as +<country_code>… so one phone is one reporter.
    country_code: str = _opt("62")
    # Follow-ups stop growing a case's text past this many characters (they stay
    # attached as messages), so one sender cannot make each step slower than the last.
    case_text_max_chars: int = _opt(10_000, lo=500, hi=1_000_000)
    # The daemon's socket, through which operators' commands get what needs the keys
    # (--reveal, lookups by number); empty: smsbridge.sock beside the database. Under
    # systemd: /run/smsbridge/smsbridge.sock (RuntimeDirectory=smsbridge).
    socket: str = _opt("")


@dataclass(frozen=True)
class OutboxConfig:
    max_attempts: int = _opt(6, lo=1, hi=100)
    retry_base_seconds: float = _opt(30.0, lo=0, hi=86400)
    retry_max_seconds: float = _opt(3600.0, lo=0, hi=7 * 86400)
    status_report: bool = _opt(True)


@dataclass(frozen=True)
class AbuseConfig:
    replies_per_hour: int = _opt(5, lo=0, hi=1000)
    # The reporters' notices (their case confirmed, resolved) have their own allowance
    # per number, so that CEKs never use up the news; still inside the line's budget.
    notices_per_hour: int = _opt(5, lo=0, hi=1000)
    # The whole line's automatic replies, whoever they go to: sized for one SIM's SMS
    # package, so that spoofed senders by the thousand cannot spend its credit.
    line_replies_per_hour: int = _opt(600, lo=0, hi=100_000)
    line_replies_per_day: int = _opt(5000, lo=0, hi=1_000_000)
    loop_threshold: int = _opt(3, lo=1, hi=1000)
    short_code_max_digits: int = _opt(5, lo=0, hi=8)
    blocklist: list = _opt([])


@dataclass(frozen=True)
class HookConfig:
    command: str = _opt("")
    url: str = _opt("")
    timeout_seconds: float = _opt(10.0, lo=0.1, hi=600)
    max_attempts: int = _opt(5, lo=1, hi=100)
    # Retired: a hook never gets a reporter's number (accepted, ignored, warned about,
    # so that an older config still starts the line).
    reveal_numbers: bool = _opt(False)


@dataclass(frozen=True)
class PoolConfig:
    # The order in which a reply looks for its modem: the one that received the report,
    # one whose prefixes match the number, the least busy. Leave one out to drop it.
    route: list = _opt(list(ROUTES))
    # A modem that is down, or whose oldest waiting reply is older than this, loses its
    # replies to the others.
    failover_seconds: float = _opt(120.0, lo=1, hi=86400)
    # How long a claimed reply stays with the modem that claimed it; a reply whose
    # modem died or hung goes back to the queue after this.
    lease_seconds: float = _opt(300.0, lo=10, hi=86400)


@dataclass(frozen=True)
class DeskConfig:
    # The language the CLI speaks to operators ("id" or "en"); each operator may choose
    # their own with SMSBRIDGE_LANG or the locale variables. The journal stays English.
    language: str = _opt("id", choices=("id", "en"))
    # The zone every time is shown and typed in (an IANA name, "Asia/Jakarta");
    # empty: the box's own.
    timezone: str = _opt("")
    # An open case of the same category and place, or with nearly the same words,
    # received this long before a new report is linked to it as possibly the same
    # incident; 0 links none.
    related_minutes: float = _opt(180.0, lo=0, hi=30 * 24 * 60)
    # How alike two texts must be (shared words / all words) to be related whatever
    # their category and place.
    related_similarity: float = _opt(0.6, lo=0.1, hi=1.0)
    # The city's place names and landmarks (gazetteer): taken whole as a report's
    # place, and never read as a category's word ("Stasiun Balapan" is no street race).
    places: list = _opt(list(DEFAULT_PLACES))
    # Words that make a report urgent (a weapon, an explosive, a person in danger),
    # matched like [categories] keywords: it leads the list, `cases watch` rings for
    # it, its hook goes first. [] turns it off.
    urgent: list = _opt(list(DEFAULT_URGENT))
    # How long a case may stay in an open status before it is overdue: "STATUS SPAN"
    # with m, h or d ("new 30m": untouched half an hour after it arrived).
    deadlines: list = _opt(list(DEFAULT_DEADLINES))


@dataclass(frozen=True)
class PrivacyConfig:
    # What a masked number shows: the network prefix ("+62 857") and up to the last
    # two digits; less for a line whose reporters are few enough to be told apart.
    mask_prefix: bool = _opt(True)
    mask_last_digits: int = _opt(2, lo=0, hi=2)
    # The keys that seal reporters' numbers in the database, made by the daemon at its
    # first start, readable by its user only; empty: smsbridge.key beside the database.
    # Back it up apart from the database.
    key_file: str = _opt("")
    # Numbers one login may look up through the daemon (cases list --reporter,
    # messages --sender, cases add --reporter) in an hour.
    lookups_per_hour: int = _opt(60, lo=1, hi=100_000)


@dataclass(frozen=True)
class RetentionConfig:
    # Days after a case was closed (resolved, fake, duplicate; counted from its last
    # change) when its reporter's number and the raw SMS it came in are destroyed: the
    # case keeps the masked number and a keyed pseudonym of it. 0: never.
    forget_numbers_after_days: int = _opt(365, lo=0, hi=36500)
    # Days after closing when a whole closed case is deleted, its messages, history and
    # replies with it. 0: never (the case file is a police record).
    delete_cases_after_days: int = _opt(0, lo=0, hi=36500)
    # Cases per transaction: the daemon's reception waits at most for one batch.
    batch_size: int = _opt(200, lo=1, hi=100_000)
    # The pseudonym's key, made by the daemon at its first start, readable by its user
    # only; empty: retention.key beside the database.
    key_file: str = _opt("")


@dataclass(frozen=True)
class CategoriesConfig:
    """Keywords per category, in priority order (the first wins a tie); whole words,
    ``word*`` for words starting with it. A report matching none is "other"."""

    knalpot_brong: list = _opt(list(DEFAULT_KEYWORDS["knalpot_brong"]))
    balap_liar: list = _opt(list(DEFAULT_KEYWORDS["balap_liar"]))
    judi: list = _opt(list(DEFAULT_KEYWORDS["judi"]))
    miras: list = _opt(list(DEFAULT_KEYWORDS["miras"]))
    narkoba: list = _opt(list(DEFAULT_KEYWORDS["narkoba"]))
    tawuran: list = _opt(list(DEFAULT_KEYWORDS["tawuran"]))
    orang_hilang: list = _opt(list(DEFAULT_KEYWORDS["orang_hilang"]))
    pencurian: list = _opt(list(DEFAULT_KEYWORDS["pencurian"]))
    parkir_liar: list = _opt(list(DEFAULT_KEYWORDS["parkir_liar"]))
    kebisingan: list = _opt(list(DEFAULT_KEYWORDS["kebisingan"]))


@dataclass(frozen=True)
class LoggingConfig:
    level: str = _opt("INFO", choices=("DEBUG", "INFO", "WARNING", "ERROR"))


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
    # Guessing: this many wrong words from one officer's (or team's) numbers, or this
    # many answers from other numbers carrying a real word, within the window, lock the
    # word (the right one is refused too) until the administrator changes it. 0: never.
    guess_limit: int = _opt(5, lo=0, hi=1000)
    leak_limit: int = _opt(3, lo=0, hi=1000)
    guess_window_minutes: int = _opt(1440, lo=1, hi=525_600)


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


@dataclass(frozen=True)
class Config:
    modem: ModemConfig = field(default_factory=ModemConfig)
    database: DatabaseConfig = field(default_factory=DatabaseConfig)
    tickets: TicketConfig = field(default_factory=TicketConfig)
    replies: ReplyConfig = field(default_factory=ReplyConfig)
    daemon: DaemonConfig = field(default_factory=DaemonConfig)
    outbox: OutboxConfig = field(default_factory=OutboxConfig)
    abuse: AbuseConfig = field(default_factory=AbuseConfig)
    hook: HookConfig = field(default_factory=HookConfig)
    pool: PoolConfig = field(default_factory=PoolConfig)
    desk: DeskConfig = field(default_factory=DeskConfig)
    privacy: PrivacyConfig = field(default_factory=PrivacyConfig)
    retention: RetentionConfig = field(default_factory=RetentionConfig)
    categories: CategoriesConfig = field(default_factory=CategoriesConfig)
    logging: LoggingConfig = field(default_factory=LoggingConfig)
    # [[modems]]: each entry is [modem] with its own keys on top; empty: [modem] alone.
    modems: tuple[ModemConfig, ...] = ()
    fieldwork: FieldConfig = field(default_factory=FieldConfig)
    officers: tuple[OfficerConfig, ...] = ()  # [[officers]], [[teams]]
    teams: tuple[TeamConfig, ...] = ()
    source: str | None = field(default=None, compare=False)

    @property
    def pool_modems(self) -> tuple[ModemConfig, ...]:
        """Every modem the daemon drives: the [[modems]] entries, else [modem] alone."""
        return self.modems or (self.modem,)

    def replace(self, **sections: Any) -> Config:
        """A copy with whole sections or single keys changed: ``replace(modem={"port": p})``."""
        changes = {}
        for name, value in sections.items():
            if isinstance(value, dict):
                value = dataclasses.replace(getattr(self, name), **value)
            changes[name] = value
        return dataclasses.replace(self, **changes)


SECTION_CLASSES: dict[str, type] = {
    "modem": ModemConfig, "database": DatabaseConfig, "tickets": TicketConfig,
    "replies": ReplyConfig, "daemon": DaemonConfig, "outbox": OutboxConfig,
    "abuse": AbuseConfig, "hook": HookConfig, "pool": PoolConfig, "desk": DeskConfig,
    "categories": CategoriesConfig, "logging": LoggingConfig, "fieldwork": FieldConfig,
    "privacy": PrivacyConfig, "retention": RetentionConfig,
}
# Arrays of tables: [[modems]] entries take [modem]'s keys; the roster has its own.
ARRAY_SECTIONS: dict[str, type] = {"modems": ModemConfig, "officers": OfficerConfig,
                                   "teams": TeamConfig}
