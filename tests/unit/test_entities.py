"""The entity extractor with the shipped model: labels, offsets, canonical names, places, seed names."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.enrich.entities import EntityExtractor, load_extractor
from services.enrich.entities.canonical import canonical_names, propagate
from services.enrich.entities.engine import map_label
from shared.messages import Article

pytestmark = pytest.mark.unit

# The modern names of the issue, each in a sentence of the team's own, with the label it must get.
SEED_SENTENCES = [
    ("De Amerikaanse gezant Steve Witkoff reist naar Moskou.", "Steve Witkoff", "PER"),
    ("Minister Abbas Araqchi sprak in Genève met zijn collega's.", "Abbas Araqchi", "PER"),
    ("Zohran Mamdani is de nieuwe burgemeester van New York.", "Zohran Mamdani", "PER"),
    ("De Britse premier Keir Starmer zette zijn kabinet om.", "Keir Starmer", "PER"),
    ("De beweging Hezbollah vuurde raketten af op het noorden van Israël.", "Hezbollah", "ORG"),
    ("Volgens UNAMA vielen er meer burgerdoden in het zuiden.", "UNAMA", "ORG"),
    ("Dat schrijft de Financial Times op basis van bronnen.", "Financial Times", "ORG"),
    ("In het Louvre zijn juwelen gestolen.", "Louvre", "LOC"),  # museums: LOC as in ned.testa
    ("De film One Battle After Another won de prijs.", "One Battle After Another", "MISC"),
    ("De Russische president sprak over Oekraïne.", "Russische", "MISC"),
    ("De Russische president sprak over Oekraïne.", "Oekraïne", "LOC"),
]


def article(body: str, seq: int = 0) -> Article:
    return Article(seq=seq, role="main", body=body)


def test_shipped_model_reports_its_version(extractor: EntityExtractor) -> None:
    """The shipped pipeline names itself like a spaCy package, with a version."""
    assert extractor.version.startswith("nl_dropwire_ner-")


@pytest.mark.parametrize(("body", "text", "label"), SEED_SENTENCES)
def test_seed_names_get_the_right_label(extractor: EntityExtractor, body: str, text: str, label: str) -> None:
    """Each modern name of the issue is found whole and with its CoNLL-2002 label."""
    (annotated,) = extractor.annotate([article(body)])
    assert (text, label) in {(e.text, e.label) for e in annotated.entities}


def test_offsets_point_into_the_body(extractor: EntityExtractor) -> None:
    """Every entity's start/end cut exactly its text out of the article body."""
    body = (
        "DEN HAAG - Premier Dick Schoof sprak maandag in Brussel met de NAVO.\nDaarna reisde hij naar Kyiv."
    )
    (annotated,) = extractor.annotate([article(body)])
    assert annotated.entities
    for entity in annotated.entities:
        assert body[entity.start : entity.end] == entity.text


def test_later_surname_joins_earlier_full_name_across_articles(extractor: EntityExtractor) -> None:
    """Within one document a later "Trump" (even in another article) gets the canonical "Donald Trump"."""
    first = article("President Donald Trump sprak in Washington met journalisten.", 0)
    second = article("Volgens Trump is de oorlog bijna voorbij.", 1)
    out = extractor.annotate([first, second])
    trump = [e for e in out[1].entities if e.text == "Trump"]
    assert trump and trump[0].label == "PER" and trump[0].name == "Donald Trump"


def test_places_resolve_through_the_gazetteer(extractor: EntityExtractor) -> None:
    """A LOC mention carries the gazetteer's place: canonical name, country and coordinates."""
    (annotated,) = extractor.annotate([article("De delegatie reisde van Moskou naar Den Haag.")])
    places = {e.text: e.place for e in annotated.entities if e.label == "LOC"}
    assert places["Den Haag"] is not None and places["Den Haag"].country == "NL"
    assert places["Moskou"] is not None and places["Moskou"].name == "Moscow"
    assert places["Moskou"].lat is not None


