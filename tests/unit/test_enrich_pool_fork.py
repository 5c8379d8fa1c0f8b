"""Enrich's worker pool forks from a parent whose loaded objects the collector no longer traverses."""

from __future__ import annotations

import gc

import pytest

from services.enrich import pool

pytestmark = [pytest.mark.unit]


def test_the_parent_freezes_what_it_holds_before_the_first_fork() -> None:
    """Without the freeze every collection in a worker writes to the headers of the model's objects and
    copies their pages (enrich's PSS rose from about 370 to 430 MB over a backlog,
    ``scripts/memory_cycles.py --files 2500``); refrozen at every recycle, cyclic garbage would stay."""
    executor = pool.start_pool(1)
    try:
        frozen = gc.get_freeze_count()
        assert frozen > 0
        pool.start_pool(1).shutdown()  # a recycle's fresh pool freezes nothing more
        assert gc.get_freeze_count() == frozen
    finally:
        executor.shutdown()
        gc.unfreeze()
