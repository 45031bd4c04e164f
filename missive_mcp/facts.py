"""Missive's facts, as this server relies on them: its rate limits, the most of an answer it takes in, the longest
pause a 429 may impose, and how a person gets a token. Settings, the limiter, the client and the errors read
them here (and only here).
"""

from __future__ import annotations

TOKEN_HELP = (
    "Create a personal API token in Missive (Settings > API > Create a new token; it needs the Productive plan) "
    "and set it in the MISSIVE_API_TOKEN environment variable of the MCP server."
)

MAX_RESPONSE_BYTES = 32 * 1024 * 1024
"""The most of one Missive answer the server takes in (decompressed): a page of 50 detailed conversations is
well under 1 MiB; a larger answer is refused rather than held in memory."""
MAX_IN_FLIGHT = 5
"""Missive's limit on requests in flight at once, per token."""
WINDOWS = ((300, 60.0), (900, 900.0))
"""Missive's per-token budgets: (requests, seconds): 300 a minute, 900 per 15 minutes."""
LIMITS = f"per token: {MAX_IN_FLIGHT} requests at once, {WINDOWS[0][0]} a minute, {WINDOWS[1][0]} per 15 minutes"
"""Missive's rate limits, as an agent is told them."""
MAX_RETRY_AFTER = 120.0
"""The longest pause a 429's Retry-After (or rate-limit reset) can impose on every caller."""
FALLBACK_RETRY_AFTER = 1.0
"""The pause after a 429 whose Retry-After is not a valid value (inf, 1e9, words): the limiter's windows do the
rest."""
WEBHOOK_MAX_BYTES = 1024 * 1024
"""The largest webhook delivery taken at /webhooks/missive: Missive's payload (a conversation and the latest
message's preview) is a few KB."""
