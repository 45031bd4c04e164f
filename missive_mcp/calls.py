"""What one tool call has done so far, for the policies around it to read (a context variable, set per call).

The audit opens a record before the call runs; the name resolution records the arguments as sent (names
replaced by ids); a write whose answer was lost, or a call stopped at its deadline, marks the outcome unknown.
Tasks the call starts copy the context, and so share the record.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any


@dataclass
class CallRecord:
    """One tool call, as the policies around it see it."""

    arguments: dict[str, Any] = field(default_factory=dict[str, Any])
    """The arguments as sent to the tool: names already replaced by the ids they name."""
    outcome_unknown: bool = False
    """A write may or may not have happened: its answer was lost, or the call ran out of time."""


current_call: ContextVar[CallRecord | None] = ContextVar("current_call", default=None)


def mark_outcome_unknown() -> None:
    """Say that the running call's write may or may not have happened."""
    record = current_call.get()
    if record is not None:
        record.outcome_unknown = True
