"""Names in one enumeration are of one kind (issue 12, fifth step): in "Kostić en Teunissen ( beiden
PvdD ) , Koekkoek ( Volt ) , Thijssen , Gabriëls" a name between two persons, linked to both by a comma
or "en", is a person too, whatever the model made of it or when it made nothing. Chosen on the dev
splits (see MODEL_CARD.md).
"""

from __future__ import annotations

from services.enrich.entities.cues import SENTENCE_OPENERS
from services.enrich.entities.spans import is_capitalised, name_end

Spans = dict[tuple[int, int], str]
LIST_LINKS = ((",",), ("en",), (",", "en"))  # what stands between two items of an enumeration
MAX_BRACKET = 6  # "( beiden GroenLinks-PvdA )" after an item: skipped, up to this many tokens


def enumerated_persons(words: list[str], spans: Spans, taken: list[bool], *, listed: frozenset[str]) -> None:
    """Make a name PER when the names right before and after it in one enumeration are persons."""
    if sum(label == "PER" for label in spans.values()) < 2:  # most sentences: nothing to do
        return
    items = _items(words, spans, taken)
    for k in range(1, len(items) - 1):
        (_, e0, label0), (s, e, label), (s1, _, label1) = items[k - 1], items[k], items[k + 1]
        if label == "PER" or label0 != "PER" or label1 != "PER" or " ".join(words[s:e]) in listed:
            continue
        if _linked(words, e0, s) and _linked(words, e, s1):
            spans.pop((s, e), None)
            spans[(s, e)] = "PER"
            for i in range(s, e):
                taken[i] = True


def _items(words: list[str], spans: Spans, taken: list[bool]) -> list[tuple[int, int, str | None]]:
    """The spans of the sentence plus its unclaimed capitalised names (label None), in order; names in
    brackets ("( beiden PvdD )") are remarks on an item, not items."""
    depth, inside = 0, []
    for word in words:
        depth += word == "("
        inside.append(depth > 0)
        depth -= word == ")" and depth > 0
    items: list[tuple[int, int, str | None]] = [
        (s, e, label) for (s, e), label in spans.items() if not inside[s]
    ]
    i = 1
    while i < len(words):
        if taken[i] or not is_capitalised(words[i]) or words[i - 1] in SENTENCE_OPENERS:
            i += 1
            continue
        end = name_end(words, i)
        if not any(taken[i:end]) and not inside[i]:
            items.append((i, end, None))
        i = max(end, i + 1)
    return sorted(items)


def _linked(words: list[str], end: int, start: int) -> bool:
    """Whether only a list link (after an optional bracket) stands between ``end`` and ``start``."""
    between = words[end:start]
    if between[:1] == ["("] and ")" in between[: MAX_BRACKET + 2]:
        between = between[between.index(")") + 1 :]
    return tuple(between) in LIST_LINKS
