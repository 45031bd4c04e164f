"""Drafts, and sending them: the one place this server can make mail leave the building."""

from __future__ import annotations

import base64
import binascii
import time
from typing import Annotated, Any

from mcp.server.mcpserver import Context
from pydantic import BaseModel, ConfigDict, Field

from ..client import encode_body
from ..errors import InvalidArgumentError, PermissionDeniedError
from ..models import Message
from ..recipients import Recipient, check_allowed, check_format
from ..settings import Settings
from ._common import ConversationId, DraftId, IdList, drop_none, state
from .threads import lean

MAX_ATTACHMENTS = 25
MAX_REQUEST_BYTES = 10 * 1024 * 1024


class Party(BaseModel):
    """Sender or recipient: email address, phone number, or channel user id/username."""

    model_config = ConfigDict(extra="forbid")
    name: str | None = None
    address: str | None = None
    phone_number: str | None = None
    id: str | None = None
    username: str | None = None


class FileUpload(BaseModel):
    model_config = ConfigDict(extra="forbid")
    filename: Annotated[str, Field(min_length=1, max_length=255)]
    base64_data: Annotated[str, Field(min_length=1)]


Recipients = Annotated[list[Party] | None, Field(max_length=100)]
Attachments = Annotated[
    list[FileUpload] | None, Field(max_length=MAX_ATTACHMENTS, description="At most 25 files, 10 MB in all.")
]


class DraftResult(BaseModel):
    draft: Message | None = None
    """The created draft; null when it was sent at once (Missive answers nothing then)."""
    sent: bool = False
    scheduled_at: int | None = None


class Deleted(BaseModel):
    deleted: bool
    id: str


def check_attachments(attachments: list[FileUpload] | None, body: dict[str, Any]) -> None:
    """Refuse before sending what Missive would refuse: bad base64, more than 25 files, over 10 MB in all."""
    for index, file in enumerate(attachments or []):
        try:
            base64.b64decode(file.base64_data, validate=True)
        except (binascii.Error, ValueError):
            raise InvalidArgumentError(f"attachments[{index}].base64_data", "is not valid base64.") from None
    payload_bytes = len(encode_body(body))  # the bytes the client will send
    if payload_bytes > MAX_REQUEST_BYTES:
        raise InvalidArgumentError(
            "attachments", f"the request would be {payload_bytes / 1e6:.1f} MB; Missive accepts at most 10 MB in all."
        )


def recipients_of(**fields: list[Party] | None) -> list[Recipient]:
    """Every recipient given, labelled with where it was given (`cc_fields[1]`)."""
    return [
        Recipient(where=f"{field}[{index}]", **party.model_dump(exclude_none=True))
        for field, parties in fields.items()
        for index, party in enumerate(parties or [])
    ]


def check_sending(settings: Settings, send: bool | None, send_at: int | None, recipients: list[Recipient]) -> None:
    """Sending is a permission of its own, checked in code before anything reaches Missive."""
    check_format(recipients)
    if not send and send_at is None:
        return
    if not settings.allow_send:
        raise PermissionDeniedError(
            "Sending is disabled on this server, so nothing was created or sent. Call create_draft without "
            "send/send_at to leave a draft a person can review and send, or ask the operator to set "
            "MISSIVE_ALLOW_SEND=true."
        )
    if send and send_at is not None:
        raise InvalidArgumentError("send_at", "give send=true to send now or send_at to schedule, not both.")
    if send_at is not None and send_at < time.time() - 60:
        raise InvalidArgumentError("send_at", "is in the past; give a future Unix timestamp in seconds.")
    if not settings.send_allowed_domains:
        return
    if not recipients:
        raise PermissionDeniedError(
            "This server only sends to approved domains, so it needs the recipients spelled out: pass to_fields "
            "(and cc_fields/bcc_fields) explicitly."
        )
    check_allowed(recipients, settings.send_allowed_domains, settings.send_allowed_recipients)


