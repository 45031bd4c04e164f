"""Every call answers within its deadline (MISSIVE_DEADLINE), before the usual 60 s client limit, saying which
wait ran out: in memory, through a spawned stdio process, and over HTTP."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import anyio
import pytest
from mcp import Client, StdioServerParameters

from missive_mcp.limits import RateLimiter
from missive_mcp.sandbox import DEMO_ORG_ID, DEMO_TOKEN, FakeMissive, Fault
from missive_mcp.server import create_server

from .conftest import fail, settings_for
from .test_http import client, serving

pytestmark = pytest.mark.anyio
ROOT = Path(__file__).parent.parent


async def test_a_hung_missive_ends_the_call_at_its_deadline_naming_the_wait(fake: FakeMissive) -> None:
    fake.faults.extend(Fault(hang=True) for _ in range(5))
    settings = settings_for(fake, timeout=30.0, deadline=1.0)
    async with Client(create_server(settings, transport=fake.transport())) as mcp:
        started = time.monotonic()
        with anyio.fail_after(10):
            text = await fail(mcp, "list_contact_books")
        took = time.monotonic() - started
    assert "used up its 1 s deadline waiting for Missive's answer (GET /contact_books)" in text
    assert took < 1.0 + 2.0  # the deadline, not the 30 s timeout
    assert len(fake.requests) == 1  # no retry started that the deadline could not finish


async def test_a_post_cut_by_the_deadline_says_its_outcome_is_unknown(fake: FakeMissive) -> None:
    settings = settings_for(fake, timeout=30.0, deadline=1.0)
    async with Client(create_server(settings, transport=fake.transport())) as mcp:
        fake.faults.append(Fault(hang=True, method="POST"))
        with anyio.fail_after(10):
            text = await fail(mcp, "create_post", conversation="c-1", text="Noted")
    assert "deadline waiting for Missive's answer (POST /posts)" in text
    assert "may or may not have happened" in text and "list_conversation_posts" in text
    assert "Try again" not in text


async def test_a_wait_for_the_rate_limit_that_outlasts_the_deadline_is_refused_at_once(fake: FakeMissive) -> None:
    limiter = RateLimiter(windows=((1, 100.0),), max_wait=60.0)
    settings = settings_for(fake, deadline=2.0)
    async with Client(create_server(settings, transport=fake.transport(), limiter=limiter)) as mcp:
        await mcp.call_tool("list_contact_books", {})
        started = time.monotonic()
        text = await fail(mcp, "list_organizations")
    assert "holding back to stay within Missive's rate limits" in text and "Try again in 10" in text
    assert time.monotonic() - started < 1.0  # refused, not waited for
    assert len(fake.requests) == 1


async def test_a_report_that_never_finishes_answers_before_the_deadline_with_its_id() -> None:
    fake = FakeMissive(report_delay=1e9)
    settings = settings_for(fake, deadline=4.0)
    async with Client(create_server(settings, transport=fake.transport())) as mcp:
        created = await mcp.call_tool("create_analytics_report", {"organization": DEMO_ORG_ID, "start": 1, "end": 2})
        assert created.structured_content is not None
        report_id = created.structured_content["report_id"]
        started = time.monotonic()
        text = await fail(mcp, "get_analytics_report", report_id=report_id, timeout=300)
    took = time.monotonic() - started
    assert "It may still be computing" in text and f"report_id={report_id!r}" in text
    assert took < 4.0  # within the deadline, its own 300 s cut to it
    assert took > 4.0 - 3.0 - 1.0  # and it did wait, up to the margin kept for the answer


async def test_over_stdio_a_hung_missive_answers_within_the_deadline(fake: FakeMissive) -> None:
    fake.faults.extend(Fault(hang=True) for _ in range(3))
    with fake.serve() as base_url:
        env = {
            **os.environ,
            "MISSIVE_API_TOKEN": DEMO_TOKEN,
            "MISSIVE_API_BASE_URL": base_url,
            "MISSIVE_DEADLINE": "2",
            "MISSIVE_TIMEOUT": "60",
            "MISSIVE_TOOLSETS": "all",
        }
        params = StdioServerParameters(command=sys.executable, args=["-m", "missive_mcp"], env=env, cwd=str(ROOT))
        with anyio.fail_after(30):
            async with Client(params) as mcp:
                started = time.monotonic()
                text = await fail(mcp, "list_contact_books")
                took = time.monotonic() - started
    assert "used up its 2 s deadline waiting for Missive's answer" in text
    assert took < 2.0 + 3.0


async def test_over_http_a_never_ready_report_answers_within_the_deadline() -> None:
    fake = FakeMissive(report_delay=1e9)
    with serving(fake, deadline=4.0) as url:
        async with client(url) as mcp:
            created = await mcp.call_tool(
                "create_analytics_report", {"organization": DEMO_ORG_ID, "start": 1, "end": 2}
            )
            assert created.structured_content is not None
            started = time.monotonic()
            with anyio.fail_after(30):
                text = await fail(mcp, "get_analytics_report", report_id=created.structured_content["report_id"])
            took = time.monotonic() - started
    assert "It may still be computing" in text and took < 4.0 + 1.0


async def test_over_http_a_hung_missive_answers_within_the_deadline(fake: FakeMissive) -> None:
    fake.faults.extend(Fault(hang=True) for _ in range(3))
    with serving(fake, deadline=2.0, timeout=60.0) as url:
        async with client(url) as mcp:
            started = time.monotonic()
            with anyio.fail_after(30):
                text = await fail(mcp, "list_contact_books")
            took = time.monotonic() - started
    assert "used up its 2 s deadline waiting for Missive's answer" in text
    assert took < 2.0 + 3.0


async def test_over_stdio_a_never_ready_report_answers_within_the_deadline() -> None:
    fake = FakeMissive(report_delay=1e9)
    with fake.serve() as base_url:
        env = {
            **os.environ,
            "MISSIVE_API_TOKEN": DEMO_TOKEN,
            "MISSIVE_API_BASE_URL": base_url,
            "MISSIVE_DEADLINE": "4",
            "MISSIVE_TOOLSETS": "all",
        }
        params = StdioServerParameters(command=sys.executable, args=["-m", "missive_mcp"], env=env, cwd=str(ROOT))
        with anyio.fail_after(30):
            async with Client(params) as mcp:
                created = await mcp.call_tool(
                    "create_analytics_report", {"organization": DEMO_ORG_ID, "start": 1, "end": 2}
                )
                assert isinstance(created.structured_content, dict)
                started = time.monotonic()
                text = await fail(mcp, "get_analytics_report", report_id=created.structured_content["report_id"])
                took = time.monotonic() - started
    assert "It may still be computing" in text and took < 4.0 + 1.0
