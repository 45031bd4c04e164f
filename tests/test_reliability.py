"""Trustworthy under bursts and faults: limits kept, reads retried, writes never doubled, nothing hangs."""

from __future__ import annotations

import logging
import re
import time
from typing import Any

import anyio
import pytest
from mcp import Client
from pydantic import SecretStr

from missive_mcp.limits import RateLimiter
from missive_mcp.sandbox import (
    DEMO_ACCOUNT_ID,
    DEMO_INJECTION_MESSAGE_ID,
    DEMO_MESSAGE_ID,
    DEMO_RESPONSE_ID,
    DEMO_TASK_ID,
    FakeMissive,
    Fault,
)
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


async def test_a_long_retry_after_is_not_waited_out_but_said(fake: FakeMissive) -> None:
    fake.faults.append(Fault(status=429, headers={"Retry-After": "120"}))
    async with server_for(fake) as mcp:
        with anyio.fail_after(10):
            text = await fail(mcp, "list_contact_books")
    assert "rate limit" in text and "Try again in 120 s" in text
    assert len(fake.requests) == 1


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


@pytest.mark.parametrize(
    ("tool", "arguments", "step"),
    [
        ("list_conversations", {"inbox": True, "organization": "Acme Support"}, "not its name"),
        (
            "create_draft",
            {"body": "Hi", "from_field": {"address": "ceo@elsewhere.example"}},
            "list_conversation_messages",
        ),
    ],
)
async def test_missive_refusals_come_with_the_api_reason_and_the_next_step(
    mcp: Client, fake: FakeMissive, tool: str, arguments: dict[str, Any], step: str
) -> None:
    text = await fail(mcp, tool, **arguments)
    assert "Missive refused the request (HTTP 400)" in text and step in text
    assert len(fake.requests) == 1


async def test_a_wrong_token_is_explained_and_never_echoed(fake: FakeMissive, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    secret = "missive_pat-wrong-and-secret"
    async with server_for(fake, api_token=SecretStr(secret)) as mcp:
        text = await fail(mcp, "list_contact_books")
    assert "rejected the API token" in text and "MISSIVE_API_TOKEN" in text
    assert secret not in text and secret not in caplog.text


async def test_the_token_never_appears_in_results_errors_or_logs(caplog: pytest.LogCaptureFixture) -> None:
    """A full run: every tool the server lists, called to succeed, plus failures of every kind, with the log at
    DEBUG. The token appears in no result, no error and no log line."""
    caplog.set_level(logging.DEBUG)
    fake = FakeMissive(report_delay=0.0, echo_token=True)  # every answer carries the token back
    token = fake.token
    seen: list[str] = []
    failed: list[str] = []
    async with server_for(fake, allow_send=True) as mcp:
        listed = {tool.name for tool in (await mcp.list_tools()).tools}
        called: set[str] = set()

        async def use(tool: str, **arguments: Any) -> dict[str, Any]:
            called.add(tool)
            result = await mcp.call_tool(tool, arguments)
            seen.append(result.model_dump_json())
            if result.is_error:
                failed.append(tool)
            return result.structured_content or {}

        page = await use("list_conversations", all=True, limit=10)
        first, second, third = (c["id"] for c in page["conversations"][:3])
        await use("read_conversation", conversation_id=first)
        await use("get_conversation", conversation_id=first, response_format="detailed")
        await use("update_conversation", conversation_ids=[first], add_to_inbox=True)
        for kind in ("messages", "comments", "drafts", "posts"):
            await use(f"list_conversation_{kind}", conversation_id=first)
        await use("get_messages", message_ids=[DEMO_INJECTION_MESSAGE_ID], response_format="detailed")
        draft = await use("create_draft", conversation=second, body="Hello", send=False)
        await use("delete_draft", draft_id=draft["draft"]["id"])
        await use("create_draft", conversation=second, body="Sent", send=True)
        await use("merge_conversations", conversation_id=third, target=second)
        await use("create_message", account=DEMO_ACCOUNT_ID, from_field={"id": "u-1", "name": "Ada"},
                  to_fields=[{"id": "support"}], body="Hi", external_id="x-1")  # fmt: skip
        book = (await use("list_contact_books"))["contact_books"][0]["id"]
        await use("list_contact_groups", contact_book=book, kind="organization")
        contact = (await use("create_contact", contact_book=book, first_name="Grace"))["contacts"][0]["id"]
        await use("get_contact", contact_id=contact)
        await use("update_contact", contact_ids=[contact], starred=True)
        await use("list_contacts", contact_book=book)
        organization = (await use("list_organizations"))["organizations"][0]["id"]
        for tool in ("list_users", "list_teams", "list_shared_labels"):
            await use(tool, organization=organization)
        report = await use("create_analytics_report", organization=organization, start=1, end=2)
        await use("get_analytics_report", report_id=report["report_id"])
        user = (await use("list_users", organization=organization))["users"][0]["id"]
        post = await use("create_post", conversation=first, text="Checked with billing", close=True)
        await use("delete_post", post_id=post["post"]["id"])
        task = await use("create_task", title="Call back", conversation=first)
        await use("update_task", task_id=task["task"]["id"], state="closed")
        await use("get_task", task_id=DEMO_TASK_ID)
        await use("list_tasks", state="todo")
        await use("list_responses", organization=organization)
        await use("get_response", response_id=DEMO_RESPONSE_ID)
        response = await use("create_response", title="Thanks", body="Thank you!", organization=organization)
        await use("update_response", response_ids=[response["response"]["id"]], subject="Thanks again")
        await use("delete_response", response_ids=[response["response"]["id"]])
        label = await use("create_shared_label", name="Escalated", organization=organization)
        await use("update_shared_label", label_ids=[label["shared_label"]["id"]], color="#ff0000")
        team = await use("create_team", name="Night shift", organization=organization, active_members=[user])
        await use("update_team", team_ids=[team["team"]["id"]], emoji=":moon:")
        hook = await use("create_webhook", type="incoming_email", url="https://hooks.example.com/m")
        await use("delete_webhook", webhook_id=hook["webhook"]["id"])
        message = (await use("get_messages", message_ids=[DEMO_MESSAGE_ID]))["messages"][0]
        await use("find_message", email_message_id=message["email_message_id"])
        assert failed == [], failed
        # Failures: a refused argument, an unknown id, a path injection, an API refusal, a 5xx, a dropped write.
        await use("list_conversations")
        await use("get_conversation", conversation_id="nope")
        await use("get_conversation", conversation_id="../x")
        await use("list_conversations", inbox=True, organization="not-a-uuid")
        fake.faults.extend(Fault(status=503) for _ in range(4))
        await use("list_contact_books")
        fake.faults.append(Fault(drop=True, method="POST", after_write=True))
        await use("create_draft", conversation=first, body="Lost answer")
    assert called == listed, listed - called
    assert len(failed) == 6, failed
    assert token not in "".join(seen)
    # The fake did echo it (error bodies and message texts): what the agent got carries the redaction instead.
    assert "Bearer [redacted]" in "".join(seen)
    assert token not in caplog.text and "HTTP Request" in caplog.text  # the HTTP stack did log, token-free


async def test_the_server_stays_up_after_every_kind_of_failure(fake: FakeMissive) -> None:
    fake.faults.extend([Fault(status=500)] * 4 + [Fault(drop=True)] * 4)
    async with server_for(fake) as mcp:
        await fail(mcp, "list_contact_books")
        await fail(mcp, "list_contact_books")
        started = time.monotonic()
        assert (await call(mcp, "list_contact_books"))["contact_books"]
    assert time.monotonic() - started < 5
