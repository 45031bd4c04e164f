"""The team server over HTTP on loopback: people sign in with their own Missive tokens through OAuth (a scripted
client: registration, PKCE S256, the sign-in form, token, refresh), and each call goes out with its person's token."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import anyio
import httpx2
import pytest

from missive_mcp.auth import Person, TeamAuth
from missive_mcp.http import create_http_app
from missive_mcp.sandbox import DEMO_ORG_ID, DEMO_TOKEN, DEMO_USER_ID, FakeMissive
from missive_mcp.sandbox.seed import seed_id
from missive_mcp.sandbox.workspace import Organization, User
from missive_mcp.server import create_server
from missive_mcp.settings import Settings

from .services import free_port, serve

SECRET_KEY = base64.urlsafe_b64encode(bytes(range(32))).decode()
JONAS_TOKEN = "jonas-personal-token-0123456789"
JONAS_ID = seed_id("user", "jonas")
REDIRECT = "http://127.0.0.1:9/callback"
HEADERS = {"Accept": "application/json, text/event-stream", "MCP-Protocol-Version": "2025-11-25"}


def team_settings(fake: FakeMissive, port: int, database: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "auth": "oauth",
        "public_url": f"http://127.0.0.1:{port}",
        "secret_key": SECRET_KEY,
        "database_url": database,
        "base_url": fake.base_url,
        "timeout": 5.0,
        "transport": "http",
        "port": port,
    }
    return Settings.model_validate(values | overrides)


@contextmanager
def team_server(fake: FakeMissive, database: str, port: int | None = None, **overrides: Any) -> Iterator[str]:
    port = port or free_port()
    settings = team_settings(fake, port, database, **overrides)
    app = create_http_app(create_server(settings, transport=fake.transport()), settings)
    with serve(app, port) as origin:
        yield origin


@pytest.fixture
def fake() -> FakeMissive:
    fake = FakeMissive(report_delay=0.0)
    fake.tokens[JONAS_TOKEN] = JONAS_ID
    return fake


_open: list[httpx2.Client] = []


@pytest.fixture(autouse=True)
def close_clients() -> Iterator[None]:
    yield
    while _open:
        _open.pop().close()


class OAuthClient:
    """What Claude Code or the Inspector does, step by step, with a person pasting a token into the page."""

    def __init__(self, origin: str) -> None:
        self.origin = origin
        self.http = httpx2.Client(timeout=10, follow_redirects=False)
        _open.append(self.http)
        self.client_id = ""
        self.access = self.refresh = ""

    def discover(self) -> dict[str, Any]:
        unauthorized = self.http.post(f"{self.origin}/mcp", json=LIST, headers=HEADERS)
        assert unauthorized.status_code == 401
        challenge = unauthorized.headers["WWW-Authenticate"]
        resource_url = re.search(r'resource_metadata="([^"]+)"', challenge)
        assert resource_url, challenge
        resource = self.http.get(resource_url.group(1)).json()
        assert resource["resource"] == f"{self.origin}/mcp"
        issuer = resource["authorization_servers"][0].rstrip("/")
        meta = self.http.get(f"{issuer}/.well-known/oauth-authorization-server").json()
        assert meta["issuer"] == issuer and meta["code_challenge_methods_supported"] == ["S256"]
        assert "none" in meta["token_endpoint_auth_methods_supported"]  # a public client, as desktop clients are
        assert "none" in meta["revocation_endpoint_auth_methods_supported"]
        return meta

    def register(self, meta: dict[str, Any]) -> None:
        answer = self.http.post(
            meta["registration_endpoint"],
            json={
                "client_name": "Scripted client",
                "redirect_uris": [REDIRECT],
                "token_endpoint_auth_method": "none",
                "grant_types": ["authorization_code", "refresh_token"],
                "response_types": ["code"],
            },
        )
        assert answer.status_code == 201, answer.text
        self.client_id = answer.json()["client_id"]

    def start(self, meta: dict[str, Any]) -> tuple[str, str, str]:
        """/authorize: (the sign-in page URL, the PKCE verifier, the state)."""
        verifier, state = secrets.token_urlsafe(48), secrets.token_urlsafe(8)
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
        answer = self.http.get(
            meta["authorization_endpoint"],
            params={
                "response_type": "code",
                "client_id": self.client_id,
                "redirect_uri": REDIRECT,
                "code_challenge": challenge,
                "code_challenge_method": "S256",
                "state": state,
                "resource": f"{self.origin}/mcp",
            },
        )
        assert answer.status_code == 302, answer.text
        return answer.headers["Location"], verifier, state

    def paste(self, page_url: str, missive_token: str) -> httpx2.Response:
        """Open the sign-in page and submit its form with the token; the page that comes back."""
        form = self.http.get(page_url)
        assert form.status_code == 200 and 'name="missive_token"' in form.text
        request_id = re.search(r'name="request" value="([^"]+)"', form.text)
        assert request_id
        return self.http.post(
            f"{self.origin}/signin", data={"request": request_id.group(1), "missive_token": missive_token}
        )

    def allow(self, page: httpx2.Response, state: str) -> str:
        back = self.http.post(f"{self.origin}/signin/allow", data=allow_fields(page.text))
        assert back.status_code == 303, back.text
        query = parse_qs(urlparse(back.headers["Location"]).query)
        assert back.headers["Location"].startswith(REDIRECT) and query["state"] == [state]
        return query["code"][0]

    def exchange(self, meta: dict[str, Any], code: str, verifier: str) -> None:
        answer = self.http.post(
            meta["token_endpoint"],
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": REDIRECT,
                "code_verifier": verifier,
                "client_id": self.client_id,
                "resource": f"{self.origin}/mcp",
            },
        )
        assert answer.status_code == 200, answer.text
        self.access, self.refresh = answer.json()["access_token"], answer.json()["refresh_token"]

    def sign_in(self, missive_token: str) -> str:
        """The whole flow; the page's sentence saying whose token it is."""
        meta = self.discover()
        self.register(meta)
        page_url, verifier, state = self.start(meta)
        page = self.paste(page_url, missive_token)
        assert page.status_code == 200, page.text
        who = re.search(r'<p class="who">(.*?)</p>', page.text)
        assert who
        self.exchange(meta, self.allow(page, state), verifier)
        return who.group(1)

    def refresh_tokens(self) -> httpx2.Response:
        meta = self.http.get(f"{self.origin}/.well-known/oauth-authorization-server").json()
        answer = self.http.post(
            meta["token_endpoint"],
            data={"grant_type": "refresh_token", "refresh_token": self.refresh, "client_id": self.client_id},
        )
        if answer.status_code == 200:
            self.access, self.refresh = answer.json()["access_token"], answer.json()["refresh_token"]
        return answer

    def call(self, tool: str, origin: str | None = None, **arguments: Any) -> httpx2.Response:
        body = {"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {"name": tool, "arguments": arguments}}
        headers = HEADERS | {"Authorization": f"Bearer {self.access}"}
        return self.http.post(f"{origin or self.origin}/mcp", json=body, headers=headers)

    def me(self, origin: str | None = None) -> str:
        """Who Missive says the caller is, through the list_users tool."""
        answer = self.call("list_users", origin)
        assert answer.status_code == 200, answer.text
        users = json.loads(answer.json()["result"]["content"][0]["text"])["users"]
        return next(user["id"] for user in users if user.get("me"))


LIST = {"jsonrpc": "2.0", "id": 2, "method": "tools/list", "params": {}}


def allow_fields(page: str) -> dict[str, str]:
    """The hidden fields of the Allow form, as a browser submits them."""
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]+)">', page))


