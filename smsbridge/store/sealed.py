"""Numbers as the database keeps them (``sealing/keys.py`` says why): columns, reading, and
the sealing of a database written before.

Version 15 gives each number column its sealed copy and its mask: ``cases.reporter``,
``messages.sender`` and ``outbox.number`` hold the number's token, and the raw PDU
(which carries the sender too) is kept sealed. Rows written before are sealed by the
daemon (the only holder of the keys) in small batches, newest first, between turns of
its loop, so the line never waits for more than a batch; the partial indexes below
list what is left, and ``unsealed_values`` proves that nothing clear is.

Reading, every number is ``shown``: the clear number where this process holds the keys
(the daemon: it sends to it), else the mask; a row not sealed yet shows its old value
the same way.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from smsbridge.errors import KeysError, SmsBridgeError
from smsbridge.i18n import _
from smsbridge.privacy import mask_number
from smsbridge.sealing.keys import (
    DaemonNeeded,
    Keys,
    Sealer,
    StoredNumber,
    is_sealed,
    is_token,
    token_of_pseudonym,
)

SCHEMA_15 = """
ALTER TABLE cases ADD COLUMN reporter_sealed TEXT;
ALTER TABLE cases ADD COLUMN reporter_mask TEXT;
ALTER TABLE messages ADD COLUMN sender_sealed TEXT;
ALTER TABLE messages ADD COLUMN sender_mask TEXT;
ALTER TABLE outbox ADD COLUMN number_sealed TEXT;
ALTER TABLE outbox ADD COLUMN number_mask TEXT;
ALTER TABLE cases ADD COLUMN reporter_problem TEXT;
ALTER TABLE outbox ADD COLUMN number_problem TEXT;
CREATE INDEX cases_unsealed ON cases (id) WHERE reporter_mask IS NULL;
CREATE INDEX messages_unsealed ON messages (id) WHERE sender_mask IS NULL;
CREATE INDEX outbox_unsealed ON outbox (id) WHERE number_mask IS NULL;
"""

# The tables whose numbers are sealed: (table, number column, sealed, mask).
NUMBER_COLUMNS = (("cases", "reporter", "reporter_sealed", "reporter_mask"),
                  ("messages", "sender", "sender_sealed", "sender_mask"),
                  ("outbox", "number", "number_sealed", "number_mask"))

Shown = Callable[[str | None, str | None, str | None], str | None]
# What a reveal may name: (table, sealed column, old column, its case's id column).
ROWS = {"case": ("cases", "reporter_sealed", "reporter", "id"),
        "message": ("messages", "sender_sealed", "sender", "case_id"),
        "outbox": ("outbox", "number_sealed", "number", "case_id")}


def shown_with(sealer: Sealer | None, *, clear: bool = True) -> Shown:
    """``shown(sealed, mask, old)``: a number as this process may see it; with
    ``clear`` False, the mask even where it holds the keys (an operator's command that
    reveals nothing need not open anything)."""
    can_open = clear and bool(getattr(sealer, "can_open", False))

    def shown(sealed: str | None, mask: str | None, old: str | None) -> str | None:
        if sealed and can_open and sealer is not None:
            clear = sealer.open(sealed)
            if clear is not None:
                return clear
        if mask is not None:
            return mask or None
        if old is None or is_token(old):
            return old
        return old if can_open else mask_number(old)

    return shown


def _opened(keys: Keys, sealed: str | None, old: str | None) -> str | None:
    if sealed:
        try:
            return keys.open(sealed)
        except KeysError:
            return None  # not ours (a row copied from elsewhere): nothing to show
    if old and not is_token(old) and "\u2022" not in old:
        return old  # a row the sealing has not reached yet
    return None


def register(conn: sqlite3.Connection, shown: Shown) -> None:
    """``shown(sealed, mask, old)`` in this connection's SQL."""
    conn.create_function("shown", 3, shown, deterministic=True)


def pdu_shown(pdu: str | None, sealer: Sealer | None) -> str:
    """A stored raw PDU as this process may see it ('' when it cannot open it)."""
    if not pdu:
        return ""
    if not is_sealed(pdu):
        return pdu if getattr(sealer, "can_open", False) else ""
    if sealer is not None and getattr(sealer, "can_open", False):
        return sealer.open(pdu) or ""
    return ""


