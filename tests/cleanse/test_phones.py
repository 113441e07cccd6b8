"""Phones: table cases written by hand from real Russian and foreign exports, plus properties."""

from __future__ import annotations

import numpy as np
import pandas as pd
import phonenumbers
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipelines.cleanse import phones as P
from pipelines.cleanse.phones import PHONE_COLUMNS, clean_phone, clean_phones

R = "phone:reformatted"

# (raw, default country, phone, phones, type, ext, country, qc, issues)
CASES = [
    # Russian mobiles in every usual shape
    ("+79161112233", "RU", "+79161112233", None, "mobile", None, "RU", 0, None),
    (" +79161112233 ", "RU", "+79161112233", None, "mobile", None, "RU", 1, [R]),
    ("8 (916) 111-22-33", "RU", "+79161112233", None, "mobile", None, "RU", 1, [R]),
    ("+7 916 1112233", "RU", "+79161112233", None, "mobile", None, "RU", 1, [R]),
    ("9161112233", "RU", "+79161112233", None, "mobile", None, "RU", 1, [R]),
    ("7 916 111 22 33", "RU", "+79161112233", None, "mobile", None, "RU", 1, [R]),
    ("8-916-111-22-33", "RU", "+79161112233", None, "mobile", None, "RU", 1, [R]),
    ("8(916)1112233", "RU", "+79161112233", None, "mobile", None, "RU", 1, [R]),
    ("+7 (926) 555-01-02", "RU", "+79265550102", None, "mobile", None, "RU", 1, [R]),
    # Russian landlines, extensions
    ("8 (495) 223-45-67", "RU", "+74952234567", None, "fixed", None, "RU", 1, [R]),
    ("(495) 223-45-67 внутр 2", "RU", "+74952234567", None, "fixed", "2", "RU", 1,
     [R, "phone:extension"]),
    ("8 (495) 223-45-67 доб. 123", "RU", "+74952234567", None, "fixed", "123", "RU", 1,
     [R, "phone:extension"]),
    ("+7 916 111-22-33 ext. 12", "RU", "+79161112233", None, "mobile", "12", "RU", 1,
     [R, "phone:extension"]),
    ("+79161112233 доб 7", "RU", "+79161112233", None, "mobile", "7", "RU", 1,
     [R, "phone:extension"]),
    ("8 (812) 315-27-48, доб. 305", "RU", "+78123152748", None, "fixed", "305", "RU", 1,
     [R, "phone:extension"]),
    # several numbers in one cell: all kept, first valid one primary
    ("8 916 111-22-33, 8 (495) 223-45-67", "RU", "+79161112233", ["+79161112233", "+74952234567"],
     "mobile", None, "RU", 1, [R, "phone:several_numbers"]),
    ("8 916 111 22 33 8 495 223 45 67", "RU", "+79161112233", ["+79161112233", "+74952234567"],
     "mobile", None, "RU", 1, [R, "phone:several_numbers"]),
    ("8-495-223-45-67\n8-916-111-22-33", "RU", "+74952234567", ["+74952234567", "+79161112233"],
     "fixed", None, "RU", 1, [R, "phone:several_numbers"]),
    ("+7 916 111 22 33; +7 916 111 22 33", "RU", "+79161112233", None, "mobile", None, "RU", 1, [R]),
    ("12345, 8 (916) 111-22-33", "RU", "+79161112233", None, "mobile", None, "RU", 1,
     [R, "phone:partly_invalid"]),
    # trailing words: PhoneNumberMatcher's pass
    ("тел. 8 916 111-22-33 (Иван)", "RU", "+79161112233", None, "mobile", None, "RU", 1, [R]),
    ("моб 89161112233 звонить после 18", "RU", "+79161112233", None, "mobile", None, "RU", 1, [R]),
    # international prefixes written from Russia
    ("810 44 20 7946 0958", "RU", "+442079460958", None, "fixed", None, "GB", 1, [R, "phone:foreign"]),
    ("00 49 30 901820", "RU", "+4930901820", None, "fixed", None, "DE", 1, [R, "phone:foreign"]),
    ("+44 20 7946 0958", "RU", "+442079460958", None, "fixed", None, "GB", 1, [R, "phone:foreign"]),
    ("+442079460958", "RU", "+442079460958", None, "fixed", None, "GB", 0, ["phone:foreign"]),
    # +7 is shared with Kazakhstan
    ("8 701 311 22 33", "RU", "+77013112233", None, "mobile", None, "KZ", 1, [R, "phone:foreign"]),
    ("+7 727 258 30 00", "RU", "+77272583000", None, "fixed", None, "KZ", 1, [R, "phone:foreign"]),
    ("8 (727) 258-30-00", "KZ", "+77272583000", None, "fixed", None, "KZ", 1, [R]),
    # Belarus, Ukraine, UK, Germany, USA with their own default country
    ("+375 29 315-27-48", "RU", "+375293152748", None, "mobile", None, "BY", 1, [R, "phone:foreign"]),
    ("8 029 315 27 48", "BY", "+375293152748", None, "mobile", None, "BY", 1, [R]),
    # phonenumbers alone would strip the 8 after +375 and read a different number back
    ("+3758101234565", "BY", "+3758101234565", None, "premium", None, "BY", 2, ["phone:premium_rate"]),
    ("+3758110345675", "BY", "+3758110345675", None, None, None, "BY", 2, ["phone:possibly_valid"]),
    ("+380 44 279 15 80", "RU", "+380442791580", None, "fixed", None, "UA", 1, [R, "phone:foreign"]),
    ("050 318 24 76", "UA", "+380503182476", None, "mobile", None, "UA", 1, [R]),
    ("020 7946 0958", "GB", "+442079460958", None, "fixed", None, "GB", 1, [R]),
    ("07400 314159", "GB", "+447400314159", None, "mobile", None, "GB", 1, [R]),
    # Ofcom's range for drama (07700 900xxx) is not a real range: only possibly valid
    ("07700 900123", "GB", "+447700900123", None, None, None, None, 2, [R, "phone:possibly_valid"]),
    ("+44 20 7946 0958 ext 123", "GB", "+442079460958", None, "fixed", "123", "GB", 1,
     [R, "phone:extension"]),
    ("030 901820", "DE", "+4930901820", None, "fixed", None, "DE", 1, [R]),
    ("0151 28374659", "DE", "+4915128374659", None, "mobile", None, "DE", 1, [R]),
    ("(650) 253-0000", "US", "+16502530000", None, "fixed_or_mobile", None, "US", 1, [R]),
    ("1-650-253-0000", "US", "+16502530000", None, "fixed_or_mobile", None, "US", 1, [R]),
    ("+1 650 253 0000 x 42", "RU", "+16502530000", None, "fixed_or_mobile", "42", "US", 1,
     [R, "phone:extension", "phone:foreign"]),
    # valid, but not a person's line: kept, flagged
    ("8-800-555-35-35", "RU", "+78005553535", None, "toll_free", None, "RU", 2, [R, "phone:toll_free"]),
    ("8 809 505 55 58", "RU", "+78095055558", None, "premium", None, "RU", 2, [R, "phone:premium_rate"]),
    ("+1 800 642 7676", "US", "+18006427676", None, "toll_free", None, "US", 2, [R, "phone:toll_free"]),
    # classic filler subscriber numbers: kept, flagged
    ("8 (916) 123-45-67", "RU", "+79161234567", None, "mobile", None, "RU", 2, [R, "phone:suspicious_pattern"]),
    ("8 (495) 765-43-21", "RU", "+74957654321", None, "fixed", None, "RU", 2, [R, "phone:suspicious_pattern"]),
    # common slips
    ("+8 916 111 22 33", "RU", "+79161112233", None, "mobile", None, "RU", 1, [R, "phone:wrong_prefix"]),
    ("+9161112233", "RU", "+79161112233", None, "mobile", None, "RU", 1, [R, "phone:wrong_prefix"]),
    ("８ ９１６ １１１ ２２ ３３", "RU", "+79161112233", None, "mobile", None, "RU", 1, [R]),
]

