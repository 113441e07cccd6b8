"""Shipped reference tables of the demo generator, loaded once and turned into numpy arrays.

Everything the generator samples from lives in ``pipelines/demo/data/`` (see the README
there for provenance). Loading is cached: the tables are read once per process.
"""

from __future__ import annotations

import csv
import functools
from dataclasses import dataclass
from pathlib import Path

import numpy as np

DATA = Path(__file__).with_name("data")

#: Popularity of the n-th name of a ranked list: 1 / (rank + RANK_SHIFT) ** RANK_POWER.
#: Gives the top name ~15% and the top ten ~62% of a 50-name cohort, as in Soviet and
#: Russian birth registers (Сергей ~13% of boys born in the 1960s).
RANK_SHIFT = 2.0
RANK_POWER = 1.25

#: Ethnic groups of the population (name tables, patronymic style, cities).
GROUPS = (
    "russian", "tatar_bashkir", "azerbaijani", "armenian", "georgian", "north_caucasus",
    "central_asian", "korean", "western",
)


@dataclass(frozen=True)
class Choice:
    """Values with sampling probabilities (summing to 1)."""

    values: np.ndarray
    p: np.ndarray

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """Draw ``n`` values (object array)."""
        return self.values[rng.choice(len(self.values), size=n, p=self.p)]


def _choice(values: list, weights: list[float]) -> Choice:
    w = np.asarray(weights, dtype=float)
    return Choice(np.asarray(values, dtype=object), w / w.sum())


