"""Posts: notes the team sees in a conversation (never sent outside), which may also change its state."""

from typing import Annotated, Any

from mcp.server.mcpserver import Context
from pydantic import Field

from .. import endpoints as ep
from ..bodies import PostBody, compose
from ..confirm import confirm, deleting
from ..docstrings import Described
from ..errors import InvalidArgumentError
from ..models import Post
from ..state import app_state
from ..toolsets import POSTS
from ._common import ConversationId, Deleted, LabelIds, OrgId, UserIds, deleted
from .declaration import tool

PostText = Annotated[str | None, Field(max_length=8000, description="Plain text.")]


class PostResult(Described):
    post: Post | None = None
    """The new post; null when Missive answered without it."""


@tool(
    POSTS,
    "Leave an internal note (post)",
    ep.create_post,
    checks=ep.create_post,
    destructive_because="it can also remove assignees and labels, and close the conversation",
)
async def create_post(
    ctx: Context[Any, Any],
    conversation: Annotated[ConversationId | None, Field(description="Omit to start a new conversation.")] = None,
    text: PostText = None,
    markdown: Annotated[str | None, Field(max_length=8000, description="Markdown instead of text.")] = None,
    conversation_subject: Annotated[str | None, Field(description="For a new conversation.")] = None,
    username: Annotated[str | None, Field(description="Name shown as the author.")] = None,
    organization: Annotated[OrgId, Field(description="For assignees and labels.")] = None,
    add_assignees: UserIds = None,
    remove_assignees: UserIds = None,
    add_shared_labels: LabelIds = None,
    remove_shared_labels: LabelIds = None,
    add_to_inbox: Annotated[bool | None, Field(description="Back to the Inbox.")] = None,
    close: Annotated[bool | None, Field(description="Close it.")] = None,
    reopen: Annotated[bool | None, Field(description="false: stay closed (a post reopens).")] = None,
) -> PostResult:
    """Leave an internal note (post) in a conversation, seen only by the team; it can close, label or assign (it
    reopens a closed one unless close or reopen=false)."""
    if not (text or markdown):
        raise InvalidArgumentError("text", "a post needs text or markdown (Missive refuses an empty post).")
    post = compose(
        PostBody,
        conversation=conversation,
        text=text,
        markdown=markdown,
        conversation_subject=conversation_subject,
        username=username,
        organization=organization,
        add_assignees=add_assignees,
        remove_assignees=remove_assignees,
        add_shared_labels=add_shared_labels,
        remove_shared_labels=remove_shared_labels,
        add_to_inbox=add_to_inbox,
        close=close,
        reopen=False if close else reopen,
    )
    # The push notification Missive may require: always sent, as the live API's other clients do.
    post["notification"] = {"title": username or "Note", "body": (text or markdown or "")[:200]}
    where = f"conversation {conversation!r}" if conversation else "the conversation it started (list_conversations)"
    created = await app_state(ctx).client.call(ep.create_post, body=post, context={"where": where})
    return PostResult(post=created.concise() if created else None)


@tool(POSTS, "Delete a post", ep.delete_post)
async def delete_post(
    ctx: Context[Any, Any], post_id: Annotated[str, Field(description="From create_post.")]
) -> Deleted:
    """Delete a post; what it changed (closed, labels) stays. Cannot be undone."""
    await confirm(ctx, deleting(f"the post {post_id}"))
    confirmed = await app_state(ctx).client.call(ep.delete_post, ids=[post_id], id_field="post_id")
    return deleted(post_id, confirmed)
