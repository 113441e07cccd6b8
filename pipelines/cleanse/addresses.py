"""Addresses: a small rule-based parser and normaliser with shipped tables.

Russian addresses (Cyrillic, or Latin with Russian type words such as "ul.", "kv.") are read
as comma-separated segments of "type name" / "name type" / "marker number" tokens and
rebuilt in the FIAS / Dadata style: short canonical types, big to small::

    "123456, Москва г, Ленина ул, дом 5 корп 2 кв 12"
        -> "123456, г Москва, ул Ленина, д 5 к 2, кв 12"

Columns follow Dadata's "with type" convention: ``region`` "Свердловская обл" / "г Москва",
``city`` "г Екатеринбург" (a village goes here too, "д Губкино", when there is no city),
``street`` "ул Малышева", ``house`` "5 к 2" (the "д" is implied; other kinds keep their type,
"влд 5"), ``flat`` "12" (a flat; other kinds keep their type, "оф 3"). Names keep their
script: "Respublika Tatarstan, Kazan, ul. Baumana 1" becomes
"Респ Татарстан, г Казань, ул Baumana, д 1" (subjects and big cities come from the tables;
street names are never transliterated back, that would guess). Country names are dropped
from the text when the country is ``default_country``.

Other countries' addresses get light treatment: white space tidied, country (ISO 3166
alpha-2) from the text, the postcode pattern or a table of big cities, postcode, city,
street, house and flat where the usual shapes make them plain ("10 Downing St",
"Unter den Linden 77", "10117 Berlin", "London SW1A 2AA").

Regions: when a Russian address names no region, it comes from the postcode's first three
digits (``address:region_from_postcode``) or from the big-city table
(``address:region_from_city``; the city wins when the two disagree: a mistyped digit is
likelier than a wrong city). A region that disagrees with the postcode is flagged
``address:postcode_region_mismatch``, one that disagrees with the city
``address:region_city_mismatch`` (qc 2); neither is changed. Moscow, St Petersburg and
Sevastopol are their own regions.

Quality: 0 the text (or every part) was already in normalised form (white space aside);
1 standardised, or a missing part derived; 2 something to check (an unparsed remainder, a
mismatch, a part that contradicts the free text, an unknown country, a bad postcode,
junk free text beside usable parts); 3 junk (no letters or digits, "нет", "тест", a
formula, a bare number that is no postcode): every output column null.

Speed: the work is done once per distinct tuple of parts; on top of that, Cyrillic free
text is parsed once per *template* (the text with its digit runs replaced by
placeholders), since addresses differing only in house and flat numbers parse the same
way, and once per distinct comma-separated segment. These memo tables are bounded.
"""

from __future__ import annotations

import csv
import gc
import re
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from pipelines.cleanse.base import (
    MAX_VALUE_LENGTH,
    QC_CORRECTED,
    QC_INVALID,
    QC_SUSPICIOUS,
    QC_VALID,
    blank_to_none,
)

_DATA = Path(__file__).with_name("data")

#: Input columns ``clean_addresses`` understands, and the order of the output columns.
PART_COLUMNS: tuple[str, ...] = ("address", "postcode", "country", "region", "city", "street", "house", "flat")
OUTPUT_COLUMNS: tuple[str, ...] = (*PART_COLUMNS, "qc_address", "address_issues")
_COLUMN_AT = {c: i for i, c in enumerate(OUTPUT_COLUMNS)}

_ISSUE_QC: dict[str, int] = {
    "junk": QC_INVALID,
    "junk_text": QC_SUSPICIOUS,
    "unparsed_remainder": QC_SUSPICIOUS,
    "postcode_region_mismatch": QC_SUSPICIOUS,
    "parts_conflict": QC_SUSPICIOUS,
    "region_city_mismatch": QC_SUSPICIOUS,
    "invalid_postcode": QC_SUSPICIOUS,
    "unknown_region": QC_SUSPICIOUS,
    "country_unknown": QC_SUSPICIOUS,
    "region_from_postcode": QC_CORRECTED,
    "region_from_city": QC_CORRECTED,
    "city_from_district": QC_CORRECTED,
    "standardised": QC_CORRECTED,
}
_ISSUE_ORDER = {code: i for i, code in enumerate(_ISSUE_QC)}

_CYRILLIC_COUNTRIES = frozenset({"RU", "BY", "KZ", "UA", "KG", "TJ", "BG", "RS", "MN", "ME"})
_FEDERAL_CITIES = frozenset({"г Москва", "г Санкт-Петербург", "г Севастополь"})
_NAME_LEVELS = ("region", "district", "city", "settlement", "street", "extra")


# --- tables --------------------------------------------------------------------------------
def _read_table(name: str) -> list[dict[str, str]]:
    with open(_DATA / name, encoding="utf-8", newline="") as f:
        lines = [line for line in f if line.strip() and not line.startswith("#")]
    return list(csv.DictReader(lines))


_KEY_JUNK = re.compile(r"[^\w]+|_")


def _key(text: str) -> str:
    """Lookup key: lower case, "ё" as "е", punctuation and runs of space as one space."""
    return _KEY_JUNK.sub(" ", text.lower().replace("ё", "е")).strip()


def _latin_variants(text: str) -> set[str]:
    """Keys of the usual Latin spellings of a Cyrillic name (several schemes disagree)."""
    import iuliia  # only at table load

    out = set()
    for scheme in (iuliia.WIKIPEDIA, iuliia.MOSMETRO, iuliia.ICAO_DOC_9303, iuliia.BGN_PCGN, iuliia.GOST_7034):
        out.add(_key(scheme.translate(text).replace("’", "").replace("'", "")))
    return {v for v in out if v}


@cache
def _types() -> dict[str, tuple[tuple[str, str, str], ...]]:
    """alias -> rows of (canonical type, level, what must follow)."""
    table: dict[str, list[tuple[str, str, str]]] = {}
    for r in _read_table("address_types.csv"):
        table.setdefault(r["alias"], []).append((r["canonical"], r["level"], r["before"]))
    return {k: tuple(v) for k, v in table.items()}


_REGION_TYPE_WORDS = frozenset({
    "обл", "область", "край", "респ", "республика", "ао", "аобл", "автономный", "автономная",
    "округ", "г", "город", "oblast", "obl", "region", "krai", "kray", "respublika", "resp",
    "republic", "of", "the",
})


def _strip_region_type(key: str) -> str:
    words = [w for w in key.split() if w not in _REGION_TYPE_WORDS]
    return " ".join(words)


@cache
def _regions() -> dict[str, str]:
    """Key (without type words) -> canonical region."""
    out: dict[str, str] = {}
    for r in _read_table("address_regions.csv"):
        canon = r["region"]
        keys = {_key(k) for k in r["keys"].split("|") if k}
        keys.add(_strip_region_type(_key(canon)))
        for k in list(keys):
            if re.search("[а-я]", k):
                keys |= _latin_variants(k)
        for k in keys:
            out.setdefault(_strip_region_type(k) or k, canon)
    return out


@cache
def _cities() -> dict[str, tuple[str, str | None]]:
    """Key -> (canonical city name, region or None)."""
    out: dict[str, tuple[str, str | None]] = {}
    for r in _read_table("address_cities.csv"):
        value = (r["city"], r["region"] or None)
        keys = {_key(r["city"])} | {_key(k) for k in r["keys"].split("|") if k}
        for k in list(keys):
            if re.search("[а-я]", k):
                keys |= _latin_variants(k)
        for k in keys:
            out.setdefault(k, value)
    return out


