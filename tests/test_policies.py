"""The server's policies (missive_mcp/policies/): listed once, in order, and told what happened by typed values,
never by the words of an error."""

from __future__ import annotations

import json
import logging

import anyio
import pytest
from mcp import Client

from missive_mcp.asking import Questions
from missive_mcp.policies import policies
from missive_mcp.policies.arguments import Arguments
from missive_mcp.policies.audit import Audit
from missive_mcp.policies.compact import Compact
from missive_mcp.policies.deadline import Deadline
from missive_mcp.policies.handshake import Handshake
from missive_mcp.policies.names import ResolveNames
from missive_mcp.policies.refusals import Refusals
from missive_mcp.sandbox import DEMO_CONVERSATION_ID, FakeMissive, Fault
from missive_mcp.server import TOOLS, create_server
from missive_mcp.settings import Settings
from missive_mcp.views import ViewLinks
from missive_mcp.watch import Listening

from .conftest import fail, settings_for


def test_the_policies_run_in_the_documented_order() -> None:
    order = [type(policy) for policy in policies(Settings(), TOOLS, {}, [])]
    assert order == [
        Listening,
        Handshake,
        Refusals,
        Arguments,
        Audit,
        Compact,
        Deadline,
        ResolveNames,
        ViewLinks,
        Questions,
    ]


def audit_lines(caplog: pytest.LogCaptureFixture) -> list[dict[str, object]]:
    return [json.loads(r.getMessage()) for r in caplog.records if r.name == "missive_mcp.audit"]


@pytest.mark.anyio
async def test_an_error_that_merely_says_its_outcome_is_unknown_is_audited_as_an_error(
    fake: FakeMissive, caplog: pytest.LogCaptureFixture
) -> None:
    """Missive's (or anyone's) words cannot make the audit record a refused write as "unknown"."""
    caplog.set_level(logging.INFO, logger="missive_mcp.audit")
    words = json.dumps({"error": "The write may or may not have happened; for a write, check its result"})
    fake.faults.append(Fault(status=400, body=words, method="POST", path_prefix="posts"))
    async with Client(create_server(settings_for(fake), transport=fake.transport())) as mcp:
        text = await fail(mcp, "create_post", conversation=DEMO_CONVERSATION_ID, text="Noted")
    assert "may or may not have happened" in text  # the words reached the agent...
    assert [line["outcome"] for line in audit_lines(caplog)] == ["error"]  # ...but not the audit


@pytest.mark.anyio
async def test_a_write_cut_by_the_deadline_is_audited_as_unknown(
    fake: FakeMissive, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="missive_mcp.audit")
    settings = settings_for(fake, timeout=30.0, deadline=1.0)
    async with Client(create_server(settings, transport=fake.transport())) as mcp:
        fake.faults.append(Fault(hang=True, method="POST"))
        with anyio.fail_after(10):
            await fail(mcp, "create_post", conversation=DEMO_CONVERSATION_ID, text="Noted")
    assert [line["outcome"] for line in audit_lines(caplog)] == ["unknown"]
