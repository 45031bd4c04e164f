"""Tasks: standalone (for a team or people) or inside a conversation (subtasks)."""

from typing import Annotated, Any, Literal

from mcp.server.mcpserver import Context
from pydantic import Field

from .. import endpoints as ep
from ..bodies import TaskBody, compose
from ..docstrings import Described
from ..errors import InvalidArgumentError
from ..models import Task
from ..state import app_state
from ..toolsets import TASKS
from ._common import ConversationId, OrgId, TeamId, Until, UserId, UserIds, drop_none, split_page
from .declaration import tool

TaskId = Annotated[str, Field(description="From list_tasks.")]
State = Literal["todo", "in_progress", "closed"]
Title = Annotated[str, Field(min_length=1, max_length=1000, description="What to do.")]
Description = Annotated[str | None, Field(max_length=10000, description="Details, plain text.")]
DueAt = Annotated[int | None, Field(ge=0, description="Unix seconds.")]


class TaskPage(Described):
    tasks: list[Task]
    has_more: bool
    next_until: int | None = None
    """Pass as `until` (with the same filters) for the next page."""


class TaskResult(Described):
    task: Task | None = None


@tool(TASKS, "List tasks", ep.list_tasks)
async def list_tasks(
    ctx: Context[Any, Any],
    state: Annotated[State | None, Field(description="In this state.")] = None,
    organization: OrgId = None,
    team: TeamId = None,
    assignee: UserId = None,
    conversation: Annotated[str | None, Field(description="Its subtasks.")] = None,
    due_after: Annotated[int | None, Field(ge=0, description="Due from (Unix s).")] = None,
    due_before: Annotated[int | None, Field(ge=0, description="Due by (Unix s).")] = None,
    limit: Annotated[int, Field(ge=2, le=50, description="Per page.")] = 25,
    until: Until = None,
) -> TaskPage:
    """List tasks by state, team, assignee, conversation or due date, latest first."""
    params = drop_none(
        state=state,
        organization=organization,
        team=team,
        assignee=assignee,
        conversation=conversation,
        due_at_gteq=due_after,
        due_at_lteq=due_before,
        limit=limit,
        until=until,
    )
    found = await app_state(ctx).client.call(ep.list_tasks, params=params)
    served, cursor = split_page(found, limit, lambda t: t.last_activity_at)
    return TaskPage(tasks=[t.concise() for t in served], has_more=cursor is not None, next_until=cursor)


@tool(TASKS, "Get a task", ep.get_task)
async def get_task(ctx: Context[Any, Any], task_id: TaskId) -> TaskResult:
    """Get one task: state, due date, assignees and team spelled out."""
    found = await app_state(ctx).client.call(ep.get_task, ids=[task_id], id_field="task_id")
    return TaskResult(task=found.concise())


@tool(TASKS, "Create a task", ep.create_task, checks=ep.create_task)
async def create_task(
    ctx: Context[Any, Any],
    title: Title,
    description: Description = None,
    conversation: Annotated[ConversationId | None, Field(description="Parent, for a subtask.")] = None,
    team: TeamId = None,
    assignees: UserIds = None,
    organization: Annotated[str | None, Field(description="For team or assignees.")] = None,
    due_at: DueAt = None,
    state: Annotated[State | None, Field(description="Default todo.")] = None,
) -> TaskResult:
    """Create a task: a subtask of a conversation, or standalone for a team or assignees (shown in Tasks, not the
    Inbox)."""
    if not conversation and not (team or assignees):
        raise InvalidArgumentError(
            "conversation", "give a conversation (for a subtask), or a team or assignees (for a standalone task)."
        )
    task = compose(
        TaskBody,
        title=title,
        description=description,
        subtask=True if conversation else None,
        conversation=conversation,
        team=team,
        assignees=assignees,
        organization=organization,
        due_at=due_at,
        state=state,
    )
    parent = task.get("conversation")
    where = f"conversation={parent!r}" if parent else "assignee or team filter"
    context = {"title": task.get("title", ""), "where": where}
    return TaskResult(task=_concise(await app_state(ctx).client.call(ep.create_task, body=task, context=context)))


@tool(TASKS, "Update a task", ep.update_task)
async def update_task(
    ctx: Context[Any, Any],
    task_id: TaskId,
    title: Annotated[str | None, Field(min_length=1, max_length=1000, description="New title.")] = None,
    description: Description = None,
    state: Annotated[State | None, Field(description="closed completes it.")] = None,
    assignees: Annotated[UserIds, Field(description="Replaces them all.")] = None,
    team: TeamId = None,
    due_at: DueAt = None,
) -> TaskResult:
    """Change a task: complete it (state=closed), rename, reassign, move, or change its due date."""
    changes = compose(
        TaskBody, title=title, description=description, state=state, assignees=assignees, team=team, due_at=due_at
    )
    if not changes:
        raise InvalidArgumentError("state", "nothing to change: pass at least one change, such as state='closed'.")
    client = app_state(ctx).client
    updated = await client.call(ep.update_task, ids=[task_id], id_field="task_id", body=changes)
    return TaskResult(task=_concise(updated))


def _concise(task: Task | None) -> Task | None:
    return task.concise() if task else None
