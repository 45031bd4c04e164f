"""Conversation tools against the fake Missive: the request that reached it, and what the agent got."""

from __future__ import annotations

from typing import Any

import pytest
from mcp import Client

from missive_mcp.sandbox import (
    DEMO_BILLING_TEAM_ID,
    DEMO_CONVERSATION_ID,
    DEMO_LABEL_IDS,
    DEMO_ORG_ID,
    DEMO_USER_ID,
    FakeMissive,
)
from missive_mcp.sandbox.seed import seed_id

from .conftest import call, fail

pytestmark = pytest.mark.anyio


async def test_listing_without_a_mailbox_filter_names_the_filters_and_sends_nothing(
    mcp: Client, fake: FakeMissive
) -> None:
    text = await fail(mcp, "list_conversations")
    assert "inbox=true" in text and "team_inbox" in text and "list_teams" in text
    assert fake.requests == []


async def test_list_conversations_sends_the_filters_and_returns_a_cursor(mcp: Client, fake: FakeMissive) -> None:
    page = await call(mcp, "list_conversations", all=True, limit=5)
    request = fake.requests[-1]
    assert (request.method, request.path) == ("GET", "/v1/conversations")
    assert request.query["all"] == "true" and request.query["limit"] == "5"
    assert "until" not in request.query and "inbox" not in request.query
    # Five came back; the oldest is held back for the next page (its timestamp may be shared), which starts there.
    assert [(c["id"], c["last_activity_at"]) for c in page["conversations"]] == [
        (DEMO_CONVERSATION_ID, 1795191000),
        ("6d685a74-25f2-503f-a840-8b82cec7baea", 1795188300),
        ("e4072a6f-9dfe-58dc-a2f8-d7525401fda5", 1795177800),
        ("4dc0992c-d28a-59e9-a72d-09874b25beb4", 1795162320),
    ]
    assert page["has_more"] is True and page["next_until"] == 1795112400
    assert page["conversations"][0] == {
        "id": DEMO_CONVERSATION_ID,
        "latest_message_subject": "Re: Invoice #4821 charged twice",
        "last_activity_at": 1795191000,
        "messages_count": 4,
        "drafts_count": 1,
        "organization": {"id": DEMO_ORG_ID, "name": "Acme Support"},
        "team": {"id": DEMO_BILLING_TEAM_ID, "name": "Billing"},
        "assignees": [{"id": DEMO_USER_ID, "name": "Maya Chen", "email": "maya@acme.example"}],
        "shared_labels": [
            {"id": DEMO_LABEL_IDS["Billing"], "name": "Billing"},
            {"id": DEMO_LABEL_IDS["VIP"], "name": "VIP"},
        ],
        "users": [
            {"id": DEMO_USER_ID, "name": "Maya Chen", "assigned": True, "flagged": True},
            {"id": seed_id("user", "priya"), "name": "Priya Raman", "flagged": True},
            {"id": seed_id("user", "tom"), "name": "Tom Okafor", "flagged": True},
        ],
        "authors": [
            {"name": "Dana Scully", "address": "dana.scully@globex.example"},
            {"name": "Acme Support", "address": "support@acme.example"},
        ],
    }


async def test_contact_filters_exclude_each_other(mcp: Client, fake: FakeMissive) -> None:
    text = await fail(mcp, "list_conversations", inbox=True, email="a@b.com", domain="b.com")
    assert "exclude each other" in text and fake.requests == []


async def test_paging_returns_every_conversation_exactly_once_across_tied_timestamps(mcp: Client) -> None:
    everything = await call(mcp, "list_conversations", all=True, limit=50, max_results=200)
    assert everything["has_more"] is False
    expected = [c["id"] for c in everything["conversations"]]
    stamps = [c["last_activity_at"] for c in everything["conversations"]]
    assert len(set(expected)) == len(expected)
    assert max(stamps.count(s) for s in stamps) >= 3, "the fake must hold a run of tied timestamps"
    seen: list[str] = []
    until = None
    for _ in range(200):
        page = await call(mcp, "list_conversations", all=True, limit=2, **({"until": until} if until else {}))
        seen.extend(c["id"] for c in page["conversations"])
        if not page["has_more"]:
            break
        until = page["next_until"]
    assert sorted(seen) == sorted(expected)
    assert len(seen) == len(set(seen))


