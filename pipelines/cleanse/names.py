"""Person-name cleansing: split, order, case, script, gender, skeletons, canonical first names.

Public API
----------
* :func:`clean_names` -- vectorised over four optional Series (full name and parts), returns a
  frame with exactly :data:`NAME_COLUMNS`.
* :func:`parse_name` -- the same rule for one full-name string (a dict keyed by
  :data:`NAME_COLUMNS`).
* :func:`transliterate`, :func:`name_skeleton`, :func:`canonical_first_name` -- scalar helpers
  reused by matching.

How a name is read
------------------
1. Pre-cleaning: Unicode spaces, dashes and apostrophes unified; bracketed text, digits and
   symbols dropped (and flagged); initials split ("И.И." -> "И." "И."); titles, suffixes and
   placeholders removed; Latin/Cyrillic look-alike letters inside a word fixed; Turkic
   patronymic particles (оглы, кызы...) glued to the preceding word in one normalised form;
   Western particles (von, de la...) glued to the following word.
2. Every token gets role evidence (first name / surname / patronymic) from the `russiannames`
   frequency tables (counted over the same population, so counts of one word in different roles
   are comparable), pymorphy3 grammemes and suffix rules. Latin tokens are looked up through a
   cross-script skeleton index of the same tables (so "Iuliia", "Yuliya" and "Julija" all find
   Юлия) plus Western given-name and surname lists (faker's locale data, membership only).
3. Every segmentation of the tokens into roles is scored as order prior x product of per-token
   role probabilities x a penalty when given name and patronymic/surname disagree on sex; the
   best one wins. Priors differ for Cyrillic (surname first is usual) and Latin (given name
   first is usual); dictionary evidence overrides them. Latin names with a comma, a title or a
   suffix ("Smith, John", "Dr. Hans von Müller", "John Smith Jr.") are split by nameparser.
4. Gender: patronymic > first name > surname; conflicting strong evidence is flagged.
5. The hub writes every name as "Last First Middle". Re-reading that string gives the same
   parts whenever the dictionaries can tell the roles apart (Russian names, transliterated
   ones, Western names with a known given name or surname); for two Western words that are
   both given names and surnames ("Thomas Martin") the order is genuinely ambiguous, so
   downstream code should use the part columns, not re-parse ``full_name``.

All rules are pure: dictionaries are loaded once per process (lazy singletons) and per-token
analysis is cached, because customer names repeat their tokens a lot.

Speed
-----
* The dictionaries derived from `russiannames`, pymorphy3 and faker (role tables, pymorphy3's
  analyses of the table words, the Latin index, the Western lists) are shipped precomputed in
  ``data/names_*.parquet`` (:func:`build_reference_tables`; rebuild with
  ``python -m pipelines.cleanse.names --rebuild-tables``). A file built from other package
  versions or other transliteration rules is ignored and the tables are built in memory, with
  the same result, only slower; a test fails until the files are rebuilt.
* Names made of plain words of one script (most of them) skip pre-cleaning and token handling
  (:func:`_parse_full`, :func:`_parse_parts`); property tests check that both paths agree.
"""

from __future__ import annotations

import csv
import importlib
import re
import threading
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from itertools import permutations, starmap
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from pipelines.cleanse.base import MAX_VALUE_LENGTH, QC_VALID, blank_to_none, gc_paused

#: Output columns of :func:`clean_names`, in order (also the keys of :func:`parse_name`).
NAME_COLUMNS: list[str] = [
    "full_name", "last_name", "first_name", "middle_name", "name_script",
    "last_name_lat", "first_name_lat", "middle_name_lat",
    "last_name_skel", "first_name_skel", "name_skeleton",
    "first_name_canonical", "first_name_canonical_skel",
    "gender", "gender_source", "qc_name", "name_issues",
]

_DATA_DIR = Path(__file__).parent / "data"

#: Quality level of every issue code this module emits. Informational codes have level 0.
ISSUE_LEVELS: dict[str, int] = {
    "name:transliterated": 0,
    "name:filled_from_full_name": 0,
    "name:reordered": 1,
    "name:case_normalised": 1,
    "name:yo_replaced": 1,
    "name:format_normalised": 1,
    "name:punctuation_removed": 1,
    "name:particle_normalised": 1,
    "name:homoglyphs_fixed": 1,
    "name:title_removed": 1,
    "name:suffix_removed": 1,
    "name:parts_resplit": 1,
    "name:initials_only": 2,
    "name:single_token": 2,
    "name:no_last_name": 2,
    "name:no_first_name": 2,
    "name:unknown_tokens": 2,
    "name:mixed_script": 2,
    "name:unsupported_script": 2,
    "name:digits_removed": 2,
    "name:bracketed_text_removed": 2,
    "name:placeholder_removed": 2,
    "name:organisation_prefix": 2,
    "name:trailing_text_removed": 2,
    "name:extra_tokens": 2,
    "name:gender_conflict": 2,
    "name:full_name_conflict": 2,
    "name:too_long": 3,
    "name:no_letters": 3,
    "name:not_a_name": 3,
    "name:test_value": 3,
    "name:placeholder": 3,
    "name:organisation": 3,
    "name:too_many_tokens": 3,
    "name:initials_without_name": 3,
}

# --------------------------------------------------------------------------------------------
# Transliteration and skeletons (no dictionaries needed)
# --------------------------------------------------------------------------------------------

_CYR_TO_LAT: dict[str, str] = {
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "e", "ж": "zh", "з": "z",
    "и": "i", "й": "y", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o", "п": "p", "р": "r",
    "с": "s", "т": "t", "у": "u", "ф": "f", "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh",
    "щ": "shch", "ъ": "", "ы": "y", "ь": "", "э": "e", "ю": "yu", "я": "ya",
    # Ukrainian, Belarusian, Kazakh, Tajik, Serbian/Macedonian letters met in CIS data
    "і": "i", "ї": "yi", "є": "ye", "ґ": "g", "ў": "u", "ә": "a", "ғ": "g", "қ": "k", "ң": "n",
    "ө": "o", "ұ": "u", "ү": "u", "һ": "h", "ҳ": "h", "ҷ": "j", "ӣ": "i", "ӯ": "u", "ј": "j",
    "љ": "lj", "њ": "nj", "ћ": "c", "ђ": "dj", "џ": "dz", "ѓ": "g", "ќ": "k", "ѕ": "dz",
}
_SPECIAL_LAT: dict[str, str] = {
    "ß": "ss", "æ": "ae", "œ": "oe", "ø": "o", "đ": "d", "ð": "d", "þ": "th", "ł": "l",
    "ı": "i", "ħ": "h", "ŧ": "t", "ŋ": "ng",
    "\u2019": "'", "\u2018": "'", "`": "'", "\u00b4": "'", "\u02bc": "'", "\u02bb": "'",
}
_TRANSLIT_TABLE = str.maketrans(_CYR_TO_LAT | _SPECIAL_LAT)
# Scholarly / ISO 9 / Czech-style spellings of Russian names use hacheks for ч ш ж щ; the
# skeleton reads them as the English digraphs so "Ivanovič" meets "Ivanovich" and "Иванович".
_HACEK_DIGRAPHS: dict[str, str] = {
    "č": "ch", "š": "sh", "ž": "zh", "ŝ": "shch", "ć": "ch", "ś": "sh", "ź": "zh", "ż": "zh",
    "ş": "sh", "ğ": "g", "ǆ": "dzh", "ʹ": "", "ʺ": "",
}
_DIGRAPH_TABLE = str.maketrans(_CYR_TO_LAT | _SPECIAL_LAT | _HACEK_DIGRAPHS)


def transliterate(text: str) -> str:
    """Return ``text`` as lowercase ASCII: Cyrillic by one fixed scheme, accents stripped.

    Cyrillic letters (Russian plus common Ukrainian/Kazakh/Belarusian ones) use a simple
    BGN-like scheme (ж zh, х kh, ц ts, щ shch, й y, ю yu, я ya, ь/ъ dropped, ё e); Latin keeps
    its letters without accents; characters with no ASCII form are dropped; runs of white space
    become one space. Never raises; non-strings give "".
    """
    if not isinstance(text, str):
        return ""
    s = text.lower().translate(_TRANSLIT_TABLE)
    if not s.isascii():
        s = unicodedata.normalize("NFKD", s).encode("ascii", "ignore").decode("ascii")
    return " ".join(s.split())


# One pass maps spelling variants of one sound to one placeholder letter. Placeholders reuse
# letters that the pass removes from the input (w, j, q, c, h), so the skeleton stays
# lowercase ASCII: w = ш/щ, j = ж, c = ч, q = ц, h = х.
_SK_MAP: dict[str, str] = {
    "gue": "ge", "gui": "gi", "ou": "u",  # French spellings: Sergueï, Youri, Moussorgski
    "tsch": "c", "shch": "w", "sch": "w", "shh": "w", "sh": "w", "zh": "j", "kh": "h",
    "tch": "c", "ch": "c", "cz": "c", "ts": "q", "tz": "q", "ph": "f", "th": "t", "gh": "g",
    "ck": "k", "x": "ks", "q": "k", "w": "v", "c": "k", "y": "i", "j": "i",
}
_SK_RE = re.compile("|".join(sorted(_SK_MAP, key=len, reverse=True)))
_SK_CONS = "bcdfghjklmnpqrstvwxz"
_SK_REPEAT = re.compile(r"(.)\1+")
_SK_IO = re.compile(rf"(?<=[{_SK_CONS}])io")
_SK_IU = re.compile(rf"(?<=[{_SK_CONS}])iu")
_SK_ER = re.compile(rf"(?<=[{_SK_CONS}])er$")
_NON_AZ = re.compile(r"[^a-z]+")


def _sk_replace(match: re.Match[str]) -> str:
    return _SK_MAP[match.group()]


def _squeeze(s: str) -> str:
    r"""``s`` with every run of one character written once (``(.)\1+`` -> ``\1``)."""
    prev = ""
    for ch in s:
        if ch == prev:  # the regex is slow even when nothing repeats: look first
            return _SK_REPEAT.sub(r"\1", s)
        prev = ch
    return s


@lru_cache(maxsize=1 << 19)
def _skel_ascii(lat: str) -> str:
    """Skeleton of an already transliterated (lowercase ASCII) string."""
    # the substring tests only skip regex passes that could not match
    s = lat if lat.isascii() and lat.isalpha() and lat.islower() else _NON_AZ.sub("", lat)
    if not s:
        return ""
    s = _squeeze(_SK_RE.sub(_sk_replace, s))
    # yo/io after a consonant is ё (Fyodor, Pyotr, Semyon), which the hub writes as е
    if "io" in s:
        s = _SK_IO.sub("e", s)
    # yu/iu after a consonant is often written as plain u (Lyudmila / Ludmila)
    if "iu" in s:
        s = _SK_IU.sub("u", s)
    # ye/ie: soft sign + е is dropped by passport (ICAO) spellings: Vasilyev / Vasilev / Васильев
    s = _squeeze(s.replace("ie", "e"))
    # Alexander / Aleksandr, Peter / Petr
    return _SK_ER.sub("r", s) if s.endswith("er") else s


def name_skeleton(text: str) -> str:
    """Return the cross-script matching key of one name part (lowercase ASCII letters).

    Guarantees: the same name written in Cyrillic or in any common Latin spelling gives the same
    key ("Юлия", "Yuliya", "Iuliia", "Julija", "Yulia" -> "iulia"; "Александр", "Aleksandr",
    "Alexander" -> "aleksandr"; "Васильев", "Vasilyev", "Vasilev" -> "vasilev"); ё = е; case,
    spaces, hyphens and apostrophes are ignored; different names stay different ("Мария" vs
    "Марина", "Иван" vs "Иванна", "Александр" vs "Александра"). Diminutives are *not* unified
    here (see :func:`canonical_first_name`). Never raises; non-strings give "".
    """
    return _skel_ascii(_digraph_ascii(text)) if isinstance(text, str) else ""


def _digraph_ascii(text: str) -> str:
    """Like :func:`transliterate`, but hachek letters become digraphs (č ch, š sh, ž zh)."""
    s = text.lower().translate(_DIGRAPH_TABLE)
    if not s.isascii():
        s = unicodedata.normalize("NFKD", s).encode("ascii", "ignore").decode("ascii")
    return s


# --------------------------------------------------------------------------------------------
# Reference data (lazy singletons)
# --------------------------------------------------------------------------------------------

_LOCK = threading.RLock()

# Evidence is measured per million occurrences of a role in the `russiannames` tables; rules
# add fixed amounts on the same scale. Floors keep every role possible; an unknown word is a
# surname more often than anything else (surnames are an open class).
_EV_FLOOR = (0.1, 0.3, 0.03)  # first name, surname, patronymic
_WESTERN_LOCALES = (
    "en_US", "en_GB", "en_IE", "en_CA", "en_AU", "de_DE", "de_AT", "de_CH", "fr_FR", "es_ES",
    "es_MX", "it_IT", "pt_BR", "pt_PT", "pl_PL", "nl_NL", "cs_CZ", "sv_SE", "da_DK", "no_NO",
    "fi_FI", "hu_HU", "ro_RO", "tr_TR", "en_IN",
)
_CYR_KEY_RE = re.compile(r"[а-я]+(?:-[а-я]+)*")
_G_NONE, _G_M, _G_F = 0, 1, 2


