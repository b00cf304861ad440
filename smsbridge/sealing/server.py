"""The daemon's side of the door (``door.py`` says what it is for).

A thread of the daemon with its own connection to the database, answering one request
at a time: requests are a token, a sealed copy or a page of numbers, each a few
milliseconds, and a caller that stalls is cut off after a few seconds. The socket is
made beside its final path and renamed into place with its mode already 0660, so it is
never reachable with a wider one; a stale socket left by a killed daemon is replaced,
anything else at that path (a file, a link) is refused.

Every answer is recorded in the audit log with the caller's login as the kernel gives
it (SO_PEERCRED), the name it gave (``--as``) and what for, in the transaction that
reads the numbers: a look that cannot be recorded is not answered.
"""

from __future__ import annotations

import json
import logging
import os
import pwd
import socket
import stat
import struct
import threading
import time
from collections import defaultdict, deque
from pathlib import Path
from typing import Any

from smsbridge.errors import DoorRefused as Refused
from smsbridge.errors import SmsBridgeError
from smsbridge.numbers import normalize
from smsbridge.privacy import mask_number
from smsbridge.sealing.door import MAX_MESSAGE
from smsbridge.sealing.keys import Keys
from smsbridge.store.audit import AuditLog, found
from smsbridge.store.sealed import ROWS

log = logging.getLogger(__name__)

_CLIENT_TIMEOUT = 5.0
# How many rows one reveal may name (a page of cases is 50; an export a few hundred).
MAX_REVEAL = 5000
_HOUR = 3600.0


def peer(conn: socket.socket) -> tuple[int, int]:
    """(pid, uid) of the process at the other end, as the kernel knows them."""
    creds = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    pid, uid, _gid = struct.unpack("3i", creds)
    return pid, uid


