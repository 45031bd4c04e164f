"""The ids a write needs: organizations, users, teams and shared labels."""

from typing import Annotated, Any

from mcp.server.mcpserver import Context
from pydantic import Field

from .. import endpoints as ep
from ..docstrings import Described
from ..models import Organization, SharedLabel, Team, User
from ..state import app_state
from ..toolsets import DIRECTORY
from ._common import Offset, OffsetLimit, drop_none
from .contacts import offset_page
from .declaration import tool

OrgFilter = Annotated[str | None, Field(description="Only this organization's.")]


class OrganizationPage(Described):
    organizations: list[Organization]
    has_more: bool
    next_offset: int | None = None


class UserPage(Described):
    users: list[User]
    has_more: bool
    next_offset: int | None = None


class TeamPage(Described):
    teams: list[Team]
    has_more: bool
    next_offset: int | None = None


class SharedLabelPage(Described):
    shared_labels: list[SharedLabel]
    has_more: bool
    next_offset: int | None = None


@tool(DIRECTORY, "List organizations", ep.list_organizations)
async def list_organizations(ctx: Context[Any, Any], limit: OffsetLimit = 50, offset: Offset = 0) -> OrganizationPage:
    """List the token owner's organizations; their ids serve writes, filters and reports."""
    found = await app_state(ctx).client.call(ep.list_organizations, params={"limit": limit, "offset": offset})
    return OrganizationPage(**offset_page("organizations", found, limit, offset))


@tool(DIRECTORY, "List users", ep.list_users)
async def list_users(
    ctx: Context[Any, Any], organization: OrgFilter = None, limit: OffsetLimit = 50, offset: Offset = 0
) -> UserPage:
    """List users (teammates); their ids serve assignees. `me` marks the token's owner."""
    params = drop_none(organization=organization, limit=limit, offset=offset)
    found = await app_state(ctx).client.call(ep.list_users, params=params)
    return UserPage(**offset_page("users", found, limit, offset))


@tool(DIRECTORY, "List teams", ep.list_teams)
async def list_teams(
    ctx: Context[Any, Any], organization: OrgFilter = None, limit: OffsetLimit = 50, offset: Offset = 0
) -> TeamPage:
    """List teams; their ids serve team filters and a conversation's team."""
    params = drop_none(organization=organization, limit=limit, offset=offset)
    found = await app_state(ctx).client.call(ep.list_teams, params=params)
    return TeamPage(**offset_page("teams", found, limit, offset))


@tool(DIRECTORY, "List shared labels", ep.list_shared_labels)
async def list_shared_labels(
    ctx: Context[Any, Any], organization: OrgFilter = None, limit: OffsetLimit = 50, offset: Offset = 0
) -> SharedLabelPage:
    """List shared labels; their ids serve labelling and the shared_label filter."""
    params = drop_none(organization=organization, limit=limit, offset=offset)
    found = await app_state(ctx).client.call(ep.list_shared_labels, params=params)
    return SharedLabelPage(**offset_page("shared_labels", found, limit, offset))
