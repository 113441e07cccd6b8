"""Tax ids (INN) and national ids (SNILS, passport): table tests and properties.

INN check digits, computed by hand (digits d1..dn):
  10 digits: c = (2d1+4d2+10d3+3d4+5d5+9d6+4d7+6d8+8d9) mod 11 mod 10
  12 digits: c11 = (7d1+2d2+4d3+10d4+3d5+5d6+9d7+4d8+6d9+8d10) mod 11 mod 10,
             c12 = (3d1+7d2+2d3+4d4+10d5+3d6+5d7+9d8+4d9+6d10+8d11) mod 11 mod 10
SNILS: s = 9d1+8d2+...+1d9; check = s if s < 100; 00 if s in (100, 101); else s mod 101
(00 if that gives 100). The sums are written next to each row.
"""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipelines.cleanse.ids import (
    NATIONAL_ID_COLUMNS,
    TAX_ID_COLUMNS,
    clean_national_id,
    clean_national_ids,
    clean_tax_id,
    clean_tax_ids,
    inn_is_valid,
    snils_is_valid,
)

# (raw, tax_id, qc, issues)
TAX_IDS = [
    # real legal-entity INNs: weighted sum -> mod 11 -> check digit
    ("7707083893", "7707083893", 0, None),  # Сбербанк: 267 -> 3 -> 3
    ("7736050003", "7736050003", 0, None),  # Газпром: 135 -> 3 -> 3
    ("7706107510", "7706107510", 0, None),  # Роснефть: 131 -> 10 -> 0
    ("7708004767", "7708004767", 0, None),  # Лукойл: 172 -> 7 -> 7
    ("7736207543", "7736207543", 0, None),  # Яндекс: 190 -> 3 -> 3
    ("7740000076", "7740000076", 0, None),  # МТС: 138 -> 6 -> 6 (many zeros, still real)
    ("7812014560", "7812014560", 0, None),  # МегаФон: 165 -> 0 -> 0
    ("2310031475", "2310031475", 0, None),  # Тандер (Краснодар): 137 -> 5 -> 5
    ("8401005730", "8401005730", 0, None),  # Норникель (Красноярский край): 121 -> 0 -> 0
    ("6320002223", "6320002223", 0, None),  # АвтоВАЗ: 80 -> 3 -> 3
    ("0274062111", "0274062111", 0, None),  # Башкортостан, leading zero: 166 -> 1 -> 1
    # individual (12 digits): n11 sum -> c11; n12 sum -> c12
    ("500100732259", "500100732259", 0, None),  # 148 -> 5; 141 -> 9
    ("772901234570", "772901234570", 0, None),  # 260 -> 7; 252 -> 10 -> 0
    ("540317654322", "540317654322", 0, None),  # 233 -> 2; 211 -> 2
    ("010506731234", "010506731234", 0, None),  # Адыгея, leading zero: 179 -> 3; 147 -> 4
    ("027813594684", "027813594684", 0, None),  # Башкортостан: 283 -> 8; 301 -> 4
    # standardised spellings
    ("ИНН 7707083893", "7707083893", 1, ["tax_id:reformatted"]),
    ("инн: 7736207543", "7736207543", 1, ["tax_id:reformatted"]),
    ("INN 7708004767", "7708004767", 1, ["tax_id:reformatted"]),
    ("7707 083 893", "7707083893", 1, ["tax_id:reformatted"]),
    ("77-08-503727", "7708503727", 1, ["tax_id:reformatted"]),  # РЖД: 161 -> 7 -> 7
    ("5001 0073 2259", "500100732259", 1, ["tax_id:reformatted"]),
    ("７７０７０８３８９３", "7707083893", 1, ["tax_id:reformatted"]),  # fullwidth digits
    ("7713076301.0", "7713076301", 1, ["tax_id:reformatted"]),  # Excel float; ВымпелКом: 166 -> 1
    ("7.707083893E+09", "7707083893", 1, ["tax_id:reformatted"]),  # Excel scientific
    ("ИНН/КПП 7707083893/773601001", "7707083893", 1, ["tax_id:reformatted", "tax_id:kpp_removed"]),
    ("7702070139 / 770201001", "7702070139", 1, ["tax_id:reformatted", "tax_id:kpp_removed"]),  # ВТБ: 141 -> 9
    ("RU7728168971", "7728168971", 1, ["tax_id:reformatted"]),  # Альфа-Банк: 287 -> 1 -> 1
    # a lost leading zero restored only when the padded value passes the checksum
    ("274062111", "0274062111", 1, ["tax_id:zero_restored"]),
    ("10506731234", "010506731234", 1, ["tax_id:zero_restored"]),
    ("010123456752", "010123456752", 2, ["tax_id:placeholder"]),  # 181 -> 5; 211 -> 2, serial a digit run
    ("56098761210", "056098761210", 1, ["tax_id:zero_restored"]),  # 210 -> 1; 274 -> 10 -> 0
    # placeholders with a valid checksum: kept, flagged
    ("7700000009", "7700000009", 2, ["tax_id:placeholder"]),  # 2*7+4*7 = 42 -> 9 -> 9
    ("1234567894", "1234567894", 2, ["tax_id:placeholder"]),  # 279 -> 4 -> 4
    # foreign ids kept as given (compacted), unverified
    ("DE123456789", "DE123456789", 2, ["tax_id:unverified_format"]),
    ("GB 123 4567 89", "GB123456789", 2, ["tax_id:unverified_format"]),
    ("FR40303265045", "FR40303265045", 2, ["tax_id:unverified_format"]),
    ("ATU12345678", "ATU12345678", 2, ["tax_id:unverified_format"]),
    ("12-3456789", "12-3456789", 2, ["tax_id:unverified_format"]),  # US EIN shape
    # invalid
    ("7707083894", None, 3, ["tax_id:bad_checksum"]),  # Сбербанк with a typo in the check digit
    ("7707038893", None, 3, ["tax_id:bad_checksum"]),  # two digits swapped: 267 -> 222 -> 2
    ("0411005343", None, 3, ["tax_id:bad_checksum"]),  # 99 -> 0 -> 0, not 3
    ("500100732258", None, 3, ["tax_id:bad_checksum"]),
    ("770708389", None, 3, ["tax_id:wrong_length"]),  # 9 digits, padded 0770708389 fails
    ("77070838931", None, 3, ["tax_id:wrong_length"]),
    ("12345", None, 3, ["tax_id:wrong_length"]),
    ("0000000000", None, 3, ["tax_id:placeholder"]),  # checksum 0 holds, region 00 does not exist
    ("0012345678", None, 3, ["tax_id:bad_checksum"]),
    ("нет", None, 3, ["tax_id:not_a_number"]),
    ("7707O83893", None, 3, ["tax_id:not_a_number"]),  # letter O for a zero
    ("=cmd|' /C calc'!A0", None, 3, ["tax_id:not_a_number"]),
]


