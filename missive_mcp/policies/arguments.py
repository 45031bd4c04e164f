"""Arguments checked against the published input schema, then against Missive's own body rules, before a name is
looked up or anything is sent: a misspelt argument is refused (the SDK drops unknown ones), and each problem
is one line naming the argument (the SDK passes pydantic's multi-line report through)."""

from __future__ import annotations

import dataclasses
import json
from typing import TYPE_CHECKING, Any, cast

from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.server.mcpserver.tools import Tool
from mcp.types import CallToolResult, TextContent

from ..endpoints import Endpoint
from ..errors import MissiveError
from ..names import Directory

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator, ValidationError


class Arguments:
    def __init__(self, tools: list[Tool], rules: dict[str, Endpoint[Any]]) -> None:
        self.schemas = {tool.name: tool.parameters for tool in tools}
        self.rules = rules
        self.validators: dict[str, Draft202012Validator] = {}

    def validator(self, name: str) -> Draft202012Validator | None:
        """The argument validator of a tool, built at its first call: jsonschema is a tenth of start-up. Unknown
        arguments are refused here without publishing `additionalProperties: false` on every tool."""
        if name not in self.validators and name in self.schemas:
            from jsonschema import Draft202012Validator

            self.validators[name] = Draft202012Validator({**self.schemas[name], "additionalProperties": False})
        return self.validators.get(name)

    async def __call__(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        if ctx.method == "tools/call" and isinstance(ctx.params, dict):
            name = str(ctx.params.get("name", ""))
            arguments: Any = ctx.params.get("arguments") or {}
            problems = self.problems(name, arguments)
            if problems and self.wants_organization(name, arguments, problems):
                only = await _only_organization(ctx)
                if only is not None:  # one organization behind the token: it is the one meant
                    arguments = {**arguments, "organization": only}
                    problems = self.problems(name, arguments)
                    ctx = dataclasses.replace(ctx, params={**ctx.params, "arguments": arguments})
            if problems:
                text = f"Invalid arguments for {name}, so nothing was sent: {'; '.join(dict.fromkeys(problems))}."
                return CallToolResult(content=[TextContent(type="text", text=text)], is_error=True)
        return await call_next(ctx)

    def wants_organization(self, name: str, arguments: Any, problems: list[str]) -> bool:
        """Whether Missive's rules refuse these arguments only for want of an organization (assignees, labels or a
        team name one), which the tool takes but was not given."""
        if not isinstance(arguments, dict) or "organization" in arguments or name not in self.rules:
            return False
        if problems != self.rules[name].problems(arguments):  # the input schema's problems come first
            return False
        if "organization" not in (_object(self.schemas[name].get("properties")) or {}):
            return False
        return not self.rules[name].problems({**cast(dict[str, Any], arguments), "organization": "?"})

    def problems(self, name: str, arguments: Any) -> list[str]:
        validator = self.validator(name)
        if validator is None or not isinstance(arguments, dict):
            return []
        errors: list[ValidationError] = list(validator.iter_errors(arguments))  # pyright: ignore[reportUnknownMemberType]
        problems = [problem_with(error, name) for error in sorted(errors, key=_where)]
        if not problems and name in self.rules:
            problems = self.rules[name].problems(arguments)  # Missive's own rules, before a name is looked up
        return problems


async def _only_organization(ctx: ServerRequestContext[Any, Any]) -> str | None:
    """The id of the token's one organization, or None when it has several (or they cannot be read: the rule's
    refusal then stands)."""
    directory: Directory = ctx.lifespan_context.directory
    try:
        found = await directory.entries("organization")
    except MissiveError:
        return None
    return found[0].id if len(found) == 1 else None


def _where(error: ValidationError) -> str:
    return ".".join(str(part) for part in error.absolute_path)


def _object(value: Any) -> dict[str, Any] | None:
    return cast(dict[str, Any], value) if isinstance(value, dict) else None


def problem_with(error: ValidationError, tool: str) -> str:
    """One problem with one argument: where it is, what was wrong, what was given."""
    where = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in error.absolute_path).lstrip(".")
    rule = str(error.validator)
    schema = _object(error.schema) or {}
    if rule == "additionalProperties":
        known = list(_object(schema.get("properties")) or {})
        given = _object(error.instance) or {}
        extra = sorted(set(given) - set(known))
        place = f"a field of `{where}`" if where else f"an argument of {tool}"
        listed = f"(its {'fields' if where else 'arguments'}: {', '.join(known)})"
        return "; ".join(f"`{name}` is not {place} {listed}" for name in extra)
    if rule == "required":
        missing = str(error.message).split("'")[1] if "'" in str(error.message) else "?"
        return f"`{(where + '.' if where else '') + missing}` is required"
    shown = json.dumps(error.instance, ensure_ascii=False)
    shown = shown if len(shown) <= 60 else shown[:57] + "..."
    return f"`{where or 'arguments'}`: {_reason(rule, schema, str(error.message))} (got {shown})"


def _reason(rule: str, schema: dict[str, Any], message: str) -> str:
    if rule in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        low, high = schema.get("minimum"), schema.get("maximum")
        if low is not None and high is not None:
            return f"must be from {low} to {high}"
        return f"must be at least {low}" if low is not None else f"must be at most {high}"
    if rule in ("minItems", "maxItems"):
        return f"must have {schema.get('minItems', 0)} to {schema.get('maxItems', 'any number of')} items"
    if rule in ("minLength", "maxLength"):
        return f"must be {schema.get('minLength', 0)} to {schema.get('maxLength', 'any number of')} characters"
    if rule == "enum":
        values: list[Any] = schema.get("enum", [])
        return "must be one of " + ", ".join(json.dumps(v) for v in values)
    if rule == "type":
        return f"must be of type {schema.get('type')}"
    if rule == "pattern":
        return "does not have the form its description asks for"
    return message
