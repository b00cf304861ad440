"""One backoff policy for everything that tries again: the outbox, hooks, the daemon's
reconnects and database waits, and a busy SQLite lock.

Attempt ``n`` (1 for the first retry) waits ``base * 2**(n-1)``, capped at ``cap``.
With ``jitter`` j the wait is drawn from ``[d * (1 - j), d]``: processes that failed
together (say, two CLIs on a locked database) spread out instead of retrying in step.
With j = 0 the wait is exact, which the tests of retry times rely on.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import random


@dataclass(frozen=True)
class RetryPolicy:
    base: float
    cap: float
    jitter: float = 0.0

    def __post_init__(self) -> None:
        if self.base < 0 or self.cap < 0:
            raise ValueError(f"backoff needs base and cap >= 0, got {self.base}, {self.cap}")
        if not 0.0 <= self.jitter <= 1.0:
            raise ValueError(f"jitter is a fraction from 0 to 1, got {self.jitter}")

    def delay(self, attempt: int, rng: random.Random | None = None) -> float:
        """Seconds to wait before retry number ``attempt`` (1, 2, …)."""
        if attempt < 1:
            raise ValueError(f"attempts count from 1, got {attempt}")
        # Past 2**64 the cap has long been reached; the bound keeps the float finite.
        wait = min(self.base * 2.0 ** min(attempt - 1, 64), self.cap)
        if not self.jitter:
            return wait
        if rng is None:
            import random  # only a jittered policy needs it; the CLI starts faster without

            return wait * (1.0 - self.jitter * random.random())
        return wait * (1.0 - self.jitter * rng.random())
