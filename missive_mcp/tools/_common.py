"""What the tool modules share: argument aliases, paging, concurrent calls and request-body helpers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Annotated, Any, Literal, TypeVar, cast

import anyio
from pydantic import Field

from ..docstrings import Described
from ..endpoints import UNCONFIRMED_NOTE
from ..names import Names

# Each id's form is checked where it enters a URL (client.path_ids), which names the field.
ConversationId = Annotated[str, Field(description="Conversation id.")]
ContactId = Annotated[str, Field(description="From list_contacts.")]
DraftId = Annotated[str, Field(description="From list_conversation_drafts.")]
ReportId = Annotated[str, Field(description="From create_analytics_report.")]
ContactBookId = Annotated[str, Field(description="From list_contact_books.")]
OrganizationId = Annotated[str, Field(description="From list_organizations.")]
IdList = list[str]
# Ids of users, teams and labels: their names work too (names.py resolves them before the tool runs).
UserIds = Annotated[list[str] | None, Field(description="User names or ids."), Names("user")]
LabelIds = Annotated[list[str] | None, Field(description="Label names or ids."), Names("label")]
TeamId = Annotated[str | None, Field(description="Team name or id."), Names("team")]
UserId = Annotated[str | None, Field(description="User name or id."), Names("user")]
LabelId = Annotated[str | None, Field(description="Label name or id."), Names("label")]
# An organization's name works too; and where Missive needs one, a token's only organization is taken.
OrgId = Annotated[str | None, Field(description="Organization id."), Names("organization")]

Until = Annotated[int | None, Field(ge=0, description="next_until.")]
ItemLimit = Annotated[int, Field(ge=1, le=10, description="Per page.")]
OffsetLimit = Annotated[int, Field(ge=1, le=200, description="Per page.")]
Offset = Annotated[int, Field(ge=0, description="next_offset.")]
ResponseFormat = Annotated[
    Literal["concise", "detailed"],
    Field(description="detailed: all fields."),
]

T = TypeVar("T")


def split_page(items: Sequence[T], limit: int, stamp: Callable[[T], int | None]) -> tuple[list[T], int | None]:
    """Cut a newest-first page at a cursor that neither repeats nor skips anything.

    Missive's `until` includes its boundary, so the items sharing the oldest timestamp would come back on
    the next page. They are held back for that page instead, and the cursor stays on their timestamp. Only
    a page made entirely of one timestamp (Missive then sends every item sharing it) moves past it.
    Returns the items to serve and the `until` for the next page (None at the end).
    """
    if len(items) < limit:
        return list(items), None
    oldest = stamp(items[-1]) or 0
    kept = [item for item in items if (stamp(item) or 0) != oldest]
    if kept:
        return kept, oldest
    return list(items), oldest - 1 if oldest > 0 else None


async def gather(*calls: Callable[[], Awaitable[Any]]) -> list[Any]:
    """Run calls concurrently; a failure surfaces as its own error, not wrapped in an exception group."""
    results: list[Any] = [None] * len(calls)

    async def run(index: int) -> None:
        results[index] = await calls[index]()

    try:
        async with anyio.create_task_group() as group:
            for index in range(len(calls)):
                group.start_soon(run, index)
    except BaseExceptionGroup as failed:
        raise _first_leaf(failed) from None
    return results


def _first_leaf(error: BaseException) -> BaseException:
    """The first real failure inside (possibly nested) exception groups."""
    while isinstance(error, BaseExceptionGroup):
        error = cast(BaseExceptionGroup[BaseException], error).exceptions[0]
    return error


class Deleted(Described):
    # The answer of a delete tool. (A comment: a docstring would be sent in every delete tool's output schema.)

    deleted: bool
    id: str
    note: str | None = None
    """Set when the delete is inferred, not confirmed (its answer was lost)."""


def deleted(object_id: str, confirmed: bool) -> Deleted:
    """What a delete tool answers: confirmed by Missive, or inferred after a lost answer (with a note)."""
    return Deleted(deleted=True, id=object_id, note=None if confirmed else UNCONFIRMED_NOTE)


def per_id(ids: Sequence[str], changes: Mapping[str, Any]) -> list[dict[str, Any]]:
    """A PATCH body for several objects: Missive takes a list with each item's id, even for one id (an object
    answers "Invalid resource ID(s)")."""
    return [{"id": object_id, **changes} for object_id in ids]


def drop_none(**values: Any) -> dict[str, Any]:
    """The arguments an agent actually gave, for a request body."""
    return {key: value for key, value in values.items() if value is not None}
