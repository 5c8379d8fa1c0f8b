"""The words the entity rules read as cues: name particles, titles, organisation and place context.

Each list says in its comment what it cues; ``services.enrich.entities.rules`` applies them. All were
chosen on the dev sets (see ``services/enrich/models/MODEL_CARD.md``).
"""

from __future__ import annotations

import re

# Lower-case words that may sit inside a name ("Jan van der Berg", "Osama bin Laden").
NAME_PARTICLES = frozenset(
    [
        "van",
        "de",
        "der",
        "den",
        "ten",
        "ter",
        "te",
        "het",
        "von",
        "zu",
        "da",
        "di",
        "del",
        "della",
        "des",
        "das",
        "dos",
        "du",
        "le",
        "la",
        "bin",
        "ibn",
        "al",
        "el",
        "abu",
        "ben",
    ]
)
LIST_LABELS = ("MISC", "ORG", "LOC")  # order of precedence when a phrase is in two lists
OVERRIDE_LABELS = frozenset({"MISC", "ORG", "LOC"})  # listed names whose type beats the model's guess

# Compound role nouns end in these ("oud-minister", "partijleider", "topdiplomaat").
TITLE_SUFFIXES = tuple(
    [
        "minister",
        "premier",
        "president",
        "commissaris",
        "leider",
        "voorzitter",
        "woordvoerder",
        "woordvoerster",
        "activist",
        "activiste",
        "aanklager",
        "directeur",
        "kanselier",
        "trainer",
        "coach",
        "zanger",
        "zangeres",
        "schrijver",
        "kandidaat",
        "burgemeester",
        "gouverneur",
        "senator",
        "ambassadeur",
        "topman",
        "topvrouw",
        "baas",
        "chef",
        "analist",
        "econoom",
        "journalist",
        "advocaat",
        "hoogleraar",
        "oprichter",
        "diplomaat",
        "generaal",
        "commandant",
        "assistent",
        "aanvoerder",
        "onderzoeker",
        "deskundige",
        "eigenaar",
        "ondernemer",
    ]
)

# Nouns that, right before a capitalised name, make it an organisation ("het softwarebedrijf Tectrade").
# First words that make a multi-word name an organisation ("Bank Degroof", "Air Littoral", "Radio Roxy").
ORG_HEADS = frozenset({"Bank", "Banque", "Banco", "Air", "Radio", "Stichting", "Vereniging", "Groep"})

ORG_CONTEXT_SUFFIXES = tuple(
    [
        "bedrijf",
        "firma",
        "groep",
        "concern",
        "maatschappij",
        "krant",
        "dagblad",
        "weekblad",
        "zender",
        "omroep",
        "partij",
        "club",
        "ploeg",
        "vereniging",
        "organisatie",
        "fabrikant",
        "producent",
        "bank",
        "verzekeraar",
        "keten",
        "holding",
        "uitgeverij",
        "beweging",
        "militie",
        "vakbond",
        "agentschap",
        "persbureau",
        "streamingdienst",
        "platform",
        "winkelketen",
        "supermarkt",
        "brouwerij",
        "luchtvaartmaatschappij",
        "chipfabrikant",
        "techbedrijf",
        "energiebedrijf",
        "fonds",
        "stichting",
    ]
)

# Capitalised words that start an institution's name after an article ("het Havenbedrijf
# Antwerpen-Brugge", "het Gerechtshof Den Haag", "de Rechtbank Amsterdam"), matched as word endings.
INSTITUTION_HEAD_SUFFIXES = (
    *ORG_CONTEXT_SUFFIXES,
    *("hof", "rechtbank", "raad", "autoriteit", "inspectie", "instituut", "universiteit", "hogeschool"),
)
# Institution nouns that end a one-word name ("Rijksvoorlichtingsdienst", "Belastingdienst").
INSTITUTION_COMPOUND_SUFFIXES = ("dienst", "inspectie", "autoriteit", "instituut")

