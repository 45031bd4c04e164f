"""Contacts, contact books and contact groups."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from ..docstrings import Described
from .base import MissiveModel, Name, Ref


class ContactInfo(Described):
    """One way to reach a contact."""

    kind: Literal["email", "twitter", "phone_number", "facebook", "physical_address", "url", "custom"] | str
    value: str
    label: str | None = None
    custom_label: str | None = None
    """With label=custom."""


class NewMembership(Described):
    """A group or organization to put a contact in (ids from list_contact_groups)."""

    group: str
    title: str | None = None
    location: str | None = None
    department: str | None = None
    description: str | None = None


class ContactMembership(NewMembership):
    """Membership of a group or organization, as Missive sends it."""

    group: Ref | str  # pyright: ignore[reportIncompatibleVariableOverride]
    """The group or organization (its id, with its name when Missive sends one)."""


class Contact(MissiveModel):
    id: str
    first_name: Name | None = None
    last_name: Name | None = None
    starred: bool | None = None
    """Starred by the token's owner in Missive."""
    notes: str | None = None
    """Free text the team keeps about the contact."""
    infos: list[ContactInfo] = Field(
        default_factory=list[ContactInfo], description="Every way to reach them: emails, phone numbers, addresses."
    )
    memberships: list[ContactMembership] = Field(
        default_factory=list[ContactMembership], description="The groups and organizations (companies) they are in."
    )


class ContactBook(MissiveModel):
    id: str
    name: Name | None = None
    shared: bool | None = None
    """True when the book is shared with an organization, false when it is the token owner's own."""


class ContactGroup(MissiveModel):
    id: str
    name: Name | None = None
    kind: str | None = None
    """group (a list of contacts) or organization (a company, the contact_organization filter of
    list_conversations)."""
