"""Masked golden customers: phone, e-mail, id and birth-date masks, schema, idempotence, and
properties: no original phone digit run longer than 4, no local part longer than 1 character."""

from __future__ import annotations

import datetime as dt
import re

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from phonenumbers.phonenumberutil import COUNTRY_CODE_TO_REGION_CODE

from pipelines.golden.masking import MASKED_COLUMNS, mask_emails, mask_golden, mask_ids, mask_phones
from pipelines.schema import GOLDEN_CUSTOMERS


def table(*rows: dict) -> pa.Table:
    return pa.Table.from_pylist([{"golden_id": f"G{i:010d}", **r} for i, r in enumerate(rows, 1)],
                                schema=GOLDEN_CUSTOMERS)


@pytest.mark.parametrize("phone, masked", [
    ("+79161234567", "+7*******67"),      # Russian mobile
    ("+74951112233", "+7*******33"),      # Moscow landline
    ("+380501234567", "+380*******67"),   # Ukraine: three-digit code
    ("+375291234567", "+375*******67"),   # Belarus
    ("+12025550123", "+1*******23"),      # USA
    ("+442079460958", "+44*******58"),    # UK: two-digit code
    ("+8613812345678", "+86*******78"),   # China
    ("89161234567", "*******67"),         # no "+": no code kept
    ("+999123456", "+*******56"),         # unknown code: no code kept
    ("+7 916 123-45-67", "+7*******67"),  # not E.164 but readable
    ("+7", "+7*******"),                  # shorter than the kept parts: nothing more shown
    ("+71", "+7*******1"),
    ("", ""),
    (None, None),
])
def test_mask_phone(phone, masked):
    out = mask_phones(pa.array([phone], pa.string()))
    assert out.to_pylist() == [masked]
    assert mask_phones(out).to_pylist() == [masked]  # idempotent


@pytest.mark.parametrize("email, masked", [
    ("ivan.petrov@mail.ru", "i***@mail.ru"),
    ("a+b@x.org", "a***@x.org"),          # subaddress
    ("a@x.ru", "a***@x.ru"),              # one-character local part: length not told
    ("Ёлка@почта.рф", "Ё***@почта.рф"),   # Cyrillic: one character, not one byte
    ('"a@b"@x.ru', '"***@x.ru'),          # split at the last "@"
    ("@x.ru", "***@x.ru"),
    ("no-at-sign", "n***"),
    ("", ""),
    (None, None),
])
def test_mask_email(email, masked):
    out = mask_emails(pa.array([email], pa.string()))
    assert out.to_pylist() == [masked]
    assert mask_emails(out).to_pylist() == [masked]


@pytest.mark.parametrize("value, masked", [
    ("4510123456", "*******56"),      # passport series and number
    ("770112345678", "*******78"),    # personal INN
    ("12345678901", "*******01"),     # SNILS
    ("7", "*******7"),
    ("", ""),
    (None, None),
])
def test_mask_ids(value, masked):
    out = mask_ids(pa.array([value], pa.string()))
    assert out.to_pylist() == [masked]
    assert mask_ids(out).to_pylist() == [masked]


def test_mask_golden_example_table():
    golden = table(
        {"full_name": "Петров Иван Сергеевич", "last_name": "Петров", "first_name": "Иван",
         "middle_name": "Сергеевич", "postcode": "127055", "city": "г Москва", "birth_date": dt.date(1985, 7, 23),
         "phone": "+79161234567", "phones": ["+79161234567", "+74951112233"],
         "email": "ivan.petrov@mail.ru", "emails": ["ivan.petrov@mail.ru", "a+b@x.org"],
         "tax_id": "770112345678", "national_id": "4510123456", "national_id_type": "passport_ru",
         "street": "ул. Ленина", "flat": "12", "record_count": 2, "sources": ["crm", "shop"],
         "quality_score": 80, "consent_pd": True},
        {"full_name": "John Smith", "last_name": "Smith", "birth_date": None, "phone": "+442079460958", "phones": ["+442079460958"],
         "email": "a@x.ru", "emails": ["a@x.ru"]},
        {"phone": None, "phones": [], "email": None, "emails": None},
        {"phones": ["+380501234567", None], "emails": [None]},
    )
    masked = mask_golden(golden)
    assert masked.schema == GOLDEN_CUSTOMERS
    rows = masked.to_pylist()
    assert rows[0]["birth_date"] == dt.date(1985, 1, 1)
    assert rows[0]["phone"] == "+7*******67"
    assert rows[0]["phones"] == ["+7*******67", "+7*******33"]
    assert rows[0]["email"] == "i***@mail.ru"
    assert rows[0]["emails"] == ["i***@mail.ru", "a***@x.org"]
    assert (rows[0]["tax_id"], rows[0]["national_id"]) == ("*******78", "*******56")
    assert rows[1]["phones"] == ["+44*******58"] and rows[1]["emails"] == ["a***@x.ru"]
    assert rows[1]["birth_date"] is None
    assert (rows[2]["phone"], rows[2]["phones"], rows[2]["email"], rows[2]["emails"]) == (None, [], None, None)
    assert rows[3]["phones"] == ["+380*******67", None] and rows[3]["emails"] == [None]
    # names and the street address: initials, the postcode's region digits, no street or flat
    assert (rows[0]["full_name"], rows[0]["street"], rows[0]["flat"]) == (None, None, None)
    assert (rows[0]["last_name"], rows[0]["first_name"], rows[0]["middle_name"]) == ("П.", "Иван", "С.")
    assert (rows[0]["postcode"], rows[0]["city"]) == ("127***", "г Москва")
    assert (rows[1]["full_name"], rows[1]["last_name"]) == (None, "S.")
    # everything else untouched
    for before, after in zip(golden.to_pylist(), rows):
        for name in GOLDEN_CUSTOMERS.names:
            if name not in MASKED_COLUMNS:
                assert before[name] == after[name], name
    assert mask_golden(masked).equals(masked)


