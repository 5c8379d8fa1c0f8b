"""Laws and regulations are MISC under the team's CoNLL-2002 conventions (issue 12, fifth step).

The model misses most of them: a law's title is mostly lower-case words after a capitalised "Wet"
("Wet op de loonbelasting 1964", "Wet open overheid"), or one capitalised compound on "-wet",
"-besluit", "-regeling" ("Omgevingswet", "Invoeringsbesluit"), and its short form follows in brackets
("( Awb )", "( hierna : Woo )"). Chosen on the dev split ``tests/data/open_laws_nl_dev`` (see
MODEL_CARD.md).
"""

from __future__ import annotations

from collections.abc import Callable

from services.enrich.entities.cues import (
    LAW_ADJECTIVE_ENDING,
    LAW_ARTICLE_AFTER,
    LAW_STOP_WORDS,
    LAW_SUFFIXES,
    LAW_WORD_SUFFIX,
    SENTENCE_OPENERS,
)
from services.enrich.entities.spans import is_capitalised, name_end

Spans = dict[tuple[int, int], str]
Claim = Callable[[Spans, list[bool], int, int, str], bool]
MAX_TITLE_WORDS = 10  # a law's title after "Wet" runs on at most this far
SHORT_FORM_CHARS = 6  # "Awb", "Wwft": a law's short form in brackets is short


def law_names(
    words: list[str], spans: Spans, taken: list[bool], *, claim: Claim, listed: frozenset[str]
) -> set[tuple[int, int]]:
    """Claim the laws of one sentence as MISC; the spans made (strong cues, so a short form keeps its
    type wherever it recurs in the document)."""
    strong: set[tuple[int, int]] = set()
    i = 0
    while i < len(words):
        if not words[i][:1].isupper():  # every law starts with a capital: most words are skipped here
            i += 1
            continue
        end = _law_end(words, i, listed)
        if end > i and claim(spans, taken, i, end, "MISC"):
            strong.add((i, end))
            short = _short_form(words, end)
            if short is not None and claim(spans, taken, short, short + 1, "MISC"):
                strong.add((short, short + 1))
        i = max(end, i + 1)
    return strong


def _law_end(words: list[str], i: int, listed: frozenset[str]) -> int:
    """End of the law whose name starts at ``i``, or ``i`` when none starts there."""
    word = words[i]
    opening = i == 0 or words[i - 1] in SENTENCE_OPENERS
    if word == "Wet" and i + 1 < len(words):
        end = _title_end(words, i + 1)
        linked = words[i + 1] in LAW_ARTICLE_AFTER  # "Wet op ..." also opening a sentence
        return end if end > i + 1 and (i > 0 or linked) else i
    if (
        word[:1].isupper()
        and i + 2 < len(words)
        and words[i + 1] == LAW_WORD_SUFFIX
        and word.endswith(LAW_ADJECTIVE_ENDING)
    ):  # "Algemene wet bestuursrecht"
        end = _title_end(words, i + 2)
        return end if end > i + 2 else i
    if _is_law_compound(word, opening) and word not in listed:
        end = i + 1
        while end < len(words) and _is_law_compound(words[end], False):  # "Invoeringsbesluit Omgevingswet"
            end += 1
        return end
    return i


def _is_law_compound(word: str, opening: bool) -> bool:
    """ "Omgevingswet", "Invoeringsregeling": a capitalised compound on a law word. At a sentence start
    only "-wet" counts ("Ontwerpbesluit" there is a common noun)."""
    for suffix in LAW_SUFFIXES:
        if word.endswith(suffix) and len(word) >= len(suffix) + 3:
            stem = word[: -len(suffix)]
            if word[:1].isupper() and stem[1:].replace("-", "").islower():
                return not opening or suffix == LAW_WORD_SUFFIX
    return False


def _title_end(words: list[str], start: int) -> int:
    """End of a law's title running from ``start``: words, a year, links such as "op de", up to
    punctuation or a word that starts the rest of the sentence ("treedt", "in", "die")."""
    end = start
    while end < len(words) and end - start < MAX_TITLE_WORDS:
        word = words[end]
        if word in ("de", "het") and words[end - 1] not in LAW_ARTICLE_AFTER:
            break
        if word == "en":
            nxt = words[end + 1] if end + 1 < len(words) else ""
            if not (
                nxt.isalpha() and nxt.islower() and nxt not in LAW_STOP_WORDS and nxt not in ("de", "het")
            ):
                break
        elif word in LAW_STOP_WORDS or not (
            word.isalpha() or (word.isdigit() and len(word) == 4) or is_capitalised(word)
        ):
            break
        end += 1
    while end > start and words[end - 1] in LAW_ARTICLE_AFTER | {"de", "het", "en"}:
        end -= 1  # "Wet op" alone is no title
    return end


def _short_form(words: list[str], end: int) -> int | None:
    """Position of a law's short form in brackets right after it: "( Awb )", "( hierna : Woo )"."""
    k = end
    if k >= len(words) or words[k] != "(":
        return None
    k += 1
    while k < len(words) and words[k] in ("hierna", ":", "ook"):
        k += 1
    if k + 1 >= len(words) or words[k + 1] != ")":
        return None
    short = words[k]
    if (
        short.isalpha()
        and short[:1].isupper()
        and len(short) <= SHORT_FORM_CHARS
        and name_end(words, k) == k + 1
    ):
        return k
    return None
