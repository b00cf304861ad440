"""What the daemon says about itself (pid, heartbeat, modem, last error), for
``smsbridge status`` to read from another process."""

from __future__ import annotations

from smsbridge.store.db import Database

# sim.fingerprint() of the PIN a modem's SIM refused, and when: written by the daemon's
# worker and by `modem probe`, read by both, so that neither sends it again.
SIM_PIN_REFUSED = "modem.{}.sim_pin_refused"


class DaemonState:
    """The daemon_state table: one value per key."""

    def __init__(self, db: Database):
        self._db = db

    def read(self) -> dict[str, str | None]:
        return {r[0]: r[1] for r in self._db.all("SELECT key, value FROM daemon_state")}

    def update(self, values: dict[str, str | None]) -> None:
        now = self._db.now()
        with self._db.transaction():
            self._db.executemany(
                "INSERT INTO daemon_state (key, value, updated_at) VALUES (?, ?, ?)"
                " ON CONFLICT (key) DO UPDATE SET value = excluded.value,"
                " updated_at = excluded.updated_at",
                [(k, v, now) for k, v in values.items()])

    def refused_pin(self, modem: str) -> str | None:
        """``sim.fingerprint()`` of the PIN ``modem``'s SIM refused, if one was."""
        value = self._db.scalar("SELECT value FROM daemon_state WHERE key = ?",
                                (SIM_PIN_REFUSED.format(modem),))
        return str(value) if value else None

    def remember_refused_pin(self, modem: str, fingerprint: str, *, at: str) -> None:
        key = SIM_PIN_REFUSED.format(modem)
        self.update({key: fingerprint, f"{key}_at": at})
