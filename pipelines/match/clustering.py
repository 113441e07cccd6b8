"""Constrained clustering of scored pairs: links above a threshold, vetoed by strong conflicts.

Plain connected components over Fellegi-Sunter links chain whole families: siblings, spouses
and twins share surname, address and phone, which the model counts as independent evidence
(DESIGN.md, "Pitfalls"). Here a strong conflict between two records *vetoes* their being in one
cluster, whatever the model says:

* ``birth_date``  -- two valid birth dates that differ and are not a day/month swap nor a
  swap of two adjacent digits of the year (1986 / 1968, a common typing slip);
* ``gender``      -- two different genders;
* ``national_id`` -- two different national ids of the same id type;
* ``tax_id``      -- two different personal (12-digit) tax ids;
* ``first_name``  -- clearly different first names (:func:`names_compatible`), unless the
  name sits in the other record's surname or middle-name field (swapped parts);
* ``middle_name`` -- clearly different middle names / patronymics, same exceptions.

Agreement on a strong identifier -- the same ``id_key`` (national id of one type, even one
cleansing found odd), or the same personal tax id -- waives the ``birth_date`` and ``gender``
conflicts of that pair: a mistyped birth date or a wrongly recorded gender is far likelier than
two people holding one document. The name conflicts are waived only when, besides the shared
identifier, both birth dates are known and agree -- here ``birth_date_any``, which also holds
dates too old to be plausible, counts (a parent's passport typed into a child's record still
splits on the names and dates). Identifier conflicts are never waived.

A pair the model scores above the threshold on names alone (no birth date, contact or
identifier agreement, comparisons.EVIDENCE_LEVELS) is not a link either: it goes to the review
queue with the reason ``names_only`` (see :func:`cluster`).

Steward decisions win over both the model and the conflicts: a must-link always joins two
records (transitively: must-links form atomic *units*, inside which conflicts and cannot-links
are waived); a cannot-link vetoes like a conflict.

Algorithm (exactly a constrained Kruskal, made cheap for the common case):

1. connected components (scipy) over all links; a component with at most one distinct value
   of every strong attribute and no cannot-link inside is a cluster as it is;
2. in the other components, a link whose two records conflict directly (or are cannot-linked)
   is vetoed at once (vectorised): it could never be accepted;
3. components are recomputed over the remaining links; those that still hold a conflicting
   pair (a chain: a-b fine, b-c fine, a-c not) run the greedy -- links by probability
   descending, ties by record keys; two groups merge only when, for every kind on which a
   member of one conflicts with a member of the other, some pair across the two groups
   *vouches* for that kind (the same known birth date, gender, first name or patronymic, or
   the waivers above; identifiers and cannot-links are never vouched for). A group holds two
   birth dates or first names only because a waiver let one person's typo or second name in,
   and a record agreeing with that person's other records is the same person (FEBRL3: +.015
   F1, no change on the demo's households). So a chained component is split on its weakest
   links, and every vetoed link joins two groups that really conflict.

Measured (``benchmarks/match_cluster.py``, 2 loaded cores): 1.8M records, 5M pairs, 418k
vetoes in ~5.3 s, ~0.4 GB above the inputs.

Everything here is pure: no I/O, inputs are never mutated, the output does not depend on the
row order of any input.
"""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from rapidfuzz.distance import OSA
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

#: Conflict kinds in the order they are reported.
CONFLICT_KINDS: tuple[str, ...] = (
    "birth_date", "gender", "national_id", "tax_id", "first_name", "middle_name",
)
#: Reason of an edge vetoed by a steward's cannot-link.
CANNOT_LINK = "cannot_link"
#: Reason of a pair above the threshold that agrees on names only (see :func:`cluster`).
NAMES_ONLY = "names_only"
#: Prefix of the reason of an edge vetoed because other members of the two groups conflict.
CHAIN_PREFIX = "chain:"

#: Columns of the records table (all but ``record_key`` optional: missing means null).
RECORD_COLUMNS: tuple[str, ...] = (
    "record_key", "birth_date", "gender", "national_id", "national_id_type",
    "personal_tax_id", "id_key", "birth_date_any", "first_name_key", "last_name_key",
    "middle_name_key",
)
ASSIGNMENT_COLUMNS: tuple[str, ...] = ("record_key", "cluster", "cluster_probability")
VETO_COLUMNS: tuple[str, ...] = ("record_key_l", "record_key_r", "match_probability", "reason")
LINK_COLUMNS: tuple[str, ...] = ("record_key_l", "record_key_r")

#: Probability given to a steward's must-link in ``cluster_probability``.
STEWARD_PROBABILITY = 1.0
#: Shortest name (skeleton letters) on which a one-edit difference still counts as a typo.
TYPO_MIN_LENGTH = 6
#: Shortest name on which two neighbouring letters swapped (not the first) count as a typo.
TRANSPOSE_MIN_LENGTH = 4
#: Longest key read as an initial ("Ю." has the skeleton "iu").
INITIAL_MAX_LENGTH = 2


# --------------------------------------------------------------------------------------------
# Scalar rules (the tests' reference; the vectorised paths below agree with them)
# --------------------------------------------------------------------------------------------

def _text(value: Any) -> str | None:
    """Stripped string, or None for non-strings and blanks."""
    if not isinstance(value, str):
        return None
    value = value.strip()
    return value or None


def _name(value: Any) -> str | None:
    value = _text(value)
    return value.lower() if value is not None else None


def date_key(value: Any) -> int | None:
    """Swap-insensitive key of a birth date: ``year*10000 + min(month, day)*100 + max(...)``.

    Two valid dates have the same key exactly when they are equal or one is the other with
    day and month swapped (1985-03-12 / 1985-12-03). Accepts ``datetime.date`` / ``datetime``,
    pandas ``Timestamp``, ``numpy.datetime64`` and ISO ``YYYY-MM-DD`` strings; anything else,
    null or unparseable gives None.
    """
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, np.datetime64):
        if np.isnat(value):
            return None
        value = pd.Timestamp(value)
    if isinstance(value, str):
        try:
            value = _dt.date.fromisoformat(value.strip()[:10])
        except ValueError:
            return None
    if not isinstance(value, _dt.date):  # datetime and Timestamp are dates too
        return None
    if isinstance(value, pd.Timestamp) and pd.isna(value):
        return None
    lo, hi = sorted((value.month, value.day))
    return value.year * 10000 + lo * 100 + hi


def _year_swaps(year: int) -> set[int]:
    """Years that are ``year`` with two adjacent digits exchanged (1986 -> 9186, 1896, 1968)."""
    s = f"{year:04d}"
    return {int(s[:k] + s[k + 1] + s[k] + s[k + 2:]) for k in range(len(s) - 1)} - {year}