@dataclass(slots=True)
class _WordColumn:
    """An int per word: ``rows`` maps a word to its position in ``values`` (None = no value).

    Several columns share one ``rows`` dict: built from the shipped file, that costs one dict
    of 272k words instead of one per column.
    """

    rows: dict[str, int]
    values: list[int | None]

    @classmethod
    def from_dict(cls, values: dict[str, int]) -> _WordColumn:
        return cls(dict(zip(values, range(len(values)))), list(values.values()))

    def get(self, key: str) -> int | None:
        row = self.rows.get(key)
        return None if row is None else self.values[row]

    def items(self) -> Iterator[tuple[str, int]]:
        values = self.values
        return ((k, values[i]) for k, i in self.rows.items() if values[i] is not None)


@dataclass(slots=True)
class _RoleTable(_WordColumn):
    """How often each word fills one role; value = count << 2 | gender code."""

    total: int = 1

    def count(self, key: str) -> int:
        row = self.rows.get(key)
        return 0 if row is None else (self.values[row] or 0) >> 2

    def gender(self, key: str) -> str | None:
        row = self.rows.get(key)
        code = 0 if row is None else (self.values[row] or 0) & 3
        return "M" if code == _G_M else "F" if code == _G_F else None


@dataclass(slots=True)
class _LatinIndex:
    """Skeleton -> (first, last, middle counts, then male/female counts of each role).

    Stored as columns and turned into a tuple per look-up: few Latin words are looked up, and
    building 117k tuples would cost more than all their look-ups.
    """

    rows: dict[str, int]
    counts: list[list[int]]  # nine columns

    @classmethod
    def from_dict(cls, index: dict[str, tuple[int, ...]]) -> _LatinIndex:
        return cls(dict(zip(index, range(len(index)))),
                   [list(c) for c in zip(*index.values())] if index else [[] for _ in range(9)])

    def get(self, skel: str) -> tuple[int, ...] | None:
        row = self.rows.get(skel)
        return None if row is None else tuple([column[row] for column in self.counts])

    def to_dict(self) -> dict[str, tuple[int, ...]]:
        return {skel: tuple(column[row] for column in self.counts)
                for skel, row in self.rows.items()}


@dataclass(slots=True, frozen=True)
class _DimEntry:
    canonical: str
    canonical_lat: str
    gender: str


class _Resources:
    """Dictionaries shared by all rules of this module (loaded once per process).

    The role tables, the Latin index and pymorphy3's analyses of the table words come from the
    shipped file :data:`_TABLES_PATH` (see :func:`build_reference_tables`): building them from
    the installed packages takes seconds per process. When the file is missing or was built
    from other package versions or other transliteration rules, they are built in memory
    instead, with the same result.
    """

    def __init__(self) -> None:
        import pymorphy3

        self.morph = pymorphy3.MorphAnalyzer()
        self.stopwords = self._load_stopwords()
        self.dim_ru_exact, self.dim_ru_skel, self.dim_intl = self._load_diminutives()
        shipped = _read_tables(_TABLES_PATH, _tables_fingerprint())
        if shipped is not None and _probes_hold(shipped[1], self.morph):
            table, meta = shipped
            keys = table.column("key").to_pylist()
            rows = dict(zip(keys, range(len(keys))))
            self.first, self.last, self.middle = (
                _RoleTable(rows, table.column(column).to_pylist(), meta["totals"][name])
                for column, name in (("first", "names"), ("last", "surnames"),
                                     ("middle", "midnames")))
            self.morph_codes = _WordColumn(rows, table.column("morph").to_pylist())
        else:
            self.first, self.last, self.middle = (self._load_role_table(n)
                                                  for n in ("names", "surnames", "midnames"))
            self.morph_codes = _WordColumn({}, [])
        self._latin_index: _LatinIndex | None = None
        self._western: tuple[dict[str, str], frozenset[str]] | None = None

    @staticmethod
    def _load_role_table(name: str) -> _RoleTable:
        import pyarrow.parquet as pq

        ref = resources.files("russiannames").joinpath("data", f"{name}.parquet")
        count: dict[str, int] = {}
        male: dict[str, int] = {}
        female: dict[str, int] = {}
        with resources.as_file(ref) as path:
            # batches keep the peak memory low (the surname table has 375k rows)
            for batch in pq.ParquetFile(path).iter_batches(
                    batch_size=20_000, columns=["text", "count", "gender"]):
                data = batch.to_pydict()
                for text, n, g in zip(data["text"], data["count"], data["gender"]):
                    if not text or not n:
                        continue
                    key = text.lower().replace("ё", "е")
                    if not _CYR_KEY_RE.fullmatch(key):
                        continue  # the tables hold typos with Latin look-alikes and junk
                    count[key] = count.get(key, 0) + n
                    if g == "m":
                        male[key] = male.get(key, 0) + n
                    elif g == "f":
                        female[key] = female.get(key, 0) + n
        packed: dict[str, int] = {}
        # a surname seen once in 4 million adds no evidence the suffix rules do not give
        min_count = 2 if name == "surnames" else 1
        for key, n in count.items():
            if n < min_count:
                continue
            m, f = male.get(key, 0), female.get(key, 0)
            code = _G_M if m and m >= 9 * f else _G_F if f and f >= 9 * m else _G_NONE
            packed[key] = n << 2 | code
        column = _WordColumn.from_dict(packed)
        return _RoleTable(column.rows, column.values, max(1, sum(count.values())))

    @staticmethod
    def _load_stopwords() -> dict[str, str]:
        with open(_DATA_DIR / "names_stopwords.csv", encoding="utf-8", newline="") as fh:
            return {row["word"].strip().lower(): row["kind"].strip() for row in csv.DictReader(fh)}

    @staticmethod
    def _load_diminutives() -> tuple[dict[str, tuple[_DimEntry, ...]],
                                     dict[str, tuple[_DimEntry, ...]],
                                     dict[str, tuple[_DimEntry, ...]]]:
        ru_exact: dict[str, list[_DimEntry]] = {}
        ru_skel: dict[str, list[_DimEntry]] = {}
        intl: dict[str, list[_DimEntry]] = {}
        with open(_DATA_DIR / "diminutives.csv", encoding="utf-8", newline="") as fh:
            for row in csv.DictReader(fh):
                entry = _DimEntry(_yo(row["canonical"].strip()), row["canonical_lat"].strip(),
                                  row["gender"].strip())
                for form in row["forms"].split("|"):
                    form = form.strip()
                    if not form:
                        continue
                    if row["lang"].strip() == "ru":
                        if _script_of(form) == "c":
                            ru_exact.setdefault(_cyr_key(form), []).append(entry)
                        ru_skel.setdefault(name_skeleton(form), []).append(entry)
                    else:
                        intl.setdefault(transliterate(form), []).append(entry)
        return ({k: tuple(v) for k, v in ru_exact.items()},
                {k: tuple(v) for k, v in ru_skel.items()},
                {k: tuple(v) for k, v in intl.items()})

    @property
    def latin_index(self) -> _LatinIndex:
        """Skeleton -> (first, last, middle counts, then male/female counts of each role)."""
        if self._latin_index is None:
            with _LOCK:
                if self._latin_index is None:
                    self._latin_index = self._load_latin_index()
        return self._latin_index

    def _load_latin_index(self) -> _LatinIndex:
        shipped = _read_tables(_LATIN_INDEX_PATH, _tables_fingerprint())
        if shipped is None or not _probes_hold(shipped[1], None):
            return _LatinIndex.from_dict(_build_latin_index(self.first, self.last, self.middle))
        table = shipped[0]
        skels = table.column("skel").to_pylist()
        return _LatinIndex(dict(zip(skels, range(len(skels)))),
                           [table.column(f"n{i}").to_pylist() for i in range(9)])

    @property
    def western(self) -> tuple[dict[str, str], frozenset[str]]:
        """(given name -> "M" / "F" / "" for both, surnames) of Western locales, ASCII keys."""
        if self._western is None:
            with _LOCK:
                if self._western is None:
                    self._western = self._load_western()
        return self._western

    @staticmethod
    def _load_western() -> tuple[dict[str, str], frozenset[str]]:
        shipped = _read_tables(_WESTERN_PATH, _tables_fingerprint(("faker",)))
        if shipped is not None and all(transliterate(raw).replace("'", "") == key
                                       for raw, key in shipped[1]["probes"]):
            table = shipped[0]
            names = table.column("name").to_pylist()
            given = {k: g for k, g in zip(names, table.column("given").to_pylist())
                     if g is not None}
            surnames = frozenset(k for k, s in zip(names, table.column("surname").to_pylist())
                                 if s)
            return given, surnames
        return _build_western()[:2]


def _build_western() -> tuple[dict[str, str], frozenset[str], list[list[str]]]:
    """(given name -> "M" / "F" / "" for both, surnames, (raw, key) probes) from faker's lists."""
    votes: dict[str, list[int]] = {}
    surnames: set[str] = set()
    probes: list[list[str]] = []
    for loc in _WESTERN_LOCALES:
        try:
            provider = importlib.import_module(f"faker.providers.person.{loc}").Provider
        except Exception:  # noqa: BLE001 - optional data: a missing locale only weakens rules
            continue
        listed: dict[str, int] = {}
        for attr, bit in (("first_names_male", 1), ("first_names_female", 2)):
            for name in getattr(provider, attr, ()) or ():
                key = transliterate(name).replace("'", "")
                if key.isalpha():
                    listed[key] = listed.get(key, 0) | bit
                    if not name.isascii() and len(probes) < 100:
                        probes.append([name, key])
        for key, bits in listed.items():
            row = votes.setdefault(key, [0, 0])
            if bits != 3:  # a locale listing a name for both sexes casts no vote
                row[bits - 1] += 1
        for name in getattr(provider, "last_names", ()) or ():
            key = transliterate(name).replace("'", "")
            if key.isalpha():
                surnames.add(key)
    # a name that is male in some countries and female in others (Jean, Kim) gets none
    given = {k: "M" if m and not f else "F" if f and not m else ""
             for k, (m, f) in votes.items()}
    return given, frozenset(surnames), probes


def _build_latin_index(first: _RoleTable, last: _RoleTable,
                       middle: _RoleTable) -> dict[str, tuple[int, ...]]:
    """Skeleton -> (first, last, middle counts, then male/female counts of each role)."""
    rows: dict[str, list[int]] = {}
    # rare words add little but cost memory and start-up time
    for slot, table, min_count in ((0, first, 2), (1, last, 5), (2, middle, 2)):
        for key, packed in table.items():
            n = packed >> 2
            if n < min_count:
                continue
            skel = _skel_ascii(transliterate(key))
            if not skel:
                continue
            row = rows.get(skel)
            if row is None:
                row = rows[skel] = [0] * 9
            row[slot] += n
            code = packed & 3
            if code:
                row[2 + 2 * slot + code] += n  # male at 3+2*slot, female at 4+2*slot
    return {k: tuple(v) for k, v in rows.items()}


# --------------------------------------------------------------------------------------------
# Shipped reference tables
# --------------------------------------------------------------------------------------------

_TABLES_PATH = _DATA_DIR / "names_tables.parquet"
_LATIN_INDEX_PATH = _DATA_DIR / "names_latin_index.parquet"
_WESTERN_PATH = _DATA_DIR / "names_western.parquet"
_META_KEY = b"golden_hub.names"
# the packages whose data the shipped role tables and Latin index are computed from
_TABLE_SOURCES = ("russiannames", "pymorphy3", "pymorphy3-dicts-ru")


def _tables_fingerprint(packages: tuple[str, ...] = _TABLE_SOURCES) -> dict[str, str | None]:
    from importlib.metadata import PackageNotFoundError, version

    out: dict[str, str | None] = {}
    for package in packages:
        try:
            out[package] = version(package)
        except PackageNotFoundError:
            out[package] = None
    return out


def _read_tables(path: Path, fingerprint: dict[str, str | None]) -> tuple[Any, dict] | None:
    """(pyarrow table, metadata) of a shipped file built from the installed packages, else None."""
    import json

    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
        meta = json.loads(table.schema.metadata[_META_KEY])
    except (OSError, KeyError, TypeError, ValueError):
        return None
    if meta.get("fingerprint") != fingerprint:
        return None
    return table, meta


def _probes_hold(meta: dict, morph: Any) -> bool:
    """Do today's rules still give the answers stored with the file (transliteration rules and
    skeletons are code; a change there makes the shipped tables stale)?"""
    if any(_skel_ascii(transliterate(k)) != v for k, v in meta["skeleton_probes"]):
        return False
    return morph is None or all(_morph_code(morph, k) == v for k, v in meta["morph_probes"])


