"""Named entities (PER, LOC, ORG, MISC under CoNLL-2002 conventions) for Dutch news articles.

``load_extractor()`` loads the NER pipeline once (the shipped, openly licensed model unless
``DROPWIRE_NER_MODEL`` names another folder or installed spaCy package) together with the rules and
phrase lists; ``EntityExtractor.annotate(articles)`` returns the articles of one document with their
``entities`` filled, names made consistent and canonical across the whole document.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from spacy.language import Language
from spacy.tokens import Doc

from services.enrich.entities.canonical import canonical_names, propagate
from services.enrich.entities.conll import Document, to_iob, with_dateline
from services.enrich.entities.engine import LEXICON_DIR, load_pipeline, map_label, pipeline_version
from services.enrich.entities.rules import Lexicon, Rules
from services.enrich.entities.spans import Span
from shared.messages import Article, Entity, Place

if TYPE_CHECKING:
    from services.enrich.gazetteer import Gazetteer

__all__ = ["EntityExtractor", "load_extractor"]

BATCH_SIZE = 64  # docs per nlp.pipe batch: large enough to amortise, small enough for short pages


class EntityExtractor:
    """A loaded NER pipeline plus rules; thread-compatible, load once per process."""

    def __init__(self, nlp: Language, lexicon: Lexicon) -> None:
        self.nlp = nlp
        self.version = pipeline_version(nlp)
        self.rules = Rules(nlp, lexicon)
        self._gazetteer = _load_gazetteer()

    def _spans(self, docs: Iterable[Doc]) -> list[tuple[list[str], list[Span]]]:
        """Model + rules spans for each doc, in order (no cross-doc consistency yet); the positions the
        rules made on a strong cue are left in ``self._strong``, one set per doc."""
        out = []
        self._strong: list[set[tuple[int, int]]] = []
        for doc in self.nlp.pipe(docs, batch_size=BATCH_SIZE):
            model_spans = []
            for ent in doc.ents:
                label = map_label(ent.label_)
                if label is not None:
                    model_spans.append((ent.start, ent.end, label))
            out.append(([t.text for t in doc], self.rules.apply(doc, model_spans)))
            self._strong.append(self.rules.strong)
        return out

    def annotate(self, articles: Sequence[Article]) -> tuple[Article, ...]:
        """Copies of ``articles`` (one document) with ``entities`` filled and canonical names joined."""
        return self.annotate_many([articles])[0]

    def annotate_many(self, documents: Sequence[Sequence[Article]]) -> list[tuple[Article, ...]]:
        """``annotate`` for several documents at once: one ``nlp.pipe`` over all their articles (the
        model's batches fill across documents), names made consistent within each document only.
        Each document's result is the same as ``annotate`` gives it alone."""
        docs = [[self.nlp.make_doc(a.body) for a in articles] for articles in documents]
        ruled = iter(self._spans([doc for group in docs for doc in group]))
        strong = iter(list(self._strong))
        return [
            self._finish(group, articles, [next(ruled) for _ in group], [next(strong) for _ in group])
            for group, articles in zip(docs, documents, strict=True)
        ]

    def _finish(
        self,
        docs: list[Doc],
        articles: Sequence[Article],
        ruled: list[tuple[list[str], list[Span]]],
        strong: list[set[tuple[int, int]]],
    ) -> tuple[Article, ...]:
        """One document's articles with its spans made consistent, located and named."""
        places = dateline_units(articles)  # the dateline reader's places vote LOC for the whole document
        units = propagate([*ruled, *places], [*strong, *({(0, len(w))} for w, _ in places)])[: len(docs)]
        found: list[list[tuple[int, int, str, str]]] = []
        for doc, article, spans in zip(docs, articles, units, strict=True):
            mentions = []
            for start, end, label in spans:
                first, last = doc[start], doc[end - 1]
                begin, finish = first.idx, last.idx + len(last.text)
                mentions.append((begin, finish, label, article.body[begin:finish]))
            found.append(mentions)
        names = iter(canonical_names([(text, label) for mentions in found for *_, label, text in mentions]))
        out = []
        for article, mentions in zip(articles, found, strict=True):
            entities = []
            for begin, finish, label, text in mentions:
                name = next(names)
                place = self._place(name) if label == "LOC" else None
                entities.append(
                    Entity(
                        text=text,
                        label=label,
                        start=begin,
                        end=finish,
                        name=place.name if place is not None else name,  # places: the gazetteer's name
                        place=place,
                    )
                )
            out.append(article.model_copy(update={"entities": tuple(entities)}))
        return tuple(out)

    def tag_conll(self, document: Document) -> list[list[str]]:
        """Predicted IOB2 tags for each sentence of one CoNLL document (consistency across the document)."""
        docs = [Doc(self.nlp.vocab, words=list(s.tokens)) for s in document.sentences]
        ruled = [(words, with_dateline(words, spans)) for words, spans in self._spans(docs)]
        units = propagate(ruled, self._strong)
        return [to_iob(len(s.tokens), spans) for s, spans in zip(document.sentences, units, strict=True)]

    def _place(self, name: str) -> Place | None:
        return self._gazetteer.lookup(name) if self._gazetteer is not None else None


def dateline_units(articles: Sequence[Article]) -> list[tuple[list[str], list[Span]]]:
    """One pseudo-sentence per dateline place of the document, written as in running text ("GRONINGEN"
    → "Groningen", "RIO DE JANEIRO" → "Rio de Janeiro"), tagged LOC: the place keeps that type in the body."""
    out = []
    for place in sorted({a.dateline.place for a in articles if a.dateline is not None}):
        words = [w.lower() if w in DATELINE_PARTICLES else w[:1] + w[1:].lower() for w in place.split()]
        if words and all(w[:1].isalpha() for w in words):
            out.append((words, [(0, len(words), "LOC")]))
    return out


DATELINE_PARTICLES = frozenset(
    {"DE", "DER", "DEN", "VAN", "AAN", "OP", "LA", "LE", "LES", "DEL", "DI", "DO", "DA"}
)


def _load_gazetteer() -> Gazetteer | None:
    """The shared place gazetteer (None when it is not shipped in this build)."""
    try:
        from services.enrich.gazetteer import load_gazetteer
    except ImportError:
        return None
    return load_gazetteer()


def load_extractor(model: str | None = None) -> EntityExtractor:
    """The extractor for ``model`` (a folder or package; None: ``DROPWIRE_NER_MODEL`` or the shipped model)."""
    if model is None:
        from shared.settings import NerSettings

        model = NerSettings().ner_model
    nlp = load_pipeline(model)
    # A model folder carries the lexicon it was trained and measured with; the shipped one otherwise.
    own = Path(model) / "lexicon" if model else None
    return EntityExtractor(
        nlp, Lexicon.from_dir(own if own is not None and own.is_dir() else Path(LEXICON_DIR))
    )
