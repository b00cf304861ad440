"""Reporters' numbers sealed: the daemon's keys, and what the database keeps of a number.

In the database a number (a reporter's, an outbox recipient's, a message's sender) is
three things, never itself:

* its **token** (``#kpfmdaobhcje``): a keyed hash (HMAC-SHA256), the same for one
  number under one key, so follow-ups, CEK, the track record, the per-number budgets
  and lookups still find one number's rows; without the key it cannot be tried
  against candidate numbers (a masked number leaves only some ten thousand);
* its **sealed copy** (``s1.…``): authenticated encryption (XSalsa20-Poly1305,
  libsodium's secretbox through PyNaCl) that only the keys open: the daemon opens it
  to send an SMS, and to show a number to an operator who asks (``--reveal``, through
  its socket, which records who asked);
* its **mask** (``+62 857 ••••• 11``), for display.

The keys are one file (``[privacy] key_file``, default ``smsbridge.key`` beside the
database): 32 bytes for the hash, 32 for the seal, readable by the daemon's user alone,
made at the daemon's first start and never through a symbolic link. Whoever can read
it is the daemon; operators' commands that need a clear number or a token ask the
daemon (``door``). Back it up apart from the database: a backup of the database
without the keys holds no number anyone can read, and without the keys neither can
the line.

The hash key of a key file made where a retention key was (``[retention] key_file``,
``retention.key``) is that key: the pseudonyms retention gave forgotten cases stay the
tokens of their numbers.
"""

from __future__ import annotations

import base64
import logging
import os
import re
import secrets
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from smsbridge.errors import DaemonNeeded, KeysError
from smsbridge.privacy import mask_number, pseudonym

if TYPE_CHECKING:
    from smsbridge.config.sections import Config

log = logging.getLogger(__name__)

KEY_BYTES = 32
TOKEN_MARK = "#"
SEALED_MARK = "s1."
# Hex digits as letters: a token has no run of digits a mask would take for a number.


@dataclass(frozen=True)
class StoredNumber:
    """A number as the database keeps it."""

    token: str
    sealed: str | None
    mask: str | None
    # Why no SMS can go to it (numbers.reply_problem, [abuse] defaults), found when it
    # was written: what a reader who only sees the mask goes by.
    problem: str | None = None


_TOKEN = re.compile(r"#[a-p]{12}")


def is_token(value: str | None) -> bool:
    """A token (``#`` and 12 letters: 13 characters, longer than any alphanumeric
    sender can be, so no sender is taken for one)."""
    return bool(value) and _TOKEN.fullmatch(value) is not None  # type: ignore[arg-type]


def is_sealed(value: str | None) -> bool:
    return bool(value) and value.startswith(SEALED_MARK)  # type: ignore[union-attr]


def token_of_pseudonym(pseudonym: str) -> str:
    """A forgotten case's retention pseudonym -> its number's token."""
    return TOKEN_MARK + pseudonym


class Keys:
    """The daemon's keys: tokens, sealing and opening."""

    def __init__(self, hash_key: bytes, seal_key: bytes):
        if len(hash_key) != KEY_BYTES or len(seal_key) != KEY_BYTES:
            raise KeysError(f"keys are {KEY_BYTES} bytes each")
        self.hash_key = hash_key
        self._seal_key = seal_key
        self._box: Any = None

    @classmethod
    def generate(cls) -> Keys:
        return cls(secrets.token_bytes(KEY_BYTES), secrets.token_bytes(KEY_BYTES))

    def _secretbox(self) -> Any:
        if self._box is None:
            # Imported here: only the daemon (and whoever holds the keys) pays for it.
            from nacl.secret import SecretBox

            self._box = SecretBox(self._seal_key)
        return self._box

    def token(self, number: str) -> str:
        # The retention pseudonym (privacy.pseudonym: 48 bits, two of a million numbers
        # share one with a chance of 2 in 1000, and then only their track records
        # meet), marked: a case whose number was forgotten keeps its token.
        return TOKEN_MARK + pseudonym(self.hash_key, number)

    def seal(self, text: str) -> str:
        box = self._secretbox()
        return SEALED_MARK + base64.urlsafe_b64encode(box.encrypt(text.encode())).decode()

    def open(self, sealed: str) -> str:
        """The clear text of a sealed copy; KeysError when it is not one of ours."""
        from nacl.exceptions import CryptoError

        if not is_sealed(sealed):
            raise KeysError("not a sealed value")
        try:
            raw = base64.urlsafe_b64decode(sealed[len(SEALED_MARK):].encode())
            return self._secretbox().decrypt(raw).decode()
        except (CryptoError, ValueError, UnicodeDecodeError) as exc:
            raise KeysError(f"a sealed value does not open with these keys ({exc})") from None

    def stored(self, number: str) -> StoredNumber:
        from smsbridge.numbers import reply_problem

        return StoredNumber(self.token(number), self.seal(number), mask_number(number),
                            reply_problem(number))


