"""`missive-mcp keys`: the operator's view of sign-ins and server keys, with the server's own settings.

missive-mcp keys create LABEL   a server key for the owner of the Missive token read from MISSIVE_API_TOKEN
                                or standard input; the key alone goes to stdout (shown once)
missive-mcp keys list           live keys and sign-ins: id, kind, person, label, created
missive-mcp keys revoke ID      revoke a key or a sign-in (it stops at once, on every replica)
missive-mcp keys reseal         after adding a new first MISSIVE_MCP_SECRET_KEY, re-seal every stored token
"""

from __future__ import annotations

import getpass
import sys
import time
from collections.abc import Callable, Sequence

import httpx2

from ..settings import Settings
from . import LabelError, TeamAuth, check_label
from .missive import Refused, identify

USAGE = "usage: missive-mcp keys create LABEL | list | revoke ID | reseal"


def read_token(settings: Settings) -> str:
    """The person's Missive token: MISSIVE_API_TOKEN, else one line of standard input (not echoed at a terminal)."""
    if settings.api_token is not None:
        return settings.api_token.get_secret_value()
    if sys.stdin.isatty():
        return getpass.getpass("Missive API token of the key's owner: ").strip()
    return sys.stdin.readline().strip()


def one_line(text: str) -> str:
    """`text` with anything that is not printable shown as an escape: a stored value cannot forge a line."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


async def run_keys(
    settings: Settings,
    args: Sequence[str],
    *,
    transport: httpx2.AsyncBaseTransport | None = None,
    out: Callable[[str], None] = print,
    say: Callable[[str], None] = lambda line: print(line, file=sys.stderr),
    token: Callable[[Settings], str] = read_token,
) -> int:
    """Run one keys command; the exit status."""
    if settings.auth != "oauth":
        say("missive-mcp keys: keys are for the team server; set MISSIVE_MCP_AUTH=oauth (and its settings) first.")
        return 2
    action, rest = (args[0], list(args[1:])) if args else ("", [])
    team = TeamAuth(settings, transport=transport)
    try:
        await team.ready()
        if action == "create" and len(rest) == 1:
            try:
                label = check_label(rest[0])
            except LabelError as refusal:
                say(f"missive-mcp keys: {refusal}")
                return 2
            missive_token = token(settings)  # read once: it may come from standard input
            try:
                person = await identify(team, missive_token)
            except Refused as refusal:
                say(f"missive-mcp keys: {refusal}")
                return 1
            secret, grant_id = await team.create_key(person, missive_token, label)
            say(f"Server key {grant_id} for {person.name} <{person.email}> ({label}); it is not shown again:")
            out(secret)
            return 0
        if action == "list" and not rest:
            for grant in await team.store.grants():
                created = time.strftime("%Y-%m-%d %H:%M", time.gmtime(grant.created_at))
                who, label = grant.person.email or grant.person.user_id, grant.label or grant.client_id
                out(f"{grant.id}  {grant.kind:5}  {one_line(who)}  {one_line(label)}  {created}")
            return 0
        if action == "revoke" and len(rest) == 1:
            if await team.store.revoke(rest[0]):
                say(f"Revoked {rest[0]}: it stopped working at once.")
                return 0
            say(f"missive-mcp keys: no live key or sign-in has the id {rest[0]!r} (see `missive-mcp keys list`).")
            return 1
        if action == "reseal" and not rest:
            changes: list[tuple[str, str]] = []
            for grant_id, sealed in await team.store.all_sealed():
                if team.sealer.needs_reseal(sealed):
                    opened = team.sealer.open(sealed, bound_to=f"grant:{grant_id}")
                    changes.append((grant_id, team.sealer.seal(opened, bound_to=f"grant:{grant_id}")))
            await team.store.reseal(changes)
            say(f"Re-sealed {len(changes)} stored token(s) with the first MISSIVE_MCP_SECRET_KEY.")
            return 0
        say(USAGE)
        return 2
    finally:
        await team.aclose()
