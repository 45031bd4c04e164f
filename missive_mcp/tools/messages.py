"""Messages recorded from outside systems through a custom channel."""

from typing import Annotated, Any

from mcp.server.mcpserver import Context
from pydantic import Field

from .. import endpoints as ep
from ..bodies import MessageBody, compose
from ..docstrings import Described
from ..errors import InvalidArgumentError
from ..models import Message
from ..state import app_state
from ..toolsets import MESSAGES
from .declaration import tool
from .drafts import Attachments, Party, check_attachments
from .threads import lean


class CreatedMessage(Described):
    message: Message | None = None


@tool(MESSAGES, "Add a message to a custom channel", ep.create_message)
async def create_message(
    ctx: Context[Any, Any],
    account: Annotated[str, Field(min_length=1, description="Custom channel account id (Missive channel settings).")],
    from_field: Annotated[Party, Field(description="Who the message is from, in the outside system.")],
    to_fields: Annotated[list[Party], Field(min_length=1, max_length=100, description="Who it is to (channel ids).")],
    body: Annotated[str, Field(min_length=1, description="HTML or plain text.")],
    subject: Annotated[str | None, Field(description="Subject line.")] = None,
    external_id: Annotated[
        str | None, Field(description="The outside system's id; lets Missive recognise a message it already has.")
    ] = None,
    attachments: Attachments = None,
) -> CreatedMessage:
    """Record an incoming message from an outside system in a custom channel. It sends nothing to anyone.
    Give external_id so that a repeated call is recognised instead of creating a second message."""
    if not body.strip():
        raise InvalidArgumentError("body", "must not be blank.")
    message = compose(
        MessageBody,
        account=account,
        subject=subject,
        body=body,
        external_id=external_id,
        from_field=from_field.model_dump(exclude_none=True),
        to_fields=[p.model_dump(exclude_none=True) for p in to_fields],
        attachments=attachments and [a.model_dump() for a in attachments],
    )
    check_attachments(attachments, {"messages": message})
    repeat = " (or call create_message again with the same external_id: Missive recognises it)"
    context = {"repeat": repeat if message.get("external_id") else ""}
    created = await app_state(ctx).client.call(ep.create_message, body=message, context=context)
    return CreatedMessage(message=await lean(created))
