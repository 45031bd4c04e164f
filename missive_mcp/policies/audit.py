"""One JSON line per write on the `missive_mcp.audit` logger, so an operator can answer "who closed this?": the
tool, the person, the ids it was given (names already resolved), what it created, and its outcome."""

from __future__ import annotations

import json
import logging
from typing import Any, Literal, cast

from mcp.server.auth.middleware.auth_context import get_access_token
from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.types import CallToolResult, InputRequiredResult

from ..calls import CallRecord, current_call

audit_log = logging.getLogger("missive_mcp.audit")
Outcome = Literal["ok", "error", "unknown", "asked"]


class Audit:
    def __init__(self, writes: set[str]) -> None:
        self.writes = writes

    async def __call__(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        if ctx.method != "tools/call" or not isinstance(ctx.params, dict):
            return await call_next(ctx)
        name = str(ctx.params.get("name", ""))
        record = CallRecord(arguments=_object(ctx.params.get("arguments")) or {})
        token = current_call.set(record)
        result: HandlerResult = None
        try:
            result = await call_next(ctx)
            return result
        finally:
            current_call.reset(token)
            if name in self.writes:
                audit(name, record, outcome(result, record), created_id(result))


def _object(value: Any) -> dict[str, Any] | None:
    return cast(dict[str, Any], value) if isinstance(value, dict) else None


def _dumped(result: HandlerResult) -> dict[str, Any] | None:
    return result.model_dump(by_alias=True) if isinstance(result, CallToolResult) else _object(result)


def outcome(result: HandlerResult, record: CallRecord) -> Outcome:
    """ok, error, unknown (the write may have happened: its answer was lost, or the call ran out of time), or
    asked (the person is being asked first: nothing was written yet)."""
    if isinstance(result, InputRequiredResult):
        return "asked"
    if record.outcome_unknown:
        return "unknown"
    data = _dumped(result)
    return "error" if data is None or data.get("isError") else "ok"


def created_id(result: HandlerResult) -> str | None:
    """The id of what a write created or changed, from its result (`{"post": {"id": ...}}`), if it has one."""
    data = _dumped(result)
    content = _object(data.get("structuredContent")) if data else None
    for value in (content or {}).values():
        found = _object(value)
        if found and isinstance(found.get("id"), str):
            return str(found["id"])
    return None


def audit(tool: str, record: CallRecord, result: Outcome, created: str | None = None) -> None:
    access = get_access_token()
    person = (
        {"user_id": access.subject, "email": getattr(access, "email", None), "client_id": access.client_id}
        if access is not None
        else None  # one-key mode or stdio: the configured token's owner
    )
    objects = {
        name: value
        for name, value in record.arguments.items()
        if (name.endswith(("_id", "_ids")) or name in ("conversation", "target", "organization", "team"))
        and value is not None
    }
    if created:
        objects["created"] = created
    line = {"event": "write", "tool": tool, "person": person, "objects": objects, "outcome": result}
    audit_log.info(json.dumps(line, ensure_ascii=False, separators=(",", ":")))