@cache
def _countries() -> tuple[dict[str, str], dict[str, tuple[str, str]]]:
    """(key -> ISO2, ISO2 -> (Russian name, English name))."""
    keys: dict[str, str] = {}
    names: dict[str, tuple[str, str]] = {}
    for r in _read_table("address_countries.csv"):
        names.setdefault(r["iso2"], (r["name_ru"], r["name_en"]))
        for k in [*r["keys"].split("|"), r["name_ru"], r["name_en"]]:
            if k:
                keys.setdefault(_key(k), r["iso2"])
    return keys, names


@cache
def _world_cities() -> dict[str, str]:
    out: dict[str, str] = {}
    for r in _read_table("address_world_cities.csv"):
        for k in r["keys"].split("|"):
            if k:
                out.setdefault(_key(k), r["iso2"])
    return out


@cache
def _postcode_regions() -> dict[str, str]:
    return {r["prefix"]: r["region"] for r in _read_table("address_postcode_regions.csv")}


@cache
def _junk() -> frozenset[str]:
    return frozenset(_key(r["marker"]) for r in _read_table("address_junk.csv"))


# --- names ---------------------------------------------------------------------------------
_LOWER_WORDS = frozenset({
    "лет", "года", "им", "имени", "и", "на", "де", "в", "во", "под", "над", "за", "у", "по",
    "из", "ла", "ле", "дю", "фон", "дер", "der", "den", "am", "an", "im", "of", "the", "de",
    "la", "le", "du", "von", "van", "and",
})


def _smart_case(name: str) -> str:
    """Title-case a name typed in one case ("ЛЕНИНА", "ростов-на-дону"); keep mixed case."""
    letters = [c for c in name if c.isalpha()]
    if not letters:
        return name
    if any(c.isupper() for c in letters) and any(c.islower() for c in letters):
        return name[0].upper() + name[1:] if name[0].islower() else name

    def fix(word: str, first: bool) -> str:
        low = word.lower()
        if not first and low in _LOWER_WORDS:
            return low
        return low[:1].upper() + low[1:]

    words = name.split(" ")
    out = []
    for i, word in enumerate(words):
        parts = word.split("-")
        # an ending after a number stays small: "7-я линия", "2-й Лесной пер"
        out.append("-".join(p.lower() if j and parts[j - 1].isdigit() else fix(p, i == 0 and j == 0)
                            for j, p in enumerate(parts)))
    return " ".join(out)


# --- tokenising one segment ----------------------------------------------------------------
_GLUED = re.compile(r"(?i)(\d)(корп|стр|лит|кв|оф|к|с|д)\.?(?=\d)")
_NUMERO = re.compile(r"№|N(?=\s*\d)|#")
_PO_BOX = re.compile(r"(?i)(?<![^\W\d_])а\s*/\s*я(?![^\W\d_])")
_TOKEN = re.compile(
    r"(?P<abbr>г\.\s?о\.|п\.\s?г\.\s?т\.?|р\.\s?п\.|м\.\s?р-н|м\.\s?о\.|с\.\s?п\.|г\.\s?п\.|ст\.\s?м\.)"
    r"|(?P<ord>\d+-(?:[^\W\d_]{2,}|[яйеЯЙЕ])(?![^\W\d_]))"
    r"|(?P<num>\d+(?:[^\W\d_](?![^\W\d_]))?(?:[/-]\d+(?:[^\W\d_](?![^\W\d_]))?)*)"
    r"|(?P<word>[^\W\d_]+(?:['’-][^\W\d_]+)*)",
    re.IGNORECASE,
)

_ADJECTIVE = re.compile(r"(?i)(?:ск|цк|н|ов|ев|ин)(?:ий|ый|ой|ая|яя|ое|ее)$")

# token kinds
_W, _N, _T = "w", "n", "t"  # word, number, (possible) type alias


def _tokens(segment: str) -> list[tuple[str, str, str]]:
    """(kind, text as written, lookup key) for each token of a segment."""
    text = _GLUED.sub(r"\1 \2 ", _NUMERO.sub(" ", segment))
    if "/" in text:
        text = _PO_BOX.sub(" а-я ", text)
    out = []
    types = _types()
    for m in _TOKEN.finditer(text):
        kind = m.lastgroup
        raw = m.group()
        if kind == "abbr":
            low = re.sub(r"\s", "", raw.lower())
            out.append((_T, raw, low))
        elif kind == "num":
            out.append((_N, raw, raw.lower()))
        else:
            low = raw.lower().replace("ё", "е")
            out.append((_T if low in types else _W, raw, low))
    return out


def _type_row(low: str, next_kind: str | None) -> tuple[str, str, str] | None:
    """The reading of a type alias given what follows it (a number, a word or nothing)."""
    rows = _types().get(low, ())
    want = "number" if next_kind == _N else ("word" if next_kind in (_W, _T) else None)
    for row in rows:
        if row[2] == want:
            return row
    for row in rows:
        if row[2] == "any":
            return row
    return None


# item: (level, canonical type or "", value as written, followed by a number in the segment)
Item = tuple[str, str, str, bool]


