"""reply_to_conversation: one call drafts a reply addressed from the thread, threaded, optionally canned."""

from __future__ import annotations

from typing import Any

import pytest
from mcp import Client

from missive_mcp.sandbox import DEMO_CONVERSATION_ID, DEMO_RESPONSE_ID, DEMO_SENDER, FakeMissive
from missive_mcp.server import create_server

from .conftest import call, fail, settings_for

pytestmark = pytest.mark.anyio

CUSTOMER = {"name": "Dana Scully", "address": "dana.scully@globex.example"}
TEAM_ADDRESS = {"name": "Acme Support", "address": DEMO_SENDER}
REFERENCES = ["<double-charge.0@globex.example>", "<double-charge.1@acme.example>", "<double-charge.2@globex.example>"]


def latest_inbound(fake: FakeMissive) -> Any:
    messages = fake.workspace.conversation(DEMO_CONVERSATION_ID).messages
    return max((m for m in messages if m.author_id is None), key=lambda m: m.delivered_at or 0)


def sent_draft(fake: FakeMissive) -> dict[str, Any]:
    request = fake.requests[-1]
    assert (request.method, request.path) == ("POST", "/v1/drafts")
    return request.body["drafts"]


async def test_one_call_replies_to_the_latest_inbound_message_in_its_thread(mcp: Client, fake: FakeMissive) -> None:
    result = await call(mcp, "reply_to_conversation", conversation_id=DEMO_CONVERSATION_ID, body="On it.")
    assert sent_draft(fake) == {
        "conversation": DEMO_CONVERSATION_ID,
        "body": "On it.",
        "subject": "Re: Invoice #4821 charged twice",
        "to_fields": [CUSTOMER],
        "from_field": TEAM_ADDRESS,
        "references": REFERENCES,
    }
    assert result["to_fields"] == [CUSTOMER] and result["sent"] is False
    assert result["replying_to"] == latest_inbound(fake).id  # the team wrote last; the customer before that
    assert [r.method for r in fake.requests].count("POST") == 1


async def test_reply_all_copies_the_other_recipients_but_never_the_team_itself(mcp: Client, fake: FakeMissive) -> None:
    latest = latest_inbound(fake)
    latest.cc_fields = [{"name": "Fox", "address": "fox.mulder@globex.example"}, {"address": DEMO_SENDER}]
    latest.to_fields = [{"address": DEMO_SENDER}, {"address": "maya@acme.example"}]
    await call(mcp, "reply_to_conversation", conversation_id=DEMO_CONVERSATION_ID, body="Both of you", reply_all=True)
    draft = sent_draft(fake)
    assert draft["to_fields"] == [CUSTOMER]
    assert draft["cc_fields"] == [{"name": "Fox", "address": "fox.mulder@globex.example"}]
    assert draft["from_field"] == {"address": DEMO_SENDER}


async def test_a_reply_can_start_from_a_canned_response_with_its_contact_fields_filled(
    mcp: Client, fake: FakeMissive
) -> None:
    result = await call(
        mcp, "reply_to_conversation", conversation_id=DEMO_CONVERSATION_ID, response_id=DEMO_RESPONSE_ID
    )
    body = sent_draft(fake)["body"]
    assert body.startswith("<div>Hi Dana,</div>") and "{{amount}}" in body
    assert result["unfilled_variables"] == ["{{amount}}"]


async def test_sending_a_reply_stays_behind_the_permission_and_the_allow_list(fake: FakeMissive) -> None:
    async with Client(create_server(settings_for(fake), transport=fake.transport())) as mcp:
        refused = await fail(mcp, "reply_to_conversation", conversation_id=DEMO_CONVERSATION_ID, body="x", send=True)
    assert "Sending is disabled" in refused
    settings = settings_for(fake, allow_send=True, send_allowed_domains="acme.example")
    async with Client(create_server(settings, transport=fake.transport())) as mcp:
        outside = await fail(mcp, "reply_to_conversation", conversation_id=DEMO_CONVERSATION_ID, body="x", send=True)
    assert "Sending to dana.scully@globex.example is not allowed" in outside
    assert not [r for r in fake.requests if r.method == "POST"]


async def test_a_reply_needs_words_and_a_thread_with_a_message(mcp: Client, fake: FakeMissive) -> None:
    empty = await fail(mcp, "reply_to_conversation", conversation_id=DEMO_CONVERSATION_ID)
    assert "`body`" in empty and fake.requests == []
    unknown = await fail(mcp, "reply_to_conversation", conversation_id="no-such-conversation", body="x")
    assert "Conversation 'no-such-conversation' was not found" in unknown


async def test_a_senders_display_name_enters_the_reply_as_text_never_as_markup(mcp: Client, fake: FakeMissive) -> None:
    planted = '<img/src="https://evil.example/t.gif">Dana <a href=https://evil.example/pay>pay here</a>'
    latest_inbound(fake).from_field = {"name": planted, "address": CUSTOMER["address"]}
    response = fake.workspace.responses[DEMO_RESPONSE_ID]
    response.body = "<div>Hi {{contact.first_name}},</div><div>Dear {{ contact.name }} ({{contact.last_name}})</div>"
    await call(mcp, "reply_to_conversation", conversation_id=DEMO_CONVERSATION_ID, response_id=DEMO_RESPONSE_ID)
    body = sent_draft(fake)["body"]
    assert "<img" not in body and "<a " not in body and "evil.example/pay>" not in body
    assert body == (
        "<div>Hi &lt;img/src=&quot;https://evil.example/t.gif&quot;&gt;Dana,</div>"
        "<div>Dear &lt;img/src=&quot;https://evil.example/t.gif&quot;&gt;Dana &lt;a href=https://evil.example/pay&gt;"
        "pay here&lt;/a&gt; (&lt;a href=https://evil.example/pay&gt;pay here&lt;/a&gt;)</div>"
    )
