"""Tables for the operator commands: headers, and widths that fit the terminal (rich).

Short columns never wrap; the one ``flexible`` column (a headline, a detail) takes what is left and is
cut with an ellipsis rather than wrapping every row. Off a terminal (a pipe, a file) the width is
``COLUMNS`` or rich's 80; scripts should use ``--json``, whose output these tables never change.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from rich.console import Console
from rich.table import Table


@dataclass(frozen=True)
class Column:
    header: str
    justify: Literal["left", "right"] = "left"
    flexible: bool = False  # takes the remaining width, cut with "…"


def print_table(columns: Sequence[Column], rows: Iterable[Sequence[Any]], title: str | None = None) -> None:
    """Print ``rows`` under ``columns`` to standard output; ``None`` cells print empty."""
    table = Table(
        title=title,
        title_justify="left",
        box=None,
        header_style="bold",
        pad_edge=False,
        expand=any(c.flexible for c in columns),
    )
    for column in columns:
        table.add_column(
            column.header,
            justify=column.justify,
            no_wrap=True,
            overflow="ellipsis",
            ratio=1 if column.flexible else None,
        )
    for row in rows:
        table.add_row(*("" if cell is None else str(cell) for cell in row))
    # Markup and highlighting off: stored text (headlines, file names) is printed as it is.
    Console(markup=False, highlight=False, emoji=False, soft_wrap=False).print(table)
