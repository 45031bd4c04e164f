"""Mail bodies as lean, safe, readable text.

Message, comment and post bodies are third-party HTML: an agent needs the words and the links, not the markup,
it must not be steered by what a sender hid in it, and one hostile body must not stall the server.
`html_to_text` therefore:

1. reads at most `MAX_HTML_CHARS` of a body (a marker says how much was not read);
2. tokenizes the HTML in one linear pass of its own (a tag, comment or quoted value left open runs to the end
   of the body) and drops what a mail client would not show, leaving a marker that says how many characters
   were hidden. Hidden means: `<style>`, `<script>`, `<head>`, `<title>`, `<template>`, the `hidden` attribute,
   and these styles, inline (after CSS comments and escapes are resolved) or from `<style>` rules anywhere in
   the body (inside `@media` only when it is for all screens) whose selector is a tag, `.class`, `#id`,
   `tag.class` or `tag#id`, in cascade order: `display:none`, `visibility:hidden`, `mso-hide:all`, a font size
   under 2px, a text colour within 24 (of 255, on every channel) of the background it sits on (its own, an
   ancestor's, or the white page), a colour with alpha under 0.1, `opacity` under 0.1, a zero (max-)height or
   width with overflow hidden (or `max-height:0` alone), an absolute or fixed position 500px or more past the
   left, top or right edge, `text-indent` of -500px or less, `transform: scale(0)`, and full clipping (`clip-path:
   inset(100%)` or `circle(0)`, `clip: rect(0,0,0,0)`);
3. converts the rest with html2text (links kept as `[text](url)`, lists and quotes as Markdown, nesting
   flattened past `MAX_NESTING` so the output stays linear in the input);
4. collapses the quoted history at the end of a reply (`> ...` lines and the "On ... wrote:" line above them)
   into one marker line, unless `keep_quotes`;
5. removes invisible and direction-changing characters (`sanitize`) and tidies whitespace.

Every step is linear in the size of the body. `to_text` runs the conversion in a worker thread, so the event
loop keeps answering, within a time budget (`BODY_SECONDS` per body, `CALL_SECONDS` per call): past it, the
body is shown as plain text with its hidden parts still removed (or, if even that was not finished, as far as it
got), with a marker. `truncate` cuts a long text at a budget with a marker that says how to get the rest;
`one_line` and `fence_safe` keep names and mail text from forging lines or markers of our own.
"""

from __future__ import annotations

import functools
import html
import math
import re
import time
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import anyio.to_thread

if TYPE_CHECKING:
    import html2text

MAX_HTML_CHARS = 1_000_000
"""Characters of a body read at most (about 1 MB). Past this, the rest is left unread with a marker: no inbox
text an agent acts on is that long, and every step after this one costs time in proportion to it."""
BODY_SECONDS = 0.5
"""Time budget for converting one body; past it the body is shown as plain text with a marker."""
CALL_SECONDS = 1.0
"""Time budget for converting all the bodies of one tool call; bodies left when it runs out are shown plain."""
MAX_NESTING = 8
"""Lists and quotes nested deeper than this are flattened: each level indents every line below it, so deeper
nesting would make the text grow with the square of the HTML."""
MAX_SUBJECT_CHARS = 300
"""A subject longer than this is cut with a marker, in every result."""
MAX_NAME_CHARS = 200
"""A person's, file's or label's name longer than this is cut with a marker, in every result."""
MAX_PREVIEW_CHARS = 300
"""A message preview longer than this is cut with a marker, in every result."""

FENCE_OPEN = "<<<third-party content"
FENCE_CLOSE = "<<<end of third-party content>>>"
"""The markers around mail text in the conversation resource. Both start with `<<<`, which `fence_safe` breaks
up wherever mail text holds it, so no sender can close the fence or open a new one."""

HIDDEN_MARKER = "characters of hidden text removed: the sender hid them from human readers."

_TAG = re.compile(r"<(?:[a-zA-Z][a-zA-Z0-9-]*|/[a-zA-Z][a-zA-Z0-9-]*|!--)[^<>]*>")
_ATTRIBUTION = re.compile(
    r"^(?:On .{4,200} wrote:|Le .{4,200} a écrit\s?:|Am .{4,200} schrieb .{1,100}:|El .{4,200} escribió:|"
    r"-{2,} ?(?:Original Message|Forwarded message) ?-{2,}|From: .+)$",
    re.IGNORECASE,
)
# Characters kept although their category is "format": joiners matter between letters of some scripts and emoji.
_JOINERS = frozenset({"\u200c", "\u200d"})


def looks_like_html(text: str) -> bool:
    return bool(_TAG.search(text))


class _OutOfTime(Exception):
    pass


@dataclass
class _Clock:
    """A deadline checked every so often by the loops of a conversion (None: no deadline)."""

    deadline: float | None

    def check(self) -> None:
        if self.deadline is not None and time.monotonic() >= self.deadline:
            raise _OutOfTime


