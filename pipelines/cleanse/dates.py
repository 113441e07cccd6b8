"""Dates: birth dates and record timestamps (created_at / updated_at).

Parsing is explicit and vectorised: every distinct cell is lower-cased and matched against a
short list of anchored patterns with pyarrow's RE2 engine (no python-dateutil guessing, which
reads 1985-02-01 as 2 January with ``dayfirst=True``). Accepted shapes:

* the source's ``date_format`` (strptime directives) when given, tried first;
* ``yyyy-mm-dd`` / ``yyyy.mm.dd`` / ``yyyy/mm/dd``, with an optional time
  (``2021-03-04 12:30:00``, ``2021-03-04T12:30:00.123+03:00``);
* ``dd.mm.yyyy`` / ``d.m.yyyy`` / ``dd.mm.yy`` / ``dd/mm/yyyy`` / ``dd-mm-yyyy`` with an
  optional time and a trailing Russian "г." / "года";
* ``yyyymmdd`` (and ``ddmmyyyy`` when ``yyyymmdd`` is impossible), optionally followed by
  ``hhmm[ss]``;
* month names in Russian, English, German, French: ``5 марта 1985``, ``05 мар 1985``,
  ``04-MAR-21``, ``March 5, 1985``, RFC 2822 ``Thu, 04 Mar 2021 12:30:00 +0300``;
* Excel serials (1900 date system) when the whole cell is a number from 1 to 60000
  (``31048``, ``31048.0``, ``44261,52``); a bare 4-digit number from 1800 to 2100 is a year,
  not a serial, and is rejected as ``year_only``;
* Unix epoch seconds / milliseconds, only for record timestamps (``epoch=True``).

Decisions a reader should know:

* Day first is the rule (Russia). Numbers separated by ``/``, ``-`` or a space whose day and
  month are both <= 12 and differ are flagged ``day_month_ambiguous`` (qc 2) unless the
  source's ``date_format`` fixed the order; dots (``03.04.1985``) are the national notation
  and are not flagged. When the day-first reading is impossible and the month-first one is
  not (``12/25/1985``) the value is read month-first (qc 1, ``month_first``).
* Time zones: the local wall time as written is kept and the offset dropped (qc 1,
  ``timezone_dropped``). Most sources write no offset at all and mean local time;
  converting only the values that carry one to UTC would shift them against their
  neighbours from the same source. Epoch numbers have no wall time and stay in UTC.
* Two-digit years take the century that puts them at or before ``pivot_year`` (Python's
  2068 by default; birth dates use the ``as_of`` year), always with ``two_digit_year``.
* qc 0 means an unambiguous standard shape: ISO ``yyyy-mm-dd[ hh:mm[:ss[.f]]]``,
  ``dd.mm.yyyy[ hh:mm[:ss]]`` with two-digit day and month, or the declared
  ``date_format``. Any other accepted shape is qc 1 with an issue saying why.
* Years outside 1000..2999 are ``out_of_range`` (qc 3).
"""

from __future__ import annotations

import csv
import datetime as dt
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from pipelines.cleanse.base import QC_CORRECTED, QC_INVALID, QC_SUSPICIOUS, QC_VALID

_DATA = Path(__file__).with_name("data")

#: Longest cell that can still be a date (longer ones are ``unparseable`` without a regex).
_MAX_DATE_LENGTH = 64

#: Default two-digit-year pivot, the one of Python's ``%y`` (69..99 -> 1900s, 00..68 -> 2000s).
DEFAULT_PIVOT_YEAR = 2068

# --- issue flags ---------------------------------------------------------------------------
# One bit per explanation code; the qc of a value is the worst level among its flags. The
# order of this table is the order of codes in the issue lists.
_FLAG_TABLE: tuple[tuple[str, int], ...] = (
    ("empty_marker", QC_INVALID),
    ("unparseable", QC_INVALID),
    ("zero_date", QC_INVALID),
    ("invalid_date", QC_INVALID),
    ("invalid_time", QC_INVALID),
    ("year_only", QC_INVALID),
    ("out_of_range", QC_INVALID),
    ("placeholder", QC_INVALID),
    ("before_1900", QC_INVALID),
    ("future", QC_INVALID),
    ("day_month_ambiguous", QC_SUSPICIOUS),
    ("implausible_age", QC_SUSPICIOUS),
    ("format_mismatch", QC_CORRECTED),
    ("month_first", QC_CORRECTED),
    ("two_digit_year", QC_CORRECTED),
    ("excel_serial", QC_CORRECTED),
    ("epoch", QC_CORRECTED),
    ("timezone_dropped", QC_CORRECTED),
    ("time_dropped", QC_CORRECTED),
    ("reformatted", QC_CORRECTED),
)
_BIT = {code: np.int64(1 << i) for i, (code, _) in enumerate(_FLAG_TABLE)}
_INVALID_MASK = sum(int(_BIT[c]) for c, q in _FLAG_TABLE if q == QC_INVALID)
_SUSPICIOUS_MASK = sum(int(_BIT[c]) for c, q in _FLAG_TABLE if q == QC_SUSPICIOUS)
_CORRECTED_MASK = sum(int(_BIT[c]) for c, q in _FLAG_TABLE if q == QC_CORRECTED)
# Flags that already explain why a value is not in a standard shape.
_EXPLAINS_SHAPE = sum(
    int(_BIT[c])
    for c in ("format_mismatch", "month_first", "two_digit_year", "excel_serial", "epoch",
              "timezone_dropped", "day_month_ambiguous")
)