# (raw, default country, expected issue) — nothing usable: qc 3, every value null
REJECTED = [
    ("89999999999", "RU", "phone:junk_pattern"),  # phonenumbers calls it valid
    ("+7 (999) 999-99-99", "RU", "phone:junk_pattern"),
    ("8 (916) 111-11-11", "RU", "phone:junk_pattern"),
    ("+7 (495) 000-00-00", "RU", "phone:junk_pattern"),
    ("1111111", "RU", "phone:junk_pattern"),
    ("123456", "RU", "phone:junk_pattern"),
    ("0000000", "RU", "phone:junk_pattern"),
    ("1234567", "RU", "phone:junk_pattern"),
    ("1234567890", "US", "phone:junk_pattern"),
    ("111-11-11", "RU", "phone:junk_pattern"),
    ("8 916 111 22 3", "RU", "phone:too_short"),  # a digit missing, not a 891x number
    ("+7 916 111 22 3", "RU", "phone:too_short"),
    ("22-33", "RU", "phone:too_short"),
    ("0207946095", "RU", "phone:invalid"),  # no Russian number starts with 0
    ("8 (916) 111-22-33-44-55-66-77", "RU", "phone:too_long"),
    ("+7 (916) 111-22-33-44", "RU", "phone:invalid"),  # 12 digits: between 10 and 14
    ("нет", "RU", "phone:no_number"),
    ("-", "RU", "phone:no_number"),
    ("не указан", "RU", "phone:no_number"),
    ("=cmd|' /C calc'!A0", "RU", "phone:too_short"),
]


