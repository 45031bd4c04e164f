"""Benchmark missive-mcp against a `FastMCP.from_openapi` baseline built from the same API description.

    .venv/bin/pip install -e ".[bench]" && .venv/bin/python bench/run.py

Runs every figure (one module each, `bench/fig_*.py`, on the harness in `bench/harness.py`), ours and the
baseline's side by side, against the project's fake Missive served on loopback or in memory; the targets are in
`bench/targets.py`. Prints one table and rewrites the results section of docs/benchmarks.md, which says how each
figure is measured. Nothing in the table is typed in: every number comes from this run.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Awaitable, Callable
from importlib import metadata

import anyio
import fig_analytics
import fig_answer_size
import fig_bulk
import fig_cold_start
import fig_day
import fig_listing
import fig_overhead
import fig_reply
import fig_tool_list
from harness import DOC, ROOT, Report, render, write_doc


def options() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    p.add_argument("--runs", type=int, default=7, help="cold starts per server (default 7)")
    p.add_argument("--calls", type=int, default=200, help="timed tool calls for the per-call overhead (default 200)")
    p.add_argument("--threads", type=int, default=100, help="threads read in the bulk figure (default 100)")
    p.add_argument("--scale", type=float, default=6.0, help="time scale of the limits in the bulk figure (default 6)")
    p.add_argument("--bulk-runs", type=int, default=8, help="bulk reads per server (default 8)")
    p.add_argument("--list", type=int, default=1000, dest="listed", help="conversations to list (default 1000)")
    p.add_argument("--list-runs", type=int, default=3, help="listings per server (default 3)")
    p.add_argument(
        "--delays",
        type=lambda text: [float(x) for x in text.split(",")],
        default=[2.01, 2.02, *(round(2.05 + 0.1 * i, 2) for i in range(10))],
        help="report delays in seconds, one analytics run each (default 2.01,2.02,2.05,2.15,...,2.95)",
    )
    p.add_argument("--only", help=f"comma list of figures to run: {','.join(FIGURES)} (default all)")
    p.add_argument("--no-write", action="store_true", help="print the table only; leave docs/benchmarks.md alone")
    return p.parse_args()


FIGURES = ("cold", "tools", "calls", "sizes", "bulk", "listing", "analytics", "reply", "day")


async def main(args: argparse.Namespace) -> Report:
    report = Report()
    steps: dict[str, Callable[[], Awaitable[None]]] = {
        "cold": lambda: fig_cold_start.run(report, args.runs),
        "tools": lambda: fig_tool_list.run(report),
        "calls": lambda: fig_overhead.run(report, args.calls),
        "sizes": lambda: fig_answer_size.run(report),
        "bulk": lambda: fig_bulk.run(report, args.threads, args.scale, args.bulk_runs),
        "listing": lambda: fig_listing.run(report, args.listed, args.list_runs),
        "analytics": lambda: fig_analytics.run(report, args.delays),
        "reply": lambda: fig_reply.run(report),
        "day": lambda: fig_day.run(report),
    }
    chosen = set(args.only.split(",")) if args.only else set(FIGURES)
    for name in FIGURES:
        if name in chosen:
            print(f"# {name}", file=sys.stderr, flush=True)
            await steps[name]()
    return report


if __name__ == "__main__":
    try:
        metadata.version("fastmcp")
    except metadata.PackageNotFoundError:
        sys.exit('bench/run.py needs the bench extra: .venv/bin/pip install -e ".[bench]"')
    arguments = options()
    began = time.perf_counter()
    result = anyio.run(main, arguments)
    settings = (
        f"cold start x{arguments.runs}, calls x{arguments.calls}, bulk x{arguments.bulk_runs} at time scale "
        f"{arguments.scale:g}, listing x{arguments.list_runs}, analytics x{len(arguments.delays)}"
    )
    text = render(result, settings, time.perf_counter() - began)
    print("\n" + text)
    if not arguments.no_write and not arguments.only:
        write_doc(text)
        print(f"Wrote {DOC.relative_to(ROOT)}")
