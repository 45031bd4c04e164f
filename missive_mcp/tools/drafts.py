"""Drafts, and sending them: the one place this server can make mail leave the building."""

import base64
import binascii
import time
from collections.abc import Sequence
from typing import Annotated, Any

from mcp.server.mcpserver import Context
from pydantic import ConfigDict, Field

from .. import endpoints as ep
from ..bodies import DraftBody, compose
from ..client import encode_body
from ..confirm import confirm, deleting, sending
from ..docstrings import Described
from ..errors import InvalidArgumentError, PermissionDeniedError
from ..models import Message
from ..recipients import Recipient, check_allowed, check_format
from ..settings import Settings
from ..state import app_state
from ..toolsets import DRAFTS
from ._common import ConversationId, Deleted, DraftId, LabelIds, OrgId, TeamId, UserIds, deleted
from .declaration import tool
from .threads import lean

MAX_ATTACHMENTS = 25
MAX_RECIPIENTS = 100
MAX_REQUEST_BYTES = 10 * 1024 * 1024


class Party(Described):
    # Sender or recipient: email address, phone number, or channel user id/username. (A comment, not a
    # docstring: the docstring would be repeated in every schema that lists recipients.)
    model_config = ConfigDict(extra="forbid")
    name: str | None = None
    address: str | None = None
    phone_number: str | None = None
    id: str | None = None
    username: str | None = None


class FileUpload(Described):
    model_config = ConfigDict(extra="forbid")
    filename: Annotated[str, Field(min_length=1, max_length=255)]
    base64_data: Annotated[str, Field(min_length=1)]


Recipients = Annotated[list[Party] | None, Field(description="address, or phone_number.")]


class EmailParty(Described):
    model_config = ConfigDict(extra="forbid")
    name: str | None = None
    address: str


Copies = Annotated[list[EmailParty] | None, Field(description="Email addresses.")]
Attachments = Annotated[list[FileUpload] | None, Field(max_length=MAX_ATTACHMENTS, description="10 MB in all.")]


class DraftResult(Described):
    draft: Message | None = None
    """The created draft; null when it was sent at once (Missive answers nothing then)."""
    sent: bool = False
    scheduled_at: int | None = None


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


def recipients_of(**fields: Sequence[Party | EmailParty] | None) -> list[Recipient]:
    """Every recipient given, labelled with where it was given (`cc_fields[1]`)."""
    return [
        Recipient(where=f"{field}[{index}]", **party.model_dump(exclude_none=True))
        for field, parties in fields.items()
        for index, party in enumerate(parties or [])
    ]


def check_sending(settings: Settings, send: bool | None, send_at: int | None, recipients: list[Recipient]) -> None:
    """Sending is a permission of its own, checked in code before anything reaches Missive."""
    if len(recipients) > MAX_RECIPIENTS:
        raise InvalidArgumentError(
            "to_fields", f"{len(recipients)} recipients; Missive takes at most {MAX_RECIPIENTS}."
        )
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


@tool(DRAFTS, "Create a draft (or send it)", ep.create_draft, checks=ep.create_draft)
async def create_draft(
    ctx: Context[Any, Any],
    body: Annotated[str | None, Field(description="HTML or plain text.")] = None,
    subject: Annotated[str | None, Field(description="Subject line.")] = None,
    conversation: Annotated[ConversationId | None, Field(description="Reply inside it; omit for new.")] = None,
    from_field: Annotated[Party | None, Field(description="One of your senders.")] = None,
    to_fields: Recipients = None,
    cc_fields: Copies = None,
    bcc_fields: Copies = None,
    attachments: Attachments = None,
    references: Annotated[list[str] | None, Field(description="Message-IDs to thread with.")] = None,
    team: TeamId = None,
    organization: Annotated[OrgId, Field(description="For assignees and labels.")] = None,
    add_assignees: UserIds = None,
    add_shared_labels: LabelIds = None,
    send: Annotated[bool | None, Field(description="Send now (if allowed).")] = None,
    send_at: Annotated[int | None, Field(ge=1, description="Send at (Unix s; if allowed).")] = None,
    external_response_id: Annotated[str | None, Field(description="WhatsApp template id.")] = None,
    external_response_variables: Annotated[dict[str, str] | None, Field(description="Its variables.")] = None,
) -> DraftResult:
    """Create a draft (email, SMS, WhatsApp), new or in a conversation (reply_to_conversation addresses a reply for
    you). send/send_at need permission. Drafts cannot be edited."""
    settings = app_state(ctx).settings
    recipients = recipients_of(to_fields=to_fields, cc_fields=cc_fields, bcc_fields=bcc_fields)
    check_sending(settings, send, send_at, recipients)
    if not (body or attachments or external_response_id):
        raise InvalidArgumentError("body", "a draft needs a body (or attachments, or a WhatsApp template).")
    if references and any(not ref.strip() or any(c.isspace() for c in ref) for ref in references):
        raise InvalidArgumentError("references", "Message-IDs contain no whitespace (Missive ignores such entries).")
    draft = compose(
        DraftBody,
        body=body,
        subject=subject,
        conversation=conversation,
        team=team,
        organization=organization,
        add_assignees=add_assignees,
        add_shared_labels=add_shared_labels,
        send=send,
        send_at=send_at,
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
    await confirm(ctx, sending(draft))
    created = await app_state(ctx).client.call(ep.create_draft, body=draft, context={"where": where})
    return DraftResult(draft=await lean(created), sent=bool(send), scheduled_at=send_at)


@tool(DRAFTS, "Delete a draft", ep.delete_draft)
async def delete_draft(ctx: Context[Any, Any], draft_id: DraftId) -> Deleted:
    """Delete an unsent draft (list_conversation_drafts). Cannot be undone."""
    await confirm(ctx, deleting(f"the draft {draft_id}"))
    confirmed = await app_state(ctx).client.call(ep.delete_draft, ids=[draft_id], id_field="draft_id")
    return deleted(draft_id, confirmed)
