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
    Fault,
)
from missive_mcp.sandbox.seed import seed_bulk, seed_id
from missive_mcp.sandbox.workspace import ConversationFilter, Organization
from missive_mcp.server import create_server

from .conftest import call, fail, settings_for

pytestmark = pytest.mark.anyio


async def test_listing_without_a_mailbox_filter_names_the_filters_and_sends_nothing(
    mcp: Client, fake: FakeMissive
) -> None:
    text = await fail(mcp, "list_conversations")
    assert "inbox=true" in text and "team_inbox" in text and "list_teams" in text
    assert fake.requests == []


async def test_list_conversations_sends_the_filters_and_returns_a_cursor(mcp: Client, fake: FakeMissive) -> None:
    page = await call(mcp, "list_conversations", all=True, limit=5)
    request = next(r for r in fake.requests if r.path == "/v1/conversations")
    assert request.method == "GET"
    # One more than asked: the sixth shows no tie crosses the edge, so all five are served and the next page
    # starts at the sixth's timestamp.
    assert request.query["all"] == "true" and request.query["limit"] == "6"
    assert "until" not in request.query and "inbox" not in request.query
    assert [(c["id"], c["last_activity_at"]) for c in page["conversations"]] == [
        (DEMO_CONVERSATION_ID, 1795191000),
        ("6d685a74-25f2-503f-a840-8b82cec7baea", 1795188300),
        ("e4072a6f-9dfe-58dc-a2f8-d7525401fda5", 1795177800),
        ("4dc0992c-d28a-59e9-a72d-09874b25beb4", 1795162320),
        (page["conversations"][4]["id"], 1795112400),
    ]
    assert page["has_more"] is True and page["next_until"] < 1795112400
    resumed = await call(mcp, "list_conversations", all=True, limit=5, until=page["next_until"])
    assert not {c["id"] for c in resumed["conversations"]} & {c["id"] for c in page["conversations"]}


async def test_a_listing_names_people_teams_and_labels_and_keeps_only_what_triage_needs(
    mcp: Client, fake: FakeMissive
) -> None:
    page = await call(mcp, "list_conversations", all=True, limit=5)
    assert page["conversations"][0] == {
        "id": DEMO_CONVERSATION_ID,
        "subject": "Re: Invoice #4821 charged twice",
        "authors": ["Dana Scully", "Acme Support"],
        "shared_labels": ["Billing", "VIP"],
        "assignees": ["Maya Chen"],
        "team": "Billing",
        "last_activity_at": 1795191000,
        "messages_count": 4,
        "drafts_count": 1,
        "tasks_count": 2,
    }
    # One organization behind the token: no item names it.
    assert not any("organization" in c for c in page["conversations"])
    assert all(set(c) >= {"id", "last_activity_at"} for c in page["conversations"])


async def test_a_second_organization_behind_the_token_is_named_on_each_item(fake: FakeMissive) -> None:
    ws = fake.workspace
    ws.organizations["org-2"] = Organization(id="org-2", name="Globex Partners")
    ws.owner.organization_ids.append("org-2")
    async with Client(create_server(settings_for(fake), transport=fake.transport())) as fresh:
        two = await call(fresh, "list_conversations", all=True, limit=5)
    assert {c["organization"] for c in two["conversations"]} == {"Acme Support"}


async def test_when_the_organizations_cannot_be_read_each_item_names_its_own(mcp: Client, fake: FakeMissive) -> None:
    fake.faults.append(Fault(status=403, body=b'{"error": "no"}', path_prefix="/organizations"))
    page = await call(mcp, "list_conversations", all=True, limit=5)
    assert [c["organization"] for c in page["conversations"]] == ["Acme Support"] * 5


async def test_detail_full_keeps_ids_and_objects(mcp: Client, fake: FakeMissive) -> None:
    page = await call(mcp, "list_conversations", all=True, limit=5, detail="full")
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
    everything = await call(mcp, "list_conversations", all=True, limit=5, detail="all")
    assert everything["conversations"][0]["web_url"].endswith(DEMO_CONVERSATION_ID)
    assert not [r for r in fake.requests if r.path == "/v1/organizations"]  # ids need no directory


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


async def test_adding_a_label_without_its_organization_says_where_to_find_it(fake: FakeMissive) -> None:
    """With two organizations behind the token, which one is meant cannot be guessed."""
    fake.workspace.organizations["org-2"] = Organization(id="org-2", name="Globex Partners")
    fake.workspace.owner.organization_ids.append("org-2")
    async with Client(create_server(settings_for(fake), transport=fake.transport())) as two:
        text = await fail(two, "update_conversation", conversation_ids=["abc"], add_shared_labels=["lbl"])
    assert "organization" in text and "list_organizations" in text
    assert [(r.method, r.path) for r in fake.requests] == [("GET", "/v1/organizations")]


async def test_a_lean_item_is_assigned_and_labelled_by_name_within_the_tokens_only_organization(
    mcp: Client, fake: FakeMissive
) -> None:
    """A lean listing leaves the organization out when there is one; acting on an item needs no lookup."""
    item = (await call(mcp, "list_conversations", all=True, limit=2))["conversations"][0]
    assert "organization" not in item
    await call(
        mcp,
        "update_conversation",
        conversation_ids=[item["id"]],
        add_assignees=["Maya Chen"],
        add_shared_labels=["VIP"],
    )
    body = fake.requests[-1].body["conversations"][0]
    assert fake.requests[-1].method == "PATCH" and body["organization"] == DEMO_ORG_ID
    users = {u.name: u.id for u in fake.workspace.users.values()}
    labels = {lbl.name: lbl.id for lbl in fake.workspace.shared_labels.values()}
    assert body["add_assignees"] == [users["Maya Chen"]] and body["add_shared_labels"] == [labels["VIP"]]


