"""The server as its own OAuth authorization server, through the SDK's `OAuthAuthorizationServerProvider`.

The SDK's handlers do the protocol (metadata, registration, PKCE checks, token requests); this provider keeps
their state in the `Store`, so any replica can serve any step. Access tokens last an hour and refresh tokens
rotate on every use. A refresh token presented after it was used means two parties hold it, one of them not the
rightful client (RFC 9700, refresh token rotation): the whole grant ends, every access and refresh token issued
from it and the sealed Missive token, and the audit log says so. Access tokens are opaque and looked up on every
request, so a revoked grant stops at once on every replica. Revoking any token of a grant revokes the whole grant.
"""

from __future__ import annotations

import json
import logging
import secrets
import time
from contextvars import ContextVar
from typing import Any, Literal

from mcp.server.auth.provider import (
    AccessToken,
    AuthorizationCode,
    AuthorizationParams,
    AuthorizeError,
    OAuthAuthorizationServerProvider,
    RefreshToken,
    RegistrationError,
    TokenError,
    TokenVerifier,
    construct_redirect_uri,
)
from mcp.shared.auth import OAuthClientInformationFull, OAuthToken
from pydantic import PrivateAttr

from ..redact import learn
from .clients import REGISTERING_FROM, Client, registration_problem
from .crypto import Sealer, SealError
from .store import Found, Grant, Person, Store

logger = logging.getLogger(__name__)
audit_log = logging.getLogger("missive_mcp.audit")

ACCESS_TTL = 3600
REFRESH_TTL = 30 * 24 * 3600
CODE_TTL = 300
SIGN_IN_TTL = 900
"""Seconds a pending sign-in waits for the person to paste their token."""
MAX_REQUEST_BYTES = 4096
"""The most an authorization request may keep (its parameters, stored until the sign-in ends): PKCE, a state,
a registered redirect URI and scopes fit in well under 1 KB."""
MAX_PENDING = 10
"""Sign-ins one client may have open at once: each is a row until it ends or expires, and registration is
capped per address, so together they bound what strangers can store."""

ACCESS_PREFIX, REFRESH_PREFIX, CODE_PREFIX, KEY_PREFIX = "mma_", "mmr_", "mmc_", "mmk_"
"""Prefixes make a leaked secret recognisable (and scannable) as ours, and say which kind it is."""


class Code(AuthorizationCode):
    grant_id: str


class Refresh(RefreshToken):
    grant_id: str


class Access(AccessToken):
    """A verified bearer token (OAuth access token or server key) and the grant behind it."""

    grant_id: str
    email: str | None = None
    _missive_token: str = PrivateAttr(default="")

    def missive_token(self) -> str:
        """The person's Missive token, opened when the bearer token was verified; never serialized."""
        return self._missive_token

    def hold_missive_token(self, token: str) -> None:
        """Carry the person's opened Missive token with this access (a private attribute: never dumped)."""
        self._missive_token = token


_VERIFIED: ContextVar[tuple[str, Access | None] | None] = ContextVar("missive_mcp_verified", default=None)
"""This request's bearer token and what it proved to be (each HTTP request runs in its own context)."""


class CheckedOnce(TokenVerifier):
    """The bearer check in front of the body (`http.IdentityFirst`); the SDK's own check later in the same request
    reuses what it found instead of asking the database again."""

    def __init__(self, provider: Provider) -> None:
        self.provider = provider

    async def verify_token(self, token: str) -> AccessToken | None:
        access = await self.provider.load_access_token(token)
        _VERIFIED.set((token, access))
        return access


def new_secret(prefix: str) -> str:
    return prefix + secrets.token_urlsafe(32)


