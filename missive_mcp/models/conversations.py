"""Conversations, as the live API sends them (richer and differently shaped than the excerpt)."""

from __future__ import annotations

from typing import Any

from ..docstrings import Described
from ..text import one_line
from .base import MissiveModel, Name, Ref, Subject


class Author(MissiveModel):
    """Someone who wrote in the conversation."""

    name: Name | None = None
    address: Name | None = None
    """One line, cut like a name: a sender writes it."""


class Assignee(Ref):
    email: str | None = None


class UserState(MissiveModel):
    """One user's mailbox state for the conversation: the flags live per user."""

    id: str
    name: Name | None = None
    assigned: bool | None = None
    """Assigned to this user."""
    closed: bool | None = None
    """Closed for this user (out of their Inbox)."""
    archived: bool | None = None
    flagged: bool | None = None
    """Starred by this user."""
    snoozed: bool | None = None
    trashed: bool | None = None
    junked: bool | None = None
    """In this user's spam."""

    def concise(self) -> UserState:
        """Only the states that hold: `{"name": "Maya", "assigned": true}` says what a row of false flags would."""
        values: dict[str, Any] = {"id": self.id, "name": self.name}
        values.update((name, True) for name in _FLAGS if getattr(self, name))
        return UserState.model_construct(**values)


_FLAGS = ("assigned", "closed", "archived", "flagged", "snoozed", "trashed", "junked")


class Conversation(MissiveModel):
    id: str
    subject: Subject | None = None
    """The subject a person set for the conversation; often empty (see latest_message_subject)."""
    latest_message_subject: Subject | None = None
    """The subject of its latest message."""
    last_activity_at: int | None = None
    """Unix seconds; also the `until` cursor of list_conversations."""
    messages_count: int | None = None
    drafts_count: int | None = None
    """Unsent drafts in it (list_conversation_drafts lists them)."""
    organization: Ref | str | None = None
    """The organization it belongs to."""
    team: Ref | str | None = None
    """The team whose inbox holds it."""
    # None when the API sent none (a guest sees little more than id and last_activity_at): `detailed` shows
    # what Missive sent, not empty lists it did not.
    assignees: list[Assignee | str] | None = None
    """The users it is assigned to."""
    shared_labels: list[Ref | str] | None = None
    """Its shared labels (ids from list_shared_labels)."""
    users: list[UserState] | None = None
    """Per user, where it sits in their mailbox (concise: only the users for whom a flag holds)."""
    authors: list[Author] | None = None
    """Who wrote in it."""
    web_url: str | None = None
    """A link that opens it in Missive (detailed only)."""

    def concise(self) -> Conversation:
        """The fields an agent acts on: users only where a flag holds, no empty lists, no link (the id opens it)."""
        lean: Conversation = super().concise()
        lean.users = [
            state for state in (u.concise() for u in self.users or []) if state.model_fields_set - {"id", "name"}
        ]
        lean.web_url = None
        for name in ("assignees", "shared_labels", "users", "authors"):
            if not getattr(lean, name):
                setattr(lean, name, None)  # an empty list says nothing an absent one does not
        return lean


PREVIEW_CHARS = 120
"""A listing's preview, when Missive sends one: enough to triage by, not a body."""


class ConversationSummary(Described):
    """A conversation as a listing shows it: what triage needs, people, teams and labels by name."""

    # The keys are the full Conversation's, with names for objects, so a reader of one form reads the other (the
    # inbox view does).

    id: str
    subject: str | None = None
    """Its subject, else its latest message's."""
    authors: list[str] | None = None
    """Who wrote in it, first author first: names (an address where there is none)."""
    preview: str | None = None
    """The start of its latest message, when Missive sends one."""
    shared_labels: list[str] | None = None
    """By name."""
    assignees: list[str] | None = None
    """By name."""
    team: str | None = None
    """By name."""
    organization: str | None = None
    """By name; only when the token reaches more than one organization."""
    last_activity_at: int | None = None
    """Unix seconds; also the `until` cursor."""
    messages_count: int | None = None
    """Counts are left out when zero."""
    drafts_count: int | None = None
    tasks_count: int | None = None

    @classmethod
    def of(cls, conversation: Conversation, *, organization: bool = False) -> ConversationSummary:
        """The summary of one conversation; `organization`: name its organization too. Zero counts, empty lists
        and links are left out: an absent field says the same in fewer bytes."""
        authors = [a.name or a.address for a in conversation.authors or [] if a.name or a.address]
        extra = conversation.model_extra or {}
        preview = extra.get("preview")
        tasks = extra.get("tasks_count")
        return cls.model_construct(
            id=conversation.id,
            subject=conversation.subject or conversation.latest_message_subject,
            authors=[str(a) for a in authors] or None,
            preview=one_line(preview, PREVIEW_CHARS) if isinstance(preview, str) else None,
            shared_labels=[_name(label) for label in conversation.shared_labels or []] or None,
            assignees=[_name(person) for person in conversation.assignees or []] or None,
            team=_name(conversation.team) if conversation.team else None,
            organization=_name(conversation.organization) if organization and conversation.organization else None,
            last_activity_at=conversation.last_activity_at,
            messages_count=conversation.messages_count or None,
            drafts_count=conversation.drafts_count or None,
            tasks_count=tasks if isinstance(tasks, int) and tasks > 0 else None,
        )


def _name(ref: Ref | str) -> str:
    """A person, team, label or organization by name; by id when Missive sent no name (or only the id)."""
    return ref if isinstance(ref, str) else ref.name or ref.id