def _read_table(name: str) -> list[dict[str, str]]:
    with open(_DATA / name, encoding="utf-8", newline="") as f:
        lines = [line for line in f if line.strip() and not line.startswith("#")]
    return list(csv.DictReader(lines))


@cache
def _month_names() -> dict[str, int]:
    return {r["name"].replace("ё", "е"): int(r["month"]) for r in _read_table("dates_month_names.csv")}


@cache
def _placeholders() -> np.ndarray:
    days = [np.datetime64(r["date"], "D") for r in _read_table("dates_placeholders.csv")]
    return np.array(days, dtype="datetime64[D]")


@cache
def _empty_markers() -> pa.Array:
    return pa.array([r["marker"] for r in _read_table("dates_empty_markers.csv")], pa.string())


# --- patterns (RE2, applied to lower-cased text with single spaces) ------------------------
_TIME = (
    r"(?:(?:\s*t\s*|\s+)(?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2})(?:[.,](?P<F>\d{1,9}))?)?"
    r"(?:\s*(?P<AP>[ap])\.?m\.?)?"
    r"(?:\s*(?P<TZ>z|utc|gmt|msk|мск|(?:utc|gmt)?[+-]\d{1,2}(?::?\d{2})?))?)?"
)
_YEAR_WORD = r"(?:\s*(?:г|года|год)\.?)?"
_WEEKDAY = (
    r"(?:(?:mon|tue|wed|thu|fri|sat|sun|пн|вт|ср|чт|пт|сб|вс|понедельник|вторник|среда"
    r"|четверг|пятница|суббота|воскресенье)\p{L}*\.?\s*,?\s*)?"
)
_P_YMD = (
    r"^(?P<y>\d{4})(?P<s1>[-./])(?P<m>\d{1,2})(?P<s2>[-./])(?P<d>\d{1,2})" + _YEAR_WORD + _TIME + "$"
)
_P_DMY = (
    r"^(?P<d>\d{1,2})(?P<s1>[-./ ])(?P<m>\d{1,2})(?P<s2>[-./ ])(?P<y>\d{4}|\d{2})"
    + _YEAR_WORD + _TIME + "$"
)
_P_COMPACT = r"^(?P<c>\d{8})(?:\s*t?\s*(?P<H>\d{2})(?P<M>\d{2})(?P<S>\d{2})?)?$"
_P_TEXT_DMY = (
    "^" + _WEEKDAY + r"(?P<d>\d{1,2})\s*[-./]?\s*(?P<mon>\p{L}+)\.?\s*[-./,]?\s*(?P<y>\d{4}|\d{2})"
    + _YEAR_WORD + _TIME + "$"
)
_P_TEXT_MDY = (
    "^" + _WEEKDAY + r"(?P<mon>\p{L}+)\.?\s*[-./]?\s*(?P<d>\d{1,2})(?:st|nd|rd|th)?\s*[-./,]?\s*"
    r"(?P<y>\d{4})" + _TIME + "$"
)
_P_NUMBER = r"^(?P<i>\d{1,5})(?:[.,](?P<F>\d{1,15}))?$"
_P_EPOCH = r"^(?P<e>\d{9,10}|\d{12,13})$"

_EXCEL_EPOCH = np.datetime64("1899-12-30", "us")
_US_PER_DAY = 86_400_000_000


