"""The config's documentation, generated from the schema's field docstrings, so the README's
table of keys cannot drift from what the code accepts."""

from __future__ import annotations

import types
import typing
from collections.abc import Iterator

from pydantic import BaseModel

from orchestrator.config.load import submodel
from orchestrator.config.model import Config


def _show(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, list | dict) and not value:
        return "[]" if isinstance(value, list) else "{}"
    if isinstance(value, list):  # as YAML flow style writes it: [.venv, venv]
        return "[" + ", ".join(_show(v) for v in value) + "]"
    return str(value)


def _rows(model: type[BaseModel], prefix: str) -> Iterator[tuple[str, str, str]]:
    for name, field in model.model_fields.items():
        key = prefix + name
        sub = submodel(field.annotation)
        if sub is not None and sub[0] == "":
            yield from _rows(sub[1], key + ".")
            continue
        default = "required" if field.is_required() else _show(field.get_default())
        yield key, default, " ".join((field.description or "").split())
        if sub is not None:
            yield from _rows(sub[1], key + sub[0] + ".")
        alternative = union_model(field.annotation)  # `verify`: a list, or the two sets
        if alternative is not None:
            yield from _rows(alternative, key + ".")


def union_model(annotation: object) -> type[BaseModel] | None:
    """The model a union field may also hold (`list[str] | VerifySets | None`), if any."""
    if typing.get_origin(annotation) not in (typing.Union, types.UnionType):
        return None
    models = [a for a in typing.get_args(annotation) if isinstance(a, type)]
    return next((a for a in models if issubclass(a, BaseModel)), None)


def config_reference() -> list[tuple[str, str, str]]:
    """(key path, default, description) for every key, in the order the model declares them."""
    return list(_rows(Config, ""))
