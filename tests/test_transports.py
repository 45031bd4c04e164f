"""The server as clients meet it: a spawned stdio process, the HTTP transport over loopback, the doctor."""

from __future__ import annotations

import io
import logging
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest
import uvicorn
from mcp import Client, StdioServerParameters
from mcp.client.stdio import stdio_client
from pydantic import SecretStr

from missive_mcp.__main__ import configure_logging
from missive_mcp.doctor import run_check
from missive_mcp.http import create_http_app
from missive_mcp.sandbox import DEMO_MESSAGE_ID, DEMO_ORG_ID, DEMO_TOKEN, FakeMissive
from missive_mcp.server import TOOLS, create_server
from missive_mcp.settings import Settings
from missive_mcp.toolsets import DEFAULT_TOOLSET_IDS as DEFAULT_TOOLSETS

from .conftest import settings_for, structured, text_of

ROOT = Path(__file__).parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.anyio
async def test_stdio_process_serves_the_fake_on_loopback(fake: FakeMissive) -> None:
    with fake.serve() as base_url:
        env = {**os.environ, "MISSIVE_API_TOKEN": DEMO_TOKEN, "MISSIVE_API_BASE_URL": base_url}
        params = StdioServerParameters(command=sys.executable, args=["-m", "missive_mcp"], env=env, cwd=str(ROOT))
        with anyio.fail_after(30):
            async with Client(params) as mcp:
                tools = await mcp.list_tools()
                result = await mcp.call_tool("list_conversations", {"inbox": True, "limit": 3})
    assert [tool.name for tool in tools.tools] == [t.name for t in TOOLS if t.toolset.id in DEFAULT_TOOLSETS]
    assert not result.is_error and structured(result)["conversations"]
    assert any(r.path == "/v1/conversations" for r in fake.requests)


@pytest.mark.anyio
async def test_a_token_echoed_by_missive_reaches_neither_the_agent_nor_the_debug_log(tmp_path: Path) -> None:
    """The stdio server at DEBUG, against a Missive that echoes the token in a header, error bodies and message
    texts: the client's scrub keeps it out of results, and nothing the server logs carries it."""
    fake = FakeMissive(report_delay=0.0, echo_token=True)
    stderr = tmp_path / "stderr.log"
    with fake.serve() as base_url, stderr.open("w") as errlog:
        env = {**os.environ, "MISSIVE_API_TOKEN": DEMO_TOKEN, "MISSIVE_API_BASE_URL": base_url}
        env["MISSIVE_LOG_LEVEL"] = "DEBUG"
        params = StdioServerParameters(command=sys.executable, args=["-m", "missive_mcp"], env=env, cwd=str(ROOT))
        with anyio.fail_after(30):
            async with Client(stdio_client(params, errlog=errlog)) as mcp:
                message = await mcp.call_tool("get_messages", {"message_ids": [DEMO_MESSAGE_ID]})
                refused = await mcp.call_tool(
                    "create_draft", {"body": "Hi", "from_field": {"address": "ceo@elsewhere.example"}}
                )
    seen = message.model_dump_json() + refused.model_dump_json()
    log = stderr.read_text()
    assert DEMO_TOKEN not in seen
    assert DEMO_TOKEN not in log
    assert "Bearer [redacted]" in structured(message)["messages"][0]["body"]  # the fake did echo it
    assert "(request had Authorization: Bearer [redacted])" in text_of(refused.content[0])
    assert "DEBUG" in log  # the log was at DEBUG


def test_the_log_redacts_every_secret_whatever_logged_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """A library logging a header or a URL with a secret in it (the HTTP stack does at DEBUG) still writes none."""
    stream = io.StringIO()
    monkeypatch.setattr(sys, "stderr", stream)
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    settings = Settings(
        api_token=SecretStr("tok-secret-1"), mcp_auth_token=SecretStr("key-secret-2"), log_level="DEBUG"
    )
    try:
        configure_logging(settings)
        logging.getLogger("some.library").debug("headers=%s", [(b"authorization", b"Bearer tok-secret-1")])
        logging.getLogger("some.library").info("key key-secret-2 and tok-secret-1 again")
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
    written = stream.getvalue()
    assert "secret" not in written
    assert "headers=[(b'authorization', b'Bearer [redacted]')]" in written
    assert "key [redacted] and [redacted] again" in written