def _strptime_to_re2(fmt: str) -> str | None:
    """Translate a strptime format into one of our anchored patterns, None if unsupported."""
    pieces = {
        "d": r"(?P<d>\d{1,2})", "m": r"(?P<m>\d{1,2})", "Y": r"(?P<y>\d{4})",
        "y": r"(?P<y>\d{2})", "H": r"(?P<H>\d{1,2})", "I": r"(?P<H>\d{1,2})",
        "M": r"(?P<M>\d{2})", "S": r"(?P<S>\d{2})", "f": r"(?P<F>\d{1,9})",
        "b": r"(?P<mon>\p{L}+)\.?", "B": r"(?P<mon>\p{L}+)\.?", "h": r"(?P<mon>\p{L}+)\.?",
        "p": r"(?P<AP>[ap])\.?m\.?",
        "z": r"(?P<TZ>z|[+-]\d{2}(?::?\d{2})?)", "Z": r"(?P<TZ>z|utc|gmt|msk|[a-z]{3,5})",
        "a": r"\p{L}+\.?", "A": r"\p{L}+", "T": r"(?P<H>\d{1,2}):(?P<M>\d{2}):(?P<S>\d{2})",
        "%": "%",
    }
    out, used, i = ["^"], set(), 0
    while i < len(fmt):
        ch = fmt[i]
        if ch == "%":
            if i + 1 >= len(fmt) or fmt[i + 1] not in pieces:
                return None
            key = fmt[i + 1]
            piece = pieces[key]
            names = {n for n in ("d", "m", "y", "H", "M", "S", "F", "mon", "AP", "TZ") if f"<{n}>" in piece}
            if names & used:  # a field twice: RE2 forbids duplicate group names
                return None
            used |= names
            out.append(piece)
            i += 2
            continue
        if ch.isspace():
            out.append(r"\s*")
        elif ch in r".^$*+?()[]{}|\/-":
            out.append("\\" + ch)
        else:
            out.append(ch.lower())
        i += 1
    if "y" not in used or not ({"m", "mon"} & used) or "d" not in used:
        return None
    out.append("$")
    return "".join(out)


# --- the vectorised core -------------------------------------------------------------------
class _Parsed:
    """Per distinct text: the parsed value (NaT when none), its flag bits and its parts."""

    def __init__(self, n: int) -> None:
        self.value = np.full(n, np.datetime64("NaT"), dtype="datetime64[us]")
        self.flags = np.zeros(n, dtype=np.int64)
        self.done = np.zeros(n, dtype=bool)
        # components for the rows that matched a component pattern
        self.pending = np.zeros(n, dtype=bool)
        self.y = np.zeros(n, dtype=np.int64)
        self.m = np.zeros(n, dtype=np.int64)
        self.d = np.zeros(n, dtype=np.int64)
        self.h = np.zeros(n, dtype=np.int64)
        self.mi = np.zeros(n, dtype=np.int64)
        self.s = np.zeros(n, dtype=np.int64)
        self.us = np.zeros(n, dtype=np.int64)
        self.short_year = np.zeros(n, dtype=bool)
        self.ap = np.zeros(n, dtype=np.int8)  # 0 none, 1 am, 2 pm
        self.standard = np.zeros(n, dtype=bool)

    def flag(self, idx: np.ndarray, code: str) -> None:
        self.flags[idx] |= _BIT[code]


def _np(a: pa.Array) -> np.ndarray:
    return a.to_numpy(zero_copy_only=False)


def _ints(a: pa.Array) -> np.ndarray:
    """Digits to int64; empty strings (groups that did not take part) become 0."""
    filled = pc.if_else(pc.equal(a, ""), "0", a)
    return _np(pc.cast(filled, pa.int64()))


def _present(a: pa.Array) -> np.ndarray:
    return _np(pc.not_equal(a, ""))


def _eq(a: pa.Array, text: str) -> np.ndarray:
    return _np(pc.equal(a, text))


def _length(a: pa.Array) -> np.ndarray:
    return _np(pc.utf8_length(a))


def _extract(norm: pa.Array, todo: np.ndarray, pattern: str) -> tuple[np.ndarray, dict[str, pa.Array]]:
    """Match ``pattern`` on the rows ``todo``; return the matched row numbers and their groups."""
    idx = np.flatnonzero(todo)
    if idx.size == 0:
        return idx, {}
    matched = pc.extract_regex(norm.take(pa.array(idx)), pattern)
    ok = _np(matched.is_valid()).astype(bool)
    if not ok.any():
        return idx[:0], {}
    keep = pa.array(ok)
    fields = {matched.type.field(i).name: matched.field(i).filter(keep) for i in range(matched.type.num_fields)}
    return idx[ok], fields


def _take_time(p: _Parsed, rows: np.ndarray, g: dict[str, pa.Array]) -> None:
    """Copy the optional time groups (H, M, S, F, AP, TZ) of matched rows into ``p``."""
    if "H" in g:
        p.h[rows] = _ints(g["H"])
        p.mi[rows] = _ints(g["M"])
    if "S" in g:
        p.s[rows] = _ints(g["S"])
    if "F" in g:
        p.us[rows] = _ints(pc.utf8_slice_codeunits(pc.utf8_rpad(g["F"], 6, "0"), 0, 6))
    if "AP" in g:
        p.ap[rows] = np.where(_eq(g["AP"], "a"), 1, np.where(_eq(g["AP"], "p"), 2, 0))
    if "TZ" in g:
        p.flag(rows[_present(g["TZ"])], "timezone_dropped")


def _accept_components(p: _Parsed, rows: np.ndarray, y: np.ndarray, m: np.ndarray, d: np.ndarray,
                       short_year: np.ndarray | None = None) -> None:
    p.y[rows], p.m[rows], p.d[rows] = y, m, d
    if short_year is not None:
        p.short_year[rows] = short_year
    p.pending[rows] = True
    p.done[rows] = True


