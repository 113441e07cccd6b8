"""Match features: the columns Splink compares, built from cleansed customer records.

Pure functions (no I/O except reading the shipped name reference tables once, no clock reads,
inputs never mutated). Two products:

* :func:`match_frame` -- one row per cleansed record with ``unique_id`` (= record_key),
  ``source_dataset`` (= source) and the match columns listed in :data:`MATCH_COLUMNS`;
* :func:`cluster_records` -- the "Records table for clustering" of match_design.md.

Which values are trusted (the qc rule; qc codes of pipelines/cleanse/base.py):

======================  =========================================================================
names                   qc_name <= 2. A qc 2 name (single token, initials only, unknown tokens)
                        is still what the customer typed; the parts it has are compared, the
                        missing ones are null. Single letters are initials, never full names.
gender                  qc_gender <= 1 (qc 2 = the source gender contradicts the name), and not
                        read from the first name (the first-name comparison has that already).
birth date              qc_birth_date <= 2 in the match frame: a qc 2 date (implausible age,
                        e.g. 1908 or a 1900-01-01 filler) is still what the source holds, so two
                        records agreeing on it is evidence (a filler shared by many records
                        weighs little through term frequencies). Vetoes (cluster_records) use
                        qc <= 1 only.
phones                  qc_phone <= 2 (qc 2 numbers are real numbers of unusual ranges); a phone
                        shared by many records is excluded later by the block-size guard and
                        the phone levels, not here.
e-mail                  qc_email <= 1. qc 2 is a role or test-like mailbox (info@, office@), which
                        colleagues share: never identity evidence.
address                 qc_address <= 2 (qc 2 = parts conflict or unparsed remainder; the parts
                        that were read are kept, a key needs city, street and house).
national id             qc_national_id <= 2 in the match frame (qc 2 = implausible passport series,
                        or an id of an unknown type): two equal ids are strong evidence even
                        when the value looks odd. Vetoes (cluster_records ``national_id``)
                        use qc <= 1 only; ``id_key`` (any qc <= 2) only waives vetoes.
tax id                  qc_tax_id == 0 and 12 digits: a personal INN. A 10-digit INN belongs to
                        a company and is shared by all its contacts: never identity evidence.
======================  =========================================================================

All string match columns are lowercase ASCII (DuckDB's string similarity functions work on
UTF-8 bytes, so Cyrillic text must never reach them).
"""

from __future__ import annotations

import csv
import re
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from pipelines.cleanse.names import name_skeleton, transliterate

#: Columns of :func:`match_frame`, in order.
MATCH_COLUMNS: tuple[str, ...] = (
    "unique_id", "source_dataset",
    # names
    "last_name", "last_name_skel", "last_name_stem", "last_name_known",
    "first_name", "first_name_skel", "first_name_canon", "first_initial", "first_name_known",
    "middle_name", "middle_name_skel", "middle_name_stem", "middle_initial",
    "gender",
    # birth date
    "dob", "dob_swapped", "birth_year", "birth_ym", "birth_md", "dob_days",
    # contacts
    "phones", "email", "email_local", "email_suggestion",
    # address
    "postcode", "address_key", "address_flat_key",
    # identifiers
    "national_id", "personal_tax_id",
)

#: Columns of :func:`cluster_records`, in order.
CLUSTER_RECORD_COLUMNS: tuple[str, ...] = (
    "record_key", "birth_date", "gender", "national_id", "national_id_type", "personal_tax_id",
    "id_key", "birth_date_any", "first_name_key", "last_name_key", "middle_name_key",
)

_CLEANSE_DATA = Path(__file__).resolve().parent.parent / "cleanse" / "data"

# A name is "known" when the reference tables hold it (in that role) for at least this many
# people: two different known names (Мария / Марина) are different names, not a typo. The
# tables also hold frequent misspellings (alesei 24, makim 14), hence a bar above those.
_KNOWN_MIN_COUNT = 50

