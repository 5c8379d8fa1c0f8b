"""An article's story fingerprint: the normalised text and the index keys story matching looks it up by.

Computed once per article where the text is first read (enrich calls ``story_print`` for every article
it sends), so the store only looks the keys up and writes them; the store computes the same print itself
for a message without one (older producers). A pure function of one article: no state, any batching.

The keys (64-bit, a PostgreSQL BIGINT) are stored in ``story_keys``, so they must be the same in every
process and every release: a change of any constant here needs ``PRINT_SCHEME`` bumped (a print of
another scheme is recomputed by the store) and ``dropwire stories rebuild`` on a database without keys.

* **named keys**: the place and the first ``LEAD_WORDS`` normalised words (a brief and its article
  share it), the next ``LEAD_WORDS`` words (an edit in the first words does not hide it), the place and
  the headline, and the headline a correction preamble says it replaces;
* **band keys**: MinHash of the word ``SHINGLE``-shingles in ``BANDS`` bands of ``ROWS`` values
  (locality-sensitive hashing). The sketch is datasketch's ``MinHash`` with the ``affine32`` scheme and
  ``zlib.crc32`` as hash function, seed ``MINHASH_SEED``, computed here with numpy: importing
  datasketch loads scipy (about 47 MB and two seconds more per enrich process, measured), and
  ``tests/unit/test_storyprint.py`` checks that the values are datasketch's, bit for bit;
* the **exact key**: everything matching reads of an article (role, place, headline, version marker,
  replaced headline, normalised text). Two articles with the same exact key relate to every third one
  alike, so a repeat is decided by this one key without reading the stored text.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
import zlib
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

from shared.messages import StoryPrint

if TYPE_CHECKING:
    from shared.messages import Article

PRINT_SCHEME = 1
LEAD_WORDS = 8
PERMUTATIONS = 32
BANDS = 8
ROWS = 4
SHINGLE = 3
MINHASH_SEED = 1

_QUOTES = str.maketrans({c: '"' for c in "“”„‟«»″"} | {c: "'" for c in "‘’‚‛`´′"})
_INVISIBLE = re.compile("[\u00ad\u200b\u200c\u200d\u2060\ufeff]")
_WORD = re.compile(r"\w+")
_VERSION_MARKER = re.compile(r"\s*\(\d{1,3}\)\s*$")
_REPLACES = re.compile(r"v\s*e\s*r\s*v\s*a\s*n\s*g\s*t\s*:\s*(.+)$", re.IGNORECASE | re.DOTALL)
_U32 = np.uint32


def normalise(text: str) -> str:
    """Case-folded, NFKC, straight quotes, no invisible characters, single spaces."""
    text = _INVISIBLE.sub("", unicodedata.normalize("NFKC", text)).translate(_QUOTES)
    return " ".join(text.casefold().split())


def words(text: str) -> tuple[str, ...]:
    """The normalised words of ``text`` (punctuation and quote style do not count)."""
    return tuple(_WORD.findall(normalise(text)))


def headline_of(text: str | None) -> str | None:
    """A headline as matching compares it: its words, without a version marker ("(2)")."""
    if not text:
        return None
    joined = " ".join(words(_VERSION_MARKER.sub("", text)))
    return joined or None


def replaced_headline(preamble: str | None) -> str | None:
    """The headline a correction preamble says it replaces ("... vervangt: <kop>"), normalised."""
    if not preamble:
        return None
    match = _REPLACES.search(preamble)
    return headline_of(match.group(1)) if match else None


def place_of(article: Article) -> str | None:
    """The place an article is matched under: the resolved name, else the dateline as written."""
    line = article.dateline
    return (line.resolved.name if line.resolved else line.place) if line else None


def key64(*parts: str) -> int:
    """A signed 64-bit key for the given parts; stable across processes."""
    return key_of_bytes("\x1f".join(parts).encode("utf-8"))


def key_of_bytes(data: bytes) -> int:
    return int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "big", signed=True)


@lru_cache(maxsize=1)
def _permutations() -> tuple[np.ndarray, np.ndarray]:
    """datasketch's affine32 permutations for ``MINHASH_SEED``: odd multipliers, any offsets."""
    gen = np.random.RandomState(MINHASH_SEED)
    a = gen.randint(0, 1 << 31, PERMUTATIONS, dtype=_U32) * _U32(2) + _U32(1)
    b = gen.randint(0, 1 << 32, PERMUTATIONS, dtype=_U32)
    return a, b


