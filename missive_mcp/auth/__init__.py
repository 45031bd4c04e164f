"""The team server (MISSIVE_MCP_AUTH=oauth): each person signs in with their own Missive token.

TeamAuth     everything one server needs: the store, the sealer, the OAuth provider, the pages
provider     the SDK's OAuthAuthorizationServerProvider over the store
signin       the sign-in, key and revocation pages
missive      whose token it is (GET /users) and whether they belong to an allowed organization (GET /organizations)
store        SQLite or PostgreSQL tables, migrated by the server itself
crypto       AES-GCM sealing of Missive tokens, with key rotation; keyed (HMAC) digests of tokens and keys
keys         the `missive-mcp keys` command
"""

from __future__ import annotations

import logging
from typing import Any

import httpx2
from mcp.server.auth.middleware.auth_context import get_access_token
from mcp.server.auth.settings import AuthSettings, ClientRegistrationOptions, RevocationOptions
from starlette.types import ASGIApp, Receive, Scope, Send

from ..limits import Limits, LocalLimits
from ..settings import Settings
from .crypto import Sealer
from .provider import KEY_PREFIX, Access, Provider, new_secret
from .store import Person, Store, open_database

__all__ = ["Access", "LabelError", "Person", "Provider", "Sealer", "Store", "TeamAuth", "current_person"]

logger = logging.getLogger(__name__)

FORM_BYTES = 16 * 1024
"""The most a sign-in, key or revocation form may send: a token and a few ids fit many times over."""

METADATA_PATH = "/.well-known/oauth-authorization-server"

KEY_CLIENT = "server-key"
"""The client id of grants made as server keys."""

LABEL_CHARS = 80


class LabelError(ValueError):
    """A key label that is not one line of printable text; the message says so, for the page and the command."""


def check_label(label: str) -> str:
    """The label, trimmed, if it is one line of printable text (a newline or an escape would forge `keys list`).

    Raises:
        LabelError: it is empty, too long, or holds a line break or a control character.
    """
    label = label.strip()
    if not label:
        raise LabelError("The key's label is empty: say in a few words what the key is for.")
    if len(label) > LABEL_CHARS:
        raise LabelError(f"The key's label is {len(label)} characters; use at most {LABEL_CHARS}.")
    if not label.isprintable():
        raise LabelError(
            "The key's label must be one line of printable text, without line breaks, tabs or control characters."
        )
    return label


class TeamAuth:
    """The sign-in machinery of one server process, built from the settings."""

    def __init__(
        self,
        settings: Settings,
        *,
        transport: httpx2.AsyncBaseTransport | None = None,
        limits: Limits | None = None,
        store: Store | None = None,
    ) -> None:
        if not settings.public_url or not settings.secret_key:
            raise ValueError("TeamAuth needs MISSIVE_MCP_PUBLIC_URL and MISSIVE_MCP_SECRET_KEY")
        self.settings = settings
        self.transport = transport
        self.limits: Limits = limits or LocalLimits()
        self.store = store or Store(open_database(settings.database_url.get_secret_value()))
        self.sealer = Sealer.from_text([key.get_secret_value() for key in settings.secret_key])
        self.public_url = settings.public_url
        self.resource = f"{settings.public_url}/mcp"
        self.provider = Provider(self.store, self.sealer, public_url=self.public_url, resource=self.resource)

    async def ready(self) -> None:
        """Create or migrate the schema now rather than at the first use (start-up, the keys command)."""
        await self.store.migrate()

    def auth_settings(self) -> AuthSettings:
        """What the SDK needs to serve metadata, registration, /authorize, /token and to check bearer tokens."""
        return AuthSettings(
            issuer_url=self.public_url,  # pyright: ignore[reportArgumentType]
            resource_server_url=self.resource,  # pyright: ignore[reportArgumentType]
            validate_token_resource=True,
            client_registration_options=ClientRegistrationOptions(enabled=True),
            revocation_options=RevocationOptions(enabled=True),
        )

    async def token_source(self) -> str:
        """The Missive token of the person whose bearer token this request carries ("" if none)."""
        access = get_access_token()
        return access.missive_token() if isinstance(access, Access) else ""

    async def create_key(self, person: Person, missive_token: str, label: str) -> tuple[str, str]:
        """A new server key bound to this person's token: (the key, shown once; its grant id)."""
        label = check_label(label)
        await self.ready()
        key = new_secret(KEY_PREFIX)
        grant = self.provider.new_grant("key", KEY_CLIENT, person, missive_token, label=label)
        grant_id = grant.id
        await self.store.add_grant(grant, [(self.sealer.digest(key), "key", None, None)])
        logger.info("server key %s created for %s (%s)", grant_id, person.user_id, person.email)
        return key, grant_id

    def wrap(self, app: ASGIApp) -> ASGIApp:
        """The app with the sign-in pages, key page and revocation endpoint in front of it."""
        from mcp.server.auth.handlers.metadata import MetadataHandler
        from mcp.server.auth.routes import build_metadata, cors_middleware
        from mcp.server.transport_security import RequestBodyLimitMiddleware
        from starlette.routing import Route, Router

        from .clients import OAuthFront
        from .signin import Pages

        # The SDK's metadata, saying what its handlers already accept: public clients ("none") at /token, and
        # at /revoke (ours). The SDK lists only the secret-based methods.
        settings = self.auth_settings()
        assert settings.client_registration_options and settings.revocation_options
        metadata = build_metadata(
            settings.issuer_url, None, settings.client_registration_options, settings.revocation_options
        )
        metadata.token_endpoint_auth_methods_supported = ["none", "client_secret_post", "client_secret_basic"]
        metadata.revocation_endpoint_auth_methods_supported = ["none", "client_secret_post", "client_secret_basic"]
        described = cors_middleware(MetadataHandler(metadata).handle, ["GET", "OPTIONS"])
        pages = Pages(self)
        own = Router(
            routes=[
                Route(METADATA_PATH, described, methods=["GET", "OPTIONS"]),
                Route("/signin", pages.signin, methods=["GET", "POST"]),
                Route("/signin/allow", pages.allow, methods=["POST"]),
                Route("/keys", pages.keys, methods=["GET", "POST"]),
                Route("/revoke", pages.revoke, methods=["POST"]),
            ]
        )
        paths = {"/signin", "/signin/allow", "/keys", "/revoke"}
        limited = RequestBodyLimitMiddleware(own, FORM_BYTES)

        async def team_app(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] == "http" and scope["path"] in paths:
                await limited(scope, receive, send)
            elif scope["type"] == "http" and scope["path"] == METADATA_PATH:
                await own(scope, receive, send)
            else:
                await app(scope, receive, send)

        return OAuthFront(team_app, self)  # every form and registration a stranger may post, bounded first

    async def aclose(self) -> None:
        await self.store.aclose()


def current_person() -> dict[str, Any] | None:
    """Who the current request acts for, for the audit trail: None when no one signed in (one-key mode)."""
    access = get_access_token()
    if isinstance(access, Access):
        return {"user_id": access.subject, "email": access.email, "grant": access.grant_id}
    return None
