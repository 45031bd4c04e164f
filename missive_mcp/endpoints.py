"""Every Missive operation this server calls, described once, as data.

A row says how to call the operation (method, path, the envelope its body goes in), what its answer is (the
key its objects come under, one or many, their model), what kind of object it is about (for "not found"
wording and where the ids come from), whether a retry is safe, and how to check a write whose answer was lost.
`MissiveClient.call` reads the rows and returns the typed answer; `errors.py` composes every sentence the agent
sees from them; each tool declares the rows it calls (`tools/declaration.py`), which say whether it reads or
writes.

Retry classes:
- SAFE: reads (and report creation, which changes nothing); retried through timeouts, dropped connections,
  5xx and short 429s.
- IDEMPOTENT: PATCH and DELETE; repeating one does what doing it once does, so it is retried like a read. A
  DELETE that meets 404 after an attempt whose answer never came is reported as deleted, with a note that
  this is inferred (`GONE_UNCONFIRMED`).
- UNSAFE: POSTs that create something. Never sent twice (Missive has no idempotency key): a failure where
  Missive said it did nothing (429, 401, 403, a connection that never opened) says so and when to try again;
  an ambiguous one says the outcome is unknown and how to check.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar, cast

from pydantic import TypeAdapter, ValidationError

from .errors import DecodingError, NotFoundError
from .models import (
    AnalyticsReport,
    CannedResponse,
    Contact,
    ContactBook,
    ContactGroup,
    Conversation,
    Message,
    NewReport,
    Organization,
    Post,
    SharedLabel,
    Task,
    Team,
    User,
    Webhook,
)

A = TypeVar("A")
M = TypeVar("M")

GONE_UNCONFIRMED: Any = object()
"""What the client reads for a DELETE whose first attempt got no answer and whose retry met 404: the object is
gone, most likely deleted by that first attempt, but an id that never existed would answer the same."""
UNCONFIRMED_NOTE = (
    "Missive's answer to the first attempt was lost and the retry found nothing there: that attempt most "
    "likely deleted it, unless the id was wrong."
)


class Retry(enum.Enum):
    SAFE = "safe"
    IDEMPOTENT = "idempotent"
    UNSAFE = "unsafe"


@dataclass(frozen=True)
class Kind:
    """A kind of Missive object: how an error names it, and where an agent finds valid ids."""

    name: str
    where_ids_come_from: str


CONVERSATION = Kind("Conversation", "Conversation ids come from list_conversations (a merged id answers its target).")
MESSAGE = Kind("Message", "Message ids come from read_conversation or list_conversation_messages.")
DRAFT = Kind("Draft", "Draft ids come from list_conversation_drafts; a sent or deleted draft is gone.")
POST = Kind("Post", "Post ids come from list_conversation_posts or create_post.")
CONTACT = Kind("Contact", "Contact ids come from list_contacts.")
CONTACT_BOOK = Kind("Contact book", "Contact book ids come from list_contact_books.")
ORGANIZATION = Kind("Organization", "Organization ids come from list_organizations.")
USER = Kind("User", "User ids come from list_users.")
TEAM = Kind("Team", "Team ids come from list_teams.")
SHARED_LABEL = Kind("Shared label", "Label ids come from list_shared_labels.")
REPORT = Kind(
    "Analytics report", "Report ids come from create_analytics_report; a report expires 60 s after it finishes."
)
TASK = Kind("Task", "Task ids come from list_tasks or create_task.")
RESPONSE = Kind("Canned response", "Response ids come from list_responses.")
HOOK = Kind("Webhook", "Webhook ids come from create_webhook (Missive has no way to list them).")
ATTACHMENT = Kind("Attachment", "Attachment ids come from read_conversation or get_messages.")


@dataclass(frozen=True)
class RequiredWith:
    """Missive refuses `field` without `needs` beside it (400 "'needs' is required when 'field' is defined")."""

    field: str
    needs: str
    why: str = ""

    def problem(self, body: Mapping[str, Any]) -> str | None:
        if body.get(self.field) not in (None, [], False) and body.get(self.needs) in (None, "", []):
            return f"`{self.field}` needs `{self.needs}` beside it{self.why}"
        return None


@dataclass(frozen=True)
class Excludes:
    """Missive refuses `field` and `other` together."""

    field: str
    other: str

    def problem(self, body: Mapping[str, Any]) -> str | None:
        if body.get(self.field) and body.get(self.other):
            return f"`{self.field}` and `{self.other}` exclude each other: give one"
        return None


class Answer(Generic[A]):
    """What an operation's answer is, and how to read it from the decoded body."""

    def read(self, body: Any) -> A:
        raise NotImplementedError


