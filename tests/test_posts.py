"""Posts (tools/posts.py): internal notes, the exact request Missive receives and the result the agent gets."""

from __future__ import annotations

import pytest
from mcp import Client

from missive_mcp.sandbox import DEMO_CONVERSATION_ID, DEMO_LABEL_IDS, DEMO_ORG_ID, DEMO_USER_ID, FakeMissive
from missive_mcp.sandbox.workspace import Organization

from .conftest import NOW, call, fail, sent

pytestmark = pytest.mark.anyio


async def closed(agent: Client, conversation_id: str) -> bool:
    """Whether the conversation is among the closed ones, as the agent would check."""
    page = await call(agent, "list_conversations", closed=True, limit=50)
    return conversation_id in [c["id"] for c in page["conversations"]]


async def test_create_post_sends_one_enveloped_post_with_its_notification(agent: Client, still: FakeMissive) -> None:
    result = await call(
        agent, "create_post", conversation=DEMO_CONVERSATION_ID, text="Checked with billing", close=True
    )
    post_id = result["post"]["id"]
    assert sent(still) == (
        "POST",
        "/v1/posts",
        {
            "posts": {
                "conversation": DEMO_CONVERSATION_ID,
                "text": "Checked with billing",
                "close": True,
                "reopen": False,  # closing in the same call: the post must not reopen what it closes
                "notification": {"title": "Note", "body": "Checked with billing"},
            }
        },
    )
    assert result == {
        "post": {
            "id": post_id,
            "conversation": DEMO_CONVERSATION_ID,
            "body": "Checked with billing",
            "text": "Checked with billing",
            "username": "Maya Chen",
            "created_at": NOW,
            "attachments": [],
        }
    }
    assert await closed(agent, DEMO_CONVERSATION_ID)


async def test_a_markdown_post_starting_a_conversation_carries_its_state_changes(
    agent: Client, still: FakeMissive
) -> None:
    result = await call(
        agent,
        "create_post",
        markdown="**Escalated** to tier 2",
        conversation_subject="Escalation",
        username="Triage bot",
        organization=DEMO_ORG_ID,
        add_assignees=[DEMO_USER_ID],
    )
    assert sent(still)[2] == {
        "posts": {
            "markdown": "**Escalated** to tier 2",
            "conversation_subject": "Escalation",
            "username": "Triage bot",
            "organization": DEMO_ORG_ID,
            "add_assignees": [DEMO_USER_ID],
            "notification": {"title": "Triage bot", "body": "**Escalated** to tier 2"},
        }
    }
    post = result["post"]
    assert post == {
        "id": post["id"],
        "conversation": post["conversation"],
        "body": "**Escalated** to tier 2",
        "markdown": "**Escalated** to tier 2",
        "username": "Triage bot",
        "created_at": NOW,
        "attachments": [],
    }
    assert post["conversation"] != DEMO_CONVERSATION_ID
    assert post["conversation"] in still.workspace.conversations  # the conversation it started


@pytest.mark.parametrize(
    ("arguments", "error"),
    [
        (
            {"text": "x", "add_assignees": [DEMO_USER_ID]},
            "Invalid arguments for create_post, so nothing was sent: `add_assignees` needs `organization` beside it "
            "(an id from list_organizations).",
        ),
        (
            {
                "text": "x",
                "remove_shared_labels": [DEMO_LABEL_IDS["Bug"]],
                "add_shared_labels": [DEMO_LABEL_IDS["VIP"]],
            },
            "Invalid arguments for create_post, so nothing was sent: `add_shared_labels` needs `organization` beside "
            "it (an id from list_organizations).",
        ),
        (
            {"close": True},
            "Error executing tool create_post: Invalid `text`: a post needs text or markdown (Missive refuses an "
            "empty post).",
        ),
    ],
)
async def test_create_post_refuses_what_missive_would_before_sending(
    agent: Client, still: FakeMissive, arguments: dict[str, object], error: str
) -> None:
    """With two organizations behind the token (with one, it is taken), only the organizations are read."""
    still.workspace.organizations["org-2"] = Organization(id="org-2", name="Globex Partners")
    still.workspace.owner.organization_ids.append("org-2")
    assert await fail(agent, "create_post", conversation=DEMO_CONVERSATION_ID, **arguments) == error
    assert {(r.method, r.path) for r in still.requests} <= {("GET", "/v1/organizations")}


async def test_delete_post_deletes_it_and_keeps_what_it_changed(agent: Client, still: FakeMissive) -> None:
    created = await call(agent, "create_post", conversation=DEMO_CONVERSATION_ID, text="Closing", close=True)
    post_id = created["post"]["id"]
    assert await call(agent, "delete_post", post_id=post_id) == {"deleted": True, "id": post_id}
    assert sent(still) == ("DELETE", f"/v1/posts/{post_id}", None)
    listed = await call(agent, "list_conversation_posts", conversation_id=DEMO_CONVERSATION_ID)
    assert post_id not in [p["id"] for p in listed["posts"]]
    assert await closed(agent, DEMO_CONVERSATION_ID)


async def test_deleting_an_unknown_post_says_where_post_ids_come_from(agent: Client) -> None:
    text = await fail(agent, "delete_post", post_id="00000000-0000-4000-8000-000000000000")
    assert text == (
        "Error executing tool delete_post: Post '00000000-0000-4000-8000-000000000000' was not found, or the "
        "token's owner cannot see it. Post ids come from list_conversation_posts or create_post."
    )
