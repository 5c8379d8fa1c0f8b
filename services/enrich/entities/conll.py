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