def _parse_segment(segment: str) -> list[Item]:
    """Split one comma-free segment into typed and untyped elements, in order."""
    toks = _tokens(segment)
    items: list[Item] = []
    i, n = 0, len(toks)

    def next_kind(j: int) -> str | None:
        return toks[j][0] if j < n else None

    def is_stop(j: int) -> bool:
        """Does token j end a name being collected?"""
        kind, raw, low = toks[j]
        if kind == _N:
            return True
        # a one-letter "type" followed by a word is an initial: "ул М. Горького"
        return kind == _T and not (len(low) == 1 and next_kind(j + 1) == _W)

    def letter_suffix(j: int) -> bool:
        """Is token j a house letter written apart ("д 5 а"), not a marker ("5 к 2")?"""
        if j >= n or toks[j][0] == _N or len(toks[j][2]) != 1 or not toks[j][2].isalpha():
            return False
        return toks[j][0] == _W or _type_row(toks[j][2], next_kind(j + 1)) is None

    def pending_name() -> bool:
        return bool(items) and items[-1][0] == "name"

    def attach_suffix(level: str, canon: str) -> None:
        """Give the pending name a type written after it; a subject or big city in front of
        a street name stays apart ("Москва Ленина ул")."""
        prev = items.pop()
        words = prev[2].split(" ")
        if level not in ("city", "region") and len(words) > 1:
            prefixes, words = _peel_known(words)
            items.extend(("name", "", p, False) for p in prefixes)
        items.append((level, canon, " ".join(words), prev[3]))

    while i < n:
        kind, raw, low = toks[i]
        if kind == _T:
            row = _type_row(low, next_kind(i + 1))
            number_next = next_kind(i + 1) == _N and not (i + 2 < n and toks[i + 2][0] == _W)
            # a type between two names belongs to the first when that one is an adjective
            # or a subject: "Московская обл. Москва", "Одинцовский р-н с. Ивановка"
            suffix = pending_name() and (
                next_kind(i + 1) is None or number_next or _ADJECTIVE.search(items[-1][2]) is not None
                or (row is not None and row[1] == "region" and _key(items[-1][2]) in _regions()))
            if row is None or (suffix and row[1] not in _NAME_LEVELS):
                # a suffix type: "Москва г", "Ленинский пр-т 5"
                row = next((r for r in _types()[low] if r[1] in _NAME_LEVELS), None)
                if row is not None and pending_name():
                    attach_suffix(row[1], row[0])
                else:
                    items.append(("remainder", "", raw, False))
                i += 1
                continue
            canon, level, _ = row
            if level in ("house", "block", "flat") or (level == "extra" and next_kind(i + 1) == _N):
                if next_kind(i + 1) == _N:
                    number = toks[i + 1][1]
                    i += 2
                    if letter_suffix(i):  # "д 5 а", "д. 12-Б"
                        number += toks[i][1]
                        i += 1
                    items.append((level, canon, number.upper(), False))
                elif level == "block" and canon == "лит" and i + 1 < n and len(toks[i + 1][2]) == 1:
                    items.append((level, canon, toks[i + 1][1].upper(), False))
                    i += 2
                else:
                    items.append(("remainder", "", raw, False))
                    i += 1
                continue
            # a name-level type: collect the name that follows
            j = i + 1
            words: list[str] = []
            while j < n:
                if toks[j][0] == _N:
                    # a number opens a name ("ул 8 Марта", "мкр 5") but does not continue one
                    if words:
                        break
                    if level in ("street", "settlement") and (j + 1 >= n or toks[j + 1][0] != _W or is_stop(j + 1)):
                        words.append(toks[j][1])
                        j += 1
                        break
                    if j + 1 < n and toks[j + 1][0] == _W:
                        words.append(toks[j][1])
                        j += 1
                        continue
                    break
                if is_stop(j):
                    # a type word as the whole name: "ул Набережная", "ул Микрорайон"
                    if not (not words and len(toks[j][2]) > 3 and next_kind(j + 1) != _W
                            and level in ("street", "settlement")):
                        break
                words.append(toks[j][1])
                j += 1
            if words and not suffix:
                items.append((level, canon, " ".join(words), False))
                i = j
            elif pending_name():
                attach_suffix(level, canon)  # "Ленина ул", "Свердловская обл"
                i += 1
            else:
                items.append(("remainder", "", raw, False))
                i += 1
            continue
        if kind == _N:
            number = raw
            i += 1
            if letter_suffix(i):  # "5 а"
                number += toks[i][1]
                i += 1
            items.append(("num", "", number.upper(), False))
            continue
        # an untyped name: words up to the next type or number
        j = i
        words = []
        while j < n and toks[j][0] == _W:
            words.append(toks[j][1])
            j += 1
        if not words:  # a type alias we could not read in this position
            items.append(("remainder", "", raw, False))
            i += 1
            continue
        followed = j < n and toks[j][0] == _N
        items.append(("name", "", " ".join(words), followed))
        i = j
    return items


# --- normalising one segment (cached) -------------------------------------------------------
# A rich item: (level, a, b, c). Levels and fields:
#   country (iso), num (text), region (canonical, known), district (text),
#   city (text, subject or None), settlement (text), street (text), house (type, number),
#   block (text), flat (type, number), extra (text), remainder (text),
#   name (cased name, followed by a number in its segment?, lookups) with lookups =
#   (big-city hit (text, subject) | None, region hit | None, world-city country | None,
#    peel (region | None, city text | None, subject | None, rest of the name) | None)
Rich = tuple[str, Any, Any, Any]

#: A Russian postcode: six digits, the first 1-6, not one digit six times ("111111").
_RU_POSTCODE = re.compile(r"^(?!(\d)\1{5}$)[1-6]\d{5}$")
_SEGMENT_CACHE: dict[str, tuple[Rich, ...]] = {}
#: Entries per memo table; a full table is emptied (rules stay pure, memory stays bounded).
_CACHE_LIMIT = 200_000


def _typed(canon: str, name: str) -> str:
    return f"{canon} {name}" if canon else name


def _region_name(canon_type: str, name: str) -> tuple[str, bool]:
    """Canonical region for a typed or untyped name; (value, known)."""
    key = _key(name)
    found = _regions().get(_strip_region_type(key) or key)
    if found:
        return found, True
    name = _smart_case(name)
    if not canon_type:
        return name, False
    if canon_type in ("обл", "край", "АО", "Аобл"):
        return f"{name} {canon_type}", False
    return f"{canon_type} {name}", False


def _city_name(canon_type: str, name: str) -> tuple[str, str | None]:
    """("г Екатеринбург", its subject or None) for a city name, typed or not."""
    found = _cities().get(_key(name))
    if found and canon_type in ("", "г"):
        return f"г {found[0]}", found[1]
    return _typed(canon_type, _smart_case(name)), None


def _peel_known(words: list[str]) -> tuple[list[str], list[str]]:
    """Split a subject and/or a big city off the front of a run of untyped words
    ("МО Химки Ленина" -> ["МО", "Химки"], ["Ленина"]); the rest is never empty."""
    prefixes: list[str] = []
    for table in (_regions(), _cities()):
        for cut in (3, 2, 1):
            if len(words) > cut:
                key = _key(" ".join(words[:cut]))
                if (_strip_region_type(key) or key) in table if table is _regions() else key in table:
                    prefixes.append(" ".join(words[:cut]))
                    words = words[cut:]
                    break
    return prefixes, words


def _name_lookups(value: str) -> tuple[Any, Any, Any, Any]:
    key = _key(value)
    cities = _cities()
    city_hit = _city_name("", value) if key in cities else None
    region_key = _strip_region_type(key) or key
    region_hit = _regions().get(region_key) if key not in cities else None
    world_hit = _world_cities().get(key)
    peel = None
    words = value.split(" ")
    if len(words) > 1 and city_hit is None and region_hit is None:
        prefixes, rest = _peel_known(words)
        if prefixes:
            region = city = subject = None
            for prefix in prefixes:
                pkey = _key(prefix)
                if pkey in cities and city is None:
                    city, subject = _city_name("", prefix)
                else:
                    region = _regions().get(_strip_region_type(pkey) or pkey)
            rest_name = " ".join(rest)
            if city is None and _key(rest_name) in cities:  # "МО Химки"
                city, subject = _city_name("", rest_name)
                rest_name = ""
            peel = (region, city, subject, _smart_case(rest_name))
    return city_hit, region_hit, world_hit, peel


def _rich(item: Item) -> Rich:
    level, canon, value, followed = item
    if level == "num":
        return ("num", value, None, None)
    if level == "region":
        region, known = _region_name(canon, value)
        return ("region", region, known, None)
    if level == "city":
        city, subject = _city_name(canon, value)
        return ("city", city, subject, None if subject else _world_cities().get(_key(value)))
    if level in ("district", "settlement", "street"):
        return (level, _typed(canon, _smart_case(value)), None, None)
    if level in ("house", "flat"):
        return (level, canon, value, None)
    if level == "block":
        return ("block", f"{canon} {value}", None, None)
    if level == "extra":
        return ("extra", _typed(canon, value if value[:1].isdigit() else _smart_case(value)), None, None)
    if level == "name":
        country = _countries()[0].get(_key(value))
        if country is not None:  # "... кв 1 Россия"
            return ("country", country, None, None)
        return ("name", _smart_case(value), followed, _name_lookups(value))
    return ("remainder", value, None, None)


