"""The config's documentation, generated from the schema's field docstrings, so the README's
table of keys cannot drift from what the code accepts."""

from __future__ import annotations

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


def config_reference() -> list[tuple[str, str, str]]:
    """(key path, default, description) for every key, in the order the model declares them."""
    return list(_rows(Config, ""))
