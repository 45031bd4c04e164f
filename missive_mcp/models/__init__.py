"""Pydantic models of Missive objects, one module per resource."""

from .analytics import AnalyticsReport
from .base import MissiveModel, Ref
from .contacts import Contact, ContactBook, ContactGroup, ContactInfo, ContactMembership
from .conversations import Conversation
from .directory import Organization, SharedLabel, Team, User
from .messages import Address, Attachment, Comment, Message, Post

__all__ = [
    "Address",
    "AnalyticsReport",
    "Attachment",
    "Comment",
    "Contact",
    "ContactBook",
    "ContactGroup",
    "ContactInfo",
    "ContactMembership",
    "Conversation",
    "Message",
    "MissiveModel",
    "Organization",
    "Post",
    "Ref",
    "SharedLabel",
    "Team",
    "User",
]
