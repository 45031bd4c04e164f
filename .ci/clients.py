"""Real MCP clients against the real server, as CI runs them after the tests.

1. The MCP Inspector's command-line mode lists the tools, calls a read tool, reads a resource and gets a prompt
   against `missive-mcp --demo`, over stdio and over streamable HTTP with the bearer key.
2. The official conformance suite runs its server scenarios against the HTTP transport. The suite sends no
   Authorization header, so it talks to the server through a loopback proxy that adds the bearer key and
   passes every other header (Host and Origin included) through untouched. Scenarios that need the suite's own
   test fixtures (tools named `test_*`, sampling, elicitation...) are listed with the reason in
   `.ci/conformance-expected-failures.yml`; the suite fails if one of them unexpectedly passes, or if any
   other scenario fails.
3. A client on the TypeScript SDK (`@modelcontextprotocol/sdk` from the npm registry, what most desktop clients
   build on; `.ci/ts_client.mjs`) calls every tool over stdio and over HTTP with its output-schema validation on,
   and fails on any validation error, any call slower than the deadline, or an error that is not a proper tool
   error. The arguments per tool are in `TOOL_CALLS` below (demo ids; the demo is in memory, so writes are fine).
   The same SDK with an OAuth provider and no key (`.ci/ts_key_mode.mjs`, as a desktop client meets a key-mode
   server) must show the server's sentence about the bearer key, not `ServerError: ""`.
4. The team server (`MISSIVE_MCP_AUTH=oauth`): a client on the TypeScript SDK signs in through OAuth with the
   SDK's own `authProvider` (discovery, registration, PKCE, tokens), the browser step automated by posting the
   sign-in form with the demo's token and allowing with the page's consent cookie (`.ci/ts_oauth.mjs`); it then
   calls a read and a write tool, and checks that an Allow without the browser's cookie is refused.
5. The Claude Desktop bundle: validated, packed, unpacked, started with uv and asked for its tools.

Needs Node.js and npx. Both tools run on Node 22, which comes from the npm registry (`npx -p node@22`), so the
machine's Node 20 is enough: the Inspector 0.15.0 that runs on Node 20 cannot send an Authorization header,
0.17.2 can. Run from the repository root: `.venv/bin/python .ci/clients.py`.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SERVER = str(ROOT / ".venv" / "bin" / "missive-mcp")
NODE_22 = ["npx", "-y", "-p", "node@22.22.0"]
# Pinned: Node 22.23.3 (December 2026) crashes inside its HTTP client (undici `assert(!this.paused)`) during the
# conformance suite's server-sse-multiple-streams scenario; 22.21 and 22.22 run it cleanly.
INSPECTOR = [*NODE_22, "-p", "@modelcontextprotocol/inspector@0.17.2", "mcp-inspector", "--cli"]
CONFORMANCE = [*NODE_22, "-p", "@modelcontextprotocol/conformance@0.1.16", "conformance"]
MCPB = ["npx", "-y", "@anthropic-ai/mcpb@2.1.2"]
TYPESCRIPT_SDK = "@modelcontextprotocol/sdk@1.32.2"
DEADLINE = 50.0
"""Seconds any one tool call may take: under the 60 s after which the TypeScript SDK gives up by default."""
EXPECTED_FAILURES = ROOT / ".ci" / "conformance-expected-failures.yml"
KEY = secrets.token_urlsafe(24)


def main() -> int:
    if shutil.which("npx") is None:
        print("clients: npx (Node.js) is not installed; the real-client checks need it.", file=sys.stderr)
        return 1
    from missive_mcp.sandbox import DEMO_CONVERSATION_ID, DEMO_TOKEN

    stdio = [SERVER, "--demo", "--toolsets", "all"]
    inspect("stdio", stdio, DEMO_CONVERSATION_ID)
    with typescript_client() as typescript:
        typescript("stdio", stdio)
        with http_server() as url:
            inspect(
                "http", [url, "--transport", "http", "--header", f"Authorization: Bearer {KEY}"], DEMO_CONVERSATION_ID
            )
            for label, header in (
                ("without a key", []),
                ("with a wrong key", ["--header", "Authorization: Bearer nope"]),
            ):
                refused = run([*INSPECTOR, url, "--transport", "http", *header, "--method", "tools/list"], check=False)
                said = refused.stdout + refused.stderr
                expect(f"http {label} is refused", refused.returncode != 0 and "Missing or wrong bearer key" in said)
            typescript("http", [url])
            typescript("http", [url], "ts_key_mode.mjs")
            with bearer_proxy(url) as proxied:
                conformance(proxied)
        with oauth_server() as (url, log):
            typescript("oauth", [url], script="ts_oauth.mjs")
            expect("oauth: the Missive token appears nowhere in the server's log", DEMO_TOKEN not in log.read_text())
    bundle()
    print("clients: every check passed.")
    return 0


def inspect(label: str, target: list[str], conversation_id: str) -> None:
    """The Inspector lists, calls, reads and gets; each answer is checked for what a user would see."""
    tools = inspector(target, "--method", "tools/list")["tools"]
    names = {tool["name"] for tool in tools}
    expect(f"{label}: tools/list holds the thread reader", {"read_conversation", "list_conversations"} <= names)
    expect(f"{label}: every tool has an output schema", all("outputSchema" in tool for tool in tools))

    called = inspector(
        target,
        "--method",
        "tools/call",
        "--tool-name",
        "read_conversation",
        "--tool-arg",
        f"conversation_id={conversation_id}",
    )
    thread = called.get("structuredContent") or {}
    expect(f"{label}: read_conversation answers the thread", not called.get("isError") and bool(thread.get("entries")))

    resource = inspector(target, "--method", "resources/read", "--uri", "missive://organizations")
    organizations = json.loads(resource["contents"][0]["text"])["organizations"]
    expect(f"{label}: resources/read missive://organizations", bool(organizations))

    prompt = inspector(
        target,
        "--method",
        "prompts/get",
        "--prompt-name",
        "draft_reply",
        "--prompt-args",
        f"conversation_id={conversation_id}",
    )
    text = " ".join(message["content"].get("text", "") for message in prompt["messages"])
    expect(f"{label}: prompts/get draft_reply names the conversation", conversation_id in text)


def tool_calls() -> list[tuple[str, dict[str, Any], bool]]:
    """One call per tool, with valid demo ids: (tool, arguments, whether a tool error is the right answer).
    Writes come after the reads that use the same objects; {"$from": [tool, field]} takes an earlier result."""
    from missive_mcp.sandbox import (
        DEMO_ACCOUNT_ID,
        DEMO_CLOSED_CONVERSATION_ID,
        DEMO_CONTACT_BOOK_ID,
        DEMO_CONTACT_ID,
        DEMO_CONVERSATION_ID,
        DEMO_DRAFT_ID,
        DEMO_MESSAGE_ID,
        DEMO_ORG_ID,
        DEMO_PDF_ATTACHMENT_ID,
        DEMO_RESPONSE_ID,
        DEMO_TASK_ID,
        DEMO_USER_ID,
    )
    from missive_mcp.sandbox.seed import TIED_CONVERSATION_IDS

    conversation = DEMO_CONVERSATION_ID
    book = DEMO_CONTACT_BOOK_ID
    return [
        ("list_organizations", {}, False),
        ("list_users", {"organization": DEMO_ORG_ID}, False),
        ("list_teams", {"organization": DEMO_ORG_ID}, False),
        ("list_shared_labels", {"organization": DEMO_ORG_ID}, False),
        ("list_conversations", {"inbox": True, "limit": 5}, False),
        ("read_conversation", {"conversation_id": conversation}, False),
        ("get_conversation", {"conversation_id": conversation}, False),
        ("list_conversation_messages", {"conversation_id": conversation}, False),
        ("list_conversation_comments", {"conversation_id": conversation}, False),
        ("list_conversation_drafts", {"conversation_id": conversation}, False),
        ("list_conversation_posts", {"conversation_id": conversation}, False),
        ("get_messages", {"message_ids": [DEMO_MESSAGE_ID]}, False),
        ("list_contact_books", {}, False),
        ("list_contacts", {"contact_book": book, "limit": 5}, False),
        ("get_contact", {"contact_id": DEMO_CONTACT_ID}, False),
        ("list_contact_groups", {"contact_book": book, "kind": "group"}, False),
        ("create_contact", {"contact_book": book, "first_name": "Ada", "last_name": "Lovelace"}, False),
        ("update_contact", {"contact_ids": [DEMO_CONTACT_ID], "notes": "Prefers email."}, False),
        ("create_analytics_report", {"organization": DEMO_ORG_ID, "start": 1_761_955_200, "end": 1_764_547_200}, False),
        ("get_analytics_report", {"report_id": {"$from": ["create_analytics_report", "report_id"]}}, False),
        ("create_draft", {"conversation": conversation, "body": "Thanks, we are looking into it."}, False),
        ("create_draft", {"conversation": conversation, "body": "Refund sent.", "send": True}, True),  # sending is off
        ("delete_draft", {"draft_id": DEMO_DRAFT_ID}, False),
        (
            "create_message",
            {
                "account": DEMO_ACCOUNT_ID,
                "from_field": {"id": "portal-user-1", "name": "Portal user"},
                "to_fields": [{"id": "support"}],
                "body": "Hello from the portal.",
            },
            False,
        ),
        ("update_conversation", {"conversation_ids": [DEMO_CLOSED_CONVERSATION_ID], "reopen": True}, False),
        ("find_message", {"email_message_id": {"$from": ["get_messages", "messages.0.email_message_id"]}}, False),
        ("reply_to_conversation", {"conversation_id": conversation, "body": "We are on it.", "reply_all": True}, False),
        ("get_attachment", {"message_id": DEMO_MESSAGE_ID, "attachment_id": DEMO_PDF_ATTACHMENT_ID}, False),
        ("create_post", {"conversation": conversation, "text": "Refund approved by billing.", "close": True}, False),
        ("delete_post", {"post_id": {"$from": ["create_post", "post.id"]}}, False),
        ("list_tasks", {"state": "todo"}, False),
        ("get_task", {"task_id": DEMO_TASK_ID}, False),
        ("create_task", {"title": "Call Dana back", "conversation": conversation}, False),
        ("update_task", {"task_id": {"$from": ["create_task", "task.id"]}, "state": "closed"}, False),
        ("list_responses", {"organization": DEMO_ORG_ID}, False),
        ("get_response", {"response_id": DEMO_RESPONSE_ID}, False),
        (
            "create_response",
            {"title": "Refund sent", "body": "Your refund is on its way.", "organization": DEMO_ORG_ID},
            False,
        ),
        (
            "update_response",
            {"response_ids": [{"$from": ["create_response", "response.id"]}], "subject": "Refund"},
            False,
        ),
        ("delete_response", {"response_ids": [DEMO_RESPONSE_ID]}, False),
        ("create_shared_label", {"name": "Escalated", "organization": DEMO_ORG_ID, "color": "#d33"}, False),
        (
            "update_shared_label",
            {"label_ids": [{"$from": ["create_shared_label", "shared_label.id"]}], "name": "Urgent"},
            False,
        ),
        ("create_team", {"name": "Night shift", "organization": DEMO_ORG_ID, "active_members": [DEMO_USER_ID]}, False),
        ("update_team", {"team_ids": [{"$from": ["create_team", "team.id"]}], "emoji": ":moon:"}, False),
        ("create_webhook", {"type": "incoming_email", "url": "https://hooks.example.com/missive"}, False),
        ("delete_webhook", {"webhook_id": {"$from": ["create_webhook", "webhook.id"]}}, False),
        ("watch_inbox", {"wait": 1}, False),
        (
            "merge_conversations",
            {"conversation_id": TIED_CONVERSATION_IDS[0], "target": TIED_CONVERSATION_IDS[1]},
            False,
        ),
    ]


@contextlib.contextmanager
def typescript_client() -> Iterator[Any]:
    """Install the TypeScript SDK once (in a scratch folder, beside a copy of the script, so Node finds it) and
    yield a function that runs the every-tool client against a stdio command or an HTTP URL."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="ts-client-") as work:
        run(["npm", "install", "--no-save", "--no-audit", "--no-fund", "--prefix", work, TYPESCRIPT_SDK])
        for script in ("ts_client.mjs", "ts_oauth.mjs", "ts_key_mode.mjs"):
            shutil.copy(ROOT / ".ci" / script, Path(work) / script)
        calls = Path(work) / "calls.json"
        calls.write_text(json.dumps({"deadline_ms": int(DEADLINE * 1000), "calls": tool_calls()}))
        version = TYPESCRIPT_SDK.rsplit("@", 1)[1]

        def check(label: str, target: list[str], script: str = "ts_client.mjs") -> None:
            from missive_mcp.sandbox import DEMO_TOKEN

            if script == "ts_oauth.mjs":
                command = ["node", str(Path(work) / script), *target]
                what = f"{label}: the TypeScript SDK {version} signs in with its authProvider, reads and writes"
            else:
                command = ["node", str(Path(work) / script), str(calls), label, *target]
                what = (
                    f"{label}: "
                    + {
                        "ts_client.mjs": f"the TypeScript SDK {version} calls every tool, output validated",
                        "ts_key_mode.mjs": f"the TypeScript SDK {version} with OAuth, no key, shows our sentence",
                    }[script]
                )
            done = run(command, check=False, env={"MCP_KEY": KEY, "MISSIVE_TOKEN": DEMO_TOKEN})
            print(done.stdout.rstrip(), flush=True)
            expect(what, done.returncode == 0)

        yield check


