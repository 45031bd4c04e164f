"""Whose Missive token is this, and may they sign in? One Missive call, `GET /users`, answers both.

Missive marks the token's owner with `me: true` in the users list. With MISSIVE_MCP_ALLOWED_ORGANIZATIONS set,
the list is asked per allowed organization, so finding `me` there proves membership.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import SecretStr

from .. import endpoints as ep
from ..client import MissiveClient
from ..errors import AuthenticationError, BadRequestError, ForbiddenError, MissiveError, NotFoundError
from ..models import User
from .store import Person

if TYPE_CHECKING:
    from . import TeamAuth

PAGE = 200


class Refused(Exception):
    """A token that cannot sign in; the message says why, for the page."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


async def identify(team: TeamAuth, token: str) -> Person:
    """The token's owner, if they may sign in.

    Raises:
        Refused: the token is empty, Missive rejects it, or its owner is in no allowed organization.
    """
    if not token:
        raise Refused("Paste your Missive API token.")
    if not token.isascii() or not token.isprintable() or len(token) > 512:
        raise Refused("That does not look like a Missive API token (check for a pasted space or line break).")
    settings = team.settings.model_copy(update={"api_token": SecretStr(token)})
    allowed = sorted(team.settings.allowed_organizations)
    async with MissiveClient(settings, transport=team.transport, limiter=team.limits, max_attempts=2) as client:
        try:
            for organization in allowed or [None]:
                me = await _find_me(client, organization)
                if me is not None:
                    return Person(me.id, me.email, me.name, organization)
        except AuthenticationError:
            raise Refused("Missive did not accept this token: it is invalid or was revoked.", 401) from None
        except MissiveError as exc:
            raise Refused(f"Could not check the token with Missive: {exc}", 502) from None
    if allowed:
        raise Refused(
            "This token's owner is not a member of an organization this server is open to "
            f"(allowed: {', '.join(allowed)}). Ask the operator, or use a token of the right organization.",
            403,
        )
    raise Refused("Missive did not say whose token this is (no user marked as you). Try again.", 502)


async def _find_me(client: MissiveClient, organization: str | None) -> User | None:
    offset = 0
    while True:
        params: dict[str, str | int | bool | None] = {"limit": PAGE, "offset": offset, "organization": organization}
        try:
            users = await client.call(ep.list_users, params=params)
        except (ForbiddenError, NotFoundError, BadRequestError):
            if organization is None:
                raise
            return None  # not their organization
        me = next((user for user in users if user.me), None)
        if me is not None or len(users) < PAGE:
            return me
        offset += PAGE
