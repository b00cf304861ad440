"""``smsbridge modem probe``: what an administrator needs to know when installing a modem.

``probe()`` does the I/O (open, ask, close); ``assess()`` turns what it learned into a
verdict and ``format_report()`` / ``report_dict()`` present it. The last three are pure,
so every verdict is tested without a port.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from smsbridge.errors import ModemError, ModemTimeout, PortError, SimError
from smsbridge.modem.base import Modem, ModemStatus

# 27.007 §7.2 +CREG <stat>.
REGISTRATION = {
    0: "not registered, not searching",
    1: "registered, home network",
    2: "not registered, searching",
    3: "registration denied",
    4: "unknown",
    5: "registered, roaming",
}

FIX_PORT = "port not found: check the udev rule / `ls /dev/ttyUSB*`"
FIX_PERMISSION = ("no permission to open the port: add the service user to the dialout group "
                  "(or set the group in the udev rule)")
FIX_SILENT = ("the modem does not answer AT commands: a USB stick shows several ports and "
              "only one answers AT; try the others (`ls /dev/ttyUSB*`)")
FIX_PIN = "SIM needs a PIN: set [modem] pin"
FIX_PUK = "SIM is locked and needs its PUK: unlock it in a phone, then disable the PIN"
FIX_NO_SIM = "no SIM card: power the modem off and insert one"
FIX_DENIED = "registration denied: the SIM is blocked or not activated; ask the operator"
FIX_NO_NETWORK = "no network: check antenna/SIM credit (and that the SIM is activated)"
FIX_STORAGE_FULL = ("storage full: new SMS wait at the network until slots free; start the "
                    "daemon (it empties the storage) or delete messages with a phone")


@dataclass(frozen=True)
class ProbeReport:
    port: str
    status: ModemStatus | None
    problems: tuple[str, ...]  # each keeps the modem from receiving
    warnings: tuple[str, ...]  # worth fixing, receiving still works

    @property
    def ready(self) -> bool:
        return not self.problems


def bars(dbm: int | None) -> int:
    """Signal as 0-5 bars, on the thresholds phones commonly use for GSM."""
    if dbm is None:
        return 0
    for threshold, count in ((-73, 5), (-83, 4), (-93, 3), (-103, 2), (-109, 1)):
        if dbm >= threshold:
            return count
    return 0


def registration_words(stat: int | None) -> str:
    if stat is None:
        return "unknown (no answer to AT+CREG?)"
    return REGISTRATION.get(stat, f"unknown ({stat})")


def _sim_problem(sim: str | None) -> str | None:
    if sim in (None, "READY"):
        return None
    if sim == "SIM PIN":
        return FIX_PIN
    if sim == "SIM PUK":
        return FIX_PUK
    if sim == "NOT INSERTED":
        return FIX_NO_SIM
    return f"SIM not ready (AT+CPIN? says {sim}): wait a minute and probe again"


def assess(port: str, status: ModemStatus | None, error: ModemError | None = None
           ) -> ProbeReport:
    """The verdict: what keeps the modem from receiving, and what else to fix."""
    problems: list[str] = []
    warnings: list[str] = []
    if isinstance(error, PortError):
        cause = str(error.__cause__ or error)
        problems.append(FIX_PERMISSION if "ermission denied" in cause
                        else f"{FIX_PORT} ({cause})")
    elif isinstance(error, ModemTimeout):
        problems.append(FIX_SILENT)
    elif isinstance(error, SimError):
        problems.append(str(error))
    elif error is not None:
        problems.append(f"the modem refused to initialise: {error}")
    if status is not None:
        sim = _sim_problem(status.sim)
        if sim and sim not in problems and not isinstance(error, SimError):
            problems.append(sim)
        if status.sim in (None, "READY"):
            if status.registration == 3:
                problems.append(FIX_DENIED)
            elif not status.registered:
                problems.append(FIX_NO_NETWORK)
            if status.storage_total and (status.storage_used or 0) >= status.storage_total:
                problems.append(FIX_STORAGE_FULL)
            elif status.storage_total and (status.storage_used or 0) >= 0.8 * status.storage_total:
                warnings.append(f"storage almost full ({status.storage_used}/"
                                f"{status.storage_total}): is the daemon running?")
            if status.smsc is None:
                warnings.append("no SMSC number: replies cannot be sent; "
                                "set it with AT+CSCA or a phone")
        dbm = status.signal_dbm
        if dbm is None:
            if status.registered:
                warnings.append("signal strength unknown (AT+CSQ answered 99)")
        elif bars(dbm) <= 1:
            warnings.append(f"very weak signal ({dbm} dBm): move the modem or add an antenna")
    return ProbeReport(port, status, tuple(problems), tuple(warnings))


def probe(modem: Modem, port: str) -> ProbeReport:
    """Open ``modem``, ask what it knows, close it, and judge."""
    error: ModemError | None = None
    status: ModemStatus | None = None
    try:
        modem.open()
    except SimError as exc:
        error = exc  # the port works: the status still tells the administrator a lot
    except ModemError as exc:
        modem.close()
        return assess(port, None, exc)
    try:
        status = modem.status()
    except ModemError as exc:
        error = error or exc
    finally:
        modem.close()
    return assess(port, status, error)


def _or(value: object, missing: str = "unknown") -> str:
    return missing if value is None else str(value)


def format_report(report: ProbeReport) -> str:
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
        lines.append("verdict: READY to receive SMS")
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
