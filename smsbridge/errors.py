"""One exception tree for smsbridge.

Every error a user can meet is one of these; the CLI prints ``str(error)`` as one
line and exits non-zero, so each message must stand on its own and say what to do.

    SmsBridgeError
    ├── ConfigError            bad or unreadable config (key, file, what is expected)
    ├── InvalidInput           a bad status name, date, number or option value typed
    │                          by an operator (nothing in the database is wrong)
    ├── PduError               a PDU that is not valid 23.040 (what is wrong, at which octet)
    ├── EncodeError            a number or text that cannot be put into an SMS-SUBMIT/DELIVER
    ├── ModemError             anything between us and the device
    │   ├── PortError          the port cannot be opened, or vanished
    │   ├── ModemTimeout       the modem did not answer a command in time
    │   │   └── CommandLost    the command was lost, a probe behind it answered
    │   │                      (modem/at_channel.py re-asks a query; a send's caller
    │   │                      settles from the slot what it did)
    │   ├── CommandError       the modem answered ERROR / +CME ERROR / +CMS ERROR
    │   │   ├── GammuCommandError    libgammu refused (modem/gammu_convert.py)
    │   │   └── AlreadyAnswered      the emulator's own signal (emulator/state.py)
    │   ├── SimError           SIM missing, PIN/PUK needed, wrong PIN (never retried)
    │   └── BackendUnavailable the chosen backend's library is not installed
    ├── StoreError             the case database
    │   ├── DatabaseError      missing, locked, corrupt or read-only database
    │   ├── UnknownTicket      no case has that ticket
    │   └── InvalidTransition  a status change the workflow does not allow
    ├── KeysError              the key file is missing, not ours or not a key file
    ├── DaemonNeeded           a clear number or a token is needed and only the daemon
    │   │                      has the keys (sealing/door.py): it does not answer
    │   └── DoorRefused        the daemon answered and refused (a limit, an unknown row)
    ├── HookFailed             a hook's command or URL failed (retried with backoff)
    └── DemoFailed             `smsbridge demo` could not show the line working

Besides these, three private signals never reach a caller outside their own package:
``DeviceGone`` (modem/gammu_owner.py), ``_LeaseLost`` (pool/sending.py) and
``_Terminated`` (cli/emulator_cmd.py).
"""

from __future__ import annotations

from smsbridge.i18n import _, pgettext


class SmsBridgeError(Exception):
    """Base of every smsbridge error."""


class ConfigError(SmsBridgeError):
    def __init__(self, message: str, *, path: str | None = None, key: str | None = None):
        self.path = path
        self.key = key
        where = ""
        if path and key:
            where = f"{path}: [{key}] "
        elif path:
            where = f"{path}: "
        elif key:
            where = f"[{key}] "
        super().__init__(f"{where}{message}")


class PduError(SmsBridgeError):
    """A PDU that cannot be decoded; ``offset`` is the octet where decoding failed."""

    def __init__(self, reason: str, *, offset: int | None = None):
        self.reason = reason
        self.offset = offset
        at = f" (at octet {offset})" if offset is not None else ""
        super().__init__(f"malformed PDU: {reason}{at}")


class EncodeError(SmsBridgeError):
    """A number or text that cannot be encoded into a PDU (what is wrong with it)."""


class ModemError(SmsBridgeError):
    """Base of device errors."""


class PortError(ModemError):
    """``reason`` is why the port could not be opened, when the opener could tell from
    the system's answer: one of the constants below, else None."""

    NOT_FOUND = "not found"
    NO_PERMISSION = "no permission"
    BUSY = "held by another process"
    NOT_SERIAL = "not a serial device"

    def __init__(self, message: str, *, port: str | None = None, reason: str | None = None):
        self.port = port
        self.reason = reason
        super().__init__(f"{port}: {message}" if port else message)


class ModemTimeout(ModemError):
    def __init__(self, command: str, seconds: float):
        self.command = command
        self.seconds = seconds
        super().__init__(f"modem gave no answer to {command} within {seconds:g} s")


class CommandLost(ModemTimeout):
    """The stick answered a probe sent behind the command, not the command: it was
    lost (or its answer was). A query is asked again; a send is settled by its caller
    (the storage slot says whether it went out) before anything is sent again."""


class CommandError(ModemError):
    """The modem refused a command. ``kind`` is "CMS", "CME" or None for a bare ERROR."""

    def __init__(self, command: str, kind: str | None = None, code: int | None = None,
                 name: str | None = None):
        self.command = command
        self.kind = kind
        self.code = code
        self.name = name
        if kind is None:
            what = "ERROR"
        else:
            what = f"+{kind} ERROR {code}" + (f" ({name})" if name else "")
        super().__init__(f"modem answered {what} to {command}")


class SimError(ModemError):
    """The SIM cannot be used: missing, locked, or the configured PIN was refused."""


class BackendUnavailable(ModemError):
    pass


class StoreError(SmsBridgeError):
    """Base of case database errors."""


class DatabaseError(StoreError):
    pass


class UnknownTicket(StoreError):
    def __init__(self, ticket: str, hint: str | None = None):
        self.ticket = ticket
        said = _("no case with ticket {ticket!r}").format(ticket=ticket)
        super().__init__(_("{error}: {hint}").format(error=said, hint=hint) if hint else said)


class InvalidTransition(StoreError):
    def __init__(self, ticket: str, current: str, wanted: str, allowed: tuple[str, ...],
                 hint: str | None = None):
        self.ticket = ticket
        self.current = current
        self.wanted = wanted
        self.allowed = allowed
        # The desk reads the statuses in its language; ``hint`` comes translated.
        nxt = ", ".join(pgettext("status", s) for s in allowed) if allowed else _("none")
        said = _("case {ticket} is {current}; it cannot become {wanted} (allowed next: "
                 "{allowed})").format(ticket=ticket, current=pgettext("status", current),
                                      wanted=pgettext("status", wanted), allowed=nxt)
        super().__init__(_("{error}; {hint}").format(error=said, hint=hint) if hint else said)


class InvalidInput(SmsBridgeError):
    """What was typed cannot be used: a status, a date, a number, an option's value."""


class KeysError(SmsBridgeError):
    """The key file that seals reporters' numbers is missing, unreadable, someone
    else's, too open, or not a key file (``sealing/keys.py``)."""


class DaemonNeeded(SmsBridgeError):
    """A clear number, or a typed number's token, is needed, and only the daemon holds
    the keys: it did not answer (``sealing/door.py``)."""


class DoorRefused(DaemonNeeded):
    """The daemon answered, and refused (a limit reached, a request it does not know)."""


class HookFailed(SmsBridgeError):
    """A hook's command exited non-zero, timed out, or its URL did not answer 2xx."""


class DemoFailed(SmsBridgeError):
    """The demo's line did not do what it shows (which step, what was seen)."""
