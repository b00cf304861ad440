"""Filing cases from the CLI as intake files SMS (the commands' options are in
cases_cmd.py): ``cases add`` with its category, place and related open report, and
``cases retriage`` for the cases of older versions, in batches, resumable."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from smsbridge.cli import AppContext
from smsbridge.i18n import _

if TYPE_CHECKING:
    from smsbridge.models import NewCase


def add_case(app: AppContext, new: NewCase, *, operator: str) -> None:
    """Create the case, filed and related to an open report as one by SMS would be
    (bridge._triage); prints its ticket, and the related one on stderr."""
    import dataclasses
    from datetime import timedelta

    from smsbridge.cli.case_options import open_store
    from smsbridge.models import to_iso
    from smsbridge.triage.rules import Rules, classify, relate
    from smsbridge.triage.urgent import Urgent

    found = classify(new.text, Rules.from_section(app.config.categories,
                                                  app.config.desk.places))
    related = None
    with open_store(app, create=True, operator=operator) as store:
        # The number sealed by the daemon first: never while holding the write lock.
        store.db.ask_first(new.reporter, stored=True)
        with store.transaction():
            if app.config.desk.related_minutes:
                since = app.clock.now() - timedelta(minutes=app.config.desk.related_minutes)
                found = relate(found, new.text, store.desk.recent_open(found.category,
                                                                       since=to_iso(since)),
                               min_similarity=app.config.desk.related_similarity)
                if found.related is not None:
                    related = store.cases.by_id(found.related.id).ticket
            case = store.cases.create(dataclasses.replace(
                new, category=found.category, place=found.place, incident_id=found.incident_id,
                urgent=Urgent.from_keywords(app.config.desk.urgent).words_in(new.text)),
                operator=operator)
    click.echo(case.ticket)
    if related:
        click.echo(_("possibly the same incident as {ticket}").format(ticket=related), err=True)


def retriage(app: AppContext, *, since: str | None, redo: bool, batch: int,
             operator: str) -> None:
    from smsbridge.cli import when
    from smsbridge.cli.case_options import open_store
    from smsbridge.cli.desk import thousands
    from smsbridge.store.retriage import Decided
    from smsbridge.triage.rules import Rules, classify

    rules = Rules.from_section(app.config.categories, app.config.desk.places)
    start, _end = when.window(since, None, zone=app.zone)
    key = f"{start or 'all'}:{'redo' if redo else 'fill'}"
    seen = changed = 0
    with open_store(app, migrate=True) as store:
        after = store.retriage.checkpoint(key)
        if after:
            click.echo(_("going on after case {number}").format(number=thousands(after)),
                       err=True)
        while rows := store.retriage.batch(after=after, limit=batch, since=start, redo=redo,
                                           daemon=app.config.daemon.operator_name):
            found = [(case_id, classify(text, rules)) for case_id, text in rows]
            changed += store.retriage.apply(
                [Decided(case_id, t.category, t.place) for case_id, t in found],
                operator=operator, why="cases retriage")
            after = rows[-1][0]
            seen += len(rows)
            store.retriage.save_checkpoint(key, after)
        store.retriage.save_checkpoint(key, None)
    click.echo(_("{read} cases read, {changed} given a new category or place").format(
        read=thousands(seen), changed=thousands(changed)))
