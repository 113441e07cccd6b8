"""Golden ids that stay stable across runs, and the history of the ids that were retired.

Each run clusters the records afresh; cluster numbers mean nothing from one run to the next.
Golden ids carry the identity over (issue 3, point 6):

1. overlap table: previous golden id x new cluster -> number of shared record keys;
2. a new cluster holding a strict majority of a previous id's records is that id's heir;
   when it is the heir of several ids (a merge) it keeps the oldest one (the smallest
   number: DESIGN.md invariant 2, "a merge keeps the older id"). Ids left over (splits, where
   no part holds a majority) then go to the clusters left over, each to the one holding most
   of its records (ties: the larger previous cluster, then the older id), largest overlaps
   first. Each previous id goes to one cluster only, deterministically;
3. clusters that inherit nothing get new ids, numbered after the largest id ever issued (in
   the previous crosswalk or anywhere in the history), in the order of each cluster's
   smallest record key; an id is never issued twice;
4. previous ids that no cluster inherited are *retired*: one history row each, with the
   successor (the id of the cluster that took most of their records), how many records went
   there, and the event -- ``merge`` (the records joined one cluster that kept another id),
   ``split`` (they spread over several clusters, none of which kept the id) or ``removed``
   (no record is left).

A split where one part keeps the id retires nothing, so it writes no history row: the
crosswalk shows which records moved to new ids. The history therefore holds exactly one row
per retired id (DESIGN.md output contract), and following ``successor_id`` from any retired id
ends at a live id or a removal.

Pure: no I/O, no clock (the run id is an argument), inputs never mutated, output independent
of row order.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

GOLDEN_ID_PREFIX = "G"
GOLDEN_ID_DIGITS = 10
_GOLDEN_ID_RE = re.compile(rf"{GOLDEN_ID_PREFIX}\d{{{GOLDEN_ID_DIGITS}}}")

CROSSWALK_ID_COLUMNS: tuple[str, ...] = ("record_key", "golden_id")
HISTORY_COLUMNS: tuple[str, ...] = ("golden_id", "successor_id", "run_id", "event", "records")
EVENTS: tuple[str, ...] = ("merge", "split", "removed")


def format_golden_id(number: int) -> str:
    """``G`` followed by the number on 10 digits: 42 -> "G0000000042"."""
    if not 0 < number < 10 ** GOLDEN_ID_DIGITS:
        raise ValueError(f"golden id number out of range: {number}")
    return f"{GOLDEN_ID_PREFIX}{number:0{GOLDEN_ID_DIGITS}d}"


def parse_golden_id(golden_id: str) -> int:
    """The number of a golden id ("G0000000042" -> 42); ValueError on any other shape."""
    if not isinstance(golden_id, str) or not _GOLDEN_ID_RE.fullmatch(golden_id):
        raise ValueError(f"not a golden id: {golden_id!r} (expected G + {GOLDEN_ID_DIGITS} digits)")
    return int(golden_id[1:])


def _parse_ids(values: Any, what: str) -> np.ndarray:
    """Numbers of golden ids (vectorised :func:`parse_golden_id`; no nulls allowed);
    ValueError naming ``what`` and the first malformed id."""
    arr = pa.array(values, type=pa.string(), from_pandas=True)
    if len(arr) == 0:
        return np.empty(0, dtype=np.int64)
    ok = pc.fill_null(pc.match_substring_regex(arr, f"^{_GOLDEN_ID_RE.pattern}$"), False)
    if not pc.all(ok).as_py():
        bad = arr[int(np.flatnonzero(~ok.to_numpy(zero_copy_only=False))[0])].as_py()
        raise ValueError(f"{what}: not a golden id: {bad!r} (expected G + {GOLDEN_ID_DIGITS} digits)")
    return pc.cast(pc.utf8_slice_codeunits(arr, 1), pa.int64()).to_numpy().astype(np.int64)


def _format_ids(numbers: np.ndarray) -> pa.Array:
    """Vectorised :func:`format_golden_id`."""
    if len(numbers) and (numbers.min() <= 0 or numbers.max() >= 10 ** GOLDEN_ID_DIGITS):
        raise ValueError("golden id number out of range")
    digits = pc.utf8_lpad(pc.cast(pa.array(numbers, pa.int64()), pa.string()), width=GOLDEN_ID_DIGITS,
                          padding="0")
    return pc.binary_join_element_wise(pa.scalar(GOLDEN_ID_PREFIX), digits, "")


def _id_numbers(values: pd.Series, what: str) -> np.ndarray:
    """Distinct numbers of a series of golden ids (nulls dropped)."""
    uniq = pd.unique(values.dropna().astype(str))
    return _parse_ids(list(uniq), what)


def _empty_history() -> pd.DataFrame:
    return pd.DataFrame({
        "golden_id": pd.Series([], dtype="str"), "successor_id": pd.Series([], dtype="str"),
        "run_id": pd.Series([], dtype="str"), "event": pd.Series([], dtype="str"),
        "records": pd.Series([], dtype="int64"),
    })


def _history_frame(rows: pd.DataFrame) -> pd.DataFrame:
    out = pd.DataFrame({
        "golden_id": rows["golden_id"].astype("str"),
        "successor_id": rows["successor_id"].astype("object").astype("str"),  # None stays null
        "run_id": rows["run_id"].astype("str"),
        "event": rows["event"].astype("str"),
        "records": rows["records"].astype("int64"),
    })
    return out.reset_index(drop=True)


def assign_golden_ids(assignments: pd.DataFrame, previous_crosswalk: pd.DataFrame | None,
                      previous_history: pd.DataFrame | None, *, run_id: str,
                      ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Give every cluster of ``assignments`` a golden id, stable against the previous run.

    ``assignments``: ``record_key`` (unique), ``cluster`` (any hashable label; only equality
    matters). ``previous_crosswalk``: ``record_key``, ``golden_id`` of the last published
    crosswalk (other columns ignored; rows with a null id ignored), or None on the first run.
    ``previous_history``: the last published history (:data:`HISTORY_COLUMNS`) or None.

    Returns ``(crosswalk_ids, history)``:

    * crosswalk_ids -- :data:`CROSSWALK_ID_COLUMNS`, one row per record, sorted by record_key;
      records of one cluster share one id, different clusters have different ids.
    * history -- :data:`HISTORY_COLUMNS`, cumulative: the previous rows unchanged, then one
      row per id retired in this run (sorted by golden_id) with ``run_id``; ``successor_id``
      is null for ``removed``; ``records`` counts the retired id's records that went to the
      successor (0 for ``removed``).

    Guarantees: unchanged input gives identical ids and no new history row (a fixpoint); a
    record joining an existing cluster gets that cluster's id; a merge keeps the oldest of the
    merged ids and retires the others as ``merge``; a split keeps the id on the part holding
    most of its records; ids are never reissued. ValueError on malformed ids, duplicate record keys or an empty ``run_id``.
    """
    if not isinstance(run_id, str) or not run_id.strip():
        raise ValueError("run_id must be a non-empty string")
    for col in ("record_key", "cluster"):
        if col not in assignments.columns:
            raise ValueError(f"assignments: missing column {col!r}")
    new = pd.DataFrame({"record_key": assignments["record_key"].astype(str),
                        "cluster": assignments["cluster"]})
    if new["record_key"].duplicated().any():
        dup = new.loc[new["record_key"].duplicated(), "record_key"].iloc[0]
        raise ValueError(f"assignments: duplicate record_key {dup!r}")
    if new["cluster"].isna().any():
        raise ValueError("assignments: null cluster")

    prev = _previous(previous_crosswalk)
    history = (_empty_history() if previous_history is None or len(previous_history) == 0
               else _history_frame(_checked_history(previous_history)))
    max_issued = 0
    if len(prev):
        max_issued = int(prev["old"].max())
    if len(history):
        nums = np.concatenate([_id_numbers(history["golden_id"], "history golden_id"),
                               _id_numbers(history["successor_id"], "history successor_id")])
        if len(nums):
            max_issued = max(max_issued, int(nums.max()))

    # clusters as dense numbers 0..k-1 in the order of their smallest record key
    new = new.sort_values("record_key", kind="stable").reset_index(drop=True)
    codes, _ = pd.factorize(new["cluster"], sort=False)  # first appearance = smallest key
    new["c"] = codes.astype(np.int64)
    k = int(new["c"].max()) + 1 if len(new) else 0
    cluster_size = np.bincount(new["c"].to_numpy(), minlength=k)

    # overlap table: previous id x new cluster
    joined = new.merge(prev, on="record_key", how="inner")
    overlap = (joined.groupby(["old", "c"], sort=False).size().rename("n").reset_index()
               if len(joined) else pd.DataFrame({"old": pd.Series([], dtype="int64"),
                                                 "c": pd.Series([], dtype="int64"),
                                                 "n": pd.Series([], dtype="int64")}))
    old_size = prev.groupby("old").size()
    overlap["old_size"] = overlap["old"].map(old_size).astype("int64")
    overlap["c_size"] = cluster_size[overlap["c"].to_numpy()] if len(overlap) else 0

    inherited = _resolve(overlap, k)  # cluster -> old id number, -1 when none
    ids = inherited.copy()
    fresh = np.flatnonzero(ids < 0)  # already in smallest-key order
    ids[fresh] = max_issued + 1 + np.arange(len(fresh), dtype=np.int64)
    if len(fresh) and ids[fresh].max() >= 10 ** GOLDEN_ID_DIGITS:
        raise ValueError("golden id space exhausted")

    id_strings = _format_ids(ids).take(pa.array(new["c"].to_numpy(), pa.int64()))
    crosswalk = pd.DataFrame({
        "record_key": new["record_key"].astype("str"),
        "golden_id": pd.Series(id_strings.to_pandas(), dtype="str").reset_index(drop=True),
    })

    retired = _retired(prev, overlap, inherited, ids, run_id)
    if len(retired):
        history = pd.concat([history, retired], ignore_index=True) if len(history) else retired
    return crosswalk, history


