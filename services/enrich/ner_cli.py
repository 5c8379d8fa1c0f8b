"""``dropwire ner``: tag or score CoNLL-style token files with the entity extractor."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from services.enrich.entities.conll import DOCSTART, Score, read_documents


def tag_file(path: Path, model: str | None) -> tuple[list[str], Score]:
    """Each input line with its predicted tag appended, and the score against the last column."""
    from services.enrich.entities import load_extractor

    extractor = load_extractor(model)
    lines = path.read_text(encoding="utf-8").splitlines()
    score = Score()
    flat: list[str] = []
    for document in read_documents(lines):
        for sentence, tags in zip(document.sentences, extractor.tag_conll(document), strict=True):
            score.add(sentence.gold, tags)
            flat.extend(tags)
    tags_in_order = iter(flat)
    out = []
    for line in lines:
        if not line.strip() or line.split()[0] == DOCSTART:
            out.append(line)
        else:
            out.append(f"{line} {next(tags_in_order)}")
    return out, score


def register(app: typer.Typer) -> None:
    """Add the ``ner`` command to ``app``."""

    @app.command("ner")
    def ner(
        conll: Annotated[
            Path | None, typer.Option("--conll", help="Tag a CoNLL file: each line + predicted IOB2 tag.")
        ] = None,
        evaluate: Annotated[
            Path | None,
            typer.Option("--eval", help="Score against the gold tags in the last column (conlleval rules)."),
        ] = None,
        confusion: Annotated[
            bool, typer.Option("--confusion", help="With --eval: also print the label confusion table.")
        ] = False,
        model: Annotated[
            str | None, typer.Option("--model", help="Pipeline folder or spaCy package (default: shipped).")
        ] = None,
    ) -> None:
        """Named entities on CoNLL-style token files (one token per line, blank line between sentences)."""
        if (conll is None) == (evaluate is None):
            raise typer.BadParameter("give exactly one of --conll FILE or --eval FILE")
        path = conll or evaluate
        assert path is not None
        if not path.is_file():
            raise typer.BadParameter(f"no such file: {path}")
        out, score = tag_file(path, model)
        if conll is not None:
            sys.stdout.write("\n".join(out) + ("\n" if out else ""))
        else:
            typer.echo(score.table())
            if confusion:
                typer.echo("")
                typer.echo(score.confusion_table())
