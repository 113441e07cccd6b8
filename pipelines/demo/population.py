"""The true population behind the demo sources: persons, households and organisations.

Everything here is the *truth*: clean names, one birth date, the phone and e-mail history,
the household address history, employers. The sources (``sources.py``) then show each
person through their own lens and with their own mistakes.

Realism built in on purpose (these are what matching gets wrong on real data):

* names follow real frequency skews (surname counts from the ``russiannames`` tables,
  first names ranked per birth decade), patronymics come from the father's actual name, so
  siblings share surname, patronymic and address but not first name and birth date;
* households of 2-5 people share the address and often a landline; twins share the birth
  date; wives mostly take the husband's surname, some change it after a recent marriage;
* namesakes: common names collide naturally, and a few exact namesakes (different birth
  date and city) are added on purpose;
* phones and e-mails change over time (the sources show whichever was valid at their
  snapshot date), a few people use a spouse's phone or a shared family e-mail;
* ~15% non-Russian names: Tatar/Bashkir, Caucasus, Central Asian (patronymics with
  оглы/кызы), Korean-Russian (Ким, Пак, Ли), and Western foreigners without patronymic.
"""

from __future__ import annotations

import re
import string
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np
import pandas as pd

from pipelines.demo import translit
from pipelines.demo.inn import inn10_many, inn12_many
from pipelines.demo.tables import Tables, load_tables

#: The fixed "today" of the demo world: nothing happens after it.
AS_OF = np.datetime64("2026-11-01")

_D = np.timedelta64(1, "D")


def _ro(d: dict) -> Mapping:
    return MappingProxyType(d)


@dataclass(frozen=True)
class PopulationShape:
    """Shares that shape the true population (not the mistakes of the sources)."""

    group_shares: Mapping[str, float] = field(default_factory=lambda: _ro({
        "russian": 0.852, "tatar_bashkir": 0.04, "azerbaijani": 0.008, "armenian": 0.01,
        "georgian": 0.003, "north_caucasus": 0.012, "central_asian": 0.02, "korean": 0.005,
        "western": 0.05,
    }))
    #: Share of persons of a group who carry a name from the Russian tables.
    russian_first_name_share: Mapping[str, float] = field(default_factory=lambda: _ro({
        "tatar_bashkir": 0.3, "azerbaijani": 0.05, "armenian": 0.15, "georgian": 0.15,
        "north_caucasus": 0.08, "central_asian": 0.06, "korean": 1.0,
    }))
    household_types: Mapping[str, float] = field(default_factory=lambda: _ro({
        "single": 0.72, "couple": 0.14, "family": 0.08, "single_parent": 0.035, "elder_parent": 0.025,
    }))
    twins: float = 0.04                    # per later-born child
    wife_keeps_surname: float = 0.12
    mixed_marriage: float = 0.1            # non-Russian head, Russian spouse
    surname_change: float = 0.3            # recently married wives with older records
    surname_yo_spelling: float = 0.5       # families whose passport surname has ё
    namesake_full: float = 0.004           # explicit namesakes: same full name
    namesake_first_last: float = 0.004     # same last + first name, other patronymic
    has_mobile: float = 0.97
    has_mobile_over_75: float = 0.75
    western_foreign_mobile: float = 0.5
    mobile_changed: float = 0.12
    second_mobile: float = 0.07
    landline_young: float = 0.12
    landline_over_55: float = 0.45
    shared_phone: float = 0.05             # household member using another member's mobile
    email_by_age: tuple[tuple[int, float], ...] = ((30, 0.92), (50, 0.85), (65, 0.65), (200, 0.4))
    email_changed: float = 0.08
    second_email: float = 0.12             # another personal mailbox, given to some sources
    shared_email: float = 0.08             # couples with one e-mail
    moved: float = 0.08                    # households with a previous address
    moved_other_city: float = 0.3
    apartment: float = 0.9
    orgs_per_person: float = 0.012
    sole_traders: float = 0.008            # ИП among persons aged 25-65
    consent_marketing: float = 0.55
    do_not_contact: float = 0.03
    source_shares: Mapping[str, float] = field(default_factory=lambda: _ro({
        "crm": 0.6, "web": 0.35, "loyalty": 0.4, "billing": 0.2,
    }))


@dataclass
class Population:
    """Persons (column name -> array, one element per person, ``pid`` = position) and
    organisations (a frame). Persons are plain arrays: at a million rows a DataFrame of
    ~60 object columns costs seconds and gigabytes for nothing."""

    persons: dict[str, np.ndarray]
    orgs: pd.DataFrame


def object_frame(columns: dict) -> pd.DataFrame:
    """A DataFrame that keeps object arrays as object columns (pandas 3 would convert them
    to Arrow strings and back, which costs seconds at a million rows)."""
    def keep(v):
        is_object = getattr(v, "dtype", None) == object or isinstance(v, list)
        return pd.Series(v, dtype=object) if is_object else v

    return pd.DataFrame({k: keep(v) for k, v in columns.items()})


def padded(values: np.ndarray, width: int, prefix: str = "") -> np.ndarray:
    """Integers as zero-padded strings with an optional prefix (object array, fast)."""
    out = pd.Series(np.asarray(values, dtype=np.int64)).astype(str).str.zfill(width)
    if prefix:
        out = prefix + out
    return out.to_numpy(dtype=object, copy=True)


def rng_for(seed: int, stream: str) -> np.random.Generator:
    """Independent, reproducible random stream per component (adding one never shifts another)."""
    return np.random.default_rng([seed, zlib.crc32(stream.encode())])


# ---------------------------------------------------------------- birth years and households

_YEARS = np.arange(1940, 2009)


def _year_weights() -> np.ndarray:
    w = np.select(
        [_YEARS < 1945, _YEARS < 1950, _YEARS < 1960, _YEARS < 1970, _YEARS < 1980,
         _YEARS < 1990, _YEARS < 2000, _YEARS < 2005],
        [0.25, 0.45, 0.7, 0.9, 0.95, 1.2, 1.1, 0.7], 0.4,
    )
    return w.astype(float)


def _sample_years(rng: np.random.Generator, n: int, lo: int, hi: int) -> np.ndarray:
    w = np.where((_YEARS >= lo) & (_YEARS <= hi), _year_weights(), 0.0)
    return rng.choice(_YEARS, size=n, p=w / w.sum())


_TYPES = ("single", "couple", "family", "single_parent", "elder_parent")