def bundle() -> None:
    """The Claude Desktop bundle: the manifest validates, `mcpb pack` builds it, and its unpacked contents start
    with uv (what the manifest's `uv` server type runs) in a fresh cache and answer tools/list."""
    import tempfile
    import venv
    import zipfile

    run([*MCPB, "validate", "manifest.json"])
    with tempfile.TemporaryDirectory(prefix="bundle-") as work:
        archive = Path(work) / "missive.mcpb"
        run([*MCPB, "pack", ".", str(archive)])
        unpacked = Path(work) / "unpacked"
        with zipfile.ZipFile(archive) as zipped:
            zipped.extractall(unpacked)
        expect(
            "bundle leaves out tests, the venv and the views' Node sources, and carries the built views",
            not (unpacked / "tests").exists()
            and not (unpacked / ".venv").exists()
            and not (unpacked / "views").exists()
            and (unpacked / "missive_mcp" / "views" / "inbox.html").exists(),
        )
        venv.create(Path(work) / "uv", with_pip=True)
        run([str(Path(work) / "uv" / "bin" / "pip"), "install", "-q", "uv"])
        manifest = json.loads((unpacked / "manifest.json").read_text())
        config = manifest["server"]["mcp_config"]
        args = [arg.replace("${__dirname}", str(unpacked)) for arg in config["args"]]
        command = [str(Path(work) / "uv" / "bin" / config["command"]), *args, "--demo"]
        # The manifest lists every tool the bundle can offer: all toolsets on.
        env = os.environ | {"UV_CACHE_DIR": str(Path(work) / "cache"), "MISSIVE_TOOLSETS": "all"}
        listed = stdio_tools_list(command, env)
        expect(
            f"bundle starts with uv and lists {len(listed)} tools",
            {t["name"] for t in manifest["tools"]} == set(listed),
        )