def tokens_sent(fake: FakeMissive) -> set[str]:
    return {r.headers.get("authorization", "") for r in fake.requests if r.path == "/v1/users"}


def test_two_people_sign_in_and_each_call_goes_out_with_their_own_token(fake: FakeMissive, tmp_path: Path) -> None:
    with team_server(fake, str(tmp_path / "team.sqlite3")) as origin:
        maya, jonas = OAuthClient(origin), OAuthClient(origin)
        assert maya.sign_in(DEMO_TOKEN) == "This token belongs to <b>Maya Chen &lt;maya@acme.example&gt;</b>."
        assert jonas.sign_in(JONAS_TOKEN) == "This token belongs to <b>Jonas Weber &lt;jonas@acme.example&gt;</b>."
        fake.requests.clear()
        assert maya.me() == DEMO_USER_ID
        assert tokens_sent(fake) == {f"Bearer {DEMO_TOKEN}"}
        fake.requests.clear()
        assert jonas.me() == JONAS_ID
        assert tokens_sent(fake) == {f"Bearer {JONAS_TOKEN}"}
        # The refresh token rotates: the new pair works, the old refresh token is spent.
        old_refresh = jonas.refresh
        assert jonas.refresh_tokens().status_code == 200
        assert jonas.me() == JONAS_ID
        jonas.refresh = old_refresh
        replay = jonas.refresh_tokens()
        assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant"


