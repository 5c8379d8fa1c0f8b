# Over 400 lines on purpose: one class, the story index, whose look-up, plan and write steps share one batch plan.
"""Story assignment inside the store's transaction: look candidates up in the index, match, write.

``StoryIndex.plan`` takes the articles of a batch (in a fixed order) and decides each one's story. First
a look-up of their exact keys alone: an article whose exact key is stored repeats the article behind it
(its story and version are all it needs: no text is read). For the others, one look-up of all their
index keys in ``story_keys``, one read of the articles behind the keys found (the only texts compared:
never the whole table), then ``services.store.stories.matches`` per article against those and against
the batch's earlier articles. Articles that match nothing start a new story. The keys come from each
article's story print (``shared.storyprint``, made in enrich); every look-up is one statement with the
values as one array (PostgreSQL) or in chunks (SQLite).

Writing is three steps around the caller's article insert: ``create_stories`` (the new stories' ids,
so articles can reference them; SQLite inserts the rows there), then, once the articles have ids,
``finish``: the touched stories' figures (sightings, first/last seen, fullest and newest article,
versions) as relative updates (PostgreSQL: the new stories inserted complete and the stored ones updated
in one statement), and the new index keys (one statement; COPY on PostgreSQL).

Two workers at once (PostgreSQL): a batch with documents takes a transaction-level advisory lock
(``lock``) before it writes anything, so story assignment is serialised between workers (the signatures,
the CPU-heavy part, are computed before the transaction). As a second line of defence, ``story_keys.key``
is the primary key. A key another transaction inserted but has not committed makes this insert wait for
it; once it commits, the key is refused (PostgreSQL: the COPY fails on the primary key; SQLite: ``ON
CONFLICT DO NOTHING`` leaves it out). A key that was not there at look-up time but is now means another
writer started (or extended) a story for the same item while this batch was being matched: ``StoryRace``
is raised, the caller rolls the whole batch back and runs it again, and the second run finds the other
writer's story. Story rows and
keys are only written under the story lock, so two batches never wait on each other's rows there.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import sqlite
from sqlalchemy.engine import Connection

from services.store.models import ArticleRow, Story, StoryKey
from services.store.pgfast import copy_keys, select_by_ids, story_ids, upsert_stories
from services.store.stories import Profile, Relation, matches, profile, slots
from shared.errors import TransientError
from shared.logging import get_logger

log = get_logger(__name__)

# Keys per look-up statement on SQLite (bound-parameter limit); PostgreSQL sends one array.
LOOKUP_CHUNK = 500
# Arbitrary constant key of the advisory lock that serialises story assignment between workers.
STORY_LOCK_KEY = 0x73746F72  # "stor"
# The look-ups, by one column's values (see ``StoryIndex._rows``): single-table statements.
# Each key with what its look-up needs besides: an exact key the version of the article behind it (a
# repeat is that version), any other key its story's version count. Joined, so one round trip each.
_EXACT_KEYS = (
    "SELECT k.key, k.story_id, a.story_version FROM story_keys k"
    " LEFT JOIN articles a ON a.id = k.article_id WHERE k.key {}"
)
_KEYS = (
    "SELECT k.key, k.story_id, k.article_id, s.versions FROM story_keys k"
    " LEFT JOIN stories s ON s.id = k.story_id WHERE k.key {}"
)
_ARTICLES = (
    "SELECT id, story_id, story_version, role, place, place_raw, headline, headline_version, preamble,"
    " body FROM articles WHERE story_id IS NOT NULL AND id {}"
)
# Local references of the batch's new stories sort after every real id (ties go to the oldest story).
_NEW = 1 << 62


class StoryRace(TransientError):
    """Another transaction started the same story while this batch was matched: run the batch again."""

    reason = "story_race"


@dataclass
class Pending:
    """One article waiting for its story."""

    profile: Profile
    seen: datetime  # publication time, or its document's receipt
    chars: int  # body length: the fullest article is the story's reference text
    headline: str | None  # as written, for the story's headline
    place: str | None  # as shown for the story


@dataclass
class Assignment:
    story: int  # a real id, or a local reference >= _NEW until ``create_stories``
    version: int
    kind: str  # new | repeat | version (the metric's label)


@dataclass
class Plan:
    assignments: list[Assignment]
    new_stories: list[int] = field(default_factory=list)  # local references, in creation order
    keys: list[tuple[int, int]] = field(default_factory=list)  # (key, index into the batch) to insert
    story_ids: dict[int, int] = field(default_factory=dict)  # local reference → real id
    parent: dict[int, int] = field(default_factory=dict)  # merged story → the story it joined
    _stories: list[int] | None = None  # ``stories()``, once worked out

    def resolve(self, story: int) -> int:
        """The story ``story`` is now part of (itself unless merged)."""
        while story in self.parent:
            story = self.parent[story]
        return story

    def story_of(self, index: int) -> int:
        ref = self.resolve(self.assignments[index].story)
        return self.story_ids.get(ref, ref)

    def stories(self) -> list[int]:
        """Each batch article's story id, in batch order: ``story_of`` of every index, worked out once
        (a batch writes thousands of keys), so only after ``create_stories`` gave the new ids."""
        if self._stories is None:
            real: dict[int, int] = {}
            for a in self.assignments:
                if a.story not in real:
                    ref = self.resolve(a.story)
                    real[a.story] = self.story_ids.get(ref, ref)
            self._stories = [real[a.story] for a in self.assignments]
        return self._stories

    def merged(self) -> list[tuple[int, int]]:
        """Stored stories merged into another: (merged, joined), by id."""
        return sorted((s, self.resolve(s)) for s in self.parent if s < _NEW)

    def counts(self) -> dict[str, int]:
        out = {"new": 0, "repeat": 0, "version": 0}
        for a in self.assignments:
            out[a.kind] += 1
        return out


@dataclass
class _Candidate:
    story: int
    article: int
    profile: Profile
    version: int


@dataclass
class _Twin:
    """A stored article with the same exact key as a new one: its story and version."""

    story: int
    version: int


def _figures() -> Any:
    """UPDATE of one story's figures by what joined it (relative: concurrent updates add up)."""
    s = Story.__table__.c

    def p(name: str) -> Any:  # typed, so SQLite stores times as the DateTime type does
        types = {"first": s.first_seen.type, "last": s.last_seen.type, "hl": s.headline.type}
        return sa.bindparam(name, type_=types.get(name, sa.Integer() if name != "pl" else sa.Text()))

    stmt = (
        sa.update(Story)
        .where(s.id == p("story"))
        .values(
            sightings=s.sightings + p("n"),
            first_seen=sa.case((p("first") < s.first_seen, p("first")), else_=s.first_seen),
            last_seen=sa.case((p("last") > s.last_seen, p("last")), else_=s.last_seen),
            fullest_article_id=sa.case(
                (p("chars") > s.fullest_chars, p("fullest")), else_=s.fullest_article_id
            ),
            fullest_chars=sa.case((p("chars") > s.fullest_chars, p("chars")), else_=s.fullest_chars),
            newest_article_id=sa.case(
                (p("version") >= s.newest_version, p("newest")), else_=s.newest_article_id
            ),
            newest_version=sa.case((p("version") > s.newest_version, p("version")), else_=s.newest_version),
            versions=sa.case((p("version") > s.versions, p("version")), else_=s.versions),
            headline=sa.func.coalesce(s.headline, p("hl")),
            place=sa.func.coalesce(s.place, p("pl")),
        )
    )
    return stmt


