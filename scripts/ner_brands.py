"""Brands and operators serving the Netherlands and Belgium, for the NER rules' organisation list.

The stock-index list (``ner_companies.py``) misses the private and consumer-facing firms the wire
writes about every day: supermarkets ("Jumbo", "Lidl"), banks ("Rabobank", "Belfius"), telecoms
("Odido", "Telenet"), energy companies and grid operators ("Eneco", "Fluvius"), transport operators
("Arriva", "De Lijn"). OpenStreetMap's name-suggestion-index (npm package ``name-suggestion-index``,
BSD-3-Clause, © name-suggestion-index contributors) lists them, each with the countries it serves.

Two steps, because the package comes from npm, which ``make model`` must not need:

1. ``extract`` (run by hand, documented in the model card): read ``dist/json/nsi.json`` of the npm
   package and write ``scripts/data/nsi_brands.tsv`` (committed): one row per brand or operator name
   of a company category that serves NL or BE, Europe or the world, with its category and areas::

       npm pack name-suggestion-index && tar xzf name-suggestion-index-*.tgz
       .venv/bin/python scripts/ner_brands.py package/

2. ``build`` (run by ``make model`` through ``ner_lexicon.build``): read the committed file and keep
   the names that can be tagged ORG on sight, with the company list's filters (``ner_companies.usable``:
   no lower-case word of the open training text, no listed place, MISC name or first name, no very
   short name) and a hand list of words and names the wire uses otherwise ("Action" stays out,
   "Mango" and "Guess" too). A name opening with a first name is kept only for a brand of the Low
   Countries alone ("Albert Heijn", "Hans Anders"); worldwide ones are often a designer's own name
   ("Calvin Klein", "Tom Ford").
"""

from __future__ import annotations

import json
import re
import sys
import unicodedata
from pathlib import Path

import ner_companies

