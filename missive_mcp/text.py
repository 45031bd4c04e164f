"""Mail bodies as lean, safe, readable text.

Message, comment and post bodies are third-party HTML. An agent needs the words and the links, not the markup,
and it must not be steered by what a sender hid in it. `html_to_text` therefore:

1. drops what a person reading the mail never sees (`display:none`, `visibility:hidden`, zero-size text,
   `<style>`, `<script>`, `<head>`), leaving a marker that says how much was hidden;
2. converts the rest with html2text (links kept as `[text](url)`, lists and emphasis as Markdown);
3. collapses the quoted history at the end of a reply (`> ...` lines and the "On ... wrote:" line above them)
   into one marker line, unless `keep_quotes`;
4. removes invisible and direction-changing characters (`sanitize`) and tidies whitespace.

`truncate` cuts a long text at a budget with a marker that says how much was cut and how to get the rest.
"""

from __future__ import annotations

import re
import unicodedata
from html.parser import HTMLParser
from typing import Any

import html2text

_TAG = re.compile(r"<(?:[a-zA-Z][a-zA-Z0-9-]*|/[a-zA-Z][a-zA-Z0-9-]*|!--)[^>]*>")
_HIDING_STYLE = re.compile(
    r"display\s*:\s*none|visibility\s*:\s*hidden|font-size\s*:\s*0(?:[a-z%]*)?\s*(?:;|$|!)|max-height\s*:\s*0|"
    r"opacity\s*:\s*0(?:\.0*)?\s*(?:;|$|!)",
    re.IGNORECASE,
)
_NEVER_SHOWN = frozenset({"style", "script", "head", "title", "template"})
_VOID = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
)
_ATTRIBUTION = re.compile(
    r"^(?:On .{4,200} wrote:|Le .{4,200} a écrit\s?:|Am .{4,200} schrieb .{1,100}:|El .{4,200} escribió:|"
    r"-{2,} ?(?:Original Message|Forwarded message) ?-{2,}|From: .+)$",
    re.IGNORECASE,
)
# Characters kept although their category is "format": joiners matter between letters of some scripts and emoji.
_JOINERS = frozenset({"\u200c", "\u200d"})


def looks_like_html(text: str) -> bool:
    return bool(_TAG.search(text))


def html_to_text(body: str | None, *, keep_quotes: bool = False) -> str:
    """Readable plain text of an HTML (or plain-text) mail body. See the module's docstring for the steps."""
    if not body:
        return ""
    if looks_like_html(body):
        visible, hidden = _visible_html(body)
        text = _converter().handle(visible)
    else:
        text, hidden = body, 0
    text = tidy(sanitize(text))
    if not keep_quotes:
        text = collapse_quotes(text)
    if hidden:
        text += f"\n[{hidden} characters of hidden text removed: the sender hid them from human readers.]"
    return text.strip()


def sanitize(text: str) -> str:
    """Remove characters a reader cannot see but a model reads: zero-width and bidirectional controls, tag
    characters, byte-order marks and other control characters. Newlines and tabs stay; joiners stay between
    non-ASCII characters, where scripts and emoji need them (one at a time: a run of joiners is a hiding place).
    Characters newer than this Python's Unicode tables (new emoji) stay. A lone carriage return is a line break.
    Plain printable ASCII is returned untouched."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not _NOT_PLAIN.search(text):
        return text
    return _NOT_PLAIN.sub(lambda match: _visible(text, match.start()), text)


_NOT_PLAIN = re.compile(r"[^\t\n\x20-\x7e]")


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


def _converter() -> html2text.HTML2Text:
    converter = html2text.HTML2Text()
    converter.body_width = 0  # No hard wrapping: the client wraps.
    converter.ignore_images = True
    converter.ignore_tables = False
    converter.protect_links = False
    converter.unicode_snob = True  # Keep "é" rather than "e".
    converter.single_line_break = False
    converter.mark_code = False
    converter.ignore_emphasis = True  # Bold and italics cost tokens and tell an agent little.
    return converter


class _VisibleOnly(HTMLParser):
    """Re-emits the HTML minus the elements a reader never sees, counting the characters dropped."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.out: list[str] = []
        self.hidden_chars = 0
        self._stack: list[str] = []
        self._hidden_depth: int | None = None
        self._counting = False
        """Whether the element being skipped hides text from readers (rather than being code, like <style>)."""

    @property
    def hiding(self) -> bool:
        return self._hidden_depth is not None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _VOID:
            if not self.hiding:
                self.out.append(self.get_starttag_text() or "")
            return
        self._stack.append(tag)
        if not self.hiding:
            style = " ".join(value or "" for name, value in attrs if name == "style")
            hidden_attr = any(name == "hidden" for name, _ in attrs)
            if tag in _NEVER_SHOWN or hidden_attr or _HIDING_STYLE.search(style):
                self._hidden_depth = len(self._stack)
                self._counting = tag not in _NEVER_SHOWN
                return
            self.out.append(self.get_starttag_text() or "")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if not self.hiding:
            self.out.append(self.get_starttag_text() or "")

    def handle_endtag(self, tag: str) -> None:
        if tag in _VOID:
            return
        if tag not in self._stack:
            return  # A stray end tag: drop it.
        while self._stack:
            open_tag = self._stack.pop()
            if self._hidden_depth is not None and len(self._stack) < self._hidden_depth:
                self._hidden_depth = None
                if open_tag == tag:
                    return
                continue
            if not self.hiding:
                self.out.append(f"</{open_tag}>")
            if open_tag == tag:
                return

    def handle_data(self, data: str) -> None:
        if self.hiding:
            if self._counting:
                self.hidden_chars += len(sanitize(data).strip())
        else:
            self.out.append(data)

    def handle_entityref(self, name: str) -> None:
        if not self.hiding:
            self.out.append(f"&{name};")

    def handle_charref(self, name: str) -> None:
        if not self.hiding:
            self.out.append(f"&#{name};")

    def handle_comment(self, data: str) -> None:
        return None  # Comments are never shown; conditional comments only style Outlook.


def _visible_html(body: str) -> tuple[str, int]:
    parser = _VisibleOnly()
    parser.feed(body)
    parser.close()
    return "".join(parser.out), parser.hidden_chars
