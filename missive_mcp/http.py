"""The streamable HTTP transport: stateless, behind a bearer key, with DNS-rebinding protection and /health.

What the SDK's stateless transport leaves to us, in the order a request meets it:

    SlowClientGuard   (uvicorn protocol) drops a client that dribbles its headers or its body
    MissiveWebhooks   /webhooks/missive: Missive's signed deliveries (inbound.py), no key
    BearerKey         key mode: refuses strangers; /.well-known/* answers 404 so clients do not start OAuth
    IdentityFirst     oauth mode: the SDK's bearer check, moved in front of anything that reads a body
    Exchange          one POST at a time: body limit, one-line JSON-RPC errors, JSON or SSE per call,
                      cancels that reach the running call, no endless GET stream
    the SDK's app     /mcp, /health
"""

from __future__ import annotations

import asyncio
import contextvars
import hashlib
import hmac
import json
import logging
import secrets
from typing import TYPE_CHECKING, Any, cast

import anyio
import h11
import uvicorn
from mcp.server.auth.middleware.bearer_auth import BearerAuthBackend, RequireAuthMiddleware
from mcp.server.auth.routes import build_resource_metadata_url
from mcp.server.mcpserver import MCPServer
from mcp.server.streamable_http import check_accept_headers
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from mcp.server.transport_security import TransportSecuritySettings
from mcp.shared.jsonrpc_dispatcher import cancelled_request_id_from_params, progress_token_from_params
from mcp_types.version import HANDSHAKE_PROTOCOL_VERSIONS
from pydantic import AnyHttpUrl
from starlette.middleware.authentication import AuthenticationMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.protocols.http.h11_impl import H11Protocol

from . import __version__
from .inbound import MissiveWebhooks
from .server import BUSES, TEAMS
from .settings import Settings

if TYPE_CHECKING:
    from .auth.provider import Provider

logger = logging.getLogger(__name__)

LOOPBACK = ("127.0.0.1", "localhost", "[::1]")
OPEN_PATHS = frozenset({"/health"})
MCP_PATH = "/mcp"
BACKLOG = 256
"""Connections the kernel may queue before uvicorn accepts them; more wait in SYN retries, not in our memory."""

UNAUTHORIZED = "Missing or wrong bearer key: send Authorization: Bearer <MISSIVE_MCP_AUTH_TOKEN>."
REQUEST_CANCELLED = -32800
"""The 2025-era wire ends a cancelled request with this error (LSP's RequestCancelled), as the SDK does."""


OAUTH_ENDPOINTS = frozenset({"/register", "/authorize", "/token", "/revoke"})
"""Where an OAuth client looks when the metadata is missing: the TypeScript SDK falls back to POST /register."""
NOT_OAUTH = "This server takes a bearer key, not an OAuth sign-in. " + UNAUTHORIZED


class BearerKey:
    """Refuse every request without the operator's key before any MCP handling, so no tool runs for strangers.

    `/.well-known/*` answers 404 to anyone: a client with OAuth support that meets our 401 probes those paths,
    and a 401 there too starts an OAuth flow that ends in an unrelated error instead of our sentence. Such a
    client then falls back to /register (then /authorize, /token) at the root; those answer 404 with an
    OAuth-shaped error, whose `error_description` the TypeScript SDK shows (it read our plain `error` as an
    unknown OAuth code and showed `ServerError: ""`)."""

    def __init__(self, app: ASGIApp, key: str) -> None:
        self.app = app
        self._expected = hashlib.sha256(key.encode()).digest()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in OPEN_PATHS:
            return await self.app(scope, receive, send)
        if scope["path"].startswith("/.well-known/"):
            body = {"error": "Not found: this server takes a bearer key, not OAuth. " + UNAUTHORIZED}
            return await JSONResponse(body, status_code=404)(scope, receive, send)
        if scope["path"] in OAUTH_ENDPOINTS:
            body = {"error": "invalid_client", "error_description": NOT_OAUTH}
            return await JSONResponse(body, status_code=404, headers={"Cache-Control": "no-store"})(
                scope, receive, send
            )
        if self.admits(dict(scope["headers"]).get(b"authorization", b"")):
            return await self.app(scope, receive, send)
        response = JSONResponse(
            {"error": UNAUTHORIZED}, status_code=401, headers={"WWW-Authenticate": 'Bearer realm="missive-mcp"'}
        )
        await response(scope, receive, send)

    def admits(self, header: bytes) -> bool:
        """RFC 7235: the scheme is case-insensitive. Digests compared in constant time, so neither the key's
        bytes nor its length show in the time a refusal takes."""
        scheme, _, given = header.strip().partition(b" ")
        digest = hashlib.sha256(given.strip()).digest()
        return hmac.compare_digest(digest, self._expected) and scheme.lower() == b"bearer"


