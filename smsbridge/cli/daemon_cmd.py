"""``smsbridge daemon`` and ``smsbridge status``: run the job, and look at it while it runs."""

from __future__ import annotations

import json
import os
import textwrap
from collections.abc import Callable, Sequence
from datetime import datetime, tzinfo
from typing import TYPE_CHECKING, Any

import click

from smsbridge.cli import AppContext, apply_privacy, handle_errors, main, pass_app
from smsbridge.privacy import neutralise

if TYPE_CHECKING:
    from smsbridge.config.sections import RetentionConfig

if TYPE_CHECKING:
    from smsbridge.store import Store

# A heartbeat older than this means the daemon is gone or hung (it beats every 5 s).
STALE_AFTER_SECONDS = 30


@main.command("daemon")
@click.option("--port", metavar="URL", help="Modem port, overriding [modem] port.")
@pass_app
@handle_errors
def daemon_command(app: AppContext, port: str | None) -> None:
    """Run the bridge: receive reports, make cases, send replies (for systemd).

    Runs until SIGTERM; SIGHUP reloads the config. Logs go to stderr.

    \b
    Example:
        smsbridge --config /etc/smsbridge/config.toml daemon
    """
    from smsbridge.config import load as config_mod
    from smsbridge.daemon import Daemon, setup_logging

    cfg = app.config
    if port and cfg.modems:
        raise click.UsageError("--port is for a single [modem]; this config has a pool of "
                               "[[modems]], each with its own port")
    if port:
        cfg = cfg.replace(modem={"port": port})

    def reload() -> config_mod.Config:
        new = config_mod.load(app.config_path)
        apply_privacy(new)
        return new.replace(modem={"port": port}) if port and not new.modems else new

    # What the daemon writes (its journal, the reasons it keeps in the database) stays
    # English whatever language the command line was started in (smsbridge/i18n.py).
    from smsbridge import i18n

    i18n.install("en")
    setup_logging(cfg.logging.level, name_modems=len(cfg.pool_modems) > 1)
    daemon = Daemon(cfg, reload=reload, clock=app.clock)
    daemon.install_signal_handlers()
    raise SystemExit(daemon.run())


def _age_seconds(iso: str | None, now: datetime) -> float | None:
    if not iso:
        return None
    return (now - datetime.fromisoformat(iso)).total_seconds()


def _pid_alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists; it runs as another user (the smsbridge service user)
    return True


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def modem_report(state: dict, name: str, *, sent_today: int, queue: int) -> dict:
    """One modem of the pool as ``status`` shows it, from its ``modem.<name>.*`` keys."""
    def get(key: str) -> str | None:
        value: str | None = state.get(f"modem.{name}.{key}")
        return value

    return {
        "name": name, "role": get("role"), "state": get("state"), "port": get("port"),
        "modem": get("modem"), "signal_dbm": _int(get("signal_dbm")),
        "operator": get("operator"), "storage_used": _int(get("storage_used")),
        "storage_total": _int(get("storage_total")), "sent_today": sent_today,
        "daily_cap": _int(get("daily_cap")), "capped": bool(get("capped")), "queue": queue,
        "last_poll": get("last_poll"), "last_error": get("last_error"),
        "last_error_at": get("last_error_at"),
        "sim_pin_refused_at": get("sim_pin_refused_at") if get("sim_pin_refused") else None,
        # Set while the stick claims no replies: its sends keep failing, or no credit.
        "cannot_send": get("cannot_send"), "cannot_send_at": get("cannot_send_at"),
        # The stick last accepted on this name, and another one found on its port.
        "imsi": get("imsi"), "imei": get("imei"),
        "unknown_stick": get("unknown_stick"), "unknown_stick_at": get("unknown_stick_at"),
        # The last answer to the balance code ([[modems]] balance_ussd), as parsed.
        "balance": None if not get("balance_at") else {
            "credit": _int(get("balance_credit")), "sms_left": _int(get("balance_sms")),
            "active_until": get("balance_until"), "raw": get("balance_raw"),
            "checked_at": get("balance_at"), "warning": get("credit_warning")},
        "balance_error": get("balance_error"),
    }


