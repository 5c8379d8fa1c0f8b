"""Build-time list of listed companies for the NER rules, as Dutch wire text names them.

Source: the stock-index constituent lists shipped in the ``pytickersymbols`` package (MIT licence; its
names are compiled from Wikipedia's index pages). Only the names are taken. Each is written the way the
wire writes it: legal forms dropped ("Aegon N.V." → "Aegon", "Shell plc" → "Shell"), and a short name
beside the longer one where a generic word ends or opens it ("ASML Holding" → also "ASML",
"Koninklijke Philips" → also "Philips"). Names that a reader could take for something else are left
out: a lower-case word of the open training text ("Exor" stays, "Next" would not), a listed place,
nationality or first name, a name that starts with a first name ("Ralph Lauren", a person's name too),
and very short names. Nothing here runs at run time: the list is written beside the model.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

# Indices whose companies Dutch and Belgian wire text writes about. Small-cap lists (S&P 600, SDAX)
# and the full S&P 500 are left out: many of their names are ordinary English words.
INDICES = (
    "AEX",
    "BEL 20",
    "CAC_40",
    "DAX",
    "MDAX",
    "TecDAX",
    "EURO STOXX 50",
    "FTSE 100",
    "IBEX 35",
    "Switzerland 20",
    "OMX Stockholm 30",
    "OMX Helsinki 25",
    "DOW JONES",
    "NASDAQ 100",
    "S&P 100",
    "NIKKEI 225",
)

# Legal forms: never part of the name the wire uses ("ASML Holding N.V." is "ASML Holding").
LEGAL_FORMS = frozenset(
    {
        "N.V.", "NV", "B.V.", "BV", "SE", "S.E.", "SA", "S.A.", "AG", "plc", "PLC", "Plc", "Inc.", "Inc",
        "Corp.", "Corp", "Co.", "Ltd", "Ltd.", "Limited", "KGaA", "AB", "ASA", "Oyj", "A/S", "S.p.A.",
        "SpA", "N.A.", "LLC", "L.P.", "Incorporated", "&",
    }
)  # fmt: skip
# Generic words that open or end a listed name; the wire often leaves them off ("ING Group" → "ING").
GENERIC_TAILS = frozenset(
    {
        "Group", "Groep", "Holding", "Holdings", "International", "Nederland", "Company", "Corporation",
        "Companies", "Co", "Industries", "Worldwide", "Global", "Enterprises", "Incorporated",
    }
)  # fmt: skip
GENERIC_HEADS = frozenset({"Koninklijke", "Royal", "The"})
# English words a Dutch lower-case word list does not catch but the wire uses as words or names too.
AMBIGUOUS = frozenset(
    {
        "Target", "Visa", "Block", "Ball", "Match", "Next", "Sage", "Intact", "Progressive", "Universal",
        "General", "Diploma", "Admiral", "Capital", "Equity", "Imperial", "Old", "United", "American",
        "Discovery", "Fox", "Continental", "Prudential", "Schindler", "Evolution", "Hexagon", "Compass",
        "Disco", "Investor", "Elisa", "Southern", "Rational", "Sharp", "Orion", "Toto", "SCREEN", "SHIFT",
        "Recruit", "Kingfisher",
    }
)  # fmt: skip
MIN_CHARS = 3  # shorter names ("3i") only with their generic word; two-letter acronyms ("BP") are fine
_SPACES = re.compile(r"\s+")
_SHARE_CLASS = re.compile(r"^(\w*[a-zåäö])[ABC]$")


def constituents(indices: Iterable[str] = INDICES) -> list[str]:
    """The company names of ``indices`` as the package writes them ("Koninklijke Philips N.V.")."""
    from pytickersymbols.indices_data import INDICES as DATA

    names: list[str] = []
    for index in indices:
        names.extend(company["name"] for company in DATA[index]["companies"])
    return names


def variants(name: str) -> set[str]:
    """The forms of one listed name the wire writes: without legal forms, and the short name without
    a generic head or tail word ("Koninklijke Ahold Delhaize N.V." → "Koninklijke Ahold Delhaize",
    "Ahold Delhaize"); an all-caps word of four or more letters also in title case ("ABN Amro")."""
    words = [w.strip(",") for w in _SPACES.split(name.replace(" , ", ", ").strip()) if w.strip(",")]
    # "KalmarB", "IndustrivärdenC": the share class (not a legal form's last letter: "SpA")
    words = [w if w in LEGAL_FORMS else _SHARE_CLASS.sub(r"\1", w) for w in words]
    while words and words[-1] in LEGAL_FORMS:
        words.pop()
    forms = {" ".join(words)} if words else set()
    short = list(words)
    while len(short) > 1 and (short[-1] in GENERIC_TAILS | LEGAL_FORMS or short[-1].islower()):
        short.pop()  # "Eli Lilly and Company" → "Eli Lilly"
    while len(short) > 1 and short[0] in GENERIC_HEADS:
        short.pop(0)
    if short:
        forms.add(" ".join(short))
    for form in list(forms):  # a later all-caps word as the Dutch press writes it: "ABN AMRO" → "ABN Amro"
        head, *rest = form.split()
        if any(len(p) >= 4 and p.isalpha() and p.isupper() for p in rest):
            forms.add(
                " ".join(
                    [head, *(p.title() if len(p) >= 4 and p.isalpha() and p.isupper() else p for p in rest)]
                )
            )
    return forms


def usable(form: str, *, common: set[str], listed: set[str], first_names: set[str]) -> bool:
    """Whether ``form`` can be tagged ORG on sight (see the module docstring for what is left out)."""
    words = form.split()
    acronym = form.isalpha() and form.isupper() and len(form) >= 2
    if (len(form) < MIN_CHARS and not acronym) or not (form[:1].isupper() or form[:1].isdigit()):
        return False
    if form in listed or form in AMBIGUOUS or words[0] in first_names:
        return False
    if len(words) == 1 and (form.lower() in common or not any(ch.isalpha() for ch in form)):
        return False
    return not (len(words) == 1 and words[0] in GENERIC_TAILS | GENERIC_HEADS)


def build(*, common: set[str], listed: set[str], first_names: set[str]) -> set[str]:
    """The company list: every usable form of every constituent of ``INDICES``."""
    out: set[str] = set()
    for name in constituents():
        out.update(
            form
            for form in variants(name)
            if usable(form, common=common, listed=listed, first_names=first_names)
        )
    return out
