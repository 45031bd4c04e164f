"""Who and what an inbox is organised by: organizations, users, teams, shared labels."""

from __future__ import annotations

from .base import Ref


class Organization(Ref):
    pass


class User(Ref):
    email: str | None = None
    me: bool | None = None
    """True for the owner of the API token."""


class Team(Ref):
    organization: Ref | str | None = None
    active_members: list[Ref | str] | None = None
    """Members notified for the team inbox (create_team and update_team answer them)."""
    observers: list[Ref | str] | None = None
    """Members who can open the team inbox without being notified."""


class SharedLabel(Ref):
    organization: Ref | str | None = None
    parent_id: str | None = None
    """The label it is nested under."""
    name_with_parent_names: str | None = None
    """The full path, "Bug/Mobile"."""
    color: str | None = None
    visibility: str | None = None
    """"organization", or "delegates" (admins and the users it is shared with)."""
