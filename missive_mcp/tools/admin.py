"""Administering the directory: shared labels and teams."""

import re
from typing import Annotated, Any, Literal

from mcp.server.mcpserver import Context
from pydantic import Field

from .. import endpoints as ep
from ..bodies import LabelBody, TeamBody, compose
from ..docstrings import Described
from ..errors import InvalidArgumentError
from ..models import SharedLabel, Team
from ..state import app_state
from ..toolsets import ADMIN
from ._common import OrganizationId, TeamId, UserIds, per_id
from .declaration import tool

Color = Annotated[str | None, Field(pattern=r"^#(?:[0-9A-Fa-f]{3}){1,2}$", description="Hex colour, e.g. #ff0000.")]
Ids = Annotated[list[str], Field(min_length=1, max_length=50)]
_EMOJI = re.compile(r"^:[a-z0-9_+-]+:$")


class LabelResult(Described):
    shared_label: SharedLabel | None = None


class UpdatedLabels(Described):
    shared_labels: list[SharedLabel]


class TeamResult(Described):
    team: Team | None = None


class UpdatedTeams(Described):
    teams: list[Team]


@tool(ADMIN, "Create a shared label", ep.create_shared_labels)
async def create_shared_label(
    ctx: Context[Any, Any],
    name: Annotated[str, Field(min_length=1, max_length=200, description="Label name.")],
    organization: OrganizationId,
    color: Color = None,
    parent: Annotated[str | None, Field(description="Nest under this label id.")] = None,
    share_with_organization: Annotated[bool | None, Field(description="Everyone in it sees labelled mail.")] = None,
    share_with_team: TeamId = None,
    share_with_users: UserIds = None,
    visibility: Annotated[
        Literal["organization", "delegates"] | None, Field(description="delegates: admins and shared users.")
    ] = None,
) -> LabelResult:
    """Create a shared label in an organization, optionally nested under another and shared with people."""
    label = compose(
        LabelBody,
        name=name,
        organization=organization,
        color=color,
        parent=parent,
        share_with_organization=share_with_organization,
        share_with_team=share_with_team,
        share_with_users=share_with_users,
        visibility=visibility,
    )
    app = app_state(ctx)
    context = {"name": label.get("name", "")}
    created = await app.client.call(ep.create_shared_labels, body=[label], context=context)
    app.directory.forget("label")  # its name works at once
    return LabelResult(shared_label=created.concise() if created else None)


@tool(ADMIN, "Update shared labels", ep.update_shared_labels)
async def update_shared_label(
    ctx: Context[Any, Any],
    label_ids: Annotated[Ids, Field(description="Label ids (list_shared_labels).")],
    name: Annotated[str | None, Field(min_length=1, max_length=200, description="New name.")] = None,
    color: Color = None,
    parent: Annotated[str | None, Field(description="New parent label id.")] = None,
    share_with_organization: Annotated[bool | None, Field(description="Admins only.")] = None,
    share_with_team: Annotated[str | None, Field(description="Team id; admins only.")] = None,
    share_with_users: Annotated[list[str] | None, Field(description="User ids; admins only.")] = None,
    visibility: Annotated[Literal["organization", "delegates"] | None, Field(description="Admins only.")] = None,
) -> UpdatedLabels:
    """Rename, recolour, re-nest or re-share shared labels; only the fields given change."""
    if parent is not None and parent in label_ids:
        raise InvalidArgumentError("parent", "a label cannot be its own parent.")
    changes = compose(
        LabelBody,
        name=name,
        color=color,
        parent=parent,
        share_with_organization=share_with_organization,
        share_with_team=share_with_team,
        share_with_users=share_with_users,
        visibility=visibility,
    )
    if not changes:
        raise InvalidArgumentError("name", "nothing to change: pass at least one field.")
    app = app_state(ctx)
    items = per_id(label_ids, changes)
    updated = await app.client.call(ep.update_shared_labels, ids=label_ids, id_field="label_ids", body=items)
    app.directory.forget("label")
    return UpdatedLabels(shared_labels=[label.concise() for label in updated])


def _team_fields(emoji: str | None, **values: Any) -> TeamBody:
    if emoji is not None and not _EMOJI.fullmatch(emoji):
        raise InvalidArgumentError("emoji", f"{emoji[:40]!r} is not a shortcode such as :dart:.")
    return compose(TeamBody, emoji=emoji, **values)


@tool(ADMIN, "Create a team", ep.create_teams)
async def create_team(
    ctx: Context[Any, Any],
    name: Annotated[str, Field(min_length=1, max_length=200, description="Team name.")],
    organization: OrganizationId,
    emoji: Annotated[str | None, Field(description="Shortcode such as :dart:.")] = None,
    color: Color = None,
    active_members: Annotated[list[str] | None, Field(description="User ids notified for the team inbox.")] = None,
    observers: Annotated[list[str] | None, Field(description="User ids who see it, not notified.")] = None,
    inactivity_period: Annotated[int | None, Field(ge=0, description="Seconds before a thread is stale.")] = None,
) -> TeamResult:
    """Create a team in an organization (the token's owner must be an admin or owner)."""
    team = _team_fields(
        emoji,
        name=name,
        organization=organization,
        color=color,
        active_members=active_members,
        observers=observers,
        inactivity_period=inactivity_period,
    )
    app = app_state(ctx)
    context = {"name": team.get("name", "")}
    created = await app.client.call(ep.create_teams, body=[team], context=context)
    app.directory.forget("team")
    return TeamResult(team=created.concise() if created else None)


@tool(ADMIN, "Update teams", ep.update_teams)
async def update_team(
    ctx: Context[Any, Any],
    team_ids: Annotated[Ids, Field(description="Team ids (list_teams).")],
    name: Annotated[str | None, Field(min_length=1, max_length=200, description="New name.")] = None,
    emoji: Annotated[str | None, Field(description="Shortcode such as :dart:.")] = None,
    color: Color = None,
    active_members: Annotated[list[str] | None, Field(description="User ids: replaces active members.")] = None,
    observers: Annotated[list[str] | None, Field(description="User ids: replaces observers.")] = None,
    inactivity_period: Annotated[int | None, Field(ge=0, description="Seconds before a thread is stale.")] = None,
) -> UpdatedTeams:
    """Change teams: name, emoji, colour, members (admins and owners only)."""
    changes = _team_fields(
        emoji,
        name=name,
        color=color,
        active_members=active_members,
        observers=observers,
        inactivity_period=inactivity_period,
    )
    if not changes:
        raise InvalidArgumentError("name", "nothing to change: pass at least one field.")
    app = app_state(ctx)
    items = per_id(team_ids, changes)
    updated = await app.client.call(ep.update_teams, ids=team_ids, id_field="team_ids", body=items)
    app.directory.forget("team")
    return UpdatedTeams(teams=[team.concise() for team in updated])
