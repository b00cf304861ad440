"""``smsbridge modem probe``: what an administrator needs to know when installing a modem.

``probe()`` does the I/O (open, ask, close); ``assess()`` turns what it learned into a
verdict, purely, so every verdict is tested without a port. The command
(``cli/modem_cmd.py``) presents the report.
"""

from __future__ import annotations

from dataclasses import dataclass

from smsbridge.errors import ModemError, ModemTimeout, PortError, SimError
from smsbridge.modem.base import Modem, ModemStatus
from smsbridge.modem.sim import NEEDS_PIN, NOT_INSERTED, READY, SIM_PIN, SIM_PUK

FIX_PORT = "port not found: check the udev rule / `ls /dev/ttyUSB*`"
FIX_PERMISSION = ("no permission to open the port: add the service user to the dialout group "
                  "(or set the group in the udev rule)")
FIX_BUSY = ("port held by another process (is the daemon running? stop it first: "
            "`sudo systemctl stop smsbridge`; `fuser -v {port}` shows who holds it)")
FIX_NOT_SERIAL = ("not a serial device: the path exists but is not a modem's port (a file or "
                  "another kind of device); check [modem] port or --port")
FIX_SILENT = ("the modem does not answer AT commands: a USB stick shows several ports and "
              "only one answers AT; try the others (`ls /dev/ttyUSB*`)")
FIX_PIN = NEEDS_PIN  # the words of sim.decide()'s SimError: one problem, one text
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


def _sim_problem(sim: str | None) -> str | None:
    if sim in (None, READY):
        return None
    if sim == SIM_PIN:
        return FIX_PIN
    if sim == SIM_PUK:
        return FIX_PUK
    if sim == NOT_INSERTED:
        return FIX_NO_SIM
    return f"SIM not ready (AT+CPIN? says {sim}): wait a minute and probe again"


def assess(port: str, status: ModemStatus | None, error: ModemError | None = None
           ) -> ProbeReport:
    """The verdict: what keeps the modem from receiving, and what else to fix."""
    problems: list[str] = []
    warnings: list[str] = []
    if isinstance(error, PortError):
        cause = str(error.__cause__ or error)
        if error.reason == PortError.BUSY:
            problems.append(FIX_BUSY.format(port=port))
        elif error.reason == PortError.NOT_SERIAL:
            problems.append(FIX_NOT_SERIAL)
        elif error.reason == PortError.NO_PERMISSION or "ermission denied" in cause:
            problems.append(FIX_PERMISSION)
        else:
            problems.append(f"{FIX_PORT} ({cause})")
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
        if status.sim in (None, READY):
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