def stdio_tools_list(command: list[str], env: dict[str, str]) -> list[str]:
    """Speak the handshake on stdio by hand, as a client would, and return the listed tool names."""
    messages = [
        {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "initialize",
            "params": {
                "protocolVersion": "2025-11-25",
                "capabilities": {},
                "clientInfo": {"name": "ci", "version": "1"},
            },
        },
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {"jsonrpc": "2.0", "id": 2, "method": "tools/list"},
    ]
    print("+", " ".join(command), flush=True)
    process = subprocess.Popen(
        command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )
    assert process.stdin and process.stdout
    watchdog = threading.Timer(300, process.kill)  # uv may download; a server that never answers still ends.
    watchdog.start()
    for message in messages:
        process.stdin.write(json.dumps(message) + "\n")
    process.stdin.flush()
    try:
        for line in process.stdout:
            answer = json.loads(line)
            if answer.get("id") == 2:
                return [tool["name"] for tool in answer["result"]["tools"]]
        said = process.stderr.read()[-2000:] if process.stderr else ""
        raise SystemExit(f"clients: the bundle ended without answering tools/list: {said}")
    finally:
        watchdog.cancel()
        process.kill()
        process.wait()


def inspector(target: list[str], *args: str) -> dict[str, Any]:
    done = run([*INSPECTOR, *target, *args])
    return json.loads(done.stdout)