def test_a_revoked_grant_stops_at_once_and_a_public_client_may_revoke(fake: FakeMissive, tmp_path: Path) -> None:
    with team_server(fake, str(tmp_path / "team.sqlite3")) as origin:
        maya = OAuthClient(origin)
        maya.sign_in(DEMO_TOKEN)
        assert maya.me() == DEMO_USER_ID
        # RFC 7009: a public client (token_endpoint_auth_method none) revokes with its client_id alone.
        revoked = maya.http.post(f"{origin}/revoke", data={"token": maya.access, "client_id": maya.client_id})
        assert revoked.status_code == 200
        after = maya.call("list_users")
        assert after.status_code == 401
        assert maya.refresh_tokens().status_code == 400  # the whole grant went, refresh token included


def test_a_restarted_server_keeps_the_grants_and_stores_no_token_in_clear(fake: FakeMissive, tmp_path: Path) -> None:
    database = tmp_path / "team.sqlite3"
    port = free_port()
    with team_server(fake, str(database), port) as origin:
        jonas = OAuthClient(origin)
        jonas.sign_in(JONAS_TOKEN)
    with team_server(fake, str(database), port) as origin:
        assert jonas.me() == JONAS_ID
        assert jonas.refresh_tokens().status_code == 200
    stored = b"".join(path.read_bytes() for path in tmp_path.glob("team.sqlite3*"))
    assert b"jonas@acme.example" in stored  # the file is readable as such: what it must not hold is below
    for secret in (JONAS_TOKEN, jonas.access, jonas.refresh):
        assert secret.encode() not in stored
        assert base64.b64encode(secret.encode())[:16] not in stored


def test_a_token_outside_the_allowed_organizations_is_refused_on_the_page(fake: FakeMissive, tmp_path: Path) -> None:
    elsewhere = seed_id("organization", "elsewhere")
    fake.workspace.add(Organization(elsewhere, "Elsewhere Ltd"))
    fake.workspace.add(User(seed_id("user", "eve"), "Eve Outsider", "eve@elsewhere.example", [elsewhere]))
    fake.tokens["eve-token-0123456789"] = seed_id("user", "eve")
    with team_server(fake, str(tmp_path / "team.sqlite3"), allowed_organizations=DEMO_ORG_ID) as origin:
        eve = OAuthClient(origin)
        meta = eve.discover()
        eve.register(meta)
        page_url, _, _ = eve.start(meta)
        refused = eve.paste(page_url, "eve-token-0123456789")
        assert refused.status_code == 403
        reason = re.search(r'<p class="error">(.*?)</p>', refused.text)
        assert reason and reason.group(1) == (
            "This token&#x27;s owner is not a member of an organization this server is open to "
            f"(allowed: {DEMO_ORG_ID}). Ask the operator, or use a token of the right organization."
        )
        assert 'name="missive_token"' in refused.text  # the form again, to paste another token
        assert "eve-token" not in refused.text
        wrong = eve.paste(page_url, "not-a-token-anyone-issued")
        assert wrong.status_code == 401 and "Missive did not accept this token" in wrong.text
        assert OAuthClient(origin).sign_in(DEMO_TOKEN).startswith("This token belongs to <b>Maya Chen")


