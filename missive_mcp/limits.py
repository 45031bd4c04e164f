"""Missive's rate limits, kept ahead of time so a burst of agent calls queues instead of drawing 429s.

Missive allows, per token, 5 requests in flight, 300 a minute and 900 per 15 minutes. The client asks its
`Limits` for the limiter of the token a call uses (`limiter_for(token)`), then holds a `slot()` for the request
and, after a 429, `pause`s that token. Two kinds:

    LocalLimits   one `RateLimiter` per token, in this process (one server, the default)
    RedisLimits   the same budgets kept in Redis (MISSIVE_MCP_REDIS_URL), shared by every replica: in-flight
                  places are leases that expire, so a replica that dies mid-request cannot hold one for ever
"""

from __future__ import annotations

import hashlib
import random
import time
import uuid
from collections import deque
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol

import anyio

from .errors import RateLimitError
from .settings import LIMITS, MAX_IN_FLIGHT, WINDOWS


@dataclass
class _Window:
    limit: int
    period: float
    """The API's window, plus a margin: Missive stamps a request when it arrives, a little after we stamp it
    here, and one arriving late at the window's start must not make one arriving early at its end a 429."""
    stamps: deque[float] = field(default_factory=deque[float])

    def wait(self, now: float) -> float:
        while self.stamps and self.stamps[0] <= now - self.period:
            self.stamps.popleft()
        return 0.0 if len(self.stamps) < self.limit else self.stamps[0] + self.period - now


class RateLimiter:
    """At most `max_in_flight` concurrent requests and at most `limit` starts in any `period` seconds."""

    def __init__(
        self,
        *,
        max_in_flight: int = MAX_IN_FLIGHT,
        windows: tuple[tuple[int, float], ...] = WINDOWS,
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

    async def pause(self, seconds: float) -> None:
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
                        f"This server is holding back to stay within Missive's rate limits ({LIMITS}). "
                        f"Try again in {wait:.0f} s.",
                        retry_after=wait,
                    )
                await anyio.sleep(wait)


class TokenLimiter(Protocol):
    """The budgets of one Missive token."""

    max_wait: float

    def slot(self, *, max_wait: float | None = None) -> AbstractAsyncContextManager[None]: ...

    async def pause(self, seconds: float) -> None: ...


class Limits(Protocol):
    """Hands out the limiter of each Missive token."""

    def limiter_for(self, token: str) -> TokenLimiter: ...


class LocalLimits:
    """One in-process `RateLimiter` per token; `shared`, when given, serves every token (tests, one-token use)."""

    def __init__(self, shared: RateLimiter | None = None, **options: Any) -> None:
        self._shared = shared
        self._options = options
        self._by_token: dict[str, RateLimiter] = {}

    def limiter_for(self, token: str) -> TokenLimiter:
        if self._shared is not None:
            return self._shared
        found = self._by_token.get(token)
        if found is None:
            found = self._by_token[token] = RateLimiter(**self._options)
        return found

    def count(self) -> int:
        """How many tokens have a limiter here (only tokens the server took as real get one)."""
        return len(self._by_token)


# Redis ------------------------------------------------------------------------------------------

# KEYS: in-flight leases (sorted set, score = lease expiry), pause (string), one sorted set per window.
# ARGV: lease id, lease ms, max in flight, then (limit, period ms) per window. Redis's own clock, so replicas
# whose clocks disagree still share one timeline. Returns 0 when admitted, else the ms to wait.
_ACQUIRE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local wait = 0
local paused = redis.call('PTTL', KEYS[2])
if paused > 0 then wait = paused end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then
  wait = math.max(wait, 1)
end
for i = 3, #KEYS do
  local limit = tonumber(ARGV[2 + (i - 2) * 2])
  local period = tonumber(ARGV[3 + (i - 2) * 2])
  redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', now - period)
  if redis.call('ZCARD', KEYS[i]) >= limit then
    local oldest = redis.call('ZRANGE', KEYS[i], 0, 0, 'WITHSCORES')
    wait = math.max(wait, tonumber(oldest[2]) + period - now)
  end
end
if wait > 0 then return wait end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]) + 60000)
for i = 3, #KEYS do
  local period = tonumber(ARGV[3 + (i - 2) * 2])
  redis.call('ZADD', KEYS[i], now, ARGV[1])
  redis.call('PEXPIRE', KEYS[i], period + 1000)
