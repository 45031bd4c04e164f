"""The routes of the fake Missive API under /v1, answering with the live API's envelopes, statuses and errors.

Error bodies vary as they do live: each route answers its 400s either as `{"error": "text"}` (FLAT) or as
`{"error": {"message": "text"}}` (NESTED), and a 404 for anything the URL names carries no body at all. Ids
named in a request body that do not exist answer 400 "Invalid resource ID(s)". Which style a route uses is only
known for a few of them; the rest are pinned one way or the other so that clients must read both.

Attachment bytes are served outside /v1, at the pre-signed URLs `render.attachment` writes: no token needed, and
an expired or tampered link answers 403.
"""

from __future__ import annotations

import base64
import binascii
import enum
import hmac
import json
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from itertools import takewhile
from typing import Any, TypeVar, cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from . import render
from .analytics import build_report
from .spec import BodyError, check, is_object
from .workspace import (
    BOXES,
    CannedResponse,
    Contact,
    Conversation,
    ConversationFilter,
    Hook,
    Mailbox,
    Message,
    Missing,
    Post,
    Refused,
    Report,
    SharedLabel,
    Task,
    TaskFilter,
    Team,
    Workspace,
    describe_file,
    is_uuid,
    new_id,
    newest_first,
)

T = TypeVar("T")
Handler = Callable[[Request], Awaitable[Response]]

MAX_BODY_BYTES = 10 * 1024 * 1024
MAX_ATTACHMENTS = 25

# Fields of drafts, messages and posts that change the conversation they land in, as PATCH would.
_CHANGE_FIELDS = (
    "organization",
    "team",
    "force_team",
    "add_users",
    "add_assignees",
    "remove_assignees",
    "add_shared_labels",
    "remove_shared_labels",
    "add_to_inbox",
    "add_to_team_inbox",
    "close",
)
# How many messages GET /messages?email_message_id= answers at most, when a sender reused a Message-ID.
MAX_SAME_MESSAGE_ID = 10
TASK_STATES = ("todo", "in_progress", "closed")


class Style(enum.Enum):
    FLAT = "flat"
    NESTED = "nested"


class TooLarge(Exception):
    """A request body past the live API's 10 MB."""


def error(status: int, message: str, style: Style) -> JSONResponse:
    body = {"error": message} if style is Style.FLAT else {"error": {"message": message}}
    return JSONResponse(body, status_code=status)


def empty(status: int) -> Response:
    return Response(status_code=status)


@dataclass
class Reports:
    """How long analytics reports take and live, on the fake's clock."""

    delay: float
    ttl: float
    clock: Callable[[], float]


@dataclass(frozen=True)
class ItemList:
    """One of the per-conversation lists: which items, and the timestamp its `until` cursor reads."""

    items: Callable[[Conversation], Sequence[Any]]
    stamp: Callable[[Any], int]
    render: Callable[[Workspace, Any], dict[str, Any]]


ITEM_LISTS = {
    "messages": ItemList(lambda c: c.messages, lambda m: m.delivered_at, render.message),
    "drafts": ItemList(lambda c: c.drafts, lambda m: m.delivered_at, render.message),
    "comments": ItemList(lambda c: c.comments, lambda x: x.created_at, render.comment),
    "posts": ItemList(lambda c: c.posts, lambda x: x.created_at, render.post),
}


