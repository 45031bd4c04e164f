"""The pages a person sees: paste a Missive token, see whose it is, allow the client (or take a server key).

    GET  /signin?request=ID    the form (field `missive_token`), for a sign-in the client started at /authorize
    POST /signin               check the token with Missive; refuse it on the page, or show whose it is
    POST /signin/allow         the person confirms: back to the client with a code
    GET  /keys, POST /keys     the same check, then a server key for an agent that cannot do OAuth (shown once)
    POST /revoke               RFC 7009 revocation; a public client revokes with its client_id alone

A token only travels in a POST body, never in a URL, and no page ever shows it.

Consent is bound to the browser. The request id travels in the `Location` the client gets from /authorize, so
whoever started the flow knows it; what they do not have is the browser where the person pasted their token.
The page that shows whose token it is sets a cookie (HttpOnly, SameSite=Strict, Secure over https, path /signin)
holding a random secret, and the Allow form carries a field derived from that secret and the request id. Allowing
needs both; a post without them is refused and the sign-in is spent, so it cannot be tried again.

Pasting is rate limited per source address and per registered client (MISSIVE_MCP_SIGNIN_PER_ADDRESS,
MISSIVE_MCP_SIGNIN_PER_CLIENT, over MISSIVE_MCP_SIGNIN_WINDOW seconds), with a page that says when to try again.
"""

from __future__ import annotations

import hmac
import html
import logging
import math
import secrets
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from mcp.server.auth.middleware.client_auth import AuthenticationError as ClientAuthError
from mcp.server.auth.middleware.client_auth import ClientAuthenticator
from mcp.shared.auth import OAuthClientInformationFull
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from . import LabelError, check_label
from .missive import Refused, identify
from .provider import SIGN_IN_TTL, Access, Refresh

if TYPE_CHECKING:
    from . import TeamAuth

