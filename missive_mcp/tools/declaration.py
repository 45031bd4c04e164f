"""A tool's declaration, written beside its function: its toolset, its title, and the endpoint rows it calls.

Whether a tool reads or writes, and whether it is idempotent or destructive, follows from those rows
(`endpoints.py`): a tool whose every row is safe to retry reads; a write is idempotent when every write row is,
and destructive when one of its rows removes or replaces data. A declaration may say otherwise, with its reason.
The server's table, the read-only set, the README's tool table and the manifest's tool list are all built from
the declarations.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from types import ModuleType
from typing import TYPE_CHECKING, Any, Generic, Literal, ParamSpec, TypeVar

from mcp.types import ToolAnnotations

from ..endpoints import Endpoint, Retry
from ..toolsets import Toolset

if TYPE_CHECKING:
    from mcp.server.mcpserver.tools import Tool

P = ParamSpec("P")
R = TypeVar("R")
Access = Literal["read", "write"]


def _no_tools() -> dict[str, Tool]:
    return {}


@dataclass(frozen=True)
class ToolDeclaration(Generic[P, R]):
    """One tool: its function (whose name and docstring are the tool's), and what the server needs to know."""

    fn: Callable[P, R]
    toolset: Toolset
    title: str
    calls: tuple[Endpoint[Any], ...]
    """Every Missive operation the tool may call."""
    checks: Endpoint[Any] | None = None
    """The endpoint whose body rules (`Endpoint.rules`) the arguments must meet before anything is sent: set
    where the arguments are that endpoint's body."""
    destructive_because: str = ""
    """Why the tool is destructive although none of its rows is (a post that can also remove assignees)."""
    built: dict[str, Tool] = field(default_factory=_no_tools, compare=False, repr=False)
    """The SDK tool made from this declaration, per output-schema form (`schemas.build_tool`): made once, as
    it depends on nothing else, and shared by every server the process builds (the tests build hundreds)."""

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        return self.fn(*args, **kwargs)

    @property
    def name(self) -> str:
        return self.fn.__name__

    @property
    def access(self) -> Access:
        return "read" if all(row.retry is Retry.SAFE for row in self.calls) else "write"

    @property
    def idempotent(self) -> bool:
        return all(row.retry is not Retry.UNSAFE for row in self.calls)

    @property
    def destructive(self) -> bool:
        return bool(self.destructive_because) or any(row.destructive for row in self.calls)

    @property
    def annotations(self) -> ToolAnnotations:
        if self.access == "read":
            return ToolAnnotations(read_only_hint=True, open_world_hint=True)
        return ToolAnnotations(
            read_only_hint=False,
            destructive_hint=self.destructive,
            idempotent_hint=self.idempotent,
            open_world_hint=True,
        )


def tool(
    toolset: Toolset,
    title: str,
    *calls: Endpoint[Any],
    checks: Endpoint[Any] | None = None,
    destructive_because: str = "",
) -> Callable[[Callable[P, R]], ToolDeclaration[P, R]]:
    """Declare the function below as a tool of `toolset` that calls the rows `calls`."""

    def declare(fn: Callable[P, R]) -> ToolDeclaration[P, R]:
        return ToolDeclaration(fn, toolset, title, calls, checks, destructive_because)

    return declare


def declared(modules: Iterable[ModuleType]) -> list[ToolDeclaration[..., Any]]:
    """The tools declared in these modules, module by module, each in the order it is written."""
    found: list[ToolDeclaration[..., Any]] = []
    for module in modules:
        for value in vars(module).values():
            if isinstance(value, ToolDeclaration) and value.fn.__module__ == module.__name__:
                found.append(value)  # pyright: ignore[reportUnknownArgumentType]
    return found
