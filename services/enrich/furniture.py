"""Page furniture: the site's own lines around the news — menus, login and cookie lines, "Net binnen" lists.

Copies saved from news sites carry their navigation with them. These predicates recognise it from its
shape, not from a list of pages: a line made only of navigation words (``Home | Nieuws | Webmail``,
``Inloggen``), a cookie or login request, and a list of recent items written ``- <Section> HH:MM
<headline>`` under a short heading (``Net binnen``, ``Laatste nieuws``). The splitter keeps such lines as
page lines: never a headline, never body.

``looks_like_furniture`` is the weaker test for a line that was taken as a headline anyway: one word,
a menu separator, a trailing colon, a copyright sign. The parser reports it as a warning.
"""

from __future__ import annotations

import re

#: Navigation and service words of Dutch news sites, and section names used as menu items.
NAV_WORDS = frozenset(
    """
    home homepage menu nieuws webmail mail e-mail inloggen login uitloggen registreren account profiel
    abonneren abonnement abonnementen zoeken zoek contact adverteren service klantenservice privacy
    privacyverklaring privacybeleid cookies cookie cookiebeleid cookie-instellingen instellingen
    voorwaarden disclaimer colofon accepteren accepteer akkoord weigeren sluiten terug vorige volgende
    overzicht archief rss app apps nieuwsbrief nieuwsbrieven tips weer verkeer video video's foto's
    fotoserie podcast podcasts live liveblog columns opinie achtergrond regio binnenland buitenland
    economie politiek sport voetbal cultuur media tech wetenschap gezondheid opmerkelijk show
    entertainment lifestyle wonen reizen royalty muziek film games algemeen delen share tweet print
    reageer reacties whatsapp facebook twitter linkedin instagram youtube tiktok aanmelden afmelden
    registreer toestemming beheren uitgelicht premium
    """.split()  # noqa: SIM905 - a word list reads better as text
)
#: Of those, the words no headline is made of: one of them on a line of navigation words is enough.
STRONG_NAV_WORDS = frozenset(
    """
    home homepage menu webmail inloggen login uitloggen registreren account abonneren nieuwsbrief
    contact adverteren privacy cookies cookie-instellingen zoeken rss whatsapp facebook twitter
    linkedin instagram youtube tiktok klantenservice aanmelden afmelden registreer
    """.split()  # noqa: SIM905 - a word list reads better as text
)
#: Several-word navigation items, read as one word.
NAV_PHRASES = (
    "net binnen", "laatste nieuws", "meest gelezen", "meest bekeken", "lees ook", "lees meer",
    "meer nieuws", "log in", "log uit", "tip de redactie", "volg ons", "word abonnee", "mijn account",
    "naar boven", "download de app", "deel dit artikel", "nu live",
)  # fmt: skip
#: Openings of a cookie or login request, whatever follows ("Wij gebruiken cookies om ...").
_REQUEST = re.compile(
    r"(?i:(?:wij|we|deze (?:web)?site|onze (?:web)?site|[\w.-]{1,40}) "
    r"(?:gebruiken|gebruikt|maakt gebruik van|plaatsen|plaatst) (?:\w+ ){0,3}cookies"
    r"|log ?in\b|inloggen\b|meld je (?:hier )?aan\b|registreer\b|je bent (?:niet )?ingelogd"
    r"|heb je (?:al )?een account\b|nog geen account\b|(?:word|ben je al) abonnee\b"
    r"|(?:lees|bekijk) (?:hier )?(?:ons|onze|het) (?:cookie|privacy)"
    r"|(?:cookie|privacy)(?:instellingen|voorkeuren|beleid|verklaring)\b"
    r"|copyright\b|\u00a9|alle rechten voorbehouden"
    # a photo or video credit ("Foto: ANP", "(Beeld: Pro Shots)"), reading time, a comment count
    r"|\(?(?:foto|foto's|beeld|afbeelding|illustratie|video|bron foto)(?: ?:| door) [^.!?]{1,60}\)?$"
    r"|(?:leestijd:? \d{1,2}|\d{1,2} min(?:uten|\.)? leestijd)"
    r"|\d{1,5} reacties?$|reacties? \(\d{1,5}\)$|advertentie$)"
)
# A consent request in the site's own voice ("Wij en onze partners gebruiken cookies ..."): cookies, a
# we/you word and a consent word, in a line that does not open with a quotation (a quote in an article).
_CONSENT = re.compile(
    r"(?i)(?=.{0,400}$)(?=.*\bcookies?\b)(?=.*\b(?:wij|we|onze|ons|u|uw|je|jouw|jij)\b)"
    r"(?=.*\b(?:akkoord|accepte\w*|toestemming|instellingen|voorkeuren|gebruik\w*|plaats\w*)\b)"
)
# "- Binnenland 16:29 Brand in loods", "• Sport 09.12 Ajax wint", "16:29 Brand in loods".
_BULLETS = "-\u2013\u2014\u2022\u00b7*\u25aa\u25b8>"
_LIST_ITEM = re.compile(
    r"(?P<bullet>[" + re.escape(_BULLETS) + r"] ?)?"
    r"(?P<section>[A-Z\u00c0-\u00dd][\w'\u2019-]{1,30}(?: (?:&|en|[A-Z\u00c0-\u00dd][\w'\u2019-]{1,30})){0,2} )?"
    r"(?:[01]?\d|2[0-3])[:.][0-5]\d(?: (?:uur )?\S|(?=[A-Z\u00c0-\u00dd\"\u201c]))"
)
# Headings of a list of related or recent headlines ("Lees ook", "Meer over dit onderwerp").
_LIST_HEADING = re.compile(
    r"(?i:net binnen|laatste nieuws|meest gelezen|meest bekeken|lees ook|lees meer|meer nieuws"
    r"|meer over(?: dit onderwerp)?|gerelateerd(?:e artikelen)?|ook interessant|bekijk ook|populair)"
    r"(?: [\w&' -]{1,30})?:?"
)
_SEPARATED = re.compile(r" [|\u2022\u00b7] ")
_MENU_SEPARATORS = re.compile(r"[|\u2022\u00b7\u203a\u00bb/>]| - ")
#: A menu line is short: longer lines are never read as one (and cost nothing to turn down).
MAX_MENU_WORDS = 16
#: A list heading ("Net binnen", "Laatste nieuws") is a short line: at most this many words.
MAX_HEADING_WORDS = 4