def _morph_needed(n_f: int, n_l: int, n_m: int, first_gender: str | None) -> bool:
    """Does :func:`_cyr_feat_simple` ask pymorphy3 about a word with these table counts?"""
    # pymorphy3 is slow on unknown words (it guesses): ask only when the tables are unsure
    return n_f + n_l + n_m < 20 or (n_f >= 3 and first_gender is None)


def build_reference_tables() -> tuple[Any, Any, Any]:
    """Build the shipped tables from the installed packages: (role table, Latin index, Western
    name lists).

    Role table: one row per word of the `russiannames` tables (lowercase, ё -> е) with its packed
    count in each role (null when absent) and, for the words :func:`_cyr_feat_simple` asks
    pymorphy3 about, pymorphy3's answer as a :func:`_morph_code`. Latin index: skeleton and
    the nine counts of :func:`_build_latin_index`. Western lists: faker's given names (with
    their sex, see :func:`_build_western`) and surnames. All carry the package versions and
    probe answers that :class:`_Resources` checks before trusting them. Rebuild after changing
    the transliteration or skeleton rules or upgrading those packages:
    ``python -m pipelines.cleanse.names --rebuild-tables``.
    """
    import json

    import pymorphy3
    import pyarrow as pa

    morph = pymorphy3.MorphAnalyzer()
    first, last, middle = (_Resources._load_role_table(n)
                           for n in ("names", "surnames", "midnames"))
    keys = sorted(set(first.rows) | set(last.rows) | set(middle.rows))
    codes: list[int | None] = []
    for key in keys:
        needed = _morph_needed(first.count(key), last.count(key), middle.count(key),
                               first.gender(key))
        codes.append(_morph_code(morph, key) if needed else None)
    fingerprint = _tables_fingerprint()
    skeleton_probes = [[k, _skel_ascii(transliterate(k))] for k in keys[::997]]
    morph_probes = [[k, c] for k, c in zip(keys[::4999], codes[::4999]) if c is not None]
    meta = {"fingerprint": fingerprint, "skeleton_probes": skeleton_probes,
            "morph_probes": morph_probes,
            "totals": {"names": first.total, "surnames": last.total, "midnames": middle.total}}
    roles = pa.table({
        "key": pa.array(keys, pa.string()),
        "first": pa.array([first.get(k) for k in keys], pa.int64()),
        "last": pa.array([last.get(k) for k in keys], pa.int64()),
        "middle": pa.array([middle.get(k) for k in keys], pa.int64()),
        "morph": pa.array(codes, pa.int16()),
    }).replace_schema_metadata({_META_KEY: json.dumps(meta, ensure_ascii=False)})
    index = _build_latin_index(first, last, middle)
    skels = sorted(index)
    latin = pa.table({"skel": pa.array(skels, pa.string()),
                      **{f"n{i}": pa.array([index[k][i] for k in skels], pa.int64())
                         for i in range(9)}})
    latin_meta = {"fingerprint": fingerprint, "skeleton_probes": skeleton_probes}
    latin = latin.replace_schema_metadata({_META_KEY: json.dumps(latin_meta, ensure_ascii=False)})
    given, surnames, probes = _build_western()
    names = sorted(set(given) | surnames)
    western = pa.table({
        "name": pa.array(names, pa.string()),
        "given": pa.array([given.get(k) for k in names], pa.string()),
        "surname": pa.array([k in surnames for k in names], pa.bool_()),
    })
    western_meta = {"fingerprint": _tables_fingerprint(("faker",)), "probes": probes}
    western = western.replace_schema_metadata(
        {_META_KEY: json.dumps(western_meta, ensure_ascii=False)})
    return roles, latin, western


_RES: _Resources | None = None


def _res() -> _Resources:
    global _RES
    if _RES is None:
        with _LOCK:
            if _RES is None:
                _RES = _Resources()
    return _RES


# --------------------------------------------------------------------------------------------
# Word analysis
# --------------------------------------------------------------------------------------------

_CYR_RE = re.compile(r"[\u0400-\u052f]")
_LAT_RE = re.compile(r"[A-Za-z\u00c0-\u024f\u1e00-\u1eff]")
_CYR_LETTERS = frozenset("абвгдеёжзийклмнопрстуфхцчшщъыьэюяіїєґўәғқңөұүһҳҷӣӯјљњћђџѓќѕ")
_LAT_HOMO = {"a": "а", "c": "с", "e": "е", "o": "о", "p": "р", "x": "х", "y": "у", "k": "к",
             "A": "А", "B": "В", "C": "С", "E": "Е", "H": "Н", "K": "К", "M": "М", "O": "О",
             "P": "Р", "T": "Т", "X": "Х", "Y": "У"}
_LAT_HOMO_T = str.maketrans(_LAT_HOMO)
_CYR_HOMO_T = str.maketrans({v: k for k, v in _LAT_HOMO.items()}
                            | {"ё": "ë", "Ё": "Ë", "і": "i", "І": "I", "ј": "j", "Ј": "J"})

# written form -> (normalised Cyrillic, normalised Latin, gender)
_TURKIC: dict[str, tuple[str, str, str]] = {
    **dict.fromkeys(("оглы", "оглу", "огли", "угли", "ogly", "oglu", "ogli", "ugli", "oğlu"),
                    ("оглы", "ogly", "M")),
    **dict.fromkeys(("кызы", "гызы", "кизи", "кызи", "qizi", "kyzy", "kizi", "gizi", "qyzy",
                     "qızı"), ("кызы", "kyzy", "F")),
    **dict.fromkeys(("улы", "uly"), ("улы", "uly", "M")),
    **dict.fromkeys(("уулу", "uulu"), ("уулу", "uulu", "M")),
}
_TURKIC_GLUED = re.compile(r"(.{3,}?)(оглы|оглу|кызы|гызы|ogly|oglu|kyzy|qizi|gizi)")
_PARTICLES_LAT = frozenset({
    "von", "van", "der", "den", "de", "del", "della", "dela", "di", "da", "dos", "das", "du",
    "la", "le", "ten", "ter", "vom", "zu", "zum", "zur", "bin", "ibn", "dei", "degli", "y",
})
_PARTICLES_CYR = frozenset({"фон", "ван", "дер", "де", "ди", "дю", "да", "дель", "ибн"})

_PATR_CYR = re.compile(r"(?:[оеё]вич|ьич|[оеё]вна|ична|инична)$")
_PATR_CYR_WEAK = re.compile(r"[^аеёиоуыэюя]ич$")
_SURN_M_CYR = re.compile(r"(?:[оеё]в|[иы]н|ский|цкий|ской|цкой|[^аеёиоуыэюя]ый)$")
_SURN_F_CYR = re.compile(r"(?:[оеё]ва|[иы]на|ская|цкая|[^аеёиоуыэюя]ая)$")
_SURN_ANY_CYR = re.compile(r"(?:енко|[ая]нц|ян|дзе|швили|ани|[лнрч]юк|чук|[ыи]х|ук)$")
_PATR_LAT = re.compile(r"(?:ovich|evich|ovitch|evitch|ovna|evna|ichna|inichna)$")
_SURN_M_LAT = re.compile(r"(?:[oe]v|[iy]ov|[iy]n|sky|sk[iy][iyj]|ckij|tskiy)$")
_SURN_F_LAT = re.compile(r"(?:[oe]va|[iy]ova|[iy]na|sk[ao][iy]?a|skaja|tskaya|ckaja)$")
_SURN_ANY_LAT = re.compile(r"(?:enko|[ay]ants|yan|dze|shvili|chuk|[iy]kh)$")


def _script_of(token: str) -> str:
    """'c' Cyrillic, 'l' Latin, 'x' both, 'o' other letters only, '' no letters."""
    cyr = _CYR_RE.search(token) is not None
    lat = _LAT_RE.search(token) is not None
    if cyr:
        return "x" if lat else "c"
    if lat:
        return "l"
    return "o" if any(ch.isalpha() for ch in token) else ""


def _cyr_key(token: str) -> str:
    return token.lower().replace("ё", "е")


def _yo(text: str) -> str:
    return text.replace("ё", "е").replace("Ё", "Е")


# _Feat and _Tok are named tuples rather than frozen dataclasses: a run creates one per
# distinct word, and a tuple is several times cheaper to create.
class _Feat(NamedTuple):
    """Role evidence of one normalised word."""

    p: tuple[float, float, float]  # probability of first name, surname, patronymic (sum 1)
    g_f: str | None = None  # gender the word suggests in each role
    g_l: str | None = None
    g_m: str | None = None
    strong_f: bool = False  # strong enough to report a conflict?
    strong_l: bool = False
    strong_m: bool = False
    known: bool = False  # any dictionary, morphology or suffix evidence at all
    ru_f: float = 0.0  # Russian-table evidence per role (per million)
    ru_l: float = 0.0
    ru_m: float = 0.0
    west_f: bool = False  # Western given-name / surname list membership (Latin only)
    west_l: bool = False
    ru_suffix: bool = False  # Russian surname or patronymic suffix (Latin only)
    west_g: str | None = None  # gender by the Western lists ("" = both sexes)


def _probs(ev_f: float, ev_l: float, ev_m: float) -> tuple[float, float, float]:
    ev_f += _EV_FLOOR[0]
    ev_l += _EV_FLOOR[1]
    ev_m += _EV_FLOOR[2]
    total = ev_f + ev_l + ev_m
    return ev_f / total, ev_l / total, ev_m / total


_UNKNOWN = _Feat(_probs(0.0, 0.0, 0.0))
_INITIAL_FEAT = _Feat((0.5, 0.0, 0.5), known=True)


def _morph_analyse(morph: Any, key: str) -> tuple[dict[str, str | None], dict[str, bool]]:
    """pymorphy3's view: role -> gender of nominative Name/Surn/Patr parses, role -> in dict."""
    genders: dict[str, str | None] = {}
    known: dict[str, bool] = {}
    for p in morph.parse(key):
        tag = p.tag
        if "nomn" not in tag:
            continue
        for gram, role in (("Name", "F"), ("Surn", "L"), ("Patr", "M")):
            if gram in tag and role not in genders:
                g = tag.gender
                genders[role] = "M" if g == "masc" else "F" if g == "femn" else None
                # "known" only when the dictionary holds the word itself (no prefix guessing)
                known[role] = (len(p.methods_stack) == 1
                               and type(p.methods_stack[0][0]).__name__ == "DictionaryAnalyzer")
    return genders, known


# :func:`_morph_analyse` packed in an int (for the shipped tables): four bits per role
# (F, L, M from the low end): 1 = role present, 2-4 = gender (0 none, 1 M, 2 F), 8 = known
_MORPH_ROLES = ("F", "L", "M")
_MORPH_GENDERS = (None, "M", "F")


def _morph_code(morph: Any, key: str) -> int:
    genders, known = _morph_analyse(morph, key)
    code = 0
    for shift, role in zip((0, 4, 8), _MORPH_ROLES):
        if role in genders:
            bits = 1 | _MORPH_GENDERS.index(genders[role]) << 1 | known[role] << 3
            code |= bits << shift
    return code


@lru_cache(maxsize=None)
def _morph_decode(code: int) -> tuple[dict[str, str | None], dict[str, bool]]:
    """Inverse of :func:`_morph_code` (callers only read the dicts, so they are shared)."""
    genders: dict[str, str | None] = {}
    known: dict[str, bool] = {}
    for shift, role in zip((0, 4, 8), _MORPH_ROLES):
        bits = code >> shift & 15
        if bits & 1:
            genders[role] = _MORPH_GENDERS[bits >> 1 & 3]
            known[role] = bool(bits & 8)
    return genders, known


def _morph(key: str) -> tuple[dict[str, str | None], dict[str, bool]]:
    """:func:`_morph_analyse` of a word; table words were analysed when the tables were built."""
    res = _res()
    code = res.morph_codes.get(key)
    if code is None:
        return _morph_analyse(res.morph, key)
    return _morph_decode(code)


def _dim_genders(entries: tuple[_DimEntry, ...] | None) -> set[str] | None:
    return {e.gender for e in entries} if entries else None


_PATR_ENDINGS = (("инична", ("а", "я")), ("ична", ("а", "")), ("ович", ("", "ь")),
                 ("евич", ("й", "ь", "")), ("овна", ("", "ь")), ("евна", ("й", "ь", "")),
                 ("ич", ("а", "я", "")))


def _patronymic_stem_is_name(key: str) -> bool:
    """Is ``key`` a given name plus a patronymic suffix (Андре-евич, Кузьм-ич, Иль-инична)?"""
    first = _res().first
    for ending, tails in _PATR_ENDINGS:
        if key.endswith(ending) and len(key) > len(ending) + 1:
            stem = key[: -len(ending)]
            if any(first.count(stem + t) >= 20 for t in tails):
                return True
    return False


