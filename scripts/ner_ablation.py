"""Entity F1 of the extractor's stages on CoNLL files: model alone, + rules, + document consistency.

.venv/bin/python scripts/ner_ablation.py [--model DIR] FILE...
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument("--model", default=None)
    args = parser.parse_args()

    from spacy.tokens import Doc

    from services.enrich.entities import load_extractor
    from services.enrich.entities.canonical import propagate
    from services.enrich.entities.conll import Score, read_documents, to_iob
    from services.enrich.entities.engine import map_label

    extractor = load_extractor(args.model)
    nlp = extractor.nlp
    print(f"{'file':<40}{'model':>8}{'+rules':>8}{'+doc':>8}")
    for path in args.files:
        stages = {"model": Score(), "rules": Score(), "doc": Score()}
        for document in read_documents(path.read_text(encoding="utf-8").splitlines()):
            docs = list(nlp.pipe(Doc(nlp.vocab, words=list(s.tokens)) for s in document.sentences))
            model = [[(e.start, e.end, lab) for e in d.ents if (lab := map_label(e.label_))] for d in docs]
            ruled = [extractor.rules.apply(d, m) for d, m in zip(docs, model, strict=True)]
            consistent = propagate([([t.text for t in d], r) for d, r in zip(docs, ruled, strict=True)])
            for sentence, *found in zip(document.sentences, model, ruled, consistent, strict=True):
                for stage, spans in zip(stages.values(), found, strict=True):
                    stage.add(sentence.gold, to_iob(len(sentence.tokens), spans))
        row = "".join(f"{s.overall.f1:>8.4f}" for s in stages.values())
        print(f"{str(path)[-40:]:<40}{row}")


if __name__ == "__main__":
    main()
