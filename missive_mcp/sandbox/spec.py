"""Request bodies checked against the API description, strictly, so a client's typo fails here and not in production.

The component schemas of `missive-openapi.json` are made strict: every object that lists its properties rejects
any other key. The excerpt is not the whole truth, though, so a few fields the live API documents beyond it are
added explicitly (`LIVE_FIELDS`), and the operations the excerpt lacks (posts, tasks, responses, shared labels,
teams, hooks) get schemas written from Missive's documentation of them (`SCHEMAS`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cache
from importlib import resources
from typing import Any, TypeGuard

from jsonschema import Draft7Validator
from jsonschema import exceptions as jsonschema_errors
from jsonschema.exceptions import ValidationError

Schema = dict[str, Any]

_STRING: Schema = {"type": "string"}
_STRINGS: Schema = {"type": "array", "items": _STRING}
_BOOLEAN: Schema = {"type": "boolean"}
_INTEGER: Schema = {"type": "integer"}


def is_object(value: object) -> TypeGuard[dict[str, Any]]:
    """Whether a parsed JSON value is an object; its keys are then strings, as JSON has no other kind."""
    return isinstance(value, dict)


def _text(limit: int) -> Schema:
    return {"type": "string", "maxLength": limit}


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
    # The excerpt types `add_to_team_inbox` as a team id; the API takes a boolean beside `team`, and
    # knows `force_team` and `conversation_color` (an alias of `color`).
    "UpdateConversationRequest": {
        "id": _STRING,
        "add_to_team_inbox": _BOOLEAN,
        "force_team": _BOOLEAN,
        "conversation_color": _STRING,
    },
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

_ADDRESSES: Schema = {
    "type": "array",
    "items": {"type": "object", "required": ["address"], "properties": {"address": _STRING, "name": _STRING}},
}
_UPLOAD: Schema = {
    "type": "object",
    "required": ["base64_data", "filename"],
    "properties": {"base64_data": _STRING, "filename": _STRING, "id": _STRING},
}
_TASK_STATE: Schema = {"type": "string", "enum": ["todo", "in_progress", "closed"]}
_HEX_OR_NAMED: Schema = {"type": "string", "pattern": "^(#[0-9a-fA-F]{3}|#[0-9a-fA-F]{6}|good|warning|danger)$"}

_RESPONSE_FIELDS: dict[str, Schema] = {
    "title": _text(500),
    # `name` is not a field of a response: the live API drops it silently, so the fake accepts it.
    "name": _STRING,
    "body": _STRING,
    "subject": _text(500),
    "share_with_team": _STRING,
    "shared_labels": _STRINGS,
    "to_fields": _ADDRESSES,
    "cc_fields": _ADDRESSES,
    "bcc_fields": _ADDRESSES,
    "external_id": _STRING,
    "external_source": _STRING,
    "attachments": {"type": "array", "items": _UPLOAD},
}

_LABEL_FIELDS: dict[str, Schema] = {
    "name": _STRING,
    "color": _HEX_OR_NAMED,
    "parent": _STRING,
    "share_with_organization": _BOOLEAN,
    "share_with_team": _STRING,
    "share_with_users": _STRINGS,
    "visibility": {"type": "string", "enum": ["organization", "delegates"]},
}

_TEAM_FIELDS: dict[str, Schema] = {
    "name": _STRING,
    "organization": _STRING,
    "emoji": {"type": "string", "pattern": "^:[a-z0-9_+-]+:$"},
    "color": {"type": "string", "pattern": "^#([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$"},
    "active_members": _STRINGS,
    "observers": _STRINGS,
    "business_hours": {
        "type": "object",
        "required": ["tz", "t"],
        "properties": {
            "tz": _STRING,
            "t": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["d", "s"],
                    "properties": {
                        "d": {"type": "integer", "minimum": 0, "maximum": 6},
                        "s": {
                            "type": "array",
                            "items": {"type": "integer", "minimum": 0, "maximum": 86400},
                            "minItems": 2,
                            "maxItems": 2,
                        },
                    },
                },
            },
        },
    },
    "inactivity_period": {"type": "integer", "minimum": 0},
    "team_mention_behavior": {"type": "string", "enum": ["all_members", "only_active_members"]},
    "user_reply_behavior": {"type": "string", "enum": ["assign_user", "leave_in_team_inbox"]},
    "received_reply_behavior": {"type": "string", "enum": ["show_in_assignee_inbox", "show_in_team_inbox"]},
    "team_sidebar_behavior": {"type": "string", "enum": ["show_team_space", "show_team_inbox"]},
    "team_inbox_enabled": _BOOLEAN,
    "chat_room_enabled": _BOOLEAN,
}

SCHEMAS: dict[str, Schema] = {
    "CreatePostRequest": {
        "type": "object",
        # The docs mark `notification` required, their own validation block does not: unverified, so optional.
        "properties": {
            "text": _text(8000),
            "markdown": _text(8000),
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
            "remove_assignees": _STRINGS,
            **_CONVERSATION_FIELDS,
        },
    },
    "CreateTaskRequest": {
        "type": "object",
        "required": ["title"],
        "properties": {
            "title": _text(1000),
            "description": _text(10000),
            "state": _TASK_STATE,
            "organization": _STRING,
            "team": _STRING,
            "assignees": _STRINGS,
            "due_at": _INTEGER,
            "subtask": _BOOLEAN,
            "conversation": _STRING,
            "references": _STRINGS,
            "conversation_subject": _STRING,
            "add_users": _STRINGS,
            "add_to_inbox": _BOOLEAN,
        },
    },
    "UpdateTaskRequest": {
        "type": "object",
        "properties": {
            # No `id` is documented inside; one equal to the URL's is tolerated (checked by the route).
            "id": _STRING,
            "title": _text(1000),
            "description": _text(10000),
            "state": _TASK_STATE,
            "assignees": _STRINGS,
            "team": _STRING,
            "due_at": {"type": ["integer", "null"]},
            # Whether `organization` is needed (or allowed) on update is unverified: accepted, never required.
            "organization": _STRING,
        },
    },
    "CreateResponseRequest": {
        "type": "object",
        "properties": {"organization": _STRING, "user": _STRING, **_RESPONSE_FIELDS},
    },
    "UpdateResponseRequest": {"type": "object", "required": ["id"], "properties": {"id": _STRING, **_RESPONSE_FIELDS}},
    "CreateSharedLabelRequest": {
        "type": "object",
        "required": ["name", "organization"],
        "properties": {"organization": _STRING, **_LABEL_FIELDS},
    },
    # `organization` is left out on purpose: the route answers it with the live "Unpermitted parameters" error.
    "UpdateSharedLabelRequest": {"type": "object", "required": ["id"], "properties": {"id": _STRING, **_LABEL_FIELDS}},
    "CreateTeamRequest": {"type": "object", "required": ["name", "organization"], "properties": _TEAM_FIELDS},
    "UpdateTeamRequest": {"type": "object", "required": ["id"], "properties": {"id": _STRING, **_TEAM_FIELDS}},
    "CreateHookRequest": {
        "type": "object",
        "required": ["type", "url"],
        "properties": {
            "type": {
                "type": "string",
                "enum": [
                    "incoming_email",
                    "incoming_sms_message",
                    "incoming_facebook_message",
                    "incoming_whatsapp_message",
                    "incoming_twilio_chat_message",
                    "new_comment",
                ],
            },
            "url": _STRING,
            "organization": _STRING,
            "content_contains": _STRING,
            "content_starts_with": _STRING,
            "content_ends_with": _STRING,
            "is_task": _BOOLEAN,
            "author": _STRING,
            "mention": _STRING,
            "from_eq": _STRING,
            "subject_contains": _STRING,
        },
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
    schema = SCHEMAS[name] if name in SCHEMAS else dict(_components()[name])
    extra = LIVE_FIELDS.get(name, {})
    schema = schema | {"properties": schema.get("properties", {}) | extra}
    if name in REQUIRED_ID:
        schema["required"] = [*schema.get("required", []), "id"]
    return Draft7Validator(_strict(schema))


def check(name: str, instance: Any, where: str) -> None:
    """Raise `BodyError` naming the first offending field of `instance` (found at `where` in the body)."""
    error = _best_error(validator(name), instance)
    if error is not None:
        raise BodyError(_describe(error, where))


def _best_error(checker: Draft7Validator, instance: Any) -> ValidationError | None:
    """The error jsonschema's `best_match` picks as the most relevant, if any."""
    # The typeshed stubs leave `iter_errors`' argument and `best_match`'s result untyped.
    found = jsonschema_errors.best_match(checker.iter_errors(instance))  # pyright: ignore[reportUnknownMemberType, reportUnknownVariableType]
    return found if isinstance(found, ValidationError) else None


