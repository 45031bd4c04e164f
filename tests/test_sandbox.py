"""The fake Missive itself, over HTTP: the routes issue 10 adds, with the live quirks of missive-api-addendum.md,
their error wording, paging, attachment downloads and the token echo."""

from __future__ import annotations

import base64
import re
from collections.abc import AsyncIterator
from typing import Any

import httpx2
import pytest

from missive_mcp.models import CannedResponse, Message, Post, Task, Webhook
from missive_mcp.sandbox import (
    DEMO_BILLING_TEAM_ID,
    DEMO_CLOSED_CONVERSATION_ID,
    DEMO_CONVERSATION_ID,
    DEMO_IMAGE_ATTACHMENT_ID,
    DEMO_LABEL_IDS,
    DEMO_MESSAGE_ID,
    DEMO_ORG_ID,
    DEMO_PDF_ATTACHMENT_ID,
    DEMO_PERSONAL_RESPONSE_ID,
    DEMO_RESPONSE_ID,
    DEMO_SUBTASK_ID,
    DEMO_TASK_ID,
    DEMO_TEAM_ID,
    DEMO_TEMPLATE_RESPONSE_ID,
    DEMO_TEXT_ATTACHMENT_ID,
    DEMO_TOKEN,
    DEMO_USER_ID,
    ECHO_HEADER,
    FakeMissive,
)
from missive_mcp.sandbox.seed import at, seed_id
from missive_mcp.sandbox.workspace import Message as StoredMessage

pytestmark = pytest.mark.anyio

NOW = at(21, 9)
"""The fake's wall clock in these tests: the morning after the seeded data."""
JONAS, PRIYA, TOM = (seed_id("user", name) for name in ("jonas", "priya", "tom"))
UNKNOWN = "00000000-0000-4000-8000-000000000000"


class Clock:
    def __init__(self) -> None:
        self.now = float(NOW)

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def fake(clock: Clock) -> FakeMissive:
    return FakeMissive(report_delay=0.0, wall=clock)


@pytest.fixture
async def api(fake: FakeMissive) -> AsyncIterator[httpx2.AsyncClient]:
    headers = {"Authorization": f"Bearer {DEMO_TOKEN}"}
    async with httpx2.AsyncClient(transport=fake.transport(), base_url=fake.base_url, headers=headers) as http:
        yield http


def flat(message: str) -> dict[str, Any]:
    return {"error": message}


def nested(message: str) -> dict[str, Any]:
    return {"error": {"message": message}}


async def refused(response: httpx2.Response) -> Any:
    assert response.status_code == 400, response.text
    return response.json()


async def owner_state(api: httpx2.AsyncClient, conversation_id: str) -> dict[str, Any]:
    conversation = (await api.get(f"/conversations/{conversation_id}")).json()["conversations"][0]
    return next(user for user in conversation["users"] if user["id"] == DEMO_USER_ID)


# Envelopes ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "key", "wrap"),
    [
        ("POST", "/posts", "posts", flat),
        ("POST", "/tasks", "tasks", nested),
        ("PATCH", f"/tasks/{DEMO_TASK_ID}", "tasks", nested),
        ("POST", "/responses", "responses", nested),
        ("PATCH", f"/responses/{DEMO_RESPONSE_ID}", "responses", nested),
        ("POST", "/shared_labels", "shared_labels", nested),
        ("PATCH", f"/shared_labels/{DEMO_LABEL_IDS['Bug']}", "shared_labels", nested),
        ("POST", "/teams", "teams", nested),
        ("PATCH", f"/teams/{DEMO_TEAM_ID}", "teams", nested),
        ("POST", "/hooks", "hooks", flat),
    ],
)
async def test_every_new_write_refuses_a_body_outside_its_envelope(
    api: httpx2.AsyncClient, method: str, path: str, key: str, wrap: Any
) -> None:
    answer = await api.request(method, path, json={"title": "Flat", "name": "Flat"})
    assert await refused(answer) == wrap(f"param is missing or the value is empty: {key}")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("DELETE", f"/posts/{UNKNOWN}"),
        ("GET", f"/tasks/{UNKNOWN}"),
        ("PATCH", f"/tasks/{UNKNOWN}"),
        ("PATCH", f"/tasks/{DEMO_TASK_ID},{DEMO_SUBTASK_ID}"),
        ("GET", f"/responses/{UNKNOWN}"),
        ("PATCH", f"/responses/{DEMO_RESPONSE_ID},{UNKNOWN}"),
        ("DELETE", f"/responses/{UNKNOWN}"),
        ("PATCH", f"/shared_labels/{UNKNOWN}"),
        ("PATCH", f"/teams/{UNKNOWN}"),
        ("DELETE", f"/hooks/{UNKNOWN}"),
    ],
)
async def test_an_unknown_id_in_the_url_is_an_empty_404(api: httpx2.AsyncClient, method: str, path: str) -> None:
    answer = await api.request(method, path, json={"tasks": {"title": "x"}})
    assert (answer.status_code, answer.content) == (404, b"")


# Posts -------------------------------------------------------------------------------------------