@lru_cache(maxsize=1 << 18)
def _cyr_feat(key: str) -> _Feat:
    """Evidence for a lowercase ё-less Cyrillic word (a hyphenated word combines its parts)."""
    if "-" in key:
        whole = _cyr_feat_simple(key)
        if whole.ru_f > 1 or whole.ru_l > 1:
            return whole
        feats = [_cyr_feat(p) for p in key.split("-") if p]
        # a double surname needs one surname part; a double given name needs all parts
        ev_l = max(f.ru_l for f in feats) + 3.0 * any(f.p[1] > 0.5 for f in feats) + 1.0
        ev_f = min(f.ru_f for f in feats)
        strong_l = next((f for f in feats if f.strong_l), None)
        return _Feat(_probs(ev_f, ev_l, 0.0), feats[0].g_f,
                     strong_l.g_l if strong_l else feats[-1].g_l, None, feats[0].strong_f,
                     strong_l is not None, False, any(f.known for f in feats),
                     ev_f, max(f.ru_l for f in feats))
    return _cyr_feat_simple(key)


def _cyr_feat_simple(key: str) -> _Feat:
    res = _res()
    n_f, n_l, n_m = res.first.count(key), res.last.count(key), res.middle.count(key)
    ru_f = n_f * 1e6 / res.first.total
    ru_l = n_l * 1e6 / res.last.total
    ru_m = n_m * 1e6 / res.middle.total
    ev_f, ev_l, ev_m = ru_f, ru_l, ru_m
    known = n_f + n_l + n_m > 0
    dict_gf = res.first.gender(key)
    if _morph_needed(n_f, n_l, n_m, dict_gf):
        m_gender, m_known = _morph(key)
    else:
        m_gender, m_known = {}, {}
    if "F" in m_gender:
        ev_f += 20.0 if m_known["F"] else 1.0
        known = known or m_known["F"]
    if "L" in m_gender:
        ev_l += 5.0 if m_known["L"] else 0.5
        known = known or m_known["L"]
    if "M" in m_gender:
        ev_m += 100.0 if m_known["M"] else 5.0
        known = known or m_known["M"]
    g_m, strong_m = None, False
    if len(key) >= 5 and (_PATR_CYR.search(key) or _PATR_CYR_WEAK.search(key)):
        known = True
        g_m = "F" if key.endswith("на") else "M"
        # Бункевич, Клышевич are surnames: a patronymic is made from a given name
        if n_m >= 3 or _patronymic_stem_is_name(key):
            ev_m += 100.0
            strong_m = True
        else:
            ev_m += 5.0
            ev_l += 3.0
    if n_m >= 3 and res.middle.gender(key):
        g_m, strong_m = res.middle.gender(key), True
    g_l, strong_l = None, False
    if len(key) >= 4 and _SURN_F_CYR.search(key):
        ev_l += 5.0
        g_l, strong_l, known = "F", True, True
    elif len(key) >= 3 and _SURN_M_CYR.search(key):
        ev_l += 5.0
        g_l, strong_l, known = "M", True, True
    elif len(key) >= 4 and _SURN_ANY_CYR.search(key):
        ev_l += 3.0
        known = True
    if g_l is None and n_l >= 5:
        g_l = res.last.gender(key)
    if g_l is None and m_known.get("L"):
        g_l = m_gender.get("L")
    g_f = dict_gf if n_f >= 3 else None
    strong_f = g_f is not None and n_f >= 10
    if g_f is None and m_known.get("F") and m_gender.get("F") and dict_gf in (None,
                                                                               m_gender["F"]):
        g_f, strong_f = m_gender["F"], True
    dim = _dim_genders(res.dim_ru_exact.get(key))
    if dim is not None:
        ev_f += 20.0
        known = True
        # Саша, Женя, Валя: both sexes, so the first name says nothing about gender
        g_f, strong_f = (next(iter(dim)), True) if len(dim) == 1 else (None, False)
    return _Feat(_probs(ev_f, ev_l, ev_m), g_f, g_l, g_m, strong_f, strong_l, strong_m, known,
                 ru_f, ru_l, ru_m)


@lru_cache(maxsize=1 << 18)
def _lat_feat(key: str, dkey: str) -> _Feat:
    """Evidence for a Latin word: Russian tables via skeletons, Western lists.

    ``key`` is the plain ASCII form (Western look-ups), ``dkey`` the hachek-digraph form
    (suffix rules and skeletons).
    """
    if "-" in key and key.count("-") == dkey.count("-"):
        feats = [_lat_feat(p, d) for p, d in zip(key.split("-"), dkey.split("-")) if p and d]
        ev_l = max(f.p[1] for f in feats) * 10 + 1.0
        ev_f = min(f.p[0] for f in feats) * 10
        strong_l = next((f for f in feats if f.strong_l), None)
        return _Feat(_probs(ev_f, ev_l, 0.0), feats[0].g_f, strong_l.g_l if strong_l else None,
                     None, feats[0].strong_f, strong_l is not None, False,
                     any(f.known for f in feats), min(f.ru_f for f in feats),
                     max(f.ru_l for f in feats), 0.0, all(f.west_f for f in feats),
                     any(f.west_l for f in feats), any(f.ru_suffix for f in feats))
    res = _res()
    skel = _skel_ascii(dkey)
    row = res.latin_index.get(skel) if skel else None
    if row is None and "x" in dkey:
        # GOST 7.79-B / "yandex" spellings write х as x (Mixail): try that reading
        row = res.latin_index.get(_skel_ascii(dkey.replace("x", "kh")))
    if row is None and "j" in dkey:
        # French-style and "telegram" spellings write ж as j (Nadejda, Sergueievitch)
        row = res.latin_index.get(_skel_ascii(dkey.replace("j", "zh")))
    given, surnames = res.western
    ru_f = ru_l = ru_m = 0.0
    g_f = g_l = g_m = None
    strong_f = strong_l = strong_m = False
    if row is not None:
        ru_f = row[0] * 1e6 / res.first.total
        ru_l = row[1] * 1e6 / res.last.total
        ru_m = row[2] * 1e6 / res.middle.total
        if row[3] and row[3] >= 9 * row[4]:
            g_f, strong_f = "M", row[0] >= 10
        elif row[4] and row[4] >= 9 * row[3]:
            g_f, strong_f = "F", row[0] >= 10
        if row[7] >= 3 and row[7] >= 9 * row[8]:
            g_m, strong_m = "M", True
        elif row[8] >= 3 and row[8] >= 9 * row[7]:
            g_m, strong_m = "F", True
    wkey = key.replace("'", "")
    west_f = wkey in given
    west_l = wkey in surnames
    if west_f and not (g_f is not None and ru_f >= 5):
        # Western lists decide only when the Russian tables do not (Nikita is a man in Russia)
        west_g = given[wkey] or None
        if g_f is None or (west_g is not None and west_g != g_f):
            g_f, strong_f = west_g, west_g is not None
    dim = _dim_genders(res.dim_ru_skel.get(skel)) if skel else None
    if dim is not None:
        g_f, strong_f = (next(iter(dim)), True) if len(dim) == 1 else (None, False)
    ev_f = ru_f + 20.0 * (dim is not None)
    ev_l = ru_l
    ev_m = ru_m
    known = ru_f + ru_l + ru_m > 0.3 or west_f or west_l or dim is not None
    ru_suffix = False
    if len(dkey) >= 6 and _PATR_LAT.search(dkey):
        # a patronymic only when the tables know it; else maybe a surname (Kablukovich)
        ev_m += 100.0 if ru_m > 0.5 else 5.0
        known = ru_suffix = True
        if g_m is None:
            g_m, strong_m = ("F" if dkey.endswith("na") else "M"), ru_m > 0.5
        if ru_m <= 0.5:
            ev_l += 3.0
    m_f = _SURN_F_LAT.search(dkey) if len(dkey) >= 5 else None
    m_m = _SURN_M_LAT.search(dkey) if m_f is None and len(dkey) >= 4 else None
    match = m_f or m_m
    if match is not None:
        # -in / -ina is Russian (Pushkin) but also French, Spanish, German (Colin, Medina,
        # Klein): it counts only when the Russian tables know the word
        weak = match.group(0).endswith(("ina", "yna", "in", "yn"))
        if not weak or (ru_l >= 0.5 and not west_l):
            ev_l += 5.0 if m_f else 3.0
            g_l, strong_l, known, ru_suffix = ("F" if m_f else "M"), True, True, True
    elif len(dkey) >= 5 and _SURN_ANY_LAT.search(dkey):
        ev_l += 3.0
        known = ru_suffix = True
    p = _probs(ev_f, ev_l, ev_m)
    if west_f or west_l:
        # Western list membership has no frequencies: blend it with the Russian view, weighted
        # by how much the Russian tables know (Denis, Roman, Adam are also French surnames)
        p_west = _probs(0.5 * west_f, 0.5 * west_l, 0.0)
        w = min(1.0, (ev_f + ev_l + ev_m) / 5.0)
        p = (
            (p[0] * w + p_west[0]) / (w + 1),
            (p[1] * w + p_west[1]) / (w + 1),
            (p[2] * w + p_west[2]) / (w + 1),
        )
    return _Feat(p, g_f, g_l, g_m, strong_f, strong_l, strong_m, known, ru_f, ru_l, ru_m,
                 west_f, west_l, ru_suffix, given.get(wkey))


class _Tok(NamedTuple):
    """One name token, or a glued group, ready for role assignment and output."""

    raw: str  # as written (after pre-cleaning)
    display: str  # proper case, ё -> е
    lat: str
    skel: str
    script: str  # 'c', 'l' or 'o'
    kind: str  # 'word', 'initial', 'patr' (Turkic patronymic group), 'chunk' (particle group)
    feat: _Feat
    key: str = ""  # lowercase form used for particle look-ups
    special: bool = False  # may start or join a group (particle, Turkic suffix)
    fixed_gender: str | None = None  # gender implied by a Turkic particle

    @property
    def p(self) -> tuple[float, float, float]:
        return self.feat.p


_MIXED_CASE_OK = re.compile(
    r"(?:Mc|Mac|Мак|Мк|Fitz|De|Di|Da|Du|Le|La|Van|Von|Ван|Де|Ди|Ле|Ла|Дю)[A-ZА-ЯЁ][a-zа-яё]{2,}"
    r"|[dlдл]'[A-ZА-ЯЁ][a-zа-яё]+"  # d'Artagnan, д'Арк
)


def _proper_piece(piece: str) -> str:
    low = piece.lower()
    if "'" in low:
        subs = low.split("'")
        out = [subs[0][:1].upper() + subs[0][1:]]
        for prev, sub in zip(subs, subs[1:]):
            # O'Neil, D'Angelo; but Ukrainian Мар'яна keeps the letter after the apostrophe
            out.append(sub[:1].upper() + sub[1:] if len(prev) == 1 else sub)
        return "'".join(out)
    if low.startswith("mc") and len(low) > 3 and low.isascii():
        return "Mc" + low[2].upper() + low[3:]
    return low[:1].upper() + low[1:]


def _proper_case(token: str) -> str:
    """Each hyphen part capitalised; a deliberate McDonald / МакДональд spelling is kept."""
    if _MIXED_CASE_OK.fullmatch(token):
        return token
    if "-" not in token:
        return _proper_piece(token)
    return "-".join([_proper_piece(p) for p in token.split("-")])


def _is_special(key: str, script: str) -> bool:
    if key in _TURKIC or key in _PARTICLES_LAT or key in _PARTICLES_CYR:
        return True
    if "-" in key and key.rsplit("-", 1)[1] in _TURKIC:
        return True
    return len(key) >= 7 and _TURKIC_GLUED.fullmatch(key) is not None


@lru_cache(maxsize=1 << 18)
def _word_tok(raw: str) -> _Tok:
    """Analyse one plain word (letters, hyphens, apostrophes; homoglyphs already fixed)."""
    script = _script_of(raw) or "o"
    if script == "c":
        key = _cyr_key(raw)
        feat = _cyr_feat(key.replace("'", ""))
        display = _yo(_proper_case(raw))
        if key in _PARTICLES_CYR and display != _yo(raw):
            display = key
    elif script == "l":
        key = transliterate(raw)
        feat = _lat_feat(key, _digraph_ascii(raw)) if key else _UNKNOWN
        display = _proper_case(raw)
        if key in _PARTICLES_LAT and display != raw:
            display = raw.lower()  # VON / von -> von; a deliberate "Van", "Le" stays
    else:
        key = raw.lower()
        feat = _UNKNOWN
        display = _proper_case(raw)
    return _Tok(raw, display, transliterate(display), name_skeleton(display), script, "word",
                feat, key, _is_special(key, script))


@lru_cache(maxsize=4096)
def _initial_tok(letter: str) -> _Tok:
    lat = transliterate(letter)
    display = _yo(letter[:1].upper() + letter[1:].lower()) + "."
    return _Tok(letter, display, lat, _skel_ascii(lat), _script_of(letter) or "o", "initial",
                _INITIAL_FEAT, letter.lower())


def _patr_group(base: _Tok, particle: str) -> _Tok:
    """Turkic patronymic: given name + normalised particle ("Рашид оглы"); always a patronymic."""
    cyr, lat_form, gender = _TURKIC[particle]
    display = f"{base.display} {cyr if base.script == 'c' else lat_form}"
    lat = transliterate(display)
    feat = _Feat((0.0, 0.0, 1.0), g_m=gender, strong_m=True, known=True, ru_m=100.0,
                 ru_suffix=True)
    return _Tok(f"{base.raw} {particle}", display, lat, name_skeleton(display), base.script, "patr",
                feat, fixed_gender=gender)