class NumberColumns:
    """How a ``Database`` connection writes, finds and shows numbers: with the keys
    (the daemon), through the daemon (operators), or (no sealer) showing masks and
    refusing what needs either. A mixin of ``Database``, which gives ``conn``."""

    conn: sqlite3.Connection
    sealer: Sealer | None
    shown: Shown

    def use_sealer(self, sealer: Sealer | None, *, clear: bool = True) -> None:
        self.sealer = sealer
        if sealer is not None and hasattr(sealer, "busy"):
            # The daemon writes its audit line before it answers: asked while this
            # connection holds the write lock, it would wait for us as we wait for it.
            # Callers ask first (``ask_first``); the answers are kept for the command.
            sealer.busy = lambda: self.conn.in_transaction
        self.shown = shown_with(sealer, clear=clear)
        register(self.conn, self.shown)

    @property
    def can_open(self) -> bool:
        """Whether this process holds the keys that open sealed numbers."""
        return bool(getattr(self.sealer, "can_open", False))

    def _need_sealer(self) -> Sealer:
        if self.sealer is None:
            raise DaemonNeeded(_("this needs the daemon, which alone holds the keys to "
                                 "reporters' numbers; start it and try again"))
        return self.sealer

    def open_rows(self, kind: str, ids: list[int]) -> dict[int, tuple[str, int | None]]:
        """The clear numbers of these rows (``ROWS``) with their cases' ids, opened with
        this process's keys (rows the sealing has not reached give their old value;
        forgotten ones nothing). The caller records the look."""
        keys = getattr(self.sealer, "keys", None)
        if keys is None:
            raise DaemonNeeded(_("only the daemon opens reporters' numbers"))
        table, sealed, old, case_of = ROWS[kind]
        out: dict[int, tuple[str, int | None]] = {}
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            for row in self.conn.execute(
                    f"SELECT id, {sealed}, {old}, {case_of} FROM {table}"
                    f" WHERE id IN ({', '.join('?' * len(chunk))})", chunk):
                clear = _opened(keys, row[1], row[2])
                if clear is not None:
                    out[int(row[0])] = (clear, row[3])
        return out

    def ask_first(self, *numbers: str | None, stored: bool = False) -> None:
        """Ask the daemon now (outside any transaction) for what a command will need
        inside one: tokens, or with ``stored`` sealed copies. Nothing with the keys."""
        if self.can_open or self.sealer is None:
            return
        for number in numbers:
            if number and not is_token(number):
                if stored:
                    self.sealer.stored(number)
                else:
                    self.sealer.token(number)

    def token(self, number: str) -> str:
        """The token a typed or received number is found by; a token is itself."""
        return number if is_token(number) else self._need_sealer().token(number)

    def stored(self, number: str) -> StoredNumber:
        """A number as it is written: token, sealed copy, mask."""
        return self._need_sealer().stored(number)

    def seal_text(self, text: str) -> str:
        """A raw PDU sealed: only the daemon, which holds the keys, stores them."""
        keys = getattr(self._need_sealer(), "keys", None)
        if keys is None:
            raise DaemonNeeded(_("only the daemon stores raw SMS"))
        return str(keys.seal(text))


@dataclass(frozen=True)
class SealingLeft:
    cases: int
    messages: int
    outbox: int

    @property
    def total(self) -> int:
        return self.cases + self.messages + self.outbox


def left(conn_scalar: Callable[[str], int]) -> SealingLeft:
    return SealingLeft(*(conn_scalar(
        f"SELECT count(*) FROM {table} INDEXED BY {table}_unsealed WHERE {mask} IS NULL")
        for table, _, _, mask in NUMBER_COLUMNS))


