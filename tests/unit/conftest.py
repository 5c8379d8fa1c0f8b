"""Fixtures of the unit tests."""

from __future__ import annotations

import pytest

from services.enrich.entities import EntityExtractor, load_extractor
from services.enrich.entities.engine import SHIPPED_MODEL


@pytest.fixture(scope="session")
def extractor() -> EntityExtractor:
    """The shipped NER model with its lists and rules, loaded once for every test that reads it."""
    return load_extractor(str(SHIPPED_MODEL))
