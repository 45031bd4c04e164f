"""FakeMissive: the fake API as one object, with what sits between the wire and the routes.

Every request is recorded, may consume an injected `Fault`, is authenticated, passes the rate limiter and waits
out the configured latency before a route sees it. That gate wraps Starlette's own error handling, so a dropped
connection never turns into a 500 first. Attachment downloads (`/files/...`) stand for Missive's file host: they
skip the token check and the rate limits, as pre-signed links do.

`echo_token=True` makes the fake as careless as a misbehaving upstream can be: every answer carries the caller's
token in a header, every error answer in its body, and every message in its text, so a test can prove that the
server's scrubber keeps the token out of everything an agent sees.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import anyio
import httpx2
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from . import render
from .app import Api, Reports, empty
from .limits import RateLimiter
from .seed import DEMO_ORG_ID, demo_workspace
from .spec import is_object
from .workspace import Message as WorkspaceMessage
from .workspace import new_id

DEMO_TOKEN = "missive_pat-demo-0123456789abcdef"
"""As long as a real token (see `redact.MIN_TOKEN`): the scrubber hides it wherever the fake echoes it."""
BASE_URL = "http://missive.test/v1"
AUTH_FAILED = "Authentication token is invalid or has been revoked"
ECHO_HEADER = "X-Debug-Authorization"
"""The header in which `echo_token` sends the caller's Authorization back."""


@dataclass(frozen=True)
class RecordedRequest:
    """One request as it reached the fake."""

    method: str
    path: str
    """Percent-decoded, e.g. "/v1/conversations/abc/messages"."""
    query: dict[str, str]
    """Single values; a repeated key keeps its last value (all of them are in `query_list`)."""
    body: Any
    """Parsed JSON; the text itself if it is not JSON; None if empty."""
    headers: dict[str, str]
    """Lower-cased names."""
    query_list: tuple[tuple[str, str], ...] = ()


@dataclass
class Fault:
    """A failure for the next request that matches `method` and `path_prefix` (None matches any).

    `status` answers that status with `body` and `headers` without running the request; `drop` makes the
    connection close without an answer; with `after_write`, the request runs first (a write is applied) and its
    answer is then replaced by the failure. `hang` never answers. `delay` waits first; alone, it only slows the
    request down. `path_prefix` may be written "/v1/drafts", "/drafts" or "drafts".
    """

    status: int | None = None
    body: str | bytes = b""
    headers: dict[str, str] = field(default_factory=dict[str, str])
    delay: float = 0.0
    drop: bool = False
    hang: bool = False
    method: str | None = None
    path_prefix: str | None = None
    after_write: bool = False

    def matches(self, method: str, path: str) -> bool:
        if self.method is not None and self.method.upper() != method:
            return False
        if self.path_prefix is None:
            return True
        prefix = self.path_prefix if self.path_prefix.startswith("/v1") else "/v1/" + self.path_prefix.lstrip("/")
        return path.startswith(prefix)

    @property
    def answers(self) -> bool:
        """Whether the fault replaces the answer (rather than only delaying it)."""
        return self.status is not None or self.drop

    def response(self) -> Response:
        body = self.body.encode() if isinstance(self.body, str) else self.body
        media_type = "application/json" if _is_json(body) else "text/plain"
        return Response(body, status_code=self.status or 500, headers=self.headers, media_type=media_type)


class ConnectionDropped(Exception):
    """Raised through the ASGI app when a fault drops the connection; each way of serving turns it into one."""


