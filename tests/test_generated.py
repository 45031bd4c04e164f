"""The files generated from the declarations (toolsets.py, each tool's declaration) stay current: the README's
tool and toolset tables, and the bundle manifest's tool list and toolset option. Regenerate them with
UPDATE_SNAPSHOTS=1 (the snapshot of tools/list is checked in test_server.py)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from missive_mcp.server import TOOLS
from missive_mcp.toolsets import TOOLSETS

ROOT = Path(__file__).parent.parent
UPDATE = bool(os.environ.get("UPDATE_SNAPSHOTS"))


def first_sentence(doc: str | None) -> str:
    return " ".join((doc or "").split()).split(". ")[0].rstrip(".") + "."


def tool_table() -> str:
    rows = ["| Tool | Toolset | Access | What it does |", "| --- | --- | --- | --- |"]
    for tool in TOOLS:
        access = "read" if tool.access == "read" else "write, destructive" if tool.destructive else "write"
        rows.append(f"| `{tool.name}` | {tool.toolset.id} | {access} | {first_sentence(tool.fn.__doc__)} |")
    return "\n".join(rows)


def toolset_table() -> str:
    rows = ["| Toolset | Default | What it holds | Tools |", "| --- | --- | --- | --- |"]
    for toolset in TOOLSETS:
        names = ", ".join(f"`{tool.name}`" for tool in TOOLS if tool.toolset is toolset)
        held = f"{toolset.title}: {toolset.description}"
        rows.append(f"| `{toolset.id}` | {'yes' if toolset.default else ''} | {held} | {names} |")
    return "\n".join(rows)


def toolset_option() -> str:
    default = ", ".join(t.id for t in TOOLSETS if t.default)
    others = ", ".join(t.id for t in TOOLSETS if not t.default)
    return f"Comma list of tool groups to offer. default (triage): {default}. Also: {others}. all: every group."


def check_block(marker: str, content: str) -> None:
    readme = (ROOT / "README.md").read_text()
    head, rest = readme.split(f"<!-- {marker}:start -->\n")
    current, tail = rest.split(f"<!-- {marker}:end -->")
    if UPDATE:
        (ROOT / "README.md").write_text(f"{head}<!-- {marker}:start -->\n{content}\n<!-- {marker}:end -->{tail}")
    else:
        assert current == content + "\n", f"README {marker} table is stale: rerun with UPDATE_SNAPSHOTS=1"


def test_readme_tool_table_is_generated_from_the_declarations() -> None:
    check_block("tools", tool_table())


def test_readme_toolset_table_is_generated_from_the_toolsets() -> None:
    check_block("toolsets", toolset_table())


def test_the_bundle_manifest_offers_every_toolset_and_lists_exactly_the_servers_tools() -> None:
    manifest = json.loads((ROOT / "manifest.json").read_text())
    tools = [{"name": t.name, "description": first_sentence(t.fn.__doc__)} for t in TOOLS]
    if UPDATE:
        manifest["tools"] = tools
        manifest["user_config"]["toolsets"]["description"] = toolset_option()
        (ROOT / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    assert manifest["tools"] == tools
    assert manifest["user_config"]["toolsets"]["description"] == toolset_option()
    assert all(toolset.id in toolset_option() for toolset in TOOLSETS)  # history included
    assert manifest["user_config"]["api_token"]["sensitive"] is True
    assert (ROOT / manifest["icon"]).read_bytes().startswith(b"\x89PNG")
    assert manifest["server"]["mcp_config"]["env"]["MISSIVE_API_TOKEN"] == "${user_config.api_token}"
