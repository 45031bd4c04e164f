"""MissiveClient: one shared HTTP client and one request chokepoint for the Missive REST API.

Every call goes through `MissiveClient.request`, which adds auth, keeps the rate limits, retries what is
safe to retry, and turns every failure into an error from `errors.py`. The endpoint methods below it only
wrap request bodies in the live envelopes and unwrap the answers.
"""

from __future__ import annotations

import json
import logging
import random
import re
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar
from urllib.parse import quote

import anyio
import httpx2
from pydantic import BaseModel, TypeAdapter, ValidationError

from . import __version__
from .errors import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConfigurationError,
    ForbiddenError,
    InvalidArgumentError,
    MissiveError,
    NotFoundError,
    RateLimitError,
    ServerError,
    WriteOutcomeUnknownError,
)
from .limits import Limits, LocalLimits, RateLimiter, TokenLimiter
from .models import (
    AnalyticsReport,
    Contact,
    ContactBook,
    ContactGroup,
    Conversation,
    Message,
    Organization,
    SharedLabel,
    Team,
    User,
)
from .settings import TOKEN_HELP, Settings
from .text import sanitize_tree

logger = logging.getLogger(__name__)

M = TypeVar("M", bound=BaseModel)
TokenSource = Callable[[], Awaitable[str]]
"""The Missive token of the current call: the configured one, or (team server) the signed-in person's."""
Params = Mapping[str, str | int | bool | None]

ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$"
_ID = re.compile(ID_PATTERN)
_IDEMPOTENT = frozenset({"GET", "PATCH", "DELETE", "HEAD"})
BACKOFF = 0.5
"""Seconds before the first retry; doubled for each next one, capped at 8, with jitter."""