class Api:
    """The endpoints, over one workspace."""

    def __init__(self, ws: Workspace, reports: Reports) -> None:
        self.ws = ws
        self.reports = reports
        self.users_ignore_organization = False
        """`GET /users` answers the caller's own users whatever `organization` it names (see FakeMissive)."""

    def routes(self) -> list[Route]:
        flat, nested = Style.FLAT, Style.NESTED
        table: list[tuple[str, str, Handler, Style]] = [
            ("GET", "/conversations", self.list_conversations, flat),
            ("GET", "/conversations/{ids}", self.get_conversations, flat),
            ("PATCH", "/conversations/{ids}", self.update_conversations, nested),
            ("GET", "/conversations/{id}/{kind}", self.list_conversation_items, flat),
            ("POST", "/conversations/{id}/merge", self.merge_conversations, nested),
            ("GET", "/messages", self.find_messages, flat),
            ("GET", "/messages/{ids}", self.get_messages, flat),
            ("POST", "/messages", self.create_message, nested),
            ("POST", "/drafts", self.create_draft, flat),
            ("DELETE", "/drafts/{id}", self.delete_draft, flat),
            ("POST", "/posts", self.create_post, flat),
            ("DELETE", "/posts/{id}", self.delete_post, flat),
            ("GET", "/tasks", self.list_tasks, flat),
            ("POST", "/tasks", self.create_task, nested),
            ("GET", "/tasks/{id}", self.get_task, flat),
            ("PATCH", "/tasks/{id}", self.update_task, nested),
            ("GET", "/responses", self.list_responses, flat),
            ("POST", "/responses", self.create_responses, nested),
            ("GET", "/responses/{id}", self.get_response, flat),
            ("PATCH", "/responses/{ids}", self.update_responses, nested),
            ("DELETE", "/responses/{ids}", self.delete_responses, nested),
            ("POST", "/shared_labels", self.create_shared_labels, nested),
            ("PATCH", "/shared_labels/{ids}", self.update_shared_labels, nested),
            ("POST", "/teams", self.create_teams, nested),
            ("PATCH", "/teams/{ids}", self.update_teams, nested),
            ("POST", "/hooks", self.create_hook, flat),
            ("DELETE", "/hooks/{id}", self.delete_hook, flat),
            ("GET", "/contacts", self.list_contacts, nested),
            ("POST", "/contacts", self.create_contacts, nested),
            ("GET", "/contacts/{ids}", self.get_contacts, nested),
            ("PATCH", "/contacts/{ids}", self.update_contacts, nested),
            ("GET", "/contact_books", self.list_contact_books, nested),
            ("GET", "/contact_groups", self.list_contact_groups, nested),
            ("GET", "/organizations", self.list_organizations, flat),
            ("GET", "/users", self.list_users, flat),
            ("GET", "/teams", self.list_teams, flat),
            ("GET", "/shared_labels", self.list_shared_labels, flat),
            ("POST", "/analytics/reports", self.create_report, nested),
            ("GET", "/analytics/reports/{id}", self.get_report, nested),
        ]
        api = [
            Route("/v1" + path, _answering(handler, style), methods=[method]) for method, path, handler, style in table
        ]
        files = Route(render.FILES_PATH + "{id}/{filename}", self.download, methods=["GET"])
        return [*api, files]

    # Conversations -----------------------------------------------------------------------------

    async def list_conversations(self, request: Request) -> Response:
        query = request.query_params
        scopes = {name: query.get(name) or None for name in ("shared_label", "team_inbox", "team_closed", "team_all")}
        boxes = frozenset(box for box in BOXES if _flag(query, box))
        if not boxes and not any(scopes.values()):
            raise Refused("You need to paginate at least one mailbox")
        people = {name: query.get(name) or None for name in ("email", "domain", "contact_organization")}
        if sum(1 for value in people.values() if value) > 1:
            raise Refused("'email', 'domain' and 'contact_organization' cannot be combined")
        if query.get("organization") and not is_uuid(query["organization"]):
            raise Refused("'organization' must be a UUID")
        limit = _limit(query, default=25, low=2, high=50)
        where = ConversationFilter(boxes=boxes, organization=query.get("organization") or None, **scopes, **people)
        found = self.ws.find_conversations(where)
        page = page_until(found, lambda c: c.last_activity_at, _integer(query, "until"), limit)
        return JSONResponse({"conversations": [render.conversation(self.ws, c) for c in page]})

    async def get_conversations(self, request: Request) -> Response:
        found = {c.id: c for c in map(self.ws.conversation, _ids(request))}
        return JSONResponse({"conversations": [render.conversation(self.ws, c) for c in found.values()]})

    async def update_conversations(self, request: Request) -> Response:
        ids = _ids(request)
        conversations = [self.ws.conversation(conversation_id) for conversation_id in ids]
        items = _items_for(await _json(request), "conversations", ids, "UpdateConversationRequest")
        changes = [_patched(item) for item in items]
        for conversation, change in zip(conversations, changes, strict=True):
            self.ws.check_changes(conversation, change)
        for conversation, change in zip(conversations, changes, strict=True):
            self.ws.apply_changes(conversation, change)
        unique = {c.id: c for c in conversations}
        return JSONResponse({"conversations": [render.conversation(self.ws, c) for c in unique.values()]})

    async def list_conversation_items(self, request: Request) -> Response:
        kind = request.path_params["kind"]
        listing = ITEM_LISTS.get(kind)
        if listing is None:
            raise Missing(kind)
        conversation = self.ws.conversation(request.path_params["id"])
        limit = _limit(request.query_params, default=10, low=1, high=10)
        items = newest_first(listing.items(conversation), listing.stamp, lambda item: item.id)
        page = page_until(items, listing.stamp, _integer(request.query_params, "until"), limit)
        return JSONResponse({kind: [listing.render(self.ws, item) for item in page]})

    async def merge_conversations(self, request: Request) -> Response:
        source = self.ws.conversation(request.path_params["id"])
        body = await _json(request)
        if not is_object(body):
            raise Refused("param is missing or the value is empty: target")
        check("MergeConversationRequest", body, "")
        target = self._referenced_conversation(body["target"])
        if target is source:
            raise Refused("A conversation cannot be merged into itself")
        self.ws.merge(source, target, body.get("subject"))
        return JSONResponse({"conversations": [render.conversation(self.ws, target)]})

    # Messages, drafts, posts -------------------------------------------------------------------

    async def find_messages(self, request: Request) -> Response:
        # Angle brackets are optional: whether the live API needs them here is unverified, so both match.
        wanted = (request.query_params.get("email_message_id") or "").strip().strip("<>")
        if not wanted:
            raise Refused("'email_message_id' is required")
        found = [m for m in self.ws.messages.values() if (m.email_message_id or "").strip("<>") == wanted]
        newest = newest_first(found, lambda m: m.delivered_at, lambda m: m.id)[:MAX_SAME_MESSAGE_ID]
        # No match answers an empty list (a 404 is the other reading; clients take both).
        return JSONResponse({"messages": [render.message(self.ws, m) for m in newest]})

    async def get_messages(self, request: Request) -> Response:
        ids = _ids(request)
        missing = [message_id for message_id in ids if message_id not in self.ws.messages]
        if missing:
            raise Missing(missing[0])
        found = [render.message(self.ws, self.ws.messages[message_id]) for message_id in ids]
        # One id answers an object, several a list.
        return JSONResponse({"messages": found[0] if len(found) == 1 else found})

    async def create_message(self, request: Request) -> Response:
        item = _envelope_object(await _json(request), "messages")
        check("CreateMessageRequest", item, "messages")
        account = self.ws.accounts.get(item["account"])
        if account is None:
            raise Refused("Invalid resource ID(s)")
        known = self._known_message(account.id, item.get("external_id"))
        if known is not None:
            return JSONResponse({"messages": render.message(self.ws, known)}, status_code=201)
        attachments, changes = self._attachments(item), _changes(item)
        conversation = self._conversation_for(item, account.organization_id)
        self._prepare(conversation, changes)
        now = self.ws.now()
        message = Message(
            id=new_id(),
            conversation_id=conversation.id,
            body=item["body"],
            subject=item.get("subject"),
            from_field=item["from_field"],
            to_fields=item["to_fields"],
            delivered_at=item.get("delivered_at") or now,
            created_at=now,
            type="custom",
            account_id=account.id,
            external_id=item.get("external_id"),
            attachments=attachments,
        )
        self.ws.add_message(conversation, message)
        conversation.touch(now)
        # A new incoming message brings the conversation back to every inbox.
        conversation.reopen()
        self.ws.apply_changes(conversation, changes)
        return JSONResponse({"messages": render.message(self.ws, message)}, status_code=201)

    def _known_message(self, account_id: str, external_id: str | None) -> Message | None:
        """The message a custom channel already delivered under this external id."""
        if external_id is None:
            return None
        return next(
            (m for m in self.ws.messages.values() if (m.account_id, m.external_id) == (account_id, external_id)),
            None,
        )

    async def create_draft(self, request: Request) -> Response:
        item = _envelope_object(await _json(request), "drafts")
        check("CreateDraftRequest", item, "drafts")
        if len(item.get("attachments", [])) > MAX_ATTACHMENTS:
            raise Refused(f"A draft can carry at most {MAX_ATTACHMENTS} attachments")
        if not (item.get("body") or item.get("attachments") or item.get("external_response_id")):
            raise Refused("Validation failed: text, markdown or attachments needed")
        if item.get("account") and item["account"] not in self.ws.accounts:
            raise Refused("Invalid resource ID(s)")
        sender, attachments, changes = self._sender(item), self._attachments(item), _changes(item)
        conversation = self._conversation_for(item, None)
        self._prepare(conversation, changes)
        now = self.ws.now()
        draft = Message(
            id=new_id(),
            conversation_id=conversation.id,
            body=item.get("body", ""),
            subject=item.get("subject"),
            from_field=sender,
            to_fields=item.get("to_fields", []),
            cc_fields=item.get("cc_fields", []),
            bcc_fields=item.get("bcc_fields", []),
            delivered_at=now,
            type="custom" if item.get("account") else "sms" if "phone_number" in sender else "email",
            references=[ref for ref in item.get("references", []) if not any(ch.isspace() for ch in ref)],
            attachments=attachments,
            author_id=self.ws.owner_id,
            account_id=item.get("account"),
            send_at=item.get("send_at"),
        )
        self.ws.apply_changes(conversation, changes)
        if item.get("send") and draft.send_at is None:
            draft.email_message_id = f"<{draft.id}@{self.ws.owner.email.split('@')[-1]}>"
            self.ws.add_message(conversation, draft)
            # A sent draft answers 201 with an empty body: the message exists, but nothing says which.
            return empty(201)
        self.ws.add_draft(conversation, draft)
        return JSONResponse({"drafts": render.message(self.ws, draft)}, status_code=201)

    async def delete_draft(self, request: Request) -> Response:
        draft = self.ws.drafts.pop(request.path_params["id"], None)
        if draft is None:
            raise Missing(request.path_params["id"])
        self.ws.conversations[draft.conversation_id].drafts.remove(draft)
        return empty(200)

    async def create_post(self, request: Request) -> Response:
        item = _envelope_object(await _json(request), "posts")
        check("CreatePostRequest", item, "posts")
        if not (item.get("text") or item.get("markdown") or item.get("attachments")):
            raise Refused("Validation failed: text, markdown or attachments needed")
        changes = _changes(item)
        blocks = item.get("attachments", [])
        # Each attachment is a rich block, or a file when it carries both base64_data and filename.
        files = self._attachments({"attachments": [b for b in blocks if "base64_data" in b or "filename" in b]})
        conversation = self._conversation_for(item, item.get("organization"))
        self._prepare(conversation, changes)
        post = Post(
            id=new_id(),
            conversation_id=conversation.id,
            created_at=self.ws.now(),
            text=item.get("text"),
            markdown=item.get("markdown"),
            username=item.get("username"),
            username_icon=item.get("username_icon"),
            notification=item.get("notification") or {},
            attachments=[b for b in blocks if not ("base64_data" in b or "filename" in b)] + files,
            author_id=self.ws.owner_id,
        )
        self.ws.add_post(conversation, post)
        if item.get("reopen", True):
            conversation.reopen()
        self.ws.apply_changes(conversation, changes)
        return JSONResponse({"posts": render.post(self.ws, post)}, status_code=201)

    async def delete_post(self, request: Request) -> Response:
        post = self.ws.posts.pop(request.path_params["id"], None)
        if post is None:
            raise Missing(request.path_params["id"])
        self.ws.conversations[post.conversation_id].posts.remove(post)
        # Whether the live API answers 200 or 204 is unverified; both carry no body. The state the post changed
        # (a close, labels) stays, as it does live.
        return empty(204)

    def _attachments(self, item: Mapping[str, Any]) -> list[dict[str, Any]]:
        """Uploaded files as the live API describes them afterwards; their bytes become downloadable."""
        stored: list[dict[str, Any]] = []
        for upload in item.get("attachments", []):
            filename = upload.get("filename") or "attachment"
            if not upload.get("base64_data") or not upload.get("filename"):
                raise Refused(f"Attachment '{filename}' needs both 'base64_data' and 'filename'")
            try:
                content = base64.b64decode(upload["base64_data"], validate=True)
            except (binascii.Error, ValueError):
                raise Refused(f"Attachment '{filename}' is not valid base64") from None
            stored.append(self.ws.add_file(describe_file(new_id(), filename, content), content))
        return stored

    async def download(self, request: Request) -> Response:
        """An attachment's bytes at its pre-signed URL: no token; 403 once expired or when the signature is wrong."""
        attachment_id = request.path_params["id"]
        query = request.query_params
        try:
            expires = int(query.get("Expires", ""))
        except ValueError:
            return _denied("Query-string authentication requires the Signature and Expires parameters")
        if not hmac.compare_digest(query.get("Signature", ""), render.file_signature(attachment_id, expires)):
            return _denied("The request signature we calculated does not match the signature you provided")
        if self.ws.now() > expires:
            return _denied("Request has expired")
        stored = self.ws.files.get(attachment_id)
        if stored is None:
            return Response("<Error><Code>NoSuchKey</Code></Error>", status_code=404, media_type="application/xml")
        return Response(stored.content, media_type=stored.content_type)

    def _sender(self, item: Mapping[str, Any]) -> dict[str, str]:
        """The draft's `from_field`: one of the owner's senders (the first when none is given)."""
        given = item.get("from_field")
        if given is None:
            return {"name": self.ws.owner.name, "address": self.ws.senders[0]}
        if not item.get("account") and (given.get("address") or given.get("phone_number")) not in self.ws.senders:
            raise Refused("'from_field' does not match an available sender")
        return dict(given)

    def _referenced_conversation(self, conversation_id: str) -> Conversation:
        try:
            return self.ws.conversation(conversation_id)
        except Missing:
            raise Refused("Invalid resource ID(s)") from None

    def _conversation_for(self, item: Mapping[str, Any], organization_id: str | None) -> Conversation:
        """Where a write lands: `conversation`, else the one its `references` name, else a new one (not stored yet)."""
        if "conversation" in item:
            return self._referenced_conversation(item["conversation"])
        found = self.ws.conversation_by_references(item.get("references", []))
        if found is not None:
            return found
        now = self.ws.now()
        if organization_id is not None and organization_id not in self.ws.organizations:
            organization_id = None  # an unknown organization is refused by the change checks
        return Conversation(
            new_id(),
            organization_id,
            created_at=now,
            subject=item.get("conversation_subject"),
            users={self.ws.owner_id: Mailbox()},
        )

    def _prepare(self, conversation: Conversation, changes: Mapping[str, Any]) -> None:
        """Check a write's conversation changes, then keep the conversation if it is new."""
        self.ws.check_changes(conversation, changes)
        self.ws.conversations.setdefault(conversation.id, conversation)

    # Tasks -------------------------------------------------------------------------------------

    async def list_tasks(self, request: Request) -> Response:
        query = request.query_params
        kind = query.get("type") or "all"
        if kind not in ("task", "conversation", "all"):
            raise Refused("'type' must be one of task, conversation, all")
        state = query.get("state") or None
        if state is not None and state not in TASK_STATES:
            raise Refused("'state' must be one of todo, in_progress, closed")
        if query.get("organization") and not is_uuid(query["organization"]):
            raise Refused("'organization' must be a UUID")
        # The default page size is not documented; 25 as for conversations.
        limit = _limit(query, default=25, low=2, high=50)
        where = TaskFilter(
            type=kind,
            state=state,
            **{name: query.get(name) or None for name in ("organization", "team", "assignee", "conversation")},
            due_at_gteq=_integer(query, "due_at_gteq"),
            due_at_lteq=_integer(query, "due_at_lteq"),
        )
        found = self.ws.find_tasks(where)
        # `until` includes its boundary and a full page runs on through ties, so both the documented "oldest
        # last_activity_at minus 1" and "the same timestamp, de-duplicated" page through everything.
        page = page_until(found, lambda t: t.last_activity_at, _integer(query, "until"), limit)
        return JSONResponse({"tasks": [render.task(self.ws, t) for t in page]})

    async def get_task(self, request: Request) -> Response:
        # A bare object, with assignees and team as full objects (the list sends ids).
        return JSONResponse({"tasks": render.task(self.ws, self._task(request.path_params["id"]), full=True)})

    async def create_task(self, request: Request) -> Response:
        item = _envelope_object(await _json(request), "tasks")
        check("CreateTaskRequest", item, "tasks")
        for field_name in ("team", "assignees", "add_users"):
            if field_name in item and "organization" not in item:
                raise Refused(f"'organization' is required when '{field_name}' is defined")
        organization = item.get("organization")
        if organization is not None:
            self._check_organization(organization)
        subtask = bool(item.get("subtask"))
        if subtask and not (item.get("conversation") or item.get("references")):
            raise Refused("'conversation' or 'references' is required when 'subtask' is true")
        if not subtask and not (item.get("team") or item.get("assignees")):
            raise Refused("'team' or 'assignees' is required unless 'subtask' is true")
        self._check_team_and_users(organization, item.get("team"), [*item.get("assignees", [])])
        self._check_team_and_users(organization, None, item.get("add_users", []))
        now = self.ws.now()
        conversation_id = None
        if subtask:
            conversation = self._conversation_for(item, organization)
            if conversation.id not in self.ws.conversations:
                # API-made tasks show in the Tasks view only: a conversation made for one stays out of the Inbox.
                conversation.users[self.ws.owner_id].inbox = False
                self.ws.conversations[conversation.id] = conversation
            for user_id in item.get("add_users", []):
                conversation.users.setdefault(user_id, Mailbox())
            if item.get("add_to_inbox"):
                conversation.reopen()
            conversation_id = conversation.id
        task = Task(
            id=new_id(),
            title=item["title"],
            description=item.get("description"),
            state=item.get("state", "todo"),
            created_at=now,
            organization_id=organization,
            subtask=subtask,
            conversation_id=conversation_id,
            team_id=item.get("team"),
            assignee_ids=list(dict.fromkeys(item.get("assignees", []))),
            due_at=item.get("due_at"),
            author_id=self.ws.owner_id,
        )
        self.ws.add_task(task)
        # The answer's exact fields are unverified; it is rendered as the list renders a task (ids, not objects).
        return JSONResponse({"tasks": render.task(self.ws, task)}, status_code=201)

    async def update_task(self, request: Request) -> Response:
        task = self._task(request.path_params["id"])
        item = _envelope_object(await _json(request), "tasks")
        check("UpdateTaskRequest", item, "tasks")
        if item.get("id", task.id) != task.id:
            raise Refused("Invalid resource ID(s)")
        organization = item.get("organization") or task.organization_id
        if "organization" in item:
            self._check_organization(item["organization"])
        if organization is None and (item.get("team") or item.get("assignees")):
            raise Refused("'organization' is required when 'team' is defined")
        self._check_team_and_users(organization, item.get("team"), item.get("assignees", []))
        for key in ("title", "description", "state", "due_at"):
            if key in item:
                setattr(task, key, item[key])
        if "assignees" in item:
            task.assignee_ids = list(dict.fromkeys(item["assignees"]))  # replaces the set
        if "team" in item:
            task.team_id = item["team"]
        task.organization_id = organization
        task.last_activity_at = max(task.last_activity_at, self.ws.now())
        return JSONResponse({"tasks": render.task(self.ws, task)})

    def _task(self, task_id: str) -> Task:
        task = self.ws.tasks.get(task_id)
        if task is None or task not in self.ws.find_tasks(TaskFilter()):
            raise Missing(task_id)
        return task

    def _check_organization(self, organization: str) -> None:
        if not is_uuid(organization):
            raise Refused("'organization' must be a UUID")
        if organization not in self.ws.organizations or organization not in self.ws.owner.organization_ids:
            raise Refused("Invalid resource ID(s)")

    def _check_team_and_users(self, organization: str | None, team_id: str | None, user_ids: Sequence[str]) -> None:
        """A team and users named in a body must exist in the organization."""
        team = self.ws.teams.get(team_id) if team_id else None
        if team_id and (team is None or team.organization_id != organization):
            raise Refused("Invalid resource ID(s)")
        for user_id in user_ids:
            found = self.ws.users.get(user_id)
            if found is None or organization not in found.organization_ids:
                raise Refused("Invalid resource ID(s)")

    # Canned responses --------------------------------------------------------------------------

    async def list_responses(self, request: Request) -> Response:
        wanted = request.query_params.get("organization")
        if wanted and not is_uuid(wanted):
            raise Refused("'organization' must be a UUID")
        visible = [r for r in self.ws.responses.values() if self._sees_response(r)]
        if wanted:
            visible = [r for r in visible if r.organization_id == wanted]
        page = _offset_page(request.query_params, visible)
        return JSONResponse({"responses": [render.canned_response(self.ws, r) for r in page]})

    async def get_response(self, request: Request) -> Response:
        found = self._responses([request.path_params["id"]])
        # No example exists in the reference; one peer reads a list, so the fake answers a list of one.
        return JSONResponse({"responses": [render.canned_response(self.ws, r) for r in found]})

    async def create_responses(self, request: Request) -> Response:
        body = await _json(request)
        # Documented as a list; a single object was seen to work live too.
        if is_object(body) and is_object(body.get("responses")):
            body = {**body, "responses": [body["responses"]]}
        items = _envelope_list(body, "responses")
        for index, item in enumerate(items):
            check("CreateResponseRequest", item, f"responses[{index}]")
            self._check_response(item, item.get("organization"), None)
        now = self.ws.now()
        created: list[CannedResponse] = []
        for item in items:
            response = CannedResponse(
                id=new_id(),
                created_at=now,
                organization_id=item.get("organization"),
                user_id=item.get("user"),
            )
            self._write_response(response, item)
            self.ws.responses[response.id] = response
            created.append(response)
        return JSONResponse({"responses": [render.canned_response(self.ws, r) for r in created]}, status_code=201)

    async def update_responses(self, request: Request) -> Response:
        ids = _ids(request)
        responses = self._responses(ids)
        body = await _json(request)
        if is_object(body) and is_object(body.get("responses")):
            # Live: the object form fails even for one id; the list must carry each id.
            raise Refused("Invalid resource ID(s)")
        items = _items_for(body, "responses", ids, "UpdateResponseRequest")
        for response, item in zip(responses, items, strict=True):
            if response.integration:
                raise Refused(f"Response '{response.id}' was created by an integration and cannot be updated")
            self._check_response(item, response.organization_id, response)
        for response, item in zip(responses, items, strict=True):
            self._write_response(response, item)
            response.modified_at = self.ws.now()
        return JSONResponse({"responses": [render.canned_response(self.ws, r) for r in responses]})

    async def delete_responses(self, request: Request) -> Response:
        responses = self._responses(_ids(request))
        for response in responses:
            if response.integration:
                raise Refused(f"Response '{response.id}' was created by an integration and cannot be deleted")
        for response in responses:
            self.ws.responses.pop(response.id, None)
        # 200 or 204 is unverified; no body either way.
        return empty(204)

    def _sees_response(self, response: CannedResponse) -> bool:
        if response.user_id is not None:
            return response.user_id == self.ws.owner_id
        return response.organization_id in self.ws.owner.organization_ids

    def _responses(self, ids: list[str]) -> list[CannedResponse]:
        found: dict[str, CannedResponse] = {}
        for response_id in ids:
            response = self.ws.responses.get(response_id)
            if response is None or not self._sees_response(response):
                raise Missing(response_id)
            found[response_id] = response
        return list(found.values())

    def _check_response(
        self, item: Mapping[str, Any], organization: str | None, existing: CannedResponse | None
    ) -> None:
        if existing is None:
            if ("organization" in item) == ("user" in item):
                raise Refused("Exactly one of 'organization' or 'user' is required")
            if organization is not None:
                self._check_organization(organization)
            elif item["user"] != self.ws.owner_id:
                raise Refused("Invalid resource ID(s)")
        org_only = [key for key in ("share_with_team", "shared_labels") if key in item]
        if org_only and organization is None:
            raise Refused(f"'{org_only[0]}' needs a response shared with an organization")
        self._check_team_and_users(organization, item.get("share_with_team"), [])
        for label_id in item.get("shared_labels", []):
            label = self.ws.shared_labels.get(label_id)
            if label is None or label.organization_id != organization:
                raise Refused("Invalid resource ID(s)")
        if "external_id" in item or "external_source" in item:
            was = (existing.external_id, existing.external_source) if existing else (None, None)
            pair = (item.get("external_id", was[0]), item.get("external_source", was[1]))
            if None in pair:
                raise Refused("'external_id' and 'external_source' go together")
            # The pair is unique per organization, or per user for personal responses.
            scope = (existing.organization_id, existing.user_id) if existing else (organization, item.get("user"))
            taken = {
                (other.external_id, other.external_source)
                for other in self.ws.responses.values()
                if other is not existing and (other.organization_id, other.user_id) == scope
            }
            if pair in taken:
                raise Refused("'external_id' has already been taken")

    def _write_response(self, response: CannedResponse, item: Mapping[str, Any]) -> None:
        """Apply a create or update: only fields sent change, but `attachments` replaces the whole set."""
        for key in ("title", "subject", "share_with_team", "external_id", "external_source"):
            if key in item:
                setattr(response, key, item[key])
        for key in ("to_fields", "cc_fields", "bcc_fields"):
            if key in item:
                setattr(response, key, [dict(person) for person in item[key]])
        if "shared_labels" in item:
            response.shared_label_ids = list(dict.fromkeys(item["shared_labels"]))
        body = item.get("body", response.body)
        if "attachments" in item:
            response.attachments = self._attachments(item)
            # A temporary id on an upload lets the body's <img data-missive-attachment-id="..."> point at it.
            for upload, stored in zip(item["attachments"], response.attachments, strict=True):
                if upload.get("id") and body:
                    body = body.replace(
                        f'data-missive-attachment-id="{upload["id"]}"', f'data-missive-attachment-id="{stored["id"]}"'
                    )
        response.body = body

    # Shared labels and teams -------------------------------------------------------------------

    async def create_shared_labels(self, request: Request) -> Response:
        items = _envelope_list(await _json(request), "shared_labels")
        for index, item in enumerate(items):
            check("CreateSharedLabelRequest", item, f"shared_labels[{index}]")
            self._check_organization(item["organization"])
            self._check_label(item, item["organization"], None)
        created: list[SharedLabel] = []
        for item in items:
            label = SharedLabel(new_id(), item["name"], item["organization"])
            self._write_label(label, item)
            self.ws.add(label)
            created.append(label)
        return JSONResponse({"shared_labels": [render.shared_label(self.ws, x) for x in created]}, status_code=201)

    async def update_shared_labels(self, request: Request) -> Response:
        ids = _ids(request)
        labels = [self._label(label_id) for label_id in ids]
        body = await _json(request)
        sent: list[Any] = body.get("shared_labels", []) if is_object(body) else []
        for item in sent:
            if is_object(item) and "organization" in item:
                # Live: a label's organization cannot change, and sending it at all is refused.
                raise Refused("Unpermitted parameters: organization")
        items = _items_for(body, "shared_labels", ids, "UpdateSharedLabelRequest")
        for label, item in zip(labels, items, strict=True):
            self._check_label(item, label.organization_id, label)
        for label, item in zip(labels, items, strict=True):
            self._write_label(label, item)
        return JSONResponse({"shared_labels": [render.shared_label(self.ws, x) for x in labels]})

    def _label(self, label_id: str) -> SharedLabel:
        label = self.ws.shared_labels.get(label_id)
        if label is None or label.organization_id not in self.ws.owner.organization_ids:
            raise Missing(label_id)
        return label

    def _check_label(self, item: Mapping[str, Any], organization: str, existing: SharedLabel | None) -> None:
        parent_id = item.get("parent")
        if parent_id:
            parent = self.ws.shared_labels.get(parent_id)
            if parent is None or parent.organization_id != organization:
                raise Refused("Invalid resource ID(s)")
            ancestor: SharedLabel | None = parent
            while existing is not None and ancestor is not None:
                if ancestor.id == existing.id:
                    raise Refused("'parent' cannot be the label itself or one of its sub-labels")
                ancestor = self.ws.shared_labels.get(ancestor.parent_id or "")
        self._check_team_and_users(organization, item.get("share_with_team"), item.get("share_with_users", []))

    def _write_label(self, label: SharedLabel, item: Mapping[str, Any]) -> None:
        for key in ("name", "color", "visibility", "share_with_organization", "share_with_team"):
            if key in item:
                setattr(label, key, item[key])
        if "parent" in item:
            label.parent_id = item["parent"] or None
        if "share_with_users" in item:
            label.share_with_user_ids = list(dict.fromkeys(item["share_with_users"]))

    async def create_teams(self, request: Request) -> Response:
        items = _envelope_list(await _json(request), "teams")
        for index, item in enumerate(items):
            check("CreateTeamRequest", item, f"teams[{index}]")
            self._check_organization(item["organization"])
            self._check_team_members(item, item["organization"])
        created: list[Team] = []
        for item in items:
            team = Team(new_id(), item["name"], item["organization"])
            self._write_team(team, item)
            self.ws.add(team)
            created.append(team)
        return JSONResponse({"teams": [render.team_detail(t) for t in created]}, status_code=201)

    async def update_teams(self, request: Request) -> Response:
        ids = _ids(request)
        teams = [self._team(team_id) for team_id in ids]
        items = _items_for(await _json(request), "teams", ids, "UpdateTeamRequest")
        for team, item in zip(teams, items, strict=True):
            # Whether `organization` may be sent is unverified: accepted when it is the team's own.
            if item.get("organization", team.organization_id) != team.organization_id:
                raise Refused("Invalid resource ID(s)")
            self._check_team_members(item, team.organization_id)
        for team, item in zip(teams, items, strict=True):
            self._write_team(team, item)
        return JSONResponse({"teams": [render.team_detail(t) for t in teams]})

    def _team(self, team_id: str) -> Team:
        team = self.ws.teams.get(team_id)
        if team is None or team.organization_id not in self.ws.owner.organization_ids:
            raise Missing(team_id)
        return team

    def _check_team_members(self, item: Mapping[str, Any], organization: str) -> None:
        self._check_team_and_users(organization, None, [*item.get("active_members", []), *item.get("observers", [])])
        hours = item.get("business_hours")
        if hours is not None and not _is_time_zone(hours["tz"]):
            raise Refused("'business_hours.tz' must be an IANA time zone such as America/Montreal")

    def _write_team(self, team: Team, item: Mapping[str, Any]) -> None:
        if "name" in item:
            team.name = item["name"]
        if "active_members" in item:
            team.member_ids = list(dict.fromkeys(item["active_members"]))
        if "observers" in item:
            team.observer_ids = list(dict.fromkeys(item["observers"]))
        skip = ("id", "name", "organization", "active_members", "observers")
        team.settings.update({key: value for key, value in item.items() if key not in skip})

    # Webhooks ----------------------------------------------------------------------------------

    async def create_hook(self, request: Request) -> Response:
        item = _envelope_object(await _json(request), "hooks")
        check("CreateHookRequest", item, "hooks")
        if not re.match(r"^https://[^/\s]+", item["url"]):
            raise Refused("'url' must be an https URL")
        kind = item["type"]
        for key in ("is_task", "author", "mention"):
            if key in item and kind != "new_comment":
                raise Refused(f"'{key}' is only allowed when 'type' is new_comment")
        for key in ("from_eq", "subject_contains"):
            if key in item and kind != "incoming_email":
                raise Refused(f"'{key}' is only allowed when 'type' is incoming_email")
        organization = item.get("organization")
        if organization is not None:
            self._check_organization(organization)
        people = [item[key] for key in ("author", "mention") if key in item]
        for user_id in people:
            found = self.ws.users.get(user_id)
            if found is None or not set(found.organization_ids) & set(self.ws.owner.organization_ids):
                raise Refused("Invalid resource ID(s)")
        filters = {key: value for key, value in item.items() if key not in ("type", "url", "organization")}
        hook = Hook(new_id(), kind, item["url"], self.ws.now(), organization, filters)
        self.ws.hooks[hook.id] = hook
        return JSONResponse({"hooks": render.hook(hook)}, status_code=201)

    async def delete_hook(self, request: Request) -> Response:
        if self.ws.hooks.pop(request.path_params["id"], None) is None:
            raise Missing(request.path_params["id"])
        return empty(200)

    # Contacts ----------------------------------------------------------------------------------

    async def list_contacts(self, request: Request) -> Response:
        query = request.query_params
        book_id = query.get("contact_book")
        if not book_id:
            raise Refused("'contact_book' is required")
        if book_id not in self.ws.contact_books:
            raise Missing(book_id)
        order = query.get("order", "last_name")
        if order not in ("last_name", "first_name", "created_at"):
            raise Refused("'order' must be one of last_name, first_name, created_at")
        found = self.ws.contacts_in(
            book_id,
            include_deleted=_flag(query, "include_deleted"),
            modified_since=_integer(query, "modified_since"),
            search=query.get("search"),
            order=order,
        )
        return JSONResponse({"contacts": [render.contact(self.ws, c) for c in _offset_page(query, found)]})

    async def create_contacts(self, request: Request) -> Response:
        items = _envelope_list(await _json(request), "contacts")
        for index, item in enumerate(items):
            check("CreateContactRequest", item, f"contacts[{index}]")
            if item["contact_book"] not in self.ws.contact_books:
                raise Refused("Invalid resource ID(s)")
            self._check_memberships(item, item["contact_book"])
        now = self.ws.now()
        created = [
            self.ws.add_contact(
                Contact(
                    id=new_id(),
                    created_at=now,
                    contact_book_id=item["contact_book"],
                    **{key: value for key, value in item.items() if key != "contact_book"},
                )
            )
            for item in items
        ]
        return JSONResponse({"contacts": [render.contact(self.ws, c) for c in created]}, status_code=201)

    async def get_contacts(self, request: Request) -> Response:
        return JSONResponse({"contacts": [render.contact(self.ws, c) for c in self._contacts(_ids(request))]})

    async def update_contacts(self, request: Request) -> Response:
        ids = _ids(request)
        contacts = self._contacts(ids)
        items = _items_for(await _json(request), "contacts", ids, "UpdateContactRequest")
        for contact, item in zip(contacts, items, strict=True):
            self._check_memberships(item, contact.contact_book_id)
        now = self.ws.now()
        for contact, item in zip(contacts, items, strict=True):
            for key, value in item.items():
                if key != "id":
                    setattr(contact, key, value)
            contact.modified_at = now
        return JSONResponse({"contacts": [render.contact(self.ws, c) for c in contacts]})

    def _contacts(self, ids: list[str]) -> list[Contact]:
        found = [self.ws.contacts.get(contact_id) for contact_id in ids]
        for contact_id, contact in zip(ids, found, strict=True):
            if contact is None or contact.deleted:
                raise Missing(contact_id)
        return [contact for contact in found if contact is not None]

    def _check_memberships(self, item: Mapping[str, Any], book_id: str) -> None:
        for membership in item.get("memberships", []):
            group = self.ws.contact_groups.get(membership["group"])
            if group is None or group.contact_book_id != book_id:
                raise Refused("Invalid resource ID(s)")

    async def list_contact_books(self, request: Request) -> Response:
        books = list(self.ws.contact_books.values())
        return JSONResponse(
            {"contact_books": [render.contact_book(b) for b in _offset_page(request.query_params, books)]}
        )

    async def list_contact_groups(self, request: Request) -> Response:
        query = request.query_params
        book_id, kind = query.get("contact_book"), query.get("kind")
        if not book_id:
            raise Refused("'contact_book' is required")
        if kind not in ("group", "organization"):
            raise Refused("'kind' must be one of group, organization")
        if book_id not in self.ws.contact_books:
            raise Missing(book_id)
        groups = [g for g in self.ws.contact_groups.values() if g.contact_book_id == book_id and g.kind == kind]
        return JSONResponse({"contact_groups": [render.contact_group(g) for g in _offset_page(query, groups)]})

    # Directory ---------------------------------------------------------------------------------

    async def list_organizations(self, request: Request) -> Response:
        mine = [self.ws.organizations[org_id] for org_id in self._me(request).organization_ids]
        return JSONResponse(
            {"organizations": [render.organization(o) for o in _offset_page(request.query_params, mine)]}
        )

    async def list_users(self, request: Request) -> Response:
        orgs = self._organizations(request)
        if self.users_ignore_organization:
            orgs = set(self._me(request).organization_ids)
        users = [u for u in self.ws.users.values() if orgs & set(u.organization_ids)]
        page = [
            render.user(self.ws, u) | {"me": u.id == self._me(request).id}
            for u in _offset_page(request.query_params, users)
        ]
        return JSONResponse({"users": page})

    async def list_teams(self, request: Request) -> Response:
        orgs = self._organizations(request)
        teams = [t for t in self.ws.teams.values() if t.organization_id in orgs]
        return JSONResponse({"teams": [render.team(t) for t in _offset_page(request.query_params, teams)]})

    async def list_shared_labels(self, request: Request) -> Response:
        orgs = self._organizations(request)
        labels = [x for x in self.ws.shared_labels.values() if x.organization_id in orgs]
        page = _offset_page(request.query_params, labels)
        return JSONResponse({"shared_labels": [render.shared_label(self.ws, x) for x in page]})

    def _organizations(self, request: Request) -> set[str]:
        """The owner's organizations, narrowed by the `organization` filter."""
        wanted = request.query_params.get("organization")
        if wanted and not is_uuid(wanted):
            raise Refused("'organization' must be a UUID")
        mine = set(self._me(request).organization_ids)
        return mine & {wanted} if wanted else mine

    def _me(self, request: Request) -> Any:
        """The user whose token made the request (the fake's extra tokens); the owner by default."""
        return self.ws.users[request.scope.get("state", {}).get("missive_user", self.ws.owner_id)]

    # Analytics ---------------------------------------------------------------------------------

    async def create_report(self, request: Request) -> Response:
        item = _envelope_object(await _json(request), "reports")
        check("CreateAnalyticsReportRequest", item, "reports")
        if not is_uuid(item["organization"]):
            raise Refused("'organization' must be a UUID")
        if item["organization"] not in self.ws.owner.organization_ids:
            raise Refused("Invalid resource ID(s)")
        if item["start"] >= item["end"]:
            raise Refused("'start' must be before 'end'")
        report_id = new_id()
        ready_at = self.reports.clock() + self.reports.delay
        data = build_report(self.ws, report_id, item)
        self.ws.reports[report_id] = Report(report_id, data, ready_at, ready_at + self.reports.ttl)
        return JSONResponse({"reports": {"id": report_id}})

    async def get_report(self, request: Request) -> Response:
        report = self.ws.reports.get(request.path_params["id"])
        now = self.reports.clock()
        # Pending, expired and unknown reports all answer the same empty 404.
        if report is None or not report.ready_at <= now < report.expires_at:
            raise Missing(request.path_params["id"])
        return JSONResponse({"reports": report.data})


