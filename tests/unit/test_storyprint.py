"""Story prints (``shared.storyprint``): computed in enrich, the same keys the store would compute."""

from __future__ import annotations

import random

import numpy as np
import pytest
from datasketch import MinHash

from services.enrich.enrichment import enrich
from services.store.stories import profile
from shared.messages import Article, Dateline, DocumentEnriched, Place, StoryPrint
from shared.storyprint import (
    MINHASH_SEED,
    PERMUTATIONS,
    PRINT_SCHEME,
    SHINGLE,
    minhash,
    story_print,
    with_story_print,
)
from tests.documents import PassThrough, received_text
from tests.unit.test_enrichment import PAGE

pytestmark = pytest.mark.unit


def datasketch_values(tokens: tuple[str, ...]) -> np.ndarray:
    """The reference: datasketch's own MinHash with the scheme, seed and hash function the print names."""
    import zlib

    size = min(SHINGLE, len(tokens))
    shingles = {" ".join(tokens[i : i + size]).encode() for i in range(len(tokens) - size + 1)}
    sketch = MinHash(num_perm=PERMUTATIONS, seed=MINHASH_SEED, hashfunc=zlib.crc32, scheme="affine32")
    sketch.update_batch(list(shingles))
    return np.asarray(sketch.hashvalues, dtype=np.uint32)


@pytest.mark.parametrize("length", [1, 2, 3, 4, 40, 400])
def test_the_print_minhash_is_datasketchs_bit_for_bit(length: int) -> None:
    """Computed with numpy (importing datasketch in enrich would load scipy), but the same values."""
    rnd = random.Random(length)
    tokens = tuple(f"woord{rnd.randrange(200)}" for _ in range(length))
    assert minhash(tokens).tolist() == datasketch_values(tokens).tolist()


def test_enrich_sends_every_article_with_its_story_print() -> None:
    """The print is made in enrich, from the article enrich sends (a per-article function)."""
    result = enrich(received_text(PAGE), PassThrough())
    assert isinstance(result, DocumentEnriched)
    for article in result.articles:
        assert article.story_print == story_print(article)
        assert article.story_print is not None and article.story_print.scheme == PRINT_SCHEME


def test_the_print_survives_the_wire_and_older_messages_have_none() -> None:
    """A message from an older enrich (no print) still decodes; the store then computes the same keys."""
    article = Article(
        seq=0,
        role="main",
        headline="Nieuwe brug over de IJssel geopend",
        dateline=Dateline(place="ZWOLLE", resolved=Place(name="Zwolle", country="NL")),
        body="In Zwolle is dinsdag een nieuwe fietsbrug over de IJssel in gebruik genomen.",
    )
    printed = with_story_print(article)
    assert Article.model_validate_json(printed.model_dump_json()) == printed
    assert article.story_print is None
    fields = {
        "role": "main",
        "place": "Zwolle",
        "headline": article.headline,
        "headline_version": None,
        "preamble": None,
        "body": article.body,
    }
    from_store = profile(**fields)  # type: ignore[arg-type]
    from_enrich = profile(**fields, story_print=printed.story_print)  # type: ignore[arg-type]
    assert from_store.print == printed.story_print
    assert from_enrich.index_keys() == from_store.index_keys()


def test_a_print_of_another_scheme_is_recomputed() -> None:
    """Keys of another scheme would not match the index: the store computes its own instead."""
    stale = StoryPrint(scheme=PRINT_SCHEME + 1, named=(1,), bands=(2,), exact=3)
    fields = {"role": "brief", "place": None, "headline": None, "headline_version": None, "preamble": None}
    p = profile(**fields, body="Een korte tekst van acht woorden lang hier.", story_print=stale)  # type: ignore[arg-type]
    assert p.print != stale and p.print.scheme == PRINT_SCHEME
