"""The spool: four folders whose contents are the state of every file (inbox → processing → archive | failed).

Every name that comes from outside (a dropped file's name, a ``claim`` in a queue message, an
operator's argument) is turned into a path only here, and only if it stays a plain name inside its
folder: no separators, no ``..``, no NUL, no dotfile. Claimed files carry a unique claim name
``<8 hex>__<original name>`` from then on, so two files dropped under the same name never collide in
``archive/`` or ``failed/`` and the original name stays recoverable.
"""

from __future__ import annotations

import json
import os
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from shared.errors import PermanentError

CLAIM_SEPARATOR = "__"
ERROR_SUFFIX = ".error.json"
FOLDERS = ("inbox", "processing", "archive", "failed")
# Names a writer uses while a file is still being written; claimed only once renamed.
IGNORED_SUFFIXES = (".part", ".tmp")


class UnsafeName(PermanentError):
    """A name that would leave its spool folder (separators, ``..``, NUL) or is hidden."""

    reason = "bad_message"


def is_candidate_name(name: str) -> bool:
    """Whether an inbox entry's name is one ingest should look at (not hidden, not a partial write)."""
    return bool(name) and not name.startswith(".") and not name.endswith(IGNORED_SUFFIXES)


# The longest file name (in bytes) Linux filesystems accept (NAME_MAX).
NAME_MAX_BYTES = 255
# What replaces the cut-out part of a dropped name too long to carry a claim prefix.
SHORTENED_MARK = "~"


def new_claim_name(name: str) -> str:
    """A unique name for a claimed file that keeps the original recoverable.

    A name too long to take the 10-byte prefix within ``NAME_MAX_BYTES`` loses the end of its stem
    (marked ``~``, extension kept): the claim must be a name the filesystem accepts.
    """
    prefix = f"{uuid.uuid4().hex[:8]}{CLAIM_SEPARATOR}"
    budget = NAME_MAX_BYTES - len(prefix)
    if len(os.fsencode(name)) > budget:
        stem, ext = os.path.splitext(name)
        if len(os.fsencode(ext)) > budget // 2:
            stem, ext = name, ""
        while stem and len(os.fsencode(stem + SHORTENED_MARK + ext)) > budget:
            stem = stem[:-1]
        name = stem + SHORTENED_MARK + ext
    return prefix + name


def original_name(claim: str) -> str:
    """The name a file was dropped under, from its claim name."""
    prefix, sep, rest = claim.partition(CLAIM_SEPARATOR)
    if sep and len(prefix) == 8 and rest:
        return rest
    return claim


def check_name(name: str) -> str:
    """``name`` if it is a plain file name; ``UnsafeName`` otherwise."""
    if (
        not name
        or name in (".", "..")
        or name.startswith(".")
        or "/" in name
        or "\\" in name
        or "\x00" in name
        or os.sep in name
    ):
        raise UnsafeName("name is not a plain file name inside the spool", name=name)
    return name


@dataclass(frozen=True)
class Spool:
    """The spool root and its folders."""

    root: Path

    @property
    def inbox(self) -> Path:
        return self.root / "inbox"

    @property
    def processing(self) -> Path:
        return self.root / "processing"

    @property
    def archive(self) -> Path:
        return self.root / "archive"

    @property
    def failed(self) -> Path:
        return self.root / "failed"

    def folder(self, name: str) -> Path:
        if name not in FOLDERS:
            raise ValueError(f"unknown spool folder {name!r}")
        return self.root / name

    def ensure(self) -> None:
        """Create the folders if missing (all on one filesystem, so renames between them are atomic)."""
        for name in FOLDERS:
            self.folder(name).mkdir(parents=True, exist_ok=True)

    def path(self, folder: str, name: str) -> Path:
        """The path of ``name`` inside ``folder``, refusing anything that would leave that folder."""
        # ``check_name`` refuses separators, "." and "..": the result is always a direct child of the
        # folder, so no path resolution (a syscall per component, on every file operation) is needed.
        return self.folder(name=folder) / check_name(name)

    def counts(self) -> dict[str, int]:
        """Files per folder (``failed/`` without the ``.error.json`` notes; dotfiles never counted)."""
        out: dict[str, int] = {}
        for name in FOLDERS:
            folder = self.folder(name)
            try:
                entries = [e for e in os.scandir(folder) if not e.name.startswith(".")]
            except FileNotFoundError:
                out[name] = 0
                continue
            out[name] = sum(1 for e in entries if not e.name.endswith(ERROR_SUFFIX))
        return out

    def write_error(
        self,
        claim: str,
        *,
        stage: str,
        reason: str,
        detail: str | None,
        doc_id: str | None,
        at: datetime | None = None,
    ) -> Path:
        """Write ``failed/<claim>.error.json`` atomically (temporary dotfile, then rename)."""
        note = {
            "name": original_name(claim),
            "claim": claim,
            "stage": stage,
            "reason": reason,
            "detail": detail,
            "doc_id": doc_id,
            "time": (at or datetime.now(UTC)).isoformat(),
        }
        target = self.path("failed", claim + ERROR_SUFFIX)
        tmp = self.failed / f".{claim}.{uuid.uuid4().hex[:6]}.tmp"
        tmp.write_text(json.dumps(note, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        os.replace(tmp, target)
        return target

    def read_error(self, claim: str) -> dict[str, Any] | None:
        try:
            data = json.loads(self.path("failed", claim + ERROR_SUFFIX).read_text(encoding="utf-8"))
        except (FileNotFoundError, ValueError):
            return None
        return data if isinstance(data, dict) else None

    def failed_entries(self) -> list[dict[str, Any]]:
        """One record per file in ``failed/``: its claim name, original name and error note."""
        try:
            names = sorted(e.name for e in os.scandir(self.failed))
        except FileNotFoundError:
            return []
        out = []
        for name in names:
            if name.startswith(".") or name.endswith(ERROR_SUFFIX):
                continue
            note = self.read_error(name) or {}
            out.append(
                {
                    "claim": name,
                    "name": original_name(name),
                    **{k: note.get(k) for k in ("stage", "reason", "detail", "time", "doc_id")},
                }
            )
        return out

    def retry_failed(self, claim: str) -> Path:
        """Move a failed file back into the inbox under its original name (suffixed if that is taken)."""
        source = self.path("failed", claim)
        if not source.exists() and not source.is_symlink():
            raise FileNotFoundError(claim)
        name = check_name(original_name(claim))
        target = self.path("inbox", name)
        if target.exists():
            stem, dot, ext = name.partition(".")
            target = self.path("inbox", f"{stem}-retry-{uuid.uuid4().hex[:6]}{dot}{ext}")
        os.rename(source, target)
        self.path("failed", claim + ERROR_SUFFIX).unlink(missing_ok=True)
        return target
