"""The server (server.py): the tool surface an agent sees (names, descriptions, schemas, annotations, its size on the
wire), and CallGuard around every call: turned-off tools, one-line argument errors naming the argument, the deadline."""

from __future__ import annotations

import importlib.util
import json
import os
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client
from mcp.types import TextContent

from missive_mcp.sandbox import FakeMissive, Fault
from missive_mcp.server import TOOLS, build_tool, create_server, lean_schema
from missive_mcp.settings import TOOLSETS, Settings

from .conftest import call, fail, settings_for

ROOT = Path(__file__).parent.parent
SNAPSHOT = Path(__file__).parent / "snapshots" / "tools.json"
SPEC_OPERATIONS = [
    "create_analytics_report",
    "get_analytics_report",
    "list_contacts",
    "create_contact",
    "get_contact",
    "update_contact",
    "list_contact_books",
    "list_contact_groups",
    "list_conversations",
    "get_conversation",
    "update_conversation",
    "list_conversation_messages",
    "list_conversation_comments",
    "list_conversation_drafts",
    "list_conversation_posts",
    "merge_conversations",
    "create_draft",
    "delete_draft",
    "create_message",
]
ALL = Settings(toolsets=frozenset(TOOLSETS))
_spec = importlib.util.spec_from_file_location("bench_targets", ROOT / "bench" / "targets.py")
assert _spec is not None and _spec.loader is not None
TARGETS = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(TARGETS)
"""The targets, from the one place the bench reads them too (bench/targets.py)."""
MODEL_BUDGET: int = TARGETS.MODEL_BYTES_DEFAULT
"""Bytes of name + description + input schema of every tool: what a model is sent (docs/benchmarks.md)."""
ALL_MODEL_BUDGET: int = TARGETS.MODEL_BYTES_ALL
"""The same, every toolset on."""
WIRE_BUDGET: int = TARGETS.WIRE_BYTES_DEFAULT
"""Bytes of the whole tools/list answer, default toolsets, MISSIVE_OUTPUT_SCHEMAS=compact."""


async def listed(settings: Settings) -> list[dict[str, Any]]:
    async with Client(create_server(settings)) as client:
        result = await client.list_tools()
    return [tool.model_dump(mode="json", by_alias=True, exclude_none=True) for tool in result.tools]


def readme_table(tools: list[dict[str, Any]]) -> str:
    rows = ["| Tool | Access | What it does |", "| --- | --- | --- |"]
    for tool in tools:
        hints = tool["annotations"]
        access = "read" if hints.get("readOnlyHint") else "write, destructive" if hints["destructiveHint"] else "write"
        rows.append(f"| `{tool['name']}` | {access} | {tool['description'].split('. ')[0].rstrip('.')}. |")
    return "\n".join(rows)


@pytest.mark.anyio
async def test_every_operation_of_the_spec_is_a_tool() -> None:
    names = {tool["name"] for tool in await listed(ALL)}
    assert set(SPEC_OPERATIONS) <= names


@pytest.mark.anyio
async def test_every_tool_is_described_typed_and_annotated() -> None:
    for tool in await listed(ALL):
        assert len(tool["description"]) > 60, tool["name"]
        assert tool["inputSchema"]["type"] == "object"
        assert tool["outputSchema"]["type"] == "object", tool["name"]
        hints = tool["annotations"]
        assert hints["openWorldHint"] is True
        if (
            tool["name"].startswith(("list_", "get_", "read_", "find_", "watch_"))
            or tool["name"] == "create_analytics_report"
        ):
            assert hints == {"readOnlyHint": True, "openWorldHint": True}, tool["name"]
        else:
            assert hints["readOnlyHint"] is False
            # Removing or replacing data: a delete, a merge, assignees/labels removed, contact lists replaced.
            destructive = {
                *("delete_draft", "merge_conversations", "update_conversation", "update_contact", "delete_post"),
                *("update_task", "update_response", "delete_response", "update_team", "delete_webhook"),
                # a post can remove assignees and labels; share_with_users replaces who a label is shared with
                *("create_post", "update_shared_label"),
            }
            assert hints["destructiveHint"] is (tool["name"] in destructive), tool["name"]
            assert isinstance(hints["idempotentHint"], bool)