class Sealer(Protocol):
    """What the store needs to write and find numbers: the keys themselves (the
    daemon), or the daemon asked through its socket (operators)."""

    def token(self, number: str) -> str: ...

    def stored(self, number: str) -> StoredNumber: ...

    def open(self, sealed: str) -> str | None:
        """The clear number, or None when this process cannot open it."""
        ...


__all__ = ["DaemonNeeded", "Keys", "KeysError", "LocalSealer", "Sealer", "StoredNumber"]


class LocalSealer:
    """The keys are this process's own (the daemon, or its user)."""

    can_open = True

    def __init__(self, keys: Keys):
        self.keys = keys

    def token(self, number: str) -> str:
        return self.keys.token(number)

    def stored(self, number: str) -> StoredNumber:
        return self.keys.stored(number)

    def open(self, sealed: str) -> str | None:
        try:
            return self.keys.open(sealed)
        except KeysError as exc:
            log.warning("%s", exc)
            return None


class MaskOnly:
    """A reader that never holds the keys (the hook runner): numbers read are masks,
    and nothing that needs a token or a sealed copy can be done."""

    can_open = False

    def token(self, number: str) -> str:
        raise DaemonNeeded("this reader never finds numbers")

    def stored(self, number: str) -> StoredNumber:
        raise DaemonNeeded("this reader never writes numbers")

    def open(self, sealed: str) -> str | None:
        return None


# -- the key file ---------------------------------------------------------------------


def key_path(cfg: Config) -> Path:
    return Path(cfg.privacy.key_file or default_key_path(cfg.database.path))


def default_key_path(db_path: str | os.PathLike[str]) -> Path:
    return Path(db_path).parent / "smsbridge.key"


def legacy_hash_key_path(cfg: Config | None, db_path: str | os.PathLike[str]) -> Path:
    configured = cfg.retention.key_file if cfg is not None else ""
    return Path(configured or Path(db_path).parent / "retention.key")


def readable_keys(path: Path) -> Keys | None:
    """The keys at ``path`` when this process may use them (its own file, 0600);
    None when the file is someone else's or not there (an operator: ask the daemon)."""
    try:
        info = os.lstat(path)
    except OSError:
        return None
    if info.st_uid != os.geteuid() or not stat.S_ISREG(info.st_mode):
        return None
    return load_keys(path)


def load_keys(path: Path, *, create: bool = False, legacy: Path | None = None) -> Keys:
    """The keys at ``path``; with ``create`` new ones are made when there are none
    (mode 0600, never through a symbolic link; the hash key taken from ``legacy``, a
    retention key file, when there is one)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except FileNotFoundError:
        if not create:
            raise KeysError(f"{path}: no key file; the daemon makes it at its first start "
                            "([privacy] key_file)") from None
        return _make_keys(path, legacy)
    except OSError as exc:
        raise KeysError(f"{path}: cannot read the key file ({exc.strerror}); only the "
                        "daemon's user can") from None
    try:
        info = os.fstat(fd)
        data = os.read(fd, 2 * KEY_BYTES + 1)
    finally:
        os.close(fd)
    if info.st_uid != os.geteuid() or info.st_mode & 0o077:
        # The state directory is group-writable: keys someone else put there are known
        # to them, and so would be every number sealed with them.
        raise KeysError(f"{path}: the key file must belong to this user with mode 0600 "
                        f"(it belongs to uid {info.st_uid}, mode "
                        f"{stat.S_IMODE(info.st_mode):04o}); refused")
    if not stat.S_ISREG(info.st_mode) or len(data) != 2 * KEY_BYTES:
        raise KeysError(f"{path}: not a smsbridge key file ({2 * KEY_BYTES} bytes); "
                        "restore it from its backup")
    return Keys(data[:KEY_BYTES], data[KEY_BYTES:])


def _make_keys(path: Path, legacy: Path | None) -> Keys:
    hash_key = secrets.token_bytes(KEY_BYTES)
    if legacy is not None:
        hash_key = _legacy_hash_key(legacy) or hash_key
    keys = Keys(hash_key, secrets.token_bytes(KEY_BYTES))
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    except FileExistsError:
        return load_keys(path)  # another process made them first
    except OSError as exc:
        raise KeysError(f"{path}: cannot make the key file: {exc.strerror}") from None
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, keys.hash_key + keys._seal_key)
        os.fsync(fd)
    finally:
        os.close(fd)
    log.info("keys made at %s: back this file up apart from the database", path)
    return keys


def _legacy_hash_key(path: Path) -> bytes | None:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:
        return None
    try:
        info = os.fstat(fd)
        data = os.read(fd, KEY_BYTES + 1)
    finally:
        os.close(fd)
    if info.st_uid != os.geteuid() or info.st_mode & 0o077 or len(data) != KEY_BYTES:
        return None
    return data
