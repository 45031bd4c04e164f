"""Drafts and sending: the permission, the envelope, and what the agent is told."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from mcp import Client

from missive_mcp.endpoints import UNCONFIRMED_NOTE
from missive_mcp.sandbox import FakeMissive, Fault
from missive_mcp.server import create_server

from .conftest import call, fail, settings_for

pytestmark = pytest.mark.anyio


async def a_thread(mcp: Client) -> dict[str, Any]:
    page = await call(mcp, "list_conversations", inbox=True, limit=5)
    return page["conversations"][0]


async def sender(mcp: Client, conversation_id: str) -> str:
    """An address the team sends from, as an agent finds it: the from_field of a message the team sent."""
    page = await call(mcp, "list_conversations", all=True, limit=50, max_results=200)
    for conversation in page["conversations"]:
        listed = await call(
            mcp, "list_conversation_messages", conversation_id=conversation["id"], response_format="detailed"
        )
        for message in listed["messages"]:
            if message.get("author"):
                return message["from_field"]["address"]
    raise AssertionError("the demo workspace has no message sent by the team")


async def test_create_draft_wraps_the_draft_in_its_envelope(mcp: Client, fake: FakeMissive) -> None:
    conversation = await a_thread(mcp)
    address = await sender(mcp, conversation["id"])
    result = await call(
        mcp,
        "create_draft",
        conversation=conversation["id"],
        body="<p>Thanks, on it.</p>",
        from_field={"address": address},
        to_fields=[{"address": "client@example.com", "name": "Client"}],
    )
    request = fake.requests[-1]
    assert (request.method, request.path) == ("POST", "/v1/drafts")
    assert request.body == {
        "drafts": {
            "body": "<p>Thanks, on it.</p>",
            "conversation": conversation["id"],
            "from_field": {"address": address},
            "to_fields": [{"name": "Client", "address": "client@example.com"}],
        }
    }
    assert result["draft"]["id"] and result["sent"] is False
    drafts = await call(mcp, "list_conversation_drafts", conversation_id=conversation["id"])
    assert result["draft"]["id"] in {d["id"] for d in drafts["drafts"]}


@pytest.mark.parametrize("how", [{"send": True}, {"send_at": 4_102_444_800}, {"send_at": 1}])
async def test_sending_is_refused_without_permission_and_nothing_is_created(
    fake: FakeMissive, how: dict[str, Any]
) -> None:
    server = create_server(settings_for(fake), transport=fake.transport())
    async with Client(server) as mcp:
        text = await fail(mcp, "create_draft", body="Hi", to_fields=[{"address": "a@example.com"}], **how)
    assert "Sending is disabled" in text and "MISSIVE_ALLOW_SEND=true" in text
    assert fake.requests == []


async def test_a_sent_draft_answers_sent_with_no_draft(mcp: Client, fake: FakeMissive) -> None:
    conversation = await a_thread(mcp)
    address = await sender(mcp, conversation["id"])
    result = await call(
        mcp,
        "create_draft",
        conversation=conversation["id"],
        body="Done.",
        send=True,
        from_field={"address": address},
        to_fields=[{"address": "client@example.com"}],
    )
    assert result == {"sent": True}
    assert fake.requests[-1].body["drafts"]["send"] is True


async def test_recipients_outside_the_allowed_domains_are_refused(fake: FakeMissive) -> None:
    settings = settings_for(fake, allow_send=True, send_allowed_domains=frozenset({"acme.com"}))
    async with Client(create_server(settings, transport=fake.transport())) as mcp:
        text = await fail(
            mcp,
            "create_draft",
            body="Hi",
            send=True,
            to_fields=[{"address": "ok@acme.com"}],
            cc_fields=[{"address": "leak@evil.test"}],
        )
        implicit = await fail(mcp, "create_draft", body="Hi", send=True, conversation="abc")
    assert "leak@evil.test" in text and "acme.com" in text
    assert "to_fields" in implicit
    assert fake.requests == []


async def test_a_draft_needs_a_body(mcp: Client, fake: FakeMissive) -> None:
    text = await fail(mcp, "create_draft", subject="Hello")
    assert "`body`" in text and fake.requests == []


async def test_attachments_are_bounded_before_anything_is_sent(mcp: Client, fake: FakeMissive) -> None:
    small = {"filename": "a.txt", "base64_data": base64.b64encode(b"hello").decode()}
    too_many = await fail(mcp, "create_draft", body="x", attachments=[small] * 26)
    assert "attachments" in too_many
    big = {"filename": "big.bin", "base64_data": base64.b64encode(b"\0" * 8_000_000).decode()}
    too_big = await fail(mcp, "create_draft", body="x", attachments=[big])
    assert "10 MB" in too_big
    broken = await fail(mcp, "create_draft", body="x", attachments=[{"filename": "a", "base64_data": "%%%"}])
    assert "attachments[0].base64_data" in broken
    assert fake.requests == []


async def test_delete_draft_deletes_it(mcp: Client, fake: FakeMissive) -> None:
    conversation = await a_thread(mcp)
    created = await call(mcp, "create_draft", conversation=conversation["id"], body="Draft to drop")
    draft_id = created["draft"]["id"]
    result = await call(mcp, "delete_draft", draft_id=draft_id)
    assert result == {"deleted": True, "id": draft_id}
    assert (fake.requests[-1].method, fake.requests[-1].path) == ("DELETE", f"/v1/drafts/{draft_id}")
    again = await fail(mcp, "delete_draft", draft_id=draft_id)
    assert draft_id in again and "not found" in again


async def test_a_delete_whose_answer_was_lost_is_not_reported_as_not_found(mcp: Client, fake: FakeMissive) -> None:
    conversation = await a_thread(mcp)
    draft_id = (await call(mcp, "create_draft", conversation=conversation["id"], body="Drop me"))["draft"]["id"]
    fake.faults.append(Fault(drop=True, method="DELETE", after_write=True))
    # A rate-limited attempt in between must not make the server forget that the first one may have worked.
    fake.faults.append(Fault(status=429, method="DELETE", headers={"Retry-After": "0"}))
    result = await call(mcp, "delete_draft", draft_id=draft_id)
    assert result == {"deleted": True, "id": draft_id, "note": UNCONFIRMED_NOTE}  # said as inferred, not confirmed
    assert [r.method for r in fake.requests[-3:]] == ["DELETE"] * 3  # deleted, answer lost; 429; then 404


async def test_a_never_existing_id_whose_delete_answer_was_lost_is_not_claimed_as_confirmed(
    mcp: Client, fake: FakeMissive
) -> None:
    fake.faults.append(Fault(drop=True, method="DELETE"))  # nothing deleted, no answer; the retry meets 404
    result = await call(mcp, "delete_post", post_id="6f1c0c9e-0000-4000-8000-00000000beef")
    assert result["note"] == UNCONFIRMED_NOTE and "unless the id was wrong" in result["note"]
