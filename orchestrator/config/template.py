"""The commented `.specify/sdd.yaml` that `sdd init` writes, generated from the schema.

Every key appears with its field docstring. A key `sdd init` chose a value for is active; the
rest are commented out at their defaults, so the file documents everything without pinning a
default that a later sdd may improve. Sections stay active (`limits:` with every sub-key
commented out reads as the defaults), so uncommenting one line is enough to change one value.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence

import yaml
from pydantic import BaseModel

from orchestrator.config.load import submodel
from orchestrator.config.model import CONFIG_PATH, Config
from orchestrator.config.reference import union_model

WIDTH = 96
HEADER = (
    f"# sdd's settings for this repository, read from {CONFIG_PATH} by every sdd command.",
    "# Every key is optional: a commented-out key shows its default; uncomment it to change it.",
    "# An unknown key or a wrong type is an error naming the key. `sdd init --force` rewrites",
    "# this file; without --force, sdd init never touches it once it is yours.",
)
# How to write the entries of the keys that hold a list or a map of settings.
EXAMPLES: dict[str, object] = {
    "routes": [
        {"agent": "fastapi-backend-dev", "glob": "app/api/**"},
        {"agent": "generalist", "keyword": "docs"},
    ],
    "prices": {"claude-sonnet-5-5": {"input": 2.0, "output": 10.0}},
    "verify": {
        "task": [".venv/bin/python -m pytest -q tests/unit", "ruff check ."],
        "phase": [".venv/bin/python -m pytest -q"],
    },
}


def config_template(
    values: Mapping[str, object] | None = None, notes: Mapping[str, Sequence[str]] | None = None
) -> str:
    """The file's text: `values` are the active top-level keys, `notes` extra comment lines
    under a key's documentation (what `sdd init` detected)."""
    values, notes = values or {}, notes or {}
    unknown = sorted(set(values) - set(Config.model_fields))
    if unknown:
        raise ValueError(f"not config keys: {', '.join(unknown)}")
    lines = list(HEADER)
    for name, field in Config.model_fields.items():
        lines.append("")
        lines += _comment(field.description, "")
        lines += [f"# {note}" for note in notes.get(name, ())]
        sub = submodel(field.annotation)
        if name in values:
            lines += _active(name, values[name])
        elif sub is not None and sub[0] == "":
            lines.append(f"{name}:")
            lines += _section(sub[1])
        elif sub is not None:
            lines += _entries(name, sub[1])
        else:
            lines.append(f"# {name}: {_flow(field.get_default())}")
        alternative = union_model(field.annotation)
        if alternative is not None:
            lines += _entries(name, alternative, "Or a mapping of")
    return "\n".join(lines) + "\n"


def _comment(text: str | None, indent: str) -> list[str]:
    words = " ".join((text or "").split())
    return [f"{indent}# {line}" for line in textwrap.wrap(words, WIDTH - len(indent) - 2)]


def _section(model: type[BaseModel]) -> list[str]:
    lines: list[str] = []
    for name, field in model.model_fields.items():
        lines += _comment(field.description, "  ")
        lines.append(f"  # {name}: {_flow(field.get_default())}")
    return lines


def _entries(name: str, model: type[BaseModel], lead: str = "Each entry") -> list[str]:
    """A list or map of settings: what each entry holds, then a commented example."""
    lines = [f"# {lead}:"]
    for sub, field in model.model_fields.items():
        text = " ".join(f"{sub}: {field.description}".split())
        wrapped = textwrap.wrap(text, WIDTH - 4, subsequent_indent="  ")
        lines += [f"#   {line}" for line in wrapped]
    example = yaml.safe_dump({name: EXAMPLES[name]}, sort_keys=False, default_flow_style=False)
    lines.append("# For example:")
    lines += [f"# {line}" for line in example.splitlines()]
    return lines


def _active(name: str, value: object) -> list[str]:
    if isinstance(value, list) and value:
        return [f"{name}:", *(f"  - {_flow(item)}" for item in value)]
    return [f"{name}: {_flow(value)}"]


def _flow(value: object) -> str:
    """One YAML value on one line: `null`, `3`, `[.venv, venv]`, a quoted string if needed."""
    text = yaml.safe_dump(value, default_flow_style=True, width=2**31, allow_unicode=True)
    return text.removesuffix("\n").removesuffix("\n...").strip()
