"""Each call's deadline: every wait inside one tool call or resource read fits before it.

Most MCP clients give up on a request after 60 s (the TypeScript SDK's default), and then show a bare "Request
timed out" instead of our explanation. So each call gets a deadline (MISSIVE_DEADLINE, 50 s by default) that
the server's middleware sets when the call starts; the client's timeouts, retries and rate-limit waits, and the
analytics wait, are all cut to what is left of it, and the error then says which wait ran out.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_deadline: ContextVar[float | None] = ContextVar("missive_mcp_deadline", default=None)
_budget: ContextVar[float] = ContextVar("missive_mcp_budget", default=0.0)


@contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """Everything awaited inside this block shares one deadline, `seconds` from now."""
    token = _deadline.set(time.monotonic() + seconds)
    budget = _budget.set(seconds)
    try:
        yield
    finally:
        _deadline.reset(token)
        _budget.reset(budget)


def remaining() -> float | None:
    """Seconds left before the current call's deadline; None outside a call (no deadline)."""
    end = _deadline.get()
    return None if end is None else max(0.0, end - time.monotonic())


def budget() -> float:
    """The current call's whole deadline, in seconds (0 outside a call)."""
    return _budget.get()


def within(seconds: float) -> float:
    """`seconds`, cut to what is left of the current call's deadline."""
    left = remaining()
    return seconds if left is None else min(seconds, left)
