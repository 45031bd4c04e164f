"""MCP resources over the same client: a whole thread, a contact, and the reference lists a client can attach."""

from __future__ import annotations

import functools
import json
from collections.abc import Awaitable, Callable
from typing import Any

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ResourceError, ResourceNotFoundError

from . import endpoints as ep
from .budget import TOO_BIG, fit_thread
from .errors import MissiveError, NotFoundError
from .settings import Settings
from .state import AppState
from .text import FENCE_CLOSE, FENCE_OPEN
from .tools import contacts, threads
from .watch import INBOX, INBOX_PAGE

JSON = "application/json"


def _json(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def render_thread(thread: threads.Thread, note: str | None = None) -> str:
    """A thread as plain text a person or a model reads top to bottom; bodies fenced as quoted content. Mail text
    never holds the fence markers, and names, subjects and filenames are single lines (see `text.fence_safe` and
    `text.one_line`, applied where the thread is read), so nothing a sender wrote reads as a line of ours. `note`
    says what a cut left out (`budget.fit_thread`)."""
    c = thread.conversation
    head = [f"# {c.subject or c.latest_message_subject or '(no subject)'}", f"conversation: {c.id}"]
    if c.assignees:
        head.append("assignees: " + ", ".join(a if isinstance(a, str) else a.name or a.id for a in c.assignees))
    if c.shared_labels:
        head.append(
            "labels: " + ", ".join(lbl if isinstance(lbl, str) else lbl.name or lbl.id for lbl in c.shared_labels)
        )
    if c.team:
        head.append(f"team: {c.team if isinstance(c.team, str) else c.team.name or c.team.id}")
    if note:
        head.append(f"({note})")
    elif thread.older_omitted:
        head.append("(older items omitted: page back with list_conversation_messages)")
    blocks = ["\n".join(head)]
    for e in thread.entries:
        line = f"## {e.kind} {e.id} by {e.author or 'unknown'}" + (f" to {e.to}" if e.to else "") + f" at {e.at}"
        if e.attachments:
            files = (
                f"{f.name} ({', '.join(str(x) for x in (f.type, f.size and f'{f.size} bytes', f.id) if x)})"
                for f in e.attachments
            )
            line += f"\nattachments: {'; '.join(files)}"
        blocks.append(f"{line}\n{FENCE_OPEN}\n{e.body}\n{FENCE_CLOSE}")
    return "\n\n".join(blocks) + "\n"


def bounded_thread(thread: threads.Thread, limit: int) -> str:
    """The thread as text within `limit` bytes: cut as a whole model before it is rendered (`budget.fit_thread`),
    so a cut falls between entries and never inside the fences around mail text."""
    dumped = thread.model_dump(mode="json", exclude_none=True)
    room = limit
    for _ in range(5):  # the text is rarely longer than the JSON; each round takes the excess off the room
        fitted = fit_thread(dumped, room)
        if fitted is None:
            break
        text = render_thread(threads.Thread.model_validate(fitted), fitted.get("truncated"))
        if len(text.encode()) <= limit:
            return text
        room -= len(text.encode()) - limit + 500
    raise ResourceError(TOO_BIG.format(limit=limit))


def readable_errors(read: Callable[..., Awaitable[str]]) -> Callable[..., Awaitable[str]]:
    """A resource read that fails says why, as a tool would (the SDK withholds any other exception's text)."""

    @functools.wraps(read)
    async def guarded(*args: Any, **kwargs: Any) -> str:
        try:
            return await read(*args, **kwargs)
        except NotFoundError as exc:
            raise ResourceNotFoundError(str(exc)) from None
        except MissiveError as exc:
            raise ResourceError(str(exc)) from None

    return guarded


def register(server: MCPServer[AppState], settings: Settings, current: Callable[[], AppState]) -> None:
    """Add the resources the settings permit."""
    if "conversations" in settings.toolsets:

        @server.resource(
            "missive://conversations/{conversation_id}",
            name="conversation",
            description="A whole conversation as readable text: metadata, then messages, comments and posts.",
            mime_type="text/markdown",
        )
        @readable_errors
        async def conversation(conversation_id: str, ctx: Context[Any, Any]) -> str:  # pyright: ignore[reportUnusedFunction]
            return bounded_thread(await threads.read_conversation(ctx, conversation_id), settings.max_result_bytes)

        @server.resource(
            INBOX,
            name="inbox",
            description=f"The Inbox's {INBOX_PAGE} newest conversations as JSON; subscribe to hear when it changes.",
            mime_type=JSON,
        )
        @readable_errors
        async def inbox() -> str:  # pyright: ignore[reportUnusedFunction]
            page = await current().client.call(ep.list_conversations, params={"inbox": True, "limit": INBOX_PAGE})
            return _json({"conversations": [c.concise().model_dump(mode="json", exclude_none=True) for c in page]})

    if "contacts" in settings.toolsets:

        @server.resource(
            "missive://contacts/{contact_id}", name="contact", description="One contact as JSON.", mime_type=JSON
        )
        @readable_errors
        async def contact(contact_id: str, ctx: Context[Any, Any]) -> str:  # pyright: ignore[reportUnusedFunction]
            return _json((await contacts.get_contact(ctx, contact_id)).model_dump(mode="json", exclude_none=True))

    if "directory" not in settings.toolsets:
        return

    def reference(uri: str, key: str, description: str, fetch: Callable[[Any], Awaitable[list[Any]]]) -> None:
        async def read() -> str:
            items = await fetch(current().client)
            return _json({key: [item.concise().model_dump(mode="json", exclude_none=True) for item in items]})

        server.resource(uri, name=key, description=description, mime_type=JSON)(readable_errors(read))

    page = {"limit": 200, "offset": 0}
    reference(
        "missive://organizations",
        "organizations",
        "Organizations the token's owner belongs to.",
        lambda client: client.call(ep.list_organizations, params=page),
    )
    reference(
        "missive://users", "users", "Users (teammates) with their ids.", lambda c: c.call(ep.list_users, params=page)
    )
    reference("missive://teams", "teams", "Teams with their ids.", lambda c: c.call(ep.list_teams, params=page))
    reference(
        "missive://shared-labels",
        "shared_labels",
        "Shared labels with their ids.",
        lambda c: c.call(ep.list_shared_labels, params=page),
    )
