"""Every answer within MISSIVE_MAX_RESULT_BYTES: a longer one is cut at an item boundary and says how to read the rest.

Claude Code refuses a tool result over 25,000 tokens by default, and a 60-message thread reads as about 100 KB.
`fit` is the one function the call policy runs on each tool result (its text block is the compact JSON of its
structured content, so one cut serves both); `fit_thread` bounds a thread before it is rendered as text (the
conversation resource), so a cut never falls inside the fences around mail text. What is cut, by shape:

- a thread (`entries`, oldest first): its oldest entries; list_conversation_messages with `until` reads them;
- a time-paged list (`next_until`, newest first): its oldest items, and the cursor moves back to them (a run
  sharing the first left-out timestamp is left out whole, as the pagers do: `until` includes its boundary);
- an offset-paged list (`next_offset`): its last items, and the offset moves back to them;
- any other list: its last items, named by id;
- then, if one item alone is too big, its longest texts, each with a marker.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, cast

from mcp.types import CallToolResult, TextContent

from .text import truncate

STAMPS = ("last_activity_at", "delivered_at", "created_at")
"""The timestamp a time-paged item is ordered and paged by, whichever it has first."""
HINT = "The rest is past this server's answer limit (MISSIVE_MAX_RESULT_BYTES)."
TOO_BIG = (
    "This answer is over this server's size limit (MISSIVE_MAX_RESULT_BYTES={limit} bytes) even when cut; nothing "
    "was lost in Missive. Ask for less at a time (a smaller limit, fewer ids, less detail or max_body_chars)."
)


def size(data: Any) -> int:
    """Bytes of `data` as the result's text block carries it (compact JSON, as server.compact writes it)."""
    return len(json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode())


def fit_result(result: Any, limit: int, arguments: dict[str, Any], schema: dict[str, Any] | None) -> Any:
    """A tool's result (as server.compact leaves it) within `limit`: its structured content fitted, its text block
    rewritten from it; an error sentence if even that cannot fit. `schema`: the tool's input schema, which says
    how it pages. A result with other blocks (an embedded file) has its own budget and passes unchanged."""
    if not isinstance(result, dict):
        return result
    found = cast(dict[str, Any], result)
    data: Any = found.get("structuredContent")
    content: Any = found.get("content")
    if found.get("isError") or not isinstance(data, dict) or not isinstance(content, list) or len(content) != 1:  # pyright: ignore[reportUnknownArgumentType]
        return found
    properties: Any = (schema or {}).get("properties") or {}
    paged_by = next((name for name in ("until", "offset") if name in properties), None)
    fitted = fit(cast(dict[str, Any], data), limit, arguments, paged_by)
    if fitted is data:
        return found
    if fitted is None:
        return CallToolResult(content=[TextContent(type="text", text=TOO_BIG.format(limit=limit))], is_error=True)
    text = json.dumps(fitted, ensure_ascii=False, separators=(",", ":"))
    answer: dict[str, Any] = {**found, "content": [{"type": "text", "text": text}], "structuredContent": fitted}
    return answer


def fit(
    data: dict[str, Any], limit: int, arguments: dict[str, Any], paged_by: str | None = None
) -> dict[str, Any] | None:
    """`data` (a tool's structured result) within `limit` bytes: the very object when it fits, None when it cannot.
    `arguments`: the call's (for the offset and the conversation a continuation needs); `paged_by`: the tool's
    cursor argument, `until` or `offset`, if it has one. A cut result says so in `truncated`."""
    if size(data) <= limit:
        return data
    data = dict(data)
    room = limit - 600  # for the sentence that says what was cut, and the cursor beside it
    key = _longest_list(data)
    if key is not None:
        items = cast(list[Any], data[key])
        kept = _keep(items, lambda n: {**data, key: _window(key, items, n)}, room)
        if kept < len(items):
            data = _cut_list(data, key, kept, arguments, paged_by)
    return _cut_texts(data, limit)


def fit_thread(thread: dict[str, Any], limit: int) -> dict[str, Any] | None:
    """A thread (as dumped) within `limit`: its oldest entries left out first, then its longest texts cut."""
    conversation = _fields(thread.get("conversation"))
    return fit(thread, limit, {"conversation_id": conversation.get("id")})


def _fields(value: Any) -> dict[str, Any]:
    """A JSON object as a typed dict; {} for anything else."""
    return cast(dict[str, Any], value) if isinstance(value, dict) else {}


def _longest_list(data: dict[str, Any]) -> str | None:
    lists = [key for key, value in data.items() if isinstance(value, list) and value]
    return max(lists, key=lambda key: size(data[key])) if lists else None


