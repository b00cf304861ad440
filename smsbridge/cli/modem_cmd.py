"""``smsbridge modem …``: check a modem while installing it."""

from __future__ import annotations

import contextlib
import json
from typing import Any

import click

from smsbridge.cli import AppContext, handle_errors, main, pass_app
from smsbridge.modem.probe import ProbeReport, bars
from smsbridge.privacy import neutralise


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
@click.option("--all", "every", is_flag=True,
              help="Probe every modem of the pool ([[modems]]), one after the other.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON for scripts.")
@pass_app
@handle_errors
def probe_command(app: AppContext, port: str | None, every: bool, as_json: bool) -> None:
    """Report maker, model, IMEI, SIM, network, signal, SMSC and storage, and say what to fix.

    Uses the configured [modem] backend (AT or gammu); the daemon must not be running
    (one program at a time owns the port). Exits 0 only when the modem is ready for
    its role (to receive, to send, or both); with a pool ([[modems]]) every modem is
    probed, as with --all, and it exits 0 only when every one is ready. A PIN the SIM
    refused (to the daemon or to a probe) is never sent again: fix [modem] pin first.

    \b
    Example:
        smsbridge --config /etc/smsbridge/config.toml modem probe
        smsbridge modem probe --port /dev/ttyUSB2 --json
        smsbridge --config /etc/smsbridge/config.toml modem probe --all
    """
    from smsbridge.modem.factory import make_modem
    from smsbridge.modem.probe import probe

    if every and port:
        raise click.UsageError("--all probes the configured ports; give --port without it")
    # A pool's [modem] table holds what its sticks share, not a stick: probe them all.
    every = every or (bool(app.config.modems) and port is None)
    modems = app.config.pool_modems if every else (app.config.modem,)
    reports = []
    for modem_config in modems:
        refused = _refused_pin(app, modem_config.name)
        modem = make_modem(modem_config, port=port, refused_pin=refused)
        reports.append((modem_config, probe(modem, modem.url)))
        if modem.refused_pin and modem.refused_pin != refused:
            _remember_refused_pin(app, modem_config.name, modem.refused_pin)
    if as_json:
        shown = [{"name": cfg.name, "role": cfg.role, **report_dict(report)}
                 for cfg, report in reports]
        click.echo(json.dumps(shown if every else shown[0], indent=2, ensure_ascii=False))
    else:
        for i, (cfg, report) in enumerate(reports):
            if every:
                click.echo(f"{'' if i == 0 else chr(10)}== {cfg.name} ({cfg.role})")
            click.echo(format_report(report, role=cfg.role))
    if not all(report.ready for _, report in reports):
        raise click.exceptions.Exit(1)


def _refused_pin(app: AppContext, name: str) -> str | None:
    """The PIN the daemon (or a probe) saw this SIM refuse: the daemon's own record, so
    that a probe never spends one of the SIM's three tries on it again."""
    from smsbridge.errors import SmsBridgeError
    from smsbridge.store import Store

    try:
        with Store.from_config(app.config, create=False, migrate=False) as store:
            return store.state.refused_pin(name)
    except SmsBridgeError:
        return None  # no database yet: no daemon has tried a PIN


def _remember_refused_pin(app: AppContext, name: str, fingerprint: str) -> None:
    from smsbridge.errors import SmsBridgeError
    from smsbridge.models import to_iso
    from smsbridge.store import Store

    try:
        with Store.from_config(app.config, create=False, migrate=False) as store:
            store.state.remember_refused_pin(name, fingerprint, at=to_iso(app.clock.now()))
    except SmsBridgeError:
        pass  # no database to keep it in: the message says to fix the config first


@modem_group.command("balance")
@click.option("--all", "every", is_flag=True,
              help="Ask every modem of the pool ([[modems]]), one after the other.")
@click.option("--code", metavar="USSD",
              help="The balance code to ask, overriding [[modems]] balance_ussd (*888#).")
