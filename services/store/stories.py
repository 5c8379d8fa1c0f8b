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
with another date and other figures are another item (a march held again the next week). Nor may a
figure change together with a name in the text, or with a dateline only one of the two has: that is
one template filled in for two places (the weather, a market's close), unless an explicit version
marker or correction names the other (``_same_template``).

Two texts about the same event by another agency share topic words but not sentences: their word
similarity stays far below ``EDIT_SIMILARITY``, so they stay apart (item identity, not topic).

Candidates are never found by comparing against every stored article: each article yields a few
64-bit *index keys* (``Profile.index_keys``, computed by ``shared.storyprint``, in enrich when it can), the store keeps them in a table (``story_keys``) and a new
article is compared only with the articles behind the keys it shares:

* a **lead key**: the place and the first ``LEAD_WORDS`` normalised words (a brief and its article
  share it), and one for the next ``LEAD_WORDS`` words (an edit in the first words does not hide it).
  Different items can open alike, so a lead key has ``SLOTS`` places in the index: a story whose
  key's first place is taken by another story takes the next (``slots``);
* **band keys**: MinHash (datasketch's scheme) of the word 3-shingles, cut into ``BANDS`` bands of ``ROWS``
  values (locality-sensitive hashing): texts with a Jaccard similarity of about 0.5 or more share a
  band with high probability, edited versions and repeats almost surely;
* a **headline key**: place and normalised headline (versions with a rewritten text find each other
  through it; ``Profile.lookup_keys`` adds the headline a correction says it replaces);
* the **exact key**: everything ``relation`` reads of the article. A new article whose exact key is in
  the index is a repeat of the article behind it, decided without reading any stored text.

Similarities are rapidfuzz's normalised Indel similarity (``fuzz.ratio``), 0–100.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from functools import cached_property, lru_cache

from rapidfuzz import fuzz

from shared.messages import StoryPrint
from shared.storyprint import (
    PRINT_SCHEME,
    band_keys,
    exact_key,
    headline_of,
    key64,
    named_keys,
    normalise,
    replaced_headline,
)

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
# Index places per lead or headline key: up to this many different stories can share an opening.
SLOTS = 3

_WORD = re.compile(r"\w+")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s")
# Where a sentence (or a line, or a quote after a colon) starts: its first word has a capital anyway.
_SENTENCE_START = re.compile(r"(?<=[.!?:])\s+|\n+")


class Relation(Enum):
    """How a new article relates to a stored one of the same story (strongest first)."""

    REPEAT = "repeat"  # the same text seen again
    CUT = "cut"  # one is a cut of the other (a brief and its article): same version
    VERSION = "version"  # another version of the item


def words(text: str) -> tuple[str, ...]:
    """The normalised words of ``text`` (punctuation and quote style do not count)."""
    return tuple(_WORD.findall(normalise(text)))


@lru_cache(maxsize=1 << 16)
def slots(key: int) -> tuple[int, ...]:
    """The places a named key may take in the index, in order: the key itself, then derived keys for
    when an earlier place is taken by another story (open addressing)."""
    return (key, *(key64("slot", str(key), str(n)) for n in range(1, SLOTS)))


@dataclass(frozen=True, eq=False)
class Profile:
    """What story matching knows of one article: its fields as written, each normalised when a
    comparison first needs it (a repeat found by its exact key needs none); the index keys come from
    the article's story print when it has one of this scheme."""

    role: str  # main | brief
    written_place: str | None  # the dateline place (canonical when resolved)
    written_headline: str | None
    version_mark: int | None  # the headline's version marker, "(2)" → 2
    preamble: str | None
    body: str
    given: StoryPrint | None = None  # computed by enrich

    @cached_property
    def place(self) -> str | None:
        """The dateline place, normalised."""
        return normalise(self.written_place) if self.written_place else None

    @cached_property
    def headline(self) -> str | None:
        """The headline, normalised, without a version marker."""
        return headline_of(self.written_headline)

    @cached_property
    def replaces(self) -> str | None:
        """The headline a correction preamble names, normalised."""
        return replaced_headline(self.preamble)

    @cached_property
    def normalised(self) -> str:
        return normalise(self.body)

    @cached_property
    def words(self) -> tuple[str, ...]:
        return tuple(_WORD.findall(self.normalised))

    @cached_property
    def opening(self) -> tuple[str, ...]:
        """The words of the first sentence."""
        return tuple(_WORD.findall(_SENTENCE_END.split(self.normalised, maxsplit=1)[0]))

    @cached_property
    def names(self) -> frozenset[str]:
        """Words written with a capital inside a sentence (names), normalised."""
        found: set[str] = set()
        for sentence in _SENTENCE_START.split(unicodedata.normalize("NFKC", self.body)):
            found.update(w.casefold() for w in _WORD.findall(sentence)[1:] if w[0].isupper())
        return frozenset(found)

    @property
    def text(self) -> str:
        return " ".join(self.words)

    @property
    def explicit_version(self) -> bool:
        return self.version_mark is not None or self.replaces is not None

    @cached_property
    def print(self) -> StoryPrint:
        """The story print: the one enrich computed, else (an older producer, another scheme) the same
        computation here (``shared.storyprint``)."""
        if self.given is not None and self.given.scheme == PRINT_SCHEME:
            return self.given
        return StoryPrint(
            scheme=PRINT_SCHEME,
            named=named_keys(self.place, self.words, self.headline, self.replaces),
            bands=band_keys(self.words),
            exact=exact_key(
                role=self.role,
                place=self.place,
                headline=self.headline,
                version_mark=self.version_mark,
                replaces=self.replaces,
                text=self.normalised,
            ),
        )

    def prepare(self) -> None:
        """Compute the story print now when the article came without one (the CPU-heavy part)."""
        _ = self.print

    @property
    def exact(self) -> int:
        """One key for everything ``relation`` reads of this article: equal keys, equal relations."""
        return self.print.exact

    def named_keys(self) -> list[int]:
        """The lead and headline keys: formulaic openings ("Het kabinet heeft ...") can give two items
        the same one, so each has ``SLOTS`` places in the index (see ``slots``)."""
        return list(self.print.named)

    def index_keys(self) -> list[int]:
        """The index keys of this article (sorted, distinct): named keys, MinHash band keys and the exact
        key."""
        return sorted({*self.print.named, *self.print.bands, self.print.exact})

    @cached_property
    def _lookups(self) -> tuple[int, ...]:
        named = (slot for key in self.print.named for slot in slots(key))
        return tuple(sorted({*self.print.bands, self.print.exact, *named}))

    def lookup_keys(self) -> list[int]:
        """Every index entry to look candidates up by: the band keys, the exact key and each slot of the
        named keys.

        The headline a correction replaces is a named key of the correction itself, so it is also
        stored: an old version stored later (or by another worker at the same moment) meets it there."""
        return list(self._lookups)


def profile(
    *,
    role: str,
    place: str | None,
    headline: str | None,
    headline_version: int | None,
    preamble: str | None,
    body: str,
    story_print: StoryPrint | None = None,
) -> Profile:
    """The matching profile of one article, from its stored or parsed fields (and its story print when
    enrich made one of the same fields)."""
    return Profile(role, place, headline, headline_version, preamble, body, story_print)


def _places_agree(a: Profile, b: Profile) -> bool:
    return a.place is None or b.place is None or a.place == b.place


def _numbers_agree(a: Sequence[str], b: Sequence[str]) -> bool:
    """At most ``MAX_NUMBER_CHANGES`` numbers differ: a corrected figure is an edit, but another date
    and other figures in the same words are another item (a march held again the next week)."""
    numbers_a = Counter(w for w in a if w.isdigit())
    numbers_b = Counter(w for w in b if w.isdigit())
    changed = max(sum((numbers_a - numbers_b).values()), sum((numbers_b - numbers_a).values()))
    return changed <= MAX_NUMBER_CHANGES


def _same_template(a: Profile, b: Profile, a_words: Sequence[str], b_words: Sequence[str]) -> bool:
    """Two items written from one template (the weather or the closing figures for two cities): the
    words differ in a number and also in a name (a capitalised word inside a sentence), or a number
    changed and only one of them has a dateline place. A corrected figure keeps its names and place."""
    count_a, count_b = Counter(a_words), Counter(b_words)
    changed = set(count_a - count_b) | set(count_b - count_a)
    if not any(w.isdigit() for w in changed):
        return False
    if (a.place is None) != (b.place is None):
        return True
    return any(w in a.names or w in b.names for w in changed if not w.isdigit())


def _is_cut(short: Profile, long: Profile) -> bool:
    """Whether ``short`` is the start of ``long`` (nearly word for word)."""
    if len(short.words) < MIN_CUT_WORDS or len(short.words) > len(long.words):
        return False
    head = long.words[: len(short.words)]
    return (
        fuzz.ratio(short.text, " ".join(head)) >= CUT_SIMILARITY
        and _numbers_agree(short.words, head)
        and not _same_template(short, long, short.words, head)
    )


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
    if (
        similarity >= EDIT_SIMILARITY
        and _numbers_agree(new.words, old.words)
        and not _same_template(new, old, new.words, old.words)
    ):
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