@pytest.mark.anyio
async def test_the_sdks_own_oauth_client_finds_the_sign_in_by_itself_and_calls_tools(
    fake: FakeMissive, tmp_path: Path
) -> None:
    """What Claude Code does with a URL: probe, discover, register, PKCE, browser, token; here the MCP SDK's
    OAuthClientProvider, with a "browser" that pastes Jonas's token into the page."""
    from mcp import Client
    from mcp.client.auth import OAuthClientProvider, TokenStorage
    from mcp.client.streamable_http import streamable_http_client
    from mcp.shared.auth import AuthorizationCodeResult, OAuthClientInformationFull, OAuthClientMetadata, OAuthToken

    class Memory(TokenStorage):
        def __init__(self) -> None:
            self.tokens: OAuthToken | None = None
            self.client: OAuthClientInformationFull | None = None

        async def get_tokens(self) -> OAuthToken | None:
            return self.tokens

        async def set_tokens(self, tokens: OAuthToken) -> None:
            self.tokens = tokens

        async def get_client_info(self) -> OAuthClientInformationFull | None:
            return self.client

        async def set_client_info(self, client_info: OAuthClientInformationFull) -> None:
            self.client = client_info

    back: list[str] = []

    async def browser(url: str) -> None:
        async with httpx2.AsyncClient(timeout=10, follow_redirects=True) as http:
            form = await http.get(url)  # /authorize, then the sign-in page
            request_id = re.search(r'name="request" value="([^"]+)"', form.text)
            assert request_id, form.text
            fields = {"request": request_id.group(1)}
            shown = await http.post(str(form.url).split("?")[0], data=fields | {"missive_token": JONAS_TOKEN})
            allowed = await http.post(f"{origin}/signin/allow", data=allow_fields(shown.text), follow_redirects=False)
            back.append(allowed.headers["Location"])

    async def callback() -> AuthorizationCodeResult:
        query = parse_qs(urlparse(back[-1]).query)
        return AuthorizationCodeResult(code=query["code"][0], state=query["state"][0])

    with team_server(fake, str(tmp_path / "team.sqlite3")) as origin:
        storage = Memory()
        auth = OAuthClientProvider(
            server_url=f"{origin}/mcp",
            client_metadata=OAuthClientMetadata(
                client_name="SDK client",
                redirect_uris=[REDIRECT],  # pyright: ignore[reportArgumentType]
                grant_types=["authorization_code", "refresh_token"],
                response_types=["code"],
                token_endpoint_auth_method="none",
            ),
            storage=storage,
            redirect_handler=browser,
            callback_handler=callback,
        )
        with anyio.fail_after(30):
            async with (
                httpx2.AsyncClient(auth=auth, timeout=10) as http,
                Client(streamable_http_client(f"{origin}/mcp", http_client=http)) as mcp,
            ):
                result = await mcp.call_tool("list_users", {})
    assert not result.is_error and storage.tokens is not None and storage.tokens.refresh_token
    users = result.structured_content["users"]  # type: ignore[index]
    assert next(user["id"] for user in users if user.get("me")) == JONAS_ID
    assert {r.headers["authorization"] for r in fake.requests if r.path == "/v1/users"} == {f"Bearer {JONAS_TOKEN}"}


