"""Label-aware rules around the statistical model: phrase lists, title context, organisation cues.

The model proposes token spans; the rules then
1. add phrase-list names (places, organisations, MISC adjectives/events) where the model saw nothing,
   and relabel a model span that is exactly a listed MISC or ORG name;
2. tag a capitalised name right after a person title ("minister Kaag", "woordvoerder Jan de Vries")
   as PER;
3. tag an unclaimed capitalised name ending in an organisation cue ("... Bank", "... Partij") as ORG.
Phrase matching uses spaCy's ``PhraseMatcher`` on the exact text (fast: a hash lookup per token).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from spacy.language import Language
from spacy.matcher import PhraseMatcher
from spacy.tokens import Doc

# Lower-case words that may sit inside a name ("Jan van der Berg", "Osama bin Laden").
NAME_PARTICLES = frozenset(
    "van de der den ten ter te het von zu da di del della dos du le la bin ibn al el abu ben".split()
)
LIST_LABELS = ("MISC", "ORG", "LOC")  # order of precedence when a phrase is in two lists
OVERRIDE_LABELS = frozenset({"MISC", "ORG"})  # listed names whose type beats the model's guess

Span = tuple[int, int, str]  # token start, token end (exclusive), label


def is_capitalised(word: str) -> bool:
    """A token that can start or continue a name: an upper-case first letter."""
    return word[:1].isupper()


def name_end(words: list[str], start: int) -> int:
    """End of the capitalised name starting at ``start`` (particles only inside, before a capital)."""
    end = start
    while end < len(words):
        if is_capitalised(words[end]):
            end += 1
        elif words[end] in NAME_PARTICLES and end > start:
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


@dataclass(frozen=True)
class Lexicon:
    """Phrase lists per label, person titles and organisation cue words."""

    phrases: dict[str, frozenset[str]]
    titles: frozenset[str]
    org_cues: frozenset[str]

    @classmethod
    def from_dir(cls, folder: Path) -> Lexicon:
        def read(name: str) -> frozenset[str]:
            path = folder / name
            if not path.exists():
                return frozenset()
            return frozenset(line for line in path.read_text(encoding="utf-8").splitlines() if line)

        return cls(
            phrases={label: read(f"{label.lower()}.txt") for label in LIST_LABELS},
            titles=read("titles.txt"),
            org_cues=read("org_cues.txt"),
        )


class Rules:
    """The rules above, bound to one vocabulary (the pipeline's) and one lexicon."""

    def __init__(self, nlp: Language, lexicon: Lexicon) -> None:
        self.lexicon = lexicon
        self.matcher = PhraseMatcher(nlp.vocab, attr="ORTH")
        for label in reversed(LIST_LABELS):
            self.matcher.add(label, list(nlp.tokenizer.pipe(sorted(lexicon.phrases[label]))))
        self.precedence = {label: i for i, label in enumerate(LIST_LABELS)}

    def phrase_spans(self, doc: Doc) -> list[Span]:
        """Listed names in ``doc``: longest first, no overlaps, ties broken by list precedence."""
        found = []
        vocab_strings = doc.vocab.strings
        for match_id, start, end in self.matcher(doc):
            found.append((start, end, vocab_strings[match_id]))
        found.sort(key=lambda s: (-(s[1] - s[0]), self.precedence[s[2]], s[0]))
        taken = [False] * len(doc)
        out = []
        for start, end, label in found:
            if not any(taken[start:end]):
                out.append((start, end, label))
                for i in range(start, end):
                    taken[i] = True
        return out

    def apply(self, doc: Doc, model_spans: list[Span]) -> list[Span]:
        """Combine the model's spans for ``doc`` with the rules; returns sorted, non-overlapping spans."""
        words = [t.text for t in doc]
        spans = {(s, e): label for s, e, label in model_spans}
        taken = [False] * len(words)
        for s, e in spans:
            for i in range(s, e):
                taken[i] = True
        for start, end, label in self.phrase_spans(doc):
            if (start, end) in spans:
                if label in OVERRIDE_LABELS:
                    spans[(start, end)] = label
            elif not any(taken[start:end]):
                spans[(start, end)] = label
                for i in range(start, end):
                    taken[i] = True
        titles = self.lexicon.titles
        for i in range(len(words) - 1):
            if words[i].lower() not in titles or not is_capitalised(words[i + 1]):
                continue
            end = name_end(words, i + 1)
            if any(taken[i + 1 : end]):
                hit = spans.get((i + 1, end))
                if hit is not None and hit != "PER" and " ".join(words[i + 1 : end]) not in self._listed:
                    spans[(i + 1, end)] = "PER"
                continue
            spans[(i + 1, end)] = "PER"
            for k in range(i + 1, end):
                taken[k] = True
        cues = self.lexicon.org_cues
        i = 0
        while i < len(words):
            if taken[i] or not is_capitalised(words[i]) or i == 0:
                i += 1
                continue
            end = name_end(words, i)
            if words[end - 1] in cues and end - i > 1 and not any(taken[i:end]):
                spans[(i, end)] = "ORG"
                for k in range(i, end):
                    taken[k] = True
            i = max(end, i + 1)
        return sorted((s, e, label) for (s, e), label in spans.items())

    @property
    def _listed(self) -> frozenset[str]:
        cached: frozenset[str] | None = getattr(self, "_listed_cache", None)
        if cached is None:
            cached = frozenset().union(*self.lexicon.phrases.values())
            self._listed_cache = cached
        return cached
