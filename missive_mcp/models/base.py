"""What every model of a Missive object shares: it keeps what the live API sends."""

from __future__ import annotations

from typing import Any, cast

from pydantic import BaseModel, ConfigDict


class MissiveModel(BaseModel):
    """A Missive object. Declared fields are the ones an agent acts on; everything else the API sent is kept
    as extra fields, served only with `response_format="detailed"`."""

    model_config = ConfigDict(extra="allow", populate_by_name=True, use_attribute_docstrings=True)

    def concise(self) -> Any:
        """A copy without the undeclared fields, recursively."""
        data = {name: _concise(getattr(self, name)) for name in type(self).model_fields}
        return type(self).model_construct(_fields_set=self.model_fields_set, **data)


def _concise(value: Any) -> Any:
    if isinstance(value, MissiveModel):
        return value.concise()
    if isinstance(value, list):
        items = cast(list[Any], value)  # checked just above; a model field's list holds what the field declares
        return [_concise(item) for item in items]
    return value


class Ref(MissiveModel):
    """A named reference to another object (organization, label, user, team)."""

    id: str
    name: str | None = None
