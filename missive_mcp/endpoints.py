"""Every Missive operation this server calls, described once, as data.

A row says how to call the operation (method, path, the envelope its body goes in and its answer comes in),
what kind of object it is about (for "not found" wording and where the ids come from), whether a retry is
safe, and how to check a write whose answer was lost. `MissiveClient.call` reads the rows; `errors.py`
composes every sentence the agent sees from them.

Retry classes:
- SAFE: reads (and report creation, which changes nothing); retried through timeouts, dropped connections,
  5xx and short 429s.
- IDEMPOTENT: PATCH and DELETE; repeating one does what doing it once does, so it is retried like a read. A
  DELETE that meets 404 after an attempt whose answer never came is reported as deleted, with a note that
  this is inferred (`client.GONE_UNCONFIRMED`).
- UNSAFE: POSTs that create something. Never sent twice (Missive has no idempotency key): a failure where
  Missive said it did nothing (429, 401, 403, a connection that never opened) says so and when to try again;
  an ambiguous one says the outcome is unknown and how to check.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


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
COMMENT = Kind("Comment", "Comments are listed by list_conversation_comments.")
DRAFT = Kind("Draft", "Draft ids come from list_conversation_drafts; a sent or deleted draft is gone.")
POST = Kind("Post", "Post ids come from list_conversation_posts or create_post.")
CONTACT = Kind("Contact", "Contact ids come from list_contacts.")
CONTACT_BOOK = Kind("Contact book", "Contact book ids come from list_contact_books.")
CONTACT_GROUP = Kind("Contact group", "Contact group ids come from list_contact_groups.")
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
(addendum section 8): checked before anything is sent, naming the field."""


@dataclass(frozen=True)
class Endpoint:
    """One Missive operation."""

    method: str
    path: str
    """Relative to the API root; `{id}` is one id or a comma-joined list, checked and percent-encoded."""
    kind: Kind
    answer: str | None
    """The key the answer's objects come under (a list or one object), or None when the answer is not read."""
    envelope: str | None = None
    """The key the request body is wrapped in (`{"drafts": {...}}`); None for an unwrapped body."""
    retry: Retry = Retry.SAFE
    verify: str = ""
    """For an UNSAFE write: how to check whether it happened when its answer was lost; `{name}` fields are
    filled from the call's context."""
    rules: tuple[Rule, ...] = ()
    """Missive's rules for the request body, checked before sending (on each item of a list body)."""

    def problems(self, body: Any) -> list[str]:
        """What Missive would refuse in this body, one sentence each."""
        items: list[Any] = body if isinstance(body, list) else [body]  # pyright: ignore[reportUnknownVariableType]
        found: list[str] = []
        for item in items:
            if isinstance(item, Mapping):
                found += [p for rule in self.rules if (p := rule.problem(item)) and p not in found]  # pyright: ignore[reportUnknownArgumentType]
        return found

    @property
    def is_write(self) -> bool:
        return self.method != "GET"


def _get(path: str, kind: Kind, answer: str) -> Endpoint:
    return Endpoint("GET", path, kind, answer)


# Conversations
list_conversations = _get("conversations", CONVERSATION, "conversations")
get_conversation = _get("conversations/{id}", CONVERSATION, "conversations")
update_conversations = Endpoint(
    "PATCH",
    "conversations/{id}",
    CONVERSATION,
    "conversations",
    envelope="conversations",
    retry=Retry.IDEMPOTENT,
    rules=CONVERSATION_CHANGES,
)
merge_conversations = Endpoint(
    "POST",
    "conversations/{id}/merge",
    CONVERSATION,
    "conversations",
    retry=Retry.UNSAFE,
    verify="Call get_conversation with {id!r}: after a merge it answers the target conversation",
)
list_conversation_messages = _get("conversations/{id}/messages", CONVERSATION, "messages")
list_conversation_comments = _get("conversations/{id}/comments", CONVERSATION, "comments")
list_conversation_drafts = _get("conversations/{id}/drafts", CONVERSATION, "drafts")
list_conversation_posts = _get("conversations/{id}/posts", CONVERSATION, "posts")

# Messages and drafts
get_messages = _get("messages/{id}", MESSAGE, "messages")
create_draft = Endpoint(
    "POST",
    "drafts",
    DRAFT,
    "drafts",
    envelope="drafts",
    retry=Retry.UNSAFE,
    verify="Look in list_conversation_drafts (and list_conversation_messages if it was sent) of {where}",
    rules=CONVERSATION_CHANGES,
)
delete_draft = Endpoint("DELETE", "drafts/{id}", DRAFT, None, retry=Retry.IDEMPOTENT)
create_message = Endpoint(
    "POST",
    "messages",
    MESSAGE,
    "messages",
    envelope="messages",
    retry=Retry.UNSAFE,
    verify="Look for it in list_conversations of the custom channel{repeat}",
)