def credit_words(b: dict) -> str:
    """A balance as ``status`` and ``modem balance`` show it."""
    said = []
    if b.get("credit") is not None:
        said.append(f"Rp{b['credit']:,}".replace(",", "."))
    if b.get("sms_left") is not None:
        said.append(f"{b['sms_left']} SMS in the package")
    if b.get("active_until"):
        said.append(f"active until {b['active_until']}")
    if not said:
        said.append(f"not understood: {neutralise(b.get('raw') or '')!r}")
    checked = f" (asked {b['checked_at']})" if b.get("checked_at") else ""
    return ", ".join(said) + checked


def abilities(m: dict) -> tuple[list[str], str | None]:
    """What a stick of ``status`` can do now (receive, send) and, if not all its role
    asks, why (pure: from ``modem_report``'s keys)."""
    role = m.get("role") or "both"
    if m.get("state") != "ready":
        down = m.get("state") or "not started"
        if m.get("last_error"):
            down += f": {m['last_error']}"
        return [], down
    can = []
    why: str | None = None
    if role in ("receive", "both"):
        can.append("receive")
    if role in ("send", "both"):
        if m.get("cannot_send"):
            why = f"cannot send: {m['cannot_send']}"
        elif m.get("capped"):
            why = "cannot send: its daily cap is reached"
        else:
            can.append("send")
    return can, why


def daemon_report(state: dict, backlog: int, *, now: datetime,
                  modems: list[dict] | None = None,
                  locks: Sequence[tuple[str, str, str, str]] = ()) -> dict:
    """What ``status`` shows, from the daemon's state row (pure, for tests)."""
    age = _age_seconds(state.get("heartbeat"), now)
    pid = int(state["pid"]) if (state.get("pid") or "").isdigit() else None
    running = pid is not None and age is not None and age < STALE_AFTER_SECONDS
    pool = modems or []
    first = pool[0] if pool else {}
    return {
        "running": running,
        "pid": pid if running else None,
        "started_at": state.get("started_at"),
        "heartbeat_age_seconds": None if age is None else round(age, 1),
        # A pool of one reads as before; "modems" has each modem of a pool.
        "last_poll": max((m["last_poll"] for m in pool if m["last_poll"]), default=None)
        or state.get("last_poll"),
        "modem": first.get("modem", state.get("modem")),
        "signal_dbm": first.get("signal_dbm", _int(state.get("signal_dbm"))),
        "operator": first.get("operator", state.get("operator")),
        "storage_used": first.get("storage_used", _int(state.get("storage_used"))),
        "storage_total": first.get("storage_total", _int(state.get("storage_total"))),
        "outbox_backlog": backlog,
        "modems": pool,
        "last_error": state.get("last_error") or next(
            (m["last_error"] for m in pool if m["last_error"]), None),
        "last_error_at": state.get("last_error_at") or next(
            (m["last_error_at"] for m in pool if m["last_error"]), None),
        # Items the daemon could not handle and set aside while the line went on.
        "set_aside": _int(state.get("set_aside_count")) or 0,
        "last_set_aside": state.get("last_set_aside"),
        "last_set_aside_at": state.get("last_set_aside_at"),
        "reply_budget_spent": state.get("reply_budget_spent"),
        # When the SIM refused the configured PIN (it is never sent again).
        "sim_pin_refused_at": next(
            (m["sim_pin_refused_at"] for m in pool if m["sim_pin_refused_at"]), None),
        # Verification words locked after guessing (the config's current words only).
        "locked_words": [{"owners": owners, "at": at, "reason": reason}
                         for _, owners, at, reason in locks],
    }