def _households(rng: np.random.Generator, n: int, shape: PopulationShape) -> tuple[np.ndarray, np.ndarray]:
    """Household types and sizes, cut so that the sizes sum to exactly ``n``."""
    p = np.array([shape.household_types[t] for t in _TYPES], dtype=float)
    est = max(8, int(n / 1.5) + 8)
    while True:
        ht = rng.choice(len(_TYPES), size=est, p=p / p.sum())
        kids = np.zeros(est, dtype=np.int64)
        fam = ht == 2
        kids[fam] = rng.choice([1, 2, 3], size=fam.sum(), p=[0.5, 0.38, 0.12])
        sp = ht == 3
        kids[sp] = rng.choice([1, 2], size=sp.sum(), p=[0.7, 0.3])
        kids[ht == 4] = 1
        adults = np.array([1, 2, 2, 1, 1])[ht]
        size = adults + kids
        if size.sum() >= n:
            break
        est = int(est * 1.5)
    cs = np.cumsum(size)
    h = int(np.searchsorted(cs, n)) + 1
    ht, size = ht[:h], size[:h].copy()
    size[-1] -= int(cs[h - 1] - n)
    return ht, size


# ---------------------------------------------------------------- names

def _days_since(rng: np.random.Generator, n: int, start: str) -> np.ndarray:
    """``n`` days drawn uniformly between ``start`` and AS_OF."""
    lo = np.datetime64(start)
    return lo + (rng.random(n) * (AS_OF - lo).astype(np.int64)).astype(np.int64) * _D


def _age(birth: np.ndarray) -> np.ndarray:
    """Age in whole calendar years at AS_OF (birth year difference)."""
    return AS_OF.astype("datetime64[Y]").astype(np.int64) - birth.astype("datetime64[Y]").astype(np.int64)


def _map_objects(values: np.ndarray, fn) -> np.ndarray:
    """Apply ``fn`` once per distinct value of an object array and map back."""
    codes, uniq = pd.factorize(np.asarray(values, dtype=object), use_na_sentinel=False)
    mapped = np.array([fn(u) for u in uniq], dtype=object)
    return mapped[codes] if len(codes) else np.empty(0, dtype=object)


