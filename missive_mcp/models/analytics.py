"""Analytics reports."""

from __future__ import annotations

from typing import Any

from .base import MissiveModel


class AnalyticsReport(MissiveModel):
    """A finished report; the API's figures, as sent."""

    selected_period: dict[str, Any] | None = None
    previous_period: dict[str, Any] | None = None


class NewReport(MissiveModel):
    """The answer to creating a report: its id, to fetch it by once it is computed."""

    id: str
