"""Story grouping, measured: pairwise precision and recall of "these two articles are the same story".

Pages with known truth (each article's wire item) go through the real parser and the real store
(``Repository.store``, batch by batch, in page order) into a fresh database; the story ids the store
gave are then compared with the truth over every pair of articles:

* precision: of the pairs the store put in one story, the share that are one item;
* recall: of the pairs that are one item, the share the store put in one story.

Both are computed from the contingency table of (story, item) counts, not by listing pairs.

Two sources of truth: ``dropwire.storycorpus.generate_stories`` (generated pages with their labels), and
a labelled set of real-layout pages (``tests/fixtures/stories``): ``labels.json`` names each page's
articles' items. Entity recognition is left out (stories do not depend on it).

    python -m dropwire.storyeval corpus --pages 3000 [--url postgresql+psycopg://…]
    python -m dropwire.storyeval labelled tests/fixtures/stories [--seeds ../shared/seeds]
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated

import sqlalchemy as sa
import typer

from dropwire.storycorpus import generate_stories
from services.enrich.parser import parse_page
from services.store.db import make_engine, upgrade
from services.store.repository import Repository
from shared.decoding import decode_bytes
from shared.messages import DocumentEnriched
from shared.storyprint import with_story_print

# Documents per store transaction: like the store worker under load.
BATCH = 50


@dataclass(frozen=True)
class Page:
    name: str
    data: bytes
    items: tuple[str, ...]  # the true item of each article, in page order


@dataclass(frozen=True)
class Scores:
    articles: int
    items: int
    stories: int
    true_pairs: int
    predicted_pairs: int
    agreeing_pairs: int

    @property
    def precision(self) -> float:
        return self.agreeing_pairs / self.predicted_pairs if self.predicted_pairs else 1.0

    @property
    def recall(self) -> float:
        return self.agreeing_pairs / self.true_pairs if self.true_pairs else 1.0

    def as_dict(self) -> dict[str, float | int]:
        return {
            "articles": self.articles,
            "items": self.items,
            "stories": self.stories,
            "true_pairs": self.true_pairs,
            "predicted_pairs": self.predicted_pairs,
            "precision": round(self.precision, 4),
            "recall": round(self.recall, 4),
        }


def _pairs(n: int) -> int:
    return n * (n - 1) // 2


def pairwise(truth: Sequence[str], predicted: Sequence[int]) -> Scores:
    """Pairwise agreement of two groupings of the same articles (same order)."""
    if len(truth) != len(predicted):
        raise ValueError("truth and prediction differ in length")
    both = Counter(zip(truth, predicted, strict=True))
    items, stories = Counter(truth), Counter(predicted)
    return Scores(
        articles=len(truth),
        items=len(items),
        stories=len(stories),
        true_pairs=sum(_pairs(n) for n in items.values()),
        predicted_pairs=sum(_pairs(n) for n in stories.values()),
        agreeing_pairs=sum(_pairs(n) for n in both.values()),
    )


def enriched(page: Page, received_at: datetime) -> DocumentEnriched:
    """What enrich sends for one page (with each article's story print), without entities."""
    decoded = decode_bytes(page.data)
    parsed = parse_page(decoded.text, received_at=received_at)
    if len(parsed.articles) != len(page.items):
        raise ValueError(f"{page.name}: {len(parsed.articles)} articles parsed, {len(page.items)} labelled")
    return DocumentEnriched(
        doc_id=hashlib.sha256(page.data).hexdigest(),
        claim=page.name,
        name=page.name,
        received_at=received_at,
        mtime=received_at,
        size=len(page.data),
        encoding=decoded.encoding,
        section=parsed.section,
        articles=tuple(with_story_print(a) for a in parsed.articles),
        parser_version="eval",
        model_version="none",
    )


def evaluate(pages: Sequence[Page], url: str, batch: int = BATCH) -> Scores:
    """Store ``pages`` in order into the (empty) database at ``url``; score the stories it made."""
    upgrade(url)
    engine = make_engine(url)
    repo = Repository(engine)
    start = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
    docs = [enriched(p, start + timedelta(seconds=i)) for i, p in enumerate(pages)]
    seen: set[str] = set()
    truth: dict[tuple[str, int], str] = {}
    for page, doc in zip(pages, docs, strict=True):
        if doc.doc_id in seen:  # the same bytes twice are one document (a duplicate), not new articles
            continue
        seen.add(doc.doc_id)
        for a, item in zip(doc.articles, page.items, strict=True):
            truth[(doc.doc_id, a.seq)] = item
    for i in range(0, len(docs), batch):
        repo.store(docs[i : i + batch])
    query = sa.text(
        "SELECT d.sha256, a.seq, a.story_id FROM articles a JOIN documents d ON d.id = a.document_id"
    )
    with engine.connect() as conn:
        stored = {(sha, seq): story for sha, seq, story in conn.execute(query)}
    engine.dispose()
    keys = sorted(truth)
    if set(stored) != set(keys) or any(stored[k] is None for k in keys):
        raise AssertionError("not every labelled article was stored with a story")
    return pairwise([truth[k] for k in keys], [stored[k] for k in keys])


def corpus_pages(count: int, seed: int) -> list[Page]:
    return [
        Page(f.name, f.data, tuple(str(label.item) for label in f.labels))
        for f in generate_stories(count, seed=seed)
    ]


def labelled_pages(directory: Path, seeds: Path | None = None) -> list[Page]:
    """The labelled set: ``labels.json`` maps each page file to its articles' items, in page order.

    A page named ``seed:NAME`` is built from a seed file's articles at evaluation time (the seeds are
    not copied into the repository): ``{"seed": "000_….txt", "articles": [0, 3, 4]}`` puts the seed
    page's articles 0, 3 and 4 (parser order) on one page, main first, the rest as briefs; an article
    given as ``[i, words]`` is cut to its first ``words`` words (a brief of it).
    """
    spec = json.loads((directory / "labels.json").read_text(encoding="utf-8"))
    pages = []
    for entry in spec["pages"]:
        items = tuple(entry["items"])
        if "file" in entry:
            pages.append(Page(entry["file"], (directory / entry["file"]).read_bytes(), items))
        else:
            if seeds is None:
                continue
            data = _seed_page(seeds / entry["seed"], entry["articles"])
            pages.append(Page(f"{entry['name']}.txt", data, items))
    return pages


def _seed_page(path: Path, picks: Sequence[int | list[int]]) -> bytes:
    """A page in the standard layout made of a seed page's articles (see ``labelled_pages``)."""
    page = parse_page(decode_bytes(path.read_bytes()).text, received_at=datetime(2026, 12, 1, tzinfo=UTC))
    chosen = []
    for pick in picks:
        index, cut = (pick[0], pick[1]) if isinstance(pick, list) else (pick, None)
        a = page.articles[index]
        body = a.body.split("\n")[0] if cut else a.body
        if cut:
            body = " ".join(body.split()[:cut])
        place = a.dateline.place if a.dateline else ""
        agencies = "/".join(a.dateline.agencies) if a.dateline and a.dateline.agencies else ""
        line = f"{place} ({agencies}) - " if agencies else f"{place} - "
        chosen.append((a.headline, line, body))
    headline, line, body = chosen[0]
    paragraphs = body.split("\n")
    lines = [headline or "Zonder kop", line + paragraphs[0], *paragraphs[1:]]
    if len(chosen) > 1:
        lines.append("Meer uit Buitenland")
        previous = ""
        for _, line, body in chosen[1:]:
            lines.append(previous + line + body.split("\n")[0])
            previous = "1 uur geleden"
        lines.append(previous)
    return "\n".join(lines).encode("utf-8")


app = typer.Typer(help="Measure story grouping: pairwise precision and recall.", no_args_is_help=True)


def _run(pages: list[Page], url: str | None) -> None:
    if url is None:
        with tempfile.TemporaryDirectory() as tmp:
            scores = evaluate(pages, f"sqlite:///{tmp}/eval.db")
    else:
        scores = evaluate(pages, url)
    typer.echo(json.dumps(scores.as_dict()))


@app.command()
def corpus(
    pages: int = typer.Option(2000, "--pages", min=1),
    seed: int = typer.Option(1, "--seed"),
    url: str | None = typer.Option(None, "--url", help="An empty database (default: a temporary SQLite)."),
) -> None:
    """Score the generated labelled corpus."""
    _run(corpus_pages(pages, seed), url)


@app.command()
def labelled(
    directory: Annotated[Path, typer.Argument(exists=True, file_okay=False)],
    seeds: Annotated[Path | None, typer.Option("--seeds", help="The seeds folder (../shared/seeds).")] = None,
    url: Annotated[
        str | None, typer.Option("--url", help="An empty database (default: temporary SQLite).")
    ] = None,
) -> None:
    """Score the hand-labelled set of real-layout pages."""
    _run(labelled_pages(directory, seeds), url)


if __name__ == "__main__":
    app()
