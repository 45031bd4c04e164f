"""Figure 3: per-call overhead. The same conversation read by a bare HTTP request, by our get_conversation and by
the baseline's getConversation, interleaved; the overhead is each call minus its paired bare request."""

from __future__ import annotations

import statistics
import time

from harness import Report, Row, Stat, bare_client, baseline, loopback, ms, ours, started
from targets import OVERHEAD_MS

from missive_mcp.sandbox import DEMO_CONVERSATION_ID, FakeMissive


async def run(report: Report, calls: int) -> None:
    fake = FakeMissive(enforce_limits=False)  # the limits are figure 5's business; here they would only add waits
    with loopback(fake) as (url, _):
        async with (
            started(ours(url, MISSIVE_TOOLSETS="default,history")) as mine,
            started(baseline(url)) as base,
            bare_client(url) as http,
        ):
            path = f"conversations/{DEMO_CONVERSATION_ID}"

            async def bare() -> float:
                began = time.perf_counter()
                response = await http.get(path)
                took = time.perf_counter() - began
                response.raise_for_status()
                return took

            async def ours_call() -> float:
                return (await mine.ok("get_conversation", conversation_id=DEMO_CONVERSATION_ID)).seconds

            async def base_call() -> float:
                return (await base.ok("getConversation", id=DEMO_CONVERSATION_ID)).seconds

            for _ in range(20):  # warm connections and caches
                await bare()
                await ours_call()
                await base_call()
            times: dict[str, list[float]] = {"bare": [], "ours": [], "base": []}
            for i in range(calls):
                # Interleaved, rotating the order, so drift and caching fall on all three alike.
                steps = [("bare", bare), ("ours", ours_call), ("base", base_call)]
                for name, step in steps[i % 3 :] + steps[: i % 3]:
                    times[name].append(await step())
    over_ours = [o - b for o, b in zip(times["ours"], times["bare"], strict=True)]
    over_base = [o - b for o, b in zip(times["base"], times["bare"], strict=True)]
    report.add(Row("3. get_conversation tool call over stdio", ms, Stat.of(times["ours"]), Stat.of(times["base"])))
    report.add(Row("3. Bare httpx2 GET of the same conversation", ms, Stat.of(times["bare"]), Stat.of(times["bare"])))
    median = statistics.median(over_ours)
    report.add(
        Row(
            "3. Per-call overhead (call - bare, paired)",
            ms,
            Stat.of(over_ours),
            Stat.of(over_base),
            f"< {OVERHEAD_MS:.0f} ms at the median",
            median * 1e3 < OVERHEAD_MS,
        )
    )
