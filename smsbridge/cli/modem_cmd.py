"""``smsbridge modem …``: check a modem while installing it."""

from __future__ import annotations

import json

import click

from smsbridge.cli import AppContext, handle_errors, main, pass_app


@main.group("modem")
def modem_group() -> None:
    """Look at the GSM modem.

    \b
    Example:
        smsbridge modem probe --port /dev/ttyUSB2
    """


@modem_group.command("probe")
@click.option("--port", metavar="URL",
              help="Port to probe, overriding [modem] port: a device path or a pyserial URL "
                   "(socket://host:port, spy:///dev/ttyUSB0).")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON for scripts.")
@pass_app
@handle_errors
def probe_command(app: AppContext, port: str | None, as_json: bool) -> None:
    """Report maker, model, IMEI, SIM, network, signal, SMSC and storage, and say what to fix.

    Uses the configured [modem] backend (AT or gammu); the daemon must not be running
    (one program at a time owns the port). Exits 0 only when the modem is ready to
    receive SMS.

    \b
    Example:
        smsbridge --config /etc/smsbridge/config.toml modem probe
        smsbridge modem probe --port /dev/ttyUSB2 --json
    """
    from smsbridge.modem import probe
    from smsbridge.modem.factory import make_modem

    modem = make_modem(app.config.modem, port=port)
    report = probe.probe(modem, modem.url)
    if as_json:
        click.echo(json.dumps(probe.report_dict(report), indent=2, ensure_ascii=False))
    else:
        click.echo(probe.format_report(report))
    if not report.ready:
        raise click.exceptions.Exit(1)
