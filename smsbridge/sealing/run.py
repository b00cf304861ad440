"""The daemon seals a database written before version 15, while the line runs.

Batches of a few hundred rows, each its own short transaction (a modem's worker waits
at most one batch to store an SMS), back to back for at most ``SLICE`` seconds per turn
of the daemon's loop, newest rows first. It resumes wherever it stopped: what is left
is whatever has no mask yet (``store/sealed.py``). When nothing is left it checks that
no clear number or raw PDU remains and says so in the daemon's state (``status``).
"""

from __future__ import annotations

import logging
import time

from smsbridge.clock import Clock
from smsbridge.models import to_iso
from smsbridge.sealing.keys import Keys
from smsbridge.store import Store
from smsbridge.store.sealed import seal_rows, unsealed_values

log = logging.getLogger(__name__)

BATCH = 300
SLICE = 1.0


class Sealing:
    def __init__(self, store: Store, keys: Keys, clock: Clock, *, batch: int = BATCH,
                 time_slice: float = SLICE):
        self._store = store
        self._keys = keys
        self._clock = clock
        self._batch = batch
        self._slice = time_slice
        self.sealed = 0
        self.done = store.state.read().get("sealing") == "done"

    def tick(self) -> None:
        if self.done:
            return
        deadline = time.monotonic() + self._slice
        while True:  # at least one batch per turn
            with self._store.transaction() as db:
                count = seal_rows(db, self._keys, self._batch)
            self.sealed += count
            if count == 0:
                self._finish()
                return
            if time.monotonic() >= deadline:
                return

    def run_all(self) -> int:
        """Everything at once (``smsbridge seal``, the benches); how many rows."""
        while not self.done:
            self.tick()
        return self.sealed

    def _finish(self) -> None:
        problems = unsealed_values(self._store.db)
        now = to_iso(self._clock.now())
        if problems:
            # Only a row written clear since (an older smsbridge still running) lands here.
            log.error("sealing: clear values remain: %s", "; ".join(problems))
            self._store.state.update({"sealing": "; ".join(problems)})
            return
        self._store.state.update({"sealing": "done", "sealing_done_at": now})
        if self.sealed:
            log.info("sealing: %d rows written before sealed numbers are sealed; no clear "
                     "number or raw SMS remains", self.sealed)
        self.done = True