async def test_a_post_answers_one_object_naming_its_conversation(api: httpx2.AsyncClient) -> None:
    body = {"conversation": DEMO_CONVERSATION_ID, "text": "Refund settled.", "username": "Stripe"}
    answer = await api.post("/posts", json={"posts": body})
    assert answer.status_code == 201
    post = answer.json()["posts"]
    assert post == {
        "id": post["id"],
        "conversation": DEMO_CONVERSATION_ID,
        "body": "Refund settled.",
        "text": "Refund settled.",
        "markdown": None,
        "username": "Stripe",
        "username_icon": None,
        "attachments": [],
        "created_at": NOW,
    }
    assert Post.model_validate(post).conversation_id == DEMO_CONVERSATION_ID
    # `notification` is unverified as required: sent or not, the post is made.
    with_notification = body | {"notification": {"title": "Stripe", "body": "Refund settled."}}
    assert (await api.post("/posts", json={"posts": with_notification})).status_code == 201


async def test_a_post_needs_content_even_when_it_only_closes(api: httpx2.AsyncClient) -> None:
    body = {"conversation": DEMO_CONVERSATION_ID, "close": True, "notification": {"title": "t", "body": "b"}}
    answer = await api.post("/posts", json={"posts": body})
    assert await refused(answer) == flat("Validation failed: text, markdown or attachments needed")
    long = {"conversation": DEMO_CONVERSATION_ID, "text": "x" * 8001}
    answer = await api.post("/posts", json={"posts": long})
    assert await refused(answer) == flat("'posts.text' is too long (maximum is 8000 characters)")


@pytest.mark.parametrize("field", ["add_users", "add_assignees", "remove_assignees", "add_shared_labels"])
async def test_a_post_changing_people_or_labels_needs_the_organization(api: httpx2.AsyncClient, field: str) -> None:
    value = [DEMO_LABEL_IDS["Bug"]] if field == "add_shared_labels" else [JONAS]
    body = {"conversation": DEMO_CONVERSATION_ID, "text": "x", field: value}
    answer = await api.post("/posts", json={"posts": body})
    assert await refused(answer) == flat(f"'organization' is required when '{field}' is defined")
    answer = await api.post("/posts", json={"posts": body | {"organization": DEMO_ORG_ID}})
    assert answer.status_code == 201


async def test_a_post_reopens_a_closed_conversation_unless_reopen_is_false(api: httpx2.AsyncClient) -> None:
    body = {"conversation": DEMO_CLOSED_CONVERSATION_ID, "text": "Synced."}
    assert (await owner_state(api, DEMO_CLOSED_CONVERSATION_ID))["closed"] is True
    await api.post("/posts", json={"posts": body | {"reopen": False}})
    assert (await owner_state(api, DEMO_CLOSED_CONVERSATION_ID))["closed"] is True
    await api.post("/posts", json={"posts": body})
    assert (await owner_state(api, DEMO_CLOSED_CONVERSATION_ID))["closed"] is False


async def test_deleting_a_post_keeps_what_it_changed(api: httpx2.AsyncClient) -> None:
    body = {"conversation": DEMO_CONVERSATION_ID, "text": "Closing.", "close": True}
    post = (await api.post("/posts", json={"posts": body})).json()["posts"]
    first = await api.delete(f"/posts/{post['id']}")
    again = await api.delete(f"/posts/{post['id']}")
    assert (first.status_code, first.content, again.status_code, again.content) == (204, b"", 404, b"")
    assert (await owner_state(api, DEMO_CONVERSATION_ID))["closed"] is True


async def test_a_post_file_becomes_a_downloadable_attachment(api: httpx2.AsyncClient) -> None:
    upload = {"filename": "sync.txt", "base64_data": base64.b64encode(b"synced 3 orders\n").decode()}
    block = {"title": "Order #1042", "color": "good"}
    body = {"conversation": DEMO_CONVERSATION_ID, "attachments": [block, upload]}
    post = (await api.post("/posts", json={"posts": body})).json()["posts"]
    assert post["attachments"][0] == block
    file = post["attachments"][1]
    assert (file["filename"], file["media_type"], file["sub_type"], file["size"]) == ("sync.txt", "text", "plain", 16)
    assert (await api.get(file["url"], headers={"Authorization": ""})).content == b"synced 3 orders\n"


# Tasks -------------------------------------------------------------------------------------------


TASK_ORDER = ["confirm-refund", "post-mortem", "stripe-retries", "status-cert", "sso-article", "renewal"]


async def test_tasks_list_newest_first_naming_people_and_team_by_id(api: httpx2.AsyncClient) -> None:
    tasks = (await api.get("/tasks")).json()["tasks"]
    assert [t["id"] for t in tasks] == [seed_id("task", key) for key in TASK_ORDER]
    post_mortem = tasks[1]
    assert post_mortem == {
        "id": seed_id("task", "post-mortem"),
        "title": "Write the post-mortem for incident 2214",
        "description": "Timeline, root cause (LB health check timeout), follow-ups.",
        "state": "in_progress",
        "type": "task",
        "subtask": True,
        "due_at": at(23, 17),
        "organization": DEMO_ORG_ID,
        "conversation": seed_id("conversation", "api-502"),
        "created_at": at(20, 13, 30),
        "last_activity_at": at(20, 15, 30),
        "assignees": [JONAS],
        "team": DEMO_TEAM_ID,
    }
    Task.model_validate(post_mortem)


