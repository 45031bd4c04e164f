"""Asking the person mid-call, in both protocol eras, inside the call's deadline.

Handshake-era clients (2025-11-25 and older) get `elicitation/create` mid-call; we wait at most what is left of
the call's deadline. On 2026-07-28 the call answers `input_required` and the client retries it with the answer;
the client holds the question meanwhile, so the server cannot end it at the deadline, only judge the answer:
the time it was asked travels in the request state (sealed by the SDK's `RequestStateBoundary`, under a key
every replica derives from MISSIVE_MCP_SECRET_KEY, see `state_security`), and a yes that comes back later than
the deadline counts as no answer.

The SDK's `Resolve`/`Elicit` do both eras too, but record neither when a question was asked nor a way to end the
wait at the deadline (the missing hooks); this module is the small adapter.

    ask(ctx, key, message, Schema) -> Answer        accept / decline / cancel / late / unanswered
    Questions                                       middleware: turns AskFirst into the input_required result
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Literal, TypeVar, cast

import anyio
from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.server.elicitation import AcceptedElicitation, render_elicitation_schema
from mcp.server.mcpserver import Context
from mcp.server.request_state import RequestStateSecurity
from mcp.shared.exceptions import MCPError
from mcp_types import ElicitRequest, ElicitRequestFormParams, ElicitResult, InputRequiredResult
from mcp_types.version import MODERN_PROTOCOL_VERSIONS
from pydantic import BaseModel, ValidationError

from . import deadline

M = TypeVar("M", bound=BaseModel)
Outcome = Literal["accept", "decline", "cancel", "late", "unanswered"]
STATE_KEY_INFO = b"missive-mcp/request-state/v1"
"""What the request-state key is derived for (HKDF info in the SDK's codec, after this prefix)."""


@dataclass(frozen=True)
class Answer:
    """What the person said: `data` is set when they accepted."""

    outcome: Outcome
    data: BaseModel | None = None
    waited: float = 0.0
    """Seconds between the question and the answer (for a late or missing answer)."""


class AskFirst(MCPError):
    """Raised inside a tool on 2026-07-28: the call must answer `input_required` first. An MCPError, so the SDK
    passes it through the tool unchanged; `Questions` (middleware) turns it into the result."""

    def __init__(self, result: InputRequiredResult) -> None:
        super().__init__(0, "input required")
        self.result = result


class Questions:
    """Middleware: a tools/call whose tool raised AskFirst answers with its `input_required` result."""

    async def __call__(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        try:
            return await call_next(ctx)
        except AskFirst as asking:
            return asking.result


def can_ask(ctx: Context[Any, Any]) -> bool:
    """Whether the client said it can show a form to the person and we can reach it now: on 2026-07-28 through
    `input_required`; otherwise through a request on its session (stdio; not stateless HTTP, where the SDK drops
    a handshake client's capabilities and blocks server-to-client requests)."""
    capabilities = ctx.client_capabilities
    elicitation = capabilities.elicitation if capabilities is not None else None
    if elicitation is None or (elicitation.form is None and elicitation.url is not None):
        return False
    return modern(ctx) or ctx.request_context.session.can_send_request


def modern(ctx: Context[Any, Any]) -> bool:
    return ctx.protocol_version in MODERN_PROTOCOL_VERSIONS


def digest(message: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(message.encode()).digest()[:12]).decode()


async def ask(ctx: Context[Any, Any], key: str, message: str, schema: type[M], *, limit: float) -> Answer:
    """Ask the person `message` with a form of `schema`; an answer later than `limit` seconds does not count."""
    if not modern(ctx):
        wait = deadline.within(limit)
        started = time.monotonic()
        with anyio.move_on_after(wait):
            outcome = await ctx.elicit(message, schema)
            if isinstance(outcome, AcceptedElicitation):
                return Answer("accept", outcome.data)
            return Answer(outcome.action)
        return Answer("unanswered", waited=time.monotonic() - started)

    state = _call_state(ctx)
    question = digest(message)
    done = _entry(state, "answered", key)
    if done.get("q") == question:  # answered in an earlier round of this call
        return _answer(done, schema)
    asked = _entry(state, "asked", key)
    response = (ctx.input_responses or {}).get(key)
    if asked.get("q") != question or not isinstance(response, ElicitResult):
        # First round, or the question changed since (a new message arrived): ask it now.
        state["asked"][key] = {"q": question, "at": time.time()}
        request = ElicitRequest(
            params=ElicitRequestFormParams(message=message, requested_schema=render_elicitation_schema(schema))
        )
        raise AskFirst(InputRequiredResult(input_requests={key: request}, request_state=json.dumps(state)))
    waited = time.time() - float(asked.get("at", 0))
    if waited > limit:
        return Answer("late", waited=waited)
    record = {"q": question, "action": response.action, "content": response.content}
    state["answered"][key] = record  # later rounds of this call (another question) still know it
    return _answer(record, schema)


def _entry(state: dict[str, Any], part: str, key: str) -> dict[str, Any]:
    """One question's record in the state (`asked` or `answered`), or {} when there is none."""
    section: Any = state.setdefault(part, {})
    found: Any = cast(dict[str, Any], section).get(key) if isinstance(section, dict) else None
    return cast(dict[str, Any], found) if isinstance(found, dict) else {}


def _answer(record: dict[str, Any], schema: type[M]) -> Answer:
    if record.get("action") != "accept":
        return Answer("decline" if record.get("action") == "decline" else "cancel")
    try:
        return Answer("accept", schema.model_validate(record.get("content") or {}))
    except ValidationError:
        return Answer("cancel")


_CALL_STATE: ContextVar[tuple[object, dict[str, Any]] | None] = ContextVar("missive_mcp_call_state", default=None)


def _call_state(ctx: Context[Any, Any]) -> dict[str, Any]:
    """This round's request state, shared by every question asked in it (a name, then a yes)."""
    request = ctx.request_context.request_id
    found = _CALL_STATE.get()
    if found is not None and found[0] == request:
        return found[1]
    state = _state(ctx.request_state)
    _CALL_STATE.set((request, state))
    return state


def _state(plain: str | None) -> dict[str, Any]:
    """Our request state: plaintext here, the SDK's boundary having checked its seal."""
    if not plain:
        return {}
    try:
        found = json.loads(plain)
    except ValueError:
        return {}
    return found if isinstance(found, dict) else {}  # pyright: ignore[reportUnknownVariableType]


def state_security(secret_keys: tuple[str, ...]) -> RequestStateSecurity | None:
    """Seal 2026-07-28 request state under keys every replica shares (MISSIVE_MCP_SECRET_KEY, first seals, all
    open), so a retried call may land on any replica; None (the SDK's per-process key) without one. The key is
    derived, never the secret itself: the same secret also seals stored Missive tokens."""
    if not secret_keys:
        return None
    keys = [hashlib.sha256(STATE_KEY_INFO + base64.urlsafe_b64decode(k)).digest() for k in secret_keys]
    return RequestStateSecurity(keys=keys, audience="missive")
