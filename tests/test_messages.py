"""Custom-channel messages (tools/messages.py): recorded once per external id, sent to nobody."""

from __future__ import annotations

import pytest
from mcp import Client

from missive_mcp.sandbox import DEMO_ACCOUNT_ID, FakeMissive

from .conftest import call, fail

pytestmark = pytest.mark.anyio


async def test_create_message_records_an_incoming_message_once_per_external_id(mcp: Client, fake: FakeMissive) -> None:
    args = {
        "account": DEMO_ACCOUNT_ID,
        "from_field": {"id": "u-42", "username": "@ada", "name": "Ada"},
        "to_fields": [{"id": "support", "name": "Support"}],
        "body": "My order has not arrived.",
        "external_id": "ext-1",
    }
    first = await call(mcp, "create_message", **args)
    second = await call(mcp, "create_message", **args)
    assert fake.requests[-1].body == {
        "messages": {
            "account": args["account"],
            "body": args["body"],
            "external_id": "ext-1",
            "from_field": {"name": "Ada", "id": "u-42", "username": "@ada"},
            "to_fields": [{"name": "Support", "id": "support"}],
        }
    }
    assert first["message"]["id"] == second["message"]["id"]
    assert [r.method for r in fake.requests] == ["POST", "POST"]


async def test_a_blank_message_is_refused_before_sending(mcp: Client, fake: FakeMissive) -> None:
    text = await fail(
        mcp, "create_message", account=DEMO_ACCOUNT_ID, from_field={"id": "u-1"}, to_fields=[{"id": "s"}], body="  "
    )
    assert text == "Error executing tool create_message: Invalid `body`: must not be blank."
    assert fake.requests == []
