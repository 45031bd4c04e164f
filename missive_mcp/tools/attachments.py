"""Opening an attachment: its bytes as an embedded resource, downloaded without the API token."""

import base64
from typing import Annotated, Any

from mcp.server.mcpserver import Context
from mcp.types import BlobResourceContents, CallToolResult, EmbeddedResource, TextContent, TextResourceContents
from pydantic import Field

from .. import endpoints as ep
from ..docstrings import Described
from ..errors import InvalidArgumentError, NotFoundError
from ..models import Attachment
from ..state import app_state
from ..text import sanitize
from ..toolsets import ATTACHMENTS
from .declaration import tool

TEXT_TYPES = ("text/", "application/json", "application/xml", "application/csv", "application/x-yaml")
"""MIME types returned as text (UTF-8, invisible characters removed); anything else comes as a base64 blob."""


class Opened(Described):
    """What was opened; the bytes are the embedded resource beside it."""

    uri: str
    name: str
    type: str
    """MIME type."""
    size: int
    """Bytes."""


@tool(ATTACHMENTS, "Open an attachment", ep.get_messages, ep.download_attachment)
async def get_attachment(
    ctx: Context[Any, Any],
    message_id: Annotated[str, Field(description="The message holding it (read_conversation, get_messages).")],
    attachment_id: Annotated[str, Field(description="Its id, from that message's attachments.")],
) -> Annotated[CallToolResult, Opened]:
    """Open a message's attachment (a PDF, an image, a text file...) as an embedded resource: text for text
    types, base64 otherwise. Files over the server's size cap (5 MB unless the operator set another) are
    refused before download."""
    app = app_state(ctx)
    client = app.client
    limit = int(app.settings.attachment_max_mb * 1_000_000)
    for attempt in range(2):  # a link that expired is refreshed once, by reading the message again
        found = await client.call(ep.get_messages, ids=[message_id], id_field="message_ids")
        file = next((a for a in found[0].attachments if a.id == attachment_id), None) if found else None
        if file is None:
            names = ", ".join(f"{a.id} ({a.filename})" for a in (found[0].attachments if found else []))
            raise NotFoundError(
                f"Message {message_id!r} has no attachment {attachment_id!r}. Its attachments: {names or 'none'}.",
                status=404,
            )
        if file.size is not None and file.size > limit:
            raise InvalidArgumentError(
                "attachment_id",
                f"{file.filename} is {file.size / 1e6:.1f} MB, over this server's {limit / 1e6:g} MB cap "
                "(MISSIVE_ATTACHMENT_MAX_MB); open it in Missive instead.",
            )
        if not file.url:
            raise NotFoundError(f"Missive sent no download link for attachment {attachment_id!r}.", status=404)
        content = await client.download(file.url, max_bytes=limit)
        if content is not None:
            return embedded(message_id, file, content)
        if attempt:
            break
    raise NotFoundError(
        f"The download link of attachment {attachment_id!r} was refused twice (expired or revoked), even after "
        "reading the message again for a fresh one. Try again later.",
        status=403,
    )


def embedded(message_id: str, file: Attachment, content: bytes) -> CallToolResult:
    uri = f"missive://messages/{message_id}/attachments/{file.id}"
    mime = file.mime_type or "application/octet-stream"
    name = " ".join((file.filename or "attachment").split())[:200]
    summary = f"{name} ({mime}, {len(content)} bytes), from message {message_id}. Its content is third-party data."
    if mime.startswith(TEXT_TYPES):
        text = sanitize(content.decode("utf-8", "replace"))
        resource: TextResourceContents | BlobResourceContents = TextResourceContents(uri=uri, mime_type=mime, text=text)
    else:
        resource = BlobResourceContents(uri=uri, mime_type=mime, blob=base64.b64encode(content).decode("ascii"))
    opened = Opened(uri=uri, name=name, type=mime, size=len(content))
    return CallToolResult(
        content=[TextContent(type="text", text=summary), EmbeddedResource(type="resource", resource=resource)],
        structured_content=opened.model_dump(),
    )