def _norm(value):
    """pandas missing values (NaN, NA) as None, numpy ints as int."""
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return None
    if hasattr(value, "item") and not isinstance(value, (list, str)):
        return value.item()
    return value


def _row(frame: pd.DataFrame, i: int) -> dict:
    return {c: _norm(frame[c].iloc[i]) for c in PHONE_COLUMNS}


@pytest.mark.parametrize(("raw", "country", "phone", "phones", "kind", "ext", "region", "qc", "issues"), CASES)
def test_table(raw, country, phone, phones, kind, ext, region, qc, issues):
    out = clean_phone(raw, country)
    assert out == {
        "phone": phone,
        "phones": phones or [phone],
        "phone_type": kind,
        "phone_ext": ext,
        "phone_country": region,
        "qc_phone": qc,
        "phone_issues": issues,
    }


@pytest.mark.parametrize(("raw", "country", "issue"), REJECTED)
def test_rejected(raw, country, issue):
    out = clean_phone(raw, country)
    assert out == {**{c: None for c in PHONE_COLUMNS}, "qc_phone": 3, "phone_issues": [issue]}


@pytest.mark.parametrize("raw", [None, "", "   ", "\t\n", float("nan"), pd.NA])
def test_blank_is_all_null(raw):
    assert clean_phone(raw, "RU") == {c: None for c in PHONE_COLUMNS}


def test_unknown_default_country():
    with pytest.raises(ValueError):
        clean_phone("8 916 111 22 33", "XX")
    with pytest.raises(ValueError):
        clean_phones(pd.Series(["1"], dtype=object), "XX")


def test_no_geocoder_facts():
    """Carrier, city and time zone are not facts for Russian mobiles: no such columns."""
    assert set(clean_phone("+79161112233", "RU")) == set(PHONE_COLUMNS)


def test_vectorised_table_and_index():
    raws = [c[0] for c in CASES if c[1] == "RU"] + [r[0] for r in REJECTED if r[1] == "RU"]
    raws += [None, "", "  "]
    values = pd.Series(raws + raws[:5], index=range(100, 100 + len(raws) + 5), dtype=object)
    frame = clean_phones(values, "RU")
    assert list(frame.columns) == PHONE_COLUMNS
    assert frame.index.equals(values.index)
    assert str(frame["qc_phone"].dtype) == "Int8"
    for i, raw in enumerate(values.tolist()):
        assert _row(frame, i) == clean_phone(raw, "RU"), raw


def test_vectorised_empty():
    frame = clean_phones(pd.Series([], dtype=object))
    assert list(frame.columns) == PHONE_COLUMNS and len(frame) == 0
    frame = clean_phones(pd.Series([None, None], dtype=object))
    assert frame["qc_phone"].isna().all() and frame["phone"].isna().all()


def test_input_not_mutated():
    values = pd.Series([" 8 916 111 22 33 ", None], dtype=object)
    before = values.copy()
    clean_phones(values)
    assert values.equals(before)


# --------------------------------------------------------------------------------------
# Properties
# --------------------------------------------------------------------------------------

REGIONS = ["RU", "KZ", "BY", "UA", "DE", "GB", "US", "FR", "IT", "CN", "IN", "BR", "AR", "MX", "JP",
           "CA", "UZ", "AM", "GE", "IL", "PL", "TR", "AU", "FI"]
TYPES = [phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE,
         phonenumbers.PhoneNumberType.TOLL_FREE, phonenumbers.PhoneNumberType.PREMIUM_RATE]
EXAMPLES = [
    (region, number)
    for region in REGIONS
    for kind in TYPES
    if (number := phonenumbers.example_number_for_type(region, kind)) is not None
]


