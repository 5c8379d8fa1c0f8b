"""CoNLL-style token files: reading sentences, writing predicted tags, and conlleval-style scoring.

A file holds one token per line (the token first, other columns after it), a blank line between
sentences, and ``-DOCSTART-`` lines between documents. Tags are IOB2. Scoring follows conlleval:
an entity counts as found only when its type and both of its boundaries match the gold entity; an
``I-X`` that does not continue an ``X`` starts a new entity.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

DOCSTART = "-DOCSTART-"
OUTSIDE = "O"
BOUNDARY = "bound"  # confusion column: a predicted name overlaps the gold one with other boundaries


@dataclass(frozen=True)
class Sentence:
    """One sentence: its tokens, the input lines as written, and the last column (gold tags)."""

    tokens: tuple[str, ...]
    lines: tuple[str, ...]
    gold: tuple[str, ...]


@dataclass(frozen=True)
class Document:
    """The sentences between two ``-DOCSTART-`` lines (a file without them is one document)."""

    sentences: tuple[Sentence, ...]


def read_lines(lines: Iterable[str]) -> Iterator[tuple[str, Sentence | None]]:
    """Yield ``("docstart", None)``, ``("blank", None)`` and ``("sentence", s)`` items in file order.

    A ``-DOCSTART-`` line directly followed by a sentence (no blank line between, as in CoNLL-2002)
    is kept as its own item; each blank line is reported so a writer can reproduce the layout.
    """
    pending: list[str] = []

    def flush() -> Sentence | None:
        if not pending:
            return None
        cols = [line.split() for line in pending]
        sentence = Sentence(
            tokens=tuple(c[0] for c in cols),
            lines=tuple(pending),
            gold=tuple(c[-1] if len(c) > 1 else OUTSIDE for c in cols),
        )
        pending.clear()
        return sentence

    for raw in lines:
        line = raw.rstrip("\r\n")
        if not line.strip():
            done = flush()
            if done is not None:
                yield "sentence", done
            yield "blank", None
        elif line.split()[0] == DOCSTART:
            done = flush()
            if done is not None:
                yield "sentence", done
            yield "docstart", None
        else:
            pending.append(line)
    done = flush()
    if done is not None:
        yield "sentence", done


def read_documents(lines: Iterable[str]) -> list[Document]:
    """Group the sentences of a CoNLL file into documents at ``-DOCSTART-`` lines."""
    docs: list[list[Sentence]] = [[]]
    for kind, sentence in read_lines(lines):
        if kind == "docstart" and docs[-1]:
            docs.append([])
        elif sentence is not None:
            docs[-1].append(sentence)
    return [Document(tuple(d)) for d in docs if d]


def spans(tags: Sequence[str]) -> list[tuple[int, int, str]]:
    """Entity spans ``(start, end, label)`` (end exclusive) of an IOB2 sequence, conlleval-style."""
    out: list[tuple[int, int, str]] = []
    start, label = -1, ""
    for i, tag in enumerate([*tags, OUTSIDE]):
        prefix, _, kind = tag.partition("-")
        continues = prefix == "I" and kind == label and start >= 0
        if start >= 0 and not continues:
            out.append((start, i, label))
            start, label = -1, ""
        if prefix in ("B", "I") and not continues:
            start, label = i, kind
    return out


def to_iob(length: int, entity_spans: Iterable[tuple[int, int, str]]) -> list[str]:
    """IOB2 tags for ``length`` tokens from token spans ``(start, end, label)``."""
    tags = [OUTSIDE] * length
    for start, end, label in entity_spans:
        tags[start] = f"B-{label}"
        for i in range(start + 1, end):
            tags[i] = f"I-{label}"
    return tags


@dataclass
class Counts:
    """Found / gold / correct entity counts of one label."""

    predicted: int = 0
    gold: int = 0
    correct: int = 0

    @property
    def precision(self) -> float:
        return self.correct / self.predicted if self.predicted else 0.0

    @property
    def recall(self) -> float:
        return self.correct / self.gold if self.gold else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


@dataclass
class Score:
    """Entity-level scores per label and overall (micro-averaged)."""

    labels: dict[str, Counts] = field(default_factory=dict)
    tokens: int = 0
    # (gold label or "-", predicted label or "-") -> count; see ``confusion_table``
    confusion: dict[tuple[str, str], int] = field(default_factory=dict)

    def add(self, gold: Sequence[str], predicted: Sequence[str]) -> None:
        """Count one sentence's gold and predicted tag sequences."""
        self.tokens += len(gold)
        gold_spans, pred_spans = set(spans(gold)), set(spans(predicted))
        for span in gold_spans:
            self.labels.setdefault(span[2], Counts()).gold += 1
        for span in pred_spans:
            counts = self.labels.setdefault(span[2], Counts())
            counts.predicted += 1
            counts.correct += span in gold_spans
        self._confuse(gold_spans, pred_spans)

    def _confuse(self, gold: set[tuple[int, int, str]], pred: set[tuple[int, int, str]]) -> None:
        """Pair gold and predicted entities with the same boundaries; the rest are boundary errors
        (they overlap an entity of the other side), misses or spurious names."""
        by_bounds = {(s, e): label for s, e, label in pred}
        gold_bounds = {(s, e) for s, e, _ in gold}
        for s, e, label in gold:
            if (s, e) in by_bounds:
                key = (label, by_bounds[(s, e)])
            elif any(ps < e and pe > s for ps, pe, _ in pred):
                key = (label, BOUNDARY)
            else:
                key = (label, OUTSIDE)
            self.confusion[key] = self.confusion.get(key, 0) + 1
        for s, e, label in pred:
            if (s, e) not in gold_bounds and not any(gs < e and ge > s for gs, ge, _ in gold):
                self.confusion[(OUTSIDE, label)] = self.confusion.get((OUTSIDE, label), 0) + 1

    def confusion_table(self) -> str:
        """Gold label (rows) against predicted label (columns) for entities with the same boundaries;
        column ``bound``: a predicted name overlaps with other boundaries; ``O``: missed (column) or
        spurious (row)."""
        labels = sorted(self.labels)
        cols = [*labels, BOUNDARY, OUTSIDE]
        rows = [f"{'gold/pred':<10}" + "".join(f"{c:>7}" for c in cols)]
        for gold in [*labels, OUTSIDE]:
            cells = [self.confusion.get((gold, c), 0) for c in cols]
            if gold == OUTSIDE:
                cells[-2:] = [0, 0]
            rows.append(f"{gold:<10}" + "".join(f"{n:>7}" for n in cells))
        return "\n".join(rows)

    @property
    def overall(self) -> Counts:
        total = Counts()
        for c in self.labels.values():
            total.predicted += c.predicted
            total.gold += c.gold
            total.correct += c.correct
        return total

    def table(self) -> str:
        """A plain-text table: one row per label and an overall row."""
        rows = [f"{'label':<8}{'prec':>8}{'rec':>8}{'F1':>8}{'pred':>8}{'gold':>8}{'correct':>9}"]
        for name, c in [*sorted(self.labels.items()), ("overall", self.overall)]:
            rows.append(
                f"{name:<8}{c.precision:>8.4f}{c.recall:>8.4f}{c.f1:>8.4f}"
                f"{c.predicted:>8}{c.gold:>8}{c.correct:>9}"
            )
        return "\n".join(rows)