# Contacts
list_contacts = _get("contacts", CONTACT_BOOK, "contacts")
get_contact = _get("contacts/{id}", CONTACT, "contacts")
create_contacts = Endpoint(
    "POST",
    "contacts",
    CONTACT,
    "contacts",
    envelope="contacts",
    retry=Retry.UNSAFE,
    verify="Search list_contacts in contact book {book!r} for the new contact",
)
update_contacts = Endpoint("PATCH", "contacts/{id}", CONTACT, "contacts", envelope="contacts", retry=Retry.IDEMPOTENT)
list_contact_books = _get("contact_books", CONTACT_BOOK, "contact_books")
list_contact_groups = _get("contact_groups", CONTACT_BOOK, "contact_groups")

# The organization's directory
list_organizations = _get("organizations", ORGANIZATION, "organizations")
list_users = _get("users", USER, "users")
list_teams = _get("teams", TEAM, "teams")
list_shared_labels = _get("shared_labels", SHARED_LABEL, "shared_labels")

# Analytics: creating a report changes nothing a person sees, so it is retried like a read.
create_analytics_report = Endpoint("POST", "analytics/reports", REPORT, "reports", envelope="reports")
get_analytics_report = _get("analytics/reports/{id}", REPORT, "reports")

# Posts: notes in a conversation, visible to the team only
create_post = Endpoint(
    "POST",
    "posts",
    POST,
    "posts",
    envelope="posts",
    retry=Retry.UNSAFE,
    verify="Look in list_conversation_posts of {where} for a post with this text",
    rules=CONVERSATION_CHANGES,
)
delete_post = Endpoint("DELETE", "posts/{id}", POST, None, retry=Retry.IDEMPOTENT)

# Tasks
list_tasks = _get("tasks", TASK, "tasks")
get_task = _get("tasks/{id}", TASK, "tasks")
create_task = Endpoint(
    "POST",
    "tasks",
    TASK,
    "tasks",
    envelope="tasks",
    retry=Retry.UNSAFE,
    verify="Look for a task titled {title!r} with list_tasks ({where})",
    rules=(
        *(RequiredWith(field, "organization", " (an id from list_organizations)") for field in ("team", "assignees")),
        RequiredWith("add_users", "organization", " (an id from list_organizations)"),
    ),
)
update_task = Endpoint("PATCH", "tasks/{id}", TASK, "tasks", envelope="tasks", retry=Retry.IDEMPOTENT)

# Canned responses
list_responses = _get("responses", RESPONSE, "responses")
get_response = _get("responses/{id}", RESPONSE, "responses")
create_responses = Endpoint(
    "POST",
    "responses",
    RESPONSE,
    "responses",
    envelope="responses",
    retry=Retry.UNSAFE,
    verify="Look for a response titled {title!r} with list_responses",
    rules=(Excludes("organization", "user"), RequiredWith("external_id", "external_source")),
)
update_responses = Endpoint(
    "PATCH", "responses/{id}", RESPONSE, "responses", envelope="responses", retry=Retry.IDEMPOTENT
)
delete_responses = Endpoint("DELETE", "responses/{id}", RESPONSE, None, retry=Retry.IDEMPOTENT)

# Shared labels and teams (administration)
create_shared_labels = Endpoint(
    "POST",
    "shared_labels",
    SHARED_LABEL,
    "shared_labels",
    envelope="shared_labels",
    retry=Retry.UNSAFE,
    verify="Look for a label named {name!r} with list_shared_labels",
)
update_shared_labels = Endpoint(
    "PATCH", "shared_labels/{id}", SHARED_LABEL, "shared_labels", envelope="shared_labels", retry=Retry.IDEMPOTENT
)
create_teams = Endpoint(
    "POST",
    "teams",
    TEAM,
    "teams",
    envelope="teams",
    retry=Retry.UNSAFE,
    verify="Look for a team named {name!r} with list_teams",
)
update_teams = Endpoint("PATCH", "teams/{id}", TEAM, "teams", envelope="teams", retry=Retry.IDEMPOTENT)

# Webhooks: Missive has no way to list them, so a lost answer cannot be checked through the API.
create_webhook = Endpoint(
    "POST",
    "hooks",
    HOOK,
    "hooks",
    envelope="hooks",
    retry=Retry.UNSAFE,
    verify="The API cannot list webhooks: look in Missive's Settings > Rules for a rule posting to {url}",
)
delete_webhook = Endpoint("DELETE", "hooks/{id}", HOOK, None, retry=Retry.IDEMPOTENT)

# A message by its RFC 5322 Message-ID (the `email_message_id` query of GET /messages)
find_messages = _get("messages", MESSAGE, "messages")

# An attachment's bytes, at the pre-signed URL its message carries (another host; no API token, no API limits)
download_attachment = Endpoint("GET", "{url}", ATTACHMENT, None)