def _month_words(words: pa.Array) -> np.ndarray:
    """Month number of each (lower-case, ё-folded) word; 0 when it names no month."""
    names = _month_names()
    keys = pa.array(list(names), pa.string())
    months = np.array([0, *names.values()], dtype=np.int64)
    pos = _np(pc.fill_null(pc.index_in(words, value_set=keys), -1)).astype(np.int64)
    return months[pos + 1]


def _to_arrow(texts: np.ndarray) -> pa.Array:
    """Python strings to an Arrow array; unencodable code points (lone surrogates) become U+FFFD."""
    try:
        return pa.array(texts, pa.string(), from_pandas=True)
    except (UnicodeEncodeError, pa.ArrowException):
        clean = [t.encode("utf-8", "replace").decode("utf-8") if isinstance(t, str) else None for t in texts]
        return pa.array(clean, pa.string())


def _normalise(arr: pa.Array) -> pa.Array:
    arr = pc.utf8_lower(arr)
    arr = pc.replace_substring(arr, "ё", "е")
    messy = pc.fill_null(pc.match_substring_regex(arr, r"\s\s|[^\S ]"), False)
    if pc.any(messy).as_py():  # collapsing white space is slow: only where needed
        tidy = pc.replace_substring_regex(arr.filter(messy), r"\s+", " ")
        arr = pc.replace_with_mask(arr, messy, tidy)
    arr = pc.utf8_trim(arr, " '\"")  # Excel's text prefix ' and stray quotes
    return pc.fill_null(arr, "")


def _parse_core(texts: pa.Array, date_format: str | None, pivot_year: int,
                epoch: bool) -> _Parsed:
    """Parse distinct, stripped, non-empty texts. Pure; see the module docstring."""
    n = len(texts)
    p = _Parsed(n)
    if n == 0:
        return p
    too_long = _length(texts) > _MAX_DATE_LENGTH
    norm = _normalise(pc.if_else(pa.array(too_long), None, texts))
    p.flag(np.flatnonzero(too_long), "unparseable")
    p.done |= too_long

    marker = _np(pc.is_in(norm, value_set=_empty_markers())).astype(bool) & ~p.done
    p.flag(np.flatnonzero(marker), "empty_marker")
    p.done |= marker

    fell_through = np.zeros(n, dtype=bool)
    if date_format:
        pattern = _strptime_to_re2(date_format)
        if pattern is not None:
            rows, g = _extract(norm, ~p.done, pattern)
            if rows.size:
                mon = _month_words(g["mon"]) if "mon" in g else _ints(g["m"])
                known = mon > 0
                rows_k = rows[known]
                g = {k: v.filter(pa.array(known)) for k, v in g.items()}
                y = _ints(g["y"])
                _accept_components(p, rows_k, y, mon[known], _ints(g["d"]),
                                   np.full(rows_k.size, "%y" in date_format))
                _take_time(p, rows_k, g)
                p.standard[rows_k] = True
        else:  # a directive we do not translate: let pandas apply the format as is
            todo = np.flatnonzero(~p.done)
            raw = pd.Series(texts.take(pa.array(todo)).to_pylist(), dtype=object)
            parsed = pd.to_datetime(raw, format=date_format, errors="coerce")
            got = parsed.notna().to_numpy()
            if got.any():
                vals = parsed[got].dt.tz_localize(None) if parsed.dt.tz is not None else parsed[got]
                p.value[todo[got]] = vals.to_numpy().astype("datetime64[us]")
                p.standard[todo[got]] = True
                p.done[todo[got]] = True
        fell_through = ~p.done

    _match_fixed(p, norm)
    _match_ymd(p, norm)
    _match_dmy(p, norm, ambiguity=True)
    _match_compact(p, norm)
    _match_text(p, norm)
    _match_number(p, norm)
    if epoch:
        _match_epoch(p, norm)

    rest = ~p.done
    p.flag(np.flatnonzero(rest), "unparseable")
    _assemble(p, pivot_year)

    parsed_ok = ~np.isnat(p.value)
    p.flag(np.flatnonzero(fell_through & parsed_ok), "format_mismatch")
    nonstandard = parsed_ok & ~p.standard & ((p.flags & _EXPLAINS_SHAPE) == 0)
    p.flag(np.flatnonzero(nonstandard), "reformatted")
    return p


# The standard shapes, most of any real column: a DFA test, then digits read at fixed offsets.
_FIXED_SHAPES: tuple[tuple[str, int, int, int], ...] = (
    (r"^\d{4}-\d{2}-\d{2}(?:[ t]\d{2}:\d{2}(?::\d{2})?)?$", 0, 5, 8),
    (r"^\d{2}\.\d{2}\.\d{4}(?: \d{2}:\d{2}(?::\d{2})?)?$", 6, 3, 0),
)
_FIXED_WIDTH = 19  # "yyyy-mm-dd hh:mm:ss"; shorter matches are padded with zeros


