"""Comparison levels, as tables of {left, right, expected level}.

Each row builds two cleansed records (names through the real name cleansing), turns them into
match-frame rows and runs the comparison's SQL (the CASE Splink generates) through DuckDB on
a one-pair frame, then checks the level. Cyrillic-origin cases guard the byte-based string
similarity trap: DuckDB's jaro_winkler_similarity on UTF-8 bytes makes unrelated Cyrillic
names look alike, so comparisons must only ever see transliterated columns.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

import duckdb
import pandas as pd
import pyarrow as pa
import pytest

from pipelines.cleanse.names import clean_names
from pipelines.match import comparisons as C
from pipelines.match.features import match_frame


@lru_cache(maxsize=None)
def _names(full_name: str) -> dict:
    out = clean_names(pd.Series([full_name], dtype=object), None, None, None).iloc[0].to_dict()
    return {k: v for k, v in out.items() if k != "name_issues"}


def record(name: str | None = None, **fields) -> dict:
    """A cleansed record: ``name`` is a full name as a source would hold it."""
    row = {"source": "crm", "source_id": "1"}
    if name is not None:
        row.update(_names(name))
    row.update(fields)
    return row


def gamma(comparison: str, left: dict, right: dict) -> str:
    """Level label of ``comparison`` for the pair (left, right)."""
    mf = match_frame(pd.DataFrame([dict(left, source_id="1"), dict(right, source_id="2")]))
    l, r = mf.iloc[0].to_dict(), mf.iloc[1].to_dict()
    pair = {f"{c}_l": [l[c]] for c in mf.columns} | {f"{c}_r": [r[c]] for c in mf.columns}
    table = pa.table({k: pa.array(v, type=_arrow_type(k)) for k, v in pair.items()})
    con = duckdb.connect()
    con.register("p", table)
    value = con.execute(f"SELECT {C.gamma_sql(comparison)} FROM p").fetchall()[0][0]
    con.close()
    return C.level_labels(comparison)[int(value)]


def _arrow_type(col: str) -> pa.DataType:
    base = col[:-2]
    if base == "phones":
        return pa.list_(pa.string())
    if base in ("last_name_known", "first_name_known"):
        return pa.bool_()
    if base == "dob_days":
        return pa.int32()
    return pa.string()


PH1, PH2, PH3 = ["+79161234567"], ["+79031112233"], ["+74951234567", "+79161234567"]
FLAT = dict(city="г Москва", street="ул Зелёная", house="10", flat="55", postcode="125109", qc_address=1)
FLAT_B = dict(FLAT, flat="56")
OTHER_ADDR = dict(city="г Тверь", street="ул Кирова", house="37", flat="11", postcode="170144", qc_address=1)
D = dt.date

FIRST_NAME = [
    # (left, right, expected level)
    ("Иванова Юлия", "Ivanova Iuliia", "same first name, other spelling or script"),
    ("Иванова Юлия", "Ivanova Yulia", "same first name, other spelling or script"),
    ("Кузнецова Мария", "Кузнецова Марина", "different first name"),
    ("Кузнецова Мария", "Kuznetsova Marina", "different first name"),
    ("Смирнова Анна", "Смирнов Олег", "different first name"),
    ("Петров Иван", "Петров Иван", "same first name"),
    ("Сергей Петров", "Петров Сергей", "same first name"),
    ("Петров Сергей", "Petrov Sergey", "same first name"),
    ("Петров Алексей", "Petrov Alexey", "same first name, other spelling or script"),
    ("Орлов Дмитрий", "Orlov Dmitry", "same first name, other spelling or script"),
    ("Петрова Наталья", "Петрова Наталия", "same first name, other spelling or script"),
    ("Зайцева Алёна", "Зайцева Алена", "same first name"),
    ("Зайцева Елена", "Зайцева Алёна", "different first name"),
    ("Петров Саша", "Петров Александр", "diminutive of the same name"),
    ("Сидорова Оля", "Сидорова Ольга", "diminutive of the same name"),
    ("Соколов Александр", "Соколова Александра", "same name, other gender form (Aleksandr / Aleksandra)"),
    ("Белов Евгений", "Белова Евгения", "same name, other gender form (Aleksandr / Aleksandra)"),
    ("Белов Иван", "Белова Иванна", "same name, other gender form (Aleksandr / Aleksandra)"),
    ("Федоров Константин", "Федоров Констнатин", "first name typo (similar, one side unknown)"),
    # one slip in a short name: Jaro-Winkler 0.89, one edit
    ("Mccarthy Jarod", "Mccarthy Jatod", "first name typo (similar, one side unknown)"),
    ("Mccarthy Jarod", "Mccarthy Jatodd", "different first name"),
    ("Смирнов А. В.", "Смирнов Андрей Викторович", "initial agrees"),
    ("Смирнов А. В.", "Смирнов Борис Викторович", "different first name"),
    ("Смирнов", "Смирнов Андрей", "null"),
]


@pytest.mark.parametrize("left, right, expected", FIRST_NAME)
def test_first_name_levels(left, right, expected):
    assert gamma("first_name", record(left), record(right)) == expected


def test_swapped_first_and_last_name():
    left = record(last_name="Oliver", first_name="Taylor", last_name_lat="oliver",
                  first_name_lat="taylor", last_name_skel="olivr", first_name_skel="tailor",
                  first_name_canonical_skel="tailor", qc_name=2)
    right = record(last_name="Taylor", first_name="Oliver", last_name_lat="taylor",
                   first_name_lat="oliver", last_name_skel="tailor", first_name_skel="olivr",
                   first_name_canonical_skel="olivr", qc_name=0)
    assert gamma("first_name", left, right) == "first and last name swapped"
    assert gamma("surname_contact", left, right) == "same surname, contacts unknown"


MIDDLE_NAME = [
    ("Иванов Пётр Сергеевич", "Иванов Пётр Сергеевич", "same patronymic"),
    ("Иванов Пётр Сергеевич", "Ivanov Petr Sergeevich", "same patronymic"),
    ("Иванов Пётр Сергеевич", "Иванова Анна Сергеевна", "same father's name, other gender form"),
    ("Орлов Олег Викторович", "Орлов Олег Викторвич", "patronymic typo"),
    ("Орлов О. В.", "Орлов Олег Викторович", "initial agrees"),
    ("Орлов Олег Викторович", "Орлов Олег Петрович", "different patronymic"),
    ("Орлов Олег", "Орлов Олег Петрович", "null"),
]


@pytest.mark.parametrize("left, right, expected", MIDDLE_NAME)
def test_middle_name_levels(left, right, expected):
    assert gamma("middle_name", record(left), record(right)) == expected


GENDER = [
    (dict(gender="M", gender_source="source", qc_gender=0), dict(gender="M", gender_source="patronymic", qc_gender=1),
     "same gender"),
    (dict(gender="M", gender_source="source", qc_gender=0), dict(gender="F", gender_source="surname", qc_gender=1),
     "different gender"),
    # read from the first name: the first-name comparison already has it
    (dict(gender="M", gender_source="first_name", qc_gender=1), dict(gender="F", gender_source="source", qc_gender=0),
     "null"),
    # the source's gender contradicts the name (qc 2): not trusted
    (dict(gender="F", gender_source="source", qc_gender=2), dict(gender="M", gender_source="source", qc_gender=0),
     "null"),
]


@pytest.mark.parametrize("left, right, expected", GENDER)
def test_gender_levels(left, right, expected):
    l = dict(record("Климова Саша"), **left)
    r = dict(record("Климова Саша"), **right)
    assert gamma("gender", l, r) == expected


DOB = [
    (D(1985, 3, 4), D(1985, 3, 4), "same birth date"),
    (D(1985, 3, 4), D(1985, 4, 3), "day and month swapped"),
    (D(1985, 3, 4), D(1985, 3, 14), "same year and month"),
    (D(1985, 3, 4), D(1958, 3, 4), "same day and month, other year"),
    (D(1985, 3, 4), D(1985, 11, 30), "within a year"),
    (D(1985, 12, 30), D(1986, 1, 2), "within a year"),
    (D(1985, 3, 4), D(1990, 7, 21), "different birth date"),
    (D(1985, 3, 4), None, "null"),
]


@pytest.mark.parametrize("left, right, expected", DOB)
def test_dob_levels(left, right, expected):
    l = record("Иванов Иван", birth_date=left, qc_birth_date=0 if left else None)
    r = record("Иванов Иван", birth_date=right, qc_birth_date=0 if right else None)
    assert gamma("dob", l, r) == expected


def test_implausible_age_is_still_evidence_but_an_invalid_date_is_not():
    # qc 2 is an implausible age (born 1908): still the date the source holds
    l = record("Smith John", birth_date=D(1908, 4, 19), qc_birth_date=2)
    r = record("Smith John", birth_date=D(1908, 4, 19), qc_birth_date=2)
    assert gamma("dob", l, r) == "same birth date"
    # placeholders (1900-01-01, 1111-11-11) are qc 3: cleansing nulls them
    l = record("Иванов Иван", birth_date=None, qc_birth_date=3)
    r = record("Иванов Иван", birth_date=None, qc_birth_date=3)
    assert gamma("dob", l, r) == "null"


EMAIL = [
    (dict(emails=["ivan.petrov@mail.ru"], qc_email=0), dict(emails=["Ivan.Petrov@mail.ru"], qc_email=0),
     "same e-mail"),
    (dict(emails=["svetlana_b@yandez.ru"], email_suggestion="svetlana_b@yandex.ru", qc_email=1),
     dict(emails=["svetlana_b@yandex.ru"], qc_email=0), "same e-mail after typo correction"),
    (dict(emails=["sergey87@gmail.com"], qc_email=0), dict(emails=["sergey87@mail.ru"], qc_email=0),
     "different e-mail"),
    (dict(emails=["info@lider.ru"], qc_email=2), dict(emails=["info@lider.ru"], qc_email=2), "null"),
    (dict(emails=["a.b@x.ru"], qc_email=0), dict(), "null"),
]


@pytest.mark.parametrize("left, right, expected", EMAIL)
def test_email_levels(left, right, expected):
    assert gamma("email", record("Петров Иван", **left), record("Петров Иван", **right)) == expected


SURNAME_CONTACT = [
    ("Иванов Пётр", dict(phones=PH1, qc_phone=1), "Ivanov Petr", dict(phones=PH3, qc_phone=1),
     "same surname, same phone or flat"),
    ("Иванов Пётр", FLAT, "Иванов Павел", FLAT, "same surname, same phone or flat"),
    ("Иванов Пётр", FLAT, "Иванов Пётр", FLAT_B, "same surname, same building"),
    ("Иванов Пётр", dict(phones=PH1, qc_phone=1), "Иванова Анна", dict(phones=PH1, qc_phone=1),
     "related surname (other gender form or similar), same phone or flat"),
    ("Вилчевский Олег", FLAT, "Вилчевская Ольга", FLAT,
     "related surname (other gender form or similar), same phone or flat"),
    ("Пётр", dict(phones=PH1, qc_phone=1), "Иванов Пётр", dict(phones=PH1, qc_phone=1),
     "unknown surname, same phone or flat"),
    ("Сидоров Пётр", dict(phones=PH1, qc_phone=1), "Иванов Пётр", dict(phones=PH1, qc_phone=1),
     "different surname, same phone or flat"),
    ("Загребельный Пётр", {}, "Загребелный Пётр", {}, "same surname, contacts unknown"),
    ("Иванов Пётр", dict(phones=PH1, qc_phone=1), "Иванов Пётр", dict(phones=PH2, qc_phone=1),
     "same surname, contacts differ"),
    ("Иванов Пётр", FLAT, "Иванова Мария", OTHER_ADDR, "related surname, no shared contact"),
    ("Сидоров Пётр", FLAT, "Иванов Пётр", FLAT_B, "other or unknown surname, same building"),
    ("Сидоров Пётр", dict(FLAT), "Иванов Пётр", dict(OTHER_ADDR, postcode="125109"),
     "same postcode only"),
    ("Сидоров Пётр", {}, "Иванов Пётр", {}, "different surname, contacts unknown"),
    ("Сидоров Пётр", dict(phones=PH1, qc_phone=1), "Иванов Пётр", dict(phones=PH2, qc_phone=1),
     "different surname and contacts"),
    ("Пётр", {}, "Пётр", dict(phones=PH1, qc_phone=1), "null"),
    # Cyrillic byte trap: Анна/Олег-like surnames share no letters; bytes would look alike
    ("Орлов Пётр", {}, "Ёлкин Пётр", {}, "different surname, contacts unknown"),
]


@pytest.mark.parametrize("lname, lfields, rname, rfields, expected", SURNAME_CONTACT)
def test_surname_contact_levels(lname, lfields, rname, rfields, expected):
    assert gamma("surname_contact", record(lname, **lfields), record(rname, **rfields)) == expected


IDS = [
    ("national_id", dict(national_id="4526244253", qc_national_id=0),
     dict(national_id="4526 244253", qc_national_id=0), "same national id"),
    # one typing slip (a digit changed, dropped, two neighbours swapped): evidence, weaker
    # than the same id (two valid passports of one type still veto in clustering)
    ("national_id", dict(national_id="4526244253", qc_national_id=0),
     dict(national_id="4526244254", qc_national_id=0), "national id one typo apart"),
    ("national_id", dict(national_id="4526244253", qc_national_id=0),
     dict(national_id="4526242453", qc_national_id=0), "national id one typo apart"),
    ("national_id", dict(national_id="4526244253", qc_national_id=0),
     dict(national_id="452624253", qc_national_id=2), "national id one typo apart"),
    ("national_id", dict(national_id="4526244253", qc_national_id=0),
     dict(national_id="4526244354", qc_national_id=0), "different national id"),
    ("national_id", dict(national_id="45262", national_id_type="other", qc_national_id=2),
     dict(national_id="45263", national_id_type="other", qc_national_id=2), "different national id"),
    # an odd-looking id (implausible passport series, an unknown id type) equal on both
    # sides is still one document: evidence (vetoes use only valid ids, see clustering)
    ("national_id", dict(national_id="9487909168", qc_national_id=2),
     dict(national_id="9487909168", qc_national_id=2), "same national id"),
    ("national_id", dict(national_id="1804974", national_id_type="other", qc_national_id=2),
     dict(national_id="1804974", national_id_type="other", qc_national_id=2), "same national id"),
    ("national_id", dict(national_id="4086030", national_id_type="other", qc_national_id=2),
     dict(national_id="4086300", national_id_type="other", qc_national_id=2), "national id one typo apart"),
    ("national_id", dict(national_id="4086030", national_id_type="other", qc_national_id=2),
     dict(national_id="4068300", national_id_type="other", qc_national_id=2), "different national id"),
    ("national_id", dict(national_id="4526244253", qc_national_id=0), dict(qc_national_id=None), "null"),
    ("personal_tax_id", dict(tax_id="774750787365", qc_tax_id=0),
     dict(tax_id="774750787365", qc_tax_id=0), "same personal tax id"),
    ("personal_tax_id", dict(tax_id="774750787365", qc_tax_id=0),
     dict(tax_id="022751548277", qc_tax_id=0), "different personal tax id"),
    # colleagues share their company's 10-digit INN: never evidence
    ("personal_tax_id", dict(tax_id="7705963204", qc_tax_id=0),
     dict(tax_id="7705963204", qc_tax_id=0), "null"),
]


@pytest.mark.parametrize("comparison, left, right, expected", IDS)
def test_identifier_levels(comparison, left, right, expected):
    assert gamma(comparison, record("Петров Иван", **left), record("Петров Иван", **right)) == expected


def test_duckdb_byte_similarity_trap_is_real():
    """The reason for all of the above: on Cyrillic bytes unrelated names look similar."""
    con = duckdb.connect()
    jw_cyr = con.execute("SELECT jaro_winkler_similarity('анна', 'олег')").fetchall()[0][0]
    jw_lat = con.execute("SELECT jaro_winkler_similarity('anna', 'oleg')").fetchall()[0][0]
    con.close()
    assert jw_cyr > 0.5 and jw_lat == 0.0


def test_similarity_functions_only_see_ascii_columns():
    """Jaro-Winkler arguments are match-frame columns that match_frame keeps lowercase ASCII
    (test_features checks that guarantee on arbitrary text)."""
    import re

    ascii_columns = {"last_name", "first_name", "middle_name"}
    calls = [m for row in C.describe()
             for m in re.findall(r"jaro_winkler_similarity\(([^)]*)\)", row["sql"])]
    assert calls
    for args in calls:
        cols = {a.strip()[:-2] for a in args.split(",")}
        assert cols <= ascii_columns, args


def test_every_comparison_starts_with_a_null_level_and_ends_with_else():
    for spec in C.COMPARISONS:
        rows = [r for r in C.describe() if r["comparison"] == spec.name]
        assert rows[0]["gamma"] == -1 and rows[-1]["sql"] == "ELSE"
        gammas = [r["gamma"] for r in rows[1:]]
        assert gammas == sorted(gammas, reverse=True) and gammas[-1] == 0


def test_spark_dialect_resolves_placeholders():
    for spec in C.COMPARISONS:
        comp = spec.creator().get_comparison("spark")
        for level in comp.comparison_levels:
            assert "{" not in level.sql_condition
            assert "jaro_winkler_similarity" not in level.sql_condition
            assert "list_has_any" not in level.sql_condition


# ---- evidence beyond the names (clustering never links on names alone) ----------------------

def evidence(left: dict, right: dict) -> list[bool]:
    """has_evidence for (left, right) and (right, left), all comparisons in one query."""
    mf = match_frame(pd.DataFrame([dict(left, source_id="1"), dict(right, source_id="2")]))
    a, b = mf.iloc[0].to_dict(), mf.iloc[1].to_dict()
    pair = {f"{c}_l": [a[c], b[c]] for c in mf.columns} | {f"{c}_r": [b[c], a[c]] for c in mf.columns}
    table = pa.table({k: pa.array(v, type=_arrow_type(k)) for k, v in pair.items()})
    con = duckdb.connect()
    con.register("p", table)
    names = list(C.EVIDENCE_LEVELS)
    rows = con.execute(f"SELECT {', '.join(C.gamma_sql(n) for n in names)} FROM p").fetchall()
    con.close()
    gammas = {f"gamma_{n}": [row[k] for row in rows] for k, n in enumerate(names)}
    return C.has_evidence(gammas).tolist()


EVIDENCE = [
    # full-name namesakes: names (and gender, a postcode) agree, nothing else
    (record("Клюшниченко Игорь Леонидович", phones=["+79396987325"], qc_phone=0),
     record("Клюшниченко Игорь Леонидович", phones=["+79098108851"], qc_phone=0), False),
    (record("Сапрыкин Максим Игоревич"), record("Сапрыкин Максим Игоревич"), False),
    (record("Karin Nilsson", birth_date=D(1946, 10, 21), qc_birth_date=0),
     record("Karin Nilsson"), False),  # one birth date unknown
    (record("Иванов Иван", birth_date=D(1985, 3, 4), qc_birth_date=0),
     record("Иванов Иван", birth_date=D(1985, 3, 14), qc_birth_date=0), False),  # same month only
    (record("Петрова Анна", postcode="125009", qc_address=0),
     record("Петрова Анна", postcode="125009", qc_address=0), False),
    # one more fact agrees
    (record("Иванов Иван", birth_date=D(1985, 3, 4), qc_birth_date=0),
     record("Иванов Иван", birth_date=D(1985, 3, 4), qc_birth_date=0), True),
    (record("Иванов Иван", birth_date=D(1985, 3, 4), qc_birth_date=0),
     record("Иванов Иван", birth_date=D(1985, 4, 3), qc_birth_date=0), True),  # dd/mm swapped
    (record("Слюнин Артем", phones=["+79237997216"], qc_phone=0),
     record("Слюнин Артем Артемович", phones=["+79237997216"], qc_phone=0), True),
    (record("Marie Lefebvre", emails=["marie.lefebvre@orange.fr"], qc_email=0),
     record("Мари Лефевр", emails=["Marie.Lefebvre@orange.fr"], qc_email=0), True),
    (record("Smith John", national_id="1804974", national_id_type="other", qc_national_id=2),
     record("Smith Jon", national_id="1804974", national_id_type="other", qc_national_id=2), True),
    (record("Петров Иван", tax_id="774750787365", qc_tax_id=0),
     record("Петров Иван", tax_id="774750787365", qc_tax_id=0), True),
    (record("Петров Иван", tax_id="7705963204", qc_tax_id=0),
     record("Петров Иван", tax_id="7705963204", qc_tax_id=0), False),  # the employer's INN
    (record("Петров Иван", city="Москва", street="ул Зелёная", house="10", qc_address=0),
     record("Петров Иван", city="г Москва", street="Зеленая", house="д 10", qc_address=1), True),
]


@pytest.mark.parametrize("left, right, expected", EVIDENCE)
def test_evidence_beyond_the_names(left, right, expected):
    assert evidence(left, right) == [expected, expected]


def test_evidence_levels_exist_and_nulls_are_no_evidence():
    gammas = C.evidence_gammas()
    assert set(gammas) == set(C.EVIDENCE_LEVELS) and all(gammas.values())
    cols = {f"gamma_{n}": [-1, None] for n in gammas}
    assert C.has_evidence(cols).tolist() == [False, False]
    with pytest.raises(ValueError):
        C.has_evidence({})