async def test_max_results_collects_full_pages_and_its_cursor_resumes_without_gaps(
    mcp: Client, fake: FakeMissive
) -> None:
    everything = await call(mcp, "list_conversations", all=True, limit=50, max_results=200)
    expected = [c["id"] for c in everything["conversations"]]
    fake.requests.clear()
    seen: list[str] = []
    oversized: list[list[int]] = []
    until = None
    for _ in range(50):
        page = await call(
            mcp, "list_conversations", all=True, limit=5, max_results=7, **({"until": until} if until else {})
        )
        if len(page["conversations"]) > 7:
            oversized.append([c["last_activity_at"] for c in page["conversations"]])
        seen.extend(c["id"] for c in page["conversations"])
        if not page["has_more"]:
            break
        until = page["next_until"]
    assert seen == expected  # the same order, nothing repeated, nothing skipped
    limits = [int(r.query["limit"]) for r in fake.requests if r.path == "/v1/conversations"]
    assert min(limits) >= 5, limits  # never a page smaller than the caller's limit
    # More than max_results only for one run of tied timestamps, served whole rather than split.
    assert all(len(set(stamps)) == 1 for stamps in oversized), oversized


async def test_get_conversation_unwraps_the_list_shaped_answer(mcp: Client, fake: FakeMissive) -> None:
    listed = await call(mcp, "list_conversations", inbox=True, limit=2)
    wanted = listed["conversations"][0]["id"]
    got = await call(mcp, "get_conversation", conversation_id=wanted)
    assert got["conversation"]["id"] == wanted
    assert fake.requests[-1].path == f"/v1/conversations/{wanted}"


UNKNOWN = "00000000-0000-4000-8000-000000000000"


@pytest.mark.parametrize(
    ("tool", "arguments", "lister"),
    [
        ("get_conversation", {"conversation_id": UNKNOWN}, "list_conversations"),
        ("list_conversation_comments", {"conversation_id": UNKNOWN}, "list_conversations"),
        ("get_messages", {"message_ids": [UNKNOWN]}, "read_conversation"),
        ("delete_draft", {"draft_id": UNKNOWN}, "list_conversation_drafts"),
        ("get_contact", {"contact_id": UNKNOWN}, "list_contacts"),
        ("list_contacts", {"contact_book": UNKNOWN}, "list_contact_books"),
    ],
)
async def test_an_unknown_id_is_named_with_the_tool_that_lists_real_ones(
    mcp: Client, tool: str, arguments: dict[str, Any], lister: str
) -> None:
    text = await fail(mcp, tool, **arguments)
    assert UNKNOWN in text and "not found" in text and lister in text, text


async def test_an_id_cannot_reach_another_path(mcp: Client, fake: FakeMissive) -> None:
    for bad in ("../contacts", "a/b?x=1", "x%2F..", " "):
        text = await fail(mcp, "get_conversation", conversation_id=bad)
        assert "conversation_id" in text
    assert fake.requests == []


async def test_update_conversation_sends_one_enveloped_item_per_id(mcp: Client, fake: FakeMissive) -> None:
    listed = await call(mcp, "list_conversations", inbox=True, limit=3)
    ids = [c["id"] for c in listed["conversations"][:2]]
    result = await call(mcp, "update_conversation", conversation_ids=ids, close=True)
    request = fake.requests[-1]
    assert (request.method, request.path) == ("PATCH", f"/v1/conversations/{ids[0]},{ids[1]}")
    assert request.body == {"conversations": [{"id": ids[0], "close": True}, {"id": ids[1], "close": True}]}
    assert {c["id"] for c in result["conversations"]} == set(ids)


async def test_adding_a_label_without_its_organization_says_where_to_find_it(mcp: Client, fake: FakeMissive) -> None:
    text = await fail(mcp, "update_conversation", conversation_ids=["abc"], add_shared_labels=["lbl"])
    assert "organization" in text and "list_organizations" in text
    assert fake.requests == []


