"""Names where people use names: users, teams and labels given by name are resolved from a cached directory."""

from __future__ import annotations

import pytest
from mcp import Client
from mcp.types import PromptReference, ResourceTemplateReference

from missive_mcp.sandbox import DEMO_CONVERSATION_ID, DEMO_ORG_ID, FakeMissive

from .conftest import call, fail

pytestmark = pytest.mark.anyio


async def directory(mcp: Client) -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
    users = {u["name"]: u["id"] for u in (await call(mcp, "list_users"))["users"]}
    teams = {t["name"]: t["id"] for t in (await call(mcp, "list_teams"))["teams"]}
    labels = {lbl["name"]: lbl["id"] for lbl in (await call(mcp, "list_shared_labels"))["shared_labels"]}
    return users, teams, labels


async def test_users_teams_and_labels_may_be_given_by_name_in_any_case(mcp: Client, fake: FakeMissive) -> None:
    users, teams, labels = await directory(mcp)
    user, team, label = next(iter(users)), next(iter(teams)), next(iter(labels))
    fake.requests.clear()
    await call(
        mcp,
        "update_conversation",
        conversation_ids=[DEMO_CONVERSATION_ID],
        organization=DEMO_ORG_ID,
        add_assignees=[user.upper()],
        add_shared_labels=[label.lower()],
        team=f"  {team} ",
    )
    sent = fake.requests[-1].body["conversations"][0]
    assert sent["add_assignees"] == [users[user]]
    assert sent["add_shared_labels"] == [labels[label]]
    assert sent["team"] == teams[team]
    # The directory was read once for the three kinds, and the ids went out as given.
    assert sorted(r.path for r in fake.requests[:-1]) == ["/v1/shared_labels", "/v1/teams", "/v1/users"]


async def test_the_directory_is_read_once_for_many_calls(mcp: Client, fake: FakeMissive) -> None:
    _, teams, _ = await directory(mcp)
    team = next(iter(teams))
    fake.requests.clear()
    for _ in range(3):
        await call(mcp, "list_conversations", team_inbox=team, limit=2)
    assert [r.path for r in fake.requests].count("/v1/teams") == 1
    assert all(r.query.get("team_inbox") == teams[team] for r in fake.requests if r.path == "/v1/conversations")


async def test_an_unknown_name_is_refused_before_anything_is_sent_with_the_candidates(
    mcp: Client, fake: FakeMissive
) -> None:
    users, _, _ = await directory(mcp)
    fake.requests.clear()
    text = await fail(
        mcp,
        "create_post",
        conversation=DEMO_CONVERSATION_ID,
        text="x",
        organization=DEMO_ORG_ID,
        add_assignees=["Nobody Here"],
    )
    assert "Invalid `add_assignees[0]`: no user is named 'Nobody Here'." in text and "list_users" in text
    assert [r.method for r in fake.requests] == ["GET"]  # the directory, and no write
    first = next(iter(users))
    close = await fail(mcp, "list_tasks", assignee=first[:4] + "zz")
    assert f"{first} ({users[first]})" in close


async def test_an_ambiguous_name_lists_each_match(mcp: Client, fake: FakeMissive) -> None:
    users, _, _ = await directory(mcp)
    name = next(iter(users))
    twin = fake.workspace.users[users[name]]
    from dataclasses import replace

    copy = replace(twin, id="00000000-0000-4000-8000-000000000abc", email="twin@acme.example")
    fake.workspace.users[copy.id] = copy
    text = await fail(mcp, "list_tasks", assignee=name)
    assert f"'{name}' names 2 users" in text and users[name] in text and copy.id in text


async def test_prompts_complete_teams_and_organizations_from_the_directory(mcp: Client) -> None:
    _, teams, _ = await directory(mcp)
    team = next(iter(teams))
    mailbox = await mcp.complete(
        PromptReference(type="ref/prompt", name="triage_inbox"), {"name": "mailbox", "value": team[:2]}
    )
    assert team in mailbox.completion.values
    words = await mcp.complete(
        PromptReference(type="ref/prompt", name="triage_inbox"), {"name": "mailbox", "value": "ass"}
    )
    assert words.completion.values == ["assigned"]
    org = await mcp.complete(
        PromptReference(type="ref/prompt", name="summarize_analytics"), {"name": "organization", "value": ""}
    )
    assert DEMO_ORG_ID in org.completion.values


async def test_the_conversation_template_completes_recent_conversation_ids(mcp: Client) -> None:
    ref = ResourceTemplateReference(type="ref/resource", uri="missive://conversations/{conversation_id}")
    done = await mcp.complete(ref, {"name": "conversation_id", "value": DEMO_CONVERSATION_ID[:6]})
    assert done.completion.values == [DEMO_CONVERSATION_ID]


async def test_a_label_or_team_just_created_can_be_named_at_once(mcp: Client, fake: FakeMissive) -> None:
    await directory(mcp)  # the directory is read and kept
    await call(
        mcp, "update_conversation", conversation_ids=[DEMO_CONVERSATION_ID], team=next(iter((await directory(mcp))[1]))
    )
    created = await call(mcp, "create_shared_label", name="Escalated", organization=DEMO_ORG_ID)
    team = await call(mcp, "create_team", name="Night shift", organization=DEMO_ORG_ID)
    await call(
        mcp,
        "update_conversation",
        conversation_ids=[DEMO_CONVERSATION_ID],
        organization=DEMO_ORG_ID,
        add_shared_labels=["escalated"],
        team="Night Shift",
    )
    sent = fake.requests[-1].body["conversations"][0]
    assert sent["add_shared_labels"] == [created["shared_label"]["id"]] and sent["team"] == team["team"]["id"]


async def test_a_name_shared_by_two_organizations_resolves_within_the_one_the_call_names(
    mcp: Client, fake: FakeMissive
) -> None:
    _, _, labels = await directory(mcp)
    name = next(iter(labels))
    other = "00000000-0000-4000-8000-0000000000aa"
    from missive_mcp.sandbox.workspace import Organization

    fake.workspace.organizations[other] = Organization(id=other, name="Other Co")
    fake.workspace.users[fake.workspace.owner_id].organization_ids.append(other)
    twin = fake.workspace.shared_labels[labels[name]]
    from dataclasses import replace

    fake.workspace.shared_labels["00000000-0000-4000-8000-0000000000ab"] = replace(
        twin, id="00000000-0000-4000-8000-0000000000ab", organization_id=other
    )
    ambiguous = await fail(mcp, "list_conversations", shared_label=name)
    assert "names 2 shared labels" in ambiguous
    await call(
        mcp,
        "update_conversation",
        conversation_ids=[DEMO_CONVERSATION_ID],
        organization=DEMO_ORG_ID,
        add_shared_labels=[name],
    )
    assert fake.requests[-1].body["conversations"][0]["add_shared_labels"] == [labels[name]]
