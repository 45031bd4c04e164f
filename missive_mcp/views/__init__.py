"""The inbox and thread views (MCP Apps, the `io.modelcontextprotocol/ui` extension): `ui://` HTML documents that a
client which negotiated the extension renders beside a tool's result.

The HTML beside this module is built from `views/` at the repository root (`npm --prefix views ci && npm --prefix
views run build`); it ships in the package, so installing needs no Node. A view acts only through the tools, so every
rule of the server holds in it as in chat. Clients that did not negotiate the extension see nothing of this: no
`_meta.ui` on the tools, no `ui://` resources listed, the same results.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable
from importlib import resources
from typing import Any, cast

from mcp.server.apps import APP_MIME_TYPE, Apps, client_supports_apps
from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.server.mcpserver.resources import FunctionResource

INBOX = "ui://missive/inbox.html"
THREAD = "ui://missive/thread.html"

VIEWS: dict[str, str] = {"list_conversations": INBOX, "watch_inbox": INBOX, "read_conversation": THREAD}
"""Which view shows each tool's result (a tool the server does not serve is skipped)."""

ACTIONS = (
    "list_conversations",
    "watch_inbox",
    "read_conversation",
    "update_conversation",
    "reply_to_conversation",
    "create_post",
    "get_attachment",
)
"""The tools a view may call. A view offers an action only when its tool is served (read-only mode serves none of
the writes, so their buttons are not drawn); a refused call shows the tool's own sentence."""

PAGES = {
    INBOX: ("inbox.html", "Inbox", "The conversations of a list: open, close, assign, label, load more."),
    THREAD: ("thread.html", "Thread", "One conversation's messages, comments and posts: reply, note, close, assign."),
}


@functools.cache
def shipped(file: str) -> str:
    """A built view as shipped in the package (read once per process)."""
    return resources.files(__name__).joinpath(file).read_text(encoding="utf-8")


def page(file: str, served: Iterable[str]) -> str:
    """A view's document, told which of its actions this server serves. The list is data for the view's script
    (a JSON script element, never executed); it holds tool names only."""
    tools = json.dumps(sorted(set(served) & set(ACTIONS)))
    config = f'<script type="application/json" id="missive-tools">{tools}</script>'
    return shipped(file).replace("</head>", config + "</head>", 1)


def extension(served: Iterable[str]) -> Apps:
    """The Apps extension with both views, for `MCPServer(extensions=[...])`. A document is read from the package
    when a client first asks for it, not at start-up. The SDK stamps `_meta.ui` on tools registered through
    `Apps.tool` for every client; ours are stamped per client by `ViewLinks` instead."""
    served = tuple(served)
    apps = Apps()
    for uri, (file, title, description) in PAGES.items():
        apps.add_resource(
            FunctionResource(
                uri=uri,
                name=file.removesuffix(".html"),
                title=title,
                description=description,
                mime_type=APP_MIME_TYPE,
                fn=functools.partial(_read, file, served),
            )
        )
    return apps


async def _read(file: str, served: tuple[str, ...]) -> str:
    return page(file, served)


class ViewLinks:
    """Middleware: for a client that negotiated Apps, tools/list carries `_meta.ui.resourceUri` on the tools that
    have a view; for any other client the `ui://` documents are not listed either, so its lists stay unchanged.
    (`Apps.tool` stamps the link on the tool itself, for every client: no per-client hook.)"""

    async def __call__(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        result = await call_next(ctx)
        if ctx.method not in ("tools/list", "resources/list") or not isinstance(result, dict):
            return result
        listed: dict[str, Any] = result
        apps = client_supports_apps(ctx)
        if ctx.method == "resources/list":
            shown = [
                r for r in _objects(listed.get("resources")) if apps or not str(r.get("uri", "")).startswith("ui://")
            ]
            return {**listed, "resources": shown}
        if not apps:
            return listed
        return {**listed, "tools": [_linked(tool) for tool in _objects(listed.get("tools"))]}


def _linked(tool: dict[str, Any]) -> dict[str, Any]:
    uri = VIEWS.get(str(tool.get("name")))
    if uri is None:
        return tool
    meta: dict[str, Any] = {**(_objects([tool.get("_meta")]) or [{}])[0], "ui": {"resourceUri": uri}}
    return {**tool, "_meta": meta}


def _objects(values: Any) -> list[dict[str, Any]]:
    """The JSON objects in a list (anything else left out), typed."""
    found: list[Any] = list(values) if isinstance(values, list) else []  # pyright: ignore[reportUnknownArgumentType]
    return [cast(dict[str, Any], value) for value in found if isinstance(value, dict)]


__all__ = ["APP_MIME_TYPE", "INBOX", "THREAD", "VIEWS", "ViewLinks", "extension", "page"]
