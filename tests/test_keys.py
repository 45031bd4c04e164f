"""Server keys for headless agents (the `missive-mcp keys` command and the /keys page), key rotation, and the
audit line every write leaves."""

from __future__ import annotations

import base64
import json
import logging
import os
import re
import subprocess
import sys
from pathlib import Path

import anyio
import httpx2
import pytest
from mcp import Client

from missive_mcp.auth.keys import run_keys
from missive_mcp.sandbox import DEMO_CONVERSATION_ID, DEMO_ORG_ID, DEMO_TOKEN, DEMO_USER_ID, FakeMissive, Fault
from missive_mcp.server import create_server

from .conftest import call, fail, settings_for
from .test_auth import HEADERS, JONAS_ID, JONAS_TOKEN, SECRET_KEY, OAuthClient, team_server, team_settings

NEW_KEY = base64.urlsafe_b64encode(bytes(range(100, 132))).decode()


@pytest.fixture
def fake() -> FakeMissive:
    fake = FakeMissive(report_delay=0.0)
    fake.tokens[JONAS_TOKEN] = JONAS_ID
    return fake


def keys(
    fake: FakeMissive, database: str, *args: str, token: str = JONAS_TOKEN, **overrides: object
) -> tuple[int, list[str], list[str]]:
    """Run `missive-mcp keys ...` in process: (exit status, stdout lines, stderr lines)."""
    out: list[str] = []
    said: list[str] = []
    settings = team_settings(fake, 8000, database, **overrides)
    status = anyio.run(
        lambda: run_keys(
            settings, args, transport=fake.transport(), out=out.append, say=said.append, token=lambda _: token
        )
    )
    return status, out, said


def me_with(origin: str, bearer: str) -> httpx2.Response:
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "list_users", "arguments": {}}}
    with httpx2.Client(timeout=10) as http:
        return http.post(f"{origin}/mcp", json=body, headers=HEADERS | {"Authorization": f"Bearer {bearer}"})


def me_of(answer: httpx2.Response) -> str:
    assert answer.status_code == 200, answer.text
    users = json.loads(answer.json()["result"]["content"][0]["text"])["users"]
    return next(user["id"] for user in users if user.get("me"))


def test_an_operators_key_acts_as_its_person_until_revoked(fake: FakeMissive, tmp_path: Path) -> None:
    database = str(tmp_path / "team.sqlite3")
    status, out, said = keys(fake, database, "create", "nightly triage bot")
    assert status == 0 and len(out) == 1 and out[0].startswith("mmk_")
    assert said[0].startswith("Server key ") and "Jonas Weber <jonas@acme.example> (nightly triage bot)" in said[0]
    key = out[0]
    status, listed, _ = keys(fake, database, "list")
    assert status == 0 and len(listed) == 1 and "key    jonas@acme.example  nightly triage bot" in listed[0]
    grant_id = listed[0].split()[0]
    with team_server(fake, database) as origin:
        fake.requests.clear()
        assert me_of(me_with(origin, key)) == JONAS_ID
        assert {r.headers["authorization"] for r in fake.requests} == {f"Bearer {JONAS_TOKEN}"}
        assert keys(fake, database, "revoke", grant_id)[0] == 0
        assert me_with(origin, key).status_code == 401
    assert keys(fake, database, "list")[1] == []
    status, _, said = keys(fake, database, "revoke", grant_id)
    assert status == 1 and "no live key or sign-in has the id" in said[0]
    assert b"mmk_" not in Path(database).read_bytes() and JONAS_TOKEN.encode() not in Path(database).read_bytes()


def test_the_keys_command_refuses_a_token_missive_rejects(fake: FakeMissive, tmp_path: Path) -> None:
    status, out, said = keys(fake, str(tmp_path / "t.sqlite3"), "create", "bot", token="nobody-has-this-token")
    assert status == 1 and out == []
    assert said == ["missive-mcp keys: Missive did not accept this token: it is invalid or was revoked."]


def test_the_keys_command_explains_itself_without_the_team_server(fake: FakeMissive, tmp_path: Path) -> None:
    said: list[str] = []
    status = anyio.run(lambda: run_keys(settings_for(fake), ["list"], say=said.append))
    assert status == 2 and said == [
        "missive-mcp keys: keys are for the team server; set MISSIVE_MCP_AUTH=oauth (and its settings) first."
    ]
    status, _, said = keys(fake, str(tmp_path / "t.sqlite3"), "rotate")
    assert status == 2 and said == ["usage: missive-mcp keys create LABEL | list | revoke ID | reseal"]


def test_the_keys_command_reads_the_persons_token_from_standard_input(fake: FakeMissive, tmp_path: Path) -> None:
    database = tmp_path / "team.sqlite3"
    env = {k: v for k, v in os.environ.items() if not k.startswith("MISSIVE")}
    with fake.serve() as base_url:
        team = env | {
            "MISSIVE_MCP_AUTH": "oauth",
            "MISSIVE_MCP_PUBLIC_URL": "https://mcp.example.com",
            "MISSIVE_MCP_SECRET_KEY": SECRET_KEY,
            "MISSIVE_MCP_DATABASE_URL": str(database),
            "MISSIVE_API_BASE_URL": base_url,
        }
        command = [sys.executable, "-m", "missive_mcp", "keys", "create", "inbox bot"]
        done = subprocess.run(command, input=JONAS_TOKEN + "\n", capture_output=True, text=True, env=team, timeout=30)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("mmk_") and done.stdout.count("\n") == 1
    assert "Jonas Weber <jonas@acme.example> (inbox bot)" in done.stderr and JONAS_TOKEN not in done.stderr
    assert keys(fake, str(database), "list")[1][0].split()[1:4] == ["key", "jonas@acme.example", "inbox"]


