"""Every failure an agent can meet, as one tree of sentences it can act on.

    MissiveError (ToolError)            str() is a sentence: what went wrong, then what to do
    ├── ConfigurationError               the server is not set up to make this call (no token)
    ├── PermissionDeniedError            an operator setting forbids it (sending, read-only, recipient domain)
    ├── InvalidArgumentError             we refused an argument before anything was sent
    ├── WriteOutcomeUnknownError         a write was sent and its answer was lost: it may have happened
    ├── APIError                         Missive answered with an error status (.status, .api_message)
    │   ├── BadRequestError              400, 413, 422: the API's own message
    │   ├── AuthenticationError          401: token invalid or revoked
    │   ├── ForbiddenError               403: the token's owner lacks the rights or the plan
    │   ├── NotFoundError                404: names what was not found
    │   ├── RateLimitError               429: says when to try again (.retry_after)
    │   └── ServerError                  5xx
    └── TransportError                   no usable answer from Missive
        ├── APITimeoutError              connect or read timed out
        └── APIConnectionError           could not connect, or the connection dropped

Subclassing the SDK's ToolError is what lets the sentence reach the agent: any other exception
is reported as a bare "Error executing tool X".
"""

from __future__ import annotations

from mcp.server.mcpserver.exceptions import ToolError


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
        super().__init__(f"Invalid `{field}`: {problem}")


class WriteOutcomeUnknownError(MissiveError):
    """A non-idempotent write was sent but its outcome could not be read."""


class APIError(MissiveError):
    """Missive answered with an error status."""

    def __init__(self, message: str, *, status: int, api_message: str | None = None) -> None:
        self.status = status
        self.api_message = api_message
        super().__init__(message)


class BadRequestError(APIError):
    """Missive refused the request's content (400, 413, 422)."""


class AuthenticationError(APIError):
    """The token is missing, invalid or revoked (401)."""


class ForbiddenError(APIError):
    """The token's owner may not do this (403)."""


class NotFoundError(APIError):
    """The resource does not exist or the token's owner cannot see it (404)."""


class RateLimitError(APIError):
    """Missive's rate limit was reached (429)."""

    def __init__(self, message: str, *, status: int = 429, api_message: str | None = None, retry_after: float) -> None:
        self.retry_after = retry_after
        super().__init__(message, status=status, api_message=api_message)


class ServerError(APIError):
    """Missive failed on its side (5xx)."""


class TransportError(MissiveError):
    """No usable answer came back from Missive."""


class APITimeoutError(TransportError):
    """Missive did not answer in time."""


class APIConnectionError(TransportError):
    """Missive could not be reached, or the connection dropped."""
