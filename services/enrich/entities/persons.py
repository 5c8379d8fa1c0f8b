"""Where a person's name ends: not in "van X" after a full name (issue 12: "Topvrouw Natalie Knight van
Ahold Delhaize", "minister Sophie Hermans van Klimaat" ran on into the organisation or ministry), and
double surnames with a particle."""

from __future__ import annotations

from services.enrich.entities.cues import DOUBLE_SURNAME_HEAD, NAME_PARTICLES, PORTFOLIO_WORDS
from services.enrich.entities.spans import claim


def person_end(words: list[str], start: int, end: int, first_names: frozenset[str]) -> int:
    """``end`` cut before "van X" that follows a full name: "Natalie Knight van Ahold Delhaize",
    "minister Sophie Hermans van Klimaat"; "Ton van Veen" and "Jan Peter van der Berg" stay whole."""
    for k in range(start + 2, end):
        after_full_name = words[k - 1] not in NAME_PARTICLES and words[k - 1] not in first_names
        if (
            words[k] in NAME_PARTICLES
            and after_full_name
            and all(w not in NAME_PARTICLES for w in words[start:k])
        ):
            return k
        if words[k] == "van" and after_full_name and k + 1 < end and words[k + 1] in PORTFOLIO_WORDS:
            return k  # "David van Weel van Justitie": a portfolio ends even a name with particles
    return end


def cut_after_name(
    words: list[str], spans: dict[tuple[int, int], str], taken: list[bool], start: int, end: int
) -> None:
    """A model span from ``start`` that runs on past the person name ``start:end`` into "van X" is cut
    back to the name ("Sophie Hermans van Klimaat" → "Sophie Hermans")."""
    if end >= len(words) or words[end] not in NAME_PARTICLES:
        return
    for key in [k for k in spans if k[0] == start and k[1] > end]:
        del spans[key]
        for k in range(end, key[1]):
            taken[k] = False
        spans[(start, end)] = "PER"


def double_surnames(words: list[str], spans: dict[tuple[int, int], str], taken: list[bool]) -> None:
    """ "Kraneveldt-van der Veen", "Nijkerken-de Haan": a name joined by a hyphen to a particle and a
    capitalised name is one person (not a compound "Kraneveldt-van" plus a place "Veen")."""
    for i, word in enumerate(words):
        if "-" not in word or not DOUBLE_SURNAME_HEAD.match(word):  # the test in front is the cheap one
            continue
        end = i + 1
        while end < len(words) and words[end] in NAME_PARTICLES:
            end += 1
        if end == len(words) or not words[end][:1].isupper():
            continue
        claim(spans, taken, i, end + 1, "PER")
