"""Document-level consistency and canonical names.

Within one document a name means one thing: a string tagged once is tagged wherever it recurs (with
the label it gets most often), and a lone surname after a full person name is that person. The
canonical name of a mention is the longest name of the same label in the document that ends with
the mention's words ("Trump" → "Donald Trump"); otherwise the mention's own text.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence

from services.enrich.entities.cues import LEGAL_SUFFIXES, NAME_PARTICLES, ORG_END_WORDS
from services.enrich.entities.spans import Span, is_capitalised

SURNAME_WEIGHT = 1  # the surname of a full person name in the document outvotes the model's guesses
STRONG_WEIGHT = 10  # a span a context cue made ("supermarktketen X", "X N.V.") outvotes the model's guesses
COMPANY_ENDS = LEGAL_SUFFIXES | ORG_END_WORDS  # "Shell N.V.", "Tata Steel": the name before is the company
MIN_PROPAGATED_CHARS = 3  # shorter strings ("EU" aside, listed anyway) are too ambiguous to copy around


def _votes(
    units: Sequence[tuple[list[str], list[Span]]], strong: Sequence[set[tuple[int, int]]]
) -> dict[tuple[str, ...], Counter[str]]:
    votes: dict[tuple[str, ...], Counter[str]] = defaultdict(Counter)
    for number, (words, spans) in enumerate(units):
        cued = strong[number] if number < len(strong) else set()
        for start, end, label in spans:
            votes[tuple(words[start:end])][label] += STRONG_WEIGHT if (start, end) in cued else 1
            if label == "ORG" and (start, end) in cued and end - start > 1 and words[end - 1] in COMPANY_ENDS:
                votes[tuple(words[start : end - 1])]["ORG"] += STRONG_WEIGHT  # "Tata" after "Tata Steel"
            if label == "PER" and end - start > 1:  # the surname alone is the same person
                surname = tuple(w for w in words[start + 1 : end] if w not in NAME_PARTICLES)[-1:]
                if surname and len(surname[0]) >= MIN_PROPAGATED_CHARS:
                    votes[surname]["PER"] += SURNAME_WEIGHT
    return votes


def propagate(
    units: Sequence[tuple[list[str], list[Span]]], strong: Sequence[set[tuple[int, int]]] = ()
) -> list[list[Span]]:
    """The spans of each unit (sentence or article) of one document, made consistent across it.

    ``strong[i]`` holds the positions of unit ``i``'s spans that a context cue made: they outvote the
    model, so a name typed once with a cue keeps that type wherever it recurs in the document."""
    votes = _votes(units, strong)
    best = {key: counts.most_common(1)[0][0] for key, counts in votes.items()}
    by_first: dict[str, list[tuple[str, ...]]] = defaultdict(list)
    for key in best:
        if len("".join(key)) >= MIN_PROPAGATED_CHARS and is_capitalised(key[0]):
            by_first[key[0]].append(key)
    for keys in by_first.values():
        keys.sort(key=len, reverse=True)
    out: list[list[Span]] = []
    for words, spans in units:
        fixed = {(start, end): best.get(tuple(words[start:end]), label) for start, end, label in spans}
        owner = [-1] * len(words)  # index into ``positions`` of the span covering each token
        for number, (start, end) in enumerate(fixed):
            for k in range(start, end):
                owner[k] = number
        positions: list[tuple[int, int]] = list(fixed)
        i = 0
        while i < len(words):
            hit = None
            for name in by_first.get(words[i], ()):
                end = i + len(name)
                if tuple(words[i:end]) != name or (end < len(words) and is_capitalised(words[end])):
                    continue  # not here, or part of a longer, different name
                covered = {positions[o] for o in owner[i:end] if o >= 0}
                if all(i <= s and e <= end for s, e in covered) and (i, end) not in covered:
                    hit = (i, end, covered)  # a longer name known in the document wins over pieces
                break
            if hit:
                start, end, covered = hit
                for position in covered:
                    del fixed[position]
                fixed[(start, end)] = best[tuple(words[start:end])]
                positions.append((start, end))
                for k in range(start, end):
                    owner[k] = len(positions) - 1
                i = end
            else:
                i += 1
        out.append(sorted((s, e, label) for (s, e), label in fixed.items()))
    return out


def canonical_names(mentions: Sequence[tuple[str, str]]) -> list[str]:
    """The canonical name of each ``(text, label)`` mention of one document, in the same order."""
    full: dict[str, list[list[str]]] = defaultdict(list)
    for text, label in mentions:
        full[label].append(text.split())
    names = []
    for text, label in mentions:
        words = text.split()
        longest = words
        for other in full[label]:
            if len(other) > len(longest) and other[-len(words) :] == words:
                longest = other
        names.append(" ".join(longest) if longest is not words else text)
    return names