# Run-time additions to the lexicon's lists (kept out of ``scripts/ner_cues.py`` so the silver training
# labels, and with them the weights, stay as they are): English industry words that end a company's
# name ("Tata Steel", "Shell Chemicals"), and person roles ("het lid Grinwis", "de leden X en Y").
ORG_END_WORDS = frozenset(
    {"Steel", "Oil", "Petroleum", "Chemicals", "Chemical", "Foods", "Logistics", "Electronics",
     "Semiconductors", "Mining", "Shipping", "Automotive", "Aerospace", "Pharmaceuticals", "Therapeutics",
     "Insurance", "Ventures", "Brands", "Retail", "Resources", "Robotics", "Biotech", "Airline"}
)  # fmt: skip
EXTRA_TITLES = frozenset({"lid", "leden"})

# Dutch and Flemish political parties as written in brackets after a politician's name ("Kamerlid
# Koekkoek (Volt)"): the name before the bracket is a person.
PARTIES = frozenset(
    {"VVD", "CDA", "D66", "PvdA", "GL", "GroenLinks", "GroenLinks-PvdA", "GL-PvdA", "SP", "PVV", "PvdD",
     "ChristenUnie", "CU", "SGP", "DENK", "FvD", "FVD", "JA21", "Volt", "BBB", "NSC", "50PLUS", "BIJ1",
     "Partij voor de Dieren", "Nieuw Sociaal Contract", "Forum voor Democratie", "N-VA", "CD&V",
     "Open VLD", "Open Vld", "Vooruit", "Groen", "Vlaams Belang", "PVDA", "MR", "PS", "Ecolo"}
)  # fmt: skip

# Words before "van"/"voor" whose complement is a portfolio, not a name ("het ministerie van Defensie",
# "de Minister van Economische Zaken", "de vaste commissie voor Financiën"), under the team's conventions.
PORTFOLIO_HEADS = frozenset({"ministerie", "minister", "ministers", "staatssecretaris", "commissie"})
# First words of Dutch portfolios ("minister David van Weel van Justitie"): a person's name ends before
# "van" + one of these.
PORTFOLIO_WORDS = frozenset(
    {"Justitie", "Defensie", "Financiën", "Buitenlandse", "Binnenlandse", "Economische", "Sociale",
     "Volksgezondheid", "Onderwijs", "Infrastructuur", "Landbouw", "Klimaat", "Asiel", "Migratie",
     "Volkshuisvesting", "Medische", "Cultuur", "Wonen", "Natuur", "Verkeer"}
)  # fmt: skip
# Lower-case words inside an institution's name before its acronym ("Autoriteit Consument en Markt (ACM)").
LINK_WORDS = frozenset({"voor", "en", "van", "de", "der", "het", "op", "in", "tegen", "&"})
# One word with a capital inside: "UberEats", "PostNL", "FrieslandCampina" (companies) ...
CAMEL_CASE = re.compile(r"^[A-Z][a-z]+[A-Z][A-Za-z]*$")
# ... unless it starts like a person's name: "McCarthy", "MacKenzie", "DiCaprio", "LeBron", "DeSantis".
CAMEL_PERSON_PREFIXES = ("Mc", "Mac", "Di", "De", "Da", "Du", "Le", "La", "Van", "Von", "Fitz", "Del")
# Words allowed between the opening bracket and the party: "Rooderkerk ( beiden D66 )".
PARTY_FILLERS = frozenset({"beiden", "allen", "allebei"})

SENTENCE_OPENERS = frozenset(
    ['"', "'", "``", "''", ",,", ":", ";", "(", "-", "–", "—", ".", "!", "?", "•"]
)  # a capital after these is no cue
ARTICLES = frozenset({"de", "het"})
PLACE_PREPOSITIONS = frozenset({"in", "naar", "uit", "te", "nabij", "vanuit"})  # "in X": X is no person
LEFTOVER_ACRONYM = "ORG"  # unclaimed all-caps words inside a sentence: mostly organisations

