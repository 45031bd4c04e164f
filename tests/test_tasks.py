"""Tasks (tools/tasks.py): the exact request Missive receives and the result the agent gets."""

from __future__ import annotations

import pytest
from mcp import Client

from missive_mcp.sandbox import (
    DEMO_CONVERSATION_ID,
    DEMO_ORG_ID,
    DEMO_SUBTASK_ID,
    DEMO_TASK_ID,
    DEMO_TEAM_ID,
    DEMO_USER_ID,
    FakeMissive,
)
from missive_mcp.sandbox.seed import seed_id
from missive_mcp.sandbox.workspace import Organization

from .conftest import NOW, call, fail, sent

pytestmark = pytest.mark.anyio

PRIYA = seed_id("user", "priya")
UNKNOWN = "00000000-0000-4000-8000-000000000000"


async def test_list_tasks_sends_the_filters_and_holds_back_a_tied_boundary(agent: Client, still: FakeMissive) -> None:
    page = await call(agent, "list_tasks", state="todo", limit=2)
    method, path, _ = sent(still)
    assert (method, path, still.requests[-1].query) == (
        "GET",
        "/v1/tasks",
        {"state": "todo", "limit": "2"},
    )
    assert page == {
        "tasks": [
            {
                "id": DEMO_SUBTASK_ID,
                "title": "Confirm the refund reached Globex",
                "state": "todo",
                "type": "task",
                "subtask": True,
                "conversation": DEMO_CONVERSATION_ID,
                "organization": DEMO_ORG_ID,
                "assignees": [DEMO_USER_ID],
                "due_at": 1795780800,
                "created_at": 1795185000,
                "last_activity_at": 1795192200,
            }
        ],
        "has_more": True,
        "next_until": 1794913200,
    }


async def test_list_tasks_maps_due_dates_to_missives_query_names(agent: Client, still: FakeMissive) -> None:
    await call(agent, "list_tasks", due_after=1, due_before=2, team=DEMO_TEAM_ID)
    assert still.requests[-1].query == {
        "team": DEMO_TEAM_ID,
        "due_at_gteq": "1",
        "due_at_lteq": "2",
        "limit": "25",
    }


async def test_get_task_spells_out_people_and_team(agent: Client, still: FakeMissive) -> None:
    result = await call(agent, "get_task", task_id=DEMO_TASK_ID)
    assert sent(still) == ("GET", f"/v1/tasks/{DEMO_TASK_ID}", None)
    assert result == {
        "task": {
            "id": DEMO_TASK_ID,
            "title": "Add the Azure AD attributes to the SSO help article",
            "state": "todo",
            "type": "task",
            "subtask": False,
            "organization": DEMO_ORG_ID,
            "team": {"id": DEMO_TEAM_ID, "name": "Tier 1 Support"},
            "assignees": [{"id": PRIYA, "name": "Priya Raman", "email": "priya@acme.example"}],
            "due_at": 1795626000,
            "created_at": 1794906000,
            "last_activity_at": 1794913200,
        }
    }


async def test_an_unknown_task_says_where_task_ids_come_from(agent: Client) -> None:
    assert await fail(agent, "get_task", task_id=UNKNOWN) == (
        f"Error executing tool get_task: Task '{UNKNOWN}' was not found, or the token's owner cannot see it. "
        "Task ids come from list_tasks or create_task."
    )


async def test_create_task_as_a_subtask_of_a_conversation(agent: Client, still: FakeMissive) -> None:
    result = await call(agent, "create_task", title="Call back", conversation=DEMO_CONVERSATION_ID, due_at=1800000000)
    assert sent(still) == (
        "POST",
        "/v1/tasks",
        {"tasks": {"title": "Call back", "subtask": True, "conversation": DEMO_CONVERSATION_ID, "due_at": 1800000000}},
    )
    assert result == {
        "task": {
            "id": result["task"]["id"],
            "title": "Call back",
            "state": "todo",
            "type": "task",
            "subtask": True,
            "conversation": DEMO_CONVERSATION_ID,
            "due_at": 1800000000,
            "created_at": NOW,
            "last_activity_at": NOW,
        }
    }


async def test_create_a_standalone_task_for_a_team(agent: Client, still: FakeMissive) -> None:
    result = await call(agent, "create_task", title="Standalone", team=DEMO_TEAM_ID, organization=DEMO_ORG_ID)
    assert sent(still)[2] == {"tasks": {"title": "Standalone", "team": DEMO_TEAM_ID, "organization": DEMO_ORG_ID}}
    assert result == {
        "task": {
            "id": result["task"]["id"],
            "title": "Standalone",
            "state": "todo",
            "type": "task",
            "subtask": False,
            "organization": DEMO_ORG_ID,
            "team": DEMO_TEAM_ID,
            "created_at": NOW,
            "last_activity_at": NOW,
        }
    }


@pytest.mark.parametrize(
    ("arguments", "error"),
    [
        (
            {},
            "Error executing tool create_task: Invalid `conversation`: give a conversation (for a subtask), or a team "
            "or assignees (for a standalone task).",
        ),
        (
            {"team": DEMO_TEAM_ID},
            "Invalid arguments for create_task, so nothing was sent: `team` needs `organization` beside it (an id "
            "from list_organizations).",
        ),
        (
            {"assignees": [DEMO_USER_ID]},
            "Invalid arguments for create_task, so nothing was sent: `assignees` needs `organization` beside it (an "
            "id from list_organizations).",
        ),
    ],
)
async def test_create_task_refuses_before_sending(
    agent: Client, still: FakeMissive, arguments: dict[str, object], error: str
) -> None:
    """With two organizations behind the token (with one, it is taken), only the organizations are read."""
    still.workspace.organizations["org-2"] = Organization(id="org-2", name="Globex Partners")
    still.workspace.owner.organization_ids.append("org-2")
    assert await fail(agent, "create_task", title="x", **arguments) == error
    assert {(r.method, r.path) for r in still.requests} <= {("GET", "/v1/organizations")}


async def test_update_task_sends_only_the_changes_without_an_id(agent: Client, still: FakeMissive) -> None:
    result = await call(agent, "update_task", task_id=DEMO_TASK_ID, state="closed")
    assert sent(still) == ("PATCH", f"/v1/tasks/{DEMO_TASK_ID}", {"tasks": {"state": "closed"}})
    assert result == {
        "task": {
            "id": DEMO_TASK_ID,
            "title": "Add the Azure AD attributes to the SSO help article",
            "state": "closed",
            "type": "task",
            "subtask": False,
            "organization": DEMO_ORG_ID,
            "team": DEMO_TEAM_ID,
            "assignees": [PRIYA],
            "due_at": 1795626000,
            "created_at": 1794906000,
            "last_activity_at": NOW,
        }
    }


async def test_update_task_with_nothing_to_change_sends_nothing(agent: Client, still: FakeMissive) -> None:
    assert await fail(agent, "update_task", task_id=DEMO_TASK_ID) == (
        "Error executing tool update_task: Invalid `state`: nothing to change: pass at least one change, such as "
        "state='closed'."
    )
    assert still.requests == []