def dateline_spans(tokens: Sequence[str]) -> list[tuple[int, int, str]]:
    """The place (LOC) and agencies (ORG) of a wire dateline opening a tokenised sentence, as the
    project's dateline reader sees it ("GRONINGEN ( ANP ) - De ...", "RIO DE JANEIRO - ..."); [] if none."""
    from services.enrich.datelines import match_dateline

    if not tokens or not tokens[0][:1].isupper():
        return []
    line, starts = "", []
    for i, token in enumerate(tokens[:16]):
        glued = i == 0 or token in (")", "/") or tokens[i - 1] in ("(", "/")
        line += ("" if glued else " ") + token
        starts.append(len(line) - len(token))
    line += " " + " ".join(tokens[16:])
    found = match_dateline(line)
    if found is None:
        return []
    place_end = found.start + len(found.place)
    place = [i for i, at in enumerate(starts) if found.start <= at < place_end]
    out = [(place[0], place[-1] + 1, "LOC")] if place else []
    agencies = set(found.agencies)
    for i, at in enumerate(starts):
        if place_end <= at < found.end and set(tokens[i].split("/")) <= agencies:
            out.append((i, i + 1, "ORG"))
    return out


def with_dateline(words: Sequence[str], spans: Sequence[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """``spans`` with a dateline's place and agencies put in, replacing spans that overlap them."""
    found = dateline_spans(words)
    if not found:
        return list(spans)
    covered = {k for start, end, _ in found for k in range(start, end)}
    kept = [s for s in spans if not covered.intersection(range(s[0], s[1]))]
    return sorted([*kept, *found])
