"""Figure 5a: reading threads in bulk at Missive's rate limits (the fake enforces them, time scaled), against the
bound those limits set; the baseline is sent the same reads at once."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import anyio
from harness import Report, Row, Stat, baseline, count, loopback, sec, started
from mcp import Client
from pydantic import SecretStr
from targets import BULK_SLACK

from missive_mcp.limits import RateLimiter
from missive_mcp.sandbox import DEMO_TOKEN, FakeMissive, seed_bulk
from missive_mcp.sandbox.limits import MAX_IN_FLIGHT as IN_FLIGHT
from missive_mcp.sandbox.limits import WINDOWS
from missive_mcp.server import create_server
from missive_mcp.settings import Settings


def limit_bound(requests: int, scale: float) -> float:
    """The earliest the last of `requests` requests can start, counting from the first, under the scaled windows.

    The fake refuses request k while the `limit` requests before it all started within the last `period`
    seconds, so start[k] >= start[k - limit] + period for each (limit, period) window, starting from 0.
    """
    starts: list[float] = []
    for k in range(requests):
        earliest = 0.0
        for limit, period in WINDOWS:
            if k >= limit:
                earliest = max(earliest, starts[k - limit] + period / scale)
        starts.append(earliest)
    return starts[-1] if starts else 0.0


@dataclass
class BulkRun:
    seconds: float
    requests: int
    refused: int
    failed: int
    bound: float


async def bulk_ours(threads: int, scale: float) -> BulkRun:
    fake = FakeMissive(time_scale=scale)
    ids = [c.id for c in seed_bulk(fake.workspace, threads, messages=3)]
    values = {"api_token": SecretStr(DEMO_TOKEN), "base_url": fake.base_url, "log_level": "WARNING"}
    settings = Settings.model_validate(values)
    # Our client's limiter is told the same scale through create_server's `limiter` argument.
    limiter = RateLimiter(max_in_flight=IN_FLIGHT, windows=tuple((n, s / scale) for n, s in WINDOWS))
    server = create_server(settings, transport=fake.transport(), limiter=limiter)
    failed = 0
    async with Client(server) as client:

        async def read(conversation_id: str) -> None:
            nonlocal failed
            result = await client.call_tool("read_conversation", {"conversation_id": conversation_id})
            failed += bool(result.is_error)

        began = time.perf_counter()
        async with anyio.create_task_group() as group:
            for conversation_id in ids:
                group.start_soon(read, conversation_id)
        took = time.perf_counter() - began
    admitted = len(fake.requests) - fake.rate_limited
    return BulkRun(took, admitted, fake.rate_limited, failed, limit_bound(admitted, scale))


LIST_TOOLS = ("listConversationMessages", "listConversationComments", "listConversationPosts")


async def bulk_baseline(threads: int, scale: float) -> BulkRun:
    fake = FakeMissive(time_scale=scale)
    ids = [c.id for c in seed_bulk(fake.workspace, threads, messages=3)]
    failed = 0
    with loopback(fake) as (url, _):
        async with started(baseline(url)) as peer:

            async def call(tool: str, **arguments: Any) -> None:
                nonlocal failed
                reply = await peer.call(tool, **arguments)
                failed += reply.is_error

            began = time.perf_counter()
            async with anyio.create_task_group() as group:
                for conversation_id in ids:  # the same reads, as an agent would burst them at the baseline
                    for tool in ("getConversation", *LIST_TOOLS):
                        group.start_soon(lambda t=tool, c=conversation_id: call(t, id=c))
            took = time.perf_counter() - began
    admitted = len(fake.requests) - fake.rate_limited
    return BulkRun(took, admitted, fake.rate_limited, failed, limit_bound(admitted, scale))


async def run(report: Report, threads: int, scale: float, runs: int) -> None:
    mine = [await bulk_ours(threads, scale) for _ in range(runs)]
    base = [await bulk_baseline(threads, scale) for _ in range(runs)]
    bounds = sorted({round(run.bound, 3) for run in mine})
    clean = all(r.refused == 0 and r.failed == 0 for r in mine)
    if all(run.bound > 0 for run in mine):
        worst = max(run.seconds / run.bound for run in mine)
        met, verdict = worst <= BULK_SLACK and clean, f"(worst {worst:.2f}x bound)"
    else:  # one window's budget covers every request: the limits set no bound to compare with
        met, verdict = clean, "(bound 0: too few requests to meet a window)"
    report.add(
        Row(
            f"5. Read {threads} whole threads at the limits (time)",
            sec,
            Stat.of([r.seconds for r in mine]),
            Stat.of([r.seconds for r in base]),
            f"≤ {BULK_SLACK:.2f}x bound ({', '.join(sec(b) for b in bounds)}), 0 x 429",
            met,
            verdict,
            comparable=all(r.failed == 0 for r in base),
        )
    )
    report.add(
        Row(
            "5. Requests the fake admitted",
            count,
            Stat.of([r.requests for r in mine]),
            Stat.of([r.requests for r in base]),
        )
    )
    report.add(
        Row(
            "5. 429s drawn",
            count,
            Stat.of([r.refused for r in mine]),
            Stat.of([r.refused for r in base]),
            "0",
            all(r.refused == 0 for r in mine),
        )
    )
    report.add(
        Row(
            "5. Tool calls that failed",
            count,
            Stat.of([r.failed for r in mine]),
            Stat.of([r.failed for r in base]),
            "0",
            all(r.failed == 0 for r in mine),
        )
    )
    report.notes.append(
        f"Bulk: the fake enforces {IN_FLIGHT} in flight, "
        + ", ".join(f"{n} per {s / 60:g} min" for n, s in WINDOWS)
        + f" (missive_mcp.sandbox.limits) with time scaled {scale:g}x (a minute lasts "
        f"{60 / scale:g} s); ours reads each thread with one read_conversation ({threads} concurrent calls, "
        f"in-process client, {4 * threads} API requests); the baseline is sent the same {4 * threads} reads "
        "(getConversation + the three list tools per thread) at once over stdio, since it has no limiter."
    )
