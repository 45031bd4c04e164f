"""Conversation tools: list, get, update, merge, and the per-conversation lists."""

from typing import Annotated, Any

from mcp.server.mcpserver import Context
from pydantic import Field

from .. import endpoints as ep
from ..bodies import ConversationChanges, compose
from ..client import path_ids
from ..confirm import confirm, merging
from ..docstrings import Described
from ..errors import InvalidArgumentError
from ..models import Conversation
from ..state import app_state
from ..toolsets import CONVERSATIONS, HISTORY
from ._common import (
    ConversationId,
    IdList,
    LabelId,
    LabelIds,
    OrgId,
    ResponseFormat,
    TeamId,
    Until,
    UserIds,
    drop_none,
    per_id,
    split_page,
)
from .declaration import tool

MAILBOXES = ("inbox", "all", "assigned", "closed", "snoozed", "flagged", "trashed", "junked", "drafts")
Flag = bool | None


class ConversationPage(Described):
    conversations: list[Conversation]
    has_more: bool
    next_until: int | None = None
    """Pass as `until` (with the same filters) for the next page; null at the end."""


class ConversationResult(Described):
    conversation: Conversation


class UpdatedConversations(Described):
    conversations: list[Conversation]


def trim_page(
    items: list[Conversation], room: int, cursor: int | None, *, first: bool
) -> tuple[list[Conversation], int | None]:
    """The newest `room` items of a newest-first page and the cursor that resumes right after them. The cut
    falls before a run of tied timestamps (`until` includes its boundary, so the run comes back whole next
    time). A run that fills all the room waits for the next call, unless it is the first thing this call
    found: then it is served whole, a few more than asked rather than a gap."""
    if len(items) <= room:
        return items, cursor
    boundary = items[room - 1].last_activity_at
    if boundary is None:
        return items, cursor
    kept = [item for item in items[:room] if item.last_activity_at != boundary]
    if kept or not first:
        return kept, boundary
    return items, cursor


def shape(items: list[Any], response_format: str) -> list[Any]:
    return items if response_format == "detailed" else [item.concise() for item in items]


@tool(CONVERSATIONS, "List conversations", ep.list_conversations)
async def list_conversations(
    ctx: Context[Any, Any],
    inbox: Annotated[Flag, Field(description="Your Inbox.")] = None,
    all: Annotated[Flag, Field(description="All but trash/spam.")] = None,
    assigned: Annotated[Flag, Field(description="Assigned to you.")] = None,
    closed: Annotated[Flag, Field(description="Closed.")] = None,
    snoozed: Annotated[Flag, Field(description="Snoozed.")] = None,
    flagged: Annotated[Flag, Field(description="Starred.")] = None,
    trashed: Annotated[Flag, Field(description="Trash.")] = None,
    junked: Annotated[Flag, Field(description="Spam.")] = None,
    drafts: Annotated[Flag, Field(description="With your drafts.")] = None,
    shared_label: LabelId = None,
    team_inbox: Annotated[TeamId, Field(description="Team: its inbox.")] = None,
    team_closed: Annotated[TeamId, Field(description="Team: its closed.")] = None,
    team_all: Annotated[TeamId, Field(description="Team: all of it.")] = None,
    limit: Annotated[int, Field(ge=2, le=50, description="Per API page.")] = 25,
    until: Until = None,
    organization: OrgId = None,
    email: Annotated[str | None, Field(description="With this contact address.")] = None,
    domain: Annotated[str | None, Field(description="With contacts of this domain.")] = None,
    contact_organization: Annotated[str | None, Field(description="Contact group id.")] = None,
    max_results: Annotated[int | None, Field(ge=2, le=200, description="Collect up to ~this many.")] = None,
    response_format: ResponseFormat = "concise",
) -> ConversationPage:
    """List conversations, newest first. Give one mailbox: a flag (inbox=true...) or a label/team id; email, domain or
    contact_organization narrow it. Page with next_until."""
    flags = dict(
        inbox=inbox,
        all=all,
        assigned=assigned,
        closed=closed,
        snoozed=snoozed,
        flagged=flagged,
        trashed=trashed,
        junked=junked,
        drafts=drafts,
    )
    ids = dict(shared_label=shared_label, team_inbox=team_inbox, team_closed=team_closed, team_all=team_all)
    if not any(flags.values()) and not any(ids.values()):
        raise InvalidArgumentError(
            "",
            "give at least one mailbox filter: one of "
            + ", ".join(f"{name}=true" for name in MAILBOXES)
            + ", or shared_label/team_inbox/team_closed/team_all with an id from list_shared_labels or list_teams.",
        )
    contact = {
        k: v for k, v in dict(email=email, domain=domain, contact_organization=contact_organization).items() if v
    }
    if len(contact) > 1:
        raise InvalidArgumentError(", ".join(contact), "email, domain and contact_organization exclude each other.")
    params: dict[str, Any] = drop_none(**{k: v for k, v in flags.items() if v}, **ids, organization=organization)
    params.update(contact)
    client = app_state(ctx).client
    wanted = max_results or limit
    collected: list[Conversation] = []
    cursor = until
    while True:
        # Collecting: full pages (never smaller than `limit`), the last one trimmed, so the rate budget is not
        # spent on pages of 2.
        page_limit = limit if max_results is None else min(50, max(limit, wanted - len(collected)))
        page = await client.call(ep.list_conversations, params={**params, "limit": page_limit, "until": cursor})
        served, cursor = split_page(page, page_limit, lambda c: c.last_activity_at)
        seen = {c.id for c in collected}
        fresh = [c for c in served if c.id not in seen]
        full = max_results is not None and len(collected) + len(fresh) >= wanted
        if full:
            fresh, cursor = trim_page(fresh, wanted - len(collected), cursor, first=not collected)
        collected.extend(fresh)
        if cursor is None or max_results is None or full:
            break
    return ConversationPage(
        conversations=shape(collected, response_format), has_more=cursor is not None, next_until=cursor
    )


