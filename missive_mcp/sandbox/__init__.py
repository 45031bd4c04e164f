"""A fake Missive REST API: stateful, in-process, quirks included. It serves the tests and `missive-mcp --demo`.

    fake = FakeMissive(report_delay=0)
    async with httpx2.AsyncClient(transport=fake.transport(), base_url=fake.base_url) as http:
        ...

It behaves like the live API as `missive-api-notes.md` records it, not like the hand-written excerpt: request
bodies in envelopes, checked strictly against the excerpt's schemas; list-shaped "get one" answers; empty 404s;
cursor pages whose `until` includes its boundary and that run past `limit` on tied timestamps; reports that 404
while pending and after expiry; per-token rate limits answered with 429; attachments downloadable without the
token at pre-signed URLs that expire. `Fault`s inject failures; `echo_token=True` leaks the caller's token back.
The operations beyond the excerpt (posts, tasks, responses, labels, teams, hooks) follow Missive's documentation.

Modules: `fake` (FakeMissive, the request gate, transports), `app` (the routes), `workspace` (state and rules),
`render` (live JSON shapes), `seed` (the demo workspace and its ids), `spec` (body checks), `limits`,
`analytics`.
"""

from .fake import BASE_URL, DEMO_TOKEN, ECHO_HEADER, FakeMissive, Fault, RecordedRequest
from .seed import (
    DEMO_ACCOUNT_ID,
    DEMO_BILLING_TEAM_ID,
    DEMO_CLOSED_CONVERSATION_ID,
    DEMO_CONTACT_BOOK_ID,
    DEMO_CONTACT_GROUP_ID,
    DEMO_CONTACT_ID,
    DEMO_CONTACT_ORGANIZATION_ID,
    DEMO_CONVERSATION_ID,
    DEMO_DRAFT_ID,
    DEMO_IMAGE_ATTACHMENT_ID,
    DEMO_INJECTION_MESSAGE_ID,
    DEMO_LABEL_IDS,
    DEMO_LONG_MESSAGE_ID,
    DEMO_MESSAGE_ID,
    DEMO_ORG_ID,
    DEMO_PDF_ATTACHMENT_ID,
    DEMO_PERSONAL_RESPONSE_ID,
    DEMO_POST_ID,
    DEMO_RESPONSE_ID,
    DEMO_SENDER,
    DEMO_SENDERS,
    DEMO_SUBTASK_ID,
    DEMO_TASK_ID,
    DEMO_TEAM_ID,
    DEMO_TEMPLATE_RESPONSE_ID,
    DEMO_TEXT_ATTACHMENT_ID,
    DEMO_USER_ID,
    TIED_AT,
    TIED_CONVERSATION_IDS,
    seed_bulk,
)
from .workspace import Workspace

__all__ = [
    "BASE_URL",
    "DEMO_ACCOUNT_ID",
    "DEMO_BILLING_TEAM_ID",
    "DEMO_CLOSED_CONVERSATION_ID",
    "DEMO_CONTACT_BOOK_ID",
    "DEMO_CONTACT_GROUP_ID",
    "DEMO_CONTACT_ID",
    "DEMO_CONTACT_ORGANIZATION_ID",
    "DEMO_CONVERSATION_ID",
    "DEMO_DRAFT_ID",
    "DEMO_IMAGE_ATTACHMENT_ID",
    "DEMO_INJECTION_MESSAGE_ID",
    "DEMO_LABEL_IDS",
    "DEMO_LONG_MESSAGE_ID",
    "DEMO_MESSAGE_ID",
    "DEMO_ORG_ID",
    "DEMO_PDF_ATTACHMENT_ID",
    "DEMO_PERSONAL_RESPONSE_ID",
    "DEMO_POST_ID",
    "DEMO_RESPONSE_ID",
    "DEMO_SENDER",
    "DEMO_SENDERS",
    "DEMO_SUBTASK_ID",
    "DEMO_TASK_ID",
    "DEMO_TEAM_ID",
    "DEMO_TEMPLATE_RESPONSE_ID",
    "DEMO_TEXT_ATTACHMENT_ID",
    "DEMO_TOKEN",
    "DEMO_USER_ID",
    "ECHO_HEADER",
    "TIED_AT",
    "TIED_CONVERSATION_IDS",
    "FakeMissive",
    "Fault",
    "RecordedRequest",
    "Workspace",
    "seed_bulk",
]
