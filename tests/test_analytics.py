"""Analytics: a report is created, then waited for while Missive answers an empty 404."""

from __future__ import annotations

import itertools
from typing import Any

import anyio
import pytest
from mcp import Client

from missive_mcp.sandbox import FakeMissive
from missive_mcp.server import create_server
from missive_mcp.tools import analytics

from .conftest import call, fail, settings_for, structured

pytestmark = pytest.mark.anyio


@pytest.fixture(autouse=True)
def fast_polls(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(analytics, "POLL_INTERVAL", 0.02)


async def organization(mcp: Client) -> str:
    return (await call(mcp, "list_organizations"))["organizations"][0]["id"]


async def test_a_pending_report_is_waited_for_with_progress(fake: FakeMissive) -> None:
    fake.report_delay = 0.15
    progress: list[float] = []

    async def on_progress(done: float, total: float | None, message: str | None) -> None:
        progress.append(done)

    async with Client(create_server(settings_for(fake), transport=fake.transport())) as mcp:
        org = await organization(mcp)
        created = await call(mcp, "create_analytics_report", organization=org, start=1_761_955_200, end=1_764_547_200)
        assert fake.requests[-1].body == {
            "reports": {"organization": org, "start": 1_761_955_200, "end": 1_764_547_200}
        }
        result = await mcp.call_tool(
            "get_analytics_report", {"report_id": created["report_id"]}, progress_callback=on_progress
        )
    assert not result.is_error, result.content
    report: dict[str, Any] = structured(result)["report"]
    assert "metrics" in report["selected_period"]["global"]["totals"]
    polls = [r for r in fake.requests if r.path == f"/v1/analytics/reports/{created['report_id']}"]
    assert len(polls) >= 2 and progress


async def test_a_report_that_never_finishes_times_out_with_what_to_do(mcp: Client, fake: FakeMissive) -> None:
    fake.report_delay = 3600
    org = await organization(mcp)
    created = await call(mcp, "create_analytics_report", organization=org, start=1, end=2)
    text = await fail(mcp, "get_analytics_report", report_id=created["report_id"], timeout=0.1)
    assert "not ready" in text and f"report_id={created['report_id']!r}" in text
    assert "organization, start and end for a new one" in text


async def test_one_call_creates_a_report_and_waits_for_its_figures_in_the_default_toolsets(fake: FakeMissive) -> None:
    fake.report_delay = 0.05
    async with Client(create_server(settings_for(fake, toolsets="default"), transport=fake.transport())) as mcp:
        org = await organization(mcp)
        result = await call(mcp, "get_analytics_report", organization=org, start=1_761_955_200, end=1_764_547_200)
    created = [r for r in fake.requests if r.path == "/v1/analytics/reports"]
    assert [r.body for r in created] == [
        {"reports": {"organization": org, "start": 1_761_955_200, "end": 1_764_547_200}}
    ]
    assert "metrics" in result["report"]["selected_period"]["global"]["totals"]
    assert any(r.path == f"/v1/analytics/reports/{result['report_id']}" for r in fake.requests)


@pytest.mark.parametrize(
    ("arguments", "named"),
    [
        ({"organization": "o", "start": 1}, "`end`"),
        ({}, "`organization`"),
        ({"report_id": "r", "start": 1, "end": 2}, "`report_id`"),
    ],
)
async def test_a_report_needs_either_its_id_or_its_organization_and_period(
    mcp: Client, fake: FakeMissive, arguments: dict[str, Any], named: str
) -> None:
    text = await fail(mcp, "get_analytics_report", **arguments)
    assert named in text and "organization, start and end" in text
    assert fake.requests == []


async def test_a_period_that_ends_before_it_starts_is_refused(mcp: Client, fake: FakeMissive) -> None:
    text = await fail(mcp, "create_analytics_report", organization="o", start=10, end=5)
    assert "`end`" in text and fake.requests == []


async def test_an_expired_report_is_not_found_and_the_error_says_to_create_it_again(fake: FakeMissive) -> None:
    fake.report_delay, fake.report_ttl = 0.0, 0.3
    async with Client(create_server(settings_for(fake), transport=fake.transport())) as mcp:
        org = await organization(mcp)
        created = await call(mcp, "create_analytics_report", organization=org, start=1, end=2)
        ready = await call(mcp, "get_analytics_report", report_id=created["report_id"])  # it exists...
        assert ready["report_id"] == created["report_id"]
        await anyio.sleep(0.5)  # ...and is gone 0.3 s after it finished: the live API then answers an empty 404
        text = await fail(mcp, "get_analytics_report", report_id=created["report_id"], timeout=0.1)
    assert "expired" in text and "organization, start and end for a new one" in text
    polls = [r for r in fake.requests if r.path == f"/v1/analytics/reports/{created['report_id']}"]
    assert len(polls) >= 2


def test_polls_come_quickly_while_a_report_is_young_then_back_off_to_five_seconds(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(analytics, "POLL_INTERVAL", 0.75)  # the shipped schedule, not the tests' quick one
    clock, interval, waits = 0.0, 0.0, []
    for polls in range(1, 40):
        interval = analytics.poll_interval(polls, clock, interval)
        waits.append(interval)
        clock += interval
    quick = [w for w, at in zip(waits, itertools.accumulate([0.0, *waits[:-1]]), strict=True) if at < 10]
    assert quick[:4] == [0.1875, 0.375, 0.5625, 0.75] and max(quick) == 0.75  # answered < 1 s after ready
    assert waits[-1] == 5.0 and waits == sorted(waits)  # then Missive's suggested 5 s, never faster again
    assert sum(1 for at in itertools.accumulate(waits) if 60 <= at < 120) <= 12  # a long wait: ~12 polls/min