def html_to_text(body: str | None, *, keep_quotes: bool = False, seconds: float | None = BODY_SECONDS) -> str:
    """Readable plain text of an HTML (or plain-text) mail body, within `seconds` (None: no limit). See the
    module's docstring for the steps."""
    if not body:
        return ""
    notes: list[str] = []
    if len(body) > MAX_HTML_CHARS:
        notes.append(
            f"[… {len(body) - MAX_HTML_CHARS} more characters not read: mail bodies are read up to "
            f"{MAX_HTML_CHARS:,} characters.]"
        )
        body = body[:MAX_HTML_CHARS]
    clock = _Clock(None if seconds is None else time.monotonic() + seconds)
    hidden = 0
    if looks_like_html(body):
        visible = _Visible()
        try:
            visible.run(body, clock)
            hidden = visible.hidden_chars
            text = _convert(visible.out, clock)
        except _OutOfTime:
            hidden = visible.hidden_chars
            text = _plain(visible.out)
            unread = len(body) - visible.pos
            notes.insert(
                0,
                "[shown as plain text: the message was too complex to convert in time"
                + (f"; its last {unread} characters were not read" if unread > 0 else "")
                + ".]",
            )
    else:
        text = body
    text = tidy(sanitize(text))
    if not keep_quotes:
        text = collapse_quotes(text)
    if hidden:
        notes.append(f"[{hidden} {HIDDEN_MARKER}]")
    return fence_safe("\n".join([text.strip(), *notes]).strip())


async def to_text(bodies: Sequence[str | None], *, keep_quotes: bool = False) -> list[str]:
    """`html_to_text` of each body, in a worker thread so the event loop keeps serving, each within
    `BODY_SECONDS` and all within `CALL_SECONDS` (bodies reached after that get no time: plain text)."""
    if not any(bodies):
        return ["" for _ in bodies]
    return await anyio.to_thread.run_sync(functools.partial(_all_to_text, list(bodies), keep_quotes))


def _all_to_text(bodies: list[str | None], keep_quotes: bool) -> list[str]:
    end = time.monotonic() + CALL_SECONDS
    return [
        html_to_text(body, keep_quotes=keep_quotes, seconds=max(0.0, min(BODY_SECONDS, end - time.monotonic())))
        for body in bodies
    ]


def fence_safe(text: str) -> str:
    """Mail text that cannot hold our fence markers: a space after every "<" that two more follow, so no run of
    three is left (one pass)."""
    return _FENCE_BREAK.sub("< ", text) if "<<<" in text else text


_FENCE_BREAK = re.compile(r"<(?=<<)")


_LINE_BREAKS = re.compile(r"[\x00-\x1f\x7f\x85\u2028\u2029]+")


def one_line(value: str | None, budget: int = MAX_NAME_CHARS) -> str | None:
    """A name, subject or filename as one line (line breaks and control characters become spaces), fence-safe,
    cut at `budget` characters with a marker."""
    if value is None:
        return None
    extra = max(0, len(value) - 4 * budget)  # nothing past this can show: spare the steps below the rest
    value = value[: 4 * budget]
    text = fence_safe(_LINE_BREAKS.sub(" ", value)).strip()
    return cut(text, budget, extra)


def cut(text: str, budget: int, extra: int = 0) -> str:
    """`text` cut to `budget` characters with a marker saying how many more there were (`extra` were already
    dropped before)."""
    if len(text) <= budget and not extra:
        return text
    kept = text[:budget].rstrip()
    return f"{kept}… [cut: {len(text) - len(kept) + extra} more characters]"


