"""The inbox and thread views (issue 21, MCP Apps). First what a client sees on the wire (links, documents, results
unchanged for clients without the extension); then each view in a real browser: headless Chromium loads it in a
sandboxed iframe of a test host page, the host connects it with ext-apps' AppBridge, and every tool call the view
makes goes through a real MCP client to the server and the fake Missive."""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client, StdioServerParameters
from mcp.client.extension import advertise
from mcp.server.apps import APP_MIME_TYPE, EXTENSION_ID
from mcp.types import TextResourceContents

from missive_mcp import views
from missive_mcp.sandbox import DEMO_ORG_ID, DEMO_USER_ID, FakeMissive
from missive_mcp.sandbox.workspace import Comment, new_id
from missive_mcp.sandbox.workspace import Message as StoredMessage
from missive_mcp.server import create_server

from .conftest import settings_for

pytestmark = pytest.mark.anyio

APPS = advertise(EXTENSION_ID, {"mimeTypes": [APP_MIME_TYPE]})
"""What a client that renders views (Claude, ChatGPT, VS Code...) declares."""

ROOT = Path(__file__).parent.parent
HOST_PAGE = Path(__file__).with_name("views_host.html")
"""The test host, built from views/test-host/host.ts with the views (npm --prefix views run build)."""

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def client(fake: FakeMissive, apps: bool = True, **overrides: Any) -> Client:
    server = create_server(settings_for(fake, **overrides), transport=fake.transport())
    return Client(server, extensions=[APPS] if apps else [])


async def document(mcp: Client, uri: str) -> str:
    read = await mcp.read_resource(uri)
    block = read.contents[0]
    assert isinstance(block, TextResourceContents) and block.mime_type == APP_MIME_TYPE
    return block.text


# ---- on the wire ---------------------------------------------------------------------------------------------------


async def test_a_client_without_the_extension_sees_no_links_and_no_view_documents(fake: FakeMissive) -> None:
    async with client(fake, apps=False) as mcp:
        tools = (await mcp.list_tools()).tools
        listed = [str(r.uri) for r in (await mcp.list_resources()).resources]
    assert [t.name for t in tools if t.meta] == []
    assert not [uri for uri in listed if uri.startswith("ui://")]


async def test_an_apps_client_finds_each_view_on_the_tools_that_produce_its_results(fake: FakeMissive) -> None:
    async with client(fake) as mcp:
        tools = {t.name: t for t in (await mcp.list_tools()).tools}
        linked = {name: tool.meta["ui"]["resourceUri"] for name, tool in tools.items() if tool.meta}
        listed = {str(r.uri): r for r in (await mcp.list_resources()).resources}
        html = {uri: await document(mcp, uri) for uri in (views.INBOX, views.THREAD)}
    assert linked == {name: uri for name, uri in views.VIEWS.items() if name in tools}
    assert {linked["list_conversations"], linked["read_conversation"]} == {views.INBOX, views.THREAD}
    assert {uri: listed[uri].mime_type for uri in html} == {views.INBOX: APP_MIME_TYPE, views.THREAD: APP_MIME_TYPE}
    for uri, text in html.items():
        assert listed[uri].meta is None, "a view declares no CSP domains, permissions or other origin"
        assert len(text.encode()) < 400_000, uri
        # Self-contained: one inline script and style, nothing loaded from anywhere.
        assert not re.search(r"<(script|img|iframe|link)[^>]+(src|href)\s*=", text, re.IGNORECASE), uri
        assert "@import" not in text, uri


async def test_results_are_the_same_for_clients_with_and_without_the_extension(fake: FakeMissive) -> None:
    results: list[Any] = []
    for apps in (False, True):
        async with client(fake, apps=apps) as mcp:
            listed = await mcp.call_tool("list_conversations", {"inbox": True, "limit": 5, "detail": "full"})
            first = listed.structured_content["conversations"][0]["id"]  # pyright: ignore[reportOptionalSubscript]
            read = await mcp.call_tool("read_conversation", {"conversation_id": first})
            results.append([r.model_dump(by_alias=True, exclude_none=True) for r in (listed, read)])
    assert results[0] == results[1]


