"""The story evaluation docs/explanation/stories.md reports: pairwise precision and recall >= 0.99 on the generated
labelled corpus and on the hand-labelled real-layout pages (seeds included when the team folder is there)."""

from __future__ import annotations

from pathlib import Path

import pytest

from dropwire.storycorpus import generate_stories
from dropwire.storyeval import corpus_pages, evaluate, labelled_pages, pairwise
from tests.conftest import FIXTURES

pytestmark = pytest.mark.unit

STORIES = FIXTURES / "stories"


def test_pairwise_scores_count_pairs() -> None:
    """Three articles of one item split 2+1: 1 of 3 true pairs found; a wrong pair costs precision."""
    scores = pairwise(["a", "a", "a", "b"], [1, 1, 2, 2])
    assert (scores.true_pairs, scores.predicted_pairs, scores.agreeing_pairs) == (3, 2, 1)
    assert scores.recall == pytest.approx(1 / 3) and scores.precision == pytest.approx(1 / 2)


def test_the_generator_labels_every_article_and_repeats_itself() -> None:
    """Same seed, same bytes and labels; pages carry repeats, versions and briefs of earlier items."""
    a, b = list(generate_stories(80, seed=3)), list(generate_stories(80, seed=3))
    assert [(f.data, f.labels) for f in a] == [(f.data, f.labels) for f in b]
    labels = [label for f in a for label in f.labels]
    assert len({label.item for label in labels}) < len(labels) / 2  # items come back on other pages
    assert max(label.version for label in labels) >= 2


def test_generated_corpus_scores_at_least_099(tmp_path: Path) -> None:
    """Repeats, briefs in both orders, versions, near-identical edits and same-event items of other
    agencies: the store groups them as the labels say."""
    scores = evaluate(corpus_pages(600, seed=11), f"sqlite:///{tmp_path / 'eval.db'}")
    assert scores.true_pairs > 500
    assert scores.precision >= 0.99 and scores.recall >= 0.99, scores.as_dict()


def test_hand_labelled_pages_score_at_least_099(tmp_path: Path) -> None:
    """The project's real-layout pages (fixture pages included) are grouped as labelled."""
    pages = labelled_pages(STORIES)
    scores = evaluate(pages, f"sqlite:///{tmp_path / 'eval.db'}")
    assert scores.true_pairs >= 20
    assert scores.precision >= 0.99 and scores.recall >= 0.99, scores.as_dict()


def test_hand_labelled_pages_with_the_seeds_score_at_least_099(seeds_dir: Path, tmp_path: Path) -> None:
    """With pages built from the seeds (the two NEW YORK items of one seed stay apart) as well."""
    pages = labelled_pages(STORIES, seeds_dir)
    assert any(p.name.startswith("seed_") for p in pages)
    scores = evaluate(pages, f"sqlite:///{tmp_path / 'eval.db'}")
    assert scores.precision >= 0.99 and scores.recall >= 0.99, scores.as_dict()
