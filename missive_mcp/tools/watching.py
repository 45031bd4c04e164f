"""watch_inbox: noticing new mail for clients that only call tools (no subscriptions)."""

import time
from typing import Annotated, Any, Literal

import anyio
from mcp.server.mcpserver import Context
from mcp.server.subscriptions import ServerEvent
from pydantic import Field

from .. import deadline
from .. import endpoints as ep
from ..docstrings import Described
from ..models import Conversation, ConversationSummary
from ..state import app_state
from ..toolsets import WATCH
from ..watch import INBOX, INBOX_PAGE, Watcher, fingerprint
from ._common import OrgId
from .conversations import list_conversations, summarize
from .declaration import tool

MAX_WAIT = 45.0
"""The longest wait: inside the call deadline (50 s) and the 60 s most clients give up after."""
Mailbox = Literal[
    "inbox", "all", "assigned", "closed", "snoozed", "flagged", "trashed", "junked", "drafts",
    "shared_label", "team_inbox", "team_closed", "team_all",
]  # fmt: skip


class Activity(Described):
    conversations: list[ConversationSummary]
    """Conversations with activity after the cursor, newest first, as list_conversations' lean items (empty:
    nothing new within the wait)."""
    cursor: int
    """Pass as `since` next time."""


@tool(WATCH, "Watch for new activity", ep.list_conversations, ep.list_organizations)
async def watch_inbox(
    ctx: Context[Any, Any],
    since: Annotated[int | None, Field(ge=0, description="Previous cursor; omit: from now.")] = None,
    wait: Annotated[float, Field(ge=0, le=MAX_WAIT, description="Seconds to wait if nothing is new.")] = 30,
    mailbox: Annotated[Mailbox, Field(description="As list_conversations' filters.")] = "inbox",
    id: Annotated[str | None, Field(description="Label/team id (or name) for those mailboxes.")] = None,
    organization: OrgId = None,
) -> Activity:
    """Conversations with new activity since a cursor (messages, comments, changes), waiting up to `wait` s for
    some; returns a new cursor. Call again with it to keep watching."""
    app = app_state(ctx)
    filters: dict[str, Any] = {
        mailbox: id if mailbox in ("shared_label", "team_inbox", "team_closed", "team_all") else True
    }

    async def listing() -> list[Conversation]:
        # detail="full": the watcher compares whole conversations (their users' flags), as its inbox holds them.
        page = await list_conversations(ctx, **filters, organization=organization, limit=INBOX_PAGE, detail="full")
        return [c for c in page.conversations if isinstance(c, Conversation)]

    first = await listing()
    newest = max((c.last_activity_at or 0 for c in first), default=0)
    cursor = max(since, newest) if since is not None else newest
    fresh = [c for c in first if since is not None and (c.last_activity_at or 0) > since]
    seen = {c.id: fingerprint(c) for c in first}
    watcher = app.watcher
    waited = time.monotonic()
    budget = deadline.within(wait) - 1.0 if deadline.remaining() is not None else wait
    if fresh or budget <= 0 or watcher is None:
        return Activity(conversations=await summarize(app, fresh), cursor=cursor)
    heard = Heard()
    stop = watcher.bus.subscribe(heard)  # webhooks (and other replicas) wake the wait too
    rounds = watcher.rounds
    try:
        with watcher.watching([INBOX]), anyio.move_on_after(budget):
            while not fresh:
                await heard.next_change(watcher)
                # The watcher's own look at the Inbox serves when it has looked since the wait began; woken by a
                # webhook alone (watching off, or the team server, where nobody polls), the call looks itself.
                polled = watcher.rounds > rounds and filters == {"inbox": True} and not organization
                rounds = watcher.rounds
                page = [c.concise() for c in watcher.inbox] if polled else await listing()
                fresh = [c for c in page if seen.get(c.id) != fingerprint(c)]
                elapsed = time.monotonic() - waited
                await ctx.report_progress(elapsed, budget, "No new activity yet" if not fresh else "New activity")
    finally:
        stop()
    cursor = max([cursor, *(c.last_activity_at or 0 for c in fresh)])
    return Activity(conversations=await summarize(app, fresh), cursor=cursor)


class Heard:
    """A bus listener that wakes a wait at the next change published (a webhook, another replica)."""

    def __init__(self) -> None:
        self.event = anyio.Event()

    def __call__(self, _: ServerEvent) -> None:
        self.event.set()

    async def next_change(self, watcher: Watcher) -> None:
        """Until the watcher's next look or a published change, whichever comes first."""
        async with anyio.create_task_group() as racing:

            async def look() -> None:
                await watcher.next_look()
                racing.cancel_scope.cancel()

            async def hear() -> None:
                await self.event.wait()
                racing.cancel_scope.cancel()

            racing.start_soon(look)
            racing.start_soon(hear)
        self.event = anyio.Event()
