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
import re
import unicodedata
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from shared.errors import PermanentError
from shared.journal import Journal, step

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
# A claim name is ``<8 hex>__<escaped name>``; its error note adds ERROR_SUFFIX, and both must fit.
CLAIM_PREFIX_BYTES = 8 + len(CLAIM_SEPARATOR)
CLAIM_MAX_BYTES = NAME_MAX_BYTES - len(ERROR_SUFFIX)
_CLAIM_RE = re.compile(r"[0-9a-f]{8}" + CLAIM_SEPARATOR)
# Escaped as ``%XX`` in names shown, logged, sent and used for claims: the escape mark itself, the
# backslash (a separator to Windows tools and a quoting character to shells), and characters that
# break terminals and logs or disguise a name: controls, format characters (bidi overrides, zero
# widths), line and paragraph separators.
_ESCAPED = frozenset("%\\")
_ESCAPED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
_ESCAPE_RE = re.compile(r"%([0-9A-Fa-f]{2})")


def _needs_escape(ch: str) -> bool:
    return ch in _ESCAPED or unicodedata.category(ch) in _ESCAPED_CATEGORIES


def _escape_units(name: str) -> list[str]:
    """``name`` (``os.fsdecode`` form: undecodable bytes as surrogates) as escaped units, one per
    character kept or ``%XX`` per byte escaped."""
    units: list[str] = []
    for ch in name:
        code = ord(ch)
        if 0xDC80 <= code <= 0xDCFF:  # one raw byte that was not UTF-8 (surrogateescape)
            units.append(f"%{code - 0xDC00:02X}")
        elif _needs_escape(ch):
            units.extend(f"%{b:02X}" for b in ch.encode("utf-8", "surrogatepass"))
        else:
            units.append(ch)
    if "".join(units).endswith(ERROR_SUFFIX):
        # A claim never ends like an error note: its dot before "error.json" is escaped.
        dot = len(units) - len(ERROR_SUFFIX)
        units[dot] = "%2E"
    return units


def escape_name(name: str) -> str:
    """A file name as valid UTF-8 text, safe to show, log, put in a message and use in a claim.

    Any byte sequence Linux allows in a name maps to one escaped form; ``unescape_name`` gives the
    original back. Ordinary names (Dutch, with spaces, accents or quotes) come out unchanged.
    """
    return "".join(_escape_units(name))


def unescape_name(escaped: str) -> str:
    """The file name (``os.fsdecode`` form) an ``escape_name`` result stands for."""
    out = bytearray()
    pos = 0
    for match in _ESCAPE_RE.finditer(escaped):
        out += escaped[pos : match.start()].encode("utf-8", "surrogateescape")
        out.append(int(match.group(1), 16))
        pos = match.end()
    out += escaped[pos:].encode("utf-8", "surrogateescape")
    return os.fsdecode(bytes(out))


def _fit(units: list[str], budget: int) -> str:
    """Escaped units joined, cut to ``budget`` bytes: the end of the stem goes, marked ``~``, the
    extension stays (unless it alone would take half the room)."""
    name = "".join(units)
    if len(name.encode("utf-8")) <= budget:
        return name
    ext_len = len(os.path.splitext(name)[1])
    ext_units: list[str] = []
    if ext_len:
        taken = 0
        while taken < ext_len:
            ext_units.insert(0, units[len(units) - 1 - len(ext_units)])
            taken += len(ext_units[0])
    ext = "".join(ext_units)
    if len(ext.encode("utf-8")) > budget // 2:
        ext, ext_units = "", []
    stem_units = units[: len(units) - len(ext_units)]
    room = budget - len((SHORTENED_MARK + ext).encode("utf-8"))
    kept: list[str] = []
    used = 0
    for unit in stem_units:
        size = len(unit.encode("utf-8"))
        if used + size > room:
            break
        kept.append(unit)
        used += size
    return "".join(kept) + SHORTENED_MARK + ext


def new_claim_name(name: str) -> str:
    """A unique, safe name for a claimed file that keeps the original recoverable.

    The original is escaped (``escape_name``), so a claim is always valid UTF-8 without backslashes
    or control characters. A name too long to take the prefix and, later, the error note's suffix
    within ``NAME_MAX_BYTES`` loses the end of its stem (marked ``~``, extension kept).
    """
    prefix = f"{uuid.uuid4().hex[:8]}{CLAIM_SEPARATOR}"
    return prefix + _fit(_escape_units(name), CLAIM_MAX_BYTES - len(prefix))


