"""Stories as the store assigns them (SQLite here; ``tests/integration/test_stories_postgres.py`` runs
the same cases on PostgreSQL): in the batch, in any arrival order, idempotent, stable, with versions."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from services.store.repository import Repository
from shared.messages import Article, Dateline, DocumentEnriched, Entity, Place

pytestmark = pytest.mark.unit

RECEIVED = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
ZWOLLE = Place(name="Zwolle", country="NL", lat=52.5, lon=6.1)
LEAD = (
    "In de binnenstad van Zwolle heeft zondagochtend een grote brand gewoed in een pand aan de "
    "Diezerstraat. Bewoners van 12 woningen zijn geëvacueerd."
)
REST = "De brandweer schaalde op naar zeer grote brand.\nHoe de brand ontstond, is nog niet bekend."
DPA = "Een uitslaande brand heeft het historische centrum van Zwolle zondag in rook gehuld. Ramen dicht."
KABINET = "Het kabinet wil gemeenten meer mogelijkheden geven om de verhuur van vakantiewoningen te beperken."


def article(
    seq: int, body: str, *, role: str = "brief", headline: str | None = None, **kw: object
) -> Article:
    place = kw.pop("place", "ZWOLLE")
    agencies = kw.pop("agencies", ("ANP",))
    resolved = ZWOLLE if place == "ZWOLLE" else None
    entities = ()
    if "Zwolle" in body:
        start = body.index("Zwolle")
        entities = (Entity(text="Zwolle", label="LOC", start=start, end=start + 6, name="Zwolle"),)
    return Article(
        seq=seq,
        role=role,  # type: ignore[arg-type]
        headline=headline,
        dateline=Dateline(place=str(place), agencies=tuple(agencies), resolved=resolved),  # type: ignore[arg-type]
        body=body,
        entities=entities,
        **kw,  # type: ignore[arg-type]
    )


def page(name: str, *articles: Article, minutes: int = 0) -> DocumentEnriched:
    text = name + "".join(a.body for a in articles)
    return DocumentEnriched(
        doc_id=hashlib.sha256(text.encode()).hexdigest(),
        claim=name,
        name=name,
        received_at=RECEIVED + timedelta(minutes=minutes),
        mtime=RECEIVED,
        size=len(text),
        encoding="utf-8",
        articles=articles,
        parser_version="test",
        model_version="test",
    )


def main_page(name: str, minutes: int = 0) -> DocumentEnriched:
    return page(
        name,
        article(0, LEAD + "\n" + REST, role="main", headline="Grote brand in Zwolle"),
        article(1, KABINET, place="DEN HAAG"),
        minutes=minutes,
    )


def brief_page(name: str, minutes: int = 0) -> DocumentEnriched:
    return page(
        name,
        article(
            0,
            "Kabinet valt over asielwet. De premier bood dinsdag het ontslag aan.",
            role="main",
            headline="Kabinet valt",
            place="DEN HAAG",
        ),
        article(1, LEAD),
        article(2, DPA, agencies=("DPA",)),
        minutes=minutes,
    )


def story_of(repo: Repository, doc: DocumentEnriched, seq: int) -> int:
    with repo.engine.connect() as conn:
        return int(
            conn.execute(
                sa.text(
                    "SELECT a.story_id FROM articles a JOIN documents d ON d.id = a.document_id "
                    "WHERE d.sha256 = :s AND a.seq = :q"
                ),
                {"s": doc.doc_id, "q": seq},
            ).scalar_one()
        )


@pytest.mark.parametrize("order", ["brief-before-main", "main-before-brief", "one-batch"])
def test_a_brief_and_its_article_are_one_story_in_any_order(repo: Repository, order: str) -> None:
    """The brief on one page and the full article on another are one story, whichever comes first."""
    brief, main = brief_page("brief.txt"), main_page("main.txt", minutes=5)
    if order == "brief-before-main":
        repo.store([brief])
        repo.store([main])
    elif order == "main-before-brief":
        repo.store([main])
        repo.store([brief])
    else:
        repo.store([brief, main])
    assert story_of(repo, brief, 1) == story_of(repo, main, 0)
    assert story_of(repo, brief, 2) != story_of(repo, main, 0)  # the DPA text on the same fire
    fire = next(s for s in repo.stories_list() if s.id == story_of(repo, main, 0))
    assert (fire.sightings, fire.versions, fire.headline, fire.place) == (
        2,
        1,
        "Grote brand in Zwolle",
        "Zwolle",
    )
    main_id = next(a.id for a in repo.story_articles(fire.id) if a.role == "main")
    assert fire.fullest_article_id == main_id


def test_the_same_sidebar_on_many_pages_is_one_story_per_item(repo: Repository) -> None:
    """Ten pages carrying the same brief give one story with ten sightings, not ten stories."""
    docs = [brief_page(f"p{i}.txt", minutes=i) for i in range(10)]
    repo.store(docs[:4])
    repo.store(docs[4:])
    stories = repo.stories_list(limit=100)
    assert sorted(s.sightings for s in stories) == [10, 10, 10]
    assert len({story_of(repo, d, 1) for d in docs}) == 1


def test_redelivery_changes_no_story(repo: Repository) -> None:
    """A redelivered page is a duplicate: no new story, no new sighting, the same ids."""
    repo.store([brief_page("a.txt"), main_page("b.txt")])
    before = [(s.id, s.sightings) for s in repo.stories_list()]
    done = repo.store([brief_page("a.txt"), main_page("b.txt")])
    assert {d.outcome for d in done} == {"duplicate"}
    assert [(s.id, s.sightings) for s in repo.stories_list()] == before


def test_stories_are_never_renumbered(repo: Repository) -> None:
    """Later pages join existing stories; the ids given earlier stay what they were."""
    first = main_page("m.txt")
    repo.store([first])
    ids = (story_of(repo, first, 0), story_of(repo, first, 1))
    repo.store([brief_page(f"b{i}.txt", minutes=i) for i in range(3)])
    assert (story_of(repo, first, 0), story_of(repo, first, 1)) == ids


def test_versions_are_counted_in_order_and_the_newest_is_known(repo: Repository) -> None:
    """A "(2)" page is version 2 of the story; the story's newest article is that one."""
    v1 = main_page("v1.txt")
    v2 = page(
        "v2.txt",
        article(
            0,
            LEAD.replace("12 woningen", "14 woningen") + "\n" + REST + "\nHet vuur is onder controle.",
            role="main",
            headline="Grote brand in Zwolle (2)",
            headline_version=2,
        ),
        minutes=30,
    )
    repo.store([v1])
    repo.store([v2])
    assert story_of(repo, v1, 0) == story_of(repo, v2, 0)
    story = next(s for s in repo.stories_list() if s.id == story_of(repo, v1, 0))
    articles = repo.story_articles(story.id)
    assert [a.story_version for a in articles] == [1, 2]
    assert story.versions == 2 and story.newest_article_id == articles[1].id
    assert story.last_seen > story.first_seen