def _segment(segment: str) -> tuple[Rich, ...]:
    """Rich items of one segment; memoised, segments repeat across addresses."""
    cached = _SEGMENT_CACHE.get(segment)
    if cached is None:
        country = _countries()[0].get(_key(segment))
        if country is not None:
            cached = (("country", country, None, None),)
        else:
            cached = tuple(_rich(it) for it in _parse_segment(segment))
        if len(_SEGMENT_CACHE) >= _CACHE_LIMIT:
            _SEGMENT_CACHE.clear()
        _SEGMENT_CACHE[segment] = cached
    return cached


# --- the address record --------------------------------------------------------------------
class _Address:
    __slots__ = ("postcode", "country", "region", "districts", "city", "settlements", "planning",
                 "street", "house_type", "house", "blocks", "flat_type", "flat", "extras",
                 "remainder", "issues", "city_derived", "city_region", "world_country")

    def __init__(self) -> None:
        self.postcode: str | None = None
        self.country: str | None = None
        self.region: str | None = None
        self.districts: list[str] = []
        self.city: str | None = None
        self.settlements: list[str] = []
        self.planning: list[str] = []
        self.street: str | None = None
        self.house_type = "д"
        self.house: str | None = None
        self.blocks: list[str] = []
        self.flat_type = "кв"
        self.flat: str | None = None
        self.extras: list[str] = []
        self.remainder: list[str] = []
        self.issues: set[str] = set()
        self.city_derived = False
        self.city_region: str | None = None  # the big-city table's subject for the city
        self.world_country: str | None = None  # the country of a foreign big city named

    def house_value(self) -> str | None:
        if self.house is None and not self.blocks:
            return None
        head = [] if self.house is None else ([self.house] if self.house_type == "д" else [self.house_type, self.house])
        return " ".join([*head, *self.blocks])

    def flat_value(self) -> str | None:
        if self.flat is None:
            return None
        return self.flat if self.flat_type == "кв" else f"{self.flat_type} {self.flat}"

    def city_value(self) -> str | None:
        return self.city or (self.settlements[0] if self.settlements else None)


_DIGIT_RUN = re.compile(r"\d+")
_DIGIT_SPLIT = re.compile(r"(\d+)")


def _run_classes(runs: list[str]) -> str:
    """What a parse may depend on in each digit run: a valid Russian postcode ("p" and its
    first three digits, the region prefix), another six-digit run ("q"), any other run ("n")."""
    return "".join(["n" if len(r) != 6 else "p" + r[:3] if _RU_POSTCODE.match(r) else "q" for r in runs])


def _template(pieces: list[str]) -> tuple[str, dict[str, int]]:
    """Text (split by digit runs) with run i replaced by a unique placeholder number, and
    the placeholders' run positions.

    The parse of a Russian address depends on its numbers only through :func:`_run_classes`;
    the placeholders keep those (a valid postcode keeps its first three digits and stays
    valid), so addresses that differ only in house and flat numbers share one parse.
    """
    holders: dict[str, int] = {}
    return _fill_template(pieces, 0, holders), holders


def _fill_template(pieces: list[str], start: int, holders: dict[str, int]) -> str:
    """:func:`_template` of one text whose runs are numbered from ``start``."""
    out: list[str] = []
    for k, piece in enumerate(pieces):
        if k % 2 == 0:
            out.append(piece)
            continue
        i = start + k // 2
        if len(piece) != 6:
            holder = f"7{i}"
        elif _RU_POSTCODE.match(piece):
            holder = f"{piece[:3]}{i:03d}"
            if not _RU_POSTCODE.match(holder):  # "111" + "111": keep it a valid postcode
                holder = f"{piece[:3]}{i + 500:03d}"
        else:
            holder = f"9{i:05d}"
        holders[holder] = i
        out.append(holder)
    return "".join(out)


def _recipe(text: str, holders: dict[str, int]) -> tuple[str | int, ...]:
    """How to rebuild ``text`` (from a template parse) from the digit runs of a real text:
    pieces where an int is a run position."""
    pieces: list[str | int] = _DIGIT_SPLIT.split(text)  # type: ignore[assignment]
    pieces[1::2] = [holders.get(p, p) for p in pieces[1::2]]  # type: ignore[index]
    return tuple(pieces)


def _cook(recipe: tuple[str | int, ...], runs: list[str]) -> str:
    return "".join([runs[x] if x.__class__ is int else x for x in recipe])


_LOCAL_LEVELS = frozenset({"city", "settlement", "street", "house", "num", "flat"})