def sanitize(text: str) -> str:
    """Remove characters a reader cannot see but a model reads: zero-width and bidirectional controls, tag
    characters, byte-order marks and other control characters. Newlines and tabs stay; joiners stay between
    non-ASCII characters, where scripts and emoji need them (one at a time: a run of joiners is a hiding place).
    Characters newer than this Python's Unicode tables (new emoji) stay. A lone carriage return is a line break.
    Plain printable ASCII is returned untouched."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not _SUSPECT.search(text):
        return text
    return _SUSPECT.sub(lambda match: _visible(text, match.start()), text)


# Every character `_visible` may remove or change (controls, formats, private use, surrogates, noncharacters,
# line separators; a test checks none is missing), so that letters in any script cost no Python call.
_SUSPECT = re.compile(
    r"[\x00-\x08\x0b-\x1f\x7f-\x9f\xad\u0600-\u0605\u061c\u06dd\u070f\u0890-\u0891\u08e2\u180e\u200b-\u200f"
    r"\u2028-\u202e\u2060-\u206f\ud800-\uf8ff\ufdd0-\ufdef\ufeff\ufff9-\ufffb\ufffe-\uffff\U000110bd\U000110cd"
    r"\U00013430-\U0001343f\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0000-\U000e0fff\U000f0000-\U0010ffff"
    + "".join(rf"\U{plane:04x}fffe-\U{plane:04x}ffff" for plane in range(1, 0xF))
    + "]"
)


def _visible(text: str, index: int) -> str:
    """What one character that is not plain ASCII becomes: itself, a newline, or nothing."""
    char = text[index]
    if char in "\u2028\u2029":
        return "\n"
    category = unicodedata.category(char)
    if category == "Cf":
        return char if char in _JOINERS and _between_non_ascii(text, index) else ""
    if category in ("Cc", "Co", "Cs") or (category == "Cn" and _noncharacter(char)):
        return ""
    return char


def _noncharacter(char: str) -> bool:
    """The code points Unicode reserves never to assign (U+FDD0-FDEF, and U+xFFFE/U+xFFFF in every plane);
    any other unassigned one may be a character newer than this Python knows, such as a new emoji."""
    point = ord(char)
    return 0xFDD0 <= point <= 0xFDEF or point & 0xFFFE == 0xFFFE


def sanitize_tree(value: Any) -> Any:
    """`sanitize` applied to every string of a decoded JSON document (keys are the API's own)."""
    if isinstance(value, str):
        return sanitize(value)
    if isinstance(value, list):
        return [sanitize_tree(item) for item in value]  # pyright: ignore[reportUnknownVariableType]
    if isinstance(value, dict):
        return {key: sanitize_tree(item) for key, item in value.items()}  # pyright: ignore[reportUnknownVariableType]
    return value


def tidy(text: str) -> str:
    """Non-breaking spaces as spaces, no trailing spaces, at most one blank line in a row."""
    text = text.replace("\u00a0", " ").replace("\u202f", " ")
    lines = [line.rstrip() for line in text.split("\n")]
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def collapse_quotes(text: str) -> str:
    """Replace the quoted history that ends a reply with one marker line. Quotes inside the reply stay."""
    lines = text.split("\n")
    end = len(lines)
    start = end
    while start > 0 and (lines[start - 1].startswith(">") or not lines[start - 1].strip()):
        start -= 1
    quoted = [line for line in lines[start:end] if line.startswith(">")]
    if not quoted:
        return text
    head = start
    while head > 0 and not lines[head - 1].strip():
        head -= 1
    if head > 0 and _ATTRIBUTION.match(lines[head - 1].strip()):
        head -= 1
        while head > 0 and not lines[head - 1].strip():
            head -= 1
    if head == 0:
        return text  # A body that is nothing but a quote: keep it, it is the content.
    marker = f"[quoted history: {len(quoted)} lines hidden. Earlier messages in the thread hold it.]"
    return "\n".join([*lines[:head], "", marker]).strip()


def truncate(text: str, budget: int, *, hint: str) -> tuple[str, int]:
    """`text` cut to about `budget` characters at a line or word boundary, with a marker that says how much
    was cut and how to get the rest (`hint`). Returns the text and the number of characters cut (0: whole)."""
    if budget <= 0 or len(text) <= budget:
        return text, 0
    cut_at = budget
    newline = text.rfind("\n", 0, budget)
    space = text.rfind(" ", 0, budget)
    if newline >= budget * 0.8:
        cut_at = newline
    elif space >= budget * 0.8:
        cut_at = space
    kept = text[:cut_at].rstrip()
    cut = len(text) - len(kept)
    return f"{kept}\n[… truncated: {cut} more characters. {hint}]", cut


def _between_non_ascii(text: str, index: int) -> bool:
    """Whether the joiner at `index` sits between two visible non-ASCII characters (not other joiners)."""
    before = text[index - 1] if index > 0 else ""
    after = text[index + 1] if index + 1 < len(text) else ""
    return all(c and ord(c) > 0x7F and unicodedata.category(c) != "Cf" for c in (before, after))


# Converting -----------------------------------------------------------------------------------------------------


def _converter() -> html2text.HTML2Text:
    import html2text  # at the first HTML body, not at start-up: nothing before the first tool call needs it

    converter = html2text.HTML2Text()
    converter.body_width = 0  # No hard wrapping: the client wraps.
    converter.ignore_images = True
    converter.ignore_tables = False
    converter.protect_links = False
    converter.unicode_snob = True  # Keep "é" rather than "e".
    converter.single_line_break = False
    converter.mark_code = False
    converter.ignore_emphasis = True  # Bold and italics cost tokens and tell an agent little.
    converter.convert_charrefs = True  # one call per run of text, not one per "&lt;"
    return converter


def _convert(parts: list[str], clock: _Clock) -> str:
    """html2text over the clean HTML `_Visible` wrote, fed in slices so the deadline is checked between them."""
    converter = _converter()
    converter.start = True
    for start in range(0, len(parts), 512):
        clock.check()
        converter.feed("".join(parts[start : start + 512]))
    clock.check()
    return converter.finish()


_BLOCK_TAG = re.compile(r"</?(?:p|div|br|hr|li|tr|h[1-6]|blockquote|table|pre|dt|dd|ul|ol|dl)\b[^>]*>")
_ANY_TAG = re.compile(r"<[^>]*>")


def _plain(parts: list[str]) -> str:
    """The clean HTML `_Visible` wrote as plain text: block tags as line breaks, other tags dropped. Two C-speed
    linear passes, for when there is no time left for html2text."""
    return html.unescape(_ANY_TAG.sub("", _BLOCK_TAG.sub("\n", "".join(parts))))


# Tokens of HTML, each matched from where the previous one ended. Every alternative is possessive or stops at a
# character it cannot pass, so nothing is scanned twice: a construct left open runs to the end of the body.
_TOKEN = re.compile(
    r"""
      (?P<text>(?:[^<]++|<(?![a-zA-Z!?/]))++)
    | <!--(?P<comment>(?s:.)*?)(?:-->|\Z)
    | </(?P<end>[a-zA-Z][^\s/>]*+)[^>]*+(?:>|\Z)
    | <(?P<start>[a-zA-Z][^\s/>]*+)(?P<attrs>(?:[^>"']++|"[^"]*+"|'[^']*+'|["'])*+)(?:>|\Z)
    | <[!?/][^>]*+(?:>|\Z)
    """,
    re.VERBOSE,
)
_ATTR = re.compile(r"""([^\s/>"'=][^\s/>=]*+)(?:\s*+=\s*+("[^"]*+"|'[^']*+'|[^\s>]*+))?""")
_RAW_END = {
    name: re.compile(rf"</{name}[\s/>]|\Z", re.IGNORECASE) for name in ("style", "script", "textarea", "xmp", "title")
}
_STYLE_BLOCK = re.compile(r"<style\b[^>]*+>", re.IGNORECASE)

_NEVER_SHOWN = frozenset({"style", "script", "head", "title", "template"})
_VOID = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr", "param"}
)
# The tags html2text renders differently from plain text; others are dropped, their text kept.
_RENDERED = frozenset(
    {
        "p", "div", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "ol", "ul", "li", "dl", "dt",
        "dd", "a", "pre", "code", "kbd", "tt", "q", "table", "tr", "td", "th", "del", "s", "strike",
    }
)  # fmt: skip
_NESTING = frozenset({"ol", "ul", "dl", "blockquote"})
_CLOSES_ITSELF = frozenset({"p", "li", "a", "tr", "td", "th", "dt", "dd", "option"})
_KEPT_ATTRS = {"a": ("href", "title"), "ol": ("start",)}
_WATCHED = frozenset(
    {
        "display", "visibility", "mso-hide", "font-size", "color", "background", "background-color",
        "background-image", "opacity", "height", "max-height", "width", "max-width", "overflow", "overflow-x",
        "overflow-y", "position", "left", "top", "right", "text-indent", "transform", "scale", "clip-path", "clip",
    }
)  # fmt: skip
_WHITE = (255, 255, 255)


