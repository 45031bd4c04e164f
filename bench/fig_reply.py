"""Figure 7: replying to the latest message of a thread, counted in tool calls. The agent asks for a reply to a
demo thread with reply_to_conversation; the figure is the number of calls it made, checked by what the fake
received (one draft, addressed to the sender of the latest message the team did not send)."""

from __future__ import annotations

from harness import Report, Row, Stat, count, loopback, ours, started
from targets import REPLY_CALLS

from missive_mcp.sandbox import DEMO_CONVERSATION_ID, FakeMissive
from missive_mcp.server import TOOLS

TOOL = "reply_to_conversation"


async def run(report: Report) -> None:
    target = f"{REPLY_CALLS} call"
    if TOOL not in {tool.name for tool in TOOLS}:
        report.add(Row("7. Reply to the latest message of a thread: tool calls", count, None, target=target))
        report.notes.append(f"Reply: {TOOL} is not yet built; by hand it takes read_conversation then create_draft.")
        return
    fake = FakeMissive(enforce_limits=False)
    with loopback(fake) as (url, _):
        async with started(ours(url)) as mine:
            calls = 1
            asked = await mine.ok(TOOL, conversation_id=DEMO_CONVERSATION_ID, body="Thanks, the refund is on its way.")
            reply = asked.data
            drafts = [r for r in fake.requests if r.method == "POST" and r.path == "/v1/drafts"]
            # Checked outside the count: the message it answered, read back.
            answered = (await mine.ok("get_messages", message_ids=[reply["replying_to"]])).data["messages"][0]
    sent = drafts[0].body["drafts"] if len(drafts) == 1 else {}
    addressed = [p["address"] for p in sent.get("to_fields", [])] == [answered["from_field"]["address"]]
    correct = len(drafts) == 1 and addressed and sent.get("subject", "").startswith("Re:")
    report.add(
        Row(
            "7. Reply to the latest message of a thread: tool calls",
            count,
            Stat.of([calls]),
            target=target,
            met=calls <= REPLY_CALLS and correct,
            verdict="(one draft, to the latest inbound sender, subject Re:)" if correct else "(the draft was wrong)",
        )
    )
    report.notes.append(
        f"Reply: one {TOOL} call on the demo's double-charge thread; the fake received {len(drafts)} POST /drafts "
        f"addressed to {', '.join(p['address'] for p in sent.get('to_fields', []))}, subject {sent.get('subject')!r}, "
        f"{len(sent.get('references', []))} references. By hand it takes read_conversation, working out the "
        "recipients, then create_draft."
    )