def _rows(name: str) -> list[dict[str, str]]:
    with open(DATA / name, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


@dataclass(frozen=True)
class Surnames:
    """Gendered surname pairs of one or all groups; index ``i`` is one family name."""

    male: np.ndarray
    female: np.ndarray
    yo_male: np.ndarray    # spelling with ё, or the plain one when there is none
    yo_female: np.ndarray
    group: np.ndarray
    p_by_group: dict[str, np.ndarray]  # sampling probabilities over all indices, per group


@dataclass(frozen=True)
class City:
    """One row of ``cities.csv``."""

    name: str
    latin: str
    region: str
    postcode_prefixes: tuple[str, ...]
    phone_codes: tuple[str, ...]
    inn_region: str
    passport_region: str
    population: float
    aliases: tuple[str, ...]


@dataclass(frozen=True)
class Tables:
    """All reference tables."""

    first_ru: dict[tuple[str, int], Choice]          # (gender, decade) -> names
    first_other: dict[tuple[str, str], Choice]       # (group, gender) -> names
    surnames: Surnames
    patronymic: dict[str, tuple[str, str]]           # father -> (male, female)
    western_first: dict[tuple[str, str], Choice]     # (country, gender) -> latin names
    western_last: dict[str, Choice]                  # country -> latin surnames
    western_cyrillic: dict[str, str]                 # latin -> cyrillic transcription
    western_countries: Choice
    diminutive_cyr: dict[str, tuple[str, ...]]
    diminutive_lat: dict[str, tuple[str, ...]]
    latin_first: dict[str, tuple[str, ...]]
    cities: tuple[City, ...]
    streets: np.ndarray       # "name|type"
    street_p: np.ndarray
    email_domains: Choice
    email_typos: dict[str, tuple[str, ...]]
    email_words: np.ndarray
    company_words: dict[str, Choice]


def _yo_female(male: str, female: str, yo_male: str) -> str:
    if not yo_male or "ё" not in yo_male or not female.startswith(male[: yo_male.index("ё")]):
        return female
    pos = yo_male.index("ё")
    return female[:pos] + "ё" + female[pos + 1:]


@functools.lru_cache(maxsize=1)
def load_tables() -> Tables:
    """Read every shipped table (cached)."""
    first_ru: dict[tuple[str, int], Choice] = {}
    for row in _rows("first_names_ru.csv"):
        names = list(dict.fromkeys(row["ranked_names"].split()))
        ranks = np.arange(1, len(names) + 1, dtype=float)
        first_ru[(row["gender"], int(row["decade"]))] = _choice(names, list(1.0 / (ranks + RANK_SHIFT) ** RANK_POWER))

    acc: dict[tuple[str, str], tuple[list, list]] = {}
    for row in _rows("first_names_other.csv"):
        v = acc.setdefault((row["group"], row["gender"]), ([], []))
        v[0].append(row["name"])
        v[1].append(float(row["weight"]))
    first_other = {k: _choice(*v) for k, v in acc.items()}

    male, female, yo_m, yo_f, group, weight = [], [], [], [], [], []
    for row in _rows("surnames_ru.csv"):
        male.append(row["male"])
        female.append(row["female"])
        ym = row["yo"] or row["male"]
        yo_m.append(ym)
        yo_f.append(_yo_female(row["male"], row["female"], row["yo"]))
        group.append("russian")
        weight.append(float(row["weight"]))
    for row in _rows("surnames_other.csv"):
        male.append(row["male"])
        female.append(row["female"])
        yo_m.append(row["male"])
        yo_f.append(row["female"])
        group.append(row["group"])
        weight.append(float(row["weight"]))
    west = _rows("western_names.csv")
    western_cyrillic: dict[str, str] = {}
    western_last_acc: dict[str, tuple[list, list]] = {}
    western_first_acc: dict[tuple[str, str], tuple[list, list]] = {}
    country_w: dict[str, float] = {}
    for row in west:
        western_cyrillic.setdefault(row["latin"], row["cyrillic"])
        if row["kind"] == "l":
            v = western_last_acc.setdefault(row["country"], ([], []))
            country_w[row["country"]] = country_w.get(row["country"], 0.0) + float(row["weight"])
        else:
            v = western_first_acc.setdefault((row["country"], "M" if row["kind"] == "m" else "F"), ([], []))
        v[0].append(row["latin"])
        v[1].append(float(row["weight"]))
    # western surnames also live in the global surname arrays (same form for both genders)
    for country, (names, ws) in western_last_acc.items():
        for n, wt in zip(names, ws):
            male.append(n)
            female.append(n)
            yo_m.append(n)
            yo_f.append(n)
            group.append("western:" + country)
            weight.append(wt)
    male_a = np.asarray(male, dtype=object)
    group_a = np.asarray(group, dtype=object)
    weight_a = np.asarray(weight)
    p_by_group: dict[str, np.ndarray] = {}
    for g in sorted(set(group)):
        w = np.where(group_a == g, weight_a, 0.0)
        p_by_group[g] = w / w.sum()
    surnames = Surnames(
        male=male_a, female=np.asarray(female, dtype=object), yo_male=np.asarray(yo_m, dtype=object),
        yo_female=np.asarray(yo_f, dtype=object), group=group_a, p_by_group=p_by_group,
    )

    patronymic = {r["father"]: (r["male"], r["female"]) for r in _rows("patronymics.csv")}

    diminutive_cyr: dict[str, tuple[str, ...]] = {}
    diminutive_lat: dict[str, tuple[str, ...]] = {}
    for r in _rows("diminutives.csv"):
        diminutive_cyr[r["name"]] = tuple(r["cyrillic"].split())
        diminutive_lat[r["name"]] = tuple(r["latin"].split())
    latin_first = {r["name"]: tuple(dict.fromkeys(r["variants"].split())) for r in _rows("latin_first_names.csv")}

    cities = tuple(
        City(
            name=r["city"], latin=r["city_latin"], region=r["region"],
            postcode_prefixes=tuple(r["postcode_prefixes"].split()), phone_codes=tuple(r["phone_codes"].split()),
            inn_region=r["inn_region"].zfill(2), passport_region=r["passport_region"].zfill(2),
            population=float(r["population"]), aliases=tuple(a for a in r["aliases"].split("|") if a),
        )
        for r in _rows("cities.csv")
    )

    st = _rows("streets.csv")
    streets = np.asarray([f"{r['name']}|{r['type']}" for r in st], dtype=object)
    sw = np.asarray([float(r["weight"]) for r in st])

    dom = _rows("email_domains.csv")
    email_domains = _choice([r["domain"] for r in dom], [float(r["weight"]) for r in dom])
    email_typos = {r["domain"]: tuple(r["typos"].split()) for r in dom}
    with open(DATA / "email_words.txt", encoding="utf-8") as f:
        email_words = np.asarray([w.strip() for w in f if w.strip()], dtype=object)

    cw: dict[str, tuple[list, list]] = {}
    for r in _rows("company_words.csv"):
        v = cw.setdefault(r["kind"], ([], []))
        v[0].append(r["word"])
        v[1].append(float(r["weight"]))

    return Tables(
        first_ru=first_ru, first_other=first_other, surnames=surnames, patronymic=patronymic,
        western_first={k: _choice(*v) for k, v in western_first_acc.items()},
        western_last={k: _choice(*v) for k, v in western_last_acc.items()},
        western_cyrillic=western_cyrillic,
        western_countries=_choice(sorted(country_w), [country_w[c] for c in sorted(country_w)]),
        diminutive_cyr=diminutive_cyr, diminutive_lat=diminutive_lat, latin_first=latin_first,
        cities=cities, streets=streets, street_p=sw / sw.sum(),
        email_domains=email_domains, email_typos=email_typos, email_words=email_words,
        company_words={k: _choice(*v) for k, v in cw.items()},
    )