@pytest.mark.parametrize(
    ("query", "keys"),
    [
        ({"type": "conversation"}, ["renewal"]),
        ({"type": "task"}, TASK_ORDER[:-1]),
        ({"state": "closed"}, ["stripe-retries"]),
        ({"conversation": DEMO_CONVERSATION_ID}, ["confirm-refund", "stripe-retries"]),
        ({"assignee": PRIYA}, ["stripe-retries", "sso-article"]),
        ({"team": DEMO_BILLING_TEAM_ID}, ["renewal"]),
        ({"due_at_gteq": str(at(23, 17)), "due_at_lteq": str(at(25, 17))}, ["post-mortem", "sso-article", "renewal"]),
        ({"organization": DEMO_ORG_ID, "state": "todo", "type": "task"}, ["confirm-refund", "sso-article"]),
    ],
)
async def test_tasks_filter(api: httpx2.AsyncClient, query: dict[str, str], keys: list[str]) -> None:
    tasks = (await api.get("/tasks", params=query)).json()["tasks"]
    assert [t["id"] for t in tasks] == [seed_id("task", key) for key in keys]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"state": "done"}, "'state' must be one of todo, in_progress, closed"),
        ({"type": "subtask"}, "'type' must be one of task, conversation, all"),
        ({"limit": "1"}, "min 'limit' value is 2"),
        ({"limit": "51"}, "max 'limit' value is 50"),
        ({"organization": "acme"}, "'organization' must be a UUID"),
        ({"until": "yesterday"}, "'until' must be an integer"),
    ],
)
async def test_tasks_list_refuses_bad_filters(api: httpx2.AsyncClient, query: dict[str, str], message: str) -> None:
    assert await refused(await api.get("/tasks", params=query)) == flat(message)


async def test_tasks_page_by_until_minus_one_even_through_ties(api: httpx2.AsyncClient) -> None:
    # Five new tasks created in the same second, above the six seeded ones.
    for n in range(5):
        await api.post(
            "/tasks", json={"tasks": {"title": f"Tied {n}", "assignees": [TOM], "organization": DEMO_ORG_ID}}
        )
    first = (await api.get("/tasks", params={"limit": 2})).json()["tasks"]
    assert len(first) == 5 and {t["last_activity_at"] for t in first} == {NOW}  # a full page runs on through ties
    seen, until = [t["id"] for t in first], first[-1]["last_activity_at"] - 1
    while True:
        page = (await api.get("/tasks", params={"limit": 2, "until": until})).json()["tasks"]
        seen += [t["id"] for t in page]
        if len(page) < 2:
            break
        until = page[-1]["last_activity_at"] - 1
    assert seen[5:] == [seed_id("task", key) for key in TASK_ORDER]
    assert len(seen) == len(set(seen)) == 11


async def test_one_task_is_a_bare_object_with_people_and_team_in_full(api: httpx2.AsyncClient) -> None:
    task = (await api.get(f"/tasks/{DEMO_TASK_ID}")).json()["tasks"]
    assert task["assignees"] == [{"id": PRIYA, "name": "Priya Raman", "email": "priya@acme.example"}]
    assert task["team"] == {"id": DEMO_TEAM_ID, "name": "Tier 1 Support", "organization": DEMO_ORG_ID}
    assert Task.model_validate(task).concise().assignees is not None


async def test_a_standalone_task_is_created_in_one_object(api: httpx2.AsyncClient) -> None:
    body = {"title": "Rotate keys", "team": DEMO_TEAM_ID, "organization": DEMO_ORG_ID, "due_at": at(24, 9)}
    answer = await api.post("/tasks", json={"tasks": body})
    assert answer.status_code == 201
    task = answer.json()["tasks"]
    assert (task["title"], task["state"], task["team"], task["assignees"], task["subtask"], task["due_at"]) == (
        "Rotate keys",
        "todo",
        DEMO_TEAM_ID,
        [],
        False,
        at(24, 9),
    )
    assert (await api.get(f"/tasks/{task['id']}")).json()["tasks"]["title"] == "Rotate keys"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"team": DEMO_TEAM_ID}, "Missing field 'tasks.title'"),
        ({"title": "x", "team": DEMO_TEAM_ID}, "'organization' is required when 'team' is defined"),
        ({"title": "x", "assignees": [PRIYA]}, "'organization' is required when 'assignees' is defined"),
        ({"title": "x", "organization": DEMO_ORG_ID}, "'team' or 'assignees' is required unless 'subtask' is true"),
        ({"title": "x", "subtask": True}, "'conversation' or 'references' is required when 'subtask' is true"),
        ({"title": "x", "team": UNKNOWN, "organization": DEMO_ORG_ID}, "Invalid resource ID(s)"),
        ({"title": "x", "assignees": [PRIYA], "organization": UNKNOWN}, "Invalid resource ID(s)"),
        ({"title": "x", "subtask": True, "conversation": UNKNOWN}, "Invalid resource ID(s)"),
        ({"title": "x", "assignees": [PRIYA], "organization": "acme"}, "'organization' must be a UUID"),
        (
            {"title": "x", "state": "done", "assignees": [PRIYA]},
            "'tasks.state' must be one of todo, in_progress, closed",
        ),
        ({"title": "x" * 1001}, "'tasks.title' is too long (maximum is 1000 characters)"),
        ({"title": "x", "priority": "high"}, "Unknown field 'tasks.priority'"),
    ],
)
async def test_task_creation_is_refused_with_the_reason(
    api: httpx2.AsyncClient, body: dict[str, Any], message: str
) -> None:
    assert await refused(await api.post("/tasks", json={"tasks": body})) == nested(message)


