"""MissiveClient: one shared HTTP client and one request chokepoint for the Missive REST API.

Every call goes through `MissiveClient.call` with its row from `endpoints.py`: it adds auth, keeps the rate
limits and the call's deadline, retries what the row says is safe to retry, reads the answer within a size
budget, and turns every failure into an error from `errors.py`. The typed methods below it only name their
row and the ids, and unwrap the answers.
"""

from __future__ import annotations

import hashlib
import json
import logging
import random
import re
import time
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from email.utils import parsedate_to_datetime
from functools import cached_property
from typing import Any, TypeVar, cast
from urllib.parse import quote, urlsplit

import anyio
import httpx2

from . import __version__
from . import endpoints as ep
from .deadline import budget, remaining, within
from .endpoints import GONE_UNCONFIRMED, Endpoint, Retry
from .errors import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    AuthenticationError,
    ConfigurationError,
    DeadlineError,
    DecodingError,
    ForbiddenError,
    InvalidArgumentError,
    MissiveError,
    NotFoundError,
    RateLimitError,
    ServerError,
    TransportError,
    accepted_but_unreadable,
    outcome_unknown,
    status_error,
    with_advice,
)
from .facts import FALLBACK_RETRY_AFTER, MAX_RESPONSE_BYTES, MAX_RETRY_AFTER, TOKEN_HELP
from .limits import Limits, LocalLimits, RateLimiter, TokenLimiter
from .models import Conversation, Message
from .redact import hideable, learn
from .settings import Settings
from .text import sanitize_tree

logger = logging.getLogger(__name__)

A = TypeVar("A")
TokenSource = Callable[[], Awaitable[str]]
"""The Missive token of the current call: the configured one, or (team server) the signed-in person's."""
Params = Mapping[str, str | int | bool | None]
Context = Mapping[str, object]

ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$"
_ID = re.compile(ID_PATTERN)
BACKOFF = 0.5
"""Seconds before the first retry; doubled for each next one, capped at 8, with jitter."""
MAX_QUERY_VALUE = 2000
"""Characters in one query value: longer ones are refused before they reach a URL."""


def path_ids(field: str, ids: str | Sequence[str]) -> str:
    """Check ids and join them into one percent-encoded path segment, so no id can reach another path."""
    values = [ids] if isinstance(ids, str) else list(ids)
    if not values:
        raise InvalidArgumentError(field, "give at least one id.")
    for value in values:
        if not _ID.fullmatch(value) or ".." in value:
            raise InvalidArgumentError(field, f"{value[:80]!r} is not a Missive id (letters, digits, '-', '_').")
    return ",".join(quote(value, safe="") for value in values)


