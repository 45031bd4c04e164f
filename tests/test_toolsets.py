"""Dynamic toolsets (MISSIVE_DYNAMIC_TOOLSETS): the agent turns a toolset on, and the client is told."""

from __future__ import annotations

from typing import Any

import pytest
from mcp import Client
from mcp.types import ToolListChangedNotification

from missive_mcp.http import create_http_app
from missive_mcp.sandbox import DEMO_ORG_ID, FakeMissive
from missive_mcp.server import create_server

from .conftest import call, fail, settings_for

pytestmark = pytest.mark.anyio


def dynamic(fake: FakeMissive, **overrides: Any) -> Any:
    values = {"toolsets": "all", **overrides}
    return create_server(settings_for(fake, dynamic_toolsets=True, **values), transport=fake.transport())


async def names(mcp: Client) -> set[str]:
    return {tool.name for tool in (await mcp.list_tools()).tools}


async def test_a_toolset_turned_on_appears_and_the_client_is_told(fake: FakeMissive) -> None:
    told: list[Any] = []

    async def handler(message: Any) -> None:
        if isinstance(getattr(message, "root", message), ToolListChangedNotification):
            told.append(message)

    async with Client(dynamic(fake), mode="legacy", message_handler=handler) as mcp:
        before = await names(mcp)
        assert "enable_toolset" in before and "list_conversations" in before
        assert "create_analytics_report" not in before
        off = await fail(mcp, "create_analytics_report", organization=DEMO_ORG_ID, start=1, end=2)
        assert "call enable_toolset(toolset='analytics') first" in off
        listing = await call(mcp, "enable_toolset")
        analytics = next(t for t in listing["toolsets"] if t["name"] == "analytics")
        assert analytics == {
            "name": "analytics",
            "enabled": False,
            "about": "start analytics reports, with filters (teams, users, labels, channels)",
            "tools": ["create_analytics_report"],
        }
        turned = await call(mcp, "enable_toolset", toolset="Analytics")
        assert turned["changed"] is True and told
        after = await names(mcp)
        assert after - before == {"create_analytics_report"}
        assert "get_analytics_report" in before  # one call creates and waits: served by default
        await call(mcp, "create_analytics_report", organization=DEMO_ORG_ID, start=1, end=2)
        again = await call(mcp, "enable_toolset", toolset="analytics")
        assert again["changed"] is False


async def test_the_handshake_says_the_tool_list_can_change(fake: FakeMissive) -> None:
    async with Client(dynamic(fake), mode="legacy") as mcp:
        tools = mcp.server_capabilities.tools
    assert tools is not None and tools.list_changed is True


async def test_read_only_stays_the_ceiling(fake: FakeMissive) -> None:
    async with Client(dynamic(fake, read_only=True)) as mcp:
        refused = await fail(mcp, "enable_toolset", toolset="webhooks")  # nothing in it but writes
        await call(mcp, "enable_toolset", toolset="contacts")
        shown = await names(mcp)
    assert "The webhooks toolset is not offered on this server" in refused
    assert "list_contacts" in shown and "create_contact" not in shown and "create_draft" not in shown


async def test_an_unknown_toolset_is_refused_with_the_list(fake: FakeMissive) -> None:
    async with Client(dynamic(fake)) as mcp:
        text = await fail(mcp, "enable_toolset", toolset="everything")
    assert "'everything' is not a toolset; use one of conversations, drafts" in text


def test_dynamic_toolsets_are_refused_over_http(fake: FakeMissive) -> None:
    settings = settings_for(fake, dynamic_toolsets=True, mcp_auth_token="k" * 32)
    with pytest.raises(ValueError, match="MISSIVE_DYNAMIC_TOOLSETS works over stdio only"):
        create_http_app(create_server(settings, transport=fake.transport()), settings)


async def test_without_dynamic_mode_there_is_no_switch(mcp: Client) -> None:
    assert "enable_toolset" not in await names(mcp)


async def test_a_toolset_outside_the_operators_ceiling_cannot_be_turned_on(fake: FakeMissive) -> None:
    async with Client(dynamic(fake, toolsets="conversations,drafts,webhooks")) as mcp:
        shown = await names(mcp)
        text = await fail(mcp, "enable_toolset", toolset="attachments")
        await call(mcp, "enable_toolset", toolset="webhooks")
        after = await names(mcp)
    assert "list_tasks" not in shown and "create_webhook" not in shown  # tasks: not offered; webhooks: not on yet
    assert "The attachments toolset is not offered on this server" in text
    assert "Offered: conversations, drafts, webhooks." in text
    assert "create_webhook" in after and "get_attachment" not in after
