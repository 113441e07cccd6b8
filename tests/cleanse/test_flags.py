"""Consent flags and stated gender values: table tests and properties."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipelines.cleanse.flags import (
    BOOLEAN_COLUMNS,
    GENDER_COLUMNS,
    clean_boolean,
    clean_booleans,
    clean_gender_value,
    clean_gender_values,
)

UNRECOGNISED = ["consent:unrecognised"]
INVERTED = ["consent:inverted_wording"]

# (raw, value, qc, issues) in a consent field
BOOLEANS = [
    ("да", True, 0, None),
    ("Да", True, 0, None),
    ("ДА.", True, 0, None),
    (" yes ", True, 0, None),
    ("Y", True, 0, None),
    ("1", True, 0, None),
    ("1.0", True, 0, None),  # Excel number
    ("TRUE", True, 0, None),
    ("True", True, 0, None),
    ("ИСТИНА", True, 0, None),  # Russian Excel
    ("Д", True, 0, None),
    ("+", True, 0, None),
    ("✓", True, 0, None),
    ("согласен", True, 0, None),
    ("Согласна", True, 0, None),
    ("Да, согласен", True, 0, None),
    ("Opt-in", True, 0, None),
    ("opt in", True, 0, None),
    ("Subscribed", True, 0, None),
    ("нет", False, 0, None),
    ("НЕТ", False, 0, None),
    ("no", False, 0, None),
    ("N", False, 0, None),
    ("0", False, 0, None),
    ("0.0", False, 0, None),
    ("false", False, 0, None),
    ("ЛОЖЬ", False, 0, None),
    ("Н", False, 0, None),
    ("-", False, 0, None),
    ("не согласен", False, 0, None),
    ("Не согласна", False, 0, None),
    ("несогласен", False, 0, None),
    ("opt-out", False, 0, None),
    ("OPT OUT", False, 0, None),
    ("Отписан", False, 0, None),
    ("отказ", False, 0, None),
    ("Unsubscribed", False, 0, None),
    # explicit "unknown" is a blank cell, not an invalid one
    ("не указано", None, None, None),
    ("N/A", None, None, None),
    ("null", None, None, None),
    # unrecognised
    ("может быть", None, 3, UNRECOGNISED),
    ("2", None, 3, UNRECOGNISED),
    ("да нет", None, 3, UNRECOGNISED),
    ("yes please call me", None, 3, UNRECOGNISED),
    ("=cmd|' /C calc'!A0", None, 3, UNRECOGNISED),
]


@pytest.mark.parametrize(("raw", "value", "qc", "issues"), BOOLEANS)
def test_clean_boolean_table(raw: str, value: bool | None, qc: int | None, issues: list[str] | None) -> None:
    assert clean_boolean(raw) == {"value": value, "qc": qc, "issues": issues}


# (raw, value, qc, issues) in a prohibition field (do_not_contact)
PROHIBITIONS = [
    ("да", True, 0, None),  # plain yes/no keep their meaning: "do not contact? yes"
    ("1", True, 0, None),
    ("нет", False, 0, None),
    ("false", False, 0, None),
    ("opt-out", True, 1, INVERTED),  # opted out -> do not contact
    ("Отписан", True, 1, INVERTED),
    ("unsubscribed", True, 1, INVERTED),
    ("согласие отозвано", True, 1, INVERTED),
    ("opt-in", False, 1, INVERTED),
    ("согласен", False, 1, INVERTED),
    ("может быть", None, 3, UNRECOGNISED),
]


@pytest.mark.parametrize(("raw", "value", "qc", "issues"), PROHIBITIONS)
def test_clean_boolean_prohibition_table(raw: str, value: bool | None, qc: int, issues: list[str] | None) -> None:
    assert clean_boolean(raw, "prohibition") == {"value": value, "qc": qc, "issues": issues}


# (raw, gender, qc, issues)
GENDERS = [
    ("М", "M", 0, None),  # Cyrillic
    ("M", "M", 0, None),  # Latin
    ("м", "M", 0, None),
    ("муж", "M", 0, None),
    ("Муж.", "M", 0, None),
    ("мужской", "M", 0, None),
    ("МУЖСКОЙ", "M", 0, None),
    ("Пол: мужской", "M", 0, None),
    ("мужчина", "M", 0, None),
    ("male", "M", 0, None),
    ("Male", "M", 0, None),
    ("man", "M", 0, None),
    ("m", "M", 0, None),
    ("männlich", "M", 0, None),
    ("Ж", "F", 0, None),
    ("ж", "F", 0, None),
    ("жен", "F", 0, None),
    ("Жен.", "F", 0, None),
    ("женский", "F", 0, None),
    ("Женщина", "F", 0, None),
    ("female", "F", 0, None),
    ("FEMALE", "F", 0, None),
    ("woman", "F", 0, None),
    ("F", "F", 0, None),
    ("f", "F", 0, None),
    ("W", "F", 0, None),  # weiblich
    ("1", "M", 1, ["gender:numeric_code"]),  # ISO/IEC 5218
    ("2", "F", 1, ["gender:numeric_code"]),
    ("1.0", "M", 1, ["gender:numeric_code"]),
    ("Mr.", "M", 1, ["gender:from_title"]),
    ("Mrs", "F", 1, ["gender:from_title"]),
    ("Ms.", "F", 1, ["gender:from_title"]),
    ("г-н", "M", 1, ["gender:from_title"]),
    ("г-жа", "F", 1, ["gender:from_title"]),
    ("non-binary", None, 0, ["gender:other"]),
    ("другой", None, 0, ["gender:other"]),
    # explicit "unknown" is a blank cell
    ("0", None, None, None),  # ISO 5218: not known
    ("9", None, None, None),  # ISO 5218: not applicable
    ("не указан", None, None, None),
    ("Unknown", None, None, None),
    ("-", None, None, None),
    # unrecognised
    ("М/Ж", None, 3, ["gender:unrecognised"]),
    ("3", None, 3, ["gender:unrecognised"]),
    ("мальчик?", None, 3, ["gender:unrecognised"]),
    ("Иванов", None, 3, ["gender:unrecognised"]),
    ("=cmd|' /C calc'!A0", None, 3, ["gender:unrecognised"]),
]


@pytest.mark.parametrize(("raw", "gender", "qc", "issues"), GENDERS)
def test_clean_gender_value_table(raw: str, gender: str | None, qc: int | None, issues: list[str] | None) -> None:
    assert clean_gender_value(raw) == {"gender": gender, "qc_gender": qc, "gender_issues": issues}


def test_vectorised_dtypes_index_and_blanks() -> None:
    values = pd.Series(["да", None, " ", "нет", "xx"], index=list("abcde"), dtype=object)
    out = clean_booleans(values)
    assert list(out.columns) == BOOLEAN_COLUMNS
    assert list(out.index) == list("abcde")
    assert str(out["value"].dtype) == "boolean" and str(out["qc"].dtype) == "Int8"
    assert out["value"].tolist() == [True, pd.NA, pd.NA, False, pd.NA]
    assert out["qc"].tolist() == [0, pd.NA, pd.NA, 0, 3]
    genders = clean_gender_values(pd.Series(["Ж", None, "2"], dtype=object))
    assert list(genders.columns) == GENDER_COLUMNS
    assert str(genders["qc_gender"].dtype) == "Int8"
    assert genders["gender"].iloc[0] == "F" and pd.isna(genders["gender"].iloc[1])
    assert clean_booleans(pd.Series([], dtype=object)).shape == (0, 3)


# --------------------------------------------------------------------------- properties

_FLAG_TEXT = st.one_of(
    st.text(max_size=30),
    st.sampled_from([b[0] for b in BOOLEANS] + [g[0] for g in GENDERS]).map(
        lambda v: v.upper() if len(v) % 2 else f"  {v} "),
    st.sampled_from(["\x00", "да" * 50_000, "=HYPERLINK(\"http://x\")", "\u200bда"]),
)


@settings(max_examples=300, deadline=None)
@given(_FLAG_TEXT, st.sampled_from(["consent", "prohibition"]))
def test_boolean_never_raises_and_is_idempotent(raw: str, polarity: str) -> None:
    first = clean_boolean(raw, polarity)  # type: ignore[arg-type]
    if first["value"] is None:
        return
    second = clean_boolean(str(first["value"]).lower(), polarity)  # type: ignore[arg-type]
    assert second == {"value": first["value"], "qc": 0, "issues": None}


@settings(max_examples=300, deadline=None)
@given(_FLAG_TEXT)
def test_gender_never_raises_and_is_idempotent(raw: str) -> None:
    first = clean_gender_value(raw)
    if first["gender"] is None:
        return
    assert clean_gender_value(first["gender"]) == {"gender": first["gender"], "qc_gender": 0, "gender_issues": None}


def _row(frame: pd.DataFrame, i: int) -> dict:
    return {k: v if isinstance(v, list) or not pd.isna(v) else None for k, v in frame.iloc[i].items()}


@settings(max_examples=50, deadline=None)
@given(st.lists(st.one_of(st.none(), _FLAG_TEXT), max_size=15))
def test_vectorised_agrees_with_scalar(values: list[str | None]) -> None:
    series = pd.Series(values, dtype=object)
    booleans, genders = clean_booleans(series), clean_gender_values(series)
    for i, raw in enumerate(values):
        blank = raw is None or not raw.strip()
        expected_bool = dict.fromkeys(BOOLEAN_COLUMNS) if blank else clean_boolean(raw.strip())
        expected_gender = dict.fromkeys(GENDER_COLUMNS) if blank else clean_gender_value(raw.strip())
        assert _row(booleans, i) == expected_bool
        assert _row(genders, i) == expected_gender
