"""The server's policies around every request: one small middleware each (the SDK's `middleware=` hook), listed
here in the order they run, outermost first.

    listening    subscriptions/listen: only readable resources, watched while a stream is open (`watch.py`)
    handshake    a request sent before the handshake says what to send first
    refusals     a tool the operator turned off says why, instead of "Unknown tool"
    arguments    the input schema and Missive's body rules, one line per problem, before anything is sent
    audit        one JSON line per write: who, which ids, what it created, ok / error / unknown / asked
    compact      a result's text block as compact JSON without nulls, within MISSIVE_MAX_RESULT_BYTES
    deadline     every call and resource read ends within MISSIVE_DEADLINE, saying which wait ran out
    names        users, teams and labels given by name are replaced by their ids
    views        tools/list links the `ui://` views for clients that negotiated MCP Apps (`views/`)
    questions    a person's yes (`confirm.py`) asked on 2026-07-28: the call answers input_required (`asking.py`)

A policy learns what happened inside from typed values (`calls.CallRecord`, a context variable), never by
reading an error's sentence.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mcp.server.context import ServerMiddleware
from mcp.server.mcpserver.tools import Tool

from ..asking import Questions
from ..names import named_arguments
from ..settings import Settings
from ..tools.declaration import ToolDeclaration
from ..views import ViewLinks
from ..watch import Listening
from .arguments import Arguments
from .audit import Audit
from .compact import Compact
from .deadline import Deadline
from .handshake import Handshake
from .names import ResolveNames
from .refusals import Refusals


def policies(
    settings: Settings, served: Sequence[ToolDeclaration[..., Any]], turned_off: dict[str, str], tools: list[Tool]
) -> list[ServerMiddleware[Any]]:
    """The middleware for a server serving `served` (built as `tools`); `turned_off` says why each other tool is
    not served."""
    return [
        Listening(),
        Handshake(),
        Refusals(turned_off),
        Arguments(tools, {tool.name: tool.checks for tool in served if tool.checks is not None}),
        Audit({tool.name for tool in served if tool.access == "write"}),
        Compact(tools, settings.max_result_bytes),
        Deadline(settings.deadline),
        ResolveNames(named_arguments(tools), settings.deadline),
        ViewLinks(),
        Questions(),
    ]
