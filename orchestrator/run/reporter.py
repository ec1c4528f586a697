"""The seam through which a run tells people what it is doing; `views.progress` prints it."""

from __future__ import annotations

from typing import Protocol

from orchestrator.agent.model import Usage


class Reporter(Protocol):
    def note(self, text: str) -> None: ...

    def task_started(self, task_id: str, description: str, agent: str, reason: str) -> None: ...

    def turn(self, task_id: str, attempt: int, usage: Usage) -> None: ...

    def activity(self, task_id: str, step: str) -> None:
        """The task's current step ("model call", "Edit app/x.py", "verifying", "landing")."""
        ...

    def attempt(
        self,
        task_id: str,
        attempt: int,
        outcome: str,
        detail: str = "",
        *,
        of: int = 0,
        usage: Usage | None = None,
        seconds: float = 0.0,
        cost: float = 0.0,
        verify_seconds: float = 0.0,
    ) -> None:
        """Attempt `attempt` of `of` in this round of the task (a resume starts a new one)."""

    def landed(self, task_id: str, sha: str, kind: str, evidence: str = "") -> None: ...

    def failed(self, task_id: str, reason: str) -> None: ...