# Unisex diminutives and names whose gender cannot be read from the first name alone. The
# data-driven check in unisex_first_names adds the ones met in the data.
_UNISEX_NAMES = (
    "Саша", "Саня", "Женя", "Валя", "Шура", "Слава", "Тося", "Сима", "Ким",
    "Sasha", "Alex", "Jordan", "Taylor", "Robin", "Morgan", "Andrea", "Nikola", "Charlie",
    "Sam", "Kim",
)

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_E164 = re.compile(r"^\+[1-9]\d{6,14}$")
_NON_ALNUM = re.compile(r"[^0-9a-z]+")


# --------------------------------------------------------------------------------------------
# Reference data (shipped with the cleansing module; read once)
# --------------------------------------------------------------------------------------------

@lru_cache(maxsize=1)
def _known_names() -> tuple[frozenset[str], frozenset[str]]:
    """Skeletons of known first names and known surnames (Russian tables + Western lists)."""
    first: set[str] = set()
    last: set[str] = set()
    try:
        idx = pq.read_table(_CLEANSE_DATA / "names_latin_index.parquet",
                            columns=["skel", "n0", "n1"]).to_pydict()
        for skel, n0, n1 in zip(idx["skel"], idx["n0"], idx["n1"]):
            if n0 is not None and n0 >= _KNOWN_MIN_COUNT:
                first.add(skel)
            if n1 is not None and n1 >= _KNOWN_MIN_COUNT:
                last.add(skel)
    except (OSError, KeyError):
        pass
    try:
        west = pq.read_table(_CLEANSE_DATA / "names_western.parquet").to_pydict()
        for name, given, surname in zip(west["name"], west["given"], west["surname"]):
            skel = name_skeleton(name or "")
            if not skel:
                continue
            if given:
                first.add(skel)
            if surname:
                last.add(skel)
    except (OSError, KeyError):
        pass
    return frozenset(first), frozenset(last)


@lru_cache(maxsize=1)
def _address_type_words() -> frozenset[str]:
    """Address element type words (ул, пр-кт, г, street...) as transliterated keys."""
    words = {"d", "dom", "kv", "korp", "k", "str", "lit", "st", "street", "ave", "avenue",
             "rd", "road", "apt", "building"}
    path = _CLEANSE_DATA / "address_types.csv"
    try:
        with path.open(encoding="utf-8") as f:
            rows = csv.DictReader(line for line in f if not line.startswith("#"))
            for row in rows:
                for value in (row.get("alias"), row.get("canonical")):
                    key = _NON_ALNUM.sub("", transliterate(value or ""))
                    if key:
                        words.add(key)
    except OSError:
        pass
    return frozenset(words)


# --------------------------------------------------------------------------------------------
# Scalar helpers (each documented with what it guarantees)
# --------------------------------------------------------------------------------------------

def ascii_name(value: object) -> str | None:
    """Lowercase ASCII form of a name part (letters, spaces and hyphens), or None if empty."""
    if not isinstance(value, str):
        return None
    s = transliterate(value)
    s = re.sub(r"[^a-z \-]+", "", s).strip(" -")
    return s or None


def is_initial(value: object) -> bool:
    """True when a name part is a bare initial ("А.", "a", "Ю"): one letter, maybe a dot."""
    if not isinstance(value, str):
        return False
    letters = [c for c in value if c.isalpha()]
    return len(letters) == 1


def initials_pair(value: object, known_first: frozenset[str] = frozenset()) -> tuple[str, str] | None:
    """The two initials of a first-name field that holds first and middle initials run
    together ("Нл", "ИИ", "A.K."): two letters that are not a known first name (Ян, Ия are
    names). Returns the two skeleton initials, or None."""
    if not isinstance(value, str):
        return None
    letters = [c for c in value if c.isalpha()]
    if len(letters) != 2:
        return None
    if "." not in value and name_skeleton("".join(letters)) in known_first:
        return None
    first, second = name_skeleton(letters[0])[:1], name_skeleton(letters[1])[:1]
    if not first or not second:
        return None
    return first, second


def skeleton(value: object) -> str | None:
    """Cross-script skeleton of a name part (see cleanse.names.name_skeleton), or None."""
    if not isinstance(value, str):
        return None
    return name_skeleton(value) or None


