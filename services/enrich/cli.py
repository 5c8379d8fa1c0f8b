"""``dropwire parse``: show what the pipeline will make of any file, without queues or a database."""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from services.enrich.parser import PARSER_VERSION, ParsedPage, parse_page
from shared.decoding import Decoded, decode_bytes
from shared.errors import PermanentError
from shared.messages import Article

#: Characters of a body shown per article in the readable summary.
SUMMARY_BODY_CHARS = 100


def page_to_json(
    *,
    name: str,
    data: bytes,
    decoded: Decoded,
    page: ParsedPage,
    received_at: datetime,
    articles: Sequence[Article] | None = None,
    model_version: str | None = None,
) -> dict[str, Any]:
    """The JSON object ``dropwire parse --json`` prints for one file (``articles``: annotated ones)."""
    return {
        "doc_id": hashlib.sha256(data).hexdigest(),
        "name": name,
        "size": len(data),
        "encoding": decoded.encoding,
        "line_endings": decoded.line_endings,
        "had_bom": decoded.had_bom,
        "trailing_newline": decoded.trailing_newline,
        "received_at": received_at.isoformat(),
        "parser_version": PARSER_VERSION,
        "model_version": model_version,
        "section": page.section,
        "page_lines": list(page.page_lines),
        "truncated": page.truncated,
        "warnings": [warning.model_dump(mode="json") for warning in page.warnings],
        "articles": [
            {**article.model_dump(mode="json"), "blocks": _blocks(page, number)}
            for number, article in enumerate(page.articles if articles is None else articles)
        ],
    }


@functools.cache
def _extractor(model: str | None) -> Any:
    """The NER extractor, loaded once per process (spaCy is imported only when entities are asked for)."""
    from services.enrich.entities import load_extractor

    return load_extractor(model)


def _blocks(page: ParsedPage, number: int) -> list[dict[str, str]]:
    """The body as the editor sees it: paragraphs and subheads in order, each marked with its kind."""
    return [
        {"kind": "subhead" if part.kind == "subhead" else "paragraph", "text": part.text}
        for part in page.parts
        if part.article == number and part.kind in ("body", "subhead")
    ]


def parse(
    files: Annotated[list[Path], typer.Argument(help="Files to parse.", show_default=False)],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON (one object per file).")] = False,
    received_at: Annotated[
        str | None,
        typer.Option(
            "--received-at",
            help="ISO 8601 moment relative times count back from (naive = UTC). Default: the file's mtime.",
        ),
    ] = None,
    entities: Annotated[
        bool,
        typer.Option("--entities/--no-entities", help="Find named entities (loads the NER model once)."),
    ] = True,
    model: Annotated[
        str | None, typer.Option("--model", help="NER model path or package (default: DROPWIRE_NER_MODEL).")
    ] = None,
) -> None:
    """Split files into articles as the enrich service would, find their entities, and print the result."""
    moment = _parse_moment(received_at) if received_at is not None else None
    if entities and model is None:
        from shared.settings import NerSettings

        model = NerSettings().ner_model
    failed = False
    for path in files:
        try:
            data = path.read_bytes()
            mtime = datetime.fromtimestamp(path.stat().st_mtime, UTC)
        except OSError as exc:
            typer.echo(f"error: {path}: cannot read: {exc.strerror or exc}", err=True)
            failed = True
            continue
        try:
            decoded = decode_bytes(data)
        except PermanentError as exc:
            typer.echo(f"error: {path}: {exc.reason}: {exc}", err=True)
            failed = True
            continue
        at = moment or mtime
        page = parse_page(decoded.text, received_at=at)
        annotated, version = None, None
        if entities:
            extractor = _extractor(model)
            annotated, version = extractor.annotate(page.articles), extractor.version
        result = page_to_json(
            name=path.name,
            data=data,
            decoded=decoded,
            page=page,
            received_at=at,
            articles=annotated,
            model_version=version,
        )
        if as_json:
            indent = 2 if len(files) == 1 else None
            typer.echo(json.dumps(result, ensure_ascii=False, indent=indent))
        else:
            typer.echo(_summary(result))
    if failed:
        raise typer.Exit(1)


def _parse_moment(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise typer.BadParameter(f"not an ISO 8601 date-time: {text!r}", param_hint="--received-at") from exc
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _summary(result: dict[str, Any]) -> str:
    newline = "final newline" if result["trailing_newline"] else "no final newline"
    lines = [
        f"{result['name']}  sha256:{result['doc_id'][:12]}  {result['encoding']}, {result['line_endings']}, "
        f"{newline}  section: {result['section'] or '-'}  articles: {len(result['articles'])}"
    ]
    for article in result["articles"]:
        dateline = article["dateline"]
        where = "(no dateline)"
        if dateline is not None:
            agencies = "/".join(dateline["agencies"])
            where = f"{dateline['place']} ({agencies})" if agencies else dateline["place"]
            place = dateline["resolved"]
            if place is not None:
                where += f" = {place['name']}, {place['country']}"
        when = ""
        if article["relative_time"]:
            when = f"  {article['relative_time']} = {article['published_at']}"
        elif article["published_at"]:
            when = f"  {article['published_at']}"
        if article["truncated"]:
            when += "  (truncated)"
        lines.append(f"  [{article['seq']}] {article['role']:<5}  {where}{when}")
        if article["headline"]:
            version = article["headline_version"]
            lines.append(
                f"        headline: {article['headline']}" + (f" (version {version})" if version else "")
            )
        for label in ("byline", "preamble", "trailer"):
            if article[label]:
                lines.append(f"        {label}: " + " / ".join(article[label].split("\n")))
        for subhead in article["subheads"]:
            lines.append(f"        subhead: {subhead}")
        if article["entities"]:
            names = dict.fromkeys(f"{e['name']} ({e['label']})" for e in article["entities"])
            lines.append("        entities: " + ", ".join(names))
        body = " ".join(article["body"].split())
        if len(body) > SUMMARY_BODY_CHARS:
            body = body[: SUMMARY_BODY_CHARS - 1] + "…"
        lines.append(f"        {body}")
    for page_line in result["page_lines"]:
        lines.append(f"  page: {page_line}")
    for warning in result["warnings"]:
        where = "page" if warning["article"] is None else f"[{warning['article']}]"
        lines.append(f"  warning: {warning['kind']} ({where}): {warning['text']}")
    return "\n".join(lines)


def register(app: typer.Typer) -> None:
    """Add this service's commands to ``app``."""
    app.command()(parse)