def _resolve_russian(items: list[Rich], a: _Address) -> None:
    """Assign the rich items of a Russian-style address to the record ``a``."""
    names: list[tuple[float, Rich]] = []
    nums: list[tuple[int, str]] = []
    world_country: str | None = None
    streets: list[tuple[int, str]] = []
    city_pos: float = -1
    first_local = len(items)
    for pos, item in enumerate(items):
        level = item[0]
        if level in _LOCAL_LEVELS and first_local > pos:
            first_local = pos
        if level == "num":
            value = item[1]
            if a.postcode is None and a.house is None and len(value) == 6 and _RU_POSTCODE.match(value):
                a.postcode = value
                if first_local == pos:
                    first_local = len(items)
            else:
                nums.append((pos, value))
        elif level == "street":
            streets.append((pos, item[1]))
        elif level == "house":
            if a.house is None:
                a.house_type, a.house = item[1], item[2]
            else:
                a.remainder.append(_typed(item[1], item[2]))
        elif level == "flat":
            if a.flat is None:
                a.flat_type, a.flat = item[1], item[2]
            else:
                a.remainder.append(_typed(item[1], item[2]))
        elif level == "block":
            a.blocks.append(item[1])
        elif level == "name":
            names.append((pos, item))
        elif level == "city":
            if a.city is None:
                a.city, a.city_region, city_pos = item[1], item[2], pos
                world_country = item[3]
            elif item[2] is not None and item[2] == a.city_region and a.city in _FEDERAL_CITIES:
                a.settlements.append(item[1])  # "г Москва, г Зеленоград"
            elif a.city != item[1]:
                a.remainder.append(item[1])
        elif level == "settlement":
            a.settlements.append(item[1])
            if city_pos < 0:
                city_pos = pos
        elif level == "region":
            if a.region is None:
                a.region = item[1]
                if not item[2]:
                    a.issues.add("unknown_region")
            elif a.region != item[1]:
                a.remainder.append(item[1])
        elif level == "district":
            a.districts.append(item[1])
        elif level == "extra":
            a.extras.append(item[1])
        elif level == "country":
            if a.country is None:
                a.country = item[1]
        else:
            a.remainder.append(item[1])

    # untyped names: big cities and subjects first, then by position
    left: list[tuple[float, str, bool, str | None]] = []
    last = len(items) - 1
    for pos, (_, value, in_segment, (city_hit, region_hit, world_hit, peel)) in names:
        # "Московская, 15": a name right before a house number is a street (a postcode is
        # no house number)
        followed = False
        if pos < last:
            nxt = items[pos + 1]
            followed = nxt[0] == "house" or (nxt[0] == "num" and not _RU_POSTCODE.match(nxt[1]))
        if not in_segment and city_hit is not None:
            if a.city is None:
                a.city, a.city_region = city_hit
                city_pos = pos
                continue
            if city_hit[1] is not None and city_hit[1] == a.city_region and a.city in _FEDERAL_CITIES:
                a.settlements.append(city_hit[0])  # "Москва, Зеленоград"
                continue
        # a subject named by an adjective may be a street ("Московская, 15"); "МО", "ХМАО",
        # "Татарстан" may not
        if region_hit is not None and (a.city is None or pos < city_pos) and (
                not followed or _ADJECTIVE.search(value) is None):
            if a.region is None:
                a.region = region_hit
                continue
            if a.region == region_hit:
                continue
        if peel is not None and (a.city is None or peel[1] is None) and (followed or pos < first_local):
            region, city, subject, value = peel  # "Москва Ленина 5", "МО Химки Ленина 5"
            if region is not None and a.region is None:
                a.region = region
            if city is not None:
                a.city, a.city_region = city, subject
                city_pos = pos - 0.5
            if not value:
                continue
        elif not in_segment and a.city is None and world_hit is not None:
            a.city, city_pos = value, pos
            world_country = world_country or world_hit
            continue
        left.append((pos, value, followed, world_hit))

    street_pos: float = -1
    if streets:
        house_pos = nums[0][0] if nums else None
        before = [s for s in streets if house_pos is None or s[0] < house_pos] or streets
        # the street is the last street-level element before the house; earlier ones
        # (a microdistrict, a quarter) stay in the text as planning structure
        street_pos, a.street = before[-1]
        if len(streets) > 1:
            a.planning = [s for p, s in streets if p != street_pos]

    if a.city is None and a.street is None and len(left) > 1:
        # the name before a house number is the street, another one the town:
        # "Московская, 3/2, кв 414, Ивановка"
        first_followed = next((x for x in left if x[2]), None)
        first_alone = next((x for x in left if not x[2]), None)
        if first_followed is not None and first_alone is not None:
            left.remove(first_followed)
            left.remove(first_alone)
            a.street, street_pos = first_followed[1], first_followed[0]
            a.city, city_pos = first_alone[1], first_alone[0]
            world_country = world_country or first_alone[3]
    for idx, (pos, value, followed, world_hit) in enumerate(left):
        if a.city is None and a.street is None:
            if idx + 1 < len(left):
                a.city, city_pos = value, pos
                world_country = world_country or world_hit
            elif followed or nums or a.house is not None or a.flat is not None:
                a.street, street_pos = value, pos
            else:  # a lone unknown name: "до востребования" is no city
                a.remainder.append(value)
        elif a.street is None and (a.city is None or pos > city_pos or followed or nums or a.house is not None):
            a.street, street_pos = value, pos
        elif a.city is None and pos < street_pos:
            a.city, city_pos = value, pos
            world_country = world_country or world_hit
        else:
            a.remainder.append(value)

    if nums:
        if len(nums) == 1 and a.house is None and a.flat is None and "-" in nums[0][1]:
            house, _, flat = nums[0][1].partition("-")  # "пр-т Мира 7-15": house 7, flat 15
            if house.isdigit() and flat[:1].isdigit():
                a.house, a.flat = house, flat
                nums = []
        for _, value in nums:
            if a.house is None:
                a.house = value
            elif a.flat is None:
                a.flat = value
            else:
                a.remainder.append(value)

    if a.city is None and not a.settlements:
        for district in a.districts:
            if district.startswith("г.о. ") and _key(district[5:]) in _cities():
                a.city, a.city_region = _city_name("", district[5:])
                a.city_derived = True
                a.issues.add("city_from_district")
                break
    a.world_country = world_country
    if a.country is None and world_country is not None:
        a.country = world_country
    if a.remainder:
        a.issues.add("unparsed_remainder")


def _russian_text(a: _Address, default_country: str) -> str:
    parts: list[str] = []
    if a.postcode:
        parts.append(a.postcode)
    if a.country and (a.country != default_country or a.world_country not in (None, a.country)):
        names = _countries()[1].get(a.country)
        parts.append(names[0] if names else a.country)
    if a.region and a.region != a.city:
        parts.append(a.region)
    federal = a.city in _FEDERAL_CITIES
    if federal:  # the districts of Moscow, St Petersburg are inside the city
        parts.append(a.city)
    parts.extend(a.districts)
    if a.city and not a.city_derived and not federal:
        parts.append(a.city)
    parts.extend(a.settlements)
    parts.extend(a.planning)
    if a.street:
        parts.append(a.street)
    if a.house is not None:
        parts.append(" ".join([a.house_type, a.house, *a.blocks]) if a.blocks else f"{a.house_type} {a.house}")
    elif a.blocks:
        parts.append(" ".join(a.blocks))
    if a.flat is not None:
        parts.append(f"{a.flat_type} {a.flat}")
    parts.extend(a.extras)
    parts.extend(a.remainder)
    return ", ".join(parts)


# --- other countries -----------------------------------------------------------------------
_POSTCODE_PATTERNS: dict[str, re.Pattern[str]] = {
    "GB": re.compile(r"(?i)\b([a-z]{1,2}\d[a-z\d]?)\s*(\d[a-z]{2})\b"),
    "CA": re.compile(r"(?i)\b([a-z]\d[a-z])\s?(\d[a-z]\d)\b"),
    "NL": re.compile(r"(?i)\b(\d{4})\s?([a-z]{2})\b"),
    "US": re.compile(r"\b(\d{5}(?:-\d{4})?)\b"),
    "PL": re.compile(r"\b(\d{2}-\d{3})\b"),
    "PT": re.compile(r"\b(\d{4}-\d{3})\b"),
    "JP": re.compile(r"\b(\d{3}-\d{4})\b"),
}
_FIVE_DIGITS = frozenset({"DE", "FR", "IT", "ES", "FI", "UA", "TR", "MX", "EE", "LT", "HR", "MY", "TH", "SA", "EG", "KR", "ME", "RS"})
_FOUR_DIGITS = frozenset({"AT", "CH", "BE", "DK", "NO", "HU", "AU", "NZ", "BG", "CY", "GE", "AM", "LV", "SI", "PH", "ZA"})
_SIX_DIGITS = frozenset({"RU", "BY", "KZ", "CN", "IN", "KG", "TJ", "UZ", "TM", "SG", "RO", "VN", "MN"})
_US_STATE_ZIP = re.compile(r"\b([A-Z]{2})\s+(\d{5}(?:-\d{4})?)\b")
_HOUSE_FIRST = re.compile(r"^(\d+[a-zA-Z]?(?:[-/]\d+[a-zA-Z]?)?)\s+(.*[^\W\d_].*)$")
_HOUSE_LAST = re.compile(r"^(.*?[^\W\d_].*?)\s+(\d+[a-zA-Z]?(?:[-/]\d+[a-zA-Z]?)?)$")
_FLAT_WORDS = re.compile(r"(?i)^(?:apt\.?|apartment|flat|unit|suite|ste\.?|app\.?|appartement|wohnung|whg\.?|piso)\s*#?\s*(\w+)$")


def _find_postcode(segment: str, country: str | None) -> tuple[str, str] | None:
    """(postcode, segment without it) using the country's shape, or a distinctive one."""
    if country in _POSTCODE_PATTERNS:
        m = _POSTCODE_PATTERNS[country].search(segment)
        if m:
            code = " ".join(g for g in m.groups() if g).upper() if country in ("GB", "CA") else "".join(
                g for g in m.groups() if g).upper() if country != "NL" else f"{m.group(1)} {m.group(2).upper()}"
            return code, (segment[: m.start()] + segment[m.end():]).strip(" ,")
        return None
    width = 5 if country in _FIVE_DIGITS else 4 if country in _FOUR_DIGITS else 6 if country in _SIX_DIGITS else 0
    if width:
        m = re.search(rf"\b(\d{{{width}}})\b", segment)
    elif country is None:
        m = re.search(r"\b(\d{4,6})\b", segment)
    else:
        m = None
    if m and re.search(r"[^\W\d_]", segment):
        return m.group(1), (segment[: m.start()] + segment[m.end():]).strip(" ,")
    return None


