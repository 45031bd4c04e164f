"""stdio, with an answer for every line: the SDK's reader drops a line it cannot parse without a word.

A JSON-RPC batch (an array: the protocol versions this server speaks have none) or a line that is not JSON
then leaves the client waiting for an answer that never comes. `serve_stdio` answers each with one JSON-RPC
error line instead, and hands everything else to the server unchanged.
"""

from __future__ import annotations

from typing import Any, cast

import anyio
from mcp.server.mcpserver import MCPServer
from mcp.server.stdio import stdio_server
from mcp.shared.message import SessionMessage
from mcp.types import INVALID_REQUEST, PARSE_ERROR, ErrorData, JSONRPCError
from pydantic import ValidationError

BATCH = "JSON-RPC batches are not supported: send each request as its own line."
NOT_JSON = "The line is not valid JSON: send one JSON-RPC message per line."
NOT_A_MESSAGE = "The line is not a JSON-RPC 2.0 message (jsonrpc, id, method)."


def answer_for(problem: Exception) -> list[JSONRPCError]:
    """The error line(s) for a line the SDK could not read: one per request of a batch, else one."""
    if not isinstance(problem, ValidationError):
        return []
    details = problem.errors()
    given: Any = details[0].get("input") if details else None
    if details and details[0]["type"] == "json_invalid":
        return [JSONRPCError(jsonrpc="2.0", id=None, error=ErrorData(code=PARSE_ERROR, message=NOT_JSON))]
    if isinstance(given, list):
        ids: list[Any] = [
            cast(dict[str, Any], item).get("id") for item in cast(list[Any], given) if isinstance(item, dict)
        ]
        requests = [i for i in ids if isinstance(i, str | int)] or [None]
        return [
            JSONRPCError(jsonrpc="2.0", id=i, error=ErrorData(code=INVALID_REQUEST, message=BATCH)) for i in requests
        ]
    found: Any = cast(dict[str, Any], given).get("id") if isinstance(given, dict) else None
    ident = found if isinstance(found, str | int) else None
    return [JSONRPCError(jsonrpc="2.0", id=ident, error=ErrorData(code=INVALID_REQUEST, message=NOT_A_MESSAGE))]


async def serve_stdio(server: MCPServer[Any]) -> None:
    """MCPServer.run_stdio_async, with the answers above. The SDK has no hook for a line its reader cannot
    parse, so this reaches its low-level server (`_lowlevel_server`), as run_stdio_async itself does."""
    lowlevel = server._lowlevel_server  # pyright: ignore[reportPrivateUsage]
    async with stdio_server() as (read_stream, write_stream):
        passed, received = anyio.create_memory_object_stream[SessionMessage | Exception](0)

        async def sort_lines() -> None:
            async with passed:
                async for item in read_stream:
                    replies = answer_for(item) if isinstance(item, Exception) else []
                    for reply in replies:
                        await write_stream.send(SessionMessage(reply))
                    if not replies:
                        await passed.send(item)

        async with anyio.create_task_group() as group:
            group.start_soon(sort_lines)
            await lowlevel.run(received, write_stream, lowlevel.create_initialization_options())
            group.cancel_scope.cancel()