@pytest.mark.anyio
async def test_spec_constraints_sit_in_the_schemas() -> None:
    tools = {tool["name"]: tool["inputSchema"]["properties"] for tool in await listed(ALL)}
    assert {k: v for k, v in tools["list_conversations"]["limit"].items() if k != "description"} == {
        "default": 25,
        "maximum": 50,
        "minimum": 2,
        "type": "integer",
    }
    assert tools["list_conversation_messages"]["limit"]["maximum"] == 10
    assert tools["list_contacts"]["limit"]["maximum"] == 200
    assert tools["list_contacts"]["order"]["enum"] == ["last_name", "first_name", "created_at"]
    assert tools["list_contact_groups"]["kind"]["enum"] == ["group", "organization"]
    assert tools["update_conversation"]["conversation_ids"]["type"] == "array"
    assert tools["update_contact"]["contact_ids"]["type"] == "array"


@pytest.mark.anyio
async def test_tool_list_matches_the_committed_snapshot() -> None:
    tools = await listed(ALL)
    current = json.dumps(tools, indent=1, sort_keys=True, ensure_ascii=False) + "\n"
    if os.environ.get("UPDATE_SNAPSHOTS"):
        SNAPSHOT.write_text(current)
    assert SNAPSHOT.read_text() == current, "tool surface changed: review, then rerun with UPDATE_SNAPSHOTS=1"


@pytest.mark.anyio
async def test_tool_list_stays_within_its_byte_budget() -> None:
    """What a model is sent (name, description, input schema) for the default toolsets and for all of them;
    the whole answer on the wire with compact output schemas (the full ones are measured by bench/)."""
    for settings, budget in ((Settings(), MODEL_BUDGET), (ALL, ALL_MODEL_BUDGET)):
        async with Client(create_server(settings)) as client:
            result = await client.list_tools()
        sent = [{"name": t.name, "description": t.description, "inputSchema": t.input_schema} for t in result.tools]
        assert len(json.dumps(sent, separators=(",", ":")).encode()) <= budget
    async with Client(create_server(Settings(output_schemas="compact"))) as client:
        result = await client.list_tools()
    wire = result.model_dump_json(by_alias=True, exclude_none=True)
    assert len(wire.encode()) <= WIRE_BUDGET, len(wire.encode())


@pytest.mark.anyio
async def test_readme_tool_table_is_current() -> None:
    table = readme_table(await listed(ALL))
    readme = (ROOT / "README.md").read_text()
    head, rest = readme.split("<!-- tools:start -->\n")
    current, tail = rest.split("<!-- tools:end -->")
    if os.environ.get("UPDATE_SNAPSHOTS"):
        (ROOT / "README.md").write_text(f"{head}<!-- tools:start -->\n{table}\n<!-- tools:end -->{tail}")
    else:
        assert current == table + "\n", "README tool table is stale: rerun with UPDATE_SNAPSHOTS=1"


@pytest.mark.anyio
async def test_read_only_lists_only_tools_that_change_nothing() -> None:
    names = [tool["name"] for tool in await listed(ALL.model_copy(update={"read_only": True}))]
    assert names == [t.name for t in TOOLS if t.access == "read"]
    assert "create_analytics_report" in names
    assert not {"create_draft", "update_conversation", "delete_draft", "merge_conversations"} & set(names)


