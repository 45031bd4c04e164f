"""A request sent before the handshake gets a sentence saying what to send first.

The SDK refuses it with a bare "Invalid request parameters" (its pinned compatibility shape). Whether the
handshake is done is read from the connection, not from the SDK's wording."""

from __future__ import annotations

from typing import Any

from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.shared.exceptions import MCPError
from mcp.types import INVALID_PARAMS, INVALID_REQUEST


class Handshake:
    async def __call__(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        try:
            return await call_next(ctx)
        except MCPError as refused:
            if refused.code != INVALID_PARAMS or ctx.method == "initialize" or ctx.session.client_params is not None:
                raise
            raise MCPError(
                INVALID_REQUEST,
                f"{ctx.method} was sent before the handshake: send initialize, then notifications/initialized, "
                "then requests (or speak protocol 2026-07-28, which has no handshake).",
            ) from None
