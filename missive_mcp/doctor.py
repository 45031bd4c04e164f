"""`missive-mcp check`: tell a person, in plain words, whether this setup can work, and why not."""

from __future__ import annotations

from collections.abc import Callable

import anyio
import httpx2

from . import endpoints as ep
from .client import MissiveClient
from .errors import APIConnectionError, APITimeoutError, AuthenticationError, ForbiddenError, MissiveError
from .facts import TOKEN_HELP
from .settings import Settings

OK, PROBLEM = 0, 1


async def run_check(
    settings: Settings, *, transport: httpx2.AsyncBaseTransport | None = None, out: Callable[[str], None] = print
) -> int:
    """Print a diagnosis; return 0 when the token works and the API answers, 1 otherwise."""
    from .server import TOOLS, permitted

    out(f"API: {settings.base_url}")
    tools = [tool.name for tool in TOOLS if permitted(tool, settings)]
    access = (
        "read only"
        if settings.read_only
        else "read and write" + (", sending allowed" if settings.allow_send else ", sending disabled")
    )
    out(f"Permissions: {access}; toolsets: {', '.join(sorted(settings.toolsets))} ({len(tools)} tools).")
    if settings.send_allowed_domains:
        out(f"Sending only to: {', '.join(sorted(settings.send_allowed_domains))}.")
    if settings.api_token is None:
        out(f"Token: not set. {TOKEN_HELP}")
        return PROBLEM
    async with MissiveClient(settings, transport=transport, max_attempts=1) as client:
        try:
            with anyio.fail_after(settings.timeout + 10):
                organizations = await client.call(ep.list_organizations, params={"limit": 200})
                users = await client.call(ep.list_users, params={"limit": 200})
        except AuthenticationError:
            out(f"Token: rejected by Missive (invalid or revoked). {TOKEN_HELP}")
            return PROBLEM
        except ForbiddenError as exc:
            out(f"Token: accepted, but not allowed to read the organization. {exc}")
            return PROBLEM
        except (APIConnectionError, APITimeoutError, TimeoutError) as exc:
            out(f"API: unreachable. {exc}")
            return PROBLEM
        except MissiveError as exc:
            out(f"API: answered with an error. {exc}")
            return PROBLEM
    me = next((user for user in users if user.me), None)
    who = f"{me.name} <{me.email}>" if me else "its owner"
    out(f"Token: works, for {who}.")
    out("Organizations: " + (", ".join(f"{o.name} ({o.id})" for o in organizations) or "none visible"))
    out("All good: connect a client (see the README).")
    return OK
