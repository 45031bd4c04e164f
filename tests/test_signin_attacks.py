"""The team server tried as an attacker would, over HTTP on loopback with real OAuth flows: pastes that would blank
the log or grow memory, a flow started by another client, a stolen refresh token, a Missive that ignores a filter,
a database writer without the key, and key labels that would forge the operator's listing."""

from __future__ import annotations

import hashlib
import json
import logging
import re
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest

from missive_mcp import redact
from missive_mcp.http import create_http_app
from missive_mcp.limits import LocalLimits
from missive_mcp.redact import RedactingFilter
from missive_mcp.sandbox import DEMO_CONVERSATION_ID, DEMO_ORG_ID, DEMO_TOKEN, DEMO_USER_ID, FakeMissive
from missive_mcp.sandbox.seed import seed_id
from missive_mcp.sandbox.workspace import Organization, User
from missive_mcp.server import create_server

from .services import free_port, serve
from .test_auth import JONAS_ID, JONAS_TOKEN, OAuthClient, allow_fields, team_settings
from .test_keys import keys, me_of, me_with

EVE_TOKEN = "eve-elsewhere-token-0123456789"


@pytest.fixture
def fake() -> FakeMissive:
    fake = FakeMissive(report_delay=0.0)
    fake.tokens[JONAS_TOKEN] = JONAS_ID
    return fake


@contextmanager
def team(fake: FakeMissive, database: str, limits: LocalLimits | None = None, **overrides: Any) -> Iterator[str]:
    port = free_port()
    settings = team_settings(fake, port, database, **overrides)
    app = create_http_app(create_server(settings, transport=fake.transport(), limiter=limits), settings)
    with serve(app, port) as origin:
        yield origin


def started(origin: str) -> tuple[OAuthClient, str, str, str]:
    """A client that registered and went to /authorize: (it, the sign-in page URL, its PKCE verifier, state)."""
    client = OAuthClient(origin)
    meta = client.discover()
    client.register(meta)
    page_url, verifier, state = client.start(meta)
    return client, page_url, verifier, state


def request_id(page_url: str) -> str:
    found = re.search(r"request=([^&]+)", page_url)
    assert found
    return found.group(1)


# 2. The scrubber learns only proven secrets; pastes cost nothing that lasts; attempts are limited. ---------------


