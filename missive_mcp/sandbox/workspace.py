"""The fake's state: one Missive workspace as the token's owner sees it, and the rules that change it.

Records are plain dataclasses that tests may read and edit freely; `render.py` turns them into the live API's
JSON. Mailbox flags live per user (`Conversation.users`), as on the live API; every mailbox filter reads the
token owner's entry.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

Box = Literal["inbox", "all", "closed", "snoozed", "trashed", "junked"]
"""Where a conversation sits for its users; "all" means visible but in no inbox (handled by someone else)."""

BOXES = frozenset({"inbox", "all", "assigned", "closed", "snoozed", "flagged", "trashed", "junked", "drafts"})
"""The boolean mailbox filters of GET /conversations."""

T = TypeVar("T")

_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.IGNORECASE)


class Refused(Exception):
    """A request the live API refuses with a 400; the message is the one Missive sends."""


class Missing(Exception):
    """Something addressed by the URL does not exist (or is not visible): an empty 404."""


def new_id() -> str:
    return str(uuid.uuid4())


def is_uuid(value: object) -> bool:
    return isinstance(value, str) and bool(_UUID.match(value))


# Directory ---------------------------------------------------------------------------------------


@dataclass
class Organization:
    id: str
    name: str


@dataclass
class User:
    id: str
    name: str
    email: str
    organization_ids: list[str] = field(default_factory=list[str])


@dataclass
class Team:
    id: str
    name: str
    organization_id: str
    member_ids: list[str] = field(default_factory=list[str])
    """The active members: notified, and shown the team inbox in their unified view."""
    observer_ids: list[str] = field(default_factory=list[str])
    settings: dict[str, Any] = field(default_factory=dict[str, Any])
    """What POST/PATCH /teams set beside name and members (emoji, color, business_hours, behaviours...), as sent."""


@dataclass
class SharedLabel:
    id: str
    name: str
    organization_id: str
    color: str | None = None
    parent_id: str | None = None
    visibility: str = "organization"
    share_with_organization: bool = False
    share_with_team: str | None = None
    share_with_user_ids: list[str] = field(default_factory=list[str])


@dataclass
class Account:
    """A custom channel: what POST /messages writes into."""

    id: str
    name: str
    organization_id: str


# Contacts ----------------------------------------------------------------------------------------


@dataclass
class ContactBook:
    id: str
    name: str
    shared: bool = True
    description: str | None = None


@dataclass
class ContactGroup:
    id: str
    name: str
    kind: Literal["group", "organization"]
    contact_book_id: str


@dataclass
class Contact:
    id: str
    contact_book_id: str
    created_at: int
    first_name: str | None = None
    last_name: str | None = None
    starred: bool = False
    notes: str | None = None
    infos: list[dict[str, str]] = field(default_factory=list[dict[str, str]])
    memberships: list[dict[str, str]] = field(default_factory=list[dict[str, str]])
    """Each with a `group` id, as written; rendered with the group's name and kind."""
    modified_at: int = 0
    deleted: bool = False

    def __post_init__(self) -> None:
        self.modified_at = self.modified_at or self.created_at

    def emails(self) -> set[str]:
        return {info["value"].lower() for info in self.infos if info.get("kind") == "email"}


# Conversations -----------------------------------------------------------------------------------


@dataclass
class Mailbox:
    """One user's view of a conversation."""

    inbox: bool = True
    closed: bool = False
    snoozed: bool = False
    flagged: bool = False
    trashed: bool = False
    junked: bool = False

    @classmethod
    def of(cls, box: Box, *, flagged: bool = False) -> Mailbox:
        return cls(
            inbox=box == "inbox",
            closed=box == "closed",
            snoozed=box == "snoozed",
            trashed=box == "trashed",
            junked=box == "junked",
            flagged=flagged,
        )

    @property
    def visible(self) -> bool:
        return not (self.trashed or self.junked)

    @property
    def is_open(self) -> bool:
        """Waiting for someone: neither closed, snoozed, trashed nor junked."""
        return self.visible and not self.closed and not self.snoozed

    def shows(self, box: str, *, assigned: bool) -> bool:
        """Whether the mailbox filter `box` (other than "drafts") lists the conversation for this user."""
        return {
            "inbox": self.is_open and self.inbox,
            "all": self.visible,
            "assigned": self.is_open and assigned,
            "closed": self.visible and self.closed,
            "snoozed": self.visible and self.snoozed,
            "flagged": self.visible and self.flagged,
            "trashed": self.trashed,
            "junked": self.junked,
        }[box]

    def close(self) -> None:
        self.closed, self.inbox, self.snoozed = True, False, False

    def reopen(self) -> None:
        self.closed, self.inbox, self.snoozed, self.trashed = False, True, False, False