# Missive's own 400/422 messages, with the next step an agent should take.
_NEXT_STEPS = {
    "paginate at least one mailbox": "Pass one mailbox filter, e.g. inbox=true, all=true, closed=true, "
    "or team_inbox/shared_label with an id from list_teams/list_shared_labels.",
    "'organization' is required": "Pass `organization` (an id from list_organizations).",
    "'organization' must be a UUID": "Pass an organization id from list_organizations, not its name.",
    "does not match an available sender": "Use an address the token's owner can send from "
    "(the from_field of a message the team sent, in list_conversation_messages).",
    "Invalid resource ID(s)": "Check the ids with the list tool that returns them.",
}


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
        # No Authorization here: each request carries the token of the person it is made for.
        self._http = httpx2.AsyncClient(
            base_url=settings.base_url.rstrip("/") + "/",
            transport=transport,
            timeout=httpx2.Timeout(settings.timeout, connect=min(10.0, settings.timeout)),
            headers={"User-Agent": f"missive-mcp/{__version__}"},
            follow_redirects=False,
        )

    async def _configured_token(self) -> str:
        return self._token

    async def __aenter__(self) -> MissiveClient:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    # The chokepoint ------------------------------------------------------------------------------

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Params | None = None,
        body: Any = None,
        what: str = "The requested object",
        check: str = "",
    ) -> Any:
        """Send one API call and return its decoded body (None when empty).

        `what` names the object for a 404; `check` tells how to verify a write whose outcome is unknown.
        """
        token = await self._token_source()
        if not token:
            raise ConfigurationError(f"No Missive API token is configured. {TOKEN_HELP}")
        limiter = self.limits.limiter_for(token)
        query = {k: _query_value(v) for k, v in (params or {}).items() if v is not None}
        content = None if body is None else encode_body(body)
        idempotent = method in _IDEMPOTENT
        attempt = timeouts = 0
        maybe_done = False  # whether an earlier attempt may have taken effect
        while True:
            attempt += 1
            try:
                response = await self._send(method, path, query, content, token, limiter)
            except (TimeoutError, httpx2.TimeoutException):
                timeouts += 1
                failure: MissiveError = APITimeoutError(
                    f"Missive did not answer within {self.settings.timeout:g} s ({method} /{path})"
                    + (", twice." if timeouts > 1 else ".")
                )
                sent = True
            except httpx2.TransportError as exc:
                sent = not isinstance(exc, httpx2.ConnectError)
                failure = APIConnectionError(
                    f"Could not reach Missive at {self.settings.base_url} ({type(exc).__name__}). "
                    "Check the network or MISSIVE_API_BASE_URL."
                )
            else:
                if response.is_success:
                    if not idempotent:
                        with _written(check):
                            return _decode(response)
                    try:
                        return _decode(response)
                    except APIError as unreadable:
                        raise APIError(f"{unreadable} Try again.", status=unreadable.status) from None
                failure = self._status_error(response, what, token)
                if isinstance(failure, NotFoundError) and method == "DELETE" and maybe_done:
                    return None  # the earlier attempt deleted it; its answer was lost on the way
                sent = not isinstance(failure, RateLimitError | AuthenticationError | ForbiddenError)
            ambiguous = sent and isinstance(failure, APITimeoutError | APIConnectionError | ServerError)
            maybe_done = maybe_done or ambiguous
            if not idempotent:
                if ambiguous:
                    raise WriteOutcomeUnknownError(
                        f"{failure} The write may or may not have happened: Missive has no idempotency key, "
                        f"so do not simply repeat it. {check or 'Check the result with the matching list tool'} "
                        "before trying again."
                    ) from None
                raise failure
            delay = self._retry_delay(failure, attempt, timeouts, limiter)
            if delay is None:
                raise failure
            logger.info("%s /%s failed (%s); retry %d in %.1f s", method, path, type(failure).__name__, attempt, delay)
            await anyio.sleep(delay)

    async def _send(
        self, method: str, path: str, query: dict[str, str], content: bytes | None, token: str, limiter: TokenLimiter
    ) -> httpx2.Response:
        headers = {"Authorization": f"Bearer {token}"}
        if content is not None:
            headers["Content-Type"] = "application/json"
        async with limiter.slot():
            started = time.perf_counter()
            # httpx's own timeouts do not bound every transport (an in-process one never times out).
            with anyio.fail_after(self.settings.timeout):
                response = await self._http.request(method, path, params=query, content=content, headers=headers)
        logger.debug(
            "%s /%s -> %d in %.0f ms", method, path, response.status_code, (time.perf_counter() - started) * 1e3
        )
        if response.status_code == 429:
            await limiter.pause(_retry_after(response))
        return response

    def _retry_delay(self, failure: MissiveError, attempt: int, timeouts: int, limiter: TokenLimiter) -> float | None:
        # A hung upstream is retried once, not max_attempts times: the call ends after two timeouts.
        if attempt >= self.max_attempts or timeouts > 1:
            return None
        if isinstance(failure, RateLimitError):
            return failure.retry_after if failure.retry_after <= limiter.max_wait else None
        if isinstance(failure, ServerError | APITimeoutError | APIConnectionError):
            return min(8.0, self.backoff * 2 ** (attempt - 1)) * random.uniform(0.5, 1.0)
        return None

    def _status_error(self, response: httpx2.Response, what: str, token: str) -> APIError:
        status = response.status_code
        api_message = _scrub(_error_message(response), token)
        said = f" Missive said: {api_message}" if api_message else ""
        if status == 401:
            return AuthenticationError(
                f"Missive rejected the API token (invalid or revoked).{said} {TOKEN_HELP}", status=status
            )
        if status == 403:
            return ForbiddenError(
                f"The token's owner is not allowed to do this.{said} Check their role in the organization, and "
                "that its plan includes API access (Productive plan; analytics filters need Business).",
                status=status,
                api_message=api_message,
            )
        if status == 404:
            find = next((hint for kind, hint in _WHERE_IDS_COME_FROM if what.startswith(kind)), "")
            return NotFoundError(
                f"{what} was not found, or the token's owner cannot see it. {find}".strip(),
                status=status,
                api_message=api_message,
            )
        if status == 429:
            wait = _retry_after(response)
            return RateLimitError(
                f"Missive's rate limit was reached (per token: 5 requests at once, 300 a minute, 900 per 15 "
                f"minutes). Try again in {wait:.0f} s.",
                api_message=api_message,
                retry_after=wait,
            )
        if status >= 500:
            return ServerError(
                f"Missive failed on its side (HTTP {status}).{said} Try again in a moment.",
                status=status,
                api_message=api_message,
            )
        step = next((hint for key, hint in _NEXT_STEPS.items() if key in (api_message or "")), "")
        return BadRequestError(
            f"Missive refused the request (HTTP {status}): {api_message or 'no reason given'}. {step}".rstrip(),
            status=status,
            api_message=api_message,
        )

    # Conversations -------------------------------------------------------------------------------

    async def list_conversations(self, params: Params) -> list[Conversation]:
        body = await self.request("GET", "conversations", params=params)
        return _many(body, "conversations", Conversation)

    async def get_conversation(self, conversation_id: str) -> Conversation:
        path = f"conversations/{path_ids('conversation_id', conversation_id)}"
        body = await self.request("GET", path, what=f"Conversation {conversation_id!r}")
        return _one(body, "conversations", Conversation)

    async def update_conversations(
        self, conversation_ids: Sequence[str], changes: dict[str, Any]
    ) -> list[Conversation]:
        path = f"conversations/{path_ids('conversation_ids', conversation_ids)}"
        items = [{"id": cid, **changes} for cid in conversation_ids]
        body = await self.request(
            "PATCH", path, body={"conversations": items}, what=f"Conversation(s) {', '.join(conversation_ids)}"
        )
        return _many(body, "conversations", Conversation)

    async def merge_conversations(self, conversation_id: str, target: str, subject: str | None) -> Conversation | None:
        path = f"conversations/{path_ids('conversation_id', conversation_id)}/merge"
        path_ids("target", target)
        payload = {"target": target} | ({"subject": subject} if subject is not None else {})
        check = f"Call get_conversation with {conversation_id!r}: after a merge it answers the target conversation"
        body = await self.request(
            "POST",
            path,
            body=payload,
            what=f"Conversation {conversation_id!r} or target {target!r}",
            check=check,
        )
        with _written(check):
            found = _many(body, "conversations", Conversation)
        return found[0] if found else None

    async def list_conversation_items(
        self, conversation_id: str, kind: str, limit: int, until: int | None
    ) -> list[dict[str, Any]]:
        """Messages, comments, drafts or posts of one conversation, newest first, as raw objects."""
        path = f"conversations/{path_ids('conversation_id', conversation_id)}/{kind}"
        body = await self.request(
            "GET", path, params={"limit": limit, "until": until}, what=f"Conversation {conversation_id!r}"
        )
        return _many(body, kind, dict[str, Any])

    # Messages, drafts, posts ---------------------------------------------------------------------

    async def get_messages(self, message_ids: Sequence[str]) -> list[Message]:
        path = f"messages/{path_ids('message_ids', message_ids)}"
        body = await self.request("GET", path, what=f"Message(s) {', '.join(message_ids)}")
        return _many(body, "messages", Message)

    async def create_draft(self, draft: dict[str, Any], *, check: str) -> Message | None:
        body = await self.request("POST", "drafts", body={"drafts": draft}, check=check)
        with _written(check):
            found = _many(body, "drafts", Message)
        return found[0] if found else None

    async def delete_draft(self, draft_id: str) -> None:
        path = f"drafts/{path_ids('draft_id', draft_id)}"
        await self.request("DELETE", path, what=f"Draft {draft_id!r}")

    async def create_message(self, message: dict[str, Any], *, check: str) -> Message | None:
        body = await self.request("POST", "messages", body={"messages": message}, check=check)
        with _written(check):
            found = _many(body, "messages", Message)
        return found[0] if found else None

    # Contacts ------------------------------------------------------------------------------------

    async def list_contacts(self, params: Params) -> list[Contact]:
        body = await self.request("GET", "contacts", params=params, what=f"Contact book {params.get('contact_book')!r}")
        return _many(body, "contacts", Contact)

    async def get_contact(self, contact_id: str) -> Contact:
        path = f"contacts/{path_ids('contact_id', contact_id)}"
        body = await self.request("GET", path, what=f"Contact {contact_id!r}")
        return _one(body, "contacts", Contact)

    async def create_contacts(self, contacts: list[dict[str, Any]], *, check: str) -> list[Contact]:
        body = await self.request("POST", "contacts", body={"contacts": contacts}, check=check)
        with _written(check):
            return _many(body, "contacts", Contact)

    async def update_contacts(self, contact_ids: Sequence[str], changes: dict[str, Any]) -> list[Contact]:
        path = f"contacts/{path_ids('contact_ids', contact_ids)}"
        items = [{"id": cid, **changes} for cid in contact_ids]
        body = await self.request("PATCH", path, body={"contacts": items}, what=f"Contact(s) {', '.join(contact_ids)}")
        return _many(body, "contacts", Contact)

    async def list_contact_books(self, params: Params) -> list[ContactBook]:
        return _many(await self.request("GET", "contact_books", params=params), "contact_books", ContactBook)

    async def list_contact_groups(self, params: Params) -> list[ContactGroup]:
        body = await self.request(
            "GET", "contact_groups", params=params, what=f"Contact book {params.get('contact_book')!r}"
        )
        return _many(body, "contact_groups", ContactGroup)

    # Organization directory ----------------------------------------------------------------------

    async def list_organizations(self, params: Params) -> list[Organization]:
        return _many(await self.request("GET", "organizations", params=params), "organizations", Organization)

    async def list_users(self, params: Params) -> list[User]:
        return _many(await self.request("GET", "users", params=params), "users", User)

    async def list_teams(self, params: Params) -> list[Team]:
        return _many(await self.request("GET", "teams", params=params), "teams", Team)

    async def list_shared_labels(self, params: Params) -> list[SharedLabel]:
        return _many(await self.request("GET", "shared_labels", params=params), "shared_labels", SharedLabel)

    # Analytics -----------------------------------------------------------------------------------

    async def create_analytics_report(self, report: dict[str, Any]) -> str:
        body = await self.request(
            "POST", "analytics/reports", body={"reports": report}, check="Reports are cheap: create another"
        )
        created = _unwrap(body, "reports")
        report_id = created.get("id") if isinstance(created, dict) else None
        if not isinstance(report_id, str):
            raise APIError("Missive created the report but sent no report id; create it again.", status=200)
        return report_id

    async def get_analytics_report(self, report_id: str) -> AnalyticsReport:
        """The finished report; NotFoundError while it is pending, expired or unknown."""
        path = f"analytics/reports/{path_ids('report_id', report_id)}"
        body = await self.request("GET", path, what=f"Analytics report {report_id!r}")
        return _one(body, "reports", AnalyticsReport)


