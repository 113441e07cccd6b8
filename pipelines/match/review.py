"""Steward loop: the review queue of uncertain pairs, and steward decisions as links.

The queue lists the pairs whose decision would change the hub:

* ``grey_zone`` -- pairs scored inside the review band ``[low, high)`` whose records sit in
  different clusters (a "match" would merge them);
* ``veto:<why>`` -- pairs at or above the link threshold that clustering vetoed
  (:func:`pipelines.match.clustering.cluster`), with the veto reason (a "match" overrides it).

A grey pair whose records already share a cluster (joined through stronger links) is not
listed: no decision on that one pair changes a golden id by itself.

``impact`` is the number of records whose golden id would change if the decision flipped:
the size of the smaller of the two clusters (a merge keeps the id of the larger side). The
queue is sorted by impact descending, then by closeness of the probability to the link
threshold, then by the record keys, so the steward's time goes where it moves most records.

Decisions (``hub.decisions.csv``: record_key_l, record_key_r, decision, decided_at, note)
become must-links (``match``) and cannot-links (``no_match``); the latest decision on a pair
wins. Pure: no I/O, inputs never mutated.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from pipelines.schema import REVIEW_KEY_COLUMNS, REVIEW_TAIL_COLUMNS

QUEUE_KEY_COLUMNS = REVIEW_KEY_COLUMNS
#: Columns after the ``mw_*`` columns.
QUEUE_TAIL_COLUMNS = REVIEW_TAIL_COLUMNS
GREY_ZONE = "grey_zone"
#: Veto reason of a steward's cannot-link (clustering.CANNOT_LINK; not imported to keep the
#: modules independent).
CANNOT_LINK = "cannot_link"
VETO_PREFIX = "veto:"
DECISIONS: tuple[str, ...] = ("match", "no_match")
LINK_COLUMNS: tuple[str, ...] = ("record_key_l", "record_key_r")

_ISO_START = re.compile(r"\d{4}-\d{2}-\d{2}")
_DECISION_ALIASES = {"match": "match", "no_match": "no_match", "no-match": "no_match",
                     "no match": "no_match", "nomatch": "no_match"}


def _arrow(table: pd.DataFrame | pa.Table, columns: list[str] | None = None) -> pa.Table:
    """``table`` (or just ``columns`` of it) as a pyarrow table; pandas is converted once."""
    if isinstance(table, pa.Table):
        return table if columns is None else table.select(columns)
    frame = table if columns is None else table[columns]
    return pa.Table.from_pandas(frame, preserve_index=False)


def _ordered_keys(tbl: pa.Table) -> pa.Table:
    """The table with record_key_l <= record_key_r on every row (swapped where needed)."""
    kl = pc.cast(tbl.column("record_key_l"), pa.string())
    kr = pc.cast(tbl.column("record_key_r"), pa.string())
    swap = pc.fill_null(pc.greater(kl, kr), False)
    lo, hi = pc.if_else(swap, kr, kl), pc.if_else(swap, kl, kr)
    tbl = tbl.set_column(tbl.column_names.index("record_key_l"), "record_key_l", lo)
    return tbl.set_column(tbl.column_names.index("record_key_r"), "record_key_r", hi)


def _pair_key(kl: Any, kr: Any) -> Any:
    return pc.binary_join_element_wise(kl, kr, "\x1f")


def review_queue(pairs: pd.DataFrame | pa.Table, assignments: pd.DataFrame,
                 golden_ids: pd.DataFrame, vetoes: pd.DataFrame | None, *,
                 band: tuple[float, float], threshold: float | None = None,
                 decided: pd.DataFrame | None = None) -> pd.DataFrame:
    """Uncertain pairs for a steward, most impactful first (see the module docstring).

    ``pairs``: the scored pairs (``record_key_l``, ``record_key_r``, ``match_probability``,
    ``match_weight``, ``mw_*``; pandas or pyarrow -- pyarrow avoids a copy). ``assignments``:
    ``record_key``, ``cluster`` (from clustering). ``golden_ids``: ``record_key``,
    ``golden_id``. ``vetoes``: ``record_key_l``, ``record_key_r``, ``match_probability``,
    ``reason`` (from clustering). ``band``: ``(low, high)``, grey pairs have
    ``low <= match_probability < high``. ``threshold``: the link threshold that "closeness"
    refers to; default ``high``. ``decided``: pairs a steward already decided
    (``record_key_l``, ``record_key_r``, either order, e.g. must-links and cannot-links
    together): never asked again. Pairs vetoed by a cannot-link are never listed either.

    Returns the columns ``record_key_l, record_key_r, golden_id_l, golden_id_r,
    match_probability, match_weight``, every ``mw_*`` column of ``pairs`` in its order, then
    ``reason`` (``grey_zone`` or ``veto:<why>``), ``impact`` (int64) and ``decision`` (string,
    all null: for the steward to fill). One row per pair (a vetoed pair inside the band is
    listed once, as a veto; a pair listed twice in ``pairs`` keeps its higher probability);
    keys ordered ``record_key_l < record_key_r``. Deterministic; independent of row order.
    """
    low, high = (float(band[0]), float(band[1]))
    if not 0.0 <= low <= high <= 1.0:
        raise ValueError(f"review band must satisfy 0 <= low <= high <= 1, got {band!r}")
    thr = high if threshold is None else float(threshold)
    names = pairs.column_names if isinstance(pairs, pa.Table) else [str(c) for c in pairs.columns]
    for col in ("record_key_l", "record_key_r", "match_probability"):
        if col not in names:
            raise ValueError(f"pairs: missing column {col!r}")
    mw_cols = [c for c in names if c.startswith("mw_")]
    value_cols = ["match_weight", *mw_cols]
    tbl = _ordered_keys(_arrow(pairs, [c for c in ("record_key_l", "record_key_r", "match_probability",
                                                   "match_weight", *mw_cols) if c in names]))
    tbl = tbl.set_column(tbl.column_names.index("match_probability"), "match_probability",
                         pc.cast(tbl.column("match_probability"), pa.float64()))
    for c in value_cols:
        if c not in tbl.column_names:
            tbl = tbl.append_column(c, pa.nulls(tbl.num_rows, pa.float64()))
        else:
            tbl = tbl.set_column(tbl.column_names.index(c), c, pc.cast(tbl.column(c), pa.float64()))
    prob = tbl.column("match_probability")

    parts = []
    veto_keys = None
    if vetoes is not None and len(vetoes):
        reason = vetoes["reason"].astype(str)
        stewarded = (reason == CANNOT_LINK) | reason.str.startswith(CANNOT_LINK + "+")
        vetoes = vetoes[~stewarded.to_numpy()]
    if vetoes is not None and len(vetoes):
        vt = _ordered_keys(pa.table({
            "record_key_l": pa.array(vetoes["record_key_l"].astype(str), pa.string()),
            "record_key_r": pa.array(vetoes["record_key_r"].astype(str), pa.string()),
            "match_probability": pa.array(vetoes["match_probability"].astype("float64"), pa.float64()),
            "reason": pc.binary_join_element_wise(
                VETO_PREFIX, pa.array(vetoes["reason"].astype(str), pa.string()), ""),
        }))
        veto_keys = _pair_key(vt.column("record_key_l"), vt.column("record_key_r"))
        floor = pc.min(vt.column("match_probability")).as_py()
        cand = tbl.filter(pc.fill_null(pc.greater_equal(prob, floor), False)) if floor is not None else tbl
        cand = cand.filter(pc.is_in(_pair_key(cand.column("record_key_l"), cand.column("record_key_r")),
                                    value_set=veto_keys))
        cand = _first_per_pair(cand.drop_columns(["match_probability"]), ["match_weight"])
        # the vetoes carry the probability clustering used; the weights come from pairs
        parts.append(vt.join(cand, keys=["record_key_l", "record_key_r"], join_type="left outer")
                     .select(["record_key_l", "record_key_r", "match_probability", *value_cols, "reason"]))
    grey = tbl.filter(pc.fill_null(pc.and_(pc.greater_equal(prob, low), pc.less(prob, high)), False))
    if veto_keys is not None:
        grey = grey.filter(pc.invert(pc.is_in(
            _pair_key(grey.column("record_key_l"), grey.column("record_key_r")), value_set=veto_keys)))
    grey = _first_per_pair(grey, ["match_probability"])
    parts.append(grey.append_column("reason", pa.repeat(pa.scalar(GREY_ZONE, pa.string()), grey.num_rows)))
    queue = pa.concat_tables([part.select(parts[-1].column_names) for part in parts])
    if decided is not None and len(decided):
        dk = _ordered_keys(pa.table({c: pa.array(decided[c].astype(str), pa.string())
                                     for c in ("record_key_l", "record_key_r")}))
        asked = _pair_key(queue.column("record_key_l"), queue.column("record_key_r"))
        queue = queue.filter(pc.invert(pc.is_in(asked, value_set=_pair_key(
            dk.column("record_key_l"), dk.column("record_key_r")))))

    # clusters, sizes and golden ids of both sides (one hash lookup for both key columns)
    akeys = pa.array(assignments["record_key"].astype(str), pa.string())
    cl_codes, _ = pd.factorize(assignments["cluster"])
    cl_codes = np.append(cl_codes.astype(np.int64), -1)  # position -1: not assigned
    size = np.append(np.bincount(cl_codes[:-1], minlength=int(cl_codes.max()) + 1), 1)
    nq = queue.num_rows
    both = pa.chunked_array(queue.column("record_key_l").chunks + queue.column("record_key_r").chunks,
                            type=pa.string())
    pos = pc.index_in(both, value_set=akeys).fill_null(-1).to_numpy().astype(np.int64)
    pos_l, pos_r = pos[:nq], pos[nq:]
    cl_l, cl_r = cl_codes[pos_l], cl_codes[pos_r]
    keep = (cl_l != cl_r) | (cl_l < 0) | (cl_r < 0)
    impact = np.minimum(size[cl_l], size[cl_r])[keep].astype(np.int64)
    queue = queue.filter(pa.array(keep))
    pos_l, pos_r = pos_l[keep], pos_r[keep]
    gkeys = pa.array(golden_ids["record_key"].astype(str), pa.string())
    gvals = pa.array(golden_ids["golden_id"].astype(object).where(golden_ids["golden_id"].notna(), None),
                     pa.string())
    if len(gkeys) == len(akeys) and (len(akeys) == 0 or pc.all(pc.equal(gkeys, akeys)).as_py()):
        gpos = np.arange(len(akeys), dtype=np.int64)  # same rows (the usual case): no lookup
    else:
        gpos = pc.index_in(akeys, value_set=gkeys).fill_null(-1).to_numpy().astype(np.int64)
    gpos = np.append(gpos, -1)
    gvals = pa.concat_arrays([gvals, pa.nulls(1, pa.string())])

    def golden(at: np.ndarray) -> pa.Array:
        g = gpos[at]
        return gvals.take(pa.array(np.where(g >= 0, g, len(gvals) - 1)))

    closeness = pc.abs(pc.subtract(queue.column("match_probability"), thr))
    out = pa.table({
        "record_key_l": queue.column("record_key_l"), "record_key_r": queue.column("record_key_r"),
        "golden_id_l": golden(pos_l), "golden_id_r": golden(pos_r),
        **{c: queue.column(c) for c in ("match_probability", *value_cols)},
        "reason": queue.column("reason"), "impact": pa.array(impact, pa.int64()),
        "_neg_impact": pa.array(-impact, pa.int64()), "_closeness": closeness,
    })
    out = out.sort_by([("_neg_impact", "ascending"), ("_closeness", "ascending"),
                       ("record_key_l", "ascending"), ("record_key_r", "ascending")])
    frame = out.drop_columns(["_neg_impact", "_closeness"]).to_pandas()
    for c in ("record_key_l", "record_key_r", "golden_id_l", "golden_id_r", "reason"):
        frame[c] = frame[c].astype("str")
    frame["decision"] = pd.Series([None] * len(frame), dtype="str")
    return frame.reset_index(drop=True)


def _first_per_pair(tbl: pa.Table, prefer_high: list[str]) -> pa.Table:
    """One row per (record_key_l, record_key_r): the one with the highest ``prefer_high``."""
    if tbl.num_rows < 2:
        return tbl
    keys = _pair_key(tbl.column("record_key_l"), tbl.column("record_key_r"))
    if pc.count_distinct(keys).as_py() == tbl.num_rows:  # the usual case: nothing to drop
        return tbl
    tbl = tbl.sort_by([("record_key_l", "ascending"), ("record_key_r", "ascending"),
                       *[(c, "descending") for c in prefer_high]])
    kl, kr = tbl.column("record_key_l"), tbl.column("record_key_r")
    n = tbl.num_rows
    same = pc.and_(pc.equal(kl.slice(1), kl.slice(0, n - 1)), pc.equal(kr.slice(1), kr.slice(0, n - 1)))
    first = pa.concat_arrays([pa.array([True]), pc.invert(same).combine_chunks()
                              if isinstance(same, pa.ChunkedArray) else pc.invert(same)])
    return tbl.filter(first)


def decisions_to_links(decisions: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Steward decisions -> ``(must_link, cannot_link)``, each with ``record_key_l``,
    ``record_key_r`` (ordered l < r, one row per pair, sorted).

    ``decisions``: ``record_key_l``, ``record_key_r``, ``decision`` and optionally
    ``decided_at`` (ISO date/time) and ``note``. ``decision`` is ``match`` or ``no_match``
    (case and surrounding spaces ignored; ``no-match`` / ``no match`` accepted); a blank
    decision is no decision (the exported queue starts that way) and is skipped. On one pair
    (either key order) the latest decision wins: the greatest ``decided_at``, a missing one
    counting as older than any date, then the later row.

    Raises ValueError with one line naming the row (1-based, in frame order) and its keys on
    an unknown decision, a blank key, a pair of one record with itself or an unreadable
    ``decided_at``; on a missing column, the message names the column.
    """
    for col in ("record_key_l", "record_key_r", "decision"):
        if col not in decisions.columns:
            raise ValueError(f"decisions: missing column {col!r}")
    rows: list[tuple[Any, int, str, str, str]] = []
    dated = "decided_at" in decisions.columns
    stamps = decisions["decided_at"].tolist() if dated else [None] * len(decisions)
    for n, (kl, kr, dec, at) in enumerate(zip(decisions["record_key_l"].tolist(),
                                               decisions["record_key_r"].tolist(),
                                               decisions["decision"].tolist(), stamps), start=1):
        value = _blank(dec)
        if value is None:
            continue
        where = f"decision row {n} ({_show(kl)} / {_show(kr)})"
        norm = normalise_decision(value)
        if norm is None:
            raise ValueError(f"{where}: unknown decision {value!r}; expected 'match' or 'no_match'")
        a, b = _blank(kl), _blank(kr)
        if a is None or b is None:
            raise ValueError(f"{where}: both record keys are required")
        if a == b:
            raise ValueError(f"{where}: a record cannot be paired with itself")
        rows.append((_timestamp(at, where), n, min(a, b), max(a, b), norm))
    if not rows:
        return _links([]), _links([])
    frame = pd.DataFrame(rows, columns=["at", "n", "record_key_l", "record_key_r", "decision"])
    frame["dated"] = frame["at"].notna()
    frame = frame.sort_values(["dated", "at", "n"], kind="stable", na_position="first")
    latest = frame.drop_duplicates(["record_key_l", "record_key_r"], keep="last")
    must = latest.loc[latest["decision"] == "match", ["record_key_l", "record_key_r"]]
    cannot = latest.loc[latest["decision"] == "no_match", ["record_key_l", "record_key_r"]]
    return _links(must.itertuples(index=False)), _links(cannot.itertuples(index=False))