def date_keys_compatible(a: int, b: int) -> bool:
    """Could two :func:`date_key` values be one person's birth date? Equal (so also a day/month
    swap), or the same day and month with two adjacent digits of the year exchanged."""
    if a == b:
        return True
    return a % 10000 == b % 10000 and b // 10000 in _year_swaps(a // 10000)


def birth_dates_conflict(left: Any, right: Any) -> bool:
    """True when both birth dates are valid, differ, and are neither a day/month swap nor an
    adjacent-digit swap in the year (1986-05-03 / 1968-05-03)."""
    a, b = date_key(left), date_key(right)
    return a is not None and b is not None and not date_keys_compatible(a, b)


def share_identifier(left: Mapping[str, Any], right: Mapping[str, Any]) -> bool:
    """True when two records hold the same ``id_key`` (national id with its type) or the same
    12-digit personal tax id: the waiver of birth-date and gender conflicts."""
    i1, i2 = _text(left.get("id_key")), _text(right.get("id_key"))
    if i1 is not None and i1 == i2:
        return True
    t1, t2 = _digits12(left.get("personal_tax_id")), _digits12(right.get("personal_tax_id"))
    return t1 is not None and t1 == t2


def _digits12(value: Any) -> str | None:
    value = _text(value)
    return value if value is not None and len(value) == 12 and value.isascii() and value.isdigit() else None


@lru_cache(maxsize=1 << 16)
def names_compatible(left: str, right: str) -> bool:
    """Could two name keys (skeletons, lowercase, non-empty) be the same person's name?

    True when they are equal; when the shorter has at most two letters and starts like the
    other (an initial, or two packed initials: "n" / "nikolai", "iu" for "Ю." / "iulia",
    "av" for "А.В." / "aleksandr"); when they differ only by a final "a" (aleksandr /
    aleksandra, evgeni / evgenia: an ambiguous diminutive such as "Саша" resolves to one of
    them, so the gender check decides); when both have at least :data:`TYPO_MIN_LENGTH`
    letters and one edit (insert, delete, substitute, swap of neighbours) turns one into the
    other (a typo); when, from :data:`TRANSPOSE_MIN_LENGTH` letters on, two neighbouring
    letters after the first are swapped (harry / haryr, olga / olag). Everything else is clearly different -- including shorter names one
    letter apart, which are usually different real names that sisters and twins carry
    (maria / marina / daria, alina / alena / arina, murat / murad, igor / egor, iana / ana).
    On the 100k demo, allowing one edit from four letters on would have unprotected such
    sibling pairs while the names it rescues were mostly typos of short names (petr / pitr).
    """
    if left == right:
        return True
    short, long_ = (left, right) if len(left) <= len(right) else (right, left)
    if len(short) <= INITIAL_MAX_LENGTH:
        return bool(short) and long_.startswith(short[0])
    if long_ == short + "a":
        return True
    if len(short) == len(long_) >= TRANSPOSE_MIN_LENGTH and _one_transposition(short, long_):
        return True
    return len(short) >= TYPO_MIN_LENGTH and OSA.distance(short, long_, score_cutoff=1) <= 1


def _one_transposition(a: str, b: str) -> bool:
    """``b`` is ``a`` with two neighbouring letters exchanged, not the first one (harry /
    haryr, rachel / rahcel). A slip of the fingers; never how two real names differ, except
    at the start (nina / inna), hence the first letter is excluded."""
    diff = [k for k, (x, y) in enumerate(zip(a, b)) if x != y]
    return (len(diff) == 2 and diff[1] == diff[0] + 1 and diff[0] >= 1
            and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]])


def first_names_conflict(first_l: Any, last_l: Any, middle_l: Any,
                         first_r: Any, last_r: Any, middle_r: Any) -> bool:
    """True when two first-name keys are clearly different (see :func:`names_compatible`).

    Null on either side is no conflict; neither is a first name that appears as the other
    record's surname or middle name (first/last or first/middle swapped in a source).
    """
    f1, f2 = _name(first_l), _name(first_r)
    if f1 is None or f2 is None or names_compatible(f1, f2):
        return False
    return f1 not in (_name(last_r), _name(middle_r)) and f2 not in (_name(last_l), _name(middle_l))


def middle_names_conflict(first_l: Any, last_l: Any, middle_l: Any,
                          first_r: Any, last_r: Any, middle_r: Any) -> bool:
    """True when two middle-name (patronymic) keys are clearly different; same rules as
    :func:`first_names_conflict` with the roles of first and middle name exchanged."""
    m1, m2 = _name(middle_l), _name(middle_r)
    if m1 is None or m2 is None or names_compatible(m1, m2):
        return False
    return m1 not in (_name(first_r), _name(last_r)) and m2 not in (_name(first_l), _name(last_l))


def _date_any(record: Mapping[str, Any]) -> int | None:
    """Date key of ``birth_date_any`` (any birth date the source holds, even an implausible
    age), else of ``birth_date``."""
    key = date_key(record.get("birth_date_any"))
    return key if key is not None else date_key(record.get("birth_date"))


def record_conflicts(left: Mapping[str, Any], right: Mapping[str, Any]) -> tuple[str, ...]:
    """Strong conflicts between two records (mappings with :data:`RECORD_COLUMNS` keys; a
    missing key counts as null), as kinds in :data:`CONFLICT_KINDS` order; empty when none.

    National ids are compared only within one id type (a missing type is its own type "");
    tax ids only when both are 12-digit personal ids (a 10-digit company id is shared by every
    contact of an organisation and says nothing about the person). A shared identifier
    (:func:`share_identifier`) waives the birth-date and gender conflicts.
    """
    out: list[str] = []
    shared = share_identifier(left, right)
    if not shared and birth_dates_conflict(left.get("birth_date"), right.get("birth_date")):
        out.append("birth_date")
    g1, g2 = _text(left.get("gender")), _text(right.get("gender"))
    if not shared and g1 is not None and g2 is not None and g1.upper() != g2.upper():
        out.append("gender")
    n1, n2 = _text(left.get("national_id")), _text(right.get("national_id"))
    if (n1 is not None and n2 is not None and n1 != n2
            and (_text(left.get("national_id_type")) or "") == (_text(right.get("national_id_type")) or "")):
        out.append("national_id")
    t1, t2 = _digits12(left.get("personal_tax_id")), _digits12(right.get("personal_tax_id"))
    if t1 is not None and t2 is not None and t1 != t2:
        out.append("tax_id")
    names_l = (left.get("first_name_key"), left.get("last_name_key"), left.get("middle_name_key"))
    names_r = (right.get("first_name_key"), right.get("last_name_key"), right.get("middle_name_key"))
    # the same document and the same birth date: a different name is a data-entry slip, a
    # changed or a second (e.g. English) name -- not another person
    any_l, any_r = _date_any(left), _date_any(right)
    if shared and any_l is not None and any_r is not None and date_keys_compatible(any_l, any_r):
        return tuple(out)
    if first_names_conflict(*names_l, *names_r):
        out.append("first_name")
    if middle_names_conflict(*names_l, *names_r):
        out.append("middle_name")
    return tuple(out)


