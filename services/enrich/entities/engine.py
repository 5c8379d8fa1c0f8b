"""Loading the spaCy pipeline (shipped model, a path, or an installed package) and mapping its labels.

Any spaCy pipeline with an ``ner`` component can be plugged in through ``DROPWIRE_NER_MODEL``; its
labels are mapped onto the CoNLL-2002 set with ``LABEL_MAP`` (OntoNotes-style labels such as
PERSON/GPE/NORP used by spaCy's own Dutch pipelines included). Labels mapped to None are dropped.
"""

from __future__ import annotations

from pathlib import Path

import spacy
from spacy.language import Language

MODELS_DIR = Path(__file__).resolve().parents[1] / "models"
SHIPPED_MODEL = MODELS_DIR / "nl_dropwire_ner"
LEXICON_DIR = SHIPPED_MODEL / "lexicon"

# Components the NER needs; everything else (parser, lemmatizer, ...) is switched off for speed.
KEEP_PIPES = frozenset({"tok2vec", "transformer", "ner", "entity_ruler"})
ENTITY_PIPES = frozenset({"ner", "entity_ruler"})  # components that set ``doc.ents``

LABEL_MAP: dict[str, str | None] = {
    "PER": "PER",
    "PERSON": "PER",
    "LOC": "LOC",
    "GPE": "LOC",
    "FAC": "LOC",
    "LOCATION": "LOC",
    "ORG": "ORG",
    "ORGANIZATION": "ORG",
    "NORP": "MISC",
    "MISC": "MISC",
    "EVENT": "MISC",
    "WORK_OF_ART": "MISC",
    "PRODUCT": "MISC",
    "LANGUAGE": "MISC",
    "LAW": "MISC",
    # numbers, dates and amounts are not names
    "DATE": None,
    "TIME": None,
    "PERCENT": None,
    "MONEY": None,
    "QUANTITY": None,
    "ORDINAL": None,
    "CARDINAL": None,
}


class ModelNotFound(RuntimeError):
    """The configured NER model is neither a pipeline folder nor an installed spaCy package."""


def load_pipeline(model: str | Path | None = None) -> Language:
    """The spaCy pipeline at ``model`` (a folder or a package name; None: the shipped model)."""
    target = SHIPPED_MODEL if model is None else model
    try:
        nlp = spacy.load(target)
    except OSError as exc:
        raise ModelNotFound(f"cannot load NER model {str(target)!r}: {exc}") from exc
    if not ENTITY_PIPES & set(nlp.pipe_names):
        raise ModelNotFound(f"NER model {str(target)!r} has no 'ner' or 'entity_ruler' component")
    for name in nlp.pipe_names:
        if name not in KEEP_PIPES:
            nlp.disable_pipe(name)
    return nlp


def pipeline_version(nlp: Language) -> str:
    """``<lang>_<name>-<version>`` as spaCy packages name themselves, e.g. ``nl_dropwire_ner-0.1.0``."""
    meta = nlp.meta
    return f"{meta.get('lang', 'xx')}_{meta.get('name', 'pipeline')}-{meta.get('version', '0.0.0')}"


def model_version(model: str | Path | None = None) -> str:
    """The version string of ``model`` read from its meta.json, without loading it (for build info)."""
    target = SHIPPED_MODEL if model is None else model
    path = Path(target)
    try:
        if not path.is_dir():
            path = spacy.util.get_package_path(str(target))
        meta = spacy.util.get_model_meta(path)
    except (OSError, ValueError, ModuleNotFoundError) as exc:
        raise ModelNotFound(f"cannot read the meta.json of NER model {str(target)!r}: {exc}") from exc
    return f"{meta.get('lang', 'xx')}_{meta.get('name', 'pipeline')}-{meta.get('version', '0.0.0')}"


def map_label(label: str) -> str | None:
    """The CoNLL-2002 label for a pipeline label (None: not a name we report)."""
    return LABEL_MAP.get(label.upper(), label if label in ("PER", "LOC", "ORG", "MISC") else None)