# A capitalised or all-caps name, a hyphen, then a lower-case noun: "Sabena-aandelen", "EU-burgers";
# the name may itself have a hyphen or start with digits ("GroenLinks-PvdA-fractie", "50PLUS-fractie").
NAME_COMPOUND = re.compile(r"^\d*[A-Z][\w&]*(?:-[A-Z][\w&]*)*-[a-zà-ÿ]{3,}$")

PREFIXED_NAME = re.compile(r"^(al|el|ad|as|ash|at|az|ar|an|bin|ibn|abu|ben|ould)-[A-Z]")  # "al-Sharaa"

# Nouns that, right before a capitalised name, make it the title of a work: MISC ("de film X",
# "de misdaadkomedie X"); compounds count too, so these are matched as word endings.
WORK_CONTEXT_SUFFIXES = (
    "film",
    "boek",
    "roman",
    "serie",
    "album",
    "documentaire",
    "musical",
    "opera",
    "toneelstuk",
    "komedie",
    "drama",
    "thriller",
    "western",
    "sitcom",
    "single",
    "bestseller",
    "rapport",  # "het eindrapport GrijsWerkt": a titled report is MISC (0.1.5)
)

# Nouns that, right before a capitalised name, make it a place ("het dorp X", "de havenstad X").
PLACE_CONTEXT_SUFFIXES = (
    "dorp",
    "stad",
    "stadje",
    "plaats",
    "plaatsje",
    "gemeente",
    "regio",
    "provincie",
    "eiland",
    "haven",
    "deelstaat",
    "kamp",
)
PLACE_CONTEXT_OF = frozenset({"haven", "stad", "dorp"})  # "de haven van X": X is the place too

# First words of a state's name: "Volksrepubliek Donetsk", "Koninkrijk Saoedi-Arabië" are places.
STATE_HEADS = ("republiek", "koninkrijk", "emiraat", "sultanaat", "vorstendom", "groothertogdom")
# Head words that make a place of the name after them, head included ("Paleis Noordeinde", "Republiek Korea").
PLACE_HEADS = (*STATE_HEADS, "paleis", "kasteel")

# Prefixes of compound titles: "oud-prins", "ex-president", "vice-premier" are titles like the rest.
TITLE_PREFIXES = ("oud-", "ex-", "vice-", "interim-", "adjunct-", "co-")

# A name starting with the English article is a title or an outlet; it is an outlet (ORG) after a
# nationality adjective ("het Britse The Independent") or before a reporting verb ("The Sun meldt").
ENGLISH_ARTICLE = "The"
REPORTING_VERBS = frozenset(
    {"schrijft", "schreef", "meldt", "meldde", "bericht", "berichtte", "citeert", "citeerde", "onthulde"}
)

# Legal forms written after a company name ("Shell N.V.", "Unilever plc", "Apple Inc."): the name and
# the form together are an organisation.
LEGAL_SUFFIXES = frozenset(
    {
        "N.V.", "NV", "nv", "B.V.", "BV", "bv", "plc", "PLC", "Inc.", "Inc", "Ltd.", "Ltd", "LLC",
        "GmbH", "AG", "S.A.", "SA", "SE", "Corp.", "Corp", "Co.", "S.p.A.", "SpA", "AB", "ASA", "Oyj",
        "C.V.", "CV", "cv", "vzw", "VZW", "bvba", "BVBA", "NV/SA", "Holding", "Holdings",
    }
)  # fmt: skip

# Company nouns after a name and a comma ("Shell, 's werelds grootste oliebedrijf, ..."), matched as word
# endings like ORG_CONTEXT_SUFFIXES, plus these (too loose before a name: "de reus X").
APPOSITION_ORG_SUFFIXES = ("reus", "gigant", "multinational", "onderneming", "coöperatie", "retailer")
# Words allowed between the comma and that noun: articles, "'s werelds", and adjectives (-e, -ste).
APPOSITION_FILLERS = frozenset({"de", "het", "een", "'s", "\u2019s", "werelds", "'s-werelds", "nog", "ook"})

