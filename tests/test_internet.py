"""The team server as a stranger on the internet meets it: nothing is read before the caller is known, registration
is bounded, loopback clients may take any port, and mail never becomes markup in what the team sends."""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest

from missive_mcp.sandbox import DEMO_ORG_ID, DEMO_TOKEN, DEMO_USER_ID, FakeMissive
from missive_mcp.tools import analytics

from . import test_auth
from .services import free_port
from .test_auth import JONAS_ID, JONAS_TOKEN, REDIRECT, SECRET_KEY, OAuthClient, team_server


@pytest.fixture
def fake() -> FakeMissive:
    return FakeMissive(report_delay=0.0)


KEY_MODE = {"MISSIVE_MCP_AUTH": "key", "MISSIVE_MCP_AUTH_TOKEN": "k" * 40}


@contextmanager
def team_process(tmp_path: Path, **env: str) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """The real command line serving the demo workspace in oauth mode, in its own process (its memory is ours to
    read)."""
    port = free_port()
    environ = {k: v for k, v in os.environ.items() if not k.startswith("MISSIVE")} | {
        "MISSIVE_MCP_AUTH": "oauth",
        "MISSIVE_MCP_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "MISSIVE_MCP_SECRET_KEY": SECRET_KEY,
        "MISSIVE_MCP_DATABASE_URL": str(tmp_path / "team.sqlite3"),
        **env,
    }
    command = [sys.executable, "-m", "missive_mcp", "--demo", "--transport", "http", "--port", str(port)]
    server = subprocess.Popen(command, env=environ, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    origin = f"http://127.0.0.1:{port}"
    try:
        with httpx2.Client(timeout=1) as http:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and server.poll() is None:
                try:
                    if http.get(f"{origin}/health").status_code == 200:
                        break
                except httpx2.TransportError:
                    time.sleep(0.05)
        yield origin, server
    finally:
        server.terminate()
        server.communicate(timeout=10)


def peak_rss_mib(pid: int) -> float:
    """The process's peak resident memory (VmHWM), in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM in /proc status")


# --- 1. Identity first ---------------------------------------------------------------------------------------------


@pytest.mark.anyio
@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads the server's peak memory from /proc")
@pytest.mark.parametrize("mode", [{}, KEY_MODE], ids=["oauth", "key"])
async def test_forty_unauthenticated_ten_megabyte_posts_cost_the_server_almost_no_memory(
    tmp_path: Path, mode: dict[str, str]
) -> None:
    head, tail = b'{"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {"pad": "', b'"}}'
    chunk = b"x" * (256 * 1024)
    whole = head + chunk * 40 + tail  # 10 MiB of valid JSON-RPC: parsing it would cost several times that

    async def streamed() -> AsyncIterator[bytes]:
        yield head
        for _ in range(40):
            yield chunk
        yield tail

    with team_process(tmp_path, **mode) as (origin, server):
        async with httpx2.AsyncClient(timeout=60) as http:
            warm = await http.post(f"{origin}/mcp", content=head + tail, headers={"Content-Type": "application/json"})
            assert warm.status_code == 401
            before = peak_rss_mib(server.pid)
            statuses: list[int] = []

            async def stranger(chunked: bool) -> None:
                headers = {"Content-Type": "application/json"}
                answer = await http.post(f"{origin}/mcp", content=streamed() if chunked else whole, headers=headers)
                statuses.append(answer.status_code)

            with anyio.fail_after(120):
                async with anyio.create_task_group() as tg:
                    for number in range(40):
                        tg.start_soon(stranger, number % 2 == 0)  # half declare their length, half stream it
            after = peak_rss_mib(server.pid)
    assert statuses == [401] * 40
    assert after - before < 50, f"peak memory rose {after - before:.0f} MiB (from {before:.0f} MiB)"


# --- 6. Registration bounded; 10. loopback redirect ports -----------------------------------------------------------


def register(http: httpx2.Client, origin: str, **metadata: Any) -> httpx2.Response:
    body = {"client_name": "Probe", "token_endpoint_auth_method": "none", "redirect_uris": [REDIRECT]} | metadata
    return http.post(f"{origin}/register", json=body)


def test_registration_takes_only_redirect_uris_a_browser_cannot_turn_against_the_person(
    fake: FakeMissive, tmp_path: Path
) -> None:
    refused = [
        "javascript:alert(document.cookie)",
        "JavaScript://%0Aalert(1)",
        "data:text/html,<script>alert(1)</script>",
        "file:///etc/passwd",
        "vbscript:msgbox(1)",
        "http://evil.example/callback",
        "https://app.example/callback#fragment",
    ]
    accepted = [
        "https://app.example/callback",
        "http://127.0.0.1/callback",
        "http://[::1]:8123/callback",
        "http://localhost:33418/",
        "com.example.app:/oauth/callback",
        "cursor://anysphere.cursor-retrieval/oauth/callback",
    ]
    database = str(tmp_path / "team.sqlite3")
    with team_server(fake, database, registrations_per_hour=100) as origin, httpx2.Client(timeout=10) as http:
        for uri in refused:
            answer = register(http, origin, redirect_uris=[uri])
            assert answer.status_code == 400, (uri, answer.text)
            assert answer.json()["error"] == "invalid_redirect_uri"
            assert "redirect URI" in answer.json()["error_description"], answer.text
        for uri in accepted:
            answer = register(http, origin, redirect_uris=[uri])
            assert answer.status_code == 201, (uri, answer.text)
        long_name = register(http, origin, client_name="C" * 201)
        assert long_name.status_code == 400
        assert long_name.json()["error_description"] == "client_name is 201 characters long; at most 200 are taken."
        huge = register(http, origin, client_name="C" * 4_000_000)
        assert huge.status_code == 413 and "larger than 16384 bytes" in huge.json()["error_description"]


def test_one_address_registers_only_so_many_clients_an_hour(fake: FakeMissive, tmp_path: Path) -> None:
    database = str(tmp_path / "team.sqlite3")
    with team_server(fake, database, registrations_per_hour=3) as origin, httpx2.Client(timeout=10) as http:
        assert [register(http, origin).status_code for _ in range(3)] == [201] * 3
        refused = register(http, origin)
        assert register(http, origin, redirect_uris=["javascript:x"]).status_code == 429
    assert refused.status_code == 429 and refused.headers["Retry-After"] == "3600"
    assert refused.json()["error_description"].startswith("This address registered 3 clients in the last hour")


def test_clients_unused_past_the_retention_period_are_forgotten(fake: FakeMissive, tmp_path: Path) -> None:
    database = tmp_path / "team.sqlite3"

    def age(client_id: str, days: int) -> None:
        with sqlite3.connect(database) as db:  # the clock moves on for one client
            db.execute("UPDATE clients SET created_at = created_at - ? WHERE client_id = ?", (days * 86400, client_id))

    def known(http: httpx2.Client, origin: str, client_id: str) -> bool:
        params = {"client_id": client_id, "response_type": "code", "code_challenge": "c" * 43, "redirect_uri": REDIRECT}
        answer = http.get(f"{origin}/authorize", params=params | {"code_challenge_method": "S256"})
        assert answer.status_code in (302, 400), answer.text
        return answer.status_code == 302

    with team_server(fake, str(database), client_retention_days=30) as origin, httpx2.Client(timeout=10) as http:
        idle = register(http, origin).json()["client_id"]
        recent = register(http, origin).json()["client_id"]
        maya = OAuthClient(origin)
        maya.sign_in(DEMO_TOKEN)  # a client holding a live sign-in is kept however old
        age(idle, 31)
        age(recent, 29)
        age(maya.client_id, 400)
        assert known(http, origin, idle)
        register(http, origin)  # each registration sweeps
        assert not known(http, origin, idle)
        assert known(http, origin, recent) and known(http, origin, maya.client_id)
        assert maya.refresh_tokens().status_code == 200


def test_an_oversized_or_overfull_form_gets_a_clean_answer_and_one_warning(
    fake: FakeMissive, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Starlette's form parser raises past 1,000 fields: that was a traceback at ERROR (and a 500 on the sign-in
    pages). Every form a stranger may post is refused before it is parsed, in words, with one WARNING line."""
    overfull = "&".join(f"f{i}=" for i in range(1500)).encode()[:16000]
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    with team_server(fake, str(tmp_path / "team.sqlite3")) as origin, httpx2.Client(timeout=10) as http:
        for path in ("/authorize", "/token", "/revoke", "/signin", "/signin/allow", "/keys"):
            caplog.clear()
            big = http.post(f"{origin}{path}", data={"state": "y" * 2_000_000})
            full = http.post(f"{origin}{path}", content=overfull, headers=form)
            assert (big.status_code, full.status_code) == (413, 400), path
            for answer, words in ((big, "larger than 16384 bytes"), (full, "more than 100 fields")):
                text = (
                    answer.json()["error_description"] if path in ("/authorize", "/token", "/revoke") else answer.text
                )
                assert words in text, (path, text)
            lines = [r for r in caplog.records if r.name.startswith(("missive_mcp", "mcp", "uvicorn", "starlette"))]
            assert [r.levelname for r in lines] == ["WARNING", "WARNING"], [r.getMessage() for r in lines]
            assert not any(r.exc_info for r in caplog.records), path


def test_a_native_client_may_come_back_on_any_loopback_port(
    fake: FakeMissive, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """RFC 8252 section 7.3: the app registers http://127.0.0.1/callback and listens where the system lets it."""
    with team_server(fake, str(tmp_path / "team.sqlite3")) as origin:
        maya = OAuthClient(origin)
        meta = maya.discover()
        monkeypatch.setattr(test_auth, "REDIRECT", "http://127.0.0.1/callback")
        maya.register(meta)
        monkeypatch.setattr(test_auth, "REDIRECT", "http://127.0.0.1:53123/other")
        with pytest.raises(AssertionError, match="not registered"):
            maya.start(meta)  # another path is another URI
        monkeypatch.setattr(test_auth, "REDIRECT", "http://localhost:53123/callback")
        with pytest.raises(AssertionError, match="not registered"):
            maya.start(meta)  # and another host another URI
        monkeypatch.setattr(test_auth, "REDIRECT", "http://127.0.0.1:53123/callback")
        page_url, verifier, state = maya.start(meta)
        code = maya.allow(maya.paste(page_url, DEMO_TOKEN), state)  # back to port 53123
        maya.exchange(meta, code, verifier)
        assert maya.me() == DEMO_USER_ID


# --- 9. A host other than the public URL's is named in the log -----------------------------------------------------


def test_a_host_other_than_the_public_urls_is_logged_once_each_and_boundedly(
    fake: FakeMissive, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="missive_mcp.http")
    with team_server(fake, str(tmp_path / "team.sqlite3")) as origin, httpx2.Client(timeout=10) as http:
        port = origin.rsplit(":", 1)[1]
        for host in (f"127.0.0.1:{port}", f"localhost:{port}", f"localhost:{port}", f"127.0.0.1:{port}"):
            http.get(f"{origin}/.well-known/oauth-protected-resource/mcp", headers={"Host": host})
        said = [r.getMessage() for r in caplog.records if r.name == "missive_mcp.http"]
        assert said == [
            f"A request names this server 'localhost:{port}', but MISSIVE_MCP_PUBLIC_URL is {origin}: OAuth clients "
            "refuse a resource whose host differs from the URL they were given (localhost is not 127.0.0.1). Give "
            f"clients {origin}/mcp, or set MISSIVE_MCP_PUBLIC_URL to the name they use."
        ]
        for number in range(200):  # a stranger's made-up hosts: refused (421), and the log stays bounded
            http.get(f"{origin}/mcp", headers={"Host": f"h{number}.evil.example\x1b[31m"})
        said = [r.getMessage() for r in caplog.records if r.name == "missive_mcp.http"]
    assert len(said) == 33 and said[-1].endswith("no longer logged.")
    assert "\x1b" not in "".join(said)


# --- 8. Streams per person ------------------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_the_stream_cap_counts_a_person_across_their_sign_ins(
    fake: FakeMissive, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two sign-ins of one person share the cap; another person is not held back by them."""
    monkeypatch.setattr(analytics, "POLL_INTERVAL", 0.05)
    fake.report_delay = 3600
    fake.tokens[JONAS_TOKEN] = JONAS_ID
    database = str(tmp_path / "team.sqlite3")
    with team_server(fake, database, streams_per_person=1, toolsets="all") as origin:
        laptop, desktop, jonas = OAuthClient(origin), OAuthClient(origin), OAuthClient(origin)
        for client, token in ((laptop, DEMO_TOKEN), (desktop, DEMO_TOKEN), (jonas, JONAS_TOKEN)):
            client.sign_in(token)
        created = laptop.call("create_analytics_report", organization=DEMO_ORG_ID, start=1, end=2)
        assert "structuredContent" in created.json()["result"], created.text
        report_id = created.json()["result"]["structuredContent"]["report_id"]
        wait = {"name": "get_analytics_report", "arguments": {"report_id": report_id}, "_meta": {"progressToken": 1}}

        def stream(http: httpx2.AsyncClient, client: OAuthClient) -> Any:
            headers = test_auth.HEADERS | {"Authorization": f"Bearer {client.access}"}
            body = {"jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": wait}
            return http.stream("POST", f"{origin}/mcp", json=body, headers=headers)

        async with httpx2.AsyncClient(timeout=30) as http:
            with anyio.fail_after(20):
                async with stream(http, laptop) as first, stream(http, jonas) as other:
                    assert (first.status_code, other.status_code) == (200, 200)
                    async with stream(http, desktop) as second:
                        assert second.status_code == 429
                        said = json.loads(await second.aread())["error"]["message"]
    assert said.startswith("Too many streamed calls at once: you already have 1 open on this server")


def test_a_stranger_cannot_fill_the_database_through_authorize(fake: FakeMissive, tmp_path: Path) -> None:
    """Each GET /authorize keeps a pending sign-in: its size and the number a client may hold open are bounded."""
    database = tmp_path / "team.sqlite3"
    with team_server(fake, str(database)) as origin, httpx2.Client(timeout=10) as http:
        client_id = register(http, origin).json()["client_id"]
        params = {
            "client_id": client_id,
            "response_type": "code",
            "code_challenge": "c" * 43,
            "code_challenge_method": "S256",
            "redirect_uri": REDIRECT,
        }

        def authorize(state: str) -> str:
            answer = http.get(f"{origin}/authorize", params=params | {"state": state})
            assert answer.status_code == 302, answer.text
            return answer.headers["Location"]

        assert "error=invalid_request" in authorize("s" * 60_000)
        started = [authorize(f"s{n}") for n in range(12)]
        assert all("/signin?request=" in url for url in started[:10])
        assert all("error=temporarily_unavailable" in url for url in started[10:])
    with sqlite3.connect(database) as db:
        rows, size = db.execute("SELECT COUNT(*), SUM(LENGTH(params)) FROM requests").fetchone()
    assert rows == 10 and size < 10 * 1024
