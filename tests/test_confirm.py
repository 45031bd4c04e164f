"""A person's yes before mail leaves (MISSIVE_CONFIRM), through real SDK clients in both protocol eras."""

from __future__ import annotations

import base64
import itertools
import os
import sys
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
import httpx2
import pytest
from mcp import Client, MCPError, StdioServerParameters
from mcp.client.context import ClientRequestContext
from mcp.client.streamable_http import streamable_http_client
from mcp.types import ElicitRequestParams, ElicitResult

from missive_mcp.sandbox import DEMO_CONVERSATION_ID, DEMO_DRAFT_ID, DEMO_TOKEN, FakeMissive
from missive_mcp.server import create_server

from .conftest import settings_for, structured
from .test_http import AUTH, serving
from .test_transports import ROOT

MODES = ["auto", "legacy"]
"""auto: 2026-07-28 (the question rides an input_required result); legacy: the handshake (elicitation/create)."""

DRAFT = {
    "to_fields": [{"address": "ana@example.com", "name": "Ana"}],
    "cc_fields": [{"address": "boss@example.com"}],
    "subject": "Your invoice",
    "body": "<p>Hello Ana,</p><p>here is the <b>invoice</b>.</p>",
    "send": True,
}

Answerer = Callable[[ClientRequestContext, ElicitRequestParams], Awaitable[ElicitResult]]


def answering(action: str, asked: list[str], *, after: float = 0.0, content: Any = None) -> Answerer:
    async def callback(context: ClientRequestContext, params: ElicitRequestParams) -> ElicitResult:
        asked.append(params.message)
        if after:
            await anyio.sleep(after)
        return ElicitResult(
            action=action,
            content=content if content is not None else ({"confirm": True} if action == "accept" else None),
        )  # type: ignore[arg-type]

    return callback


def sends(fake: FakeMissive) -> int:
    return sum(1 for r in fake.requests if r.method == "POST" and r.path == "/v1/drafts")


def server_for(fake: FakeMissive, **overrides: Any) -> Any:
    return create_server(settings_for(fake, allow_send=True, **overrides), transport=fake.transport())


@pytest.mark.anyio
@pytest.mark.parametrize("mode", MODES)
async def test_an_accepted_send_shows_every_detail_and_sends_exactly_once(fake: FakeMissive, mode: str) -> None:
    asked: list[str] = []
    with anyio.fail_after(20):
        async with Client(server_for(fake), mode=mode, elicitation_callback=answering("accept", asked)) as mcp:  # type: ignore[arg-type]
            result = await mcp.call_tool("create_draft", DRAFT)
    assert not result.is_error, result.content
    assert structured(result)["sent"] is True
    assert sends(fake) == 1
    assert len(asked) == 1
    question = asked[0]
    for shown in ("Send this message now?", "To: Ana ana@example.com", "Cc: boss@example.com", "Bcc: (none)"):
        assert shown in question
    assert "Subject: Your invoice" in question and "Hello Ana,\n\nhere is the invoice." in question


@pytest.mark.anyio
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("action", ["decline", "cancel"])
async def test_a_declined_or_cancelled_send_sends_nothing(fake: FakeMissive, mode: str, action: str) -> None:
    asked: list[str] = []
    with anyio.fail_after(20):
        async with Client(server_for(fake), mode=mode, elicitation_callback=answering(action, asked)) as mcp:  # type: ignore[arg-type]
            result = await mcp.call_tool(
                "reply_to_conversation", {"conversation_id": DEMO_CONVERSATION_ID, "body": "Yes.", "send": True}
            )
    assert result.is_error
    text = result.content[0].text  # type: ignore[union-attr]
    assert ("declined" if action == "decline" else "cancelled") in text and "nothing was sent" in text
    assert sends(fake) == 0 and len(asked) == 1


@pytest.mark.anyio
async def test_an_accept_without_the_box_ticked_is_no(fake: FakeMissive) -> None:
    asked: list[str] = []
    callback = answering("accept", asked, content={"confirm": False})
    async with Client(server_for(fake), elicitation_callback=callback) as mcp:  # type: ignore[arg-type]
        result = await mcp.call_tool("create_draft", DRAFT)
    assert result.is_error and sends(fake) == 0


