"""The rate limiter (limits.py): bursts queue within Missive's limits instead of drawing 429s, and a wait longer
than the limiter allows is refused with when to come back."""

from __future__ import annotations

import re
from typing import Any

import anyio
import pytest
from mcp import Client

from missive_mcp.limits import RateLimiter
from missive_mcp.sandbox import FakeMissive
from missive_mcp.server import create_server

from .conftest import call, fail, settings_for

pytestmark = pytest.mark.anyio


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