@dataclass(slots=True)
class _Frame:
    """An open element, with what its text inherits."""

    tag: str
    emitted: bool
    hidden: bool = False
    """Nothing inside shows, whatever it says (display:none, opacity, clipping, off-screen...)."""
    invisible: bool = False
    """visibility:hidden, which a descendant can undo."""
    font_px: float = 16.0
    color: tuple[int, int, int, float] | None = (0, 0, 0, 1.0)
    background: tuple[int, int, int] | None = _WHITE
    """The colour text is drawn on; None when unknown (an image, a gradient)."""
    opacity: float = 1.0
    nesting: int = 0
    counts: bool = True
    """Whether hidden text inside counts as hidden from readers (not code, as in <style>)."""


_Declarations = dict[str, tuple[tuple[int, int, int], str]]
"""CSS property -> ((important, specificity, order), value)."""


@dataclass
class _Visible:
    """One pass over the HTML: writes clean HTML of what a reader sees (`out`), counting the hidden characters."""

    out: list[str] = field(default_factory=list[str])
    hidden_chars: int = 0
    pos: int = 0
    _rules: dict[str, _Declarations] = field(default_factory=dict[str, _Declarations])
    _stack: list[_Frame] = field(default_factory=list[_Frame])
    _open: dict[str, int] = field(default_factory=dict[str, int])

    def run(self, body: str, clock: _Clock) -> None:
        self._rules = _stylesheet(body, clock)
        self._stack = [_Frame(tag="#root", emitted=False)]
        end, steps = len(body), 0
        while self.pos < end:
            steps += 1
            if not steps & 1023:
                clock.check()
            match = _TOKEN.match(body, self.pos)
            assert match is not None  # "<" starts a tag, a comment, a bogus comment or text
            self.pos = match.end()
            if (text := match.group("text")) is not None:
                self._text(text)
            elif (tag := match.group("start")) is not None:
                self._start(tag.lower(), match.group("attrs"), body)
            elif (tag := match.group("end")) is not None:
                self._end(tag.lower())
        self._close_to(1)

    # Tokens ---------------------------------------------------------------------------------------------------

    def _text(self, raw: str) -> None:
        frame = self._stack[-1]
        text = _unescape(raw)
        if _shows(frame):
            self.out.append(html.escape(text, quote=False))
        elif frame.counts:
            self.hidden_chars += len(sanitize(text).strip())

    def _start(self, tag: str, raw_attrs: str, body: str) -> None:
        parent = self._stack[-1]
        if tag in _CLOSES_ITSELF and self._open.get(tag) and (tag == "a" or parent.tag == tag):
            self._end(tag)
            parent = self._stack[-1]
        attrs = _attributes(raw_attrs)
        frame = self._frame(tag, attrs, parent)
        shows = not (frame.hidden or parent.hidden)
        if frame.emitted and shows:
            kept = "".join(
                f' {name}="{html.escape(attrs[name])}"' for name in _KEPT_ATTRS.get(tag, ()) if attrs.get(name)
            )
            self.out.append(f"<{tag}{kept}>")
        if tag in _RAW_END:  # its text runs to its end tag, tags and all
            found = _RAW_END[tag].search(body, self.pos)
            stop = found.start() if found else len(body)
            if tag in ("textarea", "xmp") and not frame.hidden:
                self._stack.append(frame)
                self._text(body[self.pos : stop])
                self._stack.pop()
            elif frame.counts and frame.hidden and tag not in _NEVER_SHOWN:
                self.hidden_chars += len(sanitize(_unescape(body[self.pos : stop])).strip())
            self.pos = stop
            if frame.emitted and shows:
                self.out.append(f"</{tag}>")
            return
        if tag in _VOID:
            return
        self._stack.append(frame)
        self._open[tag] = self._open.get(tag, 0) + 1

    def _end(self, tag: str) -> None:
        if not self._open.get(tag):
            return  # a stray end tag: drop it (a count, not a search, says so)
        while True:
            frame = self._stack.pop()
            self._open[frame.tag] -= 1
            if frame.emitted and not frame.hidden:
                self.out.append(f"</{frame.tag}>")
            if frame.tag == tag:
                return

    def _close_to(self, depth: int) -> None:
        while len(self._stack) > depth:
            frame = self._stack.pop()
            self._open[frame.tag] -= 1
            if frame.emitted and not frame.hidden:
                self.out.append(f"</{frame.tag}>")

    # Styles ---------------------------------------------------------------------------------------------------

    def _frame(self, tag: str, attrs: dict[str, str], parent: _Frame) -> _Frame:
        nesting = parent.nesting + (tag in _NESTING)
        frame = _Frame(
            tag=tag,
            emitted=tag in _RENDERED and nesting <= MAX_NESTING and not parent.hidden,
            hidden=parent.hidden,
            invisible=parent.invisible,
            font_px=parent.font_px,
            color=parent.color,
            background=parent.background,
            opacity=parent.opacity,
            nesting=nesting,
            counts=parent.counts,
        )
        if parent.hidden:
            return frame
        if tag in _NEVER_SHOWN:
            frame.hidden, frame.counts = True, False
            return frame
        if "hidden" in attrs or (tag == "input" and attrs.get("type", "").lower() == "hidden"):
            frame.hidden = True
            return frame
        if "bgcolor" in attrs:
            frame.background = _rgb(attrs["bgcolor"], frame.background)
        if attrs.get("background"):
            frame.background = None
        if tag == "font" and "color" in attrs:
            frame.color = _rgba(attrs["color"], frame.color)
        declarations = self._matching(tag, attrs)
        if declarations:
            _apply(frame, declarations, parent)
        return frame

    def _matching(self, tag: str, attrs: dict[str, str]) -> dict[str, str]:
        """The watched declarations that apply to the element: its `<style>` rules, then its inline style, each
        property decided by importance, then specificity, then order."""
        found: _Declarations = {}
        if self._rules:
            keys = [tag]
            for name in attrs.get("class", "").lower().split():
                keys += (f".{name}", f"{tag}.{name}")
            if element_id := attrs.get("id", "").strip().lower():
                keys += (f"#{element_id}", f"{tag}#{element_id}")
            for key in keys:
                for prop, entry in self._rules.get(key, {}).items():
                    if prop not in found or entry[0] > found[prop][0]:
                        found[prop] = entry
        if style := attrs.get("style"):
            for prop, entry in _declarations(_css_text(style), (1000, 0)).items():
                if prop not in found or entry[0] > found[prop][0]:
                    found[prop] = entry
        return {prop: value for prop, (_, value) in found.items()}


