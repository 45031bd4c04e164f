"""Contacts, contact books and contact groups."""

from typing import Annotated, Any, Literal

from mcp.server.mcpserver import Context
from pydantic import Field

from .. import endpoints as ep
from ..bodies import ContactBody, compose
from ..docstrings import Described
from ..errors import InvalidArgumentError
from ..models import Contact, ContactBook, ContactGroup, ContactInfo, NewMembership
from ..state import app_state
from ..toolsets import CONTACTS
from ._common import ContactBookId, ContactId, IdList, Offset, OffsetLimit, drop_none, per_id
from .declaration import tool


class ContactPage(Described):
    contacts: list[Contact]
    has_more: bool
    next_offset: int | None = None
    """Pass as `offset` for the next page; null at the end."""


class ContactBookPage(Described):
    contact_books: list[ContactBook]
    has_more: bool
    next_offset: int | None = None


class ContactGroupPage(Described):
    contact_groups: list[ContactGroup]
    has_more: bool
    next_offset: int | None = None


class Contacts(Described):
    contacts: list[Contact]


def offset_page(key: str, items: list[Any], limit: int, offset: int) -> dict[str, Any]:
    """An offset page: a full page means there may be more."""
    more = len(items) >= limit
    return {
        key: [item.concise() for item in items],
        "has_more": more,
        "next_offset": offset + len(items) if more else None,
    }


def contact_fields(
    infos: list[ContactInfo] | None = None, memberships: list[NewMembership] | None = None, **values: Any
) -> ContactBody:
    return compose(
        ContactBody,
        infos=[item.model_dump(exclude_none=True) for item in infos] if infos else None,
        memberships=[item.model_dump(exclude_none=True) for item in memberships] if memberships else None,
        **values,
    )


FirstName = Annotated[str | None, Field(description="Given name.")]
LastName = Annotated[str | None, Field(description="Family name.")]
Starred = Annotated[bool | None, Field(description="Starred in Missive.")]
Notes = Annotated[str | None, Field(description="Free text about them.")]
Infos = Annotated[list[ContactInfo] | None, Field(max_length=100, description="Emails, phones, addresses...")]
Memberships = Annotated[
    list[NewMembership] | None, Field(max_length=100, description="Groups (ids from list_contact_groups).")
]


@tool(CONTACTS, "List contacts", ep.list_contacts)
async def list_contacts(
    ctx: Context[Any, Any],
    contact_book: ContactBookId,
    search: Annotated[str | None, Field(description="Text to look for in names, emails, phones...")] = None,
    order: Annotated[Literal["last_name", "first_name", "created_at"] | None, Field(description="Sort by.")] = None,
    limit: OffsetLimit = 50,
    offset: Offset = 0,
    modified_since: Annotated[int | None, Field(ge=0, description="Unix seconds: only contacts changed since.")] = None,
    include_deleted: Annotated[bool | None, Field(description="Deleted contacts too.")] = None,
) -> ContactPage:
    """List or search the contacts of a contact book (ids from list_contact_books). Page with next_offset."""
    params = drop_none(
        contact_book=contact_book,
        search=search,
        order=order,
        limit=limit,
        offset=offset,
        modified_since=modified_since,
        include_deleted=include_deleted,
    )
    book = [contact_book]  # named in a "not found"
    contacts = await app_state(ctx).client.call(ep.list_contacts, params=params, ids=book)
    return ContactPage(**offset_page("contacts", contacts, limit, offset))


class ContactResult(Described):
    contact: Contact


@tool(CONTACTS, "Get a contact", ep.get_contact)
async def get_contact(ctx: Context[Any, Any], contact_id: ContactId) -> ContactResult:
    """Get one contact with all its details: infos (emails, phones), memberships, notes."""
    found = await app_state(ctx).client.call(ep.get_contact, ids=[contact_id], id_field="contact_id")
    return ContactResult(contact=found.concise())


@tool(CONTACTS, "Create a contact", ep.create_contacts)
async def create_contact(
    ctx: Context[Any, Any],
    contact_book: ContactBookId,
    first_name: FirstName = None,
    last_name: LastName = None,
    starred: Starred = None,
    notes: Notes = None,
    infos: Infos = None,
    memberships: Memberships = None,
) -> Contacts:
    """Create a contact in a contact book (ids from list_contact_books). Look it up with list_contacts first to
    avoid a duplicate: Missive does not de-duplicate contacts."""
    fields = contact_fields(
        first_name=first_name, last_name=last_name, starred=starred, notes=notes, infos=infos, memberships=memberships
    )
    if not fields:
        raise InvalidArgumentError("first_name", "give at least a name, an info (email, phone...) or notes.")
    new = [{"contact_book": contact_book, **fields}]
    created = await app_state(ctx).client.call(ep.create_contacts, body=new, context={"book": contact_book})
    return Contacts(contacts=[c.concise() for c in created])


@tool(CONTACTS, "Update contacts", ep.update_contacts)
async def update_contact(
    ctx: Context[Any, Any],
    contact_ids: Annotated[IdList, Field(min_length=1, max_length=50, description="Ids from list_contacts.")],
    first_name: FirstName = None,
    last_name: LastName = None,
    starred: Starred = None,
    notes: Notes = None,
    infos: Annotated[Infos, Field(description="Replaces all infos of the contact.")] = None,
    memberships: Annotated[Memberships, Field(description="Replaces all memberships.")] = None,
) -> Contacts:
    """Update one or more contacts with the same changes; pass only what changes. infos and memberships
    replace the whole list, so send the complete list (get_contact shows the current one)."""
    fields = contact_fields(
        first_name=first_name, last_name=last_name, starred=starred, notes=notes, infos=infos, memberships=memberships
    )
    if not fields:
        raise InvalidArgumentError("contact_ids", "nothing to change: pass at least one field to update.")
    items = per_id(contact_ids, fields)
    client = app_state(ctx).client
    updated = await client.call(ep.update_contacts, ids=contact_ids, id_field="contact_ids", body=items)
    return Contacts(contacts=[c.concise() for c in updated])


@tool(CONTACTS, "List contact books", ep.list_contact_books)
async def list_contact_books(ctx: Context[Any, Any], limit: OffsetLimit = 50, offset: Offset = 0) -> ContactBookPage:
    """List the contact books the token's owner can see; their ids serve list_contacts and create_contact."""
    books = await app_state(ctx).client.call(ep.list_contact_books, params={"limit": limit, "offset": offset})
    return ContactBookPage(**offset_page("contact_books", books, limit, offset))


@tool(CONTACTS, "List contact groups", ep.list_contact_groups)
async def list_contact_groups(
    ctx: Context[Any, Any],
    contact_book: ContactBookId,
    kind: Annotated[Literal["group", "organization"], Field(description="Groups, or companies (organizations).")],
    limit: OffsetLimit = 50,
    offset: Offset = 0,
) -> ContactGroupPage:
    """List a contact book's groups or organizations (companies); their ids serve contact memberships and the
    contact_organization filter of list_conversations."""
    params = {"contact_book": contact_book, "kind": kind, "limit": limit, "offset": offset}
    groups = await app_state(ctx).client.call(ep.list_contact_groups, params=params, ids=[contact_book])
    return ContactGroupPage(**offset_page("contact_groups", groups, limit, offset))