def test_the_sign_in_pages_refuse_a_huge_form_and_an_unknown_or_spent_sign_in(
    fake: FakeMissive, tmp_path: Path
) -> None:
    with team_server(fake, str(tmp_path / "team.sqlite3")) as origin, httpx2.Client(timeout=10) as http:
        huge = http.post(f"{origin}/signin", data={"request": "x", "missive_token": "t" * 100_000})
        assert huge.status_code == 413
        unknown = http.get(f"{origin}/signin", params={"request": "made-up"})
        assert unknown.status_code == 400 and "expired or was already used" in unknown.text
        maya = OAuthClient(origin)
        meta = maya.discover()
        maya.register(meta)
        page_url, _, state = maya.start(meta)
        page = maya.paste(page_url, DEMO_TOKEN)
        maya.allow(page, state)
        request_id = re.search(r'name="request" value="([^"]+)"', page.text)
        assert request_id
        again = http.post(f"{origin}/signin/allow", data={"request": request_id.group(1)})
        assert again.status_code == 400 and "expired or was already used" in again.text


def test_the_command_line_serves_the_team_server_and_refuses_it_over_stdio(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MISSIVE")}
    port = free_port()
    team = env | {
        "MISSIVE_MCP_AUTH": "oauth",
        "MISSIVE_MCP_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "MISSIVE_MCP_SECRET_KEY": SECRET_KEY,
        "MISSIVE_MCP_DATABASE_URL": str(tmp_path / "cli.sqlite3"),
    }
    stdio = subprocess.run([sys.executable, "-m", "missive_mcp", "--demo"], capture_output=True, text=True, env=team)
    assert stdio.returncode == 2 and "set MISSIVE_MCP_TRANSPORT=http" in stdio.stderr
    command = [sys.executable, "-m", "missive_mcp", "--demo", "--transport", "http", "--port", str(port)]
    server = subprocess.Popen(command, env=team, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        with httpx2.Client(timeout=1) as http:
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline and server.poll() is None:
                try:
                    if http.get(f"http://127.0.0.1:{port}/health").status_code == 200:
                        break
                except httpx2.TransportError:
                    time.sleep(0.05)
        maya = OAuthClient(f"http://127.0.0.1:{port}")
        assert maya.sign_in(DEMO_TOKEN).startswith("This token belongs to <b>Maya Chen")
        assert maya.me() == DEMO_USER_ID
    finally:
        server.terminate()
        _, log = server.communicate(timeout=10)
    assert DEMO_TOKEN not in log and maya.access not in log and "signed in" in log


def test_behind_a_tls_proxy_the_public_host_is_accepted_and_a_foreign_one_refused(
    fake: FakeMissive, tmp_path: Path
) -> None:
    public = {"public_url": "https://mcp.example.com"}
    database = str(tmp_path / "team.sqlite3")
    team = TeamAuth(team_settings(fake, 8000, database, **public), transport=fake.transport())
    maya = Person(DEMO_USER_ID, "maya@acme.example", "Maya Chen", None)
    key, _ = anyio.run(lambda: team.create_key(maya, DEMO_TOKEN, "proxy test"))
    anyio.run(team.aclose)
    with team_server(fake, database, **public) as origin, httpx2.Client(timeout=10) as http:
        meta = http.get(f"{origin}/.well-known/oauth-authorization-server").json()
        assert meta["issuer"] == "https://mcp.example.com"
        assert meta["authorization_endpoint"] == "https://mcp.example.com/authorize"
        proxied = http.post(f"{origin}/mcp", json=LIST, headers=HEADERS | {"Host": "mcp.example.com"})
        assert proxied.status_code == 401  # reached the server, which asks for a sign-in
        assert (
            'resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp"'
            in (proxied.headers["WWW-Authenticate"])
        )
        signed = HEADERS | {"Authorization": f"Bearer {key}"}
        assert http.post(f"{origin}/mcp", json=LIST, headers=signed | {"Host": "mcp.example.com"}).status_code == 200
        foreign = http.post(f"{origin}/mcp", json=LIST, headers=signed | {"Host": "evil.example"})
        assert foreign.status_code == 421  # DNS-rebinding protection still holds
