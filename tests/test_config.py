"""`.specify/sdd.yaml`: defaults, a full file, and one clear line for each kind of mistake."""

from __future__ import annotations

import typing
from pathlib import Path

import pytest
from pydantic import BaseModel

from orchestrator.config.load import load_config
from orchestrator.config.model import (
    DEFAULT_PRICES,
    BashRules,
    Budget,
    Config,
    Limits,
    Price,
    RouteConfig,
)
from orchestrator.config.reference import config_reference
from orchestrator.errors import InputError
from orchestrator.plan.routing import RouteRule, rules_from

FULL = """\
# every key, none at its default
model: scripted:examples/run.yaml
default_agent: fastapi-backend-dev
verify:
  - pytest -q
  - ruff check .
routes:
  - agent: fastapi-backend-dev
    glob: "app/api/**"
  - agent: docs-writer
    keyword: README
limits:
  attempts: 5
  turns: 20
  output_tokens: 32000
  max_tokens: 8000
  bash_timeout: 60
  verify_timeout: 120.5
bash:
  allow: ["Bash(pytest:*)", "uv run"]
  deny: ["Bash(git push:*)"]
commit_hooks: true
approve: each
budget:
  run_tokens: 2000000
  task_tokens: 300000
  run_cost: 12.5
  task_cost: 2
prices:
  claude-sonnet-5-5: {input: 3, output: 15}
  my-model: {input: 1, output: 2, cache_write: 1.5, cache_read: 0.05}
jobs: 3
allow_env_files: true
"""


def write(root: Path, text: str | bytes) -> Path:
    path = root / ".specify" / "sdd.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return root


def error(root: Path, text: str | bytes) -> str:
    with pytest.raises(InputError) as excinfo:
        load_config(write(root, text))
    message = str(excinfo.value)
    assert "\n" not in message
    assert message.startswith("`.specify/sdd.yaml`")
    return message


def test_no_file_means_defaults(tmp_path: Path) -> None:
    config = load_config(tmp_path)
    assert config == Config()
    assert config.model == "claude-sonnet-5-5"
    assert config.default_agent == "generalist"
    assert config.verify is None
    assert config.routes == []
    assert config.limits == Limits(
        attempts=3,
        turns=40,
        output_tokens=64000,
        max_tokens=16000,
        bash_timeout=300,
        verify_timeout=900,
    )
    assert config.bash == BashRules(allow=[], deny=[])
    assert (config.commit_hooks, config.approve, config.jobs, config.allow_env_files) == (
        False,
        "never",
        1,
        False,
    )
    assert config.budget == Budget()
    assert config.prices == {}


@pytest.mark.parametrize("text", ["", "\n", "# only a comment\n", "---\n"])
def test_empty_file_means_defaults(tmp_path: Path, text: str) -> None:
    assert load_config(write(tmp_path, text)) == Config()


def test_empty_section_keeps_its_defaults(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, "limits:\n  # attempts: 5\nbudget:\n"))
    assert config.limits == Limits()
    assert config.budget == Budget()


def test_defaults_are_not_shared_between_configs() -> None:
    first = Config()
    first.limits.attempts = 9
    first.bash.allow.append("make")
    assert Config().limits.attempts == 3
    assert Config().bash.allow == []


def test_full_file(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, FULL))
    assert config.model == "scripted:examples/run.yaml"
    assert config.default_agent == "fastapi-backend-dev"
    assert config.verify == ["pytest -q", "ruff check ."]
    assert config.routes == [
        RouteConfig(agent="fastapi-backend-dev", glob="app/api/**"),
        RouteConfig(agent="docs-writer", keyword="README"),
    ]
    assert config.limits == Limits(
        attempts=5,
        turns=20,
        output_tokens=32000,
        max_tokens=8000,
        bash_timeout=60,
        verify_timeout=120.5,
    )
    assert config.bash.allow == ["Bash(pytest:*)", "uv run"]
    assert config.bash.deny == ["Bash(git push:*)"]
    assert config.commit_hooks is True
    assert config.approve == "each"
    assert config.budget == Budget(
        run_tokens=2_000_000, task_tokens=300_000, run_cost=12.5, task_cost=2.0
    )
    assert config.prices["claude-sonnet-5-5"] == Price(
        input=3, output=15, cache_write=3.75, cache_read=0.3
    )
    assert config.prices["my-model"] == Price(input=1, output=2, cache_write=1.5, cache_read=0.05)
    assert (config.jobs, config.allow_env_files) == (3, True)


