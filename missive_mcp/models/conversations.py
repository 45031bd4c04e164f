"""Conversations, as the live API sends them (richer and differently shaped than the excerpt)."""

from __future__ import annotations

from pydantic import Field

from .base import MissiveModel, Ref


class Author(MissiveModel):
    name: str | None = None
    address: str | None = None


class Assignee(Ref):
    email: str | None = None


class UserState(MissiveModel):
    """One user's mailbox state for the conversation: the flags live per user."""

    id: str
    name: str | None = None
    assigned: bool | None = None
    closed: bool | None = None
    archived: bool | None = None
    flagged: bool | None = None
    snoozed: bool | None = None
    trashed: bool | None = None
    junked: bool | None = None


class Conversation(MissiveModel):
    id: str
    subject: str | None = None
    latest_message_subject: str | None = None
    last_activity_at: int | None = None
    """Unix seconds; also the `until` cursor of list_conversations."""
    messages_count: int | None = None
    drafts_count: int | None = None
    organization: Ref | str | None = None
    team: Ref | str | None = None
    assignees: list[Assignee | str] = Field(default_factory=list)  # pyright: ignore[reportUnknownVariableType]
    shared_labels: list[Ref | str] = Field(default_factory=list)  # pyright: ignore[reportUnknownVariableType]
    users: list[UserState] = Field(default_factory=list)  # pyright: ignore[reportUnknownVariableType]
    authors: list[Author] = Field(default_factory=list)  # pyright: ignore[reportUnknownVariableType]
    web_url: str | None = None
