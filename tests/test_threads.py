"""Reading what a conversation holds: whole threads in one call, lean text, cursors, batched messages."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from mcp import Client

from missive_mcp.sandbox import (
    DEMO_CONVERSATION_ID,
    DEMO_INJECTION_MESSAGE_ID,
    DEMO_MESSAGE_ID,
    DEMO_PDF_ATTACHMENT_ID,
    FakeMissive,
)

from .conftest import NOW, call, fail, sent, text_of

pytestmark = pytest.mark.anyio

RAW_TAG = re.compile(r"</?(p|div|br|blockquote|span|a|table|tr|td|img|style|script|html|body|font)\b[^>]*>", re.I)


async def busiest(mcp: Client) -> str:
    """The id of the conversation with the most messages in the demo workspace."""
    page = await call(mcp, "list_conversations", all=True, limit=50, max_results=200, detail="all")
    return max(page["conversations"], key=lambda c: c.get("messages_count") or 0)["id"]


async def test_read_conversation_returns_the_whole_thread_in_time_order(mcp: Client, fake: FakeMissive) -> None:
    conversation_id = await busiest(mcp)
    fake.requests.clear()
    thread = await call(mcp, "read_conversation", conversation_id=conversation_id)
    paths = sorted(r.path for r in fake.requests)
    assert paths[:1] == [f"/v1/conversations/{conversation_id}"]
    assert {f"/v1/conversations/{conversation_id}/{kind}" for kind in ("messages", "comments", "posts")} <= set(paths)
    assert thread["conversation"]["id"] == conversation_id
    stamps = [e["at"] for e in thread["entries"]]
    assert stamps == sorted(stamps)
    messages = [e for e in thread["entries"] if e["kind"] == "message"]
    assert len(messages) >= 2 and all(e["body"] for e in messages)


async def test_html_never_reaches_the_agent_as_raw_tags(mcp: Client) -> None:
    page = await call(mcp, "list_conversations", all=True, limit=50, max_results=200)
    for conversation in page["conversations"]:
        thread = await call(mcp, "read_conversation", conversation_id=conversation["id"])
        for entry in thread["entries"]:
            assert not RAW_TAG.search(entry["body"]), (entry["id"], RAW_TAG.search(entry["body"]))


async def test_a_long_body_is_cut_with_a_marker_that_says_how_to_get_the_rest(mcp: Client) -> None:
    conversation_id = await busiest(mcp)
    thread = await call(mcp, "read_conversation", conversation_id=conversation_id, max_body_chars=40)
    cut = [e for e in thread["entries"] if "truncated" in e["body"]]
    assert cut
    assert "get_messages" in cut[0]["body"] and cut[0]["id"] in cut[0]["body"]


async def test_list_conversation_messages_pages_with_next_until(mcp: Client, fake: FakeMissive) -> None:
    conversation_id = await busiest(mcp)
    first = await call(mcp, "list_conversation_messages", conversation_id=conversation_id, limit=2)
    request = fake.requests[-1]
    assert request.path == f"/v1/conversations/{conversation_id}/messages" and request.query["limit"] == "2"
    assert first["has_more"] is True
    second = await call(
        mcp, "list_conversation_messages", conversation_id=conversation_id, limit=2, until=first["next_until"]
    )
    assert fake.requests[-1].query["until"] == str(first["next_until"])
    assert not {m["id"] for m in first["messages"]} & {m["id"] for m in second["messages"]}


async def test_get_messages_reads_several_ids_in_one_request(mcp: Client, fake: FakeMissive) -> None:
    conversation_id = await busiest(mcp)
    listed = await call(mcp, "list_conversation_messages", conversation_id=conversation_id, limit=3)
    ids = [m["id"] for m in listed["messages"][:2]]
    fake.requests.clear()
    got = await call(mcp, "get_messages", message_ids=ids)
    assert [r.path for r in fake.requests] == [f"/v1/messages/{ids[0]},{ids[1]}"]
    assert {m["id"] for m in got["messages"]} == set(ids)


async def test_concise_results_are_a_fraction_of_detailed_ones(mcp: Client) -> None:
    concise = await call(mcp, "list_conversations", all=True, limit=25)
    detailed = await call(mcp, "list_conversations", all=True, limit=25, detail="all")
    assert len(json.dumps(concise)) * 2 < len(json.dumps(detailed))


async def test_comments_drafts_and_posts_each_have_their_list(mcp: Client, fake: FakeMissive) -> None:
    conversation_id = await busiest(mcp)
    for kind in ("comments", "drafts", "posts"):
        page = await call(mcp, f"list_conversation_{kind}", conversation_id=conversation_id)
        assert fake.requests[-1].path == f"/v1/conversations/{conversation_id}/{kind}"
        assert isinstance(page[kind], list) and "has_more" in page


async def test_the_thread_resource_serves_the_same_thread_as_text(mcp: Client) -> None:
    conversation_id = await busiest(mcp)
    result = await mcp.read_resource(f"missive://conversations/{conversation_id}")
    text = text_of(result.contents[0])
    assert f"conversation: {conversation_id}" in text and "<<<third-party content" in text


async def test_an_unknown_thread_is_an_error_naming_the_id(mcp: Client) -> None:
    text = await fail(mcp, "read_conversation", conversation_id="ffffffff-0000-4000-8000-000000000000")
    assert "ffffffff-0000-4000-8000-000000000000" in text


async def test_a_thread_read_says_each_thing_once(mcp: Client, fake: FakeMissive) -> None:
    conversation_id = await busiest(mcp)
    thread = await call(mcp, "read_conversation", conversation_id=conversation_id)
    messages = fake.workspace.conversations[conversation_id].messages
    assert len({(m.subject or "").removeprefix("Re: ") for m in messages}) == 1, "the seed thread keeps one subject"
    assert len(messages) >= 3
    assert all("subject" not in e for e in thread["entries"])  # "Re: <the thread's subject>" says nothing new
    assert "authors" not in thread["conversation"]  # each entry names its author
    assert all(value != [] for value in thread["conversation"].values())
    assert "older_omitted" not in thread


def test_a_new_subject_in_a_thread_is_kept() -> None:
    from missive_mcp.tools.threads import Entry, _drop_repeated_subjects

    subjects = ["Invoice 42", "RE: Invoice 42", "Fwd: Re: invoice 42", "Refund issued", "Re: Refund issued", None]
    entries = [Entry(kind="message", id=str(i), body="x", subject=s) for i, s in enumerate(subjects)]
    _drop_repeated_subjects(entries, "Invoice 42")
    assert [e.subject for e in entries] == [None, None, None, "Refund issued", None, None]


INVISIBLE = re.compile(r"[\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff\U000e0000-\U000e007f]")


def strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for item in value.values() for s in strings(item)]
    if isinstance(value, list):
        return [s for item in value for s in strings(item)]
    return []


async def test_hostile_mail_reaches_the_agent_without_hidden_text_or_invisible_characters(mcp: Client) -> None:
    message = await call(mcp, "get_messages", message_ids=[DEMO_INJECTION_MESSAGE_ID], response_format="detailed")
    conversation_id = message["messages"][0]["conversation"]["id"]
    results = [
        message,
        await call(mcp, "read_conversation", conversation_id=conversation_id),
        await call(mcp, "get_conversation", conversation_id=conversation_id, response_format="detailed"),
        await call(mcp, "list_conversations", all=True, limit=50, detail="all"),
        await call(mcp, "list_conversation_messages", conversation_id=conversation_id, response_format="detailed"),
    ]
    for result in results:
        assert not [s for s in strings(result) if INVISIBLE.search(s)]
        assert "SYSTEM NOTICE TO AI ASSISTANTS" not in json.dumps(result)
    thread = results[1]
    assert thread["conversation"]["latest_message_subject"] == "Action required: account verification"
    body = thread["entries"][0]["body"]
    assert thread["entries"][0]["author"] == "Security Team <security@acme-verify.example>"
    assert "characters of hidden text removed" in body
    assert "(https://acme-verify.example/collect?src=missive)" in body  # the real target of the link shows


async def test_a_cut_thread_keeps_the_subject_of_what_it_shows(mcp: Client, fake: FakeMissive) -> None:
    """Subjects are compared among the entries shown: cut to its last message, a thread whose topic changed
    must not present that message as if it kept the thread's first subject."""
    record = next(
        c for c in fake.workspace.conversations.values() if len(c.messages) >= 3 and not c.comments and not c.posts
    )
    record.subject = "Invoice 42"  # a subject the team gave the conversation
    record.messages[-2].subject, record.messages[-1].subject = "Refund issued", "Re: Refund issued"
    cut = await call(mcp, "read_conversation", conversation_id=record.id, max_items=1)
    assert cut["older_omitted"] is True
    assert [(e["id"], e.get("subject")) for e in cut["entries"]] == [(record.messages[-1].id, "Re: Refund issued")]