def _shows(frame: _Frame) -> bool:
    if frame.hidden or frame.invisible or frame.font_px < 2:
        return False
    color = frame.color
    if color is None:
        return True
    if color[3] < 0.1:
        return False
    background = frame.background
    return background is None or max(abs(a - b) for a, b in zip(color[:3], background, strict=True)) > 24


_HUGE_CHARREF = re.compile(r"&#(?:[xX]0*+[0-9a-fA-F]{7,}+|0*+[0-9]{8,}+);?")


def _unescape(text: str) -> str:
    """`html.unescape`, except that a character reference too long to be one is a replacement character (a
    thousand-digit one would make `int` refuse it, and fail the whole body)."""
    if "&#" in text:
        text = _HUGE_CHARREF.sub("\ufffd", text)
    return html.unescape(text)


def _attributes(raw: str) -> dict[str, str]:
    attrs: dict[str, str] = {}
    if not raw.strip():
        return attrs
    for match in _ATTR.finditer(raw):
        name = match.group(1).lower()
        if name in attrs:
            continue  # the first of a repeated attribute wins, as in a browser
        value = match.group(2) or ""
        if value[:1] in ("'", '"') and value[-1:] == value[:1] and len(value) >= 2:
            value = value[1:-1]
        attrs[name] = _unescape(value)
    return attrs


