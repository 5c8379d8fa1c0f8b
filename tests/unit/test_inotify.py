"""The inbox's inotify reader (``services.ingest.inotify``) against file names it did not choose: any
bytes a Linux file name may hold, valid UTF-8 or not, read back as the name ``os.listdir`` gives."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.ingest.inotify import IN_CLOSE_WRITE, IN_CREATE, IN_MOVED_TO, Inotify

pytestmark = [pytest.mark.unit, pytest.mark.skipif(not Path("/proc").is_dir(), reason="inotify is Linux's")]

# A Linux file name: 1-255 bytes, no '/' and no NUL, not '.' or '..'.
NAMES = st.binary(min_size=1, max_size=255).filter(
    lambda b: b"/" not in b and b"\0" not in b and b not in (b".", b"..")
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(names=st.lists(NAMES, min_size=1, max_size=8, unique=True))
def test_every_name_written_or_renamed_in_is_reported_as_listdir_names_it(names: list[bytes]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        inbox, outside = Path(tmp) / "inbox", Path(tmp) / "outside"
        inbox.mkdir()
        outside.mkdir()
        watch = Inotify(inbox)
        try:
            for n, name in enumerate(names):
                if n % 2:  # renamed in, as the bench and careful writers drop files
                    staged = os.path.join(os.fsencode(outside), name)
                    with open(staged, "wb") as handle:
                        handle.write(b"x")
                    os.rename(staged, os.path.join(os.fsencode(inbox), name))
                else:  # written in place
                    with open(os.path.join(os.fsencode(inbox), name), "wb") as handle:
                        handle.write(b"x")
            seen: dict[str, int] = {}
            while events := watch.read(0.05):
                for mask, name in events:
                    seen[name] = seen.get(name, 0) | mask
        finally:
            watch.close()
        assert set(seen) == set(os.listdir(inbox))
        for n, name in enumerate(names):
            expected = IN_MOVED_TO if n % 2 else IN_CREATE | IN_CLOSE_WRITE
            assert seen[os.fsdecode(name)] & expected == expected