async def test_a_view_is_told_which_of_its_actions_the_server_serves(fake: FakeMissive) -> None:
    offered: dict[str, list[str]] = {}
    served: set[str] = set()
    for name, overrides in (("all", {}), ("read-only", {"read_only": True}), ("default", {"toolsets": "default"})):
        async with client(fake, **overrides) as mcp:
            html = await document(mcp, views.THREAD)
            if name == "all":
                served = {t.name for t in (await mcp.list_tools()).tools}
        found = re.search(r'<script type="application/json" id="missive-tools">(.*?)</script>', html)
        assert found is not None
        offered[name] = json.loads(found.group(1))
    assert offered["all"] == sorted(set(views.ACTIONS) & served)
    writes = {"update_conversation", "reply_to_conversation", "create_post"}
    assert writes <= set(offered["all"]) and not writes & set(offered["read-only"])
    assert {"get_attachment", "list_conversations", "read_conversation"} <= set(offered["read-only"])
    assert "get_attachment" not in offered["default"]  # its toolset is off there, so no Open button for files


# ---- in a real browser -----------------------------------------------------------------------------------------------


def chromium_or_skip() -> None:
    """Chromium from Debian's packages; .ci/run installs it and sets MISSIVE_BROWSER_TESTS=required, so CI can
    never pass by skipping these."""
    if Path(CHROMIUM).exists():
        return
    if os.environ.get("MISSIVE_BROWSER_TESTS") == "required":
        pytest.fail(f"Chromium is required here (MISSIVE_BROWSER_TESTS=required) but {CHROMIUM} is missing")
    pytest.skip("Chromium is not installed (apt-get install chromium); .ci/run installs it and runs these tests")


@dataclass
class Hosted:
    """A view open in the test host."""

    page: Any
    frame: Any
    """The view's own document (a playwright Frame)."""
    mcp: Client
    result: dict[str, Any]
    fetched: list[str]
    """Every URL the browser asked for."""

    def locator(self, selector: str, **options: Any) -> Any:
        return self.page.frame_locator("iframe").locator(selector, **options)

    def button(self, name: str) -> Any:
        return self.page.frame_locator("iframe").get_by_role("button", name=name, exact=True)

    async def posted(self) -> list[str]:
        return await self.page.evaluate("window.posted")


@asynccontextmanager
async def hosted(
    mcp: Client,
    tool: str,
    arguments: dict[str, Any],
    *,
    theme: str = "light",
    width: int = 420,
    reshape: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
) -> AsyncIterator[Hosted]:
    """Call `tool` through the client, open the view its `_meta.ui.resourceUri` names, and hand it the result
    (through `reshape` first, if given)."""
    chromium_or_skip()
    from playwright.async_api import async_playwright

    linked = {t.name: (t.meta or {}).get("ui", {}).get("resourceUri") for t in (await mcp.list_tools()).tools}
    html = await document(mcp, linked[tool])
    result = (await mcp.call_tool(tool, arguments)).model_dump(by_alias=True, mode="json", exclude_none=True)
    result = reshape(result) if reshape else result

    async def forward(params: dict[str, Any]) -> dict[str, Any]:
        answer = await mcp.call_tool(params["name"], params.get("arguments") or {})
        return answer.model_dump(by_alias=True, mode="json", exclude_none=True)

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        try:
            page = await browser.new_page(viewport={"width": width + 40, "height": 900})
            fetched: list[str] = []
            page.on("request", lambda request: fetched.append(request.url))
            await page.expose_function("mcpCall", forward)
            await page.set_content(HOST_PAGE.read_text(encoding="utf-8"))
            opening = {
                "html": html,
                "toolName": tool,
                "toolInput": arguments,
                "toolResult": result,
                "theme": theme,
                "width": width,
            }
            await page.evaluate("opening => window.openView(opening)", opening)
            frame = page.frames[1]
            yield Hosted(page, frame, mcp, result, fetched)
        finally:
            await browser.close()