class MissiveClient:
    """The Missive REST API, with one `httpx2.AsyncClient` shared by every call."""

    def __init__(
        self,
        settings: Settings,
        *,
        transport: httpx2.AsyncBaseTransport | None = None,
        limiter: RateLimiter | Limits | None = None,
        max_attempts: int = 4,
        backoff: float | None = None,
        token_source: TokenSource | None = None,
    ) -> None:
        self.settings = settings
        # A RateLimiter given as such serves every token (the one-token server, tests); Limits give one per token.
        self.limits: Limits = LocalLimits(limiter) if isinstance(limiter, RateLimiter) else limiter or LocalLimits()
        self.max_attempts = max_attempts
        self.backoff = BACKOFF if backoff is None else backoff
        self._token = settings.api_token.get_secret_value() if settings.api_token else ""
        self._token_source = token_source or self._configured_token
        self._transport = transport
        self._closed = False

    # Both clients are made at their first request: building one loads the system's certificates (about 20 ms
    # each), which would otherwise delay the server's first answer to a client that has not called a tool yet.
    @cached_property
    def _http(self) -> httpx2.AsyncClient:
        self._open()
        # No Authorization here: each request carries the token of the person it is made for (_send).
        return httpx2.AsyncClient(
            base_url=self.settings.base_url.rstrip("/") + "/",
            transport=self._transport,
            timeout=httpx2.Timeout(self.settings.timeout, connect=min(10.0, self.settings.timeout)),
            # gzip only: its decompression is bounded below; other encodings could not be.
            headers={"User-Agent": f"missive-mcp/{__version__}", "Accept-Encoding": "gzip"},
            follow_redirects=False,
        )

    @cached_property
    def _files(self) -> httpx2.AsyncClient:
        self._open()
        # Attachments come from pre-signed URLs on a storage host: never send the API token there.
        return httpx2.AsyncClient(
            transport=self._transport,
            timeout=httpx2.Timeout(self.settings.timeout, connect=min(10.0, self.settings.timeout)),
            headers={"User-Agent": f"missive-mcp/{__version__}", "Accept-Encoding": "gzip"},
            follow_redirects=False,
        )

    async def _configured_token(self) -> str:
        return self._token

    async def caller(self) -> str:
        """Who the current call acts for, as a stable key that is not the token (for per-person caches)."""
        return hashlib.sha256((await self._token_source()).encode()).hexdigest()[:32]

    async def __aenter__(self) -> MissiveClient:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.aclose()

    def _open(self) -> None:
        if self._closed:  # as httpx2 says of a closed client: a late call must not open one nobody closes
            raise RuntimeError("Cannot send a request, as the client has been closed.")

    async def aclose(self) -> None:
        self._closed = True
        for made in ("_http", "_files"):
            if made in self.__dict__:  # never made: nothing to close
                await cast(httpx2.AsyncClient, self.__dict__[made]).aclose()

    # The chokepoint ------------------------------------------------------------------------------

    async def call(
        self,
        endpoint: Endpoint[A],
        *,
        ids: Sequence[str] = (),
        id_field: str = "id",
        params: Params | None = None,
        body: Any = None,
        context: Context | None = None,
    ) -> A:
        """Send one API call as its endpoint row says, and return its answer as the row reads it.

        `ids` fill the path's `{id}` (`id_field` names the argument they came from); `context` fills the row's
        `verify` sentence. An answer a write's row cannot read still says the write happened."""
        context = {"id": ids[0] if ids else "", **(context or {})}
        decoded = await self._exchange(endpoint, ids, id_field, params, body, context)
        try:
            return endpoint.answer.read(decoded)
        except DecodingError as unreadable:
            if endpoint.retry is Retry.UNSAFE:
                raise accepted_but_unreadable(endpoint, str(unreadable), context) from None
            raise

    async def _exchange(
        self,
        endpoint: Endpoint[Any],
        ids: Sequence[str],
        id_field: str,
        params: Params | None,
        body: Any,
        context: Context,
    ) -> Any:
        """The request, its retries and its failures; the decoded body (None when empty)."""
        token = await self._token_source()
        if not token:
            raise ConfigurationError(f"No Missive API token is configured. {TOKEN_HELP}")
        limiter = self.limits.limiter_for(token)
        hidden = hideable(token)  # too short to be a real token: hiding it would garble results
        path = endpoint.path.format(id=path_ids(id_field, ids)) if "{id}" in endpoint.path else endpoint.path
        if body is not None and (problems := endpoint.problems(body)):
            raise InvalidArgumentError(problems[0].split("`")[1], "; ".join(problems) + ". Nothing was sent.")
        query = {k: _query_value(k, v) for k, v in (params or {}).items() if v is not None}
        payload = body if endpoint.envelope is None or body is None else {endpoint.envelope: body}
        content = None if payload is None else encode_body(payload)
        unsafe = endpoint.retry is Retry.UNSAFE
        attempt = timeouts = 0
        unanswered = False  # an earlier attempt got no answer at all: it may have taken effect
        failed_status: int | None = None
        while True:
            attempt += 1
            try:
                response, data = await self._send(endpoint, path, query, content, token, limiter)
            except DeadlineError as late:
                failure: MissiveError = late
                sent = late.waiting_for == "answer"
            except (TimeoutError, httpx2.TimeoutException):
                timeouts += 1
                failure = APITimeoutError(
                    f"Missive did not answer within {self.settings.timeout:g} s ({endpoint.method} /{path})"
                    + (", twice." if timeouts > 1 else ".")
                )
                sent = True
            except httpx2.TransportError as exc:
                sent = not isinstance(exc, httpx2.ConnectError | httpx2.UnsupportedProtocol)
                failure = APIConnectionError(
                    f"Could not reach Missive at {self.settings.base_url} ({type(exc).__name__}). "
                    "Check the network or MISSIVE_API_BASE_URL."
                )
            except TransportError as unreadable:  # an answer too large to take in
                failure, sent = unreadable, True
            else:
                if _accepted(response.status_code):
                    learn(token)  # Missive took it as a token: a secret from now on, in every log line
                if response.is_success:
                    return self._decoded(endpoint, response, data, context, hidden)
                failure = self._status_error(endpoint, response, data, ids, hidden)
                if isinstance(failure, NotFoundError) and endpoint.method == "DELETE" and attempt > 1:
                    if unanswered:
                        return GONE_UNCONFIRMED  # likely an earlier attempt deleted it; its answer was lost
                    failure = NotFoundError(
                        f"{failure} (An earlier attempt failed with HTTP {failed_status}; nothing says it "
                        "deleted anything.)",
                        status=404,
                    )
                sent = not isinstance(failure, RateLimitError | AuthenticationError | ForbiddenError)
                if isinstance(failure, ServerError):
                    failed_status = failure.status
            no_answer = isinstance(failure, APITimeoutError | APIConnectionError | DeadlineError) and sent
            unanswered = unanswered or no_answer
            if unsafe:
                if sent and isinstance(failure, ServerError | TransportError | DeadlineError):
                    raise outcome_unknown(endpoint, failure, context) from None
                raise failure
            delay = self._retry_delay(failure, attempt, timeouts, limiter)
            if delay is None or isinstance(failure, DeadlineError):
                raise with_advice(failure)
            left = remaining()
            if left is not None and delay >= left:
                raise with_advice(failure)  # no time left in this call's deadline to wait and retry
            logger.info(
                "%s /%s failed (%s); retry %d in %.1f s", endpoint.method, path, type(failure).__name__, attempt, delay
            )
            await anyio.sleep(delay)

    async def _send(
        self,
        endpoint: Endpoint[Any],
        path: str,
        query: dict[str, str],
        content: bytes | None,
        token: str,
        limiter: TokenLimiter,
    ) -> tuple[httpx2.Response, bytes]:
        """One attempt: a place under the limits, the request, and its body read within MAX_RESPONSE_BYTES."""
        headers = {"Authorization": f"Bearer {token}"}
        if content is not None:
            headers["Content-Type"] = "application/json"
        where = f"{endpoint.method} /{path}"
        async with self._turn(where, limiter):
            started = time.perf_counter()
            # httpx's own timeouts do not bound every transport (an in-process one never times out).
            limit = within(self.settings.timeout)
            try:
                with anyio.fail_after(limit):
                    request = self._http.build_request(
                        endpoint.method, path, params=query, content=content, headers=headers
                    )
                    response = await self._http.send(request, stream=True)
                    try:
                        data = await _read_bounded(response)
                    finally:
                        await response.aclose()
            except TimeoutError:
                if limit >= self.settings.timeout:
                    raise
                raise DeadlineError(
                    f"This call used up its {budget():g} s deadline waiting for Missive's answer ({where}).",
                    waiting_for="answer",
                ) from None
            logger.debug("%s -> %d in %.0f ms", where, response.status_code, (time.perf_counter() - started) * 1e3)
            if response.status_code == 429:
                await limiter.pause(_retry_after(response))
            return response, data

    @asynccontextmanager
    async def _turn(self, where: str, limiter: TokenLimiter) -> AsyncIterator[None]:
        """One of the limiter's places, waited for no longer than the call's deadline allows."""
        slot = limiter.slot(max_wait=within(limiter.max_wait))
        try:
            with anyio.fail_after(remaining()):
                await slot.__aenter__()
        except TimeoutError:
            raise DeadlineError(
                f"This call used up its {budget():g} s deadline waiting its turn under Missive's rate limits "
                f"({where}); nothing was sent. Try again in a minute.",
                waiting_for="turn",
            ) from None
        try:
            yield
        finally:
            await slot.__aexit__(None, None, None)

    def _decoded(
        self, endpoint: Endpoint[Any], response: httpx2.Response, data: bytes, context: Context, token: str
    ) -> Any:
        """The answer as the agent may see it; `token` is this call's (the person's own, in oauth mode)."""
        try:
            return _decode(response, data, token)
        except DecodingError as unreadable:
            if endpoint.retry is Retry.UNSAFE:
                raise accepted_but_unreadable(endpoint, str(unreadable), context) from None
            raise DecodingError(f"{unreadable} Try again; if it persists, report it.") from None

    def _retry_delay(self, failure: MissiveError, attempt: int, timeouts: int, limiter: TokenLimiter) -> float | None:
        # A hung upstream is retried once, not max_attempts times: the call ends after two timeouts.
        if attempt >= self.max_attempts or timeouts > 1:
            return None
        if isinstance(failure, RateLimitError):
            return failure.retry_after if failure.retry_after <= limiter.max_wait else None
        if isinstance(failure, ServerError | APITimeoutError | APIConnectionError):
            return min(8.0, self.backoff * 2 ** (attempt - 1)) * random.uniform(0.5, 1.0)
        return None

    def _status_error(
        self, endpoint: Endpoint[Any], response: httpx2.Response, data: bytes, ids: Sequence[str], token: str
    ) -> APIError:
        status = response.status_code
        html = _is_html(response, data)
        return status_error(
            endpoint,
            status,
            None if html else _error_message(data, token),
            ids=ids,
            retry_after=_retry_after(response) if status == 429 else 0.0,
            location=_scrub(_safe_location(response.headers.get("Location")), token),
            gateway=html or (status in (502, 503, 504) and _error_message(data) is None),
        )

    # Paging ----------------------------------------------------------------------------------------

    async def page_conversations(
        self, params: Params, wanted: int, until: int | None = None, *, least: int = 2
    ) -> tuple[list[Conversation], int | None]:
        """The `wanted` newest conversations at or before `until`, and the `until` that resumes right after them
        (None at the end), in as few requests as Missive's page size allows; no page is asked smaller than `least`.

        Missive's rules (shared/missive-api-notes.md): `until` includes its boundary, and a full page runs on
        through every conversation sharing its last timestamp. So after a full page nothing is left at its oldest
        timestamp, and the next page starts one second older. Each page asks for one more than still wanted: the
        one past the edge shows whether a run of tied timestamps crosses it. Only such a run is held back (its
        timestamp becomes the cursor, so it comes back whole); a run that fills the whole answer is served whole.
        """
        found: list[Conversation] = []
        seen: set[str] = set()
        cursor, more = until, True
        while more and len(found) < wanted:
            asked = min(CONVERSATION_PAGE, max(least, wanted + 1 - len(found)))
            page = await self.call(ep.list_conversations, params={**params, "limit": asked, "until": cursor})
            found += [c for c in page if c.id not in seen]
            seen.update(c.id for c in page)
            oldest = page[-1].last_activity_at if page else None
            more = len(page) >= asked and bool(oldest)
            cursor = oldest - 1 if more and oldest else None
        if len(found) <= wanted:
            return found, cursor
        edge = _stamp(found[wanted - 1])
        if _stamp(found[wanted]) != edge:
            return found[:wanted], _stamp(found[wanted])
        kept = [c for c in found[:wanted] if _stamp(c) != edge]
        if kept:
            return kept, edge
        run = [c for c in found if _stamp(c) == edge]
        return run, _stamp(found[len(run)]) if len(found) > len(run) else cursor

    # Messages by Message-ID, attachments ---------------------------------------------------------

    async def find_messages(self, email_message_id: str) -> list[Message]:
        """Messages by their Message-ID header; none rather than an error when Missive answers 404."""
        try:
            return await self.call(ep.find_messages, params={"email_message_id": email_message_id})
        except NotFoundError:
            return []  # unverified: Missive may answer 404 rather than an empty list

    async def download(self, url: str, *, max_bytes: int) -> bytes | None:
        """An attachment's bytes from its pre-signed URL, at most `max_bytes`; None when the link has expired or
        was refused (403), so the caller can read the message again for a fresh one."""
        parts = urlsplit(url)
        https_only = self.settings.base_url.startswith("https://")
        if parts.scheme not in (("https",) if https_only else ("https", "http")) or not parts.netloc:
            raise DecodingError(f"Missive gave an attachment link this server will not follow ({parts.scheme}://).")
        try:
            with anyio.fail_after(within(self.settings.timeout)):
                request = self._files.build_request("GET", url)
                response = await self._files.send(request, stream=True)
                try:
                    if response.status_code == 403:
                        return None
                    if not response.is_success:
                        raise status_error(ep.download_attachment, response.status_code, None)
                    return await _read_bounded(response, max_bytes)
                finally:
                    await response.aclose()
        except TimeoutError:
            raise APITimeoutError("The attachment's download did not finish in time. Try again.") from None
        except httpx2.TransportError as exc:
            raise APIConnectionError(f"Could not download the attachment ({type(exc).__name__}). Try again.") from None


