"""Tax ids (Russian INN) and national ids (SNILS, Russian passport, foreign documents).

Scalar rules: :func:`clean_tax_id`, :func:`clean_national_id`; vectorised over distinct
values: :func:`clean_tax_ids`, :func:`clean_national_ids`. Checksums:
:func:`inn_is_valid`, :func:`snils_is_valid`.

Canonical forms are digits only ("7707083893", "11223344595", "4510123456"), so that the
same document typed with or without separators matches. Foreign tax ids keep their letters
("DE123456789") and are never destroyed: we cannot verify them, so they are flagged (qc 2).

INN checksum (Federal Tax Service order): with digits d1..dn,
* 10 digits: c10 = (2d1 + 4d2 + 10d3 + 3d4 + 5d5 + 9d6 + 4d7 + 6d8 + 8d9) mod 11 mod 10;
* 12 digits: c11 = (7d1 + 2d2 + 4d3 + 10d4 + 3d5 + 5d6 + 9d7 + 4d8 + 6d9 + 8d10) mod 11 mod 10,
  c12 = (3d1 + 7d2 + 2d3 + 4d4 + 10d5 + 3d6 + 5d7 + 9d8 + 4d9 + 6d10 + 8d11) mod 11 mod 10.

SNILS checksum (Pension Fund rules): s = sum of the 9 number digits weighted 9..1;
check = s if s < 100; 0 if s in (100, 101); else s mod 101 (and 0 if that is 100).
Numbers up to 001-001-998 were issued before the checksum existed and are not checked.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from operator import mul

import numpy as np
import pandas as pd

from pipelines.cleanse.base import (
    MAX_VALUE_LENGTH,
    QC_CORRECTED,
    QC_INVALID,
    QC_SUSPICIOUS,
    QC_VALID,
    is_digit_run,
)

TAX_ID_COLUMNS = ["tax_id", "qc_tax_id", "tax_id_issues"]
NATIONAL_ID_COLUMNS = ["national_id", "national_id_type", "qc_national_id", "national_id_issues"]

_INN10_WEIGHTS = (2, 4, 10, 3, 5, 9, 4, 6, 8)
_INN11_WEIGHTS = (7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
_INN12_WEIGHTS = (3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8)

#: ISO 3166-1 alpha-2 codes plus the VAT-only prefixes EL (Greece), XI (Northern Ireland)
#: and EU (non-Union OSS scheme). A two-letter prefix outside this set is not a country.
_COUNTRY_CODES = frozenset("""
AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR
BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ
EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW
GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY
KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV
MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY
QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG
TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM
ZW EL XI EU
""".split())

# "ИНН", "INN", "ИНН/КПП", "ИНН:", "ИНН №" in front of the number.
_TAX_PREFIX = re.compile(r"^(?:инн|inn)(?:\s*[/\\]\s*(?:кпп|kpp))?\s*[:№#.]?\s*", re.IGNORECASE)
# A KPP (tax registration reason code, 9 characters, the 5th-6th may be Latin letters since
# 2013) written after the INN: "7707083893/773601001", "7707083893 КПП 773601001".
_KPP_SUFFIX = re.compile(
    r"^(?P<inn>[\d\s\-]+?)\s*(?:[/\\,;]|\s(?:кпп|kpp)\s*[:№]?|\s)\s*(?P<kpp>\d{4}[\dA-Z]{2}\d{3})$",
    re.IGNORECASE,
)
_EXCEL_FLOAT = re.compile(r"^(\d+)\.0+$")
_EXCEL_SCIENTIFIC = re.compile(r"^\d(?:[.,]\d+)?[eE]\+?\d{1,2}$")
_FOREIGN_TAX_ID = re.compile(r"^([A-Za-z]{2})([0-9A-Za-z+*]{2,15})$")
_US_EIN = re.compile(r"^\d{2}-\d{7}$")
_SEPARATORS = re.compile(r"[\s\-.\u00a0\u2010-\u2015/]+")
_ALL_DIGITS = re.compile(r"^[0-9]+$")
_NON_DIGITS = re.compile(r"[^0-9]")
# The common spellings the vectorised path handles itself: "ИНН 7707083893", "7707 083 893".
_SIMPLE_TAX_ID = re.compile(r"^(?:(?:инн|inn) ?:? ?)?[0-9][0-9 \-]{8,14}[0-9]$", re.IGNORECASE)

_SNILS_LAST_UNCHECKED = 1_001_998
_SNILS_HINT = re.compile(r"\b(?:снилс|snils|страховое\s+свидетельство|свидетельство\s+пфр?)\b", re.IGNORECASE)
_PASSPORT_HINT = re.compile(r"\b(?:паспорт\w*|пасп\.?|passport)", re.IGNORECASE)
_FOREIGN_HINT = re.compile(r"\b(?:загран\w*|заграничн\w*|international|foreign|иностран\w*)", re.IGNORECASE)
# Words around the number that carry no information once the type is known.
_ID_NOISE = re.compile(
    r"\b(?:снилс|snils|страховое\s+свидетельство|паспорт\w*|пасп|passport|гражданина|"
    r"российской\s+федерации|рф|серия|сер|series|номер|ном|no|number|nr)\b\.?|№|#|:",
    re.IGNORECASE,
)
# Issue details often follow the number: "4510 123456 выдан ОВД Тверской 01.02.2010".
_ISSUED = re.compile(r"\b(?:выдан\w*|выд\.|дата\s+выдачи|issued|код\s+подразделения|к/п)\b.*$",
                     re.IGNORECASE | re.DOTALL)
_OFFICIAL_SNILS = re.compile(r"^\d{3}-\d{3}-\d{3}[ -]\d{2}$")
_OFFICIAL_PASSPORT = re.compile(r"^\d{2} ?\d{2} \d{6}$")
_DIGIT_GROUP = re.compile(r"(?<![\dA-Za-zА-Яа-яЁё])\d[\d \-]{8,14}\d(?![\dA-Za-zА-Яа-яЁё])")
_OTHER_ID = re.compile(r"^[0-9A-ZА-ЯЁ]{5,20}$")
# The last two digits of a passport series are the year the blank was printed (97..99, 00..).
# Blanks are printed ahead of use; update this bound when the calendar gets close.
_PASSPORT_LAST_YEAR = 30


def _checksum(digits: str, weights: tuple[int, ...]) -> int:
    # bytes of ASCII digits are 48 + digit: subtract the offset once instead of int() per digit
    return (sum(map(mul, digits.encode("ascii"), weights)) - 48 * sum(weights[:len(digits)])) % 11 % 10


def inn_is_valid(digits: str) -> bool:
    """True if ``digits`` is a 10- or 12-digit string whose INN check digit(s) are right."""
    if not _ALL_DIGITS.match(digits):
        return False
    if len(digits) == 10:
        return _checksum(digits, _INN10_WEIGHTS) == int(digits[9])
    if len(digits) == 12:
        return (_checksum(digits, _INN11_WEIGHTS) == int(digits[10])
                and _checksum(digits, _INN12_WEIGHTS) == int(digits[11]))
    return False


def snils_check_digits(number: str) -> str:
    """The two SNILS check digits for a 9-digit number (standard algorithm, see module doc)."""
    total = sum(int(d) * w for d, w in zip(number, range(9, 0, -1)))
    if total > 101:
        total %= 101
    return "00" if total in (100, 101) else f"{total:02d}"


def snils_is_valid(digits: str) -> bool:
    """True if ``digits`` is an 11-digit SNILS whose checksum holds (or predates checksums)."""
    if len(digits) != 11 or not _ALL_DIGITS.match(digits):
        return False
    if int(digits[:9]) <= _SNILS_LAST_UNCHECKED:
        return True
    return snils_check_digits(digits[:9]) == digits[9:]


def _inn_is_placeholder(inn: str) -> bool:
    """A checksum-valid INN that looks typed to fill a mandatory field."""
    body = inn[:9] if len(inn) == 10 else inn[:10]
    return len(set(body[2:])) == 1 or len(set(body)) <= 2 or is_digit_run(body) or is_digit_run(body[2:])


def _result(value: str | None, qc: int, issues: list[str]) -> dict:
    return {"tax_id": value, "qc_tax_id": qc, "tax_id_issues": issues or None}


def _judge_inn(digits: str, issues: list[str]) -> dict:
    """Validate a digits-only candidate INN; ``issues`` already holds the reformatting codes."""
    if len(digits) in (9, 11):
        padded = "0" + digits
        if inn_is_valid(padded) and padded[:2] != "00":
            digits = padded
            issues.append("tax_id:zero_restored")
        else:
            return _result(None, QC_INVALID, ["tax_id:wrong_length"])
    if len(digits) not in (10, 12):
        return _result(None, QC_INVALID, ["tax_id:wrong_length"])
    if not inn_is_valid(digits):
        return _result(None, QC_INVALID, ["tax_id:bad_checksum"])
    if digits[:2] == "00":
        return _result(None, QC_INVALID, ["tax_id:placeholder" if set(digits) == {"0"} else "tax_id:invalid_region"])
    if _inn_is_placeholder(digits):
        return _result(digits, QC_SUSPICIOUS, issues + ["tax_id:placeholder"])
    return _result(digits, QC_CORRECTED if issues else QC_VALID, issues)


def clean_tax_id(raw: str) -> dict:
    """Clean one tax id; returns ``{"tax_id", "qc_tax_id", "tax_id_issues"}``.

    Guarantees: a Russian INN comes out as 10 or 12 digits with a valid checksum, or null
    with qc 3; qc 1 when separators, an "ИНН" or "RU" prefix, a trailing KPP, an Excel
    number form ("7707083893.0", "7.707083893E+09") or fullwidth digits were normalised, or
    a lost leading zero restored (only when the padded 9/11-digit value
    passes the checksum); qc 2 for checksum-valid placeholders (7700000009) and for foreign
    ids with a country prefix or the US EIN shape, which are kept (letters upper-cased,
    separators removed) but cannot be verified. Never raises on any string.
    """
    text = (raw if raw.isascii() else unicodedata.normalize("NFKC", raw)).strip()  # fullwidth digits
    if not text:
        return _result(None, None, [])  # type: ignore[arg-type]
    if len(text) > MAX_VALUE_LENGTH:
        return _result(None, QC_INVALID, ["tax_id:too_long"])
    issues: list[str] = [] if text == raw.strip() else ["tax_id:reformatted"]
    if _ALL_DIGITS.match(text):
        return _judge_inn(text, issues)

    if _US_EIN.match(text):
        return _result(text, QC_SUSPICIOUS, ["tax_id:unverified_format"])
    body = _TAX_PREFIX.sub("", text)
    excel = _EXCEL_FLOAT.match(body)
    if excel:
        body = excel.group(1)
    elif _EXCEL_SCIENTIFIC.match(body):
        try:
            number = Decimal(body.replace(",", "."))
        except InvalidOperation:  # pragma: no cover - the pattern only admits valid numbers
            number = None
        if number is not None and number == number.to_integral_value():
            body = str(int(number))
    kpp = _KPP_SUFFIX.match(body)
    if kpp and len(re.sub(r"\D", "", kpp.group("inn"))) in (9, 10, 11, 12):
        body = kpp.group("inn")
        issues.append("tax_id:kpp_removed")
    compact = _SEPARATORS.sub("", body)

    foreign = _FOREIGN_TAX_ID.match(compact)
    if foreign and foreign.group(1).upper() in _COUNTRY_CODES and sum(c.isdigit() for c in compact) >= 2:
        country = foreign.group(1).upper()
        rest = foreign.group(2).upper()
        if country == "RU" and _ALL_DIGITS.match(rest):
            return _judge_inn(rest, issues if "tax_id:reformatted" in issues else ["tax_id:reformatted", *issues])
        return _result(country + rest, QC_SUSPICIOUS, ["tax_id:unverified_format"])
    if not compact.isascii() or not compact.isdigit():
        return _result(None, QC_INVALID, ["tax_id:not_a_number"])
    if compact != text and issues[:1] != ["tax_id:reformatted"]:
        issues.insert(0, "tax_id:reformatted")
    return _judge_inn(compact, issues)


def clean_tax_ids(values: pd.Series) -> pd.DataFrame:
    """Vectorised :func:`clean_tax_id` over distinct values.

    Returns a frame with the index of ``values`` and exactly the columns ``tax_id``
    (str), ``qc_tax_id`` (Int8) and ``tax_id_issues`` (list of str or None); blank cells
    give all-null rows. 10- and 12-digit values, bare or with spaces, dashes or an "ИНН"
    prefix (the bulk of real data), are checked with numpy in one pass; every other
    spelling goes through :func:`clean_tax_id`. Both paths give identical results.
    """
    return _map_distinct(values, clean_tax_id, _fast_tax_ids, TAX_ID_COLUMNS, "qc_tax_id")


# --------------------------------------------------------------------------- vectorised machinery

_FastRule = Callable[[list[str]], list[tuple | None]]


def _map_distinct(values: pd.Series, rule: Callable[[str], dict], fast: _FastRule, columns: list[str],
                  qc_column: str) -> pd.DataFrame:
    """Like ``base.map_distinct`` (same output, stripped distinct values, blank -> null row),
    but hands all distinct values to ``fast`` first; ``rule`` gets the ones it returns None for."""
    codes, uniques = pd.factorize(np.asarray(values, dtype=object), use_na_sentinel=True)
    stripped = [v.strip() if isinstance(v, str) else "" for v in uniques]
    empty = (None,) * len(columns)
    rows: list[tuple | None] = fast(stripped)
    for i, (text, row) in enumerate(zip(stripped, rows)):
        if row is None:
            rows[i] = tuple(rule(text).get(c) for c in columns) if text else empty
    rows.append(empty)  # code -1: missing
    frame = pd.DataFrame(index=values.index)
    for j, column in enumerate(columns):
        table = np.empty(len(rows), dtype=object)
        table[:] = [r[j] for r in rows]  # type: ignore[index]
        frame[column] = pd.Series(table[codes], index=values.index, dtype="object")
    frame[qc_column] = frame[qc_column].astype("Int8")
    return frame


def _digit_matrix(texts: list[str], width: int) -> np.ndarray:
    """Rows of digits of equally long ASCII digit strings."""
    raw = np.frombuffer("".join(texts).encode("ascii"), dtype=np.uint8).reshape(len(texts), width)
    return raw.astype(np.int64) - 48


def _distinct_digits(matrix: np.ndarray) -> np.ndarray:
    present = np.zeros((len(matrix), 10), dtype=bool)
    present[np.arange(len(matrix))[:, None], matrix] = True
    return present.sum(axis=1)


def _runs(matrix: np.ndarray) -> np.ndarray:
    """Rows that are ascending or descending digit runs (wrapping 9-0, as :func:`~pipelines.cleanse.base.is_digit_run`)."""
    steps = np.diff(matrix, axis=1) % 10
    return (steps == 1).all(axis=1) | (steps == 9).all(axis=1)


def _group_by_length(texts: list[str], lengths: tuple[int, ...]) -> dict[int, list[int]]:
    groups: dict[int, list[int]] = {n: [] for n in lengths}
    for i, text in enumerate(texts):
        if len(text) in groups and text.isdigit() and text.isascii():
            groups[len(text)].append(i)
    return groups


def _fast_tax_ids(texts: list[str]) -> list[tuple | None]:
    """Results of :func:`clean_tax_id` for 10/12-digit texts, bare or with spaces, dashes or an
    "ИНН" prefix; None for the rest."""
    compact = []
    for text in texts:
        if text.isdigit() and text.isascii():
            compact.append(text)
        elif _SIMPLE_TAX_ID.match(text):
            compact.append(_NON_DIGITS.sub("", text[3:] if text[:3].lower() in ("инн", "inn") else text))
        else:
            compact.append("")
    rows: list[tuple | None] = [None] * len(texts)
    for width, positions in _group_by_length(compact, (10, 12)).items():
        if not positions:
            continue
        m = _digit_matrix([compact[i] for i in positions], width)
        if width == 10:
            valid = (m[:, :9] @ np.array(_INN10_WEIGHTS)) % 11 % 10 == m[:, 9]
        else:
            valid = (((m[:, :10] @ np.array(_INN11_WEIGHTS)) % 11 % 10 == m[:, 10])
                     & ((m[:, :11] @ np.array(_INN12_WEIGHTS)) % 11 % 10 == m[:, 11]))
        body = m[:, :9] if width == 10 else m[:, :10]
        region00 = (m[:, 0] == 0) & (m[:, 1] == 0)
        all_zero = ~m.any(axis=1)
        placeholder = ((body[:, 2:] == body[:, 2:3]).all(axis=1) | (_distinct_digits(body) <= 2)
                       | _runs(body) | _runs(body[:, 2:]))
        for k, i in enumerate(positions):
            reformatted = compact[i] != texts[i]
            if not valid[k]:
                rows[i] = (None, QC_INVALID, ["tax_id:bad_checksum"])
            elif region00[k]:
                rows[i] = (None, QC_INVALID, ["tax_id:placeholder" if all_zero[k] else "tax_id:invalid_region"])
            elif placeholder[k]:
                rows[i] = (compact[i], QC_SUSPICIOUS,
                           ["tax_id:reformatted", "tax_id:placeholder"] if reformatted else ["tax_id:placeholder"])
            elif reformatted:
                rows[i] = (compact[i], QC_CORRECTED, ["tax_id:reformatted"])
            else:
                rows[i] = (compact[i], QC_VALID, None)
    return rows


# --------------------------------------------------------------------------- national ids


def _national(value: str | None, kind: str | None, qc: int, issues: list[str]) -> dict:
    return {"national_id": value, "national_id_type": kind if value is not None else None,
            "qc_national_id": qc, "national_id_issues": issues or None}


def _judge_snils(digits: str, issues: list[str]) -> dict:
    number = int(digits[:9])
    if number == 0:
        return _national(None, None, QC_INVALID, ["national_id:placeholder"])
    if number <= _SNILS_LAST_UNCHECKED:
        return _national(digits, "snils", QC_SUSPICIOUS, issues + ["national_id:unverifiable_checksum"])
    if snils_check_digits(digits[:9]) != digits[9:]:
        return _national(None, None, QC_INVALID, ["national_id:bad_checksum"])
    if len(set(digits[:9])) <= 2 or is_digit_run(digits[:9]):
        return _national(digits, "snils", QC_SUSPICIOUS, issues + ["national_id:placeholder"])
    return _national(digits, "snils", QC_CORRECTED if issues else QC_VALID, issues)


def _judge_passport(digits: str, issues: list[str]) -> dict:
    if set(digits) == {"0"}:
        return _national(None, None, QC_INVALID, ["national_id:placeholder"])
    if len(set(digits)) <= 2 or is_digit_run(digits) or set(digits[4:]) == {"0"}:
        return _national(digits, "passport_ru", QC_SUSPICIOUS, issues + ["national_id:placeholder"])
    year = int(digits[2:4])
    if digits[:2] == "00" or _PASSPORT_LAST_YEAR < year < 97:
        return _national(digits, "passport_ru", QC_SUSPICIOUS, issues + ["national_id:implausible_series"])
    return _national(digits, "passport_ru", QC_CORRECTED if issues else QC_VALID, issues)


def clean_national_id(raw: str, default_country: str = "RU") -> dict:
    """Clean one national id; returns the keys of ``NATIONAL_ID_COLUMNS``.

    Types: ``snils`` (11 digits, checksum verified; qc 2 for pre-checksum numbers up to
    001-001-998 and for digit-run placeholders), ``passport_ru`` (10 digits: 4-digit series
    and 6-digit number; qc 2 for placeholders and series whose year part is implausible),
    ``other`` (any other plausible document number, 5-20 letters/digits with at least 3
    digits, upper-cased without separators, qc 2 because it cannot be verified). Without a
    keyword ("СНИЛС", "паспорт") bare 10/11-digit numbers are read as Russian documents only
    when ``default_country`` is RU. The value is digits only; the official spellings
    ("112-233-445 95", "4510 123456", "45 10 123456") count as valid as given (qc 0), other
    spellings and removed words ("паспорт", "выдан ...") as standardised (qc 1). Invalid
    values give a null id and type with qc 3. Never raises on any string.
    """
    text = (raw if raw.isascii() else unicodedata.normalize("NFKC", raw)).strip()  # fullwidth digits
    if not text:
        return _national(None, None, None, [])  # type: ignore[arg-type]
    if len(text) > MAX_VALUE_LENGTH:
        return _national(None, None, QC_INVALID, ["national_id:too_long"])
    if _ALL_DIGITS.match(text):
        official, body, hint = text == raw.strip(), text, None
    else:
        official = bool(_OFFICIAL_SNILS.match(text) or _OFFICIAL_PASSPORT.match(text))
        hint = ("snils" if _SNILS_HINT.search(text) else
                "foreign" if _FOREIGN_HINT.search(text) else
                "passport" if _PASSPORT_HINT.search(text) else None)
        body = _ISSUED.sub("", text)
        if hint == "foreign":
            body = _FOREIGN_HINT.sub(" ", body)
        body = _ID_NOISE.sub(" ", body)
    compact = _SEPARATORS.sub("", body).upper()
    issues = [] if official else ["national_id:reformatted"]
    russian = (default_country or "").upper() == "RU"
    if hint in ("snils", "passport") and not compact.isdigit():
        # A keyword names the document, so words around the number are commentary.
        groups = _DIGIT_GROUP.findall(body)
        if len(groups) == 1:
            compact = _SEPARATORS.sub("", groups[0])
            issues.append("national_id:extra_text_removed")

    if compact.isdigit() and compact.isascii() and hint != "foreign":
        if len(compact) == 11 and (hint == "snils" or (hint is None and russian)):
            return _judge_snils(compact, issues)
        if len(compact) == 10 and (hint == "passport" or (hint is None and russian)):
            return _judge_passport(compact, issues)
        if hint == "snils":
            return _national(None, None, QC_INVALID, ["national_id:wrong_length"])
        if hint == "passport" and russian and len(compact) in (9, 11):
            return _national(None, None, QC_INVALID, ["national_id:wrong_length"])
    if _OTHER_ID.match(compact) and sum(c.isdigit() for c in compact) >= 3 and len(set(compact)) > 1:
        return _national(compact, "other", QC_SUSPICIOUS, ["national_id:unverified_format"])
    return _national(None, None, QC_INVALID, ["national_id:not_an_id"])


def clean_national_ids(values: pd.Series, default_country: str = "RU") -> pd.DataFrame:
    """Vectorised :func:`clean_national_id` over distinct values.

    Returns a frame with the index of ``values`` and exactly the columns ``national_id``,
    ``national_id_type``, ``qc_national_id`` (Int8) and ``national_id_issues``. With
    ``default_country`` RU, bare or officially spelled SNILS and passport numbers are
    checked with numpy in one pass; everything else goes through :func:`clean_national_id`.
    """
    fast = _fast_national_ids if (default_country or "").upper() == "RU" else (lambda texts: [None] * len(texts))
    return _map_distinct(values, lambda v: clean_national_id(v, default_country), fast, NATIONAL_ID_COLUMNS,
                         "qc_national_id")


def _fast_national_ids(texts: list[str]) -> list[tuple | None]:
    """Results of :func:`clean_national_id` (country RU) for bare digits and the official
    spellings of SNILS and passport numbers, None for the rest."""
    compact = []
    for text in texts:
        if text.isdigit() and text.isascii():
            compact.append(text)
        elif _OFFICIAL_SNILS.match(text) or _OFFICIAL_PASSPORT.match(text):
            compact.append(text.replace("-", "").replace(" ", ""))
        else:
            compact.append("")
    rows: list[tuple | None] = [None] * len(texts)
    groups = _group_by_length(compact, (10, 11))
    if groups[11]:
        m = _digit_matrix([compact[i] for i in groups[11]], 11)
        number = m[:, :9] @ (10 ** np.arange(8, -1, -1))
        total = m[:, :9] @ np.arange(9, 0, -1)
        check = np.where(total > 101, total % 101, total)
        check = np.where((check == 100) | (check == 101), 0, check)
        valid = check == m[:, 9] * 10 + m[:, 10]
        placeholder = (_distinct_digits(m[:, :9]) <= 2) | _runs(m[:, :9])
        for k, i in enumerate(groups[11]):
            digits = compact[i]
            if number[k] == 0:
                rows[i] = (None, None, QC_INVALID, ["national_id:placeholder"])
            elif number[k] <= _SNILS_LAST_UNCHECKED:
                rows[i] = (digits, "snils", QC_SUSPICIOUS, ["national_id:unverifiable_checksum"])
            elif not valid[k]:
                rows[i] = (None, None, QC_INVALID, ["national_id:bad_checksum"])
            elif placeholder[k]:
                rows[i] = (digits, "snils", QC_SUSPICIOUS, ["national_id:placeholder"])
            else:
                rows[i] = (digits, "snils", QC_VALID, None)
    if groups[10]:
        m = _digit_matrix([compact[i] for i in groups[10]], 10)
        all_zero = ~m.any(axis=1)
        placeholder = (_distinct_digits(m) <= 2) | _runs(m) | ~m[:, 4:].any(axis=1)
        year = m[:, 2] * 10 + m[:, 3]
        implausible = ((m[:, 0] == 0) & (m[:, 1] == 0)) | ((year > _PASSPORT_LAST_YEAR) & (year < 97))
        for k, i in enumerate(groups[10]):
            digits = compact[i]
            if all_zero[k]:
                rows[i] = (None, None, QC_INVALID, ["national_id:placeholder"])
            elif placeholder[k]:
                rows[i] = (digits, "passport_ru", QC_SUSPICIOUS, ["national_id:placeholder"])
            elif implausible[k]:
                rows[i] = (digits, "passport_ru", QC_SUSPICIOUS, ["national_id:implausible_series"])
            else:
                rows[i] = (digits, "passport_ru", QC_VALID, None)
    return rows