class Provider(OAuthAuthorizationServerProvider[Code, Refresh, Access]):
    """The SDK's provider protocol over a `Store` (the identity-assertion grant keeps the SDK's refusal)."""

    def __init__(self, store: Store, sealer: Sealer, *, public_url: str, resource: str) -> None:
        self.store = store
        self.sealer = sealer
        store.tags = sealer.tags  # a stored secret opens only with the tag this key gave it
        self.public_url = public_url
        self.resource = resource

    # Clients -----------------------------------------------------------------------------------

    async def get_client(self, client_id: str) -> OAuthClientInformationFull | None:
        info = await self.store.get_client(client_id)
        return Client.model_validate_json(info) if info else None

    async def register_client(self, client_info: OAuthClientInformationFull) -> None:
        assert client_info.client_id is not None
        problem = registration_problem(client_info)
        if problem is not None:
            raise RegistrationError(*problem)
        await self.store.put_client(client_info.client_id, client_info.model_dump_json(), REGISTERING_FROM.get())

    # Authorization -----------------------------------------------------------------------------

    async def authorize(self, client: OAuthClientInformationFull, params: AuthorizationParams) -> str:
        if params.resource is not None and params.resource.rstrip("/") != self.resource:
            raise AuthorizeError("invalid_target", f"This server is the resource {self.resource}.")
        assert client.client_id is not None
        kept = params.model_dump_json()
        if len(kept) > MAX_REQUEST_BYTES:  # a sign-in's parameters fit in a few hundred bytes
            logger.warning("Refused an authorization request of %d bytes (client %s).", len(kept), client.client_id)
            raise AuthorizeError("invalid_request", f"The request's parameters pass {MAX_REQUEST_BYTES} bytes.")
        if await self.store.pending(client.client_id) >= MAX_PENDING:
            logger.warning("Refused an authorization request: client %s has %d open.", client.client_id, MAX_PENDING)
            raise AuthorizeError(
                "temporarily_unavailable",
                f"This client has {MAX_PENDING} sign-ins open; finish one, or start again in {SIGN_IN_TTL // 60} min.",
            )
        request_id = secrets.token_urlsafe(32)
        await self.store.put_request(
            self.sealer.digest(request_id), client.client_id, kept, int(time.time()) + SIGN_IN_TTL
        )
        return f"{self.public_url}/signin?request={request_id}"

    def new_grant(
        self,
        kind: Literal["oauth", "key"],
        client_id: str,
        person: Person,
        missive_token: str,
        *,
        label: str | None = None,
        scopes: list[str] | None = None,
    ) -> Grant:
        """A new grant for `person`, their Missive token sealed to it (it opens for this grant's id alone)."""
        grant_id = secrets.token_hex(16)
        return Grant(
            id=grant_id,
            kind=kind,
            client_id=client_id,
            label=label,
            person=person,
            sealed_token=self.sealer.seal(missive_token, bound_to=f"grant:{grant_id}"),
            scopes=scopes or [],
            resource=self.resource,
            created_at=int(time.time()),
        )

    async def complete(
        self, request_id: str, person: Person, sealed_token: str, params_json: str, client_id: str
    ) -> str:
        """A person allowed the client: the grant, its code, and where to send the browser back."""
        params = AuthorizationParams.model_validate_json(params_json)
        token = self.sealer.open(sealed_token, bound_to=f"request:{self.sealer.digest(request_id)}")
        grant = self.new_grant("oauth", client_id, person, token, scopes=params.scopes or [])
        code = new_secret(CODE_PREFIX)
        data = {
            "code_challenge": params.code_challenge,
            "redirect_uri": str(params.redirect_uri),
            "redirect_uri_provided_explicitly": params.redirect_uri_provided_explicitly,
        }
        expires = int(time.time()) + CODE_TTL
        await self.store.add_grant(grant, [(self.sealer.digest(code), "code", expires, json.dumps(data))])
        return construct_redirect_uri(str(params.redirect_uri), code=code, state=params.state)

    async def load_authorization_code(self, client: OAuthClientInformationFull, authorization_code: str) -> Code | None:
        found = await self._find(authorization_code, "code")
        if found is None:
            return None
        grant, expires_at = found.grant, found.expires_at
        extra: dict[str, Any] = json.loads(found.data or "{}")
        return Code(
            code=authorization_code,
            scopes=grant.scopes,
            expires_at=float(expires_at or 0),
            client_id=grant.client_id,
            code_challenge=extra["code_challenge"],
            redirect_uri=extra["redirect_uri"],
            redirect_uri_provided_explicitly=extra["redirect_uri_provided_explicitly"],
            resource=grant.resource,
            subject=grant.person.user_id,
            grant_id=grant.id,
        )

    async def exchange_authorization_code(
        self, client: OAuthClientInformationFull, authorization_code: Code
    ) -> OAuthToken:
        if not await self.store.take(self.sealer.digest(authorization_code.code), "code"):
            raise TokenError("invalid_grant", "authorization code was already used")
        await self.store.client_used(authorization_code.client_id)
        return await self._issue(authorization_code.grant_id, authorization_code.scopes)

    async def load_refresh_token(self, client: OAuthClientInformationFull, refresh_token: str) -> Refresh | None:
        found = await self._find(refresh_token, "refresh")
        if found is None:
            await self._detect_reuse(refresh_token, client)
            return None
        if found.grant.client_id != client.client_id:
            return None
        grant, expires_at = found.grant, found.expires_at
        return Refresh(
            token=refresh_token,
            client_id=grant.client_id,
            scopes=grant.scopes,
            expires_at=expires_at,
            resource=grant.resource,
            subject=grant.person.user_id,
            grant_id=grant.id,
        )

    async def exchange_refresh_token(
        self, client: OAuthClientInformationFull, refresh_token: Refresh, scopes: list[str]
    ) -> OAuthToken:
        if not await self.store.spend(self.sealer.digest(refresh_token.token)):
            # Another request used it between our lookup and now: a replay too.
            await self._detect_reuse(refresh_token.token, client)
            raise TokenError("invalid_grant", "refresh token was already used or revoked")
        await self.store.client_used(refresh_token.client_id)
        return await self._issue(refresh_token.grant_id, scopes)

    async def _detect_reuse(self, refresh_token: str, client: OAuthClientInformationFull) -> None:
        """A used refresh token came back: end its grant (if it is still live) and say so in the audit log."""
        grant_id = await self.store.spent_by(self.sealer.digests(refresh_token))
        if grant_id is not None and await self.store.revoke(grant_id):
            line = {
                "event": "refresh_token_reuse",
                "grant": grant_id,
                "client_id": client.client_id,
                "outcome": "grant revoked: every token issued from it and its sealed Missive token",
            }
            audit_log.warning(json.dumps(line, separators=(",", ":")))

    async def _find(self, secret: str, kind: str) -> Found | None:
        """A live secret's grant; one stored under an older key is stored again under the first."""
        digests = self.sealer.digests(secret)
        found = await self.store.find(digests, kind)
        if found is not None and found.digest != digests[0]:
            await self.store.rekey(found, digests[0])
        return found

    async def _issue(self, grant_id: str, scopes: list[str]) -> OAuthToken:
        access, refresh = new_secret(ACCESS_PREFIX), new_secret(REFRESH_PREFIX)
        now = int(time.time())
        await self.store.add_secrets(
            grant_id,
            [
                (self.sealer.digest(access), "access", now + ACCESS_TTL, None),
                (self.sealer.digest(refresh), "refresh", now + REFRESH_TTL, None),
            ],
        )
        return OAuthToken(
            access_token=access,
            token_type="Bearer",
            expires_in=ACCESS_TTL,
            scope=" ".join(scopes) if scopes else None,
            refresh_token=refresh,
        )

    # Bearer tokens -----------------------------------------------------------------------------

    async def load_access_token(self, token: str) -> Access | None:
        remembered = _VERIFIED.get()
        if remembered is not None and remembered[0] == token:
            return remembered[1]  # the SDK checks again what `http.IdentityFirst` checked a moment ago
        return await self._load_access_token(token)

    async def _load_access_token(self, token: str) -> Access | None:
        kind = "key" if token.startswith(KEY_PREFIX) else "access"
        found = await self._find(token, kind)
        if found is None:
            return None
        grant, expires_at = found.grant, found.expires_at
        access = Access(
            token=token,
            client_id=grant.client_id,
            scopes=grant.scopes,
            expires_at=expires_at,
            resource=self.resource,
            subject=grant.person.user_id,
            grant_id=grant.id,
            email=grant.person.email,
        )
        try:
            opened = self.sealer.open(grant.sealed_token, bound_to=f"grant:{grant.id}")
        except SealError as exc:
            logger.error("Refusing grant %s of %s: %s", grant.id, grant.person.email, exc)
            return None
        learn(opened)  # accepted by Missive at sign-in: kept out of the log from this request's first line
        access.hold_missive_token(opened)
        return access

    async def revoke_token(self, token: Access | Refresh) -> None:
        await self.store.revoke(token.grant_id)
