"""Organisation names: one display form and one matching key.

Display form (``company_name``), one rule for the whole hub:

* Russian and CIS legal forms lead, abbreviated, with the name in straight double quotes:
  ``ООО "Ромашка"``, ``ПАО "Сбербанк России"``; nested quotes stay inside
  (``ООО "Торговый дом "Ромашка""``, as the Unified State Register writes them);
* forms whose holder is a person lead without quotes: ``ИП Иванов Иван Иванович``;
* international forms follow the name, abbreviated, without quotes: ``Acme Inc``,
  ``Siemens AG``;
* a name without a legal form is kept as written (wrapping quotes removed).

The legal form is recognised at either end of the raw name in any spelling listed in
``data/company_legal_forms.csv`` (abbreviated, dotted, long form, in brackets, after a
comma). It is used for the display form only and is not an output.

Matching key (``company_name_norm``): the name without its legal form, lower case, ё as е,
accents of Latin letters removed, quotes and punctuation removed, "&" read as "и"/"and",
single spaces.

Within one word, letters of the other script that look the same (Latin "P" in "Pомашка")
are replaced by the word's own script, in both columns.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pandas as pd

from pipelines.cleanse.base import (
    MAX_VALUE_LENGTH,
    QC_CORRECTED,
    QC_INVALID,
    QC_SUSPICIOUS,
    QC_VALID,
    map_distinct,
)

COMPANY_COLUMNS = ["company_name", "company_name_norm", "qc_company", "company_issues"]

_DATA = Path(__file__).parent / "data" / "company_legal_forms.csv"

_LAT_TO_CYR = str.maketrans("AaBCcEeHKkMOoPpTXxyYIi", "АаВСсЕеНКкМОоРрТХхуУІі")
_CYR_TO_LAT = str.maketrans("АаВСсЕеНКкМОоРрТХхуУІі", "AaBCcEeHKkMOoPpTXxyYIi")
_LAT_LOOKALIKES = frozenset("AaBCcEeHKkMOoPpTXxyYIi")
_CYR_LOOKALIKES = frozenset("АаВСсЕеНКкМОоРрТХхуУІі")

_WORD = re.compile(r"[^\W\d_]+")
# Word tokens: runs of characters other than white space, quotes, brackets, "," and ";".
_WORD_TOKEN = re.compile(r"[^\s«»\"“”„‟()\[\],;]+")
# A letter or digit: the characters for which str.isalnum() is true (\w less "_").
_ALNUM = re.compile(r"[^\W_]")
_DOUBLE_QUOTES = "«»\"“”„‟"
_FANCY_QUOTE = re.compile("[" + _DOUBLE_QUOTES.replace('"', "") + "]")
_DOUBLED_QUOTE = re.compile(r'""+')
_NORM_DROP = re.compile(r"[^\w]+|_")
_APOSTROPHES = re.compile(r"(?<=\w)['’`ʼ](?=\w)")
_APOSTROPHE = re.compile(r"['’`ʼ]")
_EDGE_JUNK = " \t,;:-–—"
_TRIM = _EDGE_JUNK + _DOUBLE_QUOTES

#: Values that mean "no company" rather than a company's name.
_PLACEHOLDERS = frozenset({
    "-", "--", "---", "?", "0", "нет", "не указано", "не указана", "не указан", "неизвестно",
    "отсутствует", "нет данных", "без названия", "n/a", "na", "none", "null", "nan", "nil",
    "unknown", "not specified", "no company", "нет организации", "x", "xx", "xxx",
})
_NOT_A_COMPANY = frozenset({
    "физ лицо", "физлицо", "физ. лицо", "физ.лицо", "физическое лицо", "частное лицо", "частник",
    "розничный покупатель", "розничный клиент", "частный клиент", "физ лицо частное лицо",
    "private person", "private individual", "private customer", "individual", "consumer",
})


@dataclass(frozen=True)
class _LegalForm:
    canonical: str
    style: str  # "quoted" | "plain" | "suffix"
    lead: bool
    trail: bool


@lru_cache(maxsize=1 << 16)
def _key(token: str) -> str:
    """Normalised form of one token for legal-form lookup."""
    return token.lower().replace("ё", "е").replace(".", "").strip(",'’`")


_Candidate = tuple[tuple[str, ...], bool, "_LegalForm"]  # (spelling tokens, case-sensitive, form)


@lru_cache(maxsize=1)
def _legal_forms() -> tuple[dict[str, list[_Candidate]], dict[str, list[_Candidate]]]:
    """Spellings that may open a name, indexed by their first token, and spellings that may
    close it, indexed by their last token; longest first. Case-sensitive spellings are keyed
    by the raw token, the others by :func:`_key`."""
    lead: dict[str, list[_Candidate]] = {}
    trail: dict[str, list[_Candidate]] = {}
    with _DATA.open(encoding="utf-8") as f:
        for row in csv.DictReader(line for line in f if not line.startswith("#")):
            form = _LegalForm(row["canonical"], row["style"], row["where"] in ("lead", "both"),
                              row["where"] in ("trail", "both"))
            for variant in row["variants"].split("|"):
                exact = variant.startswith("=")
                tokens = tuple(variant[1:].split()) if exact else tuple(_key(t) for t in variant.split())
                if form.lead:
                    lead.setdefault(tokens[0], []).append((tokens, exact, form))
                if form.trail:
                    trail.setdefault(tokens[-1], []).append((tokens, exact, form))
    for index in (lead, trail):
        for candidates in index.values():
            candidates.sort(key=lambda c: -len(c[0]))
    return lead, trail


def _script_of(ch: str) -> str | None:
    if "\u0400" <= ch <= "\u04ff":
        return "cyr"
    if ch.isalpha() and ch < "\u0250":
        return "lat"
    return None


_LATIN_LETTER = re.compile(r"[A-Za-z\u00c0-\u024f]")
_CYRILLIC_LETTER = re.compile(r"[\u0400-\u04ff]")


def fix_lookalikes(text: str) -> tuple[str, bool, bool]:
    """Replace look-alike letters of the other script inside each word.

    A word mixing Cyrillic and Latin letters is rewritten in its majority script when every
    minority letter has a twin there ("Pомашка" -> "Ромашка", "Аcme" -> "Acme").
    Returns (text, whether anything changed, whether a mixed word could not be fixed).
    """
    if text.isascii() or not _CYRILLIC_LETTER.search(text) or not _LATIN_LETTER.search(text):
        return text, False, False
    changed = unfixable = False

    def repair(match: re.Match[str]) -> str:
        nonlocal changed, unfixable
        word = match.group(0)
        cyr = _CYRILLIC_LETTER.findall(word)
        lat = _LATIN_LETTER.findall(word)
        if not cyr or not lat:
            return word
        if len(cyr) > len(lat) and all(ch in _LAT_LOOKALIKES for ch in lat):
            changed = True
            return word.translate(_LAT_TO_CYR)
        if len(lat) > len(cyr) and all(ch in _CYR_LOOKALIKES for ch in cyr):
            changed = True
            return word.translate(_CYR_TO_LAT)
        unfixable = True
        return word

    return _WORD.sub(repair, text), changed, unfixable


def _match_form(words: list[str], at_end: bool) -> tuple[_LegalForm, int] | None:
    """Longest legal form at the start (or end) of ``words``, the name's word tokens as
    written; returns (form, word count)."""
    if not words:
        return None
    for tokens, exact, form in (_trail_candidates(words[-1]) if at_end else _lead_candidates(words[0])):
        n = len(tokens)
        if n == 1:
            return form, 1  # _edge_candidates keeps a one-word spelling only when it matches
        if n > len(words):
            continue
        part = words[-n:] if at_end else words[:n]
        if tuple(map(_strip_comma if exact else _key, part)) == tokens:
            return form, n
    return None


@lru_cache(maxsize=1 << 16)
def _lead_candidates(first: str) -> tuple[_Candidate, ...]:
    """Spellings that may open a name starting with the word ``first`` (see below)."""
    return _edge_candidates(first, _legal_forms()[0])


@lru_cache(maxsize=1 << 16)
def _trail_candidates(last: str) -> tuple[_Candidate, ...]:
    """Spellings that may close a name ending with the word ``last`` (see below)."""
    return _edge_candidates(last, _legal_forms()[1])


def _edge_candidates(edge: str, index: dict[str, list[_Candidate]]) -> tuple[_Candidate, ...]:
    """Spellings of ``index`` that may open (close) a name whose first (last) word is
    ``edge``, longest first; one-word spellings only when ``edge`` is that word. Names share
    their first and last words ("ООО", "ИП", "Inc."), so the callers keep the answers."""
    by_key, by_raw = index.get(_key(edge)), index.get(edge.rstrip(","))
    if by_key is None or by_raw is None:
        candidates = by_key or by_raw or []  # _legal_forms keeps each list longest first
    else:
        candidates = sorted(by_key + by_raw, key=lambda c: -len(c[0]))
    return tuple(c for c in candidates if len(c[0]) > 1 or c[0][0] == (edge.rstrip(",") if c[1] else _key(edge)))


def _strip_comma(token: str) -> str:
    return token.rstrip(",")


def _tidy_name(name: str) -> str:
    """The name without wrapping quotes, brackets left by a removed legal form and edge
    punctuation; inner quotes as straight double quotes, balanced. ``name`` is spaced with
    single spaces (as :func:`clean_company_name` makes it), and so is the result."""
    while True:
        name = name.strip(_TRIM)
        stripped = name
        if len(name) >= 2 and name[0] in "'‘" and name[-1] in "'’":
            name = name[1:-1]
        if name.startswith(")"):  # "(ПАО) Сбербанк"
            name = name[1:]
        if name.endswith("("):  # "Банк ВТБ (ПАО)"
            name = name[:-1]
        if name == stripped:
            break
    name = _FANCY_QUOTE.sub('"', name)
    if '""' in name:
        name = _DOUBLED_QUOTE.sub('"', name)
    if name.count('"') % 2:
        name += '"'  # the closing quote of a nested name: ООО «ТД «Ромашка»» -> ТД "Ромашка"
    return name


_LATIN_EXTENDED = re.compile("[\u00c0-\u024f]")  # the letters _latin_accent_table may change


@lru_cache(maxsize=1)
def _latin_accent_table() -> dict[int, str]:
    """Accented Latin letters to their base letter ("é" -> "e"); Cyrillic is left alone (й, ё)."""
    table = {}
    for code in range(0xC0, 0x250):
        base = unicodedata.normalize("NFD", chr(code))[0]
        if base != chr(code) and base.isascii():
            table[code] = base
    return table


def normalise_company_name(name: str) -> str:
    """Matching key of a name whose legal form is already removed (see module doc).

    "&" is read as the connector of the name's script ("и" or "and") so that "Рога & копыта"
    and "Рога и копыта" meet; apostrophes vanish without a gap ("Macy's" -> "macys").
    """
    text = unicodedata.normalize("NFC", name).lower().replace("ё", "е")
    if _LATIN_EXTENDED.search(text):
        text = text.translate(_latin_accent_table())
    if "&" in text:
        cyr = sum(1 for ch in text if _script_of(ch) == "cyr")
        text = text.replace("&", " и " if cyr * 2 > sum(ch.isalpha() for ch in text) else " and ")
    if _APOSTROPHE.search(text):
        text = _APOSTROPHES.sub("", text)
    return " ".join(_NORM_DROP.sub(" ", text).split())


def _result(display: str | None, norm: str | None, qc: int | None, issues: list[str]) -> dict:
    return {"company_name": display, "company_name_norm": norm, "qc_company": qc,
            "company_issues": issues or None}


def clean_company_name(raw: str) -> dict:
    """Clean one organisation name; returns the keys of ``COMPANY_COLUMNS``.

    Guarantees: qc 0 when the display form equals the input (stripped); qc 1 when only the
    spelling changed (legal form abbreviated/moved, quotes, spaces, look-alike letters,
    all-lowercase name capitalised); qc 2 kept but flagged (mixed scripts that cannot be
    fixed, two legal forms, no letters in the name); qc 3 null for placeholders ("нет",
    "n/a"), "физ. лицо"-like values, a legal form without a name, values without letters or
    digits and values longer than ``MAX_VALUE_LENGTH``. Never raises on any string.
    """
    text = " ".join((raw if raw.isascii() else unicodedata.normalize("NFC", raw)).split())  # single spaces
    if not text:
        return _result(None, None, None, [])
    if len(text) > MAX_VALUE_LENGTH:
        return _result(None, None, QC_INVALID, ["company:too_long"])
    folded = text.lower().replace("ё", "е").strip(" .")
    if folded in _PLACEHOLDERS or not _ALNUM.search(text):
        return _result(None, None, QC_INVALID, ["company:placeholder"])
    if folded in _NOT_A_COMPANY:
        return _result(None, None, QC_INVALID, ["company:not_a_company"])

    fixed, changed, _ = fix_lookalikes(text)
    forms, start, end = _cut_legal_forms(fixed)
    name = _tidy_name(fixed[start:end])
    if not _ALNUM.search(name):
        return _result(None, None, QC_INVALID, ["company:legal_form_only" if forms else "company:placeholder"])
    form = forms[0] if forms else None
    finished = _finish_name(name, form is not None and form.style == "plain")
    if isinstance(finished, str):
        return _result(None, None, QC_INVALID, [finished])
    name, name_fixed, unfixable, no_letters, norm = finished

    issues: list[str] = []
    qc = QC_VALID
    lookalike_fixed = changed or name_fixed
    if lookalike_fixed:
        issues.append("company:lookalike_fixed")
    if unfixable:
        issues.append("company:mixed_script")
        qc = QC_SUSPICIOUS
    if len(forms) > 1:
        issues.append("company:multiple_legal_forms")
        qc = QC_SUSPICIOUS
    if no_letters:
        issues.append("company:no_letters")
        qc = QC_SUSPICIOUS
    if form is None:
        display = name
    elif form.style == "quoted":
        display = f'{form.canonical} "{name}"'
    elif form.style == "plain":
        display = f"{form.canonical} {name}"
    else:
        display = f"{name} {form.canonical}"
    if display != text:
        standardised = form is not None and not (text.endswith(" " + form.canonical) if form.style == "suffix"
                                                 else text.startswith(form.canonical + " "))
        if standardised:
            issues.append("company:legal_form_standardised")
        elif not lookalike_fixed:
            issues.append("company:reformatted")
        qc = max(qc, QC_CORRECTED)
    return _result(display, norm, qc, issues)


def _cut_legal_forms(fixed: str) -> tuple[list[_LegalForm], int, int]:
    """(legal forms found, start, end): the forms at either end of a name and the span of
    ``fixed`` left between them."""
    words = _WORD_TOKEN.findall(fixed)
    forms: list[_LegalForm] = []
    first, last = 0, len(words)  # the words left between the forms
    lead = _match_form(words, at_end=False)
    while lead:  # more than one: "ООО ООО Ромашка" (typed twice), "ООО ЗАО Ромашка" (two forms)
        if lead[0] not in forms:
            forms.append(lead[0])
        first += lead[1]
        lead = _match_form(words[first:], at_end=False)
    trail = _match_form(words[first:], at_end=True) if first < last else None
    if trail and forms and trail[1] == last - first:
        trail = None  # nothing but legal forms: judged below as a name made of a legal form
    if trail:
        if trail[0] not in forms:  # "ООО Ромашка ООО": the same form at both ends is one form
            forms.append(trail[0])
        last -= trail[1]
    start, end = _span_between(fixed, words, first, last)
    return forms, start, end


def _span_between(text: str, words: list[str], first: int, last: int) -> tuple[int, int]:
    """(start, end) in ``text`` of what lies between its word ``first - 1`` and its word
    ``last`` (from the start, to the end where there is no such word); ``words`` are the
    ``_WORD_TOKEN`` matches of ``text``.

    Words are runs of characters that are not separators, and only separators lie between
    two words: so the next occurrence of a word after the previous word is the word itself
    (and likewise backwards), and no match objects are needed.
    """
    start = 0
    for word in words[:first]:
        start = text.find(word, start) + len(word)
    end = len(text)
    for word in reversed(words[last:]):
        end = text.rfind(word, 0, end)
    return start, end


def _finish_name(name: str, person: bool) -> tuple[str, bool, bool, bool, str | None] | str:
    """:func:`_finish`, kept per name (one cache per value of ``person``, keyed by the name
    itself: no key tuple to build and collect)."""
    return _finish_person_name(name) if person else _finish_company_name(name)


@lru_cache(maxsize=1 << 16)
def _finish_company_name(name: str) -> tuple[str, bool, bool, bool, str | None] | str:
    return _finish(name, person=False)


@lru_cache(maxsize=1 << 14)
def _finish_person_name(name: str) -> tuple[str, bool, bool, bool, str | None] | str:
    return _finish(name, person=True)


def _finish(name: str, person: bool) -> tuple[str, bool, bool, bool, str | None] | str:
    """The steps of :func:`clean_company_name` that depend only on the tidied name and on
    whether its legal form is held by a person: an issue code when it is no name after
    all, else (final spelling, look-alike letters fixed, mixed scripts left unfixed, no
    letters, matching key). One company is written many ways ('ООО "Ромашка"', "Ромашка,
    ООО", 'ООО «Ромашка»') and many companies share a name, so the same names come back:
    they are finished once."""
    words = _WORD_TOKEN.findall(name)
    whole = _match_form(words, at_end=False) or _match_form(words, at_end=True)
    if whole and whole[1] == len(words):  # 'ООО "АО"', 'LLC "ЧП"': no name left
        return "company:legal_form_only"
    folded = name.lower().replace("ё", "е").strip(" .")
    if folded in _PLACEHOLDERS:
        return "company:placeholder"
    if folded in _NOT_A_COMPANY:
        return "company:not_a_company"
    if person and (name.islower() or name.isupper()):
        name = name.title()  # a person's name: "ИВАНОВ И.И." -> "Иванов И.И."
    elif name.islower():
        name = name[0].upper() + name[1:]
    # judged on the final spelling: capitals can make a letter fixable ("вaa" -> "Вaa" -> "Baa")
    name, changed, unfixable = fix_lookalikes(name)
    return name, changed, unfixable, not any(ch.isalpha() for ch in name), normalise_company_name(name) or None


def clean_company_names(values: pd.Series) -> pd.DataFrame:
    """Vectorised :func:`clean_company_name` over distinct values.

    Returns a frame with the index of ``values`` and exactly the columns ``company_name``,
    ``company_name_norm``, ``qc_company`` (Int8) and ``company_issues``.
    """
    return map_distinct(values, clean_company_name, COMPANY_COLUMNS, dtypes={"qc_company": "Int8"})
