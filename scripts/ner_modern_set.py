"""Turn the team's modern-news sentences (``tests/data/modern_nl/source.txt``) into CoNLL files.

The source marks names as ``[LABEL words]``, one sentence per line, ``## doc`` between documents.
Odd documents go to ``dev.conll`` (for tuning), even ones to ``test.conll`` (held out: quote it).
Tokens come from spaCy's Dutch tokenizer, run on the text inside and outside each bracket separately
so every name starts and ends on a token boundary. Output: ``token TAG`` lines, IOB2.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import spacy

SOURCE = Path(__file__).resolve().parents[1] / "tests" / "data" / "modern_nl" / "source.txt"
MARK = re.compile(r"\[(PER|LOC|ORG|MISC) ([^\]]+)\]")


def sentence_lines(tokenizer: spacy.tokenizer.Tokenizer, sentence: str) -> list[str]:
    lines: list[str] = []
    pos = 0
    for match in MARK.finditer(sentence):
        lines.extend(f"{t.text} O" for t in tokenizer(sentence[pos : match.start()]) if not t.is_space)
        name = [t.text for t in tokenizer(match.group(2)) if not t.is_space]
        lines.extend(f"{w} {'B' if i == 0 else 'I'}-{match.group(1)}" for i, w in enumerate(name))
        pos = match.end()
    lines.extend(f"{t.text} O" for t in tokenizer(sentence[pos:]) if not t.is_space)
    return lines


def convert(source: Path, single: bool = False) -> dict[str, list[str]]:
    tokenizer = spacy.blank("nl").tokenizer
    documents: list[list[str]] = []
    for raw in source.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if line.startswith("## doc"):
            documents.append([])
        elif line and not line.startswith("#"):
            documents[-1].append(line)
    out: dict[str, list[str]] = {"dev": [], "test": []}
    for number, sentences in enumerate(documents, start=1):
        split = out["test" if single or not number % 2 else "dev"]
        split.append("-DOCSTART- O")
        for sentence in sentences:
            split.extend(sentence_lines(tokenizer, sentence))
            split.append("")
    return out


def main() -> None:
    """``ner_modern_set.py [SOURCE]`` writes dev/test splits; ``--single SOURCE`` writes one test.conll."""
    args = sys.argv[1:]
    single = "--single" in args
    args = [a for a in args if a != "--single"]
    source = Path(args[0]) if args else SOURCE
    splits = convert(source, single=single)
    for split, lines in splits.items():
        if lines:
            (source.parent / f"{split}.conll").write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
