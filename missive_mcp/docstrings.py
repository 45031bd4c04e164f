"""Field descriptions from the docstring under each field, read from the class's own source lines.

This is what pydantic's `ConfigDict(use_attribute_docstrings=True)` does, at a fraction of the cost: before
Python 3.13 pydantic finds each class's source by walking the interpreter's frames and asking `inspect` which
module each frame belongs to, which scans every loaded module (the SDK loads hundreds). That was 37 ms of our
start-up, before the first tools/list could be answered. Here a class's lines are found by its `class` line
(`__firstlineno__` on Python 3.13+) and parsed alone; the whole module only when that is not enough.

One difference from pydantic, on purpose: a docstring under a field wins over a description hidden in a type
alias (`Id = Annotated[str, Field(description=...)]`); one written in the field's own annotation still wins.
A class made inside a function is found too, but one made by a call (`type(...)`, `create_model`) has no source
lines and gets no descriptions."""

from __future__ import annotations

import ast
import inspect
import os
import re
import sys
import tokenize
from collections import Counter
from functools import cache
from importlib.abc import InspectLoader
from typing import Any, ClassVar, get_origin

from pydantic import BaseModel, Field
from pydantic.fields import FieldInfo


class Described(BaseModel):
    """A model whose fields take their descriptions from the docstring written under each of them."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        # Runs before pydantic collects the fields (inside type.__new__), so a description set here is the
        # field's own, exactly as if written `Field(description=...)`: in `model_fields` and in every schema.
        super().__init_subclass__(**kwargs)
        declared = inspect.get_annotations(cls)
        for name, doc in attribute_docs(cls).items():
            if name not in declared or name.startswith("_") or _is_classvar(declared[name]):
                continue  # a private attribute or a class variable: not a field
            assigned = cls.__dict__.get(name)
            if isinstance(assigned, FieldInfo):
                # pydantic rebuilds a FieldInfo from the arguments it was made with, so one set afterwards is lost.
                raise TypeError(f"{cls.__qualname__}.{name}: say it in the Field: Field(..., description={doc!r})")
            if name in cls.__dict__:
                setattr(cls, name, Field(assigned, description=doc))
            else:
                setattr(cls, name, Field(description=doc))


def attribute_docs(cls: type) -> dict[str, str]:
    """The docstring under each annotated attribute of `cls`, cleaned like pydantic's (`inspect.cleandoc`)."""
    found = _source(cls.__module__)
    if found is None:  # no source shipped (a frozen or bytecode-only install): no descriptions
        return {}
    source, stamp = found
    # The n-th class of this name made in this module is the n-th in its source (classes are made in order).
    made = _made[cls.__module__, stamp, cls.__qualname__]
    _made[cls.__module__, stamp, cls.__qualname__] += 1
    first_line: int | None = getattr(cls, "__firstlineno__", None)  # Python 3.13+
    if first_line is not None:
        lines = source.splitlines()[first_line - 1 :]
        while lines and not lines[0].lstrip().startswith("class "):
            lines = lines[1:]  # the decorators, which __firstlineno__ counts in
    elif "." not in cls.__qualname__ and (starts := _top_level_starts(source, cls.__qualname__)):
        lines = source[starts[made % len(starts)] :].splitlines()
    else:
        return _pick(_module_docs(cls.__module__, stamp).get(cls.__qualname__, []), made)
    try:
        tree = ast.parse(_block(lines)) if lines else ast.Module(body=[], type_ignores=[])
    except SyntaxError:  # an unusual layout: parse it all
        return _pick(_module_docs(cls.__module__, stamp).get(cls.__qualname__, []), made)
    node = tree.body[0] if tree.body else None
    return _fields(node) if isinstance(node, ast.ClassDef) else {}


_made: Counter[tuple[str, int, str]] = Counter()
"""How many classes of each name each module (as of its source's modification time) has made so far."""


def _pick(found: list[dict[str, str]], made: int) -> dict[str, str]:
    return found[made % len(found)] if found else {}