# Russian (and Polish/Czech-style) surnames change their ending with gender: Иванов/Иванова,
# Вилчевский/Вилчевская, Толстой/Толстая, Kowalski/Kowalska. The stem is the skeleton with the
# ending folded to one form, so husband and wife share a stem while a typo does not.
_SURNAME_ENDINGS: tuple[tuple[str, str], ...] = (
    ("skaia", "ski"), ("ckaia", "cki"), ("qkaia", "qki"), ("ska", "ski"), ("cka", "cki"),
    ("aia", "i"), ("oi", "i"),
    ("ova", "ov"), ("eva", "ev"), ("ina", "in"), ("ena", "en"),
)


def surname_stem(skel: str | None) -> str | None:
    """Surname skeleton with the gender ending folded (ivanova -> ivanov, vilcevskaia ->
    vilcevski, tolstaia/tolstoi -> tolsti); None for None. Short words are left alone."""
    if not skel:
        return None
    for ending, repl in _SURNAME_ENDINGS:
        if skel.endswith(ending) and len(skel) - len(ending) >= 3:
            return skel[: -len(ending)] + repl
    return skel


# Patronymics: Иванович / Ивановна / Ильич / Ильинична / Кузьмич / Никитична. The stem is the
# father's name part, shared by brother and sister (so siblings are not mistaken for one
# person by a fuzzy level) -- skeleton forms (ч -> c).
_PATRONYMIC_ENDINGS: tuple[str, ...] = (
    "ovic", "evic", "ovna", "evna", "inicna", "icna", "ic", "na",
)


def patronymic_stem(skel: str | None) -> str | None:
    """Patronymic skeleton without its gendered suffix (ivanovic/ivanovna -> ivan), or the
    skeleton itself when no suffix is recognised; None for None."""
    if not skel:
        return None
    for ending in _PATRONYMIC_ENDINGS:
        if skel.endswith(ending) and len(skel) - len(ending) >= 2:
            return skel[: -len(ending)]
    return skel


def national_id_key(value: object) -> str | None:
    """Matching key of a national id: ASCII letters and digits, upper case ("4526 244253" ->
    "4526244253"); None when nothing is left."""
    if not isinstance(value, str):
        return None
    return re.sub(r"[^0-9A-Za-z]", "", value).upper() or None


def swap_day_month(iso: str | None) -> str | None:
    """ISO date with day and month exchanged when that is another valid date (2001-03-04 ->
    2001-04-03); None when day == month, day > 12 or the input is not an ISO date."""
    if not isinstance(iso, str) or not _ISO_DATE.match(iso):
        return None
    y, m, d = int(iso[:4]), int(iso[5:7]), int(iso[8:10])
    if d == m or d > 12:
        return None
    try:
        return date(y, d, m).isoformat()
    except ValueError:
        return None


#: Shorter local parts (anna@, ivan@, 1985@) are shared by many people across domains.
MIN_EMAIL_LOCAL = 5


def email_local_part(email: object) -> str | None:
    """Local part of an e-mail without a "+tag" (ivan.petrov+shop@x.ru -> ivan.petrov), or
    None when it is shorter than :data:`MIN_EMAIL_LOCAL` characters (too common to mean a
    person)."""
    if not isinstance(email, str) or "@" not in email:
        return None
    local = email.rsplit("@", 1)[0].strip().lower().split("+", 1)[0]
    return local if len(local) >= MIN_EMAIL_LOCAL else None


def address_part_key(value: object) -> str | None:
    """Matching key of an address part: transliterated, type words (ул, г, пр-кт, street...)
    and punctuation removed, ё = е. "ул Зелёная" and "Зеленая" give the same key."""
    if not isinstance(value, str):
        return None
    words = re.split(r"[\s.,]+", transliterate(value))
    types = _address_type_words()
    kept = [w for w in (_NON_ALNUM.sub("", w) for w in words) if w and w not in types]
    return "".join(kept) or None


def house_key(value: object) -> str | None:
    """Matching key of a house or flat number: lowercase ASCII alphanumerics, type words
    (д, дом, кв, корп) dropped; "д. 4/1" -> "41", "28В" -> "28v"."""
    if not isinstance(value, str):
        return None
    words = re.split(r"\s+", transliterate(value))
    types = _address_type_words()
    kept = [w for w in (_NON_ALNUM.sub("", w) for w in words) if w and w not in types]
    return "".join(kept) or None