@pytest.mark.anyio
async def test_an_unanswered_question_sends_nothing_within_the_deadline(fake: FakeMissive) -> None:
    """Handshake era: the server stops waiting at the call's deadline; the client never answers."""
    asked: list[str] = []

    async def never(context: ClientRequestContext, params: ElicitRequestParams) -> ElicitResult:
        asked.append(params.message)
        await anyio.sleep_forever()
        raise AssertionError

    with anyio.fail_after(10):  # the deadline is 0.5 s: 20x headroom
        async with Client(server_for(fake, deadline=0.5), mode="legacy", elicitation_callback=never) as mcp:  # type: ignore[arg-type]
            result = await mcp.call_tool("create_draft", DRAFT)
    assert result.is_error
    assert "No answer came within the call's 0.5 s deadline" in result.content[0].text  # type: ignore[union-attr]
    assert sends(fake) == 0 and len(asked) == 1


@pytest.mark.anyio
async def test_a_yes_after_the_deadline_sends_nothing(fake: FakeMissive) -> None:
    """2026-07-28: the client holds the question; its yes comes back after the deadline and does not count."""
    asked: list[str] = []
    late = answering("accept", asked, after=0.8)
    with anyio.fail_after(10):
        async with Client(server_for(fake, deadline=0.5), elicitation_callback=late) as mcp:  # type: ignore[arg-type]
            result = await mcp.call_tool("create_draft", DRAFT)
    assert result.is_error
    assert "a later yes does not count" in result.content[0].text  # type: ignore[union-attr]
    assert sends(fake) == 0 and len(asked) == 1


@pytest.mark.anyio
@pytest.mark.parametrize("mode", MODES)
async def test_confirm_required_refuses_a_client_that_cannot_ask(fake: FakeMissive, mode: str) -> None:
    async with Client(server_for(fake, confirm_required=True), mode=mode) as mcp:
        result = await mcp.call_tool("create_draft", DRAFT)
    assert result.is_error
    assert "MISSIVE_CONFIRM_REQUIRED=true" in result.content[0].text  # type: ignore[union-attr]
    assert sends(fake) == 0


@pytest.mark.anyio
async def test_a_client_that_cannot_ask_sends_as_the_other_settings_allow(fake: FakeMissive) -> None:
    async with Client(server_for(fake)) as mcp:
        result = await mcp.call_tool("create_draft", DRAFT)
    assert not result.is_error and sends(fake) == 1


@pytest.mark.anyio
async def test_a_plain_draft_asks_nothing_and_none_turns_asking_off(fake: FakeMissive) -> None:
    asked: list[str] = []
    async with Client(server_for(fake), elicitation_callback=answering("decline", asked)) as mcp:  # type: ignore[arg-type]
        draft = await mcp.call_tool("create_draft", {k: v for k, v in DRAFT.items() if k != "send"})
    async with Client(server_for(fake, confirm="none"), elicitation_callback=answering("decline", asked)) as mcp:  # type: ignore[arg-type]
        sent = await mcp.call_tool("create_draft", DRAFT)
    assert not draft.is_error and not sent.is_error and asked == []


@pytest.mark.anyio
@pytest.mark.parametrize("mode", MODES)
async def test_a_declined_delete_deletes_nothing(fake: FakeMissive, mode: str) -> None:
    asked: list[str] = []
    server = server_for(fake, confirm="send,delete")
    async with Client(server, mode=mode, elicitation_callback=answering("decline", asked)) as mcp:  # type: ignore[arg-type]
        result = await mcp.call_tool("delete_draft", {"draft_id": DEMO_DRAFT_ID})
    assert result.is_error
    assert asked == [f"Delete the draft {DEMO_DRAFT_ID}? This cannot be undone."]
    assert not any(r.method == "DELETE" for r in fake.requests)


@pytest.mark.anyio
async def test_stdio_asks_in_both_eras(fake: FakeMissive) -> None:
    with fake.serve() as base_url:
        env = {
            **os.environ,
            "MISSIVE_API_TOKEN": DEMO_TOKEN,
            "MISSIVE_API_BASE_URL": base_url,
            "MISSIVE_ALLOW_SEND": "true",
        }
        params = StdioServerParameters(command=sys.executable, args=["-m", "missive_mcp"], env=env, cwd=str(ROOT))
        for mode, action in (("auto", "decline"), ("legacy", "accept")):
            asked: list[str] = []
            with anyio.fail_after(30):
                async with Client(params, mode=mode, elicitation_callback=answering(action, asked)) as mcp:  # type: ignore[arg-type]
                    result = await mcp.call_tool("create_draft", DRAFT)
            assert result.is_error == (action == "decline") and len(asked) == 1
    assert sends(fake) == 1