async def test_a_task_envelope_holds_one_object(api: httpx2.AsyncClient) -> None:
    answer = await api.post("/tasks", json={"tasks": [{"title": "x", "assignees": [PRIYA]}]})
    assert await refused(answer) == nested("'tasks' must be an object")


async def test_a_subtask_lands_in_its_conversation_or_a_new_one(api: httpx2.AsyncClient) -> None:
    inside = {"title": "Call Dana", "subtask": True, "conversation": DEMO_CONVERSATION_ID, "add_to_inbox": True}
    task = (await api.post("/tasks", json={"tasks": inside})).json()["tasks"]
    assert (task["conversation"], task["subtask"]) == (DEMO_CONVERSATION_ID, True)
    conversation = (await api.get(f"/conversations/{DEMO_CONVERSATION_ID}")).json()["conversations"][0]
    assert (conversation["tasks_count"], conversation["completed_tasks_count"]) == (3, 1)
    by_reference = {"title": "x", "subtask": True, "references": ["<double-charge.0@globex.example>"]}
    found = (await api.post("/tasks", json={"tasks": by_reference})).json()["tasks"]
    assert found["conversation"] == DEMO_CONVERSATION_ID
    fresh = {"title": "x", "subtask": True, "references": ["<nowhere@x>"], "conversation_subject": "Audit"}
    created = (await api.post("/tasks", json={"tasks": fresh})).json()["tasks"]
    conversation = (await api.get(f"/conversations/{created['conversation']}")).json()["conversations"][0]
    assert (conversation["subject"], conversation["tasks_count"]) == ("Audit", 1)
    inbox = (await api.get("/conversations", params={"inbox": "true", "limit": 50})).json()["conversations"]
    assert created["conversation"] not in [c["id"] for c in inbox]  # tasks made by the API stay out of the Inbox


async def test_a_task_update_is_one_object_whose_assignees_replace_the_set(
    api: httpx2.AsyncClient, clock: Clock
) -> None:
    clock.now += 60
    answer = await api.patch(f"/tasks/{DEMO_SUBTASK_ID}", json={"tasks": {"state": "closed", "assignees": [JONAS]}})
    assert answer.status_code == 200
    task = answer.json()["tasks"]
    assert (task["state"], task["assignees"], task["title"], task["last_activity_at"]) == (
        "closed",
        [JONAS],
        "Confirm the refund reached Globex",
        NOW + 60,
    )
    # An id inside is not documented; the same id is tolerated, another one refused.
    same = await api.patch(f"/tasks/{DEMO_SUBTASK_ID}", json={"tasks": {"id": DEMO_SUBTASK_ID, "title": "t"}})
    assert same.status_code == 200
    other = await api.patch(f"/tasks/{DEMO_SUBTASK_ID}", json={"tasks": {"id": DEMO_TASK_ID, "title": "t"}})
    assert await refused(other) == nested("Invalid resource ID(s)")
    stranger = await api.patch(f"/tasks/{DEMO_SUBTASK_ID}", json={"tasks": {"assignees": [UNKNOWN]}})
    assert await refused(stranger) == nested("Invalid resource ID(s)")


# Canned responses --------------------------------------------------------------------------------


async def test_responses_list_the_organizations_and_the_owners_own(api: httpx2.AsyncClient) -> None:
    every = [r["id"] for r in (await api.get("/responses")).json()["responses"]]
    assert every == [
        DEMO_RESPONSE_ID,
        seed_id("response", "outage"),
        DEMO_PERSONAL_RESPONSE_ID,
        DEMO_TEMPLATE_RESPONSE_ID,
    ]
    shared = (await api.get("/responses", params={"organization": DEMO_ORG_ID})).json()["responses"]
    assert DEMO_PERSONAL_RESPONSE_ID not in [r["id"] for r in shared] and len(shared) == 3
    page = (await api.get("/responses", params={"limit": 2, "offset": 1})).json()["responses"]
    assert [r["id"] for r in page] == every[1:3]
    assert await refused(await api.get("/responses", params={"limit": 201})) == flat("max 'limit' value is 200")


async def test_one_response_comes_as_a_list_of_one(api: httpx2.AsyncClient) -> None:
    answer = (await api.get(f"/responses/{DEMO_RESPONSE_ID}")).json()
    [response] = answer["responses"]
    assert (response["title"], response["share_with_team"], response["shared_labels"]) == (
        "Refund confirmation",
        DEMO_BILLING_TEAM_ID,
        [{"id": DEMO_LABEL_IDS["Billing"], "name": "Billing"}],
    )
    CannedResponse.model_validate(response)


async def test_a_response_inline_image_points_at_its_attachment(api: httpx2.AsyncClient) -> None:
    [outage] = (await api.get(f"/responses/{seed_id('response', 'outage')}")).json()["responses"]
    [image] = outage["attachments"]
    assert f'data-missive-attachment-id="{image["id"]}"' in outage["body"] and "src=" not in outage["body"]
    assert (await api.get(image["url"], headers={"Authorization": ""})).content.startswith(b"\x89PNG\r\n\x1a\n")


