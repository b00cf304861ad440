"""Checks of the config as a whole: what no single key can say is wrong (a ticket
prefix that reads as digits, a time zone that does not exist), and the pool's and the
roster's own (``pool``, ``roster``). Each is a function of the sections."""

from __future__ import annotations

from smsbridge.config.pool import check_pool
from smsbridge.config.roster import check_roster
from smsbridge.config.sections import Config
from smsbridge.config.values import check_one_sms, check_template
from smsbridge.errors import ConfigError, InvalidInput
from smsbridge.i18n import _
from smsbridge.numbers import parse_operator_number
from smsbridge.triage.urgent import Deadlines

_TEMPLATE_FIELDS = {"ack": {"ticket"}, "status": {"ticket", "status"},
                    "unknown_ticket": {"ticket"}}


def check(cfg: Config, path: str | None) -> None:
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
    for name, allowed in _TEMPLATE_FIELDS.items():
        check_template(getattr(cfg.replies, name), allowed, path, f"replies.{name}")
        check_one_sms(getattr(cfg.replies, name), prefix, path, f"replies.{name}")
    code = cfg.daemon.country_code
    if not (code.isascii() and code.isdigit() and 1 <= len(code) <= 3):
        raise ConfigError(f"expected 1 to 3 digits (62 for Indonesia), got {code!r}", path=path,
                          key="daemon.country_code")
    check_pool(cfg, path)
    check_roster(cfg, path)
    check_budget(cfg, path)
    if cfg.abuse.blocklist:
        for i, entry in enumerate(cfg.abuse.blocklist, start=1):
            try:
                parse_operator_number(entry, code, what=_("entry {number}").format(
                    number=i))
            except InvalidInput as exc:
                raise ConfigError(str(exc), path=path, key="abuse.blocklist") from None
    if cfg.outbox.retry_max_seconds < cfg.outbox.retry_base_seconds:
        raise ConfigError("must not be smaller than retry_base_seconds", path=path,
                          key="outbox.retry_max_seconds")
    try:
        Deadlines.parse(cfg.desk.deadlines)
    except InvalidInput as exc:
        raise ConfigError(str(exc), path=path, key="desk.deadlines") from None
    if cfg.desk.timezone:
        import zoneinfo

        try:
            zoneinfo.ZoneInfo(cfg.desk.timezone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ConfigError(f"unknown time zone {cfg.desk.timezone!r}; expected a name such "
                              "as Asia/Jakarta, or empty for the box's own", path=path,
                              key="desk.timezone") from None


def check_budget(cfg: Config, path: str | None) -> None:
    """Refuse a line's budget of automatic SMS that its sticks cannot send: when every
    stick that sends has a daily cap (its SMS package), they bound what the line sends
    in a day, and a budget above them would let automatic replies crowd out operators'
    replies and the officers' dispatches until every stick is capped."""
    senders = [m for m in cfg.pool_modems if m.role in ("send", "both")]
    if not senders or any(m.daily_cap == 0 for m in senders):
        return
    caps = sum(m.daily_cap for m in senders)
    if cfg.abuse.line_replies_per_day > caps:
        raise ConfigError(f"{cfg.abuse.line_replies_per_day} automatic SMS a day is more than "
                          f"the sending sticks' daily_cap together ({caps}); set it to at most "
                          f"{caps}, leaving room for operators' replies and dispatches",
                          path=path, key="abuse.line_replies_per_day")
    if cfg.abuse.line_replies_per_hour > cfg.abuse.line_replies_per_day:
        raise ConfigError(f"{cfg.abuse.line_replies_per_hour} an hour is more than the "
                          f"{cfg.abuse.line_replies_per_day} a day the line may send",
                          path=path, key="abuse.line_replies_per_hour")
