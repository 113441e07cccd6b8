"""Yes/no flags (consent_pd, consent_marketing, do_not_contact) and stated gender values.

Spellings live in ``data/flags_booleans.csv`` and ``data/flags_gender.csv``; matching is
case-, space- and punctuation-insensitive ("Да.", " YES ", "Муж.", "пол: женский").

Decisions:

* Any recognised spelling of a flag is valid as given (qc 0): spelling variety is normal
  for yes/no values. Unrecognised text: null, qc 3, ``consent:unrecognised``.
* Words about agreeing or subscribing ("согласен", "opt-out", "отписан") describe consent.
  In a prohibition field (``polarity="prohibition"``, for do_not_contact) their meaning is
  flipped ("отписан" -> do not contact = true) and flagged qc 1 ``consent:inverted_wording``;
  plain yes/no words keep their meaning in every field.
* Gender words ("м", "жен.", "female") are qc 0; ISO/IEC 5218 codes 1 (male) and 2 (female)
  are qc 1 ``gender:numeric_code``; forms of address ("Mr", "г-жа") are qc 1
  ``gender:from_title``; a stated gender that is neither M nor F ("другой", "non-binary") is
  null with qc 0 and ``gender:other``.
* An explicit "not known" ("не указан", "n/a", ISO 5218 codes 0 and 9) says nothing, so it is
  treated exactly like a blank cell: null value, null qc, no issue. It is not invalid.
"""

from __future__ import annotations

import csv
import re
from functools import lru_cache
from pathlib import Path
from typing import Literal

import pandas as pd

from pipelines.cleanse.base import MAX_VALUE_LENGTH, QC_CORRECTED, QC_INVALID, QC_VALID, map_distinct

BOOLEAN_COLUMNS = ["value", "qc", "issues"]
GENDER_COLUMNS = ["gender", "qc_gender", "gender_issues"]

_DATA = Path(__file__).parent / "data"
_PUNCT = re.compile(r"[.,;:!\"'«»()\[\]“”„]+")
_FLOAT_INT = re.compile(r"^([+-]?\d+)\.0+$")
_GENDER_NOISE = frozenset({"пол", "gender", "sex"})

Polarity = Literal["consent", "prohibition"]


def _normalise(text: str) -> str:
    text = text.lower().replace("ё", "е")
    number = _FLOAT_INT.match(text.strip())
    if number:
        return number.group(1).lstrip("+")
    return " ".join(_PUNCT.sub(" ", text).split())


def _read_table(name: str) -> list[dict[str, str]]:
    with (_DATA / name).open(encoding="utf-8") as f:
        return list(csv.DictReader(line for line in f if not line.startswith("#")))


@lru_cache(maxsize=1)
def _booleans() -> dict[str, tuple[bool | None, str]]:
    return {_normalise(r["spelling"]): ({"true": True, "false": False}.get(r["value"]), r["kind"])
            for r in _read_table("flags_booleans.csv")}


@lru_cache(maxsize=1)
def _genders() -> dict[str, tuple[str, str]]:
    return {_normalise(r["spelling"]): (r["gender"], r["kind"]) for r in _read_table("flags_gender.csv")}


def _boolean_result(value: bool | None, qc: int | None, issues: list[str] | None) -> dict:
    return {"value": value, "qc": qc, "issues": issues}


def clean_boolean(raw: str, polarity: Polarity = "consent") -> dict:
    """Read one yes/no cell; returns ``{"value", "qc", "issues"}``.

    Guarantees: a recognised spelling gives True/False with qc 0 (qc 1 and
    ``consent:inverted_wording`` when a consent word is read in a prohibition field); an
    explicit "unknown" gives the all-null row of a blank cell; anything else gives null
    with qc 3 and ``consent:unrecognised``. Never raises on any string.
    """
    if len(raw) > MAX_VALUE_LENGTH:
        return _boolean_result(None, QC_INVALID, ["consent:unrecognised"])
    key = _normalise(raw)
    if not key:
        return _boolean_result(None, None, None)
    found = _booleans().get(key)
    if found is None:
        return _boolean_result(None, QC_INVALID, ["consent:unrecognised"])
    value, kind = found
    if value is None:
        return _boolean_result(None, None, None)
    if kind == "consent" and polarity == "prohibition":
        return _boolean_result(not value, QC_CORRECTED, ["consent:inverted_wording"])
    return _boolean_result(value, QC_VALID, None)


def clean_booleans(values: pd.Series, polarity: Polarity = "consent") -> pd.DataFrame:
    """Vectorised :func:`clean_boolean` over distinct values.

    Returns a frame with the index of ``values`` and exactly the columns ``value`` (pandas
    "boolean"), ``qc`` (Int8) and ``issues`` (list of str or None). Pass
    ``polarity="prohibition"`` for do_not_contact-like fields (see the module doc).
    """
    return map_distinct(values, lambda v: clean_boolean(v, polarity), BOOLEAN_COLUMNS,
                        dtypes={"value": "boolean", "qc": "Int8"})


def clean_gender_value(raw: str) -> dict:
    """Read one stated gender; returns ``{"gender", "qc_gender", "gender_issues"}``.

    Guarantees: ``gender`` is "M", "F" or None; qc as in the module doc; unrecognised text
    gives null with qc 3 and ``gender:unrecognised``. Never raises on any string.
    """
    if len(raw) > MAX_VALUE_LENGTH:
        return {"gender": None, "qc_gender": QC_INVALID, "gender_issues": ["gender:unrecognised"]}
    key = " ".join(t for t in _normalise(raw).split() if t not in _GENDER_NOISE)
    if not key:
        return {"gender": None, "qc_gender": None, "gender_issues": None}
    found = _genders().get(key)
    if found is None:
        return {"gender": None, "qc_gender": QC_INVALID, "gender_issues": ["gender:unrecognised"]}
    gender, kind = found
    if gender == "unknown":
        return {"gender": None, "qc_gender": None, "gender_issues": None}
    if gender == "other":
        return {"gender": None, "qc_gender": QC_VALID, "gender_issues": ["gender:other"]}
    if kind == "numeric":
        return {"gender": gender, "qc_gender": QC_CORRECTED, "gender_issues": ["gender:numeric_code"]}
    if kind == "title":
        return {"gender": gender, "qc_gender": QC_CORRECTED, "gender_issues": ["gender:from_title"]}
    return {"gender": gender, "qc_gender": QC_VALID, "gender_issues": None}


def clean_gender_values(values: pd.Series) -> pd.DataFrame:
    """Vectorised :func:`clean_gender_value` over distinct values.

    Returns a frame with the index of ``values`` and exactly the columns ``gender``
    ("M" | "F" | None), ``qc_gender`` (Int8) and ``gender_issues``.
    """
    return map_distinct(values, clean_gender_value, GENDER_COLUMNS, dtypes={"qc_gender": "Int8"})
