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


class SharedLabel(Ref):
    organization: Ref | str | None = None
    parent_id: str | None = None
