"""The cleanse chain: mapping, selection rules, quarantine reasons and conservation."""

from __future__ import annotations

import json
from datetime import date

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipelines.cleanse.transforms import cleanse_source, map_fields
from pipelines.config import Source
from pipelines.io import FILE_COL, LINE_COL, MalformedRecord
from pipelines.schema import CLEANSED_CUSTOMERS, QUARANTINE

AS_OF = date(2026, 11, 1)
SOURCE = Source(name="crm", path="x/*.csv", id="id", updated_at="changed",
                fields={"full_name": "fio", "phone": ["tel", "mob"], "email": "mail", "birth_date": "born"})


def frame(rows: list[dict]) -> pd.DataFrame:
    cols = ["id", "fio", "tel", "mob", "mail", "born", "changed", "note"]
    out = pd.DataFrame([{c: r.get(c) for c in cols} for r in rows], columns=cols, dtype="object")
    out[FILE_COL] = "a.csv"
    out[LINE_COL] = pd.Series(range(2, len(rows) + 2), dtype="int64")
    return out


def run(rows: list[dict], malformed: list[MalformedRecord] | None = None):
    return cleanse_source(frame(rows), malformed or [], SOURCE, "RU", AS_OF)


def test_mapping_joins_phone_columns_and_keeps_unmapped_in_extra() -> None:
    mapped = map_fields(frame([{"id": " 007 ", "fio": "Иванов Иван", "tel": "8 916 111-22-33",
                                "mob": "+7 926 444 55 66", "note": "VIP; звонить вечером"}]), SOURCE)
    row = mapped.iloc[0]
    assert row["source_id"] == "007"
    assert row["phone"] == "8 916 111-22-33; +7 926 444 55 66"
    assert json.loads(row["extra"]) == {"note": "VIP; звонить вечером"}
    assert json.loads(row["raw"])["fio"] == "Иванов Иван"


def test_good_record_is_accepted_with_schema_columns() -> None:
    result = run([{"id": "1", "fio": "иванов иван иванович", "tel": "8 (916) 123-45-67", "mob": "+7 926 765-43-21",
                   "mail": " Ivanov@Mail.RU ", "born": "05.03.1985"}])
    assert list(result.accepted.columns) == CLEANSED_CUSTOMERS.names
    assert list(result.quarantined.columns) == QUARANTINE.names
    row = result.accepted.iloc[0]
    assert (row["record_key"], row["last_name"], row["first_name"], row["middle_name"]) == \
        ("crm:1", "Иванов", "Иван", "Иванович")
    assert row["phones"] == ["+79161234567", "+79267654321"]
    assert row["email"] == "ivanov@mail.ru"
    assert row["gender"] == "M"
    assert str(row["birth_date"])[:10] == "1985-03-05"
    assert len(row["row_hash"]) == 32


def test_duplicate_ids_keep_the_newest_row() -> None:
    result = run([
        {"id": "5", "fio": "Петров Пётр", "changed": "2024-03-01"},
        {"id": "5", "fio": "Петров Пётр Петрович", "changed": "2024-05-01"},
        {"id": "5", "fio": "Петров П.", "changed": None},
    ])
    assert result.accepted["middle_name"].tolist() == ["Петрович"]
    assert result.quarantined["reasons"].tolist() == [["duplicate_source_id"], ["duplicate_source_id"]]
    assert result.quarantined["line"].tolist() == [2, 4]
    assert "line 3" in result.quarantined["detail"].iloc[0]


def test_duplicate_ids_without_dates_keep_the_later_line() -> None:
    result = run([{"id": "9", "mail": "a@yandex.ru"}, {"id": "9", "mail": "b@yandex.ru"}])
    assert result.accepted["email"].tolist() == ["b@yandex.ru"]


def test_no_identity_missing_id_and_junk_are_quarantined_with_reasons() -> None:
    result = run([
        {"id": "1", "born": "01.01.1990", "note": "только дата"},
        {"id": None, "fio": "Смирнова Анна", "tel": "89161112233"},
        {"id": "3", "fio": "Тест Тестович", "tel": "89161112233"},
        {"id": "4", "fio": "asdfgh", "mail": "qwerty@asdf.com"},
        {"id": "5", "fio": "Купить дёшево http://spam.example", "tel": "89161112234"},
        {"id": "6", "fio": "Смирнова Анна", "tel": "89161112233"},
    ])
    reasons = dict(zip(result.quarantined["line"], result.quarantined["reasons"]))
    assert reasons[2] == ["no_identity"]
    assert "missing_source_id" in reasons[3]
    assert "test_record" in reasons[4]
    assert reasons.keys() >= {5, 6}
    assert result.accepted["source_id"].tolist() == ["6"]
    raw = json.loads(result.quarantined.set_index("line").loc[2, "raw"])
    assert raw["note"] == "только дата"  # the whole original row, mapped or not


def test_malformed_lines_become_quarantine_rows() -> None:
    bad = [MalformedRecord("a.csv", 17, "expected 8 fields, found 9", "1;2;3")]
    result = run([{"id": "1", "mail": "x@mail.ru"}], bad)
    row = result.quarantined.iloc[0]
    assert (row["reasons"], row["line"], row["detail"]) == (["malformed_line"], 17,
                                                            "line 17: expected 8 fields, found 9")
    assert json.loads(row["raw"]) == {"line_text": "1;2;3"}