@pytest.mark.parametrize(("raw", "tax_id", "qc", "issues"), TAX_IDS)
def test_clean_tax_id_table(raw: str, tax_id: str | None, qc: int, issues: list[str] | None) -> None:
    assert clean_tax_id(raw) == {"tax_id": tax_id, "qc_tax_id": qc, "tax_id_issues": issues}


@pytest.mark.parametrize("inn", ["7707083893", "500100732259", "780234567839", "668501293438",
                                 "246512309812", "165843219029", "910205432122"])
def test_inn_is_valid_accepts_hand_computed(inn: str) -> None:
    # 780234567839: 289 -> 3; 306 -> 9. 668501293438: 245 -> 3; 250 -> 8.
    # 246512309812: 254 -> 1; 189 -> 2. 165843219029: 222 -> 2; 207 -> 9.
    # 910205432122: 178 -> 2; 134 -> 2.
    assert inn_is_valid(inn)


@pytest.mark.parametrize("inn", ["7707083892", "780234567838", "780234567849", "77070838", "", "abcdefghij"])
def test_inn_is_valid_rejects(inn: str) -> None:
    assert not inn_is_valid(inn)


# (raw, national_id, type, qc, issues)
NATIONAL_IDS = [
    ("112-233-445 95", "11223344595", "snils", 0, None),  # 9+8+14+12+15+12+12+8+5 = 95
    ("11223344595", "11223344595", "snils", 0, None),
    ("156-234-987 83", "15623498783", "snils", 0, None),  # 184 -> 184 mod 101 = 83
    ("145-728-396-92", "14572839692", "snils", 0, None),  # 193 -> 92, dash before the check
    ("087-654-303 00", "08765430300", "snils", 0, None),  # 202 -> 202 mod 101 = 0
    ("402-102-488 00", "40210248800", "snils", 0, None),  # sum exactly 100 -> 00
    ("141-141-702 00", "14114170200", "snils", 0, None),  # sum exactly 101 -> 00
    ("200-300-400 48", "20030040048", "snils", 0, None),  # 18+0+0+18+0+0+12+0+0 = 48
    ("017 329 468 52", "01732946852", "snils", 1, ["national_id:reformatted"]),  # 153 -> 52
    ("СНИЛС 134-679-258 91", "13467925891", "snils", 1, ["national_id:reformatted"]),  # 192 -> 91
    ("снилс: 048-215-937 64", "04821593764", "snils", 1, ["national_id:reformatted"]),  # 165 -> 64
    ("112-233-445 96", None, None, 3, ["national_id:bad_checksum"]),
    ("156-234-978 83", None, None, 3, ["national_id:bad_checksum"]),  # two digits swapped
    ("123-456-789 64", "12345678964", "snils", 2, ["national_id:placeholder"]),  # valid sum 165 -> 64, a run
    ("001-001-001 01", "00100100101", "snils", 2, ["national_id:unverifiable_checksum"]),  # pre-checksum range
    ("000-000-000 00", None, None, 3, ["national_id:placeholder"]),
    ("СНИЛС 112-233-445", None, None, 3, ["national_id:wrong_length"]),
    # Russian passports: 2 digits region (OKATO) + 2 digits year of the blank + 6 digits number
    ("4510 123456", "4510123456", "passport_ru", 0, None),  # Москва, 2010
    ("45 10 123456", "4510123456", "passport_ru", 0, None),
    ("4010987654", "4010987654", "passport_ru", 0, None),  # Санкт-Петербург
    ("4603 554433", "4603554433", "passport_ru", 0, None),  # Московская обл., 2003
    ("6599 001122", "6599001122", "passport_ru", 0, None),  # Свердловская обл., 1999
    ("4512-654321", "4512654321", "passport_ru", 1, ["national_id:reformatted"]),
    ("паспорт 45 10 № 123456", "4510123456", "passport_ru", 1, ["national_id:reformatted"]),
    ("Паспорт РФ серия 4515 номер 778899", "4515778899", "passport_ru", 1, ["national_id:reformatted"]),
    ("4510 123456 выдан ОВД района Тверской г. Москвы 01.02.2010", "4510123456", "passport_ru", 1,
     ["national_id:reformatted"]),
    ("паспорт 4510 123456 ОВД Тверской", "4510123456", "passport_ru", 1,
     ["national_id:reformatted", "national_id:extra_text_removed"]),
    ("4550 123456", "4550123456", "passport_ru", 2, ["national_id:implausible_series"]),  # year 50
    ("0000 000000", None, None, 3, ["national_id:placeholder"]),
    ("1111 111111", "1111111111", "passport_ru", 2, ["national_id:placeholder"]),
    ("4510 000000", "4510000000", "passport_ru", 2, ["national_id:placeholder"]),
    # foreign and other documents: kept, unverified
    ("C01X00T47", "C01X00T47", "other", 2, ["national_id:unverified_format"]),  # German ID card
    ("AB 1234567", "AB1234567", "other", 2, ["national_id:unverified_format"]),
    ("загранпаспорт 75 1234567", "751234567", "other", 2, ["national_id:unverified_format"]),
    ("II-МЮ 654321", "IIМЮ654321", "other", 2, ["national_id:unverified_format"]),  # birth certificate
    ("нет", None, None, 3, ["national_id:not_an_id"]),
    ("не выдан", None, None, 3, ["national_id:not_an_id"]),
    ("=cmd|' /C calc'!A0", None, None, 3, ["national_id:not_an_id"]),
]