def _digit_matrix(texts: pa.Array) -> np.ndarray | None:
    """Digits of equal-width ASCII texts as an (n, width) int matrix (None if not equal-width)."""
    padded = pc.utf8_rpad(texts, _FIXED_WIDTH, "0")
    n = len(padded)
    offsets = np.frombuffer(padded.buffers()[1], dtype=np.int32)[padded.offset: padded.offset + n + 1]
    if offsets[-1] - offsets[0] != n * _FIXED_WIDTH:
        return None
    data = np.frombuffer(padded.buffers()[2], dtype=np.uint8)[offsets[0]: offsets[-1]]
    return data.reshape(n, _FIXED_WIDTH).astype(np.int64) - ord("0")


def _match_fixed(p: _Parsed, norm: pa.Array) -> None:
    for pattern, y_at, m_at, d_at in _FIXED_SHAPES:
        idx = np.flatnonzero(~p.done)
        if not idx.size:
            return
        sub = norm.take(pa.array(idx))
        ok = _np(pc.match_substring_regex(sub, pattern)).astype(bool)
        if not ok.any():
            continue
        digits = _digit_matrix(sub.filter(pa.array(ok)))
        if digits is None:
            continue

        def num(at: int, width: int = 2) -> np.ndarray:
            out = np.zeros(len(digits), dtype=np.int64)
            for k in range(width):
                out = out * 10 + digits[:, at + k]
            return out

        rows = idx[ok]
        _accept_components(p, rows, num(y_at, 4), num(m_at), num(d_at))
        p.h[rows], p.mi[rows], p.s[rows] = num(11), num(14), num(17)
        p.standard[rows] = True


def _match_ymd(p: _Parsed, norm: pa.Array) -> None:
    rows, g = _extract(norm, ~p.done, _P_YMD)
    if not rows.size:
        return
    rows, g = _same_separators(rows, g)
    _accept_components(p, rows, _ints(g["y"]), _ints(g["m"]), _ints(g["d"]))
    _take_time(p, rows, g)
    std = _eq(g["s1"], "-") & (_length(g["m"]) == 2) & (_length(g["d"]) == 2)
    std &= _standard_time(g)
    p.standard[rows] = std


def _standard_time(g: dict[str, pa.Array]) -> np.ndarray:
    """The time part, if any, is ``hh:mm[:ss[.f]]`` with no am/pm."""
    h_len = _length(g["H"])
    return ((h_len == 0) | (h_len == 2)) & _eq(g["AP"], "")


def _same_separators(rows: np.ndarray, g: dict[str, pa.Array]) -> tuple[np.ndarray, dict[str, pa.Array]]:
    """Keep the matches whose two date separators are the same character (RE2 has no backreferences)."""
    same = _np(pc.equal(g["s1"], g["s2"]))
    if same.all():
        return rows, g
    keep = pa.array(same)
    return rows[same], {k: v.filter(keep) for k, v in g.items()}


def _match_dmy(p: _Parsed, norm: pa.Array, ambiguity: bool) -> None:
    rows, g = _extract(norm, ~p.done, _P_DMY)
    if not rows.size:
        return
    rows, g = _same_separators(rows, g)
    d, m = _ints(g["d"]), _ints(g["m"])
    dots = _eq(g["s1"], ".")
    short = _length(g["y"]) == 2
    swap = (m > 12) & (d >= 1) & (d <= 12) & (m <= 31)
    day, month = np.where(swap, m, d), np.where(swap, d, m)
    _accept_components(p, rows, _ints(g["y"]), month, day, short)
    _take_time(p, rows, g)
    p.flag(rows[swap], "month_first")
    if ambiguity:
        amb = ~dots & (d >= 1) & (d <= 12) & (m >= 1) & (m <= 12) & (d != m)
        p.flag(rows[amb], "day_month_ambiguous")
    std = dots & (_length(g["d"]) == 2) & (_length(g["m"]) == 2) & ~short
    p.standard[rows] = std & _standard_time(g)


def _match_compact(p: _Parsed, norm: pa.Array) -> None:
    rows, g = _extract(norm, ~p.done, _P_COMPACT)
    if not rows.size:
        return
    c = _ints(g["c"])
    y1, m1, d1 = c // 10000, c // 100 % 100, c % 100  # yyyymmdd
    d2, m2, y2 = c // 1000000, c // 10000 % 100, c % 10000  # ddmmyyyy
    first_ok = (y1 >= 1000) & (m1 >= 1) & (m1 <= 12) & (d1 >= 1) & (d1 <= 31)
    second_ok = ~first_ok & (y2 >= 1000) & (m2 >= 1) & (m2 <= 12) & (d2 >= 1) & (d2 <= 31)
    _accept_components(p, rows, np.where(second_ok, y2, y1), np.where(second_ok, m2, m1),
                       np.where(second_ok, d2, d1))
    _take_time(p, rows, g)