# Reading answers --------------------------------------------------------------------------------


def _accepted(status: int) -> bool:
    """Whether an answer shows Missive took the token as valid: a success, or a refusal that is not about it."""
    return 200 <= status < 300 or (400 <= status < 500 and status not in (401, 429))


def _scrub(text: str | None, token: str) -> str | None:
    return text.replace(token, "[redacted]") if text and token else text


def _query_value(name: str, value: str | int | bool) -> str:
    text = ("true" if value else "false") if isinstance(value, bool) else str(value)
    if len(text) > MAX_QUERY_VALUE:
        raise InvalidArgumentError(name, f"is {len(text)} characters; at most {MAX_QUERY_VALUE} fit in a request.")
    return text


async def _read_bounded(response: httpx2.Response, limit: int = MAX_RESPONSE_BYTES) -> bytes:
    """The body, decompressed, refusing to hold more than `limit` bytes (a gzip bomb included)."""
    gzip = response.headers.get("Content-Encoding", "").strip().lower() in ("gzip", "x-gzip")
    inflate = zlib.decompressobj(16 + zlib.MAX_WBITS) if gzip else None
    parts: list[bytes] = []
    size = 0
    async for chunk in response.aiter_raw():
        while chunk:
            if inflate is None:
                piece, chunk = chunk, b""
            else:
                piece = inflate.decompress(chunk, limit + 1 - size)
                chunk = inflate.unconsumed_tail
            size += len(piece)
            if size > limit:
                raise DecodingError(
                    f"Missive's answer was larger than {limit / 2**20:.3g} MiB, more than this server takes in; "
                    "ask for less (a smaller limit, fewer ids)."
                )
            parts.append(piece)
            if inflate is not None and not piece:
                break
    return b"".join(parts)


