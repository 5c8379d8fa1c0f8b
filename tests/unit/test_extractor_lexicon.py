"""Which lexicon ``load_extractor`` pairs with a model."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from services.enrich.entities import load_extractor
from services.enrich.entities.engine import SHIPPED_MODEL

pytestmark = [pytest.mark.unit]


def test_a_model_folder_brings_its_own_lexicon(tmp_path: Path) -> None:
    """A model given by folder is used with the lexicon inside that folder, not the shipped one (a copy
    pinned for a run must not change when the shipped lexicon is edited)."""
    model = tmp_path / "model"
    shutil.copytree(SHIPPED_MODEL, model)
    (model / "lexicon" / "org.txt").write_text("Stichting Proefkonijn Nederland\n", encoding="utf-8")
    for built in ("companies.txt", "brands.txt"):  # the organisation lists built with the model
        (model / "lexicon" / built).write_text("", encoding="utf-8")
    extractor = load_extractor(str(model))
    assert extractor.rules.lexicon.phrases["ORG"] == frozenset({"Stichting Proefkonijn Nederland"})
