"""Households and organisations: family- and company-level links between golden customers.

Matching decides who is one *person* (golden_id). This module only labels golden customers
who are different people but belong together (MISSION.md, "linking at several levels"):

* ``household_id`` -- people who share a home: a normalised address at flat level, or a
  landline;
* ``organisation_id`` -- contacts of one company: a company tax id or a normalised company
  name.

It never merges, splits or renames golden ids. Entry point: :func:`link_households`.

Rules (the qc codes are those of pipelines/cleanse/base.py):

=========================  ======================================================================
address key (household)    city|street|house|flat from records with qc_address <= 2, each part
                           normalised exactly as matching does (``address_part_key`` for city
                           and street, ``house_key`` for house and flat, pipelines/match/
                           features.py). City, street and house are required. A record without
                           a flat gives the building key city|street|house (a private house),
                           used only when *no* record anywhere carries a flat in that building:
                           an apartment block seen once without its flat must not join all its
                           residents into one household.
landline key (household)   the record's primary phone (``phones[0]``, else ``phone``; the number
                           ``phone_type`` describes) when ``phone_type`` is "fixed" and
                           qc_phone <= 1. Mobiles (and "fixed_or_mobile") are personal and never
                           a key; the other numbers of ``phones`` have no known type and are not
                           keys either. A number that any record carries with an extension
                           (``phone_ext``) is an office switchboard and never a key.
company guard (household)  a landline or address key is skipped when more than half of the
                           golden customers holding it hold it on a company record (a record with
                           a company name, qc_company <= 2, or a 10-digit company INN,
                           qc_tax_id <= 2): it is an office number or an office, and those
                           people are linked by ``organisation_id`` instead. Only the records
                           that carry the key count: two spouses who are both some company's
                           contacts elsewhere keep their home flat and home line. A sole
                           trader's home line shared with a family member (1 of 2) stays a
                           household key.
tax id key (organisation)  a 10-digit (company) INN with qc_tax_id <= 1. A 12-digit INN belongs
                           to a person -- an individual or a sole trader, who is one person --
                           and is never an organisation key: two golden customers with the same
                           12-digit INN are a matching question (counted in the report as
                           ``shared_personal_tax_ids``), not colleagues. The people who work for
                           a sole trader are linked by the sole trader's company name.
name key (organisation)    company_name_norm with qc_company <= 1 -- unless the name is
                           *ambiguous*: the records carrying it hold two or more different tax ids
                           (10 or 12 digits, qc <= 1; a tax id on a record with a company name is
                           read as that company's). Then several legal entities share the name
                           (ООО "Вектор" exists in many cities; namesake sole traders "ИП Иванов
                           Иван Иванович"): the name links nobody; its records still link through
                           their tax ids.
size guards                a key held by more than ``max_household`` (``max_organisation``)
                           golden customers is no household (organisation): a dormitory, an office
                           switchboard, a placeholder address. It is skipped and reported with
                           masked examples. A household (organisation) is a connected component
                           of golden customers over the kept keys (A-B share an address, B-C a
                           landline: A, B, C are one household); a component that chains beyond
                           the same limit (e.g. a family that moved, linked to the new occupants
                           of its old flat) gets no id and is counted in the report.
=========================  ======================================================================

A golden customer alone is in no household and no organisation: ids label groups of two or
more. Ids: ``"H"`` / ``"O"`` + the smallest golden id (string order, which is numeric order for
``G`` + 10 digits) among the members. So an id changes only when its smallest member leaves
the group or the group merges with one holding a smaller golden id: new customers (new,
larger golden ids) joining a household or organisation keep its id, and golden ids
themselves are stable run to run (match/stable_ids.py).

The report never holds a raw address, phone, name or tax id: examples of skipped keys are
masked with :func:`pipelines.match.blocking.mask_key`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from pipelines.match.blocking import mask_key
from pipelines.match.features import address_part_key, house_key

#: Cleansed columns :func:`link_households` reads (beyond ``golden_id``).
MEMBER_COLUMNS: tuple[str, ...] = (
    "city", "street", "house", "flat", "qc_address", "phones", "phone", "phone_type", "qc_phone", "phone_ext",
    "company_name_norm", "qc_company", "tax_id", "qc_tax_id",
)

#: Columns of the frame returned by :func:`link_households`, in order.
HOUSEHOLD_COLUMNS: tuple[str, ...] = ("golden_id", "household_id", "organisation_id")

HOUSEHOLD_PREFIX = "H"
ORGANISATION_PREFIX = "O"

#: Skip reasons of the report (always all present, so manifests compare run to run).
SKIP_REASONS: tuple[str, ...] = (
    "household_address_too_large",      # an address held by > max_household customers
    "household_landline_too_large",     # a landline held by > max_household customers
    "household_address_company",        # an address held mostly on company records (an office)
    "household_landline_company",       # a landline held mostly on company records
    "household_landline_extension",     # a landline seen with an extension (a switchboard)
    "household_building_has_flats",     # a building key without flat in a block of flats
    "organisation_tax_id_too_large",    # a company INN held by > max_organisation customers
    "organisation_name_too_large",      # a company name held by > max_organisation customers
    "organisation_name_ambiguous",      # a company name carried with different tax ids
)

#: Masked examples kept per skip reason in the report.
MAX_EXAMPLES = 5

#: A key is an office when more than this share of its golden customers hold it on a company record.
COMPANY_SHARE = 0.5


# --------------------------------------------------------------------------------------------
# Column access: work on distinct values, never write into the caller's frame. A missing
# column is all-null; a null quality code (empty field, or no qc column) means "as given".
# --------------------------------------------------------------------------------------------

def _factorize(df: pd.DataFrame, name: str) -> tuple[np.ndarray, np.ndarray]:
    """int64 codes per row (-1 for null or blank) and the distinct non-blank strings."""
    if name not in df.columns:
        return np.full(len(df), -1, dtype=np.int64), np.empty(0, dtype=object)
    codes, uniques = pd.factorize(df[name], use_na_sentinel=True)
    values = np.asarray(uniques, dtype=object)
    blank = np.array([not isinstance(v, str) or not v.strip() for v in values.tolist()] + [True])
    codes = codes.astype(np.int64)
    if blank[:-1].any():  # blanks and non-strings count as null
        return _recode(codes, np.where(blank[:-1], None, values).astype(object))
    return codes, values


def _recode(codes: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Codes of ``values[code]`` (object, None = null) per row, the values made distinct."""
    new_codes, uniques = pd.factorize(values, use_na_sentinel=True)
    lookup = np.append(new_codes.astype(np.int64), -1)  # code -1 (null) stays -1
    return lookup[codes], np.asarray(uniques, dtype=object)