async def create_draft(
    ctx: Context[Any, Any],
    body: Annotated[str | None, Field(description="HTML or plain text.")] = None,
    subject: str | None = None,
    conversation: Annotated[
        ConversationId | None, Field(description="Reply inside this conversation (list_conversations); omit for new.")
    ] = None,
    from_field: Annotated[Party | None, Field(description="Sender; must be one the token's owner may send as.")] = None,
    to_fields: Recipients = None,
    cc_fields: Recipients = None,
    bcc_fields: Recipients = None,
    attachments: Attachments = None,
    references: Annotated[list[str] | None, Field(description="Message-IDs to thread with.")] = None,
    team: Annotated[str | None, Field(description="Team id (list_teams).")] = None,
    force_team: bool | None = None,
    organization: Annotated[str | None, Field(description="Organization id (list_organizations).")] = None,
    add_users: Annotated[IdList | None, Field(description="User ids (list_users) to give access.")] = None,
    add_assignees: Annotated[IdList | None, Field(description="User ids (list_users).")] = None,
    remove_assignees: Annotated[IdList | None, Field(description="User ids (list_users).")] = None,
    add_shared_labels: Annotated[
        IdList | None, Field(description="Label ids (list_shared_labels); needs organization.")
    ] = None,
    remove_shared_labels: Annotated[IdList | None, Field(description="Label ids (list_shared_labels).")] = None,
    send: Annotated[bool | None, Field(description="Send now (only if the server allows sending).")] = None,
    send_at: Annotated[int | None, Field(ge=1, description="Schedule sending at this Unix time (seconds).")] = None,
    auto_followup: bool | None = None,
    external_response_id: Annotated[str | None, Field(description="WhatsApp template id.")] = None,
    external_response_variables: dict[str, str] | None = None,
) -> DraftResult:
    """Create a draft (email, SMS or WhatsApp), optionally inside an existing conversation, for a person to
    review and send. With send or send_at it sends or schedules a real message, only if the operator enabled
    sending. Missive has no way to edit a draft: delete_draft and create a new one instead."""
    settings = state(ctx).settings
    recipients = recipients_of(to_fields=to_fields, cc_fields=cc_fields, bcc_fields=bcc_fields)
    check_sending(settings, send, send_at, recipients)
    if not (body or attachments or external_response_id):
        raise InvalidArgumentError("body", "a draft needs a body (or attachments, or a WhatsApp template).")
    if references and any(not ref.strip() or any(c.isspace() for c in ref) for ref in references):
        raise InvalidArgumentError("references", "Message-IDs contain no whitespace (Missive ignores such entries).")
    draft = drop_none(
        body=body,
        subject=subject,
        conversation=conversation,
        team=team,
        force_team=force_team,
        organization=organization,
        add_users=add_users,
        add_assignees=add_assignees,
        remove_assignees=remove_assignees,
        add_shared_labels=add_shared_labels,
        remove_shared_labels=remove_shared_labels,
        send=send,
        send_at=send_at,
        auto_followup=auto_followup,
        references=references,
        external_response_id=external_response_id,
        external_response_variables=external_response_variables,
        from_field=from_field and from_field.model_dump(exclude_none=True),
        to_fields=to_fields and [p.model_dump(exclude_none=True) for p in to_fields],
        cc_fields=cc_fields and [p.model_dump(exclude_none=True) for p in cc_fields],
        bcc_fields=bcc_fields and [p.model_dump(exclude_none=True) for p in bcc_fields],
        attachments=attachments and [a.model_dump() for a in attachments],
    )
    check_attachments(attachments, {"drafts": draft})
    where = f"conversation {conversation!r}" if conversation else "the conversation it started (list_conversations)"
    created = await state(ctx).client.create_draft(draft, where=where)
    return DraftResult(draft=await lean(created), sent=bool(send), scheduled_at=send_at)


async def delete_draft(ctx: Context[Any, Any], draft_id: DraftId) -> Deleted:
    """Delete an unsent draft (ids from list_conversation_drafts). Cannot be undone."""
    await state(ctx).client.delete_draft(draft_id)
    return Deleted(deleted=True, id=draft_id)
