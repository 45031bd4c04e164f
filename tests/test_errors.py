"""The error tree (errors.py): every error reaches the agent as its sentence, and the sentences composed from an
endpoint row say what happened and what to do, never "try again" for a write that may have happened."""

from __future__ import annotations

import inspect
import re

import pytest
from mcp.server.mcpserver.exceptions import ToolError

from missive_mcp import endpoints, errors
from missive_mcp.errors import (
    APIConnectionError,
    APITimeoutError,
    ClientError,
    DecodingError,
    GatewayError,
    InvalidArgumentError,
    MissiveError,
    NotFoundError,
    ServerError,
    accepted_but_unreadable,
    described,
    outcome_unknown,
    status_error,
    verification,
    with_advice,
)

CLASSES = [c for _, c in inspect.getmembers(errors, inspect.isclass) if issubclass(c, Exception)]


def test_every_error_is_a_tool_error_so_its_sentence_reaches_the_agent() -> None:
    ours = [c for c in CLASSES if c.__module__ == errors.__name__]
    drawn = re.findall(r"^ {4}(?:[│ ]{3}[ ]|[├└]── )*(\w+Error)\b", errors.__doc__ or "", re.M)
    assert sorted(drawn) == sorted(c.__name__ for c in ours), "the module's tree draws every error class, no other"
    assert all(issubclass(c, MissiveError) and issubclass(c, ToolError) for c in ours)


def test_an_invalid_argument_names_its_field() -> None:
    error = InvalidArgumentError("limit", "must be at most 50.")
    assert (str(error), error.field) == ("Invalid `limit`: must be at most 50.", "limit")


def test_described_names_one_id_several_or_the_kind() -> None:
    row = endpoints.get_conversation
    assert described(row, ["a"]) == "Conversation 'a'"
    assert described(row, ["a", "b"]) == "Conversation(s) 'a', 'b'"
    assert described(row, []) == "The conversation"


@pytest.mark.parametrize(
    ("api_message", "step"),
    [
        ("Please paginate at least one mailbox", "Pass one mailbox filter, e.g. inbox=true"),
        ("'organization' is required", "Pass `organization` (an id from list_organizations)."),
        ("'organization' must be a UUID", "Pass an organization id from list_organizations, not its name."),
        ("from_field does not match an available sender", "Use an address the token's owner can send from"),
        ("Invalid resource ID(s)", "Check the ids with the list tool that returns them."),
    ],
)
def test_missives_known_refusals_come_with_the_next_step(api_message: str, step: str) -> None:
    error = status_error(endpoints.list_conversations, 400, api_message)
    assert str(error).startswith(f"Missive refused the request (HTTP 400): {api_message}. {step}")


def test_a_4xx_without_a_reason_says_so() -> None:
    error = status_error(endpoints.list_conversations, 418, None)
    assert type(error) is ClientError
    assert str(error) == "Missive refused the request (HTTP 418): no reason given."


def test_advice_to_try_again_is_added_only_where_it_helps() -> None:
    server = with_advice(ServerError("Missive failed.", status=500, api_message="x"))
    assert (type(server), str(server), server.status, server.api_message) == (
        ServerError,
        "Missive failed. Try again in a moment.",
        500,
        "x",
    )
    gateway = with_advice(GatewayError("HTTP 502 from a gateway.", status=502))
    assert type(gateway) is GatewayError and str(gateway) == "HTTP 502 from a gateway. Try again in a moment."
    for kind in (APITimeoutError, APIConnectionError):
        advised = with_advice(kind("No answer."))
        assert type(advised) is kind and str(advised) == "No answer. Try again in a moment."
    refused = NotFoundError("Task 'x' was not found.", status=404)
    assert with_advice(refused) is refused
    unreadable = DecodingError("Unreadable.")
    assert with_advice(unreadable) is unreadable


def test_an_unknown_outcome_says_how_to_check_and_never_to_try_again() -> None:
    error = outcome_unknown(endpoints.create_draft, APITimeoutError("Missive did not answer."), {"where": "conv 'c'"})
    assert str(error) == (
        "Missive did not answer. The write may or may not have happened: Missive has no idempotency key, so do not "
        "simply repeat it. Look in list_conversation_drafts (and list_conversation_messages if it was sent) of "
        "conv 'c' before deciding whether to do it again."
    )


def test_an_accepted_write_with_an_unreadable_answer_says_it_happened() -> None:
    error = accepted_but_unreadable(endpoints.create_teams, "Missive answered oddly.", {"name": "Night"})
    assert type(error) is DecodingError
    assert str(error) == (
        "Missive answered oddly. Missive accepted the write, so it happened: do not repeat it (that would do it "
        "twice). Look for a team named 'Night' with list_teams."
    )


def test_verification_without_its_context_keeps_the_sentence_before_the_blank() -> None:
    assert verification(endpoints.create_teams, {}) == "Look for a team named"
    assert verification(endpoints.update_teams, {}) == "Check the result with the matching list tool"
    assert verification(endpoints.merge_conversations, {"id": "c1"}) == (
        "Call get_conversation with 'c1': after a merge it answers the target conversation"
    )
