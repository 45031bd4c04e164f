"""The HTTP transport as clients and strangers meet it, over loopback: authentication, progress and cancels,
budgets against slow or greedy clients, and one-line answers to protocol mistakes."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import functools
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import anyio
import httpx2
import pytest
from mcp import Client, MCPError
from mcp.client.streamable_http import streamable_http_client
from pydantic import SecretStr

from missive_mcp.http import create_http_app, http_config
from missive_mcp.sandbox import DEMO_ORG_ID, FakeMissive
from missive_mcp.server import create_server
from missive_mcp.tools import analytics

from .conftest import settings_for, structured
from .services import free_port, run

KEY = "test-key-" + "y" * 24
AUTH = {"Authorization": f"Bearer {KEY}"}
ACCEPT = {"Accept": "application/json, text/event-stream"}
LEGACY = {"MCP-Protocol-Version": "2025-11-25"}


@contextlib.contextmanager
def serving(fake: FakeMissive, **overrides: Any) -> Iterator[str]:
    """The HTTP transport as `missive-mcp --transport http` runs it (uvicorn configured by `http_config`), in a
    thread; yields its base URL."""
    port = free_port()
    settings = settings_for(fake, mcp_auth_token=SecretStr(KEY), port=port, log_level="WARNING", **overrides)
    app = create_http_app(
        create_server(
            settings,
            transport=fake.transport(),
        ),
        settings,
    )
    with run(http_config(app, settings)) as origin:
        yield origin


@pytest.fixture
def url(fake: FakeMissive) -> Iterator[str]:
    with serving(fake) as base:
        yield base


@contextlib.asynccontextmanager
async def client(url: str, mode: str = "auto", headers: dict[str, str] | None = None) -> AsyncIterator[Client]:
    async with (
        httpx2.AsyncClient(headers=headers or AUTH, timeout=30) as http,
        Client(streamable_http_client(f"{url}/mcp", http_client=http), mode=mode) as mcp,  # type: ignore[arg-type]
    ):
        yield mcp


# --- Authentication clients understand ----------------------------------------------------------------------------


def test_well_known_paths_answer_404_without_a_key_so_clients_do_not_start_oauth(url: str) -> None:
    with httpx2.Client(timeout=10) as http:
        for path in (
            "/.well-known/oauth-protected-resource",
            "/.well-known/oauth-protected-resource/mcp",
            "/.well-known/oauth-authorization-server",
            "/.well-known/openid-configuration",
        ):
            answer = http.get(f"{url}{path}")
            assert answer.status_code == 404, path
            assert "bearer key" in answer.json()["error"]
        refused = http.post(f"{url}/mcp", json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"}, headers=ACCEPT)
    assert refused.status_code == 401
    assert refused.json()["error"] == (
        "Missing or wrong bearer key: send Authorization: Bearer <MISSIVE_MCP_AUTH_TOKEN>."
    )


def test_the_bearer_scheme_is_case_insensitive_and_the_key_is_not(url: str) -> None:
    listing = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
    with httpx2.Client(timeout=10) as http:

        def status(authorization: str) -> int:
            headers = ACCEPT | LEGACY | {"Authorization": authorization}
            return http.post(f"{url}/mcp", json=listing, headers=headers).status_code

        assert status(f"bearer {KEY}") == 200
        assert status(f"BEARER  {KEY}") == 200
        assert status(f"Bearer {KEY.upper()}") == 401
        assert status(f"Basic {KEY}") == 401
        assert status(f"Bearer {KEY}x") == 401
        assert status(KEY) == 401


# --- As capable as stdio: progress and cancels ------------------------------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize("progress", [True, False], ids=["with-progress", "without-progress"])
@pytest.mark.parametrize("mode", ["legacy", "2026-07-28"])
async def test_progress_reaches_http_clients_and_a_cancel_stops_the_polling(
    fake: FakeMissive, monkeypatch: pytest.MonkeyPatch, mode: str, progress: bool
) -> None:
    """A report that never finishes: progress arrives over HTTP (streamed), and once the client cancels, the fake
    sees at most the one poll already under way. Legacy clients cancel with a separate notifications/cancelled
    POST (matched to the call by its session and id); 2026-07-28 clients abort their POST. Without progress the
    answer is plain JSON, and the cancel still lands."""
    monkeypatch.setattr(analytics, "POLL_INTERVAL", 0.02)
    fake.report_delay = 3600
    with serving(fake) as url:
        async with client(url, mode) as mcp:
            org = structured(await mcp.call_tool("list_organizations", {}))["organizations"][0]["id"]
            created = await mcp.call_tool("create_analytics_report", {"organization": org, "start": 1, "end": 2})
            path = f"/v1/analytics/reports/{structured(created)['report_id']}"
            arguments = {"report_id": structured(created)["report_id"], "timeout": 300}
            messages: list[str | None] = []

            def polls() -> int:
                return sum(r.path == path for r in fake.requests)

            async def on_progress(done: float, total: float | None, message: str | None) -> None:
                messages.append(message)

            with anyio.fail_after(20):
                async with anyio.create_task_group() as tg:
                    callback = on_progress if progress else None
                    tg.start_soon(lambda: mcp.call_tool("get_analytics_report", arguments, progress_callback=callback))
                    while (len(messages) if progress else polls()) < 3:
                        await anyio.sleep(0.01)
                    cancelled_at = polls()
                    tg.cancel_scope.cancel()
            # A window in which an uncancelled call would poll about thirty more times (0.02 s apart here).
            await anyio.sleep(0.6)
            assert polls() - cancelled_at <= 1, f"{polls() - cancelled_at} polls after the cancel"
            # The server still serves this client.
            assert not (await mcp.call_tool("list_organizations", {})).is_error
    if progress:
        assert messages[0] is not None and "Report not ready yet" in messages[0]


@pytest.mark.anyio
async def test_a_client_that_hangs_up_stops_its_call(fake: FakeMissive, monkeypatch: pytest.MonkeyPatch) -> None:
    """A handshake-era POST answered in plain JSON: closing the connection (a proxy timing out, a script
    interrupted) stops the call as a cancel does."""
    monkeypatch.setattr(analytics, "POLL_INTERVAL", 0.02)
    fake.report_delay = 3600
    with serving(fake) as url:
        async with httpx2.AsyncClient(timeout=30, headers=AUTH | ACCEPT | LEGACY) as http:
            call = {"jsonrpc": "2.0", "id": 1, "method": "tools/call"}
            created = await http.post(
                f"{url}/mcp",
                json=call
                | {
                    "params": {
                        "name": "create_analytics_report",
                        "arguments": {"organization": DEMO_ORG_ID, "start": 1, "end": 2},
                    }
                },
            )
            report_id = created.json()["result"]["structuredContent"]["report_id"]
            path = f"/v1/analytics/reports/{report_id}"

            def polls() -> int:
                return sum(r.path == path for r in fake.requests)

            wait = call | {"params": {"name": "get_analytics_report", "arguments": {"report_id": report_id}}}
            with anyio.fail_after(20):
                async with anyio.create_task_group() as tg:
                    tg.start_soon(lambda: http.post(f"{url}/mcp", json=wait))
                    while polls() < 3:
                        await anyio.sleep(0.01)
                    hung_up_at = polls()
                    tg.cancel_scope.cancel()
            await anyio.sleep(0.6)  # an uncancelled call would poll about thirty more times
    assert polls() - hung_up_at <= 1, f"{polls() - hung_up_at} polls after the client hung up"


# --- A transport a stranger cannot exhaust ----------------------------------------------------------------------


@pytest.mark.anyio
async def test_a_body_past_the_limit_gets_one_clear_sentence(url: str) -> None:
    async with client(url, "legacy") as mcp:
        with pytest.raises(MCPError) as refused:
            await mcp.call_tool("create_draft", {"body": "x" * 11_000_000, "to_fields": [{"address": "a@b.com"}]})
    assert str(refused.value).startswith("Request too large: this server takes at most 10.7 MB in one request")
    assert "\n" not in str(refused.value)


@pytest.mark.anyio
async def test_a_draft_as_large_as_missive_takes_passes_the_transport(fake: FakeMissive, url: str) -> None:
    """create_draft promises 10 MB of attachments; the SDK's own cap (4 MiB) refused them."""
    content = base64.b64encode(b"\x00" * 7_000_000).decode()  # 9.3 MB of base64
    attachment = {"filename": "big.bin", "base64_data": content}
    async with client(url, "legacy") as mcp:
        result = await mcp.call_tool(
            "create_draft", {"body": "see attached", "to_fields": [{"address": "a@b.com"}], "attachments": [attachment]}
        )
    assert not result.is_error, result.content
    assert fake.requests[-1].method == "POST" and fake.requests[-1].path == "/v1/drafts"