def _objects(body: Any, key: str, model: Any) -> list[Any]:
    """The objects under `key`, which may be a list, one object or absent (an empty write answer)."""
    if body is None:
        return []
    if not isinstance(body, dict) or key not in body:
        raise DecodingError(f"Missive answered without the expected {key!r} envelope.")
    value: Any = cast(dict[str, Any], body)[key]
    items: list[Any] = [] if value is None else cast(list[Any], value) if isinstance(value, list) else [value]
    try:
        return _adapter(model).validate_python(items)
    except ValidationError as exc:
        raise DecodingError(
            f"Missive sent {key} this server could not read ({exc.error_count()} problem(s)); "
            "please report it to the missive-mcp maintainers."
        ) from None


_adapters: dict[Any, TypeAdapter[Any]] = {}


def _adapter(model: Any) -> TypeAdapter[Any]:
    return _adapters.get(model) or _adapters.setdefault(model, TypeAdapter(list[model]))


@dataclass(frozen=True)
class Many(Answer[list[M]], Generic[M]):
    """A list of objects under `key` (a single object counts as a list of one)."""

    key: str
    model: type[M]

    def read(self, body: Any) -> list[M]:
        return _objects(body, self.key, self.model)


@dataclass(frozen=True)
class One(Answer[M], Generic[M]):
    """One object under `key`, possibly as a list of one (a merged id answers the surviving object)."""

    key: str
    model: type[M]

    def read(self, body: Any) -> M:
        found = _objects(body, self.key, self.model)
        if not found:  # the list-shaped answer of a "get one" with nothing in it: not there, or not visible
            raise NotFoundError(
                f"Missive answered with no {self.key}: it was not found, or the token's owner cannot see it.",
                status=404,
            )
        return found[0]


@dataclass(frozen=True)
class Written(Answer[M | None], Generic[M]):
    """What a write answers: the object it made or changed under `key`, or None when Missive answers nothing
    (a draft sent at once)."""

    key: str
    model: type[M]

    def read(self, body: Any) -> M | None:
        found = _objects(body, self.key, self.model)
        return found[0] if found else None


@dataclass(frozen=True)
class Done(Answer[bool]):
    """A DELETE, whose answer is not read: True when Missive confirmed it, False when it is only inferred."""

    def read(self, body: Any) -> bool:
        return body is not GONE_UNCONFIRMED


@dataclass(frozen=True)
class Unread(Answer[None]):
    """An answer the client does not read through `call` (a file's bytes)."""

    def read(self, body: Any) -> None:
        return None


Rule = RequiredWith | Excludes

CONVERSATION_CHANGES: tuple[Rule, ...] = (
    *(
        RequiredWith(field, "organization", " (an id from list_organizations)")
        for field in ("add_users", "add_assignees", "remove_assignees", "add_shared_labels")
    ),
    RequiredWith("add_to_team_inbox", "team", " (the team whose inbox gets it, from list_teams)"),
    Excludes("close", "reopen"),
)
"""Missive's rules for the fields that change a conversation, shared by conversations, drafts and posts
(Missive refuses each with a 400): checked before anything is sent, naming the field."""


