"""Tasks: standalone, inside a conversation (subtasks), or a conversation that is itself a task."""

from __future__ import annotations

from typing import Literal

from .base import MissiveModel, Ref
from .conversations import Assignee

TaskState = Literal["todo", "in_progress", "closed"]


class Task(MissiveModel):
    # A task, as list_tasks and get_task send it. (A comment: a docstring would be sent in four output schemas.)

    id: str
    """What get_task and update_task take."""
    title: str | None = None
    description: str | None = None
    """Plain text."""
    state: TaskState | str | None = None
    """todo, in_progress or closed."""
    type: Literal["task", "conversation"] | str | None = None
    """"task" (standalone or subtask) or "conversation" (a conversation that is itself a task)."""
    subtask: bool | None = None
    """True for a task inside a conversation."""
    conversation: Ref | str | None = None
    """The conversation a subtask sits in (or that is the task), by id."""
    organization: Ref | str | None = None
    team: Ref | str | None = None
    """An id in lists, a team object from get_task."""
    assignees: list[Assignee | str] | None = None
    """Ids in lists, user objects from get_task."""
    due_at: int | None = None
    """Unix seconds, or None."""
    created_at: int | None = None
    last_activity_at: int | None = None
    """Unix seconds; also the `until` cursor of list_tasks (pass the oldest one minus 1 for the next page)."""

    def concise(self) -> Task:
        """The fields an agent acts on, without empty lists."""
        lean: Task = super().concise()
        if not lean.assignees:
            lean.assignees = None
        return lean
