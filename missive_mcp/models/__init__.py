"""Pydantic models of Missive objects, one module per resource."""

from .analytics import AnalyticsReport, NewReport
from .base import MissiveModel, Ref
from .contacts import Contact, ContactBook, ContactGroup, ContactInfo, ContactMembership, NewMembership
from .conversations import Conversation, ConversationSummary
from .directory import Organization, SharedLabel, Team, User
from .hooks import Webhook
from .messages import Address, Attachment, Comment, Message
from .posts import Post, PostAttachment
from .responses import CannedResponse
from .tasks import Task

__all__ = [
    "Address",
    "AnalyticsReport",
    "Attachment",
    "CannedResponse",
    "Comment",
    "Contact",
    "ContactBook",
    "ContactGroup",
    "ContactInfo",
    "ContactMembership",
    "Conversation",
    "ConversationSummary",
    "Message",
    "MissiveModel",
    "NewMembership",
    "NewReport",
    "Organization",
    "Post",
    "PostAttachment",
    "Ref",
    "SharedLabel",
    "Task",
    "Team",
    "User",
    "Webhook",
]
