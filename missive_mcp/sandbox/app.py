"""The routes of the fake Missive API under /v1, answering with the live API's envelopes, statuses and errors.

Error bodies vary as they do live: each route answers its 400s either as `{"error": "text"}` (FLAT) or as
`{"error": {"message": "text"}}` (NESTED), and a 404 for anything the URL names carries no body at all. Ids
named in a request body that do not exist answer 400 "Invalid resource ID(s)".
"""

from __future__ import annotations

import base64
import binascii
import enum
import json
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from itertools import takewhile
from typing import Any, TypeVar

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from . import render
from .analytics import build_report
from .spec import BodyError, check
from .workspace import (
    BOXES,
    Contact,
    Conversation,
    ConversationFilter,
    Mailbox,
    Message,
    Missing,
    Post,
    Refused,
    Report,
    Workspace,
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
    "close",
)


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
        return [
            Route("/v1" + path, _answering(handler, style), methods=[method]) for method, path, handler, style in table
        ]

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
        changes = [{key: value for key, value in item.items() if key != "id"} | {"force_team": True} for item in items]
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
        if not isinstance(body, dict):
            raise Refused("param is missing or the value is empty: target")
        check("MergeConversationRequest", body, "")
        target = self._referenced_conversation(body["target"])
        if target is source:
            raise Refused("A conversation cannot be merged into itself")
        self.ws.merge(source, target, body.get("subject"))
        return JSONResponse({"conversations": [render.conversation(self.ws, target)]})

    # Messages, drafts, posts -------------------------------------------------------------------

    async def find_messages(self, request: Request) -> Response:
        wanted = (request.query_params.get("email_message_id") or "").strip().strip("<>")
        if not wanted:
            raise Refused("'email_message_id' is required")
        found = [m for m in self.ws.messages.values() if (m.email_message_id or "").strip("<>") == wanted]
        return JSONResponse({"messages": [render.message(self.ws, m) for m in found]})

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
        attachments, changes = _attachments(item), _changes(item)
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
        sender, attachments, changes = self._sender(item), _attachments(item), _changes(item)
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
        conversation = self._conversation_for(item, None)
        changes = _changes(item)
        self._prepare(conversation, changes)
        post = Post(
            id=new_id(),
            conversation_id=conversation.id,
            created_at=self.ws.now(),
            text=item.get("text"),
            markdown=item.get("markdown"),
            username=item.get("username"),
            username_icon=item.get("username_icon"),
            notification=item["notification"],
            attachments=item.get("attachments", []),
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
        return empty(204)

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
        return Conversation(new_id(), organization_id, created_at=now, users={self.ws.owner_id: Mailbox()})

    def _prepare(self, conversation: Conversation, changes: Mapping[str, Any]) -> None:
        """Check a write's conversation changes, then keep the conversation if it is new."""
        self.ws.check_changes(conversation, changes)
        self.ws.conversations.setdefault(conversation.id, conversation)

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
    if not isinstance(body, dict) or body.get(key) in (None, {}, []):
        raise Refused(f"param is missing or the value is empty: {key}")
    extra = sorted(set(body) - {key})
    if extra:
        raise Refused(f"Unknown field '{extra[0]}' beside '{key}'")
    return body[key]


def _envelope_object(body: Any, key: str) -> dict[str, Any]:
    value = _envelope(body, key)
    if not isinstance(value, dict):
        raise Refused(f"'{key}' must be an object")
    return value


def _envelope_list(body: Any, key: str) -> list[dict[str, Any]]:
    value = _envelope(body, key)
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise Refused(f"'{key}' must be an array of objects")
    return value


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
    if item.get("add_to_team_inbox"):
        if not item.get("team"):
            raise Refused("'team' is required when 'add_to_team_inbox' is defined")
        changes["add_to_team_inbox"] = item["team"]
    return changes


def _attachments(item: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Uploaded files as the live API describes them afterwards."""
    stored = []
    for upload in item.get("attachments", []):
        filename = upload.get("filename") or "attachment"
        try:
            size = len(base64.b64decode(upload.get("base64_data", ""), validate=True))
        except (binascii.Error, ValueError):
            raise Refused(f"Attachment '{filename}' is not valid base64") from None
        extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
        media_type, sub_type = _MEDIA_TYPES.get(extension, ("application", "octet-stream"))
        stored.append(
            {
                "id": new_id(),
                "filename": filename,
                "extension": extension,
                "media_type": media_type,
                "sub_type": sub_type,
                "size": size,
                "width": None,
                "height": None,
            }
        )
    return stored


_MEDIA_TYPES = {
    "png": ("image", "png"),
    "jpg": ("image", "jpeg"),
    "jpeg": ("image", "jpeg"),
    "gif": ("image", "gif"),
    "pdf": ("application", "pdf"),
    "txt": ("text", "plain"),
    "csv": ("text", "csv"),
}