# Paging ------------------------------------------------------------------------------------------


def page_until(items: Sequence[T], stamp: Callable[[T], int], until: int | None, limit: int) -> list[T]:
    """A cursor page of newest-first `items`, as the live API cuts it.

    `until` includes its boundary, and a full page is extended with every further item sharing the last one's
    timestamp, so a page may hold more than `limit` items and boundary items come back on the next page.
    """
    eligible = [item for item in items if until is None or stamp(item) <= until]
    page = eligible[:limit]
    if len(page) == limit and page:
        boundary = stamp(page[-1])
        page += takewhile(lambda item: stamp(item) == boundary, eligible[limit:])
    return page


def _offset_page(query: Mapping[str, str], items: Sequence[T]) -> Sequence[T]:
    limit = _limit(query, default=50, low=1, high=200)
    offset = _integer(query, "offset") or 0
    if offset < 0:
        raise Refused("'offset' must be positive")
    return items[offset : offset + limit]


# Reading requests --------------------------------------------------------------------------------


def _answering(handler: Handler, style: Style) -> Handler:
    """Turn the workspace's refusals into the route's error bodies."""

    async def endpoint(request: Request) -> Response:
        try:
            return await handler(request)
        except Missing:
            return empty(404)
        except (Refused, BodyError) as exc:
            return error(400, str(exc), style)
        except TooLarge:
            return error(413, "Request Entity Too Large", style)

    return endpoint


