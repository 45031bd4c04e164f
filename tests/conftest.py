"""Shared fixtures: the fake Missive, and the server connected to it in memory through the SDK's Client."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import jsonschema
import pytest
from mcp import Client
from mcp.types import CallToolResult, TextContent, TextResourceContents
from pydantic import SecretStr

from missive_mcp import client
from missive_mcp.sandbox import DEMO_TOKEN, FakeMissive, RecordedRequest
from missive_mcp.sandbox.seed import at
from missive_mcp.server import create_server
from missive_mcp.settings import Settings


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(autouse=True)
def quick_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """Retries keep their shape, at a hundredth of the wait."""
    monkeypatch.setattr(client, "BACKOFF", 0.005)


@pytest.fixture
def fake() -> FakeMissive:
    return FakeMissive(report_delay=0.0)


NOW = at(21, 9)
"""A fixed wall clock for the fake (the morning after the seeded data): new objects' timestamps are exact."""


@pytest.fixture
def still() -> FakeMissive:
    """The fake with its wall clock stopped at NOW."""
    return FakeMissive(report_delay=0.0, wall=lambda: float(NOW))


@pytest.fixture
async def agent(still: FakeMissive) -> AsyncIterator[Client]:
    """An agent's session with every toolset, against `still`."""
    async with Client(create_server(settings_for(still), transport=still.transport())) as client:
        yield client


def sent(fake: FakeMissive) -> tuple[str, str, Any]:
    """The last request Missive received: method, path (from /v1) and JSON body, envelope included."""
    last: RecordedRequest = fake.requests[-1]
    return last.method, last.path, last.body


def settings_for(fake: FakeMissive, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "api_token": SecretStr(DEMO_TOKEN),
        "base_url": fake.base_url,
        "timeout": 5.0,
        "toolsets": "all",
    }
    return Settings.model_validate(values | overrides)


@pytest.fixture
async def mcp(fake: FakeMissive) -> AsyncIterator[Client]:
    server = create_server(settings_for(fake, allow_send=True), transport=fake.transport())
    async with Client(server) as client:
        yield client


_published: dict[int, dict[str, Any]] = {}


async def call(client: Client, tool: str, **arguments: Any) -> dict[str, Any]:
    """Call a tool that must succeed; its structured result, checked against the output schema the tool
    publishes and against its text content (the same data, for clients that read only text)."""
    result = await client.call_tool(tool, arguments)
    assert not result.is_error, result.content
    assert result.structured_content is not None
    schemas = _published.get(id(client), {})
    if tool not in schemas:  # first call on this client (ids of closed clients are reused: list again)
        schemas = _published[id(client)] = {t.name: t.output_schema for t in (await client.list_tools()).tools}
    jsonschema.validate(result.structured_content, schemas[tool])
    assert json.loads(getattr(result.content[0], "text", "")) == result.structured_content
    return result.structured_content


async def fail(client: Client, tool: str, **arguments: Any) -> str:
    """Call a tool that must fail; the error text the agent reads."""
    result = await client.call_tool(tool, arguments)
    assert result.is_error, result.structured_content
    return " ".join(getattr(block, "text", "") for block in result.content)


def structured(result: CallToolResult) -> dict[str, Any]:
    """A tool result's structured content, which must be there."""
    content = result.structured_content
    assert isinstance(content, dict), result.content
    return content


def text_of(block: object) -> str:
    """The text of a content block (a tool's or prompt's text, or a resource's text contents)."""
    assert isinstance(block, TextContent | TextResourceContents), block
    return block.text


pytest_plugins = ["tests.services"]