async def test_responses_are_created_from_a_list_or_an_object_and_name_is_dropped(api: httpx2.AsyncClient) -> None:
    item = {"organization": DEMO_ORG_ID, "title": "Thanks", "body": "<p>Thanks!</p>", "name": "ignored"}
    listed = await api.post("/responses", json={"responses": [item]})
    assert listed.status_code == 201
    [created] = listed.json()["responses"]
    assert (created["title"], created["body"], "name" in created) == ("Thanks", "<p>Thanks!</p>", False)
    untitled = await api.post("/responses", json={"responses": {"user": DEMO_USER_ID, "name": "Only a name"}})
    assert untitled.status_code == 201 and untitled.json()["responses"][0]["title"] is None


async def test_a_response_upload_with_a_temporary_id_is_wired_into_the_body(api: httpx2.AsyncClient) -> None:
    upload = {"id": "logo", "filename": "logo.png", "base64_data": base64.b64encode(b"\x89PNG\r\n\x1a\n").decode()}
    item = {"organization": DEMO_ORG_ID, "body": '<img data-missive-attachment-id="logo">', "attachments": [upload]}
    [created] = (await api.post("/responses", json={"responses": [item]})).json()["responses"]
    [stored] = created["attachments"]
    assert created["body"] == f'<img data-missive-attachment-id="{stored["id"]}">' and stored["id"] != "logo"


@pytest.mark.parametrize(
    ("item", "message"),
    [
        ({"title": "x"}, "Exactly one of 'organization' or 'user' is required"),
        (
            {"title": "x", "organization": DEMO_ORG_ID, "user": DEMO_USER_ID},
            "Exactly one of 'organization' or 'user' is required",
        ),
        ({"user": JONAS}, "Invalid resource ID(s)"),
        (
            {"user": DEMO_USER_ID, "share_with_team": DEMO_TEAM_ID},
            "'share_with_team' needs a response shared with an organization",
        ),
        ({"organization": DEMO_ORG_ID, "shared_labels": [UNKNOWN]}, "Invalid resource ID(s)"),
        ({"organization": DEMO_ORG_ID, "external_id": "a"}, "'external_id' and 'external_source' go together"),
        (
            {"organization": DEMO_ORG_ID, "external_id": "outage-ack", "external_source": "statuspage"},
            "'external_id' has already been taken",
        ),
        (
            {"organization": DEMO_ORG_ID, "subject": "s" * 501},
            "'responses[0].subject' is too long (maximum is 500 characters)",
        ),
    ],
)
async def test_response_creation_is_refused_with_the_reason(
    api: httpx2.AsyncClient, item: dict[str, Any], message: str
) -> None:
    assert await refused(await api.post("/responses", json={"responses": [item]})) == nested(message)


async def test_a_response_update_needs_the_list_form_even_for_one_id(api: httpx2.AsyncClient) -> None:
    path = f"/responses/{DEMO_RESPONSE_ID}"
    as_object = await api.patch(path, json={"responses": {"id": DEMO_RESPONSE_ID, "title": "New"}})
    assert await refused(as_object) == nested("Invalid resource ID(s)")
    without_id = await api.patch(path, json={"responses": [{"title": "New"}]})
    assert await refused(without_id) == nested("Missing field 'responses[0].id'")
    answer = await api.patch(path, json={"responses": [{"id": DEMO_RESPONSE_ID, "title": "Refund sent"}]})
    [updated] = answer.json()["responses"]
    assert (updated["title"], updated["subject"]) == ("Refund sent", "Your refund is on its way")  # only sent fields


async def test_a_response_update_with_attachments_replaces_them_all(api: httpx2.AsyncClient) -> None:
    outage = seed_id("response", "outage")
    upload = {"filename": "notice.txt", "base64_data": base64.b64encode(b"notice").decode()}
    answer = await api.patch(f"/responses/{outage}", json={"responses": [{"id": outage, "attachments": [upload]}]})
    assert [a["filename"] for a in answer.json()["responses"][0]["attachments"]] == ["notice.txt"]


async def test_an_integrations_response_can_be_neither_updated_nor_deleted(api: httpx2.AsyncClient) -> None:
    path = f"/responses/{DEMO_TEMPLATE_RESPONSE_ID}"
    update = await api.patch(path, json={"responses": [{"id": DEMO_TEMPLATE_RESPONSE_ID, "title": "x"}]})
    assert await refused(update) == nested(
        f"Response '{DEMO_TEMPLATE_RESPONSE_ID}' was created by an integration and cannot be updated"
    )
    delete = await api.delete(path)
    assert await refused(delete) == nested(
        f"Response '{DEMO_TEMPLATE_RESPONSE_ID}' was created by an integration and cannot be deleted"
    )


async def test_responses_are_deleted_by_a_comma_list(api: httpx2.AsyncClient) -> None:
    both = f"{DEMO_RESPONSE_ID},{DEMO_PERSONAL_RESPONSE_ID}"
    answer = await api.delete(f"/responses/{both}")
    assert (answer.status_code, answer.content) == (204, b"")
    assert (await api.get(f"/responses/{DEMO_RESPONSE_ID}")).status_code == 404
    assert (await api.delete(f"/responses/{both}")).status_code == 404


# Shared labels and teams -------------------------------------------------------------------------


