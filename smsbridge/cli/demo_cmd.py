"""``smsbridge demo``: see the whole job run on the built-in modem emulator."""

from __future__ import annotations

import tempfile
from pathlib import Path

import click

from smsbridge.cli import handle_errors, main
from smsbridge.i18n import _
from smsbridge.tickets import status_name


@main.command("demo")
@click.option("--dir", "directory", type=click.Path(file_okay=False, path_type=Path),
              help="Keep the demo's database and config here (default: a temporary directory).")
@click.option("--modems", type=click.IntRange(1, 6), default=1, show_default=True,
              help="Run a pool of this many emulated modems: the reports spread over them, "
                   "the replies go out from several.")
@handle_errors
def demo_command(directory: Path | None, modems: int) -> None:
    """Run the daemon on the built-in modem emulator with sample citizen reports.

    Citizens' phones send reports (Indonesian, a long one in parts, emoji, an
    operator's notice, a follow-up, a CEK query); the real daemon makes cases and
    answers; the desk sends a case to an officer, whose SMS answer confirms it and
    tells its reporter; then the cases and the SMS the phones received are shown.

    \b
    Example:
        smsbridge demo --dir ./demo
        smsbridge --config ./demo/config.toml cases list
        smsbridge demo --modems 3
    """
    from smsbridge.cli.demo import run_demo
    from smsbridge.privacy import mask_number, neutralise

    if directory is None:
        with tempfile.TemporaryDirectory(prefix="smsbridge-demo-") as tmp:
            result = run_demo(Path(tmp), say=click.echo, modems=modems)
            _show(result, mask_number, neutralise, kept=False)
    else:
        result = run_demo(directory, say=click.echo, modems=modems)
        _show(result, mask_number, neutralise, kept=True)


def _show(result, mask_number, neutralise, *, kept: bool) -> None:
    click.echo("\n" + _("Cases in the database (reporters' numbers masked):"))
    for case in result.cases:
        text = neutralise(case["text"])
        text = text if len(text) <= 52 else text[:51] + "…"
        flags = f" [{case['flags']}]" if case["flags"] else ""
        click.echo(f"  {case['ticket']:<10} {status_name(case['status']):<13} "
                   f"{case['reporter']:<16} {text}{flags}")
    from smsbridge.cli.demo import OFFICER

    click.echo("\n" + _("SMS the phones received (the citizens', and officer {officer}'s at "
                      "{number}):").format(officer=OFFICER[0], number=mask_number(OFFICER[1])))
    for i, (number, text) in enumerate(result.replies):
        to = _("to {number}").format(number=mask_number(number))
        via = _("from {modem}: ").format(modem=result.via[i]) if result.via else ""
        click.echo(f"  {via}{to:<19} {neutralise(text)}")
    if kept:
        click.echo("\n" + _("Explore: {command}").format(
            command=f"smsbridge --config {result.config_path} cases list"))