def test_annotate_returns_copies_and_leaves_input_alone(extractor: EntityExtractor) -> None:
    """annotate returns new articles; the originals keep their (empty) entities."""
    original = article("Mark Rutte leidt de NAVO.")
    (annotated,) = extractor.annotate([original])
    assert original.entities == () and annotated.entities
    assert annotated.model_copy(update={"entities": ()}) == original


def test_empty_body_has_no_entities(extractor: EntityExtractor) -> None:
    """An article without body text gets no entities and no error."""
    (annotated,) = extractor.annotate([article("")])
    assert annotated.entities == ()


def test_label_map_covers_ontonotes_style_labels() -> None:
    """Labels of other pipelines map onto PER/LOC/ORG/MISC; numbers and dates are dropped."""
    assert [map_label(x) for x in ("PERSON", "GPE", "NORP", "ORG", "EVENT", "DATE", "MISC")] == [
        "PER",
        "LOC",
        "MISC",
        "ORG",
        "MISC",
        None,
        "MISC",
    ]


def test_another_pipeline_plugs_in_with_label_mapping(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DROPWIRE_NER_MODEL names another pipeline; its PERSON/GPE labels come out as PER/LOC."""
    import spacy

    nlp = spacy.blank("nl")
    ruler = nlp.add_pipe("entity_ruler")
    ruler.add_patterns(
        [{"label": "PERSON", "pattern": "Marie Curie"}, {"label": "GPE", "pattern": "Warschau"}]
    )
    nlp.meta.update({"name": "site_model", "version": "2.0.0"})
    nlp.to_disk(tmp_path / "site_model")
    monkeypatch.setenv("DROPWIRE_NER_MODEL", str(tmp_path / "site_model"))
    plugged = load_extractor()
    assert plugged.version == "nl_site_model-2.0.0"
    (annotated,) = plugged.annotate([article("Marie Curie werd geboren in Warschau.")])
    got = {(e.text, e.label) for e in annotated.entities}
    assert {("Marie Curie", "PER"), ("Warschau", "LOC")} <= got


def test_unknown_model_fails_clearly() -> None:
    """A model name that is neither a folder nor a package raises ModelNotFound."""
    from services.enrich.entities.engine import ModelNotFound

    with pytest.raises(ModelNotFound):
        load_extractor("/nonexistent/nl_no_such_model")


def test_propagation_tags_a_name_everywhere_in_the_document() -> None:
    """A name tagged in one sentence is tagged where it recurs untagged, with the majority label."""
    units = [
        (["Jan", "Peeters", "van", "Tectrade", "zei", "het"], [(0, 2, "PER"), (3, 4, "ORG")]),
        (["Tectrade", "groeit", "en", "Peeters", "lacht"], []),
    ]
    assert propagate(units)[1] == [(0, 1, "ORG"), (3, 4, "PER")]


def test_canonical_names_prefer_the_longest_matching_name() -> None:
    """A mention that ends a longer same-label name in the document gets that longer name."""
    mentions = [("Keir Starmer", "PER"), ("Starmer", "PER"), ("Starmer", "ORG"), ("Labour", "ORG")]
    assert canonical_names(mentions) == ["Keir Starmer", "Keir Starmer", "Starmer", "Labour"]


def test_annotating_documents_together_gives_each_what_it_gets_alone(extractor: EntityExtractor) -> None:
    """annotate_many (one nlp.pipe over every document's articles): the same entities per document as
    annotate, and names joined within a document only ("Rutte" alone is not tied to another's "Mark Rutte")."""
    documents = [
        (article("Premier Mark Rutte sprak in Den Haag met Ahmed Aboutaleb."), article("Rutte zweeg.", 1)),
        (article("Rutte bezocht Rotterdam en de Erasmusbrug."),),
        (article("Het kabinet in Den Haag besloot niets."),),
    ]
    together = extractor.annotate_many(documents)
    assert together == [extractor.annotate(articles) for articles in documents]