def _decode(response: httpx2.Response, data: bytes, secret: str = "") -> Any:
    """A success answer as the agent may see it: invisible characters gone, and the token nowhere in it."""
    if not data.strip():
        return None
    try:
        decoded = json.loads(data)
    except ValueError:
        raise DecodingError(f"Missive answered HTTP {response.status_code} with a body that is not JSON.") from None
    # Everything Missive relays was written by someone else (subjects, names, previews, bodies): no character
    # a person cannot see reaches the agent, in any field, concise or detailed. Then the token: an upstream
    # that echoes it (in a message body, a preview, any field) must not hand it to the agent; it is replaced
    # after the invisible characters go, so none of them can split it past this.
    return redact_tree(sanitize_tree(decoded), secret)


def redact_tree(value: Any, secret: str) -> Any:
    """`value` with `secret` replaced by "[redacted]" in every string of it, keys included."""
    if not secret:
        return value
    if isinstance(value, str):
        return value.replace(secret, "[redacted]")
    if isinstance(value, list):
        return [redact_tree(item, secret) for item in value]  # pyright: ignore[reportUnknownVariableType]
    if isinstance(value, dict):
        return {redact_tree(k, secret): redact_tree(v, secret) for k, v in value.items()}  # pyright: ignore[reportUnknownVariableType]
    return value