@pytest.mark.parametrize(("raw", "national_id", "kind", "qc", "issues"), NATIONAL_IDS)
def test_clean_national_id_table(raw: str, national_id: str | None, kind: str | None, qc: int,
                                 issues: list[str] | None) -> None:
    assert clean_national_id(raw) == {"national_id": national_id, "national_id_type": kind,
                                      "qc_national_id": qc, "national_id_issues": issues}


def test_bare_numbers_are_russian_only_by_default_country() -> None:
    assert clean_national_id("4510123456", "KZ")["national_id_type"] == "other"
    assert clean_national_id("11223344595", "DE")["national_id_type"] == "other"
    assert clean_national_id("СНИЛС 112-233-445 95", "DE")["national_id_type"] == "snils"
    assert clean_national_id("паспорт 4510 123456", "US")["national_id_type"] == "passport_ru"


@pytest.mark.parametrize("snils", ["11223344595", "40210248800", "00100100101", "00000000000"])
def test_snils_is_valid(snils: str) -> None:
    assert snils_is_valid(snils)


def test_vectorised_columns_index_and_blanks() -> None:
    values = pd.Series(["7707083893", None, "  ", "ИНН 7707083893", "bad"], index=[10, 11, 12, 13, 14], dtype=object)
    out = clean_tax_ids(values)
    assert list(out.columns) == TAX_ID_COLUMNS
    assert list(out.index) == [10, 11, 12, 13, 14]
    assert str(out["qc_tax_id"].dtype) == "Int8"
    assert out["tax_id"].iloc[0] == "7707083893" and pd.isna(out["tax_id"].iloc[1])
    assert out["qc_tax_id"].isna().tolist() == [False, True, True, False, False]
    national = clean_national_ids(pd.Series([None, "4510 123456"], dtype=object))
    assert list(national.columns) == NATIONAL_ID_COLUMNS
    assert national.iloc[0].isna().all()
    empty = clean_national_ids(pd.Series([], dtype=object))
    assert list(empty.columns) == NATIONAL_ID_COLUMNS and len(empty) == 0


