"""Canned responses (tools/responses.py): the exact request Missive receives and the result the agent gets."""

from __future__ import annotations

import pytest
from mcp import Client

from missive_mcp.sandbox import (
    DEMO_BILLING_TEAM_ID,
    DEMO_LABEL_IDS,
    DEMO_ORG_ID,
    DEMO_RESPONSE_ID,
    DEMO_USER_ID,
    FakeMissive,
)

from .conftest import NOW, call, fail, sent

pytestmark = pytest.mark.anyio

REFUND_BODY = (
    "<div>Hi {{contact.first_name}},</div><div>We've issued a refund of {{amount}}. It usually takes 5-10 business "
    "days to reach your account.</div>"
)
REFUND = {
    "id": DEMO_RESPONSE_ID,
    "title": "Refund confirmation",
    "subject": "Your refund is on its way",
    "body": REFUND_BODY,
    "organization": DEMO_ORG_ID,
    "share_with_team": DEMO_BILLING_TEAM_ID,
    "shared_labels": [{"id": DEMO_LABEL_IDS["Billing"], "name": "Billing"}],
    "to_fields": [],
    "cc_fields": [],
    "bcc_fields": [],
    "attachments": [],
    "modified_at": 1793700000,
}


async def test_list_responses_pages_by_offset(agent: Client, still: FakeMissive) -> None:
    page = await call(agent, "list_responses", organization=DEMO_ORG_ID, limit=1)
    assert sent(still)[:2] == ("GET", "/v1/responses")
    assert still.requests[-1].query == {"organization": DEMO_ORG_ID, "limit": "1", "offset": "0"}
    assert page == {"responses": [REFUND], "has_more": True, "next_offset": 1}


async def test_get_response_unwraps_the_list_of_one(agent: Client, still: FakeMissive) -> None:
    assert await call(agent, "get_response", response_id=DEMO_RESPONSE_ID) == {"response": REFUND}
    assert sent(still) == ("GET", f"/v1/responses/{DEMO_RESPONSE_ID}", None)


async def test_create_response_sends_a_list_envelope(agent: Client, still: FakeMissive) -> None:
    result = await call(
        agent,
        "create_response",
        title="Thanks",
        body="Thank you!",
        organization=DEMO_ORG_ID,
        subject="Re",
        to_fields=[{"address": "dana.scully@globex.example", "name": "Dana Scully"}],
    )
    assert sent(still) == (
        "POST",
        "/v1/responses",
        {
            "responses": [
                {
                    "title": "Thanks",
                    "body": "Thank you!",
                    "organization": DEMO_ORG_ID,
                    "subject": "Re",
                    "to_fields": [{"address": "dana.scully@globex.example", "name": "Dana Scully"}],
                }
            ]
        },
    )
    assert result == {
        "response": {
            "id": result["response"]["id"],
            "title": "Thanks",
            "subject": "Re",
            "body": "Thank you!",
            "organization": DEMO_ORG_ID,
            "to_fields": [{"address": "dana.scully@globex.example", "name": "Dana Scully"}],
            "cc_fields": [],
            "bcc_fields": [],
            "attachments": [],
            "modified_at": NOW,
        }
    }


@pytest.mark.parametrize(
    ("owner", "error"),
    [
        (
            {},
            "Error executing tool create_response: Invalid `organization`: give exactly one of organization (shared) "
            "or user (personal).",
        ),
        (
            {"organization": DEMO_ORG_ID, "user": DEMO_USER_ID},
            "Invalid arguments for create_response, so nothing was sent: `organization` and `user` exclude each "
            "other: give one.",
        ),
    ],
)
async def test_a_response_needs_exactly_one_owner(
    agent: Client, still: FakeMissive, owner: dict[str, str], error: str
) -> None:
    assert await fail(agent, "create_response", title="t", body="b", **owner) == error
    assert still.requests == []


async def test_update_response_sends_each_item_with_its_id(agent: Client, still: FakeMissive) -> None:
    result = await call(agent, "update_response", response_ids=[DEMO_RESPONSE_ID], subject="Thanks again")
    assert sent(still) == (
        "PATCH",
        f"/v1/responses/{DEMO_RESPONSE_ID}",
        {"responses": [{"id": DEMO_RESPONSE_ID, "subject": "Thanks again"}]},
    )
    assert result == {"responses": [REFUND | {"subject": "Thanks again", "modified_at": NOW}]}


async def test_update_response_with_nothing_to_change_sends_nothing(agent: Client, still: FakeMissive) -> None:
    assert await fail(agent, "update_response", response_ids=[DEMO_RESPONSE_ID]) == (
        "Error executing tool update_response: Invalid `title`: nothing to change: pass at least one field."
    )
    assert still.requests == []


async def test_delete_response_deletes_by_id(agent: Client, still: FakeMissive) -> None:
    result = await call(agent, "delete_response", response_ids=[DEMO_RESPONSE_ID])
    assert result == {"deleted": True, "ids": [DEMO_RESPONSE_ID]}
    assert sent(still) == ("DELETE", f"/v1/responses/{DEMO_RESPONSE_ID}", None)
    assert await fail(agent, "get_response", response_id=DEMO_RESPONSE_ID) == (
        f"Error executing tool get_response: Canned response '{DEMO_RESPONSE_ID}' was not found, or the token's "
        "owner cannot see it. Response ids come from list_responses."
    )
