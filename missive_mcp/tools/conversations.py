"""Conversation tools: list, get, update, merge, and the per-conversation lists."""

from __future__ import annotations

from typing import Annotated, Any

from mcp.server.mcpserver import Context
from pydantic import BaseModel, Field

from ..errors import InvalidArgumentError
from ..models import Conversation
from ._common import (
    ConversationId,
    IdList,
    OrganizationId,
    ResponseFormat,
    Until,
    drop_none,
    split_page,
    state,
)

MAILBOXES = ("inbox", "all", "assigned", "closed", "snoozed", "flagged", "trashed", "junked", "drafts")
TEAM_FILTERS = ("shared_label", "team_inbox", "team_closed", "team_all")
Flag = bool | None


class ConversationPage(BaseModel):
    conversations: list[Conversation]
    has_more: bool
    next_until: int | None = None
    """Pass as `until` (with the same filters) for the next page; null at the end."""


class ConversationResult(BaseModel):
    conversation: Conversation


class UpdatedConversations(BaseModel):
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


async def list_conversations(
    ctx: Context[Any, Any],
    inbox: Flag = None,
    all: Flag = None,
    assigned: Flag = None,
    closed: Flag = None,
    snoozed: Flag = None,
    flagged: Flag = None,
    trashed: Flag = None,
    junked: Flag = None,
    drafts: Flag = None,
    shared_label: Annotated[str | None, Field(description="Shared label id (list_shared_labels).")] = None,
    team_inbox: Annotated[str | None, Field(description="Team id (list_teams): its inbox.")] = None,
    team_closed: Annotated[str | None, Field(description="Team id (list_teams): its closed conversations.")] = None,
    team_all: Annotated[str | None, Field(description="Team id (list_teams): all its conversations.")] = None,
    limit: Annotated[int, Field(ge=2, le=50, description="Conversations per API page.")] = 25,
    until: Until = None,
    organization: Annotated[str | None, Field(description="Organization id (list_organizations).")] = None,
    email: Annotated[str | None, Field(description="Only with this contact address.")] = None,
    domain: Annotated[str | None, Field(description="Only with contacts of this domain.")] = None,
    contact_organization: Annotated[str | None, Field(description="Contact group id (list_contact_groups).")] = None,
    max_results: Annotated[
        int | None, Field(ge=2, le=200, description="Collect several pages in one call, up to about this many.")
    ] = None,
    response_format: ResponseFormat = "concise",
) -> ConversationPage:
    """List conversations, newest activity first. Give at least one mailbox filter: a flag such as inbox=true
    or closed=true, or shared_label / team_inbox / team_closed / team_all with an id. email, domain and
    contact_organization narrow further (one of them at most). Page with next_until; nothing repeats or is
    skipped. Read a whole thread with read_conversation."""
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
            "inbox",
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
    client = state(ctx).client
    wanted = max_results or limit
    collected: list[Conversation] = []
    cursor = until
    while True:
        # Collecting: full pages (never smaller than `limit`), the last one trimmed, so the rate budget is not
        # spent on pages of 2.
        page_limit = limit if max_results is None else min(50, max(limit, wanted - len(collected)))
        page = await client.list_conversations({**params, "limit": page_limit, "until": cursor})
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


async def get_conversation(
    ctx: Context[Any, Any], conversation_id: ConversationId, response_format: ResponseFormat = "concise"
) -> ConversationResult:
    """Get one conversation's metadata: subject, assignees, labels, team, per-user state and counts. A merged
    id answers the surviving conversation (its id may differ). For its messages use read_conversation."""
    conversation = await state(ctx).client.get_conversation(conversation_id)
    return ConversationResult(conversation=shape([conversation], response_format)[0])


async def update_conversation(
    ctx: Context[Any, Any],
    conversation_ids: Annotated[IdList, Field(min_length=1, max_length=25, description="Ids from list_conversations.")],
    subject: str | None = None,
    color: Annotated[str | None, Field(description="Hex color such as #ff0000, or 'good'/'warning'/'danger'.")] = None,
    organization: Annotated[
        OrganizationId | None,
        Field(description="Organization id (list_organizations); needed with add_users, assignees and labels."),
    ] = None,
    team: Annotated[str | None, Field(description="Team id (list_teams): links it to the team if it has none.")] = None,
    force_team: Annotated[bool | None, Field(description="With team: move it even if it has a team.")] = None,
    add_users: Annotated[IdList | None, Field(description="User ids (list_users) to give access.")] = None,
    add_assignees: Annotated[IdList | None, Field(description="User ids (list_users) to assign.")] = None,
    remove_assignees: Annotated[IdList | None, Field(description="User ids (list_users).")] = None,
    add_shared_labels: Annotated[
        IdList | None, Field(description="Label ids (list_shared_labels); needs organization.")
    ] = None,
    remove_shared_labels: Annotated[IdList | None, Field(description="Label ids (list_shared_labels).")] = None,
    add_to_inbox: Annotated[bool | None, Field(description="Back into everyone's Inbox (un-archive).")] = None,
    add_to_team_inbox: Annotated[bool | None, Field(description="Into the inbox of `team` (give team).")] = None,
    close: Annotated[bool | None, Field(description="Close for everyone.")] = None,
    reopen: Annotated[bool | None, Field(description="Reopen for everyone.")] = None,
) -> UpdatedConversations:
    """Change one or more conversations at once: close or reopen, assign, label, move to a team or inbox,
    rename. Silent: it posts nothing in the thread. Returns the updated conversations."""
    changes = drop_none(
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
    updated = await state(ctx).client.update_conversations(conversation_ids, changes)
    return UpdatedConversations(conversations=[c.concise() for c in updated])


async def merge_conversations(
    ctx: Context[Any, Any],
    conversation_id: Annotated[
        ConversationId, Field(description="The conversation to merge away (list_conversations).")
    ],
    target: Annotated[
        ConversationId,
        Field(description="The conversation that receives everything and survives (list_conversations)."),
    ],
    subject: Annotated[str | None, Field(description="Subject for the merged conversation.")] = None,
) -> ConversationResult:
    """Merge a conversation into `target`: its messages, comments and posts move there and conversation_id
    then resolves to the target. Cannot be undone."""
    if conversation_id == target:
        raise InvalidArgumentError("target", "a conversation cannot be merged into itself.")
    client = state(ctx).client
    merged = await client.merge_conversations(conversation_id, target, subject)
    return ConversationResult(conversation=(merged or await client.get_conversation(target)).concise())
