"""Bounded answers (budget.py): every result within MISSIVE_MAX_RESULT_BYTES, cut at an item boundary, saying how
to read the rest; and the rest read with what it says."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from mcp import Client
from mcp.types import CallToolResult, TextContent, TextResourceContents
from pydantic import ValidationError

from missive_mcp.budget import fit, fit_result, size
from missive_mcp.sandbox import FakeMissive, seed_bulk
from missive_mcp.sandbox.workspace import ConversationFilter
from missive_mcp.server import create_server
from missive_mcp.settings import Settings
from missive_mcp.text import FENCE_CLOSE, FENCE_OPEN

from .conftest import call, settings_for

pytestmark = pytest.mark.anyio

WORDS = [
    "the",
    "parcel",
    "left",
    "our",
    "warehouse",
    "on",
    "monday",
    "and",
    "the",
    "courier",
    "says",
    "it",
    "will",
    "arrive",
    "before",
    "the",
    "weekend",
]


def long_thread(fake: FakeMissive, messages: int = 60, chars: int = 1800) -> tuple[str, list[str]]:
    """A conversation of `messages` distinct messages of about `chars` characters each; its id and its message
    ids, oldest first."""
    (conversation,) = seed_bulk(fake.workspace, 1, messages=messages)
    for index, message in enumerate(conversation.messages):
        text = " ".join(WORDS[(index + n) % len(WORDS)] for n in range(chars // 5))
        message.body = f"<p>Message {index}: {text}</p>"
    return conversation.id, [m.id for m in sorted(conversation.messages, key=lambda m: m.delivered_at)]


async def raw(client: Client, tool: str, **arguments: Any) -> tuple[str, dict[str, Any]]:
    """A call that must succeed, checked against the tool's output schema (a cut result must still be valid);
    its text (the compact JSON of its structured content, which `call` checks) and its structured content."""
    data = await call(client, tool, **arguments)
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")), data


async def test_a_sixty_message_thread_is_cut_to_its_newest_entries_and_the_rest_reads_on(
    mcp: Client, fake: FakeMissive
) -> None:
    conversation, ids = long_thread(fake)
    text, thread = await raw(mcp, "read_conversation", conversation_id=conversation, max_items=200)
    assert len(text.encode()) <= 60_000 and size(thread) <= 60_000
    shown = [entry["id"] for entry in thread["entries"]]
    assert 20 < len(shown) < 60 and shown == ids[-len(shown) :]  # the newest, whole, oldest first
    assert thread["older_omitted"] is True
    assert all(entry["body"].startswith("Message ") for entry in thread["entries"])
    until = thread["entries"][0]["at"]
    assert f"list_conversation_messages(conversation_id='{conversation}', until={until})" in thread["truncated"]
    older: list[str] = []
    for _ in range(10):
        page = await call(mcp, "list_conversation_messages", conversation_id=conversation, until=until)
        older.extend(m["id"] for m in page["messages"])
        if not page["has_more"]:
            break
        until = page["next_until"]
    assert set(older) | set(shown) == set(ids)  # nothing the cut left out is out of reach


async def test_the_conversation_resource_is_cut_between_entries_never_inside_a_fence(fake: FakeMissive) -> None:
    conversation, ids = long_thread(fake)
    async with Client(create_server(settings_for(fake), transport=fake.transport())) as mcp:
        result = await mcp.read_resource(f"missive://conversations/{conversation}")
    content = result.contents[0]
    assert isinstance(content, TextResourceContents)
    text = content.text
    assert len(text.encode()) <= 60_000
    assert text.count(FENCE_OPEN) == text.count(FENCE_CLOSE) > 0
    # Each fence opens after an entry's heading and closes before the next one: none is cut.
    assert re.fullmatch(rf"(?s)# .*?(\n\n## [^\n]+\n{re.escape(FENCE_OPEN)}\n.*?\n{re.escape(FENCE_CLOSE)})+\n", text)
    assert "oldest of 50 entries are left out" in text and ids[-1] in text and ids[0] not in text


async def test_a_listing_over_the_limit_moves_its_cursor_back_so_paging_skips_nothing(fake: FakeMissive) -> None:
    seed_bulk(fake.workspace, 40, messages=1)
    async with Client(create_server(settings_for(fake, max_result_bytes=20_000), transport=fake.transport())) as mcp:
        seen: list[str] = []
        cut = 0
        until = None
        for _ in range(60):
            arguments: dict[str, Any] = {"inbox": True, "limit": 50, "detail": "all"}
            text, page = await raw(mcp, "list_conversations", **arguments, **({"until": until} if until else {}))
            assert len(text.encode()) <= 20_000
            cut += "truncated" in page
            seen.extend(c["id"] for c in page["conversations"])
            if not page["has_more"]:
                break
            until = page["next_until"]
    listed = fake.workspace.find_conversations(ConversationFilter(boxes=frozenset({"inbox"})))
    assert cut > 0 and seen == [c.id for c in listed]  # in order, none repeated, none skipped


async def test_messages_left_out_are_named_by_id_and_one_huge_body_is_cut_with_a_marker(fake: FakeMissive) -> None:
    conversation, ids = long_thread(fake, messages=12, chars=3000)
    async with Client(create_server(settings_for(fake, max_result_bytes=10_000), transport=fake.transport())) as mcp:
        text, got = await raw(mcp, "get_messages", message_ids=ids)
        assert len(text.encode()) <= 10_000
        kept = [m["id"] for m in got["messages"]]
        assert kept == ids[: len(kept)] and len(kept) < len(ids)
        assert all(left in got["truncated"] for left in ids[len(kept) :])
        fake.workspace.conversations[conversation].messages[0].body = "<p>" + "word " * 40_000 + "</p>"
        first = fake.workspace.conversations[conversation].messages[0].id
        text, one = await raw(mcp, "get_messages", message_ids=[first], max_body_chars=0)
    assert len(text.encode()) <= 10_000
    assert one["messages"][0]["body"].startswith("word word")
    assert "more characters. The rest is past this server's answer limit (MISSIVE_MAX_RESULT_BYTES)." in text


def test_what_cannot_be_cut_small_enough_is_refused_rather_than_sent() -> None:
    many = {"ids": [{"id": str(n)} for n in range(2000)]}
    assert fit(many, 4000, {}) is not None  # a list is cut down
    flat = {f"field{n}": n for n in range(2000)}
    assert fit(flat, 4000, {}) is None


def test_the_limit_is_a_validated_setting() -> None:
    assert Settings().max_result_bytes == 60_000
    assert Settings.model_validate({"max_result_bytes": "20000"}).max_result_bytes == 20_000
    for bad in ("12", "lots", "60000.5"):
        with pytest.raises(ValidationError, match="from 4000 to 10000000"):
            Settings.model_validate({"max_result_bytes": bad})


def test_an_answer_within_the_limit_is_passed_through_untouched() -> None:
    data = {"conversations": [{"id": "c1", "last_activity_at": 5}], "has_more": False}
    assert fit(data, 4000, {}, "until") is data
    assert json.loads(json.dumps(data)) == data


def test_an_offset_page_over_the_limit_moves_its_offset_back_to_the_first_left_out() -> None:
    page = {"contacts": [{"id": f"c{n}", "notes": "x" * 300} for n in range(40)], "has_more": False}
    cut = fit(page, 4000, {"offset": 100}, "offset")
    assert cut is not None and size(cut) <= 4000
    kept = len(cut["contacts"])
    assert cut["has_more"] is True and cut["next_offset"] == 100 + kept
    assert f"offset={100 + kept}" in cut["truncated"]


def test_a_result_that_cannot_fit_becomes_an_error_that_says_what_to_ask_instead() -> None:
    flat = {f"field{n}": n for n in range(2000)}
    text = json.dumps(flat, separators=(",", ":"))
    result = fit_result(
        {"content": [{"type": "text", "text": text}], "structuredContent": flat}, 4000, {}, {"properties": {}}
    )
    assert isinstance(result, CallToolResult) and result.is_error
    block = result.content[0]
    assert isinstance(block, TextContent) and "MISSIVE_MAX_RESULT_BYTES=4000" in block.text
    assert "Ask for less at a time" in block.text