class IdentityFirst:
    """OAuth mode: know who calls /mcp before reading a byte of the body.

    The SDK checks bearer tokens inside its app, which `Exchange` reaches only after reading and parsing the body,
    so a stranger's 10 MB POST cost 10 MB (and more to parse) before its 401. Here the SDK's own pieces
    (`AuthenticationMiddleware`, `BearerAuthBackend`, `RequireAuthMiddleware`) run first and answer a stranger
    exactly as the SDK would; uvicorn then drains the unread body in small pieces, keeping none of it. The SDK
    checks the token again inside; the provider answers that from the request's first lookup."""

    def __init__(self, app: ASGIApp, provider: Provider, resource: str) -> None:
        from .auth.provider import CheckedOnce

        url = AnyHttpUrl(resource)
        backend = BearerAuthBackend(CheckedOnce(provider), resource_server_url=url)
        required = RequireAuthMiddleware(app, [], build_resource_metadata_url(url))
        self.checked = AuthenticationMiddleware(required, backend=backend)
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == MCP_PATH:
            return await self.checked(scope, receive, send)
        await self.app(scope, receive, send)


class HostCheck:
    """Say once, per distinct Host, when a request names this server otherwise than MISSIVE_MCP_PUBLIC_URL does.

    OAuth clients compare the resource the server advertises (built from the public URL) with the URL they were
    given, so a client pointed at http://localhost:8000/mcp refuses a server that calls itself 127.0.0.1:8000,
    and nothing told the operator why. The Host is a stranger's text: logged quoted and cut, and only the first
    `MAX_HOSTS` distinct ones are remembered (then one line says the rest go unlogged)."""

    MAX_HOSTS = 32

    def __init__(self, app: ASGIApp, public_url: str) -> None:
        self.app = app
        self.public_url = public_url
        self.public_host = public_url.partition("://")[2].lower()
        self._seen: set[str] = set()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] not in OPEN_PATHS:
            host = dict(scope["headers"]).get(b"host", b"").decode("latin-1").strip().lower()[:100]
            if host != self.public_host and host not in self._seen and len(self._seen) <= self.MAX_HOSTS:
                self._seen.add(host)
                if len(self._seen) > self.MAX_HOSTS:
                    logger.warning("More requests name other hosts than MISSIVE_MCP_PUBLIC_URL; no longer logged.")
                else:
                    logger.warning(
                        "A request names this server %r, but MISSIVE_MCP_PUBLIC_URL is %s: OAuth clients refuse a "
                        "resource whose host differs from the URL they were given (localhost is not 127.0.0.1). "
                        "Give clients %s/mcp, or set MISSIVE_MCP_PUBLIC_URL to the name they use.",
                        host,
                        self.public_url,
                        self.public_url,
                    )
        await self.app(scope, receive, send)


# --- One POST at a time -------------------------------------------------------------------------------------------

_STREAM = contextvars.ContextVar("missive_mcp_stream_response", default=False)


