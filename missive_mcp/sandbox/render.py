"""Workspace records as the live API sends them: richer, and shaped differently, than the excerpt's schemas."""

from __future__ import annotations

import hashlib
import hmac
import html
import re
from contextvars import ContextVar
from typing import Any
from urllib.parse import quote

from .workspace import (
    CannedResponse,
    Comment,
    Contact,
    ContactBook,
    ContactGroup,
    Conversation,
    Hook,
    Message,
    Organization,
    Post,
    SharedLabel,
    Task,
    Team,
    User,
    Workspace,
)

Json = dict[str, Any]

APP_URL = "https://mail.missiveapp.com/#inbox/conversations/"
FILES_PATH = "/files/"
"""Where the fake serves attachment bytes, beside /v1 on its own origin, without the API token."""
FILE_SECRET = b"fake-missive-file-signing-key"

ORIGIN: ContextVar[str] = ContextVar("ORIGIN", default="http://missive.test")
"""Scheme and host the current request reached, so attachment URLs point back at the fake however it is served."""
ECHO: ContextVar[str | None] = ContextVar("ECHO", default=None)
"""The caller's token while `FakeMissive(echo_token=True)` answers: message texts then carry it."""

# Linear on any body (possessive runs, each stopping where the next attempt would start; an element left open ends
# at the end of the body), so a hostile message cannot stall the fake that serves it.
_TAG = re.compile(r"<(script|style)\b(?:[^<]++|<(?!/\1))*+(?:</\1[^<>]*+>?|\Z)|<[^<>]++>", re.IGNORECASE)
_SPACE = re.compile(r"\s+")
_QUOTE = re.compile(r"<blockquote\b(?:[^<]++|<(?!/blockquote))*+(?:</blockquote>|\Z)", re.IGNORECASE)

# The nested `conversation` of a message carries only these.
_NESTED_CONVERSATION = ("id", "subject", "latest_message_subject", "organization", "team", "color", "web_url")


def preview(body: str, length: int = 140) -> str:
    """The text of an HTML body without quoted history, squeezed to one line."""
    text = html.unescape(_TAG.sub(" ", _QUOTE.sub(" ", body)))
    return _SPACE.sub(" ", text).strip()[:length]


def organization(record: Organization) -> Json:
    return {"id": record.id, "name": record.name}


def user(ws: Workspace, record: User) -> Json:
    return {
        "id": record.id,
        "name": record.name,
        "email": record.email,
        "avatar_url": f"https://avatars.missiveusercontent.test/{record.id}.png",
        "me": record.id == ws.owner_id,
    }


def person(record: User) -> Json:
    return {"id": record.id, "name": record.name, "email": record.email}


def team(record: Team) -> Json:
    return {"id": record.id, "name": record.name, "organization": record.organization_id}


def team_detail(record: Team) -> Json:
    """A team as POST and PATCH /teams answer it: with its members and settings."""
    return (
        team(record)
        | {"active_members": record.member_ids, "observers": record.observer_ids}
        | {key: value for key, value in record.settings.items() if key not in ("name", "organization")}
    )


def shared_label(ws: Workspace, record: SharedLabel) -> Json:
    names = [record.name]
    parent = ws.shared_labels.get(record.parent_id or "")
    while parent is not None:
        names.insert(0, parent.name)
        parent = ws.shared_labels.get(parent.parent_id or "")
    return {
        "id": record.id,
        "name": record.name,
        "name_with_parent_names": "/".join(names),
        "color": record.color,
        "parent_id": record.parent_id,
        "organization": record.organization_id,
        "visibility": record.visibility,
        "share_with_organization": record.share_with_organization,
        "share_with_team": record.share_with_team,
        "share_with_users": record.share_with_user_ids,
    }