@pytest.mark.anyio
async def test_a_tool_the_operator_turned_off_cannot_be_called_and_says_why() -> None:
    fake = FakeMissive()
    for settings, tool, why in [
        (settings_for(fake, read_only=True), "create_draft", "read-only (MISSIVE_READ_ONLY=true)"),
        (settings_for(fake, toolsets=frozenset({"contacts"})), "list_conversations", "conversations, is not enabled"),
    ]:
        async with Client(create_server(settings, transport=fake.transport())) as client:
            result = await client.call_tool(tool, {"body": "x"} if tool == "create_draft" else {"inbox": True})
        assert result.is_error
        block = result.content[0]
        assert isinstance(block, TextContent)
        assert why in block.text
    assert fake.requests == []


@pytest.mark.anyio
async def test_the_default_toolsets_cover_triage_and_all_adds_the_rest() -> None:
    default = {tool["name"] for tool in await listed(Settings())}
    assert {"list_conversations", "read_conversation", "create_draft", "create_post", "list_tasks"} <= default
    assert {"list_users", "list_responses", "update_task"} <= default
    assert not {"list_contacts", "create_webhook", "create_team", "create_analytics_report"} & default
    assert {tool["name"] for tool in await listed(ALL)} == {t.name for t in TOOLS}


@pytest.mark.anyio
async def test_toolsets_hide_whole_groups() -> None:
    names = {tool["name"] for tool in await listed(Settings(toolsets=frozenset({"contacts"})))}
    assert names == {
        "list_contacts",
        "get_contact",
        "create_contact",
        "update_contact",
        "list_contact_books",
        "list_contact_groups",
    }


@pytest.mark.anyio
async def test_without_a_token_tools_are_listed_and_calls_say_how_to_set_one() -> None:
    async with Client(create_server(ALL)) as client:
        assert len((await client.list_tools()).tools) == len(TOOLS)
        result = await client.call_tool("list_contact_books", {})
    assert result.is_error
    block = result.content[0]
    assert isinstance(block, TextContent)
    text = block.text
    assert "MISSIVE_API_TOKEN" in text and "Settings > API" in text


