"""Registered OAuth clients: what a stranger may register, how long it is kept, and how its redirect is matched.

OAuthFront        /register, /authorize and /token before the SDK's handlers: a small body limit, a cap on
                  form fields, registrations per source address per hour, unused clients forgotten; an
                  oversized or overfull request gets a clean 4xx and one WARNING line, never a traceback
Client            a registered client whose loopback redirect URIs match on any port (RFC 8252 section 7.3)
registration_problem   the rules for client metadata: field lengths, and redirect URIs that are https,
                  http on loopback, or an app's own scheme; never javascript:, data:, file: and the like
"""

from __future__ import annotations

import hashlib
import html
import json
import logging
import time
from contextvars import ContextVar
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from mcp.server.auth.provider import RegistrationErrorCode
from mcp.shared.auth import InvalidRedirectUriError, OAuthClientInformationFull
from pydantic import AnyUrl
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

if TYPE_CHECKING:
    from . import TeamAuth

logger = logging.getLogger(__name__)

OAUTH_PATHS = frozenset({"/register", "/authorize", "/token", "/revoke"})
PAGE_PATHS = frozenset({"/signin", "/signin/allow", "/keys"})
"""The sign-in pages: a person's browser posts there, so a refusal is a page, not JSON."""
MAX_FORM_FIELDS = 100
"""An OAuth form has about ten fields; Starlette's own cap (1,000) ends in a traceback at ERROR."""

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})
BROWSER_SCHEMES = frozenset(
    {
        "javascript",
        "vbscript",
        "livescript",
        "data",
        "file",
        "blob",
        "filesystem",
        "about",
        "view-source",
        "jar",
        "ftp",
        "ws",
        "wss",
        "mailto",
        "tel",
        "sms",
        "intent",
    }
)
"""Schemes a browser acts on itself (running script, reading files, opening other programs): never a redirect."""

TEXT_LIMITS = {"client_name": 200, "software_id": 200, "software_version": 100, "scope": 500}
URI_FIELDS = ("client_uri", "logo_uri", "tos_uri", "policy_uri", "jwks_uri")
MAX_URI = 2000
MAX_REDIRECT_URIS = 10
MAX_CONTACTS = 5

REGISTERING_FROM: ContextVar[str | None] = ContextVar("missive_mcp_registering_from", default=None)
"""A digest of the address registering a client in this request, for the per-address cap."""


def registration_problem(client: OAuthClientInformationFull) -> tuple[RegistrationErrorCode, str] | None:
    """(OAuth error code, sentence) saying what is wrong with a client's metadata, or None."""
    for field, limit in TEXT_LIMITS.items():
        value = getattr(client, field, None)
        if isinstance(value, str) and len(value) > limit:
            return "invalid_client_metadata", f"{field} is {len(value)} characters long; at most {limit} are taken."
    for field in URI_FIELDS:
        value = getattr(client, field, None)
        if value is not None and len(str(value)) > MAX_URI:
            return "invalid_client_metadata", f"{field} is longer than {MAX_URI} characters."
    if len(client.contacts or []) > MAX_CONTACTS:
        return "invalid_client_metadata", f"contacts lists more than {MAX_CONTACTS} addresses."
    uris = [str(uri) for uri in client.redirect_uris or []]
    if len(uris) > MAX_REDIRECT_URIS:
        return "invalid_redirect_uri", f"redirect_uris lists {len(uris)} URIs; at most {MAX_REDIRECT_URIS} are taken."
    for uri in uris:
        problem = redirect_problem(uri)
        if problem:
            return "invalid_redirect_uri", problem
    return None


def redirect_problem(uri: str) -> str | None:
    """Why `uri` may not be a redirect URI, or None: https, http on loopback, or an app's private-use scheme."""
    shown = json.dumps(uri[:80])
    if len(uri) > MAX_URI:
        return f"A redirect URI is longer than {MAX_URI} characters ({shown}...)."
    parts = urlsplit(uri)
    scheme = parts.scheme.lower()
    if parts.fragment or "#" in uri:
        return f"The redirect URI {shown} has a fragment (#...); OAuth redirect URIs may not (RFC 6749 section 3.1.2)."
    if scheme == "https" and parts.hostname:
        return None
    if scheme == "http" and (parts.hostname or "").lower() in LOOPBACK_HOSTS:
        return None
    if scheme == "http":
        return (
            f"The redirect URI {shown} uses http on a host other than loopback: use https, or http on 127.0.0.1, "
            "[::1] or localhost for a native app (RFC 8252)."
        )
    if scheme and scheme not in BROWSER_SCHEMES and scheme != "https":
        return None  # a native app's own scheme, ideally reverse-domain like com.example.app:/callback (RFC 8252)
    return (
        f"The redirect URI {shown} is not allowed: use https, http on loopback (127.0.0.1, [::1], localhost), or "
        "an app's own scheme such as com.example.app:/callback (RFC 8252); javascript:, data:, file: and "
        "other schemes a browser acts on itself are refused."
    )