def writes(fake: FakeMissive, method: str, path: str = "") -> list[Any]:
    return [r.body for r in fake.requests if r.method == method and r.path.startswith("/v1/" + path)]


async def shot(view: Hosted, path: Path, keep: bool = False) -> bytes:
    """A screenshot of the view as a person sees it (with `keep`, MISSIVE_VIEW_SCREENSHOTS=docs also keeps it for
    the README)."""
    frame = view.page.locator("iframe")
    box = await frame.bounding_box()
    # The whole view, not the part inside the window: the window grows to the height the view reported.
    await view.page.set_viewport_size({"width": int(box["width"]) + 40, "height": int(box["height"]) + 20})
    image: bytes = await frame.screenshot(path=str(path))
    folder = os.environ.get("MISSIVE_VIEW_SCREENSHOTS")
    if keep and folder:
        Path(folder, f"view-{path.name}").write_bytes(image)
    return image


async def subjects(view: Hosted) -> list[str]:
    return await view.locator(".conversation .subject").all_inner_texts()


async def test_the_inbox_shows_the_conversations_and_close_reaches_missive_once(
    fake: FakeMissive, tmp_path: Path
) -> None:
    async with (
        client(fake) as mcp,
        hosted(mcp, "list_conversations", {"inbox": True, "limit": 5}) as view,
    ):
        listed = view.result["structuredContent"]["conversations"]
        expected = [c.get("subject") or c["latest_message_subject"] for c in listed]
        await view.locator(".conversation").first.wait_for()
        assert await subjects(view) == expected
        image = await shot(view, tmp_path / "inbox.png")
        assert image.startswith(b"\x89PNG") and len(image) > 10_000
        before = len(fake.requests)
        await view.button(f"Close “{expected[0]}”").dblclick()  # a hasty double click still closes once
        first = view.locator(".conversation").first
        await first.locator(".tag.closed").wait_for()
        patches = [r for r in fake.requests[before:] if r.method == "PATCH"]
        assert [(r.path, r.body) for r in patches] == [
            (f"/v1/conversations/{listed[0]['id']}", {"conversations": [{"id": listed[0]["id"], "close": True}]})
        ]
        assert await first.get_by_role("button", name=f"Close “{expected[0]}”").count() == 0
        assert [url for url in view.fetched if not url.startswith(("about:", "data:"))] == []


async def test_the_demo_shows_its_inbox_and_a_thread_with_an_attachment(tmp_path: Path) -> None:
    """`missive-mcp --demo`, a process on stdio as a client starts it, to a client that negotiated the views."""
    params = StdioServerParameters(command=sys.executable, args=["-m", "missive_mcp", "--demo"], cwd=str(ROOT))
    with anyio.fail_after(120):
        async with Client(params, extensions=[APPS]) as mcp:
            async with hosted(mcp, "list_conversations", {"inbox": True, "limit": 5, "detail": "full"}) as view:
                listed = view.result["structuredContent"]["conversations"]
                await view.locator(".conversation").first.wait_for()
                assert await subjects(view) == [c.get("subject") or c["latest_message_subject"] for c in listed]
                await shot(view, tmp_path / "inbox.png", keep=True)
            invoice = next(c["id"] for c in listed if "Invoice" in c["latest_message_subject"])
            async with hosted(mcp, "read_conversation", {"conversation_id": invoice}) as view:
                await view.locator(".entry").first.wait_for()
                await shot(view, tmp_path / "thread.png", keep=True)
                await view.button("Open attachment transactions.txt").click()
                assert "ch_3QxK2" in await view.locator(".file-text").inner_text()