@pytest.mark.anyio
async def test_get_on_the_endpoint_answers_405_instead_of_an_endless_stream(url: str) -> None:
    async with httpx2.AsyncClient(timeout=5) as http:
        with anyio.fail_after(5):
            for headers in ({}, LEGACY, {"MCP-Protocol-Version": "2026-07-28"}):
                answer = await http.get(f"{url}/mcp", headers=AUTH | {"Accept": "text/event-stream"} | headers)
                assert answer.status_code == 405 and answer.headers["Allow"] == "POST"


async def dribble(port: int, closed: list[float], stop: anyio.Event, *, body: bool = False) -> None:
    """A client that sends its request a byte at a time (bounded: 100 bytes); notes when the server drops it."""
    opened = time.monotonic()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    head = b"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    if body:
        writer.write(head + f"Authorization: Bearer {KEY}\r\nContent-Length: 100000\r\n\r\n".encode())
    else:
        writer.write(head)
    try:
        for _ in range(100):
            writer.write(b"x")
            await writer.drain()
            with anyio.move_on_after(0.2):
                if await reader.read(1024) == b"":  # the server closed the connection
                    closed.append(time.monotonic() - opened)
                    return
            if stop.is_set():
                return
    except ConnectionError:
        closed.append(time.monotonic() - opened)
    finally:
        writer.close()