# Decoding ---------------------------------------------------------------------------------------


_WHERE_IDS_COME_FROM = (
    ("Conversation", "Conversation ids come from list_conversations (a merged id answers its target)."),
    ("Message", "Message ids come from read_conversation or list_conversation_messages."),
    ("Draft", "Draft ids come from list_conversation_drafts; a sent or deleted draft is gone."),
    ("Contact book", "Contact book ids come from list_contact_books."),
    ("Contact", "Contact ids come from list_contacts."),
    ("Analytics report", "Report ids come from create_analytics_report; a report expires 60 s after it finishes."),
)
"""For a 404: where the ids of each kind of object come from (matched on the start of `what`)."""


def _scrub(text: str | None, token: str) -> str | None:
    return text.replace(token, "[redacted]") if text and token else text


def _query_value(value: str | int | bool) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


def _decode(response: httpx2.Response) -> Any:
    if not response.content.strip():
        return None
    try:
        data = response.json()
    except ValueError:
        raise APIError(
            f"Missive answered HTTP {response.status_code} with a body that is not JSON.", status=response.status_code
        ) from None
    # Everything Missive relays was written by someone else (subjects, names, previews, bodies): no character
    # a person cannot see reaches the agent, in any field, concise or detailed.
    return sanitize_tree(data)