async def test_the_inbox_opens_a_thread_assigns_labels_and_loads_more(fake: FakeMissive) -> None:
    async with (
        client(fake) as mcp,
        hosted(mcp, "list_conversations", {"inbox": True, "limit": 3}) as view,
    ):
        first = view.result["structuredContent"]["conversations"][0]
        subject = first.get("subject") or first["latest_message_subject"]
        await view.locator(".conversation").first.wait_for()
        shown = await subjects(view)
        # Load more: the next page, from the same mailbox, through list_conversations with `until`.
        await view.button("Load more conversations").click()
        await view.page.wait_for_function("() => true")
        more = view.locator(".conversation")
        await more.nth(len(shown)).wait_for()
        pages = [r.query for r in fake.requests if r.method == "GET" and r.path == "/v1/conversations"]
        assert [page.get("until") for page in pages] == [None, str(view.result["structuredContent"]["next_until"])]
        assert (await subjects(view))[: len(shown)] == shown
        # Assign, by name: the server resolves it, Missive gets the id, the row shows the answer.
        row = view.locator(".conversation").first
        await view.button(f"Assign “{subject}”").click()
        await row.get_by_label("Assign to (name or email)").fill("Priya Raman")
        await row.get_by_role("button", name="Assign", exact=True).click()
        await row.get_by_text(re.compile("Assigned: .*Priya Raman")).wait_for()
        await view.button(f"Label “{subject}”").click()
        await row.get_by_label("Shared label").fill("Urgent")
        await row.get_by_role("button", name="Add label", exact=True).click()
        await row.locator(".tag.label", has_text="Urgent").wait_for()
        patches = [r.body["conversations"][0] for r in fake.requests if r.method == "PATCH"]
        assert [sorted(p) for p in patches] == [
            ["add_assignees", "id", "organization"],
            ["add_shared_labels", "id", "organization"],
        ]
        # Open: the thread, read through read_conversation, then back to the list as it was left.
        before = len(fake.requests)
        await view.button(f"Open “{subject}”").click()
        await view.locator(".entry").first.wait_for()
        assert await view.locator("h1").inner_text() == subject
        read = [r.path for r in fake.requests[before:] if r.path == f"/v1/conversations/{first['id']}"]
        assert read == [f"/v1/conversations/{first['id']}"]
        await view.button("Back to the inbox").click()
        await row.locator(".tag.label", has_text="Urgent").wait_for()


async def test_the_inbox_shows_lean_items_and_full_ones_alike(fake: FakeMissive) -> None:
    drawn: list[list[str]] = []
    for detail in ("full", "lean"):  # lean, the default (issue 19): people, labels and teams as their names
        arguments = {"inbox": True, "detail": detail}
        async with client(fake) as mcp, hosted(mcp, "list_conversations", arguments) as view:
            await view.locator(".conversation").first.wait_for()
            drawn.append(await view.locator(".conversation").all_inner_texts())
    assert drawn[0] == drawn[1]
    assert "Dana Scully" in drawn[1][0] and "Team: Billing" in drawn[1][0] and "Assigned: Maya Chen" in drawn[1][0]


async def test_a_refused_action_shows_the_tools_own_sentence_and_sends_nothing(fake: FakeMissive) -> None:
    async with (
        client(fake) as mcp,
        hosted(mcp, "list_conversations", {"inbox": True, "limit": 2, "detail": "full"}) as view,
    ):
        first = view.result["structuredContent"]["conversations"][0]
        subject = first.get("subject") or first["latest_message_subject"]
        refused = await mcp.call_tool(
            "update_conversation",
            {"conversation_ids": [first["id"]], "organization": DEMO_ORG_ID, "add_assignees": ["Nobody Here"]},
        )
        sentence = refused.content[0].text  # pyright: ignore[reportAttributeAccessIssue]
        assert refused.is_error and "Nobody Here" in sentence
        await view.button(f"Assign “{subject}”").click()
        row = view.locator(".conversation").first
        await row.get_by_label("Assign to (name or email)").fill("Nobody Here")
        await row.get_by_role("button", name="Assign", exact=True).click()
        alert = row.get_by_role("alert")
        await alert.wait_for()
        assert await alert.inner_text() == sentence
        assert writes(fake, "PATCH") == []