def _apply(frame: _Frame, css: dict[str, str], parent: _Frame) -> None:
    """Work out what the element's declarations do to its text and its subtree."""
    get = css.get
    display, visibility = get("display", ""), get("visibility", "")
    if display.startswith("none") or get("mso-hide", "").startswith("all"):
        frame.hidden = True
    if visibility.startswith(("hidden", "collapse")):
        frame.invisible = True
    elif visibility.startswith("visible"):
        frame.invisible = False
    if "font-size" in css:
        frame.font_px = _font_px(css["font-size"], parent.font_px)
    if "color" in css:
        frame.color = _rgba(css["color"], parent.color)
    for prop in ("background", "background-color", "background-image"):
        if prop in css:
            frame.background = _background(css[prop], frame.background, image=prop == "background-image")
    if "opacity" in css:
        frame.opacity = parent.opacity * _number(css["opacity"], 1.0)
        if frame.opacity < 0.1:
            frame.hidden = True
    overflow = " ".join(get(p, "") for p in ("overflow", "overflow-x", "overflow-y"))
    clipped = "hidden" in overflow or "clip" in overflow
    for prop in ("height", "max-height", "width", "max-width"):
        size = _length(css.get(prop, ""), parent.font_px)
        if size is not None and size < 2 and (clipped or (prop == "max-height" and size <= 0)):
            frame.hidden = True
    if get("position", "").startswith(("absolute", "fixed")):
        for prop in ("left", "top", "right"):
            if (offset := _length(get(prop, ""), parent.font_px)) is not None and offset <= -500:
                frame.hidden = True
    if (indent := _length(get("text-indent", ""), parent.font_px)) is not None and indent <= -500:
        frame.hidden = True
    if _scaled_away(get("transform", ""), get("scale", "")) or _clipped_away(get("clip-path", ""), get("clip", "")):
        frame.hidden = True


_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:e[-+]?\d+)?")
_LENGTH = re.compile(r"([-+]?(?:\d+\.?\d*|\.\d+))\s*(px|pt|em|rem|%|pc|in|cm|mm|ex|ch|q|vw|vh)?")
_UNIT_PX = {"px": 1.0, "pt": 4 / 3, "pc": 16.0, "in": 96.0, "cm": 96 / 2.54, "mm": 9.6 / 2.54, "q": 2.4 / 2.54}
_FONT_KEYWORDS = {
    "xx-small": 9.0, "x-small": 10.0, "small": 13.0, "medium": 16.0, "large": 18.0, "x-large": 24.0,
    "xx-large": 32.0, "xxx-large": 48.0, "smaller": -1.0, "larger": -1.0,
}  # fmt: skip


def _number(value: str, default: float) -> float:
    match = _NUMBER.match(value.strip())
    if not match:
        return default
    number = float(match.group())
    if not math.isfinite(number):  # "1e999" is a number to a regex, infinity to float(), and round() refuses it
        return default
    return number / 100 if value.strip()[match.end() : match.end() + 1] == "%" else number


def _length(value: str, font_px: float) -> float | None:
    """A CSS length in pixels; None when it is not one (auto, calc(), a percentage of an unknown box)."""
    match = _LENGTH.match(value.strip())
    if not match:
        return None
    number, unit = float(match.group(1)), match.group(2)
    if unit is None:
        return number if number == 0 else None
    if unit in ("em", "ex", "ch"):
        return number * font_px * (1.0 if unit == "em" else 0.5)
    if unit == "rem":
        return number * 16.0
    return number * _UNIT_PX[unit] if unit in _UNIT_PX else None


def _font_px(value: str, parent_px: float) -> float:
    value = value.strip()
    keyword = _FONT_KEYWORDS.get(value.split(" ")[0] if value else "")
    if keyword is not None:
        return keyword if keyword > 0 else parent_px
    if value.endswith("%"):
        return _number(value, 1.0) * parent_px
    size = _length(value, parent_px)
    return parent_px if size is None else size