def test_the_bundle_manifest_lists_exactly_the_servers_tools() -> None:
    manifest = json.loads((ROOT / "manifest.json").read_text())
    tools = [
        {"name": t.name, "description": " ".join((t.fn.__doc__ or "").split()).split(". ")[0].rstrip(".") + "."}
        for t in TOOLS
    ]
    if os.environ.get("UPDATE_SNAPSHOTS"):
        manifest["tools"] = tools
        (ROOT / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    assert [t["name"] for t in manifest["tools"]] == [t.name for t in TOOLS]
    assert manifest["user_config"]["api_token"]["sensitive"] is True
    assert (ROOT / manifest["icon"]).read_bytes().startswith(b"\x89PNG")
    assert manifest["server"]["mcp_config"]["env"]["MISSIVE_API_TOKEN"] == "${user_config.api_token}"


def test_every_bundle_setting_reaches_a_variable_the_server_reads() -> None:
    manifest = json.loads((ROOT / "manifest.json").read_text())
    env = manifest["server"]["mcp_config"]["env"]
    assert set(env.values()) == {f"${{user_config.{key}}}" for key in manifest["user_config"]}
    defaults = {
        name: str(manifest["user_config"][value.removeprefix("${user_config.").rstrip("}")].get("default", "x"))
        for name, value in env.items()
    }
    defaults["MISSIVE_ALLOW_SEND"], defaults["MISSIVE_READ_ONLY"] = "false", "false"  # booleans as the app sends them
    settings = Settings.from_env(defaults)  # each default is a value the server accepts
    assert settings.toolsets == Settings().toolsets and not settings.send_allowed_domains and not settings.allow_send


@pytest.mark.anyio
async def test_a_misspelt_argument_is_refused_and_nothing_is_changed(mcp: Client, fake: FakeMissive) -> None:
    conversation_id = (await call(mcp, "list_conversations", inbox=True, limit=2))["conversations"][0]["id"]
    fake.requests.clear()
    text = await fail(mcp, "update_conversation", conversation_ids=[conversation_id], close=True, add_shared_label="x")
    assert fake.requests == []  # the close did not go through without the label
    assert "`add_shared_label` is not an argument of update_conversation" in text and "add_shared_labels" in text


@pytest.mark.anyio
async def test_a_wrong_value_names_the_argument_and_what_was_given(mcp: Client, fake: FakeMissive) -> None:
    text = await fail(mcp, "list_conversations", inbox=True, limit="many")
    assert text.startswith("Invalid arguments for list_conversations, so nothing was sent: `limit`")
    assert '"many"' in text and "errors.pydantic.dev" not in text and "\n" not in text
    assert fake.requests == []


@pytest.mark.anyio
async def test_a_missing_argument_and_a_wrong_type_are_one_line_each_naming_the_argument(
    mcp: Client, fake: FakeMissive
) -> None:
    text = await fail(mcp, "get_task", task_id=5)
    assert text == "Invalid arguments for get_task, so nothing was sent: `task_id`: must be of type string (got 5)."
    text = await fail(mcp, "create_task", conversation="c1")
    assert text == "Invalid arguments for create_task, so nothing was sent: `title` is required."
    text = await fail(mcp, "list_tasks", limit=500, state="done")
    assert text == (
        "Invalid arguments for list_tasks, so nothing was sent: `limit`: must be from 2 to 50 (got 500); "
        '`state`: must be one of "todo", "in_progress", "closed" (got "done").'
    )
    assert fake.requests == []


@pytest.mark.anyio
async def test_a_call_past_its_deadline_answers_in_time_saying_which_wait_ran_out(fake: FakeMissive) -> None:
    fake.faults.append(Fault(hang=True))
    server = create_server(settings_for(fake, deadline=0.3, timeout=30.0), transport=fake.transport())
    async with Client(server) as client:
        with anyio.fail_after(5):
            text = await fail(client, "get_task", task_id="t1")
    assert text == (
        "Error executing tool get_task: This call used up its 0.3 s deadline waiting for Missive's answer "
        "(GET /tasks/t1)."
    )
    assert len(fake.requests) == 1


def test_lean_schema_inlines_references_and_drops_titles_null_branches_and_null_defaults() -> None:
    schema = {
        "title": "Args",
        "type": "object",
        "$defs": {"Party": {"title": "Party", "type": "object", "properties": {"name": {"type": "string"}}}},
        "properties": {
            "party": {"anyOf": [{"$ref": "#/$defs/Party"}, {"type": "null"}], "default": None, "description": "Who."},
            "either": {"anyOf": [{"type": "string"}, {"type": "integer"}, {"type": "null"}]},
            "title": {"type": "string", "title": "Title", "additionalProperties": True},
        },
    }
    assert lean_schema(schema) == {
        "type": "object",
        "properties": {
            "party": {"type": "object", "properties": {"name": {"type": "string"}}, "description": "Who."},
            "either": {"anyOf": [{"type": "string"}, {"type": "integer"}]},
            "title": {"type": "string"},  # an argument called title keeps its place
        },
    }
    assert lean_schema(None) is None


def test_no_published_schema_has_a_reference_or_a_title() -> None:
    def titles(node: Any) -> list[str]:
        if isinstance(node, dict):
            found = [str(node["title"])] if isinstance(node.get("title"), str) else []
            return found + [t for value in node.values() for t in titles(value)]
        return [t for value in node for t in titles(value)] if isinstance(node, list) else []

    for spec in TOOLS:
        tool = build_tool(spec)
        for schema in (tool.parameters, tool.output_schema):
            text = json.dumps(schema)
            assert "$ref" not in text and "$defs" not in text, spec.name
            assert titles(schema) == [], spec.name


def test_every_argument_has_a_description() -> None:
    missing = [
        f"{spec.name}.{name}"
        for spec in TOOLS
        for name, schema in build_tool(spec).parameters["properties"].items()
        if "description" not in schema
    ]
    assert missing == []
