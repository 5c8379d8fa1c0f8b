"""Context rules of the fourth step of issue 12 (chosen on the two dev splits; see MODEL_CARD.md).

* An organisation written as a capitalised institution noun plus a name after an article ("het
  Havenbedrijf Antwerpen-Brugge", "het Gerechtshof Den Haag") is one ORG, not a LOC inside it: Dutch
  writes such a noun with a capital only when it starts a name.
* The portfolio after "ministerie van", "minister van", "commissie voor" ("het ministerie van
  Buitenlandse Zaken") is no name under the team's conventions: the model's span there is dropped.
* A name right before a political party in brackets ("Kamerlid Koekkoek (Volt)") is a person, and the
  party an organisation.
* The capitalised words before an acronym in brackets that spell it ("Rijksinstituut voor
  Volksgezondheid en Milieu (RIVM)") are one name of the acronym's type.
* A single word with a capital inside ("UberEats", "PostNL") is a company, unless it starts like a
  person's name ("McCarthy", "DiCaprio").
* A party of more than one word is an organisation wherever it stands (0.1.5, chosen on
  ``tests/data/open_plenary_nl_dev``).
* A capitalised one-word compound ending in an institution noun after an article ("de
  Rijksvoorlichtingsdienst") is an organisation (0.1.6, chosen on ``tests/data/open_news_nl_dev``).
"""

from __future__ import annotations

from collections.abc import Callable

from services.enrich.entities.cues import (
    ARTICLES,
    CAMEL_CASE,
    CAMEL_PERSON_PREFIXES,
    HONORIFICS,
    INSTITUTION_COMPOUND_SUFFIXES,
    INSTITUTION_HEAD_SUFFIXES,
    LINK_WORDS,
    NAME_PARTICLES,
    OPENING_WORDS,
    PARTIES,
    PARTY_FILLERS,
    PORTFOLIO_HEADS,
)
from services.enrich.entities.spans import is_capitalised, name_end

Spans = dict[tuple[int, int], str]
Claim = Callable[[Spans, list[bool], int, int, str], bool]

PARTY_PHRASES: dict[str, list[tuple[str, ...]]] = {}  # first word -> multi-word parties starting with it
for _party in sorted(PARTIES):
    if " " in _party:
        PARTY_PHRASES.setdefault(_party.split()[0], []).append(tuple(_party.split()))


def context_rules(
    words: list[str],
    spans: Spans,
    taken: list[bool],
    *,
    claim: Claim,
    listed: frozenset[str],
    first_names: frozenset[str],
) -> set[tuple[int, int]]:
    """Apply this module's rules in order; the spans made on a strong cue."""
    strong = institution_names(
        words, spans, taken, capitalised=is_capitalised, name_end=name_end, claim=claim
    )
    institution_compounds(words, spans, taken, claim=claim)
    drop_portfolios(words, spans, taken)
    strong |= party_members(
        words, spans, taken, capitalised=is_capitalised, listed=listed, first_names=first_names
    )
    acronym_expansions(words, spans, taken)
    camel_case_names(words, spans, taken)
    party_names(words, spans, taken, claim=claim)
    return strong


def party_names(words: list[str], spans: Spans, taken: list[bool], *, claim: Claim) -> None:
    """A party of more than one word ("Partij voor de Dieren", "Vlaams Belang") is an organisation
    wherever it stands, not only in brackets after a member; one-word parties ("Volt", "Groen",
    "Vooruit") are ordinary words too and are left to the model and the lists."""
    for i, word in enumerate(words):
        for party in PARTY_PHRASES.get(word, ()):
            end = i + len(party)
            if tuple(words[i:end]) == party:
                claim(spans, taken, i, end, "ORG")
                break


def institution_names(
    words: list[str],
    spans: Spans,
    taken: list[bool],
    *,
    capitalised: Callable[[str], bool],
    name_end: Callable[[list[str], int], int],
    claim: Claim,
) -> set[tuple[int, int]]:
    """Claim "article + Institution-noun + Name" as one ORG; the spans made (strong cues)."""
    strong: set[tuple[int, int]] = set()
    for i in range(1, len(words) - 1):
        word = words[i]
        if (
            words[i - 1].lower() not in ARTICLES
            or not word[:1].isupper()
            or not word[1:].islower()
            or not word.lower().endswith(INSTITUTION_HEAD_SUFFIXES)
            or not capitalised(words[i + 1])
        ):
            continue
        end = name_end(words, i + 1)
        if claim(spans, taken, i, end, "ORG"):
            strong.add((i, end))
    return strong


def institution_compounds(words: list[str], spans: Spans, taken: list[bool], *, claim: Claim) -> None:
    """A capitalised compound ending in an institution noun right after an article ("de
    Rijksvoorlichtingsdienst", "de Belastingdienst") is one ORG: Dutch capitalises it only as a name."""
    for i in range(1, len(words)):
        word = words[i]
        lower = word.lower()
        suffix = next((s for s in INSTITUTION_COMPOUND_SUFFIXES if lower.endswith(s)), None)
        if (
            suffix is None
            or len(word) < len(suffix) + 3
            or words[i - 1].lower() not in ARTICLES
            or not word[:1].isupper()
            or not word[1:].islower()
        ):
            continue
        claim(spans, taken, i, i + 1, "ORG")


