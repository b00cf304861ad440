"""libgammu's values and errors as ours: the one place they are converted (STYLE.md 3, 13).

Pure functions of what libgammu hands out: the CamelCase dicts of its SMS, network and
signal answers, its incoming-message callbacks and its exceptions. python-gammu's codec
functions (``EncodePDU``, ``EncodeSMS``) are used, but never a StateMachine: nothing
here talks to a device, so a conversion is tested with plain dicts. ``gammu.py``
drives the StateMachine and hands each answer here.
"""

from __future__ import annotations

import hashlib
import json
import logging
from datetime import UTC, datetime
from typing import Any

import gammu

from smsbridge.errors import CommandError, ConfigError, ModemTimeout, PortError, SimError
from smsbridge.modem.base import (
    ModemEvent,
    ModemStatus,
    NewMessage,
    NewStatusReport,
    OtherEvent,
    StoredMessage,
)
from smsbridge.sms.pdu import encode_status_report, fits_gsm7

log = logging.getLogger(__name__)

# -- errors --------------------------------------------------------------------------------

# gammu's error classes that mean "the device is not there or stopped working": the
# StateMachine is dropped and opened again on the next call, like a vanished port.
PORT_ERRORS = {
    "ERR_DEVICEOPENERROR", "ERR_DEVICELOCKED", "ERR_DEVICENOTEXIST", "ERR_DEVICEBUSY",
    "ERR_DEVICENOPERMISSION", "ERR_DEVICENODRIVER", "ERR_DEVICENOTWORK",
    "ERR_DEVICEDTRRTSERROR", "ERR_DEVICECHANGESPEEDERROR", "ERR_DEVICEWRITEERROR",
    "ERR_DEVICEREADERROR", "ERR_DEVICEPARITYERROR", "ERR_NOTCONNECTED", "ERR_PHONEOFF",
}
_PORT_REASONS = {
    "ERR_DEVICENOTEXIST": PortError.NOT_FOUND, "ERR_DEVICENOPERMISSION": PortError.NO_PERMISSION,
    "ERR_DEVICEBUSY": PortError.BUSY, "ERR_DEVICELOCKED": PortError.BUSY,
}
_CONFIG_ERRORS = {
    "ERR_UNKNOWNCONNECTIONTYPESTRING", "ERR_UNKNOWNMODELSTRING", "ERR_UNCONFIGURED",
    "ERR_NONE_SECTION", "ERR_CANTOPENFILE", "ERR_DISABLED",
}
_SIM_ERRORS = {"ERR_SECURITYERROR", "ERR_NOSIM"}
UNSUPPORTED = {"ERR_NOTSUPPORTED", "ERR_NOTIMPLEMENTED"}


def error_name(exc: BaseException) -> str:
    """gammu's name for its error (ERR_…): python-gammu raises one class per error."""
    return type(exc).__name__


def _gammu_text(exc: BaseException) -> str:
    info = exc.args[0] if exc.args and isinstance(exc.args[0], dict) else {}
    return str(info.get("Text") or exc)


def _gammu_code(exc: BaseException) -> int | None:
    info = exc.args[0] if exc.args and isinstance(exc.args[0], dict) else {}
    code = info.get("Code")
    return code if isinstance(code, int) else None


class GammuCommandError(CommandError):
    """libgammu refused an operation; ``name`` is gammu's error (ERR_…), ``code`` its number."""

    def __init__(self, command: str, name: str, code: int | None, text: str):
        super().__init__(command, "GAMMU", code, name)
        self.text = text
        self.args = (f"gammu: {command} failed: {text} ({name})",)

    def __str__(self) -> str:
        return self.args[0]


def translate(exc: BaseException, what: str, *, device: str, seconds: float) -> Exception:
    """One of our typed errors for a gammu exception raised by ``what``."""
    name, text = error_name(exc), _gammu_text(exc)
    if name == "ERR_TIMEOUT":
        return ModemTimeout(what, seconds)
    if name in PORT_ERRORS:
        return PortError(f"gammu cannot use the device: {text} ({name})", port=device,
                         reason=_PORT_REASONS.get(name))
    if name in _SIM_ERRORS:
        if name == "ERR_NOSIM":
            return SimError("no SIM card: insert one (power the modem off first)")
        return SimError(f"the SIM refused {what}: {text}; a PIN may be needed "
                        "(set [modem] pin) or the configured one is wrong")
    if name in _CONFIG_ERRORS:
        return ConfigError(f"gammu cannot start with this configuration: {text} ({name})",
                           key="modem")
    return GammuCommandError(what, name, _gammu_code(exc), text)


