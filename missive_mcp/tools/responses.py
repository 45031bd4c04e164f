"""Canned responses: the team's reusable replies (reading them, and administering them)."""

from typing import Annotated, Any

from mcp.server.mcpserver import Context
from pydantic import Field

from .. import endpoints as ep
from ..bodies import ResponseBody, compose
from ..confirm import confirm, deleting
from ..docstrings import Described
from ..endpoints import UNCONFIRMED_NOTE
from ..errors import InvalidArgumentError
from ..models import CannedResponse
from ..state import app_state
from ..toolsets import DRAFTS, RESPONSES
from ._common import LabelIds, Offset, OrgId, drop_none, per_id
from .contacts import offset_page
from .declaration import tool
from .drafts import Party, Recipients

ResponseId = Annotated[str, Field(description="Response id (list_responses).")]
ResponseIds = Annotated[list[str], Field(min_length=1, max_length=50, description="Response ids (list_responses).")]


class ResponsePage(Described):
    responses: list[CannedResponse]
    has_more: bool
    next_offset: int | None = None


class ResponseResult(Described):
    response: CannedResponse | None = None


class UpdatedResponses(Described):
    responses: list[CannedResponse]


class DeletedResponses(Described):
    deleted: bool
    ids: list[str]
    note: str | None = None
    """Set when the delete is inferred, not confirmed (its answer was lost)."""


@tool(DRAFTS, "List canned responses", ep.list_responses)
async def list_responses(
    ctx: Context[Any, Any],
    organization: OrgId = None,
    limit: Annotated[int, Field(ge=1, le=200, description="Per page.")] = 50,
    offset: Offset = 0,
) -> ResponsePage:
    """List canned responses (saved replies) with bodies, for reply_to_conversation(response_id=)."""
    params = drop_none(organization=organization, limit=limit, offset=offset)
    found = await app_state(ctx).client.call(ep.list_responses, params=params)
    return ResponsePage(**offset_page("responses", found, limit, offset))


@tool(RESPONSES, "Get a canned response", ep.get_response)
async def get_response(ctx: Context[Any, Any], response_id: ResponseId) -> ResponseResult:
    """Get one canned response in full: title, subject, body and default recipients."""
    found = await app_state(ctx).client.call(ep.get_response, ids=[response_id], id_field="response_id")
    return ResponseResult(response=found.concise())


def _parties(parties: list[Party] | None) -> list[dict[str, Any]] | None:
    return [p.model_dump(exclude_none=True) for p in parties] if parties else None


@tool(RESPONSES, "Create a canned response", ep.create_responses, checks=ep.create_responses)
async def create_response(
    ctx: Context[Any, Any],
    title: Annotated[str, Field(min_length=1, max_length=500, description="Name shown in the list.")],
    body: Annotated[str, Field(min_length=1, description="HTML or plain text.")],
    organization: Annotated[str | None, Field(description="Shared with this organization (or give user).")] = None,
    user: Annotated[
        str | None, Field(description="A personal response of this user id (or give organization).")
    ] = None,
    subject: Annotated[str | None, Field(max_length=500, description="Subject line.")] = None,
    share_with_team: Annotated[str | None, Field(description="Team id to share with (organization responses).")] = None,
    shared_labels: LabelIds = None,
    to_fields: Recipients = None,
    cc_fields: Recipients = None,
) -> ResponseResult:
    """Create a canned response, shared with an organization or personal to one user."""
    if bool(organization) == bool(user):
        raise InvalidArgumentError("organization", "give exactly one of organization (shared) or user (personal).")
    response = compose(
        ResponseBody,
        title=title,
        body=body,
        organization=organization,
        user=user,
        subject=subject,
        share_with_team=share_with_team,
        shared_labels=shared_labels,
        to_fields=_parties(to_fields),
        cc_fields=_parties(cc_fields),
    )
    context = {"title": response.get("title", "")}
    created = await app_state(ctx).client.call(ep.create_responses, body=[response], context=context)
    return ResponseResult(response=created.concise() if created else None)


@tool(RESPONSES, "Update canned responses", ep.update_responses)
async def update_response(
    ctx: Context[Any, Any],
    response_ids: ResponseIds,
    title: Annotated[str | None, Field(max_length=500, description="New title.")] = None,
    body: Annotated[str | None, Field(description="New body (HTML or text).")] = None,
    subject: Annotated[str | None, Field(max_length=500, description="New subject.")] = None,
    share_with_team: Annotated[str | None, Field(description="Team id to share with.")] = None,
    shared_labels: Annotated[list[str] | None, Field(description="Label ids: replaces the labels.")] = None,
) -> UpdatedResponses:
    """Change one or more canned responses; only the fields given change. Responses made by an integration
    (WhatsApp templates) cannot be changed."""
    changes = compose(
        ResponseBody,
        title=title,
        body=body,
        subject=subject,
        share_with_team=share_with_team,
        shared_labels=shared_labels,
    )
    if not changes:
        raise InvalidArgumentError("title", "nothing to change: pass at least one field.")
    items = per_id(response_ids, changes)
    client = app_state(ctx).client
    updated = await client.call(ep.update_responses, ids=response_ids, id_field="response_ids", body=items)
    return UpdatedResponses(responses=[r.concise() for r in updated])


@tool(RESPONSES, "Delete canned responses", ep.delete_responses)
async def delete_response(ctx: Context[Any, Any], response_ids: ResponseIds) -> DeletedResponses:
    """Delete canned responses by id. Responses made by an integration cannot be deleted. Cannot be undone."""
    await confirm(ctx, deleting(f"the canned response(s) {', '.join(response_ids)}"))
    client = app_state(ctx).client
    confirmed = await client.call(ep.delete_responses, ids=response_ids, id_field="response_ids")
    return DeletedResponses(deleted=True, ids=response_ids, note=None if confirmed else UNCONFIRMED_NOTE)
