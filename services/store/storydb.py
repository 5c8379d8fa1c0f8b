# Over 400 lines on purpose: one class, the story index, whose look-up, plan and write steps share one batch plan.
"""Story assignment inside the store's transaction: look candidates up in the index, match, write.

``StoryIndex.plan`` takes the articles of a batch (in a fixed order) and decides each one's story: one
look-up of all their index keys in ``story_keys``, one read of the articles behind the keys found (the
only texts compared: never the whole table), then ``services.store.stories.matches`` per article against
those and against the batch's earlier articles. Articles that match nothing start a new story.

Writing is three steps around the caller's article insert: ``create_stories`` (the new stories, so
articles can reference them), then, once the articles have ids, ``finish``: the touched stories' figures
(sightings, first/last seen, fullest and newest article, versions) as relative updates, and the new index
keys.

Two workers at once (PostgreSQL): a batch with documents takes a transaction-level advisory lock
(``lock``) before it writes anything, so story assignment is serialised between workers (the signatures,
the CPU-heavy part, are computed before the transaction). As a second line of defence, ``story_keys.key``
is the primary key and keys are inserted with ``ON CONFLICT DO NOTHING``. A key another transaction
inserted but has not committed makes this insert wait for it; once it commits, the key comes back as not
inserted. A key that was not there at look-up time but is now means another worker started (or extended) a
story for the same item while this batch was being matched: ``StoryRace`` is raised, the caller rolls the
whole batch back and runs it again, and the second run finds the other worker's story. Keys and story
updates go in sorted order, so two batches always take their row locks in the same order.
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
from services.store.pgfast import copy_keys
from services.store.stories import Profile, Relation, matches, profile, slots
from shared.errors import TransientError
from shared.logging import get_logger

log = get_logger(__name__)

# Keys per look-up statement on SQLite (bound-parameter limit); PostgreSQL sends one array.
LOOKUP_CHUNK = 500
# Arbitrary constant key of the advisory lock that serialises story assignment between workers.
STORY_LOCK_KEY = 0x73746F72  # "stor"
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

    def resolve(self, story: int) -> int:
        """The story ``story`` is now part of (itself unless merged)."""
        while story in self.parent:
            story = self.parent[story]
        return story

    def story_of(self, index: int) -> int:
        ref = self.resolve(self.assignments[index].story)
        return self.story_ids.get(ref, ref)

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
        wanted = sorted({k for p in batch for k in p.profile.lookup_keys()})
        stored_keys = self._lookup_keys(conn, wanted)
        candidates = self._load_articles(conn, sorted({a for _, a in stored_keys.values()}))
        versions = self._story_versions(conn, sorted({c.story for c in candidates.values()}))

        plan = Plan(assignments=[])
        local_keys: dict[int, int] = {}  # key → index of the batch article that brought it
        local: list[_Candidate] = []
        for index, pending in enumerate(batch):
            found: dict[int, _Candidate] = {}
            for key in pending.profile.lookup_keys():
                if key in stored_keys:
                    article = stored_keys[key][1]
                    if article in candidates:
                        found[article] = candidates[article]
                elif key in local_keys:
                    c = local[local_keys[key]]
                    found[c.article] = c
            related = matches(
                pending.profile, [(plan.resolve(c.story), c.article, c.profile) for c in found.values()]
            )
            if not related:
                ref = _NEW + len(plan.new_stories)
                plan.new_stories.append(ref)
                assignment = Assignment(ref, pending.profile.version_mark or 1, "new")
            else:
                story = self._join(plan, versions, {m.story for m in related})
                best = related[0]
                if best.relation is Relation.VERSION:
                    version = pending.profile.version_mark or versions.get(story, 1) + 1
                    assignment = Assignment(story, version, "version")
                else:
                    assignment = Assignment(story, found[best.article].version, "repeat")
            versions[assignment.story] = max(versions.get(assignment.story, 0), assignment.version)
            plan.assignments.append(assignment)
            # A negative local article number: never equal to a stored id.
            local.append(_Candidate(assignment.story, -1 - index, pending.profile, assignment.version))
            self._claim_keys(pending.profile, index, stored_keys, local_keys, local, plan)
        plan.new_stories = [ref for ref in plan.new_stories if ref not in plan.parent]
        return plan

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

    def _lookup_keys(self, conn: Connection, keys: list[int]) -> dict[int, tuple[int, int]]:
        if not keys:
            return {}
        if self.postgres:
            rows = conn.execute(
                sa.text("SELECT key, story_id, article_id FROM story_keys WHERE key = ANY(:keys)"),
                {"keys": keys},
            )
            return {k: (s, a) for k, s, a in rows}
        out: dict[int, tuple[int, int]] = {}
        for start in range(0, len(keys), LOOKUP_CHUNK):
            chunk = keys[start : start + LOOKUP_CHUNK]
            query = sa.select(StoryKey.key, StoryKey.story_id, StoryKey.article_id).where(
                StoryKey.key.in_(chunk)
            )
            out.update({k: (s, a) for k, s, a in conn.execute(query)})
        return out

    def _load_articles(self, conn: Connection, ids: list[int]) -> dict[int, _Candidate]:
        out: dict[int, _Candidate] = {}
        a = ArticleRow
        for start in range(0, len(ids), LOOKUP_CHUNK):
            query = sa.select(
                a.id,
                a.story_id,
                a.story_version,
                a.role,
                a.place,
                a.place_raw,
                a.headline,
                a.headline_version,
                a.preamble,
                a.body,
            ).where(a.id.in_(ids[start : start + LOOKUP_CHUNK]), a.story_id.is_not(None))
            for r in conn.execute(query):
                out[r.id] = _Candidate(
                    story=r.story_id,
                    article=r.id,
                    profile=profile(
                        role=r.role,
                        place=r.place or r.place_raw,
                        headline=r.headline,
                        headline_version=r.headline_version,
                        preamble=r.preamble,
                        body=r.body,
                    ),
                    version=r.story_version or 1,
                )
        return out

    @staticmethod
    def _story_versions(conn: Connection, ids: list[int]) -> dict[int, int]:
        out: dict[int, int] = {}
        for start in range(0, len(ids), LOOKUP_CHUNK):
            query = sa.select(Story.id, Story.versions).where(Story.id.in_(ids[start : start + LOOKUP_CHUNK]))
            out.update({i: v for i, v in conn.execute(query)})
        return out

    # ------------------------------------------------------------------ writing

    def create_stories(self, conn: Connection, batch: Sequence[Pending], plan: Plan) -> None:
        """Insert the plan's new stories (empty figures: ``finish`` adds every article, old or new)."""
        if not plan.new_stories:
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
        for index, pending in enumerate(batch):
            story = plan.story_of(index)
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
        conn.execute(_figures(), [touched[k] for k in sorted(touched)])

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
        values = [
            {"key": key, "story_id": plan.story_of(index), "article_id": article_ids[index]}
            for key, index in sorted(plan.keys)
        ]
        inserted = copy_keys(conn, values) if self.postgres else _insert_keys_sqlite(conn, values)
        lost = len(values) - inserted
        if lost:
            raise StoryRace("another transaction indexed the same keys", keys=lost)


def _insert_keys_sqlite(conn: Connection, values: list[dict[str, Any]]) -> int:
    stmt = sqlite.insert(StoryKey).on_conflict_do_nothing(index_elements=["key"]).returning(StoryKey.key)
    return len(conn.execute(stmt, values).all())
