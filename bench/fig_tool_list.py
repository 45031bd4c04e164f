"""Figure 2: what the tool list costs. The bytes a model is sent about the tools (name + description + input
schema, compact JSON) with the default toolsets and with every toolset on, and the whole tools/list answer on the
wire; the biggest tools, so the next cut goes where it counts."""

from __future__ import annotations

from typing import Any

from harness import Peer, Report, Row, Stat, baseline, compact, count, loopback, nbytes, ours, started
from targets import MODEL_BYTES_ALL, MODEL_BYTES_DEFAULT, WIRE_BYTES_DEFAULT

from missive_mcp.sandbox import FakeMissive
from missive_mcp.toolsets import DEFAULT_TOOLSET_IDS as DEFAULT_TOOLSETS
from missive_mcp.toolsets import TOOLSET_IDS as TOOLSETS

BIGGEST = 8
"""How many of the biggest tools the notes name."""


def model_view(tool: dict[str, Any]) -> dict[str, Any]:
    """What a model is sent about one tool."""
    return {"name": tool["name"], "description": tool.get("description", ""), "inputSchema": tool["inputSchema"]}


async def listing(peer: Peer) -> tuple[int, list[dict[str, Any]]]:
    reply = await peer.request("tools/list")
    return reply.size, reply.result["tools"]


def biggest(tools: list[dict[str, Any]], part: Any = model_view) -> str:
    """The BIGGEST tools by the bytes of `part` of them, as "name bytes, ..."."""
    sizes = sorted(((compact(part(t)), t["name"]) for t in tools), reverse=True)[:BIGGEST]
    return ", ".join(f"{name} {size:,}" for size, name in sizes)


async def run(report: Report) -> None:
    with loopback(FakeMissive()) as (url, _):
        async with started(ours(url)) as mine, started(ours(url, MISSIVE_TOOLSETS="all")) as every:
            wire, default_tools = await listing(mine)
            wire_all, all_tools = await listing(every)
        async with started(ours(url, MISSIVE_OUTPUT_SCHEMAS="compact")) as lean:
            wire_compact, compact_tools = await listing(lean)
        async with started(baseline(url)) as base:
            base_wire, base_tools = await listing(base)
    model = compact([model_view(t) for t in default_tools])
    model_all = compact([model_view(t) for t in all_tools])
    base_model = compact([model_view(t) for t in base_tools])
    report.add(
        Row(
            f"2. Tool list a model is sent: name + description + input schema ({', '.join(DEFAULT_TOOLSETS)})",
            nbytes,
            Stat.of([model]),
            Stat.of([base_model]),
            f"≤ {MODEL_BYTES_DEFAULT:,} B",
            model <= MODEL_BYTES_DEFAULT,
        )
    )
    report.add(
        Row(
            f"2. … every toolset on ({len(TOOLSETS)} toolsets)",
            nbytes,
            Stat.of([model_all]),
            target=f"≤ {MODEL_BYTES_ALL:,} B",
            met=model_all <= MODEL_BYTES_ALL,
        )
    )
    complete = all(t.get("description") and t.get("outputSchema") and t.get("title") for t in default_tools)
    report.add(
        Row(
            "2. tools/list answer on the wire, default toolsets (default MISSIVE_OUTPUT_SCHEMAS=full)",
            nbytes,
            Stat.of([wire]),
            Stat.of([base_wire]),
            f"≤ {WIRE_BYTES_DEFAULT:,} B, every tool titled, described, with an output schema",
            wire <= WIRE_BYTES_DEFAULT and complete,
        )
    )
    complete_compact = all(t.get("description") and t.get("outputSchema") and t.get("title") for t in compact_tools)
    report.add(
        Row(
            "2. … with MISSIVE_OUTPUT_SCHEMAS=compact (top-level result fields only)",
            nbytes,
            Stat.of([wire_compact]),
            target=f"≤ {WIRE_BYTES_DEFAULT:,} B, every tool titled, described, with an output schema",
            met=wire_compact <= WIRE_BYTES_DEFAULT and complete_compact,
        )
    )
    report.add(Row("2. … every toolset on (full output schemas)", nbytes, Stat.of([wire_all])))
    listed = Row("2. Tools listed, default toolsets", count, Stat.of([len(default_tools)]), Stat.of([len(base_tools)]))
    report.add(listed)
    report.add(Row("2. … every toolset on", count, Stat.of([len(all_tools)])))
    outputs = sum(compact(t.get("outputSchema", {})) for t in default_tools)
    report.notes.append(
        f"Tool list: of the default list's {wire:,} bytes on the wire, output schemas are {outputs:,} "
        f"({outputs / wire:.0%}); name + description + input schema {model:,}. Biggest tools by name + description "
        f"+ input schema (bytes, every toolset on): {biggest(all_tools)}. Biggest output schemas: "
        f"{biggest(all_tools, lambda t: t.get('outputSchema', {}))}. Baseline: {len(base_tools)} tools, "
        f"{sum(1 for t in base_tools if t.get('outputSchema'))} with an output schema."
    )