async def test_merge_moves_the_thread_and_the_old_id_resolves_to_the_target(mcp: Client, fake: FakeMissive) -> None:
    listed = await call(mcp, "list_conversations", all=True, limit=4)
    source, target = listed["conversations"][0]["id"], listed["conversations"][1]["id"]
    merged = await call(mcp, "merge_conversations", conversation_id=source, target=target)
    request = next(r for r in fake.requests if r.method == "POST")
    assert request.path == f"/v1/conversations/{source}/merge" and request.body == {"target": target}
    assert merged["conversation"]["id"] == target
    again = await call(mcp, "get_conversation", conversation_id=source)
    assert again["conversation"]["id"] == target


async def test_a_guest_view_of_a_conversation_is_read_as_fully_as_the_api_allows(mcp: Client) -> None:
    """As a guest, the live API shows a conversation as little more than its id and last activity."""
    listed = await call(mcp, "list_conversations", all=True, limit=50, max_results=200, response_format="detailed")
    guests = [c for c in listed["conversations"] if set(c) == {"id", "last_activity_at"}]
    assert len(guests) == 1, "the demo workspace holds one conversation seen as a guest"
    thread = await call(mcp, "read_conversation", conversation_id=guests[0]["id"])
    assert thread["conversation"] == guests[0]
    assert "42 new accounts" in thread["entries"][0]["body"]
    for response_format in ("concise", "detailed"):
        got = await call(mcp, "get_conversation", conversation_id=guests[0]["id"], response_format=response_format)
        assert got["conversation"] == guests[0]


SOME_ID = "7d1e5b0a-0000-4000-8000-00000000000a"
"""An id (not a name) of a user or label: the rules are checked before anything is sent."""


@pytest.mark.parametrize(
    ("arguments", "named"),
    [
        ({"add_assignees": [SOME_ID]}, "`add_assignees` needs `organization`"),
        ({"add_users": [SOME_ID]}, "`add_users` needs `organization`"),
        ({"remove_assignees": [SOME_ID]}, "`remove_assignees` needs `organization`"),
        ({"add_shared_labels": [SOME_ID]}, "`add_shared_labels` needs `organization`"),
        ({"add_to_team_inbox": True}, "`add_to_team_inbox` needs `team`"),
        ({"close": True, "reopen": True}, "`close` and `reopen` exclude each other"),
    ],
)
async def test_missive_rules_are_checked_before_any_request_naming_the_field(
    mcp: Client, fake: FakeMissive, arguments: dict[str, Any], named: str
) -> None:
    text = await fail(mcp, "update_conversation", conversation_ids=["c1"], **arguments)
    assert named in text and "nothing was sent" in text.lower()
    assert fake.requests == []


async def test_a_team_change_with_its_inbox_reaches_missive_as_a_boolean_beside_the_team(
    mcp: Client, fake: FakeMissive
) -> None:
    conversation_id = (await call(mcp, "list_conversations", inbox=True, limit=2))["conversations"][0]["id"]
    team = (await call(mcp, "list_teams"))["teams"][0]["id"]
    await call(
        mcp,
        "update_conversation",
        conversation_ids=[conversation_id],
        team=team,
        force_team=True,
        add_to_team_inbox=True,
    )
    item = fake.requests[-1].body["conversations"][0]
    assert item == {"id": conversation_id, "team": team, "force_team": True, "add_to_team_inbox": True}


async def test_a_list_without_a_mailbox_names_no_argument_it_did_not_get(mcp: Client, fake: FakeMissive) -> None:
    text = await fail(mcp, "list_conversations")
    assert "Invalid arguments: give at least one mailbox filter: one of inbox=true" in text
    assert "`inbox`" not in text and fake.requests == []


async def test_a_url_of_the_wrong_form_is_refused_without_the_raw_pattern(mcp: Client, fake: FakeMissive) -> None:
    text = await fail(mcp, "create_webhook", type="incoming_email", url="http://hooks.example.com/x")
    assert "`url`: does not have the form its description asks for" in text and "^https" not in text
    assert fake.requests == []