async def test_the_thread_drafts_a_reply_adds_a_note_and_opens_an_attachment_each_once(
    fake: FakeMissive, tmp_path: Path
) -> None:
    async with client(fake) as mcp:
        listed = await mcp.call_tool("list_conversations", {"inbox": True, "limit": 5, "detail": "full"})
        conversations = listed.structured_content["conversations"]  # pyright: ignore[reportOptionalSubscript]
        invoice = next(c for c in conversations if "Invoice" in c["latest_message_subject"])
        async with hosted(mcp, "read_conversation", {"conversation_id": invoice["id"]}) as view:
            entries = view.result["structuredContent"]["entries"]
            await view.locator(".entry").first.wait_for()
            bodies = await view.locator(".entry .body").all_inner_texts()
            assert bodies == [e["body"] for e in entries]
            # Open an attachment: get_attachment downloads it once, and a text file is shown as text.
            before = len(fake.requests)
            await view.button("Open attachment transactions.txt").click()
            await view.locator(".file-text").wait_for()
            downloads = [r.path for r in fake.requests[before:] if not r.path.startswith("/v1/")]
            assert len(downloads) == 1 and "ch_3QxK2" in await view.locator(".file-text").inner_text()
            # A reply is drafted, never sent.
            await (
                view.page.frame_locator("iframe")
                .get_by_role("textbox", name=re.compile("^Reply"))
                .fill("We refunded it.")
            )
            await view.button("Save reply as draft").click()
            await view.page.frame_locator("iframe").get_by_text(re.compile("Draft saved.*not sent")).wait_for()
            drafts = writes(fake, "POST", "drafts")
            assert len(drafts) == 1 and drafts[0]["drafts"]["body"] == "We refunded it."
            assert "send" not in drafts[0]["drafts"] and "send_at" not in drafts[0]["drafts"]
            # A note is posted once and appears in the thread from the tool's answer.
            await (
                view.page.frame_locator("iframe")
                .get_by_role("textbox", name=re.compile("^Internal note"))
                .fill("Refund checked.")
            )
            await view.button("Add note").click()
            await view.locator(".entry.post .body", has_text="Refund checked.").wait_for()
            posts = writes(fake, "POST", "posts")
            assert len(posts) == 1 and posts[0]["posts"]["text"] == "Refund checked."


async def test_read_only_mode_draws_no_action_that_changes_the_mailbox(fake: FakeMissive) -> None:
    async with client(fake, read_only=True) as mcp:
        async with hosted(mcp, "list_conversations", {"inbox": True, "limit": 3, "detail": "full"}) as view:
            await view.locator(".conversation").first.wait_for()
            labels = await view.locator("button").evaluate_all("all => all.map(b => b.textContent)")
            assert set(labels) == {"Open", "Load more"}
        first = view.result["structuredContent"]["conversations"][0]["id"]
        async with hosted(mcp, "read_conversation", {"conversation_id": first}) as view:
            await view.locator(".entry").first.wait_for()
            assert await view.locator("textarea, input").count() == 0
            labels = await view.locator("button").evaluate_all("all => all.map(b => b.getAttribute('aria-label'))")
            assert labels and all(label.startswith("Open attachment ") for label in labels)  # get_attachment reads


PLANTED = {
    "script": "<script>parent.postMessage('ran:script','*')</script>",
    "img": "<img src=x onerror=\"parent.postMessage('ran:img','*')\">",
    "link": "<a href=\"javascript:parent.postMessage('ran:link','*')\">click me</a>",
}


