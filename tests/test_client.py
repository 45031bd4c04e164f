"""The request path (client.py): retries per retry class, timeouts and deadlines, every error status, unreadable
answers, Retry-After clamping, and the token kept out of everything an agent sees."""

from __future__ import annotations

import functools
import gzip
import logging
import re
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import anyio
import pytest
from mcp import Client
from pydantic import SecretStr

from missive_mcp import endpoints as ep
from missive_mcp.client import MissiveClient
from missive_mcp.deadline import deadline
from missive_mcp.errors import (
    APIError,
    AuthenticationError,
    BadRequestError,
    ClientError,
    ConfigurationError,
    ConflictError,
    DeadlineError,
    DecodingError,
    ForbiddenError,
    GatewayError,
    InvalidArgumentError,
    MissiveError,
    NotFoundError,
    PayloadTooLargeError,
    RateLimitError,
    RedirectError,
    ServerError,
    UnprocessableError,
    WriteOutcomeUnknownError,
)
from missive_mcp.facts import MAX_RESPONSE_BYTES, MAX_RETRY_AFTER
from missive_mcp.limits import RateLimiter
from missive_mcp.redact import MIN_TOKEN
from missive_mcp.sandbox import (
    DEMO_ACCOUNT_ID,
    DEMO_INJECTION_MESSAGE_ID,
    DEMO_MESSAGE_ID,
    DEMO_PDF_ATTACHMENT_ID,
    DEMO_RESPONSE_ID,
    DEMO_TASK_ID,
    DEMO_TOKEN,
    FakeMissive,
    Fault,
)
from missive_mcp.server import create_server

from .conftest import call, fail, settings_for

pytestmark = pytest.mark.anyio


def server_for(fake: FakeMissive, **overrides: Any) -> Client:
    return Client(create_server(settings_for(fake, **overrides), transport=fake.transport()))


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


