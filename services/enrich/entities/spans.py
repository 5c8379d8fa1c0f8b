"""Span bookkeeping shared by the entity rules: what may be a name, where it ends, claiming a span."""

from __future__ import annotations

from services.enrich.entities.cues import NAME_PARTICLES, PREFIXED_NAME

Span = tuple[int, int, str]  # token start, token end (exclusive), label


def is_capitalised(word: str) -> bool:
    """A token that can start or continue a name: an upper-case first letter (or "al-Sharaa")."""
    return word[:1].isupper() or bool(PREFIXED_NAME.match(word))


def name_end(words: list[str], start: int, *, particles: bool = True) -> int:
    """End of the capitalised name starting at ``start`` (particles only inside, before a capital)."""
    end = start
    while end < len(words):
        if is_capitalised(words[end]):
            end += 1
        elif particles and words[end] in NAME_PARTICLES and end > start:
            nxt = end
            while nxt < len(words) and words[nxt] in NAME_PARTICLES:
                nxt += 1
            if nxt < len(words) and is_capitalised(words[nxt]):
                end = nxt
            else:
                break
        else:
            break
    return end


def claim(spans: dict[tuple[int, int], str], taken: list[bool], start: int, end: int, label: str) -> bool:
    """Make ``start:end`` one ``label`` span when every span it touches lies inside it."""
    inside = [key for key in spans if key[0] < end and key[1] > start]
    if not all(start <= s and e <= end for s, e in inside):
        return False
    for key in inside:
        del spans[key]
    spans[(start, end)] = label
    for k in range(start, end):
        taken[k] = True
    return True


def non_overlapping(spans: dict[tuple[int, int], str]) -> list[Span]:
    """The spans sorted by position; where two overlap, the longer (then the earlier) one stays."""
    kept: list[Span] = []
    used: set[int] = set()
    for (start, end), label in sorted(spans.items(), key=lambda item: (item[0][0] - item[0][1], item[0][0])):
        if not used.intersection(range(start, end)):
            kept.append((start, end, label))
            used.update(range(start, end))
    return sorted(kept)