@main.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print the status as JSON.")
@pass_app
@handle_errors
def status_command(app: AppContext, as_json: bool) -> None:
    """Is the daemon alive, how is the modem, how many replies wait to be sent.

    Read from the database, so it works while the daemon holds the modem's port.
    Exits 0 when the daemon is running, 1 when it is not.

    \b
    Example:
        smsbridge status
    """
    from smsbridge.fieldwork.answers import Roster
    from smsbridge.models import to_iso
    from smsbridge.pool.routing import local_midnight
    from smsbridge.store import Store

    cfg = app.config
    store = Store.from_config(cfg, create=False, clock=app.clock)
    try:
        state = store.state.read()
        # The modems the daemon runs, else those configured (it has not started yet).
        names = [n for n in (state.get("modems") or "").split(",") if n] or [
            m.name for m in cfg.pool_modems]
        today = to_iso(local_midnight(app.clock.now()))
        queued = store.leases.queued_by_modem()
        modems = [modem_report(state, name, queue=queued.get(name, 0),
                               sent_today=store.leases.parts_sent(name, since=today))
                  for name in names]
        locks = store.field.locked(Roster.from_config(cfg).word_hashes())
        report = daemon_report(state, store.outbox.backlog(), now=app.clock.now(),
                               modems=modems, locks=locks)
        report.update(desk_pressure(store, cfg.desk.deadlines, app.clock.now()))
        report["retention"] = retention_report(cfg.retention, state)
    finally:
        store.close()
    if report["running"] and not _pid_alive(report["pid"]):
        report["running"] = False
    if as_json:
        click.echo(json.dumps(report, indent=2))
    else:
        import shutil

        _print_status(report, zone=app.zone, width=shutil.get_terminal_size((80, 24)).columns)
        click.echo(retention_line(report["retention"]))
    if not report["running"]:
        raise SystemExit(1)


def retention_report(section: RetentionConfig, state: dict) -> dict:
    """[retention] as set, and the daemon's last run (``retention.finish``)."""
    return {"forget_numbers_after_days": section.forget_numbers_after_days,
            "delete_cases_after_days": section.delete_cases_after_days,
            "last_run": state.get("retention_last_run"), "last": state.get("retention_last")}


def retention_line(r: dict) -> str:
    days, delete = r["forget_numbers_after_days"], r["delete_cases_after_days"]
    policy = (f"numbers forgotten {days} days after closing" if days
              else "numbers kept for ever")
    if delete:
        policy += f", closed cases deleted after {delete} days"
    last = f"last run {r['last_run']}: {r['last']}" if r["last_run"] else "not run yet"
    return f"retention: {policy}; {last}"


def desk_pressure(store: Store, deadlines: list[str], now: datetime) -> dict[str, Any]:
    """The desk's part of ``status``: open urgent cases, overdue ones by status."""
    from smsbridge.models import to_iso
    from smsbridge.triage.urgent import Deadlines

    cutoffs = [(s, to_iso(t)) for s, t in Deadlines.parse(deadlines).cutoffs(now).items()]
    urgent, overdue = store.desk.pressure(cutoffs)
    return {"urgent_open": urgent, "overdue": overdue}