@dataclass(frozen=True)
class Endpoint(Generic[A]):
    """One Missive operation; `MissiveClient.call` returns its answer as `A`."""

    method: str
    path: str
    """Relative to the API root; `{id}` is one id or a comma-joined list, checked and percent-encoded."""
    kind: Kind
    answer: Answer[A]
    envelope: str | None = None
    """The key the request body is wrapped in (`{"drafts": {...}}`); None for an unwrapped body."""
    retry: Retry = Retry.SAFE
    verify: str = ""
    """For an UNSAFE write: how to check whether it happened when its answer was lost; `{name}` fields are
    filled from the call's context."""
    rules: tuple[Rule, ...] = ()
    """Missive's rules for the request body, checked before sending (on each item of a list body)."""
    removes: bool = field(default=False, kw_only=True)
    """A POST that removes data all the same (a merge takes a conversation away); PATCH and DELETE always can."""

    def problems(self, body: Any) -> list[str]:
        """What Missive would refuse in this body, one sentence each."""
        items: list[Any] = body if isinstance(body, list) else [body]  # pyright: ignore[reportUnknownVariableType]
        found: list[str] = []
        for item in items:
            if isinstance(item, Mapping):
                found += [p for rule in self.rules if (p := rule.problem(item)) and p not in found]  # pyright: ignore[reportUnknownArgumentType]
        return found

    @property
    def destructive(self) -> bool:
        """Whether calling it can remove or replace data."""
        return self.removes or self.method in ("PATCH", "DELETE")


def _get(path: str, kind: Kind, answer: Answer[A]) -> Endpoint[A]:
    return Endpoint("GET", path, kind, answer)


# Conversations
list_conversations = _get("conversations", CONVERSATION, Many("conversations", Conversation))
get_conversation = _get("conversations/{id}", CONVERSATION, One("conversations", Conversation))
update_conversations = Endpoint(
    "PATCH",
    "conversations/{id}",
    CONVERSATION,
    Many("conversations", Conversation),
    envelope="conversations",
    retry=Retry.IDEMPOTENT,
    rules=CONVERSATION_CHANGES,
)
merge_conversations = Endpoint(
    "POST",
    "conversations/{id}/merge",
    CONVERSATION,
    Written("conversations", Conversation),
    retry=Retry.UNSAFE,
    verify="Call get_conversation with {id!r}: after a merge it answers the target conversation",
    removes=True,
)
# A conversation's items as raw objects: the tools make each kind lean in their own way.
list_conversation_messages = _get("conversations/{id}/messages", CONVERSATION, Many("messages", dict[str, Any]))
list_conversation_comments = _get("conversations/{id}/comments", CONVERSATION, Many("comments", dict[str, Any]))
list_conversation_drafts = _get("conversations/{id}/drafts", CONVERSATION, Many("drafts", dict[str, Any]))
list_conversation_posts = _get("conversations/{id}/posts", CONVERSATION, Many("posts", dict[str, Any]))

# Messages and drafts
get_messages = _get("messages/{id}", MESSAGE, Many("messages", Message))
create_draft = Endpoint(
    "POST",
    "drafts",
    DRAFT,
    Written("drafts", Message),
    envelope="drafts",
    retry=Retry.UNSAFE,
    verify="Look in list_conversation_drafts (and list_conversation_messages if it was sent) of {where}",
    rules=CONVERSATION_CHANGES,
)
delete_draft = Endpoint("DELETE", "drafts/{id}", DRAFT, Done(), retry=Retry.IDEMPOTENT)
create_message = Endpoint(
    "POST",
    "messages",
    MESSAGE,
    Written("messages", Message),
    envelope="messages",
    retry=Retry.UNSAFE,
    verify="Look for it in list_conversations of the custom channel{repeat}",
)

# Contacts
list_contacts = _get("contacts", CONTACT_BOOK, Many("contacts", Contact))
get_contact = _get("contacts/{id}", CONTACT, One("contacts", Contact))
create_contacts = Endpoint(
    "POST",
    "contacts",
    CONTACT,
    Many("contacts", Contact),
    envelope="contacts",
    retry=Retry.UNSAFE,
    verify="Search list_contacts in contact book {book!r} for the new contact",
)
update_contacts = Endpoint(
    "PATCH", "contacts/{id}", CONTACT, Many("contacts", Contact), envelope="contacts", retry=Retry.IDEMPOTENT
)
list_contact_books = _get("contact_books", CONTACT_BOOK, Many("contact_books", ContactBook))
list_contact_groups = _get("contact_groups", CONTACT_BOOK, Many("contact_groups", ContactGroup))

# The organization's directory
list_organizations = _get("organizations", ORGANIZATION, Many("organizations", Organization))
list_users = _get("users", USER, Many("users", User))
list_teams = _get("teams", TEAM, Many("teams", Team))
list_shared_labels = _get("shared_labels", SHARED_LABEL, Many("shared_labels", SharedLabel))

