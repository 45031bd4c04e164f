"""Analytics reports: create one, then wait for it without the agent having to poll."""

import time
from typing import Annotated, Any

import anyio
from mcp.server.mcpserver import Context
from pydantic import Field

from .. import endpoints as ep
from ..bodies import ReportBody, compose
from ..deadline import remaining
from ..docstrings import Described
from ..errors import DecodingError, InvalidArgumentError, MissiveError, NotFoundError
from ..models import AnalyticsReport
from ..state import app_state
from ..toolsets import ANALYTICS, DIRECTORY
from ._common import OrganizationId
from .declaration import tool

POLL_INTERVAL = 0.75
"""The wait between polls while a report is young, so one that finishes in the usual 2-3 s is answered at
most this long (plus a round trip) after it is ready. The first polls come sooner (a quarter, a half...)."""
QUICK_FOR = 10.0
"""Seconds of quick polling. After that the report is a slow one and the waits grow by half each time up
to SLOW_INTERVAL, the 5 s Missive suggests, so one long wait does not spend the shared rate budget."""
SLOW_INTERVAL = 5.0
ANSWER_MARGIN = 3.0
"""Seconds of the call's deadline kept for the last poll and the answer after the wait gives up."""

Ids = Annotated[list[str] | None, Field(max_length=100)]


class ReportCreated(Described):
    report_id: str
    """Pass to get_analytics_report within a minute or so."""


class ReportResult(Described):
    report_id: str
    report: AnalyticsReport
    """Figures under selected_period.global.totals.metrics, beside tallies and previous_period."""


@tool(ANALYTICS, "Start an analytics report", ep.create_analytics_report)
async def create_analytics_report(
    ctx: Context[Any, Any],
    organization: OrganizationId,
    start: Annotated[int, Field(ge=0, description="Period start, Unix seconds.")],
    end: Annotated[int, Field(ge=0, description="Period end, Unix seconds.")],
    time_zone: Annotated[str | None, Field(description="IANA, e.g. Europe/Paris.")] = None,
    teams: Annotated[Ids, Field(description="From list_teams.")] = None,
    users: Annotated[Ids, Field(description="From list_users.")] = None,
    accounts: Annotated[Ids, Field(description="Account ids.")] = None,
    account_types: Annotated[Ids, Field(description="e.g. email, sms.")] = None,
    shared_labels: Annotated[Ids, Field(description="From list_shared_labels.")] = None,
) -> ReportCreated:
    """Start an analytics report (volumes, response times...) of an organization for a period; pass its id to
    get_analytics_report. Filters need the Business plan."""
    if end <= start:
        raise InvalidArgumentError("end", "must be after start (both Unix seconds).")
    report = compose(
        ReportBody,
        organization=organization,
        start=start,
        end=end,
        time_zone=time_zone,
        teams=teams,
        users=users,
        accounts=accounts,
        account_types=account_types,
        shared_labels=shared_labels,
    )
    created = await app_state(ctx).client.call(ep.create_analytics_report, body=report)
    if created is None:
        raise DecodingError("Missive created the report but sent no report id; create it again.")
    return ReportCreated(report_id=created.id)


def poll_interval(polls: int, waited: float, previous: float) -> float:
    """The wait before the next poll, after `polls` polls and `waited` seconds (see POLL_INTERVAL)."""
    if waited < QUICK_FOR:
        return POLL_INTERVAL * min(1.0, polls / 4)
    return min(SLOW_INTERVAL, max(previous, POLL_INTERVAL) * 1.5)


@tool(DIRECTORY, "Get an analytics report", ep.create_analytics_report, ep.get_analytics_report)
async def get_analytics_report(
    ctx: Context[Any, Any],
    report_id: Annotated[str | None, Field(description="A started report's.")] = None,
    organization: Annotated[str | None, Field(description="Organization id.")] = None,
    start: Annotated[int | None, Field(ge=0, description="Unix seconds.")] = None,
    end: Annotated[int | None, Field(ge=0, description="Unix seconds.")] = None,
    timeout: Annotated[float, Field(ge=0, le=300, description="Seconds to wait.")] = 45,
) -> ReportResult:
    """An analytics report's figures (volumes, response times...), once computed: give organization, start and end
    for a new one, or a report_id."""
    if report_id is None:
        if organization is None or start is None or end is None:
            missing = [
                name
                for name, value in (("organization", organization), ("start", start), ("end", end))
                if value is None
            ]
            raise InvalidArgumentError(
                missing[0],
                "give organization, start and end (Unix seconds) for a new report, or the report_id of one "
                "create_analytics_report started.",
            )
        report_id = (await create_analytics_report(ctx, organization, start, end)).report_id
    elif organization is not None or start is not None or end is not None:
        raise InvalidArgumentError(
            "report_id", "give either a report_id, or organization, start and end for a new report; not both."
        )
    client = app_state(ctx).client
    # The wait ends before the call's deadline (and so before the client gives up), leaving room for the answer.
    left = remaining()
    timeout = timeout if left is None else max(0.0, min(timeout, left - ANSWER_MARGIN))
    started = time.monotonic()
    polls = 0
    interval = 0.0
    while True:
        try:
            report = await client.call(ep.get_analytics_report, ids=[report_id], id_field="report_id")
            return ReportResult(report_id=report_id, report=report)
        except NotFoundError:
            pass  # Missive answers 404 while the report is pending.
        polls += 1
        waited = time.monotonic() - started
        interval = poll_interval(polls, waited, interval)
        if waited + interval > timeout:
            raise MissiveError(
                f"Report {report_id!r} was not ready after {waited:.0f} s. It may still be computing: call "
                f"get_analytics_report again with report_id={report_id!r}. If it keeps failing, it expired "
                "(reports last 60 s after they finish) or the id is wrong: call get_analytics_report with "
                "organization, start and end for a new one."
            )
        await ctx.report_progress(waited, timeout, f"Report not ready yet (waited {waited:.0f} s, poll {polls}).")
        await anyio.sleep(interval)