@pytest.mark.anyio
async def test_demo_mode_needs_no_token() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MISSIVE_")}
    params = StdioServerParameters(command=sys.executable, args=["-m", "missive_mcp", "--demo"], env=env)
    with anyio.fail_after(30):
        async with Client(params) as mcp:
            result = await mcp.call_tool("list_organizations", {})
    assert not result.is_error and [o["id"] for o in structured(result)["organizations"]] == [DEMO_ORG_ID]


@pytest.fixture
def http_server(fake: FakeMissive) -> Iterator[tuple[str, str]]:
    key = "test-key-" + "x" * 24
    port = free_port()
    settings = settings_for(fake, mcp_auth_token=SecretStr(key), port=port)
    app = create_http_app(create_server(settings, transport=fake.transport()), settings)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.01)
    yield f"http://127.0.0.1:{port}", key
    server.should_exit = True
    thread.join(5)


INIT = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}},
}
LIST = {"jsonrpc": "2.0", "id": 2, "method": "tools/list", "params": {}}
HEADERS = {"Accept": "application/json, text/event-stream", "MCP-Protocol-Version": "2025-11-25"}


def test_http_refuses_a_missing_or_wrong_key_and_serves_the_right_one(http_server: tuple[str, str]) -> None:
    url, key = http_server
    with httpx2.Client(timeout=10) as http:
        assert http.post(f"{url}/mcp", json=INIT, headers=HEADERS).status_code == 401
        wrong = http.post(f"{url}/mcp", json=INIT, headers=HEADERS | {"Authorization": "Bearer nope"})
        assert wrong.status_code == 401 and "Bearer" in wrong.headers["WWW-Authenticate"]
        auth = HEADERS | {"Authorization": f"Bearer {key}"}
        assert http.post(f"{url}/mcp", json=INIT, headers=auth).status_code == 200
        listed = http.post(f"{url}/mcp", json=LIST, headers=auth)
        assert listed.status_code == 200 and "read_conversation" in listed.text
        assert http.get(f"{url}/health").json()["status"] == "ok"


def test_http_refuses_a_foreign_host_or_origin(http_server: tuple[str, str]) -> None:
    url, key = http_server
    auth = HEADERS | {"Authorization": f"Bearer {key}"}
    with httpx2.Client(timeout=10) as http:
        assert http.post(f"{url}/mcp", json=INIT, headers=auth | {"Host": "evil.example"}).status_code == 421
        assert http.post(f"{url}/mcp", json=INIT, headers=auth | {"Origin": "http://evil.example"}).status_code == 403


def test_http_transport_will_not_start_without_a_key(fake: FakeMissive) -> None:
    settings = settings_for(fake)
    with pytest.raises(ValueError, match="MISSIVE_MCP_AUTH_TOKEN"):
        create_http_app(create_server(settings), settings)


@pytest.mark.anyio
async def test_check_reports_who_the_token_belongs_to(fake: FakeMissive) -> None:
    lines: list[str] = []
    code = await run_check(settings_for(fake), transport=fake.transport(), out=lines.append)
    text = "\n".join(lines)
    assert code == 0 and "Token: works, for" in text and "Organizations:" in text


@pytest.mark.anyio
async def test_check_explains_a_missing_or_rejected_token(fake: FakeMissive) -> None:
    lines: list[str] = []
    assert await run_check(Settings(base_url=fake.base_url), transport=fake.transport(), out=lines.append) == 1
    assert "Token: not set" in "\n".join(lines)
    lines.clear()
    bad = settings_for(fake, api_token=SecretStr("missive_pat-bad"))
    assert await run_check(bad, transport=fake.transport(), out=lines.append) == 1
    assert "rejected" in "\n".join(lines) and "missive_pat-bad" not in "\n".join(lines)