def login_of(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"uid {uid}"


def bind(path: Path) -> socket.socket:
    """A listening socket at ``path``, mode 0660, replacing a stale one."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        info = None
    if info is not None:
        if not stat.S_ISSOCK(info.st_mode):
            raise Refused(f"{path}: something that is not a socket is in the way; move it "
                          "away or set another [daemon] socket")
        os.unlink(path)
    temp = path.with_name(f".{path.name}.{os.getpid()}")
    with_temp = False
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        if temp.exists() or os.path.islink(temp):
            os.unlink(temp)
        sock.bind(os.fsencode(temp))
        with_temp = True
        os.chmod(temp, 0o660)
        os.rename(temp, path)
        with_temp = False
        sock.listen(16)
    except BaseException:
        sock.close()
        if with_temp:
            os.unlink(temp)
        raise
    return sock


# Whose numbers a reveal of each kind of row shows, as the audit line says it.
_WHOSE = {"case": "reporters", "message": "senders", "outbox": "recipients"}


class Door:
    """The door's thread: ``start()`` once the keys and the database are there,
    ``stop()`` when the daemon stops."""

    def __init__(self, path: Path, open_store: Any, keys: Keys, *, country_code: str,
                 lookups_per_hour: int):
        self.path = path
        self._open_store = open_store  # () -> Store, in the door's thread
        self._keys = keys
        self._country = country_code
        self._limit = lookups_per_hour
        self._asked: dict[int, deque[float]] = defaultdict(deque)
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()

    def start(self) -> None:
        self._sock = bind(self.path)
        self._sock.settimeout(0.5)
        self._thread = threading.Thread(target=self._serve, name="door", daemon=True)
        self._thread.start()
        log.info("door open at %s", self.path)

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        if self._sock is not None:
            self._sock.close()
            try:
                if stat.S_ISSOCK(os.lstat(self.path).st_mode):
                    os.unlink(self.path)
            except OSError:
                pass

    def _serve(self) -> None:
        assert self._sock is not None
        store = self._open_store()
        try:
            while not self._stopping.is_set():
                try:
                    conn, _ = self._sock.accept()
                except TimeoutError:
                    continue
                except OSError:
                    if self._stopping.is_set():
                        break
                    raise
                with conn:
                    self._one(conn, store)
        except Exception:  # the door closes; the line goes on
            log.exception("the door stopped")
        finally:
            store.close()

    def _one(self, conn: socket.socket, store: Any) -> None:
        try:
            conn.settimeout(_CLIENT_TIMEOUT)
            pid, uid = peer(conn)
            data = b""
            while chunk := conn.recv(65536):
                data += chunk
                if len(data) > MAX_MESSAGE:
                    raise Refused("request too long")
            request = json.loads(data)
            if not isinstance(request, dict):
                raise Refused("not a request")
            answer = self.answer(request, uid=uid, pid=pid, store=store)
        except (Refused, SmsBridgeError, ValueError, KeyError, TypeError) as exc:
            answer = {"error": str(exc)}
        except OSError as exc:
            log.warning("door: a caller went away: %s", exc)
            return
        except Exception as exc:  # one caller's trouble, whatever it is, closes nothing
            log.error("door: a request failed", exc_info=exc)
            answer = {"error": f"the daemon could not answer ({type(exc).__name__})"}
        try:
            conn.sendall(json.dumps(answer).encode() + b"\n")
        except OSError as exc:
            log.warning("door: a caller went away: %s", exc)

    def _count(self, uid: int, login: str, n: int = 1) -> None:
        now = time.monotonic()
        asked = self._asked[uid]
        while asked and asked[0] < now - _HOUR:
            asked.popleft()
        if len(asked) + n > self._limit:
            raise Refused(f"{login} has looked up {len(asked)} numbers in the last hour, "
                          f"the most [privacy] lookups_per_hour allows; ask an administrator")
        asked.extend([now] * n)

    def answer(self, request: dict[str, Any], *, uid: int, pid: int, store: Any
               ) -> dict[str, Any]:
        op = request.get("op")
        login = login_of(uid)
        operator = str(request.get("as") or login)[:100]
        purpose = str(request.get("purpose") or op)[:200]
        audit = AuditLog(store.db, f"{login} (via the daemon, pid {pid})")
        if op in ("token", "seal"):
            number = normalize(str(request["number"]), self._country)
            self._count(uid, login)
            with store.transaction():
                audit.record("lookup" if op == "token" else "seal",
                             f"{purpose}: {mask_number(number)}", operator=operator)
            if op == "token":
                return {"token": self._keys.token(number)}
            stored = self._keys.stored(number)
            return {"token": stored.token, "sealed": stored.sealed, "mask": stored.mask,
                    "problem": stored.problem}
        if op == "reveal":
            return {"numbers": self._reveal(request, audit, store, operator, purpose)}
        raise Refused(f"unknown request {op!r}")

    def _reveal(self, request: dict[str, Any], audit: Any, store: Any, operator: str,
                purpose: str) -> dict[str, dict[str, str]]:
        asked = dict(request.get("rows") or {})
        if any(kind not in ROWS for kind in asked):
            raise Refused(f"unknown kind among {sorted(asked)}")
        wanted = {kind: [int(i) for i in ids] for kind, ids in asked.items()}
        if sum(len(ids) for ids in wanted.values()) > MAX_REVEAL:
            raise Refused(f"at most {MAX_REVEAL} numbers at once")
        with store.transaction():
            opened = {kind: store.db.open_rows(kind, ids) for kind, ids in wanted.items()}
            cases = sorted({case for rows in opened.values() for _, case in rows.values()
                            if case is not None})
            tickets = []
            for case_id in cases:
                tickets.append(store.db.scalar("SELECT ticket FROM cases WHERE id = ?",
                                               (case_id,)))
                store.db.execute(
                    "INSERT INTO case_events (case_id, at, operator, login, action, note)"
                    " VALUES (?, ?, ?, ?, 'reveal', 'number revealed')",
                    (case_id, store.db.now(), operator, audit.login))
            shown = ", ".join(f"{len(rows)} {_WHOSE[kind]}" for kind, rows in opened.items())
            audit.record("reveal", f"{purpose}: numbers of {shown}; {found('case', tickets)}",
                         operator=operator)
        return {kind: {str(i): clear for i, (clear, _) in rows.items()}
                for kind, rows in opened.items()}
