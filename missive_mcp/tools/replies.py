"""Replying in a thread in one call: recipients worked out from the latest inbound message."""

import html
import re
from typing import Annotated, Any

from mcp.server.mcpserver import Context
from pydantic import Field

from .. import endpoints as ep
from ..bodies import DraftBody, compose
from ..client import MissiveClient
from ..confirm import confirm, sending
from ..errors import InvalidArgumentError
from ..models import Address, CannedResponse, Message, User
from ..state import app_state
from ..toolsets import DRAFTS
from ._common import ConversationId, gather
from .declaration import tool
from .drafts import DraftResult, Party, check_sending, recipients_of
from .threads import lean

SCAN = 10
"""Messages read (newest first) to find the latest inbound one: one page, Missive's maximum."""


class ReplyResult(DraftResult):
    replying_to: str
    """Id of the message the reply answers (the latest one not sent by the team)."""
    to_fields: list[Party]
    cc_fields: list[Party] | None = None
    unfilled_variables: list[str] | None = None
    """Canned-response placeholders ({{amount}}) left in the draft for a person to fill."""


_VARIABLE = re.compile(r"\{\{\s*([a-z0-9_.]+)\s*\}\}", re.IGNORECASE)


def fill_variables(text: str, recipient: Party | None) -> tuple[str, list[str]]:
    """A canned response's contact placeholders filled from the recipient's name; the others listed.

    The name is whatever the sender put in their From header: it enters the team's HTML escaped, or a planted
    `<a href=...>` or tracking `<img>` would go out under the team's name."""
    name = (recipient.name or "").strip() if recipient else ""
    first, _, last = name.partition(" ")
    known = {
        "contact.first_name": html.escape(first),
        "contact.last_name": html.escape(last),
        "contact.name": html.escape(name),
    }
    unfilled: list[str] = []

    def fill(match: re.Match[str]) -> str:
        value = known.get(match.group(1).lower())
        if value:
            return value
        unfilled.append(match.group(0))
        return match.group(0)

    return _VARIABLE.sub(fill, text), list(dict.fromkeys(unfilled))


def _key(party: Address) -> str | None:
    value = party.address or party.phone_number or party.username or party.id
    return value.strip().lower() if value else None


def _party(address: Address) -> Party:
    return Party.model_validate(address.model_dump(include={"name", "address", "phone_number", "id", "username"}))


def own_addresses(messages: list[Message], users: list[User]) -> set[str]:
    """The team's own addresses: its users' emails, and the senders of messages a teammate wrote."""
    own = {user.email.strip().lower() for user in users if user.email}
    for message in messages:
        written_by_team = (message.model_extra or {}).get("author") is not None
        if written_by_team and message.from_field and (key := _key(message.from_field)):
            own.add(key)
    return own


def addressing(messages: list[Message], own: set[str], *, reply_all: bool) -> tuple[Message, list[Party], list[Party]]:
    """The message to answer (the newest not sent by the team, else the newest) and its reply's to and cc."""
    inbound = [m for m in messages if m.from_field and _key(m.from_field) not in own]
    answered = inbound[0] if inbound else messages[0]
    extra = answered.model_extra or {}
    given: list[Any] = extra.get("reply_to_fields") or []
    reply_to = [Address.model_validate(a) for a in given if isinstance(a, dict)]
    # When the team wrote last and nobody answered, the reply goes to the same people again.
    sender = [answered.from_field] if answered.from_field else []
    to = (reply_to or sender) if inbound else answered.to_fields
    cc = [*answered.to_fields, *answered.cc_fields] if reply_all and inbound else []
    seen = set(own)
    chosen: list[list[Party]] = [[], []]
    for slot, parties in enumerate((to, cc)):
        for party in parties:
            key = _key(party)
            if key and key not in seen:
                seen.add(key)
                chosen[slot].append(_party(party))
    return answered, chosen[0], chosen[1]