def test_verify_can_be_turned_off(tmp_path: Path) -> None:
    assert load_config(write(tmp_path, "verify: []\n")).verify == []


def test_prices_own_over_built_in() -> None:
    assert DEFAULT_PRICES["claude-opus-5-5"] == Price(input=4, output=20)
    assert DEFAULT_PRICES["claude-haiku-5-5"].cache_read == pytest.approx(0.01)
    assert DEFAULT_PRICES["claude-haiku-5-5"].cache_write == pytest.approx(0.125)
    config = Config(prices={"claude-sonnet-5-5": Price(input=3, output=15)})
    assert config.price("claude-sonnet-5-5") == Price(input=3, output=15)
    assert config.price("claude-opus-5-5") == DEFAULT_PRICES["claude-opus-5-5"]
    assert config.price("claude-opus-5-5-20260801") == DEFAULT_PRICES["claude-opus-5-5"]
    assert config.price("scripted:run.yaml") is None
    assert Config().price("claude-sonnet-5-5") == Price(input=2, output=10)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "limits:\n  attempts: three\n",
            "limits.attempts: Input should be a valid integer (got 'three')",
        ),
        ("limits:\n  atempts: 3\n", "limits.atempts: unknown key (did you mean `attempts`?)"),
        ("modle: opus\n", "modle: unknown key (did you mean `model`?)"),
        (
            "budget:\n  zzz: 1\n",
            "budget.zzz: unknown key (expected one of: run_tokens, task_tokens, run_cost, "
            "task_cost)",
        ),
        (
            "routes:\n  - agent: a\n    glob: x\n  - agent: b\n    globb: y\n",
            "routes[1].globb: unknown key (did you mean `glob`?)",
        ),
        (
            "prices:\n  m:\n    inpt: 3\n    output: 1\n",
            "prices.m.inpt: unknown key (did you mean `input`?) (and 1 more)",
        ),
        ("limits:\n  attempts: 0\n", "limits.attempts: Input should be greater than or equal to 1"),
        ("jobs: 0\n", "jobs: Input should be greater than or equal to 1 (got 0)"),
        ("approve: always\n", "approve: Input should be 'never' or 'each' (got 'always')"),
        (
            "verify: pytest\n",
            "verify: Input should be a list of commands, or `{task: [...], phase: [...]}` "
            "(got 'pytest')",
        ),
        ("verify: {task: [a]}\n", "verify: `phase` needs a list of at least one command"),
        ("verify: {task: [], phase: [b]}\n", "verify: `task` needs a list of at least one"),
        (
            "verify: {task: [a], phase: [b], full: [c]}\n",
            "verify: unknown key `full` (a mapping takes `task` and `phase`)",
        ),
        ("verify: {task: [a], phase: [' ']}\n", "verify: a `phase` command cannot be empty"),
        ("verify: [3]\n", "verify: a verify command must be a string"),
        ("verify: ['pytest', '  ']\n", "verify: a verify command cannot be empty"),
        ("commit_hooks: maybe\n", "commit_hooks: Input should be a valid boolean (got 'maybe')"),
        ("routes:\n  - glob: '*.py'\n", "routes[0].agent: Field required"),
        (
            "bash:\n  deny: ['Read(.env)']\n",
            "bash.deny: `Read(.env)` is neither `Bash(prefix:*)` nor a bare prefix",
        ),
        (
            "jobs: many\nturns: 3\n",
            f"turns: unknown key (expected one of: {', '.join(Config.model_fields)}) (and 1 more)",
        ),
    ],
)
def test_wrong_keys_and_types(tmp_path: Path, text: str, expected: str) -> None:
    assert error(tmp_path, text).startswith(f"`.specify/sdd.yaml`: {expected}")


