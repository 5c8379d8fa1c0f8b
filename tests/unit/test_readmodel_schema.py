"""The read layers' Core tables (``shared.readmodel.schema``, read by the console and the CLI) stay true
to the store's models: every column they name exists in the model's table with the same kind of type,
so a renamed or retyped column fails here, not in an operator's ``dropwire articles`` or a console page."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from services.store.models import Base
from shared.readmodel.schema import MODEL_TABLES

pytestmark = pytest.mark.unit


def _kind(t: sa.types.TypeEngine) -> type:
    """The generic type of a column (Integer for BigInteger and its SQLite variant, String for CHAR)."""
    return t._type_affinity or type(t)


@pytest.mark.parametrize("table", MODEL_TABLES, ids=lambda t: t.name)
def test_each_read_column_is_a_model_column_of_the_same_kind(table: sa.TableClause) -> None:
    model = Base.metadata.tables[table.name]
    for column in table.c:
        assert column.name in model.c, f"{table.name}.{column.name} is not in the models"
        assert not isinstance(column.type, sa.types.NullType), f"{table.name}.{column.name} has no type"
        assert _kind(column.type) is _kind(model.c[column.name].type), (table.name, column.name)
        if isinstance(column.type, sa.DateTime):  # aware UTC on PostgreSQL, as the writes store it
            assert column.type.timezone == model.c[column.name].type.timezone, (table.name, column.name)


def test_every_read_table_is_checked() -> None:
    """A table added to the schema module is added to ``MODEL_TABLES`` too (or is the search index)."""
    import shared.readmodel.schema as schema

    tables = {v.name for v in vars(schema).values() if isinstance(v, sa.TableClause)}
    assert tables - {t.name for t in MODEL_TABLES} == {"articles_search"}