logger = logging.getLogger(__name__)

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<meta name="referrer" content="no-referrer"><title>{title}</title>
<style>body{{font:16px system-ui,sans-serif;max-width:34em;margin:3em auto;padding:0 1em;color:#222}}
input[type=password],input[type=text]{{width:100%;padding:.5em;font:inherit}}button{{padding:.5em 1.2em;font:inherit}}
.error{{color:#a00;border-left:4px solid #a00;padding-left:.8em}}.who{{border-left:4px solid #2a7;padding-left:.8em}}
code{{background:#f3f3f3;padding:.1em .3em;word-break:break-all}}</style></head>
<body><h1>{title}</h1>{body}</body></html>"""

_TOKEN_FIELD = (
    '<p><label for="missive_token">Your Missive personal API token</label> (Missive: Settings &gt; API &gt; '
    "Create a new token)</p>"
    '<p><input type="password" id="missive_token" name="missive_token" autocomplete="off" required></p>'
)


BROWSER_COOKIE = "missive_mcp_browser"
"""The cookie holding the browser's secret, which the Allow step must show (see the module docstring)."""

MAX_TRACKED = 50_000
"""Addresses and clients whose sign-in attempts are counted at once; past that the oldest counts are dropped, so
a flood from many addresses costs bounded memory (a few MiB)."""


class Attempts:
    """Attempts per key (a source address, a client id) in fixed windows of `window` seconds, in this process."""

    def __init__(self, limit: int, window: float, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.window = window
        self._clock = clock
        self._counts: dict[str, tuple[float, int]] = {}

    def take(self, key: str) -> tuple[float, bool]:
        """Count one attempt: (0, False) if it is allowed, else (seconds until the window ends, whether this is the
        first attempt refused in this window)."""
        now = self._clock()
        started, count = self._counts.get(key, (now, 0))
        if now - started >= self.window:
            started, count = now, 0
        self._counts.pop(key, None)  # re-inserted last: the dict stays in order of last use
        self._counts[key] = (started, count + 1)
        if len(self._counts) > MAX_TRACKED:
            self._prune(now)
        if count >= self.limit:
            return started + self.window - now, count == self.limit
        return 0.0, False

    def _prune(self, now: float) -> None:
        self._counts = {k: v for k, v in self._counts.items() if now - v[0] < self.window}
        while len(self._counts) > MAX_TRACKED:
            del self._counts[next(iter(self._counts))]


def page(title: str, body: str, status: int = 200, headers: dict[str, str] | None = None) -> HTMLResponse:
    headers = {
        "Cache-Control": "no-store",
        "X-Frame-Options": "DENY",
        "Content-Security-Policy": "frame-ancestors 'none'",
        **(headers or {}),
    }
    return HTMLResponse(_PAGE.format(title=html.escape(title), body=body), status_code=status, headers=headers)


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _who(person: Any) -> str:
    email = f" &lt;{_e(person.email)}&gt;" if person.email else ""
    return f"{_e(person.name or person.user_id)}{email}"


class Pages:
    """The sign-in, key and revocation endpoints of one `TeamAuth`."""

    def __init__(self, team: TeamAuth) -> None:
        self.team = team
        settings = team.settings
        self.per_address = Attempts(settings.signin_per_address, settings.signin_window)
        self.per_client = Attempts(settings.signin_per_client, settings.signin_window)
        self.secure = team.public_url.startswith("https://")

    def _too_many(self, request: Request, client_id: str | None) -> Response | None:
        """The 429 page if this address, or this client's sign-ins, pasted too many tokens lately."""
        address = request.client.host if request.client else "unknown"
        (wait, first), whose = self.per_address.take(address), "from your address"
        if not wait and client_id is not None:
            (wait, first), whose = self.per_client.take(client_id), "for this app"
        if not wait:
            return None
        seconds = max(1, math.ceil(wait))
        if first:  # once per window: a flood of refusals must not flood the log
            logger.warning("Sign-in attempts over the limit %s (%s); refused for %d s.", whose, address, seconds)
        body = (
            f"<p class=error>Too many sign-in attempts {whose}: try again in {_minutes(seconds)}. "
            "Check that you paste your own Missive API token (Missive: Settings &gt; API).</p>"
        )
        return page("Too many attempts", body, 429, {"Retry-After": str(seconds)})

    # Sign-in -----------------------------------------------------------------------------------

    async def signin(self, request: Request) -> Response:
        if request.method == "GET":
            request_id = request.query_params.get("request", "")
            return await self._form(request_id)
        form = await request.form()
        request_id, token = str(form.get("request", "")), str(form.get("missive_token", "")).strip()
        key = self.team.sealer.digest(request_id)
        pending = await self.team.store.get_request(key)
        if pending is None:
            return self._expired()
        if (refused := self._too_many(request, pending.client_id)) is not None:
            return refused
        try:
            person = await identify(self.team, token)
        except Refused as refusal:
            return await self._form(request_id, error=str(refusal), status=refusal.status)
        browser = request.cookies.get(BROWSER_COOKIE, "")
        if len(browser) != 43:  # ours are secrets.token_urlsafe(32); anything else is replaced
            browser = secrets.token_urlsafe(32)
        sealed = self.team.sealer.seal(token, bound_to=f"request:{key}")
        await self.team.store.set_request_person(key, person, sealed, self.team.sealer.digest(f"browser:{browser}"))
        client = await self.team.provider.get_client(pending.client_id)
        body = (
            f'<p class="who">This token belongs to <b>{_who(person)}</b>.</p>'
            f"<p>Allow <b>{_e(_client_name(client))}</b> to read and act on the Missive inbox as you? "
            f"It will come back to <code>{_e(_redirect_host(pending.params))}</code>.</p>"
            '<form method="post" action="signin/allow">'
            f'<input type="hidden" name="request" value="{_e(request_id)}">'
            f'<input type="hidden" name="consent" value="{_e(self._consent(request_id, browser))}">'
            "<button type=submit>Allow</button></form>"
        )
        response = page("Sign in to Missive MCP", body)
        response.set_cookie(
            BROWSER_COOKIE,
            browser,
            max_age=SIGN_IN_TTL,
            path="/signin",
            secure=self.secure,
            httponly=True,
            samesite="strict",
        )
        return response

    def _consent(self, request_id: str, browser: str) -> str:
        """The Allow form's field: bound to this sign-in and to the browser's secret."""
        return self.team.sealer.digest(f"consent:{request_id}:{browser}")

    async def allow(self, request: Request) -> Response:
        form = await request.form()
        request_id, consent = str(form.get("request", "")), str(form.get("consent", ""))
        key = self.team.sealer.digest(request_id)
        pending = await self.team.store.get_request(key)
        if pending is None:
            return self._expired()
        browser = request.cookies.get(BROWSER_COOKIE, "")
        confirmed = (
            pending.consent is not None
            and bool(browser)
            and hmac.compare_digest(self.team.sealer.digest(f"browser:{browser}"), pending.consent)
            and hmac.compare_digest(self._consent(request_id, browser), consent)
        )
        # Whatever the outcome, this sign-in is spent: a refused allow cannot be retried.
        taken = await self.team.store.take_request(key)
        person, sealed = pending.person, pending.sealed_token
        if not confirmed:
            address = request.client.host if request.client else "unknown"
            logger.warning(
                "Refused an Allow for client %s from %s without the browser's secret; the sign-in is cancelled.",
                pending.client_id,
                address,
            )
            body = (
                "<p class=error>This sign-in was not confirmed from the browser where the token was pasted, so it "
                "was cancelled. Start again from your MCP client, and allow it on the page that shows your "
                "name.</p>"
            )
            return page("Sign-in cancelled", body, 403)
        if person is None or sealed is None or not taken:
            return self._expired()
        to = await self.team.provider.complete(request_id, person, sealed, pending.params, pending.client_id)
        logger.info("signed in %s (%s) for client %s", person.user_id, person.email, pending.client_id)
        return RedirectResponse(to, status_code=303, headers={"Cache-Control": "no-store"})

    async def _form(self, request_id: str, *, error: str = "", status: int = 200) -> Response:
        pending = await self.team.store.get_request(self.team.sealer.digest(request_id)) if request_id else None
        if pending is None:
            return self._expired()
        client = await self.team.provider.get_client(pending.client_id)
        problem = f'<p class="error">{_e(error)}</p>' if error else ""
        body = (
            f"{problem}<p><b>{_e(_client_name(client))}</b> asks to use the Missive inbox as you. "
            "Paste your own Missive token: every action it takes will be in your name.</p>"
            '<form method="post" action="signin">'
            f'<input type="hidden" name="request" value="{_e(request_id)}">{_TOKEN_FIELD}'
            "<button type=submit>Continue</button></form>"
            "<p><small>For an agent that cannot sign in (a script, a headless framework): "
            '<a href="keys">take a server key</a> instead.</small></p>'
        )
        return page("Sign in to Missive MCP", body, status)

    def _expired(self) -> Response:
        body = "<p class=error>This sign-in has expired or was already used. Start again from your MCP client.</p>"
        return page("Sign-in expired", body, 400)

    # Server keys -------------------------------------------------------------------------------

    async def keys(self, request: Request) -> Response:
        form_html = (
            '<form method="post" action="keys">'
            '<p><label for="label">What the key is for</label></p>'
            '<p><input type="text" id="label" name="label" maxlength="80" required></p>'
            f"{_TOKEN_FIELD}<button type=submit>Create a server key</button></form>"
        )
        intro = (
            "<p>A server key lets an agent that cannot sign in (a script, a headless framework) act as you: it "
            "sends <code>Authorization: Bearer &lt;key&gt;</code> to this server. Revoke it with "
            "<code>missive-mcp keys revoke</code>.</p>"
        )
        if request.method == "GET":
            return page("Server key", intro + form_html)
        form = await request.form()
        token = str(form.get("missive_token", "")).strip()
        try:
            label = check_label(str(form.get("label", "")))
        except LabelError as refusal:
            return page("Server key", f'<p class="error">{_e(refusal)}</p>{intro}{form_html}', 400)
        if (refused := self._too_many(request, None)) is not None:
            return refused
        try:
            person = await identify(self.team, token)
        except Refused as refusal:
            return page("Server key", f'<p class="error">{_e(refusal)}</p>{intro}{form_html}', refusal.status)
        key, grant_id = await self.team.create_key(person, token, label)
        body = (
            f'<p class="who">A key for <b>{_who(person)}</b> ({_e(label)}, id <code>{_e(grant_id)}</code>).</p>'
            f"<p>Copy it now; it is not shown again:</p><p><code>{_e(key)}</code></p>"
        )
        return page("Server key", body)

    # Revocation --------------------------------------------------------------------------------

    async def revoke(self, request: Request) -> Response:
        """RFC 7009: the SDK's handler requires a client_secret field, which a public client does not have."""
        headers = {"Cache-Control": "no-store", "Pragma": "no-cache"}
        try:
            client = await ClientAuthenticator(self.team.provider).authenticate_request(request)
        except ClientAuthError as exc:
            return JSONResponse({"error": "invalid_client", "error_description": exc.message}, 401, headers)
        form = await request.form()
        token = form.get("token")
        if not isinstance(token, str) or not token:
            return JSONResponse({"error": "invalid_request", "error_description": "token is required"}, 400, headers)
        found: Access | Refresh | None = await self.team.provider.load_access_token(token)
        if found is None:
            found = await self.team.provider.load_refresh_token(client, token)
        if found is not None and found.client_id == client.client_id:
            await self.team.provider.revoke_token(found)
            logger.info("revoked grant %s at the request of client %s", found.grant_id, client.client_id)
        return Response(status_code=200, headers=headers)


def _minutes(seconds: int) -> str:
    return f"{seconds} seconds" if seconds < 120 else f"{math.ceil(seconds / 60)} minutes"


def _client_name(client: OAuthClientInformationFull | None) -> str:
    if client is None:
        return "An MCP client"
    return client.client_name or f"The MCP client {client.client_id}"


def _redirect_host(params_json: str) -> str:
    import json

    uri = str(json.loads(params_json).get("redirect_uri", ""))
    parsed = urlparse(uri)
    return f"{parsed.scheme}://{parsed.netloc}" if parsed.netloc else uri
