"""``smsbridge backup``: a consistent, checked copy of the database, safe while the daemon
runs."""

from __future__ import annotations

from pathlib import Path

import click

from smsbridge.cli import AppContext, handle_errors, main, pass_app
from smsbridge.i18n import _, ngettext


@main.command("backup")
@click.argument("dest", metavar="FILE", type=click.Path(path_type=Path))
@click.option("--keep", type=click.IntRange(min=1, max=100_000), metavar="N",
              help="FILE is a directory: write cases-YYYYMMDD-HHMMSS.db in it and delete "
                   "all but the newest N such backups there.")
@pass_app
@handle_errors
def backup_command(app: AppContext, dest: Path, keep: int | None) -> None:
    """Copy the case database to FILE, consistent even while the daemon writes.

    The copy is made with SQLite's online backup API (one state of the database: every
    case committed before it began), passes PRAGMA integrity_check, and only then
    replaces FILE, mode 0640, never through a symbolic link. Restore it with the daemon
    stopped (docs/operators.md, "Backups"). The config file is not in the backup.

    \b
    Examples:
        smsbridge backup /var/backups/smsbridge/cases.db
        smsbridge backup --keep 14 /var/backups/smsbridge
    """
    from smsbridge.cli.cases_cmd import open_store
    from smsbridge.cli.outfile import shown
    from smsbridge.store.backup import backup, rotate, timed_name

    if keep is not None:
        if not dest.is_dir():
            raise click.UsageError(_("--keep needs FILE to be a directory; {path} is not "
                                     "one").format(path=dest))
        directory, dest = dest, dest / timed_name(app.clock.now().astimezone())
    with open_store(app) as store:
        result = backup(store.db, dest)
    from smsbridge.cli.desk import thousands
    from smsbridge.i18n import pgettext

    point = pgettext("decimal separator", ".")
    size = f"{result.size / 2**20:,.1f}"
    seconds = f"{result.seconds:.1f}"
    if point != ".":  # Indonesian: 1.234,5 MiB
        size = size.replace(",", "\0").replace(".", point).replace("\0", ".")
        seconds = seconds.replace(".", point)
    click.echo(ngettext("{count} case backed up to {file}: {size} MiB, integrity ok, "
                        "{seconds} s",
                        "{count} cases backed up to {file}: {size} MiB, integrity ok, "
                        "{seconds} s", result.cases).format(
                            count=thousands(result.cases), file=shown(str(result.path)),
                            size=size, seconds=seconds))
    if keep is not None:
        for gone in rotate(directory, keep):
            click.echo(_("removed the old backup {file}").format(file=shown(str(gone))))
