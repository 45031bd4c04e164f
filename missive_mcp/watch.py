"""Noticing changes without a public address: a watcher that looks at Missive only while someone listens.

Who listens: a `subscriptions/listen` stream (2026-07-28) or a `resources/subscribe` (older protocols, on a
session: stdio) naming `missive://inbox` or `missive://conversations/{id}`, and a `watch_inbox` call waiting.
While at least one listens, the watcher looks every MISSIVE_WATCH_INTERVAL seconds: one request for the Inbox
and one per listened-to conversation not in it, through the shared limiter, and never more than a tenth of
Missive's budget (a round of n requests waits at least n x SPACING). With nobody listening it sends nothing.
What changed is published on the subscription bus (`bus.py`) as `ResourceUpdated(uri)`; the SDK's listen
handler sends it down each 2026-07-28 stream that asked for that URI, and `Sessions` to each older session.

    Watcher                 the looking, and who is interested in what
    Listening               middleware around subscriptions/listen: checks and counts the URIs a stream asks for
    Sessions                resources/subscribe and resources/unsubscribe for older protocols
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, cast

import anyio
from mcp.server.connection import Connection
from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.server.subscriptions import ResourceUpdated, ServerEvent, SubscriptionBus
from mcp.shared.exceptions import MCPError
from mcp_types import INVALID_PARAMS, EmptyResult, SubscribeRequestParams, UnsubscribeRequestParams

from .errors import MissiveError
from .models import Conversation
from .settings import WATCH_SHARE, WINDOWS

if TYPE_CHECKING:
    from .client import MissiveClient

logger = logging.getLogger(__name__)

INBOX = "missive://inbox"
CONVERSATION = "missive://conversations/{}"
_CONVERSATION = re.compile(r"^missive://conversations/([^/?#]+)$")
INBOX_PAGE = 25
"""How many of the Inbox's newest conversations one look reads (and `missive://inbox` shows)."""
SPACING = max(seconds / (requests / WATCH_SHARE) for requests, seconds in WINDOWS)
"""Seconds a watcher request costs at least, so watching spends at most a tenth of each of Missive's budgets
(10 s: 90 requests per 15 minutes; 30 a minute would allow one per 2 s)."""


def conversation_of(uri: str) -> str | None:
    found = _CONVERSATION.match(uri)
    return found.group(1) if found else None


def fingerprint(conversation: Conversation) -> str:
    """Everything Missive says of a conversation: a message, comment, post, assignment, label or state change
    shows here (activity time, counts, assignees, labels, per-user flags)."""
    return conversation.model_dump_json()


class Watcher:
    """Looks at Missive while anyone listens, and publishes what changed."""

    def __init__(self, bus: SubscriptionBus, interval: float, spacing: float = SPACING) -> None:
        self.bus = bus
        self.interval = interval
        self.spacing = spacing
        self.interest: Counter[str] = Counter()
        """URI -> how many listeners (streams, sessions, waits) want it."""
        self.inbox: list[Conversation] = []
        """The Inbox's newest conversations at the last look."""
        self.rounds = 0
        self._inbox_changed = False
        self._seen: dict[str, str] = {}
        self._inbox_seen = False
        self._wanted = anyio.Event()
        self._looked = anyio.Event()

    @property
    def enabled(self) -> bool:
        return self.interval > 0

    @contextmanager
    def watching(self, uris: list[str]) -> Iterator[None]:
        """Count these URIs as listened to for the duration of the block."""
        self.add(uris)
        try:
            yield
        finally:
            self.remove(uris)

    def add(self, uris: list[str]) -> None:
        self.interest.update(uris)
        if self.interest and not self._wanted.is_set():
            self._wanted.set()

    def remove(self, uris: list[str]) -> None:
        self.interest.subtract(uris)
        self.interest = +self.interest  # drop counts at zero
        if not self.interest and self._wanted.is_set():
            self._wanted = anyio.Event()
            self._inbox_seen = False  # the next listener starts from a fresh look

    def baseline(self, conversation: Conversation) -> None:
        """What a new listener saw of a conversation: changes from here on are news."""
        self._seen.setdefault(conversation.id, fingerprint(conversation))

    async def next_look(self) -> bool:
        """Wait for the end of the next look; whether the Inbox changed in it."""
        await self._looked.wait()
        return self._inbox_changed

    def pause(self, requests: int) -> float:
        """Seconds until the next look after one that made `requests` requests."""
        return max(self.interval, requests * self.spacing)

    async def run(self, client: MissiveClient) -> None:
        """Look while anyone listens; sleep (sending nothing) while nobody does. Runs until cancelled."""
        while True:
            await self._wanted.wait()
            try:
                made = await self.look(client)
            except MissiveError as failed:  # Missive is down or refused: say so, try again next round
                logger.warning("Watching Missive failed: %s", failed)
                made = 1
            await anyio.sleep(self.pause(made))

    async def look(self, client: MissiveClient) -> int:
        """One look: the Inbox, then each listened-to conversation not in it. Returns the requests made."""
        page = await client.list_conversations({"inbox": True, "limit": INBOX_PAGE})
        made = 1
        changed: list[str] = []
        inbox_ids = {c.id for c in page}
        before = {c.id: fingerprint(c) for c in self.inbox}
        now = {c.id: fingerprint(c) for c in page}
        inbox_changed = self._inbox_seen and before != now
        self._inbox_seen = True
        for conversation in page:
            if self._note(conversation):
                changed.append(conversation.id)
        for uri in list(self.interest):
            conversation_id = conversation_of(uri)
            if conversation_id is None or conversation_id in inbox_ids:
                continue
            made += 1
            try:
                found = await client.get_conversation(conversation_id)
            except MissiveError as failed:
                logger.info("Watching conversation %s failed: %s", conversation_id, failed)
                continue
            if self._note(found):
                changed.append(found.id)
        self.inbox = page
        self.rounds += 1
        self._inbox_changed = inbox_changed
        for conversation_id in changed:
            await self.bus.publish(ResourceUpdated(CONVERSATION.format(conversation_id)))
        if inbox_changed:
            await self.bus.publish(ResourceUpdated(INBOX))
        looked, self._looked = self._looked, anyio.Event()
        looked.set()
        return made

    def _note(self, conversation: Conversation) -> bool:
        """Remember a conversation as seen now; whether it changed since it was last seen."""
        new = fingerprint(conversation)
        old = self._seen.get(conversation.id)
        self._seen[conversation.id] = new
        return old is not None and old != new