@pytest.mark.parametrize(
    ("tool", "arguments", "step"),
    [
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
        await use("watch_inbox", wait=0)
        message = (await use("get_messages", message_ids=[DEMO_MESSAGE_ID]))["messages"][0]
        await use("find_message", email_message_id=message["email_message_id"])
        await use("reply_to_conversation", conversation_id=first, body="Thanks", reply_all=True)
        await use("get_attachment", message_id=DEMO_MESSAGE_ID, attachment_id=DEMO_PDF_ATTACHMENT_ID)
        assert failed == [], failed
        # Failures: a refused argument, an unknown id, a path injection, an API refusal, a 5xx, a dropped write.
        await use("list_conversations")
        await use("get_conversation", conversation_id="nope")
        await use("get_conversation", conversation_id="../x")
        await use("create_draft", body="Hi", from_field={"address": "ceo@elsewhere.example"})
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


# The request path itself, through MissiveClient ----------------------------------------------------------------

CONVERSATION = "82a50652-2367-515f-9a19-202856cb7e84"
"""DEMO_CONVERSATION_ID, written out: the sentences below name it."""
TOKEN_STEP = (
    "Create a personal API token in Missive (Settings > API > Create a new token; it needs the Productive plan) and "
    "set it in the MISSIVE_API_TOKEN environment variable of the MCP server."
)
CHECK_URL = "Check MISSIVE_API_BASE_URL (it should be https://public.missiveapp.com/v1)."


def direct(fake: FakeMissive, *, max_attempts: int = 1, **overrides: Any) -> MissiveClient:
    """The client alone on the fake; one attempt unless a test is about retries."""
    return MissiveClient(settings_for(fake, **overrides), transport=fake.transport(), max_attempts=max_attempts)


async def refusal(fake: FakeMissive, fault: Fault, *, max_attempts: int = 1) -> MissiveError:
    """The error the client raises when reading one conversation meets `fault`."""
    fake.faults.append(fault)
    async with direct(fake, max_attempts=max_attempts) as missive:
        with pytest.raises(MissiveError) as caught:
            await missive.call(ep.get_conversation, ids=[CONVERSATION])
    return caught.value


@pytest.mark.parametrize(
    ("status", "kind", "text"),
    [
        *(
            (
                status,
                RedirectError,
                f"Missive's address answered with a redirect (HTTP {status}) instead of an answer; "
                f"it was not followed. {CHECK_URL}",
            )
            for status in (300, 301, 302, 303, 307, 308)
        ),
        (400, BadRequestError, "Missive refused the request (HTTP 400): nope."),
        (
            401,
            AuthenticationError,
            f"Missive rejected the API token (invalid or revoked). Missive said: nope. {TOKEN_STEP}",
        ),
        (
            403,
            ForbiddenError,
            "The token's owner is not allowed to do this. Missive said: nope. Check their role in the organization, "
            "and that its plan includes API access (Productive plan; analytics filters need Business).",
        ),
        (
            404,
            NotFoundError,
            f"Conversation '{CONVERSATION}' was not found, or the token's owner cannot see it. Conversation ids come "
            "from list_conversations (a merged id answers its target).",
        ),
        *(
            (status, ClientError, f"Missive refused the request (HTTP {status}): nope.")
            for status in (405, 410, 415, 451)
        ),
        (
            409,
            ConflictError,
            "Missive refused the request because of a conflict (HTTP 409). Missive said: nope. Read the object again "
            "and decide with the fresh state.",
        ),
        (
            413,
            PayloadTooLargeError,
            "Missive refused the request as too large (HTTP 413): it accepts at most 10 MB. Send fewer or smaller "
            "attachments.",
        ),
        (422, UnprocessableError, "Missive refused the request (HTTP 422): nope."),
        (
            429,
            RateLimitError,
            "Missive's rate limit was reached (per token: 5 requests at once, 300 a minute, 900 per 15 minutes). "
            "Try again in 1 s.",
        ),
        *(
            (
                status,
                ServerError,
                f"Missive failed on its side (HTTP {status}, GET /conversations). Missive said: "
                "nope. Try again in a moment.",
            )
            for status in (500, 501, 502, 503, 504, 599)
        ),
    ],
)
async def test_each_status_has_its_error_class_and_one_true_sentence(
    fake: FakeMissive, status: int, kind: type[MissiveError], text: str
) -> None:
    error = await refusal(fake, Fault(status=status, body=b'{"error": "nope"}'))
    assert type(error) is kind
    assert str(error) == text
    assert isinstance(error, APIError) and error.status == status


@pytest.mark.parametrize(
    ("status", "body", "headers"),
    [
        (502, b"<html><body><h1>502 Bad Gateway</h1></body></html>", {"Content-Type": "text/html"}),
        (500, b"<!DOCTYPE html><p>Internal error at the edge</p>", {}),
        (503, b"", {}),
        (504, b"   ", {}),
    ],
)
async def test_a_gateway_page_becomes_one_line_without_its_html(
    fake: FakeMissive, status: int, body: bytes, headers: dict[str, str]
) -> None:
    error = await refusal(fake, Fault(status=status, body=body, headers=headers))
    assert isinstance(error, GatewayError)
    assert str(error) == (
        f"HTTP {status} from a gateway in front of Missive (GET /conversations): Missive may be down or restarting. "
        "Try again in a moment."
    )


async def test_an_html_refusal_gives_no_reason_rather_than_the_page(fake: FakeMissive) -> None:
    error = await refusal(fake, Fault(status=400, body=b"<html><body>Bad <b>request</b></body></html>"))
    assert str(error) == "Missive refused the request (HTTP 400): no reason given."


async def test_a_redirect_names_where_it_pointed_without_its_query(fake: FakeMissive) -> None:
    location = "https://login.example.com/sso?token=secret-in-query"
    error = await refusal(fake, Fault(status=302, headers={"Location": location}))
    assert str(error) == (
        "Missive's address answered with a redirect (HTTP 302) to https://login.example.com/sso instead of an "
        f"answer; it was not followed. {CHECK_URL}"
    )
    assert len(fake.requests) == 1  # not followed


@pytest.mark.parametrize(
    ("body", "text"),
    [
        (b"not json", "Missive answered HTTP 200 with a body that is not JSON. Try again; if it persists, report it."),
        (b'{"other": []}', "Missive answered without the expected 'conversations' envelope."),
        (
            b'{"conversations": [{"id": 3}]}',
            "Missive sent conversations this server could not read (1 problem(s)); please report it to the "
            "missive-mcp maintainers.",
        ),
    ],
)
async def test_an_unreadable_success_is_a_decoding_error_not_an_api_error(
    fake: FakeMissive, body: bytes, text: str
) -> None:
    error = await refusal(fake, Fault(status=200, body=body))
    assert type(error) is DecodingError
    assert str(error) == text


async def test_a_gzip_bomb_is_refused_without_holding_it(fake: FakeMissive) -> None:
    bomb = gzip.compress(b"0" * (MAX_RESPONSE_BYTES + 1024))  # ~32 MiB of zeros in ~33 KB
    assert len(bomb) < 100_000
    error = await refusal(fake, Fault(status=200, body=bomb, headers={"Content-Encoding": "gzip"}))
    assert type(error) is DecodingError
    assert str(error) == (
        "Missive's answer was larger than 32 MiB, more than this server takes in; ask for less (a smaller limit, "
        "fewer ids)."
    )


async def test_a_gzipped_answer_within_the_budget_is_read(fake: FakeMissive) -> None:
    async with direct(fake) as missive:
        plain = await missive.call(ep.get_conversation, ids=[CONVERSATION])
    body = ('{"conversations": [' + plain.model_dump_json() + "]}").encode()
    fake.faults.append(Fault(status=200, body=gzip.compress(body), headers={"Content-Encoding": "gzip"}))
    async with direct(fake) as missive:
        assert await missive.call(ep.get_conversation, ids=[CONVERSATION]) == plain


@pytest.mark.parametrize(
    ("headers", "seconds"),
    [
        ({"Retry-After": "7"}, 7.0),
        ({"Retry-After": "100000"}, MAX_RETRY_AFTER),  # valid, capped
        ({"Retry-After": format_datetime(datetime.now(UTC) + timedelta(days=2), usegmt=True)}, MAX_RETRY_AFTER),
        ({"Retry-After": "1e9"}, 1.0),  # not delta-seconds: the limiter's own schedule, not the 120 s cap
        ({"Retry-After": "inf"}, 1.0),
        ({"Retry-After": "Infinity"}, 1.0),
        ({"Retry-After": "nan"}, 1.0),
        ({"Retry-After": "-30"}, 1.0),
        ({"Retry-After": "soon"}, 1.0),
        ({"X-RateLimit-Reset": str(int(time.time()) + 10**9)}, MAX_RETRY_AFTER),
        ({"X-RateLimit-Reset": "1"}, 1.0),  # a reset in the past
        ({}, 1.0),
    ],
)
async def test_retry_after_is_clamped_to_a_sane_pause(
    fake: FakeMissive, headers: dict[str, str], seconds: float
) -> None:
    error = await refusal(fake, Fault(status=429, headers=headers))
    assert isinstance(error, RateLimitError)
    assert error.retry_after == seconds
    assert str(error).endswith(f"Try again in {seconds:.0f} s.")


async def test_an_idempotent_write_is_retried_through_a_5xx(fake: FakeMissive) -> None:
    fake.faults.append(Fault(status=502, method="PATCH", after_write=True))
    async with direct(fake, max_attempts=4) as missive:
        updated = await missive.call(ep.update_task, ids=[DEMO_TASK_ID], body={"state": "closed"})
    assert updated is not None and updated.state == "closed"
    assert [(r.method, r.path) for r in fake.requests] == [("PATCH", f"/v1/tasks/{DEMO_TASK_ID}")] * 2


async def test_an_unsafe_write_is_never_retried_and_says_the_outcome_is_unknown(fake: FakeMissive) -> None:
    fake.faults.append(Fault(status=503, method="POST", after_write=True))
    async with direct(fake, max_attempts=4) as missive:
        with pytest.raises(WriteOutcomeUnknownError) as caught:
            await missive.call(
                ep.create_task,
                body={"title": "Once", "subtask": True, "conversation": CONVERSATION},
                context={"title": "Once", "where": f"conversation={CONVERSATION!r}"},
            )
    assert str(caught.value) == (
        "HTTP 503 from a gateway in front of Missive (POST /tasks): Missive may be down or restarting. The write may "
        "or may not have happened: Missive has no "
        "idempotency key, so do not simply repeat it. Look for a task titled 'Once' with list_tasks "
        f"(conversation='{CONVERSATION}') before deciding whether to do it again."
    )
    assert "try again" not in str(caught.value).lower()
    assert [r.method for r in fake.requests] == ["POST"]


async def test_a_refused_read_is_not_retried(fake: FakeMissive) -> None:
    await refusal(fake, Fault(status=400, body=b'{"error": "nope"}'), max_attempts=4)
    assert len(fake.requests) == 1


async def test_a_hung_answer_past_the_deadline_says_which_wait_ran_out(fake: FakeMissive) -> None:
    fake.faults.append(Fault(hang=True))
    async with direct(fake, max_attempts=4, timeout=30.0) as missive:
        with anyio.fail_after(10), deadline(0.3), pytest.raises(DeadlineError) as caught:
            await missive.call(ep.get_conversation, ids=[CONVERSATION])
    assert str(caught.value) == (
        f"This call used up its 0.3 s deadline waiting for Missive's answer (GET /conversations/{CONVERSATION})."
    )
    assert caught.value.waiting_for == "answer" and len(fake.requests) == 1


async def test_a_turn_under_the_limits_past_the_deadline_sends_nothing(fake: FakeMissive) -> None:
    fake.faults.append(Fault(hang=True))
    limiter = RateLimiter(max_in_flight=1)
    missive = MissiveClient(settings_for(fake, timeout=30.0), transport=fake.transport(), limiter=limiter)
    async with missive, anyio.create_task_group() as group:
        # hangs, holding the one place
        group.start_soon(functools.partial(missive.call, ep.get_conversation, ids=[CONVERSATION]))
        await wait_for(lambda: len(fake.requests) == 1)
        with anyio.fail_after(10), deadline(0.2), pytest.raises(DeadlineError) as caught:
            await missive.call(ep.get_conversation, ids=[CONVERSATION])
        group.cancel_scope.cancel()
    assert str(caught.value) == (
        "This call used up its 0.2 s deadline waiting its turn under Missive's rate limits (GET /conversations/"
        f"{CONVERSATION}); nothing was sent. Try again in a minute."
    )
    assert caught.value.waiting_for == "turn" and len(fake.requests) == 1


async def test_a_wait_longer_than_the_deadline_under_a_full_window_says_when_to_come_back(fake: FakeMissive) -> None:
    limiter = RateLimiter(windows=((1, 100.0),), max_wait=60.0)
    async with MissiveClient(settings_for(fake), transport=fake.transport(), limiter=limiter) as missive:
        await missive.call(ep.get_conversation, ids=[CONVERSATION])
        with anyio.fail_after(10), deadline(0.2), pytest.raises(RateLimitError) as caught:
            await missive.call(ep.get_conversation, ids=[CONVERSATION])
    assert str(caught.value) == (
        "This server is holding back to stay within Missive's rate limits (per token: 5 requests at once, 300 a "
        "minute, 900 per 15 minutes). Try again in 101 s."
    )
    assert len(fake.requests) == 1


async def wait_for(condition: Callable[[], bool]) -> None:
    with anyio.fail_after(5):
        while not condition():
            await anyio.sleep(0.005)


async def test_no_token_is_a_configuration_error_and_nothing_is_sent(fake: FakeMissive) -> None:
    async with direct(fake, api_token=None) as missive:
        with pytest.raises(ConfigurationError) as caught:
            await missive.call(ep.get_conversation, ids=[CONVERSATION])
    assert str(caught.value) == f"No Missive API token is configured. {TOKEN_STEP}"
    assert fake.requests == []


async def test_a_query_value_too_long_for_a_url_is_refused_before_sending(fake: FakeMissive) -> None:
    async with direct(fake) as missive:
        with pytest.raises(InvalidArgumentError) as caught:
            await missive.call(ep.list_tasks, params={"conversation": "x" * 2001})
    assert str(caught.value) == "Invalid `conversation`: is 2001 characters; at most 2000 fit in a request."
    assert fake.requests == []


async def test_the_token_of_the_call_is_scrubbed_when_it_is_a_persons_own() -> None:
    """In oauth mode each call carries the signed-in person's token, not a configured one: that is the token an
    echoing upstream sends back, and the one kept out of the answer."""
    person = "missive_pat-person-token-7f3a"
    fake = FakeMissive(person, report_delay=0.0, echo_token=True)

    async def token_source() -> str:
        return person

    settings = settings_for(fake, api_token=None)
    async with MissiveClient(settings, transport=fake.transport(), token_source=token_source) as missive:
        (message,) = await missive.call(ep.get_messages, ids=[DEMO_MESSAGE_ID])
        with pytest.raises(BadRequestError) as refused:
            await missive.call(ep.list_tasks, params={"limit": 1})
    assert fake.requests[0].headers["authorization"] == f"Bearer {person}"
    assert person not in message.model_dump_json() and person not in str(refused.value)
    assert "Bearer [redacted]" in (message.body or "") and "Bearer [redacted]" in str(refused.value)


async def test_a_token_too_short_to_be_real_takes_no_text_out_of_results() -> None:
    """A test token that is a word of the mail ("invoice") must not blank that word wherever it appears: only a
    string as long as a real token is hidden (`redact.MIN_TOKEN`)."""
    async with MissiveClient(settings_for(FakeMissive(report_delay=0.0)), transport=FakeMissive().transport()) as m:
        (message,) = await m.call(ep.get_messages, ids=[DEMO_MESSAGE_ID])
    word = max(re.findall(r"[A-Za-z]{6,}", message.body or ""), key=len)
    assert len(word) < MIN_TOKEN
    short = FakeMissive(word, report_delay=0.0)
    async with MissiveClient(settings_for(short, api_token=SecretStr(word)), transport=short.transport()) as m:
        (again,) = await m.call(ep.get_messages, ids=[DEMO_MESSAGE_ID])
    assert again.body == message.body and word in (again.body or "")


async def test_a_redirect_to_a_path_holding_the_token_does_not_show_it(fake: FakeMissive) -> None:
    failure = await refusal(fake, Fault(status=302, headers={"Location": f"https://elsewhere.example/{DEMO_TOKEN}/v1"}))
    assert DEMO_TOKEN not in str(failure) and "https://elsewhere.example/[redacted]/v1" in str(failure)


async def test_a_token_straddling_the_cut_of_a_long_reason_leaves_no_part_of_it(fake: FakeMissive) -> None:
    reason = "x" * (500 - len(DEMO_TOKEN) // 2) + DEMO_TOKEN + " after"
    failure = await refusal(fake, Fault(status=400, body=f'{{"error": "{reason}"}}'.encode()))
    assert DEMO_TOKEN[: len(DEMO_TOKEN) // 2] not in str(failure)


async def test_a_persons_own_token_is_kept_out_of_the_log(fake: FakeMissive, caplog: pytest.LogCaptureFixture) -> None:
    from missive_mcp.redact import RedactingFilter

    caplog.set_level(logging.DEBUG)
    caplog.handler.addFilter(RedactingFilter())
    person = "missive_pat-person-token-never-configured"
    fake.tokens[person] = next(iter(fake.workspace.users))

    async def token() -> str:
        return person

    settings = settings_for(fake, api_token=None)
    async with MissiveClient(settings, transport=fake.transport(), token_source=token) as missive:
        await missive.call(ep.get_conversation, ids=[CONVERSATION])
    logging.getLogger("missive_mcp.test").debug("Authorization: Bearer %s", person)
    assert person not in caplog.text and "Bearer [redacted]" in caplog.text


async def test_a_call_after_close_is_refused_and_opens_no_connection(fake: FakeMissive) -> None:
    client = MissiveClient(settings_for(fake), transport=fake.transport())
    await client.call(ep.list_users)  # the API client is made at the first call
    await client.aclose()
    with pytest.raises(RuntimeError, match="client has been closed"):
        await client.call(ep.list_users)
    unused = MissiveClient(settings_for(fake), transport=fake.transport())
    await unused.aclose()  # never used: nothing to close
    with pytest.raises(RuntimeError, match="client has been closed"):
        await unused.call(ep.list_users)
    assert "_http" not in vars(unused) and "_files" not in vars(unused)
    assert [r.path for r in fake.requests] == ["/v1/users"]