def test_a_pasted_identity_never_blanks_an_audit_line(
    fake: FakeMissive, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A stranger pastes Maya's user id, email, a client id and "signed in " into a sign-in page they started;
    Maya then signs in and writes, and the log still says who she is and what she did."""
    caplog.set_level(logging.INFO)
    caplog.handler.addFilter(RedactingFilter())  # the filter the command line puts on stderr
    with team(fake, str(tmp_path / "team.sqlite3"), signin_per_client=100) as origin:
        stranger, page_url, _, _ = started(origin)
        pastes = [DEMO_USER_ID, "maya@acme.example", stranger.client_id, "signed in ", "Maya Chen <maya@acme"]
        for paste in pastes:
            refused = stranger.paste(page_url, paste)
            assert refused.status_code == 401 and "Missive did not accept this token" in refused.text
        maya = OAuthClient(origin)
        maya.sign_in(DEMO_TOKEN)
        done = maya.call("update_conversation", conversation_ids=[DEMO_CONVERSATION_ID], color="#ff0000")
        assert done.status_code == 200 and not done.json()["result"].get("isError"), done.text
    assert all(redact.scrub(paste) == paste for paste in pastes)
    (audit,) = [json.loads(r.getMessage()) for r in caplog.records if r.name == "missive_mcp.audit"]
    assert audit["person"] == {"user_id": DEMO_USER_ID, "email": "maya@acme.example", "client_id": maya.client_id}
    assert audit["objects"] == {"conversation_ids": [DEMO_CONVERSATION_ID]}
    signed = [r.getMessage() for r in caplog.records if "signed in" in r.getMessage()]
    assert signed == [f"signed in {DEMO_USER_ID} (maya@acme.example) for client {maya.client_id}"]
    assert "[redacted]" not in caplog.text
    assert DEMO_TOKEN not in caplog.text and maya.access not in caplog.text


def test_four_thousand_bad_pastes_leave_no_secret_and_no_limiter_behind(fake: FakeMissive, tmp_path: Path) -> None:
    """Counted, not timed: each paste that Missive refuses leaves nothing in the scrubber or the limiters, while the
    token that signs in gets exactly one limiter."""
    limits = LocalLimits()
    before = redact.learned()
    many = {"signin_per_client": 10_000, "signin_per_address": 10_000}
    with team(fake, str(tmp_path / "team.sqlite3"), limits, **many) as origin:
        _, page_url, _, _ = started(origin)
        rid = request_id(page_url)

        async def paste_all() -> list[int]:
            statuses: list[int] = []
            async with httpx2.AsyncClient(timeout=30) as http:

                async def worker(first: int) -> None:
                    for n in range(first, 4000, 8):
                        answer = await http.post(
                            f"{origin}/signin", data={"request": rid, "missive_token": f"pasted-guess-{n:06d}-abcdefgh"}
                        )
                        statuses.append(answer.status_code)

                with anyio.fail_after(300):
                    async with anyio.create_task_group() as group:
                        for first in range(8):
                            group.start_soon(worker, first)
            return statuses

        statuses = anyio.run(paste_all)
        assert statuses == [401] * 4000
        assert limits.count() == 0 and redact.learned() == before
        assert redact.scrub("pasted-guess-000123-abcdefgh") == "pasted-guess-000123-abcdefgh"
        jonas = OAuthClient(origin)
        jonas.sign_in(JONAS_TOKEN)
        assert limits.count() == 0  # a sign-in's own check runs under a limiter of its own
        assert me_of(jonas.call("list_users")) == JONAS_ID
        assert limits.count() == 1  # the first call as Jonas: his token's limiter
    assert redact.scrub(f"Bearer {JONAS_TOKEN}") == "Bearer [redacted]"


def test_the_scrubber_keeps_the_most_recently_used_tokens_up_to_its_cap() -> None:
    try:
        redact.limit(10)
        tokens = [f"accepted-token-{n:04d}-0123456789" for n in range(50)]
        for token in tokens:
            redact.learn(token)
        assert redact.learned() == 10
        assert redact.scrub(tokens[-1]) == "[redacted]" and redact.scrub(tokens[0]) == tokens[0]
        redact.learn("short-token")  # shorter than any real token: never learned
        assert redact.scrub("a short-token here") == "a short-token here"
    finally:
        redact.limit(redact.DEFAULT_MAX_TOKENS)


def test_the_servers_own_tokens_never_reach_the_log(fake: FakeMissive, tmp_path: Path) -> None:
    issued = "mma_" + "A" * 43
    assert redact.scrub(f"token={issued};") == "token=[redacted];"


def test_sign_in_attempts_are_limited_per_client_and_per_address(
    fake: FakeMissive, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="missive_mcp.auth.signin")
    limited = {"signin_per_client": 3, "signin_per_address": 5, "signin_window": 600}
    with team(fake, str(tmp_path / "team.sqlite3"), **limited) as origin:
        stranger, page_url, _, _ = started(origin)
        assert [stranger.paste(page_url, f"guess-{n}-0123456789abcdef").status_code for n in range(3)] == [401] * 3
        refused = stranger.paste(page_url, DEMO_TOKEN)
        assert refused.status_code == 429 and 0 < int(refused.headers["Retry-After"]) <= 600
        assert "Too many sign-in attempts for this app: try again in 10 minutes." in refused.text
        other, other_url, _, _ = started(origin)
        assert other.paste(other_url, "guess-x-0123456789abcdef").status_code == 401  # another client: its own count
        assert other.paste(other_url, "guess-y-0123456789abcdef").status_code == 429  # the address's 5 are used
        assert "Too many sign-in attempts from your address" in other.paste(other_url, DEMO_TOKEN).text
        with httpx2.Client(timeout=10) as http:
            key_page = http.post(f"{origin}/keys", data={"label": "bot", "missive_token": DEMO_TOKEN})
        assert key_page.status_code == 429 and "from your address" in key_page.text
    warned = [r.getMessage() for r in caplog.records if r.name == "missive_mcp.auth.signin"]
    assert [line.split(" (")[0] for line in warned] == [  # once per limit and window, not once per refusal
        "Sign-in attempts over the limit for this app",
        "Sign-in attempts over the limit from your address",
    ]
    assert not any(
        r.path == "/v1/users" and r.headers.get("authorization") == f"Bearer {DEMO_TOKEN}" for r in fake.requests
    )


def test_attempt_counts_restart_with_each_window_and_stay_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    from missive_mcp.auth import signin

    now = [0.0]
    attempts = signin.Attempts(2, 60.0, clock=lambda: now[0])
    assert [attempts.take("a")[0] for _ in range(3)] == [0.0, 0.0, 60.0]
    now[0] = 59.0
    assert attempts.take("a") == (1.0, False)  # refused again, not logged again
    now[0] = 60.0
    assert attempts.take("a") == (0.0, False)  # a new window
    monkeypatch.setattr(signin, "MAX_TRACKED", 3)
    for n in range(10):  # ten addresses: only the three most recent are still counted
        attempts.take(f"address-{n}")
    assert set(attempts._counts) == {"address-7", "address-8", "address-9"}  # pyright: ignore[reportPrivateUsage]


# 3. Consent is bound to the browser. ---------------------------------------------------------------------------


def test_a_flow_started_by_another_client_cannot_be_allowed_without_the_browsers_secret(
    fake: FakeMissive, tmp_path: Path
) -> None:
    """A client registered as "Claude Code" starts a flow and sends the victim its sign-in link. The victim pastes
    their token in their browser; the client, which knows the request id from /authorize's Location, posts the
    Allow itself. It gets no code, and the sign-in is spent."""
    with team(fake, str(tmp_path / "team.sqlite3")) as origin:
        attacker, page_url, _, _ = started(origin)
        with httpx2.Client(timeout=10) as browser:
            form = browser.get(page_url)
            fields = {"request": request_id(page_url), "missive_token": JONAS_TOKEN}
            shown = browser.post(f"{origin}/signin", data=fields)
            assert form.status_code == 200 and shown.status_code == 200 and "Jonas Weber" in shown.text
            # The attacker posts the Allow with the request id it read from /authorize's Location.
            bare = attacker.http.post(f"{origin}/signin/allow", data={"request": request_id(page_url)})
            assert bare.status_code == 403 and "Location" not in bare.headers
            assert "not confirmed from the browser where the token was pasted" in bare.text
            cookie = shown.headers["set-cookie"]
            assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/signin" in cookie
            assert "Secure" not in cookie  # http on loopback here; an https public URL makes it Secure
            # The sign-in is spent: even the victim's own Allow no longer goes through.
            late = browser.post(f"{origin}/signin/allow", data=allow_fields(shown.text))
            assert late.status_code == 400 and "Location" not in late.headers
        # With the page's field but not the browser's cookie, a fresh flow fails the same way.
        attacker, page_url, _, _ = started(origin)
        with httpx2.Client(timeout=10) as browser:
            shown = browser.post(
                f"{origin}/signin", data={"request": request_id(page_url), "missive_token": JONAS_TOKEN}
            )
            copied = attacker.http.post(f"{origin}/signin/allow", data=allow_fields(shown.text))
            assert copied.status_code == 403 and "Location" not in copied.headers


def test_behind_https_the_consent_cookie_is_secure(fake: FakeMissive, tmp_path: Path) -> None:
    public = "https://mcp.example.com"
    with team(fake, str(tmp_path / "team.sqlite3"), public_url=public) as origin, httpx2.Client(timeout=10) as http:
        client = OAuthClient(origin)
        client.register({"registration_endpoint": f"{origin}/register"})
        start = http.get(
            f"{origin}/authorize",
            params={
                "response_type": "code",
                "client_id": client.client_id,
                "redirect_uri": "http://127.0.0.1:9/callback",
                "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
                "code_challenge_method": "S256",
                "resource": f"{public}/mcp",
            },
        )
        assert start.status_code == 302 and start.headers["Location"].startswith(f"{public}/signin?request=")
        shown = http.post(
            f"{origin}/signin", data={"request": request_id(start.headers["Location"]), "missive_token": DEMO_TOKEN}
        )
    assert shown.status_code == 200, shown.text
    assert "Secure" in shown.headers["set-cookie"] and "HttpOnly" in shown.headers["set-cookie"]


# 4. A replayed refresh token ends the grant. ---------------------------------------------------------------------


def test_a_replayed_refresh_token_ends_the_whole_grant(
    fake: FakeMissive, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="missive_mcp.audit")
    database = tmp_path / "team.sqlite3"
    with team(fake, str(database)) as origin:
        victim = OAuthClient(origin)
        victim.sign_in(JONAS_TOKEN)
        stolen = victim.refresh
        attacker = OAuthClient(origin)
        attacker.client_id, attacker.refresh = victim.client_id, stolen
        assert attacker.refresh_tokens().status_code == 200  # the attacker redeems it first
        assert me_of(attacker.call("list_users")) == JONAS_ID
        replay = victim.refresh_tokens()  # the rightful client comes back with the same (now spent) token
        assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant"
        assert attacker.call("list_users").status_code == 401
        assert attacker.refresh_tokens().status_code == 400
        assert victim.call("list_users").status_code == 401
    (line,) = [json.loads(r.getMessage()) for r in caplog.records if r.name == "missive_mcp.audit"]
    assert line["event"] == "refresh_token_reuse" and line["client_id"] == victim.client_id
    with sqlite3.connect(database) as db:
        assert db.execute("SELECT revoked_at IS NOT NULL, sealed_token FROM grants").fetchall() == [(1, "")]
        assert db.execute("SELECT count(*) FROM secrets").fetchone() == (0,)


# 5. Membership comes from /organizations. ------------------------------------------------------------------------


def test_a_non_member_is_refused_even_when_missive_ignores_the_organization_filter(
    fake: FakeMissive, tmp_path: Path
) -> None:
    elsewhere = seed_id("organization", "elsewhere")
    fake.workspace.add(Organization(elsewhere, "Elsewhere Ltd"))
    fake.workspace.add(User(seed_id("user", "eve"), "Eve Outsider", "eve@elsewhere.example", [elsewhere]))
    fake.tokens[EVE_TOKEN] = seed_id("user", "eve")
    fake.users_ignore_organization = True
    with team(fake, str(tmp_path / "team.sqlite3"), allowed_organizations=DEMO_ORG_ID) as origin:
        eve, page_url, _, _ = started(origin)
        refused = eve.paste(page_url, EVE_TOKEN)
        assert refused.status_code == 403 and "not a member of an organization this server is open to" in refused.text
        fake.requests.clear()
        assert OAuthClient(origin).sign_in(DEMO_TOKEN).startswith("This token belongs to <b>Maya Chen")
    asked = [(r.path, r.query.get("offset")) for r in fake.requests if r.path in ("/v1/organizations", "/v1/users")]
    assert asked == [("/v1/organizations", "0"), ("/v1/users", "0")]
    assert next(r for r in fake.requests if r.path == "/v1/users").query["organization"] == DEMO_ORG_ID


def test_membership_reads_every_page_of_organizations(fake: FakeMissive, tmp_path: Path) -> None:
    for n in range(250):  # Maya belongs to 251 organizations; the allowed one comes last
        org = seed_id("organization", f"extra-{n}")
        fake.workspace.add(Organization(org, f"Extra {n}"))
        fake.workspace.users[DEMO_USER_ID].organization_ids.insert(0, org)
    with team(fake, str(tmp_path / "team.sqlite3"), allowed_organizations=DEMO_ORG_ID) as origin:
        assert OAuthClient(origin).sign_in(DEMO_TOKEN).startswith("This token belongs to <b>Maya Chen")
    offsets = [r.query["offset"] for r in fake.requests if r.path == "/v1/organizations"]
    assert offsets == ["0", "200"]


# 8. Keyed digests, sealed tokens of revoked grants, key labels. --------------------------------------------------


def test_a_row_written_without_the_secret_key_opens_nothing(fake: FakeMissive, tmp_path: Path) -> None:
    """Someone who can write to the database (not read the key) adds a bearer of their own to Jonas's grant."""
    database = tmp_path / "team.sqlite3"
    with team(fake, str(database)) as origin:
        jonas = OAuthClient(origin)
        jonas.sign_in(JONAS_TOKEN)
        with sqlite3.connect(database) as db:
            (grant_id,) = db.execute("SELECT id FROM grants").fetchone()
            for kind, bearer in (("access", "mma_" + "x" * 43), ("key", "mmk_" + "y" * 43)):
                digest = hashlib.sha256(bearer.encode()).hexdigest()
                db.execute(
                    "INSERT INTO secrets (digest, kind, grant_id, expires_at, data) VALUES (?, ?, ?, NULL, NULL)",
                    (digest, kind, grant_id),
                )
        assert me_with(origin, "mma_" + "x" * 43).status_code == 401
        assert me_with(origin, "mmk_" + "y" * 43).status_code == 401
        assert me_of(me_with(origin, jonas.access)) == JONAS_ID


def test_a_stored_bearer_moved_to_another_grant_opens_nothing(fake: FakeMissive, tmp_path: Path) -> None:
    """A database writer without the key points their own bearer's row at the victim's grant, or stretches its
    expiry: the row no longer matches the tag the server gave it."""
    database = tmp_path / "team.sqlite3"
    with team(fake, str(database)) as origin:
        maya, jonas = OAuthClient(origin), OAuthClient(origin)
        maya.sign_in(DEMO_TOKEN)
        jonas.sign_in(JONAS_TOKEN)
        with sqlite3.connect(database) as db:
            grants = dict(db.execute("SELECT client_id, id FROM grants").fetchall())
            db.execute(
                "UPDATE secrets SET grant_id = ? WHERE grant_id = ? AND kind = 'access'",
                (grants[maya.client_id], grants[jonas.client_id]),
            )
        fake.requests.clear()
        assert me_with(origin, jonas.access).status_code == 401
        assert f"Bearer {DEMO_TOKEN}" not in {r.headers.get("authorization") for r in fake.requests}
        assert me_of(me_with(origin, maya.access)) == DEMO_USER_ID  # the rightful rows still open
        with sqlite3.connect(database) as db:
            db.execute(
                "UPDATE secrets SET expires_at = expires_at + 86400 WHERE grant_id = ?", (grants[maya.client_id],)
            )
        assert me_with(origin, maya.access).status_code == 401


def test_revoking_a_grant_deletes_its_sealed_token(fake: FakeMissive, tmp_path: Path) -> None:
    database = tmp_path / "team.sqlite3"
    with team(fake, str(database)) as origin:
        maya = OAuthClient(origin)
        maya.sign_in(DEMO_TOKEN)
        with sqlite3.connect(database) as db:
            assert db.execute("SELECT sealed_token FROM grants").fetchone()[0]
        assert maya.http.post(f"{origin}/revoke", data={"token": maya.access, "client_id": maya.client_id}).is_success
    with sqlite3.connect(database) as db:
        assert db.execute("SELECT revoked_at IS NOT NULL, sealed_token FROM grants").fetchall() == [(1, "")]
    status, _, said = keys(fake, str(database), "reseal")
    assert status == 0 and said == ["Re-sealed 0 stored token(s) with the first MISSIVE_MCP_SECRET_KEY."]


@pytest.mark.parametrize(
    "label",
    ["bot\nmmk_forged  key    boss@acme.example  admin", "\x1b[2J\x1b[Hall keys revoked", "tab\there", ""],
)
def test_a_key_label_must_be_one_printable_line(fake: FakeMissive, tmp_path: Path, label: str) -> None:
    database = str(tmp_path / "team.sqlite3")
    status, out, said = keys(fake, database, "create", label)
    assert status == 2 and out == []
    assert said[0].startswith("missive-mcp keys: The key's label ")
    with team(fake, database) as origin, httpx2.Client(timeout=10) as http:
        page = http.post(f"{origin}/keys", data={"label": label, "missive_token": JONAS_TOKEN})
    assert page.status_code == 400 and "The key&#x27;s label " in page.text and "mmk_" not in page.text
    assert keys(fake, database, "list")[1] == []


def test_keys_list_cannot_be_forged_by_a_stored_label(fake: FakeMissive, tmp_path: Path) -> None:
    """A label written by an older version (or straight into the database) still lists as one line."""
    database = str(tmp_path / "team.sqlite3")
    assert keys(fake, database, "create", "nightly bot")[0] == 0
    with sqlite3.connect(database) as db:
        db.execute("UPDATE grants SET label = ?", ("bot\nffff  key    boss@acme.example  admin\x1b[2K",))
    status, listed, _ = keys(fake, database, "list")
    assert status == 0 and len(listed) == 1
    assert "bot\\nffff  key    boss@acme.example  admin\\x1b[2K" in listed[0]


def test_an_upgraded_database_signs_everyone_out_rather_than_trust_unkeyed_digests(tmp_path: Path) -> None:
    from missive_mcp.auth.store import MIGRATIONS, SQLite, Store

    async def upgrade() -> list[Any]:
        db = SQLite(str(tmp_path / "old.sqlite3"))
        steps = [
            ("CREATE TABLE schema_version (version INTEGER NOT NULL)", ()),
            ("INSERT INTO schema_version VALUES (1)", ()),
        ]
        steps += [(sql.format(int="INTEGER"), ()) for sql in MIGRATIONS[0]]
        steps += [
            (
                "INSERT INTO grants (id, kind, client_id, user_id, sealed_token, scopes, created_at)"
                " VALUES ('g1', 'key', 'server-key', 'u1', 'sealed', '[]', 1)",
                (),
            ),
            (
                "INSERT INTO secrets (digest, kind, grant_id) VALUES (?, 'key', 'g1')",
                (hashlib.sha256(b"k").hexdigest(),),
            ),
        ]
        await db.run(steps)
        store = Store(db)
        version = await store.migrate()
        rows = await db.run([("SELECT revoked_at, sealed_token FROM grants", ())])
        left = await db.run([("SELECT count(*) FROM secrets", ())])
        await store.aclose()
        return [version, rows, left]

    assert anyio.run(upgrade) == [len(MIGRATIONS), [(1, "")], [(0,)]]