def seal_rows(db: Any, keys: Keys, limit: int) -> int:
    """Seal up to ``limit`` rows of each table written before version 15 (newest
    first: the cases follow-ups and CEK reach are sealed in the first seconds); how
    many. ``db`` is a ``Database`` (not imported: it imports this module); run inside
    its transaction."""
    done = 0
    for row in db.all("SELECT id, reporter, reporter_key, forgotten_at FROM cases"
                      " INDEXED BY cases_unsealed WHERE reporter_mask IS NULL"
                      " ORDER BY id DESC LIMIT ?", (limit,)):
        old = row["reporter"] or ""
        if row["forgotten_at"] is not None:
            # Forgotten by retention: its mask and pseudonym are all there is.
            shown, _, pseudonym = old.partition(" ~")
            db.execute("UPDATE cases SET reporter = ?, reporter_mask = ? WHERE id = ?",
                       (token_of_pseudonym(row["reporter_key"] or pseudonym), shown,
                        row["id"]))
        else:
            _write_sealed(db, "cases", "reporter", row["id"], keys.stored(old))
        done += 1
    for row in db.all("SELECT id, sender, pdu FROM messages INDEXED BY messages_unsealed"
                      " WHERE sender_mask IS NULL ORDER BY id DESC LIMIT ?", (limit,)):
        sender, pdu = row["sender"], row["pdu"]
        token: str | None = None
        sealed_sender: str | None = None
        mask = sender or ""  # no sender (undecodable), or masked by retention already
        if sender is not None and "\u2022" not in sender:
            stored = keys.stored(sender)
            token, sealed_sender, mask = stored.token, stored.sealed, stored.mask
        sealed_pdu = keys.seal(pdu) if pdu and not is_sealed(pdu) else pdu
        db.execute("UPDATE messages SET sender = ?, sender_sealed = ?, sender_mask = ?,"
                   " pdu = ? WHERE id = ?", (token, sealed_sender, mask, sealed_pdu, row["id"]))
        done += 1
    for row in db.all("SELECT id, number FROM outbox INDEXED BY outbox_unsealed"
                      " WHERE number_mask IS NULL ORDER BY id DESC LIMIT ?", (limit,)):
        number = row["number"] or ""
        if "\u2022" in number:  # masked by retention: nothing left to seal
            db.execute("UPDATE outbox SET number = ?, number_mask = ? WHERE id = ?",
                       ("#forgotten", number, row["id"]))
        else:
            _write_sealed(db, "outbox", "number", row["id"], keys.stored(number))
        done += 1
    return done


def _write_sealed(db: Any, table: str, column: str, row_id: int, stored: StoredNumber
                  ) -> None:
    db.execute(f"UPDATE {table} SET {column} = ?, {column}_sealed = ?, {column}_mask = ?,"
               f" {column}_problem = ? WHERE id = ?",
               (stored.token, stored.sealed, stored.mask, stored.problem, row_id))


def unsealed_values(db: Any) -> list[str]:
    """What is still clear: one line per column holding a value that is not a token, a
    sealed copy or a mask (empty when the database is sealed). ``db``: a ``Database``."""
    problems = []
    for table, number, sealed, mask in NUMBER_COLUMNS:
        count = int(db.scalar(
            f"SELECT count(*) FROM {table} WHERE {number} IS NOT NULL"
            f" AND substr({number}, 1, 1) != '#'"))
        if count:
            problems.append(f"{table}.{number}: {count} clear")
        count = int(db.scalar(f"SELECT count(*) FROM {table} WHERE {sealed} IS NOT NULL"
                              f" AND substr({sealed}, 1, 3) != 's1.'"))
        if count:
            problems.append(f"{table}.{sealed}: {count} not sealed")
        count = int(db.scalar(f"SELECT count(*) FROM {table} WHERE {mask} IS NULL"))
        if count:
            problems.append(f"{table}: {count} rows not sealed yet")
    count = int(db.scalar("SELECT count(*) FROM messages WHERE pdu != ''"
                          " AND substr(pdu, 1, 3) != 's1.' AND pdu NOT LIKE 'withheld:%'"))
    if count:
        problems.append(f"messages.pdu: {count} clear")
    return problems


class _CheckKeys:
    """``check_keys(db, keys, path)``: refuse keys the database was not sealed with.

    The first keys that seal anything leave their fingerprint in ``daemon_state`` (a
    keyed hash of a fixed word: it tells keys apart and opens nothing)."""

    STATE = "keys_fingerprint"

    def sealed_before(self, db: Any) -> bool:
        """Whether the database holds anything sealed (then lost keys must come back
        from their backup)."""
        return db.one("SELECT 1 FROM daemon_state WHERE key = ?", (self.STATE,)) is not None \
            or db.one("SELECT 1 FROM cases WHERE reporter_sealed IS NOT NULL LIMIT 1") \
            is not None

    def __call__(self, db: Any, keys: Keys, path: object) -> None:
        mark = keys.token("smsbridge keys")
        found = db.scalar("SELECT value FROM daemon_state WHERE key = ?", (self.STATE,))
        if found is None:
            try:
                with db.transaction():
                    db.execute("INSERT OR IGNORE INTO daemon_state (key, value, updated_at)"
                               " VALUES (?, ?, ?)", (self.STATE, mark, db.now()))
            except SmsBridgeError:
                pass  # a read-only look: the daemon, or the next writer, leaves it
        elif found != mark:
            raise KeysError(_("{path}: these are not the keys this database's numbers were "
                              "sealed with; restore the key file from its backup").format(
                                  path=path))


check_keys = _CheckKeys()
