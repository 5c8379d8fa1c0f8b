"""The JSON API under ``/api/``: one read-model call per route, response models so OpenAPI is exact."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Header, HTTPException, Path, Query, Request
from pydantic import BaseModel

from services.console.context import Console, Overview, SpoolFailure
from shared.errors import PermanentError
from shared.readmodel import (
    MAX_LIMIT,
    DocumentDetail,
    DocumentSummary,
    EntityCount,
    EntityDetail,
    Filters,
    SearchHit,
)


class ApiError(BaseModel):
    error: str


class CsrfToken(BaseModel):
    csrf: str


class Retried(BaseModel):
    claim: str
    inbox_name: str


ERRORS: dict[int | str, dict[str, object]] = {
    400: {"model": ApiError, "description": "A parameter the console cannot read."},
    401: {"model": ApiError, "description": "The console's token is required and was not given."},
    403: {"model": ApiError, "description": "Wrong CSRF token, or a host the console does not serve."},
    422: {"model": ApiError, "description": "A parameter out of its range or of the wrong type."},
}
NOT_FOUND: dict[int | str, dict[str, object]] = {404: {"model": ApiError, "description": "No such item."}}

router = APIRouter(prefix="/api", responses=ERRORS)

Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Most rows to return.")]
# No NUL: no stored text has one and PostgreSQL refuses it in a query.
NO_NUL = "^[^\\x00]*$"
Text = Annotated[str | None, Query(max_length=200, pattern=NO_NUL)]
Time = Annotated[datetime | None, Query(description="ISO 8601 date-time; UTC unless it says otherwise.")]
Role = Annotated[str | None, Query(pattern="^(main|brief)$")]
Sha256 = Annotated[str, Path(pattern="^[0-9a-f]{64}$", description="The document's sha256.")]
# Keys are 64-bit on PostgreSQL.
RowId = Annotated[int, Path(ge=1, le=2**63 - 1)]


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def _filters(
    since: datetime | None,
    until: datetime | None,
    place: str | None,
    entity: str | None,
    section: str | None,
    role: str | None,
) -> Filters:
    return Filters(
        since=_utc(since), until=_utc(until), place=place, entity=entity, section=section, role=role
    )


def console(request: Request) -> Console:
    result: Console = request.app.state.console
    return result


@router.get("/overview", response_model=Overview, summary="Spool, queues, rates, heartbeats, failures")
def overview(request: Request) -> Overview:
    return console(request).overview()


@router.get("/documents", response_model=list[DocumentSummary], summary="Stored documents, newest first")
def documents(
    request: Request,
    since: Time = None,
    until: Time = None,
    place: Text = None,
    entity: Text = None,
    section: Text = None,
    role: Role = None,
    limit: Limit = 50,
    before: Annotated[int | None, Query(ge=1, le=2**63 - 1, description="Page on: ids below this.")] = None,
) -> list[DocumentSummary]:
    filters = _filters(since, until, place, entity, section, role)
    return console(request).read.documents(filters, limit=limit, before=before)


@router.get("/documents/{sha256}", response_model=DocumentDetail, responses=NOT_FOUND, summary="One document")
def document(request: Request, sha256: Sha256) -> DocumentDetail:
    found = console(request).read.document(sha256)
    if found is None:
        raise HTTPException(404, "no stored document with that sha256")
    return found


@router.get("/search", response_model=list[SearchHit], summary="Dutch full-text search of articles")
def search(
    request: Request,
    q: Annotated[
        str, Query(min_length=1, max_length=200, pattern=NO_NUL, description="Words; every one must match.")
    ],
    since: Time = None,
    until: Time = None,
    place: Text = None,
    entity: Text = None,
    section: Text = None,
    role: Role = None,
    limit: Limit = 50,
) -> list[SearchHit]:
    filters = _filters(since, until, place, entity, section, role)
    return console(request).read.search(q, filters, limit=limit)


@router.get("/entities", response_model=list[EntityCount], summary="Most mentioned entities")
def entities(
    request: Request,
    label: Annotated[str | None, Query(pattern="^(PER|LOC|ORG|MISC)$")] = None,
    limit: Limit = 50,
) -> list[EntityCount]:
    return console(request).read.top_entities(label=label, limit=limit)


@router.get("/entities/{entity_id}", response_model=EntityDetail, responses=NOT_FOUND, summary="One entity")
def entity(request: Request, entity_id: RowId, limit: Limit = 50) -> EntityDetail:
    found = console(request).read.entity(entity_id, limit=limit)
    if found is None:
        raise HTTPException(404, "no entity with that id")
    return found


@router.get("/failures", response_model=list[SpoolFailure], summary="Files in failed/ and why")
def failures(request: Request) -> list[SpoolFailure]:
    return console(request).spool_failures()


@router.get("/csrf", response_model=CsrfToken, summary="The CSRF token POST requests must send")
def csrf(request: Request) -> CsrfToken:
    return CsrfToken(csrf=console(request).guard.csrf_token())


@router.post(
    "/failures/{claim}/retry",
    response_model=Retried,
    responses=NOT_FOUND,
    summary="Move a failed file back into the inbox (what `dropwire failed retry` does)",
)
def retry(
    request: Request,
    claim: Annotated[str, Path(min_length=1, max_length=255)],
    x_csrf_token: Annotated[str | None, Header()] = None,
) -> Retried:
    ctx = console(request)
    if not ctx.guard.csrf_ok(x_csrf_token):
        raise HTTPException(403, "missing or wrong X-CSRF-Token (GET /api/csrf)")
    try:
        path = ctx.spool.retry_failed(claim)
    except (FileNotFoundError, PermanentError) as exc:
        raise HTTPException(404, f"{claim!r} is not in failed/") from exc
    return Retried(claim=claim, inbox_name=path.name)