@dataclass
class Message:
    """A message, or a draft (same shape on the live API; only drafts have `send_at`)."""

    id: str
    conversation_id: str
    body: str
    from_field: dict[str, str]
    delivered_at: int
    subject: str | None = None
    to_fields: list[dict[str, str]] = field(default_factory=list[dict[str, str]])
    cc_fields: list[dict[str, str]] = field(default_factory=list[dict[str, str]])
    bcc_fields: list[dict[str, str]] = field(default_factory=list[dict[str, str]])
    reply_to_fields: list[dict[str, str]] = field(default_factory=list[dict[str, str]])
    type: str = "email"
    email_message_id: str | None = None
    in_reply_to: list[str] = field(default_factory=list[str])
    references: list[str] = field(default_factory=list[str])
    attachments: list[dict[str, Any]] = field(default_factory=list[dict[str, Any]])
    author_id: str | None = None
    """The team member who sent it; None for inbound messages."""
    account_id: str | None = None
    external_id: str | None = None
    send_at: int | None = None
    created_at: int = 0
    updated_at: int = 0

    def __post_init__(self) -> None:
        self.created_at = self.created_at or self.delivered_at
        self.updated_at = self.updated_at or self.created_at

    def addresses(self) -> Iterator[str]:
        for person in (self.from_field, *self.to_fields, *self.cc_fields):
            if person.get("address"):
                yield person["address"].lower()


@dataclass
class Comment:
    id: str
    conversation_id: str
    body: str
    author_id: str
    created_at: int
    mention_ids: list[str] = field(default_factory=list[str])
    attachments: list[dict[str, Any]] = field(default_factory=list[dict[str, Any]])


@dataclass
class Post:
    id: str
    conversation_id: str
    created_at: int
    text: str | None = None
    markdown: str | None = None
    username: str | None = None
    username_icon: str | None = None
    notification: dict[str, str] = field(default_factory=dict[str, str])
    attachments: list[dict[str, Any]] = field(default_factory=list[dict[str, Any]])
    author_id: str | None = None


@dataclass
class File:
    """The bytes behind an attachment, served at its pre-signed URL."""

    content: bytes
    content_type: str


@dataclass
class Task:
    """A task: standalone, inside a conversation (`subtask`), or a conversation that is itself a task."""

    id: str
    title: str
    created_at: int
    organization_id: str | None = None
    description: str | None = None
    state: Literal["todo", "in_progress", "closed"] = "todo"
    type: Literal["task", "conversation"] = "task"
    subtask: bool = False
    conversation_id: str | None = None
    team_id: str | None = None
    assignee_ids: list[str] = field(default_factory=list[str])
    due_at: int | None = None
    author_id: str | None = None
    last_activity_at: int = 0

    def __post_init__(self) -> None:
        self.last_activity_at = self.last_activity_at or self.created_at


@dataclass
class CannedResponse:
    """A canned response (`/responses`): shared with an organization, or personal to one user."""

    id: str
    created_at: int
    organization_id: str | None = None
    user_id: str | None = None
    title: str | None = None
    body: str | None = None
    subject: str | None = None
    share_with_team: str | None = None
    shared_label_ids: list[str] = field(default_factory=list[str])
    to_fields: list[dict[str, str]] = field(default_factory=list[dict[str, str]])
    cc_fields: list[dict[str, str]] = field(default_factory=list[dict[str, str]])
    bcc_fields: list[dict[str, str]] = field(default_factory=list[dict[str, str]])
    external_id: str | None = None
    external_source: str | None = None
    attachments: list[dict[str, Any]] = field(default_factory=list[dict[str, Any]])
    integration: str | None = None
    """Set on responses an outside integration made (a WhatsApp template): the API can neither update nor delete."""
    modified_at: int = 0

    def __post_init__(self) -> None:
        self.modified_at = self.modified_at or self.created_at


@dataclass
class Hook:
    """A webhook: on the live API, a rule with a webhook action."""

    id: str
    type: str
    url: str
    created_at: int
    organization_id: str | None = None
    filters: dict[str, Any] = field(default_factory=dict[str, Any])