async def test_find_message_asks_missive_by_the_bracketed_message_id(agent: Client, still: FakeMissive) -> None:
    result = await call(agent, "find_message", email_message_id="double-charge.0@globex.example")
    assert sent(still) == ("GET", "/v1/messages", None)
    assert still.requests[-1].query == {"email_message_id": "<double-charge.0@globex.example>"}
    invoice = result["messages"][0]["attachments"][0]
    assert invoice["url"].startswith(
        f"http://missive.test/files/{invoice['id']}/invoice-4821.pdf?Expires={NOW + 3600}&"
    )
    assert result == {
        "messages": [
            {
                "id": DEMO_MESSAGE_ID,
                "subject": "Invoice #4821 charged twice",
                "from_field": {"name": "Dana Scully", "address": "dana.scully@globex.example"},
                "to_fields": [{"name": "Acme Support", "address": "support@acme.example"}],
                "cc_fields": [],
                "delivered_at": 1795129800,
                "body": "Hello,\n\nOur card was charged twice for invoice #4821 ($249.00 each) on November 19. Can you "
                "refund one?\n\nDana Scully",
                "attachments": [
                    {
                        "id": DEMO_PDF_ATTACHMENT_ID,
                        "filename": "invoice-4821.pdf",
                        "extension": "pdf",
                        "media_type": "application",
                        "sub_type": "pdf",
                        "size": 676,
                        "url": invoice["url"],
                    }
                ],
                "email_message_id": "<double-charge.0@globex.example>",
                "conversation": {"id": DEMO_CONVERSATION_ID},
            }
        ]
    }


async def test_find_message_without_a_match_is_an_empty_list(agent: Client, still: FakeMissive) -> None:
    assert await call(agent, "find_message", email_message_id="<nobody@nowhere.example>") == {"messages": []}
    assert still.requests[-1].query == {"email_message_id": "<nobody@nowhere.example>"}
