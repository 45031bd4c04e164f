"""Canned responses: the team's (or one person's) reusable replies."""

from __future__ import annotations

from pydantic import Field

from .base import MissiveModel, Ref
from .messages import Address, Attachment


class CannedResponse(MissiveModel):
    """A canned response (`/responses`), shared with an organization or personal to one user."""

    id: str
    """What get_response, update_response and delete_response take."""
    title: str | None = None
    """The name the team picks it by."""
    subject: str | None = None
    """Subject a reply started from it gets."""
    body: str | None = None
    """HTML with placeholders such as {{contact.first_name}}; inline images name an attachment by
    data-missive-attachment-id."""
    organization: Ref | str | None = None
    """Set on a response shared with an organization."""
    user: Ref | str | None = None
    """Set on a personal response."""
    share_with_team: Ref | str | None = None
    """The team it is limited to, if any."""
    shared_labels: list[Ref | str] | None = None
    """Labels a draft started from it gets."""
    to_fields: list[Address] = Field(default_factory=list[Address], description="Default recipients.")
    cc_fields: list[Address] = Field(default_factory=list[Address])
    bcc_fields: list[Address] = Field(default_factory=list[Address])
    external_id: str | None = None
    """With `external_source`: the key an outside system finds it by (unique per organization or user)."""
    external_source: str | None = None
    attachments: list[Attachment] = Field(
        default_factory=list[Attachment], description="Files; an update that sends attachments replaces them all."
    )
    modified_at: int | None = None
    """Unix seconds."""

    def concise(self) -> CannedResponse:
        """Without empty lists."""
        lean: CannedResponse = super().concise()
        if not lean.shared_labels:
            lean.shared_labels = None
        return lean
