"""Figure 1: cold start (spawn to the first tools/list answer) against the one-tool SDK floor, and peak memory,
with the default toolsets and with every toolset on."""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass, field

from harness import Report, Row, Server, Stat, baseline, floor, loopback, mib, ms, ours, spawn
from targets import COLD_START_FACTOR, PEAK_MIB

from missive_mcp.sandbox import FakeMissive


@dataclass
class ColdStart:
    seconds: list[float] = field(default_factory=list)  # pyright: ignore[reportUnknownVariableType]
    peak_kib: list[int] = field(default_factory=list)  # pyright: ignore[reportUnknownVariableType]


async def cold_start_once(server: Server, into: ColdStart | None) -> None:
    began = time.perf_counter()
    async with spawn(server.command, server.env) as peer:
        await peer.handshake()
        reply = await peer.request("tools/list")
        took = reply.received - began
        peak = peer.peak_rss_kib()
    if into is not None:
        into.seconds.append(took)
        into.peak_kib.append(peak)


async def run(report: Report, runs: int) -> None:
    with loopback(FakeMissive()) as (url, _):
        servers = [floor(), ours(url), ours(url, "ours, every toolset", MISSIVE_TOOLSETS="all"), baseline(url)]
        found = {server.name: ColdStart() for server in servers}
        for server in servers:  # warm the bytecode caches
            await cold_start_once(server, None)
        for _ in range(runs):
            for server in servers:  # interleaved, so drift falls on all alike
                await cold_start_once(server, found[server.name])
    mine, every, base, flr = (found[n] for n in ("ours", "ours, every toolset", "baseline", "floor"))
    factor = statistics.median(mine.seconds) / statistics.median(flr.seconds)
    report.add(
        Row(
            "1. Cold start: spawn → first tools/list answer (default toolsets)",
            ms,
            Stat.of(mine.seconds),
            Stat.of(base.seconds),
            f"≤ {COLD_START_FACTOR}x floor",
            factor <= COLD_START_FACTOR,
            f"({factor:.2f}x floor)",
        )
    )
    every_factor = statistics.median(every.seconds) / statistics.median(flr.seconds)
    report.add(
        Row(
            "1. … with every toolset on",
            ms,
            Stat.of(every.seconds),
            target=f"≤ {COLD_START_FACTOR}x floor",
            met=every_factor <= COLD_START_FACTOR,
            verdict=f"({every_factor:.2f}x floor)",
        )
    )
    report.add(Row("1. Floor: one-tool MCPServer, same SDK", ms, Stat.of(flr.seconds)))
    peak = Row("1. Peak memory (VmHWM at first tools/list), default toolsets", mib, Stat.of(mine.peak_kib))
    peak.base = Stat.of(base.peak_kib)
    report.add(peak)
    report.add(
        Row(
            "1. Peak memory, every toolset on",
            mib,
            Stat.of(every.peak_kib),
            target=f"≤ {PEAK_MIB:.0f} MiB",
            met=Stat.of(every.peak_kib).max / 1024 <= PEAK_MIB,
        )
    )
    report.add(Row("1. Floor peak memory", mib, Stat.of(flr.peak_kib)))
