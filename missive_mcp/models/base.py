"""What every model of a Missive object shares: it keeps what the live API sends."""

from __future__ import annotations

from typing import Annotated, Any, cast

from pydantic import AfterValidator, ConfigDict

from ..docstrings import Described
from ..text import MAX_NAME_CHARS, MAX_PREVIEW_CHARS, MAX_SUBJECT_CHARS, one_line


def _subject(value: str) -> str:
    return one_line(value, MAX_SUBJECT_CHARS) or ""


def _name(value: str) -> str:
    return one_line(value, MAX_NAME_CHARS) or ""


Subject = Annotated[str, AfterValidator(_subject)]
"""A subject as the agent sees it: one line, cut at `MAX_SUBJECT_CHARS` with a marker."""
Name = Annotated[str, AfterValidator(_name)]
"""A person's, file's or label's name as the agent sees it: one line, cut at `MAX_NAME_CHARS` with a marker."""

# Fields the API sends beyond the declared ones (served with response_format="detailed") get the same bounds.
_BOUNDS = {
    "subject": MAX_SUBJECT_CHARS,
    "latest_message_subject": MAX_SUBJECT_CHARS,
    "preview": MAX_PREVIEW_CHARS,
    "name": MAX_NAME_CHARS,
    "address": MAX_NAME_CHARS,
    "filename": MAX_NAME_CHARS,
    "first_name": MAX_NAME_CHARS,
    "last_name": MAX_NAME_CHARS,
    "username": MAX_NAME_CHARS,
}


def _bounded(value: Any, key: str | None = None) -> Any:
    if isinstance(value, str):
        return one_line(value, _BOUNDS[key]) if key in _BOUNDS else value
    if isinstance(value, list):
        items = cast(list[Any], value)  # checked just above: a JSON array
        return [_bounded(item, key) for item in items]
    if isinstance(value, dict):
        fields = cast(dict[str, Any], value)  # checked just above: a JSON object, whose keys are strings
        return {k: _bounded(v, k) for k, v in fields.items()}
    return value


class MissiveModel(Described):
    """A Missive object. Declared fields are the ones an agent acts on; everything else the API sent is kept
    as extra fields, served only with `response_format="detailed"`."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    def model_post_init(self, context: Any, /) -> None:
        if self.__pydantic_extra__:
            for key, value in self.__pydantic_extra__.items():
                self.__pydantic_extra__[key] = _bounded(value, key)

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
    name: Name | None = None