def test_entities_count_stories_unless_asked_for_mentions(repo: Repository) -> None:
    """A place in one brief seen on five pages is one story but five mentions."""
    repo.store([brief_page(f"p{i}.txt", minutes=i) for i in range(5)])
    zwolle = next(e for e in repo.top_entities(5) if e.name == "Zwolle")
    # The Zwolle brief and the DPA text are two stories; each of the five pages mentions Zwolle twice.
    assert (zwolle.stories, zwolle.mentions, zwolle.articles) == (2, 10, 10)
    assert repo.top_entities(5, by="mentions")[0].mentions == 10


def test_stories_filter_by_entity_and_time(repo: Repository) -> None:
    """`dropwire stories --entity/--since`: stories mentioning the entity, seen at or after the time."""
    repo.store([brief_page("a.txt")])
    assert {s.place for s in repo.stories_list(entity="zwolle")} == {"Zwolle"}
    assert len(repo.stories_list(entity="zwolle")) == 2
    assert repo.stories_list(since=RECEIVED + timedelta(days=1)) == []


def test_articles_carry_their_story(repo: Repository) -> None:
    """Every stored article reads back with its story id and version."""
    repo.store([brief_page("a.txt"), main_page("b.txt")])
    assert all(a.story_id is not None and a.story_version == 1 for a in repo.articles(limit=50))