# --------------------------------------------------------------------------------------------
# Record preparation: one integer code per value, records sorted by key
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Prepared:
    key_array: pa.Array       # record keys (Arrow strings), sorted ascending, unique
    date: np.ndarray          # int64 swap-insensitive date key, -1 null
    gender: np.ndarray        # int64 code, -1 null
    nat_type: np.ndarray      # int64: 0 id without a type, 1+ type code, -1 when no id
    nat_id: np.ndarray        # int64 code of the id, -1 null
    tax: np.ndarray           # int64 code of a 12-digit tax id, -1 null
    ident: np.ndarray         # int64 code of id_key, -1 null
    date_any: np.ndarray      # date key of birth_date_any, else of birth_date; -1 null
    strong: np.ndarray        # int64 code into ``strong_values``
    strong_values: tuple[tuple[int, ...], ...]  # (date, gender, type, id, tax, ident, date_any)
    first: np.ndarray         # int64 codes into ``names`` (shared by the three name columns)
    last: np.ndarray
    middle: np.ndarray
    names: tuple[str, ...]    # name strings by code

    @property
    def n(self) -> int:
        return len(self.key_array)


def _column(records: pd.DataFrame, name: str) -> pd.Series:
    if name in records.columns:
        return records[name]
    return pd.Series([None] * len(records), index=records.index, dtype="object")


def _normalised_codes(series: pd.Series, rule: Any, seen: dict[Any, int] | None = None,
                      values: list[Any] | None = None) -> tuple[np.ndarray, list[Any]]:
    """Integer code per row of ``rule(value)`` (-1 where the rule gives None) and the distinct
    normalised values by code. The rule runs once per distinct raw value. Passing the same
    ``seen`` / ``values`` to several calls gives the columns one shared code space."""
    raw_codes, uniques = pd.factorize(series, use_na_sentinel=True)
    seen = {} if seen is None else seen
    values = [] if values is None else values
    table = np.empty(len(uniques) + 1, dtype=np.int64)
    for k, raw in enumerate(uniques.tolist()):
        v = rule(raw)
        if v is None:
            table[k] = -1
        else:
            code = seen.get(v)
            if code is None:
                code = seen[v] = len(values)
                values.append(v)
            table[k] = code
    table[-1] = -1  # raw code -1 (missing)
    return table[raw_codes], values


def _text_codes(series: pd.Series, case: str | None = None, pattern: str | None = None,
                seen: dict[Any, int] | None = None, values: list[Any] | None = None,
                ) -> tuple[np.ndarray, list[Any]]:
    """Like :func:`_normalised_codes` with the rule "strip; blank is null; upper/lower case;
    null unless it matches ``pattern``", done by Arrow kernels on string columns (the Python
    rule is the fallback for anything else). Same codes as the Python rule would give."""
    try:
        arr = pa.array(series, from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError):
        arr = None
    if arr is None or not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)
                           or pa.types.is_null(arr.type)):
        def rule(v: Any) -> str | None:
            t = _text(v)
            if t is None or (pattern is not None and re.fullmatch(pattern, t, re.ASCII) is None):
                return None
            return t.upper() if case == "upper" else t.lower() if case == "lower" else t
        return _normalised_codes(series, rule, seen, values)
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    arr = pc.cast(arr, pa.string())
    arr = pc.utf8_trim_whitespace(arr)
    if case == "upper":
        arr = pc.utf8_upper(arr)
    elif case == "lower":
        arr = pc.utf8_lower(arr)
    ok = pc.not_equal(pc.utf8_length(arr), 0)
    if pattern is not None:
        ok = pc.and_(ok, pc.match_substring_regex(arr, f"^(?:{pattern})$"))
    arr = pc.if_else(ok, arr, pa.scalar(None, pa.string()))
    enc = pc.dictionary_encode(arr)
    seen = {} if seen is None else seen
    values = [] if values is None else values
    dictionary = enc.dictionary.to_pylist()
    table = np.empty(len(dictionary) + 1, dtype=np.int64)
    for k, v in enumerate(dictionary):
        code = seen.get(v)
        if code is None:
            code = seen[v] = len(values)
            values.append(v)
        table[k] = code
    table[-1] = -1
    idx = enc.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
    return table[idx], values


def _prepare(records: pd.DataFrame) -> _Prepared:
    if "record_key" not in records.columns:
        raise ValueError("records: missing column 'record_key'")
    try:
        key_arr = pa.array(records["record_key"], from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError):  # mixed types: compare their text
        key_arr = pa.array(records["record_key"].map(lambda v: v if v is None else str(v)),
                           type=pa.string(), from_pandas=True)
    if key_arr.null_count:
        raise ValueError("records: null record_key")
    key_arr = _as_keys(key_arr)
    if isinstance(key_arr, pa.ChunkedArray):
        key_arr = key_arr.combine_chunks()
    order = pc.sort_indices(key_arr).to_numpy()
    sorted_keys = key_arr.take(pa.array(order))
    if len(sorted_keys) > 1:
        dup = pc.equal(sorted_keys.slice(1), sorted_keys.slice(0, len(sorted_keys) - 1))
        if pc.any(dup).as_py():
            pos = int(np.flatnonzero(dup.to_numpy(zero_copy_only=False))[0])
            raise ValueError(f"records: duplicate record_key {sorted_keys[pos].as_py()!r}")

    # codes are computed in input order, then put in key order
    date_code, date_values = _normalised_codes(_column(records, "birth_date"), date_key)
    dates = np.asarray(date_values + [-1], dtype=np.int64)  # code -1 takes the last slot
    nat_id = _text_codes(_column(records, "national_id"))[0][order]
    nat_type = _text_codes(_column(records, "national_id_type"))[0][order]
    nat_type = np.where(nat_id >= 0, nat_type + 1, -1)  # 0: an id without a type
    date = dates[date_code][order]
    any_code, any_values = _normalised_codes(_column(records, "birth_date_any"), date_key)
    date_any = np.asarray(any_values + [-1], dtype=np.int64)[any_code][order]
    date_any = np.where(date_any >= 0, date_any, date)
    gender = _text_codes(_column(records, "gender"), "upper")[0][order]
    tax = _text_codes(_column(records, "personal_tax_id"), None, r"\d{12}")[0][order]
    ident = _text_codes(_column(records, "id_key"))[0][order]
    stacked = np.stack([date, gender, nat_type, nat_id, tax, ident, date_any], axis=1)
    if len(stacked):
        uniq, strong = np.unique(stacked, axis=0, return_inverse=True)
        strong_values = tuple(tuple(int(v) for v in row) for row in uniq.tolist())
    else:
        strong, strong_values = np.empty(0, np.int64), ()
    seen: dict[Any, int] = {}
    name_values: list[Any] = []
    first, last, middle = (_text_codes(_column(records, c), "lower", None, seen, name_values)[0][order]
                           for c in ("first_name_key", "last_name_key", "middle_name_key"))
    return _Prepared(
        key_array=sorted_keys,
        date=date, gender=gender, nat_type=nat_type, nat_id=nat_id, tax=tax, ident=ident,
        date_any=date_any,
        strong=np.asarray(strong, dtype=np.int64).reshape(-1), strong_values=strong_values,
        first=first, last=last, middle=middle,
        names=tuple(name_values),
    )


