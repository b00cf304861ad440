"""Configuration: one TOML file -> frozen dataclasses.

Lookup order: an explicit path (``--config``), ``$SMSBRIDGE_CONFIG``,
``/etc/smsbridge/config.toml``; with none of them, the defaults below, which work
for a first try. Every key is checked: an unknown key, a wrong type or a value out
of range is a ConfigError naming the file, the key and what is expected.
"""

from __future__ import annotations

import dataclasses
import os
import string
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from smsbridge import field_config
from smsbridge.errors import ConfigError
from smsbridge.keywords import DEFAULT_KEYWORDS
from smsbridge.pool_config import ROLES, ROUTES, check_pool

SYSTEM_CONFIG = Path("/etc/smsbridge/config.toml")
ENV_VAR = "SMSBRIDGE_CONFIG"


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


@dataclass(frozen=True)
class OutboxConfig:
    max_attempts: int = _opt(6, lo=1, hi=100)
    retry_base_seconds: float = _opt(30.0, lo=0, hi=86400)
    retry_max_seconds: float = _opt(3600.0, lo=0, hi=7 * 86400)
    status_report: bool = _opt(True)


@dataclass(frozen=True)
class AbuseConfig:
    replies_per_hour: int = _opt(5, lo=0, hi=1000)
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
    pencurian: list = _opt(list(DEFAULT_KEYWORDS["pencurian"]))
    parkir_liar: list = _opt(list(DEFAULT_KEYWORDS["parkir_liar"]))
    kebisingan: list = _opt(list(DEFAULT_KEYWORDS["kebisingan"]))


@dataclass(frozen=True)
class LoggingConfig:
    level: str = _opt("INFO", choices=("DEBUG", "INFO", "WARNING", "ERROR"))


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
    categories: CategoriesConfig = field(default_factory=CategoriesConfig)
    logging: LoggingConfig = field(default_factory=LoggingConfig)
    # [[modems]]: each entry is [modem] with its own keys on top; empty: [modem] alone.
    modems: tuple[ModemConfig, ...] = ()
    fieldwork: field_config.FieldConfig = field(default_factory=field_config.FieldConfig)
    officers: tuple[field_config.OfficerConfig, ...] = ()  # [[officers]], [[teams]]
    teams: tuple[field_config.TeamConfig, ...] = ()
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


_SECTION_CLASSES = {
    "modem": ModemConfig, "database": DatabaseConfig, "tickets": TicketConfig,
    "replies": ReplyConfig, "daemon": DaemonConfig, "outbox": OutboxConfig,
    "abuse": AbuseConfig, "hook": HookConfig, "pool": PoolConfig, "desk": DeskConfig,
    "categories": CategoriesConfig, "logging": LoggingConfig,
    "fieldwork": field_config.FieldConfig,
}
# Arrays of tables ([[modems]]): each entry takes the keys of a section.
_ARRAY_SECTIONS = {"modems": "modem", "officers": "officers", "teams": "teams"}
_TYPE_NAMES = {str: "a string", int: "a whole number", float: "a number", bool: "true or false",
               list: "a list"}


def _check_value(cls: type, f: dataclasses.Field, value: Any, path: str | None, key: str) -> Any:
    default = f.default if f.default_factory is dataclasses.MISSING else f.default_factory()
    expected = type(default)
    meta = f.metadata
    ok = isinstance(value, expected) and not (expected is not bool and isinstance(value, bool))
    if expected is float and isinstance(value, int) and not isinstance(value, bool):
        value, ok = float(value), True
    if not ok:
        raise ConfigError(f"expected {_TYPE_NAMES[expected]}, got {value!r}", path=path, key=key)
    if expected is list and not all(isinstance(v, str) for v in value):
        raise ConfigError("expected a list of strings", path=path, key=key)
    if meta.get("choices") and value not in meta["choices"]:
        raise ConfigError(f"expected one of {', '.join(meta['choices'])}, got {value!r}",
                          path=path, key=key)
    lo, hi = meta.get("lo"), meta.get("hi")
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        raise ConfigError(f"expected a value from {lo:g} to {hi:g}, got {value!r}",
                          path=path, key=key)
    return value


