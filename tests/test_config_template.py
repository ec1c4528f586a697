"""The commented `.specify/sdd.yaml` that `sdd init` writes: generated from the schema, every
key explained, loading as the defaults, and each commented default one uncomment away."""

from __future__ import annotations

import re

import pytest
import yaml

from orchestrator.config.load import parse_config
from orchestrator.config.model import Config
from orchestrator.config.reference import config_reference
from orchestrator.config.template import config_template
from orchestrator.install import shipped


def test_the_template_loads_as_the_defaults() -> None:
    assert parse_config(config_template()) == Config()


def test_every_key_is_explained_and_shown_at_its_default() -> None:
    text = config_template()
    comments = " ".join(
        line.strip().lstrip("#").strip() for line in text.splitlines() if "#" in line
    )
    comments = " ".join(comments.split())
    defaults = Config().model_dump()
    for key, _, description in config_reference():
        assert description in comments, key
        leaf = key.rsplit(".", 1)[-1]
        if key.split("[")[0].split(".")[0] in ("routes", "prices") or key.startswith("verify."):
            assert re.search(rf"^#\s+(- )?{leaf}:( |$)", text, re.M), key
            continue
        shown = re.search(rf"^ {{0,2}}# {leaf}: (.+)$", text, re.M)
        assert shown, key
        default = defaults
        for part in key.split("."):
            default = default[part]
        assert yaml.safe_load(shown[1]) == default, key


def test_uncommenting_every_default_changes_nothing() -> None:
    uncommented = re.sub(r"^( {0,2})# ([a-z_]+): ", r"\1\2: ", config_template(), flags=re.M)
    assert uncommented != config_template()
    assert parse_config(uncommented) == Config()


def test_uncommenting_the_examples_gives_a_valid_config() -> None:
    text = config_template()
    for key in ("routes", "prices", "verify"):
        start = text.index(f"# {key}:\n")
        block = text[start:].split("\n\n", 1)[0]
        example = "\n".join(line[2:] for line in block.splitlines())
        config = parse_config(example)
        assert getattr(config, key)


def test_active_values_and_notes() -> None:
    text = config_template(
        {"default_agent": "backend", "verify": ["make test", "ruff check ."]},
        {"verify": ["Detected: a Makefile."]},
    )
    assert "# Detected: a Makefile.\nverify:\n  - make test\n  - ruff check .\n" in text
    config = parse_config(text)
    assert config.default_agent == "backend" and config.verify == ["make test", "ruff check ."]
    with pytest.raises(ValueError, match="not config keys: colour"):
        config_template({"colour": "blue"})


def test_the_extension_ships_the_same_template() -> None:
    shipped_text = (shipped.extension_dir() / "config-template.yml").read_text(encoding="utf-8")
    assert shipped_text == config_template()  # regenerate it from config_template() on change
