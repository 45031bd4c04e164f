"""A tool the operator turned off (its toolset, or read-only mode) says why, instead of "Unknown tool"."""

from __future__ import annotations

from typing import Any

from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.types import CallToolResult, TextContent


class Refusals:
    def __init__(self, turned_off: dict[str, str]) -> None:
        self.turned_off = turned_off

    async def __call__(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        if ctx.method == "tools/call" and isinstance(ctx.params, dict):
            why = self.turned_off.get(str(ctx.params.get("name", "")))
            if why:
                return CallToolResult(content=[TextContent(type="text", text=why)], is_error=True)
        return await call_next(ctx)