def _loopback_match(given: str, registered: str) -> bool:
    """RFC 8252 section 7.3: a loopback redirect URI matches a registered one whatever its port."""
    a, b = urlsplit(given), urlsplit(registered)
    if a.scheme.lower() != "http" or b.scheme.lower() != "http":
        return False
    host = (a.hostname or "").lower()
    if host not in LOOPBACK_HOSTS or host != (b.hostname or "").lower():
        return False
    return (a.path or "/", a.query) == (b.path or "/", b.query) and not a.username and not a.password


class Client(OAuthClientInformationFull):
    """A registered client, its loopback redirect URIs matched on any port: a native app listens on a port the
    system gives it at each sign-in (RFC 8252 section 7.3)."""

    def validate_redirect_uri(self, redirect_uri: AnyUrl | None) -> AnyUrl:
        registered = [str(uri) for uri in self.redirect_uris or []]
        if redirect_uri is not None and any(_loopback_match(str(redirect_uri), uri) for uri in registered):
            return redirect_uri
        try:
            return super().validate_redirect_uri(redirect_uri)
        except InvalidRedirectUriError as exc:
            raise InvalidRedirectUriError(
                f"{exc.message} (register it first; http on loopback matches any port, other URIs exactly)"
            ) from None


class OAuthFront:
    """What stands before the SDK's /register, /authorize and /token handlers (see the module docstring)."""

    def __init__(self, app: ASGIApp, team: TeamAuth) -> None:
        self.app = app
        self.team = team

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope["path"] if scope["type"] == "http" and scope["method"] == "POST" else ""
        if path not in OAUTH_PATHS and path not in PAGE_PATHS:
            return await self.app(scope, receive, send)
        from ..http import read_body, replay

        settings = self.team.settings
        address = _address(scope)
        refuse = _page_error if path in PAGE_PATHS else _oauth_error
        body = await read_body(scope, receive, settings.oauth_max_body_bytes)
        if body is None:
            logger.warning(
                "Refused POST %s from %s: the body is past MISSIVE_MCP_OAUTH_MAX_BODY_BYTES (%d bytes).",
                path,
                address,
                settings.oauth_max_body_bytes,
            )
            message = (
                f"The request body is larger than {settings.oauth_max_body_bytes} bytes, more than any OAuth "
                "request needs; send only the OAuth fields."
            )
            return await refuse("invalid_request", message, 413)(scope, receive, send)
        if body.count(b"&") + body.count(b";") >= MAX_FORM_FIELDS and path != "/register":
            logger.warning("Refused POST %s from %s: more than %d form fields.", path, address, MAX_FORM_FIELDS)
            message = f"The form has more than {MAX_FORM_FIELDS} fields; an OAuth request or sign-in has a few."
            return await refuse("invalid_request", message, 400)(scope, receive, send)
        if path == "/register":
            now = int(time.time())
            store = self.team.store
            await store.forget_clients(now - settings.client_retention_days * 86400)
            source = hashlib.sha256(f"registered-from {address}".encode()).hexdigest()
            if await store.registrations_since(source, now - 3600) >= settings.registrations_per_hour:
                logger.warning("Refused a registration from %s: past MISSIVE_MCP_REGISTRATIONS_PER_HOUR.", address)
                message = (
                    f"This address registered {settings.registrations_per_hour} clients in the last hour, the most "
                    "this server takes; reuse a client you registered, or try again in an hour."
                )
                return await _oauth_error("temporarily_unavailable", message, 429, retry_after=3600)(
                    scope, receive, send
                )
            REGISTERING_FROM.set(source)
        await self.app(scope, replay(body), send)


def _address(scope: Scope) -> str:
    client = scope.get("client")
    return str(client[0]) if client else "an unknown address"


def _page_error(error: str, description: str, status: int) -> Response:
    from .signin import page

    return page("Request refused", f'<p class="error">{html.escape(description)}</p>', status)


def _oauth_error(error: str, description: str, status: int, *, retry_after: int | None = None) -> Response:
    headers = {"Cache-Control": "no-store"} | ({"Retry-After": str(retry_after)} if retry_after else {})
    return JSONResponse({"error": error, "error_description": description}, status, headers)
