"""The rate limits (limits.py): one contract for both limiters, in process and in a real Redis shared by replicas
(`RedisLimits`); and through the server, bursts queue within Missive's limits instead of drawing 429s, and a wait
longer than the limiter allows is refused with when to come back."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import anyio
import pytest
from mcp import Client

from missive_mcp.errors import RateLimitError
from missive_mcp.limits import Limits, LocalLimits, RateLimiter, RedisLimits
from missive_mcp.sandbox import FakeMissive
from missive_mcp.server import create_server

from .conftest import call, fail, settings_for

pytestmark = pytest.mark.anyio

Make = Callable[..., Limits]


@pytest.fixture(params=["local", "redis"])
async def make(request: pytest.FixtureRequest) -> AsyncIterator[Make]:
    """Builds limits of the kind under test; for Redis, every one built shares the server, as replicas do."""
    opened: list[RedisLimits] = []
    prefix = f"test:{uuid.uuid4().hex[:8]}"

    def build(**options: Any) -> Limits:
        if request.param == "local":
            return LocalLimits(**options)
        limits = RedisLimits(request.getfixturevalue("redis_url"), prefix=prefix, **options)
        opened.append(limits)
        return limits

    yield build
    for limits in opened:
        await limits.aclose()


async def run_at_once(limits: list[Limits], token: str, calls: int, hold: float = 0.02) -> int:
    """`calls` requests at once, spread over `limits`; the most that held a slot together."""
    now = peak = 0

    async def one(index: int) -> None:
        nonlocal now, peak
        async with limits[index % len(limits)].limiter_for(token).slot():
            now += 1
            peak = max(peak, now)
            await anyio.sleep(hold)
            now -= 1

    with anyio.fail_after(20):
        async with anyio.create_task_group() as group:
            for index in range(calls):
                group.start_soon(one, index)
    return peak


async def test_at_most_five_requests_are_in_flight_per_token(make: Make) -> None:
    assert await run_at_once([make()], "token-a", 20) == 5


async def test_each_token_has_its_own_places(make: Make) -> None:
    limits = make()
    held = anyio.Event()
    release = anyio.Event()

    async def hold_all_of_a() -> None:
        async with anyio.create_task_group() as group:
            for _ in range(5):
                group.start_soon(hold_one)
            await anyio.sleep(0)

    async def hold_one() -> None:
        async with limits.limiter_for("token-a").slot():
            held.set()
            await release.wait()

    with anyio.fail_after(10):
        async with anyio.create_task_group() as group:
            group.start_soon(hold_all_of_a)
            await held.wait()
            async with limits.limiter_for("token-b").slot():  # not blocked by a's five
                pass
            release.set()


async def test_a_window_holds_the_next_start_until_the_oldest_leaves_it(make: Make) -> None:
    limiter = make(windows=((3, 0.5),)).limiter_for("token-a")
    starts: list[float] = []
    with anyio.fail_after(10):
        for _ in range(4):
            async with limiter.slot():
                starts.append(time.monotonic())
    assert starts[2] - starts[0] < 0.3  # the first three at once
    assert starts[3] - starts[0] >= 0.5  # the fourth waits out the window (plus its margin)


async def test_a_pause_after_a_429_holds_new_requests_back(make: Make) -> None:
    limiter = make().limiter_for("token-a")
    await limiter.pause(0.4)
    started = time.monotonic()
    with anyio.fail_after(10):
        async with limiter.slot():
            pass
    assert time.monotonic() - started >= 0.35


async def test_a_wait_longer_than_max_wait_is_refused_with_when_to_come_back(make: Make) -> None:
    limiter = make(windows=((2, 100.0),), max_wait=1.0).limiter_for("token-a")
    for _ in range(2):
        async with limiter.slot():
            pass
    with anyio.fail_after(5), pytest.raises(RateLimitError) as refused:
        async with limiter.slot():
            pass
    assert "Try again in 10" in str(refused.value) and refused.value.retry_after > 99


async def test_replicas_sharing_redis_keep_five_in_flight_together(redis_url: str) -> None:
    prefix = f"test:{uuid.uuid4().hex[:8]}"
    replicas = [RedisLimits(redis_url, prefix=prefix) for _ in range(3)]
    try:
        assert await run_at_once(list(replicas), "token-a", 30) == 5
    finally:
        for replica in replicas:
            await replica.aclose()


async def test_a_crashed_replicas_places_come_back_when_their_leases_expire(redis_url: str) -> None:
    prefix = f"test:{uuid.uuid4().hex[:8]}"
    crashed, alive = RedisLimits(redis_url, prefix=prefix, lease=0.5), RedisLimits(redis_url, prefix=prefix)
    try:
        # The crashed replica took all five places and never gave them back.
        for _ in range(5):
            await crashed.limiter_for("token-a")._admit(uuid.uuid4().hex, 30.0)  # type: ignore[attr-defined]
        started = time.monotonic()
        with anyio.fail_after(5):
            async with alive.limiter_for("token-a").slot():
                waited = time.monotonic() - started
        assert 0.3 <= waited < 3
    finally:
        await crashed.aclose()
        await alive.aclose()


def test_the_in_process_limiter_given_as_such_serves_every_token() -> None:
    shared = RateLimiter()
    limits = LocalLimits(shared)
    assert limits.limiter_for("a") is shared and limits.limiter_for("b") is shared
    assert LocalLimits().limiter_for("a") is not LocalLimits().limiter_for("a")


# Through the server ---------------------------------------------------------------------------------------


def server_for(fake: FakeMissive, **overrides: Any) -> Client:
    return Client(create_server(settings_for(fake, **overrides), transport=fake.transport()))


async def test_a_burst_of_calls_queues_within_five_in_flight_and_draws_no_429(fake: FakeMissive) -> None:
    fake.latency = 0.02
    results: list[dict[str, Any]] = []
    async with server_for(fake) as mcp:

        async def one() -> None:
            results.append(await call(mcp, "list_conversations", inbox=True, limit=2))

        with anyio.fail_after(20):
            async with anyio.create_task_group() as group:
                for _ in range(30):
                    group.start_soon(one)
    assert len(results) == 30
    assert fake.max_in_flight == 5
    assert fake.rate_limited == 0


async def test_a_burst_past_the_per_minute_budget_waits_for_the_window_and_draws_no_429() -> None:
    """330 calls against a fake whose minute lasts 0.5 s: the first 300 start at once, the rest wait for the
    window, and Missive (the fake, stamping requests as they arrive) never has cause to refuse one."""
    scale = 120.0
    fake = FakeMissive(report_delay=0.0, time_scale=scale)
    limiter = RateLimiter(windows=((300, 60.0 / scale), (900, 900.0 / scale)))
    answered = 0
    async with Client(create_server(settings_for(fake), transport=fake.transport(), limiter=limiter)) as mcp:

        async def one() -> None:
            nonlocal answered
            await call(mcp, "list_contact_books", limit=1)
            answered += 1

        with anyio.fail_after(30):
            async with anyio.create_task_group() as group:
                for _ in range(330):
                    group.start_soon(one)
    assert answered == 330 and len(fake.requests) == 330
    assert fake.rate_limited == 0


async def test_our_own_limiter_says_when_to_come_back_rather_than_hang(fake: FakeMissive) -> None:
    limiter = RateLimiter(windows=((2, 100.0),), max_wait=1.0)
    async with Client(create_server(settings_for(fake), transport=fake.transport(), limiter=limiter)) as mcp:
        await call(mcp, "list_contact_books")
        await call(mcp, "list_organizations")
        with anyio.fail_after(10):
            text = await fail(mcp, "list_teams")
    assert "holding back to stay within Missive's rate limits" in text
    assert re.search(r"Try again in 10[01] s", text), text  # the 100 s window (plus its 1 s margin) to run out
    assert len(fake.requests) == 2
