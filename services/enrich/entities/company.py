"""Company cues for the entity rules (issue 12): wire text names companies the model takes for people.

Each rule relabels or claims a capitalised name as ORG on a cue the wire uses for companies:
* a legal form after the name: "Shell N.V.", "Unilever plc", "Apple Inc." (the form is part of the name);
* an apposition with a company noun: "Shell, 's werelds grootste oliebedrijf, ...";
* "bij X" where the model saw a person, and "topman van X", "aandeelhouders van X", "overname van X".
The spans a cue made are returned as *strong*: document consistency lets them outvote the model, so a
company named once with a cue keeps its type wherever it recurs in the document.
"""

from __future__ import annotations

from collections.abc import Callable

from services.enrich.entities.cues import (
    APPOSITION_FILLERS,
    APPOSITION_ORG_SUFFIXES,
    COMPANY_OF_NOUNS,
    EMPLOYER_PREPOSITIONS,
    LEGAL_SUFFIXES,
    OPENING_WORDS,
    ORG_CONTEXT_SUFFIXES,
    PARENT_NOUNS,
)

Spans = dict[tuple[int, int], str]


def name_start(words: list[str], end: int, capitalised: Callable[[str], bool]) -> int:
    """Start of the capitalised run of words ending just before ``end`` ("&" inside is fine), not
    counting a company noun ("Chipmachinemaker ASML") or a sentence's first word that is no name ("Ook")."""
    start = end
    while start > 0 and (capitalised(words[start - 1]) or (words[start - 1] == "&" and start < end)):
        word = words[start - 1]
        if word not in LEGAL_SUFFIXES and (is_company_noun(word.lower()) or word.lower().endswith("maker")):
            break
        start -= 1
    at_opening = start == 0 or not words[start - 1][:1].isalnum()
    if start < end - 1 and at_opening and words[start].lower() in OPENING_WORDS:
        start += 1
    return start


def is_company_noun(word: str) -> bool:
    """A lower-case noun for a company ("oliebedrijf", "supermarktketen", "techreus")."""
    return word.islower() and word.endswith(ORG_CONTEXT_SUFFIXES + APPOSITION_ORG_SUFFIXES)


def company_spans(
    words: list[str],
    spans: Spans,
    taken: list[bool],
    *,
    capitalised: Callable[[str], bool],
    claim: Callable[[Spans, list[bool], int, int, str], bool],
    first_names: frozenset[str],
    listed: frozenset[str],
) -> set[tuple[int, int]]:
    """Apply the company cues to ``spans`` in place; the positions of the spans they made (strong)."""
    strong: set[tuple[int, int]] = set()
    for i, word in enumerate(words):
        if i == 0 or word not in LEGAL_SUFFIXES or not capitalised(words[i - 1]):
            continue
        if word in ("Holding", "Holdings", "SA", "SE", "AB", "AG") and not _in_caps_run(
            words, i, capitalised
        ):
            continue
        start = name_start(words, i, capitalised)
        if start < i and claim(spans, taken, start, i + 1, "ORG"):
            strong.add((start, i + 1))
    for i in range(1, len(words) - 2):
        if words[i] != "," or not capitalised(words[i - 1]) or not _apposition_head(words, i + 1):
            continue
        existing = [key for key in spans if key[1] == i]
        if existing:
            key = existing[0]
            if spans[key] in ("PER", "LOC") and " ".join(words[key[0] : key[1]]) not in listed:
                spans[key] = "ORG"
                strong.add(key)
            continue
        start = name_start(words, i, capitalised)
        if words[start] not in first_names and claim(spans, taken, start, i, "ORG"):
            strong.add((start, i))
    for (start, end), label in list(spans.items()):
        if label != "PER" or start == 0 or words[start] in first_names:
            continue
        before = words[start - 1].lower()
        employer = before in EMPLOYER_PREPOSITIONS and end - start == 1
        if employer or (before == "van" and start >= 2 and words[start - 2].lower() in COMPANY_OF_NOUNS):
            spans[(start, end)] = "ORG"
            strong.add((start, end))
    for i in range(1, len(words) - 1):  # "het moederbedrijf van Albert Heijn": even a person's name
        if words[i] == "van" and words[i - 1].lower() in PARENT_NOUNS and capitalised(words[i + 1]):
            end = i + 2
            while end < len(words) and capitalised(words[end]):
                end += 1
            if " ".join(words[i + 1 : end]) not in listed and claim(spans, taken, i + 1, end, "ORG"):
                strong.add((i + 1, end))
    for (start, end), label in list(spans.items()):  # "KPN" is no person: an acronym is an organisation
        if label == "PER" and end - start == 1 and is_acronym(words[start]):
            spans[(start, end)] = "ORG"
    if len(words) > 1 and not taken[0] and is_acronym(words[0]) and words[1].islower():  # "ANWB meldt ..."
        claim(spans, taken, 0, 1, "ORG")
    return strong


def drop_noun(
    spans: Spans, taken: list[bool], noun: int, end: int, words: list[str], misc: frozenset[str]
) -> None:
    """Remove the model's spans that hold the company noun at ``noun`` and end within the name before
    ``end`` ("Staalbedrijf Tata Steel", "Brugse IT-bedrijf Tectrade"); a listed MISC word before the
    noun ("Brugse") stays, as MISC."""
    for key in [k for k in spans if k[0] <= noun < k[1] <= end]:
        del spans[key]
        for k in range(*key):
            taken[k] = False
        if key[0] < noun and " ".join(words[key[0] : noun]) in misc:
            spans[(key[0], noun)] = "MISC"
            for k in range(key[0], noun):
                taken[k] = True


def is_acronym(word: str) -> bool:
    """An all-caps word of 2 to 6 letters ("KPN", "AT&T", "ING"), not a Roman numeral."""
    letters = word.replace("&", "")
    return (
        2 <= len(letters) <= 6
        and letters.isalpha()
        and letters.isupper()
        and not set(letters) <= set("IVXLCDM")
    )


def _in_caps_run(words: list[str], i: int, capitalised: Callable[[str], bool]) -> bool:
    """An ambiguous form ("Holding", "SA") counts only after two or more name words ("ASML Holding")."""
    return i >= 2 and capitalised(words[i - 2])


def _apposition_head(words: list[str], i: int) -> bool:
    """Whether the words from ``i`` read as "(article) (adjectives) company-noun"."""
    for k in range(i, min(i + 5, len(words))):
        word = words[k]
        if is_company_noun(word):
            return True
        lower = word.lower()
        if lower in APPOSITION_FILLERS or (word.islower() and len(word) > 3 and word.endswith(("e", "ste"))):
            continue
        if word[:1].isupper() and word.endswith(("se", "e")) and k > i:  # "de Britse", "het Amerikaanse"
            continue
        return False
    return False