# Analytics: creating a report changes nothing a person sees, so it is retried like a read.
create_analytics_report = Endpoint(
    "POST", "analytics/reports", REPORT, Written("reports", NewReport), envelope="reports"
)
get_analytics_report = _get("analytics/reports/{id}", REPORT, One("reports", AnalyticsReport))

# Posts: notes in a conversation, visible to the team only
create_post = Endpoint(
    "POST",
    "posts",
    POST,
    Written("posts", Post),
    envelope="posts",
    retry=Retry.UNSAFE,
    verify="Look in list_conversation_posts of {where} for a post with this text",
    rules=CONVERSATION_CHANGES,
)
delete_post = Endpoint("DELETE", "posts/{id}", POST, Done(), retry=Retry.IDEMPOTENT)

# Tasks
list_tasks = _get("tasks", TASK, Many("tasks", Task))
get_task = _get("tasks/{id}", TASK, One("tasks", Task))
create_task = Endpoint(
    "POST",
    "tasks",
    TASK,
    Written("tasks", Task),
    envelope="tasks",
    retry=Retry.UNSAFE,
    verify="Look for a task titled {title!r} with list_tasks ({where})",
    rules=(
        *(RequiredWith(field, "organization", " (an id from list_organizations)") for field in ("team", "assignees")),
        RequiredWith("add_users", "organization", " (an id from list_organizations)"),
    ),
)
update_task = Endpoint("PATCH", "tasks/{id}", TASK, Written("tasks", Task), envelope="tasks", retry=Retry.IDEMPOTENT)

# Canned responses
list_responses = _get("responses", RESPONSE, Many("responses", CannedResponse))
get_response = _get("responses/{id}", RESPONSE, One("responses", CannedResponse))
create_responses = Endpoint(
    "POST",
    "responses",
    RESPONSE,
    Written("responses", CannedResponse),
    envelope="responses",
    retry=Retry.UNSAFE,
    verify="Look for a response titled {title!r} with list_responses",
    rules=(Excludes("organization", "user"), RequiredWith("external_id", "external_source")),
)
update_responses = Endpoint(
    "PATCH",
    "responses/{id}",
    RESPONSE,
    Many("responses", CannedResponse),
    envelope="responses",
    retry=Retry.IDEMPOTENT,
)
delete_responses = Endpoint("DELETE", "responses/{id}", RESPONSE, Done(), retry=Retry.IDEMPOTENT)

# Shared labels and teams (administration)
create_shared_labels = Endpoint(
    "POST",
    "shared_labels",
    SHARED_LABEL,
    Written("shared_labels", SharedLabel),
    envelope="shared_labels",
    retry=Retry.UNSAFE,
    verify="Look for a label named {name!r} with list_shared_labels",
)
update_shared_labels = Endpoint(
    "PATCH",
    "shared_labels/{id}",
    SHARED_LABEL,
    Many("shared_labels", SharedLabel),
    envelope="shared_labels",
    retry=Retry.IDEMPOTENT,
)
create_teams = Endpoint(
    "POST",
    "teams",
    TEAM,
    Written("teams", Team),
    envelope="teams",
    retry=Retry.UNSAFE,
    verify="Look for a team named {name!r} with list_teams",
)
update_teams = Endpoint("PATCH", "teams/{id}", TEAM, Many("teams", Team), envelope="teams", retry=Retry.IDEMPOTENT)

# Webhooks: Missive has no way to list them, so a lost answer cannot be checked through the API.
create_webhook = Endpoint(
    "POST",
    "hooks",
    HOOK,
    Written("hooks", Webhook),
    envelope="hooks",
    retry=Retry.UNSAFE,
    verify="The API cannot list webhooks: look in Missive's Settings > Rules for a rule posting to {url}",
)
delete_webhook = Endpoint("DELETE", "hooks/{id}", HOOK, Done(), retry=Retry.IDEMPOTENT)

# A message by its RFC 5322 Message-ID (the `email_message_id` query of GET /messages)
find_messages = _get("messages", MESSAGE, Many("messages", Message))

# An attachment's bytes, at the pre-signed URL its message carries (another host; no API token, no API limits)
download_attachment = Endpoint("GET", "{url}", ATTACHMENT, Unread())
