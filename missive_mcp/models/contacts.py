"""Contacts, contact books and contact groups."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from ..docstrings import Described
from .base import MissiveModel, Name


class ContactInfo(Described):
    """One way to reach a contact."""

    kind: Literal["email", "twitter", "phone_number", "facebook", "physical_address", "url", "custom"] | str
    value: str
    label: str | None = None
    custom_label: str | None = None


class ContactMembership(Described):
    """Membership of a group or organization (ids from list_contact_groups)."""

    group: str | dict[str, object]
    title: str | None = None
    location: str | None = None
    department: str | None = None
    description: str | None = None


class Contact(MissiveModel):
    id: str
    first_name: Name | None = None
    last_name: Name | None = None
    starred: bool | None = None
    notes: str | None = None
    infos: list[ContactInfo] = Field(default_factory=list[ContactInfo])
    memberships: list[ContactMembership] = Field(default_factory=list[ContactMembership])


class ContactBook(MissiveModel):
    id: str
    name: Name | None = None
    shared: bool | None = None


class ContactGroup(MissiveModel):
    id: str
    name: Name | None = None
    kind: str | None = None