async def test_markup_planted_in_mail_never_runs_in_the_views(fake: FakeMissive) -> None:
    ws = fake.workspace
    at = ws.now() - 60
    conversation = ws.add_conversation(created_at=at, organization_id=DEMO_ORG_ID)
    planted = " ".join(PLANTED.values())
    ws.add_message(
        conversation,
        StoredMessage(
            id=new_id(),
            conversation_id=conversation.id,
            # As HTML mail, escaped: the text read out of it holds the markup as characters.
            body="<p>" + planted.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;") + "</p>",
            subject=PLANTED["img"],
            from_field={"name": PLANTED["script"], "address": "pat@customer.example"},
            to_fields=[{"name": "Acme Support", "address": "support@acme.example"}],
            delivered_at=at,
        ),
    )
    ws.add_comment(conversation, Comment(new_id(), conversation.id, planted, DEMO_USER_ID, at + 1))
    async with client(fake) as mcp:
        async with hosted(mcp, "list_conversations", {"inbox": True, "limit": 2, "detail": "full"}) as view:
            row = view.locator(".conversation").first
            await row.wait_for()
            await inert(view)
            assert await row.locator(".subject").inner_text() == PLANTED["img"]
        async with hosted(mcp, "read_conversation", {"conversation_id": conversation.id}) as view:
            await view.locator(".entry.comment").wait_for()
            await inert(view)
            assert (
                await view.locator(".entry.message .from").inner_text() == f"{PLANTED['script']} <pat@customer.example>"
            )
            body = await view.locator(".entry.message .body").inner_text()
            assert all(mark in body for mark in ("<script>parent", "<img src=x onerror=", '<a href="javascript:'))
            await view.page.frame_locator("iframe").get_by_text("click me").first.click()
            await inert(view)


async def inert(view: Hosted) -> None:
    """Nothing planted ran (it would have posted to the host), and nothing of it became an element."""
    await view.page.wait_for_timeout(300)  # a failed image's onerror fires at once, well within this
    assert [p for p in await view.posted() if p.startswith("ran:")] == []
    found = await view.frame.evaluate(
        """() => ({
            images: document.images.length,
            links: document.links.length,
            scripts: [...document.scripts].filter(s => s.textContent.includes('ran:')).length,
            handlers: [...document.querySelectorAll('*')]
                .filter(e => [...e.attributes].some(a => a.name.startsWith('on'))).length,
        })"""
    )
    assert found == {"images": 0, "links": 0, "scripts": 0, "handlers": 0}


async def test_the_view_follows_the_host_theme_fits_a_narrow_column_and_names_every_control(fake: FakeMissive) -> None:
    async with client(fake) as mcp:
        async with hosted(
            mcp, "list_conversations", {"inbox": True, "limit": 5, "detail": "full"}, theme="dark", width=320
        ) as view:
            await view.locator(".conversation").first.wait_for()
            assert await background(view) < 0.2
            await view.page.evaluate("window.setTheme('light')")
            await view.page.wait_for_function("() => true")
            await view.frame.wait_for_function("document.documentElement.dataset.theme === 'light'")
            assert await background(view) > 0.8
            await view.button(f"Assign “{(await subjects(view))[0]}”").click()
            await fits_and_named(view)
        first = view.result["structuredContent"]["conversations"][0]["id"]
        read = {"conversation_id": first, "max_items": 2}
        async with hosted(mcp, "read_conversation", read, width=320) as view:
            await view.locator(".entry").first.wait_for()
            assert view.result["structuredContent"]["older_omitted"]
            await view.page.frame_locator("iframe").get_by_text("Older messages are not shown here.").wait_for()
            await fits_and_named(view)


async def background(view: Hosted) -> float:
    """The page background's lightness, 0 (black) to 1 (white)."""
    color: str = await view.frame.evaluate("getComputedStyle(document.body).backgroundColor")
    red, green, blue = (int(x) for x in re.findall(r"\d+", color)[:3])
    return (0.2126 * red + 0.7152 * green + 0.0722 * blue) / 255


async def fits_and_named(view: Hosted) -> None:
    found = await view.frame.evaluate(
        """() => ({
            overflow: document.documentElement.scrollWidth - document.documentElement.clientWidth,
            unnamed: [...document.querySelectorAll('button, input, textarea, select')].filter(e => {
                const label = e.getAttribute('aria-label') || [...(e.labels || [])].map(l => l.textContent).join('');
                return !(label || e.textContent).trim();
            }).map(e => e.outerHTML),
        })"""
    )
    assert found == {"overflow": 0, "unnamed": []}
