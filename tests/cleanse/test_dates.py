"""Dates: table cases written from real exports, plus properties."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from pipelines.cleanse.dates import (
    clean_birth_date,
    clean_birth_dates,
    clean_timestamp,
    clean_timestamps,
    parse_date,
    parse_dates,
)

D = dt.datetime
AS_OF = dt.date(2026, 11, 23)

# (raw, date_format, expected value, expected qc, expected issues)
PARSE_CASES = [
    # the Russian standard and ISO: valid as given
    ("05.03.1985", None, D(1985, 3, 5), 0, None),
    ("1985-02-01", None, D(1985, 2, 1), 0, None),  # dateutil dayfirst reads 2 January
    ("  31.12.1999 ", None, D(1999, 12, 31), 0, None),
    ("29.02.2000", None, D(2000, 2, 29), 0, None),
    ("2021-03-04 12:30:00", None, D(2021, 3, 4, 12, 30), 0, None),
    ("2021-03-04T12:30:00", None, D(2021, 3, 4, 12, 30), 0, None),
    ("04.03.2021 12:30", None, D(2021, 3, 4, 12, 30), 0, None),
    ("2021-03-04 12:30:00.250", None, D(2021, 3, 4, 12, 30, 0, 250000), 0, None),
    ("05.03.1985 г.", None, D(1985, 3, 5), 0, None),
    # other shapes, unambiguous: standardised
    ("5.3.1985", None, D(1985, 3, 5), 1, ["date:reformatted"]),
    ("1985.03.05", None, D(1985, 3, 5), 1, ["date:reformatted"]),
    ("1985/3/5", None, D(1985, 3, 5), 1, ["date:reformatted"]),
    ("19850305", None, D(1985, 3, 5), 1, ["date:reformatted"]),
    ("05031985", None, D(1985, 3, 5), 1, ["date:reformatted"]),  # yyyymmdd impossible
    ("25/12/1990", None, D(1990, 12, 25), 1, ["date:reformatted"]),
    ("25-12-1990", None, D(1990, 12, 25), 1, ["date:reformatted"]),
    ("05.03.1985 0:00:00", None, D(1985, 3, 5), 1, ["date:reformatted"]),  # 1C / Excel export
    ("5 марта 1985", None, D(1985, 3, 5), 1, ["date:reformatted"]),
    ("05 мар 1985", None, D(1985, 3, 5), 1, ["date:reformatted"]),
    ("5 Марта 1985 года", None, D(1985, 3, 5), 1, ["date:reformatted"]),
    ("1 сентября 2001 г.", None, D(2001, 9, 1), 1, ["date:reformatted"]),
    ("17 февр. 1979", None, D(1979, 2, 17), 1, ["date:reformatted"]),
    ("March 5, 1985", None, D(1985, 3, 5), 1, ["date:reformatted"]),
    ("5 Dec 1970", None, D(1970, 12, 5), 1, ["date:reformatted"]),
    ("14. März 1968", None, D(1968, 3, 14), 1, ["date:reformatted"]),
    ("Thu, 04 Mar 2021 12:30:00 +0300", None, D(2021, 3, 4, 12, 30), 1, ["date:timezone_dropped"]),
    ("2021-03-04T12:30:00+03:00", None, D(2021, 3, 4, 12, 30), 1, ["date:timezone_dropped"]),
    ("2021-03-04T09:30:00Z", None, D(2021, 3, 4, 9, 30), 1, ["date:timezone_dropped"]),
    ("12/25/1985", None, D(1985, 12, 25), 1, ["date:month_first"]),  # US export
    ("05.03.85", None, D(1985, 3, 5), 1, ["date:two_digit_year"]),
    ("04-MAR-21", None, D(2021, 3, 4), 1, ["date:two_digit_year"]),  # Oracle DD-MON-RR
    ("31048", None, D(1985, 1, 1), 1, ["date:excel_serial"]),
    ("31048.0", None, D(1985, 1, 1), 1, ["date:excel_serial"]),
    ("44261,5", None, D(2021, 3, 6, 12), 1, ["date:excel_serial"]),
    ("61", None, D(1900, 3, 1), 1, ["date:excel_serial"]),
    # day/month order unknown
    ("03/04/1985", None, D(1985, 4, 3), 2, ["date:day_month_ambiguous"]),
    ("03-04-1985", None, D(1985, 4, 3), 2, ["date:day_month_ambiguous"]),
    ("04/04/1985", None, D(1985, 4, 4), 1, ["date:reformatted"]),  # same either way
    ("03.04.1985", None, D(1985, 4, 3), 0, None),  # dots: the national notation
    # the source's declared format wins
    ("03/04/1985", "%d/%m/%Y", D(1985, 4, 3), 0, None),
    ("03/04/1985", "%m/%d/%Y", D(1985, 3, 4), 0, None),
    ("19850305", "%Y%m%d", D(1985, 3, 5), 0, None),
    ("05.03.1985", "%Y%m%d", D(1985, 3, 5), 1, ["date:format_mismatch"]),
    ("05-Mar-1985", "%d-%b-%Y", D(1985, 3, 5), 0, None),
    ("05.03.85", "%d.%m.%y", D(1985, 3, 5), 1, ["date:two_digit_year"]),
    # junk and impossible dates
    ("00.00.0000", None, None, 3, ["date:zero_date"]),
    ("0000-00-00 00:00:00", None, None, 3, ["date:zero_date"]),
    ("не указано", None, None, 3, ["date:empty_marker"]),
    ("-", None, None, 3, ["date:empty_marker"]),
    ("N/A", None, None, 3, ["date:empty_marker"]),
    ("31.02.1985", None, None, 3, ["date:invalid_date"]),
    ("29.02.2001", None, None, 3, ["date:invalid_date"]),
    ("1985-13-01", None, None, 3, ["date:invalid_date"]),
    ("13/13/1985", None, None, 3, ["date:invalid_date"]),
    ("2021-03-04 24:10", None, None, 3, ["date:invalid_time"]),
    ("60", None, None, 3, ["date:invalid_date"]),  # Excel's phantom 29.02.1900
    ("1985", None, None, 3, ["date:year_only"]),
    ("05.03.0985", None, None, 3, ["date:out_of_range"]),
    ("вчера", None, None, 3, ["date:unparseable"]),
    ("=cmd|' /C calc'!A0", None, None, 3, ["date:unparseable"]),
    ("123456", None, None, 3, ["date:unparseable"]),
    ("5 мартобря 1985", None, None, 3, ["date:unparseable"]),
]


@pytest.mark.parametrize(("raw", "fmt", "value", "qc", "issues"), PARSE_CASES)
def test_parse_date_table(raw: str, fmt: str | None, value: D | None, qc: int, issues: list[str] | None) -> None:
    assert parse_date(raw, fmt) == {"value": value, "qc": qc, "issues": issues}


# (raw, date_format, expected birth date, qc, issues) as of 2026-11-23
BIRTH_CASES = [
    ("05.03.1985", None, D(1985, 3, 5), 0, None),
    ("1985-03-05 00:00:00", None, D(1985, 3, 5), 0, None),
    ("1985-03-05 13:45:00", None, D(1985, 3, 5), 1, ["birth_date:time_dropped"]),
    ("03/04/1985", None, D(1985, 4, 3), 2, ["birth_date:day_month_ambiguous"]),
    ("03/04/1985", "%d/%m/%Y", D(1985, 4, 3), 0, None),
    ("05.03.55", None, D(1955, 3, 5), 1, ["birth_date:two_digit_year"]),
    ("05.03.01", None, D(2001, 3, 5), 1, ["birth_date:two_digit_year"]),
    ("01.01.1900", None, None, 3, ["birth_date:placeholder"]),
    ("1900-01-01", None, None, 3, ["birth_date:placeholder"]),
    ("01.01.1970", None, None, 3, ["birth_date:placeholder"]),
    ("1111-11-11", None, None, 3, ["birth_date:placeholder"]),
    ("1", None, None, 3, ["birth_date:placeholder", "birth_date:excel_serial"]),
    ("05.03.2027", None, None, 3, ["birth_date:future"]),
    ("24.11.2026", None, None, 3, ["birth_date:future"]),
    ("31.12.1899", None, None, 3, ["birth_date:placeholder"]),
    ("15.06.1898", None, None, 3, ["birth_date:before_1900"]),
    ("05.03.0985", None, None, 3, ["birth_date:before_1900"]),
    ("23.11.2012", None, D(2012, 11, 23), 0, None),  # exactly 14 today
    ("24.11.2012", None, D(2012, 11, 24), 2, ["birth_date:implausible_age"]),  # 13
    ("23.11.1915", None, D(1915, 11, 23), 2, ["birth_date:implausible_age"]),  # 111
    ("24.11.1915", None, D(1915, 11, 24), 0, None),  # 110
    ("05.03.2020", None, D(2020, 3, 5), 2, ["birth_date:implausible_age"]),
    ("31048", None, D(1985, 1, 1), 1, ["birth_date:excel_serial"]),
    ("5 марта 1985 г.", None, D(1985, 3, 5), 1, ["birth_date:reformatted"]),
    ("00.00.0000", None, None, 3, ["birth_date:zero_date"]),
    ("не указано", None, None, 3, ["birth_date:empty_marker"]),
    ("1985", None, None, 3, ["birth_date:year_only"]),
    ("1614861000", None, None, 3, ["birth_date:unparseable"]),  # no epoch numbers for people
]


@pytest.mark.parametrize(("raw", "fmt", "value", "qc", "issues"), BIRTH_CASES)
def test_birth_date_table(raw: str, fmt: str | None, value: D | None, qc: int, issues: list[str] | None) -> None:
    assert clean_birth_date(raw, fmt, AS_OF) == {
        "birth_date": value, "qc_birth_date": qc, "birth_date_issues": issues,
    }


TIMESTAMP_CASES = [
    ("2021-03-04 12:30:00", D(2021, 3, 4, 12, 30), 0, None),
    ("04.03.2021 12:30:15", D(2021, 3, 4, 12, 30, 15), 0, None),
    ("2021-03-04", D(2021, 3, 4), 0, None),
    ("2021-03-04T12:30:00+03:00", D(2021, 3, 4, 12, 30), 1, ["created_at:timezone_dropped"]),
    ("1614861000", D(2021, 3, 4, 12, 30), 1, ["created_at:epoch"]),
    ("1614861000000", D(2021, 3, 4, 12, 30), 1, ["created_at:epoch"]),
    ("3/4/2021 1:30 PM", D(2021, 4, 3, 13, 30), 2, ["created_at:day_month_ambiguous"]),
    ("1970-01-01 00:00:00", None, 3, ["created_at:placeholder"]),
    ("01.01.1900", None, 3, ["created_at:placeholder"]),
    ("1970-01-01 03:00:00", D(1970, 1, 1, 3), 0, None),
    ("0001-01-01 00:00:00", None, 3, ["created_at:out_of_range"]),
]


@pytest.mark.parametrize(("raw", "value", "qc", "issues"), TIMESTAMP_CASES)
def test_timestamp_table(raw: str, value: D | None, qc: int, issues: list[str] | None) -> None:
    assert clean_timestamp(raw, None, kind="created_at") == {"value": value, "qc": qc, "issues": issues}


def test_frames_keep_index_dtypes_and_blanks() -> None:
    values = pd.Series([None, "  ", "05.03.1985", float("nan"), "abc"], index=[10, 11, 12, 13, 14], dtype=object)
    original = values.copy()
    out = clean_birth_dates(values, None, AS_OF)
    assert list(out.columns) == ["birth_date", "qc_birth_date", "birth_date_issues"]
    assert list(out.index) == [10, 11, 12, 13, 14]
    assert str(out["birth_date"].dtype) == "datetime64[us]"
    assert str(out["qc_birth_date"].dtype) == "Int8"
    assert out["qc_birth_date"].isna().tolist() == [True, True, False, True, False]
    assert out["birth_date_issues"].tolist() == [None, None, None, None, ["birth_date:unparseable"]]
    pd.testing.assert_series_equal(values, original)
    generic = parse_dates(values)
    assert list(generic.columns) == ["value", "qc", "issues"]
    ts = clean_timestamps(values, None)
    assert list(ts.columns) == ["value", "qc", "issues"]


def test_empty_series() -> None:
    for out in (parse_dates(pd.Series([], dtype=object)),
                clean_birth_dates(pd.Series([], dtype=object), None, AS_OF),
                clean_timestamps(pd.Series([], dtype=object), None)):
        assert len(out) == 0 and len(out.columns) == 3


def test_non_string_cells() -> None:
    values = pd.Series([dt.date(1985, 3, 5), dt.datetime(2021, 3, 4, 12, 30), 31048, 31048.0], dtype=object)
    out = parse_dates(values)
    assert out["value"].tolist() == [pd.Timestamp(1985, 3, 5), pd.Timestamp(2021, 3, 4, 12, 30),
                                     pd.Timestamp(1985, 1, 1), pd.Timestamp(1985, 1, 1)]


# --- properties ----------------------------------------------------------------------------
dates = st.dates(min_value=dt.date(1000, 1, 1), max_value=dt.date(2999, 12, 31))
datetimes = st.datetimes(min_value=D(1000, 1, 1), max_value=D(2999, 12, 31, 23, 59, 59))
junk = st.one_of(
    st.text(max_size=40),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=30),
    st.text(alphabet="0123456789./- :T+Zг", max_size=25),
    st.binary(max_size=30).map(lambda b: b.decode("latin-1")),
    st.sampled_from(["=cmd|' /C calc'!A0", "+7(916)", "@SUM(1+1)", "\x00\x01\x02", "\u202e1985",
                     "x" * 100_000, "1" * 100_000, "05.03.1985" * 10_000]),
)
RU_MONTHS = ["января", "февраля", "марта", "апреля", "мая", "июня", "июля", "августа",
             "сентября", "октября", "ноября", "декабря"]


@settings(deadline=None)
@given(dates)
def test_iso_round_trip(day: dt.date) -> None:
    out = parse_date(day.isoformat())
    assert out["value"] == D(day.year, day.month, day.day) and out["qc"] == 0


@settings(deadline=None)
@given(datetimes)
def test_iso_datetime_round_trip(moment: D) -> None:
    out = parse_date(moment.isoformat(sep=" "))
    assert out["value"] == moment and out["qc"] == 0


@settings(deadline=None)
@given(dates, st.sampled_from(["%d.%m.%Y", "%Y-%m-%d", "%Y%m%d", "%d/%m/%Y", "%Y/%m/%d", "%d-%m-%Y", "ru"]))
def test_known_shapes_parse_to_the_same_day(day: dt.date, shape: str) -> None:
    text = f"{day.day} {RU_MONTHS[day.month - 1]} {day.year:04d}" if shape == "ru" else (
        shape.replace("%d", f"{day.day:02d}").replace("%m", f"{day.month:02d}").replace("%Y", f"{day.year:04d}")
    )
    out = parse_date(text)
    assert out["value"] == D(day.year, day.month, day.day)
    assert out["qc"] in (0, 1, 2)


@settings(deadline=None)
@given(dates, st.sampled_from(["%m/%d/%Y", "%d/%m/%Y", "%Y%m%d", "%d.%m.%Y", "%d %b %Y", "%Y-%d-%m"]))
def test_declared_format_is_exact(day: dt.date, fmt: str) -> None:
    text = day.strftime(fmt) if day.year >= 1000 else None
    assume(text is not None)
    out = parse_date(text, fmt)
    assert out == {"value": D(day.year, day.month, day.day), "qc": 0, "issues": None}


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(junk, dates.map(str), datetimes.map(str)))
def test_never_raises_and_reparse_is_stable(raw: str) -> None:
    out = parse_date(raw)
    if out["value"] is None:
        assert out["qc"] in (None, 3)
        return
    assert out["qc"] in (0, 1, 2)
    again = parse_date(out["value"].isoformat(sep=" "))
    assert again["value"] == out["value"] and again["qc"] in (0, 1)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(junk, dates.map(lambda d: d.strftime("%d.%m.%Y"))))
def test_birth_date_reclean_is_stable(raw: str) -> None:
    out = clean_birth_date(raw, None, AS_OF)
    if out["birth_date"] is None:
        return
    again = clean_birth_date(out["birth_date"].date().isoformat(), None, AS_OF)
    assert again["birth_date"] == out["birth_date"]
    assert again["qc_birth_date"] in (0, 1, 2)
    rule_codes = {"birth_date:implausible_age"}
    assert set(again["birth_date_issues"] or []) <= rule_codes


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(st.none(), junk, dates.map(lambda d: d.strftime("%d/%m/%Y")),
                          datetimes.map(lambda d: d.isoformat()), st.integers(0, 70_000).map(str)),
                max_size=30))
def test_vectorised_agrees_with_scalar(raws: list[str | None]) -> None:
    values = pd.Series(raws, dtype=object)
    frame = parse_dates(values)
    births = clean_birth_dates(values, None, AS_OF)
    stamps = clean_timestamps(values, None)
    for i, raw in enumerate(raws):
        one = parse_date(raw)
        assert (None if pd.isna(frame["value"].iloc[i]) else frame["value"].iloc[i].to_pydatetime()) == one["value"]
        assert (None if pd.isna(frame["qc"].iloc[i]) else int(frame["qc"].iloc[i])) == one["qc"]
        assert frame["issues"].iloc[i] == one["issues"]
        b = clean_birth_date(raw, None, AS_OF)
        assert births["birth_date_issues"].iloc[i] == b["birth_date_issues"]
        t = clean_timestamp(raw, None)
        assert stamps["issues"].iloc[i] == t["issues"]
