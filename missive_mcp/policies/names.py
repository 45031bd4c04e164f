"""Users, teams and labels given by name are replaced by the ids they name (`names.py`) before the tool runs;
a name that matches several may be put to the person as a choice (`names.chooser`), and one that matches
nothing, or several when no one can be asked, is refused with the candidates."""

from __future__ import annotations

import dataclasses
from typing import Any, cast

from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.server.mcpserver import Context
from mcp.types import CallToolRequestParams, CallToolResult, TextContent

from ..asking import AskFirst
from ..calls import current_call
from ..errors import MissiveError
from ..names import Directory, NameKind, chooser


class ResolveNames:
    def __init__(self, named: dict[str, dict[str, NameKind]], deadline: float) -> None:
        self.named = named
        """Per tool, the arguments that may be names, and of what."""
        self.deadline = deadline

    async def __call__(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        if ctx.method != "tools/call" or not isinstance(ctx.params, dict):
            return await call_next(ctx)
        name = str(ctx.params.get("name", ""))
        given: dict[str, Any] = dict(cast(dict[str, Any], ctx.params.get("arguments") or {}))
        named: dict[str, NameKind] = {arg: kind for arg, kind in self.named.get(name, {}).items() if given.get(arg)}
        if not named:
            return await call_next(ctx)
        directory: Directory = ctx.lifespan_context.directory
        if named.get("organization") == "organization":  # first: the other names are looked up within it
            named = {"organization": "organization", **named}
        person = Context[Any, Any](request_context=ctx, input_params=CallToolRequestParams.model_validate(ctx.params))
        choose = chooser(person, self.deadline)  # an ambiguous name is put to the person
        try:
            for arg, kind in named.items():
                organization = str(given["organization"]) if given.get("organization") else None
                value = given[arg]
                if isinstance(value, list):
                    values = [str(v) for v in cast(list[Any], value)]
                    given[arg] = await directory.resolve_all(kind, arg, values, organization, choose)
                else:
                    given[arg] = await directory.resolve(kind, arg, str(value), organization, choose)
        except AskFirst as asking:  # 2026-07-28: the choice rides an input_required result
            return asking.result
        except MissiveError as refused:
            text = f"Error executing tool {name}: {refused}"
            return CallToolResult(content=[TextContent(type="text", text=text)], is_error=True)
        record = current_call.get()
        if record is not None:
            record.arguments = given
        return await call_next(dataclasses.replace(ctx, params={**ctx.params, "arguments": given}))
