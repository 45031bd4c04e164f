"""Changes pushed to clients: the watcher, resource subscriptions in both protocol eras, and watch_inbox."""

from __future__ import annotations

import contextlib
import os
import sys
import warnings
from collections.abc import Iterator
from typing import Any

import anyio
import httpx2
import pytest
from mcp import Client, MCPError, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPDeprecationWarning
from mcp.types import ResourceUpdatedNotification, ServerNotification
from pydantic import SecretStr

from missive_mcp.http import create_http_app, http_config
from missive_mcp.sandbox import DEMO_CLOSED_CONVERSATION_ID, DEMO_CONVERSATION_ID, DEMO_TOKEN, FakeMissive
from missive_mcp.server import create_server
from missive_mcp.settings import Settings, SettingsError
from missive_mcp.watch import INBOX, SPACING, Watcher

from .conftest import settings_for, structured
from .services import run
from .test_http import AUTH, KEY, free_port
from .test_transports import ROOT

TICK = 0.05
"""The watcher's test-only interval (users cannot go under 5 s)."""
URI = f"missive://conversations/{DEMO_CONVERSATION_ID}"


async def subscribe(mcp: Client, uri: str, *, undo: bool = False) -> None:
    """resources/subscribe (or unsubscribe), which the SDK marks deprecated: older clients still send it."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MCPDeprecationWarning)
        if undo:
            await mcp.session.unsubscribe_resource(uri)
        else:
            await mcp.session.subscribe_resource(uri)


def looks(fake: FakeMissive) -> int:
    """How many times Missive was asked for the Inbox."""
    return sum(1 for r in fake.requests if r.method == "GET" and r.path == "/v1/conversations")


def server_for(fake: FakeMissive, interval: float = TICK, **overrides: Any) -> Any:
    return create_server(settings_for(fake, **overrides), transport=fake.transport(), watch_interval_for_tests=interval)


async def until(condition: Any, seconds: float = 10.0) -> None:
    """Wait (capped) until `condition()` holds, checking every tick."""
    with anyio.fail_after(seconds):
        while not condition():
            await anyio.sleep(TICK / 5)


@pytest.mark.anyio
async def test_a_listening_client_hears_of_a_new_message_within_two_looks(fake: FakeMissive) -> None:
    """2026-07-28 in memory: subscriptions/listen on a conversation; the fake gains a message; the update comes
    after at most two more looks at Missive."""
    async with Client(server_for(fake)) as mcp, mcp.listen(resource_subscriptions=[URI]) as stream:
        await until(lambda: looks(fake) >= 1)  # the watcher has had its first look
        fake.receive_email(DEMO_CONVERSATION_ID)
        before = looks(fake)
        with anyio.fail_after(10):
            event = await anext(aiter(stream))
        after = looks(fake)
    assert getattr(event, "uri", None) == URI
    assert after - before <= 2


@pytest.mark.anyio
async def test_nobody_listening_means_no_request_at_all(fake: FakeMissive) -> None:
    async with Client(server_for(fake)) as mcp:
        with anyio.fail_after(5):
            await anyio.sleep(TICK * 10)  # ten intervals with nobody listening
        assert fake.requests == []
        async with mcp.listen(resource_subscriptions=[INBOX]):
            await until(lambda: looks(fake) >= 2)
        with anyio.fail_after(5):
            await anyio.sleep(TICK * 3)  # a look under way when the stream closed may finish
        settled = len(fake.requests)
        with anyio.fail_after(5):
            await anyio.sleep(TICK * 10)
        assert len(fake.requests) == settled


@pytest.mark.anyio
async def test_the_inbox_resource_updates_when_new_mail_lands_in_it(fake: FakeMissive) -> None:
    async with Client(server_for(fake)) as mcp:
        async with mcp.listen(resource_subscriptions=[INBOX]) as stream:
            await until(lambda: looks(fake) >= 1)
            conversation_id, _ = fake.receive_email()
            with anyio.fail_after(10):
                event = await anext(aiter(stream))
        inbox = await mcp.read_resource(INBOX)
    assert getattr(event, "uri", None) == INBOX
    assert conversation_id in inbox.contents[0].text  # type: ignore[union-attr]


@pytest.mark.anyio
async def test_only_a_readable_resource_can_be_subscribed(fake: FakeMissive) -> None:
    async with Client(server_for(fake)) as mcp:
        with pytest.raises(MCPError, match="Cannot subscribe to 'missive://conversations/"):
            async with mcp.listen(
                resource_subscriptions=["missive://conversations/00000000-0000-4000-8000-000000000000"]
            ):
                pass
        with pytest.raises(MCPError, match="subscribable are missive://inbox"):
            async with mcp.listen(resource_subscriptions=["missive://contacts/x"]):
                pass


@pytest.mark.anyio
async def test_an_older_client_subscribes_on_its_session_and_hears_updates(fake: FakeMissive) -> None:
    heard: list[str] = []

    async def on_message(message: Any) -> None:
        if isinstance(message, ServerNotification) and isinstance(message, ResourceUpdatedNotification):
            heard.append(message.params.uri)
        elif isinstance(getattr(message, "root", None), ResourceUpdatedNotification):
            heard.append(message.root.params.uri)

    async with Client(server_for(fake), mode="legacy", message_handler=on_message) as mcp:
        await subscribe(mcp, URI)
        await until(lambda: looks(fake) >= 1)
        fake.receive_email(DEMO_CONVERSATION_ID)
        await until(lambda: URI in heard)
        await subscribe(mcp, URI, undo=True)
        with anyio.fail_after(5):
            await anyio.sleep(TICK * 3)
        settled = len(fake.requests)
        with anyio.fail_after(5):
            await anyio.sleep(TICK * 10)
        assert len(fake.requests) == settled  # unsubscribed: the watcher stopped


@pytest.mark.anyio
async def test_a_conversation_outside_the_inbox_costs_one_request_per_look(fake: FakeMissive) -> None:
    closed = f"missive://conversations/{DEMO_CLOSED_CONVERSATION_ID}"
    async with Client(server_for(fake)) as mcp, mcp.listen(resource_subscriptions=[closed]) as stream:
        await until(lambda: looks(fake) >= 2)
        fetched = sum(1 for r in fake.requests if r.path == f"/v1/conversations/{DEMO_CLOSED_CONVERSATION_ID}")
        fake.receive_email(DEMO_CLOSED_CONVERSATION_ID)  # reopens it: a state change and a message
        with anyio.fail_after(10):
            event = await anext(aiter(stream))
    assert getattr(event, "uri", None) == closed
    assert fetched >= 2  # the check when subscribing, then one per look


def test_the_watcher_keeps_to_a_tenth_of_missives_budget() -> None:
    """90 requests per 15 minutes at most: a round of n requests waits at least n x 10 s, whatever the interval."""
    watcher = Watcher(bus=None, interval=5.0)  # type: ignore[arg-type]
    assert SPACING == 10.0
    assert watcher.pause(1) == 10.0 and watcher.pause(4) == 40.0
    assert Watcher(bus=None, interval=30.0).pause(1) == 30.0  # type: ignore[arg-type]


def test_the_documented_floor_of_the_interval_holds_for_users() -> None:
    with pytest.raises(SettingsError, match=r"MISSIVE_WATCH_INTERVAL must be 0 \(off\) or at least 5 seconds"):
        Settings.from_env({"MISSIVE_WATCH_INTERVAL": "1"})
    assert Settings.from_env({"MISSIVE_WATCH_INTERVAL": "0"}).watch_interval == 0


@pytest.mark.anyio
async def test_watch_inbox_returns_a_conversation_planted_during_its_wait(fake: FakeMissive) -> None:
    planted: list[str] = []

    async def plant() -> None:
        await until(lambda: looks(fake) >= 3)  # the call's own listing, then the watcher's looks
        planted.append(fake.receive_email(subject="Planted")[0])

    async with Client(server_for(fake)) as mcp, anyio.create_task_group() as group:
        group.start_soon(plant)
        with anyio.fail_after(20):
            result = await mcp.call_tool("watch_inbox", {"wait": 10})
    found = structured(result)
    assert [c["id"] for c in found["conversations"]] == planted
    assert found["cursor"] >= found["conversations"][0]["last_activity_at"]


@pytest.mark.anyio
async def test_watch_inbox_with_a_cursor_answers_at_once_and_without_waiting_when_nothing_is_new(
    fake: FakeMissive,
) -> None:
    async with Client(server_for(fake)) as mcp:
        first = structured(await mcp.call_tool("watch_inbox", {"wait": 0}))
        assert first["conversations"] == []
        planted, _ = fake.receive_email(subject="After the cursor")
        before = len(fake.requests)
        second = structured(await mcp.call_tool("watch_inbox", {"since": first["cursor"] - 1, "wait": 0}))
    assert planted in [c["id"] for c in second["conversations"]]
    new = next(c for c in second["conversations"] if c["id"] == planted)  # a lean item, as list_conversations'
    assert new["subject"] == "After the cursor" and "latest_message_subject" not in new
    # One listing, no waiting (and the organizations read once, to tell whether lean items name theirs).
    assert [r.path for r in fake.requests[before:]] == ["/v1/conversations", "/v1/organizations"]


@contextlib.contextmanager
def http_server(fake: FakeMissive, **overrides: Any) -> Iterator[str]:
    port = free_port()
    settings = settings_for(fake, mcp_auth_token=SecretStr(KEY), port=port, log_level="WARNING", **overrides)
    app = create_http_app(server_for(fake, **overrides), settings)
    with run(http_config(app, settings)) as origin:
        yield origin


@pytest.mark.anyio
async def test_a_2026_client_listens_over_http(fake: FakeMissive) -> None:
    with http_server(fake) as url:
        async with (
            httpx2.AsyncClient(headers=AUTH, timeout=30) as http,
            Client(streamable_http_client(f"{url}/mcp", http_client=http)) as mcp,  # type: ignore[arg-type]
            mcp.listen(resource_subscriptions=[URI]) as stream,
        ):
            await until(lambda: looks(fake) >= 1)
            fake.receive_email(DEMO_CONVERSATION_ID)
            with anyio.fail_after(10):
                event = await anext(aiter(stream))
    assert getattr(event, "uri", None) == URI


@pytest.mark.anyio
@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_stdio_clients_hear_updates_in_both_eras(fake: FakeMissive, mode: str) -> None:
    heard: list[str] = []

    async def on_message(message: Any) -> None:
        root = getattr(message, "root", message)
        if isinstance(root, ResourceUpdatedNotification):
            heard.append(root.params.uri)

    with fake.serve() as base_url:
        env = {**os.environ, "MISSIVE_API_TOKEN": DEMO_TOKEN, "MISSIVE_API_BASE_URL": base_url}
        script = str(ROOT / "tests" / "watch_stdio_server.py")
        params = StdioServerParameters(command=sys.executable, args=[script, str(TICK)], env=env, cwd=str(ROOT))
        with anyio.fail_after(30):
            async with Client(params, mode=mode, message_handler=on_message) as mcp:
                if mode == "legacy":
                    await subscribe(mcp, URI)
                    await until(lambda: looks(fake) >= 1)
                    fake.receive_email(DEMO_CONVERSATION_ID)
                    await until(lambda: URI in heard)
                else:
                    async with mcp.listen(resource_subscriptions=[URI]) as stream:
                        await until(lambda: looks(fake) >= 1)
                        fake.receive_email(DEMO_CONVERSATION_ID)
                        event = await anext(aiter(stream))
                        heard.append(getattr(event, "uri", ""))
    assert URI in heard


@pytest.mark.anyio
async def test_an_older_client_over_stateless_http_is_told_to_listen_or_watch_instead(fake: FakeMissive) -> None:
    with http_server(fake) as url:
        async with (
            httpx2.AsyncClient(headers=AUTH, timeout=30) as http,
            Client(streamable_http_client(f"{url}/mcp", http_client=http), mode="legacy") as mcp,  # type: ignore[arg-type]
        ):
            with pytest.raises(MCPError, match="subscriptions/listen, or the watch_inbox tool"):
                await subscribe(mcp, URI)
    assert fake.requests == []  # refused before anything was read or watched


@pytest.mark.anyio
async def test_watch_inbox_woken_by_a_webhook_alone_looks_itself(fake: FakeMissive) -> None:
    """Watching off (or the team server, where nobody polls): a signed delivery wakes the wait, and the call reads
    the Inbox itself rather than the watcher's empty picture of it."""
    from mcp.server.subscriptions import ResourceUpdated

    server = server_for(fake, interval=0.0)
    planted: list[str] = []

    async def deliver() -> None:
        await until(lambda: looks(fake) >= 1)  # the call's own first listing
        planted.append(fake.receive_email(subject="Planted")[0])
        await server.bus.publish(ResourceUpdated(INBOX))  # what POST /webhooks/missive publishes

    async with Client(server) as mcp, anyio.create_task_group() as group:
        group.start_soon(deliver)
        with anyio.fail_after(20):
            found = structured(await mcp.call_tool("watch_inbox", {"wait": 10}))
    assert [c["id"] for c in found["conversations"]] == planted
