"""The pages a person sees: paste a Missive token, see whose it is, allow the client (or take a server key).

    GET  /signin?request=ID    the form (field `missive_token`), for a sign-in the client started at /authorize
    POST /signin               check the token with Missive; refuse it on the page, or show whose it is
    POST /signin/allow         the person confirms: back to the client with a code
    GET  /keys, POST /keys     the same check, then a server key for an agent that cannot do OAuth (shown once)
    POST /revoke               RFC 7009 revocation; a public client revokes with its client_id alone

A token only travels in a POST body, never in a URL, and no page ever shows it.
"""

from __future__ import annotations

import html
import logging
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from mcp.server.auth.middleware.client_auth import AuthenticationError as ClientAuthError
from mcp.server.auth.middleware.client_auth import ClientAuthenticator
from mcp.shared.auth import OAuthClientInformationFull
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from .crypto import digest
from .missive import Refused, identify
from .provider import Access, Refresh

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


def page(title: str, body: str, status: int = 200) -> HTMLResponse:
    headers = {
        "Cache-Control": "no-store",
        "X-Frame-Options": "DENY",
        "Content-Security-Policy": "frame-ancestors 'none'",
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

    # Sign-in -----------------------------------------------------------------------------------

    async def signin(self, request: Request) -> Response:
        if request.method == "GET":
            request_id = request.query_params.get("request", "")
            return await self._form(request_id)
        form = await request.form()
        request_id, token = str(form.get("request", "")), str(form.get("missive_token", "")).strip()
        pending = await self.team.store.get_request(digest(request_id))
        if pending is None:
            return self._expired()
        client_id = pending[0]
        try:
            person = await identify(self.team, token)
        except Refused as refusal:
            return await self._form(request_id, error=str(refusal), status=refusal.status)
        sealed = self.team.sealer.seal(token, bound_to=f"request:{digest(request_id)}")
        await self.team.store.set_request_person(digest(request_id), person, sealed)
        client = await self.team.provider.get_client(client_id)
        body = (
            f'<p class="who">This token belongs to <b>{_who(person)}</b>.</p>'
            f"<p>Allow <b>{_e(_client_name(client))}</b> to read and act on the Missive inbox as you? "
            f"It will come back to <code>{_e(_redirect_host(pending[1]))}</code>.</p>"
            '<form method="post" action="signin/allow">'
            f'<input type="hidden" name="request" value="{_e(request_id)}">'
            "<button type=submit>Allow</button></form>"
        )
        return page("Sign in to Missive MCP", body)

    async def allow(self, request: Request) -> Response:
        form = await request.form()
        request_id = str(form.get("request", ""))
        pending = await self.team.store.get_request(digest(request_id))
        if pending is None:
            return self._expired()
        client_id, params, person, sealed = pending
        if person is None or sealed is None or not await self.team.store.take_request(digest(request_id)):
            return self._expired()
        to = await self.team.provider.complete(request_id, person, sealed, params, client_id)
        logger.info("signed in %s (%s) for client %s", person.user_id, person.email, client_id)
        return RedirectResponse(to, status_code=303, headers={"Cache-Control": "no-store"})

    async def _form(self, request_id: str, *, error: str = "", status: int = 200) -> Response:
        pending = await self.team.store.get_request(digest(request_id)) if request_id else None
        if pending is None:
            return self._expired()
        client = await self.team.provider.get_client(pending[0])
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
        label = str(form.get("label", "")).strip()[:80] or "server key"
        token = str(form.get("missive_token", "")).strip()
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


def _client_name(client: OAuthClientInformationFull | None) -> str:
    if client is None:
        return "An MCP client"
    return client.client_name or f"The MCP client {client.client_id}"


def _redirect_host(params_json: str) -> str:
    import json

    uri = str(json.loads(params_json).get("redirect_uri", ""))
    parsed = urlparse(uri)
    return f"{parsed.scheme}://{parsed.netloc}" if parsed.netloc else uri
