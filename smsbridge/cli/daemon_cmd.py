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
from smsbridge.i18n import NP_, _, ngettext, pgettext
from smsbridge.privacy import neutralise

if TYPE_CHECKING:
    from smsbridge.config.sections import RetentionConfig
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
        said.append(ngettext("{count} SMS in the package", "{count} SMS in the package",
                             b["sms_left"]).format(count=b["sms_left"]))
    if b.get("active_until"):
        said.append(_("active until {date}").format(date=b["active_until"]))
    if not said:
        said.append(_("not understood: {answer}").format(
            answer=repr(neutralise(b.get("raw") or ""))))
    words = ", ".join(said)
    if b.get("checked_at"):
        return _("{balance} (asked {time})").format(balance=words, time=b["checked_at"])
    return words


# A modem's state and what it can do, as ``status`` shows them (--json keeps the codes).
_MODEM_STATES = {"ready": NP_("modem state", "ready"), "down": NP_("modem state", "down"),
                 "starting": NP_("modem state", "starting"),
                 "connecting": NP_("modem state", "connecting"),
                 "stopped": NP_("modem state", "stopped")}
_ROLES = {"receive": NP_("modem role", "receive"), "send": NP_("modem role", "send"),
          "both": NP_("modem role", "both")}
_ABILITIES = {"receive": NP_("ability", "receive"), "send": NP_("ability", "send")}


def state_word(state: str | None) -> str:
    """A modem's state as the operator reads it; "not started" when it has none."""
    if not state:
        return _("not started")
    return pgettext("modem state", _MODEM_STATES[state]) if state in _MODEM_STATES else state


def abilities(m: dict) -> tuple[list[str], str | None]:
    """What a stick of ``status`` can do now (receive, send) and, if not all its role
    asks, why (pure: from ``modem_report``'s keys)."""
    role = m.get("role") or "both"
    if m.get("state") != "ready":
        down = state_word(m.get("state"))
        if m.get("last_error"):
            down = _("{state}: {error}").format(state=down, error=m["last_error"])
        return [], down
    can = []
    why: str | None = None
    if role in ("receive", "both"):
        can.append("receive")
    if role in ("send", "both"):
        if m.get("cannot_send"):
            why = _("cannot send: {reason}").format(reason=m["cannot_send"])
        elif m.get("capped"):
            why = _("cannot send: its daily cap is reached")
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
                         for _word, owners, at, reason in locks],
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
        report["sealing"] = sealing_report(store, state)
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
        click.echo(sealing_line(report["sealing"]))
    if not report["running"]:
        raise SystemExit(1)


def sealing_report(store: Store, state: dict) -> dict:
    """Whether every number in the database is sealed (``sealing/run.py``)."""
    from smsbridge.store.sealed import left

    remaining = left(lambda sql: int(store.db.scalar(sql)))
    return {"done": state.get("sealing") == "done", "done_at": state.get("sealing_done_at"),
            "left": remaining.total, "problem": None if state.get("sealing") in (None, "done")
            else state.get("sealing")}


def sealing_line(r: dict) -> str:
    if r["left"]:
        return ngettext("numbers: {count} row written before sealed numbers is still to seal "
                        "(the daemon seals them as it runs)",
                        "numbers: {count} rows written before sealed numbers are still to "
                        "seal (the daemon seals them as it runs)", r["left"]).format(
                            count=r["left"])
    if r["problem"]:
        return _("numbers: NOT ALL SEALED: {problem}").format(problem=r["problem"])
    if r["done"]:
        return _("numbers: all sealed, none in clear (checked {time})").format(
            time=r["done_at"] or "-")
    return _("numbers: sealed as they arrive; the daemon checks the rest at its start")


def retention_report(section: RetentionConfig, state: dict) -> dict:
    """[retention] as set, and the daemon's last run (``retention.finish``)."""
    return {"forget_numbers_after_days": section.forget_numbers_after_days,
            "delete_cases_after_days": section.delete_cases_after_days,
            "last_run": state.get("retention_last_run"), "last": state.get("retention_last")}


def retention_line(r: dict) -> str:
    days, delete = r["forget_numbers_after_days"], r["delete_cases_after_days"]
    policy = (ngettext("numbers forgotten {days} day after closing",
                       "numbers forgotten {days} days after closing", days).format(days=days)
              if days else _("numbers kept for ever"))
    if delete:
        policy = ngettext("{policy}, closed cases deleted after {days} day",
                          "{policy}, closed cases deleted after {days} days",
                          delete).format(policy=policy, days=delete)
    # What the last run did is the daemon's own (English) summary: read back and said
    # in the desk's language when it has the daemon's shape, else shown as it is.
    if r["last_run"]:
        from smsbridge.retention import Progress

        progress = Progress.parse(r["last"])
        done = r["last"] if progress is None else _(
            "{forgotten} numbers of closed cases forgotten, {loose} SMS of no case cleared, "
            "{deleted} closed cases deleted").format(
                forgotten=progress.forgotten, loose=progress.loose, deleted=progress.deleted)
        return _("retention: {policy}; last run {time}: {done}").format(
            policy=policy, time=r["last_run"], done=done)
    return _("retention: {policy}; not run yet").format(policy=policy)


