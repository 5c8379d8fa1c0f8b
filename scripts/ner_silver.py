"""Build-time refinement of the silver training labels (untyped name spans get a type when sure).

In ``ud_nl_silver`` a name span whose type the labeller could not decide is tagged ``-`` (missing).
Here such a span gets a type when one of these cues is unambiguous, and stays missing otherwise:

* the whole span is in one phrase list (places, organisations, MISC adjectives/events);
* its last word is an organisation cue ("... Bank", "... Partij") or it is an all-caps acronym;
* the word before it is a person title ("minister", "woordvoerder");
* the same string is typed elsewhere in the corpus, always with the same type.
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict

from ner_lexicon import Lexicon
from spacy.language import Language
from spacy.tokens import Doc

Sentence = tuple[list[str], list[str | None]]
ACRONYM_MAX = 6  # ALL-CAPS names up to this length are organisations more often than not


def _missing_runs(tags: list[str | None]) -> list[tuple[int, int]]:
    runs, start = [], -1
    for i, tag in enumerate([*tags, "O"]):
        if tag is None and start < 0:
            start = i
        elif tag is not None and start >= 0:
            runs.append((start, i))
            start = -1
    return runs


def _typed_strings(sentences: list[Sentence]) -> dict[str, str]:
    """Strings typed with one single label everywhere they are typed in the corpus."""
    seen: dict[str, Counter[str]] = defaultdict(Counter)
    for words, tags in sentences:
        i = 0
        while i < len(tags):
            tag = tags[i]
            if tag and tag.startswith("B-"):
                j = i + 1
                while j < len(tags) and tags[j] == f"I-{tag[2:]}":
                    j += 1
                seen[" ".join(words[i:j])][tag[2:]] += 1
                i = j
            else:
                i += 1
    return {text: next(iter(c)) for text, c in seen.items() if len(c) == 1}


def type_span(words: list[str], start: int, end: int, lexicon: Lexicon, known: dict[str, str]) -> str | None:
    """The type of the name ``words[start:end]`` when a cue decides it, else None."""
    text = " ".join(words[start:end])
    label = lexicon.label_of(text) or known.get(text)
    if label:
        return label
    last = words[end - 1]
    if last in lexicon.org_cues or any(last.endswith(cue.lower()) for cue in ("bank", "partij", "unie")):
        return "ORG"
    if end - start == 1 and last.isupper() and 2 <= len(last) <= ACRONYM_MAX and last.isalpha():
        return "ORG"
    if start > 0 and words[start - 1].lower() in lexicon.titles:
        return "PER"
    return None


def refine(sentences: list[Sentence], lexicon: Lexicon) -> list[Sentence]:
    """The sentences with as many untyped spans typed as the cues allow (others stay missing)."""
    known = _typed_strings(sentences)
    out: list[Sentence] = []
    for words, tags in sentences:
        tags = list(tags)
        for start, end in _missing_runs(tags):
            label = type_span(words, start, end, lexicon, known)
            if label:
                tags[start] = f"B-{label}"
                for i in range(start + 1, end):
                    tags[i] = f"I-{label}"
        out.append((words, tags))
    return out


def _typed_spans(tags: list[str | None]) -> list[tuple[int, int, str]]:
    out, i = [], 0
    while i < len(tags):
        tag = tags[i]
        if tag and tag.startswith("B-"):
            j = i + 1
            while j < len(tags) and tags[j] == f"I-{tag[2:]}":
                j += 1
            out.append((i, j, tag[2:]))
            i = j
        else:
            i += 1
    return out


def augment(sentences: list[Sentence], lexicon: Lexicon, rng: random.Random) -> list[Sentence]:
    """Copies of the sentences with typed names swapped for other names of the same type.

    Places, organisations and MISC names come from the phrase lists, person names from the corpus
    itself. The model sees each context with many names, so it learns the context ("het bedrijf X",
    "bij X in Y") rather than the few names the silver data holds.
    """
    pools: dict[str, list[list[str]]] = {
        label: sorted(p.split() for p in lexicon.phrases[label]) for label in ("LOC", "ORG", "MISC")
    }
    people = sorted(
        {tuple(w[s:e]) for w, t in sentences for s, e, label in _typed_spans(t) if label == "PER"}
    )
    pools["PER"] = [list(p) for p in people]
    out: list[Sentence] = []
    for words, tags in sentences:
        found = _typed_spans(tags)
        if not found:
            continue
        new_words: list[str] = []
        new_tags: list[str | None] = []
        pos = 0
        for start, end, label in found:
            new_words.extend(words[pos:start])
            new_tags.extend(tags[pos:start])
            name = rng.choice(pools[label])
            new_words.extend(name)
            new_tags.extend([f"B-{label}"] + [f"I-{label}"] * (len(name) - 1))
            pos = end
        new_words.extend(words[pos:])
        new_tags.extend(tags[pos:])
        out.append((new_words, new_tags))
    return out


def fill_missing(sentences: list[Sentence], teacher: Language) -> list[Sentence]:
    """Self-training: an untyped span gets the type a first model predicts for exactly that span."""
    out: list[Sentence] = []
    docs = (Doc(teacher.vocab, words=words) for words, _ in sentences)
    for (words, tags), doc in zip(sentences, teacher.pipe(docs, batch_size=256), strict=True):
        runs = _missing_runs(tags)
        if runs:
            predicted = {(e.start, e.end): e.label_ for e in doc.ents}
            tags = list(tags)
            for start, end in runs:
                label = predicted.get((start, end))
                if label:
                    tags[start] = f"B-{label}"
                    for i in range(start + 1, end):
                        tags[i] = f"I-{label}"
        out.append((words, tags))
    return out