def encode_body(body: Any) -> bytes:
    """A request body as it goes on the wire (UTF-8 JSON); also what the 10 MB bound is checked against."""
    return json.dumps(body, ensure_ascii=False).encode()


@contextmanager
def _written(check: str) -> Iterator[None]:
    """Reading the answer to a POST Missive accepted (2xx): it happened, so an answer we cannot read must
    not invite a repeat."""
    try:
        yield
    except APIError as failure:
        raise APIError(
            f"{failure} Missive accepted the write, so it happened: do not repeat it (that would do it twice). "
            f"{check or 'Check the result with the matching list tool'}.",
            status=failure.status,
        ) from None


def _error_message(response: httpx2.Response) -> str | None:
    """The API's reason, from `{"error": "text"}`, `{"error": {"message": ...}}`, `{"message": ...}` or text."""
    text = response.text.strip()
    if not text:
        return None
    try:
        data = response.json()
    except ValueError:
        return text[:500]
    for candidate in (data.get("error"), data) if isinstance(data, dict) else (data,):
        if isinstance(candidate, str):
            return candidate[:500]
        if isinstance(candidate, dict) and isinstance(candidate.get("message"), str):
            return candidate["message"][:500]
    return text[:500]


def _retry_after(response: httpx2.Response) -> float:
    try:
        return max(0.0, float(response.headers.get("Retry-After", "")))
    except ValueError:
        reset = response.headers.get("X-RateLimit-Reset", "")
        return max(1.0, float(reset) - time.time()) if reset.isdigit() else 1.0


def _unwrap(body: Any, key: str) -> Any:
    if body is None:
        return None
    if isinstance(body, dict) and key in body:
        return body[key]  # pyright: ignore[reportUnknownVariableType]
    raise APIError(f"Missive answered without the expected {key!r} envelope.", status=200)


_adapters: dict[Any, TypeAdapter[Any]] = {}


def _many(body: Any, key: str, model: type[M] | Any) -> list[Any]:
    """The objects under `key`, which may be a list, one object or absent (an empty write answer)."""
    value = _unwrap(body, key)
    items = [] if value is None else value if isinstance(value, list) else [value]
    adapter = _adapters.get(model) or _adapters.setdefault(model, TypeAdapter(list[model]))
    try:
        return adapter.validate_python(items)
    except ValidationError as exc:
        raise APIError(
            f"Missive sent {key} this server could not read ({exc.error_count()} problem(s)); "
            "please report it to the missive-mcp maintainers.",
            status=200,
        ) from None


def _one(body: Any, key: str, model: type[M]) -> M:
    """A "get one" answer: an object or a one-item list (a merged id resolves to the surviving object)."""
    found = _many(body, key, model)
    if not found:
        raise NotFoundError(f"Missive answered an empty {key} list.", status=200)
    return found[0]
