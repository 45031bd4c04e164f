"""POST /webhooks/missive: Missive's webhook deliveries, turned into resource updates for listening clients.

Missive signs each delivery (missive-api-addendum.md 6c): `X-Hook-Signature` is the HMAC-SHA256 of the raw body
under the rule's secret, in hex, with or without a `sha256=` prefix. The route takes no bearer key (Missive has
none to send): the signature is its only authentication, checked against MISSIVE_MCP_WEBHOOK_SECRET in constant
time before the body is parsed. A bad or missing signature is answered 401 and publishes nothing; a body over
WEBHOOK_MAX_BYTES is refused unread past the limit. A good delivery publishes an update for its conversation
and for the Inbox on the subscription bus (over Redis, every replica hears it) and is answered at once:
Missive waits 15 s at most.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
from typing import Any

import anyio
from mcp.server.subscriptions import ResourceUpdated, SubscriptionBus
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from .facts import WEBHOOK_MAX_BYTES
from .watch import CONVERSATION, INBOX

logger = logging.getLogger(__name__)

PATH = "/webhooks/missive"
PUBLISH_SECONDS = 5.0
"""The longest the route spends publishing before it answers anyway (Missive gives up after 15 s)."""
_ID = re.compile(r"^[0-9A-Za-z-]{1,64}$")


class MissiveWebhooks:
    """ASGI: serves PATH itself, hands every other request to `app` (where keys or OAuth are checked)."""

    def __init__(self, app: ASGIApp, bus: SubscriptionBus, secret: str | None) -> None:
        self.app = app
        self.bus = bus
        self._secret = secret.encode() if secret else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != PATH:
            return await self.app(scope, receive, send)
        response = await self.answer(scope, receive)
        await response(scope, receive, send)

    async def answer(self, scope: Scope, receive: Receive) -> JSONResponse:
        from .asgi import read_body

        if scope["method"] != "POST":
            return JSONResponse({"error": "Missive POSTs webhooks here."}, 405, headers={"Allow": "POST"})
        if self._secret is None:
            return JSONResponse(
                {"error": "Webhooks are not set up on this server: set MISSIVE_MCP_WEBHOOK_SECRET."}, 404
            )
        signature = dict(scope["headers"]).get(b"x-hook-signature", b"").decode("latin-1").strip()
        if not _SIGNATURE.fullmatch(signature):  # refused before a byte of the body is read
            logger.info("Refused a webhook delivery: missing or malformed X-Hook-Signature.")
            return JSONResponse({"error": "Missing or wrong X-Hook-Signature."}, 401)
        body = await read_body(scope, receive, WEBHOOK_MAX_BYTES)
        if body is None:
            return JSONResponse({"error": f"A webhook delivery is at most {WEBHOOK_MAX_BYTES} bytes."}, 413)
        if not self.signed(body, signature):
            logger.info("Refused a webhook delivery: missing or wrong X-Hook-Signature.")
            return JSONResponse({"error": "Missing or wrong X-Hook-Signature."}, 401)
        conversation_id = _conversation_id(body)
        uris = [INBOX] + ([CONVERSATION.format(conversation_id)] if conversation_id else [])
        with anyio.move_on_after(PUBLISH_SECONDS) as late:
            for uri in uris:
                await self.bus.publish(ResourceUpdated(uri))
        if late.cancelled_caught:
            logger.warning("Publishing a webhook delivery took over %g s; answered anyway.", PUBLISH_SECONDS)
        return JSONResponse({"ok": True})

    def signed(self, body: bytes, signature: str) -> bool:
        assert self._secret is not None
        expected = hmac.new(self._secret, body, hashlib.sha256).hexdigest()
        given = signature.removeprefix("sha256=").lower()
        return hmac.compare_digest(expected.encode(), given.encode("latin-1"))


_SIGNATURE = re.compile(r"(?:sha256=)?[0-9a-fA-F]{64}")
"""What an HMAC-SHA256 signature looks like (hex, `sha256=` optional): anything else is refused unread."""


def _conversation_id(body: bytes) -> str | None:
    """The delivery's conversation id, if it is one (a signed body is Missive's, but its shape may vary)."""
    try:
        payload: Any = json.loads(body)
        found: Any = payload["conversation"]["id"]
    except (ValueError, TypeError, KeyError):
        return None
    return found if isinstance(found, str) and _ID.match(found) else None
