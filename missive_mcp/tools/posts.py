"""Posts: notes the team sees in a conversation (never sent outside), which may also change its state."""

from __future__ import annotations

from typing import Annotated, Any

from mcp.server.mcpserver import Context
from pydantic import BaseModel, Field

from ..errors import InvalidArgumentError
from ..models import Post
from ._common import ConversationId, LabelIds, OrgId, TeamId, UserIds, drop_none, state

PostText = Annotated[str | None, Field(max_length=8000, description="Plain text (at most 8000 characters).")]


class PostResult(BaseModel):
    post: Post | None = None
    """The new post; null when Missive answered without it."""


class DeletedPost(BaseModel):
    deleted: bool
    id: str


async def create_post(
    ctx: Context[Any, Any],
    conversation: Annotated[
        ConversationId | None, Field(description="Add to this conversation; omit to start a new one.")
    ] = None,
    text: PostText = None,
    markdown: Annotated[str | None, Field(max_length=8000, description="Markdown instead of text.")] = None,
    conversation_subject: Annotated[str | None, Field(description="Subject of a new conversation.")] = None,
    username: Annotated[str | None, Field(description="Name shown as the author.")] = None,
    organization: OrgId = None,
    team: TeamId = None,
    force_team: Annotated[bool | None, Field(description="Move it even if it has a team.")] = None,
    add_users: UserIds = None,
    add_assignees: UserIds = None,
    remove_assignees: UserIds = None,
    add_shared_labels: LabelIds = None,
    remove_shared_labels: LabelIds = None,
    add_to_inbox: Annotated[bool | None, Field(description="Back into everyone's Inbox.")] = None,
    add_to_team_inbox: Annotated[bool | None, Field(description="Into `team`'s inbox.")] = None,
    close: Annotated[bool | None, Field(description="Close the conversation.")] = None,
    reopen: Annotated[
        bool | None, Field(description="false keeps a closed conversation closed (a post reopens it).")
    ] = None,
) -> PostResult:
    """Leave an internal note (a post) in a conversation: the team sees it, nobody outside does. It can also
    close, label, assign or move the conversation in the same call. A post reopens a closed conversation
    unless reopen=false or close=true."""
    if not (text or markdown):
        raise InvalidArgumentError("text", "a post needs text or markdown (Missive refuses an empty post).")
    post = drop_none(
        conversation=conversation,
        text=text,
        markdown=markdown,
        conversation_subject=conversation_subject,
        username=username,
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
        reopen=False if close else reopen,
    )
    # The push notification Missive may require: always sent, as the live API's other clients do.
    post["notification"] = {"title": username or "Note", "body": (text or markdown or "")[:200]}
    where = f"conversation {conversation!r}" if conversation else "the conversation it started (list_conversations)"
    created = await state(ctx).client.create_post(post, where=where)
    return PostResult(post=created.concise() if created else None)


async def delete_post(
    ctx: Context[Any, Any], post_id: Annotated[str, Field(description="Post id (list_conversation_posts).")]
) -> DeletedPost:
    """Delete a post. What it changed (closed, labels) stays changed. Cannot be undone."""
    await state(ctx).client.delete_post(post_id)
    return DeletedPost(deleted=True, id=post_id)