def _scaled_away(transform: str, scale: str) -> bool:
    for match in re.finditer(r"scale(?:x|y|3d)?\(([^)]*)\)", transform):
        if any(abs(_number(part, 1.0)) < 0.1 for part in match.group(1).split(",")[:2]):
            return True
    return bool(scale) and any(abs(_number(part, 1.0)) < 0.1 for part in scale.split()[:2])


def _clipped_away(clip_path: str, clip: str) -> bool:
    if match := re.search(r"inset\(([^)]*)\)", clip_path):
        parts = [_inset(p) for p in match.group(1).split(" round ")[0].split()[:4]]
        if parts:
            top, right = parts[0], parts[1] if len(parts) > 1 else parts[0]
            bottom, left = parts[2] if len(parts) > 2 else top, parts[3] if len(parts) > 3 else right
            if top + bottom >= 100 or left + right >= 100:
                return True
    circle = re.search(r"(?:circle|ellipse)\(\s*([^)\s]*)", clip_path)
    if circle and circle.group(1) and _number(circle.group(1), 1.0) <= 0:
        return True
    if match := re.search(r"rect\(([^)]*)\)", clip):
        parts = [p for p in re.split(r"[\s,]+", match.group(1).strip()) if p]
        if len(parts) == 4 and "auto" not in parts:
            top, right, bottom, left = (_length(p, 16.0) or 0.0 for p in parts)
            return bottom - top < 2 or right - left < 2
    return False


def _inset(value: str) -> float:
    """One side of `inset()` in percent of the box; lengths of thousands of pixels count as the whole box."""
    if value.endswith("%"):
        return _number(value, 0.0) * 100
    length = _length(value, 16.0)
    return 100.0 if length is not None and length >= 5000 else 0.0


# Colours ----------------------------------------------------------------------------------------------------------

_NAMED = {
    "black": "000000", "white": "ffffff", "red": "ff0000", "lime": "00ff00", "green": "008000", "blue": "0000ff",
    "yellow": "ffff00", "cyan": "00ffff", "aqua": "00ffff", "magenta": "ff00ff", "fuchsia": "ff00ff",
    "silver": "c0c0c0", "gray": "808080", "grey": "808080", "maroon": "800000", "olive": "808000",
    "purple": "800080", "teal": "008080", "navy": "000080", "orange": "ffa500", "snow": "fffafa",
    "ivory": "fffff0", "ghostwhite": "f8f8ff", "whitesmoke": "f5f5f5", "floralwhite": "fffaf0",
    "seashell": "fff5ee", "mintcream": "f5fffa", "azure": "f0ffff", "aliceblue": "f0f8ff", "honeydew": "f0fff0",
    "linen": "faf0e6", "oldlace": "fdf5e6", "lavenderblush": "fff0f5", "beige": "f5f5dc", "cornsilk": "fff8dc",
    "lightyellow": "ffffe0", "lightcyan": "e0ffff", "gainsboro": "dcdcdc", "lightgray": "d3d3d3",
    "lightgrey": "d3d3d3", "darkgray": "a9a9a9", "darkgrey": "a9a9a9", "dimgray": "696969", "dimgrey": "696969",
}  # fmt: skip
_RGB_FUNCTION = re.compile(r"rgba?\(\s*([^)]*)\)")
_HEX = re.compile(r"#?([0-9a-f]{3,8})$")


def _rgba(value: str, inherited: tuple[int, int, int, float] | None) -> tuple[int, int, int, float] | None:
    """A CSS colour as (r, g, b, alpha); `inherited` for `inherit` and the like, None when not understood."""
    value = value.strip().lower().split("!")[0].strip()
    if value in ("inherit", "currentcolor", "initial", "unset", "revert", ""):
        return inherited
    if value == "transparent":
        return (0, 0, 0, 0.0)
    hex_value = _NAMED.get(value, value)
    if match := _HEX.match(hex_value):
        digits = match.group(1)
        if len(digits) in (3, 4):
            digits = "".join(d * 2 for d in digits)
        if len(digits) in (6, 8):
            alpha = int(digits[6:8], 16) / 255 if len(digits) == 8 else 1.0
            return (int(digits[0:2], 16), int(digits[2:4], 16), int(digits[4:6], 16), alpha)
        return None
    if match := _RGB_FUNCTION.match(value):
        parts = [p for p in re.split(r"[\s,/]+", match.group(1).strip()) if p]
        if len(parts) in (3, 4):
            channels = [round(_number(p, 0.0) * 255) if p.endswith("%") else round(_number(p, 0.0)) for p in parts[:3]]
            alpha = _number(parts[3], 1.0) if len(parts) == 4 else 1.0
            r, g, b = (min(255, max(0, c)) for c in channels)
            return (r, g, b, alpha)
    return None


def _rgb(value: str, inherited: tuple[int, int, int] | None) -> tuple[int, int, int] | None:
    color = _rgba(value, None)
    if color is None:
        return None if value.strip() else inherited
    if color[3] < 0.5:
        return inherited  # a see-through background shows what is under it
    return color[:3]