# -- the device's state ----------------------------------------------------------------------

# GSM_NetworkInfo_State -> 27.007 +CREG <stat>, so probe judges both backends alike.
_REGISTRATION = {"HomeNetwork": 1, "RoamingNetwork": 5, "RequestingNetwork": 2,
                 "NoNetwork": 0, "RegistrationDenied": 3, "Unknown": 4}
# GetSecurityStatus -> the words of AT+CPIN?, which probe and the daemon already read.
_SIM_STATE = {None: "READY", "PIN": "SIM PIN", "PUK": "SIM PUK", "PIN2": "SIM PIN2",
              "PUK2": "SIM PUK2", "Phone": "PH-SIM PIN", "Network": "PH-NET PIN"}


def sim_state(security_status: str | None) -> str:
    """GetSecurityStatus's answer in the words of AT+CPIN? (what ``sim.decide`` reads)."""
    return _SIM_STATE.get(security_status, str(security_status))


def incoming_event(kind: str, data: Any, memory: str) -> ModemEvent:
    """A libgammu incoming callback as the daemon sees it."""
    data = data if isinstance(data, dict) else {}
    location = data.get("Location")
    if kind == "SMS" and isinstance(location, int) and location > 0:
        mem = data.get("Memory") or memory
        if data.get("Type") == "Status_Report" or mem == "SR":
            return NewStatusReport(mem, location)
        return NewMessage(mem, location)
    return OtherEvent(f"gammu {kind}")


def rssi_of(signal: dict | None) -> int | None:
    """gammu's signal quality as +CSQ's raw 0..31 (99 unknown), as ModemStatus wants it."""
    if not signal:
        return None
    dbm = signal.get("SignalStrength", -1)
    percent = signal.get("SignalPercent", -1)
    if isinstance(dbm, int) and -113 <= dbm <= -51:
        return (dbm + 113) // 2
    if isinstance(percent, int) and 0 <= percent <= 100:
        return round(percent * 31 / 100)
    return 99


def storage_usage(sms: dict | None, memory: str) -> tuple[int | None, int | None]:
    """(used, total) of ``memory`` from GetSMSStatus: SM is the SIM, the rest the phone."""
    if not sms:
        return None, None
    if memory == "SM":
        return sms.get("SIMUsed"), sms.get("SIMSize")
    return sms.get("PhoneUsed"), sms.get("PhoneSize")


def modem_status(memory: str, *, manufacturer: Any, model: Any, firmware: Any, imei: Any,
                 imsi: Any, sim: str | None, network: dict | None, signal: dict | None,
                 sms: dict | None, smsc: dict | None) -> ModemStatus:
    """ModemStatus from libgammu's answers; an answer it could not give is None."""
    network = network or {}
    used, total = storage_usage(sms, memory)
    return ModemStatus(
        manufacturer=manufacturer or None,
        model=(model[1] or model[0] or None) if model else None,
        revision=firmware[0] or None if firmware else None,
        imei=imei or None,
        imsi=imsi or None,
        sim=sim,
        registration=_REGISTRATION.get(network.get("State", "")) if network else None,
        operator=network.get("NetworkName") or network.get("NetworkCode") or None,
        rssi=rssi_of(signal),
        storage_memory=memory if total is not None else None,
        storage_used=used,
        storage_total=total,
        smsc=(smsc or {}).get("Number") or None,
    )


# -- messages ---------------------------------------------------------------------------------

_STATE = {"UnRead": 0, "Read": 1, "UnSent": 2, "Sent": 3}


def _as_utc(value: Any) -> Any:
    # gammu.EncodePDU writes a timestamp's wall-clock fields with zone 00 whatever its
    # tzinfo: only a UTC time keeps the instant right.
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC)
    return value


def _utc_or_none(value: Any) -> datetime | None:
    return value.astimezone(UTC) if isinstance(value, datetime) and value.tzinfo else value


def rebuild_pdu(part: dict, *, smsc_time: bool = True) -> bytes:
    """A full PDU (SMSC part first) equivalent to one message gammu read.

    Deterministic (the same message gives the same bytes on every listing), so what the
    daemon stores does not depend on when it listed. ``smsc_time=False``: the driver does
    not read a status report's discharge time, so the submission time stands in for it.
    """
    if part.get("Type") == "Status_Report":
        smsc = (part.get("SMSC") or {}).get("Number") or None
        # gammu reads TP-SCTS into DateTime and TP-DT into SMSCDateTime.
        submitted = _utc_or_none(part.get("DateTime"))
        return encode_status_report(
            int(part.get("MessageReference") or 0) & 0xFF, part.get("Number") or "",
            status=int(part.get("DeliveryStatus") or 0) & 0xFF,
            submitted_at=submitted,
            discharged_at=_utc_or_none(part.get("SMSCDateTime")) if smsc_time else submitted,
            smsc=smsc)
    message = dict(part)
    message["DateTime"] = _as_utc(message.get("DateTime"))
    return bytes(gammu.EncodePDU(message, Layout="Deliver"))