def encode_body(body: Any) -> bytes:
    """A request body as it goes on the wire (UTF-8 JSON); also what the 10 MB bound is checked against."""
    return json.dumps(body, ensure_ascii=False).encode()


def _is_html(response: httpx2.Response, data: bytes) -> bool:
    kind = response.headers.get("Content-Type", "").lower()
    return "html" in kind or data.lstrip()[:1] == b"<"


def _error_message(data: bytes, token: str = "") -> str | None:
    """The API's reason, from `{"error": "text"}`, `{"error": {"message": ...}}`, `{"message": ...}` or text;
    the token is taken out before the reason is cut, so no part of it can survive the cut."""
    text = (_scrub(data.decode("utf-8", "replace"), token) or "").strip()
    if not text:
        return None
    try:
        decoded: Any = json.loads(text)
    except ValueError:
        return " ".join(text[:500].split())
    candidates: list[Any] = [decoded]
    if isinstance(decoded, dict):
        candidates = [cast(dict[str, Any], decoded).get("error"), decoded]
    for candidate in candidates:
        if isinstance(candidate, str):
            return " ".join(candidate[:500].split())
        message: Any = cast(dict[str, Any], candidate).get("message") if isinstance(candidate, dict) else None
        if isinstance(message, str):
            return " ".join(message[:500].split())
    return " ".join(text[:500].split())


