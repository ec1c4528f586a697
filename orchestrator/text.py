"""Cutting long text for a reader with a budget (the model, a transcript, a terminal): keep the
head and the tail, and say how much was cut in between. Pure."""

from __future__ import annotations


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