def _print_status(r: dict, *, zone: tzinfo | None = None, width: int = 80) -> None:
    """``status`` as text: every time in the desk's zone, named; lines wrapped to
    ``width`` (an 80-column terminal), a wrapped line's rest indented."""
    from smsbridge.cli.output import desk_time, zone_name

    def at(iso: str | None) -> str:
        return desk_time(iso, zone=zone, seconds=True)

    def say(line: str) -> None:
        click.echo("\n".join(textwrap.wrap(line, max(width, 40), subsequent_indent=" " * 10,
                                           break_on_hyphens=False)))

    if r["running"]:
        say(f"daemon:   running (pid {r['pid']}, since {at(r['started_at'])})")
    elif r["heartbeat_age_seconds"] is None:
        say("daemon:   never started on this database")
    else:
        age = r["heartbeat_age_seconds"]
        say(f"daemon:   NOT running (last sign of life {age:.0f} s ago)")
    say(f"last poll: {at(r['last_poll']) if r['last_poll'] else '-'}")
    for m in r["modems"]:
        _print_modem(m, say, at)
    say(f"outbox:   {r['outbox_backlog']} SMS waiting to be sent")
    late = ", ".join(f"{s} {n:,}" for s, n in r["overdue"].items() if n)
    say(f"cases:    {r['urgent_open']:,} urgent open, "
        f"{sum(r['overdue'].values()):,} overdue" + (f" ({late})" if late else ""))
    if r["last_error"]:
        say(f"last error: {neutralise(r['last_error'])} ({at(r['last_error_at'])})")
    if r["sim_pin_refused_at"] and "PIN" in (r["last_error"] or ""):
        say(f"SIM:      refused the configured PIN ({at(r['sim_pin_refused_at'])}); it is "
            "not tried again: put the right PIN in [modem] pin, then "
            "`systemctl reload smsbridge`")
    if r["reply_budget_spent"]:
        say(f"replies:  NOT acknowledging reports: {r['reply_budget_spent']}; raise "
            "[abuse] line_replies_per_hour/_per_day if the SIM's plan allows")
    for lock in r["locked_words"]:
        say(f"field:    verification word of {lock['owners']} LOCKED since "
            f"{lock['at']} ({lock['reason']}): their answers are refused; change the "
            "word in the config, tell them in person, `systemctl reload smsbridge`")
    if r["last_set_aside"]:
        say(f"set aside: {r['set_aside']} item(s) since the start, the last "
            f"({at(r['last_set_aside_at'])}): {neutralise(r['last_set_aside'])}")
    say(f"times in {zone_name(zone)}")


def _print_modem(m: dict, say: Callable[[str], None], at: Callable[[str | None], str]
                 ) -> None:
    signal = f"{m['signal_dbm']} dBm" if m["signal_dbm"] is not None else "signal ?"
    storage = (f"storage {m['storage_used']}/{m['storage_total']}" if m["storage_total"]
               else "storage ?")
    cap = f"/{m['daily_cap']}" if m["daily_cap"] else ""
    capped = " (cap reached)" if m["capped"] else ""
    # What the modem has not told yet is left out: the line fits 80 columns more often.
    known = [m["modem"] and neutralise(m["modem"]),
             m["operator"] and f"operator {neutralise(m['operator'])}"]
    say(f"modem {m['name']} ({m['role'] or '?'}): {m['state'] or 'not started'}, "
        + "".join(f"{k}, " for k in known if k) + f"{signal}, {storage}, "
        f"sent today {m['sent_today']}{cap}{capped}, queue {m['queue']}")
    can, why = abilities(m)
    now = " and ".join(can) if can else "neither receive nor send"
    say(f"    can now: {now}" + (f" ({neutralise(why)})" if why else ""))
    if m["unknown_stick"]:
        say(f"    another stick on its port: {neutralise(m['unknown_stick'])} (since "
            f"{at(m['unknown_stick_at'])}; expected IMSI {m['imsi'] or '?'}, IMEI "
            f"{m['imei'] or '?'}): not used until [[modems]] imsi/imei name it")
    if m["balance"]:
        say(f"    credit: {credit_words(m['balance'])}")
        if m["balance"]["warning"]:
            say(f"    CREDIT WARNING: {neutralise(m['balance']['warning'])}")
    if m["balance_error"]:
        say(f"    balance code not answered: {neutralise(m['balance_error'])}")
    if m["cannot_send"]:
        say(f"    cannot send: {neutralise(m['cannot_send'])} (since "
            f"{at(m['cannot_send_at'])}); the other modems send its replies")
    if m["last_error"]:
        say(f"    last error: {neutralise(m['last_error'])} ({at(m['last_error_at'])})")