# --------------------------------------------------------------------------------------------
# Vectorised helpers
# --------------------------------------------------------------------------------------------

def _col(df: pd.DataFrame, name: str) -> pd.Series:
    """Column as object dtype with None for missing; all-None if the column is absent."""
    if name not in df.columns:
        return pd.Series([None] * len(df), index=df.index, dtype="object")
    s = df[name].astype("object")
    return s.where(s.notna(), None)


def _ok(df: pd.DataFrame, name: str, max_qc: int) -> pd.Series:
    """Boolean mask: quality code <= ``max_qc``. A null code means the field was empty (the
    value is null anyway) or the column is absent (values are taken as given)."""
    if name not in df.columns:
        return pd.Series(True, index=df.index)
    qc = pd.to_numeric(df[name], errors="coerce").astype("float64")
    return (qc.le(max_qc) | qc.isna()).astype(bool)


def _map(values: pd.Series, fn: Any) -> pd.Series:
    """Apply ``fn`` once per distinct non-null value; None stays None."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    mapped = np.empty(len(uniques) + 1, dtype=object)
    mapped[: len(uniques)] = [fn(u) for u in uniques.tolist()]
    mapped[len(uniques)] = None
    return pd.Series(mapped[codes], index=values.index, dtype="object")


def _mask(values: pd.Series, keep: pd.Series) -> pd.Series:
    out = values.copy()
    out[~keep.to_numpy()] = None
    return out


def _iso_dates(values: pd.Series) -> pd.Series:
    """date / datetime / ISO string -> 'YYYY-MM-DD' (None when missing or unreadable)."""
    def one(v: Any) -> str | None:
        if v is None:
            return None
        if hasattr(v, "isoformat"):
            s = v.isoformat()[:10]
        else:
            s = str(v)[:10]
        return s if _ISO_DATE.match(s) else None
    return _map(values, one)


def _phone_list(v: Any) -> list[str] | None:
    if v is None:
        return None
    try:
        items = list(v)
    except TypeError:
        return None
    seen: list[str] = []
    for p in items:
        if isinstance(p, str) and _E164.match(p) and p not in seen:
            seen.append(p)
    return seen or None


def _first_email(v: Any) -> str | None:
    if v is None:
        return None
    if isinstance(v, str):
        items = [v]
    else:
        try:
            items = list(v)
        except TypeError:
            return None
    for e in items:
        if isinstance(e, str) and "@" in e:
            e = e.strip().lower()
            if e.isascii():
                return e
    return None


# --------------------------------------------------------------------------------------------
# Public functions
# --------------------------------------------------------------------------------------------

def match_frame(cleansed: pd.DataFrame) -> pd.DataFrame:
    """Build the match frame: one row per cleansed record, columns :data:`MATCH_COLUMNS`.

    Guarantees: same row order and length as ``cleansed`` (fresh RangeIndex); ``unique_id`` is
    the record_key (``source:source_id`` when record_key is absent); only trusted values (qc
    rule in the module docstring) are non-null; every string column is lowercase ASCII or
    digits; ``phones`` is a list of distinct E.164 strings or None (never an empty list);
    ``dob_days`` is days since 1970-01-01 (Int32). The input is not modified.
    """
    df = cleansed
    n = len(df)
    out: dict[str, Any] = {}

    record_key = _col(df, "record_key")
    if record_key.isna().any():
        fallback = _col(df, "source").astype(str) + ":" + _col(df, "source_id").astype(str)
        record_key = record_key.where(record_key.notna(), fallback)
    out["unique_id"] = record_key
    out["source_dataset"] = _col(df, "source")

    known_first, known_last = _known_names()

    # ---- names -------------------------------------------------------------------------
    name_ok = _ok(df, "qc_name", 2)
    last_raw = _mask(_col(df, "last_name"), name_ok)
    last_lat = _mask(_col(df, "last_name_lat"), name_ok)
    last_lat = last_lat.where(last_lat.notna(), last_raw)
    last_is_init = _map(last_raw.where(last_raw.notna(), last_lat), is_initial).fillna(False).astype(bool)
    last_lat = _mask(last_lat, ~last_is_init)
    out["last_name"] = _map(last_lat, ascii_name)
    last_skel = _mask(_col(df, "last_name_skel"), name_ok & ~last_is_init)
    last_skel = last_skel.where(last_skel.notna(), _map(last_lat, skeleton))
    last_skel = _map(last_skel, lambda s: s or None)
    out["last_name_skel"] = last_skel
    out["last_name_stem"] = _map(last_skel, surname_stem)
    out["last_name_known"] = _map(last_skel, lambda s: s in known_last)

    first_raw = _mask(_col(df, "first_name"), name_ok)
    first_lat = _mask(_col(df, "first_name_lat"), name_ok)
    first_is_init = _map(first_raw.where(first_raw.notna(), first_lat), is_initial).fillna(False).astype(bool)
    first_skel_all = _mask(_col(df, "first_name_skel"), name_ok)
    first_skel_all = first_skel_all.where(first_skel_all.notna(), _map(first_lat, skeleton))
    # "Иванов ИИ": first and middle initials in the first-name field
    pair = _map(first_raw.where(first_raw.notna(), first_lat),
                lambda v: initials_pair(v, known_first))
    has_pair = pair.notna() & ~first_is_init
    first_is_init = first_is_init | has_pair
    first_skel_all = first_skel_all.where(~has_pair, _map(pair, lambda p: p[0]))
    out["first_name"] = _map(_mask(first_lat, ~first_is_init), ascii_name)
    first_skel = _mask(first_skel_all, ~first_is_init)
    out["first_name_skel"] = first_skel
    canon = _mask(_col(df, "first_name_canonical_skel"), name_ok & ~first_is_init)
    out["first_name_canon"] = canon.where(canon.notna(), first_skel)
    out["first_initial"] = _mask(_map(first_skel_all, lambda s: s[:1] if s else None), first_is_init)
    out["first_name_known"] = _map(first_skel, lambda s: s in known_first)

    mid_lat = _mask(_col(df, "middle_name_lat"), name_ok)
    mid_raw = _mask(_col(df, "middle_name"), name_ok)
    mid_is_init = _map(mid_raw.where(mid_raw.notna(), mid_lat), is_initial).fillna(False).astype(bool)
    mid_skel_all = _map(mid_lat, skeleton)
    pair_mid = _map(pair, lambda p: p[1])
    use_pair = has_pair & mid_skel_all.isna()
    mid_skel_all = mid_skel_all.where(~use_pair, pair_mid)
    mid_is_init = mid_is_init | use_pair
    out["middle_name"] = _map(_mask(mid_lat, ~mid_is_init), ascii_name)
    mid_skel = _mask(mid_skel_all, ~mid_is_init)
    out["middle_name_skel"] = mid_skel
    out["middle_name_stem"] = _map(mid_skel, patronymic_stem)
    out["middle_initial"] = _mask(_map(mid_skel_all, lambda s: s[:1] if s else None), mid_is_init)

    # ---- gender ------------------------------------------------------------------------
    # a gender read from the first name says nothing the first-name comparison does not
    gender = _col(df, "gender")
    from_first = _col(df, "gender_source").eq("first_name").fillna(False).astype(bool)
    out["gender"] = _mask(gender, _ok(df, "qc_gender", 1) & gender.isin(["M", "F"]) & ~from_first)

    # ---- birth date --------------------------------------------------------------------
    dob = _mask(_iso_dates(_col(df, "birth_date")), _ok(df, "qc_birth_date", 2))
    out["dob"] = dob
    out["dob_swapped"] = _map(dob, swap_day_month)
    out["birth_year"] = _map(dob, lambda s: s[:4])
    out["birth_ym"] = _map(dob, lambda s: s[:7])
    out["birth_md"] = _map(dob, lambda s: s[5:])
    days = pd.to_datetime(dob, format="%Y-%m-%d", errors="coerce")
    epoch = pd.Timestamp("1970-01-01")
    out["dob_days"] = ((days - epoch).dt.days).astype("Int32")

    # ---- contacts ----------------------------------------------------------------------
    phone_ok = _ok(df, "qc_phone", 2)
    phones = _col(df, "phones")
    if phones.isna().all() and "phone" in df.columns:
        phones = _col(df, "phone").map(lambda p: [p] if isinstance(p, str) else None)
    out["phones"] = _mask(phones.map(_phone_list), phone_ok)

    email_ok = _ok(df, "qc_email", 1)
    emails = _col(df, "emails")
    email = emails.map(_first_email)
    email = email.where(email.notna(), _col(df, "email").map(_first_email))
    email = _mask(email, email_ok)
    out["email"] = email
    sugg = _mask(_col(df, "email_suggestion").map(_first_email), email_ok)
    out["email_suggestion"] = sugg.where(sugg != email, None)
    out["email_local"] = _map(sugg.where(sugg.notna(), email), email_local_part)

    # ---- address -----------------------------------------------------------------------
    addr_ok = _ok(df, "qc_address", 2)
    postcode = _mask(_col(df, "postcode"), addr_ok)
    out["postcode"] = _map(postcode, lambda s: _NON_ALNUM.sub("", transliterate(s)) or None)
    city = _map(_mask(_col(df, "city"), addr_ok), address_part_key)
    street = _map(_mask(_col(df, "street"), addr_ok), address_part_key)
    house = _map(_mask(_col(df, "house"), addr_ok), house_key)
    flat = _map(_mask(_col(df, "flat"), addr_ok), house_key)
    have = city.notna() & street.notna() & house.notna()
    akey = (city.fillna("") + "|" + street.fillna("") + "|" + house.fillna("")).astype("object")
    akey = _mask(akey, have)
    out["address_key"] = akey
    out["address_flat_key"] = _mask((akey.fillna("") + "|" + flat.fillna("")).astype("object"),
                                    have & flat.notna())

    # ---- identifiers -------------------------------------------------------------------
    nid = _mask(_col(df, "national_id"), _ok(df, "qc_national_id", 2))
    out["national_id"] = _map(nid, national_id_key)
    tax = _mask(_col(df, "tax_id"), _ok(df, "qc_tax_id", 0))
    out["personal_tax_id"] = _map(tax, lambda s: s if len(s) == 12 and s.isdigit() else None)

    frame = pd.DataFrame({k: (v.to_numpy() if isinstance(v, pd.Series) else v)
                          for k, v in out.items()}, index=pd.RangeIndex(n))
    for c in MATCH_COLUMNS:
        if c in ("phones", "dob_days", "last_name_known", "first_name_known"):
            continue
        frame[c] = frame[c].astype("object").where(frame[c].notna(), None)
    for c in ("last_name_known", "first_name_known"):
        frame[c] = frame[c].astype("boolean")
    frame["dob_days"] = frame["dob_days"].astype("Int32")
    return frame[list(MATCH_COLUMNS)]


def unisex_first_names(cleansed: pd.DataFrame, *, min_records: int = 3,
                       min_share: float = 0.1) -> frozenset[str]:
    """Skeletons of first names whose gender is ambiguous.

    A name is unisex when it is in the built-in list (Саша, Женя, Валя, Alex...) or when the
    records whose gender does NOT come from the first name (source field, patronymic,
    surname) show both genders, the rarer one in >= ``min_share`` of >= ``min_records``.
    """
    fs = _col(cleansed, "first_name_skel")
    g = _col(cleansed, "gender")
    src = _col(cleansed, "gender_source")
    ok = g.isin(["M", "F"]) & fs.notna() & src.notna() & (src != "first_name")
    sub = pd.DataFrame({"n": fs[ok], "g": g[ok]})
    found: set[str] = {name_skeleton(n) for n in _UNISEX_NAMES}
    if len(sub):
        counts = sub.groupby(["n", "g"]).size().unstack(fill_value=0)
        for col in ("M", "F"):
            if col not in counts.columns:
                counts[col] = 0
        total = counts["M"] + counts["F"]
        share = np.minimum(counts["M"], counts["F"]) / total.clip(lower=1)
        found.update(counts.index[(total >= min_records) & (share >= min_share)].tolist())
    return frozenset(found)


def cluster_records(cleansed: pd.DataFrame, frame: pd.DataFrame | None = None) -> pd.DataFrame:
    """Records table for clustering (match_design.md), columns :data:`CLUSTER_RECORD_COLUMNS`.

    Guarantees: one row per input row, same order; ``birth_date`` (date32-compatible
    datetime.date) null unless qc_birth_date <= 1; ``gender`` null unless qc_gender <= 1 and the
    gender was recorded by the source or read from the patronymic or surname -- never one read
    from the first name (Чулпан, Ануш, Nikola are read wrongly; a first-name difference is the
    first-name check's business); ``national_id`` (+ ``national_id_type``) null unless qc <= 1;
    ``personal_tax_id`` only for a valid 12-digit INN; ``id_key`` is ``<type>:<id>`` of the
    national id with qc <= 2 (an odd-looking id is still the same document when equal: it only
    waives birth-date and gender vetoes, see clustering); ``birth_date_any`` is the birth date
    with qc <= 2 (an implausible age is still the date the source holds: with a shared
    identifier, agreeing dates waive the name vetoes); name keys are cross-script
    skeletons (initials are dropped: they are not names), and ``first_name_key`` is null for a
    first name that no name table knows, as written or in canonical form (most often a typo of
    a real name, so it must not veto). ``frame`` may be the
    :func:`match_frame` of the same ``cleansed`` (same row order), to save computing it twice.
    """
    mf = frame if frame is not None else match_frame(cleansed)
    known_first = _known_names()[0]
    if len(mf) != len(cleansed):
        raise ValueError("frame is not the match frame of these records")
    n = len(cleansed)

    bd = _col(cleansed, "birth_date")
    bd_ok = _ok(cleansed, "qc_birth_date", 1).to_numpy()
    bd_dates = pd.to_datetime(bd, errors="coerce")
    birth = [ts.date() if ok and not pd.isna(ts) else None for ok, ts in zip(bd_ok, bd_dates)]
    any_ok = _ok(cleansed, "qc_birth_date", 2).to_numpy()
    birth_any = [ts.date() if ok and not pd.isna(ts) else None for ok, ts in zip(any_ok, bd_dates)]

    src = _col(cleansed, "gender_source").to_numpy()
    raw_gender = _col(cleansed, "gender")
    trusted = (_ok(cleansed, "qc_gender", 1) & raw_gender.isin(["M", "F"])).to_numpy()
    gender = [g if ok and s != "first_name" else None
              for g, ok, s in zip(raw_gender.to_numpy(), trusted, src)]

    nid_ok = _ok(cleansed, "qc_national_id", 1).to_numpy()
    nid_type = _col(cleansed, "national_id_type").to_numpy()
    nid_any = mf["national_id"].to_numpy()
    valid_id = [v if ok else None for v, ok in zip(nid_any, nid_ok)]
    valid_type = [t if v is not None else None for t, v in zip(nid_type, valid_id)]
    id_key = [f"{t or ''}:{v}" if v is not None else None for t, v in zip(nid_type, nid_any)]

    def obj(values: Any) -> pd.Series:
        arr = np.empty(n, dtype=object)
        arr[:] = list(values)
        return pd.Series(arr, index=pd.RangeIndex(n), dtype=object)

    out = pd.DataFrame({
        "record_key": obj(mf["unique_id"]),
        "birth_date": obj(birth),
        "gender": obj(gender),
        "national_id": obj(valid_id),
        "national_id_type": obj(valid_type),
        "personal_tax_id": obj(mf["personal_tax_id"]),
        "id_key": obj(id_key),
        "birth_date_any": obj(birth_any),
        # a first name no name table knows (neither as written nor its canonical form) is
        # most often a typo of one that does: it never vetoes (null); two real names do
        "first_name_key": obj(c if (c in known_first or s in known_first) else None
                              for c, s in zip(mf["first_name_canon"], mf["first_name_skel"])),
        "last_name_key": obj(mf["last_name_skel"]),
        "middle_name_key": obj(mf["middle_name_skel"]),
    })
    return out[list(CLUSTER_RECORD_COLUMNS)]
