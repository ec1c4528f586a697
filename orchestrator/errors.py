"""The few exceptions sdd raises on purpose.

    SddError                 anything the user can fix; the CLI prints one line, exits `code`
    ├── InputError           bad input: repo, feature, tasks.md, agents, config (exit 2)
    │   └── TaskParseError   tasks.md that cannot be read as tasks (carries the line)
    ├── GitStateError        the repository is not in a state sdd may write to (exit 2)
    ├── ModelError           the model endpoint refused us for good (auth, permission) (exit 3)
    ├── ModelUnavailable     overloaded/rate limited/unreachable past retries (exit 1, resumable)
    ├── BudgetExceeded       a token/cost budget is reached (exit 1, resumable)
    ├── RunStopped           a run ended without landing every task (exit 1)
    └── AwaitingAnswer       a resume of a run held for approval brought no answer (exit 1)

Anything else escaping is a bug and keeps its traceback.
"""

from __future__ import annotations


class SddError(Exception):
    """A failure with a one-line explanation for the user."""

    code = 2


class InputError(SddError):
    """The repository, feature, documents, agents or config are unusable as given."""


class TaskParseError(InputError):
    """tasks.md does not describe tasks sdd can run."""

    def __init__(self, message: str, line: int | None = None) -> None:
        self.line = line
        super().__init__(f"line {line}: {message}" if line else message)


class GitStateError(SddError):
    """Writing to the repository now could absorb or lose someone's work."""


class ModelError(SddError):
    """The model endpoint refused the run in a way retrying cannot fix."""

    code = 3


class RunStopped(SddError):
    """The run stopped before every task landed; `sdd resume` continues it."""

    code = 1


class ModelUnavailable(SddError):
    """The model endpoint stayed unavailable past the SDK's own retries; the run can resume."""

    code = 1


class BudgetExceeded(SddError):
    """A token or cost budget is reached; raising it in config and resuming continues."""

    code = 1


class AwaitingAnswer(SddError):
    """A task is held for approval and the resume brought no answer: the run stays paused,
    nothing is written, and the message says how to answer."""

    code = 1
