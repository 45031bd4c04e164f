"""Request bodies checked against the API description, strictly, so a client's typo fails here and not in production.

The component schemas of `missive-openapi.json` are made strict: every object that lists its properties rejects
any other key. The excerpt is not the whole truth, though, so a few fields the live API documents beyond it are
added explicitly (`LIVE_FIELDS`), and posts, which the excerpt lacks, get a schema written from Missive's docs.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cache
from importlib import resources
from typing import Any

from jsonschema import Draft7Validator
from jsonschema.exceptions import ValidationError, best_match

Schema = dict[str, Any]

_STRING: Schema = {"type": "string"}
_STRINGS: Schema = {"type": "array", "items": _STRING}
_BOOLEAN: Schema = {"type": "boolean"}

# What every write that may start or touch a conversation accepts on the live API (drafts, messages, posts).
_CONVERSATION_FIELDS: dict[str, Schema] = {
    "conversation": _STRING,
    "references": _STRINGS,
    "organization": _STRING,
    "team": _STRING,
    "force_team": _BOOLEAN,
    "add_users": _STRINGS,
    "add_assignees": _STRINGS,
    "add_shared_labels": _STRINGS,
    "remove_shared_labels": _STRINGS,
    "conversation_subject": _STRING,
    "conversation_color": _STRING,
    "add_to_inbox": _BOOLEAN,
    "add_to_team_inbox": _BOOLEAN,
    "close": _BOOLEAN,
}

LIVE_FIELDS: dict[str, dict[str, Schema]] = {
    # Missive's draft docs: `account` picks a custom channel, the rest steer the conversation.
    "CreateDraftRequest": {"account": _STRING} | _CONVERSATION_FIELDS,
    # Custom-channel messages thread like drafts do and may carry their original delivery time.
    "CreateMessageRequest": {"delivered_at": {"type": "integer"}} | _CONVERSATION_FIELDS,
    # Bulk updates name each object they change (notes: "each carrying its id").
    "UpdateContactRequest": {"id": _STRING},
    "UpdateConversationRequest": {"id": _STRING},
}
REQUIRED_ID = frozenset({"UpdateContactRequest", "UpdateConversationRequest"})

_POST_ATTACHMENT: Schema = {
    "type": "object",
    "properties": {
        **{key: _STRING for key in ("author_name", "author_link", "author_icon", "color", "pretext", "title")},
        **{key: _STRING for key in ("title_link", "text", "markdown", "image_url", "footer", "footer_icon")},
        **{key: _STRING for key in ("filename", "base64_data")},
        "timestamp": {"type": "integer"},
        "fields": {
            "type": "array",
            "items": {"type": "object", "properties": {"title": _STRING, "value": _STRING, "short": _BOOLEAN}},
        },
    },
}

CREATE_POST_REQUEST: Schema = {
    "type": "object",
    "required": ["notification"],
    "properties": {
        "text": _STRING,
        "markdown": _STRING,
        "username": _STRING,
        "username_icon": _STRING,
        "conversation_icon": _STRING,
        "notification": {
            "type": "object",
            "required": ["title", "body"],
            "properties": {"title": _STRING, "body": _STRING},
        },
        "attachments": {"type": "array", "items": _POST_ATTACHMENT},
        "reopen": _BOOLEAN,
        **_CONVERSATION_FIELDS,
    },
}


class BodyError(ValueError):
    """A request body that does not fit its schema; the message names the field as the client wrote it."""


@cache
def _components() -> Mapping[str, Schema]:
    text = resources.files(__name__.rpartition(".")[0]).joinpath("missive-openapi.json").read_text(encoding="utf-8")
    return json.loads(text)["components"]["schemas"]


def _strict(schema: Schema) -> Schema:
    """Resolve `$ref`s and close every object that lists its properties."""
    if "$ref" in schema:
        return _strict(_components()[schema["$ref"].rsplit("/", 1)[-1]])
    strict = dict(schema)
    if "properties" in strict:
        strict["properties"] = {name: _strict(sub) for name, sub in strict["properties"].items()}
        strict.setdefault("additionalProperties", False)
    if "items" in strict:
        strict["items"] = _strict(strict["items"])
    return strict


@cache
def validator(name: str) -> Draft7Validator:
    """The strict validator for a component schema, with its documented live-only fields."""
    schema = CREATE_POST_REQUEST if name == "CreatePostRequest" else dict(_components()[name])
    extra = LIVE_FIELDS.get(name, {})
    schema = schema | {"properties": schema.get("properties", {}) | extra}
    if name in REQUIRED_ID:
        schema["required"] = [*schema.get("required", []), "id"]
    return Draft7Validator(_strict(schema))


def check(name: str, instance: Any, where: str) -> None:
    """Raise `BodyError` naming the first offending field of `instance` (found at `where` in the body)."""
    error = best_match(validator(name).iter_errors(instance))
    if error is not None:
        raise BodyError(_describe(error, where))


def _describe(error: ValidationError, where: str) -> str:
    path = _join(where, *error.absolute_path)
    schema: Any = error.schema
    instance: Any = error.instance
    if error.validator == "additionalProperties":
        known = schema.get("properties", {})
        unknown = sorted(key for key in instance if key not in known)
        return f"Unknown field '{_join(path, unknown[0])}'" if unknown else error.message
    if error.validator == "required":
        required: Any = error.validator_value
        missing = next(name for name in required if name not in instance)
        return f"Missing field '{_join(path, missing)}'"
    if error.validator == "type":
        return f"'{path}' must be of type {error.validator_value}"
    if error.validator == "enum":
        allowed: Any = error.validator_value
        return f"'{path}' must be one of {', '.join(map(str, allowed))}"
    return f"'{path}': {error.message}"


def _join(path: str, *parts: str | int) -> str:
    """`drafts` + `to_fields`, 0, `adress` -> `drafts.to_fields[0].adress`."""
    for part in parts:
        path = f"{path}[{part}]" if isinstance(part, int) else f"{path}.{part}" if path else str(part)
    return path