async def test_shared_labels_are_created_from_a_list(api: httpx2.AsyncClient) -> None:
    item = {"name": "Refunds", "organization": DEMO_ORG_ID, "parent": DEMO_LABEL_IDS["Billing"], "color": "#0a0"}
    answer = await api.post("/shared_labels", json={"shared_labels": [item]})
    assert answer.status_code == 201
    [label] = answer.json()["shared_labels"]
    assert (label["name_with_parent_names"], label["color"], label["visibility"]) == (
        "Billing/Refunds",
        "#0a0",
        "organization",
    )
    listed = (await api.get("/shared_labels")).json()["shared_labels"]
    assert label["id"] in [x["id"] for x in listed]


@pytest.mark.parametrize(
    ("item", "message"),
    [
        ({"name": "x"}, "Missing field 'shared_labels[0].organization'"),
        (
            {"name": "x", "organization": DEMO_ORG_ID, "color": "red"},
            "'shared_labels[0].color' is not in the expected format",
        ),
        (
            {"name": "x", "organization": DEMO_ORG_ID, "visibility": "everyone"},
            "'shared_labels[0].visibility' must be one of organization, delegates",
        ),
        ({"name": "x", "organization": DEMO_ORG_ID, "share_with_users": [UNKNOWN]}, "Invalid resource ID(s)"),
    ],
)
async def test_shared_label_creation_is_refused_with_the_reason(
    api: httpx2.AsyncClient, item: dict[str, Any], message: str
) -> None:
    assert await refused(await api.post("/shared_labels", json={"shared_labels": [item]})) == nested(message)


async def test_a_shared_label_update_refuses_the_organization(api: httpx2.AsyncClient) -> None:
    bug, mobile = DEMO_LABEL_IDS["Bug"], DEMO_LABEL_IDS["Mobile"]
    with_org = await api.patch(
        f"/shared_labels/{bug}", json={"shared_labels": [{"id": bug, "organization": DEMO_ORG_ID}]}
    )
    assert await refused(with_org) == nested("Unpermitted parameters: organization")
    cycle = await api.patch(f"/shared_labels/{bug}", json={"shared_labels": [{"id": bug, "parent": mobile}]})
    assert await refused(cycle) == nested("'parent' cannot be the label itself or one of its sub-labels")
    answer = await api.patch(f"/shared_labels/{bug}", json={"shared_labels": [{"id": bug, "name": "Defect"}]})
    assert answer.json()["shared_labels"][0]["name"] == "Defect"
    [child] = [x for x in (await api.get("/shared_labels")).json()["shared_labels"] if x["id"] == mobile]
    assert child["name_with_parent_names"] == "Defect/Mobile"


async def test_teams_are_created_and_updated_by_lists(api: httpx2.AsyncClient) -> None:
    hours = {"tz": "America/Montreal", "t": [{"d": 1, "s": [32400, 61200]}]}
    item = {
        "name": "Escalations",
        "organization": DEMO_ORG_ID,
        "emoji": ":rotating_light:",
        "active_members": [JONAS],
        "observers": [TOM],
        "business_hours": hours,
        "user_reply_behavior": "leave_in_team_inbox",
    }
    answer = await api.post("/teams", json={"teams": [item]})
    assert answer.status_code == 201
    [team] = answer.json()["teams"]
    assert team == {
        "id": team["id"],
        "name": "Escalations",
        "organization": DEMO_ORG_ID,
        "active_members": [JONAS],
        "observers": [TOM],
        "emoji": ":rotating_light:",
        "business_hours": hours,
        "user_reply_behavior": "leave_in_team_inbox",
    }
    path = f"/teams/{team['id']}"
    renamed = await api.patch(path, json={"teams": [{"id": team["id"], "name": "Escalations (EU)"}]})
    assert renamed.json()["teams"][0]["name"] == "Escalations (EU)"
    moved = await api.patch(path, json={"teams": [{"id": team["id"], "organization": UNKNOWN}]})
    assert await refused(moved) == nested("Invalid resource ID(s)")


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (
            {"business_hours": {"tz": "Mars/Olympus", "t": []}},
            "'business_hours.tz' must be an IANA time zone such as America/Montreal",
        ),
        (
            {"business_hours": {"tz": "UTC", "t": [{"d": 7, "s": [0, 1]}]}},
            "'teams[0].business_hours.t[0].d' must be at most 6",
        ),
        (
            {"team_mention_behavior": "everyone"},
            "'teams[0].team_mention_behavior' must be one of all_members, only_active_members",
        ),
        ({"emoji": "dart"}, "'teams[0].emoji' is not in the expected format"),
        ({"active_members": [UNKNOWN]}, "Invalid resource ID(s)"),
    ],
)
async def test_team_creation_is_refused_with_the_reason(
    api: httpx2.AsyncClient, extra: dict[str, Any], message: str
) -> None:
    item = {"name": "x", "organization": DEMO_ORG_ID} | extra
    assert await refused(await api.post("/teams", json={"teams": [item]})) == nested(message)