class _ResponseModePerRequest(StreamableHTTPSessionManager):
    """The SDK picks JSON or SSE answers once per manager (`json_response`); we pick per request, so a call that
    reports progress streams and every other answer stays plain JSON. Missing hook: a per-request response mode."""

    @property
    def json_response(self) -> bool:  # pyright: ignore[reportIncompatibleVariableOverride]
        return not _STREAM.get()

    @json_response.setter
    def json_response(self, value: bool) -> None:  # set by the SDK's __init__; the request decides instead
        pass


class Exchange:
    """What the SDK's stateless transport leaves to us for each request to /mcp.

    - A body limit equal to what the tools accept, refused with one JSON-RPC sentence (the SDK's own 4 MiB cap
      answers a bare 413 that clients show as "Server returned an error response").
    - Malformed JSON-RPC (a batch, a missing "jsonrpc", an id that is neither string nor number) gets one line,
      not a pydantic dump.
    - SSE where a call streams: the 2026-07-28 path streams once the call sends a notification; a handshake-era
      request streams only when it carries a progressToken (and accepts SSE). Everything else is plain JSON.
    - Cancels reach the call. A 2026-07-28 client aborts its POST; a handshake-era client POSTs
      `notifications/cancelled` separately, which a stateless server cannot match to the call. Each request runs
      in a cancel scope filed under (credential, session id, request id); the session id is one we hand out
      with `initialize` and keep nowhere, so any replica accepts it and two clients sharing a key do not cancel
      each other's calls. A client that drops the connection cancels its call too.
    - No endless event stream: GET (and DELETE, there is no session to end) answer 405.
    """

    def __init__(self, app: ASGIApp, max_body_bytes: int, streams_per_person: int = 4) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.streams_per_person = streams_per_person
        self._running: dict[tuple[str, str, str], anyio.CancelScope] = {}
        self._streams: dict[str, int] = {}
        """Open streamed calls per person (or per key); a person's entry goes when their last stream ends."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != MCP_PATH or scope["method"] not in ("POST", "GET", "DELETE"):
            return await self.app(scope, receive, send)
        if scope["method"] != "POST":
            # Stateless: nothing ever arrives on a standalone stream, and there is no session to end.
            return await Response(status_code=405, headers={"Allow": "POST"})(scope, receive, send)

        body = await read_body(scope, receive, self.max_body_bytes)
        if body is None:
            limit = self.max_body_bytes / 1_000_000
            message = (
                f"Request too large: this server takes at most {limit:.1f} MB in one request (create_draft accepts "
                "10 MB of attachments in all); send less, e.g. fewer or smaller attachments."
            )
            return await rpc_error(None, -32600, message, 413)(scope, receive, send)
        decoded, problem = parse_message(body)
        if problem is not None:
            code = -32700 if problem.startswith("Parse error") else -32600
            return await rpc_error(None, code, problem, 400)(scope, receive, send)
        assert decoded is not None

        headers = Request(scope).headers
        who = (_credential(headers.get("authorization", "")), headers.get("mcp-session-id", ""))
        method = decoded.get("method")
        if method == "notifications/cancelled":
            request_id = cancelled_request_id_from_params(decoded.get("params"))
            running = self._running.get((*who, _id_key(request_id)))
            if running is not None:
                logger.debug("Cancelling request %r at the client's request.", request_id)
                running.cancel()
        if "id" not in decoded or not isinstance(method, str):
            return await self.app(scope, replay(body), send)

        version = headers.get("mcp-protocol-version")
        modern = version is not None and version not in HANDSHAKE_PROTOCOL_VERSIONS
        _, accepts_sse = check_accept_headers(Request(scope))
        streams = accepts_sse and (modern or progress_token_from_params(decoded.get("params")) is not None)
        _STREAM.set(streams)
        if not streams:
            return await self._run(
                scope, body, receive, send, who=who, request_id=decoded["id"], initialize=method == "initialize"
            )
        # A stream holds a connection as long as its call runs: one person may not take them all.
        holder = _person(scope) or who[0]
        if self._streams.get(holder, 0) >= self.streams_per_person:
            message = (
                f"Too many streamed calls at once: you already have {self.streams_per_person} open on this server "
                "(MISSIVE_MCP_STREAMS_PER_PERSON). Wait for one to finish or cancel it, then call again."
            )
            logger.debug("Refused a stream: %d open for one caller.", self._streams[holder])
            return await rpc_error(decoded["id"], -32000, message, 429)(scope, receive, send)
        self._streams[holder] = self._streams.get(holder, 0) + 1
        try:
            await self._run(
                scope, body, receive, send, who=who, request_id=decoded["id"], initialize=method == "initialize"
            )
        finally:
            self._streams[holder] -= 1
            if not self._streams[holder]:
                del self._streams[holder]

    async def _run(
        self,
        scope: Scope,
        body: bytes,
        receive: Receive,
        send: Send,
        *,
        who: tuple[str, str],
        request_id: str | int,
        initialize: bool,
    ) -> None:
        """Run one request in a cancel scope a `notifications/cancelled` or a dropped connection can reach."""
        key = (*who, _id_key(request_id))
        started = completed = False
        disconnected = anyio.Event()

        async def tracked_send(message: Message) -> None:
            nonlocal started, completed
            if message["type"] == "http.response.start":
                started = True
                if initialize and not any(name == b"mcp-session-id" for name, _ in message.get("headers", [])):
                    message = {**message, "headers": [*message.get("headers", []), _new_session_header()]}
            elif message["type"] == "http.response.body" and not message.get("more_body", False):
                completed = True
            await send(message)

        async def inner_receive() -> Message:
            await disconnected.wait()
            return {"type": "http.disconnect"}

        scope_ = anyio.CancelScope()
        self._running[key] = scope_
        try:
            async with anyio.create_task_group() as tg:

                async def watch_disconnect() -> None:
                    while (await receive())["type"] != "http.disconnect":
                        pass
                    disconnected.set()
                    if not completed:
                        scope_.cancel()

                tg.start_soon(watch_disconnect)
                with scope_:
                    await self.app(scope, replay(body, then=inner_receive), tracked_send)
                tg.cancel_scope.cancel()
        finally:
            if self._running.get(key) is scope_:
                del self._running[key]
        if scope_.cancelled_caught and not disconnected.is_set():
            if not started:
                await rpc_error(request_id, REQUEST_CANCELLED, "Request cancelled", 200)(scope, receive, send)
            elif not completed:
                await send({"type": "http.response.body", "body": b"", "more_body": False})


def _person(scope: Scope) -> str | None:
    """The signed-in person a request acts for (oauth mode: set by `IdentityFirst`), None with a shared key."""
    user = scope.get("user")
    subject = getattr(getattr(user, "access_token", None), "subject", None)
    return f"person {subject}" if isinstance(subject, str) and subject else None


def _credential(authorization: str) -> str:
    """Whose request this is, without keeping the credential itself."""
    scheme, _, value = authorization.strip().partition(" ")
    return hashlib.sha256(f"{scheme.lower()} {value.strip()}".encode()).hexdigest()


def _id_key(request_id: object) -> str:
    """Ids as the SDK matches them: 1 and "1" are the same request."""
    return str(request_id)


def _new_session_header() -> tuple[bytes, bytes]:
    return (b"mcp-session-id", secrets.token_urlsafe(24).encode())


async def read_body(scope: Scope, receive: Receive, limit: int) -> bytes | None:
    """The request body, or None past `limit` bytes. An oversized body is still read (up to four times the limit)
    so the client, still writing, reads our answer instead of a reset connection."""
    declared = dict(scope["headers"]).get(b"content-length", b"")
    chunks: list[bytes] = []
    size = 0
    too_large = declared.isdigit() and int(declared) > limit
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            too_large = True
        if not too_large:
            chunks.append(chunk)
        if not message.get("more_body", False) or size > 4 * limit:
            break
    return None if too_large else b"".join(chunks)


def replay(body: bytes, *, then: Receive | None = None) -> Receive:
    """A `receive` that hands the app the body already read, then waits on `then` (a disconnect)."""
    delivered = False

    async def receive() -> Message:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}
        if then is None:
            await anyio.sleep_forever()
        assert then is not None
        return await then()

    return receive


def parse_message(body: bytes) -> tuple[dict[str, Any] | None, str | None]:
    """The decoded JSON-RPC message, or one sentence saying what is wrong with it."""
    try:
        decoded: object = json.loads(body)
    except (ValueError, RecursionError) as exc:
        where = f" ({exc.msg} at character {exc.pos})" if isinstance(exc, json.JSONDecodeError) else ""
        return None, f"Parse error: the request body is not valid JSON{where}."
    if isinstance(decoded, list):
        return None, (
            "JSON-RPC batches are not supported: send each message in its own POST "
            "(MCP has had no batches since protocol version 2025-06-18)."
        )
    if not isinstance(decoded, dict):
        return None, f"The request body must be one JSON-RPC message (a JSON object), not {type(decoded).__name__}."
    message = cast(dict[str, Any], decoded)  # checked just above; JSON object keys are always strings
    if message.get("jsonrpc") != "2.0":
        return None, 'Invalid JSON-RPC message: "jsonrpc" must be "2.0".'
    if "method" in message:
        if not isinstance(message["method"], str) or not message["method"]:
            return None, 'Invalid JSON-RPC message: "method" must be a non-empty string.'
        if "params" in message and not isinstance(message["params"], dict):
            return None, 'Invalid JSON-RPC message: "params" must be an object.'
    elif "result" not in message and "error" not in message:
        return None, 'Invalid JSON-RPC message: it needs "method" (a request or notification) or "result"/"error".'
    if "id" in message and (isinstance(message["id"], bool) or not isinstance(message["id"], str | int)):
        return None, 'Invalid JSON-RPC message: "id" must be a string or an integer (leave it out for a notification).'
    return message, None


def rpc_error(request_id: object, code: int, message: str, status: int) -> Response:
    body = {"jsonrpc": "2.0", "id": request_id, "error": {"code": code, "message": message}}
    return Response(json.dumps(body), status_code=status, media_type="application/json")


# --- The app and its server ---------------------------------------------------------------------------------------


def security_for(host: str, port: int, allowed_hosts: list[str]) -> TransportSecuritySettings:
    """Accept only the Host and Origin values this deployment answers to."""
    names = allowed_hosts or ([host] if host not in ("0.0.0.0", "::") else []) + list(LOOPBACK)
    hosts = sorted({f"{name}:{port}" for name in names} | {f"{name}:*" for name in names} | set(names))
    origins = sorted({f"{scheme}://{h}" for h in hosts for scheme in ("http", "https")})
    return TransportSecuritySettings(enable_dns_rebinding_protection=True, allowed_hosts=hosts, allowed_origins=origins)


def create_http_app(server: MCPServer[Any], settings: Settings) -> ASGIApp:
    """The ASGI app serving MCP at /mcp; refuses to exist without a bearer key to check."""
    team = TEAMS.get(server)
    if settings.dynamic_toolsets:
        raise ValueError(
            "MISSIVE_DYNAMIC_TOOLSETS works over stdio only: its switch is server-wide, and over HTTP one person "
            "would change every other person's tools. Choose the toolsets with MISSIVE_TOOLSETS instead."
        )
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
        streamable_http_path=MCP_PATH,
        stateless_http=True,
        json_response=True,
        max_request_body_size=settings.http_max_body_bytes + 1,  # ours answers first, in words
        transport_security=security_for(settings.host, settings.port, hosts),
        host=settings.host,
    )
    server.session_manager.__class__ = _ResponseModePerRequest
    exchange = Exchange(app, settings.http_max_body_bytes, settings.streams_per_person)
    secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else None
    if team is not None:  # oauth: the SDK checks each person's bearer token; the sign-in pages sit in front
        signed_in = team.wrap(IdentityFirst(exchange, team.provider, team.resource))
        return HostCheck(MissiveWebhooks(signed_in, BUSES[server], secret), team.public_url)  # webhooks: signed
    assert settings.mcp_auth_token is not None
    return MissiveWebhooks(BearerKey(exchange, settings.mcp_auth_token.get_secret_value()), BUSES[server], secret)


# --- Slow clients -------------------------------------------------------------------------------------------------


class SlowClientGuard(H11Protocol):
    """uvicorn's HTTP/1.1 protocol with the timeouts it lacks (after Apache's mod_reqtimeout).

    uvicorn has no limit on the time a request's headers take, so a client sending a byte a second holds its
    file descriptor forever; a thousand such clients stop the server. Here a client must send its request line
    and headers within `header_timeout` seconds of connecting (or of its first byte, on a kept-alive
    connection), and a body at `min_rate` bytes a second after the same grace; below that it is disconnected.
    Time the server itself stops reading (flow control) is not held against the client."""

    header_timeout: float = 10.0
    min_rate: float = 1000.0

    def connection_made(self, transport: asyncio.Transport) -> None:
        super().connection_made(transport)
        self._phase = self.conn.their_state  # IDLE: the client has sent nothing yet
        self._clock: float | None = self.loop.time()
        self._received = 0
        self._period = min(1.0, self.header_timeout / 4)
        self._watch = self.loop.call_later(self._period, self._check)

    def connection_lost(self, exc: Exception | None) -> None:
        self._watch.cancel()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._clock is None:
            self._clock = self.loop.time()
        self._received += len(data)
        super().data_received(data)
        self._follow()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._follow()

    def _follow(self) -> None:
        """Restart the clock when the client moves on: from headers to a body, or back to waiting."""
        state = self.conn.their_state
        if state is not self._phase:
            self._phase = state
            self._clock = self.loop.time() if state is h11.SEND_BODY else None
            self._received = 0

    def _check(self) -> None:
        if self.transport.is_closing():
            return
        self._follow()
        now = self.loop.time()
        if self._clock is not None:
            if self._phase is h11.SEND_BODY and self.flow.read_paused:
                self._clock += self._period  # we are not reading: the client is not slow
            elapsed = now - self._clock
            if self._phase is h11.IDLE and elapsed > self.header_timeout:
                return self._drop("its request headers")
            if self._phase is h11.SEND_BODY and elapsed > self.header_timeout + self._received / self.min_rate:
                return self._drop("its request body")
        self._watch = self.loop.call_later(self._period, self._check)

    def _drop(self, what: str) -> None:
        client = f"{self.client[0]}:{self.client[1]}" if self.client else "a client"
        logger.debug("Disconnected %s: too slow sending %s.", client, what)  # DEBUG: an attack would flood INFO
        self.transport.close()


def http_config(app: ASGIApp, settings: Settings) -> uvicorn.Config:
    """uvicorn's configuration for the HTTP transport, every budget from the settings."""
    guard = type(
        "SlowClientGuard",
        (SlowClientGuard,),
        {"header_timeout": settings.http_header_timeout, "min_rate": float(settings.http_min_upload_rate)},
    )
    return uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        http=guard,
        log_level=settings.log_level.lower(),
        access_log=False,
        limit_concurrency=settings.http_max_connections,
        backlog=BACKLOG,
        timeout_keep_alive=settings.http_keep_alive,
        lifespan="on",
    )


def serve_http(app: ASGIApp, settings: Settings) -> None:
    """Serve `app` until interrupted."""
    uvicorn.Server(http_config(app, settings)).run()