def test_cli_explains_itself() -> None:
    out = subprocess.run([sys.executable, "-m", "missive_mcp", "--help"], capture_output=True, text=True, check=True)
    for flag in ("--demo", "--transport", "--read-only", "--allow-send", "--toolsets", "--log-level", "check"):
        assert flag in out.stdout
    bad = subprocess.run(
        [sys.executable, "-m", "missive_mcp"],
        capture_output=True,
        text=True,
        env={**os.environ, "MISSIVE_TOOLSETS": "nope"},
    )
    assert bad.returncode == 2 and "MISSIVE_TOOLSETS" in bad.stderr and not bad.stdout


def test_every_flag_mirrors_an_environment_variable() -> None:
    """--help names each flag's variable, and the serving flags really read theirs."""
    help_text = subprocess.run(
        [sys.executable, "-m", "missive_mcp", "--help"], capture_output=True, text=True, check=True
    ).stdout
    for variable in ("MISSIVE_DEMO", "MISSIVE_MCP_TRANSPORT", "MISSIVE_MCP_HOST", "MISSIVE_MCP_PORT",
                     "MISSIVE_API_BASE_URL", "MISSIVE_READ_ONLY", "MISSIVE_ALLOW_SEND", "MISSIVE_TOOLSETS",
                     "MISSIVE_SEND_ALLOWED_DOMAINS", "MISSIVE_TIMEOUT", "MISSIVE_LOG_LEVEL",
                     "MISSIVE_MCP_ALLOWED_HOSTS"):  # fmt: skip
        assert variable in help_text, variable
    env = {k: v for k, v in os.environ.items() if not k.startswith("MISSIVE")}
    bad_port = subprocess.run(
        [sys.executable, "-m", "missive_mcp"],
        capture_output=True,
        text=True,
        env={**env, "MISSIVE_MCP_TRANSPORT": "http", "MISSIVE_MCP_PORT": "eighty"},
    )
    assert bad_port.returncode == 2 and "MISSIVE_MCP_PORT" in bad_port.stderr and "'eighty'" in bad_port.stderr
    demo_check = subprocess.run(
        [sys.executable, "-m", "missive_mcp", "check"], capture_output=True, text=True, env={**env, "MISSIVE_DEMO": "1"}
    )
    assert demo_check.returncode == 0, demo_check.stdout + demo_check.stderr


def test_debug_logging_leaves_the_http_stack_quiet() -> None:
    import logging

    from missive_mcp.__main__ import configure_logging

    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    try:
        configure_logging(Settings(log_level="DEBUG"))
        assert logging.getLogger("missive_mcp").isEnabledFor(logging.DEBUG)
        for noisy in ("httpcore2", "httpx2", "httpcore"):
            assert not logging.getLogger(noisy).isEnabledFor(logging.DEBUG), noisy
    finally:
        root.handlers[:], _ = saved[0], root.setLevel(saved[1])


@pytest.mark.anyio
async def test_the_demo_lets_a_new_user_post_task_reply_with_a_canned_response_and_open_an_attachment() -> None:
    from missive_mcp.sandbox import DEMO_CONVERSATION_ID, DEMO_MESSAGE_ID, DEMO_PDF_ATTACHMENT_ID, DEMO_RESPONSE_ID

    env = {k: v for k, v in os.environ.items() if not k.startswith("MISSIVE_")}
    params = StdioServerParameters(command=sys.executable, args=["-m", "missive_mcp", "--demo"], env=env)
    with anyio.fail_after(60):
        async with Client(params) as mcp:
            conversation = {"conversation": DEMO_CONVERSATION_ID}
            post = await mcp.call_tool("create_post", {**conversation, "text": "Refund approved."})
            task = await mcp.call_tool("create_task", {**conversation, "title": "Check the refund landed"})
            reply = await mcp.call_tool(
                "reply_to_conversation", {"conversation_id": DEMO_CONVERSATION_ID, "response_id": DEMO_RESPONSE_ID}
            )
            opened = await mcp.call_tool(
                "get_attachment", {"message_id": DEMO_MESSAGE_ID, "attachment_id": DEMO_PDF_ATTACHMENT_ID}
            )
    for result in (post, task, reply, opened):
        assert not result.is_error, result.content
    assert isinstance(reply.structured_content, dict) and "Hi Dana" in reply.structured_content["draft"]["body"]
    assert isinstance(opened.structured_content, dict) and opened.structured_content["type"] == "application/pdf"