def _normalised(df: pd.DataFrame, name: str,
                fn: Callable[[str], str | None]) -> tuple[np.ndarray, np.ndarray]:
    """Codes of ``fn(value)`` per row (-1 where null); ``fn`` runs once per distinct value."""
    codes, values = _factorize(df, name)
    return _recode(codes, np.array([fn(v) for v in values.tolist()], dtype=object))


def _qc_ok(df: pd.DataFrame, name: str, max_qc: int) -> np.ndarray:
    """Quality code <= ``max_qc`` (a null code or an absent column: the value is as given)."""
    if name not in df.columns:
        return np.ones(len(df), dtype=bool)
    qc = pd.to_numeric(df[name], errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
    return ~(qc > max_qc)


def _equals(df: pd.DataFrame, name: str, value: str) -> np.ndarray:
    if name not in df.columns:
        return np.zeros(len(df), dtype=bool)
    return df[name].eq(value).fillna(False).to_numpy(dtype=bool)


def _combine(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Dense codes of the pairs (a, b); -1 where either is -1."""
    ok = (a >= 0) & (b >= 0)
    out = np.full(len(a), -1, dtype=np.int64)
    if ok.any():
        width = int(b[ok].max()) + 1
        out[ok] = pd.factorize(a[ok] * width + b[ok])[0]
    return out


def _primary_phone(value: Any) -> str | None:
    """First E.164-looking string of a phones list (or a single phone string)."""
    if isinstance(value, str):
        return value if value.startswith("+") else None
    try:
        first = value[0] if len(value) else None  # a list, tuple or numpy array
    except (TypeError, KeyError, IndexError):
        return None
    return first if isinstance(first, str) and first.startswith("+") else None


def _primary_phones(df: pd.DataFrame, rows: np.ndarray) -> np.ndarray:
    """Primary phone of the given rows: ``phones[0]``, else ``phone``; None when neither."""
    out = np.full(len(rows), None, dtype=object)
    for name in ("phones", "phone"):
        if name in df.columns and len(rows):
            todo = np.flatnonzero(pd.isna(out))
            cells = df[name].iloc[rows[todo]].to_numpy(dtype=object)
            out[todo] = [_primary_phone(v) for v in cells.tolist()]
    return out


def _golden_codes(values: pd.Series) -> tuple[np.ndarray, pa.Array]:
    """Codes of the golden ids per row (-1 for null) in sorted order, and the sorted ids."""
    try:
        arr = pa.array(values, from_pandas=True)
        if isinstance(arr, pa.ChunkedArray):
            arr = arr.combine_chunks()
        arr = arr.cast(pa.string())
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        arr = pa.array([None if pd.isna(v) else str(v) for v in values.tolist()], pa.string())
    encoded = pc.dictionary_encode(arr)
    order = pc.sort_indices(encoded.dictionary).to_numpy()  # UTF-8 byte order = str order
    rank = np.empty(len(order) + 1, dtype=np.int64)
    rank[order] = np.arange(len(order))
    rank[-1] = -1
    indices = pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False).astype(np.int64)
    return rank[indices], encoded.dictionary.take(pa.array(order, pa.int64()))


# --------------------------------------------------------------------------------------------
# Keys
# --------------------------------------------------------------------------------------------

@dataclass
class _Keys:
    """One kind of linking key: rows of ``members`` that carry it and the key per row."""

    kind: str                        # address | landline | tax_id | name
    rows: np.ndarray                 # row positions in members (int64)
    key: np.ndarray                  # key code per row (int64, >= 0)
    render: Callable[[int], str]     # position in rows -> raw key text (masked before reporting)
    company_guard: bool = False
    banned: np.ndarray | None = None  # key codes never used, with their skip reason below
    banned_reason: str = ""


def _address_keys(df: pd.DataFrame, usable: np.ndarray) -> _Keys:
    city, city_u = _normalised(df, "city", address_part_key)
    street, street_u = _normalised(df, "street", address_part_key)
    house, house_u = _normalised(df, "house", house_key)
    flat, flat_u = _normalised(df, "flat", house_key)
    building = _combine(_combine(city, street), house)
    idx = np.flatnonzero(usable & _qc_ok(df, "qc_address", 2) & (building >= 0))
    city, street, house, flat, building = city[idx], street[idx], house[idx], flat[idx], building[idx]
    with_flat = flat >= 0
    flat_key = _combine(building, flat)
    # a building seen with any flat is a block of flats: its flat-less key links nobody
    block = np.zeros(int(building.max()) + 1 if len(building) else 0, dtype=bool)
    block[building[with_flat]] = True
    offset = int(flat_key.max()) + 1 if with_flat.any() else 0
    key = np.where(with_flat, flat_key, offset + building)
    banned = np.unique(key[~with_flat & block[building]])

    def render(i: int) -> str:
        text = f"{city_u[city[i]]}|{street_u[street[i]]}|{house_u[house[i]]}"
        return text + (f"|{flat_u[flat[i]]}" if flat[i] >= 0 else "")

    return _Keys("address", idx, key, render, company_guard=True, banned=banned,
                 banned_reason="household_building_has_flats")


def _landline_keys(df: pd.DataFrame, usable: np.ndarray) -> _Keys:
    idx = np.flatnonzero(usable & _equals(df, "phone_type", "fixed") & _qc_ok(df, "qc_phone", 1))
    key, numbers = _recode(np.arange(len(idx), dtype=np.int64), _primary_phones(df, idx))
    have = key >= 0
    idx, key = idx[have], key[have]
    # numbers any record shows with an extension (whatever its type or qc): switchboards
    ext, _ = _factorize(df, "phone_ext")
    office = set(_primary_phones(df, np.flatnonzero(ext >= 0)).tolist())
    banned = np.array([i for i, p in enumerate(numbers.tolist()) if p in office], dtype=np.int64)
    return _Keys("landline", idx, key, lambda i: str(numbers[key[i]]), company_guard=True,
                 banned=banned, banned_reason="household_landline_extension")


@dataclass
class _TaxIds:
    code: np.ndarray      # per row: code of a trusted (qc <= 1) 10/12-digit INN, else -1
    values: np.ndarray    # distinct INNs
    company: np.ndarray   # per row: the record holds a 10-digit INN with qc <= 2


def _tax_ids(df: pd.DataFrame) -> _TaxIds:
    codes, values = _factorize(df, "tax_id")
    digits = [v.isascii() and v.isdigit() for v in values.tolist()]
    inn = np.array([d and len(v) in (10, 12) for d, v in zip(digits, values.tolist())] + [False])
    inn10 = np.array([d and len(v) == 10 for d, v in zip(digits, values.tolist())] + [False])
    trusted = np.where(inn[codes] & _qc_ok(df, "qc_tax_id", 1), codes, -1)
    return _TaxIds(trusted, values, inn10[codes] & _qc_ok(df, "qc_tax_id", 2))


def _organisation_keys(df: pd.DataFrame, usable: np.ndarray, tax: _TaxIds
                       ) -> tuple[_Keys, _Keys]:
    is_inn10 = np.array([len(v) == 10 for v in tax.values.tolist()] + [False])
    t_idx = np.flatnonzero(usable & is_inn10[tax.code])
    t_key = tax.code[t_idx]
    tax_keys = _Keys("tax_id", t_idx, t_key, lambda i: str(tax.values[t_key[i]]))

    name_code, names = _factorize(df, "company_name_norm")
    name_code = np.where(usable & _qc_ok(df, "qc_company", 1), name_code, -1)
    # a name carried with two or more different tax ids belongs to several legal entities
    both = (name_code >= 0) & (tax.code >= 0)
    width = len(tax.values) + 1
    pairs = np.unique(name_code[both] * width + tax.code[both])
    ambiguous = np.flatnonzero(np.bincount(pairs // width, minlength=len(names)) >= 2)
    n_idx = np.flatnonzero(name_code >= 0)
    n_key = name_code[n_idx]
    name_keys = _Keys("name", n_idx, n_key, lambda i: str(names[n_key[i]]),
                      banned=ambiguous, banned_reason="organisation_name_ambiguous")
    return tax_keys, name_keys


def _company_records(df: pd.DataFrame, tax: _TaxIds) -> np.ndarray:
    """Per record: it names a company (qc <= 2) or holds a company INN (qc <= 2)."""
    name_code, _ = _factorize(df, "company_name_norm")
    return ((name_code >= 0) & _qc_ok(df, "qc_company", 2)) | tax.company


# --------------------------------------------------------------------------------------------
# Linking
# --------------------------------------------------------------------------------------------

def _skip(report: dict[str, dict[str, Any]], reason: str, keys: _Keys, codes: np.ndarray,
          sizes: np.ndarray) -> None:
    """Record skipped key codes under ``reason``: count and masked examples (largest first)."""
    if not len(codes):
        return
    entry = report[reason]
    entry["keys"] += int(len(codes))
    # the largest keys (all those tied with the last one shown), any of their rows
    cut = np.sort(sizes[codes])[::-1][min(MAX_EXAMPLES, len(codes)) - 1]
    shown = codes[sizes[codes] >= cut]
    uk, pos = np.unique(keys.key, return_index=True)
    where = pos[np.searchsorted(uk, shown)]
    examples = entry["examples"] + [{"key": mask_key(keys.render(int(i))), "customers": int(sizes[c])}
                                    for c, i in zip(shown.tolist(), where.tolist())]
    # largest first, ties by masked text: row order never changes the report
    examples.sort(key=lambda e: (-e["customers"], e["key"]))
    entry["examples"] = examples[:MAX_EXAMPLES]


def _link(level: str, kinds: list[_Keys], gcode: np.ndarray, n: int, max_size: int,
          company: np.ndarray | None, report: dict[str, dict[str, Any]]
          ) -> tuple[np.ndarray, dict[str, Any]]:
    """Connected components of golden customers over the kinds' kept keys.

    Returns (per golden customer: code of its group's smallest member, or -1 when in no group;
    summary counts)."""
    src: list[np.ndarray] = []
    dst: list[np.ndarray] = []
    offset = n
    used: dict[str, int] = {}
    for keys in kinds:
        used[keys.kind] = 0
        if not len(keys.rows):
            continue
        n_keys = int(keys.key.max()) + 1
        # distinct (key, golden customer) pairs
        pairs, inverse = np.unique(keys.key * n + gcode[keys.rows], return_inverse=True)
        k, g = pairs // n, pairs % n
        sizes = np.bincount(k, minlength=n_keys)
        keep = sizes >= 2
        if keys.banned is not None and len(keys.banned):
            banned = np.zeros(n_keys, dtype=bool)
            banned[keys.banned] = True
            _skip(report, keys.banned_reason, keys, np.flatnonzero(banned & keep), sizes)
            keep &= ~banned
        large = keep & (sizes > max_size)
        _skip(report, f"{level}_{keys.kind}_too_large", keys, np.flatnonzero(large), sizes)
        keep &= ~large
        if keys.company_guard and company is not None:
            # a golden customer counts when any of its records carrying the key is a company's
            held = np.bincount(inverse, weights=company[keys.rows], minlength=len(pairs)) > 0
            share = np.bincount(k, weights=held, minlength=n_keys) / np.maximum(sizes, 1)
            office = keep & (share > COMPANY_SHARE)
            _skip(report, f"{level}_{keys.kind}_company", keys, np.flatnonzero(office), sizes)
            keep &= ~office
        used[keys.kind] = int(keep.sum())
        sel = keep[k]
        src.append(g[sel])
        dst.append(offset + k[sel])
        offset += n_keys

    smallest = np.full(n, -1, dtype=np.int64)
    summary = {"groups": 0, "customers": 0, "largest": 0, "oversize": 0, "keys_used": used}
    if not sum(len(s) for s in src):
        return smallest, summary
    s = np.concatenate(src)
    d = np.concatenate(dst)
    graph = coo_matrix((np.ones(len(s), dtype=np.int8), (s, d)), shape=(offset, offset)).tocsr()
    _, labels = connected_components(graph, directed=False)
    lab = labels[:n]
    # np.unique's first index per label is the smallest golden code (codes follow id order)
    uniq_lab, first, members = np.unique(lab, return_index=True, return_counts=True)
    root = np.full(int(lab.max()) + 1, -1, dtype=np.int64)
    size = np.zeros(int(lab.max()) + 1, dtype=np.int64)
    root[uniq_lab] = first
    size[uniq_lab] = members
    ok = (size[lab] >= 2) & (size[lab] <= max_size)
    smallest[ok] = root[lab[ok]]
    good = (members >= 2) & (members <= max_size)
    summary.update(groups=int(good.sum()), customers=int(members[good].sum()),
                   largest=int(members[good].max()) if good.any() else 0,
                   oversize=int((members > max_size).sum()))
    return smallest, summary


def _labels(prefix: str, smallest: np.ndarray, golden: pa.Array) -> pd.Series:
    """``prefix`` + the golden id at ``smallest`` per customer; null where -1."""
    picked = golden.take(pa.array(np.where(smallest >= 0, smallest, 0), mask=smallest < 0))
    return pd.Series(pc.binary_join_element_wise(prefix, picked, ""), dtype="str")


def link_households(members: pd.DataFrame, *, max_household: int = 12,
                    max_organisation: int = 5000) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Household and organisation ids for golden customers (rules in the module docstring).

    ``members``: one row per accepted source record with its ``golden_id`` and the cleansed
    columns used here (city, street, house, flat, qc_address, phones / phone, phone_type,
    qc_phone, phone_ext, company_name_norm, qc_company, tax_id, qc_tax_id); missing columns
    count as all-null, rows with a null golden_id are ignored.

    Returns ``(frame, report)``:

    * frame -- :data:`HOUSEHOLD_COLUMNS`, exactly one row per distinct golden_id of
      ``members``, sorted by golden_id, fresh RangeIndex, string columns (pandas ``str``;
      ``household_id`` / ``organisation_id`` null when the customer is in none);
    * report -- counts for the run manifest: ``customers``, ``households``,
      ``customers_in_households``, ``largest_household``, ``oversize_households``,
      ``household_keys`` (kept keys per kind), the same for organisations,
      ``shared_personal_tax_ids``, ``skipped_keys`` (number of keys skipped per reason of
      :data:`SKIP_REASONS`, every reason present) and ``skipped_examples`` (per reason with
      skips: up to :data:`MAX_EXAMPLES` masked keys with their customer counts, largest first).

    Guarantees: every household (organisation) has 2..``max_household`` (``max_organisation``)
    golden customers; a single customer is in none; its id is the prefix H (O) + its smallest
    member golden id, so it is stable while that member stays; golden ids are never changed;
    the output does not depend on the row order of ``members``; the report holds no raw
    personal data; pure (no I/O, no clock), ``members`` is not modified. ValueError when
    ``golden_id`` is missing or a limit is below 2.
    """
    if max_household < 2 or max_organisation < 2:
        raise ValueError("max_household and max_organisation must be at least 2")
    if "golden_id" not in members.columns:
        raise ValueError("members: missing column 'golden_id'")
    df = members
    gcode, golden = _golden_codes(df["golden_id"])
    n = len(golden)
    usable = gcode >= 0

    skips: dict[str, dict[str, Any]] = {r: {"keys": 0, "examples": []} for r in SKIP_REASONS}
    tax = _tax_ids(df)
    home, h = _link("household", [_address_keys(df, usable), _landline_keys(df, usable)],
                    gcode, n, max_household, _company_records(df, tax), skips)
    org, o = _link("organisation", list(_organisation_keys(df, usable, tax)),
                   gcode, n, max_organisation, None, skips)

    # 12-digit INNs held by different golden customers: a matching question, only counted
    is_inn12 = np.array([len(v) == 12 for v in tax.values.tolist()] + [False])
    personal = usable & is_inn12[tax.code]
    per_inn = np.unique(tax.code[personal] * max(n, 1) + gcode[personal]) // max(n, 1)
    shared_personal = int((np.bincount(per_inn) >= 2).sum()) if len(per_inn) else 0

    frame = pd.DataFrame({
        "golden_id": pd.Series(golden, dtype="str"),
        "household_id": _labels(HOUSEHOLD_PREFIX, home, golden),
        "organisation_id": _labels(ORGANISATION_PREFIX, org, golden),
    })
    report: dict[str, Any] = {
        "customers": n,
        "households": h["groups"],
        "customers_in_households": h["customers"],
        "largest_household": h["largest"],
        "oversize_households": h["oversize"],
        "household_keys": h["keys_used"],
        "organisations": o["groups"],
        "customers_in_organisations": o["customers"],
        "largest_organisation": o["largest"],
        "oversize_organisations": o["oversize"],
        "organisation_keys": o["keys_used"],
        "shared_personal_tax_ids": shared_personal,
        "skipped_keys": {r: skips[r]["keys"] for r in SKIP_REASONS},
        "skipped_examples": {r: skips[r]["examples"] for r in SKIP_REASONS if skips[r]["examples"]},
    }
    return frame, report