# --------------------------------------------------------------------------- properties

_ID_TEXT = st.one_of(
    st.text(max_size=40),
    st.from_regex(r"(ИНН |INN |RU)?\d{2}[ -]?\d{2}[ -]?\d{5,8}", fullmatch=True),
    st.from_regex(r"\d{3}-\d{3}-\d{3} \d{2}", fullmatch=True),
    st.from_regex(r"(паспорт )?\d{2} ?\d{2} \d{6}", fullmatch=True),
    st.from_regex(r"[A-Z]{2}[0-9A-Z]{6,12}", fullmatch=True),
    st.from_regex(r"[0-9]{9,12}", fullmatch=True),
    st.from_regex(r"(77|50|00)[0-9]{8}|[0-9]00000000[0-9]{1,3}|[0-9]{4}0{6}", fullmatch=True),
    st.sampled_from(["=cmd|' /C calc'!A0", "\x00\x01\x02", "7" * 100_000, "ИНН\u00a07707083893", "١٢٣٤٥٦٧٨٩٠",
                     "７７０７０８３８９３", "0000000000", "00000000000", "1234567894", "12345678964"]),
)


@settings(max_examples=300, deadline=None)
@given(_ID_TEXT)
def test_tax_id_never_raises_and_is_idempotent(raw: str) -> None:
    first = clean_tax_id(raw)
    if first["tax_id"] is None:
        return
    second = clean_tax_id(first["tax_id"])
    assert second["tax_id"] == first["tax_id"]
    # suspicious values stay suspicious; everything else is valid once clean
    assert second["qc_tax_id"] == (2 if first["qc_tax_id"] == 2 else 0)


@settings(max_examples=300, deadline=None)
@given(_ID_TEXT, st.sampled_from(["RU", "KZ", "DE"]))
def test_national_id_never_raises_and_is_idempotent(raw: str, country: str) -> None:
    first = clean_national_id(raw, country)
    if first["national_id"] is None:
        return
    second = clean_national_id(first["national_id"], country)
    assert second["national_id"] == first["national_id"]
    assert second["national_id_type"] == first["national_id_type"]
    assert second["qc_national_id"] == (2 if first["qc_national_id"] == 2 else 0)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.one_of(st.none(), _ID_TEXT), max_size=20))
def test_vectorised_agrees_with_scalar(values: list[str | None]) -> None:
    series = pd.Series(values, dtype=object)
    tax = clean_tax_ids(series)
    national = clean_national_ids(series)
    for i, raw in enumerate(values):
        blank = raw is None or not raw.strip()
        expected_tax = clean_tax_id(raw.strip()) if not blank else dict.fromkeys(TAX_ID_COLUMNS)
        expected_nat = clean_national_id(raw.strip()) if not blank else dict.fromkeys(NATIONAL_ID_COLUMNS)
        got_tax = {k: (None if pd.isna(v) else v) if not isinstance(v, list) else v for k, v in tax.iloc[i].items()}
        got_nat = {k: (None if pd.isna(v) else v) if not isinstance(v, list) else v
                   for k, v in national.iloc[i].items()}
        assert got_tax == expected_tax
        assert got_nat == expected_nat
