"""A person's yes before mail leaves or something is deleted (MISSIVE_CONFIRM), asked through the client.

One entry: `await confirm(ctx, action)`, called by a tool just before the request that sends or deletes. It
returns when the action may go ahead, and otherwise raises `NotConfirmed`, whose sentence says that nothing
reached Missive and why:

    not listed in MISSIVE_CONFIRM            go ahead
    the client cannot ask the person         go ahead, unless MISSIVE_CONFIRM_REQUIRED=true: refused
    asked: accept (with the box ticked)      go ahead
    asked: decline / cancel                  refused
    no answer within the call deadline       refused (a yes after the deadline counts as no answer)
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mcp.server.mcpserver import Context
from pydantic import BaseModel, Field

from .asking import ask, can_ask
from .errors import PermissionDeniedError
from .settings import Confirmable, Settings
from .text import html_to_text, looks_like_html

PREVIEW_CHARS = 500
"""How much of a message's text the question shows."""


class Confirmation(BaseModel):
    confirm: bool = Field(default=True, description="Yes, do it.")


class NotConfirmed(PermissionDeniedError):
    """The person did not say yes (or could not be asked and a yes is required): nothing was sent."""


@dataclass(frozen=True)
class Action:
    """What is about to happen, as the person reads it."""

    kind: Confirmable
    doing: str
    """What would happen, for the result sentence: "send the message", "delete the draft D"."""
    details: str
    """Everything the person should see before saying yes."""


async def confirm(ctx: Context[Any, Any], action: Action | None) -> None:
    """Return when `action` may happen (None: nothing that needs a yes); raise NotConfirmed (nothing reaches
    Missive) otherwise."""
    settings: Settings = ctx.request_context.lifespan_context.settings
    if action is None or action.kind not in settings.confirm:
        return
    if not can_ask(ctx):
        if settings.confirm_required:
            raise NotConfirmed(
                f"This server needs a person's yes before it {_verb(action)} (MISSIVE_CONFIRM_REQUIRED=true), and "
                f"this client cannot ask them (no form elicitation), so nothing was sent. Use a client that can "
                "ask, or leave it to a person in Missive."
            )
        return
    answer = await ask(ctx, "confirm", action.details, Confirmation, limit=settings.deadline)
    if answer.outcome == "accept" and isinstance(answer.data, Confirmation) and answer.data.confirm:
        return
    if answer.outcome in ("late", "unanswered"):
        raise NotConfirmed(
            f"No answer came within the call's {settings.deadline:g} s deadline (MISSIVE_DEADLINE) to the question "
            f"whether to {action.doing}, so nothing was sent; a later yes does not count. Call again to ask "
            "again."
        )
    said = {"accept": "did not tick yes", "decline": "declined", "cancel": "cancelled"}[answer.outcome]
    raise NotConfirmed(f"The person {said} when asked whether to {action.doing}, so nothing was sent to Missive.")


def _verb(action: Action) -> str:
    return "sends mail" if action.kind == "send" else "deletes or merges"


def sending(draft: Mapping[str, Any]) -> Action | None:
    """The question before a draft body with `send` or `send_at` goes to Missive: from, to, cc, bcc, subject, the
    start of the text, and when. None for a draft that stays a draft."""
    when = draft.get("send_at")
    if not draft.get("send") and not when:
        return None
    head = (
        f"Schedule this message for {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime(when))}?"
        if when
        else "Send this message now?"
    )
    sender = _parties([draft["from_field"]]) if draft.get("from_field") else "(your default sender)"
    lines = [head, f"From: {sender}"]
    lines += [f"{label}: {_parties(draft.get(field) or [])}" for label, field in _FIELDS]
    lines.append(f"Subject: {draft.get('subject') or '(none)'}")
    body = str(draft.get("body") or "")
    text = html_to_text(body) if looks_like_html(body) else body
    preview = text[:PREVIEW_CHARS] + ("..." if len(text) > PREVIEW_CHARS else "")
    conversation = f" (in conversation {draft['conversation']})" if draft.get("conversation") else ""
    verb = "schedule" if when else "send"
    return Action("send", f"{verb} the message{conversation}", "\n".join(lines) + f"\n\n{preview}")


_FIELDS = (("To", "to_fields"), ("Cc", "cc_fields"), ("Bcc", "bcc_fields"))


def _parties(parties: list[dict[str, Any]]) -> str:
    shown = [
        " ".join(str(p[k]) for k in ("name", "address", "phone_number", "username", "id") if p.get(k)) for p in parties
    ]
    return ", ".join(shown) if shown else "(none)"


def deleting(what: str) -> Action:
    """The question before a delete: what goes."""
    return Action("delete", f"delete {what}", f"Delete {what}? This cannot be undone.")


def merging(source: str, target: str) -> Action:
    """The question before a merge: the conversation that disappears into another."""
    return Action(
        "delete",
        f"merge conversation {source} into {target}",
        f"Merge conversation {source} into conversation {target}? Its messages, comments and posts move there and "
        f"{source} is gone. This cannot be undone.",
    )
