"""The README's table of config keys is the schema's own documentation, row for row: a key
added, removed or reworded in `config/model.py` fails here until the README says the same."""

from __future__ import annotations

from pathlib import Path

from orchestrator.config.reference import config_reference

README = Path(__file__).resolve().parents[1] / "README.md"
HEADER = "| key | default | meaning |"


def test_readme_config_table_matches_the_schema() -> None:
    lines = README.read_text(encoding="utf-8").splitlines()
    start = lines.index(HEADER) + 2  # below the |---| line
    end = next(i for i in range(start, len(lines)) if not lines[i].startswith("|"))
    expected = [f"| `{key}` | `{default}` | {text} |" for key, default, text in config_reference()]
    assert lines[start:end] == expected