def is_claim_name(name: str) -> bool:
    """Whether ``name`` is a claim this version would make: prefixed, escaped, short enough."""
    if not _CLAIM_RE.match(name) or len(name) == CLAIM_PREFIX_BYTES:
        return False
    rest = name[CLAIM_PREFIX_BYTES:]
    return (
        len(os.fsencode(name)) <= CLAIM_MAX_BYTES
        and not any(ch != "%" and (_needs_escape(ch) or 0xDC80 <= ord(ch) <= 0xDCFF) for ch in rest)
        and not rest.endswith(ERROR_SUFFIX)
    )


def as_claim(name: str) -> str:
    """``name`` if it is a claim this version makes, else a new claim for the file it names (a claim
    an older version left under a name that cannot travel)."""
    return name if is_claim_name(name) else new_claim_name(unescape_name(original_name(name)))


def original_name(claim: str) -> str:
    """The name a file was dropped under, escaped (as ``escape_name`` gives it), from its claim name."""
    prefix, sep, rest = claim.partition(CLAIM_SEPARATOR)
    if sep and len(prefix) == 8 and rest:
        return rest
    return claim


def inbox_name(claim: str) -> str:
    """The name (``os.fsdecode`` form) a claimed file goes back to the inbox under."""
    return unescape_name(original_name(claim))


def check_name(name: str, *, inbox: bool = False) -> str:
    """``name`` if it is a plain file name; ``UnsafeName`` otherwise.

    In the inbox any name Linux allows is plain except hidden ones; elsewhere only names this spool
    makes (no backslash either: a claim carries its original escaped).
    """
    if (
        not name
        or name in (".", "..")
        or name.startswith(".")
        or "/" in name
        or "\x00" in name
        or os.sep in name
        or (not inbox and "\\" in name)
    ):
        raise UnsafeName("name is not a plain file name inside the spool", name=escape_name(name))
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
        return self.folder(name=folder) / check_name(name, inbox=folder == "inbox")

    def counts(self) -> dict[str, int]:
        """Files per folder (``failed/`` without the ``.error.json`` notes; dotfiles never counted)."""
        out: dict[str, int] = {}
        for name in FOLDERS:
            try:
                names = {e.name for e in os.scandir(self.folder(name)) if not e.name.startswith(".")}
            except FileNotFoundError:
                out[name] = 0
                continue
            out[name] = len(names - _notes(names)) if name == "failed" else len(names)
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
        # A short temporary name: the note's own name is as long as a name may be.
        tmp = self.failed / f".note-{uuid.uuid4().hex}.tmp"
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
            found = {e.name for e in os.scandir(self.failed) if not e.name.startswith(".")}
        except FileNotFoundError:
            return []
        out = []
        for name in sorted(found - _notes(found)):
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
        name = check_name(inbox_name(claim), inbox=True)
        target = self.path("inbox", name)
        if target.exists():
            stem, dot, ext = name.partition(".")
            suffix = f"-retry-{uuid.uuid4().hex[:6]}{dot}{ext}"
            if len(os.fsencode(suffix)) > NAME_MAX_BYTES // 2:
                stem, suffix = name, f"-retry-{uuid.uuid4().hex[:6]}"
            while len(os.fsencode(stem + suffix)) > NAME_MAX_BYTES:
                stem = stem[:-1]
            target = self.path("inbox", stem + suffix)
        os.rename(source, target)
        self.path("failed", claim + ERROR_SUFFIX).unlink(missing_ok=True)
        journal = Journal.for_spool(self.root)
        if journal is not None:
            journal.record(claim, [step("retried", to=escape_name(target.name))])
        return target


def _notes(names: set[str]) -> set[str]:
    """The error notes among a ``failed/`` listing: ``X.error.json`` beside its file ``X``.

    A failed file may itself be named ``*.error.json`` (dropped so before claims escaped that ending):
    it is a note only if the file it describes is there too.
    """
    return {n for n in names if n.endswith(ERROR_SUFFIX) and n[: -len(ERROR_SUFFIX)] in names}
