"""Webhooks (tools/webhooks.py): the exact request Missive receives and the result the agent gets."""

from __future__ import annotations

import pytest
from mcp import Client

from missive_mcp.sandbox import DEMO_USER_ID, FakeMissive

from .conftest import call, fail, sent

pytestmark = pytest.mark.anyio

UNKNOWN = "00000000-0000-4000-8000-000000000000"


async def test_create_webhook_sends_one_enveloped_hook_and_delete_removes_it(agent: Client, still: FakeMissive) -> None:
    result = await call(
        agent, "create_webhook", type="incoming_email", url="https://hooks.example.com/m", from_eq="a@b.example"
    )
    hook_id = result["webhook"]["id"]
    assert sent(still) == (
        "POST",
        "/v1/hooks",
        {"hooks": {"type": "incoming_email", "url": "https://hooks.example.com/m", "from_eq": "a@b.example"}},
    )
    assert result == {
        "webhook": {
            "id": hook_id,
            "type": "incoming_email",
            "url": "https://hooks.example.com/m",
            "from_eq": "a@b.example",
        }
    }
    assert await call(agent, "delete_webhook", webhook_id=hook_id) == {"deleted": True, "id": hook_id}
    assert sent(still) == ("DELETE", f"/v1/hooks/{hook_id}", None)
    assert await fail(agent, "delete_webhook", webhook_id=hook_id) == (
        f"Error executing tool delete_webhook: Webhook '{hook_id}' was not found, or the token's owner cannot see "
        "it. Webhook ids come from create_webhook (Missive has no way to list them)."
    )


async def test_a_comment_hook_takes_its_own_filters(agent: Client, still: FakeMissive) -> None:
    result = await call(
        agent,
        "create_webhook",
        type="new_comment",
        url="https://hooks.example.com/c",
        mention=DEMO_USER_ID,
        is_task=True,
    )
    assert sent(still)[2] == {
        "hooks": {"type": "new_comment", "url": "https://hooks.example.com/c", "is_task": True, "mention": DEMO_USER_ID}
    }
    assert result["webhook"]["type"] == "new_comment"


@pytest.mark.parametrize(
    ("arguments", "error"),
    [
        (
            {"type": "new_comment", "from_eq": "a@b.example"},
            "Error executing tool create_webhook: Invalid `from_eq`: only applies to type incoming_email.",
        ),
        (
            {"type": "incoming_sms_message", "subject_contains": "x"},
            "Error executing tool create_webhook: Invalid `subject_contains`: only applies to type incoming_email.",
        ),
        (
            {"type": "incoming_email", "mention": DEMO_USER_ID},
            "Error executing tool create_webhook: Invalid `mention`: only applies to type new_comment.",
        ),
    ],
)
async def test_a_filter_of_another_hook_type_is_refused_before_sending(
    agent: Client, still: FakeMissive, arguments: dict[str, object], error: str
) -> None:
    assert await fail(agent, "create_webhook", url="https://hooks.example.com/x", **arguments) == error
    assert still.requests == []


async def test_a_plain_http_url_is_refused_naming_the_argument(agent: Client, still: FakeMissive) -> None:
    text = await fail(agent, "create_webhook", type="incoming_email", url="http://hooks.example.com/x")
    assert text.startswith("Invalid arguments for create_webhook, so nothing was sent: `url`: ")
    assert "\n" not in text and still.requests == []