@pytest.mark.anyio
async def test_slow_clients_are_dropped_and_do_not_stop_health(fake: FakeMissive) -> None:
    """250 clients dribbling their headers a byte every 0.2 s: another client's /health answers all along, and the
    server drops each dribbler once its headers are late (1 s here; uvicorn alone never does)."""
    slow = 250
    with serving(fake, http_header_timeout=1.0) as url:
        port = int(url.rsplit(":", 1)[1])
        closed: list[float] = []
        stop = anyio.Event()
        health: list[float] = []
        with anyio.fail_after(30):
            async with anyio.create_task_group() as tg:
                for _ in range(slow):
                    tg.start_soon(dribble, port, closed, stop)
                async with httpx2.AsyncClient(timeout=5) as http:
                    while len(closed) < slow and len(health) < 100:
                        started = time.monotonic()
                        assert (await http.get(f"{url}/health")).status_code == 200
                        health.append(time.monotonic() - started)
                        await anyio.sleep(0.05)
                stop.set()
    assert len(closed) == slow, f"only {len(closed)} of {slow} slow clients were dropped"
    assert max(closed) < 10, max(closed)  # dropped at about 1 s; 10x headroom on a busy machine
    assert max(health) < 2, max(health)


@pytest.mark.anyio
async def test_a_body_slower_than_the_minimum_rate_is_dropped(fake: FakeMissive) -> None:
    with serving(fake, http_header_timeout=0.5, http_min_upload_rate=1000) as url:
        closed: list[float] = []
        with anyio.fail_after(25):
            async with anyio.create_task_group() as tg:
                slow_body = functools.partial(dribble, body=True)
                for _ in range(5):
                    tg.start_soon(slow_body, int(url.rsplit(":", 1)[1]), closed, anyio.Event())
    assert len(closed) == 5 and max(closed) < 10, closed