# --------------------------------------------------------------------------------------------
# Links
# --------------------------------------------------------------------------------------------

def _columns(table: Any, columns: Iterable[str], what: str) -> dict[str, pa.ChunkedArray | pa.Array]:
    """Named columns of a pandas frame or pyarrow table as Arrow arrays (no row copies for
    Arrow-backed data); ValueError naming ``what`` when a column is missing."""
    columns = list(columns)
    names = table.column_names if isinstance(table, pa.Table) else list(table.columns)
    missing = [c for c in columns if c not in names]
    if missing:
        raise ValueError(f"{what}: missing column(s) {missing}")
    if isinstance(table, pa.Table):
        return {c: table.column(c) for c in columns}
    return {c: pa.array(table[c], from_pandas=True) for c in columns}


def _as_keys(arr: pa.ChunkedArray | pa.Array) -> pa.ChunkedArray | pa.Array:
    """Keys as Arrow ``string`` (other types are cast: int keys become their decimal text)."""
    if isinstance(arr, pa.ChunkedArray) and arr.num_chunks == 1:
        arr = arr.chunk(0)
    return arr if arr.type == pa.string() else pc.cast(arr, pa.string())


def _chunks(arr: pa.ChunkedArray | pa.Array) -> list[pa.Array]:
    arr = _as_keys(arr)
    return list(arr.chunks) if isinstance(arr, pa.ChunkedArray) else [arr]


