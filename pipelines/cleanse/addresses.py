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
import re
from collections.abc import Callable
from itertools import chain
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from pipelines.cleanse.base import (
    MAX_VALUE_LENGTH,
    QC_CORRECTED,
    QC_INVALID,
    QC_SUSPICIOUS,
    QC_VALID,
    blank_to_none,
    gc_paused,
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
            cached = tuple([_RICH_CACHE.get(it) or _rich_cached(it) for it in _parse_segment(segment)])
        if len(_SEGMENT_CACHE) >= _CACHE_LIMIT:
            _SEGMENT_CACHE.clear()
        _SEGMENT_CACHE[segment] = cached
    return cached


_RICH_CACHE: dict[Item, Rich] = {}


def _rich_cached(item: Item) -> Rich:
    """:func:`_rich`, memoised: items repeat across segments ("ул Ленина", "д 5")."""
    if len(_RICH_CACHE) >= _CACHE_LIMIT:
        _RICH_CACHE.clear()
    found = _RICH_CACHE[item] = _rich(item)
    return found


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


def _fill_template(pieces: list[str], start: int, holders: dict[str, int]) -> str:
    """Text (split by digit runs: ``pieces``) with each run replaced by a placeholder number
    unique in its address (run i of the address, counted from ``start`` in this text); the
    placeholders go into ``holders`` (placeholder -> i), in order.

    The parse of a Russian address depends on its numbers only through what the
    placeholders keep: whether a run has six digits and is a valid postcode, and then its
    first three digits (the region prefix). So addresses that differ only in house and flat
    numbers share one parse.
    """
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


def _read_items(items: list[Rich], cyrillic: bool, default_country: str, a: _Address) -> bool | None:
    """Read the rich items of a text the Russian way into ``a``: True, or None when the
    text is junk (numbers only, none a postcode). ``cyrillic``: is the text Cyrillic?"""
    if all(it[0] == "num" for it in items) and not any(_RU_POSTCODE.match(it[1]) for it in items):
        return None
    _resolve_russian(items, a)
    if a.country is None:
        a.country = "RU" if default_country == "RU" or a.region or a.city_region else (
            default_country if cyrillic == (default_country in _CYRILLIC_COUNTRIES) else None)
    return True


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
    return _read_items(items, bool(_CYRILLIC.search(text)), default_country, a)


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


# --- the memo of Cyrillic free text ---------------------------------------------------------
# A Cyrillic address is read segment by segment (the comma-separated parts). Each segment is
# parsed once per template (digit runs replaced by placeholders, see _fill_template), and
# street names are then taken out of its items, as are untyped names that are no known city,
# subject or foreign city ("Гагарина" in "Казань, Гагарина 5-12"). What the rules do next
# (place the items, derive the region, build the text) only copies such names and the
# numbers around: an unknown name is compared only with subjects and federal cities, which
# always hold a type word ("обл", "г") that an untyped name cannot hold. So the rules run
# once per *shape*, the sequence of the segments' templates with those names left out, and
# their outputs become format strings whose fields are the digit runs and names ("slots")
# of each address: "г Москва, ул Ленина, д 5" and "г. Москва, ул. Тверская, д. 7" share one
# shape.

_NO_LOOKUPS = (None, None, None, None)
#: Where a name stands in a shape's items while the rules run: private-use characters,
#: which no item can contain (tokens are letters, digits and a little punctuation) and so
#: no output either, other than through a name.
_MARKER_BASE = 0xE000
_SLOT = re.compile(r"\d+|[\ue000-\uf8ff]")

#: (segment, digit runs before it in its address) -> (shape id, slot values, digit runs).
_TEXT_PARTS: dict[tuple[str, int], tuple[int, tuple[str, ...], int]] = {}
#: (literal pieces, run classes, runs before) of a segment -> (shape id, names as parsed from
#: the template, placeholder -> run position in the segment).
_TEMPLATE_PARTS: dict[tuple[tuple[str, ...], str, int], tuple[int, tuple[str, ...], dict[str, int]]] = {}
#: (items with names taken out, placeholders) of a segment -> its shape id, and back.
_SEGMENT_SHAPE_IDS: dict[tuple[tuple[Rich, ...], tuple[str, ...]], int] = {}
_SEGMENT_SHAPES: list[tuple[tuple[Rich, ...], tuple[str, ...]]] = []
#: (segment shape ids, default country) -> recipe (None: junk).
_TEXT_RECIPES: dict[tuple[tuple[int, ...], str], _Recipe | None] = {}
_UNSEEN = object()


class _Recipe:
    """A shape's result as format strings over the slot values of one address."""

    __slots__ = ("values", "whole", "formatted", "plain", "standardised")

    def __init__(self, out: tuple[Any, ...], issues: set[str], where: dict[str, int]) -> None:
        """``out``: the eight output values of the shape's parse; ``where``: slot index of
        each placeholder and marker in them."""
        self.values = list(out)
        whole: list[tuple[int, int]] = []  # (column, slot) of the values that are one slot
        formatted: list[int] = []

        fields = {placeholder: str(slot) for placeholder, slot in where.items()}
        for i, value in enumerate(out):
            if value.__class__ is not str:
                continue
            if value in where:
                whole.append((i, where[value]))
            elif _SLOT.search(value):
                fmt = _format(value, fields)
                if fmt != value.replace("{", "{{").replace("}", "}}"):
                    self.values[i] = fmt
                    formatted.append(i)
        self.whole = tuple(whole)
        self.formatted = tuple(formatted)
        self.plain, self.standardised = _qualities(issues)

    def fill(self, slots: list[str] | tuple[str, ...]) -> list[Any]:
        """The eight output values for one address's slot values."""
        row = self.values.copy()
        for i, slot in self.whole:
            row[i] = slots[slot]
        for i in self.formatted:
            row[i] = row[i].format(*slots)
        return row

    def finish(self, row: list[Any], standardised: bool) -> Result:
        """The result: the output values, quality code and issues."""
        codes, qc = self.standardised if standardised else self.plain
        return (*row, qc, list(codes) if codes else None)

    def cook(self, slots: list[str], text: str) -> Result:
        """The result for one free-text address: its slot values and its (stripped) text."""
        row = self.fill(slots)
        address = row[0] or ""
        if text == address:
            standardised = False
        elif "  " not in text and text.isprintable():
            standardised = True  # its only white space is single spaces: tidying keeps it
        else:
            standardised = _SPACES.sub(" ", text) != address
        return self.finish(row, standardised)


def _format(value: str, fields: dict[str, str]) -> str:
    """``value`` as a format string: each placeholder or marker in ``fields`` becomes the
    field of its slot number there."""
    escaped = value.replace("{", "{{").replace("}", "}}")
    return _SLOT.sub(lambda m: "{" + fields[m[0]] + "}" if m[0] in fields else m[0], escaped)


_QUALITIES: dict[frozenset[str], tuple[tuple[tuple[str, ...] | None, int], ...]] = {}


def _qualities(issues: set[str]) -> tuple[tuple[tuple[str, ...] | None, int], ...]:
    """(issue codes, qc) of ``issues``, without and with "standardised"."""
    key = frozenset(issues)
    found = _QUALITIES.get(key)
    if found is None:
        pairs = []
        for variant in (issues, issues | {"standardised"}):
            codes, qc = _issues_and_qc(variant)
            pairs.append((tuple(codes) if codes else None, qc))
        found = _QUALITIES[key] = tuple(pairs)
    return found


def _bound_text_memos() -> None:
    """Empty the memo tables, together (shape ids index _SEGMENT_SHAPES), once they are full.
    Only between texts: shape ids must not change while a text is being cleaned."""
    if len(_TEXT_PARTS) >= _CACHE_LIMIT or len(_TEXT_RECIPES) >= _CACHE_LIMIT:
        for table in (_TEXT_PARTS, _TEMPLATE_PARTS, _SEGMENT_SHAPE_IDS, _SEGMENT_SHAPES, _TEXT_RECIPES):
            table.clear()


def _run_class(run: str) -> str:
    """What a template keeps of a digit run (see :func:`_fill_template`)."""
    if len(run) != 6:
        return "n"
    return "p" + run[:3] if _RU_POSTCODE.match(run) else "q"


def _text_part(segment: str, runs_before: int) -> tuple[int, tuple[str, ...], int]:
    """The shape id, slot values (digit runs, then names) and number of digit runs of one
    stripped segment whose address has ``runs_before`` digit runs before it."""
    pieces = _DIGIT_SPLIT.split(segment)
    runs = pieces[1::2]
    if runs:  # the template depends on the runs' classes and place
        key: Any = (tuple(pieces[0::2]), "".join([_run_class(r) for r in runs]), runs_before)
    else:
        key = segment
    found = _TEMPLATE_PARTS.get(key)
    if found is None:
        found = _TEMPLATE_PARTS[key] = _template_part(pieces, runs_before)
    shape, names, formats = found
    if formats:  # a name with a number in it: "ул 8 Марта"
        names = list(names)
        for i, fmt in formats:
            names[i] = fmt.format(*runs)
    part = _TEXT_PARTS[segment, runs_before] = (shape, (*runs, *names), len(runs))
    return part


def _template_part(pieces: list[str], runs_before: int) -> tuple[int, tuple[str, ...], tuple[tuple[int, str], ...]]:
    """Parse the template of one segment (split by digit runs): its shape id, the names
    taken out, and those names that hold a digit run as format strings over the runs."""
    holders: dict[str, int] = {}
    template = _fill_template(pieces, runs_before, holders)
    items: list[Rich] = []
    names: list[str] = []
    for item in _segment(template):
        if item[1] and (item[0] == "street" or (item[0] == "name" and item[3] == _NO_LOOKUPS)):
            names.append(item[1])
            item = (item[0], None, item[2], item[3])
        items.append(item)
    shape_key = (tuple(items), tuple(holders))
    shape = _SEGMENT_SHAPE_IDS.get(shape_key)
    if shape is None:
        shape = _SEGMENT_SHAPE_IDS[shape_key] = len(_SEGMENT_SHAPES)
        _SEGMENT_SHAPES.append(shape_key)
    at = {holder: str(i - runs_before) for holder, i in holders.items()}
    formats = tuple((i, _format(name, at)) for i, name in enumerate(names) if _DIGIT_RUN.search(name))
    return shape, tuple(names), formats


def _text_recipe(shapes: tuple[int, ...], default_country: str) -> _Recipe | None:
    """Run the rules on a shape: its segments' items, each name taken out replaced by a
    marker. None when such texts are junk."""
    items: list[Rich] = []
    where: dict[str, int] = {}  # placeholder or marker -> slot index
    for shape in shapes:
        segment_items, holders = _SEGMENT_SHAPES[shape]
        for holder in holders:
            where[holder] = len(where)
        for item in segment_items:
            if item[1] is None:  # a name taken out
                marker = chr(_MARKER_BASE + len(where))
                where[marker] = len(where)
                item = (item[0], marker, item[2], item[3])
            items.append(item)
    a = _Address()
    if _read_items(items, True, default_country, a) is None:
        recipe = None
    else:
        _, out = _conclude(a, True, None, default_country)
        recipe = _Recipe(out, a.issues, where)
    _TEXT_RECIPES[shapes, default_country] = recipe
    return recipe


def _clean_text(text: str, default_country: str) -> Result:
    """:func:`_clean_one` of a lone free-text address (stripped, capped), through the memo of
    shapes when it is Cyrillic."""
    if not _CYRILLIC.search(text):
        return _clean_one_uncached({"address": text}, default_country)
    if text[:1] in ("=", "@") or (len(text) <= 24 and _key(text) in _junk()):
        return _junk_result()
    _bound_text_memos()
    if ";" in text or "\n" in text or "\r" in text:
        segments = text.replace(";", ",").replace("\n", ",").replace("\r", ",").split(",")
    else:
        segments = text.split(",")
    shapes: list[int] = []
    slots: list[str] = []
    runs = 0
    for segment in segments:
        segment = segment.strip()
        if segment:
            part = _TEXT_PARTS.get((segment, runs)) or _text_part(segment, runs)
            shapes.append(part[0])
            slots += part[1]
            runs += part[2]
    if not shapes:
        return _junk_result()
    recipe = _TEXT_RECIPES.get((tuple(shapes), default_country), _UNSEEN)
    if recipe is _UNSEEN:
        recipe = _text_recipe(tuple(shapes), default_country)
    return _junk_result() if recipe is None else recipe.cook(slots, text)


#: Texts cleaned together by :func:`_clean_texts` (bounds the memo tables' growth in between).
_BATCH = 50_000


def _clean_texts(texts: list[str], default_country: str) -> list[Result]:
    """:func:`_clean_text` of many texts (stripped, capped). The segments of the Cyrillic
    ones are split, stripped and numbered with pyarrow, so that each distinct (segment,
    digit runs before it) is looked up once, not once per text."""
    try:
        arrow = pa.array(texts, type=pa.large_string())
    except (pa.ArrowException, UnicodeEncodeError):  # a lone surrogate: UTF-8 cannot hold it
        return [_clean_text(text, default_country) for text in texts]
    # junk ("нет", "=cmd...") and all but Cyrillic texts go one by one
    alone = pc.or_(pc.invert(pc.match_substring_regex(arrow, "[а-яёА-ЯЁ]")),
                   pc.or_(pc.starts_with(arrow, "="), pc.starts_with(arrow, "@"))).to_numpy(zero_copy_only=False)
    short = pc.less_equal(pc.utf8_length(arrow), 24).to_numpy(zero_copy_only=False)
    for i in np.flatnonzero(short & ~alone).tolist():
        alone[i] = _key(texts[i]) in _junk()
    results: list[Result] = [None] * len(texts)  # type: ignore[list-item]
    for i in np.flatnonzero(alone).tolist():
        results[i] = _clean_text(texts[i], default_country)
    bulk = np.flatnonzero(~alone)
    for start in range(0, len(bulk), _BATCH):
        _bound_text_memos()
        rows = bulk[start:start + _BATCH]
        batch = _clean_cyrillic_texts(arrow.take(rows), [texts[i] for i in rows.tolist()], default_country)
        for i, result in zip(rows.tolist(), batch):
            results[i] = result
    return results


def _clean_cyrillic_texts(arrow: pa.Array, texts: list[str], default_country: str) -> list[Result]:
    """:func:`_clean_text` of Cyrillic texts (``texts``, and as ``arrow``) longer than any
    junk marker, in bulk."""
    lists = pc.split_pattern(pc.replace_substring_regex(arrow, "[;\n\r]", ","), ",")
    segments = pc.utf8_trim_whitespace(pc.list_flatten(lists))  # exactly str.strip
    owners = pc.list_parent_indices(lists)
    kept = pc.greater(pc.utf8_length(segments), 0)
    segments, owners = segments.filter(kept), owners.filter(kept).to_numpy()
    encoded = pc.dictionary_encode(segments)
    distinct = encoded.dictionary.to_pylist()
    segment_ids = encoded.indices.to_numpy().astype(np.int64)
    # the digit runs before each segment in its text: with the segment, its key in _TEXT_PARTS
    # (none for a segment without digits: its template does not depend on its place)
    runs = np.array([len(_DIGIT_RUN.findall(segment)) for segment in distinct], dtype=np.int64)[segment_ids]
    before = np.cumsum(runs) - runs
    starts = np.flatnonzero(np.r_[True, owners[1:] != owners[:-1]])  # each text's first segment
    ends = np.r_[starts[1:], len(owners)]
    before -= np.repeat(before[starts], ends - starts)
    before[runs == 0] = 0
    width = int(before.max(initial=0)) + 1
    pair_ids, pairs = pd.factorize(segment_ids * width + before)
    found = [_TEXT_PARTS.get((distinct[k // width], k % width)) or _text_part(distinct[k // width], k % width)
             for k in pairs.tolist()]
    shapes = np.array([part[0] for part in found], dtype=np.int64)[pair_ids].tolist()
    slots = np.fromiter([part[1] for part in found], dtype=object, count=len(found))[pair_ids].tolist()
    results: list[Result | None] = [None] * len(texts)
    for owner, a, b in zip(owners[starts].tolist(), starts.tolist(), ends.tolist()):
        key = tuple(shapes[a:b])
        recipe = _TEXT_RECIPES.get((key, default_country), _UNSEEN)
        if recipe is _UNSEEN:
            recipe = _text_recipe(key, default_country)
        if recipe is not None:
            results[owner] = recipe.cook(list(chain.from_iterable(slots[a:b])), texts[owner])
    return [_junk_result() if result is None else result for result in results]


def _clean_one(parts: dict[str, str | None], default_country: str) -> Result:
    """Clean one record's address parts (stripped strings or None). Pure."""
    if len(parts) == 1 and parts.get("address") is not None:
        return _clean_text(parts["address"][:MAX_VALUE_LENGTH], default_country)
    return _clean_given({k: v[:MAX_VALUE_LENGTH] for k, v in parts.items() if v is not None}, default_country)


def _stripped(value: object) -> str | None:
    """A cell as the rules take it: stripped and capped, None when blank or not text."""
    text = blank_to_none(value)
    return None if text is None else text[:MAX_VALUE_LENGTH]


def _clean_given(given: dict[str, str], default_country: str) -> Result:
    """:func:`_clean_one` of the parts that are given (stripped, capped, none None)."""
    if not given:
        return _EMPTY
    if "address" in given:
        if len(given) == 1:
            return _clean_text(given["address"], default_country)
        return _clean_one_uncached(given, default_country)
    return _clean_parts(given, default_country)


def _clean_one_uncached(parts: dict[str, str | None], default_country: str) -> Result:
    """The rules themselves, for one record (stripped, length-capped strings or None)."""
    given = {k: v for k, v in parts.items() if v is not None}
    if not given:
        return _EMPTY
    ruled = _apply_rules(given, default_country, _part)
    if ruled is None:
        return _junk_result()
    a, text, address, out = ruled
    if (text is not None and text != address and _SPACES.sub(" ", text) != address) or any(
            k != "address" and out[_COLUMN_AT[k]] != v for k, v in given.items()):
        a.issues.add("standardised")
    issues, qc = _issues_and_qc(a.issues)
    return (*out, qc, issues)


PartReader = Callable[[str, str, bool], "_Address"]


def _apply_rules(given: dict[str, str], default_country: str,
                 part: PartReader) -> tuple[_Address, str | None, str, tuple[Any, ...]] | None:
    """Read one record's given parts: (the record, the free text if usable, the normalised
    text, the eight output values), or None when the record is only junk text. ``part``
    reads one address column (:func:`_part`). Everything but the "standardised" issue."""
    a = _Address()
    text = given.get("address")
    russian: bool | None = None
    if text is not None:
        russian = _parse_text(text, default_country, a)
        if russian is None:  # junk text
            if len(given) == 1:
                return None
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
            russian = _parts_look_russian(given, a.country, default_country)
        for level in ("region", "city", "street", "house", "flat"):
            if level in given:
                _merge(a, part(given[level], level, russian))
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
    address, out = _conclude(a, russian, text, default_country)
    return a, text, address, out


def _parts_look_russian(given: dict[str, str], country: str | None, default_country: str) -> bool:
    """Are the separate columns (free text aside) to be read the Russian way? ``country``:
    the code of the country column, if any."""
    sample = " ".join(given[k] for k in ("region", "city", "street") if k in given)
    if _CYRILLIC.search(sample):
        return True
    if country not in (None, "RU"):
        return False
    return not sample or _looks_russian_latin(sample, [given.get("city", ""), given.get("region", "")]) \
        or (country is None and default_country == "RU" and not re.search(r"[^\W\d_]", sample))


# --- the memo of separate address columns ---------------------------------------------------
# Columns read the Russian way run through the rules once per shape too. A street, house or
# flat column whose parse holds nothing but its own part (the usual "ул. Ленина", "5 к 2",
# "12") is a slot, as is a valid Russian postcode: the rules only copy those around (a
# postcode also gives its first three digits, kept in the key). The other columns (region,
# city, country, and any column that says more) stay in the key as they are.

_SLOT_FIELDS = {"street": ("street",), "house": ("house_type", "house", "blocks"), "flat": ("flat_type", "flat")}
_BLANK = _Address()
#: (level, value) of a street, house or flat column -> (its class in a key, slot values).
_COLUMN_SLOTS: dict[tuple[str, str], tuple[Any, tuple[str, ...]]] = {}
#: key of separate columns -> recipe (None: a shape the memo does not take, see _parts_recipe).
_PARTS_RECIPES: dict[tuple[Any, ...], _Recipe | None] = {}
_COUNTRY_CODES: dict[str, str | None] = {}


def _column_slot(value: str, level: str) -> tuple[Any, tuple[str, ...]]:
    """(class, slot values) of a street, house or flat column read the Russian way: a class
    describing a part that is a slot, else the value itself with no slots."""
    p = _part(value, level, True)
    own = _SLOT_FIELDS[level]
    found: tuple[Any, tuple[str, ...]] = (value, ())
    if all(getattr(p, f) == getattr(_BLANK, f) for f in _Address.__slots__ if f not in own):
        if level == "street" and p.street:
            found = (("street",), (p.street,))
        elif level == "house" and (p.house or p.blocks) and all(p.blocks):
            head = () if p.house is None else (p.house,)
            found = (("house", p.house_type, p.house is not None, len(p.blocks)), (*head, *p.blocks))
        elif level == "flat" and p.flat:
            found = (("flat", p.flat_type), (p.flat,))
    if len(_COLUMN_SLOTS) >= _CACHE_LIMIT:
        _COLUMN_SLOTS.clear()
    _COLUMN_SLOTS[level, value] = found
    return found


#: The columns of a key in _PARTS_RECIPES, after the default country: their classes.
_KEY_COLUMNS = ("country", "region", "city", "street", "house", "flat", "postcode")


def _column_class(value: str | None, name: str) -> tuple[Any, tuple[str, ...]]:
    """(class in a key, slot values) of one column's value, the columns read the Russian way.

    A valid postcode's class is the subject its first three digits give (all the rules take
    from its digits); a region or city column's class is what it parses to ("Москва",
    "г. Москва": one class).
    """
    if value is None:
        return None, ()
    if name in _SLOT_FIELDS:
        return _COLUMN_SLOTS.get((name, value)) or _column_slot(value, name)
    if name == "postcode":
        if _RU_POSTCODE.match(value) and _postcode_regions().get(value[:3]) in _prefixes():
            return ("postcode", _postcode_regions().get(value[:3])), (value,)
        return value, ()
    if name in ("region", "city"):
        return ("parsed", _snapshot(_part(value, name, True))), ()
    return value, ()


def _snapshot(a: _Address) -> tuple[Any, ...]:
    """A hashable copy of a parsed part's fields."""
    return tuple([frozenset(v) if v.__class__ is set else tuple(v) if v.__class__ is list else v
                  for v in (getattr(a, f) for f in _Address.__slots__)])


@cache
def _prefixes() -> dict[str | None, str]:
    """Subject (None: none) -> a postcode prefix that gives it."""
    out: dict[str | None, str] = {}
    for prefix in (f"{i:03d}" for i in range(100, 700)):
        out.setdefault(_postcode_regions().get(prefix), prefix)
    return out


def _clean_parts(given: dict[str, str], default_country: str) -> Result:
    """:func:`_clean_one_uncached` of separate columns without free text (stripped, capped,
    not None), through the memo of shapes when they are read the Russian way."""
    country = given.get("country")
    code = None
    if country is not None:
        code = _COUNTRY_CODES.get(country, _UNSEEN)
        if code is _UNSEEN:
            code = _COUNTRY_CODES[country] = _country_code(country)
    if not _parts_look_russian(given, code, default_country):
        return _clean_one_uncached(given, default_country)
    slots: list[str] = []
    key: list[Any] = [default_country]
    for name in _KEY_COLUMNS:
        cls, values = _column_class(given.get(name), name)
        key.append(cls)
        slots += values
    if default_country != "RU":  # then the script of all the columns may give the country
        key.append(bool(_CYRILLIC.search(" ".join(v for k, v in given.items() if k != "postcode"))))
    shape = tuple(key)
    recipe = _PARTS_RECIPES.get(shape, _UNSEEN)
    if recipe is _UNSEEN:
        recipe = _parts_recipe(shape, given, default_country)
    if recipe is None:
        return _clean_one_uncached(given, default_country)
    row = recipe.fill(slots)
    return recipe.finish(row, any([row[_COLUMN_AT[k]] != v for k, v in given.items()]))


def _clean_columns(present: list[str], values: list[list[str | None]], combinations: list[list[int]],
                   default_country: str) -> list[Result]:
    """:func:`_clean_given` of combinations of separate columns (no free text): ``values``
    holds each column's distinct values (stripped, capped; None: missing), ``combinations``
    per column the index of each combination's value. What :func:`_clean_parts` looks up per
    combination (a value's class and slots, its script) is looked up once per value here,
    and the combinations are grouped by shape with numpy."""
    n = len(combinations[0])
    shapes = np.zeros(n, dtype=np.int64)  # combinations with one key in _PARTS_RECIPES share one
    russian = np.zeros(n, dtype=bool)  # Cyrillic in the region, city or street
    cyrillic = np.zeros(n, dtype=bool)  # Cyrillic in any column but the postcode: with
    # another default country than RU, the script of all columns may give the country
    classes: dict[str, list[Any]] = {}  # column -> class of each value
    slots: dict[str, list[tuple[str, ...]]] = {}  # column -> slot values of each value
    for name, column_values, column_ids in zip(present, values, combinations):
        ids = np.asarray(column_ids, dtype=np.int64)
        found = [_column_class(value, name) for value in column_values]
        classes[name] = [cls for cls, _ in found]
        slots[name] = [slot for _, slot in found]
        numbers: dict[Any, int] = {}
        numbered = np.asarray([numbers.setdefault(cls, len(numbers)) for cls in classes[name]], dtype=np.int64)
        shapes = pd.factorize(shapes * len(numbers) + numbered[ids])[0]
        if name != "postcode":
            script = np.asarray([value is not None and _CYRILLIC.search(value) is not None for value in column_values])
            cyrillic |= script[ids]
            if name in ("region", "city", "street"):
                russian |= script[ids]
    if default_country != "RU":
        shapes = pd.factorize(shapes * 2 + cyrillic)[0]
    at = {name: i for i, name in enumerate(present)}
    slot_columns = [(at[name], slots[name]) for name in ("street", "house", "flat", "postcode") if name in at]
    output_at = [_COLUMN_AT[name] for name in present]
    recipes: dict[int, Any] = {}  # shape -> recipe
    results: list[Result] = []
    for k, (combination, is_russian, shape) in enumerate(zip(zip(*combinations), russian.tolist(), shapes.tolist())):
        recipe = recipes.get(shape, _UNSEEN) if is_russian else None  # if not, _clean_parts decides
        if recipe is _UNSEEN:
            key = [default_country]
            key += [classes[name][combination[at[name]]] if name in at else None for name in _KEY_COLUMNS]
            if default_country != "RU":
                key.append(bool(cyrillic[k]))
            recipe = _PARTS_RECIPES.get(tuple(key), _UNSEEN)
            if recipe is _UNSEEN:
                recipe = _parts_recipe(tuple(key), _given(present, values, combination), default_country)
            recipes[shape] = recipe
        if recipe is None:
            results.append(_clean_given(_given(present, values, combination), default_country))
            continue
        row = recipe.fill([value for i, column in slot_columns for value in column[combination[i]]])
        standardised = False
        for j, column_values, i in zip(output_at, values, combination):
            if column_values[i] is not None and row[j] != column_values[i]:
                standardised = True
                break
        results.append(recipe.finish(row, standardised))
    return results


def _given(present: list[str], values: list[list[str | None]], combination: tuple[int, ...]) -> dict[str, str]:
    """The parts given in one combination of column values."""
    return {name: column_values[i] for name, column_values, i in zip(present, values, combination)
            if column_values[i] is not None}


def _parts_recipe(shape: tuple[Any, ...], given: dict[str, str], default_country: str) -> _Recipe | None:
    """Run the rules on the shape of ``given`` (separate columns read the Russian way):
    slots replaced by markers, a postcode by a stand-in with its first three digits. None
    when a slot's field comes from two columns (the rules would compare the values)."""
    if len(_PARTS_RECIPES) >= _CACHE_LIMIT:
        _PARTS_RECIPES.clear()
    where: dict[str, int] = {}  # marker or postcode stand-in -> slot index
    stand_ins: dict[str, _Address] = {}  # level -> the part the rules read
    for level, cls in zip(("street", "house", "flat"), shape[4:7]):
        if cls.__class__ is not tuple:
            continue
        p = _Address()
        if level == "street":
            p.street = chr(_MARKER_BASE + len(where))
            where[p.street] = len(where)
        elif level == "house":
            p.house_type = cls[1]
            if cls[2]:
                p.house = chr(_MARKER_BASE + len(where))
                where[p.house] = len(where)
            for _ in range(cls[3]):
                p.blocks.append(chr(_MARKER_BASE + len(where)))
                where[p.blocks[-1]] = len(where)
        else:
            p.flat_type, p.flat = cls[1], chr(_MARKER_BASE + len(where))
            where[p.flat] = len(where)
        stand_ins[level] = p
    ruled_given = dict(given)
    if shape[7].__class__ is tuple:
        # a valid postcode of the same subject, found in no other column: in the outputs it
        # can only be the postcode
        others = " ".join(v for k, v in given.items() if k != "postcode" and k not in stand_ins)
        prefix = _prefixes()[shape[7][1]]
        stand_in = next((c for c in (f"{prefix}{i:03d}" for i in range(1000))
                         if c not in others and _RU_POSTCODE.match(c)), None)
        if stand_in is None:
            _PARTS_RECIPES[shape] = None
            return None
        ruled_given["postcode"] = stand_in
        where[stand_in] = len(where)
    for level in stand_ins:
        fields = _SLOT_FIELDS[level]
        for other in ("region", "city", "street", "house", "flat"):
            if other != level and other in given:
                q = stand_ins[other] if other in stand_ins else _part(given[other], other, True)
                if any(getattr(q, f) not in (None, []) for f in fields if f not in ("house_type", "flat_type")):
                    _PARTS_RECIPES[shape] = None
                    return None

    def read(value: str, level: str, russian: bool) -> _Address:
        return stand_ins[level] if level in stand_ins else _part(value, level, russian)

    ruled = _apply_rules(ruled_given, default_country, read)
    assert ruled is not None  # no free text, so never junk text
    a = ruled[0]
    recipe = _PARTS_RECIPES[shape] = _Recipe(ruled[3], a.issues, where)
    return recipe


def _conclude(a: _Address, russian: bool | None, text: str | None,
              default_country: str) -> tuple[str, tuple[Any, ...]]:
    """The last rules for a parsed record: country unknown, region; then the normalised text
    and the eight output values."""
    if a.country is None:
        a.issues.add("country_unknown")
    _fill_region(a)
    if russian:
        address = _russian_text(a, default_country)
    elif text is not None:
        address = _tidy(text)
    else:
        address = _foreign_text(a)
    return address, (address or None, a.postcode, a.country, a.region, a.city_value(), a.street,
                     a.house_value(), a.flat_value())


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
    values, combinations, codes = _distinct(parts, present)
    # Millions of small results survive this loop: no cyclic collection until the end.
    with gc_paused():
        if present == ["address"]:  # free text alone
            texts = values[0]
            given = [i for i, text in enumerate(texts) if text is not None]
            rows = [_EMPTY] * len(texts)
            for i, row in zip(given, _clean_texts([texts[i] for i in given], default_country)):
                rows[i] = row
        elif "address" in present:  # free text and separate columns
            rows = [_clean_given(_given(present, values, combination), default_country)
                    for combination in zip(*combinations)]
        else:
            rows = _clean_columns(present, values, combinations, default_country)
        return _frame(rows, codes, parts.index)


def _distinct(parts: pd.DataFrame, present: list[str]) -> tuple[list[list[str | None]], list[list[int]], np.ndarray]:
    """The distinct combinations of the ``present`` columns, each value stripped and capped:
    (per column its distinct values, None for missing; per column the index of each
    combination's value; each row's combination)."""
    values: list[list[str | None]] = []
    ids: list[np.ndarray] = []  # per column: each row's index into its values
    for column in present:
        column_codes, uniques = pd.factorize(parts[column].to_numpy(dtype=object), use_na_sentinel=True)
        stripped = [_stripped(u) for u in uniques]
        stripped.append(None)  # code -1: missing
        if len(set(stripped)) < len(stripped):  # "Москва", " Москва": one value
            seen: dict[str | None, int] = {}
            remap = np.asarray([seen.setdefault(value, len(seen)) for value in stripped], dtype=np.int64)
            column_codes, stripped = remap[column_codes], list(seen)
        values.append(stripped)
        ids.append(np.where(column_codes < 0, len(stripped) - 1, column_codes))
    if len(present) == 1:
        return values, [list(range(len(values[0])))], ids[0]
    codes = ids[0]
    for column_ids, column_values in zip(ids[1:], values[1:]):
        codes = pd.factorize(codes * len(column_values) + column_ids)[0]
    _, firsts = np.unique(codes, return_index=True)  # (factorize numbers them 0.. in order)
    return values, [column_ids[firsts].tolist() for column_ids in ids], codes


def _frame(rows: list[Result], codes: np.ndarray, index: pd.Index) -> pd.DataFrame:
    """The output frame: row ``codes[i]`` of ``rows`` for each row of ``index``."""
    columns: dict[str, Any] = {}
    for name, column in zip(OUTPUT_COLUMNS, zip(*rows)):
        values = np.fromiter(column, dtype=object, count=len(column))  # issue lists stay lists
        columns[name] = pd.Series(values[codes], index=index, dtype=object, copy=False)
    qc = columns["qc_address"].to_numpy()
    missing = pd.isna(qc)
    columns["qc_address"] = pd.Series(pd.arrays.IntegerArray(np.where(missing, 0, qc).astype(np.int8), missing),
                                      index=index)
    return pd.DataFrame(columns, index=index)