def drop_portfolios(words: list[str], spans: Spans, taken: list[bool]) -> None:
    """Drop the span right after "ministerie van", "Minister van", "commissie voor" (a portfolio:
    "Buitenlandse Zaken", "Defensie"); a capitalised "Ministerie van X" is a name and stays."""
    for start, end in [key for key in spans if key[0] >= 2]:
        head = words[start - 2]
        if words[start - 1] not in ("van", "voor") or head.lower() not in PORTFOLIO_HEADS:
            continue
        if head == "Ministerie":
            continue
        del spans[(start, end)]
        for k in range(start, end):
            taken[k] = False


def party_members(
    words: list[str],
    spans: Spans,
    taken: list[bool],
    *,
    capitalised: Callable[[str], bool],
    listed: frozenset[str],
    first_names: frozenset[str],
) -> set[tuple[int, int]]:
    """The name right before "( PARTY )" is a person ("Koekkoek ( Volt )", "Omtzigt ( NSC )"); the spans
    made or relabelled (strong: the person keeps the type in the document)."""
    strong: set[tuple[int, int]] = set()
    for i in range(1, len(words) - 2):
        if words[i] != "(":
            continue
        close = next((k for k in range(i + 1, min(i + 6, len(words))) if words[k] == ")"), None)
        first = i + 2 if words[i + 1] in PARTY_FILLERS else i + 1
        if close is None or " ".join(words[first:close]) not in PARTIES:
            continue
        start = i
        while start > 0 and i - start < 5:  # "Gijs van Dijk ( PvdA )": particles inside the name
            if capitalised(words[start - 1]) and words[start - 1].lower() not in HONORIFICS:
                start -= 1  # "Mevrouw Kant ( SP )" opening a line: the honorific is no part of the name
            elif (
                words[start - 1] in NAME_PARTICLES
                and start >= 2
                and capitalised(words[start - 2])
                and (start > 2 or words[0] in first_names)  # not "Vragen van Rooderkerk ( D66 )"
            ):
                start -= 2
            else:
                break
        if start == 0 and start < i - 1 and words[0].lower() in OPENING_WORDS:  # "Volgens Koekkoek ( Volt )"
            start = 1
        name = " ".join(words[start:i])
        if start == i or name in listed or name.isupper():
            continue
        inside = [key for key in spans if key[0] < i and key[1] > start]
        if all(start <= s and e <= i for s, e in inside):
            for key in inside:
                del spans[key]
            spans[(start, i)] = "PER"
            for k in range(start, i):
                taken[k] = True
            strong.add((start, i))
        if not any(taken[first:close]):  # the party itself: "( Nieuw Sociaal Contract )"
            spans[(first, close)] = "ORG"
            for k in range(first, close):
                taken[k] = True
    return strong


def acronym_expansions(words: list[str], spans: Spans, taken: list[bool]) -> None:
    """ "Rijksinstituut voor Volksgezondheid en Milieu ( RIVM )": the words before an acronym in brackets
    whose capitals spell it (in order, starting with its first letter) are one name of the acronym's
    type (ORG unless the acronym is typed otherwise)."""
    for i in range(2, len(words) - 2):
        if words[i] != "(" or words[i + 2] != ")" or not words[i + 1].isupper() or not words[i + 1].isalpha():
            continue
        letters = words[i + 1]
        start = i
        while (
            start > 0 and i - start < 8 and (words[start - 1][:1].isupper() or words[start - 1] in LINK_WORDS)
        ):
            start -= 1
        while start < i and not words[start][:1].isupper():
            start += 1
        initials = [w[0] for w in words[start:i] if w[:1].isupper()]
        while initials and initials[0] != letters[0]:  # "Volgens het Rijksinstituut ...": skip to the R
            start += 1
            while start < i and not words[start][:1].isupper():
                start += 1
            initials = [w[0] for w in words[start:i] if w[:1].isupper()]
        if len(initials) < 2 or not _subsequence(initials, letters):
            continue
        inside = [key for key in spans if key[0] < i and key[1] > start]
        if all(start <= s and e <= i for s, e in inside):
            label = spans.get((i + 1, i + 2), "ORG")
            for key in inside:
                del spans[key]
            spans[(start, i)] = label
            for k in range(start, i):
                taken[k] = True


def camel_case_names(words: list[str], spans: Spans, taken: list[bool]) -> None:
    """An unclaimed word with a capital inside ("UberEats", "PostNL", "FrieslandCampina") is a company;
    person names with such capitals ("McCarthy", "DiCaprio", "LeBron") start with a name prefix."""
    for i, word in enumerate(words):
        if taken[i] or not CAMEL_CASE.match(word) or word.startswith(CAMEL_PERSON_PREFIXES):
            continue
        spans[(i, i + 1)] = "ORG"
        taken[i] = True


def _subsequence(initials: list[str], letters: str) -> bool:
    """Whether ``initials`` appear in ``letters`` in order (RVM in RIVM), the first at the start."""
    rest = iter(letters)
    return initials[0] == letters[0] and all(ch in rest for ch in initials)