def _parse_foreign(segments: list[str], a: _Address) -> None:
    """Light parse of a non-Russian address: postcode, city, street, house, flat."""
    rest = list(segments)
    if a.country is None:
        for country, pattern in (("GB", _POSTCODE_PATTERNS["GB"]), ("CA", _POSTCODE_PATTERNS["CA"])):
            if any(pattern.search(s) and re.search(r"\d[a-zA-Z]{2}\b|[a-zA-Z]\d[a-zA-Z]", s) for s in rest[1:]):
                a.country = country
                break
    for i in range(len(rest) - 1, -1, -1):
        seg = rest[i]
        if a.country == "US" or a.country is None:
            m = _US_STATE_ZIP.search(seg)
            if m and i > 0:
                a.region, a.postcode = m.group(1), m.group(2)
                a.country = a.country or "US"
                city = (seg[: m.start()] + seg[m.end():]).strip(" ,")
                if city:
                    a.city = city
                elif i > 1:
                    a.city = rest[i - 1]
                    rest[i - 1] = ""
                rest[i] = ""
                break
        found = _find_postcode(seg, a.country) if i > 0 or len(rest) == 1 else None
        if found:
            a.postcode, city = found
            if city and not re.fullmatch(r"[\d\W]*", city):
                a.city = city
            rest[i] = ""
            break
    rest = [s for s in rest if s]
    if a.city is None:
        for s in rest[1:]:
            if _key(s) in _world_cities():
                a.city = s
                rest.remove(s)
                break
    for s in list(rest):
        m = _FLAT_WORDS.match(s)
        if m:
            a.flat = m.group(1)
            rest.remove(s)
    if rest:
        first = rest[0]
        m = _HOUSE_FIRST.match(first) or _HOUSE_LAST.match(first)
        if m:
            house, street = (m.group(1), m.group(2)) if m.re is _HOUSE_FIRST else (m.group(2), m.group(1))
            a.house, a.street = house, street
        else:
            a.street = first
        if a.city is None and len(rest) > 1:
            a.city = rest[-1]
    if a.country is None:
        for cand in (a.city, *(rest[1:])):
            if cand and _key(cand) in _world_cities():
                a.country = _world_cities()[_key(cand)]
                break


# --- one address -----------------------------------------------------------------------------
_SPACES = re.compile(r"\s+")
_CYRILLIC = re.compile(r"[а-яёА-ЯЁ]")
_LETTER_OR_DIGIT = re.compile(r"[^\W_]")
_LATIN_LETTER = re.compile(r"[^\W\d_]")
_RUSSIAN_LATIN_MARKERS = frozenset({
    "ul", "ulitsa", "ulica", "prospekt", "pr-t", "pr-kt", "pereulok", "per", "shosse", "bulvar",
    "naberezhnaya", "nab", "ploshchad", "proezd", "mkr", "mikrorayon", "kv", "kvartira", "korp",
    "korpus", "dom", "oblast", "obl", "respublika", "resp", "kray", "krai", "rayon", "gorod",
    "pos", "poselok", "selo", "derevnya", "stroenie",
})


def _tidy(text: str) -> str:
    text = _SPACES.sub(" ", text).strip()
    return re.sub(r"\s*,\s*", ", ", text).strip(", ")


def _looks_russian_latin(text: str, segments: list[str]) -> bool:
    """Latin text written the Russian way: "ul. Lenina", or naming a Russian city/subject."""
    words = set(re.findall(r"[a-z][a-z-]*", text.lower()))
    if words & _RUSSIAN_LATIN_MARKERS:
        return True
    keys = [_key(s) for s in segments]
    if any(k in _world_cities() for k in keys):
        return False
    return any(k in _cities() or (_strip_region_type(k) or k) in _regions() for k in keys)


def _country_of_segment(segment: str) -> str | None:
    return _countries()[0].get(_key(segment))


def _script_country(text: str, default_country: str) -> str | None:
    """The default country, if the text is written in that country's script."""
    cyr = bool(_CYRILLIC.search(text))
    return default_country if cyr == (default_country in _CYRILLIC_COUNTRIES) else None


def _parse_text(text: str, default_country: str, a: _Address) -> bool | None:
    """Parse free text into ``a``: True if read the Russian way, False other countries' way,
    None when it is junk."""
    text = text.strip()
    if text[:1] in ("=", "@") or (len(text) <= 24 and _key(text) in _junk()):
        return None
    if ";" in text or "\n" in text or "\r" in text:
        text = text.replace(";", ",").replace("\n", ",").replace("\r", ",")
    segments = [s for s in (part.strip() for part in text.split(",")) if s]
    if not segments:
        return None
    country = None
    if not _CYRILLIC.search(text) and _LATIN_LETTER.search(text):
        for i in (len(segments) - 1, 0):
            country = _country_of_segment(segments[i])
            if country is not None:
                segments = segments[:i] + segments[i + 1:]
                break
        if country not in (None, "RU") or not _looks_russian_latin(text, segments):
            if not segments:
                a.country = country
                return False
            if not re.search(r"[^\W\d_]", " ".join(segments)):
                return None
            a.country = country
            _parse_foreign([_tidy(s) for s in segments if _LETTER_OR_DIGIT.search(s)], a)
            if a.country is None:
                a.country = _script_country(text, default_country)
            return False
        a.country = country
    items: list[Rich] = []
    for seg in segments:
        items.extend(_segment(seg))
    if all(it[0] == "num" for it in items) and not any(_RU_POSTCODE.match(it[1]) for it in items):
        return None
    _resolve_russian(items, a)
    if a.country is None:
        a.country = "RU" if default_country == "RU" or a.region or a.city_region else _script_country(
            text, default_country)
    return True


_EXCEL_FRACTION = re.compile(r"\.0+$")
_SPACE_IN_DIGITS = re.compile(r"^[\d\s]+$")
_SOME_DIGIT = re.compile(r"\d")
_SIX_DIGIT_CODE = re.compile(r"^\d{6}$")


def _clean_postcode(raw: str, country: str | None) -> tuple[str | None, bool]:
    """(postcode, valid) for a postcode cell: spaces out, Excel's ".0" off, leading zeros kept."""
    code = _EXCEL_FRACTION.sub("", raw.strip())
    if country in (None, "RU", "BY", "KZ") and _SPACE_IN_DIGITS.match(code):
        code = "".join(code.split())
    code = " ".join(code.split()).upper()
    if country == "RU" or (country is None and _SIX_DIGIT_CODE.match(code)):
        return (code, True) if _RU_POSTCODE.match(code) else (None, False)
    return (code, True) if _SOME_DIGIT.search(code) and len(code) <= 12 else (None, False)


def _country_code(raw: str) -> str | None:
    key = _key(raw)
    found = _countries()[0].get(key)
    if found:
        return found
    if re.fullmatch(r"[A-Za-z]{2}", raw.strip()):
        return raw.strip().upper()
    return None


