"""Cutting long text for a reader with a budget (the model, a transcript, a terminal): keep the
head and the tail, and say how much was cut in between; and text from files made safe to show
in a terminal. Pure."""

from __future__ import annotations

import re

# C0 and C1 controls but tab and newline, and the bidirectional overrides: in a terminal they
# recolour, retitle or reorder what follows
_UNSAFE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def visible(text: str) -> str:
    """`text` with every terminal control character written as an escape (`\\x1b`)."""
    return _UNSAFE.sub(lambda m: ascii(m.group())[1:-1], text)


def cut_note(cut: int) -> str:
    return f"[... {cut} characters cut ...]"


def join_cut(head: str, tail: str, cut: int) -> str:
    """`head` and `tail` of a text with `cut` characters between them left out."""
    return head + tail if cut <= 0 else f"{head}\n{cut_note(cut)}\n{tail}"


def cap(text: str, limit: int) -> str:
    """`text` within about `limit` characters: its head and tail, with the cut in between."""
    if len(text) <= limit:
        return text
    half = limit // 2
    return join_cut(text[:half], text[len(text) - half :], len(text) - 2 * half)


def cap_end(text: str, limit: int) -> str:
    """`text` within `limit` characters, cut at the end: for documents read from the top."""
    if len(text) <= limit:
        return text
    return text[:limit] + f"\n\n[... {len(text) - limit} more characters not shown ...]"