def is_nav_line(line: str) -> bool:
    """A line made only of navigation words, split by spaces or menu separators: 'Home | Webmail'.

    Two words without a separator need one that no headline is made of ("Inloggen Registreren"):
    "Regio Sport" might be a headline, "Nieuws Sport Economie Video's" is a menu.
    """
    if line.count(" ") >= MAX_MENU_WORDS * 2 or line[-1] in ".!?,;":
        return False
    chunks = _MENU_SEPARATORS.split(line.lower())
    words: list[str] = []
    for chunk in chunks:
        for phrase in NAV_PHRASES:
            chunk = chunk.replace(phrase, " home ")
        words.extend(w.strip(".:!»›<>()[]") for w in chunk.split())
    words = [w for w in words if w]
    if not words or not all(w in NAV_WORDS for w in words):
        return False
    # A menu names each item once: "Regio regio regio" is somebody's headline, not three menu items.
    return (
        len(words) == 1
        or len(set(words)) >= 3
        or len(chunks) > 1
        or any(w in STRONG_NAV_WORDS for w in words)
    )


def is_request(line: str) -> bool:
    """A line that opens as a cookie, login, subscription or copyright notice."""
    if _REQUEST.match(line) is not None:
        return True
    if "ookie" not in line or line[:1] in "\"'“‘„":
        return False
    return _CONSENT.match(line) is not None


def is_boilerplate(line: str) -> bool:
    return is_nav_line(line) or is_request(line)


def list_item(line: str) -> tuple[bool, bool] | None:
    """(has bullet, has section) when ``line`` reads as an item of a recent-news list, else None."""
    found = _LIST_ITEM.match(line)
    if found is None:
        return None
    return found.group("bullet") is not None, found.group("section") is not None


def is_list_heading(line: str) -> bool:
    """The heading of a list of recent or related headlines: 'Lees ook', 'Meer over dit onderwerp'."""
    return len(line) <= 50 and _LIST_HEADING.fullmatch(line) is not None


def is_heading(line: str) -> bool:
    """Short enough, and not a sentence, to be the heading of a list: 'Net binnen', 'Laatste nieuws'."""
    words = line.split()
    return 0 < len(words) <= MAX_HEADING_WORDS and line[-1] not in ".!?;," and line[0].isupper()


def looks_like_furniture(headline: str, *, main: bool) -> bool:
    """A headline that may well be site furniture taken for one: separators, a colon at the end, a
    navigation or list line — or, for a page's main article, a single word (a site name, a kicker);
    an older-layout brief may be headed by one word ("Gladheid")."""
    return (
        (main and len(headline.split()) == 1)
        or is_boilerplate(headline)
        or headline.endswith(":")
        or _SEPARATED.search(headline) is not None
        or list_item(headline) is not None
    )
