"""``dropwire stories rebuild``: assign a story to every stored article that has none, in chunks."""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from services.store.batch import classify_error, racing
from services.store.models import ArticleRow, Document
from services.store.stories import profile
from services.store.storydb import Pending, StoryIndex, StoryRace
from services.store.times import aware
from services.store.views import RebuildProgress

# Articles per transaction of `dropwire stories rebuild`: progress is committed at least this often.
REBUILD_CHUNK = 500


class StoryRebuild:
    """The back-fill half of ``Repository`` (articles stored before stories existed)."""

    engine: Engine
    _index: StoryIndex

    def unassigned_articles(self) -> int:
        """Articles without a story (stored before stories existed, or with stories switched off)."""
        query = sa.select(sa.func.count()).select_from(ArticleRow).where(ArticleRow.story_id.is_(None))
        with self.engine.connect() as conn:
            return int(conn.execute(query).scalar_one())

    def rebuild_stories(
        self, chunk: int = REBUILD_CHUNK, progress: Callable[[RebuildProgress], None] | None = None
    ) -> RebuildProgress:
        """Assign a story to every article that has none, oldest first, ``chunk`` articles per transaction.

        Idempotent and resumable: assigned articles are never touched again (ids are never renumbered),
        so an interrupted run continues where it stopped. Safe beside running store workers.
        """
        total = self.unassigned_articles()
        state = RebuildProgress(0, total, 0)
        while True:
            try:
                done, created = racing(lambda: self._rebuild_chunk(chunk))
            except sa.exc.DBAPIError as exc:
                raise classify_error(exc, exc.orig, exc.connection_invalidated) from exc
            if done == 0:
                return state
            state = RebuildProgress(
                state.assigned + done, max(total, state.assigned + done), state.new_stories + created
            )
            if progress is not None:
                progress(state)

    def _rebuild_chunk(self, chunk: int) -> tuple[int, int]:
        a = ArticleRow
        query = (
            sa.select(
                a.id,
                a.role,
                a.place,
                a.place_raw,
                a.headline,
                a.headline_version,
                a.preamble,
                a.body,
                a.published_at,
                Document.received_at,
            )
            .join(Document, Document.id == a.document_id)
            .where(a.story_id.is_(None))
            .order_by(a.id)
            .limit(chunk)
        )
        with self.engine.begin() as conn:
            rows = conn.execute(query).all()
            if not rows:
                return 0, 0
            batch = [
                Pending(
                    profile=profile(
                        role=r.role,
                        place=r.place or r.place_raw,
                        headline=r.headline,
                        headline_version=r.headline_version,
                        preamble=r.preamble,
                        body=r.body,
                    ),
                    seen=aware(r.published_at or r.received_at),  # type: ignore[arg-type]
                    chars=len(r.body),
                    headline=r.headline,
                    place=r.place or r.place_raw,
                )
                for r in rows
            ]
            self._index.lock(conn)
            plan = self._index.plan(conn, batch)
            self._index.create_stories(conn, batch, plan)
            stmt = (
                sa.update(ArticleRow)
                .where(ArticleRow.id == sa.bindparam("aid"), ArticleRow.story_id.is_(None))
                .values(story_id=sa.bindparam("sid"), story_version=sa.bindparam("ver"))
            )
            values = [
                {"aid": r.id, "sid": plan.story_of(i), "ver": plan.assignments[i].version}
                for i, r in enumerate(rows)
            ]
            updated = conn.execute(stmt, values).rowcount
            if updated != len(values):  # another rebuild assigned some of them meanwhile: start over
                raise StoryRace("articles assigned by another process", articles=len(values) - updated)
            self._index.finish(conn, batch, plan, [r.id for r in rows])
            return len(rows), len(plan.new_stories)
