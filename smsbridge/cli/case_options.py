"""What the case commands share: the store, the options every command takes,
statuses, categories and numbers as operators type them (cases_cmd.py, field_cmd.py
and the other command modules that open the store)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

from smsbridge.cli import AppContext

if TYPE_CHECKING:
    from smsbridge.replies import Notices
    from smsbridge.store import Store


def open_store(app: AppContext, *, create: bool = False, migrate: bool = False,
               operator: str | None = None) -> Store:
    """The configured database. Reading never creates one (a wrong path must not look
    like an empty case list) nor changes its schema: only commands that write migrate.
    Makes the keys only as the database's owner (the daemon's user: an operator's
    keys would lock the daemon out of them); without them, what needs them is asked of
    the daemon in the name of ``operator`` (``--as``), for this command."""
    from smsbridge.sealing.door import DoorSealer
    from smsbridge.store import Store

    store = Store.from_config(app.config, create=create, migrate=migrate or create,
                              clock=app.clock, make_keys="if-owner")
    sealer = store.db.sealer
    # What the desk reads is masks, even as the daemon's user: a number is opened only
    # when revealed (``cli/reveal.py``), and so recorded.
    store.db.use_sealer(sealer, clear=False)
    if isinstance(sealer, DoorSealer):
        context = click.get_current_context(silent=True)
        sealer.operator = operator
        sealer.purpose = context.command_path if context is not None else ""
    return store


def as_option(fn: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--as", "as_name", metavar="NAME",
        help="Operator name for the case history (default: $SMSBRIDGE_OPERATOR, then the "
             "login name); your login is recorded beside it.")(fn)


def reveal_option(fn: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--reveal", is_flag=True,
        help="Show reporters' full numbers; recorded in each case's history with your name."
    )(fn)


def statuses_option(fn: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--status", "statuses", multiple=True, metavar="S",
        help="Only this status (repeat, or comma-separate: new,checking); open: new, "
             "checking and confirmed; closed: resolved, fake and duplicate.")(fn)


def statuses_typed(values: tuple[str, ...]) -> tuple[str, ...]:
    """``--status`` as typed -> statuses: ``open`` and ``closed`` stand for their groups."""
    from smsbridge.tickets import CLOSED_STATUSES, OPEN_STATUSES, check_status

    groups = {"open": OPEN_STATUSES, "closed": CLOSED_STATUSES,
              "terbuka": OPEN_STATUSES, "tertutup": CLOSED_STATUSES}
    out: list[str] = []
    for value in (v.strip().lower() for group in values for v in group.split(",")):
        if value:
            named = groups[value] if value in groups else (check_status(value),)
            out += [s for s in named if s not in out]
    return tuple(out)


def category_typed(app: AppContext, text: str) -> str:
    """A category as typed ("Knalpot Brong") -> its name, one the config knows."""
    from smsbridge.errors import InvalidInput
    from smsbridge.i18n import _, pgettext
    from smsbridge.triage.rules import OTHER, Rules, category_name

    known = Rules.from_section(app.config.categories).categories
    name = category_name(text)
    # The configured categories are the line's own words; "other" is ours, and may be
    # typed as the desk reads it.
    other = pgettext("category", "other")
    if name not in known and name in (category_name(other), "lainnya") and OTHER in known:
        name = OTHER
    if name not in known:
        raise InvalidInput(_("unknown category {typed!r}; categories are: {names}").format(
            typed=text, names=", ".join(other if k == OTHER else k for k in known)))
    return name


def reporter_typed(app: AppContext, text: str) -> str:
    """A number an operator typed to look up; a masked one (copied from a list) is
    refused with what to do instead: it cannot find anything."""
    from smsbridge.errors import InvalidInput
    from smsbridge.i18n import _, pgettext
    from smsbridge.numbers import normalize

    if any(mark in text for mark in "*…\u2022"):
        raise InvalidInput(_(
            "--reporter {typed!r} is a masked number, which finds nothing; type the number "
            "in full, or see whether it reported before in a case's {column} column and "
            "`cases show TICKET`").format(typed=text, column=pgettext("column", "EARLIER")))
    return normalize(text, app.config.daemon.country_code)


def field_notices(app: AppContext) -> Notices:
    """The reporters' notices the config turns on, for a case's status change."""
    from smsbridge.replies import Notices

    return Notices.from_config(app.config)
