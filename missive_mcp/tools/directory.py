"""The ids a write needs: organizations, users, teams and shared labels."""

from typing import Annotated, Any

from mcp.server.mcpserver import Context
from pydantic import Field

from ..docstrings import Described
from ..models import Organization, SharedLabel, Team, User
from ._common import Offset, OffsetLimit, drop_none, state
from .contacts import offset_page

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


async def list_organizations(ctx: Context[Any, Any], limit: OffsetLimit = 50, offset: Offset = 0) -> OrganizationPage:
    """List the token owner's organizations; their ids serve writes, filters and reports."""
    found = await state(ctx).client.list_organizations({"limit": limit, "offset": offset})
    return OrganizationPage(**offset_page("organizations", found, limit, offset))


async def list_users(
    ctx: Context[Any, Any], organization: OrgFilter = None, limit: OffsetLimit = 50, offset: Offset = 0
) -> UserPage:
    """List users (teammates); their ids serve assignees. `me` marks the token's owner."""
    found = await state(ctx).client.list_users(drop_none(organization=organization, limit=limit, offset=offset))
    return UserPage(**offset_page("users", found, limit, offset))


async def list_teams(
    ctx: Context[Any, Any], organization: OrgFilter = None, limit: OffsetLimit = 50, offset: Offset = 0
) -> TeamPage:
    """List teams; their ids serve team filters and a conversation's team."""
    found = await state(ctx).client.list_teams(drop_none(organization=organization, limit=limit, offset=offset))
    return TeamPage(**offset_page("teams", found, limit, offset))


async def list_shared_labels(
    ctx: Context[Any, Any], organization: OrgFilter = None, limit: OffsetLimit = 50, offset: Offset = 0
) -> SharedLabelPage:
    """List shared labels; their ids serve labelling and the shared_label filter."""
    found = await state(ctx).client.list_shared_labels(drop_none(organization=organization, limit=limit, offset=offset))
    return SharedLabelPage(**offset_page("shared_labels", found, limit, offset))