async def readable(client: MissiveClient, watcher: Watcher, uri: str) -> None:
    """Accept a subscription only to a resource the person's token can read (and mark what they saw)."""
    if uri == INBOX:
        return
    conversation_id = conversation_of(uri)
    if conversation_id is None:
        raise MCPError(
            INVALID_PARAMS,
            f"Cannot subscribe to {uri[:200]!r}: subscribable are {INBOX} and missive://conversations/<id>.",
        )
    try:
        watcher.baseline(await client.get_conversation(conversation_id))
    except MissiveError as refused:
        raise MCPError(INVALID_PARAMS, f"Cannot subscribe to {uri[:200]!r}: {refused}") from None


class Listening:
    """Middleware around `subscriptions/listen` (the SDK's ListenHandler does not expose the URIs a stream asked
    for: the missing hook): each URI must be readable by the person, and counts as listened to while the stream
    is open."""

    async def __call__(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        if ctx.method != "subscriptions/listen":
            return await call_next(ctx)
        watcher: Watcher = ctx.lifespan_context.watcher
        notifications: Any = (ctx.params or {}).get("notifications")
        asked: Any = (
            cast(dict[str, Any], notifications).get("resourceSubscriptions")
            if isinstance(notifications, dict)
            else None
        )
        uris = [str(uri) for uri in cast(list[Any], asked)] if isinstance(asked, list) else []
        mine = [uri for uri in uris if uri.startswith("missive://")]
        for uri in mine:
            await readable(ctx.lifespan_context.client, watcher, uri)
        with watcher.watching(mine):
            return await call_next(ctx)


class Sessions:
    """Older protocols: `resources/subscribe` on a session that can be written to later (stdio), and delivery of
    the bus's events to those sessions."""

    def __init__(self, watcher: Watcher) -> None:
        self.watcher = watcher
        self.subscribed: dict[Connection, set[str]] = {}
        send, self._events = anyio.create_memory_object_stream[str](1024)
        self._send = send

    def listener(self, event: ServerEvent) -> None:
        if isinstance(event, ResourceUpdated) and any(event.uri in uris for uris in self.subscribed.values()):
            try:
                self._send.send_nowait(event.uri)
            except anyio.WouldBlock:
                logger.warning("Dropped a resource update for %s: older sessions are not reading.", event.uri)

    async def subscribe(self, ctx: ServerRequestContext[Any, Any], params: SubscribeRequestParams) -> EmptyResult:
        if not ctx.session.can_send_request:
            raise MCPError(
                INVALID_PARAMS,
                "resources/subscribe needs a session the server can write to later (stdio); over stateless HTTP "
                "use protocol 2026-07-28's subscriptions/listen, or the watch_inbox tool.",
            )
        uri = str(params.uri)
        await readable(ctx.lifespan_context.client, self.watcher, uri)
        uris = self.subscribed.setdefault(_connection(ctx), set())
        if uri not in uris:
            uris.add(uri)
            self.watcher.add([uri])
        return EmptyResult()

    async def unsubscribe(self, ctx: ServerRequestContext[Any, Any], params: UnsubscribeRequestParams) -> EmptyResult:
        uri = str(params.uri)
        uris = self.subscribed.get(_connection(ctx), set())
        if uri in uris:
            uris.discard(uri)
            self.watcher.remove([uri])
        return EmptyResult()

    def close(self) -> None:
        self._send.close()
        self._events.close()

    def forget(self, connection: Connection) -> None:
        self.watcher.remove(sorted(self.subscribed.pop(connection, set())))

    async def deliver(self) -> None:
        """Send each update to the older sessions subscribed to it; a session that is gone is forgotten."""
        async for uri in self._events:
            for connection, uris in list(self.subscribed.items()):
                if uri not in uris:
                    continue
                try:
                    await connection.send_resource_updated(uri)
                except Exception:  # the connection closed (the client left without unsubscribing)
                    self.forget(connection)


def _connection(ctx: ServerRequestContext[Any, Any]) -> Connection:
    """The client's connection, which outlives each request's session object. Missing hook: the request context
    exposes the connection only through the session's private attribute."""
    return ctx.session._connection  # pyright: ignore[reportPrivateUsage]