def _background(value: str, inherited: tuple[int, int, int] | None, *, image: bool) -> tuple[int, int, int] | None:
    """The colour a `background` declaration paints text on; None (unknown) for images and gradients."""
    value = value.strip().lower().split("!")[0].strip()
    if value in ("none", "") and image:
        return inherited
    if "url(" in value or "gradient" in value or image:
        return None
    if value in ("inherit", "initial", "unset", "none", "transparent"):
        return inherited
    for token in re.findall(r"rgba?\([^)]*\)|#[0-9a-f]{3,8}\b|[a-z]+", value):
        color = _rgba(token, None)
        if color is not None:
            return color[:3] if color[3] >= 0.5 else inherited
    return None


# Style sheets -------------------------------------------------------------------------------------------------

_CSS_ESCAPE = re.compile(r"\\(?:([0-9a-fA-F]{1,6})[ \t\n\r\f]?|(.))", re.DOTALL)
_SELECTOR = re.compile(r"([a-z][a-z0-9]*)?(?:([.#])(-?[_a-z][-_a-z0-9]*))?")
_MEDIA_FOR_SCREENS = re.compile(r"@media(?:\s+(?:only\s+)?(?:all|screen))?\s*$")


def _css_text(css: str) -> str:
    """CSS without comments, with escapes resolved, lower-cased: `dis/**/play:\\6e one` reads `display:none`."""
    if "/*" in css:
        pieces: list[str] = []
        pos = 0
        while (start := css.find("/*", pos)) >= 0:
            pieces.append(css[pos:start])
            end = css.find("*/", start + 2)
            pos = len(css) if end < 0 else end + 2
        pieces.append(css[pos:])
        css = "".join(pieces)
    if "\\" in css:
        css = _CSS_ESCAPE.sub(_unescape_css, css)
    return css.lower()


def _unescape_css(match: re.Match[str]) -> str:
    if match.group(1) is None:
        return match.group(2)
    point = int(match.group(1), 16)
    return chr(point) if 0 < point < 0x110000 and not 0xD800 <= point < 0xE000 else "\ufffd"


def _declarations(css: str, rank: tuple[int, int]) -> _Declarations:
    """The watched declarations of a block, ranked (important, specificity, order)."""
    found: _Declarations = {}
    for item in css.split(";"):
        name, colon, value = item.partition(":")
        name = name.strip()
        if not colon or name not in _WATCHED:
            continue
        value, bang, flag = value.partition("!")
        important = int(bool(bang) and flag.strip().startswith("important"))
        found[name] = ((important, *rank), value.strip())
    return found


def _stylesheet(body: str, clock: _Clock) -> dict[str, _Declarations]:
    """The rules of every `<style>` block, by selector key (`tag`, `.cls`, `tag.cls`, `#id`, `tag#id`)."""
    rules: dict[str, _Declarations] = {}
    pos, order = 0, 0
    while match := _STYLE_BLOCK.search(body, pos):
        clock.check()
        end = _RAW_END["style"].search(body, match.end())
        stop = end.start() if end else len(body)
        css = _css_text(body[match.end() : stop]).replace("<!--", " ").replace("-->", " ")
        order = _parse_rules(css, rules, order, clock)
        pos = stop
    return rules


def _parse_rules(css: str, rules: dict[str, _Declarations], order: int, clock: _Clock) -> int:
    """Add the simple rules of a style sheet to `rules`; rules inside an at-rule count only under `@media` for
    every screen. One pass over the braces."""
    applies: list[bool] = []
    selectors: list[str | None] = []
    pos = 0
    for steps, brace in enumerate(re.finditer(r"[{}]", css)):
        if not steps & 1023:
            clock.check()
        chunk = css[pos : brace.start()]
        pos = brace.end()
        inside = all(applies)
        if brace.group() == "{":
            prelude = chunk.strip().rsplit(";", 1)[-1].strip()
            if prelude.startswith("@"):
                applies.append(inside and bool(_MEDIA_FOR_SCREENS.match(prelude)))
                selectors.append(None)
            else:
                applies.append(inside)
                selectors.append(prelude)
            continue
        if not applies:
            continue  # a stray "}"
        applies.pop()
        prelude = selectors.pop()
        if not inside or not prelude:
            continue
        order += 1
        declared = _declarations(chunk, (0, order))  # once per rule, however many selectors share it
        if not declared:
            continue
        for selector in prelude.split(","):
            match = _SELECTOR.fullmatch(selector.strip())
            if not match or not (match.group(1) or match.group(2)):
                continue
            tag, kind, name = match.groups()
            key = (tag or "") + (f"{kind}{name}" if kind else "")
            specificity = (1 if tag else 0) + (100 if kind == "#" else 10 if kind else 0)
            current = rules.setdefault(key, {})
            for prop, ((important, _, _), value) in declared.items():
                entry = ((important, specificity, order), value)
                if prop not in current or entry[0] >= current[prop][0]:
                    current[prop] = entry
    return order