class FakeMissive:
    """A stateful, in-process Missive API at /v1, seeded with the demo workspace."""

    base_url = BASE_URL

    def __init__(
        self,
        token: str = DEMO_TOKEN,
        *,
        report_delay: float = 2.0,
        report_ttl: float = 60.0,
        enforce_limits: bool = True,
        time_scale: float = 1.0,
        latency: float = 0.0,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
        echo_token: bool = False,
    ) -> None:
        self.token = token
        self.enforce_limits = enforce_limits
        self.latency = latency
        self.clock = clock
        self.echo_token = echo_token
        """Echo the caller's token in every answer's headers, error bodies and message texts (off by default)."""
        self.workspace = demo_workspace(wall=wall)
        """The state; `wall` is its clock (Unix seconds): new objects' timestamps and attachment link expiry."""
        self.tokens: dict[str, str] = {token: self.workspace.owner_id}
        """Accepted tokens and whose each is (a user id); add one to act as another person of the workspace.
        Only the directory (`me` in /users, /organizations) follows the token's user; the rest is the owner's view."""
        self.limiter = RateLimiter(time_scale=time_scale, clock=clock)
        self.requests: list[RecordedRequest] = []
        self.faults: list[Fault] = []
        self.max_in_flight = 0
        """The most requests the fake was ever handling at once."""
        self.rate_limited = 0
        """How many requests the rate limiter refused with a 429 (injected faults not counted)."""
        self._in_flight = 0
        self.reports = Reports(report_delay, report_ttl, clock)
        api = self._api = Api(self.workspace, self.reports)
        self.app: Starlette = _FakeApp(
            self._gate, routes=api.routes(), exception_handlers={404: _not_found, 405: _not_found}
        )

    @property
    def report_delay(self) -> float:
        """Seconds from a report's creation until it is ready (pending reads answer an empty 404)."""
        return self.reports.delay

    @report_delay.setter
    def report_delay(self, seconds: float) -> None:
        self.reports.delay = seconds

    @property
    def report_ttl(self) -> float:
        """Seconds a ready report stays readable before it 404s again."""
        return self.reports.ttl

    @report_ttl.setter
    def report_ttl(self, seconds: float) -> None:
        self.reports.ttl = seconds

    @property
    def users_ignore_organization(self) -> bool:
        """Whether `GET /users?organization=X` ignores the filter and answers the caller's own colleagues, `me`
        included, as the live API might for a caller who is not a member of X (unverified either way)."""
        return self._api.users_ignore_organization

    @users_ignore_organization.setter
    def users_ignore_organization(self, ignore: bool) -> None:
        self._api.users_ignore_organization = ignore

    def transport(self) -> httpx2.AsyncBaseTransport:
        """An in-memory transport to the app, for `httpx2.AsyncClient(transport=..., base_url=fake.base_url)`."""
        return _Transport(self.app)

    @contextmanager
    def serve(self, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
        """Serve the app on a real socket from a background thread; yields the base URL."""
        import uvicorn

        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.create_server((host, port), family=family)
        config = uvicorn.Config(
            _LoopbackApp(self.app),
            lifespan="off",
            http="h11",
            log_config=None,
            access_log=False,
            timeout_graceful_shutdown=1,
        )
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="fake-missive", daemon=True)
        thread.start()
        try:
            _wait_until(lambda: server.started or not thread.is_alive(), timeout=10.0)
            if not server.started:
                raise RuntimeError("the fake Missive server did not start")
            bound = sock.getsockname()[1]
            yield f"http://{f'[{host}]' if family == socket.AF_INET6 else host}:{bound}/v1"
        finally:
            server.should_exit = True
            thread.join(timeout=10.0)
            sock.close()

    # Mail arriving, and the webhooks Missive then delivers ----------------------------------------

    def receive_email(
        self,
        conversation_id: str | None = None,
        *,
        subject: str = "New mail",
        body: str = "<p>Hello, a question about my order.</p>",
        sender: str = "newcomer@example.org",
    ) -> tuple[str, str]:
        """An email arrives from outside, as during a test: in the given conversation (reopened, as inbound mail
        does) or in a new one in the Inbox. Returns (conversation id, message id)."""
        ws = self.workspace
        if conversation_id is None:
            conversation = ws.add_conversation(created_at=ws.now(), organization_id=DEMO_ORG_ID)
        else:
            conversation = ws.conversation(conversation_id)
            conversation.reopen()
        message = WorkspaceMessage(
            new_id(),
            conversation.id,
            body,
            {"name": sender.split("@")[0].title(), "address": sender},
            ws.now(),
            subject=subject,
            to_fields=[{"name": ws.owner.name, "address": ws.owner.email}],
        )
        ws.add_message(conversation, message)
        return conversation.id, message.id

    def webhook_deliveries(self, message_id: str, secret: str) -> list[tuple[str, dict[str, str], bytes]]:
        """What Missive POSTs to each incoming_email webhook for a message (addendum 6c): (url, headers, body),
        the body signed in X-Hook-Signature (HMAC-SHA256 of the raw body with the rule's secret, hex)."""
        ws = self.workspace
        message = ws.messages[message_id]
        conversation = ws.conversation(message.conversation_id)
        deliveries: list[tuple[str, dict[str, str], bytes]] = []
        for hook in ws.hooks.values():
            if hook.type != "incoming_email":
                continue
            payload = {
                "rule": {"id": hook.id, "description": "Webhook", "type": hook.type},
                "conversation": render.conversation(ws, conversation),
                "latest_message": {
                    "id": message.id,
                    "subject": message.subject,
                    "preview": render.preview(message.body),
                    "type": message.type,
                    "delivered_at": message.delivered_at,
                    "from_field": message.from_field,
                    "to_fields": message.to_fields,
                },
            }
            raw = json.dumps(payload).encode()
            signature = hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
            headers = {"Content-Type": "application/json", "X-Hook-Signature": f"sha256={signature}"}
            deliveries.append((hook.url, headers, raw))
        return deliveries

    # The gate ----------------------------------------------------------------------------------

    async def _gate(self, inner: ASGIApp, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await inner(scope, receive, send)
            return
        body = await _read_body(receive)
        self.requests.append(_recorded(scope, body))
        receive = _replaying(body, receive)
        caller = _bearer(scope) if self.echo_token else None
        if caller:
            send = _echoing(caller, send)
        # The in-memory transport runs the app in the caller's task: set both for this request only.
        origin, echo = render.ORIGIN.set(_origin(scope)), render.ECHO.set(caller)
        self._in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self._in_flight)
        try:
            fault = self._take_fault(scope["method"], scope["path"])
            if fault is None:
                await self._admit(inner, scope, receive, send)
            else:
                await self._fail(fault, inner, scope, receive, send)
        finally:
            self._in_flight -= 1
            render.ORIGIN.reset(origin)
            render.ECHO.reset(echo)

    def _take_fault(self, method: str, path: str) -> Fault | None:
        for index, fault in enumerate(self.faults):
            if fault.matches(method, path):
                return self.faults.pop(index)
        return None

    async def _fail(self, fault: Fault, inner: ASGIApp, scope: Scope, receive: Receive, send: Send) -> None:
        if fault.delay:
            await anyio.sleep(fault.delay)
        if fault.hang:
            await _disconnected(receive)
            return
        if not fault.answers or fault.after_write:
            await self._admit(inner, scope, receive, _discard if fault.answers else send)
        if fault.drop:
            raise ConnectionDropped
        if fault.answers:
            await fault.response()(scope, receive, send)

    async def _admit(self, inner: ASGIApp, scope: Scope, receive: Receive, send: Send) -> None:
        """Authenticate, rate-limit, wait out the latency, then let the routes answer."""
        if scope["path"].startswith(render.FILES_PATH):
            await self._delay()
            await inner(scope, receive, send)
            return
        token = _bearer(scope)
        if token is None or token not in self.tokens:
            await self._refuse(JSONResponse({"error": {"message": AUTH_FAILED}}, status_code=401), scope, receive, send)
            return
        scope.setdefault("state", {})["missive_user"] = self.tokens[token]
        if not self.enforce_limits:
            await self._delay()
            await inner(scope, receive, send)
            return
        refusal = self.limiter.admit(token)
        if refusal is not None:
            self.rate_limited += 1
            body = {"error": {"message": "Too many requests, please retry later"}}
            response = JSONResponse(body, status_code=429, headers=refusal.headers(time.time()))
            await self._refuse(response, scope, receive, send)
            return
        try:
            await self._delay()
            await inner(scope, receive, send)
        finally:
            self.limiter.release(token)

    async def _refuse(self, response: Response, scope: Scope, receive: Receive, send: Send) -> None:
        await self._delay()
        await response(scope, receive, send)

    async def _delay(self) -> None:
        if self.latency:
            await anyio.sleep(self.latency)


