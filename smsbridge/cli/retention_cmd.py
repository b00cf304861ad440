"""``smsbridge retention``: what [retention] destroys now, or destroy it at once."""

from __future__ import annotations

import click

from smsbridge.cli import AppContext, handle_errors, main, pass_app
from smsbridge.i18n import _, ngettext


@main.command("retention")
@click.option("--dry-run", is_flag=True, help="Only say what would go; change nothing.")
@pass_app
@handle_errors
def retention_command(app: AppContext, dry_run: bool) -> None:
    """Forget the numbers of long-closed cases now, as the daemon does every day.

    A closed case last changed more than [retention] forget_numbers_after_days ago
    keeps its masked number and a keyed pseudonym; its full number and raw SMS are
    destroyed. With delete_cases_after_days, older closed cases are deleted whole.
    Recorded in the audit log. Without --dry-run it needs the daemon's key: run it as
    the daemon's user.

    \b
    Examples:
        smsbridge retention --dry-run
        sudo -u smsbridge smsbridge retention
    """
    from smsbridge.cli.cases_cmd import open_store
    from smsbridge.retention import cutoffs, run_all
    from smsbridge.store.retention import Retention

    section = app.config.retention
    now = app.clock.now()
    due = cutoffs(section, now)
    if dry_run:
        with open_store(app) as store:
            found = Retention(store.db, store.audit).due(forget_before=due.forget_before,
                                                         delete_before=due.delete_before)
        from smsbridge.cli.desk import thousands

        if due.forget_before:
            days = section.forget_numbers_after_days
            click.echo(ngettext(
                "would forget the numbers of {count} closed cases (and clear {messages} of "
                "their SMS) last changed before {date} ({days} day)",
                "would forget the numbers of {count} closed cases (and clear {messages} of "
                "their SMS) last changed before {date} ({days} days)", days).format(
                    count=thousands(found.numbers), messages=thousands(found.messages),
                    date=due.forget_before[:10], days=days))
        else:
            click.echo(_("numbers are never forgotten (forget_numbers_after_days = 0)"))
        if due.delete_before:
            days = section.delete_cases_after_days
            click.echo(ngettext(
                "would delete {count} closed cases last changed before {date} ({days} day)",
                "would delete {count} closed cases last changed before {date} ({days} days)",
                days).format(count=thousands(found.cases), date=due.delete_before[:10],
                             days=days))
        else:
            click.echo(_("closed cases are never deleted (delete_cases_after_days = 0)"))
        return
    with open_store(app, migrate=True) as store:
        keys = getattr(store.db.sealer, "keys", None)
        if keys is None:
            from smsbridge.errors import KeysError

            raise KeysError(_("retention needs the daemon's keys; run it as the daemon's "
                              "user (sudo -u smsbridge smsbridge retention), or let the "
                              "daemon run it daily"))
        done = run_all(store, app.config, keys.hash_key, now)
    # The summary is the one the daemon writes in its journal and the audit log (English).
    click.echo(_("retention: {done}").format(done=done))
