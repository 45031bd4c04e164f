"""Annotations that tell the truth (issue 11, item 5): each tool is called against the fake with valid arguments,
and what it sends decides what its annotations must say.

- readOnlyHint is true exactly for the tools whose every request is a SAFE row of the endpoint table (reads, and
  the report creation that changes nothing a person sees);
- destructiveHint is true exactly for the tools that send a DELETE, a merge, or a body that removes something
  (`remove_*`) or replaces a whole set (a PATCH of `assignees`, members, labels, contact infos...);
- idempotentHint is false for tools that only create (UNSAFE POSTs), true for tools that only PATCH or DELETE.

Every tool of `server.TOOLS` needs a row below, and each row must use every argument of its tool that removes or
replaces data, so a row cannot dodge the check by leaving the dangerous argument out.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from mcp import Client

from missive_mcp import endpoints
from missive_mcp.endpoints import Endpoint, Retry
from missive_mcp.sandbox import (
    DEMO_ACCOUNT_ID,
    DEMO_CLOSED_CONVERSATION_ID,
    DEMO_CONTACT_BOOK_ID,
    DEMO_CONTACT_ID,
    DEMO_CONVERSATION_ID,
    DEMO_DRAFT_ID,
    DEMO_LABEL_IDS,
    DEMO_MESSAGE_ID,
    DEMO_ORG_ID,
    DEMO_PDF_ATTACHMENT_ID,
    DEMO_POST_ID,
    DEMO_RESPONSE_ID,
    DEMO_TASK_ID,
    DEMO_TEAM_ID,
    DEMO_USER_ID,
    FakeMissive,
    RecordedRequest,
)
from missive_mcp.server import TOOLS, build_tool, create_server

from .conftest import settings_for

pytestmark = pytest.mark.anyio

BUG, BILLING = DEMO_LABEL_IDS["Bug"], DEMO_LABEL_IDS["Billing"]
HOOK = {"type": "incoming_email", "url": "https://hooks.example.com/m"}

ROWS: dict[str, dict[str, Any]] = {
    "read_conversation": {"conversation_id": DEMO_CONVERSATION_ID},
    "list_conversations": {"inbox": True},
    "get_conversation": {"conversation_id": DEMO_CONVERSATION_ID},
    "update_conversation": {
        "conversation_ids": [DEMO_CONVERSATION_ID],
        "organization": DEMO_ORG_ID,
        "remove_assignees": [DEMO_USER_ID],
        "remove_shared_labels": [BUG],
    },
    "merge_conversations": {"conversation_id": DEMO_CLOSED_CONVERSATION_ID, "target": DEMO_CONVERSATION_ID},
    "list_conversation_messages": {"conversation_id": DEMO_CONVERSATION_ID},
    "list_conversation_comments": {"conversation_id": DEMO_CONVERSATION_ID},
    "list_conversation_drafts": {"conversation_id": DEMO_CONVERSATION_ID},
    "list_conversation_posts": {"conversation_id": DEMO_CONVERSATION_ID},
    "get_messages": {"message_ids": [DEMO_MESSAGE_ID]},
    "find_message": {"email_message_id": "<double-charge.0@globex.example>"},
    "reply_to_conversation": {"conversation_id": DEMO_CONVERSATION_ID, "body": "Thanks", "reply_all": True},
    "get_attachment": {"message_id": DEMO_MESSAGE_ID, "attachment_id": DEMO_PDF_ATTACHMENT_ID},
    "create_draft": {"conversation": DEMO_CONVERSATION_ID, "body": "Hello"},
    "delete_draft": {"draft_id": DEMO_DRAFT_ID},
    "list_responses": {"organization": DEMO_ORG_ID},
    "get_response": {"response_id": DEMO_RESPONSE_ID},
    "create_post": {
        "conversation": DEMO_CONVERSATION_ID,
        "text": "Checked",
        "organization": DEMO_ORG_ID,
        "remove_assignees": [DEMO_USER_ID],
        "remove_shared_labels": [BUG],
    },
    "delete_post": {"post_id": DEMO_POST_ID},
    "list_tasks": {"state": "todo"},
    "get_task": {"task_id": DEMO_TASK_ID},
    "create_task": {"title": "Call back", "conversation": DEMO_CONVERSATION_ID},
    "update_task": {"task_id": DEMO_TASK_ID, "assignees": [DEMO_USER_ID]},
    "create_message": {
        "account": DEMO_ACCOUNT_ID,
        "from_field": {"id": "u-1", "name": "Ada"},
        "to_fields": [{"id": "support"}],
        "body": "Hi",
    },
    "list_contacts": {"contact_book": DEMO_CONTACT_BOOK_ID},
    "get_contact": {"contact_id": DEMO_CONTACT_ID},
    "create_contact": {"contact_book": DEMO_CONTACT_BOOK_ID, "first_name": "Grace"},
    "update_contact": {
        "contact_ids": [DEMO_CONTACT_ID],
        "infos": [{"kind": "email", "value": "grace@example.com"}],
        "memberships": [],
    },
    "list_contact_books": {},
    "list_contact_groups": {"contact_book": DEMO_CONTACT_BOOK_ID, "kind": "group"},
    "list_organizations": {},
    "list_users": {},
    "list_teams": {},
    "list_shared_labels": {},
    "create_analytics_report": {"organization": DEMO_ORG_ID, "start": 1, "end": 2},
    "get_analytics_report": {"report_id": "PREPARED"},
    "create_response": {"title": "Thanks", "body": "Thank you!", "organization": DEMO_ORG_ID},
    "update_response": {"response_ids": [DEMO_RESPONSE_ID], "shared_labels": [BILLING]},
    "delete_response": {"response_ids": [DEMO_RESPONSE_ID]},
    "create_shared_label": {"name": "Escalated", "organization": DEMO_ORG_ID},
    "update_shared_label": {"label_ids": [BUG], "share_with_users": [DEMO_USER_ID]},
    "create_team": {"name": "Night shift", "organization": DEMO_ORG_ID},
    "update_team": {"team_ids": [DEMO_TEAM_ID], "active_members": [DEMO_USER_ID], "observers": []},
    "create_webhook": HOOK,
    "delete_webhook": {"webhook_id": "PREPARED"},
    "watch_inbox": {"wait": 0},
}
"""Valid arguments for every tool; PREPARED ids come from a call made first (see `prepare`)."""

REMOVES = {"remove_assignees", "remove_shared_labels"}
"""Fields that take something away, whatever the method."""
REPLACES_ON_PATCH = {
    *("assignees", "active_members", "observers", "shared_labels", "share_with_users"),
    *("infos", "memberships", "attachments"),
}
"""Fields whose list replaces the whole set when sent in an update (missive-api-addendum.md)."""
ROUTES: list[Endpoint] = [row for row in vars(endpoints).values() if isinstance(row, Endpoint)]


async def prepare(client: Client, tool: str) -> dict[str, Any]:
    arguments = dict(ROWS[tool])
    if tool == "get_analytics_report":
        report = await client.call_tool("create_analytics_report", ROWS["create_analytics_report"])
        arguments["report_id"] = (report.structured_content or {})["report_id"]
    if tool == "delete_webhook":
        hook = await client.call_tool("create_webhook", HOOK)
        arguments["webhook_id"] = (hook.structured_content or {})["webhook"]["id"]
    return arguments


def route(request: RecordedRequest) -> Endpoint:
    """The endpoint-table row a request reached Missive through."""
    if request.method == "GET" and request.path.startswith("/files/"):  # the pre-signed URL on the file host
        return endpoints.download_attachment
    path = request.path.removeprefix("/v1/")
    for row in ROUTES:
        pattern = "^" + re.escape(row.path).replace(re.escape("{id}"), "[^/]+") + "$"
        if row.method == request.method and re.match(pattern, path):
            return row
    raise AssertionError(f"{request.method} {request.path} matches no row of endpoints.py")


def items(body: Any) -> list[dict[str, Any]]:
    """The objects of a request body, out of their envelope."""
    inner = next(iter(body.values())) if isinstance(body, dict) and len(body) == 1 else body
    found = inner if isinstance(inner, list) else [inner]
    return [item for item in found if isinstance(item, dict)]


def takes_away(request: RecordedRequest) -> bool:
    """Whether this request removes or replaces data."""
    if request.method == "DELETE" or request.path.endswith("/merge"):
        return True
    keys = {key for item in items(request.body) for key in item}
    return bool(keys & REMOVES) or (request.method == "PATCH" and bool(keys & REPLACES_ON_PATCH))


def test_every_tool_has_a_row() -> None:
    assert sorted(ROWS) == sorted(tool.name for tool in TOOLS)


@pytest.mark.parametrize("spec", TOOLS, ids=[tool.name for tool in TOOLS])
def test_each_row_uses_every_argument_that_removes_or_replaces(spec: Any) -> None:
    arguments = set(build_tool(spec).parameters["properties"])
    updates = spec.name.startswith("update_")
    dangerous = arguments & (REMOVES | (REPLACES_ON_PATCH if updates else set()))
    assert dangerous <= set(ROWS[spec.name]), f"{spec.name}: its row must use {sorted(dangerous)}"


@pytest.mark.parametrize("spec", TOOLS, ids=[tool.name for tool in TOOLS])
async def test_annotations_match_what_the_tool_sends(spec: Any) -> None:
    fake = FakeMissive(report_delay=0.0)
    async with Client(create_server(settings_for(fake, allow_send=True), transport=fake.transport())) as client:
        arguments = await prepare(client, spec.name)
        first = len(fake.requests)
        result = await client.call_tool(spec.name, arguments)
    assert not result.is_error, result.content
    requests = fake.requests[first:]
    assert requests, f"{spec.name} sent nothing"
    rows = [route(request) for request in requests]
    hints = spec.annotations
    changes_nothing = all(row.retry is Retry.SAFE for row in rows)
    assert hints.read_only_hint is changes_nothing, [f"{r.method} {r.path}" for r in requests]
    if changes_nothing:
        return
    assert hints.destructive_hint is any(takes_away(r) for r in requests), [
        (r.method, r.path, r.body) for r in requests
    ]
    if all(row.retry is Retry.UNSAFE for row in rows):
        assert hints.idempotent_hint is False
    if all(row.retry is Retry.IDEMPOTENT for row in rows):
        assert hints.idempotent_hint is True
