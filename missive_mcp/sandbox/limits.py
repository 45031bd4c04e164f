"""Missive's per-token rate limits: 5 requests in flight, 300 a minute, 900 per 15 minutes.

The windows slide: a request counts until exactly one window after it was admitted, so a client that waits the
`Retry-After` it was given always finds room again. Refused requests do not count against the windows.
"""

from __future__ import annotations

import math
import time
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

MAX_IN_FLIGHT = 5
WINDOWS = ((300, 60.0), (900, 900.0))
"""(requests, seconds) pairs."""


@dataclass(frozen=True)
class Refusal:
    """Why a request was refused, as the 429's headers tell it."""

    limit: int
    retry_after: float
    """Seconds until a request would be admitted again."""

    def headers(self, now: float) -> dict[str, str]:
        # Retry-After is whole seconds and at least 1, never shorter than the real wait.
        wait = max(1, math.ceil(self.retry_after))
        return {
            "Retry-After": str(wait),
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": str(math.ceil(now + wait)),
        }


class RateLimiter:
    """Admits or refuses requests per token; `admit` and `release` bracket every admitted request."""

    def __init__(self, *, time_scale: float = 1.0, clock: Callable[[], float] = time.monotonic) -> None:
        if time_scale <= 0:
            raise ValueError("time_scale must be positive")
        self.windows = tuple((count, seconds / time_scale) for count, seconds in WINDOWS)
        self.clock = clock
        self._in_flight: defaultdict[str, int] = defaultdict(int)
        self._admitted: defaultdict[str, list[float]] = defaultdict(list)

    def admit(self, token: str) -> Refusal | None:
        """Take a slot for one request, or say why not."""
        if self._in_flight[token] >= MAX_IN_FLIGHT:
            return Refusal(MAX_IN_FLIGHT, 1.0)
        now = self.clock()
        admitted = self._admitted[token]
        del admitted[: bisect_right(admitted, now - max(seconds for _, seconds in self.windows))]
        for count, seconds in self.windows:
            recent = len(admitted) - bisect_right(admitted, now - seconds)
            if recent >= count:
                # Room comes back when the count-th most recent request leaves the window.
                return Refusal(count, admitted[-count] + seconds - now)
        admitted.append(now)
        self._in_flight[token] += 1
        return None

    def release(self, token: str) -> None:
        self._in_flight[token] -= 1