def test_absurd_values_do_not_break_the_chain() -> None:
    result = run([
        {"id": "1", "fio": "Я" * 100_000, "tel": "89161234567"},
        {"id": "2", "fio": "=cmd|' /C calc'!A0", "mail": "=HYPERLINK(\"http://x\")"},
        {"id": "3", "fio": "\x00\x01\x02\ufffd\ufffd", "tel": "\x7f\x1b[31m"},
    ])
    assert len(result.accepted) + len(result.quarantined) == 3
    assert all(result.quarantined["reasons"].map(len) > 0)
    assert not result.accepted["full_name"].fillna("").str.contains("=cmd|\x00", regex=False).any()
    assert all(len(n) < 1000 for n in result.accepted["full_name"].dropna())


_text = st.one_of(st.none(), st.text(max_size=20),
                  st.sampled_from(["Иванов Иван", "8 916 123-45-67", "test", "a@b.ru", "", " ", "05.03.1985"]))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=st.lists(st.fixed_dictionaries({
    "id": st.one_of(st.none(), st.sampled_from(["1", "2", "3", " ", "004"])),
    "fio": _text, "tel": _text, "mob": _text, "mail": _text, "born": _text, "changed": _text,
}), max_size=25), n_bad=st.integers(0, 3))
def test_every_row_comes_out_exactly_once(rows: list[dict], n_bad: int) -> None:
    malformed = [MalformedRecord("a.csv", 1000 + i, "expected 8 fields, found 2", "x;y") for i in range(n_bad)]
    result = run(rows, malformed)
    assert len(result.accepted) + len(result.quarantined) == len(rows) + n_bad
    lines = sorted(result.accepted["line"].tolist() + result.quarantined["line"].tolist())
    assert lines == sorted(list(range(2, len(rows) + 2)) + [1000 + i for i in range(n_bad)])
    assert result.accepted["source_id"].is_unique
    assert result.accepted["source_id"].notna().all()
    assert all(len(r) > 0 for r in result.quarantined["reasons"])


@pytest.mark.parametrize(
    ("stated", "name_gender", "name_source", "expected"),
    [
        # stated value, gender from the name, its evidence -> (gender, gender_source, qc, issue?)
        ("м", "M", "patronymic", ("M", "source", 0, False)),
        ("female", "M", "patronymic", ("F", "source", 2, True)),
        ("другой", "M", "first_name", (None, "source", 0, False)),  # what the person said wins
        (None, "F", "surname", ("F", "surname", 1, False)),
        ("???", "F", "patronymic", ("F", "patronymic", 1, False)),  # unusable stated value
        ("???", None, None, (None, None, 3, False)),
        (None, None, None, (None, None, None, False)),
    ],
)
def test_stated_gender_and_name_gender_combine(stated, name_gender, name_source, expected) -> None:
    from pipelines.cleanse import flags
    from pipelines.cleanse.transforms import _merge_gender

    named = pd.DataFrame({"gender": [name_gender], "gender_source": [name_source]}, dtype="object")
    merged = _merge_gender(named, flags.clean_gender_values(pd.Series([stated], dtype="object"))).iloc[0]
    qc = None if pd.isna(merged["qc_gender"]) else int(merged["qc_gender"])
    gender = None if pd.isna(merged["gender"]) else merged["gender"]
    source = None if pd.isna(merged["gender_source"]) else merged["gender_source"]
    flagged = "gender:conflicts_with_name" in (merged["gender_issues"] or [])
    assert (gender, source, qc, flagged) == expected


def test_arrow_split_gives_the_same_rows_as_the_pandas_split() -> None:
    import pyarrow as pa

    from pipelines.cleanse.jobs import PART_SCHEMA
    from pipelines.cleanse.transforms import assemble_part, cleanse_fields, duplicate_rows, split_part, \
        split_part_table
    from pipelines.io import conform

    mapped = map_fields(frame([
        {"id": "1", "fio": "Иванов Иван", "tel": "89161112233", "changed": "2024-01-01"},
        {"id": "1", "fio": "Иванов Иван Иванович", "tel": "89161112233", "changed": "2024-02-01"},
        {"id": None, "fio": "Смирнова Анна", "mail": "anna@mail.ru"},
        {"id": "2", "fio": "Тест Тестович", "mail": "test@test.com"},
        {"id": "3", "born": "01.01.1990"},
        {"id": "4", "fio": "Ольга Петрова", "mail": "olga@yandex.ru"},
    ]), SOURCE)
    part = assemble_part(mapped, cleanse_fields(mapped, SOURCE, "RU", AS_OF), SOURCE)
    duplicates = duplicate_rows(part)
    accepted, quarantined = split_part(part, duplicates)
    table = conform(pa.Table.from_pandas(part, preserve_index=False), PART_SCHEMA)
    accepted_t, quarantined_t = split_part_table(table, duplicates)
    assert accepted_t.column("source_id").to_pylist() == accepted["source_id"].tolist() == ["1", "4"]
    assert accepted_t.schema == CLEANSED_CUSTOMERS
    assert quarantined_t.to_dict("records") == quarantined.to_dict("records")
    assert len(quarantined_t) == 4 and all(quarantined_t["reasons"])