def _chunk(tokens: list[_Tok]) -> _Tok:
    """Particle-led surname group ("von Müller", "de la Cruz"); always a surname."""
    display = " ".join(t.display for t in tokens)
    lat = " ".join(t.lat for t in tokens)
    feat = _Feat((0.0, 1.0, 0.0), known=True, ru_l=tokens[-1].feat.ru_l, west_l=True)
    return _Tok(" ".join(t.raw for t in tokens), display, lat, name_skeleton(display),
                tokens[-1].script, "chunk", feat)


_INITIAL_RE = re.compile(r"[^\W\d_]")
# transliterated initials of Ю, Я, Ж, Х, Ц, Ч, Ш, Щ, Е, Ё ("Ivanov Yu.I.")
_DIGRAPH_INITIALS = frozenset({"yu", "ya", "yo", "ye", "ju", "ja", "jo", "je", "iu", "ia", "zh",
                               "kh", "ts", "tc", "ch", "sh", "shch", "sch"})


@lru_cache(maxsize=1 << 18)
def _word(word: str, ctx: str) -> tuple[_Tok | None, str | None, tuple[str, ...]]:
    """One pre-cleaned word in a name whose majority script is ``ctx``.

    Returns (token or None, stop-word kind or None, issue codes this word causes alone).
    """
    flags: list[str] = []
    had_dot = word.endswith(".")
    w = word.rstrip(".").strip("-'")
    if not w or not (w.isalpha() or any(ch.isalpha() for ch in w)):
        return None, "empty", ()
    key = w.lower().replace("ё", "е")
    kind = _res().stopwords.get(key)
    if kind in ("test", "org", "title", "org_person"):
        return None, kind, ()
    if len(key) >= 3 and len(set(key)) == 1:
        return None, "test", ()  # "ааа", "xxxx"
    script = _script_of(w)
    if script == "x" or (script == "l" and ctx == "c"):
        fixed = _fix_homoglyphs(w, script)
        if fixed is not None:
            w = fixed
            flags.append("name:homoglyphs_fixed")
    if _INITIAL_RE.fullmatch(w) or (had_dot and w.lower() in _DIGRAPH_INITIALS):
        if not had_dot:
            flags.append("name:format_normalised")
        return _initial_tok(w), kind, tuple(flags)
    if had_dot:
        flags.append("name:punctuation_removed")
    return _word_tok(w), kind, tuple(flags)


def _fix_homoglyphs(word: str, script: str) -> str | None:
    """Latin look-alikes inside a Cyrillic word become Cyrillic (and vice versa); None if not."""
    if script == "x":
        n_cyr = sum(ch.lower() in _CYR_LETTERS for ch in word)
        n_lat = sum(1 for ch in word if ch.isalpha()) - n_cyr
        fixed = word.translate(_LAT_HOMO_T if n_cyr >= n_lat else _CYR_HOMO_T)
        return fixed if _script_of(fixed) in ("c", "l") else None
    fixed = word.translate(_LAT_HOMO_T)  # an all-look-alike Latin word among Cyrillic ones
    return fixed if _script_of(fixed) == "c" else None


# --------------------------------------------------------------------------------------------
# Pre-cleaning of one raw string into words
# --------------------------------------------------------------------------------------------

_PUNCT_TABLE = str.maketrans({
    "\u2019": "'", "\u2018": "'", "`": "'", "\u00b4": "'", "\u02bc": "'", "\u02bb": "'",
    "\u2032": "'", "\u02b9": "'", "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-",
    "\u2014": "-", "\u2015": "-", "\u2212": "-", "\u00a0": " ", "\u2007": " ", "\u202f": " ",
    "\t": " ", "\n": " ", "\r": " ", "\u200b": None, "\u200c": None, "\u200d": None,
    "\ufeff": None, "\u00ad": None, "\u2060": None, "_": " ",
    "\u00b7": None,  # scholarly transliteration splits т·с inside a word
})
_SIMPLE_RE = re.compile(
    r"[A-Za-zА-Яа-яЁё]+(?:-[A-Za-zА-Яа-яЁё]+)?(?: [A-Za-zА-Яа-яЁё]+(?:-[A-Za-zА-Яа-яЁё]+)?){0,4}"
)
_NOT_A_NAME_RE = re.compile(r"@|https?:|www\.|\.(?:ru|com|рф|net|org)\b", re.IGNORECASE)
_BRACKETED_RE = re.compile(
    r"\([^()]*\)|\[[^\[\]]*\]|\{[^{}]*\}|\"[^\"]*\"|«[^«»]*»|„[^„“”]*[“”]|“[^“”]*”|<[^<>]*>"
)
_BRACKET_CHARS_RE = re.compile(r"[()\[\]{}\"«»„“”<>]")
_DIGITS_RE = re.compile(r"\d")
# "1985 г.р.", "1985 г. рожд.", "35 лет", "b. 1985": notes that come with numbers
_BIRTH_NOTE_RE = re.compile(
    r"(?<![^\W\d_])(?:г\.?\s?р\.?|г\.\s?рожд\.?|гг?\.|года?|лет|рожд\.?|b\.|born|y\.?o\.?)"
    r"(?![^\W\d_])", re.IGNORECASE)
# academic degrees and professional titles written with dots (German, English, Russian)
_DEGREE_RE = re.compile(
    r"(?<!\S)(?:Dipl\.?-?(?:Ing|Kfm|Inf|Math|Phys|Psych|Volksw|Betriebsw)\.?(?:\s?\(FH\))?|"
    r"Dr\.?-?Ing\.?|Dr\.\s?(?:med|rer\.\s?nat|phil|jur|h\.\s?c)\.?(?:\s?dent\.?)?|"
    r"Univ\.?-?Prof\.?|Ing\.|Mag\.|Prof\.|Dr\.|"
    r"[BM]\.\s?(?:Sc|A|Eng|Ed|BA|Phil)\.?|MBA|LL\.?\s?[BM]\.?|Ph\.?\s?D\.?|"
    r"[кд]\.\s?[а-я]{1,3}\.\s?н\.?)(?!\S)",
    re.IGNORECASE,
)
_HYPHEN_JOIN_RE = re.compile(r"(?<=\w)\s+-(?=\w)|(?<=\w)-\s+(?=\w)")
_MULTI_HYPHEN_RE = re.compile(r"-{2,}")
_ALLOWED_PUNCT = frozenset(" -'.,")
_PLACEHOLDER_VALUES = frozenset({"n/a", "n\\a", "#n/a", "н/д", "#н/д", "-/-", "?", "??", "???",
                                 "n.a.", "н.д."})


@dataclass(slots=True)
class _Pre:
    words: list[str]
    comma_at: int | None  # index of the first word after a separating comma
    issues: set[str]
    ctx: str = "c"  # majority script: 'c' Cyrillic, 'l' Latin or other
    fatal: str | None = None


def _context(s: str) -> str:
    cyr = _CYR_RE.search(s) is not None
    lat = _LAT_RE.search(s) is not None
    if cyr and lat:
        return "c" if len(_CYR_RE.findall(s)) >= len(_LAT_RE.findall(s)) else "l"
    return "c" if cyr else "l"


def _preclean(raw: str) -> _Pre:
    """Split a raw cell into words, recording what had to be removed or normalised."""
    issues: set[str] = set()
    if len(raw) > MAX_VALUE_LENGTH:
        return _Pre([], None, issues, fatal="name:too_long")
    s = raw.strip()
    if _SIMPLE_RE.fullmatch(s):
        return _Pre(s.split(" "), None, issues, _context(s))
    if s.lower() in _PLACEHOLDER_VALUES:
        return _Pre([], None, issues, fatal="name:placeholder")
    if not s.isascii() and not unicodedata.is_normalized("NFC", s):
        s = unicodedata.normalize("NFC", s)
    s = s.translate(_PUNCT_TABLE)
    if not s.isprintable():
        s = "".join(ch if ch.isprintable() else " " for ch in s)
    s = s.strip()
    if not any(ch.isalpha() for ch in s):
        return _Pre([], None, issues, fatal="name:no_letters")
    if s[:1] in "=+@" or _NOT_A_NAME_RE.search(s):
        return _Pre([], None, issues, fatal="name:not_a_name")
    if _BRACKET_CHARS_RE.search(s):
        stripped = _BRACKET_CHARS_RE.sub(" ", _BRACKETED_RE.sub(" ", s))
        if stripped.split() != _BRACKET_CHARS_RE.sub(" ", s).split():
            issues.add("name:bracketed_text_removed")
        else:
            issues.add("name:punctuation_removed")
        s = stripped
    if _DIGITS_RE.search(s):
        s = _DIGITS_RE.sub(" ", _BIRTH_NOTE_RE.sub(" ", s))
        issues.add("name:digits_removed")
    if "." in s and _DEGREE_RE.search(s):
        s = _DEGREE_RE.sub(" ", s)
        issues.add("name:title_removed")
    if not all(ch.isalpha() or ch in _ALLOWED_PUNCT or unicodedata.combining(ch) for ch in s):
        s = "".join(ch if ch.isalpha() or ch in _ALLOWED_PUNCT or unicodedata.combining(ch)
                    else " " for ch in s)
        issues.add("name:punctuation_removed")
    s = s.replace(".", ". ")  # "И.И.Иванов" -> "И. И. Иванов"
    s = _HYPHEN_JOIN_RE.sub("-", s)  # "Иванова -Петрова"; a hyphen spaced on both sides splits
    comma_at: int | None = None
    words: list[str] = []
    for part_no, part in enumerate(s.split(",")):
        if part_no == 1 and words:
            comma_at = len(words)
        for w in part.split():
            w = _MULTI_HYPHEN_RE.sub("-", w.strip("-'"))
            w = w.replace("-.", ".").replace(".-", ".")
            if any(ch.isalpha() for ch in w):
                words.append(w)
    if comma_at is not None and comma_at >= len(words):
        comma_at = None
    if not words:
        return _Pre([], None, issues, fatal="name:no_letters")
    return _Pre(words, comma_at, issues, _context(" ".join(words)))


# --------------------------------------------------------------------------------------------
# Role assignment
# --------------------------------------------------------------------------------------------

# pattern in input order -> (prior for Cyrillic, prior for Latin and other scripts);
# L surname, F given name, M patronymic / middle name
_PRIORS: dict[str, tuple[float, float]] = {
    "F": (0.6, 0.6), "L": (0.4, 0.4),
    "LF": (0.55, 0.35), "FL": (0.35, 0.6), "FM": (0.1, 0.05), "LM": (0.005, 0.005),
    "LFM": (0.7, 0.35), "FML": (0.25, 0.55), "FLM": (0.05, 0.1),
}
# factor per extra word in one role (Cyrillic, Latin); initials in M cost nothing
_SPAN: dict[str, tuple[float, float]] = {"L": (0.1, 0.3), "F": (0.005, 0.3), "M": (1e-4, 0.05)}
_ROLE_INDEX = {"F": 0, "L": 1, "M": 2}
_MAX_WORDS = 5

_Segment = tuple[int, int, int, str, float, float]
_Candidate = tuple[float, float, str, tuple[_Segment, ...]]


@lru_cache(maxsize=None)
def _candidates(n: int, col: int) -> tuple[_Candidate, ...]:
    """Ways to cut n tokens into 1-3 contiguous segments with distinct roles, best bound first.

    Each candidate is (upper bound of its score, prior, pattern, segments); a segment is
    (role index, start, end, role, factor for its extra words, the same when they are all
    initials).
    """
    out: list[_Candidate] = []
    for k in range(1, min(3, n) + 1):
        if k == 1:
            cut_sets: list[tuple[int, ...]] = [()]
        elif k == 2:
            cut_sets = [(i,) for i in range(1, n)]
        else:
            cut_sets = [(i, j) for i in range(1, n - 1) for j in range(i + 1, n)]
        for cuts in cut_sets:
            bounds = list(zip((0, *cuts), (*cuts, n)))
            for roles in permutations("LFM", k):
                pattern = "".join(roles)
                if pattern not in _PRIORS:
                    continue
                prior = _PRIORS[pattern][col]
                if k == 1:
                    prior *= 0.1  # all words in one role ("Анна Мария", "García López")
                bound = prior
                for role, (a, b) in zip(roles, bounds):
                    if b - a > 1 and role != "M":
                        bound *= max(_SPAN[role][col], 0.2 if role == "F" else 0.0) ** (b - a - 1)
                # initials in a given-name role cost 0.2 per extra one, elsewhere nothing
                # (x * 1.0 is exactly x)
                segs = tuple((_ROLE_INDEX[r], a, b, r, _SPAN[r][col] ** (b - a - 1),
                              0.2 ** (b - a - 1) if r == "F" else 1.0)
                             for r, (a, b) in zip(roles, bounds))
                out.append((bound, prior, pattern, segs))
    out.sort(key=lambda c: -c[0])
    return tuple(out)


