"""How well each agent fits one task: a sum of weighted signals, each one a reason a person can
check. Pure; no agent is named here, every agent is judged by its own definition.

The weights, in order of strength: a language the agent does not write rules it out (-8); an
`sdd.paths` hint claims a file (+6); a file's kind (a README is documentation, a `.tsx` is
frontend) and the description's own words weigh most among the rest; the feature's stack
adds a steady pull toward the agent built for it (or a push away, for another ecosystem's
agent), strong enough to take tasks that say little and weak enough that a task plainly about
something else goes elsewhere; the default agent gets a small edge to break ties.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from orchestrator.globs import glob_match
from orchestrator.plan import lexicon
from orchestrator.plan.evidence import Facts
from orchestrator.plan.profiles import Profile
from orchestrator.plan.stack import Stack

W_TERM = 1.5  # a description word of the agent, in the task's text
W_TOPIC = 0.75  # a word of a kind of work the agent's description names
W_FILE_KIND = 2.0  # a file whose name says its kind (README.md, .gitignore, App.tsx)
W_FOLDER = 1.0  # a word of the agent's in a task file's folders or the plan's structure
W_FOLDER_TOPIC = 0.5
W_FOLDERS_MAX = 2.0  # folder words say one thing several times: `backend/src/api/`
W_PHASE = 0.5  # per word of the phase or section title, at most 1.0 in all
W_STACK = 2.0  # the feature's stack is the agent's (+0.25 per further technology, to +2.5)
W_STACK_OTHER = -2.0  # the feature's stack is another ecosystem than the agent's
W_LANGUAGE = 1.0  # the task's files are in a language the agent names
W_LANGUAGE_FEATURE = 0.5  # the task names no code file, and the feature's language is its
W_LANGUAGE_OTHER = -8.0  # ... or none of them is
W_HINT = 6.0  # an `sdd.paths` glob of the agent matches a task file
W_RELATED = 1.5  # tasks sharing its files, symbols or ids went to this agent (share of them)
W_DEFAULT = 0.5  # the configured default agent

TASK_KINDS = frozenset({"hint", "description", "topic", "files", "folders"})  # its own words, files


@dataclass(frozen=True, slots=True)
class Signal:
    kind: str  # route, hint, description, topic, files, folders, phase, stack, language, ...
    detail: str
    weight: float


@dataclass(frozen=True, slots=True)
class Candidate:
    agent: str
    score: float
    signals: tuple[Signal, ...]

    @property
    def claims(self) -> bool:
        """Whether something about the task itself (not just the feature) points here."""
        return any(s.kind in TASK_KINDS and s.weight > 0 for s in self.signals)


class Scorer:
    """Every agent's signals for a task, given the agents' profiles and the feature's stack."""

    def __init__(self, profiles: Sequence[Profile], stack: Stack, default: str) -> None:
        self.profiles = list(profiles)
        self.stack = stack
        self.default = default
        self.term_df: dict[str, int] = {}
        self.topic_df: dict[str, int] = {}
        for p in self.profiles:
            for t in p.terms:
                self.term_df[t] = self.term_df.get(t, 0) + 1
            for c in p.concepts:
                self.topic_df[c] = self.topic_df.get(c, 0) + 1
        self._stack_signal = {p.name: self._stack_fit(p) for p in self.profiles}
        self._phases: dict[tuple[tuple[str, ...], str], Signal | None] = {}
        self._folder_cache: dict[tuple[tuple[tuple[str, ...], ...], str], Signal | None] = {}

    def signals(self, f: Facts, profile: Profile) -> list[Signal]:
        out: list[Signal] = []
        if profile.paths:
            hit = next(
                ((g, p) for p, _, _ in f.files for g in profile.paths if glob_match(g, p)), None
            )
            if hit:
                out.append(Signal("hint", f"sdd.paths '{hit[0]}' matched {hit[1]}", W_HINT))
        self._words(f.words, profile, out)
        self._files(f, profile, out)
        self._phase(f.phase_words, profile, out)
        stack = self._stack_signal[profile.name]
        language = self._language(f, profile)
        # Writing the feature's language pulls toward an agent for that language, or for the
        # feature's stack; neither pulls toward its documentation or its tooling.
        fits = not profile.ecosystems or (stack is not None and stack.weight > 0)
        pulls = fits and not f.product
        if language and (language.weight < 0 or pulls):
            out.append(language)
        if stack and (stack.weight < 0 or not f.product):
            out.append(stack)
        if profile.name == self.default:
            out.append(Signal("default", "the default agent", W_DEFAULT))
        return out

    def _words(self, words: Sequence[str], p: Profile, out: list[Signal]) -> None:
        """Each of the agent's own words counts; other words of a kind of work it names count
        once per kind, and not at all for a kind its own words already matched."""
        exact: list[str] = []
        matched: set[str] = set()
        topics: dict[str, list[str]] = {}
        w_exact = 0.0
        for t in words:
            weight = p.terms.get(t)
            if weight:
                exact.append(t)
                matched.update(lexicon.concepts_of(t))
                w_exact += W_TERM * weight / self.term_df[t]
                continue
            for c in lexicon.concepts_of(t):
                if c in p.concepts:
                    topics.setdefault(c, []).append(t)
        if exact:
            out.append(Signal("description", ", ".join(exact), round(w_exact, 3)))
        kinds = {c: ts for c, ts in topics.items() if c not in matched}
        if kinds:
            detail = "; ".join(f"{c}: {', '.join(ts)}" for c, ts in kinds.items())
            weight = sum(W_TOPIC / self.topic_df[c] for c in kinds)
            out.append(Signal("topic", detail, round(weight, 3)))

    def _files(self, f: Facts, p: Profile, out: list[Signal]) -> None:
        kinds: dict[str, list[str]] = {}
        for path, _, kind in f.files:
            if kind and kind in p.concepts:
                kinds.setdefault(kind, []).append(path)
        if kinds:  # a kind weighs by its share of the task's files
            share = {k: len(paths) / len(f.files) for k, paths in kinds.items()}
            weight = sum(W_FILE_KIND * share[k] / self.topic_df[k] for k in kinds)
            detail = "; ".join(f"{k}: {', '.join(paths[:3])}" for k, paths in kinds.items())
            out.append(Signal("files", detail, round(weight, 3)))
        if f.folder_terms:
            signal = self._folders(tuple(found for _, found in f.folder_terms), p)
            if signal:
                out.append(signal)

    def _folders(self, folder_terms: tuple[tuple[str, ...], ...], p: Profile) -> Signal | None:
        key = (folder_terms, p.name)  # tasks in one folder say the same about it
        if key in self._folder_cache:
            return self._folder_cache[key]
        seen: dict[str, float] = {}
        for found in folder_terms:
            for t in found:
                if t in seen:
                    continue
                weight = p.terms.get(t)
                if weight:
                    seen[t] = W_FOLDER * weight / self.term_df[t]
                elif cs := [c for c in lexicon.concepts_of(t) if c in p.concepts]:
                    seen[t] = W_FOLDER_TOPIC / min(self.topic_df[c] for c in cs)
        total = round(min(W_FOLDERS_MAX, sum(seen.values())), 3)
        signal = Signal("folders", ", ".join(seen), total) if seen else None
        self._folder_cache[key] = signal
        return signal

    def _phase(self, words: tuple[str, ...], p: Profile, out: list[Signal]) -> None:
        key = (words, p.name)  # every task of a phase has the same title
        if key not in self._phases:
            hits = [
                t
                for t in words
                if t in p.terms or any(c in p.concepts for c in lexicon.concepts_of(t))
            ]
            found = Signal("phase", ", ".join(hits), min(1.0, W_PHASE * len(hits)))
            self._phases[key] = found if hits else None
        signal = self._phases[key]
        if signal:
            out.append(signal)

    def _language(self, f: Facts, p: Profile) -> Signal | None:
        if not p.families:
            return None
        mine = "/".join(sorted(p.families))
        families = f.families
        if families:
            shared = families & p.families
            if shared:
                path = next(path for path, fam, _ in f.files if fam in shared)
                return Signal("language", f"{path} is {mine}", W_LANGUAGE)
            path = next(path for path, fam, _ in f.files if fam)
            return Signal("language", f"{path} is not {mine}", W_LANGUAGE_OTHER)
        if not self.stack.families:
            return None
        if self.stack.families & p.families:
            return Signal("language", f"the feature is {mine}", W_LANGUAGE_FEATURE)
        theirs = "/".join(sorted(self.stack.families))
        return Signal("language", f"the feature is {theirs}, not {mine}", W_LANGUAGE_OTHER)

    def _stack_fit(self, p: Profile) -> Signal | None:
        if not p.ecosystems or not self.stack.techs:
            return None
        shared = [t for t in self.stack.techs if t in p.techs and lexicon.TECH[t][1]]
        near = p.ecosystems & self.stack.ecosystems
        if shared or near:
            named = shared or [t for t in self.stack.techs if lexicon.TECH[t][1] in near]
            weight = W_STACK + min(0.5, 0.25 * (len(named) - 1))
            return Signal("stack", ", ".join(named[:4]), weight)
        if self.stack.techs:  # named, and none of them is what this agent is for
            theirs = ", ".join(self.stack.techs[:4])
            return Signal(
                "stack", f"the feature's stack ({theirs}) is not this agent's", W_STACK_OTHER
            )
        return None
