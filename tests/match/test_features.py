"""Match features: which cleansed values feed matching, and in what form."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipelines.cleanse.names import canonical_first_name, name_skeleton, transliterate
from pipelines.match import features as F


def cleansed(**fields) -> dict:
    """One cleansed record (columns of schema.CLEANSED_CUSTOMERS that matching reads).

    Names are given as display values ("Иванова", "Юлия") and turned into the *_lat, *_skel
    and canonical columns the way cleansing writes them.
    """
    row = {"source": "crm", "source_id": "1", "qc_name": 0}
    row.update(fields)
    row.setdefault("record_key", f"{row['source']}:{row['source_id']}")
    for part in ("last_name", "first_name", "middle_name"):
        value = row.get(part)
        if isinstance(value, str):
            row.setdefault(f"{part}_lat", transliterate(value))
            if part != "middle_name":
                row.setdefault(f"{part}_skel", name_skeleton(value))
    first = row.get("first_name")
    if isinstance(first, str) and "first_name_canonical_skel" not in row:
        row["first_name_canonical_skel"] = name_skeleton(canonical_first_name(first, row.get("gender")))
    return row


def frame(*rows: dict) -> pd.DataFrame:
    return pd.DataFrame([cleansed(**r) for r in rows])


def one(**fields) -> pd.Series:
    return F.match_frame(frame(fields)).iloc[0]


# ---- scalar helpers: tables written from the domain -----------------------------------------

SURNAME_STEMS = [
    ("ivanova", "ivanov"), ("ivanov", "ivanov"),
    ("vilcevskaia", "vilcevski"), ("vilcevski", "vilcevski"),
    ("tolstaia", "tolsti"), ("tolstoi", "tolsti"),
    ("kovalska", "kovalski"), ("kovalski", "kovalski"),
    ("karimova", "karimov"), ("puwkina", "puwkin"), ("puwkin", "puwkin"),
    ("lebedeva", "lebedev"), ("smit", "smit"), ("li", "li"), (None, None), ("", None),
]


@pytest.mark.parametrize("skel, stem", SURNAME_STEMS)
def test_surname_stem_folds_the_gender_ending(skel, stem):
    assert F.surname_stem(skel) == stem


PATRONYMIC_STEMS = [
    ("ivanovic", "ivan"), ("ivanovna", "ivan"), ("sergevic", "serg"), ("sergevna", "serg"),
    ("ilic", "il"), ("ilinicna", "il"), ("kuzmic", "kuzm"), ("nikiticna", "nikit"),
    ("ogli", "ogli"), (None, None),
]


@pytest.mark.parametrize("skel, stem", PATRONYMIC_STEMS)
def test_patronymic_stem_is_the_fathers_name(skel, stem):
    assert F.patronymic_stem(skel) == stem


SWAPS = [
    ("1985-03-04", "1985-04-03"), ("2001-12-01", "2001-01-12"), ("1990-05-05", None),
    ("1990-05-13", None), ("1990-02-31", None), ("1999-11-02", "1999-02-11"),
    ("not a date", None), (None, None),
]


@pytest.mark.parametrize("iso, swapped", SWAPS)
def test_swap_day_month(iso, swapped):
    assert F.swap_day_month(iso) == swapped


EMAIL_LOCALS = [
    ("ivan.petrov@mail.ru", "ivan.petrov"), ("Ivan.Petrov+shop@Gmail.com", "ivan.petrov"),
    ("anna@mail.ru", None), ("tigrenok70@ya.ru", "tigrenok70"), ("no-at-sign", None), (None, None),
]


@pytest.mark.parametrize("email, local", EMAIL_LOCALS)
def test_email_local_part(email, local):
    assert F.email_local_part(email) == local


ADDRESS_KEYS = [
    ("ул Зелёная", "zelenaya"), ("Зеленая", "zelenaya"), ("пр-кт Ленина", "lenina"),
    ("г Москва", "moskva"), ("Moskva", "moskva"), ("ул. 8 Марта", "8marta"), ("", None), (None, None),
]


@pytest.mark.parametrize("value, key", ADDRESS_KEYS)
def test_address_part_key_drops_types_and_script(value, key):
    assert F.address_part_key(value) == key


@pytest.mark.parametrize("value, key", [("д. 4/1", "41"), ("28В", "28v"), ("кв 12", "12"), ("5 к 2", "52")])
def test_house_key(value, key):
    assert F.house_key(value) == key


@pytest.mark.parametrize("value, expected", [
    ("А.", True), ("a", True), ("Ю", True), ("Юлия", False), ("Ян", False), (None, False), ("", False)])
def test_is_initial(value, expected):
    assert F.is_initial(value) is expected


@pytest.mark.parametrize("value, expected", [
    ("Нл", ("n", "l")), ("ИИ", ("i", "i")), ("A.K.", ("a", "k")), ("Ян", None), ("Ия", None),
    ("Анна", None), ("Ю", None)])
def test_initials_pair(value, expected):
    known_first, _ = F._known_names()
    assert F.initials_pair(value, known_first) == expected


# ---- match_frame: trusted values only -------------------------------------------------------

def test_columns_order_and_identity():
    mf = F.match_frame(frame({"source": "web", "source_id": "7", "first_name": "Анна"}))
    assert list(mf.columns) == list(F.MATCH_COLUMNS)
    assert mf.loc[0, "unique_id"] == "web:7" and mf.loc[0, "source_dataset"] == "web"


def test_names_are_lowercase_ascii():
    r = one(last_name="Иванова", first_name="Юлия", middle_name="Сергеевна", gender="F", qc_gender=0)
    assert r.last_name == "ivanova" and r.first_name == "yuliya" and r.middle_name == "sergeevna"
    assert r.last_name_skel == "ivanova" and r.last_name_stem == "ivanov"
    assert r.first_name_skel == "iulia" and r.middle_name_skel == "sergevna"
    assert r.middle_name_stem == "serg"
    for c in ("last_name", "first_name", "middle_name", "first_name_skel", "middle_name_skel"):
        assert r[c].isascii() and r[c] == r[c].lower()


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(max_size=30), min_size=3, max_size=3))
def test_name_columns_are_ascii_on_any_text(parts):
    last, first, middle = parts
    df = pd.DataFrame([{"source": "x", "source_id": "1", "qc_name": 0, "last_name": last,
                        "first_name": first, "middle_name": middle,
                        "last_name_lat": last, "first_name_lat": first, "middle_name_lat": middle}])
    r = F.match_frame(df).iloc[0]
    for c in ("last_name", "first_name", "middle_name", "last_name_skel", "first_name_skel",
              "middle_name_skel", "last_name_stem", "middle_name_stem"):
        v = r[c]
        assert v is None or (v.isascii() and v == v.lower()), (c, v)


def test_initials_are_not_names():
    r = one(last_name="Смирнов", first_name="А.", middle_name="В.")
    assert r.first_name is None and r.first_name_skel is None and r.first_initial == "a"
    assert r.middle_name is None and r.middle_initial == "v"


def test_run_together_initials_fill_first_and_middle_initial():
    r = one(last_name="Троцкая", first_name="Нл", first_name_lat="nl", first_name_skel="nl")
    assert r.first_name is None and r.first_initial == "n" and r.middle_initial == "l"


def test_known_name_flags():
    r = one(last_name="Иванов", first_name="Мария")
    assert bool(r.first_name_known) and bool(r.last_name_known)
    assert not bool(one(first_name="Констнатин").first_name_known)


def test_gender_only_when_not_read_from_the_first_name():
    assert one(gender="F", gender_source="patronymic", qc_gender=1).gender == "F"
    assert one(gender="F", gender_source="source", qc_gender=0).gender == "F"
    assert one(gender="F", gender_source="first_name", qc_gender=1).gender is None
    assert one(gender="F", gender_source="source", qc_gender=2).gender is None


def test_birth_date_forms_and_qc():
    r = one(birth_date=dt.date(1985, 3, 4), qc_birth_date=0)
    assert (r.dob, r.dob_swapped, r.birth_year, r.birth_ym, r.birth_md) == (
        "1985-03-04", "1985-04-03", "1985", "1985-03", "03-04")
    assert r.dob_days == (dt.date(1985, 3, 4) - dt.date(1970, 1, 1)).days
    # an implausible age (1908, a 1900-01-01 filler) is still what the source holds: evidence
    # when equal (term frequencies weigh fillers down), never a veto (cluster_records)
    assert one(birth_date=dt.date(1908, 4, 19), qc_birth_date=2).dob == "1908-04-19"
    assert one(birth_date=None, qc_birth_date=3).dob is None


def test_phones_valid_e164_distinct_and_never_empty():
    assert one(phones=["+79161234567", "+79161234567", "8916"], qc_phone=1).phones == ["+79161234567"]
    assert one(phones=[], qc_phone=1).phones is None
    assert one(phones=["+79300383878"], qc_phone=2).phones == ["+79300383878"]  # possibly valid
    assert one(phones=["+79999999999"], qc_phone=3).phones is None


def test_role_email_is_not_identity_evidence():
    assert one(emails=["info@lider.ru"], qc_email=2).email is None
    r = one(emails=["Ivan.Petrov@Mail.ru"], qc_email=0)
    assert r.email == "ivan.petrov@mail.ru" and r.email_local == "ivan.petrov"


def test_email_suggestion_kept_beside_the_raw_value():
    r = one(emails=["svetlana_b@yandez.ru"], email_suggestion="svetlana_b@yandex.ru", qc_email=1)
    assert r.email == "svetlana_b@yandez.ru" and r.email_suggestion == "svetlana_b@yandex.ru"


def test_company_inn_is_never_a_personal_id():
    assert one(tax_id="7705963204", qc_tax_id=0).personal_tax_id is None
    assert one(tax_id="774750787365", qc_tax_id=0).personal_tax_id == "774750787365"
    assert one(tax_id="774750787364", qc_tax_id=3).personal_tax_id is None


def test_national_id_odd_values_are_still_evidence():
    assert one(national_id="4526 244253", qc_national_id=0).national_id == "4526244253"
    assert one(national_id="9487909168", qc_national_id=2).national_id == "9487909168"
    assert one(national_id="123-45-6789", qc_national_id=2).national_id == "123456789"
    assert one(national_id="ab 12", qc_national_id=3).national_id is None


def test_address_keys():
    r = one(city="г Москва", street="ул Зелёная", house="д 10", flat="55", postcode="125109", qc_address=1)
    assert r.address_key == "moskva|zelenaya|10" and r.address_flat_key == "moskva|zelenaya|10|55"
    assert r.postcode == "125109"
    r = one(city="г Москва", street=None, house="10", qc_address=1)
    assert r.address_key is None and r.address_flat_key is None


def test_input_not_modified_and_missing_columns_tolerated():
    df = frame({"first_name": "Анна", "phones": ["+79161234567"], "qc_phone": 1})
    before = df.copy(deep=True)
    F.match_frame(df)
    pd.testing.assert_frame_equal(df, before)
    bare = pd.DataFrame({"source": ["x"], "source_id": ["1"]})
    mf = F.match_frame(bare)
    assert mf.loc[0, "unique_id"] == "x:1" and mf.loc[0, "phones"] is None


def test_empty_input():
    mf = F.match_frame(pd.DataFrame({"source": pd.Series([], dtype=object),
                                     "source_id": pd.Series([], dtype=object)}))
    assert list(mf.columns) == list(F.MATCH_COLUMNS) and len(mf) == 0


# ---- cluster_records ------------------------------------------------------------------------

def test_cluster_records_contract():
    df = frame(
        {"source_id": "1", "last_name": "Иванов", "first_name": "Саша", "gender": "M",
         "gender_source": "first_name", "qc_gender": 1, "birth_date": dt.date(1980, 1, 2),
         "qc_birth_date": 0, "national_id": "4526244253", "qc_national_id": 0},
        {"source_id": "2", "last_name": "Петрова", "first_name": "Анна", "middle_name": "Ивановна",
         "gender": "F", "gender_source": "patronymic", "qc_gender": 1,
         "birth_date": dt.date(1900, 1, 1), "qc_birth_date": 2, "tax_id": "7705963204", "qc_tax_id": 0},
    )
    cr = F.cluster_records(df)
    assert list(cr.columns) == list(F.CLUSTER_RECORD_COLUMNS)
    assert cr.loc[0, "gender"] is None          # read from the first name: never a veto
    assert cr.loc[1, "gender"] == "F"
    assert cr.loc[0, "birth_date"] == dt.date(1980, 1, 2) and cr.loc[1, "birth_date"] is None
    assert cr.loc[0, "national_id"] == "4526244253" and cr.loc[1, "personal_tax_id"] is None
    assert cr.loc[1, "middle_name_key"] == "ivanovna" and cr.loc[0, "first_name_key"] == "aleksandr"
    assert cr.loc[0, "id_key"] == ":4526244253" and cr.loc[1, "id_key"] is None


@pytest.mark.parametrize(("row", "gender", "birth", "national_id", "id_key"), [
    # an implausible age never vetoes but is kept for the identifier waiver
    ({"birth_date": dt.date(1909, 1, 4), "qc_birth_date": 2, "national_id": "4002060",
      "national_id_type": "other", "qc_national_id": 2}, None, None, None, "other:4002060"),
    # gender read from a first name is no veto (Чулпан, Ануш, Nikola are misread), the others are
    ({"first_name": "Чулпан", "gender": "M", "gender_source": "first_name", "qc_gender": 1},
     None, None, None, None),
    ({"first_name": "Nikola", "gender": "F", "gender_source": "first_name", "qc_gender": 1},
     None, None, None, None),
    ({"last_name": "Смирнова", "gender": "F", "gender_source": "surname", "qc_gender": 1}, "F", None, None, None),
    ({"middle_name": "Петровна", "gender": "F", "gender_source": "patronymic", "qc_gender": 1},
     "F", None, None, None),
    ({"gender": "M", "gender_source": "source", "qc_gender": 0}, "M", None, None, None),
    ({"gender": "M", "gender_source": "source", "qc_gender": 2}, None, None, None, None),
    # a qc 2 birth date is evidence in the match frame but never a veto
    ({"birth_date": dt.date(1908, 11, 28), "qc_birth_date": 2}, None, None, None, None),
    ({"birth_date": dt.date(1956, 4, 9), "qc_birth_date": 0}, None, dt.date(1956, 4, 9), None, None),
    # national ids: valid ones veto and waive; odd ones (qc 2) only waive
    ({"national_id": "4509 123456", "national_id_type": "passport_ru", "qc_national_id": 0},
     None, None, "4509123456", "passport_ru:4509123456"),
    ({"national_id": "1804974", "national_id_type": "other", "qc_national_id": 2},
     None, None, None, "other:1804974"),
    ({"national_id": "0000 000000", "national_id_type": "passport_ru", "qc_national_id": 3},
     None, None, None, None),
])
def test_cluster_records_trust_table(row, gender, birth, national_id, id_key):
    cr = F.cluster_records(frame({"source_id": "1", **row}))
    assert cr.loc[0, "gender"] == gender
    assert cr.loc[0, "birth_date"] == birth
    assert cr.loc[0, "national_id"] == national_id
    assert cr.loc[0, "id_key"] == id_key
    qc = row.get("qc_birth_date")
    assert cr.loc[0, "birth_date_any"] == (row.get("birth_date") if qc is not None and qc <= 2 else None)


def test_unisex_names_found_in_the_data():
    rows = [{"source_id": str(i), "first_name": "Мишель", "gender": g, "gender_source": "source",
             "qc_gender": 0} for i, g in enumerate("MMMFF")]
    assert "miwel" in F.unisex_first_names(frame(*rows))
    rows = [{"source_id": str(i), "first_name": "Пётр", "gender": "M", "gender_source": "source",
             "qc_gender": 0} for i in range(5)]
    assert "petr" not in F.unisex_first_names(frame(*rows))


@pytest.mark.parametrize(
    ("first_name", "expected_key"),
    [
        ("Анна", "ana"),              # a real name keeps its key: two real names can veto
        ("Марина", "marina"),
        ("Jessica", "esika"),
        ("Jesicca", "esika"),         # a typo with the skeleton of a real name
        ("Саша", "aleksandr"),        # diminutive: the canonical name is known
        ("Ксюзня", None),             # no table knows it: most likely a typo, never a veto
        ("Tktif", None),              # "Елена" typed in the wrong keyboard layout
    ],
)
def test_only_known_first_names_can_veto(first_name: str, expected_key: str | None) -> None:
    df = frame({"source_id": "1", "last_name": "Иванова", "first_name": first_name, "qc_name": 0})
    assert F.cluster_records(df).loc[0, "first_name_key"] == expected_key