def _decade(years: np.ndarray) -> np.ndarray:
    return np.clip(years // 10 * 10, 1910, 2000)


def _first_names(rng, t: Tables, naming_group, gender, years, country) -> np.ndarray:
    out = np.empty(len(gender), dtype=object)
    dec = _decade(years)
    keys = object_frame({"g": np.asarray(naming_group, dtype=object), "s": np.asarray(gender, dtype=object),
                         "d": dec, "c": np.asarray(country, dtype=object)})
    for (g, s, d, c), idx in sorted(keys.groupby(["g", "s", "d", "c"]).indices.items()):
        if g == "russian":
            ch = t.first_ru[("m" if s == "M" else "f", int(max(d, 1940 if s == "F" else 1910)))]
        elif g == "western":
            ch = t.western_first[(c, s)]
        else:
            ch = t.first_other[(g, "m" if s == "M" else "f")]
        out[idx] = ch.sample(rng, len(idx))
    return out


def _father_names(rng, t: Tables, naming_group, years) -> np.ndarray:
    n = len(years)
    return _first_names(rng, t, naming_group, np.full(n, "M", dtype=object), years - 30, np.full(n, "RU", dtype=object))


def _patronymics(rng, t: Tables, group, gender, father) -> np.ndarray:
    n = len(group)
    male = gender == "M"
    pm = _map_objects(father, lambda f: t.patronymic.get(f, (None, None))[0])
    pf = _map_objects(father, lambda f: t.patronymic.get(f, (None, None))[1])
    table = np.where(male, pm, pf)
    out = table.copy()
    u = rng.random(n)
    az = (group == "azerbaijani") & (u < 0.75)
    out[az] = [f"{f} {'оглы' if m else 'кызы'}" for f, m in zip(father[az], male[az])]
    ca = group == "central_asian"
    none = ca & (u < 0.1)
    turkic = ca & (u >= 0.1) & (u < 0.35)
    style = rng.choice(3, size=n, p=[0.5, 0.3, 0.2])
    suffix_m = np.array(["оглы", "угли", "уулу"], dtype=object)[style]
    suffix_f = np.array(["кызы", "кизи", "кызы"], dtype=object)[style]
    out[turkic] = [f"{f} {sm if m else sf}"
                   for f, m, sm, sf in zip(father[turkic], male[turkic], suffix_m[turkic], suffix_f[turkic])]
    out[none] = None
    out[group == "western"] = None
    return out


# ---------------------------------------------------------------- phones, e-mails, ids

_MOBILE_CODES = (
    [(c, 3.0) for c in range(910, 920)] + [(c, 3.0) for c in range(980, 990)]          # MTS
    + [(c, 2.8) for c in range(920, 940)] + [(999, 2.0)]                                   # MegaFon
    + [(c, 3.0) for c in (903, 905, 906, 909)] + [(c, 2.5) for c in range(960, 969)]      # Beeline
    + [(c, 2.0) for c in (900, 901, 902, 950, 951, 952, 953, 958, 977)]                  # Tele2
    + [(c, 1.5) for c in range(991, 997)] + [(904, 1.0), (908, 1.5), (978, 0.5)]
)
_MC = np.array([c for c, _ in _MOBILE_CODES], dtype=np.int64)
_MW = np.array([w for _, w in _MOBILE_CODES], dtype=float)

#: Foreign mobile numbering (country code, national prefix choices, digits after prefix).
_FOREIGN = {
    "US": ("1", ["201", "212", "310", "312", "415", "617", "646", "713", "917"], 7),
    "GB": ("44", ["7700", "7911", "7480", "7823", "7540"], 6),
    "DE": ("49", ["151", "152", "160", "170", "171", "176"], 8),
    "FR": ("33", ["6", "7"], 8),
    "IT": ("39", ["320", "333", "347", "366", "388"], 7),
    "ES": ("34", ["6", "7"], 8),
    "PL": ("48", ["50", "51", "60", "66", "69", "78"], 7),
    "NL": ("31", ["6"], 8),
    "SE": ("46", ["70", "72", "73", "76"], 7),
}


def _unique_ints(rng, n: int, make, taken: set | None = None) -> np.ndarray:
    """``n`` distinct int64 values from ``make(rng, k)``; regenerates collisions."""
    vals = make(rng, n)
    taken_arr = np.fromiter(taken, dtype=np.int64) if taken else np.empty(0, dtype=np.int64)
    for _ in range(50):
        _, first = np.unique(vals, return_index=True)
        dup = np.ones(n, dtype=bool)
        dup[first] = False
        dup |= np.isin(vals, taken_arr)
        if not dup.any():
            return vals
        vals[dup] = make(rng, int(dup.sum()))
    raise RuntimeError("could not draw unique numbers")


def _ru_mobiles(rng, n: int) -> np.ndarray:
    code = _MC[rng.choice(len(_MC), size=n, p=_MW / _MW.sum())]
    return 70_000_000_000 + code * 10_000_000 + rng.integers(0, 10_000_000, size=n)


def _foreign_mobiles(rng, countries: np.ndarray) -> np.ndarray:
    """Mobile numbers of the given countries, redrawn until ``phonenumbers`` accepts them."""
    import phonenumbers

    def draw(c: str, k: int) -> list[str]:
        cc, prefixes, digits = _FOREIGN[c]
        pre = np.asarray(prefixes, dtype=object)[rng.integers(0, len(prefixes), size=k)]
        num = rng.integers(0, 10**digits, size=k)
        return [f"{cc}{p}{x:0{digits}d}" for p, x in zip(pre, num.tolist())]

    out = np.empty(len(countries), dtype=object)
    for c in sorted(set(countries.tolist())):
        idx = np.flatnonzero(countries == c)
        vals = draw(c, len(idx))
        for _ in range(100):
            bad = [i for i, v in enumerate(vals) if not phonenumbers.is_valid_number(phonenumbers.parse("+" + v))]
            if not bad:
                break
            for i, v in zip(bad, draw(c, len(bad))):
                vals[i] = v
        out[idx] = vals
    return out


def _landlines(rng, codes: np.ndarray, taken: dict[str, set[int]]) -> np.ndarray:
    """Distinct national landline numbers (int 7XXXXXXXXXX) for the given area codes.

    ``taken`` holds the numbers already handed out per area code and is updated."""
    codes = codes.astype(str)
    out = np.zeros(len(codes), dtype=np.int64)
    for code in sorted(set(codes)):
        idx = np.flatnonzero(codes == code)
        local_len = 10 - len(code)
        base = (7 * 10**10) + int(code) * 10**local_len

        def gen(r, k, local_len=local_len, base=base):
            return base + r.integers(2 * 10 ** (local_len - 1), 10**local_len, size=k)

        used = taken.setdefault(code, set())
        out[idx] = _unique_ints(rng, len(idx), gen, used)
        used.update(out[idx].tolist())
    return out


def _make_unique(values: pd.Series) -> pd.Series:
    """Append -2, -3, ... to repeated values (first occurrence unchanged)."""
    n = values.groupby(values).cumcount()
    return values.where(n == 0, values + "-" + (n + 1).astype(str))


def _inn12_unique(rng, regions: np.ndarray) -> np.ndarray:
    """Valid, distinct 12-digit personal INNs (region code first)."""
    n = len(regions)

    def body(r, k):
        return r.integers(1, 51, size=k) * 10**6 + r.integers(0, 10**6, size=k)

    reg = regions.astype(np.int64)
    keys = reg * 10**8 + body(rng, n)
    for _ in range(50):
        _, first = np.unique(keys, return_index=True)
        dup = np.ones(n, dtype=bool)
        dup[first] = False
        if not dup.any():
            break
        keys[dup] = reg[dup] * 10**8 + body(rng, int(dup.sum()))
    return inn12_many(keys)


# ---------------------------------------------------------------- e-mails

_EMAIL_PATTERNS = (
    ("{first}.{last}", 14), ("{first}{last}", 6), ("{f}.{last}", 8), ("{f}{last}", 6),
    ("{last}.{first}", 5), ("{last}{f}", 3), ("{last}", 4), ("{last}{yy}", 7), ("{last}{yyyy}", 3),
    ("{first}{yy}", 5), ("{first}.{last}{yy}", 4), ("{first}_{last}", 4), ("{last}_{first}", 2),
    ("{first}{last}{yy}", 3), ("{word}{yy}", 6), ("{word}_{first}", 2), ("{first}{d3}", 4),
    ("{last}.{f}{m}", 3), ("{word}{d4}", 3), ("{first}-{last}", 1),
)
_EP = np.array([w for _, w in _EMAIL_PATTERNS], dtype=float)


def _email_parts(words: np.ndarray, schemes: np.ndarray) -> np.ndarray:
    """E-mail spelling of each word in the row's scheme (computed once per distinct pair)."""
    out = np.empty(len(words), dtype=object)
    for sch in sorted(set(schemes.tolist())):
        idx = np.flatnonzero(schemes == sch)
        out[idx] = _map_objects(words[idx], lambda w, sch=sch: translit.email_part(w, sch) if w else "")
    return out


def _email_locals(rng, t: Tables, first, last, middle, years, schemes) -> np.ndarray:
    n = len(first)
    pat = rng.choice(len(_EMAIL_PATTERNS), size=n, p=_EP / _EP.sum())
    words = t.email_words[rng.integers(0, len(t.email_words), size=n)]
    d3 = rng.integers(1, 1000, size=n).astype(str).astype(object)
    d4 = rng.integers(1, 10000, size=n).astype(str).astype(object)
    fi = _email_parts(first, schemes)
    la = _email_parts(last, schemes)
    mi = _email_parts(np.where(pd.isna(middle), "", middle), schemes)
    f1 = _map_objects(fi, lambda x: x[:1])
    m1 = _map_objects(mi, lambda x: x[:1])
    numbers = np.array([str(i) for i in range(2100)], dtype=object)
    yyyy = numbers[years]
    yy = padded(years % 100, 2)
    values = {"first": fi, "last": la, "f": f1, "m": m1, "yy": yy, "yyyy": yyyy, "word": words, "d3": d3, "d4": d4}
    out = np.empty(n, dtype=object)
    for k, (template, _) in enumerate(_EMAIL_PATTERNS):
        idx = np.flatnonzero(pat == k)
        if not len(idx):
            continue
        acc = np.full(len(idx), "", dtype=object)
        for literal, name, _, _ in string.Formatter().parse(template):
            if literal:
                acc = acc + literal
            if name:
                acc = acc + values[name][idx]
        out[idx] = acc
    out = pd.Series(out, dtype=object).str.strip("._-").to_numpy(dtype=object, copy=True)
    bad = out == ""
    out[bad] = "user" + d4[bad]
    return out


def _dedupe_emails(rng, emails: np.ndarray, fixed: set[str]) -> np.ndarray:
    """Make e-mails distinct (providers guarantee it) by appending digits to later copies."""
    emails = emails.copy()
    for _ in range(30):
        s = pd.Series(emails, dtype=object)
        dup = (s.duplicated() | s.isin(fixed)).to_numpy() & s.notna().to_numpy()
        if not dup.any():
            return emails
        idx = np.flatnonzero(dup)
        digits = rng.integers(1, 10000, size=len(idx))
        for i, d in zip(idx, digits):
            local, dom = emails[i].split("@", 1)
            emails[i] = f"{local}{d}@{dom}"
    return emails


# ---------------------------------------------------------------- addresses

_CITY_BOOST = {
    "tatar_bashkir": {"Казань": 25, "Набережные Челны": 25, "Уфа": 25, "Ижевск": 3, "Тюмень": 2},
    "north_caucasus": {"Махачкала": 60, "Грозный": 60, "Ставрополь": 5, "Москва": 1.5, "Астрахань": 4},
    "azerbaijani": {"Москва": 2, "Санкт-Петербург": 1.5, "Сургут": 4, "Тюмень": 3},
    "armenian": {"Краснодар": 4, "Сочи": 6, "Ставрополь": 4, "Ростов-на-Дону": 3, "Москва": 2},
    "georgian": {"Москва": 2.5, "Санкт-Петербург": 1.5},
    "central_asian": {"Москва": 3, "Санкт-Петербург": 2, "Екатеринбург": 2, "Новосибирск": 2},
    "korean": {"Хабаровск": 6, "Владивосток": 6, "Ростов-на-Дону": 2, "Москва": 1.5},
    "western": {"Москва": 6, "Санкт-Петербург": 3},
}

#: How many post offices (last three postcode digits) a city spans per prefix.
_POST_OFFICES = {"Москва": 600, "Санкт-Петербург": 400}


def _cities(rng, t: Tables, groups: np.ndarray) -> np.ndarray:
    base = np.array([c.population for c in t.cities])
    names = [c.name for c in t.cities]
    out = np.zeros(len(groups), dtype=np.int64)
    for g in sorted(set(groups)):
        idx = np.flatnonzero(groups == g)
        w = base.copy()
        for city, k in _CITY_BOOST.get(g, {}).items():
            w[names.index(city)] *= k
        out[idx] = rng.choice(len(base), size=len(idx), p=w / w.sum())
    return out


def _address_parts(rng, t: Tables, city_idx: np.ndarray, apartment_share: float) -> dict[str, np.ndarray]:
    """Street, house, building, flat and a postcode consistent with city and street."""
    n = len(city_idx)
    street = rng.choice(len(t.streets), size=n, p=t.street_p)
    house = (rng.gamma(1.3, 16.0, size=n) + 1).astype(np.int64).clip(1, 250)
    letter = np.where(rng.random(n) < 0.04, np.array(["а", "б", "в"], dtype=object)[rng.integers(0, 3, n)], "")
    slash = rng.random(n) < 0.03
    numbers = np.array([str(i) for i in range(1001)], dtype=object)
    house_s = numbers[house] + letter.astype(object)
    house_s[slash] = house_s[slash] + "/" + numbers[rng.integers(1, 5, int(slash.sum()))]
    korpus = np.where(rng.random(n) < 0.12, numbers[rng.integers(1, 6, n)], None)
    flat_n = (rng.gamma(1.6, 45.0, size=n) + 1).astype(np.int64).clip(1, 700)
    is_flat = rng.random(n) < apartment_share
    flat = np.where(is_flat, numbers[flat_n], None)
    # a street belongs to one or a few post offices of its city: deterministic per city+street
    post_int = np.zeros(n, dtype=np.int64)
    for ci in sorted(set(city_idx.tolist())):
        idx = np.flatnonzero(city_idx == ci)
        c = t.cities[ci]
        prefixes = np.array([int(p) for p in c.postcode_prefixes], dtype=np.int64)
        free = np.array([6 - len(p) for p in c.postcode_prefixes], dtype=np.int64)
        span = _POST_OFFICES.get(c.name, 150)
        key = street[idx] * 7919 + ci * 104729 + (house[idx] // 60)
        k = key % len(prefixes)
        scale = 10 ** free[k]
        suffix = (key * 2654435761 % 1_000_003) % np.minimum(span, scale)
        post_int[idx] = prefixes[k] * scale + suffix
    # a postcode repeats across a street: share one string object per distinct value
    codes_, uniq = pd.factorize(post_int)
    post = uniq.astype(str).astype(object)[codes_]
    return {"street": street, "house": house_s, "korpus": korpus, "flat": flat, "postcode": post}


# ---------------------------------------------------------------- the population

def build_population(n: int, seed: int, shape: PopulationShape | None = None) -> Population:
    """Generate ``n`` persons with households, contacts, ids and employers (deterministic)."""
    shape = shape or PopulationShape()
    t = load_tables()
    rng = rng_for(seed, "households")
    ht, size = _households(rng, n, shape)
    h = len(ht)
    hh = np.repeat(np.arange(h), size)
    start = np.concatenate([[0], np.cumsum(size)[:-1]])
    pos = np.arange(n) - start[hh]
    htype = ht[hh]
    role_code = np.where(pos == 0, 0, np.where((pos == 1) & np.isin(htype, [1, 2]), 1, 2))
    role = np.array(["head", "spouse", "child"], dtype=object)[role_code]

    # gender
    u = rng.random(h)
    head_f = np.select([ht == 0, ht == 3, ht == 4], [u < 0.53, u < 0.9, u < 0.7], False)
    gender = np.where(rng.random(n) < 0.5, "F", "M").astype(object)
    gender[role == "head"] = np.where(head_f, "F", "M")[hh[role == "head"]]
    sp = role == "spouse"
    gender[sp] = np.where(head_f[hh[sp]], "M", "F")

    # ethnic group and (for western persons) country
    groups = np.array(list(shape.group_shares), dtype=object)
    gp = np.array([shape.group_shares[g] for g in groups], dtype=float)
    hgroup = groups[rng.choice(len(groups), size=h, p=gp / gp.sum())]
    hcountry = np.full(h, "RU", dtype=object)
    west_h = hgroup == "western"
    hcountry[west_h] = t.western_countries.sample(rng, int(west_h.sum()))
    group = hgroup[hh].copy()
    country = hcountry[hh].copy()
    mixed = sp & (group != "russian") & (group != "western") & (rng.random(n) < shape.mixed_marriage)
    group[mixed] = "russian"

    # birth years: head by household type, spouse near the head, children after the mother
    head_year = np.empty(h, dtype=np.int64)
    ranges = {0: (1940, 2008), 1: (1940, 2002), 2: (1945, 1986), 3: (1945, 1986), 4: (1940, 1964)}
    for k, (lo, hi) in ranges.items():
        idx = np.flatnonzero(ht == k)
        head_year[idx] = _sample_years(rng, len(idx), lo, hi)
    year = head_year[hh].copy()
    gap = np.clip(np.rint(rng.normal(2.5, 3.0, size=n)), -6, 12).astype(np.int64)
    year[sp] = np.clip(np.where(gender[sp] == "F", year[sp] + gap[sp], year[sp] - gap[sp]), 1940, 2006)
    # parents of adult children were born early enough to have them
    year[sp & (htype == 2)] = np.minimum(year[sp & (htype == 2)], 1986)
    child = role == "child"
    mother_year = head_year.copy()
    spouse_rows = np.flatnonzero(sp)
    mother_year[hh[spouse_rows]] = np.where(gender[spouse_rows] == "F", year[spouse_rows], head_year[hh[spouse_rows]])
    first_child_pos = np.where(np.isin(ht, [1, 2]), 2, 1)
    kid_k = pos - first_child_pos[hh]
    window = np.clip(2008 - 20 - mother_year[hh], 1, np.where(htype == 4, 18, 14))
    first_gap = 20 + (rng.random(n) * window).astype(np.int64)
    twin = child & (kid_k >= 1) & (rng.random(n) < shape.twins)
    later_gap = np.where(twin, 0, rng.integers(1, 8, n))
    inc = np.where(kid_k == 0, first_gap, later_gap)
    inc = np.where(child, inc, 0)
    cum = pd.Series(inc).groupby(hh).cumsum().to_numpy()
    kid_year = mother_year[hh] + cum
    # families whose youngest would be born after 2008 had their children earlier
    excess = pd.Series(np.where(child, kid_year - 2008, 0)).groupby(hh).transform("max").clip(lower=0).to_numpy()
    excess = np.where(excess > 0, excess + rng.integers(0, 5, h)[hh], 0)
    kid_year = np.clip(kid_year - excess, mother_year[hh] + 18, 2008)
    year[child] = kid_year[child]
    doy = rng.integers(0, 365, size=n)
    for _ in range(3):
        doy[twin] = doy[np.flatnonzero(twin) - 1]
        year[twin] = year[np.flatnonzero(twin) - 1]
    twin[np.flatnonzero(twin) - 1] = True
    birth = (year - 1970).astype("datetime64[Y]").astype("datetime64[D]") + doy * _D

    # names
    rname = rng.random(n)
    share = np.array([shape.russian_first_name_share.get(g, 1.0 if g == "russian" else 0.0) for g in group])
    naming = np.where(rname < share, "russian", group).astype(object)
    naming[group == "western"] = "western"
    first = _first_names(rng, t, naming, gender, year, country)
    kids_idx = np.flatnonzero(child)
    for _ in range(6):  # siblings never share a first name
        prev_names = pd.DataFrame({"hh": hh[kids_idx], "first": first[kids_idx]})
        clash = prev_names.duplicated(["hh", "first"]).to_numpy()
        if not clash.any():
            break
        ci = kids_idx[clash]
        first[ci] = _first_names(rng, t, naming[ci], gender[ci], year[ci], country[ci])
    # father's first name: the man of the household for his children, otherwise drawn
    father = _father_names(rng, t, np.where(group == "western", "russian", naming), year)
    man_row = np.full(h, -1, dtype=np.int64)
    men = np.flatnonzero(((role == "head") | (role == "spouse")) & (gender == "M"))
    man_row[hh[men]] = men
    has_father = child & (man_row[hh] >= 0)
    father[has_father] = first[man_row[hh[has_father]]]
    # a father from another group gives a patronymic in his group's style (Рустамович)
    middle = _patronymics(rng, t, group, gender, father)

    # surnames: one family name per household, some wives and children differ
    sn = t.surnames
    skey = np.where(hgroup == "western", "western:" + hcountry.astype(str), hgroup).astype(object)
    h_sid = np.zeros(h, dtype=np.int64)
    for g in sorted(set(skey)):
        idx = np.flatnonzero(skey == g)
        h_sid[idx] = rng.choice(len(sn.male), size=len(idx), p=sn.p_by_group[g])
    sid = h_sid[hh].copy()
    own = sp & (rng.random(n) < shape.wife_keeps_surname)
    own |= mixed & (rng.random(n) < 0.5)
    own_group = np.where(group == "western", "western:" + country.astype(str), group).astype(object)
    for g in sorted(set(own_group[own])):
        idx = np.flatnonzero(own & (own_group == g))
        sid[idx] = rng.choice(len(sn.male), size=len(idx), p=sn.p_by_group[g])
    other_father = child & np.isin(htype, [3, 4]) & head_f[hh] & (rng.random(h)[hh] < 0.2)
    h_other = np.zeros(h, dtype=np.int64)
    for g in sorted(set(skey)):
        idx = np.flatnonzero(skey == g)
        h_other[idx] = rng.choice(len(sn.male), size=len(idx), p=sn.p_by_group[g])
    sid[other_father] = h_other[hh[other_father]]
    yo = (rng.random(h) < shape.surname_yo_spelling)[hh]
    fem = gender == "F"
    last = np.where(fem, np.where(yo, sn.yo_female[sid], sn.female[sid]), np.where(yo, sn.yo_male[sid], sn.male[sid]))

    # recent marriages: older records carry the maiden name
    cand = sp & fem & ~own & (year >= 1978) & (rng.random(n) < shape.surname_change)
    maiden = np.full(n, None, dtype=object)
    marriage = np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")
    lo = np.maximum(birth + 20 * 365 * _D, np.datetime64("2013-01-01"))
    hi = AS_OF - 60 * _D
    cand &= lo < hi
    ci = np.flatnonzero(cand)
    msid = np.zeros(len(ci), dtype=np.int64)
    for g in sorted(set(own_group[ci])):
        sel = own_group[ci] == g
        msid[sel] = rng.choice(len(sn.male), size=int(sel.sum()), p=sn.p_by_group[g])
    maiden[ci] = sn.female[msid]
    span = (hi - lo[ci]).astype(np.int64)
    marriage[ci] = lo[ci] + (rng.random(len(ci)) * span).astype(np.int64) * _D

    western = group == "western"
    first_cyr = first.copy()
    last_cyr = last.copy()
    first_cyr[western] = _map_objects(first[western], lambda x: t.western_cyrillic.get(x, x))
    last_cyr[western] = _map_objects(last[western], lambda x: t.western_cyrillic.get(x, x))

    # ---- addresses (per household), with a previous one for households that moved
    arng = rng_for(seed, "addresses")
    h_city = _cities(arng, t, hgroup)
    addr = _address_parts(arng, t, h_city, shape.apartment)
    moved_h = arng.random(h) < shape.moved
    mi_ = np.flatnonzero(moved_h)
    prev_city = h_city.copy()
    other = arng.random(len(mi_)) < shape.moved_other_city
    prev_city[mi_[other]] = _cities(arng, t, hgroup[mi_[other]])
    prev_part = _address_parts(arng, t, prev_city[mi_], shape.apartment)
    prev = {}
    for key, vals in prev_part.items():
        full = np.full(h, None, dtype=object) if vals.dtype == object else np.zeros(h, dtype=vals.dtype)
        full[mi_] = vals
        prev[key] = full
    move_date = _days_since(arng, h, "2015-01-01")

    # ---- phones
    prng = rng_for(seed, "phones")
    age = (AS_OF.astype("datetime64[Y]").astype(np.int64) + 1970) - year
    has_mobile = prng.random(n) < np.where(age >= 75, shape.has_mobile_over_75, shape.has_mobile)
    changed = has_mobile & (prng.random(n) < shape.mobile_changed)
    second = has_mobile & (prng.random(n) < shape.second_mobile)
    foreign = western & (prng.random(n) < shape.western_foreign_mobile)
    n_ru = int((has_mobile & ~foreign).sum() + (changed & ~foreign).sum() + second.sum())
    ru = _unique_ints(prng, n_ru, _ru_mobiles)
    taken: dict[str, set[int]] = {}
    ru_s = ru.astype(str).astype(object)
    k = 0
    mobile = np.full(n, None, dtype=object)
    idx = np.flatnonzero(has_mobile & ~foreign)
    mobile[idx] = ru_s[k:k + len(idx)]
    k += len(idx)
    idx = np.flatnonzero(has_mobile & foreign)
    mobile[idx] = _foreign_mobiles(prng, country[idx])
    mobile_prev = np.full(n, None, dtype=object)
    idx = np.flatnonzero(changed & ~foreign)
    mobile_prev[idx] = ru_s[k:k + len(idx)]
    k += len(idx)
    idx = np.flatnonzero(changed & foreign)
    mobile_prev[idx] = _foreign_mobiles(prng, country[idx])
    mobile2 = np.full(n, None, dtype=object)
    idx = np.flatnonzero(second)
    mobile2[idx] = ru_s[k:k + len(idx)]
    mobile_change = _days_since(prng, n, "2014-01-01")
    mobile_change = np.where(changed, mobile_change, np.datetime64("NaT"))

    head_age = age[start]
    has_land = prng.random(h) < np.where(head_age >= 55, shape.landline_over_55, shape.landline_young)
    li = np.flatnonzero(has_land)
    pick = prng.integers(0, 2, len(li))
    codes = np.array([t.cities[c].phone_codes[k % len(t.cities[c].phone_codes)]
                      for c, k in zip(h_city[li].tolist(), pick.tolist())], dtype=object)
    h_land = np.full(h, None, dtype=object)
    h_land[li] = _landlines(prng, codes, taken).astype(str)

    # household members who give another member's mobile (elderly parents most of all)
    multi = size[hh] > 1
    share_p = np.where((htype == 4) & (role == "head"), 0.15, shape.shared_phone)
    sharer = multi & (pos > 0) & (prng.random(n) < share_p)
    sharer |= multi & (pos == 0) & (htype == 4) & (prng.random(n) < share_p)
    donor = np.where(multi, np.where(pos == 0, start[hh] + 1, start[hh]), np.arange(n))
    ok = sharer & pd.notna(mobile[donor])
    shared_phone = np.zeros(n, dtype=bool)
    mobile[ok] = mobile[donor[ok]]
    mobile_prev[ok] = None
    mobile_change[ok] = np.datetime64("NaT")
    shared_phone[ok] = True
    shared_phone[donor[ok]] = True

    # ---- e-mails
    ern = rng_for(seed, "emails")
    thresholds = np.array([a for a, _ in shape.email_by_age])
    probs = np.array([p for _, p in shape.email_by_age])
    p_email = probs[np.searchsorted(thresholds, age, side="right").clip(0, len(probs) - 1)]
    p_email = np.where(western, 0.95, p_email)
    has_email = ern.random(n) < p_email
    schemes_all = np.array(list(translit.SCHEME_WEIGHTS), dtype=object)
    sw = np.array(list(translit.SCHEME_WEIGHTS.values()))
    scheme = schemes_all[ern.choice(len(sw), size=n, p=sw / sw.sum())]
    mid_for_mail = np.where(pd.isna(middle), "", middle)
    ei = np.flatnonzero(has_email)
    name_at_signup = np.where(pd.notna(maiden[ei]), maiden[ei], last[ei])
    locals_ = _email_locals(ern, t, first[ei], name_at_signup, mid_for_mail[ei], year[ei], scheme[ei])
    dom = t.email_domains.sample(ern, len(ei))
    email = np.full(n, None, dtype=object)
    email[ei] = locals_ + "@" + dom
    email_changed = has_email & (ern.random(n) < shape.email_changed)
    ec = np.flatnonzero(email_changed)
    email_prev = np.full(n, None, dtype=object)
    email_prev[ec] = (_email_locals(ern, t, first[ec], last[ec], mid_for_mail[ec], year[ec], scheme[ec])
                      + "@" + t.email_domains.sample(ern, len(ec)))
    email_change = _days_since(ern, n, "2014-01-01")
    email_change = np.where(email_changed, email_change, np.datetime64("NaT"))
    e2 = np.flatnonzero(has_email & (ern.random(n) < shape.second_email))
    email2 = np.full(n, None, dtype=object)
    email2[e2] = (_email_locals(ern, t, first[e2], last[e2], mid_for_mail[e2], year[e2], scheme[e2])
                  + "@" + t.email_domains.sample(ern, len(e2)))
    # couples sharing one mailbox
    shared_email = np.zeros(n, dtype=bool)
    sp_rows = np.flatnonzero(sp)
    heads = start[hh[sp_rows]]
    share_mail = (ern.random(len(sp_rows)) < shape.shared_email) & pd.notna(email[heads])
    email[sp_rows[share_mail]] = None
    email_prev[sp_rows[share_mail]] = None
    email2[sp_rows[share_mail]] = None
    allmail = np.concatenate([email, email_prev, email2])
    allmail = _dedupe_emails(ern, allmail, set())
    email, email_prev, email2 = allmail[:n].copy(), allmail[n:2 * n].copy(), allmail[2 * n:].copy()
    email[sp_rows[share_mail]] = email[heads[share_mail]]
    shared_email[sp_rows[share_mail]] = True
    shared_email[heads[share_mail]] = True

    # ---- ids: personal INN (everyone has one), passport
    irng = rng_for(seed, "ids")
    city_inn = np.array([int(c.inn_region) for c in t.cities], dtype=np.int64)
    inn_region = city_inn[h_city[hh]]
    elsewhere = irng.random(n) < 0.2
    inn_region[elsewhere] = city_inn[irng.integers(0, len(t.cities), int(elsewhere.sum()))]
    inn = _inn12_unique(irng, inn_region)
    issue_year = np.where(age >= 45, year + 45, np.where(age >= 20, year + 20, year + 14))
    pas_region = np.array([int(c.passport_region) for c in t.cities], dtype=np.int64)[h_city[hh]]
    series = pas_region * 100 + issue_year % 100
    pas_key = series * 10**6 + irng.integers(100000, 1000000, size=n)
    for _ in range(50):
        _, first_i = np.unique(pas_key, return_index=True)
        dup = np.ones(n, dtype=bool)
        dup[first_i] = False
        if not dup.any():
            break
        pas_key[dup] = series[dup] * 10**6 + irng.integers(100000, 1000000, size=int(dup.sum()))
    passport = padded(pas_key // 10**6, 4) + " " + padded(pas_key % 10**6, 6)

    # ---- consent and source membership
    srng = rng_for(seed, "membership")
    consent = srng.random(n) < shape.consent_marketing
    dnc = srng.random(n) < shape.do_not_contact
    member = {}
    for src, p in shape.source_shares.items():
        pp = np.full(n, p)
        if src == "web":
            pp = np.where(age >= 60, p * 0.5, p * 1.12)
        member[src] = srng.random(n) < pp
    none = ~np.any(np.stack(list(member.values())), axis=0)
    srcs = list(shape.source_shares)
    sp_ = np.array([shape.source_shares[s] for s in srcs])
    pick = srng.choice(len(srcs), size=n, p=sp_ / sp_.sum())
    for i, s in enumerate(srcs):
        member[s] |= none & (pick == i)

    persons = {
        "pid": np.arange(n),
        "entity_id": padded(np.arange(1, n + 1), 7, "P"),
        "hh": hh, "household_id": padded(np.arange(1, h + 1), 7, "H")[hh],
        "household_type": np.array(_TYPES, dtype=object)[htype], "role": role, "pos": pos,
        "household_size": size[hh],
        "group": group, "country": country, "gender": gender, "birth_date": birth,
        "last_name": last, "first_name": first, "middle_name": middle,
        "last_name_cyr": last_cyr, "first_name_cyr": first_cyr,
        "maiden_name": maiden, "marriage_date": marriage, "twin": twin,
        "city": h_city[hh], "street": addr["street"][hh], "house": addr["house"][hh],
        "korpus": addr["korpus"][hh], "flat": addr["flat"][hh], "postcode": addr["postcode"][hh],
        "moved": moved_h[hh], "move_date": np.where(moved_h, move_date, np.datetime64("NaT"))[hh],
        "prev_city": prev_city[hh], "prev_street": prev["street"][hh], "prev_house": prev["house"][hh],
        "prev_korpus": prev["korpus"][hh], "prev_flat": prev["flat"][hh], "prev_postcode": prev["postcode"][hh],
        "mobile": mobile, "mobile_prev": mobile_prev, "mobile_change": mobile_change, "mobile2": mobile2,
        "landline": h_land[hh], "shared_phone": shared_phone,
        "email": email, "email_prev": email_prev, "email_change": email_change, "email2": email2,
        "shared_email": shared_email,
        "scheme": scheme, "inn": inn, "passport": passport,
        "consent_marketing": consent, "do_not_contact": dnc,
        **{f"in_{s}": member[s] for s in srcs},
    }
    _add_namesakes(rng_for(seed, "namesakes"), persons, shape)
    orgs = _organisations(rng_for(seed, "orgs"), t, persons, shape, taken)
    return Population(persons=persons, orgs=orgs)


def _add_namesakes(rng, p: dict[str, np.ndarray], shape: PopulationShape) -> None:
    """Copy names onto single persons: exact namesakes (other birth date and city) and
    same last+first name with another patronymic; then flag every shared full name."""
    n = len(p["pid"])
    singles = np.flatnonzero((p["household_type"] == "single") & pd.isna(p["maiden_name"]))
    k_full = int(round(n * shape.namesake_full))
    k_part = int(round(n * shape.namesake_first_last))
    if len(singles) < 2 * (k_full + k_part) + 2:
        k_full = k_part = 0
    targets = rng.permutation(singles)[: k_full + k_part]
    gender, group, city, birth = p["gender"], p["group"], p["city"], p["birth_date"]
    key_codes, _ = pd.factorize(pd.Series(gender, dtype=object) + "|" + pd.Series(group, dtype=object))
    order = np.argsort(key_codes, kind="stable")
    bounds = np.searchsorted(key_codes[order], np.arange(key_codes.max() + 2))
    last, first, middle = p["last_name"].copy(), p["first_name"].copy(), p["middle_name"].copy()
    lcyr, fcyr = p["last_name_cyr"].copy(), p["first_name_cyr"].copy()
    for j, tg in enumerate(targets.tolist()):
        kc = key_codes[tg]
        pool = order[bounds[kc]:bounds[kc + 1]]
        for _ in range(20):
            d = int(pool[rng.integers(0, len(pool))])
            if d != tg and city[d] != city[tg] and birth[d] != birth[tg]:
                break
        else:
            continue
        last[tg], first[tg], lcyr[tg], fcyr[tg] = last[d], first[d], lcyr[d], fcyr[d]
        if j < k_full:
            middle[tg] = middle[d]
    p["last_name"], p["first_name"], p["middle_name"] = last, first, middle
    p["last_name_cyr"], p["first_name_cyr"] = lcyr, fcyr

    def norm(x):
        return x.replace("ё", "е").lower() if isinstance(x, str) else ""

    full = (pd.Series(_map_objects(last, norm), dtype=object) + "|" + pd.Series(_map_objects(first, norm), dtype=object)
            + "|" + pd.Series(_map_objects(middle, norm), dtype=object))
    p["namesake"] = full.duplicated(keep=False).to_numpy()


# ---------------------------------------------------------------- organisations

#: Legal forms written out in full (billing prints either).
LEGAL_FULL = {
    "ООО": "Общество с ограниченной ответственностью", "АО": "Акционерное общество",
    "ПАО": "Публичное акционерное общество", "ЗАО": "Закрытое акционерное общество",
    "ОАО": "Открытое акционерное общество",
}


def _org_names(rng, t: Tables, k: int) -> np.ndarray:
    cw = t.company_words
    root = cw["root"].sample(rng, k)
    pre = cw["prefix"].sample(rng, k)
    suf = cw["suffix"].sample(rng, k)
    style = rng.choice(6, size=k, p=[0.3, 0.25, 0.15, 0.1, 0.1, 0.1])
    letters = np.array(list("МКСТПН"), dtype=object)[rng.integers(0, 6, k)]
    names = []
    for i in range(k):
        s = style[i]
        if s == 0:
            nm = root[i]
        elif s == 1:
            nm = pre[i] + suf[i].lower()
        elif s == 2:
            nm = f"{root[i]} {suf[i]}"
        elif s == 3:
            nm = f"{root[i]}-{letters[i]}"
        elif s == 4:
            nm = pre[i] + root[i].lower()
        else:
            nm = f"{pre[i]}{suf[i].lower()}-{root[i]}"
        names.append(nm)
    # "Металл" + "логистик": no word has three equal letters in a row
    names = [re.sub(r"(.)\1\1", r"\1\1", nm, flags=re.IGNORECASE) for nm in names]
    # many unrelated companies share a name (ООО "Вектор" in every city): kept on purpose
    return np.asarray(names, dtype=object)


def _organisations(
    rng, t: Tables, p: dict[str, np.ndarray], shape: PopulationShape, taken: dict[str, set[int]],
) -> pd.DataFrame:
    """Companies with valid INNs, offices and contact persons; sole traders (ИП)."""
    n = len(p["pid"])
    k = max(3, int(round(n * shape.orgs_per_person)))
    names = _org_names(rng, t, k)
    legal = t.company_words["legal"].sample(rng, k)
    pop = np.array([c.population for c in t.cities])
    city = rng.choice(len(t.cities), size=k, p=pop / pop.sum())
    region = np.array([t.cities[c].inn_region for c in city], dtype=np.int64)
    bodies = _unique_ints(rng, k, lambda r, m: r.integers(1, 51, size=m) * 10**5 + r.integers(0, 10**5, size=m))
    inns = inn10_many(region * 10**7 + bodies)
    kpp = np.array([i[:4] + "01001" for i in inns], dtype=object)
    addr = _address_parts(rng, t, city, 0.0)
    office = np.where(rng.random(k) < 0.7, rng.integers(1, 900, k).astype(str).astype(object), None)
    codes = np.array([t.cities[c].phone_codes[0] for c in city], dtype=object)
    phone = _landlines(rng, codes, taken).astype(str).astype(object)
    dom_root = np.array([translit.email_part(nm.split()[0].split("-")[0], "naive") or "company" for nm in names],
                        dtype=object)
    tld = np.array([".ru", ".ru", ".ru", ".com", ".su", "-group.ru"], dtype=object)[rng.integers(0, 6, k)]
    domain = _make_unique(pd.Series(dom_root + tld))
    domain = domain.str.replace(r"^(.*)\.(ru|com|su)-(\d+)$", r"\1\3.\2", regex=True)

    orgs = object_frame({
        "organisation_id": [f"O{i + 1:06d}" for i in range(k)], "kind": np.full(k, "company", dtype=object),
        "legal_form": legal, "name": names, "inn": inns, "kpp": kpp, "city": city,
        "street": addr["street"], "house": addr["house"], "korpus": addr["korpus"], "office": office,
        "postcode": addr["postcode"], "phone": phone, "domain": domain.to_numpy(dtype=object),
        "owner_pid": -1,
    })

    # contact persons: working-age adults, 1-6 per company
    age = _age(p["birth_date"])
    eligible = np.flatnonzero((age >= 22) & (age <= 65) & (p["group"] != "western"))
    counts = np.minimum(rng.geometric(0.55, size=k), 6)
    total = min(int(counts.sum()), len(eligible))
    chosen = rng.choice(eligible, size=total, replace=False) if total else np.empty(0, dtype=np.int64)
    org_of = np.repeat(np.arange(k), counts)[:total]
    org_id = np.full(n, None, dtype=object)
    org_id[chosen] = orgs["organisation_id"].to_numpy()[org_of]
    ext = np.where(rng.random(total) < 0.5, rng.integers(100, 1000, total).astype(str).astype(object), None)
    work_ext = np.full(n, None, dtype=object)
    work_ext[chosen] = ext
    generic = np.array(["info", "office", "zakaz", "buh", "sales", "mail"], dtype=object)[rng.integers(0, 6, total)]
    personal = rng.random(total) < 0.75
    style = rng.integers(0, 3, total)
    work_email = np.full(n, None, dtype=object)
    sch = p["scheme"]
    first = p["first_name"]
    last = p["last_name"]
    dom = orgs["domain"].to_numpy()[org_of]
    we = []
    for j, pid in enumerate(chosen):
        if not personal[j]:
            we.append(f"{generic[j]}@{dom[j]}")
            continue
        fi = translit.email_part(first[pid], sch[pid])
        la = translit.email_part(last[pid], sch[pid])
        local = (f"{fi[:1]}.{la}", la, f"{fi}.{la}")[style[j]]
        we.append(f"{local}@{dom[j]}")
    work_email[chosen] = _dedupe_emails(rng, np.asarray(we, dtype=object), set()) if we else work_email[chosen]
    # generic mailboxes are shared on purpose: undo the de-duplication for them
    if total:
        gen_mask = ~personal
        work_email[chosen[gen_mask]] = [f"{g}@{d}" for g, d in zip(generic[gen_mask], dom[gen_mask])]
    p["org_id"] = org_id
    p["work_ext"] = work_ext
    p["work_email"] = work_email

    # sole traders: the person's own INN, home address, mobile
    trader = np.flatnonzero((age >= 25) & (age <= 65) & pd.isna(org_id) & (rng.random(n) < shape.sole_traders))
    if len(trader):
        tp = {k: v[trader] for k, v in p.items()}
        full = (pd.Series(tp["last_name"], dtype=object) + " " + pd.Series(tp["first_name"], dtype=object) + " "
                + pd.Series(tp["middle_name"], dtype=object).fillna("")).str.strip()
        m = len(trader)
        ip = object_frame({
            "organisation_id": [f"O{k + i + 1:06d}" for i in range(m)], "kind": np.full(m, "sole_trader", dtype=object),
            "legal_form": np.full(m, "ИП", dtype=object), "name": full.to_numpy(dtype=object), "inn": tp["inn"],
            "kpp": np.full(m, None, dtype=object), "city": tp["city"], "street": tp["street"],
            "house": tp["house"], "korpus": tp["korpus"], "office": np.full(m, None, dtype=object),
            "postcode": tp["postcode"], "phone": tp["mobile"],
            "domain": np.full(m, None, dtype=object), "owner_pid": trader,
        })
        orgs = pd.concat([orgs, ip], ignore_index=True)
        oid = p["org_id"].copy()
        oid[trader] = ip["organisation_id"].to_numpy()
        p["org_id"] = oid
    return orgs
