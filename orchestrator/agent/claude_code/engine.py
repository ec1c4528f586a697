"""The `claude-code` engine: a task's attempts as one Claude Code session in its work tree.

The first attempt starts the session with the task message; verification feedback resumes
the same session by its id, so Claude Code repairs its own change with everything it saw
before. Each attempt is one CLI process. sdd meters every API call as it streams by: budgets,
Ctrl-C and the attempt's output-token limit are checked before the next call (and stop the
session there), and its turn limit is Claude Code's `max_turns`.
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from orchestrator import paths
from orchestrator.agent.claude_code import options as opts
from orchestrator.agent.claude_code.credentials import Credential, find_credential
from orchestrator.agent.claude_code.gate import Gate, offered
from orchestrator.agent.claude_code.mirror import JournalSessions, replay, resume_note
from orchestrator.agent.claude_code.session import Control, converse, gate_hooks
from orchestrator.agent.claude_code.stream import SessionLog
from orchestrator.agent.engine import Job
from orchestrator.agent.journal import Journal, Unrecorded
from orchestrator.agent.loop import Hooks, LoopResult, close_attempt, settle
from orchestrator.agent.model import Usage
from orchestrator.agent.models import MODEL_ALIASES, SCRIPTED_PREFIX
from orchestrator.agent.tools.toolbox import tool_step
from orchestrator.agent.transcript import Transcript
from orchestrator.config.model import Config
from orchestrator.errors import InputError
from orchestrator.store.records import TaskKind

EXTRA = "pip install 'sdd-orchestrator[claude-code]'"


def _bundled_cli() -> tuple[Path | None, str]:
    """The CLI the Agent SDK bundles, and its version ("" when unknown)."""
    import claude_agent_sdk

    folder = Path(claude_agent_sdk.__file__).parent / "_bundled"
    cli = folder / ("claude.exe" if sys.platform == "win32" else "claude")
    version = folder / "claude.version"
    text = version.read_text(encoding="utf-8").split()[0] if version.is_file() else ""
    return (cli if cli.is_file() else None), text


def open_engine(
    model: str, *, root: Path, config: Config, env: Mapping[str, str]
) -> ClaudeCodeEngine:
    """Check everything a session needs before the run starts: the SDK, a CLI, a model id
    and a credential."""
    model = model.strip()
    if model.startswith(SCRIPTED_PREFIX):
        raise InputError(
            "--model scripted:PATH runs on the anthropic engine only; "
            "give the claude-code engine a model id or alias"
        )
    if not model:
        raise InputError("no model given: pass --model MODEL_ID")
    try:
        bundled, version = _bundled_cli()
    except ImportError:
        raise InputError(f"the claude-code engine needs the Claude Agent SDK: {EXTRA}") from None
    given = config.claude_code.cli
    if given:
        cli = (root / Path(given).expanduser()).resolve()
        if not cli.is_file():
            raise InputError(f"claude_code.cli: {given} is not a file")
        version = ""
    elif bundled is None:
        raise InputError(f"the Claude Agent SDK has no bundled Claude Code CLI: reinstall, {EXTRA}")
    else:
        cli = bundled
    if config.bash.sandbox != "none":
        raise InputError(
            f"bash.sandbox: {config.bash.sandbox} wraps sdd's own Bash tool, and the claude-code "
            "engine runs Claude Code's: set bash.sandbox: none, or use --engine anthropic"
        )
    credential = find_credential(env, sys.platform)
    return ClaudeCodeEngine(MODEL_ALIASES.get(model, model), cli, version, credential, root, config)


class ClaudeCodeEngine:
    """Runs a task's attempts as Claude Code sessions; checked and built by `open_engine`."""

    name = "claude-code"

    def __init__(
        self,
        model: str,
        cli: Path,
        version: str,
        credential: Credential,
        root: Path,
        config: Config,
    ) -> None:
        self.model, self.cli, self.version = model, cli, version
        self.credential, self.config = credential, config
        # Sessions signed in with a key keep their Claude Code state beside sdd's; a login
        # lives in the user's own config folder, so those sessions must use it.
        self.config_dir = None if credential.login else paths.claude_config_dir(root)

    def describe(self) -> str:
        what = f"Claude Code {self.version}" if self.version else f"Claude Code at {self.cli}"
        return f"model {self.model}, engine claude-code ({what}), {self.credential.label}"

    def run_task(self, job: Job, hooks: Hooks) -> LoopResult:
        """The attempts, each a session; with a journal, an attempt cut short by a kill
        resumes its session (from sdd's store when Claude Code's own file is gone)."""
        book: Journal = job.journal or Unrecorded()
        mirror = JournalSessions(book, self.config_dir, job.root)
        task = _Sessions(self, job, hooks, mirror)
        result = LoopResult(landed=False, kind=TaskKind.NONE, summary="")
        w = replay(book.steps())
        session, text = (w.session, w.text) if w.recorded else (None, job.first_message)
        for attempt in range(w.attempt, job.limits.attempts + 1):
            started = time.monotonic()
            joined = w.recorded and w.started and attempt == w.attempt
            log = hooks.transcript(attempt, resumed=True) if joined else hooks.transcript(attempt)
            try:
                if joined:
                    turns = mirror.turns(session)
                    log.write("resumed", turns=turns, calls=0, judged=w.closed is not None)
                    if session and turns:
                        text = resume_note(book.diff())
                else:
                    book.add("attempt", {"n": attempt, "text": text, "session": session})
                    log.write("user", text=text)
                if joined and w.closed is not None:  # judged before the stop: judge again
                    end = _Ended(True, w.summary, session, Usage())
                else:
                    end = task.run(attempt, text, session, log)
                settled = settle(
                    attempt, job.limits.attempts, end.ended, job.check_task, hooks, log
                )
            except BaseException as exc:  # paused, refused or stopped: say so in the transcript
                log.write("error", error=f"{type(exc).__name__}: {exc}")
                log.close()
                raise
            again = joined and w.closed is not None
            usage, summary = end.usage, end.summary
            if close_attempt(
                result, hooks, log, attempt, settled, usage, started, summary, record=not again
            ):
                book.add("closed", {"outcome": str(settled.outcome), "summary": summary})
                return result
            if end.session_id:
                session, text = end.session_id, settled.feedback
            else:  # no session came of it: the next one starts over, task included
                text = f"{job.first_message}\n\n{settled.feedback}"
            book.add("closed", {"outcome": str(settled.outcome), "feedback": text})
        return result


