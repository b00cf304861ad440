"""``smsbridge modem …``: check a modem while installing it."""

from __future__ import annotations

import contextlib
import json
from typing import Any

import click

from smsbridge.cli import AppContext, handle_errors, main, pass_app
from smsbridge.i18n import N_, NP_, _, pgettext
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
                role = pgettext("modem role", ROLES[cfg.role]) if cfg.role in ROLES else cfg.role
                click.echo(f"{'' if i == 0 else chr(10)}== {cfg.name} ({role})")
            click.echo(format_report(report, role=cfg.role))
    if not all(report.ready for _cfg, report in reports):
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
            raise InvalidInput(_("no balance code for {name}: give --code '*888#' or set "
                                 "balance_ussd in its [[modems]] entry").format(name=cfg.name))
        modem = make_modem(cfg)
        answer: dict[str, Any] = {"name": cfg.name, "code": asked}
        try:
            modem.open()
            asker = ussd_of(modem)
            if asker is None:
                raise InvalidInput(_("{name}: this backend cannot ask USSD codes").format(
                    name=cfg.name))
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
            said = (_("no answer: {error}").format(error=a["error"]) if "error" in a
                    else credit_words(a))
            click.echo(f"{a['name']} ({a['code']}): {said}")
            if "raw" in a:
                # The operator's answer, the warnings and the reason are shown as they are.
                click.echo(_("    the operator said: {answer}").format(answer=a["raw"]))
                for warning in a["warnings"]:
                    click.echo(_("    WARNING: {warning}").format(warning=warning))
                if a["cannot_send"]:
                    click.echo(_("    CANNOT SEND: {reason}").format(reason=a["cannot_send"]))
    if not fine:
        raise click.exceptions.Exit(1)


def _iso(day: object) -> str | None:
    return None if day is None else str(day)


# 27.007 §7.2 +CREG <stat>. English in --json (registration_text); translated when shown.
REGISTRATION = {
    0: NP_("registration", "not registered, not searching"),
    1: NP_("registration", "registered, home network"),
    2: NP_("registration", "not registered, searching"),
    3: NP_("registration", "registration denied"),
    4: NP_("registration", "unknown"),
    5: NP_("registration", "registered, roaming"),
}
ROLES = {"receive": NP_("modem role", "receive"), "send": NP_("modem role", "send"),
         "both": NP_("modem role", "both")}


def registration_words(stat: int | None, *, translate: bool = False) -> str:
    if stat is None:
        words = N_("unknown (no answer to AT+CREG?)")
        return _(words) if translate else words
    if stat not in REGISTRATION:
        return (_("unknown ({code})") if translate else "unknown ({code})").format(code=stat)
    return pgettext("registration", REGISTRATION[stat]) if translate else REGISTRATION[stat]


def _or(value: object, missing: str | None = None) -> str:
    # What the device and the network say is shown like SMS text: no control characters
    # reach the terminal.
    if value is None:
        return _("unknown") if missing is None else missing
    return neutralise(str(value))


# What a ready stick is ready for, by its role.
READY_FOR = {"receive": N_("READY to receive SMS"), "send": N_("READY to send SMS"),
             "both": N_("READY to receive and send SMS")}


def format_report(report: ProbeReport, *, role: str = "both") -> str:
    """The report as an administrator reads it on a terminal."""
    def row(label: str, value: str) -> str:
        return f"{label + ':':<15}{value}".rstrip()

    lines = [row(pgettext("probe", "port"), report.port)]
    s = report.status
    if s is not None:
        dbm = s.signal_dbm
        signal = (_("{dbm} dBm, {bars}/5 bars (+CSQ {rssi})").format(
            dbm=dbm, bars=bars(dbm), rssi=s.rssi) if dbm is not None else _("unknown"))
        storage = (_("{used}/{total} used ({memory})").format(
            used=s.storage_used, total=s.storage_total, memory=s.storage_memory)
            if s.storage_total is not None else _("unknown"))
        lines += [
            row(pgettext("probe", "modem"), f"{_or(s.manufacturer)} {_or(s.model, '')}"),
            row(pgettext("probe", "firmware"), _or(s.revision)),
            row("IMEI", _or(s.imei)),
            row("SIM", _or(s.sim)),
            row(pgettext("probe", "registration"),
                registration_words(s.registration, translate=True)),
            row(pgettext("probe", "operator"), _or(s.operator, _("none"))),
            row(pgettext("probe", "signal"), signal),
            row("SMSC", _or(s.smsc, _("not set"))),
            row(pgettext("probe", "storage"), storage),
        ]
    lines.append("")
    # The problems and warnings are the probe's own (English) findings, shown as they are.
    if report.ready:
        lines.append(_("verdict: {ready}").format(
            ready=_(READY_FOR.get(role, READY_FOR["both"]))))
    else:
        lines.append(_("verdict: NOT READY; fix:"))
        lines += [f"  - {p}" for p in report.problems]
    if report.warnings:
        lines.append(_("warnings:"))
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
