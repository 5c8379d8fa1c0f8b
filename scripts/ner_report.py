"""Per-label scores and the label confusion of the entity extractor on CoNLL files, as Markdown.

The tables of the model card and BENCHMARKS.md come from this script (the same figures as
``dropwire ner --eval FILE --confusion``):

    .venv/bin/python scripts/ner_report.py tests/data/open_news_nl/test.conll \
        tests/data/modern_nl/dev.conll tests/data/modern_nl/test.conll ../shared/data/conll2002-nl/ned.testa
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from services.enrich.entities import load_extractor  # noqa: E402
from services.enrich.entities.conll import BOUNDARY, OUTSIDE, Score, read_documents  # noqa: E402


def score_file(extractor: object, path: Path) -> Score:
    score = Score()
    for document in read_documents(path.read_text(encoding="utf-8").splitlines()):
        for sentence, tags in zip(document.sentences, extractor.tag_conll(document), strict=True):  # type: ignore[attr-defined]
            score.add(sentence.gold, tags)
    return score


def markdown(score: Score) -> str:
    rows = ["| label | prec | rec | F1 | pred | gold | correct |", "|---|---|---|---|---|---|---|"]
    for name, c in [*sorted(score.labels.items()), ("**overall**", score.overall)]:
        rows.append(
            f"| {name} | {c.precision:.4f} | {c.recall:.4f} | {c.f1:.4f} | {c.predicted} | {c.gold} | {c.correct} |"
        )
    labels = sorted(score.labels)
    cols = [*labels, BOUNDARY, "missed"]
    rows += ["", "| gold \\ predicted | " + " | ".join(cols) + " |", "|---" * (len(cols) + 1) + "|"]
    for gold in [*labels, OUTSIDE]:
        cells = [score.confusion.get((gold, c), 0) for c in [*labels, BOUNDARY, OUTSIDE]]
        if gold == OUTSIDE:
            cells[-2:] = [0, 0]
        rows.append(f"| {'(no name)' if gold == OUTSIDE else gold} | " + " | ".join(map(str, cells)) + " |")
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument("--model", default=None)
    args = parser.parse_args()
    extractor = load_extractor(args.model)
    print(f"model: {extractor.version}\n")
    for path in args.files:
        print(f"### {path}\n\n{markdown(score_file(extractor, path))}\n")


if __name__ == "__main__":
    main()