# What names a message, per gammu message type: the fields decoded from its TPDU and
# SMSC address. Where it sits (Location, Memory, Folder) and whether it was read (State)
# change between listings; so does a DELIVER's SMSCDateTime, which libgammu fills with
# the time of reading.
_KEY_FIELDS = {
    "Deliver": ("Number", "DateTime", "Class", "Coding", "ReplyViaSameSMSC",
                "ReplaceMessage", "Text"),
    "Status_Report": ("Number", "MessageReference", "DeliveryStatus", "DateTime",
                      "SMSCDateTime"),
}


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    return str(value)


def message_key(part: dict, *, smsc_time: bool = True) -> str:
    """The dedupe key of a message libgammu read: hex SHA-256 of its stable fields.

    The same message gives the same key on every listing, on any connection, so a
    crash between the daemon's commit and its delete stores nothing twice.
    ``smsc_time=False``: the driver does not read a status report's discharge time
    (libgammu fills in the time of reading), so it is left out.
    """
    kind = part.get("Type")
    names = _KEY_FIELDS.get(str(kind), _KEY_FIELDS["Deliver"])
    if kind == "Status_Report" and not smsc_time:
        names = tuple(n for n in names if n != "SMSCDateTime")
    facts = {name: part.get(name) for name in names}
    facts["Type"] = kind
    facts["SMSC"] = (part.get("SMSC") or {}).get("Number")
    facts["UDH"] = (part.get("UDH") or {}).get("Text")
    canonical = json.dumps(facts, sort_keys=True, default=_plain)
    return hashlib.sha256(b"gammu-sms\0" + canonical.encode()).hexdigest()


def stored_message(part: dict, memory: str, *, smsc_time: bool = True) -> StoredMessage | None:
    """One gammu SMS dict -> StoredMessage; None for outgoing copies (SMS-SUBMIT)."""
    kind = part.get("Type")
    if kind == "Submit":
        # Drafts and sent copies in the phone's outbox are not messages to receive.
        log.debug("skipping an outgoing message at location %s", part.get("Location"))
        return None
    key = message_key(part, smsc_time=smsc_time)
    try:
        pdu = rebuild_pdu(part, smsc_time=smsc_time)
    except (gammu.GSMError, ValueError, TypeError) as exc:
        # Still listed, so it is stored (as undecodable) and deleted rather than
        # clogging the storage; the marker decodes to an error.
        log.warning("cannot rebuild a PDU for location %s: %s", part.get("Location"), exc)
        pdu = ("GAMMU " + repr(sorted((k, str(v)) for k, v in part.items()))).encode()
    return StoredMessage(part.get("Memory") or memory, int(part["Location"]),
                         _STATE.get(str(part.get("State")), 0), pdu, key)


def corrupt_message(memory: str, location: int) -> StoredMessage:
    """A slot libgammu cannot parse. Its bytes are no PDU (the daemon stores them as
    undecodable and deletes the slot) and are the same all day, so a crash between
    storing and deleting does not store it twice; a new corrupt message in the same
    slot on another day is a new record."""
    day = datetime.now(UTC).date().isoformat()
    return StoredMessage.from_pdu(memory, location, 0,
                                  f"GAMMU ERR_CORRUPTED {memory} {location} {day}".encode())


def encode_parts(number: str, text: str, *, status_report: bool = True) -> list[dict]:
    """SMS dicts for SendSMS: GSM-7 when every character fits, else UCS2, split by gammu."""
    info = {"Class": -1, "Unicode": not fits_gsm7(text),
            "Entries": [{"ID": "ConcatenatedTextLong", "Buffer": text}]}
    parts = gammu.EncodeSMS(info)
    for part in parts:
        part["Number"] = number
        part["SMSC"] = {"Location": 1}  # the SMSC stored in the SIM, as AT+CMGS uses
        # In libgammu an outgoing message of type Status_Report is an SMS-SUBMIT with
        # TP-SRR set (what `gammu sendsms -report` does).
        part["Type"] = "Status_Report" if status_report else "Submit"
    return parts
