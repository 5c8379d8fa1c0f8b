"""Times as the store keeps them: aware UTC going in, aware UTC coming out (SQLite keeps no zone)."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)


def to_utc(value: datetime | None) -> datetime | None:
    """Aware UTC for storage: SQLite keeps no zone, so everything is written in UTC."""
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def aware(value: datetime | None) -> datetime | None:
    """A time read back from either backend, as aware UTC (SQLite hands back naive UTC)."""
    return to_utc(value)