# "bij X" (an employer, a shop), "topman van X", "aandeelhouders van X": a name the model took for a
# person there is an organisation (a person after "bij" is rarer than a company in wire text).
EMPLOYER_PREPOSITIONS = frozenset({"bij"})
COMPANY_OF_NOUNS = frozenset(
    {
        "topman", "topvrouw", "ceo", "cfo", "bestuursvoorzitter", "bestuursvoorzitster", "aandeelhouders",
        "aandeelhouder", "aandelen", "aandeel", "werknemers", "medewerkers", "personeel", "klanten",
        "overname", "beursgang", "jaarcijfers", "kwartaalcijfers", "omzet", "winst", "dochterbedrijf",
        "moederbedrijf", "eigenaar", "bestuur", "directie", "hoofdkantoor", "fabriek", "fabrieken",
        "winkels", "filialen", "vestiging", "vestigingen", "beurswaarde", "koers",
    }
)  # fmt: skip

# Capitalised first words of a sentence that start no company name ("Ook Booking Holdings Inc. meldt").
OPENING_WORDS = frozenset(
    {"ook", "en", "maar", "bij", "volgens", "dan", "nu", "zo", "toen", "daarna", "daarom", "wel", "niet",
     "de", "het", "een", "in", "op", "voor", "met", "door", "na", "zelfs", "vooral", "alleen"}
)  # fmt: skip

# "het moederbedrijf van X": X is a company even when it carries a person's name ("Albert Heijn").
PARENT_NOUNS = frozenset(
    {"moederbedrijf", "dochterbedrijf", "dochteronderneming", "moedermaatschappij", "houdstermaatschappij",
     "moederconcern", "grootaandeelhouder", "zusterbedrijf"}
)  # fmt: skip

# Laws (MISC; services/enrich/entities/laws.py): compounds on a law word ("Omgevingswet",
# "Invoeringsbesluit", "Invoeringsregeling"), a capitalised adjective before "wet" ("Algemene wet
# bestuursrecht"), and the words that end a law's title after "Wet" because the sentence goes on there.
LAW_WORD_SUFFIX = "wet"
LAW_SUFFIXES = (LAW_WORD_SUFFIX, "besluit", "regeling")
LAW_ADJECTIVE_ENDING = "e"  # "Algemene", "Tijdelijke"
LAW_ARTICLE_AFTER = frozenset({"op", "van", "ter", "tot", "inzake", "betreffende"})  # "Wet op de ..."
LAW_STOP_WORDS = frozenset(
    {"is", "zijn", "was", "waren", "wordt", "worden", "werd", "werden", "moet", "moeten", "kan", "kunnen",
     "zal", "zullen", "zou", "zouden", "heeft", "hebben", "had", "hadden", "mag", "mogen", "wil", "gaat",
     "gaan", "komt", "treedt", "trad", "vormt", "geldt", "gold", "regelt", "bevat", "biedt", "maakt",
     "blijft", "staat", "stelt", "die", "dat", "wat", "waarin", "waarmee", "waarbij", "als", "om", "te",
     "door", "bij", "aan", "uit", "naar", "over", "sinds", "nog", "niet", "ook", "al", "wel", "dan",
     "maar", "of", "in", "met", "per", "na", "tijdens", "volgens", "zoals", "vanaf", "voor", "een"}
)  # fmt: skip

# Forms of address before a surname ("Mevrouw Kant ( SP ) :", "Mijnheer Ulenbelt"): never part of the name.
HONORIFICS = frozenset({"mevrouw", "heer", "mijnheer", "meneer", "mevr.", "dhr.", "mw."})
# A double surname whose second part starts with a particle: "Kraneveldt-van der Veen", "Nijkerken-de Haan".
DOUBLE_SURNAME_HEAD = re.compile(r"^[A-Z][\w'’]+-(van|de|den|der|ter|ten|te|in|op)$")
