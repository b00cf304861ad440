"""A gammu dummy "phone" for tests: a directory that libgammu's dummy driver serves.

The dummy driver (libgammu/phone/dummy) keeps SMS as Gammu SMS-backup files at
``<dir>/sms/<folder>/<n>``; folder 1 is the SIM inbox, which GetNextSMS lists as
location ``n + 10000 * folder``. Dropping a file there is a message arriving. Sent
messages are not stored by the driver, so the phone's gammurc turns on libgammu's
debug log and ``sent()`` reads the recipient, concatenation header and text of each
SendSMS from it.

Example::

    with dummy_phone(tmp_path) as phone:
        phone.deliver("+6281234567890", "Ada pencurian di pasar")
        modem = make_modem(phone.modem_config())
"""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import gammu

from smsbridge.config.sections import ModemConfig
from smsbridge.sms import pdu as pdu_codec

INBOX = 1  # sms/1: "Inbox" on the SIM (memory SM)


@dataclass(frozen=True)
class SentPart:
    """One SendSMS as libgammu logged it."""

    number: str
    text: str
    udh: bytes  # b"" without a user-data header

    @property
    def recipient(self) -> str:  # the name Emulator.sent uses
        return self.number

    @property
    def concat(self) -> tuple[int, int, int] | None:
        """(reference, total, sequence) of an 8-bit concatenation header, else None."""
        if len(self.udh) >= 6 and self.udh[1] == 0x00:
            return self.udh[3], self.udh[4], self.udh[5]
        return None


class DummyPhone:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.device = root / "phone"
        self.gammurc = root / "gammurc"
        self.log = root / "gammu.log"
        for folder in range(1, 6):
            (self.device / "sms" / str(folder)).mkdir(parents=True, exist_ok=True)
        self.gammurc.write_text(
            "[gammu]\n"
            f"device = {self.device}\n"
            "connection = none\n"
            "model = dummy\n"
            f"logfile = {self.log}\n"
            "logformat = textall\n",
            encoding="utf-8")

    def modem_config(self, **changes: object) -> ModemConfig:
        """[modem] for this phone through its gammurc (so sent() can read the log)."""
        values: dict[str, object] = {"backend": "gammu", "gammurc": str(self.gammurc)}
        values.update(changes)
        return ModemConfig(**values)  # type: ignore[arg-type]

    def toml(self) -> str:
        """The same as a ``[modem]`` TOML section, for a daemon run as a process."""
        return f"[modem]\n{self.modem_keys()}"

    def modem_keys(self) -> str:
        """The ``[modem]`` keys alone, to add to a section a test writes itself."""
        return f'backend = "gammu"\ngammurc = "{self.gammurc}"\n'

    # -- the names Emulator uses, so a test can take either --------------------------

    def inject_text(self, sender: str, text: str, *, timestamp: datetime | None = None) -> int:
        return len(self.deliver(sender, text, timestamp=timestamp))

    def inject_pdu(self, pdu: bytes | str) -> None:
        self.deliver_pdu(pdu)

    @property
    def storage_used(self) -> int:
        return len(self.inbox())

    def wait_for(self, predicate, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while not predicate(self):
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.05)  # the daemon is another process: poll with a deadline
        return True

    # -- the network side --------------------------------------------------------------

    def inbox(self) -> list[int]:
        """Slot numbers (not gammu locations) holding a message in the SIM inbox."""
        return sorted(int(p.name) for p in (self.device / "sms" / str(INBOX)).iterdir()
                      if p.name.isdigit())

    def deliver_pdu(self, pdu: bytes | str) -> int:
        """Store one SMS-DELIVER / STATUS-REPORT PDU (SMSC part first) in the next free slot."""
        raw = bytes.fromhex(pdu) if isinstance(pdu, str) else pdu
        message = gammu.DecodePDU(raw, SMSC=True)
        # The backup format stores local time with no zone (or UTC marked Z): UTC keeps
        # the instant.
        for key in ("DateTime", "SMSCDateTime"):
            if isinstance(message.get(key), datetime):
                message[key] = message[key].astimezone(UTC)
        message["State"] = "UnRead"
        message["Folder"] = INBOX
        taken = set(self.inbox())
        slot = next(n for n in range(1, 10000) if n not in taken)
        # Written under another name then renamed, so gammu never reads half a file.
        target = self.device / "sms" / str(INBOX) / str(slot)
        temporary = target.with_name(f".{slot}.tmp")
        gammu.SaveSMSBackup(str(temporary), [message])
        temporary.rename(target)
        return slot

    def deliver(self, sender: str, text: str, *, timestamp: datetime | None = None,
                reference: int = 0) -> list[int]:
        """A text as it arrives: one file per part, in order; the slots used."""
        return [self.deliver_pdu(p) for p in pdu_codec.encode_deliver(
            sender, text, timestamp=timestamp, reference=reference)]

    def sent(self) -> list[SentPart]:
        """Every SMS sent through libgammu so far, from its debug log."""
        if not self.log.exists():
            return []
        return parse_sent(self.log.read_text(encoding="utf-8", errors="replace"))

    def wait_sent(self, count: int, timeout: float = 10.0) -> list[SentPart]:
        """Poll the log until ``count`` parts were sent (a daemon runs elsewhere)."""
        deadline = time.monotonic() + timeout
        while len(parts := self.sent()) < count and time.monotonic() < deadline:
            time.sleep(0.05)  # polling a file written by another process, with a deadline
        return parts


_RECIPIENT = re.compile(r'^Recipient number "(.*)"$')
_UDH_LENGTH = re.compile(r"^UDH, length (\d+)$")
_UNICODE = re.compile(r"^Unicode SMS, length (\d+)$")
_SEVEN_BIT = re.compile(r"^7 bit SMS, length \d+, \d+$")


def parse_sent(log_text: str) -> list[SentPart]:
    """The SendSMS calls in a libgammu ``textall`` debug log (GSM_EncodeSMSFrame's dump)."""
    parts = []
    lines = log_text.splitlines()
    i = 0
    while i < len(lines):
        if lines[i] != "Entering GSM_SendSMS":
            i += 1
            continue
        number, udh, text_lines = "", b"", []
        i += 1
        while i < len(lines) and lines[i] != "Leaving GSM_SendSMS":
            line = lines[i]
            if m := _RECIPIENT.match(line):
                number = m.group(1)
            elif m := _UDH_LENGTH.match(line):
                size = int(m.group(1))
                dump = lines[i + 2] if i + 2 < len(lines) else ""
                udh = bytes(int(cell[:2], 16) for cell in dump.split("|")[:size])
                i += 2
            elif m := _UNICODE.match(line):
                i += 1 + -(-2 * int(m.group(1)) // 16)  # blank line, then the hex dump
                text_lines = []
                i += 1
                while i < len(lines) and lines[i] != "Leaving GSM_SendSMS":
                    text_lines.append(lines[i])
                    i += 1
                break
            elif _SEVEN_BIT.match(line):
                i += 1
                while i < len(lines) and lines[i] != "Leaving GSM_SendSMS":
                    text_lines.append(lines[i])
                    i += 1
                break
            i += 1
        parts.append(SentPart(number, "\n".join(text_lines), udh))
    return parts


@contextlib.contextmanager
def dummy_phone(root: Path) -> Iterator[DummyPhone]:
    """A dummy phone under ``root`` (a test's tmp_path)."""
    yield DummyPhone(root)