REPO = Path(__file__).resolve().parents[1]
DATA_FILE = REPO / "scripts" / "data" / "nsi_brands.tsv"
AREAS = ("nl", "be", "150", "001")  # the two countries, Europe, the world (UN M49 codes)
LOCAL = frozenset({"nl", "be"})
# Operator categories whose operators are companies (grid, telecom, energy, transport, parking, post);
# left out: schools, waste, surveillance, toilets, ... whose operators are mostly municipalities.
OPERATOR_CATEGORIES = (
    "operators/power/",
    "operators/telecom/",
    "operators/route/power",
    "operators/office/energy_supplier",
    "operators/office/water_utility",
    "operators/amenity/charging_station",
    "operators/man_made/charge_point",
    "operators/man_made/street_cabinet",
    "operators/man_made/mast",
    "operators/man_made/tower",
    "operators/amenity/car_sharing",
    "operators/amenity/bicycle_rental",
    "operators/amenity/parking",
    "operators/amenity/post_",
    "operators/amenity/telephone",
    "transit/route/",
)
# Tags that name the company. A transit "network" is often a concession area ("Zeeland", "Twente").
BRAND_TAGS = ("brand", "brand:nl", "operator", "operator:nl", "operator:short")
OPERATOR_TAGS = ("operator", "operator:nl", "operator:short")
# Words and names the wire uses as something else, not lower-case in the open text (English words,
# Dutch words written capitalised, first names, concepts): left out however they are listed.
AMBIGUOUS = frozenset(
    {
        "Action", "Power", "Switch", "Change", "Cash", "Max", "Lime", "Steps", "Okay", "Pink", "Sky",
        "Smart", "Delta", "National", "Profile", "Expert", "Quick", "Quickly", "Mini", "Coop", "Kiosk",
        "Velo", "Wash", "Mango", "Guess", "Only", "ONLY", "Replay", "Puma", "Jaguar", "Seat", "Lotus",
        "Giant", "Triumph", "Tango", "Bonjour", "Christ", "Primera", "Ram", "Alliance", "Enterprise",
        "Discovery", "Continental", "Admiral", "Prudential", "Next", "Genesis", "Marathon", "Humana",
        "Orchestra", "Dreamland", "Premio", "Paprika", "Capi", "Cappuccino", "Champion", "Columbia",
        "Concordia", "Defender", "Electra", "Emma", "Indigo", "Lincoln", "Mustang", "Bristol", "Toscana",
        "Stella", "Storm", "Sumo", "Sonic", "Trafic", "Typo", "Veritas", "Vivo", "Persona", "Polaris",
        "Relay", "Roots", "Spaces", "Subway", "Bunny", "Boni", "Brice", "Cecil", "Foley", "Barnes",
        "Odin", "Norah", "Pablo", "Luciano", "Agatha", "Sacha", "Julia's", "Paul", "Tudor", "Omega",
        "Orange", "Elan", "Mercantil", "Millennium", "Motto", "Normal", "Prink", "Profi", "Sparki",
        "Stop", "Tank", "Taj", "Trek", "Zilli", "Gap", "Lush", "Coach", "Casino", "Dirk", "Loop",
        "Match", "Budget", "Element", "Digicel", "Habitat", "Hermes", "Vue", "Ora", "Pepsi", "Avia",
        "Mobil", "Alpine", "Mantel", "Goed", "Hampton", "Graff", "Maes", "Amac", "Automat", "Chase",
        "Costa", "Courtyard", "Curves", "Douglas", "Lloyd", "Schmidt", "Gautier", "Goossens", "Haan",
        "Lawson", "Peut", "Bosco", "Mitra", "Ergo", "Messer", "Reserved", "Specialized", "Checkers",
        "Subdued", "Nuance", "Rapha", "Sonder", "Soeur", "Tous", "Arche", "Adagio", "Calliope", "Cora",
        "Didi", "Glo", "Aiden", "Adopt'", "Diptyque'", "Ria", "Vib", "Madura", "Indra", "Pandora",
        "Kauai", "Gulf", "Fossil", "Bench.", "Converse", "Camper", "Salamander", "Kipling", "Mulberry",
        "Pendleton", "Courir", "Midas", "Nyx", "OldBoy", "Bauhaus", "Argos", "Avon", "Alamo", "Aldo",
        "Celine", "Chloé", "Valentino", "Dodge", "Ibis", "Aloft", "Breng", "Verhage", "Heytens",
        "Schoonenberg", "Gabriëls", "Nobu", "The Sting", "The Stone", "Tank S", "Cotton Club",
        "Fashion Market", "Firmenladen", "Kinderzwerfboek", "Minibieb", "Stationswerk", "Unbound Collection",
        "Curio Collection", "Enjoy a book", "Bieb Bieb Aalst", "IC", "OK", "WE", "DA", "IP", "PUB",
        # Dutch nouns a brand is named after, capitalised at the start of a sentence ("Topman X zegt")
        "Topman", "Keurslager", "Wereldwinkel", "Goudwisselkantoor", "Dagwinkel", "Superkeukens",
        "Fietswereld", "Oogwereld", "Boekenvoordeel", "Marskramer", "Trekpleister", "Kringwinkel", "Berkman",
        "Casa", "Bonita", "Plus", "Leon", "Allsafe",
    }
)  # fmt: skip
# First names of designers and founders whose name is also the brand ("Calvin Klein"), beside the
# first-name list of the lexicon: such a brand is kept only where it serves the Low Countries alone.
FOUNDER_NAMES = frozenset(
    {
        "Calvin", "Tommy", "Stella", "Jimmy", "Tory", "Jil", "Jo", "Bobbi", "Vanessa", "Marina",
        "Elisabetta", "Gerry", "Betty", "Howard", "Laura", "Salvatore", "Stuart", "Ted", "Ulla", "Dan",
        "Simon", "Charles", "Franck", "Cole", "Helly", "Claudie", "Alain", "Éric", "Brunello", "Gudrun",
        "Kate", "Yves", "Polo", "Jack", "Johnny", "Louis", "Massimo", "Giorgio", "Michael", "Marc",
        "Karl", "Tom", "Hugo", "Bram", "Anna", "Claudia", "Hans", "Jan", "Albert", "Leen", "Patek",
        "Loro", "Armand", "Arthus", "Harman", "Gloria", "Vacheron", "Martin's", "Long",
    }
)  # fmt: skip
_LATIN = re.compile(r"^[\w\s&'’.+\-!@]+$")


def latin(name: str) -> bool:
    """Whether ``name`` is written in Latin letters (Cyrillic, CJK names do not occur in Dutch text)."""
    if not _LATIN.match(name):
        return False
    return all(not ch.isalpha() or unicodedata.name(ch, "").startswith("LATIN") for ch in name)


def _names(tags: dict[str, str], keys: tuple[str, ...]) -> set[str]:
    return {n.strip() for key in keys if key in tags for n in tags[key].split(";") if n.strip()}