@tool(HISTORY, "Get a conversation", ep.get_conversation)
async def get_conversation(
    ctx: Context[Any, Any], conversation_id: ConversationId, response_format: ResponseFormat = "concise"
) -> ConversationResult:
    """Get one conversation's metadata: subject, assignees, labels, team, state, counts (a merged id answers the
    survivor). read_conversation gives its messages."""
    client = app_state(ctx).client
    conversation = await client.call(ep.get_conversation, ids=[conversation_id], id_field="conversation_id")
    return ConversationResult(conversation=shape([conversation], response_format)[0])


@tool(CONVERSATIONS, "Update conversations", ep.update_conversations, checks=ep.update_conversations)
async def update_conversation(
    ctx: Context[Any, Any],
    conversation_ids: Annotated[IdList, Field(min_length=1, max_length=25, description="From list_conversations.")],
    subject: Annotated[str | None, Field(description="New subject.")] = None,
    color: Annotated[str | None, Field(description="#ff0000, or good/warning/danger.")] = None,
    organization: Annotated[OrgId, Field(description="Needed with users, assignees, labels.")] = None,
    team: Annotated[TeamId, Field(description="Team id: set if it has none.")] = None,
    force_team: Annotated[bool | None, Field(description="Replace its team.")] = None,
    add_users: UserIds = None,
    add_assignees: UserIds = None,
    remove_assignees: UserIds = None,
    add_shared_labels: LabelIds = None,
    remove_shared_labels: LabelIds = None,
    add_to_inbox: Annotated[bool | None, Field(description="Back to the Inbox.")] = None,
    add_to_team_inbox: Annotated[bool | None, Field(description="Into team's inbox.")] = None,
    close: Annotated[bool | None, Field(description="Close.")] = None,
    reopen: Annotated[bool | None, Field(description="Reopen.")] = None,
) -> UpdatedConversations:
    """Change conversations: close, reopen, assign, label, move to a team or inbox, rename. Posts nothing in the
    thread."""
    changes = compose(
        ConversationChanges,
        subject=subject,
        color=color,
        organization=organization,
        team=team,
        force_team=force_team,
        add_users=add_users,
        add_assignees=add_assignees,
        remove_assignees=remove_assignees,
        add_shared_labels=add_shared_labels,
        remove_shared_labels=remove_shared_labels,
        add_to_inbox=add_to_inbox,
        add_to_team_inbox=add_to_team_inbox,
        close=close,
        reopen=reopen,
    )
    if not changes:
        raise InvalidArgumentError(
            "conversation_ids", "nothing to change: pass at least one change such as close=true."
        )
    items = per_id(conversation_ids, changes)
    client = app_state(ctx).client
    updated = await client.call(ep.update_conversations, ids=conversation_ids, id_field="conversation_ids", body=items)
    return UpdatedConversations(conversations=[c.concise() for c in updated])


@tool(CONVERSATIONS, "Merge conversations", ep.merge_conversations, ep.get_conversation)
async def merge_conversations(
    ctx: Context[Any, Any],
    conversation_id: Annotated[ConversationId, Field(description="The one merged away.")],
    target: Annotated[ConversationId, Field(description="The one that survives.")],
    subject: Annotated[str | None, Field(description="Subject after the merge.")] = None,
) -> ConversationResult:
    """Merge a conversation into `target`: its messages, comments and posts move there. Cannot be undone."""
    if conversation_id == target:
        raise InvalidArgumentError("target", "a conversation cannot be merged into itself.")
    path_ids("target", target)
    client = app_state(ctx).client
    await confirm(ctx, merging(conversation_id, target))
    merge = {"target": target} | ({"subject": subject} if subject is not None else {})
    merged = await client.call(ep.merge_conversations, ids=[conversation_id], id_field="conversation_id", body=merge)
    survivor = merged or await client.call(ep.get_conversation, ids=[target], id_field="target")
    return ConversationResult(conversation=survivor.concise())