def _match_text(p: _Parsed, norm: pa.Array) -> None:
    for pattern in (_P_TEXT_DMY, _P_TEXT_MDY):
        rows, g = _extract(norm, ~p.done, pattern)
        if not rows.size:
            continue
        mon = _month_words(g["mon"])
        known = mon > 0
        keep = pa.array(known)
        rows, g, mon = rows[known], {k: v.filter(keep) for k, v in g.items()}, mon[known]
        if not rows.size:
            continue
        short = _length(g["y"]) == 2
        _accept_components(p, rows, _ints(g["y"]), mon, _ints(g["d"]), short)
        _take_time(p, rows, g)


def _match_number(p: _Parsed, norm: pa.Array) -> None:
    rows, g = _extract(norm, ~p.done, _P_NUMBER)
    if not rows.size:
        return
    whole = _ints(g["i"])
    frac = _np(pc.cast(pc.binary_join_element_wise("0", g["F"], "."), pa.float64()))
    p.done[rows] = True
    year_only = (whole >= 1800) & (whole <= 2100) & (_length(g["i"]) == 4)
    p.flag(rows[year_only], "year_only")
    serial = ~year_only & (whole >= 1) & (whole <= 60000)
    p.flag(rows[~year_only & ~serial], "unparseable")
    # 1900 system: serial 60 is Excel's phantom 29 February 1900; below it days count from 31 Dec 1899.
    p.flag(rows[serial & (whole == 60)], "invalid_date")
    serial &= whole != 60
    base_days = np.where(whole < 60, whole + 1, whole)
    us = base_days * _US_PER_DAY + np.round(frac * 86_400).astype(np.int64) * 1_000_000
    value = _EXCEL_EPOCH + us.astype("timedelta64[us]")
    p.value[rows[serial]] = value[serial]
    p.flag(rows[serial], "excel_serial")


def _match_epoch(p: _Parsed, norm: pa.Array) -> None:
    rows, g = _extract(norm, ~p.done, _P_EPOCH)
    if not rows.size:
        return
    e = _ints(g["e"])
    millis = _length(g["e"]) >= 12
    us = np.where(millis, e * 1000, e * 1_000_000)
    p.value[rows] = np.datetime64("1970-01-01", "us") + us.astype("timedelta64[us]")
    p.done[rows] = True
    p.flag(rows, "epoch")


def _assemble(p: _Parsed, pivot_year: int) -> None:
    """Turn pending components into values, flagging impossible dates and times."""
    rows = np.flatnonzero(p.pending)
    if not rows.size:
        _range_check(p)
        return
    y, m, d = p.y[rows].copy(), p.m[rows], p.d[rows]
    short = p.short_year[rows]
    zero = (y == 0) & (m == 0) & (d == 0)
    century = (pivot_year // 100) * 100
    y = np.where(short, century + y, y)
    y = np.where(short & (y > pivot_year), y - 100, y)
    p.flag(rows[short & ~zero], "two_digit_year")
    p.flag(rows[zero], "zero_date")
    in_range = (y >= 1000) & (y <= 2999)
    p.flag(rows[~zero & ~in_range], "out_of_range")
    ys = np.where(in_range, y, 2000)
    month_ok = (m >= 1) & (m <= 12)
    ms = np.where(month_ok, m, 1)
    month_start = ((ys - 1970) * 12 + ms - 1).astype("datetime64[M]")
    days_in_month = ((month_start + 1).astype("datetime64[D]") - month_start.astype("datetime64[D]")).astype(np.int64)
    date_ok = month_ok & (d >= 1) & (d <= days_in_month)
    p.flag(rows[~zero & in_range & ~date_ok], "invalid_date")
    h, ap = p.h[rows].copy(), p.ap[rows]
    hour_ok = np.where(ap > 0, (h >= 1) & (h <= 12), h <= 23)
    h = np.where(ap == 2, np.where(h == 12, 12, h + 12), np.where((ap == 1) & (h == 12), 0, h))
    time_ok = hour_ok & (p.mi[rows] <= 59) & (p.s[rows] <= 59)
    good = ~zero & in_range & date_ok
    p.flag(rows[good & ~time_ok], "invalid_time")
    good &= time_ok
    day = month_start.astype("datetime64[D]") + (np.where(date_ok, d, 1) - 1).astype("timedelta64[D]")
    us = ((h * 60 + p.mi[rows]) * 60 + p.s[rows]) * 1_000_000 + p.us[rows]
    value = day.astype("datetime64[us]") + us.astype("timedelta64[us]")
    p.value[rows[good]] = value[good]
    _range_check(p)


def _range_check(p: _Parsed) -> None:
    """Serial and epoch values, and the declared-format fallback, share the year range."""
    have = ~np.isnat(p.value)
    years = p.value.astype("datetime64[Y]").astype(np.int64) + 1970
    bad = have & ((years < 1000) | (years > 2999))
    p.flag(np.flatnonzero(bad), "out_of_range")
    p.value[bad] = np.datetime64("NaT")


def _qc_of(flags: np.ndarray) -> np.ndarray:
    qc = np.full(flags.shape, QC_VALID, dtype=np.int8)
    qc[(flags & _CORRECTED_MASK) != 0] = QC_CORRECTED
    qc[(flags & _SUSPICIOUS_MASK) != 0] = QC_SUSPICIOUS
    qc[(flags & _INVALID_MASK) != 0] = QC_INVALID
    return qc


def _issue_lists(flags: np.ndarray, kind: str) -> np.ndarray:
    """Object array of issue lists (None when no flag), one per element of ``flags``."""
    uniq, inverse = np.unique(flags, return_inverse=True)
    lists = np.empty(len(uniq), dtype=object)
    for i, f in enumerate(uniq.tolist()):
        codes = [f"{kind}:{code}" for code, _ in _FLAG_TABLE if f & int(_BIT[code])]
        lists[i] = codes or None
    return lists[inverse.reshape(-1)]


def _as_text(value: object) -> str | None:
    """Text of a non-string cell (dates and numbers written out), None when blank."""
    if isinstance(value, str):
        return value
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=None).isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        return None if value != value else str(value)  # NaN is missing
    return None