# Webhooks ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "filters"),
    [
        ("incoming_email", {"from_eq": "dana.scully@globex.example", "subject_contains": "invoice"}),
        ("incoming_sms_message", {"content_starts_with": "STOP"}),
        ("incoming_facebook_message", {"content_contains": "order"}),
        ("incoming_whatsapp_message", {"content_ends_with": "?"}),
        ("incoming_twilio_chat_message", {}),
        ("new_comment", {"is_task": True, "author": JONAS, "mention": DEMO_USER_ID}),
    ],
)
async def test_a_hook_is_created_with_its_filters_and_deleted_once(
    api: httpx2.AsyncClient, kind: str, filters: dict[str, Any]
) -> None:
    body = {"type": kind, "url": "https://hooks.example/missive", "organization": DEMO_ORG_ID} | filters
    answer = await api.post("/hooks", json={"hooks": body})
    assert answer.status_code == 201
    hook = answer.json()["hooks"]
    assert hook == {"id": hook["id"], "created_at": NOW} | body
    Webhook.model_validate(hook)
    first, again = await api.delete(f"/hooks/{hook['id']}"), await api.delete(f"/hooks/{hook['id']}")
    assert (first.status_code, first.content, again.status_code, again.content) == (200, b"", 404, b"")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            {"type": "incoming_email", "url": "https://h.example", "author": JONAS},
            "'author' is only allowed when 'type' is new_comment",
        ),
        (
            {"type": "new_comment", "url": "https://h.example", "from_eq": "a@b.example"},
            "'from_eq' is only allowed when 'type' is incoming_email",
        ),
        ({"type": "new_comment", "url": "http://h.example"}, "'url' must be an https URL"),
        (
            {"type": "conversation_closed", "url": "https://h.example"},
            "'hooks.type' must be one of incoming_email, incoming_sms_message, incoming_facebook_message, "
            "incoming_whatsapp_message, incoming_twilio_chat_message, new_comment",
        ),
        ({"type": "new_comment", "url": "https://h.example", "mention": UNKNOWN}, "Invalid resource ID(s)"),
        ({"url": "https://h.example"}, "Missing field 'hooks.type'"),
    ],
)
async def test_hook_creation_is_refused_with_the_reason(
    api: httpx2.AsyncClient, body: dict[str, Any], message: str
) -> None:
    assert await refused(await api.post("/hooks", json={"hooks": body})) == flat(message)


# Messages by Message-ID --------------------------------------------------------------------------


async def test_a_message_is_found_by_its_message_id_with_or_without_brackets(api: httpx2.AsyncClient) -> None:
    for wanted in ("<double-charge.0@globex.example>", "double-charge.0@globex.example"):
        found = (await api.get("/messages", params={"email_message_id": wanted})).json()
        assert [m["id"] for m in found["messages"]] == [DEMO_MESSAGE_ID]
    assert (await api.get("/messages", params={"email_message_id": "<nobody@x>"})).json() == {"messages": []}
    assert await refused(await api.get("/messages")) == flat("'email_message_id' is required")


async def test_a_reused_message_id_answers_the_latest_ten_newest_first(
    api: httpx2.AsyncClient, fake: FakeMissive
) -> None:
    ws = fake.workspace
    conversation = ws.conversations[DEMO_CONVERSATION_ID]
    for n in range(12):
        stored = StoredMessage(
            f"dup-{n:02d}", DEMO_CONVERSATION_ID, "<div>again</div>", {"address": "a@b.example"}, at(1, 9) + n
        )
        stored.email_message_id = "<reused@b.example>"
        ws.add_message(conversation, stored)
    found = (await api.get("/messages", params={"email_message_id": "<reused@b.example>"})).json()["messages"]
    assert [m["id"] for m in found] == [f"dup-{n:02d}" for n in range(11, 1, -1)]


# Attachments -------------------------------------------------------------------------------------


async def test_message_attachments_carry_what_a_download_needs(api: httpx2.AsyncClient) -> None:
    message = (await api.get(f"/messages/{DEMO_MESSAGE_ID}")).json()["messages"]
    [pdf] = message["attachments"]
    url = pdf.pop("url")
    assert pdf == {
        "id": DEMO_PDF_ATTACHMENT_ID,
        "filename": "invoice-4821.pdf",
        "extension": "pdf",
        "media_type": "application",
        "sub_type": "pdf",
        "size": pdf["size"],
        "width": None,
        "height": None,
    }
    assert re.fullmatch(
        rf"http://missive\.test/files/{DEMO_PDF_ATTACHMENT_ID}/invoice-4821\.pdf"
        rf"\?Expires={NOW + 3600}&Signature=[0-9a-f]{{64}}",
        url,
    )
    assert Message.model_validate(message).attachments[0].mime_type == "application/pdf"


async def test_the_demo_pdf_is_a_valid_pdf(api: httpx2.AsyncClient) -> None:
    [pdf] = (await api.get(f"/messages/{DEMO_MESSAGE_ID}")).json()["messages"]["attachments"]
    download = await api.get(pdf["url"], headers={"Authorization": ""})
    data = download.content
    assert (download.status_code, download.headers["content-type"], len(data)) == (200, "application/pdf", pdf["size"])
    assert 300 < len(data) < 1000 and data.startswith(b"%PDF-1.4\n") and data.endswith(b"%%EOF\n")
    xref_at = int(data.rsplit(b"startxref\n", 1)[1].split(b"\n")[0])
    assert data[xref_at:].startswith(b"xref\n0 6\n")
    offsets = [int(line[:10]) for line in data[xref_at:].split(b"\n")[3:8]]
    assert [data[offset:].split(b"\n")[0] for offset in offsets] == [f"{n} 0 obj".encode() for n in range(1, 6)]
    assert b"(Acme Support - Invoice #4821) Tj" in data


