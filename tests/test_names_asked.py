"""Names, asked: a first name that matches several people is put to the person as a choice."""

from __future__ import annotations

from typing import Any

import anyio
import pytest
from mcp import Client
from mcp.client.context import ClientRequestContext
from mcp.types import ElicitRequestParams, ElicitResult

from missive_mcp.sandbox import DEMO_CONVERSATION_ID, DEMO_ORG_ID, FakeMissive
from missive_mcp.sandbox.workspace import User
from missive_mcp.server import create_server

from .conftest import settings_for

MOREAU = "00000000-0000-4000-8000-00000000a001"
NGUYEN = "00000000-0000-4000-8000-00000000a002"
MODES = ["auto", "legacy"]


@pytest.fixture
def alexes(fake: FakeMissive) -> FakeMissive:
    fake.workspace.add(User(MOREAU, "Alex Moreau", "alex.moreau@acme.example", [DEMO_ORG_ID]))
    fake.workspace.add(User(NGUYEN, "Alex Nguyen", "alex.nguyen@acme.example", [DEMO_ORG_ID]))
    return fake


def picking(name: str, asked: list[ElicitRequestParams]) -> Any:
    async def callback(context: ClientRequestContext, params: ElicitRequestParams) -> ElicitResult:
        asked.append(params)
        schema: dict[str, Any] = params.requested_schema  # type: ignore[union-attr]
        if "choice" in schema["properties"]:
            choice = next(option for option in schema["properties"]["choice"]["enum"] if option.startswith(name))
            return ElicitResult(action="accept", content={"choice": choice})
        return ElicitResult(action="accept", content={"confirm": True})

    return callback


def server_for(fake: FakeMissive, **overrides: Any) -> Any:
    return create_server(settings_for(fake, **overrides), transport=fake.transport())


@pytest.mark.anyio
@pytest.mark.parametrize("mode", MODES)
async def test_an_ambiguous_first_name_is_resolved_by_the_persons_choice(alexes: FakeMissive, mode: str) -> None:
    asked: list[ElicitRequestParams] = []
    with anyio.fail_after(20):
        async with Client(server_for(alexes), mode=mode, elicitation_callback=picking("Alex Nguyen", asked)) as mcp:
            result = await mcp.call_tool("list_tasks", {"assignee": "alex"})
    assert not result.is_error, result.content
    assert len(asked) == 1 and "'alex' (assignee) could be several users" in asked[0].message
    options = asked[0].requested_schema["properties"]["choice"]["enum"]  # type: ignore[union-attr]
    assert options == [f"Alex Moreau ({MOREAU})", f"Alex Nguyen ({NGUYEN})"]
    assert alexes.requests[-1].path == "/v1/tasks" and alexes.requests[-1].query.get("assignee") == NGUYEN


@pytest.mark.anyio
async def test_without_a_way_to_ask_the_refusal_lists_the_candidates_with_ids(alexes: FakeMissive) -> None:
    async with Client(server_for(alexes)) as mcp:
        result = await mcp.call_tool("list_tasks", {"assignee": "Alex"})
        unknown = await mcp.call_tool("list_tasks", {"assignee": "Alec Moro"})
    text = result.content[0].text  # type: ignore[union-attr]
    assert result.is_error and "'Alex' names 2 users" in text and MOREAU in text and NGUYEN in text
    hint = unknown.content[0].text  # type: ignore[union-attr]
    assert "no user is named 'Alec Moro'. Closest: Alex Moreau (" + MOREAU + ")" in hint
    assert hint.count("(") <= 5 + 1  # at most five candidates (and the tool's own parenthesis)
    assert not any(r.path == "/v1/tasks" for r in alexes.requests)


@pytest.mark.anyio
async def test_a_first_name_that_matches_one_person_is_that_person(alexes: FakeMissive) -> None:
    del alexes.workspace.users[NGUYEN]
    async with Client(server_for(alexes)) as mcp:
        result = await mcp.call_tool("list_tasks", {"assignee": "Alex"})
    assert not result.is_error and alexes.requests[-1].query.get("assignee") == MOREAU


@pytest.mark.anyio
async def test_a_name_then_a_yes_across_rounds_sends_once_to_the_chosen_person(alexes: FakeMissive) -> None:
    """2026-07-28: two questions in one call (which Alex, then whether to send); the first answer is kept in
    the sealed request state while the second is asked."""
    asked: list[ElicitRequestParams] = []
    arguments = {
        "conversation": DEMO_CONVERSATION_ID,
        "to_fields": [{"address": "ana@example.com"}],
        "body": "Assigned to you.",
        "organization": DEMO_ORG_ID,
        "add_assignees": ["Alex"],
        "send": True,
    }
    with anyio.fail_after(20):
        async with Client(
            server_for(alexes, allow_send=True), elicitation_callback=picking("Alex Moreau", asked)
        ) as mcp:
            result = await mcp.call_tool("create_draft", arguments)
    assert not result.is_error, result.content
    assert [("choice" in p.requested_schema["properties"]) for p in asked] == [True, False]  # type: ignore[union-attr]
    posts = [r for r in alexes.requests if r.method == "POST" and r.path == "/v1/drafts"]
    assert len(posts) == 1 and posts[0].body["drafts"]["add_assignees"] == [MOREAU]