def conformance(url: str) -> None:
    import tempfile

    with tempfile.TemporaryDirectory(prefix="conformance-") as out:
        command = [*CONFORMANCE, "server", "--url", url, "--expected-failures", str(EXPECTED_FAILURES), "-o", out]
        done = run(command, check=False)
        summary = done.stdout[done.stdout.find("=== SUMMARY ===") :]
        print(summary or done.stdout[-4000:], flush=True)
        for checks in sorted(Path(out).rglob("checks.json")):
            for check in json.loads(checks.read_text()):
                if check.get("status") not in ("SUCCESS", "INFO"):
                    reason = check.get("errorMessage") or check.get("description") or ""
                    print(f"  {checks.parent.name}: {check.get('status')}: {reason[:240]}", flush=True)
    expect("conformance suite: all scenarios pass but the listed ones", done.returncode == 0)


@contextlib.contextmanager
def http_server() -> Iterator[str]:
    port = free_port()
    env = os.environ | {"MISSIVE_MCP_AUTH_TOKEN": KEY}
    process = subprocess.Popen(
        [SERVER, "--demo", "--toolsets", "all", "--transport", "http", "--port", str(port), "--log-level", "WARNING"],
        env=env,
        stdout=subprocess.DEVNULL,
    )
    try:
        wait_for(f"http://127.0.0.1:{port}/health")
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        process.terminate()
        process.wait(timeout=10)


