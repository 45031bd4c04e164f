"""Figure 8: a day of inbox work, and what it costs in context. A scripted assistant does the eight tasks of issue 19
with the default toolsets against the fake: the 25 newest conversations of a team inbox, one whole thread, a reply to
its latest inbound message, a note that closes it, a conversation assigned to a person and labelled by name, one
contact's conversations, a task on a conversation, last week's analytics report. Counted: tool calls, the bytes of
every result the model reads (its text), and the tool list it is sent (name + description + input schema). Each
task is checked against what the fake received, not against what the server said."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from fig_tool_list import model_view
from harness import Peer, Reply, Report, Row, Stat, compact, count, loopback, nbytes, ours, started
from targets import DAY_BYTES, DAY_TASKS, TEAM_INBOX_BYTES, TEAM_INBOX_CALLS, TEAM_INBOX_CONVERSATIONS

from missive_mcp.sandbox import DEMO_LABEL_IDS, DEMO_TEAM_ID, DEMO_USER_ID, FakeMissive, RecordedRequest, seed_bulk
from missive_mcp.sandbox.seed import SEED_NOW
from missive_mcp.sandbox.workspace import ConversationFilter

TEAM = "Tier 1 Support"
"""The team inbox of the day, by name (every tool takes a name where it takes an id)."""
PERSON, LABEL = "Maya Chen", "VIP"
CONTACT = "dana.scully@globex.example"
WEEK = 7 * 24 * 3600


@dataclass
class Day:
    peer: Peer
    fake: FakeMissive
    calls: int = 0
    result_bytes: int = 0
    done: list[str] = field(default_factory=list)  # pyright: ignore[reportUnknownVariableType]
    failed: list[str] = field(default_factory=list)  # pyright: ignore[reportUnknownVariableType]
    sizes: dict[str, tuple[int, int]] = field(default_factory=dict)  # pyright: ignore[reportUnknownVariableType]
    """Per task: tool calls and result bytes."""
    listed: int = 0
    """Conversations the team-inbox listing served."""

    async def call(self, task: str, name: str, **arguments: Any) -> Any:
        reply: Reply = await self.peer.ok(name, **arguments)
        text = "".join(b.get("text", "") for b in reply.result.get("content", []) if b.get("type") == "text")
        read = len(text.encode())
        self.calls += 1
        self.result_bytes += read
        calls, size = self.sizes.get(task, (0, 0))
        self.sizes[task] = (calls + 1, size + read)
        return reply.data

    def sent(self, method: str, path: str) -> list[RecordedRequest]:
        return [r for r in self.fake.requests if r.method == method and r.path.startswith("/v1" + path)]

    def check(self, task: str, ok: bool) -> None:
        (self.done if ok else self.failed).append(task)


def day_workspace() -> FakeMissive:
    """The demo workspace, with a team inbox busy enough that 25 is one page of many."""
    fake = FakeMissive(enforce_limits=False, report_delay=0.2, wall=lambda: float(SEED_NOW))
    seed_bulk(fake.workspace, 40, messages=3, team_id=DEMO_TEAM_ID, box="inbox")
    return fake


async def work(day: Day) -> None:
    # The organization's id: analytics needs it, and so do assignees and labels.
    org = (await day.call("setup", "list_organizations"))["organizations"][0]["id"]

    task = "1. the 25 newest conversations of a team inbox"
    first = len(day.fake.requests)
    page = await day.call(task, "list_conversations", team_inbox=TEAM, limit=25)
    listed = [r for r in day.fake.requests[first:] if r.path == "/v1/conversations"]
    newest = day.fake.workspace.find_conversations(ConversationFilter(team_inbox=DEMO_TEAM_ID))[:25]
    day.listed = len(page["conversations"])
    day.check(task, [c["id"] for c in page["conversations"]] == [c.id for c in newest] and len(listed) == 1)
    conversation = page["conversations"][0]["id"]

    task = "2. one whole thread"
    thread = await day.call(task, "read_conversation", conversation_id=conversation)
    record = day.fake.workspace.conversations[conversation]
    shown = {e["id"] for e in thread["entries"]}
    day.check(task, {m.id for m in record.messages} <= shown and not thread.get("older_omitted"))

    task = "3. a reply to its latest inbound message"
    reply = await day.call(task, "reply_to_conversation", conversation_id=conversation, body="Thanks, on it.")
    inbound = max((m for m in record.messages if m.author_id is None), key=lambda m: m.delivered_at)
    drafts = day.sent("POST", "/drafts")
    body = drafts[-1].body["drafts"] if drafts else {}
    to = [p.get("address") for p in body.get("to_fields", [])]
    day.check(task, reply["replying_to"] == inbound.id and to == [inbound.from_field.get("address")])

    task = "4. a note that closes it"
    await day.call(task, "create_post", conversation=conversation, text="Replied; closing.", close=True)
    posts = day.sent("POST", "/posts")
    post = posts[-1].body["posts"] if posts else {}
    day.check(task, post.get("conversation") == conversation and post.get("close") is True)

    task = "5. assign a conversation to a person and label it by name"
    other = page["conversations"][1]["id"]
    await day.call(
        task,
        "update_conversation",
        conversation_ids=[other],
        add_assignees=[PERSON],
        add_shared_labels=[LABEL],
        organization=org,
    )
    patches = day.sent("PATCH", "/conversations")
    change = patches[-1].body["conversations"][0] if patches else {}
    day.check(
        task,
        change.get("id") == other
        and change.get("add_assignees") == [DEMO_USER_ID]
        and change.get("add_shared_labels") == [DEMO_LABEL_IDS[LABEL]],
    )

    task = "6. one contact's conversations"
    first = len(day.fake.requests)
    theirs = await day.call(task, "list_conversations", all=True, email=CONTACT)
    asked = [r for r in day.fake.requests[first:] if r.path == "/v1/conversations"]
    mine = {c.id for c in day.fake.workspace.conversations.values() if _involves(c, CONTACT)}
    got = {c["id"] for c in theirs["conversations"]}
    day.check(task, bool(asked) and asked[-1].query.get("email") == CONTACT and got == mine and bool(got))

    task = "7. a task on a conversation"
    await day.call(task, "create_task", title="Check the refund went through", conversation=other)
    tasks = day.sent("POST", "/tasks")
    made = tasks[-1].body["tasks"] if tasks else {}
    day.check(task, made.get("conversation") == other and made.get("title") == "Check the refund went through")

    task = "8. last week's analytics report"
    end = SEED_NOW - SEED_NOW % 86_400
    report = await day.call(task, "get_analytics_report", organization=org, start=end - WEEK, end=end)
    asked = day.sent("POST", "/analytics/reports")
    wanted = {"organization": org, "start": end - WEEK, "end": end}
    figures = report["report"]["selected_period"]["global"]["totals"].get("metrics")
    day.check(task, len(asked) == 1 and asked[0].body["reports"] == wanted and bool(figures))


def _involves(conversation: Any, address: str) -> bool:
    return any(address in json.dumps([m.from_field, m.to_fields, m.cc_fields]) for m in conversation.messages)


async def run(report: Report) -> None:
    fake = day_workspace()
    with loopback(fake) as (url, _):
        async with started(ours(url)) as mine:
            tools = (await mine.request("tools/list")).result["tools"]
            day = Day(mine, fake)
            await work(day)
    tool_bytes = compact([model_view(t) for t in tools])
    context = tool_bytes + day.result_bytes
    tasks = len(day.done)
    report.add(
        Row(
            "8. A day of inbox work (default toolsets): tasks done",
            count,
            Stat.of([tasks]),
            target=f"{DAY_TASKS} of {DAY_TASKS}",
            met=tasks >= DAY_TASKS,
            verdict=f"(failed: {', '.join(day.failed)})" if day.failed else "(each checked against the fake)",
        )
    )
    report.add(
        Row(
            "8. … context: tool list + every result read",
            nbytes,
            Stat.of([context]),
            target=f"≤ {DAY_BYTES:,} B",
            met=context <= DAY_BYTES,
            verdict=f"({tool_bytes:,} B tool list + {day.result_bytes:,} B results, {day.calls} calls)",
        )
    )
    calls, size = day.sizes["1. the 25 newest conversations of a team inbox"]
    listed = day.listed
    report.add(
        Row(
            "8. … the 25 newest of a team inbox: bytes read",
            nbytes,
            Stat.of([size]),
            target=f"{TEAM_INBOX_CALLS} call, {TEAM_INBOX_CONVERSATIONS} conversations, ≤ {TEAM_INBOX_BYTES:,} B",
            met=calls <= TEAM_INBOX_CALLS and listed == TEAM_INBOX_CONVERSATIONS and size <= TEAM_INBOX_BYTES,
            verdict=f"({calls} call, {listed} conversations)",
        )
    )
    per_task = "; ".join(f"{task}: {c} call(s), {b:,} B" for task, (c, b) in day.sizes.items())
    report.notes.append(
        f"Day: {tasks} of {DAY_TASKS} tasks in {day.calls} tool calls against the demo workspace plus 40 conversations "
        f"in the {TEAM} inbox; tool list {tool_bytes:,} B (name + description + input schema, {len(tools)} tools), "
        f"results {day.result_bytes:,} B (the text blocks the model reads). Per task: {per_task}. People, labels and "
        "the team are given by name; the organization id comes from one list_organizations call (setup)."
    )
