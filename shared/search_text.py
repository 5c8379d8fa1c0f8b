"""Dutch full-text search terms: one stemmer for the index and the query, so both agree.

PostgreSQL stems with its built-in ``dutch`` text search configuration (a Snowball stemmer inside the
server). SQLite has no Dutch tokenizer, so the SQLite index (an FTS5 table) holds the output of
``stems(text)``: the words of the text, lower-cased and reduced by the Snowball Dutch stemmer from the
``snowballstemmer`` package. A query goes through the same function, so "staking" and "stakingen"
both become "staking".

``register_sqlite_functions`` installs ``dropwire_stems(text)`` on a SQLite connection: the triggers
of migration 0004 call it whenever an article is written, so every connection that writes articles
must have it (``services.store.db.make_engine`` registers it on connect).
"""

from __future__ import annotations

import re
import sqlite3
from functools import lru_cache
from typing import Any

# Letters and digits, with inner apostrophes and hyphens kept out: "kabinets-Rutte" is two words,
# as PostgreSQL's parser splits it too.
_WORD = re.compile(r"\w+", re.UNICODE)
# The SQL name of the function the SQLite triggers call.
SQLITE_FUNCTION = "dropwire_stems"
# Words longer than this are no words (hashes, URLs glued together); PostgreSQL drops them at 2047 bytes.
MAX_WORD_CHARS = 64


@lru_cache(maxsize=1)
def _stemmer() -> Any:
    # Imported at the first stem, not with this module: every SQLite connection registers the
    # function, and the read-only commands that never stem should not pay for the stemmers' import.
    import snowballstemmer

    return snowballstemmer.stemmer("dutch")


def words(text: str) -> list[str]:
    """The words of ``text``, lower-cased, in order."""
    return [w.lower() for w in _WORD.findall(text) if len(w) <= MAX_WORD_CHARS]


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """The Snowball Dutch stem of one lower-cased word."""
    result: str = _stemmer().stemWord(word)
    return result


def stems(text: str | None) -> str:
    """The stems of every word of ``text``, space-separated (what the SQLite index holds)."""
    if not text:
        return ""
    return " ".join(stem(w) for w in words(text))


def query_stems(query: str) -> list[str]:
    """The distinct stems of a search query, in order (every one must match)."""
    seen: dict[str, None] = {}
    for w in words(query):
        seen.setdefault(stem(w), None)
    return list(seen)


def fts5_match(query: str) -> str | None:
    """An FTS5 MATCH expression requiring every stem of ``query``; None when it has no words.

    Each stem is quoted as an FTS5 string, so no operator or column filter can be smuggled in.
    """
    terms = query_stems(query)
    if not terms:
        return None
    return " AND ".join('"' + t.replace('"', '""') + '"' for t in terms)


def register_sqlite_functions(connection: sqlite3.Connection) -> None:
    """Install ``dropwire_stems`` on a DB-API SQLite connection (safe to repeat)."""
    connection.create_function(SQLITE_FUNCTION, 1, stems, deterministic=True)


def highlight_spans(text: str, query: str) -> list[tuple[int, int]]:
    """Character spans of the words in ``text`` whose stem is one of the query's stems, in order."""
    wanted = set(query_stems(query))
    if not wanted:
        return []
    return [
        (m.start(), m.end())
        for m in _WORD.finditer(text)
        if len(m.group()) <= MAX_WORD_CHARS and stem(m.group().lower()) in wanted
    ]