def _describe(error: ValidationError, where: str) -> str:
    path = _join(where, *error.absolute_path)
    schema: Any = error.schema
    instance: Any = error.instance
    # The failing keyword ("required"...): jsonschema sets a str (its own annotation); typeshed says a Validator.
    keyword = str(error.validator)
    if keyword == "additionalProperties":
        known = schema.get("properties", {})
        unknown = sorted(key for key in instance if key not in known)
        return f"Unknown field '{_join(path, unknown[0])}'" if unknown else error.message
    if keyword == "required":
        required: Any = error.validator_value
        missing = next(name for name in required if name not in instance)
        return f"Missing field '{_join(path, missing)}'"
    if keyword == "type":
        return f"'{path}' must be of type {error.validator_value}"
    if keyword == "maxLength":
        return f"'{path}' is too long (maximum is {error.validator_value} characters)"
    if keyword == "pattern":
        return f"'{path}' is not in the expected format"
    if keyword in ("minimum", "maximum"):
        bound = "at least" if keyword == "minimum" else "at most"
        return f"'{path}' must be {bound} {error.validator_value}"
    if keyword in ("minItems", "maxItems"):
        bound = "at least" if keyword == "minItems" else "at most"
        return f"'{path}' must hold {bound} {error.validator_value} items"
    if keyword == "enum":
        allowed: Any = error.validator_value
        return f"'{path}' must be one of {', '.join(map(str, allowed))}"
    return f"'{path}': {error.message}"


def _join(path: str, *parts: str | int) -> str:
    """`drafts` + `to_fields`, 0, `adress` -> `drafts.to_fields[0].adress`."""
    for part in parts:
        path = f"{path}[{part}]" if isinstance(part, int) else f"{path}.{part}" if path else str(part)
    return path
