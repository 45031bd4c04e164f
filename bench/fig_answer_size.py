"""Figure 4: answer size. A whole thread in one read_conversation against the baseline's getConversation plus every
page of its three list tools (paged with the package's own cursor rule), and one page of 25 conversations."""

from __future__ import annotations

import statistics
from typing import Any

import httpx2
from harness import Peer, Report, Row, Stat, bare_client, baseline, loopback, nbytes, ours, started
from targets import THREAD_SHARE

from missive_mcp.sandbox import FakeMissive, RecordedRequest
from missive_mcp.tools._common import split_page

PAGE = 10
"""Items per page of the baseline's list tools: Missive's maximum for a conversation's messages."""


async def baseline_thread(peer: Peer, conversation_id: str) -> int:
    """Bytes the baseline sends for one whole thread: the conversation, then every page of its lists, paged the way
    our own tools page (split_page: the items sharing the oldest timestamp wait for the next page)."""
    total = (await peer.ok("getConversation", id=conversation_id)).size
    for tool, key, stamp in (
        ("listConversationMessages", "messages", "delivered_at"),
        ("listConversationComments", "comments", "created_at"),
        ("listConversationPosts", "posts", "created_at"),
    ):
        until: int | None = None
        while True:
            arguments: dict[str, Any] = {"id": conversation_id, "limit": PAGE}
            if until is not None:
                arguments["until"] = until
            reply = await peer.ok(tool, **arguments)
            total += reply.size
            items: list[dict[str, Any]] = reply.data.get(key) or []
            _, until = split_page(items, PAGE, lambda item, field=stamp: item.get(field))
            if until is None:
                break
    return total


async def raw_bytes(http: httpx2.AsyncClient, requests: list[RecordedRequest]) -> int:
    """Bytes of the API's own JSON answers to `requests`, sent again from a bare client."""
    total = 0
    for request in requests:
        response = await http.request(request.method, request.path.removeprefix("/v1/"), params=request.query_list)
        response.raise_for_status()
        total += len(response.content)
    return total


async def run(report: Report) -> None:
    fake = FakeMissive(enforce_limits=False)
    ids = list(fake.workspace.conversations)
    with loopback(fake) as (url, _):
        async with started(ours(url)) as mine, started(baseline(url)) as base:
            ours_sizes, base_sizes, shares, raw_sizes, text_sizes = [], [], [], [], []
            async with bare_client(url) as http:
                for conversation_id in ids:
                    fake.requests.clear()
                    mine_reply = await mine.ok("read_conversation", conversation_id=conversation_id)
                    mine_size = mine_reply.size
                    raw_size = await raw_bytes(http, list(fake.requests))
                    text_sizes.append(len(mine_reply.result["content"][0]["text"].encode()))
                    base_size = await baseline_thread(base, conversation_id)
                    ours_sizes.append(mine_size)
                    base_sizes.append(base_size)
                    shares.append(mine_size / base_size)
                    raw_sizes.append(raw_size)
            page_ours = (await mine.ok("list_conversations", inbox=True, limit=25)).size
            page_base = (await base.ok("listConversations", inbox=True, limit=25)).size
    worst = max(shares)
    report.add(
        Row(
            f"4. One whole thread (each of the {len(ids)} demo threads)",
            nbytes,
            Stat.of(ours_sizes),
            Stat.of(base_sizes),
            "≤ 1/3 of baseline, every thread",
            worst <= THREAD_SHARE,
            f"(worst thread {worst:.2f})",
            ratio=statistics.median(shares),
        )
    )
    report.add(
        Row(
            "4. … the thread's text an agent reads (ours), against the raw API JSON of the same requests",
            nbytes,
            Stat.of(text_sizes),
            Stat.of(raw_sizes),
            ratio=statistics.median(t / r for t, r in zip(text_sizes, raw_sizes, strict=True)),
        )
    )
    report.add(Row("4. One page of 25 conversations", nbytes, Stat.of([page_ours]), Stat.of([page_base])))
    report.notes.append(
        "Thread reads: ours is one read_conversation call (default body budget); the baseline's is getConversation "
        "plus every page of listConversationMessages, listConversationComments and listConversationPosts. The "
        "ratio is the median of the per-thread ratios. Both servers' answers carry the data twice "
        "(a text block, and the same as structured content, as the MCP spec asks); the line below counts the text "
        "block alone, what a model reads, against the API's own JSON for the very requests our read_conversation "
        "made, sent again from a bare client: what an agent would read from a server that passed the JSON through."
    )
