"""Every failure an agent can meet, as one tree of sentences it can act on.

    MissiveError (ToolError)            str() is one true sentence: what went wrong, then what to do
    ├── ConfigurationError               the server is not set up to make this call (no token)
    ├── PermissionDeniedError            an operator setting forbids it (sending, read-only, recipient domain)
    ├── InvalidArgumentError             we refused an argument before anything was sent (.field)
    ├── DeadlineError                    the call's deadline ran out before Missive's answer (.waiting_for)
    ├── WriteOutcomeUnknownError         a write was sent and its answer was lost: it may have happened
    ├── APIError                         Missive answered with an error status (.status, .api_message)
    │   ├── ClientError                  4xx: the request was refused; repeating it unchanged will not help
    │   │   ├── BadRequestError          400: the API's own message
    │   │   ├── AuthenticationError      401: token invalid or revoked
    │   │   ├── ForbiddenError           403: the token's owner lacks the rights or the plan
    │   │   ├── NotFoundError            404: names what was not found and where its ids come from
    │   │   ├── ConflictError            409: the object changed or already exists
    │   │   ├── PayloadTooLargeError     413: the request is over Missive's 10 MB
    │   │   ├── UnprocessableError       422: the API's own message
    │   │   └── RateLimitError           429: says when to try again (.retry_after)
    │   ├── RedirectError                3xx: Missive (or a proxy) pointed elsewhere; not followed
    │   └── ServerError                  5xx
    │       └── GatewayError             502/503/504 or an HTML error page from something in front of Missive
    └── TransportError                   no usable answer from Missive
        ├── APITimeoutError              connect or read timed out
        ├── APIConnectionError           could not connect, or the connection dropped
        └── DecodingError                a success answer that could not be read

Subclassing the SDK's ToolError is what lets the sentence reach the agent: any other exception
is reported as a bare "Error executing tool X". The sentences for Missive's answers are composed
here, from the endpoint row (`endpoints.py`) of the call that failed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from mcp.server.mcpserver.exceptions import ToolError

from .calls import mark_outcome_unknown
from .facts import LIMITS, TOKEN_HELP

if TYPE_CHECKING:
    from .endpoints import Endpoint


class MissiveError(ToolError):
    """Base of every error this server raises for an agent to read."""


class ConfigurationError(MissiveError):
    """The server lacks a setting it needs for this call."""


class PermissionDeniedError(MissiveError):
    """An operator setting forbids this call."""


class InvalidArgumentError(MissiveError):
    """An argument was refused before any request was sent."""

    def __init__(self, field: str, problem: str) -> None:
        self.field = field
        # No field: the problem is with the arguments together (none given of a required group), not one of them.
        super().__init__(f"Invalid `{field}`: {problem}" if field else f"Invalid arguments: {problem}")


class DeadlineError(MissiveError):
    """The call's deadline ran out first."""

    def __init__(self, message: str, *, waiting_for: str) -> None:
        self.waiting_for = waiting_for
        super().__init__(message)


class WriteOutcomeUnknownError(MissiveError):
    """A non-idempotent write was sent but its outcome could not be read."""


class APIError(MissiveError):
    """Missive answered with an error status."""

    def __init__(self, message: str, *, status: int, api_message: str | None = None) -> None:
        self.status = status
        self.api_message = api_message
        super().__init__(message)


class ClientError(APIError):
    """Missive refused the request (4xx)."""


class BadRequestError(ClientError):
    """Missive refused the request's content (400)."""


class AuthenticationError(ClientError):
    """The token is missing, invalid or revoked (401)."""


class ForbiddenError(ClientError):
    """The token's owner may not do this (403)."""


class NotFoundError(ClientError):
    """The resource does not exist or the token's owner cannot see it (404)."""


class ConflictError(ClientError):
    """The object changed meanwhile or already exists (409)."""


class PayloadTooLargeError(ClientError):
    """The request body is over Missive's limit (413)."""


class UnprocessableError(ClientError):
    """Missive understood the request but refused its content (422)."""


class RateLimitError(ClientError):
    """Missive's rate limit was reached (429)."""

    def __init__(self, message: str, *, status: int = 429, api_message: str | None = None, retry_after: float) -> None:
        self.retry_after = retry_after
        super().__init__(message, status=status, api_message=api_message)


class RedirectError(APIError):
    """Missive, or a proxy in front of it, answered with a redirect, which is never followed."""


class ServerError(APIError):
    """Missive failed on its side (5xx)."""


class GatewayError(ServerError):
    """A gateway or proxy in front of Missive answered instead of Missive (502/503/504, or an HTML page)."""


class TransportError(MissiveError):
    """No usable answer came back from Missive."""


class APITimeoutError(TransportError):
    """Missive did not answer in time."""


class APIConnectionError(TransportError):
    """Missive could not be reached, or the connection dropped."""


class DecodingError(TransportError):
    """Missive answered with success, but the answer could not be read."""


# Composing the sentences ------------------------------------------------------------------------------------

_NEXT_STEPS = {
    "paginate at least one mailbox": "Pass one mailbox filter, e.g. inbox=true, all=true, closed=true, "
    "or team_inbox/shared_label with an id from list_teams/list_shared_labels.",
    "'organization' is required": "Pass `organization` (an id from list_organizations).",
    "'organization' must be a UUID": "Pass an organization id from list_organizations, not its name.",
    "does not match an available sender": "Use an address the token's owner can send from "
    "(the from_field of a message the team sent, in list_conversation_messages).",
    "Invalid resource ID(s)": "Check the ids with the list tool that returns them.",
}
"""Missive's own 400/422 messages, with the next step an agent should take."""


