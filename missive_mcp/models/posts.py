"""Posts: notes an integration or automation leaves in a conversation, visible to the team, never emailed."""

from __future__ import annotations

from pydantic import Field

from .base import MissiveModel, Name, Ref
from .messages import Attachment


class PostAttachment(Attachment):
    """A file on a post, or one of its rich blocks (title, text, colour bar), which carry no id."""

    title: str | None = None
    """A rich block's title."""
    text: str | None = None
    """A rich block's plain text."""
    markdown: str | None = None
    """A rich block's Markdown."""
    color: str | None = None
    """A rich block's colour bar: hex, or good / warning / danger."""


class Post(MissiveModel):
    """A post in a conversation (list_conversation_posts, create_post)."""

    id: str
    """What delete_post takes."""
    conversation: Ref | str | None = None
    """The conversation it sits in: an id (the live answer to a create), or an object with its id."""
    body: str | None = None
    """The post as HTML-escaped text (Markdown posts show their source)."""
    text: str | None = None
    """Plain text, when it was posted as text."""
    markdown: str | None = None
    """Markdown, when it was posted as Markdown."""
    username: Name | None = None
    """Who it shows as posted by: the integration's name, else the token owner's."""
    created_at: int | None = None
    """Unix seconds; also the `until` cursor of list_conversation_posts."""
    attachments: list[PostAttachment] = Field(
        default_factory=list[PostAttachment], description="Files and rich blocks."
    )

    @property
    def conversation_id(self) -> str | None:
        """The conversation's id, whichever shape the API sent."""
        return self.conversation.id if isinstance(self.conversation, Ref) else self.conversation