def _window(key: str, items: list[Any], n: int) -> list[Any]:
    """The `n` items a cut keeps: the newest, which is the last ones of a thread and the first ones of a list."""
    return items[len(items) - n :] if key == "entries" else items[:n]


def _keep(items: list[Any], shaped: Callable[[int], Any], room: int) -> int:
    """How many items fit in `room` (at least one: a single item too big is cut inside instead)."""
    low, high = 1, len(items)
    while low < high:
        middle = (low + high + 1) // 2
        if size(shaped(middle)) <= room:
            low = middle
        else:
            high = middle - 1
    return low


def _stamp(item: Any) -> int | None:
    if isinstance(item, dict):
        fields = cast(dict[str, Any], item)
        for name in STAMPS:
            if isinstance(fields.get(name), int):
                return int(fields[name])
    return None


def _cut_list(
    data: dict[str, Any], key: str, kept: int, arguments: dict[str, Any], paged_by: str | None
) -> dict[str, Any]:
    items = cast(list[Any], data[key])
    if key == "entries":  # a thread, oldest first: the oldest are left out
        left = len(items) - kept
        shown = items[left:]
        oldest = _fields(shown[0]).get("at")
        how = (
            f"list_conversation_messages(conversation_id={arguments.get('conversation_id')!r}, until={oldest}) "
            "reads the older messages"
        )
        return {
            **data,
            key: shown,
            "older_omitted": True,
            "truncated": f"The {left} oldest of {len(items)} entries are left out to keep this answer within its "
            f"size limit; {how}.",
        }
    shown = items[:kept]
    if paged_by == "until" and (cursor := _stamp(items[kept])) is not None:
        # `until` includes its boundary: items sharing the first left-out one's timestamp come back with it.
        shown = [item for item in shown if _stamp(item) != cursor]
        if not shown:  # all of one timestamp: that whole run is served (its texts cut), or paging would loop
            run = next((n for n, item in enumerate(items) if _stamp(item) != cursor), len(items))
            if run == len(items):
                return data
            shown, cursor = items[:run], _stamp(items[run])
        note = f"the same call with until={cursor} reads on from them"
        more: dict[str, Any] = {"has_more": True, "next_until": cursor}
    elif paged_by == "offset":
        offset = int(arguments.get("offset") or 0) + kept
        note = f"the same call with offset={offset} reads on from them"
        more = {"has_more": True, "next_offset": offset}
    else:
        ids = [str(_fields(item)["id"]) for item in items[kept:] if _fields(item).get("id")]
        note = f"ask for them in another call (ids: {', '.join(ids)})" if ids else "ask for fewer at a time"
        more = {}
    left = len(items) - len(shown)
    sentence = f"{left} of {len(items)} {key} are left out to keep this answer within its size limit; {note}."
    return {**data, key: shown, **more, "truncated": sentence}


def _cut_texts(data: dict[str, Any], limit: int) -> dict[str, Any] | None:
    """The longest texts cut at a line or word, each with a marker, until the whole fits (one item too big on its
    own); None when that is not enough (a great many small fields)."""
    for _ in range(50):  # each pass removes at least the excess from one text: a bound, not a hope
        over = size(data) - limit
        if over <= 0:
            return data
        path, text = _longest_text(data)
        if path is None or len(text) < 400:
            return None
        # Characters are at least a byte each, so cutting `over` characters (and the marker's room) is enough.
        cut, _ = truncate(text, max(200, len(text) - over - 300), hint=HINT)
        data = _replace(data, path, cut)
    return None


def _longest_text(value: Any, path: tuple[Any, ...] = ()) -> tuple[tuple[Any, ...] | None, str]:
    best: tuple[tuple[Any, ...] | None, str] = (None, "")
    if isinstance(value, str):
        return (path, value) if not path or path[-1] != "id" else best
    children: list[tuple[Any, Any]] = []
    if isinstance(value, dict):
        children = list(cast(dict[Any, Any], value).items())
    elif isinstance(value, list):
        children = list(enumerate(cast(list[Any], value)))
    for key, child in children:
        found = _longest_text(child, (*path, key))
        if found[0] is not None and len(found[1]) > len(best[1]):
            best = found
    return best


def _replace(value: Any, path: tuple[Any, ...], new: str) -> Any:
    if not path:
        return new
    head, rest = path[0], path[1:]
    if isinstance(value, dict):
        fields = cast(dict[Any, Any], value)
        return {**fields, head: _replace(fields[head], rest, new)}
    items = list(cast(list[Any], value))
    items[head] = _replace(items[head], rest, new)
    return items