def _index_of(prep: _Prepared, keys: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """Position of each key in the sorted record keys; -1 when unknown or null."""
    if len(keys) == 0:
        return np.empty(0, dtype=np.int64)
    idx = pc.index_in(_as_keys(keys), value_set=prep.key_array)
    return idx.fill_null(-1).to_numpy().astype(np.int64)


def _steward_links(prep: _Prepared, links: Any, what: str) -> tuple[np.ndarray, np.ndarray]:
    """Known, distinct, ordered (i < j) pairs of a steward link table; unknown keys dropped
    (their records may have left the sources since the decision)."""
    if links is None or len(links) == 0:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    cols = _columns(links, LINK_COLUMNS, what)
    i, j = _index_of(prep, cols["record_key_l"]), _index_of(prep, cols["record_key_r"])
    ok = (i >= 0) & (j >= 0) & (i != j)
    lo, hi = np.minimum(i[ok], j[ok]), np.maximum(i[ok], j[ok])
    if len(lo) == 0:
        return lo, hi
    both = np.unique(np.stack([lo, hi], axis=1), axis=0)
    return both[:, 0], both[:, 1]


def _components(n: int, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    if n == 0:
        return np.empty(0, dtype=np.int64)
    # bool weights: duplicate links sum to True, never overflow to a zero weight
    graph = coo_matrix((np.ones(len(i), dtype=bool), (i, j)), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    return labels.astype(np.int64)


def _multi_valued(comp: np.ndarray, codes: np.ndarray, n_comp: int) -> np.ndarray:
    """Boolean per component: more than one distinct non-null code among its records
    (smallest and largest code differ; cheaper than counting distinct values)."""
    ok = codes >= 0
    if not ok.any():
        return np.zeros(n_comp, dtype=bool)
    c, v = comp[ok], codes[ok]
    lo = np.full(n_comp, np.iinfo(np.int64).max, dtype=np.int64)
    hi = np.full(n_comp, -1, dtype=np.int64)
    np.minimum.at(lo, c, v)
    np.maximum.at(hi, c, v)
    return (hi >= 0) & (lo != hi)


# --------------------------------------------------------------------------------------------
# Conflicts on coded records (vectorised) and the constrained greedy
# --------------------------------------------------------------------------------------------

_KIND_BITS: tuple[tuple[int, str], ...] = (
    (1, CANNOT_LINK), (2, "birth_date"), (4, "gender"), (8, "national_id"), (16, "tax_id"),
    (32, "first_name"), (64, "middle_name"),
)
_REASONS: tuple[str, ...] = tuple("+".join(k for bit, k in _KIND_BITS if mask & bit)
                                  for mask in range(128))


class _NameCodes:
    """:func:`names_compatible` on name codes, memoised per pair of codes."""

    def __init__(self, names: tuple[str, ...]):
        self.names = names
        self.memo: dict[tuple[int, int], bool] = {}

    def compatible(self, a: int, b: int) -> bool:
        key = (a, b) if a < b else (b, a)
        hit = self.memo.get(key)
        if hit is None:
            hit = self.memo[key] = names_compatible(self.names[a], self.names[b])
        return hit

    def bits(self, ta: tuple[int, int, int], tb: tuple[int, int, int]) -> int:
        """First-name (32) and middle-name (64) conflict bits of two (first, last, middle)."""
        f1, l1, m1 = ta
        f2, l2, m2 = tb
        out = 0
        if (f1 >= 0 and f2 >= 0 and f1 != f2 and f1 != l2 and f1 != m2 and f2 != l1 and f2 != m1
                and not self.compatible(f1, f2)):
            out |= 32
        if (m1 >= 0 and m2 >= 0 and m1 != m2 and m1 != f2 and m1 != l2 and m2 != f1 and m2 != l1
                and not self.compatible(m1, m2)):
            out |= 64
        return out


def _name_conflicts(x1: np.ndarray, x2: np.ndarray, others1: tuple[np.ndarray, np.ndarray],
                    others2: tuple[np.ndarray, np.ndarray], codes: _NameCodes) -> np.ndarray:
    """Vectorised :func:`first_names_conflict` (or middle) on name codes: ``x`` the compared
    field, ``others`` the other two name fields of each side (swapped parts are no conflict)."""
    cand = ((x1 >= 0) & (x2 >= 0) & (x1 != x2) & (x1 != others2[0]) & (x1 != others2[1])
            & (x2 != others1[0]) & (x2 != others1[1]))
    out = np.zeros(len(x1), dtype=bool)
    idx = np.flatnonzero(cand)
    if len(idx):
        width = len(codes.names) + 1
        key = np.minimum(x1[idx], x2[idx]) * width + np.maximum(x1[idx], x2[idx])
        uniq, inverse = np.unique(key, return_inverse=True)
        compat = np.fromiter((codes.compatible(u // width, u % width) for u in uniq.tolist()),
                             dtype=bool, count=len(uniq))
        out[idx] = ~compat[inverse]
    return out


def _year_swapped(ya: np.ndarray, yb: np.ndarray) -> np.ndarray:
    """Vectorised: ``yb`` is ``ya`` with two adjacent digits exchanged (see :func:`_year_swaps`)."""
    d0, d1, d2, d3 = ya // 1000 % 10, ya // 100 % 10, ya // 10 % 10, ya % 10
    swaps = (d1 * 1000 + d0 * 100 + d2 * 10 + d3, d0 * 1000 + d2 * 100 + d1 * 10 + d3,
             d0 * 1000 + d1 * 100 + d3 * 10 + d2)
    out = np.zeros(len(ya), dtype=bool)
    for sw in swaps:
        out |= sw == yb
    return out & (ya != yb)


def _shared_identifier(prep: _Prepared, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """Vectorised :func:`share_identifier` on coded records."""
    def same(arr: np.ndarray) -> np.ndarray:
        a, b = arr[i], arr[j]
        return (a >= 0) & (a == b)
    return same(prep.ident) | same(prep.tax)


def _direct_bits(prep: _Prepared, i: np.ndarray, j: np.ndarray, codes: _NameCodes) -> np.ndarray:
    """Conflict bit mask (without cannot-link) of record pairs ``i``-``j``; vectorised."""
    def differ(arr: np.ndarray) -> np.ndarray:
        a, b = arr[i], arr[j]
        return (a >= 0) & (b >= 0) & (a != b)

    bits = np.zeros(len(i), dtype=np.int64)
    waived = _shared_identifier(prep, i, j)
    da, db = prep.date[i], prep.date[j]
    swapped = (da % 10000 == db % 10000) & _year_swapped(da // 10000, db // 10000)
    bits |= np.where(differ(prep.date) & ~swapped & ~waived, 2, 0)
    bits |= np.where(differ(prep.gender) & ~waived, 4, 0)
    bits |= np.where(differ(prep.nat_id) & (prep.nat_type[i] == prep.nat_type[j]), 8, 0)
    bits |= np.where(differ(prep.tax), 16, 0)
    f1, f2, l1, l2 = prep.first[i], prep.first[j], prep.last[i], prep.last[j]
    m1, m2 = prep.middle[i], prep.middle[j]
    bits |= np.where(_name_conflicts(f1, f2, (l1, m1), (l2, m2), codes), 32, 0)
    bits |= np.where(_name_conflicts(m1, m2, (f1, l1), (f2, l2), codes), 64, 0)
    aa, ab = prep.date_any[i], prep.date_any[j]
    any_swapped = (aa % 10000 == ab % 10000) & _year_swapped(aa // 10000, ab // 10000)
    names_waived = waived & (aa >= 0) & (ab >= 0) & ((aa == ab) | any_swapped)
    bits &= np.where(names_waived, ~np.int64(96), ~np.int64(0))
    return bits


def _flag(prep: _Prepared, comp: np.ndarray, ci: np.ndarray, cj: np.ndarray) -> np.ndarray:
    """Per component: could it hold a conflicting or cannot-linked pair? (A superset: more
    than one distinct value of some strong attribute, or both ends of a cannot-link.)"""
    n_comp = int(comp.max()) + 1 if len(comp) else 0
    flagged = np.zeros(n_comp, dtype=bool)
    for codes in (prep.date, prep.gender, prep.tax, prep.first, prep.middle):
        flagged |= _multi_valued(comp, codes, n_comp)
    nat_code = np.where(prep.nat_id >= 0, prep.nat_id * (int(prep.nat_type.max(initial=0)) + 1)
                        + prep.nat_type, -1)
    flagged |= _multi_valued(comp, nat_code, n_comp)
    if len(ci):
        same = comp[ci] == comp[cj]
        flagged[comp[ci[same]]] = True
    return flagged


def _strong_bits(ta: tuple[int, ...], tb: tuple[int, ...]) -> int:
    """Conflict bits (2 birth date, 4 gender, 8 national id, 16 tax id) of two coded strong
    tuples (date key, gender, id type, id, tax id, id_key; -1 null): :func:`record_conflicts`
    without the names."""
    da, ga, ya, na, ta_, ia = ta[:6]
    db, gb, yb, nb, tb_, ib = tb[:6]
    waived = (ia >= 0 and ia == ib) or (ta_ >= 0 and ta_ == tb_)
    out = 0
    if not waived and da >= 0 and db >= 0 and not date_keys_compatible(da, db):
        out |= 2
    if not waived and ga >= 0 and gb >= 0 and ga != gb:
        out |= 4
    if na >= 0 and nb >= 0 and na != nb and ya == yb:
        out |= 8
    if ta_ >= 0 and tb_ >= 0 and ta_ != tb_:
        out |= 16
    return out


def _names_waived(ta: tuple[int, ...], tb: tuple[int, ...]) -> bool:
    """Name conflicts are waived between two coded strong tuples that share an identifier
    and have compatible, known birth dates (see :func:`record_conflicts`)."""
    da, db = ta[6], tb[6]
    shared = (ta[5] >= 0 and ta[5] == tb[5]) or (ta[4] >= 0 and ta[4] == tb[4])
    return shared and da >= 0 and db >= 0 and date_keys_compatible(da, db)


def _excuse_bits(sa: tuple[int, ...], sb: tuple[int, ...],
                 na: tuple[int, int, int], nb: tuple[int, int, int]) -> int:
    """Kinds on which two records *vouch* for joining their groups: the same known birth date
    (2), gender (4), first name (32) or patronymic (64); a shared identifier vouches for the
    birth date and gender, a shared identifier with compatible birth dates for the names
    (the waivers of :func:`record_conflicts`).

    Two groups conflict on one of these kinds only when no pair across them vouches for it:
    a group holds two birth dates or two first names only because a waiver put one person's
    typo or second name into it, and a record that agrees with the person's other record
    is that person too (FEBRL: "Connor 1935-12-22" joins the group where a record with a
    mistyped 1950 birth date came in through the shared id)."""
    out = 0
    shared = (sa[5] >= 0 and sa[5] == sb[5]) or (sa[4] >= 0 and sa[4] == sb[4])
    if shared or (sa[0] >= 0 and sa[0] == sb[0]):
        out |= 2
    if shared or (sa[1] >= 0 and sa[1] == sb[1]):
        out |= 4
    if na[0] >= 0 and na[0] == nb[0]:
        out |= 32
    if na[2] >= 0 and na[2] == nb[2]:
        out |= 64
    if _names_waived(sa, sb):
        out |= 96
    return out


def _constrained(prep: _Prepared, members: np.ndarray, ei: np.ndarray, ej: np.ndarray,
                 ep: np.ndarray, mi: np.ndarray, mj: np.ndarray, ci: np.ndarray, cj: np.ndarray,
                 codes: _NameCodes) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray, np.ndarray, list[int]]]:
    """Kruskal with veto checks over ``members`` (sorted record ids) and the links among them
    (``ei < ej``, distinct, in processing order: probability descending, keys ascending).
    Returns each member's root (a record id) and the vetoed links with their group bits.

    Group state, per root: the set of distinct attribute tuples of its members (strong-tuple
    code, first, last, middle name codes) -- two groups conflict when any two of their
    tuples do, exactly the pairwise rule -- and the cannot-link partners of its members.
    """
    m = len(members)
    local = np.full(prep.n, -1, dtype=np.int64)
    local[members] = np.arange(m, dtype=np.int64)

    parent = list(range(m))
    size = [1] * m
    # a record's attributes as one tuple: (strong-tuple code, first, last, middle name codes)
    own = list(zip(prep.strong[members].tolist(), prep.first[members].tolist(),
                   prep.last[members].tolist(), prep.middle[members].tolist()))
    tuples: list[set[tuple[int, int, int, int]] | None] = [None] * m  # None: the root's own
    memo: dict[tuple[tuple[int, int, int, int], tuple[int, int, int, int]], int] = {}
    excuse_memo: dict[tuple[tuple[int, int, int, int], tuple[int, int, int, int]], int] = {}
    cannot: dict[int, set[int]] = {}
    for a, b in zip(local[ci].tolist(), local[cj].tolist()):
        if a >= 0 and b >= 0:
            cannot.setdefault(a, set()).add(b)
            cannot.setdefault(b, set()).add(a)

    def find(x: int) -> int:
        root = x
        while parent[root] != root:
            root = parent[root]
        while parent[x] != root:
            parent[x], x = root, parent[x]
        return root

    def tuple_set(r: int) -> set[tuple[int, int, int, int]]:
        got = tuples[r]
        return got if got is not None else {own[r]}

    def pair_bits(ta: tuple[int, int, int, int], tb: tuple[int, int, int, int]) -> int:
        key = (ta, tb) if ta < tb else (tb, ta)
        hit = memo.get(key)
        if hit is None:
            sa, sb = prep.strong_values[ta[0]], prep.strong_values[tb[0]]
            hit = _strong_bits(sa, sb) if ta[0] != tb[0] else 0
            if ta[1:] != tb[1:]:
                name_bits = codes.bits(ta[1:], tb[1:])
                if name_bits and not _names_waived(sa, sb):
                    hit |= name_bits
            memo[key] = hit
        return hit

    def pair_excuses(ta: tuple[int, int, int, int], tb: tuple[int, int, int, int]) -> int:
        key = (ta, tb) if ta < tb else (tb, ta)
        hit = excuse_memo.get(key)
        if hit is None:
            hit = excuse_memo[key] = _excuse_bits(prep.strong_values[ta[0]], prep.strong_values[tb[0]],
                                                  ta[1:], tb[1:])
        return hit

    def group_bits(ra: int, rb: int) -> int:
        out = 0
        pa_, pb_ = cannot.get(ra), cannot.get(rb)
        if pa_ is not None and pb_ is not None:
            small, other = (pa_, rb) if len(pa_) <= len(pb_) else (pb_, ra)
            if any(find(x) == other for x in small):
                out |= 1
        ta, tb = tuples[ra], tuples[rb]
        if ta is None and tb is None:
            if own[ra] != own[rb]:
                out |= pair_bits(own[ra], own[rb])
            return out
        conflicts = excused = 0
        for x in (ta if ta is not None else (own[ra],)):
            for y in (tb if tb is not None else (own[rb],)):
                if x != y:
                    conflicts |= pair_bits(x, y)
                excused |= pair_excuses(x, y)
        return out | (conflicts & ~excused)

    def union(ra: int, rb: int) -> None:
        if size[ra] < size[rb]:
            ra, rb = rb, ra
        parent[rb] = ra
        size[ra] += size[rb]
        if tuples[ra] is not None or tuples[rb] is not None or own[ra] != own[rb]:
            tuples[ra] = tuple_set(ra) | tuple_set(rb)
        if rb in cannot:
            cannot.setdefault(ra, set()).update(cannot.pop(rb))

    for a, b in zip(local[mi].tolist(), local[mj].tolist()):
        if a >= 0 and b >= 0:
            ra, rb = find(a), find(b)
            if ra != rb:
                union(ra, rb)

    vetoed: list[int] = []
    group: list[int] = []
    for k, (a, b) in enumerate(zip(local[ei].tolist(), local[ej].tolist())):
        ra, rb = find(a), find(b)
        if ra == rb:
            continue
        bits = group_bits(ra, rb)
        if bits:
            vetoed.append(k)
            group.append(bits)
        else:
            union(ra, rb)

    roots = np.fromiter((find(x) for x in range(m)), dtype=np.int64, count=m)
    vk = np.asarray(vetoed, dtype=np.int64)
    return members[roots], (ei[vk], ej[vk], ep[vk], group)


# --------------------------------------------------------------------------------------------
# Public entry point
# --------------------------------------------------------------------------------------------

def _evidence(pairs: pd.DataFrame | pa.Table) -> np.ndarray | None:
    """Per pair, agreement beyond the names (comparisons.has_evidence), or None when the pairs
    do not carry the gamma columns of every evidence comparison (then nothing is required)."""
    from pipelines.match.comparisons import evidence_gammas, has_evidence

    names = pairs.column_names if isinstance(pairs, pa.Table) else list(pairs.columns)
    needed = [f"gamma_{n}" for n in evidence_gammas()]
    if any(c not in names for c in needed):
        return None
    if isinstance(pairs, pa.Table):
        cols = {c: pc.fill_null(pairs.column(c), -1).to_numpy() for c in needed}
    else:
        cols = {c: pd.to_numeric(pairs[c], errors="coerce").to_numpy(dtype=np.float64) for c in needed}
    return has_evidence(cols)


def cluster(records: pd.DataFrame, pairs: pd.DataFrame | pa.Table, *, threshold: float,
            must_link: pd.DataFrame | pa.Table | None = None,
            cannot_link: pd.DataFrame | pa.Table | None = None,
            require_evidence: bool = True,
            ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Cluster records from scored pairs; strong conflicts and cannot-links veto links.

    ``records``: one row per record, :data:`RECORD_COLUMNS` (only ``record_key`` required;
    keys unique). ``pairs``: ``record_key_l``, ``record_key_r``, ``match_probability`` (more
    columns are ignored; either key order; duplicates keep the highest probability; a null or
    NaN probability is no link; a record paired with itself is ignored); every key of a pair at
    or above the threshold must be a record (ValueError otherwise; pyarrow input avoids a
    copy). ``must_link`` / ``cannot_link``: steward links
    (``record_key_l``, ``record_key_r``); keys of records no longer present are ignored.

    A link is a pair with ``match_probability >= threshold`` or a must-link. When
    ``require_evidence`` and the pairs carry the model's ``gamma_*`` columns, a pair that agrees
    on nothing beyond the names (comparisons.EVIDENCE_LEVELS: no birth date, contact or
    identifier agreement) is not a link, however high its probability: full-name namesakes
    are too common. Such a pair, when its records end in different clusters, is listed in
    the vetoes with the reason :data:`NAMES_ONLY` (or its direct conflicts, if any), so it
    reaches the review queue. Returns ``(assignments, vetoes)``:

    * assignments -- :data:`ASSIGNMENT_COLUMNS`, one row per record, sorted by record_key;
      ``cluster`` int64 numbered 0..k-1 in the order of each cluster's smallest record_key;
      ``cluster_probability`` float64, the highest probability among the accepted links of
      the record inside its cluster (1.0 for a must-link), NaN for a singleton.
    * vetoes -- :data:`VETO_COLUMNS`: every pair at or above the threshold whose two records
      end in different clusters, sorted by probability descending then keys; ``reason`` lists
      the direct conflicts of the two records joined by "+" (``cannot_link`` first, then
      :data:`CONFLICT_KINDS` order), or ``chain:<kinds>`` when the two records agree but
      other members of their two groups conflict.

    Guarantees: every record is in exactly one cluster; a link whose own two records conflict
    is never accepted; no cluster holds two different national ids of one type, two
    different personal tax ids or a cannot-linked pair unless the two are joined by
    must-links (a must-link unit); two records conflicting on a birth date, gender, first
    name or patronymic share a cluster only when another pair across their groups vouched
    for that kind when the groups joined (:func:`_excuse_bits`); records of one must-link
    unit are always together; each cluster is connected by accepted links and
    lies inside one connected component of all links (so there are never fewer clusters than
    components); any two clusters joined by a vetoed pair conflict; the result does not
    depend on row order.
    """
    if not 0.0 <= float(threshold) <= 1.0:
        raise ValueError(f"threshold must be within [0, 1], got {threshold!r}")
    prep = _prepare(records)
    n = prep.n
    cols = _columns(pairs, ("record_key_l", "record_key_r", "match_probability"), "pairs")
    prob_col = cols["match_probability"]
    if not pa.types.is_floating(prob_col.type):
        prob_col = pc.cast(prob_col, pa.float64())
    keep = pc.fill_null(pc.greater_equal(prob_col, float(threshold)), False)  # NaN: never
    evidence = _evidence(pairs) if require_evidence else None
    weak_l = weak_r = None
    if evidence is not None:
        ev = pa.array(evidence, pa.bool_())
        weak = pc.and_(keep, pc.invert(ev))
        keep = pc.and_(keep, ev)
        weak_l, weak_r = pc.filter(cols["record_key_l"], weak), pc.filter(cols["record_key_r"], weak)
        weak_p = pc.filter(prob_col, weak).to_numpy().astype(np.float64)
    kl, kr = pc.filter(cols["record_key_l"], keep), pc.filter(cols["record_key_r"], keep)
    p = pc.filter(prob_col, keep).to_numpy().astype(np.float64)
    both = _index_of(prep, pa.chunked_array(_chunks(kl) + _chunks(kr), type=pa.string())
                     if len(kl) else kl)
    i, j = both[:len(kl)], both[len(kl):]
    if (i < 0).any() or (j < 0).any():
        at = int(np.flatnonzero((i < 0) | (j < 0))[0])
        raise ValueError(f"pairs: record key not in records: {kl[at].as_py()!r} / {kr[at].as_py()!r}")
    self_pair = i == j
    i, j, p = np.minimum(i, j)[~self_pair], np.maximum(i, j)[~self_pair], p[~self_pair]
    mi, mj = _steward_links(prep, must_link, "must_link")
    ci, cj = _steward_links(prep, cannot_link, "cannot_link")

    # must-link units: conflicts and cannot-links inside a unit are waived
    unit = _components(n, mi, mj)
    if len(ci):
        inside = unit[ci] == unit[cj]
        ci, cj = ci[~inside], cj[~inside]

    comp = _components(n, np.concatenate([i, mi]), np.concatenate([j, mj]))
    flagged = _flag(prep, comp, ci, cj)
    labels = comp.copy()
    veto_i, veto_j = np.empty(0, np.int64), np.empty(0, np.int64)
    veto_p = np.empty(0, np.float64)
    veto_reason: list[str] = []
    if flagged.any():
        labels, (veto_i, veto_j, veto_p, veto_reason) = _resolve_conflicts(
            prep, unit, comp, flagged, i, j, p, mi, mj, ci, cj)

    cluster_no = _renumber(labels)
    if weak_l is not None and len(weak_l):
        wi, wj = _index_of(prep, weak_l), _index_of(prep, weak_r)
        if (wi < 0).any() or (wj < 0).any():
            at = int(np.flatnonzero((wi < 0) | (wj < 0))[0])
            raise ValueError(f"pairs: record key not in records: {weak_l[at].as_py()!r} / "
                             f"{weak_r[at].as_py()!r}")
        wi, wj = np.minimum(wi, wj), np.maximum(wi, wj)
        apart = (wi != wj) & (cluster_no[wi] != cluster_no[wj])
        wi, wj, wp = wi[apart], wj[apart], weak_p[apart]
        bits = _direct_bits(prep, wi, wj, _NameCodes(prep.names))
        veto_i, veto_j = np.concatenate([veto_i, wi]), np.concatenate([veto_j, wj])
        veto_p = np.concatenate([veto_p, wp])
        veto_reason = list(veto_reason) + [_REASONS[b] or NAMES_ONLY for b in bits.tolist()]
        # one row per pair: the highest probability (a pair may be listed twice)
        order = np.lexsort((veto_j, veto_i, -veto_p))
        first = np.ones(len(order), dtype=bool)
        seen: set[tuple[int, int]] = set()
        for k, o in enumerate(order.tolist()):
            key = (int(veto_i[o]), int(veto_j[o]))
            first[k] = key not in seen
            seen.add(key)
        order = order[first]
        veto_i, veto_j, veto_p = veto_i[order], veto_j[order], veto_p[order]
        veto_reason = [veto_reason[o] for o in order.tolist()]
    best = np.full(n, np.nan)
    if len(i):
        inside = cluster_no[i] == cluster_no[j]
        for side in (i[inside], j[inside]):
            np.fmax.at(best, side, p[inside])
    if len(mi):
        best[mi] = STEWARD_PROBABILITY
        best[mj] = STEWARD_PROBABILITY
    assignments = pd.DataFrame({
        "record_key": _str_series(prep.key_array),
        "cluster": pd.Series(cluster_no, dtype="int64"),
        "cluster_probability": pd.Series(best, dtype="float64"),
    })
    # a vetoed link may still end inside one cluster when others vouched for the join
    across = cluster_no[veto_i] != cluster_no[veto_j]
    veto_i, veto_j, veto_p = veto_i[across], veto_j[across], veto_p[across]
    veto_reason = [r for r, keep in zip(veto_reason, across.tolist()) if keep]
    order = np.lexsort((veto_j, veto_i, -veto_p))
    vetoes = pd.DataFrame({
        "record_key_l": _str_series(prep.key_array.take(pa.array(veto_i[order], pa.int64()))),
        "record_key_r": _str_series(prep.key_array.take(pa.array(veto_j[order], pa.int64()))),
        "match_probability": pd.Series(veto_p[order], dtype="float64"),
        "reason": pd.Series(np.asarray(veto_reason, dtype=object)[order] if len(order)
                            else np.empty(0, object), dtype="str"),
    })
    return assignments, vetoes


def _resolve_conflicts(prep: _Prepared, unit: np.ndarray, comp: np.ndarray, flagged: np.ndarray,
                       i: np.ndarray, j: np.ndarray, p: np.ndarray, mi: np.ndarray, mj: np.ndarray,
                       ci: np.ndarray, cj: np.ndarray,
                       ) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]]:
    """Labels and vetoed links for the flagged components.

    A link whose two records conflict directly (or are cannot-linked) can never be accepted
    by the greedy, so those are vetoed at once, vectorised. Components are then recomputed
    over the remaining links; only those that still hold a conflicting pair (a chain: a-b and
    b-c fine, a-c not) run the greedy. The partition is the one the greedy over all links
    without the direct conflicts would give.
    """
    n = prep.n
    n_comp = len(flagged)
    codes = _NameCodes(prep.names)
    sel = flagged[comp[i]]
    fi, fj, fp = i[sel], j[sel], p[sel]
    # deduplicate (keep the highest probability)
    order = np.lexsort((-fp, fj, fi))
    fi, fj, fp = fi[order], fj[order], fp[order]
    keep = np.ones(len(fi), dtype=bool)
    keep[1:] = (fi[1:] != fi[:-1]) | (fj[1:] != fj[:-1])
    fi, fj, fp = fi[keep], fj[keep], fp[keep]

    bits = _direct_bits(prep, fi, fj, codes)
    if len(ci):
        bits |= np.where(np.isin(fi * n + fj, ci * n + cj), 1, 0)
    bits[unit[fi] == unit[fj]] = 0
    direct = bits != 0
    vetoes = [(fi[direct], fj[direct], fp[direct], [_REASONS[b] for b in bits[direct].tolist()])]
    ri, rj, rp = fi[~direct], fj[~direct], fp[~direct]

    members = np.flatnonzero(flagged[comp])
    must = flagged[comp[mi]]
    mi2, mj2 = mi[must], mj[must]
    comp2 = _components(n, np.concatenate([ri, mi2]), np.concatenate([rj, mj2]))
    labels = comp.copy()
    labels[members] = n_comp + comp2[members]
    flagged2 = _flag(prep, comp2, ci, cj)
    chained = flagged2[comp2] & flagged[comp]
    if chained.any():
        sub = chained[ri]
        gi, gj, gp = ri[sub], rj[sub], rp[sub]
        order = np.lexsort((gj, gi, -gp))
        group_members = np.flatnonzero(chained)
        roots, (vi, vj, vp, group) = _constrained(
            prep, group_members, gi[order], gj[order], gp[order], mi2, mj2, ci, cj, codes)
        labels[group_members] = n_comp + n + roots
        vetoes.append((vi, vj, vp, [CHAIN_PREFIX + _REASONS[g] for g in group]))
    return labels, (np.concatenate([v[0] for v in vetoes]), np.concatenate([v[1] for v in vetoes]),
                    np.concatenate([v[2] for v in vetoes]), [r for v in vetoes for r in v[3]])


def _str_series(arr: pa.Array) -> pd.Series:
    """A pandas string series (the default ``str`` dtype) from Arrow strings, no Python objects."""
    return pd.Series(arr.to_pandas(), dtype="str").reset_index(drop=True)


def _renumber(labels: np.ndarray) -> np.ndarray:
    """Cluster numbers 0..k-1 in the order of each cluster's first (smallest-key) record."""
    if len(labels) == 0:
        return labels.astype(np.int64)
    uniq, first, inverse = np.unique(labels, return_index=True, return_inverse=True)
    rank = np.empty(len(uniq), dtype=np.int64)
    rank[np.argsort(first, kind="stable")] = np.arange(len(uniq))
    return rank[inverse]


def pair_conflicts(records: pd.DataFrame, pairs: pd.DataFrame | pa.Table) -> pd.Series:
    """Direct strong conflicts of each pair (``record_key_l``, ``record_key_r``), as the kinds
    of :func:`record_conflicts` joined by "+", or None; same index as ``pairs`` (a pyarrow
    table gets a default index). For explanations and reports; unknown keys give None."""
    prep = _prepare(records)
    cols = _columns(pairs, LINK_COLUMNS, "pairs")
    i, j = _index_of(prep, cols["record_key_l"]), _index_of(prep, cols["record_key_r"])
    index = pairs.index if isinstance(pairs, pd.DataFrame) else pd.RangeIndex(len(i))
    known = (i >= 0) & (j >= 0)
    bits = _direct_bits(prep, np.where(known, i, 0), np.where(known, j, 0), _NameCodes(prep.names))
    out = [(_REASONS[b] or None) if ok else None for b, ok in zip(bits.tolist(), known.tolist())]
    return pd.Series(out, index=index, dtype="object")
