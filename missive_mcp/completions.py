"""Argument completions (completion/complete) for the prompts and resource templates, from the directory."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mcp.server.mcpserver import MCPServer
from mcp.types import Completion, CompletionArgument, PromptReference, ResourceTemplateReference

from . import endpoints as ep
from .errors import MissiveError
from .state import AppState

MAILBOX_WORDS = ("inbox", "assigned", "flagged", "closed", "snoozed", "all")
"""What triage_inbox's `mailbox` takes besides a team."""
RECENT = 50
"""Conversations offered when completing a conversation id."""


def register(server: MCPServer[AppState], current: Callable[[], AppState]) -> None:
    @server.completion()
    async def complete(  # pyright: ignore[reportUnusedFunction]
        ref: PromptReference | ResourceTemplateReference, argument: CompletionArgument, context: Any
    ) -> Completion | None:
        try:
            values = await candidates(current(), ref, argument.name, argument.value)
        except MissiveError:
            return None  # a completion is a convenience: no answer rather than an error
        return Completion(values=values[:100], total=len(values), has_more=len(values) > 100)


async def candidates(
    app: AppState, ref: PromptReference | ResourceTemplateReference, name: str, partial: str
) -> list[str]:
    if name == "mailbox":
        words = [word for word in MAILBOX_WORDS if word.startswith(partial.lower())]
        return [*words, *await app.directory.complete("team", partial)]
    if name == "organization":
        found = await app.directory.entries("organization")
        wanted = partial.casefold()
        return [o.id for o in found if o.id.startswith(partial) or wanted in o.label.casefold()]
    if name == "conversation_id":
        recent = await app.client.call(ep.list_conversations, params={"all": True, "limit": RECENT})
        return [c.id for c in recent if c.id.startswith(partial)]
    return []