def _assign(tokens: list[_Tok], latin: bool) -> tuple[dict[str, list[_Tok]], str]:
    """Best role assignment: ({role: tokens}, pattern of roles in input order)."""
    n = len(tokens)
    if n == 1:
        tok = tokens[0]
        if tok.kind == "patr":
            return {"M": [tok]}, "M"
        if tok.kind == "chunk":
            return {"L": [tok]}, "L"
        p = tok.feat.p
        # an unknown lone word in a name field is most often a given name ("Кирюха", "Jo")
        if tok.kind == "initial" or not tok.feat.known or p[0] * 0.6 >= p[1] * 0.4:
            return {"F": [tok]}, "F"
        return {"L": [tok]}, "L"
    probs = [t.feat.p for t in tokens]
    best = 0.0
    best_c: _Candidate | None = None
    for cand in _candidates(n, 1 if latin else 0):
        if cand[0] <= best:
            break
        score = cand[1]
        for ri, a, b, _role, span, initials_span in cand[3]:
            if b - a == 1:
                score *= probs[a][ri]
            else:
                for i in range(a, b):
                    score *= probs[i][ri]
                if all(t.kind == "initial" for t in tokens[a:b]):
                    score *= initials_span
                else:
                    score *= span
            if score <= best:
                break
        else:
            score *= _agreement(tokens, cand[3])
            if score > best:
                best, best_c = score, cand
    if best_c is None:
        return _fallback_roles(tokens)
    roles = {}
    for seg in best_c[3]:
        roles[seg[3]] = tokens[seg[1]:seg[2]]
    return roles, best_c[2]


def _agreement(tokens: list[_Tok], segs: tuple[_Segment, ...]) -> float:
    """Penalty when the given name and the patronymic / surname disagree on gender.

    "Екатерина Устимович" is a woman with a Belarusian surname, not a patronymic.
    """
    g_f = g_m = g_l = None
    for seg in segs:
        tok = tokens[seg[1]]
        f = tok.feat
        role = seg[3]
        if role == "F":
            g_f = f.g_f if f.strong_f else None
        elif role == "M":
            fixed = tok.fixed_gender
            g_m = (fixed or f.g_m) if f.strong_m or fixed else None
        else:
            g_l = f.g_l if f.strong_l else None
    if g_f is None:
        return 1.0
    factor = 1.0
    if g_m is not None and g_m != g_f:
        factor *= 0.05
    if g_l is not None and g_l != g_f:
        factor *= 0.3
    return factor


def _fallback_roles(tokens: list[_Tok]) -> tuple[dict[str, list[_Tok]], str]:
    """Roles in input order when no scored candidate is possible (fixed-role groups only)."""
    roles: dict[str, list[_Tok]] = {}
    pattern = ""
    for tok in tokens:
        if tok.kind == "patr":
            role = "M"
        elif tok.kind == "chunk":
            role = "L"
        else:
            role = next((r for r in "FLM" if r not in roles), pattern[-1])
        if role not in roles:
            pattern += role
        roles.setdefault(role, []).append(tok)
    return roles, pattern


# --------------------------------------------------------------------------------------------
# From words to roles
# --------------------------------------------------------------------------------------------

@dataclass(slots=True)
class _Parsed:
    roles: dict[str, list[_Tok]]
    issues: set[str]
    pattern: str = ""
    script: str | None = None
    fatal: str | None = None


def _tokens(words: list[str], ctx: str, issues: set[str]) -> tuple[list[_Tok], str | None]:
    """Words -> tokens (stop words handled, groups glued); (tokens, fatal issue or None)."""
    toks: list[_Tok] = []
    placeholders: list[int] = []
    suffixes: list[int] = []
    special = False
    for w in words:
        tok, kind, flags = _word(w, ctx)
        if flags:
            issues.update(flags)
        if kind is not None:
            if kind == "test":
                return [], "name:test_value"
            if kind == "org":
                return [], "name:organisation"
            if kind == "title":
                issues.add("name:title_removed")
                continue
            if kind == "org_person":
                issues.add("name:organisation_prefix")
                continue
            if kind == "empty":
                continue
            if kind == "placeholder":
                placeholders.append(len(toks))
            elif kind == "suffix":
                suffixes.append(len(toks))
        toks.append(tok)  # type: ignore[arg-type]
        special = special or tok.special  # type: ignore[union-attr]
    if not toks:
        return [], "name:placeholder"
    if placeholders:
        if len(placeholders) == len(toks):
            return [], "name:placeholder"
        # "Клиент Иван" -> "Иван"; but "Nan Smith" keeps a placeholder-looking given name
        drop = {i for i in placeholders
                if not (toks[i].feat.ru_f > 0.5 or toks[i].feat.west_f or toks[i].feat.west_l)}
        if drop:
            issues.add("name:placeholder_removed")
            toks = [t for i, t in enumerate(toks) if i not in drop]
            suffixes = []  # positions moved; suffixes are rare next to placeholders
    # Jr., III, мл. only at the end of a longer name; Roman numerals only when upper case
    while suffixes and len(toks) >= 2 and suffixes[-1] == len(toks) - 1:
        last = toks[-1]
        if last.key in ("ii", "iii", "iv") and not last.raw.isupper():
            break
        toks.pop()
        suffixes.pop()
        issues.add("name:suffix_removed")
    if special:
        toks = _merge_groups(toks, issues)
    return toks, None


def _merge_groups(toks: list[_Tok], issues: set[str]) -> list[_Tok]:
    """Glue Turkic patronymic particles and Western surname particles into their groups."""
    out: list[_Tok] = []
    i, n = 0, len(toks)
    while i < n:
        tok = toks[i]
        i += 1
        key = tok.key
        if tok.kind != "word" or not tok.special:
            out.append(tok)
            continue
        # "Рашид-оглы" -> "Рашид оглы"
        if "-" in key and key.rsplit("-", 1)[1] in _TURKIC:
            base, particle = tok.raw.rsplit("-", 1)
            out.append(_patr_group(_word_tok(base), key.rsplit("-", 1)[1]))
            issues.add("name:particle_normalised")
            continue
        # "Рашид оглы": the particle joins the preceding given name
        if key in _TURKIC:
            if out and out[-1].kind == "word" and not out[-1].special:
                out.append(_patr_group(out.pop(), key))
                if tok.raw not in _TURKIC[key][:2]:
                    issues.add("name:particle_normalised")
            else:
                out.append(tok)
            continue
        # "Рашидоглы" -> "Рашид оглы" when the stem is a known given name
        m = _TURKIC_GLUED.fullmatch(key)
        if m is not None and "-" not in key:
            base = _word_tok(tok.raw[: len(m.group(1))])
            if base.feat.p[0] > 0.5 and (base.feat.ru_f > 1 or base.feat.west_f):
                out.append(_patr_group(base, m.group(2)))
                issues.add("name:particle_normalised")
                continue
        # "von Müller", "de la Cruz", "фон Визин": particles open a surname group
        particles = _PARTICLES_CYR if tok.script == "c" else _PARTICLES_LAT
        if key in particles and i < n:
            j = i
            while j < n and toks[j].key in particles:
                j += 1
            # written in lower case it is a particle; capitalised ("Ван Олегович", "Van
            # Morrison") only when a surname follows
            nxt = toks[j] if j < n else None
            if nxt is not None and nxt.kind == "word" and (
                    tok.raw.islower()
                    or (nxt.feat.p[1] > 0.3 and (tok.script == "c" or nxt.feat.west_l))):
                out.append(_chunk(toks[i - 1: j + 1]))
                i = j + 1
                continue
        out.append(tok)
    return out


def _name_script(toks: list[_Tok]) -> str | None:
    scripts = {t.script for t in toks}
    if scripts == {"c"}:
        return "cyrillic"
    if scripts == {"l"}:
        return "latin"
    if scripts == {"o"}:
        return None
    return "mixed"


_PLAIN_WORD_RE = re.compile(r"[A-Za-zА-Яа-яЁё]+(?:-[A-Za-zА-Яа-яЁё]+)?")


# Per-word caches on the per-name path are plain dicts, emptied when full: a bounded lru_cache
# hit reorders a linked list spread over memory and cost three times a dict look-up here.
_CACHE_LIMIT = 1 << 18
_MISSING: Any = object()
_PLAIN_CACHE: dict[str, _Tok | None] = {}


def _plain_word(word: str) -> _Tok | None:
    """The token of a word that passes every pre-cleaning and token rule unchanged, else None.

    Plain: 2+ Russian or English letters with at most one inner hyphen (what
    :data:`_SIMPLE_RE` accepts as a word), all of one script, no stop word, not one letter
    repeated, no particle. In a name written in its script, :func:`_word` returns such a word's
    :func:`_word_tok` with no stop-word kind and no issue (no dots or edge hyphens to strip,
    no look-alike letters to fix, no initial), so a name made of such words needs none of the
    pre-cleaning and token handling.
    """
    plain: _Tok | None = None
    if (1 < len(word) <= MAX_VALUE_LENGTH and _PLAIN_WORD_RE.fullmatch(word) is not None
            and _script_of(word) in ("c", "l")):
        key = word.lower().replace("ё", "е")
        if key not in _res().stopwords and not (len(key) >= 3 and len(set(key)) == 1):
            tok = _word_tok(word)
            if not tok.special:
                plain = tok
    if len(_PLAIN_CACHE) >= _CACHE_LIMIT:
        _PLAIN_CACHE.clear()
    _PLAIN_CACHE[word] = plain
    return plain


def _plain_tokens(values: list[str]) -> list[_Tok] | None:
    """Tokens of words that are all plain (:func:`_plain_word`) and of one script, else None."""
    toks = []
    cached = _PLAIN_CACHE.get
    for value in values:
        tok = cached(value, _MISSING)
        if tok is _MISSING:
            tok = _plain_word(value)
        if tok is None:
            return None
        toks.append(tok)
    script = toks[0].script
    for tok in toks:
        if tok.script != script:
            return None
    return toks


def _parse_full(raw: str) -> _Parsed:
    """Full-name path: raw string -> words -> tokens -> roles."""
    # Fast path, same result as _parse_full_general (a property test checks it): 1-5 plain
    # words of one script, single spaces (a string :data:`_SIMPLE_RE` accepts) give
    # :func:`_preclean` no work and :func:`_tokens` plain word tokens, so the tokens go
    # straight to role assignment. No title or suffix either: :func:`_has_title_or_suffix`
    # looks up the same key in which :func:`_word` found no stop word.
    words = raw.split(" ")
    if len(words) <= _MAX_WORDS and len(raw) <= MAX_VALUE_LENGTH:
        toks = _plain_tokens(words)
        if toks is not None:
            cyrillic = toks[0].script == "c"
            roles, pattern = _assign(toks, not cyrillic)
            return _Parsed(roles, set(), pattern, "cyrillic" if cyrillic else "latin")
    return _parse_full_general(raw)


def _parse_full_general(raw: str) -> _Parsed:
    """:func:`_parse_full` for any string."""
    pre = _preclean(raw)
    issues = pre.issues
    if pre.fatal:
        return _Parsed({}, issues, fatal=pre.fatal)
    words = pre.words
    if len(words) > 2 * _MAX_WORDS:
        return _Parsed({}, issues, fatal="name:too_many_tokens")
    latin = pre.ctx != "c"
    if latin and (pre.comma_at is not None or _has_title_or_suffix(words)):
        return _parse_western(words, pre.comma_at, issues)
    if pre.comma_at is not None:
        head, fatal = _tokens(words[: pre.comma_at], pre.ctx, issues)
        tail, fatal2 = _tokens(words[pre.comma_at:], pre.ctx, issues) if not fatal else ([], None)
        fatal = fatal or fatal2
        if fatal == "name:placeholder" and (head or tail):
            fatal = None
        if fatal:
            return _Parsed({}, issues, fatal=fatal)
        if len(head) >= 2 and tail:
            # "Иванов Иван Иванович, менеджер": the comma ends the name, not the surname
            toks = head
            issues.add("name:trailing_text_removed")
        elif head and tail:
            roles = {"L": head, "F": tail[:1]}
            if len(tail) > 1:
                roles["M"] = tail[1:]
            issues.add("name:format_normalised")  # the comma is gone
            return _checked(roles, issues, "LFM" if "M" in roles else "LF")
        else:
            toks = head or tail
    else:
        toks, fatal = _tokens(words, pre.ctx, issues)
        if fatal:
            return _Parsed({}, issues, fatal=fatal)
    if len(toks) > _MAX_WORDS:
        return _Parsed({}, issues, fatal="name:too_many_tokens")
    if all(t.kind == "initial" for t in toks):
        return _Parsed({}, issues, fatal="name:initials_without_name")
    roles, pattern = _assign(toks, latin)
    return _Parsed(roles, issues, pattern, _name_script(toks))


