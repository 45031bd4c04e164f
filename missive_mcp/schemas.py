"""The SDK tool of each declaration, with its schemas made lean: the same contract in fewer tokens."""

from __future__ import annotations

from typing import Any, cast

from mcp.server.mcpserver.tools import Tool

from .tools.declaration import ToolDeclaration


def build_tool(spec: ToolDeclaration[..., Any], output_schemas: str = "full") -> Tool:
    """The SDK tool for one declaration: description from the docstring, schemas derived by the SDK from the
    signature and the result model, then made lean (and shallow, for MISSIVE_OUTPUT_SCHEMAS=compact). Made once
    per declaration and form."""
    if output_schemas in spec.built:
        return spec.built[output_schemas]
    tool = Tool.from_function(
        spec.fn,
        name=spec.name,
        title=spec.title,
        description=" ".join((spec.fn.__doc__ or "").split()),
        annotations=spec.annotations,
        structured_output=True,
    )
    # Tool.from_function has no hook for post-processing the schemas it derives (no schema generator option),
    # so the two documented fields are reassigned: FuncMetadata says its fields are read live.
    tool.parameters = lean_schema(tool.parameters)
    output = lean_schema(tool.fn_metadata.output_schema)
    tool.fn_metadata.output_schema = shallow(output) if output_schemas == "compact" else output
    spec.built[output_schemas] = tool
    return tool


def shallow(schema: Any) -> Any:
    """An output schema cut to its top-level fields: nested objects become plain objects (results are still
    checked against the full model before they are sent)."""
    top = _object(schema)
    properties = _object(top.get("properties")) if top else None
    if top is None or properties is None:
        return schema
    return {**top, "properties": {name: _outline(sub) for name, sub in properties.items()}}


def _outline(schema: Any) -> Any:
    found = _object(schema)
    if found is None:
        return schema
    kept: dict[str, Any] = {k: v for k, v in found.items() if k in ("type", "description", "enum")}
    branches = found.get("anyOf")
    if isinstance(branches, list):
        kept["anyOf"] = [_outline(branch) for branch in cast(list[Any], branches)]
    if found.get("type") == "array":  # an item's own description is a level down: the full schema has it
        kept["items"] = {k: v for k, v in _outline(found.get("items", {})).items() if k != "description"}
    if found.get("type") == "object" or "properties" in found:
        kept["type"] = "object"
    return kept


def _object(value: Any) -> dict[str, Any] | None:
    """A JSON object as a typed dict, or None."""
    return cast(dict[str, Any], value) if isinstance(value, dict) else None


def lean_schema(schema: Any) -> Any:
    """The same contract in fewer tokens, and without references some clients do not resolve: `$defs`
    inlined, no titles, no `null` branches or null defaults (an absent optional argument is null, and
    results omit nulls)."""
    top = _object(schema)
    if top is None:
        return schema
    return _lean(top, _object(top.get("$defs")) or {})


def _lean(schema: Any, definitions: dict[str, Any]) -> Any:
    if isinstance(schema, list):
        return [_lean(item, definitions) for item in cast(list[Any], schema)]
    found = _object(schema)
    if found is None:
        return schema
    reference = found.get("$ref")
    if isinstance(reference, str) and reference.startswith("#/$defs/"):
        rest = {k: v for k, v in found.items() if k != "$ref"}
        return _lean({**definitions[reference.removeprefix("#/$defs/")], **rest}, definitions)
    out: dict[str, Any] = {}
    for key, value in found.items():
        if key == "$defs":
            continue
        properties = _object(value) if key == "properties" else None
        if properties is not None:
            out[key] = {name: _lean(sub, definitions) for name, sub in properties.items()}
        elif (
            (key == "title" and isinstance(value, str))
            or (key == "default" and value is None)
            or (key == "additionalProperties" and value is True)
        ):
            continue
        else:
            out[key] = _lean(value, definitions)
    branches = out.get("anyOf")
    if isinstance(branches, list):
        kept: list[Any] = [b for b in cast(list[Any], branches) if b != {"type": "null"}]
        if len(kept) == 1:
            del out["anyOf"]
            out = {**kept[0], **out}
        else:
            out["anyOf"] = kept
    return out