def normalise_decision(value: Any) -> str | None:
    """``match`` / ``no_match`` for a steward's spelling of them (case, spaces, ``no-match``);
    None for anything else, blank included."""
    text = _blank(value)
    return None if text is None else _DECISION_ALIASES.get(" ".join(text.lower().split()))


def _links(rows: Any) -> pd.DataFrame:
    rows = sorted((str(a), str(b)) for a, b in rows)
    return pd.DataFrame({"record_key_l": pd.Series([r[0] for r in rows], dtype="str"),
                         "record_key_r": pd.Series([r[1] for r in rows], dtype="str")})


def _blank(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return None
    text = str(value).strip()
    return text or None


def _show(value: Any) -> str:
    text = _blank(value)
    return repr(text) if text is not None else "<blank>"


def _timestamp(value: Any, where: str) -> pd.Timestamp | None:
    text = _blank(value)
    if text is None:
        return None
    try:
        if not _ISO_START.match(text):  # pandas would read "now" / "today" from the clock
            raise ValueError(text)
        ts = pd.Timestamp(text)
    except (ValueError, TypeError):
        raise ValueError(f"{where}: unreadable decided_at {text!r}; use ISO 8601, e.g. "
                         "2026-11-05T14:30:00") from None
    if ts is pd.NaT:
        return None
    return ts.tz_convert("UTC").tz_localize(None) if ts.tzinfo is not None else ts
