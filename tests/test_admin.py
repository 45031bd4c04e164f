"""Shared labels and teams (tools/admin.py): the exact request Missive receives and the result the agent gets."""

from __future__ import annotations

import pytest
from mcp import Client

from missive_mcp.sandbox import DEMO_LABEL_IDS, DEMO_ORG_ID, DEMO_TEAM_ID, DEMO_USER_ID, FakeMissive
from missive_mcp.sandbox.seed import seed_id

from .conftest import call, fail, sent

pytestmark = pytest.mark.anyio

BUG = DEMO_LABEL_IDS["Bug"]
TIER1_MEMBERS = [DEMO_USER_ID, seed_id("user", "jonas"), seed_id("user", "priya")]


async def test_create_shared_label_sends_a_list_envelope(agent: Client, still: FakeMissive) -> None:
    result = await call(agent, "create_shared_label", name="Escalated", organization=DEMO_ORG_ID, color="#ff0000")
    assert sent(still) == (
        "POST",
        "/v1/shared_labels",
        {"shared_labels": [{"name": "Escalated", "organization": DEMO_ORG_ID, "color": "#ff0000"}]},
    )
    assert result == {
        "shared_label": {
            "id": result["shared_label"]["id"],
            "name": "Escalated",
            "organization": DEMO_ORG_ID,
            "name_with_parent_names": "Escalated",
            "color": "#ff0000",
            "visibility": "organization",
        }
    }


async def test_update_shared_label_sends_each_id_and_never_the_organization(agent: Client, still: FakeMissive) -> None:
    result = await call(agent, "update_shared_label", label_ids=[BUG], color="#00ff00")
    assert sent(still) == ("PATCH", f"/v1/shared_labels/{BUG}", {"shared_labels": [{"id": BUG, "color": "#00ff00"}]})
    assert result == {
        "shared_labels": [
            {
                "id": BUG,
                "name": "Bug",
                "organization": DEMO_ORG_ID,
                "name_with_parent_names": "Bug",
                "color": "#00ff00",
                "visibility": "organization",
            }
        ]
    }


@pytest.mark.parametrize(
    ("tool", "arguments", "error"),
    [
        (
            "update_shared_label",
            {"label_ids": [BUG], "parent": BUG},
            "Invalid `parent`: a label cannot be its own parent.",
        ),
        ("update_shared_label", {"label_ids": [BUG]}, "Invalid `name`: nothing to change: pass at least one field."),
        (
            "create_team",
            {"name": "n", "organization": DEMO_ORG_ID, "emoji": "moon"},
            "Invalid `emoji`: 'moon' is not a shortcode such as :dart:.",
        ),
        ("update_team", {"team_ids": [DEMO_TEAM_ID]}, "Invalid `name`: nothing to change: pass at least one field."),
    ],
)
async def test_admin_tools_refuse_before_sending(
    agent: Client, still: FakeMissive, tool: str, arguments: dict[str, object], error: str
) -> None:
    assert await fail(agent, tool, **arguments) == f"Error executing tool {tool}: {error}"
    assert still.requests == []


async def test_create_team_sends_a_list_envelope(agent: Client, still: FakeMissive) -> None:
    result = await call(
        agent,
        "create_team",
        name="Night shift",
        organization=DEMO_ORG_ID,
        active_members=[DEMO_USER_ID],
        emoji=":moon:",
    )
    assert sent(still) == (
        "POST",
        "/v1/teams",
        {
            "teams": [
                {
                    "emoji": ":moon:",
                    "name": "Night shift",
                    "organization": DEMO_ORG_ID,
                    "active_members": [DEMO_USER_ID],
                }
            ]
        },
    )
    assert result == {
        "team": {
            "id": result["team"]["id"],
            "name": "Night shift",
            "organization": DEMO_ORG_ID,
            "active_members": [DEMO_USER_ID],
            "observers": [],
        }
    }


async def test_update_team_sends_each_id(agent: Client, still: FakeMissive) -> None:
    result = await call(agent, "update_team", team_ids=[DEMO_TEAM_ID], name="Support EU")
    assert sent(still) == (
        "PATCH",
        f"/v1/teams/{DEMO_TEAM_ID}",
        {"teams": [{"id": DEMO_TEAM_ID, "name": "Support EU"}]},
    )
    assert result == {
        "teams": [
            {
                "id": DEMO_TEAM_ID,
                "name": "Support EU",
                "organization": DEMO_ORG_ID,
                "active_members": TIER1_MEMBERS,
                "observers": [],
            }
        ]
    }
