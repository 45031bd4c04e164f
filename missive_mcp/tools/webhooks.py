"""Webhooks: Missive rules that POST to a URL when something arrives."""

from typing import Annotated, Any

from mcp.server.mcpserver import Context
from pydantic import Field

from ..bodies import HookBody, body
from ..confirm import confirm, deleting
from ..docstrings import Described
from ..errors import InvalidArgumentError
from ..models import Webhook
from ..models.hooks import HookType
from ._common import Deleted, deleted, state

_EMAIL_ONLY = ("from_eq", "subject_contains")
_COMMENT_ONLY = ("is_task", "author", "mention")


class WebhookResult(Described):
    webhook: Webhook | None = None
    """Keep its id: Missive cannot list webhooks, and delete_webhook needs it."""


async def create_webhook(
    ctx: Context[Any, Any],
    type: Annotated[HookType, Field(description="What triggers it.")],
    url: Annotated[str, Field(pattern=r"^https://\S+$", max_length=2000, description="https URL Missive POSTs to.")],
    organization: Annotated[str | None, Field(description="Organization id; omit for a personal hook.")] = None,
    content_contains: Annotated[str | None, Field(description="Only when the content contains this.")] = None,
    content_starts_with: Annotated[str | None, Field(description="Only when the content starts with this.")] = None,
    content_ends_with: Annotated[str | None, Field(description="Only when the content ends with this.")] = None,
    from_eq: Annotated[str | None, Field(description="incoming_email: only from this address.")] = None,
    subject_contains: Annotated[str | None, Field(description="incoming_email: subject contains.")] = None,
    is_task: Annotated[bool | None, Field(description="new_comment: only task comments.")] = None,
    author: Annotated[str | None, Field(description="new_comment: only by this user id.")] = None,
    mention: Annotated[str | None, Field(description="new_comment: only mentioning this user id.")] = None,
) -> WebhookResult:
    """Create a webhook (a Missive rule) that POSTs to `url` on new mail, SMS, chat messages or comments.
    Missive checks the URL with a POST when saving. Keep the returned id: webhooks cannot be listed."""
    hook = body(
        HookBody,
        type=type,
        url=url,
        organization=organization,
        content_contains=content_contains,
        content_starts_with=content_starts_with,
        content_ends_with=content_ends_with,
        from_eq=from_eq,
        subject_contains=subject_contains,
        is_task=is_task,
        author=author,
        mention=mention,
    )
    for field in _EMAIL_ONLY if type != "incoming_email" else ():
        if field in hook:
            raise InvalidArgumentError(field, "only applies to type incoming_email.")
    for field in _COMMENT_ONLY if type != "new_comment" else ():
        if field in hook:
            raise InvalidArgumentError(field, "only applies to type new_comment.")
    created = await state(ctx).client.create_webhook(hook)
    return WebhookResult(webhook=created.concise() if created else None)


async def delete_webhook(
    ctx: Context[Any, Any], webhook_id: Annotated[str, Field(description="The id create_webhook returned.")]
) -> Deleted:
    """Delete a webhook (its Missive rule) by the id create_webhook returned."""
    await confirm(ctx, deleting(f"the webhook {webhook_id} (its Missive rule)"))
    confirmed = await state(ctx).client.delete_webhook(webhook_id)
    return deleted(webhook_id, confirmed)