async def test_an_organization_may_be_given_by_its_name(mcp: Client, fake: FakeMissive) -> None:
    await call(
        mcp,
        "update_conversation",
        conversation_ids=[DEMO_CONVERSATION_ID],
        organization="Acme Support",
        add_shared_labels=["VIP"],
    )
    assert fake.requests[-1].body["conversations"][0]["organization"] == DEMO_ORG_ID


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
    listed = await call(mcp, "list_conversations", all=True, limit=50, max_results=200, detail="all")
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
    fake: FakeMissive, arguments: dict[str, Any], named: str
) -> None:
    """With two organizations behind the token (with one, it is taken), only the organizations are read."""
    fake.workspace.organizations["org-2"] = Organization(id="org-2", name="Globex Partners")
    fake.workspace.owner.organization_ids.append("org-2")
    async with Client(create_server(settings_for(fake), transport=fake.transport())) as two:
        text = await fail(two, "update_conversation", conversation_ids=["c1"], **arguments)
    assert named in text and "nothing was sent" in text.lower()
    assert {(r.method, r.path) for r in fake.requests} <= {("GET", "/v1/organizations")}


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


# Exact pages --------------------------------------------------------------------------------------------------------


def bulk(fake: FakeMissive, count: int, ties: dict[int, int] | None = None) -> list[str]:
    """`count` conversations from customers at example.com, 10 minutes apart; `ties` gives some (by their
    position, newest first) another's timestamp. Their ids in the fake's order (newest first; ties its way)."""
    made = seed_bulk(fake.workspace, count, messages=1)
    for index, like in (ties or {}).items():
        made[index].last_activity_at = made[like].last_activity_at
    ordered = fake.workspace.find_conversations(ConversationFilter(boxes=frozenset({"inbox"}), domain="example.com"))
    assert sorted(c.id for c in ordered) == sorted(c.id for c in made)
    return [c.id for c in ordered]


async def page_through(mcp: Client, **arguments: Any) -> list[list[str]]:
    pages: list[list[str]] = []
    until = None
    for _ in range(100):
        page = await call(mcp, "list_conversations", **arguments, **({"until": until} if until else {}))
        pages.append([c["id"] for c in page["conversations"]])
        if not page["has_more"]:
            return pages
        until = page["next_until"]
    raise AssertionError("the listing never ended")


def listings(fake: FakeMissive) -> list[dict[str, str]]:
    return [r.query for r in fake.requests if r.path == "/v1/conversations"]


@pytest.mark.parametrize(
    "ties",
    [
        pytest.param({}, id="no ties"),
        pytest.param({23: 22, 24: 22}, id="a run ending at the edge"),
        pytest.param({26: 25, 27: 25}, id="a run starting right after the edge"),
    ],
)
async def test_a_page_answers_exactly_the_limit_in_one_request_when_no_tie_crosses_its_edge(
    mcp: Client, fake: FakeMissive, ties: dict[int, int]
) -> None:
    ids = bulk(fake, 30, ties)
    page = await call(mcp, "list_conversations", inbox=True, domain="example.com", limit=25)
    assert [c["id"] for c in page["conversations"]] == ids[:25]
    assert [q["limit"] for q in listings(fake)] == ["26"]
    rest = await call(mcp, "list_conversations", inbox=True, domain="example.com", until=page["next_until"])
    assert [c["id"] for c in rest["conversations"]] == ids[25:] and rest["has_more"] is False


async def test_a_run_of_ties_across_the_edge_is_held_back_whole_for_the_next_page(
    mcp: Client, fake: FakeMissive
) -> None:
    ids = bulk(fake, 30, {24: 23, 25: 23, 26: 23})  # the 24th to the 27th share one timestamp
    pages = await page_through(mcp, inbox=True, domain="example.com", limit=25)
    assert pages == [ids[:23], ids[23:]]
    assert [q.get("until") for q in listings(fake)][1] == str(fake.workspace.conversations[ids[23]].last_activity_at)


async def test_a_run_of_ties_bigger_than_the_page_is_served_whole_rather_than_never(
    mcp: Client, fake: FakeMissive
) -> None:
    ids = bulk(fake, 12, {index: 0 for index in range(1, 8)})  # the 8 newest share one timestamp
    pages = await page_through(mcp, inbox=True, domain="example.com", limit=5)
    assert pages[0] == ids[:8] and [i for page in pages for i in page] == ids


@pytest.mark.parametrize("ties", [{}, {23: 22, 24: 22}], ids=["no ties", "a run ending at the edge"])
async def test_max_results_answers_exactly_that_many(mcp: Client, fake: FakeMissive, ties: dict[int, int]) -> None:
    ids = bulk(fake, 60, ties)
    page = await call(mcp, "list_conversations", inbox=True, domain="example.com", limit=10, max_results=25)
    assert [c["id"] for c in page["conversations"]] == ids[:25] and page["has_more"] is True
    assert [q["limit"] for q in listings(fake)] == ["26"]


async def test_listing_a_thousand_conversations_in_pages_of_fifty_takes_at_most_22_requests(fake: FakeMissive) -> None:
    quiet = FakeMissive(report_delay=0.0, enforce_limits=False)
    ids = bulk(quiet, 1000)
    async with Client(create_server(settings_for(quiet), transport=quiet.transport())) as mcp:
        for arguments in ({"limit": 50}, {"limit": 50, "max_results": 200}):
            quiet.requests.clear()
            pages = await page_through(mcp, inbox=True, domain="example.com", **arguments)
            assert [i for page in pages for i in page] == ids  # in order, none repeated, none skipped
            assert len(listings(quiet)) <= 22, arguments
