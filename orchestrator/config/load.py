"""Reading `.specify/sdd.yaml`: a typo or a wrong type is one error naming the key path and,
for an unknown key, the nearest known one; never a silently ignored setting."""

from __future__ import annotations

import difflib
import typing
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from orchestrator.config.model import CONFIG_PATH, Config
from orchestrator.errors import InputError
from orchestrator.speckit.documents import read_text


def load_config(root: Path) -> Config:
    """The repository's config, or the defaults when it has no `.specify/sdd.yaml`."""
    path = root / CONFIG_PATH
    if not path.exists():
        return Config()
    return parse_config(read_text(path, root.resolve()))


def load_yaml(text: str) -> Any:
    """YAML as safe_load reads it, except that a key given twice in one mapping is an error
    (safe_load would keep the last one silently)."""
    return yaml.load(text, Loader=_UniqueKeys)


class _UniqueKeys(yaml.SafeLoader):
    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            line = key_node.start_mark.line + 1
            if isinstance(key, str | int | float | bool) and key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r} (first on line {seen[key]})",
                    key_node.start_mark,
                )  # fmt: skip
            if isinstance(key, str | int | float | bool):
                seen[key] = line
        return super().construct_mapping(node, deep=deep)


def parse_config(text: str, where: str = CONFIG_PATH) -> Config:
    try:
        data = load_yaml(text)
    except yaml.YAMLError as e:
        raise InputError(_yaml_message(e, where)) from None
    if data is None:
        return Config()
    if not isinstance(data, dict):
        kind = "a list" if isinstance(data, list) else f"a {type(data).__name__}"
        raise InputError(f"`{where}`: the top level must be a mapping of keys, not {kind}")
    try:
        return Config.model_validate(data)
    except ValidationError as e:
        raise InputError(_validation_message(e, where)) from None


def _yaml_message(e: yaml.YAMLError, where: str) -> str:
    mark = getattr(e, "problem_mark", None)
    problem = getattr(e, "problem", None) or " ".join(str(e).split())
    at = f" line {mark.line + 1}" if mark is not None else ""
    return f"`{where}`{at}: not valid YAML: {problem}"


def _validation_message(e: ValidationError, where: str) -> str:
    # An unknown key usually explains the rest (a misspelt required key is also "missing").
    errors = sorted(e.errors(include_url=False), key=lambda x: x["type"] != "extra_forbidden")
    first = errors[0]
    loc = first["loc"]
    key = _key_path(loc) or "(top level)"
    if first["type"] == "extra_forbidden":
        known = _known_keys(loc[:-1])
        close = difflib.get_close_matches(str(loc[-1]), known, n=1)
        hint = f"did you mean `{close[0]}`?" if close else f"expected one of: {', '.join(known)}"
        message = f"unknown key ({hint})"
    else:
        message = first["msg"].removeprefix("Value error, ")
        if first["type"].endswith("_parsing"):  # "…integer, unable to parse string as an integer"
            message = message.split(",")[0]
        value = first.get("input")
        if first["type"] != "missing" and isinstance(value, str | int | float | bool):
            message += f" (got {value!r})"
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"`{where}`: {key}: {message}{more}"


def _key_path(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _known_keys(loc: tuple[int | str, ...]) -> list[str]:
    """The keys the model at `loc` accepts (Config, or a section, route or price inside it)."""
    model: type[BaseModel] = Config
    parts = list(loc)
    while parts:
        field = model.model_fields.get(str(parts.pop(0)))
        sub = submodel(field.annotation) if field else None
        if sub is None:
            return []
        suffix, model = sub
        if suffix and parts:
            parts.pop(0)  # the list index or the dict key
    return list(model.model_fields)


def submodel(annotation: Any) -> tuple[str, type[BaseModel]] | None:
    """How a field holds a model: directly (""), as a list ("[]") or as a dict ("<model>")."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return "", annotation
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is list and args and isinstance(args[0], type) and issubclass(args[0], BaseModel):
        return "[]", args[0]
    if origin is dict and len(args) == 2 and issubclass(args[1], BaseModel):
        return ".<model>", args[1]
    return None
