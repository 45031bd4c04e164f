"""What each write sends Missive, typed: the seam between the tools and the client.

One TypedDict per request body, before its envelope (`endpoints.py` wraps it). Fields absent from a call are
left out, never sent as null: build a body with `compose(Kind, field=value, ...)`, which drops the None values.
"""

from __future__ import annotations

from typing import Any, TypedDict, TypeVar, cast

T = TypeVar("T")


def compose(kind: type[T], **values: Any) -> T:
    """A `kind` body of the values given, without the ones that are None (the tool's absent arguments).
    The values come from a tool's typed, validated arguments, so this only drops the absent ones."""
    return cast(T, {key: value for key, value in values.items() if value is not None})


class PartyBody(TypedDict, total=False):
    name: str
    address: str
    phone_number: str
    id: str
    username: str


class FileBody(TypedDict):
    filename: str
    base64_data: str


class ConversationChanges(TypedDict, total=False):
    """PATCH /conversations: state changes, made silently (nothing is posted in the thread)."""

    subject: str
    color: str
    organization: str
    team: str
    force_team: bool
    add_users: list[str]
    add_assignees: list[str]
    remove_assignees: list[str]
    add_shared_labels: list[str]
    remove_shared_labels: list[str]
    add_to_inbox: bool
    add_to_team_inbox: bool
    close: bool
    reopen: bool


class DraftBody(TypedDict, total=False):
    """POST /drafts."""

    body: str
    subject: str
    conversation: str
    team: str
    organization: str
    add_assignees: list[str]
    add_shared_labels: list[str]
    send: bool
    send_at: int
    references: list[str]
    external_response_id: str
    external_response_variables: dict[str, str]
    from_field: PartyBody
    to_fields: list[PartyBody]
    cc_fields: list[PartyBody]
    bcc_fields: list[PartyBody]
    attachments: list[FileBody]


class MessageBody(TypedDict, total=False):
    """POST /messages (a custom channel)."""

    account: str
    subject: str
    body: str
    external_id: str
    from_field: PartyBody
    to_fields: list[PartyBody]
    attachments: list[FileBody]


class ContactBody(TypedDict, total=False):
    """POST /contacts (one item) and PATCH /contacts (the changes)."""

    contact_book: str
    first_name: str
    last_name: str
    starred: bool
    notes: str
    infos: list[dict[str, Any]]
    memberships: list[dict[str, Any]]


class ReportBody(TypedDict, total=False):
    """POST /analytics/reports."""

    organization: str
    start: int
    end: int
    time_zone: str
    teams: list[str]
    users: list[str]
    accounts: list[str]
    account_types: list[str]
    shared_labels: list[str]


class Notification(TypedDict):
    title: str
    body: str


class PostBody(TypedDict, total=False):
    """POST /posts: a note, and the state changes it may carry."""

    conversation: str
    text: str
    markdown: str
    conversation_subject: str
    username: str
    notification: Notification
    organization: str
    add_assignees: list[str]
    remove_assignees: list[str]
    add_shared_labels: list[str]
    remove_shared_labels: list[str]
    add_to_inbox: bool
    close: bool
    reopen: bool


class TaskBody(TypedDict, total=False):
    """POST /tasks, and PATCH /tasks/{id} (the changes)."""

    title: str
    description: str
    subtask: bool
    conversation: str
    team: str
    assignees: list[str]
    organization: str
    due_at: int
    state: str


class ResponseBody(TypedDict, total=False):
    """POST /responses (one item) and PATCH /responses (the changes)."""

    title: str
    body: str
    organization: str
    user: str
    subject: str
    share_with_team: str
    shared_labels: list[str]
    to_fields: list[PartyBody]
    cc_fields: list[PartyBody]


class LabelBody(TypedDict, total=False):
    """POST /shared_labels (one item) and PATCH /shared_labels (the changes; never organization)."""

    name: str
    organization: str
    color: str
    parent: str
    share_with_organization: bool
    share_with_team: str
    share_with_users: list[str]
    visibility: str


class TeamBody(TypedDict, total=False):
    """POST /teams (one item) and PATCH /teams (the changes)."""

    name: str
    organization: str
    emoji: str
    color: str
    active_members: list[str]
    observers: list[str]
    inactivity_period: int


class HookBody(TypedDict, total=False):
    """POST /hooks."""

    type: str
    url: str
    organization: str
    content_contains: str
    content_starts_with: str
    content_ends_with: str
    from_eq: str
    subject_contains: str
    is_task: bool
    author: str
    mention: str
