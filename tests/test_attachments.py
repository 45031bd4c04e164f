"""get_attachment: a message's file as an embedded resource, fetched without the API token, within a size cap."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from mcp import Client
from mcp.types import BlobResourceContents, EmbeddedResource, TextContent, TextResourceContents

from missive_mcp.sandbox import (
    DEMO_CONVERSATION_ID,
    DEMO_MESSAGE_ID,
    DEMO_PDF_ATTACHMENT_ID,
    DEMO_TEXT_ATTACHMENT_ID,
    FakeMissive,
)
from missive_mcp.server import create_server

from .conftest import call, fail, settings_for

pytestmark = pytest.mark.anyio


def holder_of(fake: FakeMissive, attachment_id: str) -> str:
    for message in fake.workspace.conversation(DEMO_CONVERSATION_ID).messages:
        if any(item.get("id") == attachment_id for item in message.attachments):
            return message.id
    raise AssertionError(attachment_id)


async def opened(mcp: Client, message_id: str, attachment_id: str) -> tuple[str, Any]:
    result = await mcp.call_tool("get_attachment", {"message_id": message_id, "attachment_id": attachment_id})
    assert not result.is_error, result.content
    summary, resource = result.content
    assert isinstance(summary, TextContent) and isinstance(resource, EmbeddedResource)
    return summary.text, resource.resource


async def test_a_pdf_comes_back_as_a_blob_and_the_token_never_goes_to_the_file_host(
    mcp: Client, fake: FakeMissive
) -> None:
    summary, resource = await opened(mcp, DEMO_MESSAGE_ID, DEMO_PDF_ATTACHMENT_ID)
    assert isinstance(resource, BlobResourceContents)
    pdf = base64.b64decode(resource.blob)
    assert pdf.startswith(b"%PDF-") and len(pdf) == len(fake.workspace.files[DEMO_PDF_ATTACHMENT_ID].content)
    assert resource.mime_type == "application/pdf"
    assert str(resource.uri) == f"missive://messages/{DEMO_MESSAGE_ID}/attachments/{DEMO_PDF_ATTACHMENT_ID}"
    assert summary.startswith(f"invoice-4821.pdf (application/pdf, {len(pdf)} bytes)")
    download = fake.requests[-1]
    assert download.path.startswith("/files/") and "authorization" not in download.headers


async def test_a_text_file_comes_back_as_text(mcp: Client, fake: FakeMissive) -> None:
    message_id = holder_of(fake, DEMO_TEXT_ATTACHMENT_ID)
    _, resource = await opened(mcp, message_id, DEMO_TEXT_ATTACHMENT_ID)
    assert isinstance(resource, TextResourceContents) and resource.mime_type == "text/plain"
    assert resource.text == fake.workspace.files[DEMO_TEXT_ATTACHMENT_ID].content.decode()


async def test_threads_list_each_attachment_with_its_id_name_type_and_size(mcp: Client, fake: FakeMissive) -> None:
    thread = await call(mcp, "read_conversation", conversation_id=DEMO_CONVERSATION_ID)
    first = next(e for e in thread["entries"] if e["id"] == DEMO_MESSAGE_ID)
    size = len(fake.workspace.files[DEMO_PDF_ATTACHMENT_ID].content)
    assert first["attachments"] == [
        {"id": DEMO_PDF_ATTACHMENT_ID, "name": "invoice-4821.pdf", "type": "application/pdf", "size": size}
    ]
    messages = await call(mcp, "get_messages", message_ids=[DEMO_MESSAGE_ID])
    (file,) = messages["messages"][0]["attachments"]
    assert (file["id"], file["filename"], file["media_type"], file["sub_type"], file["size"]) == (
        DEMO_PDF_ATTACHMENT_ID,
        "invoice-4821.pdf",
        "application",
        "pdf",
        size,
    )


async def test_an_expired_link_is_refreshed_once_by_reading_the_message_again(fake: FakeMissive) -> None:
    clock = iter([1_800_000_000.0, 1_800_000_000.0 + 7200] + [1_800_000_000.0 + 7200] * 50)
    fake.workspace._wall = lambda: next(clock)  # pyright: ignore[reportPrivateUsage]
    async with Client(create_server(settings_for(fake), transport=fake.transport())) as mcp:
        fake.workspace.attachment_url_ttl = 3600
        _, resource = await opened(mcp, DEMO_MESSAGE_ID, DEMO_PDF_ATTACHMENT_ID)
    assert isinstance(resource, BlobResourceContents)
    paths = [r.path.split("/")[1] for r in fake.requests]
    assert paths == ["v1", "files", "v1", "files"]  # read, refused (expired), read again, downloaded


async def test_a_link_refused_twice_says_so_and_stops(fake: FakeMissive) -> None:
    fake.workspace.attachment_url_ttl = -10  # every link is born expired
    async with Client(create_server(settings_for(fake), transport=fake.transport())) as mcp:
        text = await fail(mcp, "get_attachment", message_id=DEMO_MESSAGE_ID, attachment_id=DEMO_PDF_ATTACHMENT_ID)
    assert "was refused twice" in text and len(fake.requests) == 4


async def test_a_file_over_the_cap_is_refused_before_download(fake: FakeMissive) -> None:
    async with Client(create_server(settings_for(fake, attachment_max_mb=0.0005), transport=fake.transport())) as mcp:
        text = await fail(mcp, "get_attachment", message_id=DEMO_MESSAGE_ID, attachment_id=DEMO_PDF_ATTACHMENT_ID)
    assert "over this server's 0.0005 MB cap (MISSIVE_ATTACHMENT_MAX_MB)" in text
    assert [r.path.split("/")[1] for r in fake.requests] == ["v1"]  # never downloaded


async def test_an_unknown_attachment_lists_the_ones_the_message_has(mcp: Client) -> None:
    text = await fail(mcp, "get_attachment", message_id=DEMO_MESSAGE_ID, attachment_id="nope")
    assert f"Its attachments: {DEMO_PDF_ATTACHMENT_ID} (invoice-4821.pdf)" in text


async def test_attachments_are_a_toolset_the_operator_can_leave_off(fake: FakeMissive) -> None:
    async with Client(create_server(settings_for(fake, toolsets="default"), transport=fake.transport())) as mcp:
        names = {tool.name for tool in (await mcp.list_tools()).tools}
        text = await fail(mcp, "get_attachment", message_id=DEMO_MESSAGE_ID, attachment_id=DEMO_PDF_ATTACHMENT_ID)
    assert "get_attachment" not in names and "toolset, attachments, is not enabled" in text