def _checked(roles: dict[str, list[_Tok]], issues: set[str], pattern: str) -> _Parsed:
    toks = [t for r in "LFM" for t in roles.get(r, ())]
    if not toks:
        return _Parsed({}, issues, fatal="name:no_letters")
    if all(t.kind == "initial" for t in toks):
        return _Parsed({}, issues, fatal="name:initials_without_name")
    if len(toks) > _MAX_WORDS:
        return _Parsed({}, issues, fatal="name:too_many_tokens")
    return _Parsed(roles, issues, pattern, _name_script(toks))


def _has_title_or_suffix(words: list[str]) -> bool:
    stop = _res().stopwords
    return any(stop.get(w.rstrip(".").lower()) in ("title", "suffix") for w in words)


def _parse_western(words: list[str], comma_at: int | None, issues: set[str]) -> _Parsed:
    """Latin names with a comma, a title or a suffix: nameparser reads the structure."""
    from nameparser import HumanName

    if comma_at is not None:
        text = " ".join(words[:comma_at]) + ", " + " ".join(words[comma_at:])
    else:
        text = " ".join(words)
    hn = HumanName(text)
    if hn.title:
        issues.add("name:title_removed")
    if hn.suffix:
        issues.add("name:suffix_removed")
    if comma_at is not None:
        issues.add("name:format_normalised")
    roles: dict[str, list[_Tok]] = {}
    for role, value in (("L", hn.last), ("F", hn.first), ("M", hn.middle)):
        if not value:
            continue
        toks, fatal = _tokens(value.split(), "l", issues)
        if fatal and fatal != "name:placeholder":
            return _Parsed({}, issues, fatal=fatal)
        if toks:
            roles[role] = toks
    if "L" not in roles and "F" in roles and "M" not in roles and len(roles["F"]) == 1:
        pass  # "Mr. Smith" comes back as a given name only when nameparser says so
    if roles.get("L") and all(t.kind == "initial" for t in roles["L"]) and roles.get("F"):
        # "Smith John A." style input: nameparser read it as first-middle-last
        roles = {"L": roles["F"], "F": roles.get("M", [])[:1], "M": roles["L"]}
        roles = {r: v for r, v in roles.items() if v}
    pattern = "LFM" if comma_at is not None else "".join(r for r in "FML" if r in roles)
    return _checked(roles, issues, pattern)


def _parse_parts(last: str | None, first: str | None, middle: str | None) -> _Parsed:
    """Parts path: each column is one role; swapped and merged columns are repaired."""
    # Fast path, same result as _parse_parts_general (a property test checks it): one plain
    # word per given column, all of one script (see :func:`_plain_word`): pre-cleaning and
    # token rules change nothing, no column holds a whole name, and the columns' roles only
    # need the swap check.
    roles: dict[str, list[_Tok]] = {}
    pattern = script = ""
    for role, value in (("L", last), ("F", first), ("M", middle)):
        if value is None:
            continue
        tok = _PLAIN_CACHE.get(value, _MISSING)
        if tok is _MISSING:
            tok = _plain_word(value)
        if tok is None or (script and tok.script != script):
            return _parse_parts_general(last, first, middle)
        script = tok.script
        roles[role] = [tok]
        pattern += role
    if not roles:
        return _parse_parts_general(last, first, middle)
    issues: set[str] = set()
    roles = _repair_swaps(roles, issues)
    # what _checked concludes for 1-3 word tokens of one script
    return _Parsed(roles, issues, pattern, "cyrillic" if script == "c" else "latin")


def _parse_parts_general(last: str | None, first: str | None, middle: str | None) -> _Parsed:
    """:func:`_parse_parts` for any values."""
    issues: set[str] = set()
    words_by_role: dict[str, list[str]] = {}
    ctx_text = []
    fatal_seen: str | None = None
    for role, value in (("L", last), ("F", first), ("M", middle)):
        if value is None:
            continue
        pre = _preclean(value)
        issues |= pre.issues
        if pre.fatal:
            fatal_seen = fatal_seen or pre.fatal
            if pre.fatal == "name:too_long":
                return _Parsed({}, issues, fatal=pre.fatal)
            continue
        words_by_role[role] = pre.words
        ctx_text.extend(pre.words)
    if not words_by_role:
        return _Parsed({}, issues, fatal=fatal_seen or "name:no_letters")
    ctx = _context(" ".join(ctx_text))
    # the whole name in one column ("Иванов Иван Иванович" in last_name): parse it as a name
    if len(words_by_role) == 1:
        ((role, words),) = words_by_role.items()
        if len(words) >= 2 and not (role == "L" and len(words) == 2 and _double_surname(words)):
            parsed = _parse_full(" ".join(words))
            if not parsed.fatal and len(parsed.roles) >= 2:
                parsed.issues |= issues | {"name:parts_resplit"}
                return parsed
    # "Иван Иванович" in first_name and no middle name
    if "M" not in words_by_role and len(words_by_role.get("F", ())) == 2:
        f0, f1 = (_word(w, ctx)[0] for w in words_by_role["F"])
        if f0 is not None and f1 is not None and f1.feat.p[2] > 0.8 and f0.feat.p[0] > 0.5:
            words_by_role["M"] = words_by_role["F"][1:]
            words_by_role["F"] = words_by_role["F"][:1]
            issues.add("name:parts_resplit")
    roles: dict[str, list[_Tok]] = {}
    for role in ("L", "F", "M"):
        words = words_by_role.get(role)
        if not words:
            continue
        toks, fatal = _tokens(words, ctx, issues)
        if fatal:
            if fatal in ("name:test_value", "name:organisation"):
                return _Parsed({}, issues, fatal=fatal)
            fatal_seen = fatal_seen or fatal
            continue
        roles[role] = toks
    if not roles:
        return _Parsed({}, issues, fatal=fatal_seen or "name:placeholder")
    roles = _repair_swaps(roles, issues)
    return _checked(roles, issues, "".join(r for r in "LFM" if r in roles))


def _double_surname(words: list[str]) -> bool:
    """Two words in a surname column that are both surnames (a double surname with a space)."""
    return all(_word_tok(w.rstrip(".")).feat.p[1] > 0.6 for w in words)


@lru_cache(maxsize=None)
def _swaps(names: tuple[str, ...]) -> tuple[tuple[tuple[str, ...], tuple[int, ...]], ...]:
    """Every other order of the roles ``names``, with the role index of each position."""
    return tuple((perm, tuple(_ROLE_INDEX[r] for r in perm))
                 for perm in permutations(names) if perm != names)


def _repair_swaps(roles: dict[str, list[_Tok]], issues: set[str]) -> dict[str, list[_Tok]]:
    """Swap whole columns when the dictionaries say they were filled the other way round."""
    single: list[_Tok] = []
    role_names: list[str] = []
    for r, v in roles.items():
        if len(v) == 1 and v[0].kind == "word":
            single.append(v[0])
            role_names.append(r)
    if len(single) < 2:
        return roles
    names = tuple(role_names)
    probs = [tok.feat.p for tok in single]
    best_perm = names
    best = 1.0
    for r, p in zip(names, probs):
        best *= p[_ROLE_INDEX[r]]
    for perm, indexes in _swaps(names):
        score = 0.02  # the source's own labels are strong evidence
        for p, i in zip(probs, indexes):
            score *= p[i]
        if score > best:
            best, best_perm = score, perm
    if best_perm == names:
        return roles
    out = dict(roles)
    for tok, dst in zip(single, best_perm):
        out[dst] = [tok]
    issues.add("name:reordered")
    return out


# --------------------------------------------------------------------------------------------
# Gender, canonical first name, output
# --------------------------------------------------------------------------------------------

def _gender(roles: dict[str, list[_Tok]], russian: bool) -> tuple[str | None, str | None, bool]:
    """(gender, source, conflict); evidence order: patronymic > first name > surname."""
    gender = source = None
    strong = conflict = False
    middle = roles.get("M")
    if middle:
        tok = middle[0]
        g = tok.fixed_gender or tok.feat.g_m
        if g:
            gender, source, strong = g, "patronymic", tok.feat.strong_m
    first = roles.get("F")
    if first and first[0].kind == "word":
        f = first[0].feat
        g_f, strong_f = f.g_f, f.strong_f
        if not russian and f.west_g is not None:
            # a Western name: Western usage decides (Kim is a woman in the US, a man in Russia)
            g_f, strong_f = f.west_g or None, bool(f.west_g)
        if g_f:
            if gender is None:
                gender, source, strong = g_f, "first_name", strong_f
            elif g_f != gender and strong_f and strong:
                conflict = True
    # Western surnames carry no gender; Russian and other Slavic ones do (Иванов / Иванова)
    last = roles.get("L")
    if russian and last:
        f = last[0].feat
        if f.g_l:
            if gender is None:
                gender, source = f.g_l, "surname"
            elif f.g_l != gender and f.strong_l and strong:
                conflict = True
    return gender, source, conflict


def _is_russian_latin(roles: dict[str, list[_Tok]]) -> bool:
    """Is a Latin-script name a transliterated Russian / CIS name?"""
    for tok in roles.get("M", ()):
        if tok.kind == "patr" or (tok.kind == "word" and (tok.feat.ru_m >= 5
                                                          or _PATR_LAT.search(tok.lat))):
            return True
    last = [t for t in roles.get("L", ()) if t.kind == "word"]
    first = [t for t in roles.get("F", ()) if t.kind == "word"]
    if any(t.feat.ru_suffix and (not t.feat.west_l or t.feat.ru_l >= 5) for t in last):
        return True
    if any(t.feat.ru_f >= 20 and not t.feat.west_f for t in first) and (
            not last or any(t.feat.ru_l >= 0.5 or t.feat.ru_suffix for t in last)):
        return True
    return bool(last) and all(t.feat.ru_l >= 5 and not t.feat.west_l for t in last) and (
        not first or any(t.feat.ru_f >= 5 for t in first))


def _canonical(first: _Tok, gender: str | None, russian: bool) -> str:
    """Full form of a diminutive given name in the token's script, else the name itself."""
    if first.kind != "word":
        return first.display
    res = _res()
    cyrillic = first.script == "c"
    if cyrillic:
        entries = res.dim_ru_exact.get(_cyr_key(first.display))
    elif russian:
        entries = res.dim_ru_skel.get(first.skel)
    else:
        entries = res.dim_intl.get(first.lat)
    if not entries:
        return first.display
    pick = next((e for e in entries if e.gender == gender), None) if gender else None
    pick = pick or entries[0]
    if not cyrillic and russian and name_skeleton(pick.canonical) == first.skel:
        return first.display  # a spelling of the full name itself (Yulia ~ Юля ~ Юлия)
    return pick.canonical if cyrillic else pick.canonical_lat


def canonical_first_name(first_name: str, gender: str | None = None, *,
                         russian: bool | None = None) -> str:
    """Return the full form of a diminutive given name, in the name's own script.

    "Саша" -> "Александр" (gender "M" or unknown: the first table row wins) or "Александра"
    ("F"); "Женя" + "F" -> "Евгения"; "Sasha" -> "Aleksandr"; "Bill" -> "William". Cyrillic
    names and Latin names of Russian people (``russian=True``) use the Russian table (Latin
    spellings matched by skeleton, so "Sascha" works too); other Latin names use the
    international nickname table, which is never applied to Russian names. With ``russian=None``
    a Latin name listed in the international table uses it, else the Russian one. A name that is
    not a known diminutive comes back unchanged (proper case, ё -> е). Never raises; blank or
    non-string input gives "".
    """
    if not isinstance(first_name, str):
        return ""
    words = first_name.split()
    if not words:
        return ""
    word = words[0].strip(".-'")
    if not word or not any(ch.isalpha() for ch in word) or len(word) > MAX_VALUE_LENGTH:
        return ""
    tok = _word_tok(word)
    g = gender if gender in ("M", "F") else None
    if tok.script == "l" and russian is None:
        russian = tok.lat not in _res().dim_intl
    return _canonical(tok, g, bool(russian) or tok.script == "c")


_NULL_ROW: tuple[Any, ...] = (None,) * len(NAME_COLUMNS)
_QC_POS = NAME_COLUMNS.index("qc_name")
_ISSUES_POS = NAME_COLUMNS.index("name_issues")
_CHANGE_CODES = frozenset({
    "name:reordered", "name:case_normalised", "name:yo_replaced", "name:punctuation_removed",
    "name:particle_normalised", "name:homoglyphs_fixed", "name:title_removed",
    "name:suffix_removed", "name:parts_resplit", "name:format_normalised", "name:digits_removed",
    "name:bracketed_text_removed", "name:placeholder_removed", "name:organisation_prefix",
    "name:trailing_text_removed",
})


def _invalid_row(issues: set[str]) -> tuple[Any, ...]:
    row = list(_NULL_ROW)
    row[_QC_POS] = 3
    row[_ISSUES_POS] = tuple(sorted(issues))
    return tuple(row)


_SUMMARY_CACHE: dict[frozenset[str], tuple[int, tuple[str, ...]]] = {}


def _summary(issues: set[str]) -> tuple[int, tuple[str, ...]]:
    """(quality code, sorted issue codes) of a non-empty issue set; few distinct sets occur."""
    key = frozenset(issues)
    hit = _SUMMARY_CACHE.get(key)
    if hit is None:
        if len(_SUMMARY_CACHE) > 1 << 14:
            _SUMMARY_CACHE.clear()
        hit = _SUMMARY_CACHE[key] = (max([_LEVEL(i, 2) for i in issues]), tuple(sorted(issues)))
    return hit


