"""The toolsets: groups of tools an operator serves with MISSIVE_TOOLSETS, each declared once.

Settings check MISSIVE_TOOLSETS against these, the server serves the tools whose toolset is on, and the
README's toolset table and `manifest.json`'s toolset option are generated from them (tests/test_generated.py).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Toolset:
    """A group of tools an operator turns on or off as one."""

    id: str
    title: str
    description: str
    default: bool = False
    """Served when MISSIVE_TOOLSETS is unset (or `default`): what triaging an inbox needs."""


CONVERSATIONS = Toolset(
    "conversations", "Conversations", "list, read, update and merge conversations; their messages", default=True
)
DRAFTS = Toolset("drafts", "Drafts", "drafts and replies; canned responses to start from", default=True)
POSTS = Toolset("posts", "Posts", "internal notes that can also close, label or assign", default=True)
TASKS = Toolset("tasks", "Tasks", "tasks, standalone or in a conversation", default=True)
DIRECTORY = Toolset(
    "directory",
    "Directory",
    "organizations, users, teams and shared labels; an organization's analytics report",
    default=True,
)
HISTORY = Toolset(
    "history", "History", "one conversation's metadata, comments and posts page by page; a message by Message-ID"
)
CONTACTS = Toolset("contacts", "Contacts", "contacts, contact books and groups")
RESPONSES = Toolset("responses", "Canned responses", "read one canned response; create, change and delete them")
ADMIN = Toolset("admin", "Administration", "create and change shared labels and teams")
WEBHOOKS = Toolset("webhooks", "Webhooks", "create and delete webhooks")
ANALYTICS = Toolset("analytics", "Analytics", "start analytics reports, with filters (teams, users, labels, channels)")
ATTACHMENTS = Toolset("attachments", "Attachments", "open a message's attachment")
MESSAGES = Toolset("messages", "Custom channels", "add messages to a custom channel")
WATCH = Toolset("watch", "Watching", "wait for new activity in a mailbox (for clients without resource subscriptions)")

TOOLSETS = (
    CONVERSATIONS,
    DRAFTS,
    POSTS,
    TASKS,
    DIRECTORY,
    HISTORY,
    CONTACTS,
    RESPONSES,
    ADMIN,
    WEBHOOKS,
    ANALYTICS,
    ATTACHMENTS,
    MESSAGES,
    WATCH,
)
"""Every toolset, in the order the README and the manifest list them."""
TOOLSET_IDS = tuple(toolset.id for toolset in TOOLSETS)
DEFAULT_TOOLSET_IDS = tuple(toolset.id for toolset in TOOLSETS if toolset.default)
