"""Every target the bench checks, in one place: issue 6's (speed, size, limits) and issue 10's (the tool list an
agent can afford, a reply in one call). docs/benchmarks.md quotes them from the table the run writes."""

from __future__ import annotations

COLD_START_FACTOR = 1.3
"""Our cold start (spawn to first tools/list answer), at most this times the one-tool SDK floor's."""
PEAK_MIB = 85.0
"""Peak resident memory at the first tools/list, with every toolset on."""

MODEL_BYTES_DEFAULT = 16_000
"""Name + description + input schema of every tool the default toolsets list, as compact JSON: what a model is
sent about the tools."""
MODEL_BYTES_ALL = 36_000
"""The same with every toolset on (MISSIVE_TOOLSETS=all)."""
WIRE_BYTES_DEFAULT = 24_000
"""The whole tools/list answer on the wire (output schemas, annotations and titles included), default toolsets."""

OVERHEAD_MS = 2.0
"""Per-call overhead over a bare HTTP request to the fake, at the median."""
THREAD_SHARE = 1 / 3
"""A whole thread in one read_conversation, against the baseline's bytes for the same thread, every thread."""
BULK_SLACK = 1.10
"""Reading threads in bulk: at most this times the bound the rate limits set, with no 429."""
ANALYTICS_S = 1.0
"""From a report being ready to the tool's answer, every run."""
REPLY_CALLS = 1
"""Tool calls an agent needs to reply to the latest message of a thread."""

DAY_TASKS = 8
"""Issue 19's day of inbox work (bench/fig_day.py): tasks done with the default toolsets, each checked against
what the fake received."""
DAY_BYTES = 32_000
"""The day's context cost: the tool list a model is sent plus every result it reads (48,618 B before issue 19)."""
TEAM_INBOX_CALLS = 1
TEAM_INBOX_CONVERSATIONS = 25
TEAM_INBOX_BYTES = 8_000
"""The 25 newest conversations of a team inbox: one call, all 25, within this many bytes of result."""
LISTING_REQUESTS = 22
"""API requests to list 1,000 conversations in pages of 50 (a plain pager takes 21)."""
