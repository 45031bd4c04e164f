"""The endpoint table (endpoints.py): every row well-formed, its retry class matching its method, every kind's
"where ids come from" naming real tools, and Missive's rules worded exactly."""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest

from missive_mcp import client, endpoints
from missive_mcp.endpoints import (
    CONVERSATION_CHANGES,
    Done,
    Endpoint,
    Excludes,
    Kind,
    Many,
    One,
    RequiredWith,
    Retry,
    Unread,
    Written,
)
from missive_mcp.server import TOOLS

ROWS = {name: row for name, row in vars(endpoints).items() if isinstance(row, Endpoint)}
KINDS = {name: kind for name, kind in vars(endpoints).items() if isinstance(kind, Kind)}
TOOL_NAMES = {tool.name for tool in TOOLS}


def test_every_row_is_declared_by_a_tool_and_no_other_table_exists() -> None:
    declared = {row for tool in TOOLS for row in tool.calls}
    assert declared == set(ROWS.values()), [name for name, row in ROWS.items() if row not in declared]
    package = Path(client.__file__).parent
    for source in package.rglob("*.py"):
        if source.name != "endpoints.py":  # the client and the tools read rows; they do not make their own
            assert "Endpoint(" not in source.read_text(), source


@pytest.mark.parametrize("name", sorted(ROWS))
def test_each_row_is_well_formed(name: str) -> None:
    row = ROWS[name]
    assert row.method in ("GET", "POST", "PATCH", "DELETE")
    if name == "download_attachment":  # a pre-signed URL on Missive's file host, used as the message gives it
        assert (row.path, row.retry, row.answer) == ("{url}", Retry.SAFE, Unread())
        return
    assert re.fullmatch(r"[a-z_]+(/[a-z_]+)?(/\{id\}(/[a-z_]+)?)?", row.path), row.path
    assert row.kind in KINDS.values()
    assert row.destructive is (row.method in ("PATCH", "DELETE") or name == "merge_conversations")
    if row.method == "GET":
        assert (row.retry, row.envelope, row.rules) == (Retry.SAFE, None, ())
        assert isinstance(row.answer, Many | One)
    if row.method in ("PATCH", "DELETE"):
        assert row.retry is Retry.IDEMPOTENT and "{id}" in row.path
    if row.method == "DELETE":
        assert (row.answer, row.envelope) == (Done(), None)
    if row.method == "POST":
        # Report creation changes nothing a person sees: the one POST retried like a read.
        assert row.retry is (Retry.SAFE if name == "create_analytics_report" else Retry.UNSAFE)
    if row.retry is Retry.UNSAFE:
        assert row.verify, f"{name}: an unsafe write must say how to check a lost answer"
    else:
        assert row.verify == ""
    if row.method == "PATCH" or (row.method == "POST" and not row.path.endswith("/merge")):
        assert isinstance(row.answer, Many | Written)
        assert row.envelope == row.answer.key, f"{name}: Missive answers in the envelope it was sent"


@pytest.mark.parametrize("name", sorted(ROWS))
def test_a_verify_sentence_names_a_tool_and_only_known_fields(name: str) -> None:
    verify = ROWS[name].verify
    fields = {field for _, field, _, _ in string.Formatter().parse(verify) if field}
    assert fields <= {"id", "where", "title", "name", "url", "book", "repeat"}, fields
    named = set(re.findall(r"\b(?:list|get|create)_[a-z_]+", verify))
    assert named <= TOOL_NAMES, named - TOOL_NAMES


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_where_ids_come_from_names_tools_that_exist(kind: str) -> None:
    named = set(re.findall(r"\b(?:list|get|read|create)_[a-z_]+", KINDS[kind].where_ids_come_from))
    assert named, KINDS[kind]
    missing = named - TOOL_NAMES
    if kind == "ATTACHMENT":  # get_attachment is issue 10's; read_conversation and get_messages exist
        missing -= {"get_attachment"}
    assert not missing, missing


def test_required_with_names_both_fields_and_where_the_id_comes_from() -> None:
    rule = RequiredWith("add_assignees", "organization", " (an id from list_organizations)")
    assert rule.problem({"add_assignees": ["u"]}) == (
        "`add_assignees` needs `organization` beside it (an id from list_organizations)"
    )
    assert rule.problem({"add_assignees": ["u"], "organization": "o"}) is None
    for absent in ({}, {"add_assignees": []}, {"add_assignees": None}, {"add_assignees": False}):
        assert rule.problem(absent) is None
    assert rule.problem({"add_assignees": ["u"], "organization": ""}) is not None


def test_excludes_refuses_both_together_only() -> None:
    rule = Excludes("close", "reopen")
    assert rule.problem({"close": True, "reopen": True}) == "`close` and `reopen` exclude each other: give one"
    assert rule.problem({"close": True, "reopen": False}) is None
    assert rule.problem({"reopen": True}) is None


def test_problems_checks_each_item_of_a_list_body_once() -> None:
    row = endpoints.update_conversations
    body = [
        {"id": "a", "add_shared_labels": ["l"]},
        {"id": "b", "add_shared_labels": ["l"], "close": True, "reopen": True},
    ]
    assert row.problems(body) == [
        "`add_shared_labels` needs `organization` beside it (an id from list_organizations)",
        "`close` and `reopen` exclude each other: give one",
    ]
    assert row.problems({"id": "a", "organization": "o", "add_users": ["u"]}) == []
    assert row.problems("not an object") == []


def test_the_conversation_rules_follow_the_addendum() -> None:
    assert [(type(r).__name__, *vars(r).values()) for r in CONVERSATION_CHANGES] == [
        ("RequiredWith", "add_users", "organization", " (an id from list_organizations)"),
        ("RequiredWith", "add_assignees", "organization", " (an id from list_organizations)"),
        ("RequiredWith", "remove_assignees", "organization", " (an id from list_organizations)"),
        ("RequiredWith", "add_shared_labels", "organization", " (an id from list_organizations)"),
        ("RequiredWith", "add_to_team_inbox", "team", " (the team whose inbox gets it, from list_teams)"),
        ("Excludes", "close", "reopen"),
    ]
    for row in (endpoints.update_conversations, endpoints.create_draft, endpoints.create_post):
        assert row.rules == CONVERSATION_CHANGES