class StoryIndex:
    """Story look-ups and writes on one connection's dialect."""

    def __init__(self, dialect: str) -> None:
        self.postgres = dialect == "postgresql"

    def lock(self, conn: Connection) -> None:
        """PostgreSQL: hold the story lock until this transaction ends (SQLite has one writer anyway)."""
        if self.postgres:
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": STORY_LOCK_KEY})

    # ------------------------------------------------------------------ matching

    def plan(self, conn: Connection, batch: Sequence[Pending]) -> Plan:
        # First the exact keys alone: an article whose exact key is stored repeats the article behind
        # it, and that one's story and version are all it needs (no other key, no text). Repeats are
        # most of a wire (every page carries the same sidebar).
        repeats = self._lookup_exact(conn, sorted({p.profile.exact for p in batch}))
        rest = [p for p in batch if p.profile.exact not in repeats]
        stored_keys, versions = self._lookup_keys(
            conn, sorted({k for p in rest for k in p.profile.lookup_keys()})
        )
        candidates = self._load_articles(conn, sorted({article for _, article in stored_keys.values()}))

        plan = Plan(assignments=[])
        local_keys: dict[int, int] = {}  # key → index of the batch article that brought it
        local: list[_Candidate] = []
        for index, pending in enumerate(batch):
            exact = pending.profile.exact
            twin: _Twin | _Candidate | None = repeats.get(exact)
            if twin is None and exact in local_keys:
                twin = local[local_keys[exact]]
            if twin is not None:
                # Its twin holds (or could not take) every key it has: nothing to claim.
                assignment = Assignment(plan.resolve(twin.story), twin.version, "repeat")
            else:
                assignment = self._match(pending, stored_keys, candidates, local_keys, local, plan, versions)
            versions[assignment.story] = max(versions.get(assignment.story, 0), assignment.version)
            plan.assignments.append(assignment)
            # A negative local article number: never equal to a stored id.
            local.append(_Candidate(assignment.story, -1 - index, pending.profile, assignment.version))
            if twin is None:
                self._claim_keys(pending.profile, index, stored_keys, local_keys, local, plan)
        plan.new_stories = [ref for ref in plan.new_stories if ref not in plan.parent]
        return plan

    def _match(
        self,
        pending: Pending,
        stored_keys: dict[int, tuple[int, int]],
        candidates: dict[int, _Candidate],
        local_keys: dict[int, int],
        local: list[_Candidate],
        plan: Plan,
        versions: dict[int, int],
    ) -> Assignment:
        """Compare with the candidates behind the article's keys: join the story (or stories) it
        relates to, or start a new one."""
        found: dict[int, _Candidate] = {}
        for key in pending.profile.lookup_keys():
            if key in stored_keys:
                c = candidates.get(stored_keys[key][1])
            elif key in local_keys:
                c = local[local_keys[key]]
            else:
                continue
            if c is not None:
                found[c.article] = c
        related = matches(
            pending.profile, [(plan.resolve(c.story), c.article, c.profile) for c in found.values()]
        )
        if not related:
            ref = _NEW + len(plan.new_stories)
            plan.new_stories.append(ref)
            return Assignment(ref, pending.profile.version_mark or 1, "new")
        story = self._join(plan, versions, {m.story for m in related})
        best = related[0]
        if best.relation is Relation.VERSION:
            return Assignment(story, pending.profile.version_mark or versions.get(story, 1) + 1, "version")
        return Assignment(story, found[best.article].version, "repeat")

    @staticmethod
    def _join(plan: Plan, versions: dict[int, int], stories: set[int]) -> int:
        """The story an article related to all of ``stories`` joins: the oldest. The others are merged
        into it (an article seen out of order can show two stories to be one item)."""
        target = min(stories)
        for other in sorted(stories - {target}):
            plan.parent[other] = target
            versions[target] = max(versions.get(target, 0), versions.get(other, 0))
        return target

    @staticmethod
    def _claim_keys(
        p: Profile,
        index: int,
        stored_keys: dict[int, tuple[int, int]],
        local_keys: dict[int, int],
        local: list[_Candidate],
        plan: Plan,
    ) -> None:
        """The index entries this article adds: each key its story does not hold yet, in the first free
        slot (band keys have one slot: a band shared by two stories stays with the first)."""
        story = plan.resolve(plan.assignments[index].story)
        named = set(p.named_keys())
        for key in p.index_keys():
            for slot in slots(key) if key in named else (key,):
                if slot in stored_keys:
                    owner = stored_keys[slot][0]
                elif slot in local_keys:
                    owner = local[local_keys[slot]].story
                else:
                    local_keys[slot] = index
                    plan.keys.append((slot, index))
                    break
                if plan.resolve(owner) == story:
                    break

    def _lookup_exact(self, conn: Connection, keys: list[int]) -> dict[int, _Twin]:
        """The stored articles behind ``keys`` (exact keys): key → its story and version."""
        return {
            key: _Twin(story, version or 1) for key, story, version in self._rows(conn, _EXACT_KEYS, keys)
        }

    def _lookup_keys(
        self, conn: Connection, keys: list[int]
    ) -> tuple[dict[int, tuple[int, int]], dict[int, int]]:
        """The stored entries of ``keys`` (key → story, article) and their stories' version counts."""
        found: dict[int, tuple[int, int]] = {}
        versions: dict[int, int] = {}
        for key, story, article, count in self._rows(conn, _KEYS, keys):
            found[key] = (story, article)
            if count is not None:
                versions[story] = count
        return found, versions

    def _rows(self, conn: Connection, query: str, values: list[int]) -> list[Any]:
        """``query`` (``... WHERE <column> {}``) for the rows whose column is one of ``values``.

        PostgreSQL: one array parameter, sent as its text form (psycopg's per-element dump of a list
        of ints, and SQLAlchemy's handling of the same array in an expression, took seconds a batch,
        profiled), on the driver's cursor: plain tuples, as SQLAlchemy's result rows cost more than
        the look-up (profiled). SQLite: chunks of ``LOOKUP_CHUNK`` (its bound-parameter limit)."""
        if not values:
            return []
        if self.postgres:
            return select_by_ids(conn, query.format("= ANY(CAST(%s AS bigint[]))"), values)
        statement = sa.text(query.format("IN :values")).bindparams(sa.bindparam("values", expanding=True))
        rows: list[Any] = []
        for start in range(0, len(values), LOOKUP_CHUNK):
            rows.extend(conn.execute(statement, {"values": values[start : start + LOOKUP_CHUNK]}))
        return rows

    def _load_articles(self, conn: Connection, ids: list[int]) -> dict[int, _Candidate]:
        """The stored articles ``ids`` with their stories, versions and profiles (to compare with)."""
        out: dict[int, _Candidate] = {}
        for article, story, version, role, place, place_raw, headline, mark, preamble, body in self._rows(
            conn, _ARTICLES, ids
        ):
            out[article] = _Candidate(
                story=story,
                article=article,
                profile=profile(
                    role=role,
                    place=place or place_raw,
                    headline=headline,
                    headline_version=mark,
                    preamble=preamble,
                    body=body,
                ),
                version=version or 1,
            )
        return out

    # ------------------------------------------------------------------ writing

    def create_stories(self, conn: Connection, batch: Sequence[Pending], plan: Plan) -> None:
        """Give the plan's new stories their ids, so articles can reference them. SQLite: insert them
        (empty figures: ``finish`` adds every article, old or new). PostgreSQL: only take the ids from
        the table's sequence; ``finish`` inserts the rows with their figures in one statement."""
        if not plan.new_stories:
            return
        if self.postgres:
            ids = story_ids(conn, len(plan.new_stories))
            plan.story_ids = dict(zip(plan.new_stories, ids, strict=True))
            return
        first: dict[int, Pending] = {}
        for pending, assignment in zip(batch, plan.assignments, strict=True):
            first.setdefault(assignment.story, pending)
        values = [
            {
                "headline": first[ref].headline,
                "place": first[ref].place,
                "first_seen": first[ref].seen,
                "last_seen": first[ref].seen,
                "sightings": 0,
                "versions": 0,
                "fullest_chars": -1,
                "newest_version": 0,
            }
            for ref in plan.new_stories
        ]
        stmt = sa.insert(Story).returning(Story.id, sort_by_parameter_order=True)
        ids = [row[0] for row in conn.execute(stmt, values)]
        plan.story_ids = dict(zip(plan.new_stories, ids, strict=True))

    def finish(
        self, conn: Connection, batch: Sequence[Pending], plan: Plan, article_ids: Sequence[int]
    ) -> None:
        """Merges, the touched stories' figures, then the new index keys (``StoryRace`` if another
        worker won)."""
        self._merge(conn, plan)
        self._update_stories(conn, batch, plan, article_ids)
        self._insert_keys(conn, plan, article_ids)

    def _update_stories(
        self, conn: Connection, batch: Sequence[Pending], plan: Plan, article_ids: Sequence[int]
    ) -> None:
        touched: dict[int, dict[str, Any]] = {}
        stories = plan.stories()
        for index, pending in enumerate(batch):
            story = stories[index]
            version = plan.assignments[index].version
            article = article_ids[index]
            t = touched.get(story)
            if t is None:
                t = touched[story] = {
                    "story": story,
                    "n": 0,
                    "first": pending.seen,
                    "last": pending.seen,
                    "fullest": article,
                    "chars": pending.chars,
                    "newest": article,
                    "version": version,
                    "hl": pending.headline,
                    "pl": pending.place,
                }
            t["n"] += 1
            t["first"] = min(t["first"], pending.seen)
            t["last"] = max(t["last"], pending.seen)
            if pending.chars > t["chars"]:
                t["fullest"], t["chars"] = article, pending.chars
            if version >= t["version"]:
                t["newest"], t["version"] = article, version
            t["hl"] = t["hl"] or pending.headline
            t["pl"] = t["pl"] or pending.place
        if not touched:
            return
        figures = [touched[k] for k in sorted(touched)]
        if not self.postgres:
            conn.execute(_figures(), figures)
            return
        upsert_stories(conn, figures)

    @staticmethod
    def _merge(conn: Connection, plan: Plan) -> None:
        """Stored stories the batch showed to be one item: their articles, keys and figures move to the
        story they joined; the merged row stays, pointing there (``merged_into``), so its id still leads
        somewhere."""
        for merged, joined in plan.merged():
            row = conn.execute(sa.select(Story.__table__).where(Story.id == merged)).one()
            conn.execute(sa.update(ArticleRow).where(ArticleRow.story_id == merged).values(story_id=joined))
            conn.execute(sa.update(StoryKey).where(StoryKey.story_id == merged).values(story_id=joined))
            figures = {
                "story": joined,
                "n": row.sightings,
                "first": row.first_seen,
                "last": row.last_seen,
                "fullest": row.fullest_article_id,
                "chars": row.fullest_chars,
                "newest": row.newest_article_id,
                "version": row.newest_version,
                "hl": row.headline,
                "pl": row.place,
            }
            conn.execute(_figures(), [figures])
            conn.execute(sa.update(Story).where(Story.id == merged).values(merged_into=joined, sightings=0))
            log.info("store.stories_merged", merged=merged, joined=joined)

    def _insert_keys(self, conn: Connection, plan: Plan, article_ids: Sequence[int]) -> None:
        if not plan.keys:
            return
        stories = plan.stories()
        rows = [(key, stories[index], article_ids[index]) for key, index in sorted(plan.keys)]
        if self.postgres:
            if not copy_keys(conn, rows):
                raise StoryRace("another transaction indexed one of the same keys")
            return
        lost = len(rows) - _insert_keys_sqlite(conn, rows)
        if lost:
            raise StoryRace("another transaction indexed the same keys", keys=lost)


def _insert_keys_sqlite(conn: Connection, rows: list[tuple[int, int, int]]) -> int:
    """SQLite: insert the keys that are not indexed yet; how many went in."""
    stmt = sqlite.insert(StoryKey).on_conflict_do_nothing(index_elements=["key"]).returning(StoryKey.key)
    values = [{"key": key, "story_id": story, "article_id": article} for key, story, article in rows]
    return len(conn.execute(stmt, values).all())