def conversation(ws: Workspace, record: Conversation) -> Json:
    if record.guest:
        return {"id": record.id, "last_activity_at": record.last_activity_at}
    latest = record.latest_message()
    org = ws.organizations.get(record.organization_id or "")
    owning_team = ws.teams.get(record.team_id or "")
    assignees = [ws.users[user_id] for user_id in record.assignee_ids]
    labels = [ws.shared_labels[label_id] for label_id in record.label_ids]
    authors = {m.from_field.get("address") or m.from_field.get("phone_number"): m.from_field for m in record.messages}
    return {
        "id": record.id,
        "created_at": record.created_at,
        "subject": record.subject,
        "latest_message_subject": latest.subject if latest else None,
        "organization": organization(org) if org else None,
        "color": record.color,
        "assignees": [person(assignee) for assignee in assignees],
        "assignee_names": ", ".join(assignee.name for assignee in assignees),
        "assignee_emails": ", ".join(assignee.email for assignee in assignees),
        "users": [_user_state(ws, record, user_id) for user_id in record.users],
        "attachments_count": sum(len(message.attachments) for message in record.messages),
        "messages_count": len(record.messages),
        "authors": [{"name": field.get("name"), "address": key} for key, field in authors.items()],
        "drafts_count": sum(1 for draft in record.drafts if draft.send_at is None),
        "send_later_messages_count": sum(1 for draft in record.drafts if draft.send_at is not None),
        "tasks_count": len(ws.tasks_of(record)),
        "completed_tasks_count": sum(1 for task in ws.tasks_of(record) if task.state == "closed"),
        "web_url": APP_URL + record.id,
        "app_url": "missive://" + APP_URL.removeprefix("https://") + record.id,
        "shared_label_names": ", ".join(label.name for label in labels),
        "shared_labels": [{"id": label.id, "name": label.name} for label in labels],
        "team": team(owning_team) if owning_team else None,
        "last_activity_at": record.last_activity_at,
    }


def _user_state(ws: Workspace, record: Conversation, user_id: str) -> Json:
    mailbox = record.users[user_id]
    return person(ws.users[user_id]) | {
        "assigned": user_id in record.assignee_ids,
        "unassigned": not record.assignee_ids,
        "closed": mailbox.closed,
        "archived": mailbox.closed,
        "flagged": mailbox.flagged,
        "snoozed": mailbox.snoozed,
        "trashed": mailbox.trashed,
        "junked": mailbox.junked,
    }


def message(ws: Workspace, record: Message) -> Json:
    parent = conversation(ws, ws.conversations[record.conversation_id])
    body = record.body
    token = ECHO.get()
    if token is not None:
        # First, so the 140-character preview carries it too.
        body = f"<div>Debug: Authorization: Bearer {html.escape(token)}</div>" + body
    rendered: Json = {
        "id": record.id,
        "subject": record.subject,
        "preview": preview(body),
        "type": record.type,
        "delivered_at": record.delivered_at,
        "updated_at": record.updated_at,
        "created_at": record.created_at,
        "email_message_id": record.email_message_id,
        "in_reply_to": record.in_reply_to,
        "references": record.references,
        "from_field": record.from_field,
        "to_fields": record.to_fields,
        "cc_fields": record.cc_fields,
        "bcc_fields": record.bcc_fields,
        "reply_to_fields": record.reply_to_fields,
        "body": body,
        "attachments": [attachment(ws, item) for item in record.attachments],
        "conversation": {key: parent[key] for key in _NESTED_CONVERSATION if key in parent},
    }
    if record.author_id:
        rendered["author"] = person(ws.users[record.author_id])
    if record.account_id:
        account = ws.accounts[record.account_id]
        rendered["account"] = {"id": account.id, "name": account.name}
        rendered["external_id"] = record.external_id
    if record.send_at is not None:
        rendered["send_at"] = record.send_at
    return rendered


def attachment(ws: Workspace, item: dict[str, Any]) -> Json:
    """An attachment with a fresh pre-signed URL: every read signs a new one, valid `attachment_url_ttl` seconds."""
    expires = ws.now() + ws.attachment_url_ttl
    query = f"Expires={expires}&Signature={file_signature(item['id'], expires)}"
    return item | {"url": f"{ORIGIN.get()}{FILES_PATH}{item['id']}/{quote(item['filename'])}?{query}"}


def file_signature(attachment_id: str, expires: int) -> str:
    return hmac.new(FILE_SECRET, f"{attachment_id}:{expires}".encode(), hashlib.sha256).hexdigest()