@dataclass(frozen=True, slots=True)
class _Ended:
    """How one session ended, for `settle`."""

    ended: bool  # with a summary, not cut short by a limit
    summary: str
    session_id: str | None
    usage: Usage


class _Sessions:
    """One task's sessions: its job, the gate over its work tree, the run's hooks."""

    def __init__(
        self, engine: ClaudeCodeEngine, job: Job, hooks: Hooks, mirror: JournalSessions
    ) -> None:
        self.engine, self.job, self.hooks, self.mirror = engine, job, hooks, mirror
        self.tools, self.dropped = offered(job.tools)
        box = job.toolbox
        self.gate = Gate(box.guard, self.tools, allow=box.bash_allow, deny=box.bash_deny)

    def run(self, attempt: int, text: str, resume: str | None, log: Transcript) -> _Ended:
        """One session (new, or resumed), metered call by call, to its result."""
        limits, hooks, control = self.job.limits, self.hooks, Control()
        spent = [Usage()]

        def on_call(usage: Usage, stop_reason: str) -> None:
            spent[0] = spent[0] + usage
            hooks.on_turn(attempt, usage)
            if stop_reason != "tool_use":
                return  # no further call follows this one
            if spent[0].output_tokens >= limits.output_tokens:
                control.limit = True
                return
            try:
                hooks.before_call()
            except BaseException as exc:  # raised once the session has stopped
                control.abort = exc

        if self.dropped:
            log.write("tools", offered=self.tools, refused=self.dropped)

        def said(record: dict[str, Any]) -> None:
            if sink.session_id:
                self.mirror.said(sink.session_id, record, text)

        hooks.before_call()
        sink = SessionLog(log, on_call, self.job.toolbox.ran, said)
        with tempfile.TemporaryDirectory(prefix="sdd-claude-") as folder, self.job.writing():
            options = self._options(Path(folder), resume, sink, control)
            converse(options, text, sink, control)
        failure = sink.failure(self.engine.config.api.max_retries)
        if failure is not None:
            raise failure
        ended = not control.limit and not sink.out_of_turns and sink.result is not None
        return _Ended(ended, sink.summary() if ended else "", sink.session_id, spent[0])

    def _options(self, folder: Path, resume: str | None, sink: SessionLog, control: Control) -> Any:
        from claude_agent_sdk import ClaudeAgentOptions
        from claude_agent_sdk.types import SystemPromptPreset

        job, engine, cfg = self.job, self.engine, self.engine.config
        base = {**job.env, **engine.credential.env}  # a withheld key goes to the CLI only
        launchers = opts.write_launchers(folder, engine.cli, opts.full_env(base))
        env = opts.session_env(
            base,
            max_tokens=job.limits.max_tokens,
            max_retries=cfg.api.max_retries,
            timeout=cfg.api.timeout,
            bash_timeout=job.toolbox.bash_timeout,
            shell_prefix=launchers.shell_prefix,
            config_dir=engine.config_dir,
            cache_1h=cfg.cache_ttl == "1h",
        )
        toolbox = job.toolbox

        def watch(name: str, tool_input: Any) -> None:
            if toolbox.watch is not None:
                toolbox.watch(tool_step(name, tool_input, job.root))

        hooks, can_use_tool = gate_hooks(self.gate, sink, control, watch)
        return ClaudeAgentOptions(
            tools=self.tools,
            system_prompt=SystemPromptPreset(
                type="preset", preset="claude_code", append=opts.appended_prompt(job.system)
            ),
            permission_mode="default",
            can_use_tool=can_use_tool,
            hooks=hooks,
            setting_sources=list(opts.SETTING_SOURCES[cfg.claude_code.settings]),
            settings=opts.flag_settings(),
            strict_mcp_config=True,
            model=job.model_id,
            max_turns=job.limits.turns,
            resume=resume,
            cwd=str(job.root),
            env=env,
            cli_path=str(launchers.cli),
            include_partial_messages=True,
            verbatim_prompts=True,
            session_store=cast(Any, self.mirror),  # duck-typed: the SDK probes for the rest
            session_store_flush="eager",
        )
