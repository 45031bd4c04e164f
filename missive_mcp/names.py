"""Names where people use names: a label, user or team given by its name wherever an id is expected.

The directory (users, teams, shared labels, organizations) is read once per person and kept a few minutes
(NAMES_TTL). An argument that already looks like a Missive id is passed through untouched; anything else is
matched case-insensitively against names (and users' emails, labels' full paths); a user may also be named by
first name alone. A name that matches several is put to the person as a choice when the client can ask them
(`choose`, through `asking.py`); otherwise, and for a name that matches none, the call is refused before
anything is sent, listing up to five closest candidates with their ids. Prompts and resource templates complete
their arguments from the same directory.
"""

from __future__ import annotations

import re
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import anyio

from .client import MissiveClient
from .errors import InvalidArgumentError
from .models import Ref

if TYPE_CHECKING:
    from mcp.server.mcpserver import Context
    from mcp.server.mcpserver.tools import Tool

T = TypeVar("T")

Kind = Literal["user", "team", "label", "organization"]
NAMES_TTL = 300.0
"""Seconds a person's directory is kept before it is read again."""
PAGE = 200
MAX_PAGES = 10
"""At most 2,000 of each kind are read for names; ids always work."""
CANDIDATES = 5
"""How many candidates a refusal (or a choice put to the person) lists."""
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_PLURAL = {"user": "users", "team": "teams", "label": "shared labels", "organization": "organizations"}
_LISTED_BY = {
    "user": "list_users",
    "team": "list_teams",
    "label": "list_shared_labels",
    "organization": "list_organizations",
}


@dataclass(frozen=True)
class Named:
    """Something an agent may name: its id, the names that find it, and how to show it."""

    id: str
    names: tuple[str, ...]
    organization: str | None = None
    """The organization it belongs to (teams, labels), to tell apart same-named ones of two organizations."""

    @property
    def label(self) -> str:
        return self.names[0] if self.names else self.id


@dataclass(frozen=True)
class Names:
    """Marks a tool argument whose values may be names of this kind (`Annotated[list[str], Names("user")]`)."""

    kind: Kind


def looks_like_id(value: str) -> bool:
    return bool(_UUID.fullmatch(value))


class Ambiguous(InvalidArgumentError):
    """A name that matches several entries: the caller may put them to the person as a choice."""

    def __init__(self, kind: Kind, field: str, value: str, matches: list[Named]) -> None:
        self.kind, self.value, self.matches = kind, value, matches
        options = "; ".join(f"{entry.label} ({entry.id})" for entry in matches[:CANDIDATES])
        more = f" and {len(matches) - CANDIDATES} more" if len(matches) > CANDIDATES else ""
        super().__init__(field, f"{value!r} names {len(matches)} {_PLURAL[kind]}: {options}{more}. Give the id.")


Chooser = Callable[[Ambiguous], Awaitable[str | None]]
"""Puts an ambiguous name to the person; the id they chose, or None (they could not be asked, or chose none)."""


def _first_name(entry: Named) -> str:
    return entry.label.split()[0].casefold() if entry.label.split() else ""


class Directory:
    """Each person's directory, cached NAMES_TTL seconds, loaded once however many calls ask at the same time."""

    def __init__(self, client: MissiveClient, *, ttl: float = NAMES_TTL, clock: Callable[[], float] = time.monotonic):
        self.client = client
        self.ttl = ttl
        self._clock = clock
        self._cache: dict[tuple[str, Kind], tuple[float, list[Named]]] = {}
        self._locks: dict[tuple[str, Kind], anyio.Lock] = {}

    async def entries(self, kind: Kind) -> list[Named]:
        key = (await self.client.caller(), kind)
        lock = self._locks.setdefault(key, anyio.Lock())
        async with lock:
            cached = self._cache.get(key)
            if cached and self._clock() - cached[0] < self.ttl:
                return cached[1]
            found = await _LOADERS[kind](self.client)
            self._cache[key] = (self._clock(), found)
            return found

    def forget(self, *kinds: Kind) -> None:
        """Drop what is kept of these kinds, for every person: a write just changed them (a label created...)."""
        for key in [key for key in self._cache if key[1] in kinds]:
            del self._cache[key]

    async def resolve(
        self, kind: Kind, field: str, value: str, organization: str | None = None, choose: Chooser | None = None
    ) -> str:
        """The id for `value`: itself when it is an id, else the one entry whose name matches it (within
        `organization`, when the call names one), or the one the person chose among several."""
        if looks_like_id(value):
            return value
        wanted = " ".join(value.split()).casefold()
        known = await self.entries(kind)
        if organization:
            known = [entry for entry in known if entry.organization in (None, organization)]
        matches = [entry for entry in known if wanted in (name.casefold() for name in entry.names)]
        if not matches and kind == "user" and " " not in wanted:
            matches = [entry for entry in known if _first_name(entry) == wanted]
        if len(matches) == 1:
            return matches[0].id
        if matches:
            unclear = Ambiguous(kind, field, value, matches)
            chosen = await choose(unclear) if choose is not None else None
            if chosen is None:
                raise unclear
            return chosen
        close = closest(wanted, known)
        hint = f" Closest: {'; '.join(f'{e.label} ({e.id})' for e in close)}." if close else ""
        raise InvalidArgumentError(
            field,
            f"no {kind} is named {value[:80]!r}.{hint} {_LISTED_BY[kind]} lists them; an id or an exact name works.",
        )

    async def resolve_all(
        self,
        kind: Kind,
        field: str,
        values: Sequence[str],
        organization: str | None = None,
        choose: Chooser | None = None,
    ) -> list[str]:
        return [
            await self.resolve(kind, f"{field}[{index}]", value, organization, choose)
            for index, value in enumerate(values)
        ]

    async def complete(self, kind: Kind, partial: str) -> list[str]:
        """Names of this kind starting with `partial` (case-insensitive), then those containing it."""
        wanted = partial.casefold()
        labels = [entry.label for entry in await self.entries(kind)]
        starts = [label for label in labels if label.casefold().startswith(wanted)]
        inside = [label for label in labels if wanted in label.casefold() and label not in starts]
        return [*starts, *inside][:100]