def _group(toks: list[_Tok] | None) -> tuple[str | None, str | None, str | None]:
    """(display, transliteration, skeleton) of one role's tokens."""
    if not toks:
        return None, None, None
    if len(toks) == 1:
        t = toks[0]
        return t.display, t.lat or None, t.skel or None
    return (" ".join([t.display for t in toks]), " ".join([t.lat for t in toks if t.lat]) or None,
            "".join([t.skel for t in toks]) or None)


_CANONICAL_CACHE: dict[tuple[str, str, str | None, bool], tuple[str, str | None]] = {}


def _canonical_pair(first: _Tok, gender: str | None, russian: bool) -> tuple[str, str | None]:
    key = (first.raw, first.kind, gender, russian)
    hit = _CANONICAL_CACHE.get(key)
    if hit is None:
        canonical = _canonical(first, gender, russian)
        hit = (canonical, name_skeleton(canonical) or None)
        if len(_CANONICAL_CACHE) > 1 << 17:
            _CANONICAL_CACHE.clear()
        _CANONICAL_CACHE[key] = hit
    return hit


def _finish(parsed: _Parsed, raw: dict[str, str]) -> tuple[Any, ...]:
    """Output row (values in :data:`NAME_COLUMNS` order, issues as a sorted tuple) for a role
    assignment."""
    issues = parsed.issues
    if parsed.fatal:
        issues.add(parsed.fatal)
        return _invalid_row(issues)
    roles = parsed.roles
    last, first, middle = roles.get("L"), roles.get("F"), roles.get("M")
    script = parsed.script
    if script == "cyrillic":
        russian = True
    elif script == "latin":
        russian = _is_russian_latin(roles)
        if russian:
            issues.add("name:transliterated")
    elif script == "mixed":
        issues.add("name:mixed_script")
        russian = any(t.script == "c" for v in roles.values() for t in v) or _is_russian_latin(
            roles)
    else:
        issues.add("name:unsupported_script")
        russian = False
    if last and len(last) == 1:
        t = last[0]
        last_name, last_lat, last_skel = t.display, t.lat or None, t.skel or None
    else:
        last_name, last_lat, last_skel = _group(last)
    if first and len(first) == 1:
        t = first[0]
        first_name, first_lat, first_skel = t.display, t.lat or None, t.skel or None
    else:
        first_name, first_lat, first_skel = _group(first)
    if middle and len(middle) == 1:
        t = middle[0]
        middle_name, middle_lat = t.display, t.lat or None
    else:
        middle_name, middle_lat, _ = _group(middle)
    full_name = " ".join(filter(None, (last_name, first_name, middle_name)))
    gender, source, conflict = _gender(roles, russian)
    if conflict:
        issues.add("name:gender_conflict")
    canonical = canonical_skel = None
    if first:
        canonical, canonical_skel = _canonical_pair(first[0], gender, russian)
        if len(first) > 1:
            canonical = " ".join([canonical, *(t.display for t in first[1:])])
            canonical_skel = name_skeleton(canonical) or None
        elif first[0].kind == "initial":
            issues.add("name:initials_only")
    n_words = 0
    unknown_roles = ""
    for role, toks in roles.items():
        if len(toks) == 1:
            t = toks[0]
            if t.kind == "word":
                n_words += 1
                if not t.feat.known:
                    unknown_roles += role
            continue
        # two surnames or given names are normal in Spanish, Portuguese, English; not in
        # Russian, where a space inside a role usually means a misplaced word
        if script != "latin" and any(t.kind != "initial" for t in toks):
            issues.add("name:extra_tokens")
        for t in toks:
            if t.kind == "word":
                n_words += 1
                if not t.feat.known:
                    unknown_roles += role
    if len(roles) == 1 and len(next(iter(roles.values()))) == 1:
        issues.add("name:single_token")
    elif not last:
        issues.add("name:no_last_name")
    elif not first:
        issues.add("name:no_first_name")
    elif len(first) > 1 and all(t.kind == "initial" for t in first):
        issues.add("name:initials_only")
    # surnames are an open class: an unknown surname next to a known given name is normal
    if unknown_roles and (len(unknown_roles) == n_words or unknown_roles.strip("L")):
        issues.add("name:unknown_tokens")
    if "full" in raw:
        if full_name != raw["full"]:
            _explain_changes(parsed.pattern, full_name, raw["full"], issues)
    elif ((last_name is not None and raw.get("L", last_name) != last_name)
          or (first_name is not None and raw.get("F", first_name) != first_name)
          or (middle_name is not None and raw.get("M", middle_name) != middle_name)):
        for k, v in (("L", last_name), ("F", first_name), ("M", middle_name)):
            given = raw.get(k)
            if given is not None and v is not None and v != given:
                _case_and_yo(given, v, issues)
        if issues.isdisjoint(_CHANGE_CODES):
            issues.add("name:format_normalised")
    if issues:
        qc, issue_codes = _summary(issues)
    else:
        qc, issue_codes = QC_VALID, None
    return (full_name, last_name, first_name, middle_name, script, last_lat, first_lat,
            middle_lat, last_skel, first_skel,
            f"{last_skel} {first_skel}" if last_skel and first_skel else None,
            canonical, canonical_skel, gender, source, qc, issue_codes)


_LEVEL = ISSUE_LEVELS.get


@lru_cache(maxsize=None)
def _is_reordered(pattern: str) -> bool:
    return pattern != "".join(sorted(pattern, key="LFM".index))


def _explain_changes(pattern: str, full_name: str, raw: str, issues: set[str]) -> None:
    """Name every difference between the input and the output by an issue code."""
    if _is_reordered(pattern):
        issues.add("name:reordered")
    _case_and_yo(raw, full_name, issues)
    if issues.isdisjoint(_CHANGE_CODES):
        issues.add("name:format_normalised")


def _case_and_yo(raw: str, clean: str, issues: set[str]) -> None:
    if "ё" in raw or "Ё" in raw:
        issues.add("name:yo_replaced")
    raw_words = set(_yo(raw).replace(",", " ").replace(".", " ").split())
    lowered: set[str] | None = None
    for w in clean.replace(".", " ").split():
        if w not in raw_words:
            if lowered is None:
                lowered = {r.lower() for r in raw_words}
            if w.lower() in lowered:
                issues.add("name:case_normalised")
                return


# --------------------------------------------------------------------------------------------
# Public rules
# --------------------------------------------------------------------------------------------

def _clean_tuple(full: str | None, last: str | None, first: str | None,
                 middle: str | None) -> tuple[Any, ...]:
    """The whole rule for one record's name fields (stripped non-empty strings or None)."""
    has_parts = last is not None or first is not None or middle is not None
    if full is None and not has_parts:
        return _NULL_ROW
    parsed_full = _parse_full(full) if full is not None else None
    if not has_parts:
        return _finish(parsed_full, {"full": full})  # type: ignore[arg-type]
    parsed = _parse_parts(last, first, middle)
    pieces = {}
    if last is not None:
        pieces["L"] = last
    if first is not None:
        pieces["F"] = first
    if middle is not None:
        pieces["M"] = middle
    if parsed_full is None or parsed_full.fatal:
        if parsed_full is not None and not parsed.fatal:
            parsed.issues.add("name:full_name_conflict")
        return _finish(parsed, pieces)
    if parsed.fatal:
        parsed_full.issues.add("name:filled_from_full_name")
        return _finish(parsed_full, {"full": full})  # type: ignore[dict-item]
    roles = dict(parsed.roles)
    issues = parsed.issues | (parsed_full.issues - {"name:reordered", "name:format_normalised"})
    for role, toks in parsed_full.roles.items():
        mine = roles.get(role)
        if mine is None:
            roles[role] = toks
            issues.add("name:filled_from_full_name")
        elif [t.skel for t in mine] != [t.skel for t in toks] and not (
                role == "F" and len(mine) == len(toks) == 1
                and _canonical_pair(mine[0], None, True)[1]
                == _canonical_pair(toks[0], None, True)[1]):
            # "Ваня" in the first-name column and "Иван" in the full name agree
            issues.add("name:full_name_conflict")
    merged = _checked(roles, issues, "".join(r for r in "LFM" if r in roles))
    return _finish(merged, pieces)


def parse_name(text: str | None) -> dict[str, Any]:
    """Clean one full-name string; returns a dict keyed by :data:`NAME_COLUMNS`.

    Guarantees: never raises; blank or non-string input gives all-null values (null qc);
    ``full_name`` is "Last First Middle" in proper case with ё written as е, whatever order the
    input used; ``qc_name`` 3 rows have null name values and say why in ``name_issues``;
    feeding ``full_name`` back gives the same parts whenever the dictionaries can tell the
    order (Russian names; Western names whose words are unambiguous given names or surnames).
    """
    value = text.strip() if isinstance(text, str) else None
    out = dict(zip(NAME_COLUMNS, _clean_tuple(value or None, None, None, None)))
    if out["name_issues"] is not None:
        out["name_issues"] = list(out["name_issues"])
    return out


def clean_names(full_name: pd.Series | None, last_name: pd.Series | None,
                first_name: pd.Series | None, middle_name: pd.Series | None) -> pd.DataFrame:
    """Clean the name fields of one source; one output row per input row, same index.

    Any argument may be None (the source does not map that field); mapped Series must share one
    index. When a source maps both a full name and parts, parts win where present and the
    parsed full name fills the gaps (a disagreement is flagged ``name:full_name_conflict``).
    Work is done once per distinct tuple of values. Output: exactly :data:`NAME_COLUMNS`; text
    columns are object dtype with None for missing, ``qc_name`` is ``Int8``, ``name_issues``
    holds lists of issue codes or None. Rows with no name at all are entirely null.
    """
    given = [s for s in (full_name, last_name, first_name, middle_name) if s is not None]
    if not given:
        raise ValueError("clean_names needs at least one mapped name field")
    index = given[0].index
    cols: list[list[str | None] | None] = []
    for s in (full_name, last_name, first_name, middle_name):
        if s is None:
            cols.append(None)
            continue
        if not s.index.equals(index):
            raise ValueError("name Series must share one index")
        cols.append([blank_to_none(v) for v in s.tolist()])
    # the work's temporaries are gone when _clean_columns returns: only what it cached and the
    # frame are left for the collector to walk once it runs again
    with gc_paused():
        return _clean_columns(cols, index)


def _clean_columns(cols: list[list[str | None] | None], index: pd.Index) -> pd.DataFrame:
    """:func:`clean_names` on stripped columns (None for an unmapped field)."""
    codes = np.zeros(len(index), dtype=np.int64)
    for col in cols:
        if col is not None:
            c, uniques = pd.factorize(pd.Series(col, dtype=object), use_na_sentinel=False)
            codes = pd.factorize(codes * (len(uniques) + 1) + c)[0]
    _, first_pos = np.unique(codes, return_index=True)  # code k first appears at first_pos[k]
    positions = first_pos.tolist()
    picked = [[col[pos] for pos in positions] if col is not None else [None] * len(positions)
              for col in cols]
    rows = list(starmap(_clean_tuple, zip(*picked)))
    by_column = list(zip(*rows)) if rows else [() for _ in NAME_COLUMNS]
    # rows with the same issues share one list, as duplicate rows always did: a list per
    # distinct name would leave the garbage collector tens of thousands more objects
    shared = {issues: list(issues) for issues in set(by_column[_ISSUES_POS]) if issues}
    by_column[_ISSUES_POS] = tuple(map(shared.get, by_column[_ISSUES_POS]))
    # one column per row of `distinct`, so that the rows taken for the input rows are already
    # the frame's single object block (its transpose), with no copy
    distinct = np.empty((len(NAME_COLUMNS), len(positions)), dtype=object)
    for j, values in enumerate(by_column):
        # fromiter keeps each value one object (a list of issues must not become a 2-D row)
        distinct[j] = np.fromiter(values, dtype=object, count=len(values))
    frame = pd.DataFrame(distinct[:, codes].T, index=index, columns=NAME_COLUMNS, dtype=object,
                         copy=False)
    qc = by_column[_QC_POS]
    frame["qc_name"] = pd.arrays.IntegerArray(
        np.fromiter((0 if q is None else q for q in qc), dtype=np.int8, count=len(qc))[codes],
        np.fromiter((q is None for q in qc), dtype=bool, count=len(qc))[codes])
    return frame


if __name__ == "__main__":  # pragma: no cover - maintenance command
    import sys

    import pyarrow.parquet as pq

    if sys.argv[1:] != ["--rebuild-tables"]:
        sys.exit("usage: python -m pipelines.cleanse.names --rebuild-tables")
    for table, path in zip(build_reference_tables(),
                           (_TABLES_PATH, _LATIN_INDEX_PATH, _WESTERN_PATH)):
        pq.write_table(table, path, compression="zstd")
        print(f"wrote {path.name}: {table.num_rows} rows")
