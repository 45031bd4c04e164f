"""Reading a request body within a budget, and handing it on: shared by the MCP transport and the team server's
OAuth front, which both read a body before the app behind them does."""

from __future__ import annotations

import anyio
from starlette.types import Message, Receive, Scope


async def read_body(scope: Scope, receive: Receive, limit: int) -> bytes | None:
    """The request body, or None past `limit` bytes. An oversized body is still read (up to four times the limit)
    so the client, still writing, reads our answer instead of a reset connection."""
    declared = dict(scope["headers"]).get(b"content-length", b"")
    chunks: list[bytes] = []
    size = 0
    too_large = declared.isdigit() and int(declared) > limit
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            too_large = True
        if not too_large:
            chunks.append(chunk)
        if not message.get("more_body", False) or size > 4 * limit:
            break
    return None if too_large else b"".join(chunks)


def replay(body: bytes, *, then: Receive | None = None) -> Receive:
    """A `receive` that hands the app the body already read, then waits on `then` (a disconnect)."""
    delivered = False

    async def receive() -> Message:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}
        if then is None:
            await anyio.sleep_forever()
        assert then is not None
        return await then()

    return receive