def test_over_stdio_every_protocol_mistake_gets_a_one_line_answer() -> None:
    import json

    init = {
        "jsonrpc": "2.0",
        "id": 3,
        "method": "initialize",
        "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}},
    }
    lines = [
        {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}},  # before the handshake
        [{"jsonrpc": "2.0", "id": 2, "method": "ping"}, {"jsonrpc": "2.0", "id": "b", "method": "ping"}],  # a batch
        "{not json",
        init,
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {"id": 7, "method": "ping"},  # no jsonrpc member
        {"jsonrpc": "2.0", "id": 8, "method": "ping"},
    ]
    sent = "".join((line if isinstance(line, str) else json.dumps(line)) + "\n" for line in lines)
    env = {k: v for k, v in os.environ.items() if not k.startswith("MISSIVE_")}
    process = subprocess.Popen(
        [sys.executable, "-m", "missive_mcp", "--demo"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    assert process.stdin is not None and process.stdout is not None
    process.stdin.write(sent)
    process.stdin.flush()
    answers: dict[str, Any] = {}
    reader = threading.Thread(
        target=lambda: [answers.setdefault(json.dumps(a.get("id")), a) for a in map(json.loads, process.stdout)]  # type: ignore[union-attr]
    )
    reader.start()
    deadline = time.monotonic() + 30
    while len(answers) < 7 and time.monotonic() < deadline:
        time.sleep(0.05)
    process.stdin.close()  # the end of input ends the server, once every line has had its answer
    process.wait(timeout=10)
    reader.join(10)
    process.stdout.close()
    assert set(answers) == {"1", "2", '"b"', "null", "3", "7", "8"}
    assert "sent before the handshake: send initialize" in answers["1"]["error"]["message"]
    assert (
        answers["2"]["error"]["message"]
        == answers['"b"']["error"]["message"]
        == ("JSON-RPC batches are not supported: send each request as its own line.")
    )
    assert answers["null"]["error"]["code"] == -32700
    assert answers["7"]["error"]["message"] == "The line is not a JSON-RPC 2.0 message (jsonrpc, id, method)."
    assert answers["8"]["result"] == {} and "result" in answers["3"]
    assert all("\n" not in a["error"]["message"] for a in answers.values() if "error" in a)


def test_the_command_line_pauses_garbage_collection_only_while_it_builds(monkeypatch: pytest.MonkeyPatch) -> None:
    import gc

    from missive_mcp import __main__ as cli

    seen: list[bool] = []

    async def check(settings: Settings, *, transport: Any = None) -> int:
        seen.append(gc.isenabled())  # what the doctor (like the server) runs with
        return 0

    monkeypatch.setattr("missive_mcp.doctor.run_check", check)
    building: list[bool] = []
    original = cli.load_settings

    def load(args: Any) -> Settings:
        building.append(gc.isenabled())
        return original(args)

    monkeypatch.setattr(cli, "load_settings", load)
    frozen = gc.get_freeze_count()
    try:
        assert cli.main(["check", "--demo"]) == 0
        assert building == [False] and seen == [True] and gc.isenabled()
        assert gc.get_freeze_count() > frozen  # what start-up built is left out of later collections
        assert cli.main(["serve", "surplus", "--demo"]) == 2  # an early exit turns it back on too
        assert gc.isenabled()
    finally:
        gc.unfreeze()
        gc.enable()