class Alternate(httpx2.AsyncBaseTransport):
    """Each request to the next of the origins, in turn: the retried call lands on another replica."""

    def __init__(self, origins: list[str]) -> None:
        self.next = itertools.cycle(origins)
        self.inner = httpx2.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        request.url = httpx2.URL(next(self.next) + "/mcp")
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


@pytest.mark.anyio
async def test_over_http_a_2026_client_is_asked_and_its_answer_may_land_on_another_replica(fake: FakeMissive) -> None:
    """Two servers sharing MISSIVE_MCP_SECRET_KEY: the question from one, the retried call (with the sealed
    state) answered by the other. With different keys, the other refuses the state and nothing is sent."""
    keys = [base64.urlsafe_b64encode(bytes([n]) * 32).decode() for n in b"kkj"]
    outcomes: list[bool] = []
    for second in keys[1:]:
        asked: list[str] = []
        with (
            serving(fake, secret_key=keys[0], allow_send=True) as one,
            serving(fake, secret_key=second, allow_send=True) as two,
        ):
            with anyio.fail_after(20):
                async with (
                    httpx2.AsyncClient(headers=AUTH, timeout=10, transport=Alternate([one, two])) as http,
                    Client(
                        streamable_http_client(f"{one}/mcp", http_client=http),  # type: ignore[arg-type]
                        elicitation_callback=answering("accept", asked),  # type: ignore[arg-type]
                    ) as mcp,
                ):
                    try:
                        result = await mcp.call_tool("create_draft", DRAFT)
                        outcomes.append(not result.is_error)
                    except MCPError as refused:
                        assert "requestState" in str(refused)
                        outcomes.append(False)
        assert len(asked) == 1
    assert outcomes == [True, False]
    assert sends(fake) == 1


@pytest.mark.anyio
@pytest.mark.parametrize("required", [False, True])
async def test_a_handshake_client_over_stateless_http_counts_as_one_that_cannot_be_asked(
    fake: FakeMissive, required: bool
) -> None:
    """The SDK drops such a client's capabilities and cannot send it a request: no question is sent; the send
    goes ahead, or with MISSIVE_CONFIRM_REQUIRED is refused naming the setting."""
    asked: list[str] = []
    with serving(fake, allow_send=True, confirm_required=required) as url:
        async with (
            httpx2.AsyncClient(headers=AUTH, timeout=30) as http,
            Client(
                streamable_http_client(f"{url}/mcp", http_client=http),  # type: ignore[arg-type]
                mode="legacy",
                elicitation_callback=answering("decline", asked),  # type: ignore[arg-type]
            ) as mcp,
        ):
            result = await mcp.call_tool("create_draft", DRAFT)
    assert asked == []
    assert result.is_error == required and sends(fake) == (0 if required else 1)
    if required:
        assert "MISSIVE_CONFIRM_REQUIRED=true" in result.content[0].text  # type: ignore[union-attr]


@pytest.mark.anyio
async def test_a_yes_holds_only_for_the_message_it_was_given_for(fake: FakeMissive) -> None:
    """2026-07-28: the client retries the call with the answer. A retry whose message changed past what the
    question showed (the end of a long body) carries state bound to the first call's arguments: it is refused
    and nothing is sent."""
    from mcp.types import InputRequiredResult

    long = {**DRAFT, "body": "Hello Ana, " + "x" * 600 + " the invoice is attached."}
    changed = {**long, "body": "Hello Ana, " + "x" * 600 + " wire the money to another account."}
    yes = {"confirm": ElicitResult(action="accept", content={"confirm": True})}
    with anyio.fail_after(20):
        async with Client(server_for(fake), elicitation_callback=answering("accept", [])) as mcp:  # type: ignore[arg-type]
            first = await mcp.session.call_tool("create_draft", long, allow_input_required=True)
            assert isinstance(first, InputRequiredResult) and first.request_state
            with pytest.raises(MCPError, match="requestState"):
                await mcp.call_tool("create_draft", changed, input_responses=yes, request_state=first.request_state)  # type: ignore[arg-type]
    assert sends(fake) == 0