def _previous(previous_crosswalk: pd.DataFrame | None) -> pd.DataFrame:
    """record_key, old (golden id number) of the previous crosswalk."""
    if previous_crosswalk is None or len(previous_crosswalk) == 0:
        return pd.DataFrame({"record_key": pd.Series([], dtype="str"),
                             "old": pd.Series([], dtype="int64")})
    for col in ("record_key", "golden_id"):
        if col not in previous_crosswalk.columns:
            raise ValueError(f"previous crosswalk: missing column {col!r}")
    prev = previous_crosswalk[["record_key", "golden_id"]].dropna()
    prev = pd.DataFrame({"record_key": prev["record_key"].astype(str),
                         "golden_id": prev["golden_id"].astype(str)})
    if prev["record_key"].duplicated().any():
        dup = prev.loc[prev["record_key"].duplicated(), "record_key"].iloc[0]
        raise ValueError(f"previous crosswalk: duplicate record_key {dup!r}")
    codes, uniq = pd.factorize(prev["golden_id"])
    nums = _parse_ids(pd.Series(uniq, dtype="object"), "previous crosswalk")
    return pd.DataFrame({"record_key": prev["record_key"], "old": nums[codes]})


def _checked_history(history: pd.DataFrame) -> pd.DataFrame:
    missing = [c for c in HISTORY_COLUMNS if c not in history.columns]
    if missing:
        raise ValueError(f"previous history: missing column(s) {missing}")
    return history


