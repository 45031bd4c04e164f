"""Trustworthy under bursts and faults: limits kept, reads retried, writes never doubled, nothing hangs."""

from __future__ import annotations

import logging
import time
from typing import Any

import anyio
import pytest
from mcp import Client
from pydantic import SecretStr

from missive_mcp.limits import RateLimiter
from missive_mcp.sandbox import FakeMissive, Fault
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


@pytest.mark.parametrize(
    "fault",
    [
        Fault(status=502),
        Fault(status=503, body=b'{"error": "maintenance"}'),
        Fault(drop=True),
        Fault(status=429, headers={"Retry-After": "0"}),
    ],
)
async def test_a_read_is_retried_through_a_passing_fault(fake: FakeMissive, fault: Fault) -> None:
    fake.faults.append(fault)
    async with server_for(fake) as mcp:
        page = await call(mcp, "list_contact_books")
    assert page["contact_books"]
    assert [r.path for r in fake.requests] == ["/v1/contact_books", "/v1/contact_books"]


async def test_a_hung_read_times_out_then_succeeds_on_retry(fake: FakeMissive) -> None:
    fake.faults.append(Fault(hang=True))
    async with server_for(fake, timeout=0.3) as mcp:
        with anyio.fail_after(10):
            page = await call(mcp, "list_contact_books")
    assert page["contact_books"] and len(fake.requests) == 2


async def test_a_read_that_keeps_hanging_ends_after_two_timeouts(fake: FakeMissive) -> None:
    fake.faults.extend(Fault(hang=True) for _ in range(4))
    async with server_for(fake, timeout=0.2) as mcp:
        with anyio.fail_after(10):
            text = await fail(mcp, "list_contact_books")
    assert "did not answer within 0.2 s (GET /contact_books), twice." in text
    assert len(fake.requests) == 2  # one retry, not max_attempts


async def test_a_call_the_client_cancels_cancels_its_request_and_frees_its_slot(fake: FakeMissive) -> None:
    fake.faults.extend(Fault(hang=True, path_prefix="/contact_books") for _ in range(5))
    async with server_for(fake, timeout=60.0) as mcp:
        with anyio.move_on_after(0.5) as abandoned:
            async with anyio.create_task_group() as group:
                for _ in range(5):
                    group.start_soon(mcp.call_tool, "list_contact_books", {})
        assert abandoned.cancelled_caught and len(fake.requests) == 5
        # Five hung requests held every slot: only their cancellation lets this call start before they time out.
        with anyio.fail_after(10):
            page = await call(mcp, "list_organizations")
    assert page["organizations"]


async def test_a_read_that_keeps_failing_ends_in_a_clear_error(fake: FakeMissive) -> None:
    fake.faults.extend(Fault(status=500) for _ in range(10))
    async with server_for(fake) as mcp:
        text = await fail(mcp, "list_contact_books")
    assert "HTTP 500" in text and "Try again" in text
    assert "Traceback" not in text


@pytest.mark.parametrize(
    ("fault", "nothing_written"),
    [
        (Fault(status=502, method="POST", after_write=True), False),
        (Fault(drop=True, method="POST", after_write=True), False),
        (Fault(status=429, method="POST", headers={"Retry-After": "0"}), True),
    ],
)
async def test_a_post_is_sent_exactly_once_and_an_unknown_outcome_says_how_to_check(
    fake: FakeMissive, fault: Fault, nothing_written: bool
) -> None:
    async with server_for(fake) as mcp:
        conversation = (await call(mcp, "list_conversations", inbox=True, limit=2))["conversations"][0]["id"]
        fake.faults.append(fault)
        text = await fail(mcp, "create_draft", conversation=conversation, body="Once only")
        drafts = await call(mcp, "list_conversation_drafts", conversation_id=conversation)
    assert len([r for r in fake.requests if r.method == "POST"]) == 1
    bodies = [d.get("body") or "" for d in drafts["drafts"]]
    if nothing_written:
        assert "rate limit" in text and "may or may not" not in text
        assert not any("Once only" in b for b in bodies)
    else:
        assert "may or may not have happened" in text and "list_conversation_drafts" in text
        assert any("Once only" in b for b in bodies)


@pytest.mark.parametrize(
    "answer", [b"<html>Created</html>", b'{"unexpected": true}', b'{"drafts": [{"id": 42, "body": []}]}']
)
async def test_an_accepted_post_whose_answer_cannot_be_read_says_it_happened(fake: FakeMissive, answer: bytes) -> None:
    async with server_for(fake) as mcp:
        conversation = (await call(mcp, "list_conversations", inbox=True, limit=2))["conversations"][0]["id"]
        fake.faults.append(Fault(status=201, body=answer, method="POST", after_write=True))
        text = await fail(mcp, "create_draft", conversation=conversation, body="Exactly once")
        drafts = await call(mcp, "list_conversation_drafts", conversation_id=conversation)
    assert "accepted the write" in text and "do not repeat it" in text and "list_conversation_drafts" in text
    assert "try again" not in text.lower()
    assert len([r for r in fake.requests if r.method == "POST"]) == 1
    assert sum("Exactly once" in (d.get("body") or "") for d in drafts["drafts"]) == 1


async def test_a_wrong_token_is_explained_and_never_echoed(fake: FakeMissive, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    secret = "missive_pat-wrong-and-secret"
    async with server_for(fake, api_token=SecretStr(secret)) as mcp:
        text = await fail(mcp, "list_contact_books")
    assert "rejected the API token" in text and "MISSIVE_API_TOKEN" in text
    assert secret not in text and secret not in caplog.text


async def test_the_token_never_appears_in_results_errors_or_logs(
    fake: FakeMissive, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    token = fake.token
    seen: list[str] = []
    async with server_for(fake) as mcp:
        for tool, args in [
            ("list_conversations", {"inbox": True}),
            ("list_conversations", {}),
            ("get_conversation", {"conversation_id": "nope"}),
            ("list_contact_books", {}),
            ("list_organizations", {}),
            ("create_draft", {"body": "x", "send": True}),
            ("get_conversation", {"conversation_id": "../x"}),
        ]:
            result = await mcp.call_tool(tool, args)
            seen.append(result.model_dump_json())
    assert token not in "".join(seen)
    assert token not in caplog.text


async def test_the_server_stays_up_after_every_kind_of_failure(fake: FakeMissive) -> None:
    fake.faults.extend([Fault(status=500)] * 4 + [Fault(drop=True)] * 4)
    async with server_for(fake) as mcp:
        await fail(mcp, "list_contact_books")
        await fail(mcp, "list_contact_books")
        started = time.monotonic()
        assert (await call(mcp, "list_contact_books"))["contact_books"]
    assert time.monotonic() - started < 5