def _distinct(values: pd.Series) -> tuple[np.ndarray, pa.Array]:
    """Distinct stripped non-blank texts, and for each row its position there (-1 if blank)."""
    codes, uniques = pd.factorize(values.to_numpy(dtype=object), use_na_sentinel=True)
    if pd.api.types.infer_dtype(uniques, skipna=True) != "string":
        uniques = np.array([_as_text(u) for u in uniques], dtype=object)
    raw = _to_arrow(uniques)
    stripped = pc.utf8_trim_whitespace(raw)
    if pc.all(pc.equal(stripped, raw)).as_py() is not False and pc.all(pc.not_equal(raw, "")).as_py() is not False:
        return codes.astype(np.int64), raw  # already distinct and tidy: the common case
    stripped = pc.if_else(pc.equal(stripped, ""), None, stripped)
    # different raw spellings may strip to the same text: parse each text once
    encoded = pc.dictionary_encode(stripped)
    remap = _np(pc.fill_null(encoded.indices, -1)).astype(np.int64)
    remap = np.append(remap, -1)  # factorize's -1 (a blank row) picks this last slot
    return remap[codes], encoded.dictionary


def _to_frame(index: pd.Index, codes: np.ndarray, value: np.ndarray, flags: np.ndarray,
              kind: str, names: tuple[str, str, str]) -> pd.DataFrame:
    blank = codes < 0
    if len(flags) == 0:
        vals = np.full(len(codes), np.datetime64("NaT"), dtype="datetime64[us]")
        qc = pd.array([None] * len(codes), dtype="Int8")
        issues = np.full(len(codes), None, dtype=object)
    else:
        safe = np.where(blank, 0, codes)
        vals = value[safe]
        vals[blank] = np.datetime64("NaT")
        qc = pd.arrays.IntegerArray(_qc_of(flags)[safe], blank.copy())
        issues = _issue_lists(flags, kind)[safe]
        issues[blank] = None
    return pd.DataFrame(
        {names[0]: pd.Series(vals, index=index, dtype="datetime64[us]"),
         names[1]: pd.Series(qc, index=index, dtype="Int8"),
         names[2]: pd.Series(issues, index=index, dtype=object)},
        index=index,
    )


# --- public API ----------------------------------------------------------------------------
def parse_dates(values: pd.Series, date_format: str | None = None, *, kind: str = "date",
                pivot_year: int = DEFAULT_PIVOT_YEAR, epoch: bool = False) -> pd.DataFrame:
    """Parse a column of date/time cells.

    Returns a frame with the index of ``values`` and exactly the columns ``value``
    (datetime64[us], naive, NaT when missing or invalid), ``qc`` (Int8, null for blank cells)
    and ``issues`` (lists of ``"<kind>:<code>"`` or None). Each distinct cell is parsed once;
    the result of a cell never depends on the other cells. ``values`` is not modified.
    """
    codes, texts = _distinct(values)
    p = _parse_core(texts, date_format, pivot_year, epoch)
    return _to_frame(values.index, codes, p.value, p.flags, kind, ("value", "qc", "issues"))


def parse_date(raw: str | None, date_format: str | None = None, *, kind: str = "date",
               pivot_year: int = DEFAULT_PIVOT_YEAR, epoch: bool = False) -> dict[str, Any]:
    """Scalar form of :func:`parse_dates`: ``{"value": datetime | None, "qc", "issues"}``."""
    row = parse_dates(pd.Series([raw], dtype=object), date_format, kind=kind,
                      pivot_year=pivot_year, epoch=epoch).iloc[0]
    return _scalar(row, ("value", "qc", "issues"))


def _scalar(row: pd.Series, names: tuple[str, str, str]) -> dict[str, Any]:
    value = row[names[0]]
    qc = row[names[1]]
    return {
        names[0]: None if pd.isna(value) else value.to_pydatetime(),
        names[1]: None if pd.isna(qc) else int(qc),
        names[2]: row[names[2]],
    }


