"""Analytics reports computed from the workspace, in the live report's layout.

The figures sit under `selected_period.global.totals.metrics`, with `tallies` beside `totals`, and the same
layout again under `previous_period` (the equally long period just before).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from statistics import mean, median
from typing import Any

from .workspace import Comment, Conversation, Message, Workspace


def build_report(ws: Workspace, report_id: str, params: Mapping[str, Any]) -> dict[str, Any]:
    start, end = params["start"], params["end"]
    scope = [c for c in ws.conversations.values() if _in_scope(c, params)]
    return {
        "id": report_id,
        "organization": params["organization"],
        "start": start,
        "end": end,
        "time_zone": params.get("time_zone", "UTC"),
        "selected_period": _period(ws, scope, start, end, params),
        "previous_period": _period(ws, scope, 2 * start - end, start, params),
    }


def _in_scope(conversation: Conversation, params: Mapping[str, Any]) -> bool:
    filters: tuple[tuple[str, Callable[[list[str]], bool]], ...] = (
        ("teams", lambda ids: conversation.team_id in ids),
        ("shared_labels", lambda ids: bool(set(ids) & set(conversation.label_ids))),
        ("users", lambda ids: bool(set(ids) & set(conversation.assignee_ids))),
    )
    return conversation.organization_id == params["organization"] and all(
        match(params[key]) for key, match in filters if params.get(key)
    )


def _period(ws: Workspace, scope: list[Conversation], start: int, end: int, params: Mapping[str, Any]) -> Any:
    types = set(params.get("account_types") or [])
    during = [m for c in scope for m in c.messages if start <= m.delivered_at < end and (not types or m.type in types)]
    received = [m for m in during if m.author_id is None]
    sent = [m for m in during if m.author_id is not None]
    comments = [x for c in scope for x in c.comments if start <= x.created_at < end]
    created = [c for c in scope if start <= c.created_at < end]
    replies = [wait for c in scope for wait in _reply_times(c, start, end)]
    first_replies = [waits[0] for c in scope if (waits := _reply_times(c, start, end))]
    metrics = {
        "conversations_created": len(created),
        "conversations_closed": sum(1 for c in scope if start <= c.last_activity_at < end and _closed(c)),
        "messages_received": len(received),
        "messages_sent": len(sent),
        "comments_created": len(comments),
        "first_reply_time_avg": _average(first_replies),
        "first_reply_time_median": _median(first_replies),
        "reply_time_avg": _average(replies),
        "reply_time_median": _median(replies),
        "replies_per_conversation_avg": round(len(sent) / len(created), 2) if created else None,
    }
    sent_by = Counter(m.author_id for m in sent)
    tallies = {
        "users": [
            {"id": u.id, "name": u.name, "messages_sent": sent_by[u.id], "comments_created": _count(comments, u.id)}
            for u in ws.users.values()
            if params["organization"] in u.organization_ids
        ],
        "teams": [
            {"id": t.id, "name": t.name, "conversations_created": sum(1 for c in created if c.team_id == t.id)}
            for t in ws.teams.values()
            if t.organization_id == params["organization"]
        ],
        "shared_labels": [
            {"id": label.id, "name": label.name, "conversations": sum(1 for c in created if label.id in c.label_ids)}
            for label in ws.shared_labels.values()
            if label.organization_id == params["organization"]
        ],
        "account_types": dict(Counter(m.type for m in received)),
    }
    return {"start": start, "end": end, "global": {"totals": {"metrics": metrics}, "tallies": tallies}}


def _reply_times(conversation: Conversation, start: int, end: int) -> list[int]:
    """Seconds from each inbound message in the period to the team's next message."""
    ordered = sorted(conversation.messages, key=lambda m: m.delivered_at)
    waits: list[int] = []
    for index, inbound in enumerate(ordered):
        if inbound.author_id is None and start <= inbound.delivered_at < end:
            reply = _first_sent(ordered[index + 1 :])
            if reply is not None:
                waits.append(reply.delivered_at - inbound.delivered_at)
    return waits


def _first_sent(messages: Iterable[Message]) -> Message | None:
    return next((m for m in messages if m.author_id is not None), None)


def _closed(conversation: Conversation) -> bool:
    return bool(conversation.users) and all(mailbox.closed for mailbox in conversation.users.values())


def _count(comments: Iterable[Comment], author_id: str) -> int:
    return sum(1 for comment in comments if comment.author_id == author_id)


def _average(values: list[int]) -> int | None:
    return round(mean(values)) if values else None


def _median(values: list[int]) -> int | None:
    return round(median(values)) if values else None