def _safe_location(location: str | None) -> str | None:
    """Where a redirect pointed, without its query (which could carry anything)."""
    if not location:
        return None
    parts = urlsplit(location)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"[:200] if parts.netloc else parts.path[:200]


def _retry_after(response: httpx2.Response) -> float:
    """The pause Missive asks for, capped at MAX_RETRY_AFTER seconds. Only what RFC 9110 allows counts (whole
    seconds, or an HTTP date); anything else (inf, 1e9, nan, negative, words) falls back to FALLBACK_RETRY_AFTER and
    the limiter's own windows, so an absurd header cannot lock every caller out for the cap."""
    raw = response.headers.get("Retry-After", "").strip()
    if raw.isascii() and raw.isdigit():
        seconds = float(raw)
    elif raw:
        try:
            seconds = parsedate_to_datetime(raw).timestamp() - time.time()
        except (TypeError, ValueError, IndexError, OverflowError):
            seconds = FALLBACK_RETRY_AFTER
    else:  # no Retry-After: the window's reset (epoch seconds), if Missive sent one
        reset = response.headers.get("X-RateLimit-Reset", "").strip()
        seconds = float(reset) - time.time() if reset.isascii() and reset.isdigit() else FALLBACK_RETRY_AFTER
    if seconds < 0:  # a date or reset already past
        seconds = FALLBACK_RETRY_AFTER
    return min(seconds, MAX_RETRY_AFTER)


CONVERSATION_PAGE = 50
"""Missive's largest page of conversations."""


def _stamp(conversation: Conversation) -> int:
    return conversation.last_activity_at or 0
