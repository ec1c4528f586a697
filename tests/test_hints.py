"""Hints name the spec-kit commands people actually type in their agent: `/speckit-plan` where
the integration renders skills (Claude Code), `/speckit.plan` where it renders commands, read
from `.specify/integration.json` as spec-kit's own scripts read it."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from orchestrator.errors import InputError
from orchestrator.speckit.documents import load_feature
from orchestrator.speckit.integration import Integration, parse_integration, read_integration
from orchestrator.speckit.project import resolve_feature


def _integration_json(root: Path, key: str, separator: str) -> None:
    data = {
        "integration": key,
        "default_integration": key,
        "integration_settings": {key: {"script": "sh", "invoke_separator": separator}},
    }
    (root / ".specify").mkdir(parents=True, exist_ok=True)
    (root / ".specify" / "integration.json").write_text(json.dumps(data))


@pytest.mark.parametrize(
    ("state", "plan", "run"),
    [
        ({"integration": "claude", "integration_settings": {"claude": {"invoke_separator": "-"}}},
         "/speckit-plan", "/speckit-sdd-run"),
        ({"default_integration": "copilot", "integration": "claude",
          "integration_settings": {"copilot": {"invoke_separator": "."}}},
         "/speckit.plan", "/speckit.sdd.run"),
        ({"integration": "claude", "integration_settings": {"claude": {"invoke_separator": "/"}}},
         "/speckit.plan", "/speckit.sdd.run"),
        ({"integration": 3}, "/speckit.plan", "/speckit.sdd.run"),
        (["claude"], "/speckit.plan", "/speckit.sdd.run"),
    ],
)  # fmt: skip
def test_commands_are_named_as_the_integration_renders_them(
    state: object, plan: str, run: str
) -> None:
    integration = parse_integration(state)
    assert integration.command("plan") == plan
    assert integration.command("speckit.sdd.run") == run
    assert integration.command("/speckit.plan") == plan


def test_an_unreadable_integration_json_means_the_dotted_form(tmp_path: Path) -> None:
    assert read_integration(tmp_path) == Integration("", ".")
    (tmp_path / ".specify").mkdir()
    (tmp_path / ".specify" / "integration.json").write_bytes(b"\xff{")
    assert read_integration(tmp_path).command("tasks") == "/speckit.tasks"


@pytest.mark.parametrize(("separator", "specify_cmd", "plan_cmd"), [
    ("-", "/speckit-specify", "/speckit-plan and /speckit-tasks"),
    (".", "/speckit.specify", "/speckit.plan and /speckit.tasks"),
])  # fmt: skip
def test_errors_name_the_projects_own_commands(
    tmp_path: Path, separator: str, specify_cmd: str, plan_cmd: str
) -> None:
    _integration_json(tmp_path, "agent", separator)
    with pytest.raises(InputError, match=re.escape(f"(create one with {specify_cmd})")):
        resolve_feature(tmp_path, "001", env={})
    (tmp_path / "specs" / "001-x").mkdir(parents=True)
    with pytest.raises(InputError, match=re.escape(f"({plan_cmd} write them)")):
        load_feature(tmp_path, tmp_path / "specs" / "001-x")
