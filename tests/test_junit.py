"""Per-test results from runners other than pytest: a JUnit XML report written to
`$SDD_JUNIT_XML`, read with stable test ids, through real processes (node's own test runner
where it is installed) and the policy that judges them. A report that cannot stand for its
command (none, empty, or all green while the command failed) leaves the exit code to judge."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.repo import write_files

from orchestrator.verify.environment import Verification
from orchestrator.verify.junit import read_any
from orchestrator.verify.policy import judge
from orchestrator.verify.runner import verify_tree

NODE_TEST = (
    "node --test --test-reporter=spec --test-reporter-destination=stdout"
    " --test-reporter=junit --test-reporter-destination=$SDD_JUNIT_XML"
)
MATH = """const test = require('node:test');
const assert = require('node:assert');
const { add, mul } = require('./math.js');
test('adds', () => assert.equal(add(1, 2), 3));
test.describe('mul', () => {
  test('small', () => assert.equal(mul(2, 3), 6));
  test('zero', () => assert.equal(mul(0, 3), 0));
});
test('later', { skip: 'not yet' }, () => {});
"""
GOOD = "exports.add = (a, b) => a + b;\nexports.mul = (a, b) => a * b;\n"


def task(changed: list[str]) -> dict:  # type: ignore[type-arg]
    return {
        "task_id": "T001",
        "changed": changed,
        "expected_red": {},
        "test_task": False,
        "phase_end": False,
    }


def verify(root: Path, command: str):  # type: ignore[no-untyped-def]
    return verify_tree(root, Verification((command,), "", "", ""), timeout=60)


REPORTS = {
    "vitest": (
        '<testsuites><testsuite name="src/a.test.ts" tests="2">'
        '<testcase classname="src/a.test.ts" name="sum &gt; adds"/>'
        '<testcase classname="src/a.test.ts" name="sum &gt; carries">'
        '<failure message="expected 3">AssertionError</failure></testcase>'
        "</testsuite></testsuites>",
        {"src/a.test.ts::sum > adds"},
        {"src/a.test.ts::sum > carries"},
    ),
    "gotestsum": (
        '<testsuites><testsuite name="example.com/calc" tests="2">'
        '<testcase classname="example.com/calc" name="TestAdd"/>'
        '<testcase classname="example.com/calc" name="TestDiv"><failure>div</failure>'
        "</testcase></testsuite></testsuites>",
        {"example.com/calc::TestAdd"},
        {"example.com/calc::TestDiv"},
    ),
    "surefire": (  # one suite as the root, an error counts as a failure
        '<testsuite name="com.x.CalcTest"><testcase classname="com.x.CalcTest" name="add"/>'
        '<testcase classname="com.x.CalcTest" name="div"><error type="Boom"/></testcase>'
        '<testcase classname="com.x.CalcTest" name="pow"><skipped/></testcase></testsuite>',
        {"com.x.CalcTest::add"},
        {"com.x.CalcTest::div"},
    ),
}


@pytest.mark.parametrize("runner", sorted(REPORTS))
def test_reports_of_other_runners_name_each_test_by_its_file_suite_and_name(
    tmp_path: Path, runner: str
) -> None:
    xml, passed, failing = REPORTS[runner]
    (tmp_path / "r.xml").write_text(xml)
    report = read_any(tmp_path / "r.xml")
    assert report is not None
    assert (report.passed, report.failing) == (passed, failing)


def test_an_empty_or_unreadable_report_is_no_report(tmp_path: Path) -> None:
    (tmp_path / "empty.xml").write_text("<testsuites></testsuites>")
    (tmp_path / "torn.xml").write_text("<testsuites><testcase name=")
    assert read_any(tmp_path / "empty.xml") is None
    assert read_any(tmp_path / "torn.xml") is None
    assert read_any(tmp_path / "missing.xml") is None


def test_a_failed_command_whose_report_shows_no_failure_is_judged_by_its_exit_code(
    tmp_path: Path,
) -> None:
    report = "<testsuites><testcase name='a'/></testsuites>"
    good = verify(tmp_path, f'echo "{report}" > "$SDD_JUNIT_XML"')
    bad = verify(tmp_path, f'echo "{report}" > "$SDD_JUNIT_XML"; echo linker failed; exit 3')
    assert good.results[0].structured and good.passed == {"a"}
    assert not bad.results[0].structured and bad.failed_commands() == {bad.results[0].command}
    assert bad.problems == []  # exit 3 is pytest's "interrupted" only for pytest
    verdict = judge(bad, good, **task([]))
    assert not verdict.passed and "command failed" in verdict.headline


def test_node_test_runner_reports_each_test_and_a_regression_is_named(
    tmp_path: Path, node: None
) -> None:
    root = write_files(tmp_path, {"math.test.js": MATH, "math.js": GOOD})
    base = verify(root, NODE_TEST)
    result = base.results[0]
    assert result.exit_code == 0 and result.structured and base.problems == []
    assert base.passed == {"test::adds", "mul::test::small", "mul::test::zero"}
    assert base.skipped == {"test::later"}
    assert base.summary() == "3 passed, 1 skipped"
    assert "✔ adds" in result.output  # the readable report still reaches the agent
    write_files(root, {"math.js": GOOD.replace("a * b", "a * b + (a === 0 ? 1 : 0)")})
    now = verify(root, NODE_TEST)
    assert now.results[0].exit_code == 1 and now.failing == {"mul::test::zero"}
    verdict = judge(now, base, **task(["math.js"]))
    assert not verdict.passed
    assert "regression: passed before and fails now: mul::test::zero" in verdict.headline


def test_a_suite_red_at_the_base_still_catches_a_new_regression(tmp_path: Path, node: None) -> None:
    """By exit code alone, a command that failed at the base and fails now changed nothing."""
    red = GOOD.replace("a + b", "a - b")  # `adds` is red at the base
    root = write_files(tmp_path, {"math.test.js": MATH, "math.js": red})
    base = verify(root, NODE_TEST)
    assert base.results[0].exit_code == 1 and base.failing == {"test::adds"}
    write_files(root, {"math.js": red.replace("a * b", "a * b + 1")})
    now = verify(root, NODE_TEST)
    verdict = judge(now, base, **task(["math.js"]))
    assert "regression: passed before and fails now: mul::test::small, mul::test::zero" in (
        verdict.headline
    )
    fixed = write_files(root, {"math.js": red})
    assert judge(verify(fixed, NODE_TEST), base, **task(["math.js"])).passed
