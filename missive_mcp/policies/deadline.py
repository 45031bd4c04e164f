"""Every tool call and resource read ends within MISSIVE_DEADLINE (`deadline.py`), before the client gives up.

The waits inside end themselves with a sentence naming the wait, just before this last resort stops the call."""

from __future__ import annotations

from typing import Any

import anyio
from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.types import CallToolResult, TextContent

from ..calls import mark_outcome_unknown
from ..deadline import deadline
from ..errors import DeadlineError


class Deadline:
    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    async def __call__(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        if ctx.method not in ("tools/call", "resources/read"):
            return await call_next(ctx)
        with deadline(self.seconds):
            with anyio.move_on_after(self.seconds + 1.0) as late:
                return await call_next(ctx)
        assert late.cancelled_caught
        what = f"{ctx.params.get('name', '')} " if ctx.method == "tools/call" and isinstance(ctx.params, dict) else ""
        error = DeadlineError(
            f"The {what}call did not finish within its {self.seconds:g} s deadline (MISSIVE_DEADLINE); it was "
            "stopped. A read can be tried again; for a write, check its result before repeating it.",
            waiting_for="call",
        )
        if ctx.method == "tools/call":
            mark_outcome_unknown()
            return CallToolResult(content=[TextContent(type="text", text=str(error))], is_error=True)
        raise error