def test_a_person_takes_a_key_on_the_keys_page(fake: FakeMissive, tmp_path: Path) -> None:
    with team_server(fake, str(tmp_path / "team.sqlite3")) as origin, httpx2.Client(timeout=10) as http:
        assert 'name="missive_token"' in http.get(f"{origin}/keys").text
        page = http.post(f"{origin}/keys", data={"label": "my agent", "missive_token": DEMO_TOKEN})
        assert page.status_code == 200 and "Maya Chen &lt;maya@acme.example&gt;" in page.text
        assert DEMO_TOKEN not in page.text
        key = re.search(r"<code>(mmk_[^<]+)</code>", page.text)
        assert key and me_of(me_with(origin, key.group(1))) == DEMO_USER_ID


def test_after_a_key_rotation_old_tokens_open_and_reseal_moves_them_to_the_new_key(
    fake: FakeMissive, tmp_path: Path
) -> None:
    database = str(tmp_path / "team.sqlite3")
    key = keys(fake, database, "create", "bot")[1][0]
    rotated = f"{NEW_KEY},{SECRET_KEY}"
    with team_server(fake, database, secret_key=rotated) as origin:
        assert me_of(me_with(origin, key)) == JONAS_ID  # sealed with the old key, opened with it
    status, _, said = keys(fake, database, "reseal", secret_key=rotated)
    assert status == 0 and said == ["Re-sealed 1 stored token(s) with the first MISSIVE_MCP_SECRET_KEY."]
    with team_server(fake, database, secret_key=NEW_KEY) as origin:
        assert me_of(me_with(origin, key)) == JONAS_ID  # the old key is no longer needed
    with team_server(fake, database, secret_key=SECRET_KEY) as origin:
        assert me_with(origin, key).status_code == 401  # a server without the sealing key opens nothing


def test_every_write_leaves_one_audit_line_with_who_what_and_how_it_went(
    fake: FakeMissive, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="missive_mcp.audit")
    with team_server(fake, str(tmp_path / "team.sqlite3")) as origin:
        jonas = OAuthClient(origin)
        jonas.sign_in(JONAS_TOKEN)
        jonas.call("list_users")  # a read: no audit line
        done = jonas.call("update_conversation", conversation_ids=[DEMO_CONVERSATION_ID], color="#ff0000")
        assert done.status_code == 200 and not done.json()["result"].get("isError"), done.text
        refused = jonas.call("update_conversation", conversation_ids=["no-such-conversation"], color="#ff0000")
        assert refused.json()["result"]["isError"]
    lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == "missive_mcp.audit"]
    person = {"user_id": JONAS_ID, "email": "jonas@acme.example", "client_id": jonas.client_id}
    assert lines == [
        {
            "event": "write",
            "tool": "update_conversation",
            "person": person,
            "objects": {"conversation_ids": [DEMO_CONVERSATION_ID]},
            "outcome": "ok",
        },
        {
            "event": "write",
            "tool": "update_conversation",
            "person": person,
            "objects": {"conversation_ids": ["no-such-conversation"]},
            "outcome": "error",
        },
    ]
    assert all(JONAS_TOKEN not in r.getMessage() for r in caplog.records)


@pytest.mark.anyio
async def test_a_single_key_servers_writes_are_audited_without_a_person(
    fake: FakeMissive, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="missive_mcp.audit")
    async with Client(create_server(settings_for(fake), transport=fake.transport())) as mcp:
        await call(mcp, "update_conversation", conversation_ids=[DEMO_CONVERSATION_ID], color="#00ff00")
        await fail(mcp, "list_conversations", inbox=True, limit=0)  # a read: no line
        fake.faults.append(Fault(drop=True, method="POST", after_write=True))  # the draft is made, its answer lost
        await fail(mcp, "create_draft", conversation=DEMO_CONVERSATION_ID, body="Lost answer")
    lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == "missive_mcp.audit"]
    assert lines == [
        {
            "event": "write",
            "tool": "update_conversation",
            "person": None,
            "objects": {"conversation_ids": [DEMO_CONVERSATION_ID]},
            "outcome": "ok",
        },
        {
            "event": "write",
            "tool": "create_draft",
            "person": None,
            "objects": {"conversation": DEMO_CONVERSATION_ID},
            "outcome": "unknown",
        },
    ]
    assert DEMO_TOKEN not in caplog.text


@pytest.mark.anyio
async def test_the_audit_line_has_the_resolved_ids_and_what_was_created(
    fake: FakeMissive, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="missive_mcp.audit")
    async with Client(create_server(settings_for(fake), transport=fake.transport())) as mcp:
        teams = {t["name"]: t["id"] for t in (await call(mcp, "list_teams"))["teams"]}
        name = next(iter(teams))
        task = await call(mcp, "create_task", title="Call back", team=name, organization=DEMO_ORG_ID)
    (line,) = [json.loads(r.getMessage()) for r in caplog.records if r.name == "missive_mcp.audit"]
    assert line["objects"] == {"team": teams[name], "organization": DEMO_ORG_ID, "created": task["task"]["id"]}