def _resolve(overlap: pd.DataFrame, k: int) -> np.ndarray:
    """Cluster -> inherited old id number (-1 for none); each cluster and each old id used
    at most once.

    Pass 1 (merges keep the older id, DESIGN.md invariant 2): a cluster holding a strict
    majority of an old id's records is that id's heir; among several such ids the cluster
    takes the oldest (smallest number). Pass 2 (splits and leftovers, issue 3 point 6):
    remaining ids go to remaining clusters by overlap desc, old cluster size desc, old id
    asc, new cluster size desc, cluster asc (= smallest record key).
    """
    inherited = np.full(k, -1, dtype=np.int64)
    if len(overlap) == 0:
        return inherited
    majority = overlap[2 * overlap["n"] > overlap["old_size"]]
    heirs = majority.sort_values(["c", "old"], kind="stable").drop_duplicates("c", keep="first")
    inherited[heirs["c"].to_numpy()] = heirs["old"].to_numpy()
    used = set(heirs["old"].tolist())
    rest = overlap[~overlap["old"].isin(used) & (inherited[overlap["c"].to_numpy()] < 0)]
    rest = rest.sort_values(["n", "old_size", "old", "c_size", "c"],
                            ascending=[False, False, True, False, True], kind="stable")
    for old, c in zip(rest["old"].tolist(), rest["c"].tolist()):
        if old in used or inherited[c] >= 0:
            continue
        inherited[c] = old
        used.add(old)
    return inherited


def _retired(prev: pd.DataFrame, overlap: pd.DataFrame, inherited: np.ndarray,
             ids: np.ndarray, run_id: str) -> pd.DataFrame:
    all_old = np.unique(prev["old"].to_numpy(dtype=np.int64))
    gone = all_old[~np.isin(all_old, inherited[inherited >= 0])].tolist()
    if not gone:
        return _empty_history()
    ov = overlap[overlap["old"].isin(gone)].copy()
    ov["succ"] = ids[ov["c"].to_numpy()] if len(ov) else np.empty(0, np.int64)
    # successor: most records, then the larger new cluster, then the smaller id
    ov = ov.sort_values(["old", "n", "c_size", "succ"], ascending=[True, False, False, True],
                        kind="stable")
    spread = ov.groupby("old").size()
    best = ov.drop_duplicates("old", keep="first").set_index("old")
    rows: list[dict[str, Any]] = []
    for old in gone:
        if old in best.index:
            rows.append({"golden_id": format_golden_id(old),
                         "successor_id": format_golden_id(int(best.at[old, "succ"])),
                         "run_id": run_id,
                         "event": "split" if int(spread.at[old]) > 1 else "merge",
                         "records": int(best.at[old, "n"])})
        else:
            rows.append({"golden_id": format_golden_id(old), "successor_id": None,
                         "run_id": run_id, "event": "removed", "records": 0})
    return _history_frame(pd.DataFrame(rows))
