"""Field descriptions from the docstring under each field, read from each module's source once.

This is what pydantic's `ConfigDict(use_attribute_docstrings=True)` does, at a tenth of the cost: before Python
3.13 pydantic finds each class's source by walking the interpreter's frames and asking `inspect` which module
each frame belongs to, which scans every loaded module (the SDK loads hundreds). That was 37 ms of our start-up,
before the first tools/list could be answered. Here each module is parsed once, on its first model."""

from __future__ import annotations

import ast
import inspect
import re
import sys
from functools import cache
from importlib.abc import InspectLoader
from typing import Any

from pydantic import BaseModel, Field
from pydantic.fields import FieldInfo


class Described(BaseModel):
    """A model whose fields take their descriptions from the docstring written under each of them."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        # Runs before pydantic collects the fields (inside type.__new__), so a description set here is the
        # field's own, exactly as if written `Field(description=...)`: in `model_fields` and in every schema.
        super().__init_subclass__(**kwargs)
        declared = inspect.get_annotations(cls)
        for name, doc in attribute_docs(cls.__module__, cls.__qualname__).items():
            if name not in declared:
                continue
            assigned = cls.__dict__.get(name)
            if isinstance(assigned, FieldInfo):
                # pydantic rebuilds a FieldInfo from the arguments it was made with, so one set afterwards is lost.
                raise TypeError(f"{cls.__qualname__}.{name}: say it in the Field: Field(..., description={doc!r})")
            if name in cls.__dict__:
                setattr(cls, name, Field(assigned, description=doc))
            else:
                setattr(cls, name, Field(description=doc))


def attribute_docs(module: str, qualname: str) -> dict[str, str]:
    """The docstring under each annotated attribute of class `qualname` in `module`, cleaned like pydantic's.

    Only the class's own lines are parsed (found by its `class` line and indentation, a small fraction of the
    module); the whole module when that is not enough (a class made elsewhere, an unusual layout)."""
    source = _source(module)
    if source is None:  # no source shipped (a frozen or bytecode-only install): no descriptions
        return {}
    outer = qualname.partition(".")[0]
    docs: dict[str, dict[str, str]] = {}
    try:
        _collect(ast.parse(_class_lines(source, outer)).body, "", docs)
    except SyntaxError:
        docs = _module_docs(module)
    return docs[qualname] if qualname in docs else _module_docs(module).get(qualname, {})


@cache
def _source(module: str) -> str | None:
    # The loader, not inspect.getsource: that one asks inspect.getmodule, the scan of every module this avoids.
    spec = getattr(sys.modules.get(module), "__spec__", None)
    loader = getattr(spec, "loader", None)
    try:
        return loader.get_source(module) if isinstance(loader, InspectLoader) else None
    except ImportError:
        return None


def _class_lines(source: str, name: str) -> str:
    """The top-level `class name` statement: its line and every line after it up to the next top-level one."""
    starts = [at for mark in ("(", ":") if (at := ("\n" + source).find(f"\nclass {name}{mark}")) >= 0]
    if not starts:
        return ""
    lines = source[min(starts) :].splitlines()
    end = next((i for i, line in enumerate(lines[1:], 1) if _TOP_LEVEL.match(line)), len(lines))
    return "\n".join(lines[:end])


_TOP_LEVEL = re.compile(r"[A-Za-z_@]")
"""A line that starts a new top-level statement (a closing bracket of a long `class` line does not)."""


@cache
def _module_docs(module: str) -> dict[str, dict[str, str]]:
    source = _source(module)
    docs: dict[str, dict[str, str]] = {}
    if source is not None:
        _collect(ast.parse(source).body, "", docs)
    return docs


def _collect(body: list[ast.stmt], prefix: str, docs: dict[str, dict[str, str]]) -> None:
    for node in body:
        if not isinstance(node, ast.ClassDef):
            continue
        qualname = prefix + node.name
        fields = docs.setdefault(qualname, {})
        for statement, following in zip(node.body, node.body[1:], strict=False):
            if (
                isinstance(statement, ast.AnnAssign)
                and isinstance(statement.target, ast.Name)
                and isinstance(following, ast.Expr)
                and isinstance(following.value, ast.Constant)
                and isinstance(following.value.value, str)
                and not _described_or_classvar(statement.annotation)
            ):
                fields[statement.target.id] = inspect.cleandoc(following.value.value)
        _collect(node.body, qualname + ".", docs)


def _described_or_classvar(annotation: ast.expr) -> bool:
    """A class variable is no field; `Annotated[..., Field(description=...)]` wins over the docstring (as in
    pydantic)."""
    for node in ast.walk(annotation):
        if (isinstance(node, ast.Name) and node.id == "ClassVar") or (
            isinstance(node, ast.Attribute) and node.attr == "ClassVar"
        ):
            return True
        if isinstance(node, ast.Call) and any(k.arg == "description" for k in node.keywords):
            return True
    return False
