"""Whose Missive token is this, and may they sign in?

Membership comes from `GET /organizations`, which lists exactly the organizations the token's owner belongs to
(paged), matched against MISSIVE_MCP_ALLOWED_ORGANIZATIONS. Who they are comes from `GET /users`, where Missive
marks the owner with `me: true`. Membership never rests on the `organization` filter of `/users`: whether Missive
applies that filter for a non-member is unverified, and a filter it ignored would let anyone in.

A pasted string is nobody's token until Missive accepts it: the check runs under a limiter of its own, so the
server's per-token limiters (and the log scrubber, see `redact.py`) only ever hold tokens that proved real.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import SecretStr

from ..client import MissiveClient
from ..errors import AuthenticationError, MissiveError
from ..limits import RateLimiter
from ..models import User
from .store import Person

if TYPE_CHECKING:
    from . import TeamAuth

PAGE = 200
MAX_PAGES = 50
"""Pages of organizations or users read at most (10,000 items): a token's owner is on one of them."""


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
    allowed = team.settings.allowed_organizations
    # A limiter for this check alone: Missive's budgets still hold for its calls, and nothing outlives it.
    async with MissiveClient(settings, transport=team.transport, limiter=RateLimiter(), max_attempts=2) as client:
        try:
            organization = None
            if allowed:
                mine = await _my_organizations(client)
                matched = sorted(allowed & mine)
                if not matched:
                    raise Refused(
                        "This token's owner is not a member of an organization this server is open to "
                        f"(allowed: {', '.join(sorted(allowed))}). Ask the operator, or use a token of the right "
                        "organization.",
                        403,
                    )
                organization = matched[0]
            me = await _find_me(client, organization)
        except AuthenticationError:
            raise Refused("Missive did not accept this token: it is invalid or was revoked.", 401) from None
        except MissiveError as exc:
            raise Refused(f"Could not check the token with Missive: {exc}", 502) from None
    if me is None:
        raise Refused("Missive did not say whose token this is (no user marked as you). Try again.", 502)
    return Person(me.id, me.email, me.name, organization)


async def _my_organizations(client: MissiveClient) -> set[str]:
    found: set[str] = set()
    for page in range(MAX_PAGES):
        organizations = await client.list_organizations({"limit": PAGE, "offset": page * PAGE})
        found |= {organization.id for organization in organizations}
        if len(organizations) < PAGE:
            break
    return found


async def _find_me(client: MissiveClient, organization: str | None) -> User | None:
    for page in range(MAX_PAGES):
        params: dict[str, str | int | bool | None] = {"limit": PAGE, "offset": page * PAGE}
        users = await client.list_users(params | {"organization": organization})
        me = next((user for user in users if user.me), None)
        if me is not None or len(users) < PAGE:
            return me
    return None