@contextlib.contextmanager
def oauth_server() -> Iterator[tuple[str, Path]]:
    """The demo as a team server (each person signs in with their own token), on loopback: (its /mcp URL, its log)."""
    import base64
    import tempfile

    port = free_port()
    with tempfile.TemporaryDirectory(prefix="team-") as work:
        log = Path(work) / "server.log"
        env = os.environ | {
            "MISSIVE_MCP_AUTH": "oauth",
            "MISSIVE_MCP_PUBLIC_URL": f"http://127.0.0.1:{port}",
            "MISSIVE_MCP_SECRET_KEY": base64.urlsafe_b64encode(os.urandom(32)).decode(),
            "MISSIVE_MCP_DATABASE_URL": str(Path(work) / "team.sqlite3"),
        }
        with log.open("w") as written:
            command = [SERVER, "--demo", "--transport", "http", "--port", str(port), "--log-level", "DEBUG"]
            process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=written)
            try:
                wait_for(f"http://127.0.0.1:{port}/health")
                yield f"http://127.0.0.1:{port}/mcp", log
            finally:
                process.terminate()
                process.wait(timeout=10)


@contextlib.contextmanager
def bearer_proxy(upstream: str) -> Iterator[str]:
    """A loopback TCP proxy that adds `Authorization: Bearer KEY` to each request's head and passes every other
    byte (Host and Origin included, streamed answers too) through untouched. One request per connection."""
    import asyncio
    from urllib.parse import urlsplit

    target = urlsplit(upstream)
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    address: list[int] = []

    async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError):
            while chunk := await reader.read(65536):
                writer.write(chunk)
                await writer.drain()
        with contextlib.suppress(Exception):
            writer.close()

    async def handle(client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        try:
            head = await client_reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            client_writer.close()
            return
        lines = [
            line
            for line in head.decode("latin-1").split("\r\n")[:-2]
            if line.split(":", 1)[0].strip().lower() not in ("authorization", "connection")
        ]
        lines += [f"Authorization: Bearer {KEY}", "Connection: close", "", ""]
        server_reader, server_writer = await asyncio.open_connection(target.hostname, target.port)
        server_writer.write("\r\n".join(lines).encode("latin-1"))
        await asyncio.gather(pipe(client_reader, server_writer), pipe(server_reader, client_writer))

    async def serve() -> None:
        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        address.append(server.sockets[0].getsockname()[1])
        ready.set()
        async with server:
            await server.serve_forever()

    thread = threading.Thread(target=lambda: loop.run_until_complete(serve()), daemon=True)
    thread.start()
    ready.wait(10)
    yield f"http://127.0.0.1:{address[0]}/mcp"


def run(
    command: list[str], *, check: bool = True, echo: bool = False, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    print("+", " ".join(command).replace(KEY, "***"), flush=True)
    environment = os.environ | env if env else None
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=ROOT, env=environment)
    if echo:
        print(done.stdout, flush=True)
    if check and done.returncode != 0:
        print(done.stdout[-4000:], done.stderr[-4000:], sep="\n", file=sys.stderr)
        raise SystemExit(f"clients: {' '.join(command[:8])} failed ({done.returncode}).")
    return done


def expect(what: str, holds: bool) -> None:
    print(("ok   " if holds else "FAIL ") + what, flush=True)
    if not holds:
        raise SystemExit(f"clients: {what}: failed.")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for(url: str, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise SystemExit(f"clients: the HTTP server did not answer {url} within {seconds:.0f} s.") from None
            time.sleep(0.2)


if __name__ == "__main__":
    sys.exit(main())
