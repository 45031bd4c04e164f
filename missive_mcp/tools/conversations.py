"""Conversation tools: list, get, update, merge, and the per-conversation lists."""

from typing import Annotated, Any, Literal

from mcp.server.mcpserver import Context
from pydantic import Field

from .. import endpoints as ep
from ..bodies import ConversationChanges, compose
from ..client import path_ids
from ..confirm import confirm, merging
from ..docstrings import Described
from ..errors import InvalidArgumentError, MissiveError
from ..models import Conversation, ConversationSummary
from ..state import AppState, app_state
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
)
from .declaration import tool

MAILBOXES = ("inbox", "all", "assigned", "closed", "snoozed", "flagged", "trashed", "junked", "drafts")
Flag = bool | None


Detail = Annotated[
    Literal["lean", "full", "all"],
    Field(description="full: ids; all: every field."),
]


class ConversationPage(Described):
    conversations: list[ConversationSummary] | list[Conversation]
    """Newest first."""
    has_more: bool
    next_until: int | None = None
    """Pass as `until` (with the same filters) for the next page; null at the end."""


class ConversationResult(Described):
    conversation: Conversation


class UpdatedConversations(Described):
    conversations: list[Conversation]


def shape(items: list[Any], response_format: str) -> list[Any]:
    return items if response_format == "detailed" else [item.concise() for item in items]


@tool(CONVERSATIONS, "List conversations", ep.list_conversations, ep.list_organizations)
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
    limit: Annotated[int, Field(ge=2, le=50, description="How many.")] = 25,
    until: Until = None,
    organization: OrgId = None,
    email: Annotated[str | None, Field(description="A contact's address.")] = None,
    domain: Annotated[str | None, Field(description="Contacts' domain.")] = None,
    contact_organization: Annotated[str | None, Field(description="Contact group id.")] = None,
    max_results: Annotated[int | None, Field(ge=2, le=200, description="Up to 200.")] = None,
    detail: Detail = "lean",
) -> ConversationPage:
    """List conversations, newest first. Give one mailbox: a flag (inbox=true...) or a label or team; email, domain
    or contact_organization narrow it."""
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
    wanted, least = (limit, 2) if max_results is None else (max_results, limit)
    app = app_state(ctx)
    found, cursor = await app.client.page_conversations(params, wanted, until, least=least)
    more = cursor is not None
    if detail != "lean":
        items = shape(found, "detailed" if detail == "all" else "concise")
        return ConversationPage(conversations=items, has_more=more, next_until=cursor)
    return ConversationPage(conversations=await summarize(app, found), has_more=more, next_until=cursor)


async def summarize(app: AppState, found: list[Conversation]) -> list[ConversationSummary]:
    """The lean items of a listing: each names its organization only when the token reaches more than one."""
    several = any(c.organization for c in found) and await _organizations(app) != 1
    return [ConversationSummary.of(c, organization=several) for c in found]


async def _organizations(app: AppState) -> int:
    """How many organizations the token reaches (from the directory's cache); 0 when that cannot be told."""
    try:
        return len(await app.directory.entries("organization"))
    except MissiveError:
        return 0


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
    organization: Annotated[OrgId, Field(description="For users, assignees, labels.")] = None,
    team: Annotated[TeamId, Field(description="Set if it has none.")] = None,
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
    subject: Annotated[str | None, Field(description="New subject.")] = None,
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