def _validate_semantics(cfg: Config, path: str | None) -> None:
    prefix = cfg.tickets.prefix
    if not (prefix == "" or (prefix.isascii() and prefix.isalpha() and len(prefix) <= 4)):
        raise ConfigError(f"expected up to 4 letters A-Z, got {prefix!r}", path=path,
                          key="tickets.prefix")
    if set(prefix.upper()) & {"O", "I"}:
        raise ConfigError("the letters O and I are not allowed (they read as 0 and 1)",
                          path=path, key="tickets.prefix")
    width = len(prefix) + (1 if prefix else 0) + cfg.tickets.digits
    if width > 12:
        raise ConfigError(f"prefix and digits make {width}-character tickets; at most 12 fit "
                          "a citizen's reply", path=path, key="tickets.digits")
    for name in ("ack", "status", "unknown_ticket"):
        _check_template(cfg, name, path)
    code = cfg.daemon.country_code
    if not (code.isascii() and code.isdigit() and 1 <= len(code) <= 3):
        raise ConfigError(f"expected 1 to 3 digits (62 for Indonesia), got {code!r}", path=path,
                          key="daemon.country_code")
    check_pool(cfg, path)
    field_config.check_roster(cfg, path)
    if cfg.abuse.blocklist:
        from smsbridge.errors import InvalidInput
        from smsbridge.numbers import parse_operator_number

        for i, entry in enumerate(cfg.abuse.blocklist, start=1):
            try:
                parse_operator_number(entry, code, what=f"entry {i}")
            except InvalidInput as exc:
                raise ConfigError(str(exc), path=path, key="abuse.blocklist") from None
    if cfg.outbox.retry_max_seconds < cfg.outbox.retry_base_seconds:
        raise ConfigError("must not be smaller than retry_base_seconds", path=path,
                          key="outbox.retry_max_seconds")
    if cfg.desk.timezone:
        import zoneinfo

        try:
            zoneinfo.ZoneInfo(cfg.desk.timezone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ConfigError(f"unknown time zone {cfg.desk.timezone!r}; expected a name such "
                              "as Asia/Jakarta, or empty for the box's own", path=path,
                              key="desk.timezone") from None


_TEMPLATE_FIELDS = {"ack": {"ticket"}, "status": {"ticket", "status"},
                    "unknown_ticket": {"ticket"}}


def _check_template(cfg: Config, name: str, path: str | None) -> None:
    text = getattr(cfg.replies, name)
    if not text:
        return
    try:
        used = {f for _, f, _, _ in string.Formatter().parse(text) if f is not None}
    except ValueError as exc:
        raise ConfigError(f"not a valid template ({exc}); write braces as {{{{ }}}}",
                          path=path, key=f"replies.{name}") from None
    unknown = used - _TEMPLATE_FIELDS[name]
    if unknown:
        allowed = ", ".join(f"{{{f}}}" for f in sorted(_TEMPLATE_FIELDS[name]))
        raise ConfigError(f"unknown placeholder {{{sorted(unknown)[0]}}}; allowed: {allowed}",
                          path=path, key=f"replies.{name}")


def _section_values(cls: type, name: str, body: Any, path: str | None,
                    where: str) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise ConfigError("expected a table of keys", path=path, key=where)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    values = {}
    for key, value in body.items():
        f = fields.get(key)
        if f is None:
            raise ConfigError(f"unknown key; known in [{name}]: {', '.join(fields)}",
                              path=path, key=f"{where}.{key}")
        values[key] = _check_value(cls, f, value, path, f"{where}.{key}")
    return values


def from_dict(data: dict[str, Any], *, path: str | None = None) -> Config:
    sections: dict[str, Any] = {}
    arrays: dict[str, Any] = {}
    for name, body in data.items():
        if name in _ARRAY_SECTIONS:
            arrays[name] = body
            continue
        cls = _SECTION_CLASSES.get(name)
        if cls is None:
            known = ", ".join([*_SECTION_CLASSES, *(f"[{a}]" for a in _ARRAY_SECTIONS)])
            raise ConfigError(f"unknown section; known: {known}", path=path, key=name)
        sections[name] = cls(**_section_values(cls, name, body, path, name))
    if "modems" in arrays:
        entries = arrays["modems"]
        if not isinstance(entries, list) or not entries:
            raise ConfigError("expected one [[modems]] table per modem", path=path, key="modems")
        # [modem] holds what the entries share (timeouts, backend, …); each entry adds its own.
        shared = data.get("modem", {})
        modems = []
        for i, entry in enumerate(entries):
            where = f"modems[{i + 1}]"
            values = {"name": f"modem{i + 1}", **shared,
                      **_section_values(ModemConfig, "modems", entry, path, where)}
            modems.append(ModemConfig(**values))
        sections["modems"] = tuple(modems)
    for name, cls in field_config.ARRAYS.items():
        sections[name] = tuple(cls(**_section_values(cls, name, e, path, f"{name}[{i}]"))
                               for i, e in enumerate(arrays.get(name, []), start=1))
    cfg = Config(**sections, source=path)
    _validate_semantics(cfg, path)
    if path and not Path(cfg.database.path).is_absolute():
        # A relative database path is relative to the config file, not to the cwd of
        # whoever runs the CLI: operators and the daemon must open the same file.
        db = str((Path(path).parent / cfg.database.path).resolve())
        cfg = cfg.replace(database={"path": db})
    return cfg


def find_config_path(explicit: str | os.PathLike | None = None,
                     environ: dict[str, str] | None = None) -> Path | None:
    env = os.environ if environ is None else environ
    if explicit:
        return Path(explicit)
    if env.get(ENV_VAR):
        return Path(env[ENV_VAR])
    if SYSTEM_CONFIG.exists():
        return SYSTEM_CONFIG
    return None


def load(explicit: str | os.PathLike | None = None,
         environ: dict[str, str] | None = None) -> Config:
    """Load the effective config (see module docstring for the lookup order)."""
    path = find_config_path(explicit, environ)
    if path is None:
        return Config()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError("config file not found", path=str(path)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read config file: {exc}", path=str(path)) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"not valid TOML: {exc}", path=str(path)) from None
    return from_dict(data, path=str(path))


def as_dict(cfg: Config, *, mask_secrets: bool = True) -> dict[str, Any]:
    """The effective config as plain data; secrets are shown as ``****`` when set.
    ``modems`` is a list of tables (empty when [modem] is the only modem)."""
    out: dict[str, Any] = {}
    for name, cls in _SECTION_CLASSES.items():
        out[name] = _section_dict(name, cls, getattr(cfg, name), mask_secrets)
    out["modems"] = [_section_dict("modem", ModemConfig, m, mask_secrets) for m in cfg.modems]
    for name, cls in field_config.ARRAYS.items():
        out[name] = [_section_dict(name, cls, o, mask_secrets) for o in getattr(cfg, name)]
    return out


def _section_dict(name: str, cls: type, section: Any, mask_secrets: bool) -> dict[str, Any]:
    body = {}
    for f in dataclasses.fields(cls):
        value = getattr(section, f.name)
        if mask_secrets and f.metadata.get("secret") and value:
            value = "****"
        elif mask_secrets and (name, f.name) == ("hook", "url") and value:
            from smsbridge.privacy import mask_url

            value = mask_url(value)
        body[f.name] = value
    return body


def exposed_secrets(cfg: Config) -> str | None:
    """A warning when the config file holds a secret (the SIM PIN, credentials in the
    hook URL) and every user of the box may read it; None when all is well."""
    held = []
    if any(m.pin for m in cfg.pool_modems):
        held.append("the SIM PIN")
    from smsbridge.privacy import mask_url

    if cfg.hook.url and mask_url(cfg.hook.url) != cfg.hook.url:
        held.append("credentials in [hook] url")
    held += field_config.secrets_held(cfg)
    if not held or not cfg.source:
        return None
    try:
        mode = os.stat(cfg.source).st_mode
    except OSError:
        return None
    if not mode & 0o004:
        return None
    return (f"{cfg.source} holds {' and '.join(held)} and is readable by every user; "
            f"make it readable by root and the smsbridge group only (chmod 640)")