@pytest.mark.parametrize(
    "route",
    ["{agent: a, glob: '*.py', keyword: api}", "{agent: a}"],
)
def test_a_route_needs_exactly_one_matcher(tmp_path: Path, route: str) -> None:
    assert error(tmp_path, f"routes:\n  - {{agent: ok, glob: x}}\n  - {route}\n") == (
        "`.specify/sdd.yaml`: routes[1]: a route needs exactly one of `glob` or `keyword`"
    )


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("model: opus\nlimits:\n  attempts: [3\n", 4),
        ("model: opus\n  default_agent: x\n", 2),
        ("jobs: 1\n\tverify: []\n", 2),
    ],
)
def test_broken_yaml_names_the_line(tmp_path: Path, text: str, line: int) -> None:
    assert error(tmp_path, text).startswith(f"`.specify/sdd.yaml` line {line}: not valid YAML: ")


@pytest.mark.parametrize(
    ("text", "kind"), [("- model: opus\n", "a list"), ("opus\n", "a str"), ("3\n", "a int")]
)
def test_top_level_must_be_a_mapping(tmp_path: Path, text: str, kind: str) -> None:
    assert error(tmp_path, text) == (
        f"`.specify/sdd.yaml`: the top level must be a mapping of keys, not {kind}"
    )


def test_a_file_that_is_not_utf8(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"^\.specify/sdd\.yaml is not UTF-8 text"):
        load_config(write(tmp_path, b"model: caf\xe9\n"))


def _models(model: type[BaseModel]) -> typing.Iterator[type[BaseModel]]:
    yield model
    for field in model.model_fields.values():
        for arg in (field.annotation, *typing.get_args(field.annotation)):
            if isinstance(arg, type) and issubclass(arg, BaseModel):
                yield from _models(arg)


def test_config_reference_covers_every_field() -> None:
    rows = config_reference()
    keys = [key for key, _, _ in rows]
    assert len(keys) == len(set(keys))
    fields = [
        (name, f.annotation) for m in set(_models(Config)) for name, f in m.model_fields.items()
    ]
    sections = {n for n, a in fields if isinstance(a, type) and issubclass(a, BaseModel)}
    for name, _ in fields:
        if name in sections:  # a section is documented by its keys: limits.attempts, ...
            assert any(key.startswith(f"{name}.") for key in keys), name
        else:
            assert any(key.rsplit(".", 1)[-1] == name for key in keys), name
    assert len(rows) == len(fields) - len(sections)
    for key, _default, description in rows:
        assert description, f"{key} has no description"
        assert "\n" not in description


def test_config_reference_defaults_match_the_model() -> None:
    table = {key: default for key, default, _ in config_reference()}
    assert table["model"] == "claude-sonnet-5-5"
    assert table["limits.attempts"] == str(Limits().attempts)
    assert table["limits.bash_timeout"] == "300"
    assert table["verify"] == "null"
    assert table["routes"] == "[]"
    assert table["routes[].agent"] == "required"
    assert table["prices.<model>.input"] == "required"
    assert table["commit_hooks"] == "false"
    assert table["approve"] == "never"


def test_route_rules() -> None:
    config = Config(
        routes=[RouteConfig(agent="api", glob="app/**"), RouteConfig(agent="docs", keyword="doc")]
    )
    assert rules_from(config) == [
        RouteRule("api", glob="app/**", keyword=None),
        RouteRule("docs", glob=None, keyword="doc"),
    ]
