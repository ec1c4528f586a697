"""JUnit XML reports read into per-test outcomes.

pytest writes one because sdd asks it to (`--junitxml`), and its test ids are pytest's own
(`tests/test_x.py::TestA::test_b`, a collection error as `file::<collection>`). Any other
runner can write one to the path sdd gives each verify command in `$SDD_JUNIT_XML` (node's
test runner, vitest, jest-junit, gotestsum, ...): its tests are named by the report's file,
the suites around them, its class and its name, `::` between them, so the same test has the
same id on every run and per-test judgment works as it does for pytest.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

from orchestrator.verify.results import COLLECTION

ENV = "SDD_JUNIT_XML"  # where a verify command may write its JUnit XML report


@dataclass(slots=True)
class Report:
    failing: set[str] = field(default_factory=set)
    passed: set[str] = field(default_factory=set)
    skipped: set[str] = field(default_factory=set)
    errors: dict[str, str] = field(default_factory=dict)  # file pytest could not collect

    @property
    def tests(self) -> int:
        return len(self.failing) + len(self.passed) + len(self.skipped)

    def add(self, test: str, case: ET.Element) -> ET.Element | None:
        """File the test under its outcome; the failure or error element when it failed."""
        bad = case.find("failure")
        bad = case.find("error") if bad is None else bad
        if bad is not None:
            self.failing.add(test)
        elif case.find("skipped") is not None:
            self.skipped.add(test)
        else:
            self.passed.add(test)
        return bad


def _root(path: Path) -> ET.Element | None:
    try:
        return ET.parse(path).getroot()
    except (OSError, ET.ParseError):
        return None


def read_pytest(path: Path) -> Report | None:
    """pytest's report (xunit1 attributes); None when there is no readable report."""
    root = _root(path)
    if root is None:
        return None
    report = Report()
    for case in root.iter("testcase"):
        file, test = _pytest_id(case)
        bad = report.add(test, case)
        if bad is not None and test.endswith(COLLECTION):
            report.errors[file] = (bad.text or bad.get("message") or "").strip()
    return report


def _pytest_id(case: ET.Element) -> tuple[str, str]:
    """(file, `file::Class::name`) of a testcase, as pytest names it."""
    cls, name = case.get("classname") or "", case.get("name") or ""
    file = case.get("file") or (cls or name).replace(".", "/") + ".py"
    if not cls:  # a collection error names the module, not a test
        return file, f"{file}::{COLLECTION}"
    module = file.removesuffix(".py").replace("/", ".")
    inner = cls[len(module) + 1 :] if cls.startswith(module + ".") else ""
    return file, "::".join(p for p in (file, *inner.split("."), name) if p)


def read_any(path: Path) -> Report | None:
    """Another runner's report; None when it is unreadable or names no test (a report
    that says nothing cannot stand in for the command's exit code)."""
    root = _root(path)
    if root is None:
        return None
    report = Report()
    _walk(root, (), "", report)
    return report if report.tests else None


def _walk(node: ET.Element, suites: tuple[str, ...], file: str, report: Report) -> None:
    for child in node:
        if child.tag == "testsuite":
            name = child.get("name") or ""
            _walk(child, (*suites, name) if name else suites, child.get("file") or file, report)
        elif child.tag == "testcase":
            report.add(_id(child, suites, file), child)


def _id(case: ET.Element, suites: tuple[str, ...], file: str) -> str:
    """`file::suite::class::name`, each part once: runners repeat the file as the suite's
    name and the class (vitest), or the package as both (gotestsum)."""
    parts: list[str] = []
    for part in (case.get("file") or file, *suites, case.get("classname") or "", case.get("name")):
        if part and part not in parts:
            parts.append(part)
    return "::".join(parts)