def _fmix32(h: np.ndarray) -> np.ndarray:
    """MurmurHash3's 32-bit finalizer (the scheme's pre-mix of each input hash)."""
    with np.errstate(over="ignore"):
        h = h ^ (h >> _U32(16))
        h = h * _U32(0x85EBCA6B)
        h = h ^ (h >> _U32(13))
        h = h * _U32(0xC2B2AE35)
        out: np.ndarray = h ^ (h >> _U32(16))
    return out


def minhash(tokens: tuple[str, ...]) -> np.ndarray:
    """The ``PERMUTATIONS`` MinHash values (uint32) of the ``SHINGLE``-word shingles of ``tokens``."""
    size = min(SHINGLE, len(tokens))
    shingles = {" ".join(tokens[i : i + size]) for i in range(len(tokens) - size + 1)}
    hashes = np.fromiter((zlib.crc32(s.encode("utf-8")) for s in shingles), dtype=_U32, count=len(shingles))
    a, b = _permutations()
    with np.errstate(over="ignore"):
        values = _fmix32(hashes).reshape(-1, 1) * a + b
    smallest: np.ndarray = values.min(axis=0)
    return smallest


def band_keys(tokens: tuple[str, ...]) -> tuple[int, ...]:
    """One key per band of ``ROWS`` MinHash values (none for an empty text)."""
    if not tokens:
        return ()
    rows = minhash(tokens).astype("<u4").reshape(BANDS, ROWS)
    return tuple(key_of_bytes(bytes([band]) + rows[band].tobytes()) for band in range(BANDS))


def named_keys(
    place: str | None, tokens: tuple[str, ...], headline: str | None, replaces: str | None
) -> tuple[int, ...]:
    """The lead and headline keys (``place``, ``headline`` and ``replaces`` normalised), sorted."""
    where = place or ""
    found: set[int] = set()
    for start in (0, LEAD_WORDS):
        lead = tokens[start : start + LEAD_WORDS]
        if lead and (start == 0 or len(lead) == LEAD_WORDS):
            found.add(key64("lead", str(start), where, *lead))
    for name in (headline, replaces):
        if name:
            found.add(key64("headline", where, name))
    return tuple(sorted(found))


def exact_key(
    *,
    role: str,
    place: str | None,
    headline: str | None,
    version_mark: int | None,
    replaces: str | None,
    text: str,
) -> int:
    """One key for everything matching reads of an article (all normalised): equal keys, equal answers."""
    marks = (role, place or "", headline or "", str(version_mark or ""), replaces or "")
    return key64("exact", *marks, text)


def story_print(article: Article) -> StoryPrint:
    """The story fingerprint of one article (see the module's description)."""
    place = place_of(article)
    where = normalise(place) if place else None
    text = normalise(article.body)
    tokens = tuple(_WORD.findall(text))
    headline = headline_of(article.headline)
    replaces = replaced_headline(article.preamble)
    return StoryPrint(
        scheme=PRINT_SCHEME,
        named=named_keys(where, tokens, headline, replaces),
        bands=band_keys(tokens),
        exact=exact_key(
            role=article.role,
            place=where,
            headline=headline,
            version_mark=article.headline_version,
            replaces=replaces,
            text=text,
        ),
    )


def with_story_print(article: Article) -> Article:
    """``article`` with its story print (enrich sends every article with one)."""
    return article.model_copy(update={"story_print": story_print(article)})
