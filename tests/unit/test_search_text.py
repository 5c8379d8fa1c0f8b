"""Dutch search terms: the index and the query stem alike, and no query text becomes FTS5 syntax."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.search_text import fts5_match, highlight_spans, query_stems, stems

pytestmark = pytest.mark.unit


def test_singular_and_plural_share_a_stem() -> None:
    """ "staking" and "stakingen" reduce to one stem, so either finds the other."""
    assert query_stems("staking") == query_stems("Stakingen") == stems("stakingen").split()


def test_query_stems_are_distinct_and_ordered() -> None:
    """Repeated words count once; the order of the query is kept."""
    assert query_stems("kabinet Kabinet staking") == [stems("kabinet"), stems("staking")]


def test_a_query_without_words_matches_nothing() -> None:
    """Punctuation only is no query at all (the console shows no results instead of an error)."""
    assert fts5_match(" ;-) ") is None


@given(st.text())
def test_fts5_match_is_only_quoted_terms(query: str) -> None:
    """Whatever the operator types, the MATCH expression is quoted terms joined by AND."""
    match = fts5_match(query)
    if match is not None:
        for term in match.split(" AND "):
            assert term.startswith('"') and term.endswith('"')
            assert '"' not in term[1:-1].replace('""', "")


def test_highlight_spans_mark_every_inflected_form() -> None:
    """Every word whose stem the query has is marked, whatever its inflection or case."""
    text = "Stakingen en een staking: de staker staakt."
    assert [text[a:b] for a, b in highlight_spans(text, "staking")] == ["Stakingen", "staking", "staakt"]
