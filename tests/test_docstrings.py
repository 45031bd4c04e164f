"""Field descriptions come from the docstring under each field, as pydantic's use_attribute_docstrings."""

from __future__ import annotations

import importlib.util
import sys
import textwrap
from pathlib import Path
from types import ModuleType

import pytest

from missive_mcp.docstrings import attribute_docs
from missive_mcp.models import Message
from missive_mcp.settings import Settings

SOURCE = '''
from __future__ import annotations

from typing import Annotated, ClassVar

from pydantic import Field

from missive_mcp.docstrings import Described


class Thing(Described):
    plain: str
    """A required field."""
    counted: int = 3
    """One with a default."""
    noted: Annotated[str, Field(description="From the annotation.")] = ""
    """Loses to the annotation's description."""
    limit: ClassVar[int] = 5
    """A class variable, no field."""
    bare: str = ""

    class Inner(Described):
        depth: int = 0
        """Nested classes are found by their qualified name."""


class Wide(
    Described,
):
    width: int = 0
    """A class line that spans lines."""
'''


def load(tmp_path: Path, name: str, source: str) -> ModuleType:
    path = tmp_path / f"{name}.py"
    path.write_text(textwrap.dedent(source))
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def test_fields_are_described_by_the_docstring_under_them(tmp_path: Path) -> None:
    module = load(tmp_path, "described_things", SOURCE)
    fields = module.Thing.model_fields
    assert {name: field.description for name, field in fields.items()} == {
        "plain": "A required field.",
        "counted": "One with a default.",
        "noted": "From the annotation.",
        "bare": None,
    }
    assert fields["plain"].is_required() and fields["counted"].default == 3 and module.Thing.limit == 5
    assert module.Thing.model_json_schema()["properties"]["counted"] == {
        "default": 3,
        "description": "One with a default.",
        "title": "Counted",
        "type": "integer",
    }
    assert module.Thing.Inner.model_fields["depth"].description == "Nested classes are found by their qualified name."
    assert module.Wide.model_fields["width"].description == "A class line that spans lines."


def test_a_docstring_under_a_field_call_is_refused_with_the_fix(tmp_path: Path) -> None:
    source = '''
    from pydantic import Field
    from missive_mcp.docstrings import Described

    class Listed(Described):
        items: list[int] = Field(default_factory=list)
        """Would be lost: pydantic rebuilds the Field from its arguments."""
    '''
    with pytest.raises(TypeError, match=r"Listed\.items: say it in the Field: Field\(\.\.\., description='Would"):
        load(tmp_path, "described_listed", source)


def test_a_module_without_source_has_no_descriptions() -> None:
    assert attribute_docs("no_such_module_anywhere", "Thing") == {}


def test_the_packages_models_and_settings_are_described() -> None:
    assert Settings.model_fields["deadline"].description
    described = Message.model_fields["email_message_id"].description
    assert described == "The email's Message-ID header (find_message takes it)."
