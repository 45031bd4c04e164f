"""Provisional: replaced by the full module (quote collapsing, sanitising) when it lands."""

from __future__ import annotations

import html2text


def html_to_text(html: str | None, *, keep_quotes: bool = False) -> str:
    if not html:
        return ""
    converter = html2text.HTML2Text()
    converter.body_width = 0
    converter.ignore_images = True
    return converter.handle(html).strip()


def truncate(text: str, budget: int, *, hint: str) -> tuple[str, int]:
    if len(text) <= budget:
        return text, 0
    cut = len(text) - budget
    return f"{text[:budget]}\n[… truncated: {cut} more characters. {hint}]", cut