_PART_CACHE: dict[tuple[str, str, bool], _Address] = {}


def _part(value: str, level: str, russian: bool) -> _Address:
    """:func:`_parse_part`, memoised (column values repeat a lot). Callers must not mutate it."""
    key = (value, level, russian)
    found = _PART_CACHE.get(key)
    if found is None:
        if len(_PART_CACHE) >= _CACHE_LIMIT:
            _PART_CACHE.clear()
        found = _PART_CACHE[key] = _parse_part(value, level, russian)
    return found


def _parse_part(value: str, level: str, russian: bool) -> _Address:
    """One address part (a ``city``, ``street``... column) read with its column as a hint."""
    a = _Address()
    if not russian:
        value = _tidy(value)
        if level == "house":
            a.house = value
        elif level == "flat":
            m = _FLAT_WORDS.match(value)
            a.flat = m.group(1) if m else value
        else:
            setattr(a, level, value)
        return a
    hinted: list[Rich] = []
    for item in _segment(value):
        if item[0] == "name" and level == "region":
            item = ("region", *_region_name("", item[1]), None)
        elif item[0] == "name" and level == "city":
            item = ("city", *(item[3][0] or (item[1], None)), None)
        elif item[0] == "name" and level == "street":
            item = ("street", item[1], None, None)
        elif item[0] == "num" and level in ("house", "flat") and not any(h[0] == level for h in hinted):
            item = (level, "д" if level == "house" else "кв", item[1], None)
        hinted.append(item)
    _resolve_russian(hinted, a)
    return a


_ISSUE_LISTS: dict[frozenset[str], tuple[list[str] | None, int]] = {}


def _issues_and_qc(issues: set[str]) -> tuple[list[str] | None, int]:
    key = frozenset(issues)
    found = _ISSUE_LISTS.get(key)
    if found is None:
        codes = [f"address:{c}" for c in sorted(issues, key=_ISSUE_ORDER.__getitem__)] or None
        found = _ISSUE_LISTS[key] = (codes, max((_ISSUE_QC[c] for c in issues), default=QC_VALID))
    return (list(found[0]) if found[0] else None), found[1]


# Results travel as tuples in OUTPUT_COLUMNS order (a million dicts cost memory and time).
Result = tuple[Any, ...]
_EMPTY: Result = (None,) * len(OUTPUT_COLUMNS)


def _junk_result() -> Result:
    return (*_EMPTY[:-2], QC_INVALID, ["address:junk"])


_OUT_CACHE: dict[tuple[str, str, str], tuple[Any, ...]] = {}


def _clean_text(text: str, default_country: str) -> Result:
    """:func:`_clean_one` of a lone free-text address, through the number-free template
    cache: Cyrillic addresses that differ only in their numbers share one parse."""
    if not _CYRILLIC.search(text):
        return _clean_one_uncached({"address": text}, default_country)
    pieces = _DIGIT_SPLIT.split(text)
    runs = pieces[1::2]
    # the literal pieces fix the runs' places; only six-digit runs need their class
    classes = _run_classes(runs) if any([len(r) == 6 for r in runs]) else ""
    key = ("\x00".join(pieces[0::2]), classes, default_country)
    recipe = _OUT_CACHE.get(key)
    if recipe is None:
        template, holders = _template(pieces)
        out = _clean_one_uncached({"address": template}, default_country)
        recipe = tuple([_recipe(v, holders) if v.__class__ is str and _DIGIT_RUN.search(v) else v for v in out])
        if len(_OUT_CACHE) >= _CACHE_LIMIT:
            _OUT_CACHE.clear()
        _OUT_CACHE[key] = recipe
    return tuple([list(v) if v.__class__ is list else _cook(v, runs) if v.__class__ is tuple else v
                  for v in recipe])


def _clean_one(parts: dict[str, str | None], default_country: str) -> Result:
    """Clean one record's address parts (stripped strings or None). Pure."""
    if len(parts) == 1 and parts.get("address") is not None:
        return _clean_text(parts["address"][:MAX_VALUE_LENGTH], default_country)
    capped = {k: v[:MAX_VALUE_LENGTH] for k, v in parts.items() if v is not None}
    return _clean_one_uncached(capped, default_country) if capped else _EMPTY


def _clean_one_uncached(parts: dict[str, str | None], default_country: str) -> Result:
    """The rules themselves, for one record (stripped, length-capped strings or None)."""
    given = {k: v for k, v in parts.items() if v is not None}
    if not given:
        return _EMPTY
    a = _Address()
    text = given.get("address")
    russian: bool | None = None
    if text is not None:
        russian = _parse_text(text, default_country, a)
        if russian is None:  # junk text
            if len(given) == 1:
                return _junk_result()
            a = _Address()
            a.issues.add("junk_text")
            text = None

    if len(given) > (text is not None):
        # the separate columns: fill what the text did not say, flag what it contradicts
        if "country" in given:
            code = _country_code(given["country"])
            if code is None:
                a.issues.add("country_unknown")
            elif a.country is None:
                a.country = code
            elif a.country != code:
                a.issues.add("parts_conflict")
        if russian is None:
            sample = " ".join(given[k] for k in ("region", "city", "street") if k in given)
            if _CYRILLIC.search(sample):
                russian = True
            elif a.country not in (None, "RU"):
                russian = False
            else:
                russian = not sample or _looks_russian_latin(sample, [given.get("city", ""), given.get("region", "")]) \
                    or (a.country is None and default_country == "RU" and not re.search(r"[^\W\d_]", sample))
        for level in ("region", "city", "street", "house", "flat"):
            if level in given:
                _merge(a, _part(given[level], level, russian))
        if a.country is None:
            if russian and (default_country == "RU" or a.region or a.city_region):
                a.country = "RU"
            elif russian is False or text is None:
                sample = " ".join(v for k, v in given.items() if k != "postcode")
                a.country = _script_country(sample, default_country) if sample else default_country
        if "postcode" in given:
            code, ok = _clean_postcode(given["postcode"], a.country)
            if not ok:
                a.issues.add("invalid_postcode")
            elif a.postcode is None:
                a.postcode = code
            elif a.postcode != code:
                a.issues.add("parts_conflict")
        if a.country is None and a.city is not None:
            a.country = _world_cities().get(_key(a.city))
        if a.country == "RU" and a.postcode and not _RU_POSTCODE.match(a.postcode):
            a.issues.add("invalid_postcode")
            a.postcode = None
    if a.country is None:
        a.issues.add("country_unknown")
    _fill_region(a)

    if russian:
        address = _russian_text(a, default_country)
    elif text is not None:
        address = _tidy(text)
    else:
        address = _foreign_text(a)
    out = (address or None, a.postcode, a.country, a.region, a.city_value(), a.street, a.house_value(),
           a.flat_value())
    if (text is not None and text != address and _SPACES.sub(" ", text) != address) or any(
            k != "address" and out[_COLUMN_AT[k]] != v for k, v in given.items()):
        a.issues.add("standardised")
    issues, qc = _issues_and_qc(a.issues)
    return (*out, qc, issues)


