"""The daemon's door: the one way an operator's command gets a clear number or a token.

Only the daemon's user can read the keys (``sealing/keys.py``), so commands that need a
reporter's number in clear (``--reveal``) or a typed number's token (``cases list
--reporter``, ``messages --sender``, ``cases add --reporter``, ``outbox retry --to``)
ask the daemon over a Unix socket (``[daemon] socket``, mode 0660: the daemon's group).
The kernel tells the daemon who is asking (SO_PEERCRED: the caller's uid, which no one
can type), so the daemon's own audit line names the real login, beside the name given
with ``--as``. A caller may ask for a few dozen tokens an hour (``[privacy]
lookups_per_hour``): a masked number leaves some ten thousand candidates, and trying
them one by one through the door is refused long before, and recorded.

One JSON request per connection, one JSON answer. This module is the client (pure
socket code, no keys); ``sealing/server.py`` is the daemon's side.
"""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from smsbridge.errors import DaemonNeeded, DoorRefused
from smsbridge.i18n import _
from smsbridge.sealing.keys import StoredNumber

if TYPE_CHECKING:
    from smsbridge.config.sections import Config

# An answer is small (a token, or the numbers of a page of cases).
MAX_MESSAGE = 256 * 1024
TIMEOUT = 10.0
# sun_path of sockaddr_un: 108 bytes with its terminating NUL.
_SUN_PATH_MAX = 107


def socket_path(cfg: Config) -> Path:
    return Path(cfg.daemon.socket or Path(cfg.database.path).parent / "smsbridge.sock")


def _daemon_needed(path: Path, why: str) -> DaemonNeeded:
    return DaemonNeeded(_(
        "this needs the daemon, which alone holds the keys to reporters' numbers, and it "
        "does not answer at {path} ({why}); start it (systemctl start smsbridge) and try "
        "again").format(path=path, why=why))


def call(path: Path, request: dict[str, Any], *, timeout: float = TIMEOUT) -> dict[str, Any]:
    """Send one request to the daemon; its answer, or DaemonNeeded / DoorRefused."""
    if len(os.fsencode(path)) > _SUN_PATH_MAX:
        raise DaemonNeeded(_("{path}: the socket's path is longer than 107 bytes; set a "
                             "shorter [daemon] socket").format(path=path))
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    try:
        try:
            sock.connect(os.fsencode(path))
        except FileNotFoundError:
            raise _daemon_needed(path, _("no socket: the daemon is not running")) from None
        except ConnectionRefusedError:
            raise _daemon_needed(path, _("the daemon is not running")) from None
        except PermissionError:
            raise DaemonNeeded(_(
                "{path}: permission denied; only members of the daemon's group may ask it "
                "for reporters' numbers").format(path=path)) from None
        except OSError as exc:
            raise _daemon_needed(path, exc.strerror or str(exc)) from None
        sock.sendall(json.dumps(request).encode() + b"\n")
        sock.shutdown(socket.SHUT_WR)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
            if len(data) > MAX_MESSAGE:
                raise _daemon_needed(path, _("its answer is too long"))
    except TimeoutError:
        raise _daemon_needed(path, _("no answer within {seconds:g} s").format(
            seconds=timeout)) from None
    except OSError as exc:
        raise _daemon_needed(path, exc.strerror or str(exc)) from None
    finally:
        sock.close()
    try:
        answer = json.loads(data)
    except ValueError:
        raise _daemon_needed(path, _("it gave no answer")) from None
    if not isinstance(answer, dict):
        raise _daemon_needed(path, _("it gave no answer"))
    if "error" in answer:
        raise DoorRefused(str(answer["error"]))
    return answer


class DoorSealer:
    """A ``sealing.Sealer`` for operators: tokens and sealed copies from the daemon;
    nothing opens here. ``operator`` (``--as``) and ``purpose`` (the command) go into
    the daemon's audit beside the login it reads from the socket."""

    can_open = False

    def __init__(self, path: Path, *, operator: str | None = None, purpose: str = ""):
        self.path = path
        self.operator = operator
        self.purpose = purpose
        # One question per number and process: a bulk dispatch to one officer asks once.
        self._tokens: dict[str, str] = {}
        self._stored: dict[str, StoredNumber] = {}
        # Whether the caller's connection holds the write lock (set by the store).
        self.busy: Callable[[], bool] = lambda: False

    def _ask(self, op: str, **args: Any) -> dict[str, Any]:
        if self.busy():
            raise RuntimeError("the daemon asked inside a transaction: ask_first")
        return call(self.path, {"op": op, "as": self.operator, "purpose": self.purpose,
                                **args})

    def token(self, number: str) -> str:
        if number not in self._tokens:
            self._tokens[number] = str(self._ask("token", number=number)["token"])
        return self._tokens[number]

    def stored(self, number: str) -> StoredNumber:
        if number not in self._stored:
            answer = self._ask("seal", number=number)
            self._stored[number] = StoredNumber(str(answer["token"]), str(answer["sealed"]),
                                                str(answer["mask"]), answer.get("problem"))
        return self._stored[number]

    def open(self, sealed: str) -> str | None:
        return None

    def reveal(self, rows: dict[str, list[int]]) -> dict[str, dict[int, str]]:
        """The clear numbers of these rows by kind (``case``: reporters; ``message``:
        senders; ``outbox``: recipients), recorded by the daemon, once, as revealed by
        this caller."""
        if not any(rows.values()):
            return {kind: {} for kind in rows}
        answer = self._ask("reveal", rows=rows)
        found = dict(answer.get("numbers", {}))
        return {kind: {int(k): str(v) for k, v in dict(found.get(kind, {})).items()}
                for kind in rows}
