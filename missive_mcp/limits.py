"""Missive's rate limits, kept ahead of time so a burst of agent calls queues instead of drawing 429s.

Missive allows, per token, 5 requests in flight, 300 a minute and 900 per 15 minutes. One limiter per
process is shared by every call.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import anyio

from .errors import RateLimitError


@dataclass
class _Window:
    limit: int
    period: float
    """The API's window, plus a margin: Missive stamps a request when it arrives, a little after we stamp it
    here, and one arriving late at the window's start must not make one arriving early at its end a 429."""
    stamps: deque[float] = field(default_factory=deque)  # pyright: ignore[reportUnknownVariableType]

    def wait(self, now: float) -> float:
        while self.stamps and self.stamps[0] <= now - self.period:
            self.stamps.popleft()
        return 0.0 if len(self.stamps) < self.limit else self.stamps[0] + self.period - now


class RateLimiter:
    """At most `max_in_flight` concurrent requests and at most `limit` starts in any `period` seconds."""

    def __init__(
        self,
        *,
        max_in_flight: int = 5,
        windows: tuple[tuple[int, float], ...] = ((300, 60.0), (900, 900.0)),
        max_wait: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._slots = anyio.Semaphore(max_in_flight)
        # The margin: 2% of the window, at most a second (1 s on Missive's minute, 0.2 s on a test's 10 s one).
        self._windows = [_Window(limit, period + min(1.0, period * 0.02)) for limit, period in windows]
        self._lock = anyio.Lock()
        self._paused_until = 0.0
        self.max_wait = max_wait
        self._clock = clock

    @asynccontextmanager
    async def slot(self, *, max_wait: float | None = None) -> AsyncIterator[None]:
        """Hold one of the in-flight places for one request, once the budgets allow it to start; refuse with a
        RateLimitError rather than wait longer than `max_wait` (default: the limiter's own)."""
        async with self._slots:
            await self._reserve(self.max_wait if max_wait is None else max_wait)
            yield

    def pause(self, seconds: float) -> None:
        """After a 429, hold every new request back for `seconds`."""
        self._paused_until = max(self._paused_until, self._clock() + seconds)

    async def _reserve(self, max_wait: float) -> None:
        # The lock makes waiters take the budget in arrival order.
        async with self._lock:
            while True:
                now = self._clock()
                wait = max([self._paused_until - now, *(w.wait(now) for w in self._windows)])
                if wait <= 0:
                    for window in self._windows:
                        window.stamps.append(now)
                    return
                if wait > max_wait:
                    raise RateLimitError(
                        "This server is holding back to stay within Missive's rate limits "
                        f"(300 requests a minute, 900 per 15 minutes per token). Try again in {wait:.0f} s.",
                        retry_after=wait,
                    )
                await anyio.sleep(wait)
