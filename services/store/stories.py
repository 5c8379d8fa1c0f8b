"""Story matching, the pure core: which stored article (if any) is the same wire item as a new one.

A *story* is one wire item and its versions. Two articles are the same story when one of these holds
(``relation``), always within the same dateline place when both have one:

* **repeat**: the same words, whitespace, punctuation, quote style, case and encoding aside;
* **cut**: the shorter text is the start of the longer one (a brief is the lead of the full article,
  or a cut of it), at least ``MIN_CUT_WORDS`` words long, nearly word for word
  (``CUT_SIMILARITY``). A brief and its main article are the same version; two full articles where one
  runs on past the other are two versions;
* **version**: a lightly edited text (``EDIT_SIMILARITY``), the same opening sentence of at least
  ``MIN_OPENING_WORDS`` words with the rest rewritten, or an explicit new version: a headline
  version marker ("Kop (2)") or a correction preamble ("N i e u w bericht, vervangt: <oude kop>")
  whose headline matches the other article's headline.

In the similarity rules (cut, edit) at most ``MAX_NUMBER_CHANGES`` figure may differ: the same words
with another date and other figures are another item (a march held again the next week).

Two texts about the same event by another agency share topic words but not sentences: their word
similarity stays far below ``EDIT_SIMILARITY``, so they stay apart (item identity, not topic).

Candidates are never found by comparing against every stored article: each article yields a few
64-bit *index keys* (``Profile.index_keys``), the store keeps them in a table (``story_keys``) and a new
article is compared only with the articles behind the keys it shares:

* a **lead key**: the place and the first ``LEAD_WORDS`` normalised words (a brief and its article
  share it), and one for the next ``LEAD_WORDS`` words (an edit in the first words does not hide it).
  Different items can open alike, so a lead key has ``SLOTS`` places in the index: a story whose
  key's first place is taken by another story takes the next (``slots``);
* **band keys**: MinHash (datasketch) of the word 3-shingles, cut into ``BANDS`` bands of ``ROWS``
  values (locality-sensitive hashing): texts with a Jaccard similarity of about 0.5 or more share a
  band with high probability, edited versions and repeats almost surely;
* a **headline key**: place and normalised headline (versions with a rewritten text find each other
  through it; ``Profile.lookup_keys`` adds the headline a correction says it replaces).

Similarities are rapidfuzz's normalised Indel similarity (``fuzz.ratio``), 0–100.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
import zlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from functools import cached_property, lru_cache

from datasketch import MinHash
from rapidfuzz import fuzz

# A light edit of the same item (a word or a sentence changed). Same-event texts of other agencies
# score 30–70 on the evaluation sets; light edits (a number corrected, a word changed) 95 or more.
EDIT_SIMILARITY = 90.0
# A cut must match the start of the longer text almost word for word.
CUT_SIMILARITY = 95.0
# An opening sentence this long, word for word the same, names one item even when the rest was rewritten.
MIN_OPENING_WORDS = 10
# Figures that may differ between two texts of one item (a corrected number); more means other items.
MAX_NUMBER_CHANGES = 1
# Shorter cuts ("Het kabinet is gevallen.") could open two different items: not enough to decide.
MIN_CUT_WORDS = 8
# Words in a lead key: enough to name an item, few enough that every brief has them.
LEAD_WORDS = 8
# MinHash over word 3-shingles: 32 permutations in 8 bands of 4 rows. The band threshold
# (1/8)^(1/4) ≈ 0.6 Jaccard: a repeat or a light edit shares a band with near certainty (an edit at
# Jaccard 0.8 does with probability 0.985), and a lead or headline key catches most of the rest. Half
# the 16 bands first used: the key inserts were the largest cost of story assignment in the store
# (profiled), and the evaluation sets scored the same (README).
PERMUTATIONS = 32
BANDS = 8
ROWS = 4
SHINGLE = 3
# Index places per lead or headline key: up to this many different stories can share an opening.
SLOTS = 3
# Fixed seed and hashing scheme: keys must be the same in every process and every release, or stored
# keys stop matching (a change here needs `dropwire stories rebuild` on a database without keys).
MINHASH_SEED = 1
MINHASH_SCHEME = "affine32"

_QUOTES = str.maketrans({c: '"' for c in "“”„‟«»″"} | {c: "'" for c in "‘’‚‛`´′"})
_INVISIBLE = re.compile("[\u00ad\u200b\u200c\u200d\u2060\ufeff]")
_WORD = re.compile(r"\w+")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s")
_VERSION_MARKER = re.compile(r"\s*\(\d{1,3}\)\s*$")
_REPLACES = re.compile(r"v\s*e\s*r\s*v\s*a\s*n\s*g\s*t\s*:\s*(.+)$", re.IGNORECASE | re.DOTALL)


class Relation(Enum):
    """How a new article relates to a stored one of the same story (strongest first)."""

    REPEAT = "repeat"  # the same text seen again
    CUT = "cut"  # one is a cut of the other (a brief and its article): same version
    VERSION = "version"  # another version of the item


def normalise(text: str) -> str:
    """Case-folded, NFKC, straight quotes, no invisible characters, single spaces."""
    text = _INVISIBLE.sub("", unicodedata.normalize("NFKC", text)).translate(_QUOTES)
    return " ".join(text.casefold().split())


def words(text: str) -> tuple[str, ...]:
    """The normalised words of ``text`` (punctuation and quote style do not count)."""
    return tuple(_WORD.findall(normalise(text)))


def replaced_headline(preamble: str | None) -> str | None:
    """The headline a correction preamble says it replaces ("... vervangt: <kop>"), normalised."""
    if not preamble:
        return None
    match = _REPLACES.search(preamble)
    if match is None:
        return None
    return _headline(match.group(1))


def _headline(text: str | None) -> str | None:
    if not text:
        return None
    joined = " ".join(words(_VERSION_MARKER.sub("", text)))
    return joined or None


@lru_cache(maxsize=1)
def _permutations() -> object:
    """The MinHash permutations for ``MINHASH_SEED``, drawn once per process (drawing them is most of
    the cost of a new sketch)."""
    return MinHash(num_perm=PERMUTATIONS, seed=MINHASH_SEED, scheme=MINHASH_SCHEME).permutations


def slots(key: int) -> tuple[int, ...]:
    """The places a named key may take in the index, in order: the key itself, then derived keys for
    when an earlier place is taken by another story (open addressing)."""
    return (key, *(key64("slot", str(key), str(n)) for n in range(1, SLOTS)))


def key64(*parts: str) -> int:
    """A signed 64-bit key (a PostgreSQL BIGINT) for the given parts; stable across processes."""
    return _key_of_bytes("\x1f".join(parts).encode("utf-8"))


def _key_of_bytes(data: bytes) -> int:
    return int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "big", signed=True)


@dataclass(frozen=True)
class Profile:
    """What story matching knows of one article."""

    role: str  # main | brief
    place: str | None  # the dateline place, normalised (canonical when resolved)
    headline: str | None  # normalised, without a version marker
    version_mark: int | None  # the headline's version marker, "(2)" → 2
    replaces: str | None  # the headline a correction preamble names, normalised
    words: tuple[str, ...]
    opening: tuple[str, ...] = ()  # the words of the first sentence

    @property
    def text(self) -> str:
        return " ".join(self.words)

    @property
    def explicit_version(self) -> bool:
        return self.version_mark is not None or self.replaces is not None

    @cached_property
    def _named(self) -> tuple[int, ...]:
        place = self.place or ""
        found: set[int] = set()
        for start in (0, LEAD_WORDS):
            lead = self.words[start : start + LEAD_WORDS]
            if lead and (start == 0 or len(lead) == LEAD_WORDS):
                found.add(key64("lead", str(start), place, *lead))
        for headline in (self.headline, self.replaces):  # the replaced one too: see lookup_keys
            if headline:
                found.add(key64("headline", place, headline))
        return tuple(sorted(found))

    def named_keys(self) -> list[int]:
        """The lead and headline keys: formulaic openings ("Het kabinet heeft ...") can give two items
        the same one, so each has ``SLOTS`` places in the index (see ``slots``)."""
        return list(self._named)

    def index_keys(self) -> list[int]:
        """The index keys of this article (sorted, distinct): named keys and MinHash band keys."""
        return sorted({*self._named, *self._bands})

    @cached_property
    def _lookups(self) -> tuple[int, ...]:
        return tuple(sorted({*self._bands, *(slot for key in self._named for slot in slots(key))}))

    def lookup_keys(self) -> list[int]:
        """Every index entry to look candidates up by: the band keys and each slot of the named keys.

        The headline a correction replaces is a named key of the correction itself, so it is also
        stored: an old version stored later (or by another worker at the same moment) meets it there."""
        return list(self._lookups)

    @cached_property
    def _bands(self) -> tuple[int, ...]:
        """MinHash of the word shingles, one key per band of ``ROWS`` values."""
        if not self.words:
            return ()
        size = min(SHINGLE, len(self.words))
        shingles = {
            " ".join(self.words[i : i + size]).encode("utf-8") for i in range(len(self.words) - size + 1)
        }
        sketch = MinHash(
            num_perm=PERMUTATIONS,
            seed=MINHASH_SEED,
            hashfunc=zlib.crc32,
            permutations=_permutations(),
            scheme=MINHASH_SCHEME,
        )
        sketch.update_batch(list(shingles))
        rows = sketch.hashvalues.astype("<u4").reshape(BANDS, ROWS)
        return tuple(_key_of_bytes(bytes([b]) + rows[b].tobytes()) for b in range(BANDS))


def profile(
    *,
    role: str,
    place: str | None,
    headline: str | None,
    headline_version: int | None,
    preamble: str | None,
    body: str,
) -> Profile:
    """The matching profile of one article, from its stored or parsed fields."""
    text = normalise(body)
    return Profile(
        role=role,
        place=normalise(place) if place else None,
        headline=_headline(headline),
        version_mark=headline_version,
        replaces=replaced_headline(preamble),
        words=tuple(_WORD.findall(text)),
        opening=tuple(_WORD.findall(_SENTENCE_END.split(text, maxsplit=1)[0])),
    )


def _places_agree(a: Profile, b: Profile) -> bool:
    return a.place is None or b.place is None or a.place == b.place


def _numbers_agree(a: Sequence[str], b: Sequence[str]) -> bool:
    """At most ``MAX_NUMBER_CHANGES`` numbers differ: a corrected figure is an edit, but another date
    and other figures in the same words are another item (a march held again the next week)."""
    numbers_a = Counter(w for w in a if w.isdigit())
    numbers_b = Counter(w for w in b if w.isdigit())
    changed = max(sum((numbers_a - numbers_b).values()), sum((numbers_b - numbers_a).values()))
    return changed <= MAX_NUMBER_CHANGES


def _is_cut(short: Profile, long: Profile) -> bool:
    """Whether ``short`` is the start of ``long`` (nearly word for word)."""
    if len(short.words) < MIN_CUT_WORDS or len(short.words) > len(long.words):
        return False
    head = long.words[: len(short.words)]
    return fuzz.ratio(short.text, " ".join(head)) >= CUT_SIMILARITY and _numbers_agree(short.words, head)


def relation(new: Profile, old: Profile) -> Relation | None:
    """How ``new`` relates to the stored ``old``, or None when they are different items."""
    if not _places_agree(new, old) or not new.words or not old.words:
        return None
    if new.words == old.words:
        return Relation.REPEAT
    similarity = fuzz.ratio(new.text, old.text, score_cutoff=EDIT_SIMILARITY)
    short, long = (new, old) if len(new.words) <= len(old.words) else (old, new)
    if _is_cut(short, long):
        # A brief and its article are one version; a full text that runs on past another is a new one.
        return Relation.CUT if "brief" in (short.role, long.role) else Relation.VERSION
    if similarity >= EDIT_SIMILARITY and _numbers_agree(new.words, old.words):
        return Relation.VERSION
    if len(new.opening) >= MIN_OPENING_WORDS and new.opening == old.opening:
        return Relation.VERSION  # the same opening sentence, the rest rewritten
    if _named_versions(new, old):
        return Relation.VERSION
    return None


def _named_versions(new: Profile, old: Profile) -> bool:
    """An explicit new version: the headline (or the one a correction replaces) names the other's."""
    if new.place is None or old.place is None:
        return False
    if new.replaces is not None and new.replaces in (old.headline, old.replaces):
        return True
    if old.replaces is not None and old.replaces == new.headline:
        return True
    same_headline = new.headline is not None and new.headline == old.headline
    return same_headline and (new.explicit_version or old.explicit_version)


@dataclass(frozen=True)
class Match:
    """The stored article a new one was matched to, and how."""

    story: int
    article: int
    relation: Relation


_STRENGTH = {Relation.REPEAT: 0, Relation.CUT: 1, Relation.VERSION: 2}


def matches(new: Profile, candidates: list[tuple[int, int, Profile]]) -> list[Match]:
    """Every candidate ``(story, article, profile)`` ``new`` relates to, strongest relation first, ties
    to the oldest story (the lowest id), so the order never depends on the order candidates came in."""
    found: list[Match] = []
    for story, article, other in candidates:
        rel = relation(new, other)
        if rel is not None:
            found.append(Match(story, article, rel))
    return sorted(found, key=lambda m: (_STRENGTH[m.relation], m.story, m.article))


def best_match(new: Profile, candidates: list[tuple[int, int, Profile]]) -> Match | None:
    """The first of ``matches``, or None."""
    found = matches(new, candidates)
    return found[0] if found else None