def closest(wanted: str, known: Sequence[Named]) -> list[Named]:
    """Up to CANDIDATES entries whose names look most like `wanted` (and at least a little)."""
    import difflib  # only a refused name needs it: not at start-up

    def likeness(entry: Named) -> float:
        return max((difflib.SequenceMatcher(None, wanted, name.casefold()).ratio() for name in entry.names), default=0)

    scored = sorted((-likeness(entry), index) for index, entry in enumerate(known))
    return [known[index] for score, index in scored[:CANDIDATES] if -score >= 0.4]


def chooser(context: Context[Any, Any], limit: float) -> Chooser:
    """Ask the person which entry an ambiguous name meant (when the client can ask), within `limit` seconds."""
    from pydantic import Field, create_model

    from .asking import ask, can_ask

    async def choose(unclear: Ambiguous) -> str | None:
        if not can_ask(context):
            return None
        options = unclear.matches[:CANDIDATES]
        labels = [f"{entry.label} ({entry.id})" for entry in options]
        literal: Any = Literal
        choice: Any = literal[tuple(labels)]  # the enum of options (a Literal built at run time)
        schema = create_model("Choice", choice=(choice, Field(description=f"The {unclear.kind} you meant.")))
        where = unclear.field.split("[")[0]
        message = f"{unclear.value!r} ({where}) could be several {_PLURAL[unclear.kind]}. Which one did you mean?"
        answer = await ask(context, f"name:{unclear.field}", message, schema, limit=limit)
        picked = getattr(answer.data, "choice", None) if answer.outcome == "accept" else None
        return options[labels.index(picked)].id if picked in labels else None

    return choose


async def _pages(fetch: Callable[[dict[str, int]], Awaitable[Sequence[T]]]) -> list[T]:
    """Every page of an offset list, up to MAX_PAGES of PAGE."""
    found: list[T] = []
    for page in range(MAX_PAGES):
        batch = await fetch({"limit": PAGE, "offset": page * PAGE})
        found.extend(batch)
        if len(batch) < PAGE:
            break
    return found


def _owner(value: Ref | str | None) -> str | None:
    return value.id if isinstance(value, Ref) else value


async def _users(client: MissiveClient) -> list[Named]:
    found = await _pages(client.list_users)
    return [Named(u.id, tuple(n for n in (u.name, u.email) if n)) for u in found]


async def _teams(client: MissiveClient) -> list[Named]:
    found = await _pages(client.list_teams)
    return [Named(t.id, (t.name,) if t.name else (), _owner(t.organization)) for t in found]


async def _labels(client: MissiveClient) -> list[Named]:
    found = await _pages(client.list_shared_labels)
    return [
        Named(
            lbl.id,
            tuple(dict.fromkeys(n for n in (lbl.name_with_parent_names, lbl.name) if n)),
            _owner(lbl.organization),
        )
        for lbl in found
    ]


async def _organizations(client: MissiveClient) -> list[Named]:
    return [Named(o.id, (o.name,) if o.name else ()) for o in await _pages(client.list_organizations)]


_LOADERS: dict[Kind, Callable[[MissiveClient], Awaitable[list[Named]]]] = {
    "user": _users,
    "team": _teams,
    "label": _labels,
    "organization": _organizations,
}


def named_arguments(tools: Sequence[Tool]) -> dict[str, dict[str, Kind]]:
    """Per tool, the arguments whose users, teams or labels may be given by name: those annotated `Names(kind)`,
    read from the argument models the SDK built (their annotations are evaluated once, there)."""
    found: dict[str, dict[str, Kind]] = {}
    for tool in tools:
        for name, field in tool.fn_metadata.arg_model.model_fields.items():
            for meta in field.metadata:
                if isinstance(meta, Names):
                    found.setdefault(tool.name, {})[field.alias or name] = meta.kind
    return found