Gate = Callable[[ASGIApp, Scope, Receive, Send], Awaitable[None]]
"""What stands between the wire and the routes: `FakeMissive._gate`, handed the routes' own app."""


class _FakeApp(Starlette):
    """The routes, behind the fake's gate."""

    def __init__(self, gate: Gate, **options: Any) -> None:
        self._gate = gate
        super().__init__(**options)

    def build_middleware_stack(self) -> ASGIApp:
        inner = super().build_middleware_stack()

        async def gate(scope: Scope, receive: Receive, send: Send) -> None:
            await self._gate(inner, scope, receive, send)

        return gate


class _Transport(httpx2.AsyncBaseTransport):
    """ASGITransport, with a dropped connection surfacing as the network error a real client would see."""

    def __init__(self, app: ASGIApp) -> None:
        self._asgi = httpx2.ASGITransport(app=app)

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        try:
            return await self._asgi.handle_async_request(request)
        except ConnectionDropped:
            raise httpx2.RemoteProtocolError(
                "Server disconnected without sending a response.", request=request
            ) from None

    async def aclose(self) -> None:
        await self._asgi.aclose()


class _LoopbackApp:
    """The app as uvicorn serves it: a dropped connection starts an answer and abandons it, so uvicorn hangs up."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await self.app(scope, receive, send)
        except ConnectionDropped:
            # ASGI cannot close a connection unanswered; a promised body that never comes is the nearest thing.
            await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"1")]})


async def _not_found(request: Request, exc: Exception) -> Response:
    return empty(404)


async def _discard(message: Message) -> None:
    return None


async def _read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replaying(body: bytes, receive: Receive) -> Receive:
    """A `receive` that hands the already-read body to the routes, then waits for the client as usual."""
    pending = True

    async def replay() -> Message:
        nonlocal pending
        if pending:
            pending = False
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


async def _disconnected(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


def _recorded(scope: Scope, body: bytes) -> RecordedRequest:
    query: bytes = scope["query_string"]
    pairs = tuple(parse_qsl(query.decode("latin-1"), keep_blank_values=True))
    headers = {name.decode("latin-1").lower(): value.decode("latin-1") for name, value in scope["headers"]}
    return RecordedRequest(scope["method"], scope["path"], dict(pairs), _parsed(body), headers, pairs)


def _parsed(body: bytes) -> Any:
    if not body:
        return None
    try:
        return json.loads(body)
    except ValueError:
        return body.decode("utf-8", "replace")


def _is_json(body: bytes) -> bool:
    try:
        json.loads(body)
    except ValueError:
        return False
    return True


def _origin(scope: Scope) -> str:
    host = next((value.decode("latin-1") for name, value in scope["headers"] if name.lower() == b"host"), None)
    if host is None:
        server = scope.get("server") or ("missive.test", None)
        host = server[0] if server[1] in (None, 80, 443) else f"{server[0]}:{server[1]}"
    return f"{scope.get('scheme', 'http')}://{host}"


def _echoing(token: str, send: Send) -> Send:
    """A `send` that echoes `token`: in a header on every answer, and in the body of every error answer."""
    echo = f"Bearer {token}"
    start: Message | None = None
    chunks: list[bytes] = []

    async def echoing(message: Message) -> None:
        nonlocal start
        if message["type"] == "http.response.start":
            headers = [*message.get("headers", []), (ECHO_HEADER.lower().encode(), echo.encode("latin-1"))]
            start = {**message, "headers": headers}
            if start["status"] < 400:
                await send(start)
            return
        if message["type"] != "http.response.body" or start is None or start["status"] < 400:
            await send(message)
            return
        chunks.append(message.get("body", b""))
        if message.get("more_body", False):
            return
        body = _with_token(b"".join(chunks), echo)
        headers = [(k, v) for k, v in start["headers"] if k.lower() not in (b"content-length", b"content-type")]
        headers += [(b"content-length", str(len(body)).encode()), (b"content-type", b"application/json")]
        await send({**start, "headers": headers})
        await send({"type": "http.response.body", "body": body, "more_body": False})

    return echoing


def _with_token(body: bytes, echo: str) -> bytes:
    """An error body that also quotes the request's Authorization header, as a careless upstream might."""
    note = f"(request had Authorization: {echo})"
    parsed = _parsed(body)
    if is_object(parsed) and isinstance(parsed.get("error"), str):
        parsed["error"] = f"{parsed['error']} {note}"
    elif is_object(parsed) and is_object(nested := parsed.get("error")) and "message" in nested:
        nested["message"] = f"{nested['message']} {note}"
    else:
        text = parsed if isinstance(parsed, str) and parsed else "Request failed"
        parsed = {"error": {"message": f"{text} {note}"}}
    return json.dumps(parsed).encode()


def _bearer(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name.lower() == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            return token.strip() if scheme.lower() == "bearer" else None
    return None


def _wait_until(condition: Callable[[], bool], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.005)
