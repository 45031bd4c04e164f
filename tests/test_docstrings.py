"""Field descriptions come from the docstring under each field, as pydantic's use_attribute_docstrings."""

from __future__ import annotations

import importlib
import importlib.util
import os
import subprocess
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


SIMPLE = '''
class Simple(Described):
    x: int = 0
    """Before."""
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


def test_a_class_without_source_lines_has_no_descriptions() -> None:
    made = type("Made", (), {"__module__": "no_such_module_anywhere", "__annotations__": {"x": "int"}})
    assert attribute_docs(made) == {}


def test_private_attributes_and_class_variables_stay_what_they_are(tmp_path: Path) -> None:
    source = '''
    from typing import ClassVar

    from pydantic import PrivateAttr

    from missive_mcp.docstrings import Described

    class Holder(Described):
        _token: str = PrivateAttr(default="")
        """Never serialized."""
        limit: "ClassVar[int]" = 5
        """A class constant, its annotation quoted."""
        shown: int = 0
        """A field."""
    '''
    module = load(tmp_path, "described_holder", source)
    holder = module.Holder()
    holder._token = "secret"
    assert holder._token == "secret" and module.Holder.limit == 5
    assert {name: f.description for name, f in module.Holder.model_fields.items()} == {"shown": "A field."}


def test_classes_are_found_wherever_the_module_makes_them(tmp_path: Path) -> None:
    source = '''
    from missive_mcp.docstrings import Described

    class Twice(Described):
        a: int = 0
        """The first Twice."""

    class Twice(Described):
        a: int = 0
        """The second Twice."""

    try:
        class Guarded(Described):
            g: int = 0
            """Made under try."""
    except ImportError:
        pass

    def factory():
        class Local(Described):
            x: int = 0
            """Made in a function."""
        return Local

    Local = factory()
    '''
    module = load(tmp_path, "described_places", source)
    assert module.Twice.model_fields["a"].description == "The second Twice."
    assert module.Guarded.model_fields["g"].description == "Made under try."
    assert module.Local.model_fields["x"].description == "Made in a function."


def test_a_script_run_directly_gets_its_descriptions(tmp_path: Path) -> None:
    script = tmp_path / "script.py"
    script.write_text(
        textwrap.dedent(
            '''
            from missive_mcp.docstrings import Described

            class Run(Described):
                x: int = 0
                """From a script."""

            print(Run.model_fields["x"].description)
            '''
        )
    )
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "From a script."


def test_an_edited_module_reloaded_is_read_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(tmp_path))
    module = load(tmp_path, "described_reloaded", "from missive_mcp.docstrings import Described\n\n" + SIMPLE)
    assert module.Simple.model_fields["x"].description == "Before."
    path = tmp_path / "described_reloaded.py"
    path.write_text(path.read_text().replace("Before.", "After, a longer docstring."))
    later = path.stat().st_mtime + 2
    os.utime(path, (later, later))  # a clock coarser than the two writes must not hide the edit
    importlib.reload(module)
    assert module.Simple.model_fields["x"].description == "After, a longer docstring."


def test_the_packages_models_and_settings_are_described() -> None:
    assert Settings.model_fields["deadline"].description
    described = Message.model_fields["email_message_id"].description
    assert described == "The email's Message-ID header (find_message takes it)."
