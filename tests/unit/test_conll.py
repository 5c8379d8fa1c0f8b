"""CoNLL reading, IOB2 spans and conlleval-style scoring."""

from __future__ import annotations

import pytest

from services.enrich.entities.conll import Score, read_documents, read_lines, spans, to_iob

pytestmark = pytest.mark.unit

SAMPLE = """-DOCSTART- -DOCSTART- O
Mark N B-PER
Rutte N I-PER
in Prep O
Brussel N B-LOC
. Punc O

Zij Pron O
. Punc O
-DOCSTART- -DOCSTART- O
NAVO N B-ORG
"""


def test_spans_follow_conlleval_for_stray_inside_tags() -> None:
    """An I-X after O or after another type starts a new entity, as conlleval counts it."""
    assert spans(["B-PER", "I-PER", "O", "I-LOC", "I-ORG", "B-ORG", "I-ORG"]) == [
        (0, 2, "PER"),
        (3, 4, "LOC"),
        (4, 5, "ORG"),
        (5, 7, "ORG"),
    ]


def test_to_iob_round_trips_spans() -> None:
    """Spans written as IOB2 tags read back as the same spans."""
    entity_spans = [(0, 2, "PER"), (3, 4, "LOC"), (4, 6, "MISC")]
    assert spans(to_iob(7, entity_spans)) == entity_spans


def test_documents_split_at_docstart_and_keep_gold_from_last_column() -> None:
    """-DOCSTART- lines start documents; the last column of each token line is the gold tag."""
    docs = read_documents(SAMPLE.splitlines())
    assert [len(d.sentences) for d in docs] == [2, 1]
    assert docs[0].sentences[0].tokens == ("Mark", "Rutte", "in", "Brussel", ".")
    assert docs[0].sentences[0].gold == ("B-PER", "I-PER", "O", "B-LOC", "O")
    assert docs[1].sentences[0].lines == ("NAVO N B-ORG",)


def test_read_lines_reports_layout_in_order() -> None:
    """The reader yields docstart, sentence and blank items in file order (a writer can mirror it)."""
    kinds = [kind for kind, _ in read_lines(SAMPLE.splitlines())]
    assert kinds == ["docstart", "sentence", "blank", "sentence", "docstart", "sentence"]


def test_score_counts_only_exact_type_and_boundaries() -> None:
    """A predicted entity is correct only with the gold type and both gold boundaries."""
    score = Score()
    score.add(["B-PER", "I-PER", "O", "B-LOC"], ["B-PER", "O", "O", "B-LOC"])
    score.add(["B-ORG"], ["B-MISC"])
    assert (score.overall.predicted, score.overall.gold, score.overall.correct) == (3, 3, 1)
    assert score.labels["LOC"].f1 == 1.0
    assert score.labels["PER"].correct == 0
    assert score.overall.f1 == pytest.approx(1 / 3)


def test_empty_score_is_zero_not_an_error() -> None:
    """No entities at all scores 0.0 instead of dividing by zero."""
    assert Score().overall.f1 == 0.0