def _fill_region(a: _Address) -> None:
    """Region: as given, else from the postcode's prefix, else from the big-city table; a
    city whose subject disagrees with the postcode or the region is flagged, never moved.

    When the postcode and the city disagree, the city wins: a mistyped digit is likelier
    than a wrong city name.
    """
    if a.country != "RU":
        a.issues.discard("unknown_region")
        return
    by_code = _postcode_regions().get(a.postcode[:3]) if a.postcode else None
    if a.region is None:
        if a.city_region in _FEDERAL_CITIES or (a.city_region is not None and by_code not in (None, a.city_region)):
            a.region = a.city_region
            if a.city_region not in _FEDERAL_CITIES:
                a.issues.add("region_from_city")
        elif by_code is not None and not (by_code in _FEDERAL_CITIES and (a.city or a.settlements)):
            # (a Moscow postcode on a named other town is flagged below, not trusted)
            a.region = by_code
            a.issues.add("region_from_postcode")
        elif a.city_region is not None:
            a.region = a.city_region
            a.issues.add("region_from_city")
    elif a.city_region is not None and a.city_region != a.region:
        a.issues.add("region_city_mismatch")
    if a.city is None and a.region in _FEDERAL_CITIES:
        a.city = a.region  # Moscow, St Petersburg and Sevastopol are their own regions
    elif a.city_region in _FEDERAL_CITIES and a.city != a.city_region and a.region == a.city_region:
        a.settlements.insert(0, a.city)  # "Зеленоград" is "г Москва, г Зеленоград"
        a.city = a.city_region
    if by_code is not None and (by_code != a.region or a.city_region not in (None, by_code)):
        a.issues.add("postcode_region_mismatch")


def _foreign_text(a: _Address) -> str:
    line1 = " ".join(x for x in (a.street, a.house) if x)
    if a.country in ("GB", "US", "CA", "AU", "NZ", "IE", "FR"):
        line1 = " ".join(x for x in (a.house, a.street) if x)
    flat = f"apt {a.flat}" if a.flat else None
    if a.country == "GB":
        line2 = " ".join(x for x in (a.city, a.postcode) if x)
    elif a.country == "US":
        line2 = " ".join(x for x in (f"{a.city}," if a.city and a.region else a.city, a.region, a.postcode) if x)
    else:
        line2 = " ".join(x for x in (a.postcode, a.city) if x)
    names = _countries()[1].get(a.country or "")
    country = names[1] if names else None
    return ", ".join(x for x in (line1, flat, line2, country) if x)


def _merge(a: _Address, p: _Address) -> None:
    """Fill ``a`` from a parsed part ``p``; a contradiction is kept from ``a`` and flagged."""
    if p.region is not None:
        if a.region is None:
            a.region = p.region
        elif a.region != p.region:
            a.issues.add("parts_conflict")
    if p.city is not None:
        if a.city is None:
            a.city, a.city_derived = p.city, p.city_derived
        elif _key(a.city) != _key(p.city):
            a.issues.add("parts_conflict")
    elif p.settlements and a.city is None and not a.settlements:
        a.settlements = list(p.settlements)
    if p.street is not None:
        if a.street is None:
            a.street = p.street
        elif _key(a.street) != _key(p.street):
            a.issues.add("parts_conflict")
    if p.house is not None or p.blocks:
        if a.house is None and not a.blocks:
            a.house_type, a.house, a.blocks = p.house_type, p.house, list(p.blocks)
        elif (a.house, a.blocks) != (p.house, p.blocks):
            a.issues.add("parts_conflict")
    if p.flat is not None:
        if a.flat is None:
            a.flat_type, a.flat = p.flat_type, p.flat
        elif (a.flat_type, a.flat) != (p.flat_type, p.flat):
            a.issues.add("parts_conflict")
    if a.city_region is None:
        a.city_region = p.city_region
    if p.districts:
        a.districts.extend(d for d in p.districts if d not in a.districts)
    if p.planning:
        a.planning.extend(d for d in p.planning if d not in a.planning)
    if p.remainder:
        a.remainder.extend(p.remainder)
    if p.extras:
        a.extras.extend(p.extras)
    if p.issues:
        a.issues |= p.issues


# --- public API ----------------------------------------------------------------------------
def parse_address(text: str | None, default_country: str = "RU") -> dict[str, Any]:
    """Clean one free-text address.

    Returns a dict with exactly the output columns of :func:`clean_addresses`. Blank text
    gives all None (qc None). Never raises on text.
    """
    return dict(zip(OUTPUT_COLUMNS, _clean_one({"address": blank_to_none(text)}, default_country)))


def clean_address_parts(parts: dict[str, str | None], default_country: str = "RU") -> dict[str, Any]:
    """Scalar form of :func:`clean_addresses` for one record's parts (any subset of columns)."""
    cleaned = {k: blank_to_none(v) for k, v in parts.items() if k in PART_COLUMNS}
    return dict(zip(OUTPUT_COLUMNS, _clean_one(cleaned, default_country)))


def clean_addresses(parts: pd.DataFrame, default_country: str = "RU") -> pd.DataFrame:
    """Clean address columns.

    ``parts`` holds any subset of the columns ``address, postcode, country, region, city,
    street, house, flat`` (object dtype, None for missing; other columns are ignored). The
    result has the index of ``parts`` and exactly the columns ``address, postcode, country,
    region, city, street, house, flat, qc_address`` (Int8) and ``address_issues``. Each
    distinct tuple of parts is cleaned once; ``parts`` is not modified.
    """
    present = [c for c in PART_COLUMNS if c in parts.columns]
    n = len(parts)
    if not present or n == 0:
        out = pd.DataFrame({c: pd.Series([None] * n, dtype=object) for c in OUTPUT_COLUMNS}, index=parts.index)
        out["qc_address"] = out["qc_address"].astype("Int8")
        return out
    if len(present) == 1:
        codes, uniques = pd.factorize(parts[present[0]].to_numpy(dtype=object), use_na_sentinel=True)
        tuples: list[tuple[Any, ...]] = [(u,) for u in uniques]
    else:
        values = parts[present].to_numpy(dtype=object)
        keyed = pd.DataFrame(values, columns=present, dtype=object)
        keyed = keyed.where(keyed.notna(), None)
        codes = keyed.groupby(present, dropna=False, sort=False).ngroup().to_numpy()
        _, firsts = np.unique(codes, return_index=True)
        tuples = [tuple(values[i]) for i in firsts]
    # Millions of small results survive this loop; the cyclic collector would rescan the
    # caches and results again and again (a third of the run time), so it waits until the end.
    collecting = gc.isenabled()
    gc.disable()
    try:
        rows: list[Result] = []
        if present == ["address"]:
            for (raw,) in tuples:
                text = blank_to_none(raw)
                rows.append(_EMPTY if text is None else _clean_text(text[:MAX_VALUE_LENGTH], default_country))
        else:
            seen: dict[tuple[str | None, ...], Result] = {}
            for tup in tuples:
                stripped = tuple([blank_to_none(v) for v in tup])
                row = seen.get(stripped)
                if row is None:
                    row = seen[stripped] = _clean_one(dict(zip(present, stripped)), default_country)
                rows.append(row)
        rows.append(_EMPTY)
        take = np.where(codes < 0, len(rows) - 1, codes)
        table = pd.DataFrame(rows, columns=list(OUTPUT_COLUMNS), dtype=object).take(take)
        table.index = parts.index
        qc = table["qc_address"].to_numpy()
        missing = pd.isna(qc)
        table["qc_address"] = pd.arrays.IntegerArray(np.where(missing, 0, qc).astype(np.int8), missing)
    finally:
        if collecting:
            gc.enable()
    return table
