"""The subscription bus: in this process, or over Redis pub/sub so every replica hears every change.

A change noticed on one replica (its watcher, or a webhook Missive delivered to it) must reach a listener whose
stream is open on another. With MISSIVE_MCP_REDIS_URL, `publish` goes to one Redis channel and each replica's
`run` (started by the server's lifespan) hands what arrives there to its own listeners; without it, the SDK's
in-memory bus. Only resource updates travel (a URI each); the SDK's other events stay local.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any, cast

import anyio
from mcp.server.subscriptions import InMemorySubscriptionBus, ResourceUpdated, ServerEvent, SubscriptionBus

logger = logging.getLogger(__name__)

CHANNEL = "missive-mcp:resource-updated"
MAX_URI_CHARS = 512
"""A message on the channel longer than this is not ours: ignored."""


class RedisBus:
    """A `SubscriptionBus` whose resource updates go through a Redis channel shared by every replica."""

    def __init__(self, url: str, channel: str = CHANNEL) -> None:
        import redis.asyncio as redis

        # redis-py leaves from_url's **kwargs unannotated, so strict mode calls the method partially unknown.
        self.redis: Any = redis.Redis.from_url(url)  # pyright: ignore[reportUnknownMemberType]
        self.channel = channel
        self.local = InMemorySubscriptionBus()

    async def publish(self, event: ServerEvent) -> None:
        if isinstance(event, ResourceUpdated):
            await self.redis.publish(self.channel, json.dumps({"uri": event.uri}))
        else:
            await self.local.publish(event)

    def subscribe(self, listener: Callable[[ServerEvent], None]) -> Callable[[], None]:
        return self.local.subscribe(listener)

    async def run(self, ready: Callable[[], None] = lambda: None) -> None:
        """Hand every update published by any replica to this replica's listeners, until cancelled."""
        pubsub: Any = self.redis.pubsub()
        await pubsub.subscribe(self.channel)
        ready()
        try:
            async for message in pubsub.listen():
                uri = _uri(message)
                if uri is not None:
                    await self.local.publish(ResourceUpdated(uri))
        finally:
            with anyio.CancelScope(shield=True):  # cancelled mid-read: still hand the connection back
                await pubsub.aclose()

    async def aclose(self) -> None:
        await self.redis.aclose()


def _uri(message: Any) -> str | None:
    if not isinstance(message, dict):
        return None
    found = cast(dict[str, Any], message)
    if found.get("type") != "message":
        return None
    try:
        uri = json.loads(found.get("data") or b"")["uri"]
    except (ValueError, TypeError, KeyError):
        return None
    return uri if isinstance(uri, str) and len(uri) <= MAX_URI_CHARS else None


def bus_for(redis_url: str | None) -> SubscriptionBus:
    """Over Redis when a URL is given (replicas), else in this process."""
    return InMemorySubscriptionBus() if redis_url is None else RedisBus(redis_url)