def test_stories_off_stores_articles_without_one_and_rebuild_assigns_them(repo: Repository) -> None:
    """With assignment off, rows have no story; `rebuild` assigns them all as the batch path would."""
    plain = Repository(repo.engine, stories=False)
    docs = [brief_page("a.txt"), main_page("b.txt", minutes=1), brief_page("c.txt", minutes=2)]
    plain.store(docs)
    assert repo.unassigned_articles() == 8
    seen: list[int] = []
    result = repo.rebuild_stories(chunk=3, progress=lambda p: seen.append(p.assigned))
    assert (result.assigned, result.total, seen) == (8, 8, [3, 6, 8])
    assert story_of(repo, docs[0], 1) == story_of(repo, docs[1], 0) == story_of(repo, docs[2], 1)
    assert repo.rebuild_stories().assigned == 0  # idempotent: nothing left to do


def brief_correction_and_first_version() -> tuple[DocumentEnriched, DocumentEnriched, DocumentEnriched]:
    """A brief, a correction whose lead was rewritten (it matches neither alone), and the first version
    that ties both to one item: the pages of the out-of-order merge tests."""
    brief = page("brief.txt", article(0, LEAD))
    v2 = page(
        "v2.txt",
        article(
            0,
            "Een felle brand heeft zondag een pand in het centrum van Zwolle verwoest. Niemand raakte gewond.",
            role="main",
            headline="Zwolse binnenstad getroffen door brand (2)",
            headline_version=2,
            preamble="N i e u w bericht, vervangt: Grote brand in Zwolle",
        ),
        minutes=10,
    )
    return brief, v2, main_page("v1.txt", minutes=20)


def test_an_article_seen_out_of_order_merges_the_two_stories_it_belongs_to(repo: Repository) -> None:
    """A brief, then a correction with a rewritten lead (linked to nothing yet), then the first version
    that ties both together: one story; the other row points to it and is no longer listed."""
    brief, v2, v1 = brief_correction_and_first_version()
    repo.store([brief])
    repo.store([v2])
    assert story_of(repo, brief, 0) != story_of(repo, v2, 0)
    repo.store([v1])
    joined = story_of(repo, brief, 0)
    assert story_of(repo, v2, 0) == story_of(repo, v1, 0) == joined
    listed = {s.id: s for s in repo.stories_list(limit=50)}
    assert joined in listed and listed[joined].sightings == 3 and listed[joined].versions == 2
    with repo.engine.connect() as conn:
        merged = conn.execute(
            sa.text("SELECT id, merged_into FROM stories WHERE merged_into IS NOT NULL")
        ).all()
    assert [m.merged_into for m in merged] == [joined] and merged[0].id not in listed


def test_an_article_that_ties_two_new_stories_in_its_own_batch_leaves_one(repo: Repository) -> None:
    """The same three pages in one batch: the brief and the correction each start a story, the first
    version then shows both to be one. Every article ends in that story (on PostgreSQL the
    correction's row was already sent with the other story's id and is moved), which is listed
    with all three sightings; the story it would have been is never written."""
    brief, v2, v1 = brief_correction_and_first_version()
    repo.write([brief, v2, v1])
    joined = story_of(repo, brief, 0)
    assert story_of(repo, v2, 0) == story_of(repo, v1, 0) == joined
    listed = {s.id: (s.sightings, s.versions) for s in repo.stories_list(limit=50)}
    assert listed[joined] == (3, 2)
    with repo.engine.connect() as conn:
        stories = set(conn.execute(sa.text("SELECT id FROM stories")).scalars())
        used = set(conn.execute(sa.text("SELECT story_id FROM articles")).scalars())
    assert stories == used == set(listed)  # no article left on the story it would have been