def comment(ws: Workspace, record: Comment) -> Json:
    return {
        "id": record.id,
        "body": record.body,
        "created_at": record.created_at,
        "author": person(ws.users[record.author_id]),
        "mentions": [{"id": user_id, "name": ws.users[user_id].name} for user_id in record.mention_ids],
        "attachments": [attachment(ws, item) for item in record.attachments],
        "task": None,
    }


def post(ws: Workspace, record: Post) -> Json:
    text = record.markdown if record.markdown is not None else record.text or ""
    rendered: Json = {
        "id": record.id,
        # A string id here, as the live answer to POST /posts shows (one peer reads an object: clients take both).
        "conversation": record.conversation_id,
        "body": html.escape(text).replace("\n", "<br>"),
        "text": record.text,
        "markdown": record.markdown,
        "username": record.username or (ws.users[record.author_id].name if record.author_id else None),
        "username_icon": record.username_icon,
        "attachments": [attachment(ws, item) if "id" in item else item for item in record.attachments],
        "created_at": record.created_at,
    }
    if record.notification:
        rendered["notification"] = record.notification
    return rendered


def contact(ws: Workspace, record: Contact) -> Json:
    return {
        "id": record.id,
        "first_name": record.first_name,
        "last_name": record.last_name,
        "starred": record.starred,
        "notes": record.notes,
        "infos": record.infos,
        "memberships": [_membership(ws, membership) for membership in record.memberships],
        "contact_book": record.contact_book_id,
        "deleted": record.deleted,
        "created_at": record.created_at,
        "modified_at": record.modified_at,
        "updated_at": record.modified_at,
    }


def _membership(ws: Workspace, membership: dict[str, str]) -> Json:
    group = ws.contact_groups[membership["group"]]
    return membership | {"group": {"id": group.id, "name": group.name, "kind": group.kind}}


def contact_book(record: ContactBook) -> Json:
    return {"id": record.id, "name": record.name, "shared": record.shared, "description": record.description}


def contact_group(record: ContactGroup) -> Json:
    return {"id": record.id, "name": record.name, "kind": record.kind, "contact_book": record.contact_book_id}


def task(ws: Workspace, record: Task, *, full: bool = False) -> Json:
    """A task; lists (and writes) name assignees and team by bare id, GET /tasks/{id} (`full`) sends the objects."""
    owning_team = ws.teams.get(record.team_id or "")
    assignees = [ws.users[user_id] for user_id in record.assignee_ids if user_id in ws.users]
    rendered: Json = {
        "id": record.id,
        "title": record.title,
        "description": record.description,
        "state": record.state,
        "type": record.type,
        "subtask": record.subtask,
        "due_at": record.due_at,
        "organization": record.organization_id,
        "conversation": record.conversation_id,
        "created_at": record.created_at,
        "last_activity_at": record.last_activity_at,
    }
    if full:
        rendered["assignees"] = [person(assignee) for assignee in assignees]
        rendered["team"] = team(owning_team) if owning_team else None
    else:
        rendered["assignees"] = [assignee.id for assignee in assignees]
        rendered["team"] = owning_team.id if owning_team else None
    return rendered


def canned_response(ws: Workspace, record: CannedResponse) -> Json:
    return {
        "id": record.id,
        "title": record.title,
        "subject": record.subject,
        "body": record.body,
        "organization": record.organization_id,
        "user": record.user_id,
        "share_with_team": record.share_with_team,
        "shared_labels": [
            {"id": label_id, "name": ws.shared_labels[label_id].name}
            for label_id in record.shared_label_ids
            if label_id in ws.shared_labels
        ],
        "to_fields": record.to_fields,
        "cc_fields": record.cc_fields,
        "bcc_fields": record.bcc_fields,
        "external_id": record.external_id,
        "external_source": record.external_source,
        "attachments": [attachment(ws, item) for item in record.attachments],
        "created_at": record.created_at,
        "modified_at": record.modified_at,
    }


def hook(record: Hook) -> Json:
    return {
        "id": record.id,
        "type": record.type,
        "url": record.url,
        "organization": record.organization_id,
        "created_at": record.created_at,
    } | record.filters
