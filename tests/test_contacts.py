"""Contacts, contact books and groups: offset paging, envelopes for bulk writes."""

from __future__ import annotations

import pytest
from mcp import Client

from missive_mcp.sandbox import FakeMissive

from .conftest import call, fail

pytestmark = pytest.mark.anyio


async def a_book(mcp: Client) -> str:
    books = await call(mcp, "list_contact_books")
    return books["contact_books"][0]["id"]


async def test_contacts_page_by_offset_without_gaps(mcp: Client, fake: FakeMissive) -> None:
    book = await a_book(mcp)
    everything = await call(mcp, "list_contacts", contact_book=book, limit=200)
    assert everything["has_more"] is False and len(everything["contacts"]) >= 4
    seen, offset = [], 0
    while True:
        page = await call(mcp, "list_contacts", contact_book=book, limit=3, offset=offset)
        assert fake.requests[-1].query == {"contact_book": book, "limit": "3", "offset": str(offset)}
        seen += [c["id"] for c in page["contacts"]]
        if not page["has_more"]:
            break
        offset = page["next_offset"]
    assert seen == [c["id"] for c in everything["contacts"]]


async def test_create_contact_sends_a_list_envelope(mcp: Client, fake: FakeMissive) -> None:
    book = await a_book(mcp)
    created = await call(
        mcp,
        "create_contact",
        contact_book=book,
        first_name="Grace",
        last_name="Hopper",
        infos=[{"kind": "email", "value": "grace@navy.example", "label": "work"}],
    )
    assert fake.requests[-1].body == {
        "contacts": [
            {
                "contact_book": book,
                "first_name": "Grace",
                "last_name": "Hopper",
                "infos": [{"kind": "email", "value": "grace@navy.example", "label": "work"}],
            }
        ]
    }
    contact_id = created["contacts"][0]["id"]
    got = await call(mcp, "get_contact", contact_id=contact_id)
    assert got["contact"]["first_name"] == "Grace" and got["contact"]["id"] == contact_id


async def test_update_contact_sends_one_item_per_id(mcp: Client, fake: FakeMissive) -> None:
    book = await a_book(mcp)
    listed = await call(mcp, "list_contacts", contact_book=book, limit=2)
    ids = [c["id"] for c in listed["contacts"]]
    updated = await call(mcp, "update_contact", contact_ids=ids, starred=True)
    request = fake.requests[-1]
    assert (request.method, request.path) == ("PATCH", f"/v1/contacts/{','.join(ids)}")
    assert request.body == {"contacts": [{"id": i, "starred": True} for i in ids]}
    assert all(c["starred"] for c in updated["contacts"])


async def test_contact_groups_need_a_kind_from_the_enum(mcp: Client, fake: FakeMissive) -> None:
    book = await a_book(mcp)
    groups = await call(mcp, "list_contact_groups", contact_book=book, kind="organization")
    assert fake.requests[-1].query["kind"] == "organization" and "contact_groups" in groups
    text = await fail(mcp, "list_contact_groups", contact_book=book, kind="company")
    assert "kind" in text


async def test_an_unknown_contact_is_named(mcp: Client) -> None:
    text = await fail(mcp, "get_contact", contact_id="deadbeef-0000-4000-8000-000000000000")
    assert "deadbeef-0000-4000-8000-000000000000" in text and "not found" in text


async def test_limits_are_enforced_before_a_request(mcp: Client, fake: FakeMissive) -> None:
    text = await fail(mcp, "list_contacts", contact_book="b", limit=500)
    assert "limit" in text and fake.requests == []