def test_schema_conformed_extra_columns_dropped_missing_ones_null():
    golden = table({"phone": "+79161234567"}).append_column("secret", pa.array(["x"]))
    golden = golden.drop_columns(["emails"])
    masked = mask_golden(golden)
    assert masked.schema == GOLDEN_CUSTOMERS
    assert masked.column("emails").to_pylist() == [None]


def test_empty_table_chunked_and_sliced_input():
    assert mask_golden(GOLDEN_CUSTOMERS.empty_table()).equals(GOLDEN_CUSTOMERS.empty_table())
    golden = pa.concat_tables([table({"phones": ["+79161234567"]}, {"phones": None}),
                               table({"phones": ["+12025550123", "+74951112233"]})])
    masked = mask_golden(golden.slice(1))
    assert masked.column("phones").to_pylist() == [None, ["+1*******23", "+7*******33"]]


def test_input_not_mutated():
    golden = table({"phone": "+79161234567", "phones": ["+79161234567"], "birth_date": dt.date(1990, 3, 4)})
    before = golden.to_pylist()
    mask_golden(golden)
    assert golden.to_pylist() == before


# --------------------------------------------------------------------------- properties

_CODES = sorted(str(c) for c in COUNTRY_CODE_TO_REGION_CODE)
_phone = st.one_of(
    st.builds(lambda c, n: f"+{c}{n}", st.sampled_from(_CODES), st.text("0123456789", min_size=4, max_size=12)),
    st.text("0123456789+ -()", max_size=16),
    st.text(max_size=12),
)
_local = st.text(st.characters(codec="utf-8", exclude_characters="@\x00"), min_size=1, max_size=12)
_domain = st.from_regex(r"[a-zа-я]{1,8}\.(ru|com|рф)", fullmatch=True)
_email = st.one_of(st.builds(lambda l, d: f"{l}@{d}", _local, _domain), st.text(max_size=12))


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text, flags=re.ASCII)


@st.composite
def golden_tables(draw):
    rows = []
    for _ in range(draw(st.integers(0, 6))):
        rows.append({
            "phone": draw(st.none() | _phone),
            "phones": draw(st.none() | st.lists(st.none() | _phone, max_size=3)),
            "email": draw(st.none() | _email),
            "emails": draw(st.none() | st.lists(st.none() | _email, max_size=3)),
            "birth_date": draw(st.none() | st.dates(dt.date(1900, 1, 1), dt.date(2030, 12, 31))),
            "tax_id": draw(st.none() | st.text("0123456789", max_size=12)),
            "national_id": draw(st.none() | st.text("0123456789 ", max_size=12)),
        })
    return table(*rows)


def _local_part(email: str) -> str:
    return email.rpartition("@")[0] if "@" in email else email


def _strings(value) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list):
        return [v for v in value if v is not None]
    return [value] if isinstance(value, str) else []


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(golden_tables())
def test_property_no_original_digit_run_longer_than_four(golden):
    masked = mask_golden(golden).to_pylist()
    for before, after in zip(golden.to_pylist(), masked):
        originals = {_digits(p) for p in _strings(before["phone"]) + _strings(before["phones"])}
        runs = {d[i:i + 5] for d in originals for i in range(len(d) - 4)}
        # every masked text except e-mail domains, which are kept on purpose
        out = [s for name in ("phone", "phones", "tax_id", "national_id") for s in _strings(after[name])]
        out += [_local_part(e) for name in ("email", "emails") for e in _strings(after[name])]
        assert not any(r in s for r in runs for s in out), (before, after)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(golden_tables())
def test_property_no_local_part_longer_than_one_character(golden):
    """The domain is kept on purpose (``ma@mail.ru`` shows "ma" in "mail.ru"), so the check is
    on what the mask puts before the "@"."""
    masked = mask_golden(golden).to_pylist()
    for before, after in zip(golden.to_pylist(), masked):
        locals_ = {_local_part(e) for e in _strings(before["email"]) + _strings(before["emails"])}
        shown = [_local_part(e) for e in _strings(after["email"]) + _strings(after["emails"])]
        for s in shown:
            assert len(s.replace("*", "")) <= 1
            assert not any(len(l) > 1 and l in s for l in locals_), (before, after)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(golden_tables())
def test_property_idempotent_and_shape_preserving(golden):
    masked = mask_golden(golden)
    assert mask_golden(masked).equals(masked)
    assert masked.schema == GOLDEN_CUSTOMERS and masked.num_rows == golden.num_rows
    for before, after in zip(golden.to_pylist(), masked.to_pylist()):
        for name in ("phones", "emails"):
            assert (before[name] is None) == (after[name] is None)
            if before[name] is not None:
                assert [v is None for v in before[name]] == [v is None for v in after[name]]
        if before["birth_date"] is not None:
            assert after["birth_date"] == dt.date(before["birth_date"].year, 1, 1)