def _flag(query: Mapping[str, str], name: str) -> bool:
    return query.get(name, "").lower() in ("true", "1")


def _integer(query: Mapping[str, str], name: str) -> int | None:
    value = query.get(name)
    if value is None or value == "":
        return None
    try:
        return int(value)
    except ValueError:
        raise Refused(f"'{name}' must be an integer") from None


def _limit(query: Mapping[str, str], *, default: int, low: int, high: int) -> int:
    limit = _integer(query, "limit")
    if limit is None:
        return default
    if limit < low:
        raise Refused(f"min 'limit' value is {low}")
    if limit > high:
        raise Refused(f"max 'limit' value is {high}")
    return limit


def _ids(request: Request) -> list[str]:
    raw: str = request.path_params["ids"]
    return [part for part in raw.split(",") if part]


async def _json(request: Request) -> Any:
    raw = await request.body()
    if len(raw) > MAX_BODY_BYTES:
        raise TooLarge
    if not raw.strip():
        return None
    try:
        return json.loads(raw)
    except ValueError:
        raise Refused("There was a problem in the JSON you submitted") from None


def _envelope(body: Any, key: str) -> Any:
    """The value under the live envelope `key`; a flat body, or anything beside the envelope, is refused."""
    if not is_object(body) or body.get(key) in (None, {}, []):
        raise Refused(f"param is missing or the value is empty: {key}")
    extra = sorted(set(body) - {key})
    if extra:
        raise Refused(f"Unknown field '{extra[0]}' beside '{key}'")
    return body[key]