def _source(module: str) -> tuple[str, int] | None:
    """The module's source and its modification time (so a reloaded, edited module is read again)."""
    loaded = sys.modules.get(module)
    path = getattr(loaded, "__file__", None)
    try:
        stamp = os.stat(path).st_mtime_ns if isinstance(path, str) else 0
    except OSError:
        stamp = 0
    text = _read(module, path, stamp)
    return None if text is None else (text, stamp)


@cache
def _read(module: str, path: str | None, stamp: int) -> str | None:
    # The loader, not inspect.getsource: that one asks inspect.getmodule, the scan of every module this avoids.
    spec = getattr(sys.modules.get(module), "__spec__", None)
    loader = getattr(spec, "loader", None)
    try:
        if isinstance(loader, InspectLoader) and (text := loader.get_source(module)) is not None:
            return text
    except ImportError:
        pass
    if path is None or not path.endswith(".py"):
        return None
    try:  # a script run directly (`__main__` has no loader that gives source)
        with tokenize.open(path) as file:
            return file.read()
    except (OSError, SyntaxError):
        return None


def _top_level_starts(source: str, name: str) -> list[int]:
    """Where each top-level `class name` statement starts in `source`."""
    return [found.start() for found in re.finditer(rf"^class {re.escape(name)}\b", source, re.MULTILINE)]


def _block(lines: list[str]) -> str:
    """A `class` statement from its first line: up to the next line as little indented that starts a statement
    (a closing bracket of a long `class` line does not), dedented."""
    indent = len(lines[0]) - len(lines[0].lstrip())
    end = len(lines)
    for number, line in enumerate(lines[1:], 1):
        stripped = line.lstrip()
        if stripped and len(line) - len(stripped) <= indent and _STATEMENT.match(stripped):
            end = number
            break
    return "\n".join(line[indent:] for line in lines[:end])


_STATEMENT = re.compile(r"[A-Za-z_@]")


@cache
def _module_docs(module: str, stamp: int) -> dict[str, list[dict[str, str]]]:
    """Every class of the module, by qualified name, in source order: the field docstrings of each."""
    found = _source(module)
    docs: dict[str, list[dict[str, str]]] = {}
    if found is not None:
        _collect(ast.parse(found[0]).body, "", docs)
    return docs


def _collect(body: list[ast.stmt], prefix: str, docs: dict[str, list[dict[str, str]]]) -> None:
    for node in body:
        if isinstance(node, ast.ClassDef):
            docs.setdefault(prefix + node.name, []).append(_fields(node))
            _collect(node.body, f"{prefix}{node.name}.", docs)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            _collect(node.body, f"{prefix}{node.name}.<locals>.", docs)
        else:  # classes under if, try, with, for and while keep their enclosing name
            for child in ast.iter_child_nodes(node):
                if isinstance(child, ast.stmt):
                    _collect([child], prefix, docs)
                elif isinstance(child, ast.ExceptHandler):
                    _collect(child.body, prefix, docs)


def _fields(node: ast.ClassDef) -> dict[str, str]:
    fields: dict[str, str] = {}
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
    return fields


def _described_or_classvar(annotation: ast.expr) -> bool:
    """A class variable is no field; `Annotated[..., Field(description=...)]` wins over the docstring (as in
    pydantic)."""
    for node in ast.walk(annotation):
        if (isinstance(node, ast.Name) and node.id == "ClassVar") or (
            isinstance(node, ast.Attribute) and node.attr == "ClassVar"
        ):
            return True
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and _is_classvar(node.value):
            return True
        if isinstance(node, ast.Call) and any(k.arg == "description" for k in node.keywords):
            return True
    return False


def _is_classvar(annotation: object) -> bool:
    if isinstance(annotation, str):
        return re.match(r"\s*(typing\.)?ClassVar\b", annotation) is not None
    return annotation is ClassVar or get_origin(annotation) is ClassVar