@dataclass
class Conversation:
    id: str
    organization_id: str | None
    created_at: int
    last_activity_at: int = 0
    subject: str | None = None
    """Set by the team (PATCH, conversation_subject); usually None, as on the live API."""
    color: str | None = None
    team_id: str | None = None
    assignee_ids: list[str] = field(default_factory=list[str])
    label_ids: list[str] = field(default_factory=list[str])
    users: dict[str, Mailbox] = field(default_factory=dict[str, Mailbox])
    messages: list[Message] = field(default_factory=list[Message])
    drafts: list[Message] = field(default_factory=list[Message])
    comments: list[Comment] = field(default_factory=list[Comment])
    posts: list[Post] = field(default_factory=list[Post])
    guest: bool = False
    """The token's owner is only a guest here: the API then shows little more than id and last_activity_at."""

    def __post_init__(self) -> None:
        self.last_activity_at = self.last_activity_at or self.created_at

    def touch(self, at: int) -> None:
        self.last_activity_at = max(self.last_activity_at, at)

    def close(self) -> None:
        for mailbox in self.users.values():
            mailbox.close()

    def reopen(self) -> None:
        for mailbox in self.users.values():
            mailbox.reopen()

    def latest_message(self) -> Message | None:
        return max(self.messages, key=lambda m: m.delivered_at, default=None)

    def addresses(self) -> set[str]:
        return {address for message in self.messages for address in message.addresses()}


@dataclass
class Report:
    id: str
    data: dict[str, Any]
    ready_at: float
    expires_at: float


@dataclass(frozen=True)
class ConversationFilter:
    """The filters of GET /conversations, already checked."""

    boxes: frozenset[str] = frozenset()
    shared_label: str | None = None
    team_inbox: str | None = None
    team_closed: str | None = None
    team_all: str | None = None
    organization: str | None = None
    email: str | None = None
    domain: str | None = None
    contact_organization: str | None = None


@dataclass(frozen=True)
class TaskFilter:
    """The filters of GET /tasks, already checked."""

    type: str = "all"
    organization: str | None = None
    team: str | None = None
    assignee: str | None = None
    state: str | None = None
    conversation: str | None = None
    due_at_gteq: int | None = None
    due_at_lteq: int | None = None


def describe_file(attachment_id: str, filename: str, content: bytes) -> dict[str, Any]:
    """An attachment as messages list it: id, name, MIME halves, size in bytes (the URL is added when rendered)."""
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    media_type, sub_type = _MEDIA_TYPES.get(extension, ("application", "octet-stream"))
    width = height = None
    if content.startswith(b"\x89PNG\r\n\x1a\n") and len(content) >= 24:
        width, height = int.from_bytes(content[16:20], "big"), int.from_bytes(content[20:24], "big")
    return {
        "id": attachment_id,
        "filename": filename,
        "extension": extension,
        "media_type": media_type,
        "sub_type": sub_type,
        "size": len(content),
        "width": width,
        "height": height,
    }


def newest_first(items: Iterable[T], stamp: Callable[[T], int], key: Callable[[T], str]) -> list[T]:
    """Newest first, ties in a stable order (by id), as every cursor-paged list of the live API."""
    return sorted(items, key=lambda item: (-stamp(item), key(item)))


