"""Analytics reports."""

from __future__ import annotations

from pydantic import ConfigDict

from ..docstrings import Described
from .base import MissiveModel


class Period(Described):
    """One period's figures, as Missive sends them: `global.totals.metrics` (conversations_created,
    messages_received, messages_sent, comments_created; reply times in seconds) and `global.tallies` (per user,
    team, shared label and account type)."""

    model_config = ConfigDict(extra="allow")

    start: int | None = None
    """Unix seconds."""
    end: int | None = None
    """Unix seconds."""


class AnalyticsReport(MissiveModel):
    """A finished report; the API's figures, as sent."""

    selected_period: Period | None = None
    """The period asked for."""
    previous_period: Period | None = None
    """The equally long period just before it, to compare with."""


class NewReport(MissiveModel):
    """The answer to creating a report: its id, to fetch it by once it is computed."""

    id: str
