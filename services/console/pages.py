"""The HTML pages: parse the query, call the read model, render a template (which escapes everything)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, select_autoescape

from services.console.api import console
from services.console.filters import build_filters, check_text
from services.console.highlight import pieces, window
from shared.errors import PermanentError
from shared.metrics import ENTITY_LABELS
from shared.search_text import highlight_spans

TEMPLATES = Path(__file__).resolve().parent / "templates"
# Seconds between the Overview's reloads of itself.
OVERVIEW_REFRESH_SECONDS = 5
FILTER_KEYS = ("since", "until", "place", "entity", "section", "role")

templates = Jinja2Templates(
    env=Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(default=True, default_for_string=True),
    )
)
templates.env.globals.update(labels=ENTITY_LABELS, pieces=pieces)

router = APIRouter(include_in_schema=False)


def render(request: Request, name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    context.setdefault("csrf", console(request).guard.csrf_token())
    return templates.TemplateResponse(request, name, context, status_code=status_code)


def _filters(request: Request) -> tuple[dict[str, str], Any]:
    raw = {k: request.query_params.get(k, "") for k in FILTER_KEYS}
    return raw, build_filters(**{k: v or None for k, v in raw.items()})


@router.get("/", response_class=HTMLResponse)
def overview(request: Request) -> HTMLResponse:
    data = console(request).overview()
    peak = max((p.documents for p in data.documents_per_minute), default=0)
    return render(request, "overview.html", o=data, peak=peak, refresh=OVERVIEW_REFRESH_SECONDS)


@router.get("/documents", response_class=HTMLResponse)
def documents(request: Request) -> HTMLResponse:
    raw, filters = _filters(request)
    before = request.query_params.get("before")
    page = console(request).read.documents(
        filters, before=int(before) if before and before.isdigit() and len(before) < 19 else None
    )
    return render(request, "documents.html", docs=page, f=raw, page_size=50)


@router.get("/documents/{sha256}", response_class=HTMLResponse)
def document(request: Request, sha256: str) -> HTMLResponse:
    doc = console(request).read.document(sha256) if len(sha256) == 64 else None
    if doc is None:
        raise HTTPException(404, "no stored document with that sha256")
    bodies = {a.id: pieces(a.body, [(m.start, m.end, m) for m in a.mentions]) for a in doc.articles}
    journeys = console(request).journeys(sha256)
    return render(request, "document.html", doc=doc, bodies=bodies, journeys=journeys)


@router.get("/search", response_class=HTMLResponse)
def search(request: Request) -> HTMLResponse:
    raw, filters = _filters(request)
    q = check_text(request.query_params.get("q", ""))
    hits = console(request).read.search(q, filters) if q.strip() else []
    snippets, headlines = {}, {}
    for hit in hits:
        spans = highlight_spans(hit.body, q)
        start, end = window(hit.body, spans)
        text = hit.body[start:end]
        inside = [(a - start, b - start, True) for a, b in spans if a >= start and b <= end]
        snippets[hit.article_id] = (start > 0, pieces(text, inside), end < len(hit.body))
        title = hit.headline or hit.document_name
        headlines[hit.article_id] = pieces(title, [(a, b, True) for a, b in highlight_spans(title, q)])
    return render(request, "search.html", q=q, hits=hits, snippets=snippets, headlines=headlines, f=raw)


@router.get("/entities", response_class=HTMLResponse)
def entities(request: Request) -> HTMLResponse:
    label = request.query_params.get("label", "").upper() or None
    if label is not None and label not in ENTITY_LABELS:
        raise HTTPException(400, "label must be one of PER, LOC, ORG, MISC")
    return render(request, "entities.html", rows=console(request).read.top_entities(label=label), label=label)


@router.get("/entities/{entity_id}", response_class=HTMLResponse)
def entity(request: Request, entity_id: str) -> HTMLResponse:
    found = (
        console(request).read.entity(int(entity_id)) if entity_id.isdigit() and len(entity_id) < 19 else None
    )
    if found is None:
        raise HTTPException(404, "no entity with that id")
    return render(request, "entity.html", e=found)


@router.get("/failures", response_class=HTMLResponse)
def failures(request: Request) -> HTMLResponse:
    ctx = console(request)
    return render(
        request,
        "failures.html",
        rows=ctx.spool_failures(),
        retried=request.query_params.get("retried"),
        missing=request.query_params.get("missing"),
    )


@router.post("/failures/retry")
def retry(request: Request, claim: Annotated[str, Form()], csrf: Annotated[str, Form()] = "") -> Response:
    """The Failures page's retry button: ``Spool.retry_failed``, the code of ``dropwire failed retry``."""
    ctx = console(request)
    if not ctx.guard.csrf_ok(csrf):
        raise HTTPException(403, "missing or wrong CSRF token: reload the page and try again")
    try:
        path = ctx.spool.retry_failed(claim)
    except (FileNotFoundError, PermanentError):
        return RedirectResponse("/failures?" + urlencode({"missing": claim}), status_code=303)
    return RedirectResponse("/failures?" + urlencode({"retried": path.name}), status_code=303)


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request) -> HTMLResponse:
    return render(request, "login.html", wrong=False)


@router.post("/login")
def login(request: Request, token: Annotated[str, Form()], csrf: Annotated[str, Form()] = "") -> Response:
    from services.console.security import COOKIE

    guard = console(request).guard
    if not guard.csrf_ok(csrf) or not guard.token_ok(token):
        return render(request, "login.html", status_code=403, wrong=True)
    response = RedirectResponse("/", status_code=303)
    response.set_cookie(COOKIE, guard.cookie_value(), httponly=True, samesite="strict")
    return response