@pytest.mark.anyio
async def test_idle_and_silent_connections_are_closed(fake: FakeMissive) -> None:
    """A kept-alive connection idle past the keep-alive (1 s here, 5 s by default), and one that never sends a byte
    (1 s header timeout here; uvicorn alone keeps it forever), are both closed."""
    with serving(fake, http_keep_alive=1, http_header_timeout=1.0) as url:
        port = int(url.rsplit(":", 1)[1])
        with anyio.fail_after(15):
            silent_reader, silent = await asyncio.open_connection("127.0.0.1", port)
            kept_reader, kept = await asyncio.open_connection("127.0.0.1", port)
            kept.write(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            assert (await kept_reader.readline()).startswith(b"HTTP/1.1 200")
            answered = time.monotonic()
            while await kept_reader.read(65536):  # the rest of the answer, then the close
                pass
            kept_for = time.monotonic() - answered
            assert await silent_reader.read(1) == b""
        kept.close()
        silent.close()
    assert kept_for < 4, kept_for


@pytest.mark.anyio
async def test_past_the_connection_limit_requests_are_answered_503(fake: FakeMissive) -> None:
    with serving(fake, http_max_connections=3) as url:
        port = int(url.rsplit(":", 1)[1])
        with anyio.fail_after(10):
            held = [await asyncio.open_connection("127.0.0.1", port) for _ in range(3)]
            async with httpx2.AsyncClient(timeout=5) as http:
                assert (await http.get(f"{url}/health")).status_code == 503
            for _, writer in held:
                writer.close()


# --- Protocol-level mistakes get one line -----------------------------------------------------------------------


MISTAKES = [
    (b'[{"jsonrpc":"2.0","id":1,"method":"tools/list"}]', -32600, "JSON-RPC batches are not supported"),
    (b'{"id":1,"method":"tools/list"}', -32600, 'Invalid JSON-RPC message: "jsonrpc" must be "2.0".'),
    (b'{"jsonrpc":"2.0","id":null,"method":"tools/list"}', -32600, '"id" must be a string or an integer'),
    (b'{"jsonrpc":"2.0","id":1,"method":"tools/list","params":[1]}', -32600, '"params" must be an object'),
    (b'"hello"', -32600, "must be one JSON-RPC message (a JSON object), not str"),
    (b'{"jsonrpc":"2.0","id":1,', -32700, "Parse error: the request body is not valid JSON"),
]


def test_protocol_mistakes_get_a_one_line_json_rpc_error(url: str) -> None:
    """Each mistake, with no protocol version header, a handshake-era one and 2026-07-28 (one server for all)."""
    with httpx2.Client(timeout=10) as http:
        for version in ({}, LEGACY, {"MCP-Protocol-Version": "2026-07-28"}):
            headers = AUTH | ACCEPT | version | {"Content-Type": "application/json"}
            for body, code, sentence in MISTAKES:
                answer = http.post(f"{url}/mcp", content=body, headers=headers)
                case = f"{body!r} with {version}"
                assert answer.status_code == 400, case
                error = answer.json()["error"]
                assert error["code"] == code and sentence in error["message"], case
                assert "\n" not in error["message"] and "validation error" not in answer.text.lower(), case


def test_a_call_before_initialize_is_served_over_stateless_http(url: str) -> None:
    """Stateless HTTP needs no handshake: a tools/call without initialize is answered, not refused."""
    call = {
        "jsonrpc": "2.0",
        "id": 7,
        "method": "tools/call",
        "params": {"name": "list_organizations", "arguments": {}},
    }
    with httpx2.Client(timeout=10) as http:
        answer = http.post(f"{url}/mcp", json=call, headers=AUTH | ACCEPT | LEGACY)
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/json"
    assert answer.json()["result"]["structuredContent"]["organizations"]


@pytest.mark.anyio
async def test_one_caller_may_hold_only_so_many_streams_and_is_told_why(
    fake: FakeMissive, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A streamed call (progress over SSE) holds its connection as long as it runs; past the cap the next one
    is refused with a sentence, while plain calls go on and a stream that ends frees its place."""
    monkeypatch.setattr(analytics, "POLL_INTERVAL", 0.05)
    fake.report_delay = 3600
    with serving(fake, streams_per_person=2) as url:
        async with httpx2.AsyncClient(timeout=30, headers=AUTH | ACCEPT | LEGACY) as http:
            create = {
                "name": "create_analytics_report",
                "arguments": {"organization": DEMO_ORG_ID, "start": 1, "end": 2},
            }
            created = await http.post(
                f"{url}/mcp", json={"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": create}
            )
            report_id = created.json()["result"]["structuredContent"]["report_id"]

            def wait(number: int) -> dict[str, Any]:
                params = {"name": "get_analytics_report", "arguments": {"report_id": report_id}}
                return {
                    "jsonrpc": "2.0",
                    "id": number,
                    "method": "tools/call",
                    "params": params | {"_meta": {"progressToken": number}},
                }

            with anyio.fail_after(20):
                async with contextlib.AsyncExitStack() as streams:
                    for number in (10, 11):
                        opened = await streams.enter_async_context(http.stream("POST", f"{url}/mcp", json=wait(number)))
                        assert opened.status_code == 200 and opened.headers["content-type"].startswith(
                            "text/event-stream"
                        )
                    refused = await http.post(f"{url}/mcp", json=wait(12))
                    assert refused.status_code == 429
                    assert refused.json()["error"]["message"].startswith(
                        "Too many streamed calls at once: you already have 2 open on this server"
                    )
                    plain = await http.post(f"{url}/mcp", json={"jsonrpc": "2.0", "id": 13, "method": "tools/list"})
                    assert plain.status_code == 200
                # Both streams hung up: their places are free again once the server sees it.
                while True:
                    async with http.stream("POST", f"{url}/mcp", json=wait(14)) as again:
                        if again.status_code == 200:
                            break
                    await anyio.sleep(0.02)


def test_oauth_endpoints_in_key_mode_answer_in_words_an_oauth_client_shows(url: str) -> None:
    """The TypeScript SDK falls back to POST /register when /.well-known is missing; our plain `error` there was
    read as an unknown OAuth code and shown as `ServerError: ""`."""
    with httpx2.Client(timeout=10) as http:
        for method, path in (("POST", "/register"), ("GET", "/authorize"), ("POST", "/token"), ("POST", "/revoke")):
            answer = http.request(method, f"{url}{path}", json={"redirect_uris": ["http://127.0.0.1/cb"]})
            assert answer.status_code == 404, path
            assert answer.json() == {
                "error": "invalid_client",
                "error_description": "This server takes a bearer key, not an OAuth sign-in. Missing or wrong "
                "bearer key: send Authorization: Bearer <MISSIVE_MCP_AUTH_TOKEN>.",
            }
