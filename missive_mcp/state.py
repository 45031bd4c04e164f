"""What the server's lifespan opens once and every tool call, resource read and completion shares."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mcp.server.mcpserver import Context

from .client import MissiveClient
from .names import Directory
from .settings import Settings

if TYPE_CHECKING:
    from .watch import Sessions, Watcher


@dataclass(frozen=True)
class AppState:
    """The server's state, opened by its lifespan."""

    client: MissiveClient
    settings: Settings
    directory: Directory
    """Names of users, teams and labels, for arguments given by name and for completions."""
    watcher: Watcher | None = None
    """Looks at Missive while anyone listens (subscriptions, watch_inbox); None while the server is not running."""
    sessions: Sessions | None = None
    """Older protocols' resource subscriptions, per session."""


def app_state(ctx: Context[Any, Any]) -> AppState:
    """The state of the server running this call."""
    return ctx.request_context.lifespan_context
