"""What the splitter tests share: the folder of fixture pages and an article's outline to compare."""

from __future__ import annotations

from pathlib import Path

from shared.messages import Article

PAGES = Path(__file__).resolve().parents[1] / "fixtures" / "pages"


def outline(article: Article) -> tuple[object, ...]:
    """(role, headline, place, agencies, relative time, first five body words)."""
    dateline = article.dateline
    return (
        article.role,
        article.headline,
        dateline.place if dateline else None,
        dateline.agencies if dateline else None,
        article.relative_time,
        " ".join(article.body.split()[:5]),
    )
