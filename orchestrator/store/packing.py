"""A conversation's steps stored compressed, each against the steps before it.

A step alone is small and mostly like the steps before it: the same keys, ids the turn
before named, a tool result the model then quotes. So each step is deflated with the last
32 KB of its conversation's earlier steps as the dictionary (`zlib`'s preset dictionary):
it costs about what it adds. Each row still decodes on its own, given the rows before it,
so a row that could not be written leaves the others whole, and a resume in another process
goes on from the texts it read. Steps over 8 KB (a system prompt's snapshot, a large file)
are compressed but not put in the dictionary: they would push the conversation's usual
shape out of the window.

Pure: texts in, bytes out, and back.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterable

WINDOW = 32_768  # deflate's window: the most a dictionary can give
BIG = 8_192  # a step over this many bytes stays out of the dictionary
DAMAGED = "damaged"  # the kind a step that does not decode reads as
FORMAT = b"\x01"  # the first byte of a packed step: raw deflate, the history as dictionary


class DamagedStep(ValueError):
    """A stored step that does not decode (the store was changed by hand, or is torn)."""


class History:
    """The tail of a conversation's steps so far, the dictionary of the next one."""

    def __init__(self, texts: Iterable[str] = ()) -> None:
        self._tail = bytearray()
        for text in texts:
            self.add(text)

    def add(self, text: str) -> None:
        raw = text.encode()
        if len(raw) <= BIG:
            self._tail += raw + b"\n"
            del self._tail[:-WINDOW]

    def pack(self, text: str) -> bytes:
        """`text` compressed against the history (which it does not join: `add` it once
        it is stored)."""
        z = zlib.compressobj(6, zlib.DEFLATED, -15, 9, zlib.Z_DEFAULT_STRATEGY, *self._dict())
        return FORMAT + z.compress(text.encode()) + z.flush()

    def unpack(self, packed: bytes) -> str:
        if packed[:1] != FORMAT:
            raise DamagedStep(f"unknown format {packed[:1]!r}")
        try:
            z = zlib.decompressobj(-15, *self._dict())
            raw = z.decompress(packed[1:]) + z.flush()
            if not z.eof:
                raise DamagedStep("cut short")
            return raw.decode()
        except (zlib.error, UnicodeDecodeError) as exc:
            raise DamagedStep(str(exc)) from None

    def _dict(self) -> tuple[bytes, ...]:
        return (bytes(self._tail),) if self._tail else ()


def unpack(rows: Iterable[tuple[str, str, bytes]]) -> list[tuple[str, str]]:
    """(kind, text) of each (kind, data, packed) row in order; a row with no packed bytes
    is stored as plain JSON (an `end` written without the journal, an older store). A row
    that does not decode, and each after it (their dictionary is lost), reads as a
    `damaged` step saying why, so the steps keep their places; plain rows still read (the
    `end` that closes such a conversation)."""
    history, out, why = History(), [], ""
    for n, (kind, data, packed) in enumerate(rows):
        if not why or not packed:
            try:
                text = history.unpack(bytes(packed)) if packed else data
                history.add(text)
                out.append((kind, text))
                continue
            except DamagedStep as exc:
                why = f"step {n} ({kind}) does not decode: {exc}"
        out.append((DAMAGED, json.dumps({"kind": kind, "why": why})))
    return out
