"""A request sent before the handshake gets a sentence saying what to send first.

The SDK refuses it with a bare "Invalid request parameters" (its pinned compatibility shape). Which refusals are
that gate is read from the connection, never from the SDK's wording: only a connection that has a handshake
(stdio: no HTTP request behind it; not protocol 2026-07-28) and has not had one yet meets the gate. Over the
stateless HTTP transport every connection is ready at once, so an INVALID_PARAMS there is a handler's own."""

from __future__ import annotations

from typing import Any

from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.shared.exceptions import MCPError
from mcp.types import INVALID_PARAMS, INVALID_REQUEST
from mcp_types.version import MODERN_PROTOCOL_VERSIONS


class Handshake:
    async def __call__(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        try:
            return await call_next(ctx)
        except MCPError as refused:
            if refused.code != INVALID_PARAMS or not before_handshake(ctx):
                raise
            raise MCPError(
                INVALID_REQUEST,
                f"{ctx.method} was sent before the handshake: send initialize, then notifications/initialized, "
                "then requests (or speak protocol 2026-07-28, which has no handshake).",
            ) from None


def before_handshake(ctx: ServerRequestContext[Any, Any]) -> bool:
    """Whether this request came on a connection that still owes its handshake."""
    handshake_era = ctx.protocol_version not in MODERN_PROTOCOL_VERSIONS and ctx.request is None
    return handshake_era and ctx.method != "initialize" and ctx.session.client_params is None
