"""Figure 5b: listing 1,000 conversations page by page, against the fake's own response times for the very same
requests."""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass, field
from typing import Any

import httpx2
from harness import Peer, Report, Row, Stat, bare_client, baseline, count, loopback, ours, sec, started
from targets import LISTING_REQUESTS

from missive_mcp.sandbox import FakeMissive, RecordedRequest, seed_bulk
from missive_mcp.tools._common import split_page

PAGE = 50
"""Conversations per page: Missive's maximum."""


async def list_ours(peer: Peer, wanted: int) -> int:
    seen: set[str] = set()
    until: int | None = None
    while len(seen) < wanted:
        args: dict[str, Any] = {"inbox": True, "limit": PAGE, "max_results": 200}
        if until is not None:
            args["until"] = until
        page = (await peer.ok("list_conversations", **args)).data
        seen.update(c["id"] for c in page["conversations"])
        if not page["has_more"]:
            break
        until = page["next_until"]
    return len(seen)


async def list_baseline(peer: Peer, wanted: int) -> int:
    """Page the baseline's listConversations by until, with the package's own cursor rule (split_page)."""
    seen: set[str] = set()
    until: int | None = None
    while len(seen) < wanted:
        args: dict[str, Any] = {"inbox": True, "limit": PAGE}
        if until is not None:
            args["until"] = until
        page: list[dict[str, Any]] = (await peer.ok("listConversations", **args)).data["conversations"]
        served, until = split_page(page, PAGE, lambda c: c["last_activity_at"])
        seen.update(c["id"] for c in served)
        if until is None:
            break
    return len(seen)


@dataclass
class Listing:
    seconds: list[float] = field(default_factory=list)  # pyright: ignore[reportUnknownVariableType]
    replayed: list[float] = field(default_factory=list)  # pyright: ignore[reportUnknownVariableType]
    """The same requests sent again one by one from a bare httpx2 client: the fake's response time on the wire."""
    app: list[float] = field(default_factory=list)  # pyright: ignore[reportUnknownVariableType]
    """The fake's ASGI app alone, request to last body byte."""
    requests: list[int] = field(default_factory=list)  # pyright: ignore[reportUnknownVariableType]
    listed: list[int] = field(default_factory=list)  # pyright: ignore[reportUnknownVariableType]


async def replay(http: httpx2.AsyncClient, requests: list[RecordedRequest]) -> float:
    total = 0.0
    for request in requests:
        began = time.perf_counter()
        response = await http.request(request.method, request.path.removeprefix("/v1/"), params=request.query_list)
        total += time.perf_counter() - began
        response.raise_for_status()
    return total


async def run(report: Report, wanted: int, runs: int) -> None:
    fake = FakeMissive(enforce_limits=False)  # one request in flight at a time; replays would crowd the minute
    seed_bulk(fake.workspace, wanted, messages=1)
    found = {"ours": Listing(), "base": Listing()}
    with loopback(fake) as (url, timed):
        async with started(ours(url)) as mine, started(baseline(url)) as base, bare_client(url) as http:
            await list_ours(mine, 50)  # warm up
            await list_baseline(base, 50)
            for _ in range(runs):
                for name, peer, lister in (("ours", mine, list_ours), ("base", base, list_baseline)):
                    first = len(fake.requests)
                    timed.seconds.clear()
                    began = time.perf_counter()
                    listed = await lister(peer, wanted)
                    took = time.perf_counter() - began
                    app = sum(timed.seconds)
                    made = fake.requests[first:]
                    into = found[name]
                    into.seconds.append(took)
                    into.app.append(app)
                    into.replayed.append(await replay(http, made))
                    into.requests.append(len(made))
                    into.listed.append(listed)
    mine_l, base_l = found["ours"], found["base"]
    factor = statistics.median(t / r for t, r in zip(mine_l.seconds, mine_l.replayed, strict=True))
    report.add(
        Row(
            f"5. List {wanted:,} conversations (paged, sequential)",
            sec,
            Stat.of(mine_l.seconds),
            Stat.of(base_l.seconds),
            "— (reference: the fake's own response times)",
            verdict=f"(ours {factor:.2f}x the fake's own)",
        )
    )
    replayed = Row("5. Sum of the fake's response times (bare replay)", sec, Stat.of(mine_l.replayed))
    replayed.base = Stat.of(base_l.replayed)
    report.add(replayed)
    report.add(Row("5. … of which the fake's app itself", sec, Stat.of(mine_l.app), Stat.of(base_l.app)))
    most = max(mine_l.requests)
    report.add(
        Row(
            "5. API requests per listing",
            count,
            Stat.of(mine_l.requests),
            Stat.of(base_l.requests),
            target=f"≤ {LISTING_REQUESTS} for 1,000" if wanted == 1000 else "—",
            met=(most <= LISTING_REQUESTS and min(mine_l.listed) == wanted) if wanted == 1000 else None,
        )
    )
    report.notes.append(
        f"Listing: ours pages list_conversations with max_results=200 (its cap) and next_until; the baseline pages "
        f"listConversations limit={PAGE} by until with the same cursor rule (tools._common.split_page); each "
        f"collected {min(mine_l.listed)}/{min(base_l.listed)} distinct "
        "conversations. The fake's response times: the very requests each server made, sent again one at a time "
        "from a bare httpx2 client over the same loopback; the app line is the fake's ASGI app alone (request in, "
        "last body byte out). The gap between the two is the loopback HTTP stack: answers of ~100 KB often stall "
        "about 40 ms on loopback TCP, for the bare client as for the servers."
    )