def sender_for(answered: Message, messages: list[Message], own: set[str]) -> Party | None:
    """Send from the team address the message was sent to, or the one the team last wrote from."""
    for party in [*answered.to_fields, *answered.cc_fields]:
        if _key(party) in own and party.address:
            return _party(party)
    for message in messages:
        if message.from_field and _key(message.from_field) in own and message.from_field.address:
            return _party(message.from_field)
    return None


def reply_subject(subject: str | None) -> str | None:
    if not subject:
        return None
    return subject if subject[:3].lower() == "re:" else f"Re: {subject}"


async def _thread(client: MissiveClient, conversation_id: str) -> list[Message]:
    params = {"limit": SCAN}
    items = await client.call(
        ep.list_conversation_messages, ids=[conversation_id], id_field="conversation_id", params=params
    )
    return [Message.model_validate(item) for item in items]


@tool(DRAFTS, "Reply in a thread", ep.list_conversation_messages, ep.list_users, ep.get_response, ep.create_draft)
async def reply_to_conversation(
    ctx: Context[Any, Any],
    conversation_id: ConversationId,
    body: Annotated[str | None, Field(description="Your reply, HTML or plain text.")] = None,
    response_id: Annotated[str | None, Field(description="From list_responses.")] = None,
    reply_all: Annotated[bool, Field(description="Copy the other recipients too.")] = False,
    send: Annotated[bool | None, Field(description="Send now (if allowed).")] = None,
    send_at: Annotated[int | None, Field(ge=1, description="Send at (Unix s; if allowed).")] = None,
) -> ReplyResult:
    """Draft a reply in one call, addressed from the latest message the team did not send, subject and threading
    set. send/send_at need permission."""
    if not (body or response_id):
        raise InvalidArgumentError("body", "give the reply's body, or a response_id to start from.")
    app = app_state(ctx)
    client = app.client

    async def canned() -> CannedResponse | None:
        if not response_id:
            return None
        return await client.call(ep.get_response, ids=[response_id], id_field="response_id")

    messages, users, response = await gather(
        lambda: _thread(client, conversation_id), lambda: client.call(ep.list_users, params={"limit": 200}), canned
    )
    if not messages:
        raise InvalidArgumentError(
            "conversation_id", "this conversation has no message to reply to; use create_draft to write one."
        )
    own = own_addresses(messages, users)
    answered, to, cc = addressing(messages, own, reply_all=reply_all)
    if not to:
        raise InvalidArgumentError(
            "conversation_id", "no recipient could be worked out from the thread; use create_draft with to_fields."
        )
    recipients = recipients_of(to_fields=to, cc_fields=cc)
    check_sending(app.settings, send, send_at, recipients)
    template, unfilled = fill_variables(response.body or "", to[0]) if response else ("", [])
    parts = [part for part in (body, template) if part]
    extra = answered.model_extra or {}
    earlier: list[Any] = extra.get("references") or []
    references = [str(ref) for ref in [*earlier, answered.email_message_id] if ref]
    sender = sender_for(answered, messages, own)
    draft = compose(
        DraftBody,
        conversation=conversation_id,
        body="<br><br>".join(parts),
        subject=reply_subject(answered.subject) or (response.subject if response else None),
        to_fields=[p.model_dump(exclude_none=True) for p in to],
        cc_fields=[p.model_dump(exclude_none=True) for p in cc] or None,
        from_field=sender.model_dump(exclude_none=True) if sender else None,
        references=references or None,
        send=send,
        send_at=send_at,
    )
    where = {"where": f"conversation {conversation_id!r}"}
    await confirm(ctx, sending(draft))
    created = await client.call(ep.create_draft, body=draft, context=where)
    return ReplyResult(
        draft=await lean(created),
        sent=bool(send),
        scheduled_at=send_at,
        replying_to=answered.id,
        to_fields=to,
        cc_fields=cc or None,
        unfilled_variables=unfilled or None,
    )
