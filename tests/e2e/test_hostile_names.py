"""No single file can stop the pipeline: files of any name Linux allows and any content, dropped into a
real ``dropwire run``, each end in ``archive/`` or ``failed/`` exactly once, and a good file dropped after
them is still stored."""

from __future__ import annotations

import os
import unicodedata
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from dropwire.stack import wait_until
from shared.spool import IGNORED_SUFFIXES, NAME_MAX_BYTES, Spool, inbox_name
from tests.e2e.test_run_embedded import RunProcess

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

# One example's files must all have landed within this; a file stored takes well under a second.
LAND_SECONDS = 30.0
PREFIX_BYTES = 5  # "0001-": each dropped file's own tag, kept by even a shortened claim

PAGE = "Kop van het bericht\nAMSTERDAM (ANP) - Een kort bericht met een uniek kenmerk {tag}.\n"


def _allowed(raw: bytes) -> bool:
    return (
        b"/" not in raw
        and b"\x00" not in raw
        and not raw.endswith(tuple(s.encode() for s in IGNORED_SUFFIXES))
    )


# Names as Linux allows them: raw bytes (not UTF-8 at all, backslashes, controls), text in every
# Unicode normalisation form, and lengths up to NAME_MAX with the tag in front.
raw_names = st.binary(min_size=1, max_size=NAME_MAX_BYTES - PREFIX_BYTES)
text_names = st.tuples(
    st.text(
        st.characters(blacklist_categories=("Cs",), blacklist_characters="/\x00"), min_size=1, max_size=60
    ),
    st.sampled_from(["NFC", "NFD", "NFKC", "NFKD"]),
).map(lambda t: unicodedata.normalize(t[1], t[0]).encode("utf-8"))
tricky = st.sampled_from(
    [
        b"back\\slash.txt",
        b"bad\xffname.txt",
        b"E" * 240 + b".txt",
        b"x.error.json",
        b"a\nb\rc\td.txt",
        b"%41.txt",
    ]
)
names = (
    st.one_of(tricky, raw_names, text_names)
    .map(lambda b: b[: NAME_MAX_BYTES - PREFIX_BYTES])
    .filter(_allowed)
)
contents = st.one_of(
    st.just("page"),
    st.just(b""),
    st.just(b"\x89PNG\r\n\x1a\n" + bytes(range(256))),
    st.just(b"geen artikelen hier, alleen tekst\n"),
    st.binary(max_size=300),
    st.text(max_size=300).map(lambda t: t.encode("utf-8")),
)
drops = st.lists(st.tuples(names, contents), min_size=1, max_size=4)


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunProcess]:
    process = RunProcess(tmp_path_factory.mktemp("hostile"))
    process.start()
    yield process
    assert process.stop() == 0, process.describe()


class Dropper:
    def __init__(self, run: RunProcess) -> None:
        self.run = run
        self.spool = Spool(run.spool)
        self.count = 0

    def drop(self, raw: bytes, content: bytes | str) -> bytes:
        self.count += 1
        tag = f"{self.count:04d}-".encode()
        data = PAGE.format(tag=tag.decode()).encode() if content == "page" else content
        name = tag + raw
        with open(os.path.join(os.fsencode(self.spool.inbox), name), "wb") as fh:
            fh.write(data)  # type: ignore[arg-type]
        return tag

    def places(self, tag: bytes) -> list[str]:
        """Every folder a file with this tag is in (``archive``/``failed`` once each landed file)."""
        found = []
        for folder in ("inbox", "processing"):
            found += [folder for n in os.listdir(os.fsencode(self.spool.folder(folder))) if n.startswith(tag)]
        found += [
            "archive" for n in os.listdir(self.spool.archive) if os.fsencode(inbox_name(n)).startswith(tag)
        ]
        found += [
            "failed"
            for e in self.spool.failed_entries()
            if os.fsencode(inbox_name(e["claim"])).startswith(tag)
        ]
        return found


@pytest.fixture(scope="module")
def dropper(run: RunProcess) -> Dropper:
    return Dropper(run)


@settings(
    max_examples=int(os.environ.get("DROPWIRE_HOSTILE_EXAMPLES", "25")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(files=drops)
@example(files=[(b"back\\slash.txt", "page"), (b"bad\xffname.txt", "page")])
@example(files=[(b"E" * 240 + b".txt", b""), (b"E" * 244, b"geen artikelen\n")])
@example(files=[(b"verslag.error.json", b"")])
def test_every_file_lands_once_and_the_next_good_file_is_stored(dropper: Dropper, files: list) -> None:
    """Whatever the names and contents, each file ends in archive/ or failed/ exactly once, nothing is
    left in inbox/ or processing/, and a good file dropped afterwards is archived."""
    tags = [dropper.drop(raw, content) for raw, content in files]
    good = dropper.drop(b"goed.txt", "page")

    def landed() -> bool:
        return all(dropper.places(t) in (["archive"], ["failed"]) for t in [*tags, good])

    try:
        wait_until(landed, "every file in archive/ or failed/ exactly once", LAND_SECONDS)
    except AssertionError:
        where = {t.decode(): dropper.places(t) for t in [*tags, good]}
        raise AssertionError(f"{where}\n{dropper.run.describe()}") from None
    assert dropper.places(good) == ["archive"], dropper.run.describe()
    assert dropper.run.ready(), "dropwire run stopped answering /readyz"