end
return 0
"""

# KEYS: pause. ARGV: ms. Only ever lengthens a pause.
_PAUSE = """
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[1]) then
  redis.call('SET', KEYS[1], '1', 'PX', ARGV[1])
end
return 0
"""


class RedisLimits:
    """Missive's budgets per token in Redis, so any number of replicas together keep 5 / 300 / 900.

    Each admitted request holds a lease in the token's in-flight set until it ends, or until `lease` seconds
    pass if its replica died first. Waiters poll Redis, a few at a time per replica (a local semaphore keeps
    the rest of a burst from polling). Tokens are named in Redis only by a digest.
    """

    def __init__(
        self,
        url: str,
        *,
        max_in_flight: int = MAX_IN_FLIGHT,
        windows: tuple[tuple[int, float], ...] = WINDOWS,
        max_wait: float = 30.0,
        lease: float = 120.0,
        prefix: str = "missive-mcp:limits",
    ) -> None:
        import redis.asyncio

        # redis-py leaves from_url's **kwargs unannotated, so strict mode calls the method partially unknown.
        self.redis = redis.asyncio.Redis.from_url(url)  # pyright: ignore[reportUnknownMemberType]
        self.max_in_flight = max_in_flight
        # The same margin as the in-process limiter: 2% of the window, at most a second.
        self.windows = [(limit, period + min(1.0, period * 0.02)) for limit, period in windows]
        self.max_wait = max_wait
        self.lease = lease
        self.prefix = prefix
        self.acquire_script = self.redis.register_script(_ACQUIRE)
        """Admit one request (a lease in the in-flight set, a stamp per window) or answer how many ms to wait."""
        self.pause_script = self.redis.register_script(_PAUSE)
        """Hold every replica's requests for this token back for the given ms (after a 429)."""
        self._by_token: dict[str, _RedisTokenLimiter] = {}

    def limiter_for(self, token: str) -> TokenLimiter:
        name = hashlib.sha256(token.encode()).hexdigest()[:32]
        found = self._by_token.get(name)
        if found is None:
            found = self._by_token[name] = _RedisTokenLimiter(self, f"{self.prefix}:{{{name}}}")
        return found

    async def aclose(self) -> None:
        await self.redis.aclose()


class _RedisTokenLimiter:
    def __init__(self, limits: RedisLimits, key: str) -> None:
        self._limits = limits
        self._inflight = f"{key}:inflight"
        self._paused = f"{key}:pause"
        self._windows = [f"{key}:window:{period:g}" for _, period in limits.windows]
        self._local = anyio.Semaphore(limits.max_in_flight)
        self.max_wait = limits.max_wait

    @asynccontextmanager
    async def slot(self, *, max_wait: float | None = None) -> AsyncIterator[None]:
        async with self._local:
            lease = uuid.uuid4().hex
            await self._admit(lease, self.max_wait if max_wait is None else max_wait)
            try:
                yield
            finally:
                with anyio.CancelScope(shield=True):
                    await self._limits.redis.zrem(self._inflight, lease)  # pyright: ignore[reportUnknownMemberType]

    async def _admit(self, lease: str, max_wait: float) -> None:
        limits = self._limits
        args: list[Any] = [lease, int(limits.lease * 1000), limits.max_in_flight]
        for limit, period in limits.windows:
            args += [limit, int(period * 1000)]
        waited = 0.0
        while True:
            # redis-py 8.2 types a script's answer as `Awaitable[Any] | Any`; the Lua script answers an integer.
            wait_ms: Any = await limits.acquire_script(keys=[self._inflight, self._paused, *self._windows], args=args)
            if not wait_ms:
                return
            wait = int(wait_ms) / 1000
            if wait > max_wait:
                raise RateLimitError(
                    f"This server is holding back to stay within Missive's rate limits ({LIMITS}). "
                    f"Try again in {wait:.0f} s.",
                    retry_after=wait,
                )
            if waited + wait > max(max_wait, 60.0) * 4:
                raise RateLimitError(
                    "This server waited too long for a free place among Missive's 5 requests at once for this token "
                    "(other replicas hold them). Try again in a moment.",
                    retry_after=1.0,
                )
            # A full in-flight set answers 1 ms: poll again soon, with jitter so replicas do not poll in step.
            pause = wait if wait > 0.001 else random.uniform(0.005, 0.025)
            waited += pause
            await anyio.sleep(pause)

    async def pause(self, seconds: float) -> None:
        await self._limits.pause_script(keys=[self._paused], args=[max(1, int(seconds * 1000))])
