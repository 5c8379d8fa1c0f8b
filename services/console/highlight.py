"""Cut a text into plain and marked pieces for the templates, which escape every piece.

A span is ``(start, end, payload)``; spans are taken in order and one that overlaps an earlier one is
skipped, so every character of the text appears exactly once.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Piece(Generic[T]):
    text: str
    start: int
    mark: T | None = None


def pieces(text: str, spans: Iterable[tuple[int, int, T]]) -> list[Piece[T]]:
    """``text`` as consecutive pieces, the ones covered by a span carrying that span's payload."""
    out: list[Piece[T]] = []
    at = 0
    for start, end, mark in sorted(spans, key=lambda s: (s[0], -s[1])):
        if start < at or end <= start or end > len(text):
            continue
        if start > at:
            out.append(Piece(text[at:start], at))
        out.append(Piece(text[start:end], start, mark))
        at = end
    if at < len(text) or not out:
        out.append(Piece(text[at:], at))
    return out


def window(text: str, spans: list[tuple[int, int]], width: int = 240) -> tuple[int, int]:
    """A stretch of ``text`` about ``width`` long around the first span (the start when there is none)."""
    if not spans or len(text) <= width:
        return 0, min(len(text), width)
    first = spans[0][0]
    start = max(0, first - width // 3)
    space = text.rfind(" ", 0, start)
    start = 0 if space < 0 or start == 0 else space + 1
    end = min(len(text), start + width)
    space = text.find(" ", end)
    return start, len(text) if space < 0 else space