def clean_birth_dates(values: pd.Series, date_format: str | None, as_of: dt.date) -> pd.DataFrame:
    """Clean birth dates as of the date ``as_of`` (never the clock).

    Returns the index of ``values`` and exactly ``birth_date`` (datetime64[us] at midnight,
    naive), ``qc_birth_date`` (Int8) and ``birth_date_issues``. On top of :func:`parse_dates`:
    a time of day is dropped (``time_dropped`` when it was not midnight); placeholder dates
    (01.01.1900, 01.01.1970, 1111-11-11, ...), dates after ``as_of`` (``future``) and before
    1900 (``before_1900``) are invalid, qc 3, value null; an age at ``as_of`` below 14 or
    above 110 is ``implausible_age`` (qc 2, value kept). Two-digit years pivot on the
    ``as_of`` year. Epoch numbers are not accepted.
    """
    codes, texts = _distinct(values)
    p = _parse_core(texts, date_format, pivot_year=as_of.year, epoch=False)
    value, flags = p.value, p.flags.copy()
    have = ~np.isnat(value)
    day = value.astype("datetime64[D]")
    timed = have & (value != day.astype("datetime64[us]"))
    flags[timed] |= _BIT["time_dropped"]
    placeholder = have & np.isin(day, _placeholders())
    limit = np.datetime64(as_of, "D")
    future = have & ~placeholder & (day > limit)
    early = have & ~placeholder & (day < np.datetime64("1900-01-01", "D"))
    # a parsed year below 1000 (e.g. 0985) is a birth date before 1900 too
    early_text = (flags & _BIT["out_of_range"] != 0) & (p.y > 0) & (p.y < 1900)
    flags[early_text] = (flags[early_text] & ~_BIT["out_of_range"]) | _BIT["before_1900"]
    flags[placeholder] |= _BIT["placeholder"]
    flags[future] |= _BIT["future"]
    flags[early] |= _BIT["before_1900"]
    ok = have & ~placeholder & ~future & ~early
    years = day.astype("datetime64[Y]").astype(np.int64) + 1970
    # compare (month, day) rather than day-of-year so leap years do not shift birthdays
    months = day.astype("datetime64[M]").astype(np.int64) % 12 + 1
    days = (day - day.astype("datetime64[M]").astype("datetime64[D]")).astype(np.int64) + 1
    before_birthday = (months * 100 + days) > (as_of.month * 100 + as_of.day)
    age = as_of.year - years - before_birthday.astype(np.int64)
    odd_age = ok & ((age < 14) | (age > 110))
    flags[odd_age] |= _BIT["implausible_age"]
    out_value = np.where(ok, day.astype("datetime64[us]"), np.datetime64("NaT", "us"))
    return _to_frame(values.index, codes, out_value, flags, "birth_date",
                     ("birth_date", "qc_birth_date", "birth_date_issues"))


def clean_birth_date(raw: str | None, date_format: str | None, as_of: dt.date) -> dict[str, Any]:
    """Scalar form of :func:`clean_birth_dates` for tests."""
    row = clean_birth_dates(pd.Series([raw], dtype=object), date_format, as_of).iloc[0]
    return _scalar(row, ("birth_date", "qc_birth_date", "birth_date_issues"))


def clean_timestamps(values: pd.Series, date_format: str | None, *,
                     kind: str = "timestamp") -> pd.DataFrame:
    """Clean record timestamps (``created_at`` / ``updated_at``).

    Returns the index of ``values`` and exactly ``value`` (datetime64[us], naive local wall
    time), ``qc``, ``issues`` (codes ``"<kind>:..."``). Like :func:`parse_dates` with Unix
    epoch seconds/milliseconds accepted (kept in UTC, issue ``epoch``); placeholder dates
    (1970-01-01, 1900-01-01, ...) at midnight are invalid (``placeholder``).
    """
    codes, texts = _distinct(values)
    p = _parse_core(texts, date_format, pivot_year=DEFAULT_PIVOT_YEAR, epoch=True)
    value, flags = p.value.copy(), p.flags.copy()
    have = ~np.isnat(value)
    day = value.astype("datetime64[D]")
    midnight = have & (value == day.astype("datetime64[us]"))
    placeholder = midnight & np.isin(day, _placeholders())
    flags[placeholder] |= _BIT["placeholder"]
    value[placeholder] = np.datetime64("NaT")
    return _to_frame(values.index, codes, value, flags, kind, ("value", "qc", "issues"))


def clean_timestamp(raw: str | None, date_format: str | None = None, *,
                    kind: str = "timestamp") -> dict[str, Any]:
    """Scalar form of :func:`clean_timestamps` for tests."""
    row = clean_timestamps(pd.Series([raw], dtype=object), date_format, kind=kind).iloc[0]
    return _scalar(row, ("value", "qc", "issues"))
