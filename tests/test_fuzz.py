"""Every tool, fed inputs drawn from its own schema and malformed ones, answers a result or a clear error."""

from __future__ import annotations

from typing import Any

import anyio
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mcp import Client

from missive_mcp.sandbox import FakeMissive
from missive_mcp.server import create_server
from missive_mcp.tools import analytics

from .conftest import settings_for

JUNK = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63),
    st.floats(allow_nan=True),
    st.text(max_size=40),
    st.text(alphabet="../?#%&\\\u202e\u200b\0", max_size=12),
    st.lists(st.text(max_size=8), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
)


def from_schema(schema: dict[str, Any], defs: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Values that mostly fit the schema; hypothesis mixes in junk below."""
    if "$ref" in schema:
        return from_schema(defs[schema["$ref"].rsplit("/", 1)[1]], defs)
    if "anyOf" in schema:
        return st.one_of(*(from_schema(branch, defs) for branch in schema["anyOf"]))
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    kind = schema.get("type")
    if kind == "boolean":
        return st.booleans()
    if kind == "integer":
        return st.integers(schema.get("minimum", -5), schema.get("maximum", 2_000_000_000))
    if kind == "number":
        return st.floats(schema.get("minimum", 0), schema.get("maximum", 1e6))
    if kind == "array":
        return st.lists(from_schema(schema.get("items", {}), defs), max_size=min(schema.get("maxItems", 3), 3))
    if kind == "object" and "properties" in schema:
        return st.fixed_dictionaries({}, optional={k: from_schema(v, defs) for k, v in schema["properties"].items()})
    if kind == "object":
        return st.dictionaries(st.text(max_size=5), st.text(max_size=5), max_size=2)
    return st.one_of(st.text(max_size=30), st.sampled_from(["", "abc", "../contacts", "a/b?x=1", "00000000-0000"]))


def arguments(schema: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    defs = schema.get("$defs", {})
    fields = {name: st.one_of(from_schema(sub, defs), JUNK) for name, sub in schema["properties"].items()}
    if "timeout" in fields:  # a valid wait is still a wait: keep the analytics poll short
        fields["timeout"] = st.floats(0, 0.05)
    return st.fixed_dictionaries({}, optional=fields | {"unexpected_argument": JUNK})


def test_every_tool_answers_every_input_and_the_server_stays_up(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(analytics, "POLL_INTERVAL", 0.01)
    fake = FakeMissive(report_delay=0.0, enforce_limits=False)
    # deadline: watch_inbox may be drawn a wait of up to 45 s; it waits within the call's deadline
    server = create_server(settings_for(fake, allow_send=True, timeout=2.0, deadline=3.0), transport=fake.transport())
    tools = anyio.run(server.list_tools)

    for tool in tools:
        fuzz(server, tool.name, tool.input_schema)()


def fuzz(server: Any, name: str, schema: dict[str, Any]) -> Any:
    """A hypothesis test that calls `name` with inputs drawn from its own schema plus malformed values."""

    @settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(arguments(schema))
    def check(args: dict[str, Any]) -> None:
        async def once() -> None:
            async with Client(server) as mcp:
                with anyio.fail_after(10):
                    result = await mcp.call_tool(name, args)
                if result.is_error:
                    text = " ".join(getattr(b, "text", "") for b in result.content)
                    assert text.strip() and "Traceback" not in text and "failed unexpectedly" not in text, text
                else:
                    assert result.structured_content is not None
                assert (await mcp.list_tools()).tools

        anyio.run(once)

    return check
