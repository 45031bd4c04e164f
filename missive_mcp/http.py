"""The streamable HTTP transport: stateless, behind a bearer key, with DNS-rebinding protection and /health."""

from __future__ import annotations

import hmac
import json
from typing import Any

from mcp.server.mcpserver import MCPServer
from mcp.server.transport_security import TransportSecuritySettings
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from . import __version__
from .server import TEAMS
from .settings import Settings

LOOPBACK = ("127.0.0.1", "localhost", "[::1]")
OPEN_PATHS = frozenset({"/health"})


class BearerKey:
    """Refuse every request without the operator's key before any MCP handling, so no tool runs for strangers."""

    def __init__(self, app: ASGIApp, key: str) -> None:
        self.app = app
        self._expected = f"Bearer {key}".encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in OPEN_PATHS:
            return await self.app(scope, receive, send)
        given = dict(scope["headers"]).get(b"authorization", b"")
        if hmac.compare_digest(given, self._expected):
            return await self.app(scope, receive, send)
        body = json.dumps(
            {"error": "Missing or wrong bearer key: send Authorization: Bearer <MISSIVE_MCP_AUTH_TOKEN>."}
        )
        response = Response(
            body,
            status_code=401,
            media_type="application/json",
            headers={"WWW-Authenticate": 'Bearer realm="missive-mcp"'},
        )
        await response(scope, receive, send)


def security_for(host: str, port: int, allowed_hosts: list[str]) -> TransportSecuritySettings:
    """Accept only the Host and Origin values this deployment answers to."""
    names = allowed_hosts or ([host] if host not in ("0.0.0.0", "::") else []) + list(LOOPBACK)
    hosts = sorted({f"{name}:{port}" for name in names} | {f"{name}:*" for name in names} | set(names))
    origins = sorted({f"{scheme}://{h}" for h in hosts for scheme in ("http", "https")})
    return TransportSecuritySettings(enable_dns_rebinding_protection=True, allowed_hosts=hosts, allowed_origins=origins)


def create_http_app(server: MCPServer[Any], settings: Settings) -> ASGIApp:
    """The ASGI app serving MCP at /mcp; refuses to exist without a bearer key to check."""
    team = TEAMS.get(server)
    if settings.mcp_auth_token is None and team is None:
        raise ValueError(
            "The HTTP transport needs a bearer key: set MISSIVE_MCP_AUTH_TOKEN to a long random string "
            "(e.g. `python -c 'import secrets; print(secrets.token_urlsafe(32))'`) and give it to your clients."
        )

    @server.custom_route("/health", methods=["GET"])
    async def health(_: Request) -> Response:  # pyright: ignore[reportUnusedFunction]
        return JSONResponse({"status": "ok", "version": __version__})

    hosts = list(settings.allowed_hosts)
    if team is not None and settings.public_url:  # also the name clients reach through the proxy in front
        bound = [settings.host] if settings.host not in ("0.0.0.0", "::") else []
        hosts = [*(hosts or [*bound, *LOOPBACK]), settings.public_url.partition("://")[2]]
    app = server.streamable_http_app(
        stateless_http=True,
        json_response=True,
        transport_security=security_for(settings.host, settings.port, hosts),
        host=settings.host,
    )
    if team is not None:  # oauth: the SDK checks each person's bearer token; our pages sit in front
        return team.wrap(app)
    assert settings.mcp_auth_token is not None
    return BearerKey(app, settings.mcp_auth_token.get_secret_value())