def _envelope_object(body: Any, key: str) -> dict[str, Any]:
    value = _envelope(body, key)
    if not is_object(value):
        raise Refused(f"'{key}' must be an object")
    return value


def _envelope_list(body: Any, key: str) -> list[dict[str, Any]]:
    value = _envelope(body, key)
    if not isinstance(value, list):
        raise Refused(f"'{key}' must be an array of objects")
    items = cast(list[object], value)  # checked just above: a list, of JSON values
    objects = [item for item in items if is_object(item)]
    if len(objects) != len(items):
        raise Refused(f"'{key}' must be an array of objects")
    return objects


def _items_for(body: Any, key: str, ids: list[str], schema: str) -> list[dict[str, Any]]:
    """A bulk update's objects in the order of the URL's ids: exactly one per id, each carrying its id."""
    items = _envelope_list(body, key)
    for index, item in enumerate(items):
        check(schema, item, f"{key}[{index}]")
    by_id = {item["id"]: item for item in items}
    if len(by_id) != len(items) or set(by_id) != set(ids) or len(ids) != len(set(ids)):
        raise Refused("Invalid resource ID(s)")
    return [by_id[item_id] for item_id in ids]


def _changes(item: Mapping[str, Any]) -> dict[str, Any]:
    """The conversation changes a draft, message or post carries, in PATCH /conversations terms."""
    changes = {key: item[key] for key in _CHANGE_FIELDS if key in item}
    if "conversation_subject" in item:
        changes["subject"] = item["conversation_subject"]
    if "conversation_color" in item:
        changes["color"] = item["conversation_color"]
    return changes


def _patched(item: Mapping[str, Any]) -> dict[str, Any]:
    """The changes one PATCH /conversations item asks for; `conversation_color` is an alias of `color`."""
    changes = {key: value for key, value in item.items() if key not in ("id", "conversation_color")}
    if "conversation_color" in item:
        changes.setdefault("color", item["conversation_color"])
    return changes


def _is_time_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def _denied(message: str) -> Response:
    """The file host's refusal (S3-style XML): what an expired or altered pre-signed link gets."""
    body = f"<Error><Code>AccessDenied</Code><Message>{message}</Message></Error>"
    return Response(body, status_code=403, media_type="application/xml")
