"""A file's new content as its change from an older content: runs of lines kept from the old
one and the new bytes between them, compressed. Pure.

An Edit of a large file is a few lines: kept whole at every step, its content would cost the
store many times the turn's own message; kept as a change, it costs about what the Edit said.
"""

from __future__ import annotations

import difflib
import hashlib
import struct
import zlib

_COPY, _ADD = 0, 1
_HEAD = struct.Struct(">BII")  # op, then (first line, lines) to copy or (length, 0) to add


def encode(old: bytes, new: bytes) -> bytes:
    """`new` as a change from `old`; `decode(old, encode(old, new)) == new`."""
    if not old:
        return zlib.compress(_HEAD.pack(_ADD, len(new), 0) + new, 6)
    a, b = old.splitlines(keepends=True), new.splitlines(keepends=True)
    out: list[bytes] = []
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=len(a) > 2_000)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            out.append(_HEAD.pack(_COPY, i1, i2 - i1))
        elif j2 > j1:  # replace or insert; a delete adds nothing
            added = b"".join(b[j1:j2])
            out += [_HEAD.pack(_ADD, len(added), 0), added]
    return zlib.compress(b"".join(out), 6)


def decode(old: bytes, change: bytes) -> bytes:
    """The content `change` makes of `old`; ValueError when `change` is not one (corrupt)."""
    try:
        raw = zlib.decompress(change)
    except zlib.error as exc:
        raise ValueError(f"not a stored change ({exc})") from None
    lines = old.splitlines(keepends=True)
    out: list[bytes] = []
    at = 0
    while at < len(raw):
        if at + _HEAD.size > len(raw):
            raise ValueError("a stored change ends mid-step")
        op, x, y = _HEAD.unpack_from(raw, at)
        at += _HEAD.size
        if op == _COPY and x + y <= len(lines):
            out.extend(lines[x : x + y])
        elif op == _ADD and at + x <= len(raw):
            out.append(raw[at : at + x])
            at += x
        else:
            raise ValueError("a stored change does not fit its parent")
    return b"".join(out)


def short_digest(content: bytes) -> str:
    """The digest a step's `tree` names a file by (64 bits of its SHA-256)."""
    return hashlib.sha256(content).hexdigest()[:16]