@click.option("--json", "as_json", is_flag=True, help="Print the answers as JSON for scripts.")
@pass_app
@handle_errors
def balance_command(app: AppContext, every: bool, code: str | None, as_json: bool) -> None:
    """Ask the operator for the SIM's credit, SMS package and active period (USSD).

    Asks each modem's balance_ussd code (or --code) and shows the answer as the
    operator gave it, what smsbridge understood of it, and the warnings the daemon
    would give. The daemon must not be running (one program at a time owns the port).
    Exits 0 when every modem asked answered without a warning, 1 otherwise.

    \b
    Example:
        smsbridge modem balance --code '*888#'
        smsbridge --config /etc/smsbridge/config.toml modem balance --all
    """

    from smsbridge.cli.daemon_cmd import credit_words
    from smsbridge.errors import InvalidInput, ModemError
    from smsbridge.modem import ussd
    from smsbridge.modem.base import ussd_of
    from smsbridge.modem.factory import make_modem

    modems = app.config.pool_modems if every or app.config.modems else (app.config.modem,)
    today = app.clock.now().astimezone().date()
    shown, fine = [], True
    for cfg in modems:
        asked = code or cfg.balance_ussd
        if not asked:
            raise InvalidInput(f"no balance code for {cfg.name}: give --code '*888#' or set "
                               "balance_ussd in its [[modems]] entry")
        modem = make_modem(cfg)
        answer: dict[str, Any] = {"name": cfg.name, "code": asked}
        try:
            modem.open()
            asker = ussd_of(modem)
            if asker is None:
                raise InvalidInput(f"{cfg.name}: this backend cannot ask USSD codes")
            text = asker.ussd(asked)
        except ModemError as exc:
            answer["error"] = neutralise(str(exc))
            fine = False
        else:
            balance = ussd.parse_balance(text)
            warnings = ussd.credit_warnings(balance, ussd.CreditLimits(
                cfg.min_credit, cfg.min_sms, cfg.expiry_warn_days), today)
            stop = ussd.cannot_send(balance, today)
            answer.update({
                "raw": neutralise(text), "credit": balance.credit,
                "sms_left": balance.sms_left,
                "active_until": _iso(balance.active_until), "warnings": warnings,
                "cannot_send": stop})
            fine = fine and not warnings and not stop
        finally:
            with contextlib.suppress(ModemError):
                modem.close()
        shown.append(answer)
    if as_json:
        click.echo(json.dumps(shown, indent=2, ensure_ascii=False))
    else:
        for a in shown:
            click.echo(f"{a['name']} ({a['code']}): " + (
                f"no answer: {a['error']}" if "error" in a else credit_words(a)))
            if "raw" in a:
                click.echo(f"    the operator said: {a['raw']}")
                for warning in a["warnings"]:
                    click.echo(f"    WARNING: {warning}")
                if a["cannot_send"]:
                    click.echo(f"    CANNOT SEND: {a['cannot_send']}")
    if not fine:
        raise click.exceptions.Exit(1)


def _iso(day: object) -> str | None:
    return None if day is None else str(day)


# 27.007 §7.2 +CREG <stat>.
REGISTRATION = {
    0: "not registered, not searching",
    1: "registered, home network",
    2: "not registered, searching",
    3: "registration denied",
    4: "unknown",
    5: "registered, roaming",
}


def registration_words(stat: int | None) -> str:
    if stat is None:
        return "unknown (no answer to AT+CREG?)"
    return REGISTRATION.get(stat, f"unknown ({stat})")


def _or(value: object, missing: str = "unknown") -> str:
    # What the device and the network say is shown like SMS text: no control characters
    # reach the terminal.
    return missing if value is None else neutralise(str(value))


# What a ready stick is ready for, by its role.
READY_FOR = {"receive": "READY to receive SMS", "send": "READY to send SMS",
             "both": "READY to receive and send SMS"}


def format_report(report: ProbeReport, *, role: str = "both") -> str:
    """The report as an administrator reads it on a terminal."""
    lines = [f"port:          {report.port}"]
    s = report.status
    if s is not None:
        dbm = s.signal_dbm
        signal = (f"{dbm} dBm, {bars(dbm)}/5 bars (+CSQ {s.rssi})" if dbm is not None
                  else "unknown")
        storage = (f"{s.storage_used}/{s.storage_total} used ({s.storage_memory})"
                   if s.storage_total is not None else "unknown")
        lines += [
            f"modem:         {_or(s.manufacturer)} {_or(s.model, '')}".rstrip(),
            f"firmware:      {_or(s.revision)}",
            f"IMEI:          {_or(s.imei)}",
            f"SIM:           {_or(s.sim)}",
            f"registration:  {registration_words(s.registration)}",
            f"operator:      {_or(s.operator, 'none')}",
            f"signal:        {signal}",
            f"SMSC:          {_or(s.smsc, 'not set')}",
            f"storage:       {storage}",
        ]
    lines.append("")
    if report.ready:
        lines.append(f"verdict: {READY_FOR.get(role, READY_FOR['both'])}")
    else:
        lines.append("verdict: NOT READY; fix:")
        lines += [f"  - {p}" for p in report.problems]
    if report.warnings:
        lines.append("warnings:")
        lines += [f"  - {w}" for w in report.warnings]
    return "\n".join(lines)


def report_dict(report: ProbeReport) -> dict[str, Any]:
    """The report as plain data for ``--json``."""
    status = None
    if report.status is not None:
        s = report.status
        status = {
            "manufacturer": s.manufacturer, "model": s.model, "revision": s.revision,
            "imei": s.imei, "sim": s.sim, "registration": s.registration,
            "registration_text": registration_words(s.registration),
            "operator": s.operator, "rssi": s.rssi, "signal_dbm": s.signal_dbm,
            "bars": bars(s.signal_dbm), "smsc": s.smsc, "storage_memory": s.storage_memory,
            "storage_used": s.storage_used, "storage_total": s.storage_total,
        }
    return {"port": report.port, "ready": report.ready, "problems": list(report.problems),
            "warnings": list(report.warnings), "status": status}
