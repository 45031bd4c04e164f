"""The ids a write needs: organizations, users, teams and shared labels, each offset-paged and filterable."""

from __future__ import annotations

import pytest
from mcp import Client

from missive_mcp.sandbox import FakeMissive

from .conftest import call

pytestmark = pytest.mark.anyio


async def test_list_users_marks_the_token_owner_and_filters_by_organization(mcp: Client, fake: FakeMissive) -> None:
    organization = (await call(mcp, "list_organizations"))["organizations"][0]["id"]
    page = await call(mcp, "list_users", organization=organization)
    request = fake.requests[-1]
    assert (request.path, request.query) == ("/v1/users", {"organization": organization, "limit": "50", "offset": "0"})
    assert [u["name"] for u in page["users"] if u.get("me")] == ["Maya Chen"]
    assert page["has_more"] is False and "next_offset" not in page
    elsewhere = await call(mcp, "list_users", organization="00000000-0000-4000-8000-000000000000")
    assert elsewhere["users"] == []


@pytest.mark.parametrize("tool", ["list_shared_labels", "list_teams", "list_users", "list_organizations"])
async def test_offset_paging_returns_every_item_once(mcp: Client, fake: FakeMissive, tool: str) -> None:
    key = tool.removeprefix("list_")
    everything = [item["id"] for item in (await call(mcp, tool, limit=200))[key]]
    assert everything, f"the demo workspace has {key}"
    seen: list[str] = []
    offset = 0
    while True:
        page = await call(mcp, tool, limit=1, offset=offset)
        assert fake.requests[-1].query["offset"] == str(offset) and fake.requests[-1].query["limit"] == "1"
        seen.extend(item["id"] for item in page[key])
        if not page["has_more"]:
            break
        offset = page["next_offset"]
    assert seen == everything


async def test_shared_labels_carry_their_organization_and_parent(mcp: Client) -> None:
    labels = (await call(mcp, "list_shared_labels", limit=200))["shared_labels"]
    by_id = {label["id"]: label for label in labels}
    assert all(label["organization"] for label in labels)  # add_shared_labels needs it
    children = [label for label in labels if label.get("parent_id")]
    assert children and all(child["parent_id"] in by_id for child in children)