def extract(package: Path) -> list[tuple[str, str, str]]:
    """Rows ``(name, category, areas)`` of ``package``'s brands and company operators serving AREAS."""
    nsi = json.loads((package / "dist" / "json" / "nsi.json").read_text(encoding="utf-8"))["nsi"]
    rows: dict[str, tuple[str, set[str]]] = {}
    for category, tree in sorted(nsi.items()):
        brand = category.startswith("brands/")
        if not (brand or category.startswith(OPERATOR_CATEGORIES)):
            continue
        for item in tree["items"]:
            include = {str(code).lower() for code in item["locationSet"].get("include", [])}
            exclude = {str(code).lower() for code in item["locationSet"].get("exclude", [])}
            areas = include & set(AREAS)
            if not areas or exclude & LOCAL:
                continue
            for name in _names(item["tags"], BRAND_TAGS if brand else OPERATOR_TAGS):
                if latin(name):
                    first, seen = rows.get(name, (category.split("/", 1)[1], set()))
                    rows[name] = (first, seen | areas)
    return [(name, cat, ",".join(sorted(areas))) for name, (cat, areas) in sorted(rows.items())]


def write(rows: list[tuple[str, str, str]], version: str, path: Path = DATA_FILE) -> None:
    """The committed data file: a header naming source, version and licence, then one row per name."""
    path.parent.mkdir(parents=True, exist_ok=True)
    header = [
        f"# name-suggestion-index {version} (npm package name-suggestion-index, OpenStreetMap),",
        "# BSD-3-Clause, (c) name-suggestion-index contributors; written by scripts/ner_brands.py.",
        "# Brands and company operators serving nl, be, Europe (150) or the world (001).",
        "# name\tcategory\tareas",
    ]
    lines = [*header, *("\t".join(row) for row in rows)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def read(path: Path = DATA_FILE) -> list[tuple[str, str, frozenset[str]]]:
    """The rows of the committed data file."""
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            name, category, areas = line.split("\t")
            rows.append((name, category, frozenset(areas.split(","))))
    return rows


def form(name: str) -> str:
    """The name without a trailing legal form ("Kuehne+Nagel B.V." → "Kuehne+Nagel")."""
    words = name.split()
    while len(words) > 1 and words[-1] in ner_companies.LEGAL_FORMS:
        words.pop()
    return " ".join(words)


def build(*, common: set[str], listed: set[str], first_names: set[str], path: Path = DATA_FILE) -> set[str]:
    """The brand list: every usable name of the committed file (see the module docstring)."""
    out: set[str] = set()
    for listed_name, _category, areas in read(path):
        for name in variants(listed_name, areas):
            if _usable(name, areas, common=common, listed=listed, first_names=first_names):
                out.add(name)
    return out


def variants(name: str, areas: frozenset[str]) -> set[str]:
    """The name without a trailing legal form ("Kuehne+Nagel B.V." → "Kuehne+Nagel"), and for a brand
    of the Low Countries an all-caps name also as the Dutch press writes it ("HEMA" → "Hema")."""
    name = form(name)
    spoken = any(ch in "aeiou" for ch in name[1:].lower())  # "HEMA" is said as a word, "ANWB" spelled
    if areas <= LOCAL and len(name) >= 4 and name.isalpha() and name.isupper() and spoken:
        return {name, name.title()}
    return {name}


def _usable(
    name: str, areas: frozenset[str], *, common: set[str], listed: set[str], first_names: set[str]
) -> bool:
    """Whether ``name`` can be tagged ORG on sight (see the module docstring)."""
    words = name.split()
    if name in AMBIGUOUS or any(ch.isdigit() for ch in words[0]):
        return False
    if len(name) < 3 and not (name.isupper() and areas <= LOCAL):  # "NS", "NN"; not "BT", "MG"
        return False
    person_like = words[0] in first_names | FOUNDER_NAMES
    if person_like and (len(words) == 1 or not areas <= LOCAL):
        return False
    names = first_names - {words[0]} if person_like else first_names
    return ner_companies.usable(name, common=common, listed=listed, first_names=names)


def main(argv: list[str]) -> int:
    package = Path(argv[1]) if len(argv) > 1 else Path("package")
    version = json.loads((package / "package.json").read_text(encoding="utf-8"))["version"]
    rows = extract(package)
    write(rows, version)
    print(f"{len(rows)} names from name-suggestion-index {version} written to {DATA_FILE}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
