"""Workspace records as the live API sends them: richer, and shaped differently, than the excerpt's schemas."""

from __future__ import annotations

import html
import re
from typing import Any

from .workspace import (
    Comment,
    Contact,
    ContactBook,
    ContactGroup,
    Conversation,
    Message,
    Organization,
    Post,
    SharedLabel,
    Team,
    User,
    Workspace,
)

Json = dict[str, Any]

APP_URL = "https://mail.missiveapp.com/#inbox/conversations/"
FILES_URL = "https://files.missiveusercontent.test/attachments/"
ATTACHMENT_URL_LIFETIME = 3600
"""Seconds a rendered attachment URL stays valid; the live API's links expire too."""

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
        "tasks_count": record.tasks_count,
        "completed_tasks_count": 0,
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
    rendered: Json = {
        "id": record.id,
        "subject": record.subject,
        "preview": preview(record.body),
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
        "body": record.body,
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
    expires = ws.now() + ATTACHMENT_URL_LIFETIME
    return item | {"url": f"{FILES_URL}{item['id']}/{item['filename']}?expires={expires}&signature=demo"}


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
        "body": html.escape(text).replace("\n", "<br>"),
        "markdown": record.markdown,
        "username": record.username or (ws.users[record.author_id].name if record.author_id else None),
        "username_icon": record.username_icon,
        "attachments": record.attachments,
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
