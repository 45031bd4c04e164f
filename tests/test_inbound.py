"""Missive's webhook deliveries at /webhooks/missive: signed ones reach listeners on every replica through real
Redis; unsigned, badly signed or oversized ones reach nobody."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

import anyio
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from pydantic import SecretStr

from missive_mcp.facts import WEBHOOK_MAX_BYTES
from missive_mcp.http import create_http_app
from missive_mcp.sandbox import DEMO_CLOSED_CONVERSATION_ID, DEMO_CONVERSATION_ID, FakeMissive
from missive_mcp.server import create_server

from .conftest import settings_for
from .services import free_port, serve
from .test_http import AUTH, KEY

SECRET = "hook-secret-" + "s" * 20
HOOK_URL = "https://mcp.example.com/webhooks/missive"


@contextmanager
def replicas(fake: FakeMissive, redis_url: str | None, count: int = 2) -> Iterator[list[str]]:
    """HTTP replicas of the one-key server sharing `redis_url` (watching off: only webhooks notice)."""
    with ExitStack() as stack:
        origins: list[str] = []
        for _ in range(count):
            port = free_port()
            settings = settings_for(
                fake,
                mcp_auth_token=SecretStr(KEY),
                port=port,
                log_level="WARNING",
                redis_url=redis_url,
                webhook_secret=SecretStr(SECRET),
                watch_interval=0,
            )
            app = create_http_app(create_server(settings, transport=fake.transport()), settings)
            origins.append(stack.enter_context(serve(app, port)))
        yield origins


def hooked(fake: FakeMissive) -> None:
    """A rule in the fake that POSTs incoming mail to our route, as create_webhook makes."""
    from missive_mcp.sandbox.workspace import Hook, new_id

    hook = Hook(new_id(), "incoming_email", HOOK_URL, fake.workspace.now())
    fake.workspace.hooks[hook.id] = hook


async def deliver(origin: str, headers: dict[str, str], body: bytes) -> int:
    async with httpx2.AsyncClient(timeout=10) as http:
        answer = await http.post(origin + "/webhooks/missive", headers=headers, content=body)
    return answer.status_code


@pytest.mark.anyio
async def test_a_signed_delivery_to_one_replica_reaches_a_listener_on_the_other_and_a_forged_one_nobody(
    fake: FakeMissive, redis_url: str
) -> None:
    hooked(fake)
    wanted = [f"missive://conversations/{c}" for c in (DEMO_CLOSED_CONVERSATION_ID, DEMO_CONVERSATION_ID)]
    forged_uri, real_uri = wanted
    heard: list[str] = []
    with replicas(fake, redis_url) as (one, two):
        async with (
            httpx2.AsyncClient(headers=AUTH, timeout=30) as http,
            Client(streamable_http_client(f"{one}/mcp", http_client=http)) as mcp,  # type: ignore[arg-type]
            mcp.listen(resource_subscriptions=wanted) as stream,
        ):
            _, forged_message = fake.receive_email(DEMO_CLOSED_CONVERSATION_ID)
            [(url, headers, body)] = fake.webhook_deliveries(forged_message, "not-the-secret")
            assert url == HOOK_URL
            assert await deliver(two, headers, body) == 401
            assert await deliver(two, {"Content-Type": "application/json"}, body) == 401  # unsigned
            _, message = fake.receive_email(DEMO_CONVERSATION_ID)
            [(_, headers, body)] = fake.webhook_deliveries(message, SECRET)
            assert await deliver(two, headers, body) == 200
            with anyio.fail_after(10):
                async for event in stream:
                    heard.append(getattr(event, "uri", ""))
                    if real_uri in heard:
                        break
    assert heard == [real_uri]  # the forged delivery, sent first on the same channel, published nothing
    assert forged_uri not in heard


@pytest.mark.anyio
async def test_the_route_takes_no_bearer_key_and_refuses_what_is_not_missives(fake: FakeMissive) -> None:
    hooked(fake)
    _, message = fake.receive_email(DEMO_CONVERSATION_ID)
    [(_, headers, body)] = fake.webhook_deliveries(message, SECRET)
    bare = headers["X-Hook-Signature"].removeprefix("sha256=")
    with replicas(fake, None, count=1) as (one,):
        assert await deliver(one, headers, body) == 200  # no Authorization header: the signature is the key
        assert await deliver(one, {**headers, "X-Hook-Signature": bare}, body) == 200  # prefix optional
        assert await deliver(one, headers, body + b" ") == 401  # the body changed after signing
        assert await deliver(one, headers, b"x" * (WEBHOOK_MAX_BYTES + 1)) == 413
        async with httpx2.AsyncClient(timeout=10) as http:
            assert (await http.get(one + "/webhooks/missive")).status_code == 405
            assert (await http.post(one + "/mcp", json={})).status_code == 401  # the rest still needs the key


@pytest.mark.anyio
async def test_a_post_without_a_signature_is_refused_before_its_body_is_read(fake: FakeMissive) -> None:
    """A stranger declares a megabyte and sends none of it: the answer comes at once, nothing is held for it."""
    import socket

    hooked(fake)
    with replicas(fake, None, count=1) as (one,):
        host, port = one.removeprefix("http://").split(":")
        for signature in ("", "X-Hook-Signature: sha256=not-hex\r\n"):
            with socket.create_connection((host, int(port)), timeout=10) as raw:
                raw.sendall(
                    f"POST /webhooks/missive HTTP/1.1\r\nHost: {host}:{port}\r\n{signature}"
                    f"Content-Type: application/json\r\nContent-Length: {WEBHOOK_MAX_BYTES}\r\n\r\n".encode()
                )
                assert raw.recv(200).startswith(b"HTTP/1.1 401")  # a body-reading server would time out here


@pytest.mark.anyio
async def test_without_a_secret_the_route_is_off(fake: FakeMissive) -> None:
    port = free_port()
    settings = settings_for(fake, mcp_auth_token=SecretStr(KEY), port=port, log_level="WARNING")
    app = create_http_app(create_server(settings, transport=fake.transport()), settings)
    with serve(app, port) as origin:
        status = await deliver(origin, {"X-Hook-Signature": "sha256=00"}, b"{}")
    assert status == 404
