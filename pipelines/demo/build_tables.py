"""Maintenance script: rebuild the derived name tables under ``pipelines/demo/data/``.

Not used at generation time (the generator reads only the shipped CSV files). Run it after
editing the hand-written first-name tables::

    python -m pipelines.demo.build_tables

It derives, from the frequency tables that the ``russiannames`` package ships (BSD-3-Clause,
counts of real name spellings collected by its authors):

* ``surnames_ru.csv``: ``male,female,yo,weight`` - gendered surname pairs with their observed
  frequency (male and female forms counted together). ``yo`` holds the spelling with "ё"
  for surnames that have one (Королёв); the table itself keeps the common "е" spelling.
* ``patronymics.csv``: ``father,male,female`` - the patronymic forms most often observed for
  every male first name of the shipped first-name tables, with rule-built forms checked
  against the observed spellings when the table has no direct link.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd

DATA = Path(__file__).with_name("data")

#: Minimum observed count for a surname to be shipped (covers ~92% of the observed mass).
MIN_SURNAME_COUNT = 10

#: Weight factor for indeclinable surnames (Коваленко, Жук), see build_surnames.
INDECLINABLE_SCALE = 0.3

#: Surnames whose passport spelling often has "ё" (stress on the last syllable).
YO_SURNAMES = (
    "Королёв Соловьёв Воробьёв Ковалёв Киселёв Пономарёв Журавлёв Горбачёв Лихачёв Селезнёв "
    "Дегтярёв Семёнов Фёдоров Артёмов Алфёров Шмелёв Толкачёв Хрущёв Муравьёв Бобылёв "
    "Пугачёв Огнёв Грачёв Рублёв Лёвин Клёнов Козлёнков Щёголев Потёмкин Лёвкин Сычёв "
    "Ткачёв Толстолёсов Новосёлов Бирюлёв Снегирёв Кулёмин Зверёв Филёв Пискарёв Трифонёв"
).split()

#: Patronymics the frequency table gets wrong or lacks; checked by hand.
PATRONYMIC_OVERRIDES = {
    "Пётр": ("Петрович", "Петровна"),
    "Илья": ("Ильич", "Ильинична"),
    "Кузьма": ("Кузьмич", "Кузьминична"),
    "Фома": ("Фомич", "Фоминична"),
    "Лука": ("Лукич", "Лукинична"),
    "Никита": ("Никитич", "Никитична"),
    "Данила": ("Данилович", "Даниловна"),
    "Даниил": ("Даниилович", "Данииловна"),
    "Гавриил": ("Гаврилович", "Гавриловна"),
    "Лев": ("Львович", "Львовна"),
    "Яков": ("Яковлевич", "Яковлевна"),
    "Павел": ("Павлович", "Павловна"),
    "Михаил": ("Михайлович", "Михайловна"),
    "Габдулла": ("Габдуллович", "Габдулловна"),
    "Гаджи": ("Гаджиевич", "Гаджиевна"),
    "Абдула": ("Абдулаевич", "Абдулаевна"),
    "Али": ("Алиевич", "Алиевна"),
    "Гела": ("Гелаевич", "Гелаевна"),
    "Шалва": ("Шалвович", "Шалвовна"),
    "Мухаммад": ("Мухаммадович", "Мухаммадовна"),
}


def _load(name: str) -> pd.DataFrame:
    import russiannames

    return pd.read_parquet(Path(russiannames.__file__).with_name("data") / f"{name}.parquet")


def build_surnames() -> pd.DataFrame:
    """Gendered surname pairs with weights, most frequent first."""
    s = _load("surnames")
    s = s[s["text"].str.fullmatch(r"[А-ЯЁ][а-яё]+(-[А-ЯЁ][а-яё]+)?", na=False)]
    female_counts = s[s["gender"] == "f"].groupby("text")["count"].sum()
    pairs = s[(s["gender"] == "m") & s["f_form"].notna()].copy()
    pairs["weight"] = pairs["count"] + pairs["f_form"].map(female_counts).fillna(0).astype(int)
    pairs = pairs.rename(columns={"text": "male", "f_form": "female"})[["male", "female", "weight"]]
    # adjectival surnames (Белый, Толстой, Бережной) come without a female form
    adj = s[(s["gender"] == "m") & s["f_form"].isna() & s["text"].str.contains(r"(?:ый|ой|ий)$")].copy()
    adj["female"] = adj["text"].str.replace(r"(?:ый|ой)$", "ая", regex=True).str.replace(
        r"([кгхжшщч])ий$", r"\1ая", regex=True
    ).str.replace(r"ний$", "няя", regex=True).str.replace(r"ий$", "ая", regex=True)
    adj = adj.rename(columns={"text": "male", "count": "weight"})[["male", "female", "weight"]]
    # indeclinable surnames (Коваленко, Черных, Жук) are the same for both genders
    consonant_end = s["text"].str.contains(r"(?:[бвгджзклмнпрстфхцчшщ]|ко|их|ых)$")
    same = s[(s["gender"] == "u") | (s["gender"].isna() & consonant_end)]
    same = same.groupby("text", as_index=False)["count"].sum()
    same = same.rename(columns={"text": "male", "count": "weight"})
    same["female"] = same["male"]
    same = same[same["weight"] >= MIN_SURNAME_COUNT]
    # The source over-represents Belarusian/Ukrainian spellings (31% of the mass against
    # roughly a tenth in Russia): scale them down.
    same["weight"] = (same["weight"] * INDECLINABLE_SCALE).round().clip(lower=1).astype(int)
    pairs = pd.concat([pairs, adj], ignore_index=True)
    pairs = pairs[pairs["weight"] >= MIN_SURNAME_COUNT]
    out = pd.concat([pairs, same[["male", "female", "weight"]]], ignore_index=True)
    out = out.groupby(["male", "female"], as_index=False)["weight"].sum()
    out = out.drop_duplicates("male", keep="first")
    yo = {w.replace("ё", "е"): w for w in YO_SURNAMES}
    out["yo"] = out["male"].map(yo).fillna("")
    out = out.sort_values(["weight", "male"], ascending=[False, True], kind="mergesort")
    return out[["male", "female", "yo", "weight"]]


def _father_names() -> list[str]:
    names: list[str] = []
    with open(DATA / "first_names_ru.csv", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            if row["gender"] == "m":
                names.extend(row["ranked_names"].split())
    with open(DATA / "first_names_other.csv", encoding="utf-8") as f:
        names.extend(r["name"] for r in csv.DictReader(f) if r["gender"] == "m")
    return list(dict.fromkeys(names))


def _rule_candidates(father: str) -> list[tuple[str, str]]:
    stem = father
    if father.endswith("ий"):
        return [(stem[:-2] + "ьевич", stem[:-2] + "ьевна"), (stem[:-2] + "иевич", stem[:-2] + "иевна")]
    if father.endswith("ей") or father.endswith("ай"):
        return [(stem[:-1] + "евич", stem[:-1] + "евна")]
    if father.endswith("ь"):
        return [(stem[:-1] + "евич", stem[:-1] + "евна"), (stem[:-1] + "ьевич", stem[:-1] + "ьевна")]
    if father.endswith(("а", "я")):
        return [(stem[:-1] + "ич", stem[:-1] + "ична"), (stem + "евич", stem + "евна")]
    if father.endswith(("о", "и", "е", "у")):
        return [(stem + "евич", stem + "евна")]
    if father.endswith(("ж", "ш", "ч", "щ", "ц")):
        return [(stem + "евич", stem + "евна"), (stem + "ович", stem + "овна")]
    return [(stem + "ович", stem + "овна")]


def build_patronymics() -> pd.DataFrame:
    """Patronymic (male, female) for every male first name of the shipped tables."""
    m = _load("midnames")
    m = m[m["text"].str.fullmatch(r"[А-ЯЁ][а-яё]+", na=False)]
    m = m.assign(key=m["text"].str.replace("ё", "е"), fkey=m["fname"].fillna("").str.replace("ё", "е"))
    counts = m.groupby("key")["count"].sum()
    rows = []
    for father in _father_names():
        if father in PATRONYMIC_OVERRIDES:
            male, female = PATRONYMIC_OVERRIDES[father]
        else:
            fkey = father.replace("ё", "е")
            linked = m[m["fkey"] == fkey].sort_values("count", ascending=False)
            lm = linked[linked["gender"] == "m"]["key"].tolist()
            lf = linked[linked["gender"] == "f"]["key"].tolist()
            if lm and lf:
                male, female = lm[0], lf[0]
            else:
                cands = _rule_candidates(fkey)
                male, female = max(cands, key=lambda c: counts.get(c[0], 0) + counts.get(c[1], 0))
            if "ё" in father:
                pos = father.index("ё")
                if male[:pos + 1].replace("е", "ё")[pos] == "ё" or male[pos] == "е":
                    male = male[:pos] + "ё" + male[pos + 1:]
                    female = female[:pos] + "ё" + female[pos + 1:]
        rows.append((father, male, female))
    return pd.DataFrame(rows, columns=["father", "male", "female"])


def main() -> None:
    """Write the derived tables next to the hand-written ones."""
    sur = build_surnames()
    sur.to_csv(DATA / "surnames_ru.csv", index=False, lineterminator="\n")
    pat = build_patronymics()
    pat.to_csv(DATA / "patronymics.csv", index=False, lineterminator="\n")
    print(f"surnames_ru.csv: {len(sur)} rows; patronymics.csv: {len(pat)} rows")


if __name__ == "__main__":
    main()
