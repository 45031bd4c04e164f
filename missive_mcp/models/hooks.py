"""Webhooks: on Missive, a rule whose action POSTs to a URL."""

from __future__ import annotations

from typing import Literal

from .base import MissiveModel, Ref

HookType = Literal[
    "incoming_email",
    "incoming_sms_message",
    "incoming_facebook_message",
    "incoming_whatsapp_message",
    "incoming_twilio_chat_message",
    "new_comment",
]


class Webhook(MissiveModel):
    """A webhook as create_webhook answers it; its id is what delete_webhook takes. Missive cannot list them."""

    id: str
    type: HookType | str | None = None
    """What fires it: an incoming email, SMS, Facebook, WhatsApp or Twilio chat message, or a new comment."""
    url: str | None = None
    """Where Missive POSTs; it must answer within 15 s."""
    organization: Ref | str | None = None
    """None for a personal hook."""
    content_contains: str | None = None
    content_starts_with: str | None = None
    content_ends_with: str | None = None
    from_eq: str | None = None
    """incoming_email only: the sender's address."""
    subject_contains: str | None = None
    """incoming_email only."""
    is_task: bool | None = None
    """new_comment only: comments that are tasks."""
    author: Ref | str | None = None
    """new_comment only: comments by this user."""
    mention: Ref | str | None = None
    """new_comment only: comments mentioning this user."""