async def test_a_text_attachment_and_an_image_download_as_themselves(api: httpx2.AsyncClient) -> None:
    third = seed_id("message", "double-charge:2")
    image, text = (await api.get(f"/messages/{third}")).json()["messages"]["attachments"]
    assert (image["id"], image["width"], image["height"], text["id"]) == (
        DEMO_IMAGE_ATTACHMENT_ID,
        320,
        180,
        DEMO_TEXT_ATTACHMENT_ID,
    )
    download = await api.get(text["url"], headers={"Authorization": ""})
    assert (download.headers["content-type"], len(download.content)) == ("text/plain; charset=utf-8", text["size"])
    assert download.text.startswith("2026-11-19 14:02:11 UTC  ch_3QxJ9  $249.00")


async def test_an_attachment_link_expires_and_the_message_gives_a_fresh_one(
    api: httpx2.AsyncClient, fake: FakeMissive, clock: Clock
) -> None:
    old = (await api.get(f"/messages/{DEMO_MESSAGE_ID}")).json()["messages"]["attachments"][0]["url"]
    clock.now += 3600
    assert (await api.get(old, headers={"Authorization": ""})).status_code == 200  # valid through its last second
    clock.now += 1
    expired = await api.get(old, headers={"Authorization": ""})
    assert (expired.status_code, expired.text) == (
        403,
        "<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>",
    )
    fresh = (await api.get(f"/messages/{DEMO_MESSAGE_ID}")).json()["messages"]["attachments"][0]["url"]
    assert fresh != old and (await api.get(fresh, headers={"Authorization": ""})).status_code == 200
    tampered = await api.get(fresh.replace(f"Expires={NOW + 3601 + 3600}", f"Expires={NOW + 99999}"))
    assert tampered.status_code == 403 and "signature" in tampered.text


# PATCH /conversations (addendum section 8) -------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"remove_assignees": [DEMO_USER_ID]}, "'organization' is required when 'remove_assignees' is defined"),
        ({"add_users": [JONAS]}, "'organization' is required when 'add_users' is defined"),
        ({"add_to_team_inbox": True}, "'team' is required when 'add_to_team_inbox' is defined"),
        ({"add_to_team_inbox": DEMO_TEAM_ID}, "'conversations[0].add_to_team_inbox' must be of type boolean"),
    ],
)
async def test_conversation_updates_follow_the_required_with_rules(
    api: httpx2.AsyncClient, change: dict[str, Any], message: str
) -> None:
    body = {"conversations": [{"id": DEMO_CONVERSATION_ID} | change]}
    assert await refused(await api.patch(f"/conversations/{DEMO_CONVERSATION_ID}", json=body)) == nested(message)


async def test_a_team_moves_a_conversation_only_with_force_team(api: httpx2.AsyncClient) -> None:
    path = f"/conversations/{DEMO_CONVERSATION_ID}"  # in the Billing team

    async def team_after(change: dict[str, Any]) -> str:
        body = {"conversations": [{"id": DEMO_CONVERSATION_ID} | change]}
        return (await api.patch(path, json=body)).json()["conversations"][0]["team"]["id"]

    assert await team_after({"team": DEMO_TEAM_ID}) == DEMO_BILLING_TEAM_ID
    assert await team_after({"team": DEMO_TEAM_ID, "force_team": True}) == DEMO_TEAM_ID
    assert await team_after({"team": DEMO_BILLING_TEAM_ID, "add_to_team_inbox": True}) == DEMO_BILLING_TEAM_ID
    colored = await api.patch(
        path, json={"conversations": [{"id": DEMO_CONVERSATION_ID, "conversation_color": "danger"}]}
    )
    assert colored.json()["conversations"][0]["color"] == "danger"


# Token echo --------------------------------------------------------------------------------------


async def test_the_echoing_fake_sends_the_token_back_everywhere(clock: Clock) -> None:
    fake = FakeMissive(report_delay=0.0, wall=clock, echo_token=True)
    headers = {"Authorization": f"Bearer {DEMO_TOKEN}"}
    async with httpx2.AsyncClient(transport=fake.transport(), base_url=fake.base_url, headers=headers) as api:
        bad = await api.get("/tasks", params={"limit": 1})
        missing = await api.get(f"/tasks/{UNKNOWN}")
        message = (await api.get(f"/messages/{DEMO_MESSAGE_ID}")).json()["messages"]
        wrong = await api.get("/tasks", headers={"Authorization": "Bearer other-secret"})
    note = f"(request had Authorization: Bearer {DEMO_TOKEN})"
    assert bad.json() == flat(f"min 'limit' value is 2 {note}")
    assert missing.json() == nested(f"Request failed {note}")
    assert wrong.json() == nested(
        "Authentication token is invalid or has been revoked (request had Authorization: Bearer other-secret)"
    )
    assert (bad.headers[ECHO_HEADER], missing.headers[ECHO_HEADER]) == (f"Bearer {DEMO_TOKEN}",) * 2
    assert f"Bearer {DEMO_TOKEN}" in message["body"] and f"Bearer {DEMO_TOKEN}" in message["preview"]


async def test_the_fake_echoes_nothing_by_default(api: httpx2.AsyncClient) -> None:
    bad = await api.get("/tasks", params={"limit": 1})
    missing = await api.get(f"/tasks/{UNKNOWN}")
    message = (await api.get(f"/messages/{DEMO_MESSAGE_ID}")).text
    assert ECHO_HEADER not in bad.headers and missing.content == b""
    assert DEMO_TOKEN not in bad.text + message