class Workspace:
    """Everything the token's owner can see, keyed by id."""

    def __init__(self, owner_id: str, *, wall: Callable[[], float] = time.time, floor: int = 0) -> None:
        self.owner_id = owner_id
        self.senders: list[str] = []
        """Addresses and phone numbers the owner may put in `from_field`."""
        self.organizations: dict[str, Organization] = {}
        self.users: dict[str, User] = {}
        self.teams: dict[str, Team] = {}
        self.shared_labels: dict[str, SharedLabel] = {}
        self.accounts: dict[str, Account] = {}
        self.contact_books: dict[str, ContactBook] = {}
        self.contact_groups: dict[str, ContactGroup] = {}
        self.contacts: dict[str, Contact] = {}
        self.conversations: dict[str, Conversation] = {}
        self.messages: dict[str, Message] = {}
        self.drafts: dict[str, Message] = {}
        self.comments: dict[str, Comment] = {}
        self.posts: dict[str, Post] = {}
        self.tasks: dict[str, Task] = {}
        self.responses: dict[str, CannedResponse] = {}
        self.hooks: dict[str, Hook] = {}
        self.files: dict[str, File] = {}
        """Attachment id -> its bytes."""
        self.attachment_url_ttl = 3600
        """Seconds a rendered attachment URL stays valid (the live lifetime is not known; links do expire)."""
        self.merged: dict[str, str] = {}
        """Merged-away conversation id -> the id of the conversation that absorbed it."""
        self.reports: dict[str, Report] = {}
        self._wall = wall
        self._floor = floor

    @property
    def owner(self) -> User:
        return self.users[self.owner_id]

    def now(self) -> int:
        """Unix seconds for new objects, never older than the seeded data, so new activity sorts first."""
        return max(int(self._wall()), self._floor)

    # Adding ------------------------------------------------------------------------------------

    def add(self, record: Organization | User | Team | SharedLabel | Account | ContactBook | ContactGroup) -> None:
        table: dict[str, Any] = {
            Organization: self.organizations,
            User: self.users,
            Team: self.teams,
            SharedLabel: self.shared_labels,
            Account: self.accounts,
            ContactBook: self.contact_books,
            ContactGroup: self.contact_groups,
        }[type(record)]
        table[record.id] = record

    def add_contact(self, contact: Contact) -> Contact:
        self.contacts[contact.id] = contact
        return contact

    def add_conversation(
        self,
        *,
        created_at: int,
        organization_id: str | None = None,
        box: Box = "inbox",
        flagged: bool = False,
        user_ids: Sequence[str] = (),
        team_id: str | None = None,
        assignee_ids: Sequence[str] = (),
        label_ids: Sequence[str] = (),
        subject: str | None = None,
        color: str | None = None,
        id: str | None = None,
    ) -> Conversation:
        """A conversation without messages; its users (the owner, team members, assignees) share one state."""
        members = self.teams[team_id].member_ids if team_id else []
        everyone = dict.fromkeys([self.owner_id, *user_ids, *members, *assignee_ids])
        conversation = Conversation(
            id=id or new_id(),
            organization_id=organization_id,
            created_at=created_at,
            subject=subject,
            color=color,
            team_id=team_id,
            assignee_ids=list(assignee_ids),
            label_ids=list(label_ids),
            users={user_id: Mailbox.of(box, flagged=flagged) for user_id in everyone},
        )
        self.conversations[conversation.id] = conversation
        return conversation

    def add_message(self, conversation: Conversation, message: Message) -> Message:
        conversation.messages.append(message)
        conversation.touch(message.delivered_at)
        self.messages[message.id] = message
        return message

    def add_draft(self, conversation: Conversation, draft: Message) -> Message:
        conversation.drafts.append(draft)
        self.drafts[draft.id] = draft
        return draft

    def add_comment(self, conversation: Conversation, comment: Comment) -> Comment:
        conversation.comments.append(comment)
        conversation.touch(comment.created_at)
        self.comments[comment.id] = comment
        return comment

    def add_post(self, conversation: Conversation, post: Post) -> Post:
        conversation.posts.append(post)
        conversation.touch(post.created_at)
        self.posts[post.id] = post
        return post

    def add_task(self, task: Task) -> Task:
        self.tasks[task.id] = task
        return task

    def add_file(self, item: dict[str, Any], content: bytes) -> dict[str, Any]:
        """Keep an attachment's bytes; `item` is its description (id, filename, media_type, ...)."""
        self.files[item["id"]] = File(content, f"{item['media_type']}/{item['sub_type']}")
        return item

    # Finding -----------------------------------------------------------------------------------

    def conversation(self, conversation_id: str) -> Conversation:
        """The conversation, following merges; `Missing` if the owner cannot see it."""
        seen = self.merged.get(conversation_id, conversation_id)
        found = self.conversations.get(seen)
        if found is None or self.owner_id not in found.users:
            raise Missing(conversation_id)
        return found

    def conversation_by_references(self, references: Iterable[str]) -> Conversation | None:
        """The conversation holding a message with one of these Message-IDs; entries with whitespace are ignored."""
        wanted = {ref.strip("<>") for ref in references if not any(ch.isspace() for ch in ref)}
        for message in self.messages.values():
            if message.email_message_id and message.email_message_id.strip("<>") in wanted:
                return self.conversations[message.conversation_id]
        return None

    def find_conversations(self, where: ConversationFilter) -> list[Conversation]:
        """Every conversation the filter selects, newest activity first, ties by id."""
        addresses = self._wanted_addresses(where)
        found = (
            conversation
            for conversation in self.conversations.values()
            if self._selects(where, conversation) and (addresses is None or addresses(conversation))
        )
        return newest_first(found, lambda c: c.last_activity_at, lambda c: c.id)

    def _selects(self, where: ConversationFilter, conversation: Conversation) -> bool:
        mine = conversation.users.get(self.owner_id)
        if mine is None:
            return False
        if not all(self._shows(conversation, mine, box) for box in where.boxes):
            return False
        team = conversation.team_id
        conditions: list[bool] = []
        if where.shared_label:
            conditions.append(where.shared_label in conversation.label_ids and mine.visible)
        if where.team_inbox:
            conditions.append(team == where.team_inbox and mine.is_open)
        if where.team_closed:
            conditions.append(team == where.team_closed and mine.visible and mine.closed)
        if where.team_all:
            conditions.append(team == where.team_all and mine.visible)
        if not conditions and where.organization:
            # Beside a shared label or team filter, `organization` has no effect, as on the live API.
            conditions.append(conversation.organization_id == where.organization)
        return all(conditions)

    def _shows(self, conversation: Conversation, mine: Mailbox, box: str) -> bool:
        if box == "drafts":
            return any(draft.author_id == self.owner_id for draft in conversation.drafts)
        return mine.shows(box, assigned=self.owner_id in conversation.assignee_ids)

    def _wanted_addresses(self, where: ConversationFilter) -> Callable[[Conversation], bool] | None:
        if where.email:
            email = where.email.lower()
            return lambda c: email in c.addresses()
        if where.domain:
            suffix = "@" + where.domain.lower().lstrip("@")
            return lambda c: any(address.endswith(suffix) for address in c.addresses())
        if where.contact_organization:
            members = {
                email
                for contact in self.contacts.values()
                if any(m.get("group") == where.contact_organization for m in contact.memberships)
                for email in contact.emails()
            }
            return lambda c: bool(members & c.addresses())
        return None

    def find_tasks(self, where: TaskFilter) -> list[Task]:
        """The tasks the filter selects, newest activity first, ties by id."""
        mine = set(self.owner.organization_ids)
        found = (
            task
            for task in self.tasks.values()
            if (task.organization_id in mine or task.author_id == self.owner_id or self.owner_id in task.assignee_ids)
            and (where.type == "all" or task.type == where.type)
            and all(
                wanted is None or wanted == actual
                for wanted, actual in (
                    (where.organization, task.organization_id),
                    (where.team, task.team_id),
                    (where.state, task.state),
                    (where.conversation, task.conversation_id),
                )
            )
            and (where.assignee is None or where.assignee in task.assignee_ids)
            and (where.due_at_gteq is None or (task.due_at is not None and task.due_at >= where.due_at_gteq))
            and (where.due_at_lteq is None or (task.due_at is not None and task.due_at <= where.due_at_lteq))
        )
        return newest_first(found, lambda t: t.last_activity_at, lambda t: t.id)

    def tasks_of(self, conversation: Conversation) -> list[Task]:
        """The subtasks inside a conversation, and the task it is itself, if any."""
        return [task for task in self.tasks.values() if task.conversation_id == conversation.id]

    def contacts_in(
        self, book_id: str, *, include_deleted: bool, modified_since: int | None, search: str | None, order: str
    ) -> list[Contact]:
        """The contacts of one book, filtered and sorted like GET /contacts."""
        needle = (search or "").casefold()
        found = [
            contact
            for contact in self.contacts.values()
            if contact.contact_book_id == book_id
            and (include_deleted or not contact.deleted)
            and (modified_since is None or contact.modified_at > modified_since)
            and (not needle or needle in _searchable(contact))
        ]
        keys: dict[str, Callable[[Contact], tuple[Any, ...]]] = {
            "last_name": lambda c: ((c.last_name or "").casefold(), (c.first_name or "").casefold(), c.id),
            "first_name": lambda c: ((c.first_name or "").casefold(), (c.last_name or "").casefold(), c.id),
            "created_at": lambda c: (c.created_at, c.id),
        }
        return sorted(found, key=keys[order])

    # Changing conversations --------------------------------------------------------------------

    def check_changes(self, conversation: Conversation, changes: Mapping[str, Any]) -> None:
        """Refuse what the live API refuses, before anything changes."""
        organization = changes.get("organization")
        # `remove_shared_labels` may need it too (one peer says so, quoting no error): unverified, so not required.
        for needs_org in ("add_users", "add_assignees", "remove_assignees", "add_shared_labels"):
            if needs_org in changes and organization is None:
                raise Refused(f"'organization' is required when '{needs_org}' is defined")
        if organization is not None:
            if not is_uuid(organization):
                raise Refused("'organization' must be a UUID")
            if organization not in self.organizations or organization not in self.owner.organization_ids:
                raise Refused("Invalid resource ID(s)")
        if changes.get("add_to_team_inbox") and not changes.get("team"):
            raise Refused("'team' is required when 'add_to_team_inbox' is defined")
        if changes.get("close") and changes.get("reopen"):
            raise Refused("'close' and 'reopen' cannot both be true")
        org = organization or conversation.organization_id
        wanted = (
            (self.users, ("add_users", "add_assignees", "remove_assignees")),
            (self.shared_labels, ("add_shared_labels", "remove_shared_labels")),
            (self.teams, ("team",)),
        )
        for table, keys in wanted:
            for key in keys:
                ids: str | list[str] = changes.get(key) or []
                for record_id in [ids] if isinstance(ids, str) else ids:
                    if not self._in_organization(table.get(record_id), org):
                        raise Refused("Invalid resource ID(s)")

    def _in_organization(self, record: object, organization_id: str | None) -> bool:
        if isinstance(record, User):
            return organization_id in record.organization_ids
        if isinstance(record, SharedLabel | Team):
            return record.organization_id == organization_id
        return False

    def apply_changes(self, conversation: Conversation, changes: Mapping[str, Any]) -> None:
        """Apply checked changes silently: no post, and last_activity_at stays as it was."""
        if changes.get("organization") and conversation.organization_id is None:
            conversation.organization_id = changes["organization"]
        team = changes.get("team")
        if team and (conversation.team_id is None or changes.get("force_team")):
            self._join_team(conversation, team)
        for user_id in changes.get("add_users", []):
            conversation.users.setdefault(user_id, Mailbox())
        for user_id in changes.get("add_assignees", []):
            if user_id not in conversation.assignee_ids:
                conversation.assignee_ids.append(user_id)
            conversation.users.setdefault(user_id, Mailbox()).reopen()
        removed = set(changes.get("remove_assignees", []))
        conversation.assignee_ids = [user_id for user_id in conversation.assignee_ids if user_id not in removed]
        for label_id in changes.get("add_shared_labels", []):
            if label_id not in conversation.label_ids:
                conversation.label_ids.append(label_id)
        dropped = set(changes.get("remove_shared_labels", []))
        conversation.label_ids = [label_id for label_id in conversation.label_ids if label_id not in dropped]
        if "subject" in changes:
            conversation.subject = changes["subject"]
        if "color" in changes:
            conversation.color = changes["color"]
        if changes.get("add_to_team_inbox"):
            self._join_team(conversation, changes["team"])
            conversation.reopen()
        if changes.get("add_to_inbox") or changes.get("reopen"):
            conversation.reopen()
        if changes.get("close"):
            conversation.close()

    def _join_team(self, conversation: Conversation, team_id: str) -> None:
        conversation.team_id = team_id
        for member_id in self.teams[team_id].member_ids:
            conversation.users.setdefault(member_id, Mailbox())

    def merge(self, source: Conversation, target: Conversation, subject: str | None) -> None:
        """Move everything of `source` into `target`; the source id then resolves to the target."""
        for kind in ("messages", "drafts", "comments", "posts"):
            items: list[Any] = getattr(source, kind)
            for item in items:
                item.conversation_id = target.id
            getattr(target, kind).extend(items)
        for user_id, mailbox in source.users.items():
            target.users.setdefault(user_id, mailbox)
        target.assignee_ids += [user_id for user_id in source.assignee_ids if user_id not in target.assignee_ids]
        target.label_ids += [label_id for label_id in source.label_ids if label_id not in target.label_ids]
        target.touch(source.last_activity_at)
        if subject is not None:
            target.subject = subject
        del self.conversations[source.id]
        self.merged[source.id] = target.id
        for merged_id, into in self.merged.items():
            if into == source.id:
                self.merged[merged_id] = target.id


def _searchable(contact: Contact) -> str:
    parts = [contact.first_name, contact.last_name, contact.notes, *(info.get("value") for info in contact.infos)]
    return " ".join(part for part in parts if part).casefold()


_MEDIA_TYPES = {
    "png": ("image", "png"),
    "jpg": ("image", "jpeg"),
    "jpeg": ("image", "jpeg"),
    "gif": ("image", "gif"),
    "pdf": ("application", "pdf"),
    "txt": ("text", "plain"),
    "log": ("text", "plain"),
    "csv": ("text", "csv"),
}
