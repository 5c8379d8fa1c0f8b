"""Headlines set in capitals ("MAN ZWAAR GEWOND NA ONENIGHEID ; VERDACHTE AANGEHOUDEN").

Wire copy and news releases often print a headline in capitals. There every word looks like an acronym
or a name to the model and to the acronym rule, so each common word became an ORG (eight false names
in the two headlines of ``tests/data/open_news_nl_dev``). Capitals carry no name cue in such a run:
names inside it are dropped unless the phrase lists hold them as written ("NAVO"). A dateline
("ROTTERDAM -") is one capitalised word, not a headline, and keeps its place.
"""

from __future__ import annotations

MIN_WORDS = 3  # capitalised words in a run before it counts as a headline
LONG_WORD = 7  # acronyms are short: a run of acronyms ("NOS , RTL , SBS") has no word this long


def headline_runs(words: list[str]) -> list[tuple[int, int]]:
    """Token ranges of capitalised headlines: runs of upper-case words and punctuation only, with at
    least ``MIN_WORDS`` words, one of them ``LONG_WORD`` letters or more; a line break ends a run."""
    runs = []
    start = 0
    while start < len(words):
        end = start
        capitals = []
        while end < len(words):
            word = words[end]
            if word.isalpha() and word.isupper() and len(word) > 1:
                capitals.append(word)
            elif word.isspace() or any(ch.isalnum() for ch in word):
                break
            end += 1
        if len(capitals) >= MIN_WORDS and max(len(w) for w in capitals) >= LONG_WORD:
            runs.append((start, end))
        start = end + 1
    return runs


def drop_headline_names(words: list[str], spans: dict[tuple[int, int], str], listed: frozenset[str]) -> None:
    """Remove the spans that lie inside a capitalised headline, except listed names."""
    for run_start, run_end in headline_runs(words):
        for start, end in [k for k in spans if run_start <= k[0] and k[1] <= run_end]:
            if " ".join(words[start:end]) not in listed:
                del spans[(start, end)]
