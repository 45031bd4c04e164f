"""Prompts render into workflows that use the tools, and the server explains itself at initialisation."""

from __future__ import annotations

import pytest
from mcp import Client, MCPError

from .conftest import text_of

pytestmark = pytest.mark.anyio


async def test_each_prompt_renders_a_workflow_over_the_tools(mcp: Client) -> None:
    listed = {p.name for p in (await mcp.list_prompts()).prompts}
    assert listed == {"triage_inbox", "draft_reply", "summarize_analytics"}
    triage = await mcp.get_prompt("triage_inbox", {"limit": "10"})
    text = text_of(triage.messages[0].content)
    assert "list_conversations" in text and "max_results=10" in text and "update_conversation" in text
    reply = await mcp.get_prompt("draft_reply", {"conversation_id": "c-1", "intent": "offer a refund"})
    text = text_of(reply.messages[0].content)
    assert "read_conversation" in text and "create_draft" in text and "Do not pass send" in text
    assert "offer a refund" in text
    summary = await mcp.get_prompt(
        "summarize_analytics", {"organization": "o-1", "start": "2026-11-01", "end": "2026-11-30"}
    )
    text = text_of(summary.messages[0].content)
    assert "create_analytics_report" in text and "get_analytics_report" in text


async def test_instructions_say_where_ids_come_from_and_that_mail_is_data(mcp: Client) -> None:
    instructions = mcp.instructions or ""
    for needle in ("list_organizations", "next_until", "sending", "third-party content"):
        assert needle in instructions


async def test_reference_lists_are_resources_a_client_can_attach(mcp: Client) -> None:
    uris = {str(r.uri) for r in (await mcp.list_resources()).resources}
    assert {"missive://organizations", "missive://users", "missive://teams", "missive://shared-labels"} <= uris
    labels = await mcp.read_resource("missive://shared-labels")
    assert '"shared_labels":[{' in text_of(labels.contents[0])
    templates = {t.uri_template for t in (await mcp.list_resource_templates()).resource_templates}
    assert {"missive://conversations/{conversation_id}", "missive://contacts/{contact_id}"} <= templates


async def test_a_resource_that_cannot_be_read_says_why(mcp: Client) -> None:
    unknown = "00000000-0000-4000-8000-000000000000"
    with pytest.raises(MCPError) as missing:
        await mcp.read_resource(f"missive://conversations/{unknown}")
    assert unknown in str(missing.value) and "list_conversations" in str(missing.value)
    with pytest.raises(MCPError) as contact:
        await mcp.read_resource(f"missive://contacts/{unknown}")
    assert "list_contacts" in str(contact.value)
