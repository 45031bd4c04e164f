"""The one HTML page every sign-in, key and refusal screen of the team server is drawn in (no framing, no
referrer, never cached)."""

from __future__ import annotations

import html

from starlette.responses import HTMLResponse

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<meta name="referrer" content="no-referrer"><title>{title}</title>
<style>body{{font:16px system-ui,sans-serif;max-width:34em;margin:3em auto;padding:0 1em;color:#222}}
input[type=password],input[type=text]{{width:100%;padding:.5em;font:inherit}}button{{padding:.5em 1.2em;font:inherit}}
.error{{color:#a00;border-left:4px solid #a00;padding-left:.8em}}.who{{border-left:4px solid #2a7;padding-left:.8em}}
code{{background:#f3f3f3;padding:.1em .3em;word-break:break-all}}</style></head>
<body><h1>{title}</h1>{body}</body></html>"""


def page(title: str, body: str, status: int = 200, headers: dict[str, str] | None = None) -> HTMLResponse:
    headers = {
        "Cache-Control": "no-store",
        "X-Frame-Options": "DENY",
        "Content-Security-Policy": "frame-ancestors 'none'",
        **(headers or {}),
    }
    return HTMLResponse(_PAGE.format(title=html.escape(title), body=body), status_code=status, headers=headers)