def described(endpoint: Endpoint[Any], ids: Sequence[str]) -> str:
    """`Conversation 'abc'`, `Conversation(s) 'a', 'b'`, or the kind alone."""
    if not ids:
        return f"The {endpoint.kind.name.lower()}"
    plural = "(s)" if len(ids) > 1 else ""
    return f"{endpoint.kind.name}{plural} {', '.join(repr(i) for i in ids)}"


def status_error(
    endpoint: Endpoint[Any],
    status: int,
    api_message: str | None,
    *,
    ids: Sequence[str] = (),
    retry_after: float = 0.0,
    location: str | None = None,
    gateway: bool = False,
) -> APIError:
    """The error for an answer with an error status, worded for this endpoint."""
    # Missive's reason is one sentence of ours: it ends with a full stop before the next sentence starts.
    said = f" Missive said: {api_message}{'' if api_message.endswith(('.', '!', '?')) else '.'}" if api_message else ""
    where = f"{endpoint.method} /{endpoint.path.split('/{')[0]}"
    if status == 401:
        return AuthenticationError(
            f"Missive rejected the API token (invalid or revoked).{said} {TOKEN_HELP}", status=401
        )
    if status == 403:
        return ForbiddenError(
            f"The token's owner is not allowed to do this.{said} Check their role in the organization, and that "
            "its plan includes API access (Productive plan; analytics filters need Business).",
            status=403,
            api_message=api_message,
        )
    if status == 404:
        return NotFoundError(
            f"{described(endpoint, ids)} was not found, or the token's owner cannot see it. "
            f"{endpoint.kind.where_ids_come_from}",
            status=404,
            api_message=api_message,
        )
    if status == 409:
        return ConflictError(
            f"Missive refused the request because of a conflict (HTTP 409).{said} Read the object again "
            "and decide with the fresh state.",
            status=409,
            api_message=api_message,
        )
    if status == 413:
        return PayloadTooLargeError(
            "Missive refused the request as too large (HTTP 413): it accepts at most 10 MB. Send fewer or "
            "smaller attachments.",
            status=413,
            api_message=api_message,
        )
    if status == 429:
        return RateLimitError(
            f"Missive's rate limit was reached ({LIMITS}). Try again in {retry_after:.0f} s.",
            api_message=api_message,
            retry_after=retry_after,
        )
    if 300 <= status < 400:
        target = f" to {location}" if location else ""
        return RedirectError(
            f"Missive's address answered with a redirect (HTTP {status}){target} instead of an answer; it was not "
            "followed. Check MISSIVE_API_BASE_URL (it should be https://public.missiveapp.com/v1).",
            status=status,
        )
    if status >= 500:
        if gateway:
            return GatewayError(
                f"HTTP {status} from a gateway in front of Missive ({where}): Missive may be down or restarting.",
                status=status,
            )
        return ServerError(
            f"Missive failed on its side (HTTP {status}, {where}).{said}", status=status, api_message=api_message
        )
    step = next((hint for key, hint in _NEXT_STEPS.items() if key in (api_message or "")), "")
    kind = UnprocessableError if status == 422 else BadRequestError if status == 400 else ClientError
    return kind(
        f"Missive refused the request (HTTP {status}): {api_message or 'no reason given'}. {step}".rstrip(),
        status=status,
        api_message=api_message,
    )


def with_advice(failure: MissiveError) -> MissiveError:
    """A final failure of a call that may be repeated, with the advice to do so where it can help."""
    if isinstance(failure, ServerError):
        advice = f"{failure} Try again in a moment."
        return type(failure)(advice, status=failure.status, api_message=failure.api_message)
    if isinstance(failure, APITimeoutError | APIConnectionError):
        return type(failure)(f"{failure} Try again in a moment.")
    return failure


def outcome_unknown(
    endpoint: Endpoint[Any], failure: MissiveError, context: Mapping[str, object]
) -> WriteOutcomeUnknownError:
    """A write that may have reached Missive, with no answer we can trust: never "try again". The running call
    is marked so (`calls.py`), for the audit to record."""
    mark_outcome_unknown()
    return WriteOutcomeUnknownError(
        f"{failure} The write may or may not have happened: Missive has no idempotency key, so do not simply "
        f"repeat it. {verification(endpoint, context)} before deciding whether to do it again."
    )


def accepted_but_unreadable(endpoint: Endpoint[Any], detail: str, context: Mapping[str, object]) -> DecodingError:
    """Missive accepted a write (2xx) but its answer cannot be read: it happened."""
    return DecodingError(
        f"{detail} Missive accepted the write, so it happened: do not repeat it (that would do it twice). "
        f"{verification(endpoint, context)}."
    )


def verification(endpoint: Endpoint[Any], context: Mapping[str, object]) -> str:
    """How to check whether a write happened, from the endpoint's row."""
    if not endpoint.verify:
        return "Check the result with the matching list tool"
    try:
        return endpoint.verify.format(**context)
    except (KeyError, IndexError):
        return endpoint.verify.split(" {")[0]
