"""A successful result's one text block as compact JSON without nulls: the same data as its structured content,
cut to fit MISSIVE_MAX_RESULT_BYTES (`budget.py`) at an item boundary, saying how to read the rest.

The SDK renders that block as indented JSON and has no option to choose the rendering."""

from __future__ import annotations

import json
from typing import Any

from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.server.mcpserver.tools import Tool

from ..budget import fit_result
from ..calls import current_call


class Compact:
    def __init__(self, tools: list[Tool], max_result_bytes: int) -> None:
        self.schemas = {tool.name: tool.parameters for tool in tools}
        self.max_result_bytes = max_result_bytes

    async def __call__(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        result = await call_next(ctx)
        if ctx.method != "tools/call" or not isinstance(ctx.params, dict):
            return result
        record = current_call.get()  # the arguments as sent, names resolved (the audit, outside, opened it)
        sent = record.arguments if record is not None else dict(ctx.params.get("arguments") or {})
        schema = self.schemas.get(str(ctx.params.get("name", "")))
        return fit_result(compact(result), self.max_result_bytes, sent, schema)


def compact(result: HandlerResult) -> HandlerResult:
    """A result with other blocks (an embedded file) keeps them."""
    if not isinstance(result, dict) or result.get("isError"):
        return result
    data: Any = result.get("structuredContent")
    content: Any = result.get("content")
    if not isinstance(data, dict) or not isinstance(content, list) or len(content) != 1:  # pyright: ignore[reportUnknownArgumentType]
        return result
    data = without_nulls(data)
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return {**result, "content": [{"type": "text", "text": text}], "structuredContent": data}


def without_nulls(value: Any) -> Any:
    """Results omit what Missive did not send (and what does not apply) rather than spell it out as null."""
    if isinstance(value, dict):
        return {k: without_nulls(v) for k, v in value.items() if v is not None}  # pyright: ignore[reportUnknownVariableType]
    if isinstance(value, list):
        return [without_nulls(v) for v in value]  # pyright: ignore[reportUnknownVariableType]
    return value
