"""``dropwire trace`` (a file's journey) and ``dropwire import`` (an archive through the inbox)."""

from __future__ import annotations

import json
import signal
import threading
from pathlib import Path
from typing import Annotated, Any

import typer

from shared.settings import DatabaseSettings, IngestSettings, SpoolSettings


def _engine(url: str) -> Any:
    """A read engine for ``url``, or None when it is a SQLite file that does not exist yet."""
    import sqlalchemy as sa

    from shared.readmodel import open_engine

    parsed = sa.engine.make_url(url)
    if parsed.get_backend_name() == "sqlite" and not (parsed.database and Path(parsed.database).exists()):
        return None
    return open_engine(url)


def trace(
    query: Annotated[str, typer.Argument(help="A file name (as dropped), a sha256, or a document id.")],
    as_json: bool = typer.Option(False, "--json", help="JSON Lines: one object per step."),
) -> None:
    """Show a file's journey: every step from drop to archive (or failure), with the time between steps."""
    from shared.readmodel.journey import as_records
    from shared.readmodel.journey import trace as find

    engine = _engine(DatabaseSettings().url())
    try:
        journeys = find(query, engine=engine, spool_root=SpoolSettings().spool_dir)
    finally:
        if engine is not None:
            engine.dispose()
    if as_json:
        for record in as_records(journeys):
            typer.echo(json.dumps(record, ensure_ascii=False))
        return
    if not journeys:
        typer.echo(f"no journey found for {query!r}", err=True)
        raise typer.Exit(1)
    for n, journey in enumerate(journeys, 1):
        where = f"now in {journey.folder}/" if journey.folder else "no longer in the spool"
        typer.echo(f"claim {n} of {len(journeys)}: {journey.claim or '(not claimed yet)'}  {where}")
        typer.echo(f"  name {journey.name}  doc_id {journey.doc_id or '-'}")
        for s in journey.steps:
            since = "" if s.since_previous is None else f"+{s.since_previous:.3f}s"
            facts = "  ".join(f"{k}={v}" for k, v in s.facts.items())
            typer.echo(f"  {s.at.isoformat(timespec='milliseconds')}  {since:>12}  {s.kind:<15} {facts}")
        if journey.total_seconds is not None:
            typer.echo(f"  total {journey.total_seconds:.3f}s")


def import_(
    directory: Annotated[Path, typer.Argument(help="The folder to import.", exists=True, file_okay=False)],
    recursive: bool = typer.Option(False, "--recursive", "-r", help="Include sub-folders."),
    pattern: str = typer.Option("*", "--pattern", help="Only names matching this glob, e.g. '*.txt'."),
    move: bool = typer.Option(False, "--move", help="Move the files instead of copying them."),
    window: int = typer.Option(
        0,
        "--window",
        help="Most files in flight (inbox + processing/) at once (0: DROPWIRE_MAX_QUEUE_DEPTH).",
    ),
) -> None:
    """Feed a folder of wire files through the inbox at the pipeline's pace; Ctrl-C stops, a rerun resumes."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TaskProgressColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    from dropwire.importer import Importer, Summary, find_files
    from shared.spool import Spool

    stop = threading.Event()

    def on_signal(signum: int, _frame: Any) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()

    previous = signal.signal(signal.SIGINT, on_signal)
    files = find_files(directory, recursive=recursive, pattern=pattern)
    engine = _engine(DatabaseSettings().url())
    with Progress(
        TextColumn("importing"),
        BarColumn(),
        MofNCompleteColumn(),
        TaskProgressColumn(),
        TextColumn("{task.fields[rate]} files/s"),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        transient=False,
    ) as bar:
        task = bar.add_task("import", total=len(files), rate="-")

        def progress(summary: Summary) -> None:
            speed = bar.tasks[0].speed
            done = summary.imported + summary.skipped + len(summary.failed)
            bar.update(task, completed=done, rate=f"{speed:.1f}" if speed else "-")

        importer = Importer(
            spool=Spool(SpoolSettings().spool_dir),
            source=directory,
            window=window or IngestSettings().max_queue_depth,
            engine=engine,
            move=move,
            stop=stop,
            progress=progress,
        )
        try:
            summary = importer.run(files)
        finally:
            signal.signal(signal.SIGINT, previous)
            if engine is not None:
                engine.dispose()
    _report(summary)
    if summary.interrupted:
        raise typer.Exit(130)
    if summary.failed:
        raise typer.Exit(1)


def _report(summary: Any) -> None:
    state = "interrupted (run again to resume)" if summary.interrupted else "done"
    typer.echo(
        f"{state}: {summary.imported} imported, {summary.skipped} skipped (already stored or imported), "
        f"{len(summary.failed)} failed, of {summary.total}"
    )
    if summary.warning:
        typer.echo(f"  warning: {summary.warning}")
    for path, reason in sorted(summary.failed.items()):
        typer.echo(f"  failed: {path}: {reason}")


def register(app: typer.Typer) -> None:
    """Add ``trace`` and ``import`` to ``app``."""
    app.command()(trace)
    app.command("import")(import_)
