"""The spool lives in ``shared.spool`` (the console's retry uses it too); this name stays for ingest's imports."""

from shared.spool import (
    CLAIM_SEPARATOR,
    ERROR_SUFFIX,
    FOLDERS,
    IGNORED_SUFFIXES,
    NAME_MAX_BYTES,
    SHORTENED_MARK,
    Spool,
    UnsafeName,
    check_name,
    is_candidate_name,
    new_claim_name,
    original_name,
)

__all__ = [
    "CLAIM_SEPARATOR",
    "ERROR_SUFFIX",
    "FOLDERS",
    "IGNORED_SUFFIXES",
    "NAME_MAX_BYTES",
    "SHORTENED_MARK",
    "Spool",
    "UnsafeName",
    "check_name",
    "is_candidate_name",
    "new_claim_name",
    "original_name",
]