@st.composite
def dialled(draw):
    """(has_plus, digits, default region): example numbers, mutated, in every dialling form."""
    region, number = draw(st.sampled_from(EXAMPLES))
    nsn = list(phonenumbers.national_significant_number(number))
    for _ in range(draw(st.integers(0, 3))):
        nsn[draw(st.integers(0, len(nsn) - 1))] = draw(st.sampled_from("0123456789"))
    nsn = "".join(nsn)
    nsn = draw(st.sampled_from([nsn, nsn[:-1], nsn + "5", nsn[:-2]]))
    meta = phonenumbers.PhoneMetadata.metadata_for_region(region)
    cc = str(number.country_code)
    form = draw(st.sampled_from(["plus", "national", "idd", "cc", "bare", "00", "plus_national"]))
    has_plus, digits = {
        "plus": (True, cc + nsn),
        "national": (False, (meta.national_prefix or "") + nsn),
        "idd": (False, "810" + cc + nsn),
        "cc": (False, cc + nsn),
        "bare": (False, nsn),
        "00": (False, "00" + cc + nsn),
        "plus_national": (True, (meta.national_prefix or "") + nsn),
    }[form]
    return has_plus, digits, draw(st.sampled_from(REGIONS))


random_digits = st.tuples(st.booleans(), st.text("0123456789", min_size=5, max_size=18), st.sampled_from(REGIONS))


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(dialled(), random_digits))
def test_fast_path_agrees_with_phonenumbers(case):
    has_plus, digits, region = case
    fast = P._fast_parse(has_plus, digits, region)
    if fast is not None:
        assert fast == P._slow_parse(has_plus, digits, region)


def test_fast_path_covers_plain_numbers():
    """The fast path must answer the common shapes, or it is no fast path."""
    for has_plus, digits in [(False, "89161112233"), (True, "79161112233"), (False, "9161112233"),
                             (False, "74952234567"), (True, "442079460958"), (False, "81044207946095")]:
        assert P._fast_parse(has_plus, digits, "RU") is not None, digits


def _formatted(case) -> str:
    has_plus, digits, _ = case
    groups = [digits[i:i + 3] for i in range(0, len(digits), 3)]
    return ("+" if has_plus else "") + " ".join(groups)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(dialled(), random_digits), min_size=1, max_size=30), st.sampled_from(REGIONS))
def test_vectorised_agrees_with_scalar(cases, region):
    raws = [_formatted(c) for c in cases] + [c[1] for c in cases]
    frame = clean_phones(pd.Series(raws, dtype=object), region)
    for i, raw in enumerate(raws):
        assert _row(frame, i) == clean_phone(raw, region), raw


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(dialled(), random_digits))
def test_idempotent(case):
    region = case[2]
    first = clean_phone(_formatted(case), region)
    if first["phone"] is None:
        return
    again = clean_phone(first["phone"], region)
    assert again["phone"] == first["phone"]
    assert again["phone_type"] == first["phone_type"]
    assert again["phone_country"] == first["phone_country"]
    assert again["qc_phone"] == (2 if first["qc_phone"] == 2 else 0)


junk = st.one_of(
    st.text(max_size=300),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=60),
    st.text(alphabet="0123456789 +-()#.,;/xдоб\n\t\x00\x1b\u200b\u00a0٣", max_size=80),
    st.binary(max_size=200).map(lambda b: b.decode("latin-1")),
    st.sampled_from([
        "=cmd|' /C calc'!A0", "+7" * 5000, "8" * 100_000, "доб." * 300, "@SUM(1+1)*cmd|' /C calc'!A0",
        "\x00\x01\x02", "８８８", "+", "++7 916", "(((", "8 (916) 111-22-33" * 60, "\ud800 8 916",
    ]),
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(junk, st.sampled_from(["RU", "US", "DE"]))
def test_never_raises(raw, region):
    out = clean_phone(raw, region)
    assert set(out) == set(PHONE_COLUMNS)
    assert out["qc_phone"] in (None, 0, 1, 2, 3)
    if out["phone"] is not None:
        assert out["phone"].startswith("+") and out["phone"][1:].isdigit()
        assert out["phones"][0] == out["phone"] and len(set(out["phones"])) == len(out["phones"])
        assert out["qc_phone"] != 3
    else:
        assert out["phones"] is None


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(junk, max_size=20))
def test_vectorised_never_raises_and_agrees(raws):
    frame = clean_phones(pd.Series(raws, dtype=object), "RU")
    assert len(frame) == len(raws)
    for i, raw in enumerate(raws):
        assert _row(frame, i) == clean_phone(raw, "RU")


def test_plain_numbers_take_the_array_path():
    """Plain numbers of the default country code must not fall back to the scalar path."""
    texts = ["8 (916) 111-22-33", "+7 916 111 22 33", "9161112233", "8-800-555-35-35", "89999999999",
             "8 916 111 22 3", "+7 727 258 30 00"]
    columns = {c: np.full(len(texts) + 1, None, dtype=object) for c in PHONE_COLUMNS}
    done = P._hot_rows(texts, np.ones(len(texts), dtype=bool), np.arange(len(texts)), "RU", columns)
    assert done.all()
