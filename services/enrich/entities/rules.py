"""Label-aware rules around the statistical model (all measured on the dev sets; see MODEL_CARD.md).

The model proposes token spans; the rules then, in order:
1. phrase lists (places, organisations, MISC adjectives/events) add names the model missed, relabel
   a model span that is exactly a listed name, and replace model spans that ran on past a listed name;
2. a capitalised name right after a person title or role ("minister Kaag", "Eurocommissaris Teresa
   Ribera") or starting with a known first name is PER;
3. a capitalised name right after an organisation noun ("het softwarebedrijf Tectrade") is ORG; the
   company cues (``company.py``) and the context rules of ``context.py`` (institution names, portfolios,
   party members, acronym expansions, camel-case companies) follow;
4. an unclaimed all-caps word inside a sentence is an ORG acronym;
5. a name compound ("Sabena-aandelen", "EU-landen") is MISC under CoNLL-2002 conventions;
6. a model "person" after an article ("de Tros") is ORG, after "in"/"naar"/"uit" it is LOC;
7. a name ending in an organisation word ("... Bank", "Newcastle United", "Tata Steel") is ORG;
8. no name inside a headline set in capitals unless listed (``headlines.py``).
Phrase matching uses spaCy's ``PhraseMatcher`` on the exact text (a hash lookup per token: fast).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from spacy.language import Language
from spacy.matcher import PhraseMatcher
from spacy.tokens import Doc

from services.enrich.entities.company import company_spans, drop_noun
from services.enrich.entities.context import context_rules
from services.enrich.entities.cues import (
    ARTICLES,
    ENGLISH_ARTICLE,
    EXTRA_TITLES,
    LEFTOVER_ACRONYM,
    LIST_LABELS,
    NAME_COMPOUND,
    NAME_PARTICLES,
    ORG_CONTEXT_SUFFIXES,
    ORG_END_WORDS,
    ORG_HEADS,
    OVERRIDE_LABELS,
    PLACE_CONTEXT_OF,
    PLACE_CONTEXT_SUFFIXES,
    PLACE_HEADS,
    PLACE_PREPOSITIONS,
    REPORTING_VERBS,
    SENTENCE_OPENERS,
    STATE_HEADS,
    TITLE_PREFIXES,
    TITLE_SUFFIXES,
    WORK_CONTEXT_SUFFIXES,
)
from services.enrich.entities.headlines import drop_headline_names
from services.enrich.entities.laws import law_names
from services.enrich.entities.lists import enumerated_persons
from services.enrich.entities.persons import cut_after_name, double_surnames, person_end
from services.enrich.entities.spans import Span, claim, is_capitalised, name_end, non_overlapping


@dataclass(frozen=True)
class Lexicon:
    """Phrase lists per label, person titles and organisation cue words."""

    phrases: dict[str, frozenset[str]]
    titles: frozenset[str]
    org_cues: frozenset[str]
    first_names: frozenset[str] = frozenset()

    @classmethod
    def from_dir(cls, folder: Path) -> Lexicon:
        def read(name: str) -> frozenset[str]:
            path = folder / name
            if not path.exists():
                return frozenset()
            return frozenset(line for line in path.read_text(encoding="utf-8").splitlines() if line)

        phrases = {label: read(f"{label.lower()}.txt") for label in LIST_LABELS}
        # listed companies (scripts/ner_companies.py) and brands (scripts/ner_brands.py)
        phrases["ORG"] |= read("companies.txt") | read("brands.txt")
        return cls(
            phrases=phrases,
            titles=read("titles.txt"),
            org_cues=read("org_cues.txt"),
            first_names=read("first_names.txt"),
        )

    def is_title(self, word: str) -> bool:
        """A person title or role, also as the end of a compound ("Eurocommissaris", "klimaatactiviste")."""
        lower = word.lower()
        if lower.startswith(TITLE_PREFIXES):  # "oud-prins", "ex-president": the part after the hyphen
            lower = lower.split("-", 1)[1]
        return (
            lower in self.titles
            or lower in EXTRA_TITLES
            or (len(lower) > 6 and lower.endswith(TITLE_SUFFIXES))
        )


class Rules:
    """The rules above, bound to one vocabulary (the pipeline's) and one lexicon."""

    def __init__(self, nlp: Language, lexicon: Lexicon) -> None:
        self.lexicon = lexicon
        self.matcher = PhraseMatcher(nlp.vocab, attr="ORTH")
        for label in reversed(LIST_LABELS):
            self.matcher.add(label, [phrase_doc(nlp, p) for p in sorted(lexicon.phrases[label])])
        self.precedence = {label: i for i, label in enumerate(LIST_LABELS)}
        self.org_end_words = lexicon.org_cues | ORG_END_WORDS  # "Omega Pharma", "Tata Steel"
        self._phrase_starts: set[int] = set()  # token starts of listed names in the doc being ruled
        self.strong: set[tuple[int, int]] = set()  # spans of the last ``apply`` made on a strong cue

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
        self.strong = set()
        spans = {(s, e): label for s, e, label in model_spans}
        taken = [False] * len(words)
        for s, e in spans:
            for i in range(s, e):
                taken[i] = True
        phrases = self.phrase_spans(doc)
        phrase_ends = {start: end for start, end, _ in phrases}
        self._phrase_starts = set(phrase_ends)
        for start, end, label in phrases:
            if (start, end) in spans:
                if label in OVERRIDE_LABELS:
                    spans[(start, end)] = label
            elif not any(taken[start:end]):
                spans[(start, end)] = label
                for i in range(start, end):
                    taken[i] = True
            else:  # a listed name inside a model span that ran on into lower-case words: trust the list
                inside = [key for key in spans if key[0] < end and key[1] > start]
                if end - start > 1 or any(not is_capitalised(w) for s, e in inside for w in words[s:e]):
                    for key in inside:
                        del spans[key]
                        for i in range(*key):
                            taken[i] = False
                    spans[(start, end)] = label
                    for i in range(start, end):
                        taken[i] = True
        for i in range(len(words) - 1):
            if not self.lexicon.is_title(words[i]):
                continue
            first = i + 1
            if words[first] == "van" and first + 1 in phrase_ends:  # "minister van Buitenlandse Zaken X"
                first = phrase_ends[first + 1]
                if first < len(words) and is_capitalised(words[first]):
                    claim(spans, taken, first, name_end(words, first), "PER")
                continue
            if not is_capitalised(words[first]):
                continue
            end = person_end(words, first, name_end(words, first), self.lexicon.first_names)
            if (i, end) in spans:  # "Assistent Fred Grim" taken whole at a sentence start: drop the title
                del spans[(i, end)]
                taken[i] = False
            cut_after_name(words, spans, taken, first, end)
            if any(taken[first:end]):
                hit = spans.get((first, end))
                if hit is not None and hit != "PER" and " ".join(words[first:end]) not in self._listed:
                    spans[(first, end)] = "PER"
                continue
            spans[(first, end)] = "PER"
            for k in range(first, end):
                taken[k] = True
        self._first_names(words, spans, taken)
        self._org_context(words, spans, taken)
        self._place_context(words, spans, taken)
        self._outlets(words, spans, taken)
        self.strong |= company_spans(
            words,
            spans,
            taken,
            capitalised=is_capitalised,
            claim=claim,
            first_names=self.lexicon.first_names,
            listed=self._listed,
        )
        self.strong |= context_rules(
            words, spans, taken, claim=claim, listed=self._listed, first_names=self.lexicon.first_names
        )
        self.strong |= law_names(words, spans, taken, claim=claim, listed=self._listed)
        enumerated_persons(words, spans, taken, listed=self._listed)
        self._leftover_names(words, spans, taken)
        double_surnames(words, spans, taken)
        self._name_compounds(words, spans, taken)
        self._article_names(words, spans)
        cues = self.org_end_words
        for (start, end), label in list(spans.items()):  # "Newcastle United", "Omega Pharma"
            if label != "ORG" and end - start > 1 and (words[end - 1] in cues or words[start] in ORG_HEADS):
                spans[(start, end)] = "ORG"
                if words[end - 1] in ORG_END_WORDS:  # "Tata Steel": a strong cue, "Tata" follows it
                    self.strong.add((start, end))
        i = 0
        while i < len(words):
            if taken[i] or not is_capitalised(words[i]) or i == 0:
                i += 1
                continue
            end = name_end(words, i)
            if words[end - 1] in cues and end - i > 1:  # "Omega Pharma" where the model saw "Pharma"
                claim(spans, taken, i, end, "ORG")
            i = max(end, i + 1)
        drop_headline_names(words, spans, self._listed)
        return non_overlapping(spans)

    def _first_names(self, words: list[str], spans: dict[tuple[int, int], str], taken: list[bool]) -> None:
        """A known first name plus capitalised words is a person, replacing model spans inside it."""
        firsts = self.lexicon.first_names
        for i, word in enumerate(words):
            if word not in firsts:
                continue
            end = person_end(words, i, name_end(words, i), firsts)  # "Mohammed bin Salman" is fine
            if end - i < 2:
                continue
            for k in range(i + 1, end):  # "Mark Rutte van de NAVO": the name stops before "van de"
                if words[k] in NAME_PARTICLES and words[k - 1] not in NAME_PARTICLES:
                    after = next((j for j in range(k, end) if words[j] not in NAME_PARTICLES), end)
                    if after in self._phrase_starts:
                        end = k
                        break
            if " ".join(words[i:end]) in self._listed:
                continue
            cut_after_name(words, spans, taken, i, end)
            inside = [key for key in spans if key[0] < end and key[1] > i]
            if all(i <= s and e <= end for s, e in inside) and spans.get((i, end)) != "PER":
                for key in inside:
                    del spans[key]
                spans[(i, end)] = "PER"
                for k in range(i, end):
                    taken[k] = True

    def _org_context(self, words: list[str], spans: dict[tuple[int, int], str], taken: list[bool]) -> None:
        """A capitalised name right after an organisation noun ("de krant X") is an organisation; after
        a noun for a work ("de film X", "het boek X") it is MISC."""
        for i in range(len(words) - 1):
            word = words[i]
            opening = (i == 0 or words[i - 1] in SENTENCE_OPENERS) and word[1:].islower()
            compound = "-" in word and word.rsplit("-", 1)[1].islower()  # "het Brugse IT-bedrijf X"
            if not (word.islower() or opening or compound) or not is_capitalised(words[i + 1]):
                continue
            word = word.lower()  # "Supermarktketen Jumbo" opening a sentence is "supermarktketen Jumbo"
            if word.endswith(WORK_CONTEXT_SUFFIXES):
                label = "MISC"
            elif word.endswith(ORG_CONTEXT_SUFFIXES):
                label = "ORG"
            else:
                continue
            end = name_end(words, i + 1, particles=False)
            name = " ".join(words[i + 1 : end])  # a name listed as something else keeps its list's type
            other = name in self._listed and name not in self.lexicon.phrases.get(label, frozenset())
            if other or words[i + 1] in self.lexicon.first_names:
                continue
            for key in [k for k in spans if k[0] == i + 1 and k[1] > end and words[end] in NAME_PARTICLES]:
                rest = next((j for j in range(end, key[1]) if words[j] not in NAME_PARTICLES), key[1])
                old_label = spans.pop(key)  # "de film X van Paul Thomas Anderson": two names, not one
                if rest < key[1]:
                    spans[(rest, key[1])] = old_label
            if opening or compound:  # "Vakbond", "Brugse IT-bedrijf X" taken for a name: the noun is none
                drop_noun(spans, taken, i, end, words, self.lexicon.phrases["MISC"])
            if claim(spans, taken, i + 1, end, label):
                self.strong.add((i + 1, end))

    def _place_context(self, words: list[str], spans: dict[tuple[int, int], str], taken: list[bool]) -> None:
        """A name right after a settlement noun ("het dorp X", "de haven van X") or one that starts with
        a state word or a palace ("Volksrepubliek X", "Paleis X") is a place."""
        for (start, end), label in list(spans.items()):
            if label != "LOC" and words[start].lower().endswith(STATE_HEADS):
                spans[(start, end)] = "LOC"
        for i in range(len(words) - 1):  # "op Paleis Noordeinde", "de Republiek Korea": head and name
            if (
                is_capitalised(words[i])
                and words[i].lower().endswith(PLACE_HEADS)
                and is_capitalised(words[i + 1])
            ):
                end = name_end(words, i)
                if " ".join(words[i:end]) not in self._listed:
                    claim(spans, taken, i, end, "LOC")
        for i in range(len(words) - 1):
            word = words[i]
            if not word.islower() or not word.endswith(PLACE_CONTEXT_SUFFIXES):
                continue
            first = i + 1
            if words[first] == "van" and word in PLACE_CONTEXT_OF and first + 1 < len(words):
                first += 1
            if not is_capitalised(words[first]) or words[first] in self.lexicon.first_names:
                continue
            end = name_end(words, first, particles=False)
            if " ".join(words[first:end]) in self._listed:
                continue
            claim(spans, taken, first, end, "LOC")

    def _outlets(self, words: list[str], spans: dict[tuple[int, int], str], taken: list[bool]) -> None:
        """A name starting with "The" is a news outlet (ORG) after a nationality adjective or before a
        reporting verb ("het Britse The Independent", "The Kyiv Independent schrijft")."""
        misc = self.lexicon.phrases["MISC"]
        for i, word in enumerate(words):
            if word != ENGLISH_ARTICLE or i + 1 >= len(words) or not is_capitalised(words[i + 1]):
                continue
            end = name_end(words, i + 1)
            before = words[i - 1] if i > 0 else ""
            after = words[end] if end < len(words) else ""
            if (before in misc and before[:1].isupper()) or after in REPORTING_VERBS:
                claim(spans, taken, i, end, "ORG")

    def _leftover_names(self, words: list[str], spans: dict[tuple[int, int], str], taken: list[bool]) -> None:
        """An all-caps word inside a sentence that nothing claimed is an acronym: an organisation.

        (Tagging every other unclaimed capitalised word as a person was measured: it costs precision.)"""
        i = 1
        while i < len(words):
            word = words[i]
            if (
                taken[i]
                or not is_capitalised(word)
                or words[i - 1] in SENTENCE_OPENERS
                or not word[:1].isalpha()
            ):
                i += 1
                continue
            end = name_end(words, i)
            if end - i == 1 and not taken[i] and word.isupper() and len(word) > 1 and word.isalpha():
                spans[(i, end)] = LEFTOVER_ACRONYM
                taken[i] = True
            i = end

    def _name_compounds(self, words: list[str], spans: dict[tuple[int, int], str], taken: list[bool]) -> None:
        """A compound of a name and a common noun ("Sabena-aandelen", "EU-landen", "VRT-journalist") is
        MISC under CoNLL-2002 conventions, whatever the model made of it."""
        for i, word in enumerate(words):
            if not NAME_COMPOUND.match(word) or word in self._listed or word.lower() in self.lexicon.titles:
                continue
            if taken[i] and spans.get((i, i + 1)) is None:
                continue  # part of a longer name: leave it
            spans[(i, i + 1)] = "MISC"
            taken[i] = True

    def _article_names(self, words: list[str], spans: dict[tuple[int, int], str]) -> None:
        """A "person" right after a definite article ("de Tros", "het Louvre") is an organisation (Dutch
        puts no article before a person's name); right after "in", "naar", "uit" it is a place."""
        for (start, end), label in list(spans.items()):
            if label != "PER" or start == 0 or words[start] in self.lexicon.first_names:
                continue
            before = words[start - 1].lower()
            if before in ARTICLES:
                spans[(start, end)] = "ORG"
            elif before in PLACE_PREPOSITIONS:
                spans[(start, end)] = "LOC"

    @property
    def _listed(self) -> frozenset[str]:
        cached: frozenset[str] | None = getattr(self, "_listed_cache", None)
        if cached is None:
            cached = frozenset().union(*self.lexicon.phrases.values())
            self._listed_cache = cached
        return cached


def phrase_doc(nlp: Language, phrase: str) -> Doc:
    """``phrase`` tokenised as the pipeline would (plain words split on spaces: much faster to load)."""
    if all(ch.isalnum() or ch in " -" for ch in phrase):
        return Doc(nlp.vocab, words=phrase.split())
    return nlp.make_doc(phrase)
