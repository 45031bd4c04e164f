"""The recipient-domain allow-list: every bypass an attacker tried is refused before anything reaches Missive."""

from __future__ import annotations

from typing import Any

import pytest
from mcp import Client

from missive_mcp.sandbox import FakeMissive
from missive_mcp.server import create_server

from .conftest import call, fail, settings_for

pytestmark = pytest.mark.anyio


def allow_listed(fake: FakeMissive, **extra: Any) -> Client:
    settings = settings_for(fake, allow_send=True, send_allowed_domains="acme.com,bücher.example", **extra)
    return Client(create_server(settings, transport=fake.transport()))


BARE = "is not one bare address: give each recipient as its own entry, address only (the name goes in `name`)."
WHITESPACE = "contains whitespace or a control character; give one bare address such as ana@acme.com."
ALONE = (
    "to_fields[0] gives an address and also a phone number, username or id: with the recipient allow-list on, give "
    "the address alone. Nothing was created or sent."
)
DOMAINS = "acme.com, xn--bcher-kva.example (MISSIVE_SEND_ALLOWED_DOMAINS)"
NOT_LISTED = (
    f"(to_fields[0]) is not allowed: this server sends only to addresses at {DOMAINS}; phone numbers, usernames and "
    "ids only if listed in MISSIVE_SEND_ALLOWED_RECIPIENTS. Nothing was created or sent."
)


@pytest.mark.parametrize(
    ("recipient", "said", "error"),
    [
        (
            {"address": "x@evil.com,y@acme.com"},
            "is not one bare address",
            f"Invalid `to_fields[0].address`: 'x@evil.com,y@acme.com' {BARE}",
        ),
        (
            {"address": "Bob <x@evil.com>, y@acme.com"},
            "contains whitespace",
            f"Invalid `to_fields[0].address`: {WHITESPACE}",
        ),
        (
            {"address": "Bob<x@evil.com>,y@acme.com"},
            "is not one bare address",
            f"Invalid `to_fields[0].address`: 'Bob<x@evil.com>,y@acme.com' {BARE}",
        ),
        (
            {"address": "x@evil.com@acme.com"},
            "exactly one '@'",
            "Invalid `to_fields[0].address`: 'x@evil.com@acme.com' must contain exactly one '@'.",
        ),
        ({"address": "x@evil.com\x00@acme.com"}, "control character", f"Invalid `to_fields[0].address`: {WHITESPACE}"),
        (
            {"address": "x@evil.com;y@acme.com"},
            "is not one bare address",
            f"Invalid `to_fields[0].address`: 'x@evil.com;y@acme.com' {BARE}",
        ),
        (
            {"address": "x@evil.com\ny@acme.com"},
            "whitespace or a control character",
            f"Invalid `to_fields[0].address`: {WHITESPACE}",
        ),
        ({"address": "y@acme.com", "phone_number": "+15551234567"}, "give the address alone", ALONE),
        ({"address": "y@acme.com", "username": "evil"}, "give the address alone", ALONE),
        ({"address": "y@acme.com", "id": "evil-user"}, "give the address alone", ALONE),
        ({"phone_number": "+15551234567"}, "MISSIVE_SEND_ALLOWED_RECIPIENTS", f"Sending to +15551234567 {NOT_LISTED}"),
        ({"username": "someone"}, "MISSIVE_SEND_ALLOWED_RECIPIENTS", f"Sending to someone {NOT_LISTED}"),
        (
            {"address": "x@evil.com"},
            "this server sends only to acme.com",
            f"Sending to x@evil.com is not allowed: this server sends only to {DOMAINS}. Nothing was created or sent.",
        ),
        (
            {"address": "x@acme.com.evil.com"},
            "this server sends only to acme.com",
            f"Sending to x@acme.com.evil.com is not allowed: this server sends only to {DOMAINS}. Nothing was created "
            "or sent.",
        ),
    ],
)
async def test_no_recipient_slips_past_the_domain_allow_list(
    fake: FakeMissive, recipient: dict[str, str], said: str, error: str
) -> None:
    async with allow_listed(fake) as mcp:
        text = await fail(mcp, "create_draft", body="Hi", send=True, to_fields=[recipient])
    assert said in text, text
    assert text == f"Error executing tool create_draft: {error}"
    assert fake.requests == []


async def test_an_allowed_address_is_sent_and_internationalised_domains_match_their_punycode(
    fake: FakeMissive,
) -> None:
    async with allow_listed(fake) as mcp:
        sent = await call(
            mcp,
            "create_draft",
            body="Hi",
            send=True,
            to_fields=[{"address": "Ana@ACME.com", "name": "Ana"}],
            cc_fields=[{"address": "info@xn--bcher-kva.example"}],
        )
    assert sent == {"sent": True}
    body = fake.requests[-1].body["drafts"]
    assert body["to_fields"] == [{"address": "Ana@ACME.com", "name": "Ana"}]
    assert body["cc_fields"] == [{"address": "info@xn--bcher-kva.example"}]


async def test_a_phone_number_the_operator_lists_may_be_sent_to(fake: FakeMissive) -> None:
    async with allow_listed(fake, send_allowed_recipients="+15551234567") as mcp:
        await call(mcp, "create_draft", body="Hi", send=True, to_fields=[{"phone_number": "+15551234567"}])
        refused = await fail(mcp, "create_draft", body="Hi", send=True, to_fields=[{"phone_number": "+15550000000"}])
    assert "+15550000000" in refused
    assert len(fake.requests) == 1


async def test_a_malformed_address_or_multi_line_name_is_refused_even_in_a_plain_draft(
    mcp: Client, fake: FakeMissive
) -> None:
    two = await fail(mcp, "create_draft", body="Hi", to_fields=[{"address": "a@acme.com, b@acme.com"}])
    assert "to_fields[0].address" in two
    injected = await fail(mcp, "create_draft", body="Hi", bcc_fields=[{"address": "a@acme.com", "name": "A\nBcc: x"}])
    assert "bcc_fields[0].name" in injected and "one line" in injected
    assert fake.requests == []
