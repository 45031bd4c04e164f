"""Dynamic toolsets (MISSIVE_DYNAMIC_TOOLSETS): start small, and let the agent turn on a group when it needs it.

For clients that follow `notifications/tools/list_changed` (as github-mcp-server's dynamic toolsets): the
server serves every tool of MISSIVE_TOOLSETS (the ceiling; `all` lets the agent reach everything) but shows
only the enabled toolsets' ones, starting with the default (triage) ones; `enable_toolset` lists the groups and
turns one on, then tells the client its tool list changed. Read-only mode still hides every write. The switch
is server-wide, so it is offered over stdio only (one person per process); over HTTP the operator chooses with
MISSIVE_TOOLSETS.
"""

import logging
from dataclasses import dataclass, field
from typing import Annotated, Any

from mcp.server.mcpserver import Context
from pydantic import Field

from ..docstrings import Described
from ..errors import InvalidArgumentError, PermissionDeniedError
from ..settings import TOOLSETS
from ._common import state

logger = logging.getLogger(__name__)

DESCRIPTIONS = {
    "conversations": "list, read, update and merge conversations; their messages",
    "drafts": "drafts and replies; canned responses to start from",
    "posts": "internal notes that can also close, label or assign",
    "tasks": "tasks, standalone or in a conversation",
    "directory": "organizations, users, teams and shared labels; an organization's analytics report",
    "history": "one conversation's metadata, comments and posts page by page; a message by Message-ID",
    "contacts": "contacts, contact books and groups",
    "responses": "read one canned response; create, change and delete them",
    "admin": "create and change shared labels and teams",
    "webhooks": "create and delete webhooks",
    "analytics": "start analytics reports, with filters (teams, users, labels, channels)",
    "attachments": "open a message's attachment",
    "messages": "add messages to a custom channel",
    "watch": "wait for new activity in a mailbox (for clients without resource subscriptions)",
}
"""What each toolset holds, as enable_toolset shows it."""


@dataclass
class Switchboard:
    """Which toolsets are enabled now, and the tools of each (by name)."""

    enabled: set[str]
    tools: dict[str, list[str]] = field(default_factory=dict)  # pyright: ignore[reportUnknownVariableType]


class ToolsetInfo(Described):
    name: str
    enabled: bool
    about: str
    tools: list[str]


class Toolsets(Described):
    toolsets: list[ToolsetInfo]
    changed: bool
    """True when this call turned a toolset on (the client was told its tool list changed)."""


async def enable_toolset(
    ctx: Context[Any, Any],
    toolset: Annotated[str | None, Field(description="Toolset to turn on; omit to list them.")] = None,
) -> Toolsets:
    """List the toolsets (groups of tools) and which are on; with `toolset`, turn that one on for this
    session. Its tools then appear in the tool list."""
    board = state(ctx).switchboard
    if board is None:  # the tool is only registered in dynamic mode
        raise InvalidArgumentError("toolset", "this server has no dynamic toolsets (MISSIVE_DYNAMIC_TOOLSETS).")
    changed = False
    if toolset is not None:
        name = toolset.strip().lower()
        if name not in TOOLSETS:
            raise InvalidArgumentError(
                "toolset", f"{toolset[:40]!r} is not a toolset; use one of {', '.join(TOOLSETS)}."
            )
        if name not in board.tools:
            offered = ", ".join(sorted(board.tools.keys() - {"dynamic"}))
            raise PermissionDeniedError(
                f"The {name} toolset is not offered on this server: the operator's MISSIVE_TOOLSETS (and read-only "
                f"mode) decide which may be turned on. Offered: {offered}."
            )
        if name not in board.enabled:
            board.enabled.add(name)
            changed = True
            await tell_client(ctx)
    listed = [
        ToolsetInfo(name=name, enabled=name in board.enabled, about=DESCRIPTIONS[name], tools=board.tools.get(name, []))
        for name in TOOLSETS
        if board.tools.get(name)
    ]
    return Toolsets(toolsets=listed, changed=changed)


async def tell_client(ctx: Context[Any, Any]) -> None:
    """notifications/tools/list_changed: on the connection (handshake protocols) and on the subscription bus
    (2026-07-28 clients listening with subscriptions/listen)."""
    try:
        await ctx.request_context.session.send_tool_list_changed()
    except Exception:  # a protocol era or transport without a back channel: the bus below still carries it
        logger.debug("tools/list_changed not sent on the connection", exc_info=True)
    try:
        await ctx.notify_tools_changed()
    except Exception:
        logger.debug("tools/list_changed not published", exc_info=True)