def pressure_line(r: dict[str, Any]) -> str:
    """Open urgent cases and overdue ones by status, as ``status`` and ``stats`` say it."""
    from smsbridge.cli.desk import thousands
    from smsbridge.tickets import status_name

    late = ", ".join(f"{status_name(s)} {thousands(n)}" for s, n in r["overdue"].items() if n)
    overdue = sum(r["overdue"].values())
    if late:
        return _("cases:    {urgent} urgent open, {overdue} overdue ({by_status})").format(
            urgent=thousands(r["urgent_open"]), overdue=thousands(overdue), by_status=late)
    return _("cases:    {urgent} urgent open, {overdue} overdue").format(
        urgent=thousands(r["urgent_open"]), overdue=thousands(overdue))


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
    from smsbridge.cli.output import desk_time, times_in

    def at(iso: str | None) -> str:
        return desk_time(iso, zone=zone, seconds=True)

    def say(line: str) -> None:
        click.echo("\n".join(textwrap.wrap(line, max(width, 40), subsequent_indent=" " * 10,
                                           break_on_hyphens=False)))

    from smsbridge.cli.desk import thousands

    if r["running"]:
        say(_("daemon:   running (pid {pid}, since {time})").format(
            pid=r["pid"], time=at(r["started_at"])))
    elif r["heartbeat_age_seconds"] is None:
        say(_("daemon:   never started on this database"))
    else:
        age = r["heartbeat_age_seconds"]
        say(_("daemon:   NOT running (last sign of life {seconds} s ago)").format(
            seconds=f"{age:.0f}"))
    say(_("last poll: {time}").format(time=at(r["last_poll"]) if r["last_poll"] else "-"))
    for m in r["modems"]:
        _print_modem(m, say, at)
    say(ngettext("outbox:   {count} SMS waiting to be sent",
                 "outbox:   {count} SMS waiting to be sent",
                 r["outbox_backlog"]).format(count=thousands(r["outbox_backlog"])))
    say(pressure_line(r))
    if r["last_error"]:
        say(_("last error: {error} ({time})").format(error=neutralise(r["last_error"]),
                                                     time=at(r["last_error_at"])))
    if r["sim_pin_refused_at"] and "PIN" in (r["last_error"] or ""):
        say(_("SIM:      refused the configured PIN ({time}); it is not tried again: put the "
              "right PIN in [modem] pin, then `systemctl reload smsbridge`").format(
                  time=at(r["sim_pin_refused_at"])))
    if r["reply_budget_spent"]:
        say(_("replies:  NOT acknowledging reports: {reason}; raise [abuse] "
              "line_replies_per_hour/_per_day if the SIM's plan allows").format(
                  reason=r["reply_budget_spent"]))
    for lock in r["locked_words"]:
        say(_("field:    verification word of {owners} LOCKED since {time} ({reason}): their "
              "answers are refused; change the word in the config, tell them in person, "
              "`systemctl reload smsbridge`").format(owners=lock["owners"], time=lock["at"],
                                                      reason=lock["reason"]))
    if r["last_set_aside"]:
        say(ngettext("set aside: {count} item since the start, the last ({time}): {what}",
                     "set aside: {count} items since the start, the last ({time}): {what}",
                     r["set_aside"]).format(count=r["set_aside"],
                                            time=at(r["last_set_aside_at"]),
                                            what=neutralise(r["last_set_aside"])))
    say(times_in(zone))


def _print_modem(m: dict, say: Callable[[str], None], at: Callable[[str | None], str]
                 ) -> None:
    signal = (_("{dbm} dBm").format(dbm=m["signal_dbm"]) if m["signal_dbm"] is not None
              else _("signal ?"))
    storage = (_("storage {used}/{total}").format(used=m["storage_used"],
                                                  total=m["storage_total"])
               if m["storage_total"] else _("storage ?"))
    cap = f"/{m['daily_cap']}" if m["daily_cap"] else ""
    sent = _("sent today {count}{cap}").format(count=m["sent_today"], cap=cap)
    if m["capped"]:
        sent = _("{sent} (cap reached)").format(sent=sent)
    # What the modem has not told yet is left out: the line fits 80 columns more often.
    known = [m["modem"] and neutralise(m["modem"]),
             m["operator"] and _("operator {name}").format(name=neutralise(m["operator"]))]
    parts = [k for k in known if k] + [signal, storage, sent,
                                       _("queue {count}").format(count=m["queue"])]
    say(_("modem {name} ({role}): {state}, {details}").format(
        name=m["name"], role=pgettext("modem role", _ROLES[m["role"]]) if m["role"] in _ROLES
        else m["role"] or "?",
        state=state_word(m["state"]), details=", ".join(parts)))
    can, why = abilities(m)
    if len(can) == 2:
        now = _("receive and send")
    elif can:
        now = pgettext("ability", _ABILITIES[can[0]])
    else:
        now = _("neither receive nor send")
    if why:
        say(_("    can now: {abilities} ({why})").format(abilities=now, why=neutralise(why)))
    else:
        say(_("    can now: {abilities}").format(abilities=now))
    if m["unknown_stick"]:
        say(_("    another stick on its port: {stick} (since {time}; expected IMSI {imsi}, "
              "IMEI {imei}): not used until [[modems]] imsi/imei name it").format(
                  stick=neutralise(m["unknown_stick"]), time=at(m["unknown_stick_at"]),
                  imsi=m["imsi"] or "?", imei=m["imei"] or "?"))
    if m["balance"]:
        say(_("    credit: {balance}").format(balance=credit_words(m["balance"])))
        if m["balance"]["warning"]:
            say(_("    CREDIT WARNING: {warning}").format(
                warning=neutralise(m["balance"]["warning"])))
    if m["balance_error"]:
        say(_("    balance code not answered: {error}").format(
            error=neutralise(m["balance_error"])))
    if m["cannot_send"]:
        say(_("    cannot send: {reason} (since {time}); the other modems send its "
              "replies").format(reason=neutralise(m["cannot_send"]),
                                time=at(m["cannot_send_at"])))
    if m["last_error"]:
        say(_("    last error: {error} ({time})").format(error=neutralise(m["last_error"]),
                                                       time=at(m["last_error_at"])))
