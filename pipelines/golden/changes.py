"""Change feed: what happened to every golden id in one run, for incremental downstream sync.

:func:`change_feed` compares the previous and the current golden customers and reads the
golden-id history rows of the run. It writes one row per golden id that changed
(:data:`pipelines.schema.GOLDEN_CHANGES`), sorted by ``(change, golden_id)``:

``created``
    live now, not in the previous golden table: the CRM inserts it. This includes the ids a
    split gives to the parts that left an old id (see ``split`` for how the CRM learns their
    origin). First run (no previous table): every id is ``created``.
``updated``
    live in both runs, some attribute differs; ``changed_attributes`` lists them.
``merged``
    retired by a merge in this run (history event ``merge``): its records joined
    ``successor_id``, which kept its own id. The survivor has its own row (``updated``, or
    ``split``) when its attributes changed -- and they usually do: ``record_count``,
    ``sources``, ``first_seen`` ... are attributes.
``split``
    lost records to other golden ids in this run. Two cases:

    * the id lives on with the part holding most of its records (the usual split; the
      history holds no row for it, see :mod:`pipelines.match.stable_ids`). Detected only
      when both crosswalks are passed: some of its previous records now sit under another
      golden id (a new one, or an existing one a record was re-matched to).
      ``changed_attributes`` is a list (possibly empty) of its own attribute changes, as for
      ``updated`` -- the split row replaces the updated row, one row per id;
    * the id was dissolved: every part went to a cluster that kept another id (history
      event ``split``). ``changed_attributes`` is null: there is no current row.
``retired``
    in the previous table, gone now, and not by a merge or a split: every record was
    removed (history event ``removed``), erased, or the id vanished without a history row.
    ``successor_id`` and ``changed_attributes`` are null.

Unchanged ids produce no row. ``run_id`` is the argument on every row.

**Direction of ``successor_id``.** It always points *forward*: from ``golden_id`` to the live
id that now holds (most of) the records that left ``golden_id`` -- ties go to the id with
more records in the current crosswalk, then to the smaller id, as in
:mod:`pipelines.match.stable_ids`. For ``merged`` that is the survivor, for a dissolved
``split`` the history's successor, for a ``split`` that kept its id the largest part that
left it -- in the common two-way split exactly the new id, so the CRM learns "G..5 came out
of G..1" from the row of G..1. The new id's own row stays ``created`` with a null
``successor_id``: putting its origin there would point backwards (the origin is a
predecessor, not a successor) and break the rule that following successors leads from a
retired id to a live one. In a split into three or more parts only the largest departed part
is named; the crosswalk gives every record's id.

**What the CRM can rely on.** Every id that left the golden table has exactly one row with
change ``merged``, ``split`` (``changed_attributes`` null) or ``retired``; every new id has a
``created`` row; ``changed_attributes`` is a list exactly for ids live in both runs
(``updated``, ``split`` that kept its id) and null otherwise. The feed names ids and
attributes, not values: read values from ``golden_customers.parquet``.

**What counts as a change.** Every GOLDEN_CUSTOMERS column except ``golden_id``, with
nothing ignored: bookkeeping attributes (``record_count``, ``source_count``, ``sources``,
``first_seen``, ``last_seen``, ``quality_score``) and links (``household_id``,
``organisation_id``) count like names and phones. Null equals null, null differs from any
value. Lists are compared as lists, element by element: a new order of ``phones`` or
``emails`` is a change, because the order means something (primary first) and survivorship
is deterministic, so a new order comes from new input. Columns outside the schema are ignored; a column absent from the *previous* table
(written by an older version) counts as all null, so the run that introduces it reports it
where it has values.

Pure: no I/O, no clock, inputs never mutated, the output does not depend on the row order
of any input. Vectorised: a hash lookup aligns the two tables and each column is compared
with one Arrow kernel (lists: lengths, then flattened elements).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from pipelines.schema import GOLDEN_CHANGES, GOLDEN_CUSTOMERS

CREATED, UPDATED, MERGED, SPLIT, RETIRED = "created", "updated", "merged", "split", "retired"
#: Values of the ``change`` column.
CHANGES: tuple[str, ...] = (CREATED, UPDATED, MERGED, SPLIT, RETIRED)

#: The compared columns, in name order (so ``changed_attributes`` comes out sorted).
COMPARED_COLUMNS: tuple[str, ...] = tuple(sorted(f.name for f in GOLDEN_CUSTOMERS if f.name != "golden_id"))

_HISTORY_CHANGE = {"merge": MERGED, "split": SPLIT, "removed": RETIRED}


def change_feed(previous: pa.Table | None, current: pa.Table, history: pa.Table | pd.DataFrame | None, *,
                run_id: str, previous_crosswalk: pa.Table | pd.DataFrame | None = None,
                current_crosswalk: pa.Table | pd.DataFrame | None = None) -> pa.Table:
    """The change feed of one run (:data:`GOLDEN_CHANGES`; semantics in the module docstring).

    ``previous`` / ``current``: golden customers (:data:`GOLDEN_CUSTOMERS`) of the last
    published run (None on the first run) and of this run. ``history``: golden-id history
    rows (:data:`GOLDEN_ID_HISTORY`); only those with this ``run_id`` are used, so the
    cumulative history may be passed as it is. ``previous_crosswalk`` / ``current_crosswalk``
    (optional, both or neither; columns ``record_key`` and ``golden_id``, others ignored)
    reveal splits that keep their id; without them such an id is ``updated`` (its
    ``record_count`` fell) and its new parts are ``created``.

    Guarantees: one row per golden id that changed, sorted by ``(change, golden_id)``;
    ``change(x, x, empty history)`` is empty; on the first run every current id is
    ``created``; every id of ``previous`` missing from ``current`` has a row, and so has
    every id of ``current`` missing from ``previous``.

    ValueError on an empty ``run_id``, null or duplicate golden ids, a ``current`` table
    lacking a schema column, a history row of this run for an id that is live in ``current``
    or absent from ``previous``, two history rows of this run for one id, an unknown history
    event, or only one crosswalk.
    """
    if not isinstance(run_id, str) or not run_id.strip():
        raise ValueError("run_id must be a non-empty string")
    if (previous_crosswalk is None) != (current_crosswalk is None):
        raise ValueError("pass both crosswalks or neither")
    missing = [f.name for f in GOLDEN_CUSTOMERS if f.name not in current.column_names]
    if missing:
        raise ValueError(f"current golden customers: missing column(s) {missing}")

    cur = _conform(current)
    prev = _conform(previous) if previous is not None else GOLDEN_CUSTOMERS.empty_table()
    cur_ids = _ids(cur, "current")
    prev_ids = _ids(prev, "previous")

    # align through one hash pass: ids -> dense codes, then numpy on integers
    codes = pc.dictionary_encode(pa.concat_arrays([prev_ids, cur_ids])).indices.to_numpy().astype(np.int64)
    k = int(codes.max()) + 1 if len(codes) else 0
    prev_codes, cur_codes = codes[:len(prev_ids)], codes[len(prev_ids):]
    for what, c in (("previous", prev_codes), ("current", cur_codes)):
        counts = np.bincount(c, minlength=k)
        if len(c) and counts.max() > 1:
            dup = (prev_ids if what == "previous" else cur_ids)[int(np.flatnonzero(counts[c] > 1)[0])].as_py()
            raise ValueError(f"{what} golden customers: duplicate golden_id {dup!r}")
    prev_row = np.full(k, -1, dtype=np.int64)
    prev_row[prev_codes] = np.arange(len(prev_codes))
    pos_np = prev_row[cur_codes]  # position in previous of each current id (-1: new id)
    is_new = pos_np < 0
    pos = pa.array(pos_np, pa.int64(), mask=is_new)
    both_cur = np.flatnonzero(~is_new)
    in_cur = np.zeros(k, dtype=bool)
    in_cur[cur_codes] = True
    gone = np.flatnonzero(~in_cur[prev_codes])

    events = _history_of_run(history, run_id)
    if len(events):  # probe the big tables against the few retired ids
        ev_ids = pa.array(events["golden_id"], pa.string())
        live = pc.is_in(cur_ids, value_set=ev_ids)
        if pc.any(live).as_py():
            raise ValueError(f"history of run {run_id!r} retires {cur_ids.filter(live)[0].as_py()!r}, "
                             "which is live in the current golden customers")
        known = prev_ids.filter(pc.is_in(prev_ids, value_set=ev_ids))
        if len(known) < len(ev_ids):
            stray = ev_ids.filter(pc.invert(pc.is_in(ev_ids, value_set=known)))[0].as_py()
            raise ValueError(f"history of run {run_id!r} retires {stray!r}, "
                             "which is not in the previous golden customers")

    # attribute changes of the ids live in both runs
    diff = _differences(prev, cur, pos)[both_cur]
    changed_any = diff.any(axis=1)

    # splits that kept their id
    both_ids = cur_ids.take(pa.array(both_cur, pa.int64()))
    split_kept = np.zeros(len(both_cur), dtype=bool)
    split_successor = pa.nulls(len(both_cur), pa.string())
    if previous_crosswalk is not None and len(both_cur):
        successors = _kept_split_successors(previous_crosswalk, current_crosswalk)
        if successors:
            keys = pa.array(list(successors), pa.string())
            at = pc.index_in(both_ids, value_set=keys)
            split_kept = at.is_valid().to_numpy(zero_copy_only=False)
            split_successor = pa.array(list(successors.values()), pa.string()).take(at)

    parts: list[dict[str, Any]] = []
    # created
    new_ids = cur_ids.filter(pa.array(is_new))
    parts.append({"golden_id": new_ids, "change": CREATED, "changed_attributes": None,
                  "successor_id": None})
    # updated / split (kept)
    rows = np.flatnonzero(changed_any | split_kept)
    rows_idx = pa.array(rows, pa.int64())
    parts.append({"golden_id": both_ids.take(rows_idx),
                  "change": pa.array(np.where(split_kept[rows], SPLIT, UPDATED).astype(object), pa.string()),
                  "changed_attributes": _attribute_lists(diff, rows),
                  "successor_id": split_successor.take(rows_idx)})
    # gone: merged / split (dissolved) / retired
    gone_ids = prev_ids.take(pa.array(gone, pa.int64()))
    change = pa.nulls(len(gone), pa.string())
    successor = pa.nulls(len(gone), pa.string())
    if len(events) and len(gone):
        at = pc.index_in(gone_ids, value_set=pa.array(events["golden_id"].tolist(), pa.string()))
        change = pa.array(events["event"].map(_HISTORY_CHANGE).tolist(), pa.string()).take(at)
        successor = pa.array(events["successor_id"].tolist(), pa.string()).take(at)
    change = change.fill_null(RETIRED)
    successor = pc.if_else(pc.equal(change, RETIRED), pa.scalar(None, pa.string()), successor)
    parts.append({"golden_id": gone_ids, "change": change, "changed_attributes": None,
                  "successor_id": successor})

    return _assemble(parts, run_id)


# --------------------------------------------------------------------------- inputs


def _conform(table: pa.Table) -> pa.Table:
    """The GOLDEN_CUSTOMERS columns of a table, cast, each one chunk; absent ones all null."""
    arrays = []
    for f in GOLDEN_CUSTOMERS:
        if f.name in table.column_names:
            col = table.column(f.name)
            if col.type != f.type:
                col = col.cast(f.type) if col.null_count < len(col) else pa.chunked_array(
                    [pa.nulls(len(col), f.type)])
            arrays.append(col.chunk(0) if col.num_chunks == 1 else col.combine_chunks())
        else:
            arrays.append(pa.nulls(table.num_rows, f.type))
    return pa.Table.from_arrays(arrays, schema=GOLDEN_CUSTOMERS)


def _ids(table: pa.Table, what: str) -> pa.Array:
    ids = table.column("golden_id").chunk(0)  # _conform leaves one chunk per column
    if ids.null_count:
        raise ValueError(f"{what} golden customers: null golden_id")
    return ids


def _as_table(data: pa.Table | pd.DataFrame) -> pa.Table:
    return data if isinstance(data, pa.Table) else pa.Table.from_pandas(data, preserve_index=False)


def _history_of_run(history: pa.Table | pd.DataFrame | None, run_id: str) -> pd.DataFrame:
    """golden_id, event, successor_id of the history rows with ``run_id``."""
    empty = pd.DataFrame({"golden_id": pd.Series([], dtype=object), "event": pd.Series([], dtype=object),
                          "successor_id": pd.Series([], dtype=object)})
    if history is None:
        return empty
    table = _as_table(history)
    if table.num_rows == 0:
        return empty
    missing = [c for c in ("golden_id", "successor_id", "run_id", "event") if c not in table.column_names]
    if missing:
        raise ValueError(f"history: missing column(s) {missing}")
    rows = table.filter(pc.equal(table.column("run_id").cast(pa.string()), run_id))
    frame = pd.DataFrame({c: pd.Series(rows.column(c).cast(pa.string()).to_pylist(), dtype=object)
                          for c in ("golden_id", "event", "successor_id")})
    if frame["golden_id"].isna().any():
        raise ValueError(f"history of run {run_id!r}: null golden_id")
    if frame["golden_id"].duplicated().any():
        dup = frame.loc[frame["golden_id"].duplicated(), "golden_id"].iloc[0]
        raise ValueError(f"history of run {run_id!r}: two rows for {dup!r}")
    unknown = ~frame["event"].isin(list(_HISTORY_CHANGE))
    if unknown.any():
        raise ValueError(f"history of run {run_id!r}: unknown event {frame['event'][unknown].iloc[0]!r}")
    return frame


# --------------------------------------------------------------------------- comparison


def _differences(prev: pa.Table, cur: pa.Table, pos: pa.Array) -> np.ndarray:
    """Bool matrix (current rows x :data:`COMPARED_COLUMNS`): does the value differ from the
    previous row at ``pos`` (null ``pos``: a new id, its row is meaningless)?"""
    out = np.zeros((cur.num_rows, len(COMPARED_COLUMNS)), dtype=bool)
    if not cur.num_rows or not prev.num_rows:
        return out
    # the common case, the same ids in the same order, needs no take
    aligned = prev.num_rows == cur.num_rows and pos.null_count == 0 and np.array_equal(
        pos.to_numpy(zero_copy_only=False), np.arange(cur.num_rows))
    for j, name in enumerate(COMPARED_COLUMNS):
        a = prev.column(name).chunk(0)
        if not aligned:
            a = a.take(pos)
        out[:, j] = _differs(a, cur.column(name).chunk(0))
    return out


def _differs(a: pa.Array, b: pa.Array) -> np.ndarray:
    """Element-wise "a != b" with null == null (lists: element by element, order counts)."""
    a_null = a.is_null().to_numpy(zero_copy_only=False)
    b_null = b.is_null().to_numpy(zero_copy_only=False)
    out = a_null != b_null
    valid = ~a_null & ~b_null
    if not valid.any():
        return out
    if pa.types.is_list(a.type) or pa.types.is_large_list(a.type):
        la = pc.list_value_length(a).fill_null(0).to_numpy(zero_copy_only=False)
        lb = pc.list_value_length(b).fill_null(0).to_numpy(zero_copy_only=False)
        out |= valid & (la != lb)
        if np.array_equal(la, lb):  # every row the same length (null: 0): elements line up
            if not la.any():
                return out
            parents = np.repeat(np.arange(len(la)), la)
            el = _differs(pc.list_flatten(a), pc.list_flatten(b))
        else:
            same = np.flatnonzero(valid & (la == lb) & (la > 0))
            if not len(same):
                return out
            idx = pa.array(same, pa.int64())
            parents = same[np.repeat(np.arange(len(same)), la[same])]
            el = _differs(pc.list_flatten(a.take(idx)), pc.list_flatten(b.take(idx)))
        out[parents[el]] = True
        return out
    eq = pc.equal(a, b).fill_null(True).to_numpy(zero_copy_only=False)  # nulls handled above
    out |= valid & ~eq
    return out


def _attribute_lists(diff: np.ndarray, rows: np.ndarray) -> pa.Array:
    """Sorted names of the differing columns of the selected rows, one list per row."""
    names = pa.array(COMPARED_COLUMNS, pa.string())
    r, c = np.nonzero(diff[rows])  # row-major: per row, columns in name order
    offsets = np.searchsorted(r, np.arange(len(rows) + 1)).astype(np.int32)
    return pa.ListArray.from_arrays(pa.array(offsets, pa.int32()), names.take(pa.array(c, pa.int64())))


# --------------------------------------------------------------------------- splits


def _kept_split_successors(previous_crosswalk: pa.Table | pd.DataFrame, current_crosswalk: pa.Table | pd.DataFrame,
                           ) -> dict[str, str]:
    """Previous ids whose records now sit (partly) under another golden id -> the id that took
    most of them (then the id with more current records, then the smaller id)."""
    prev = _crosswalk(previous_crosswalk, "previous crosswalk").rename_columns(["record_key", "old"])
    cur = _crosswalk(current_crosswalk, "current crosswalk")
    if prev.num_rows == cur.num_rows and prev.column("record_key").equals(cur.column("record_key")):
        # the same records in the same order (crosswalks are published sorted): no join needed
        moved = pa.table({"record_key": prev.column("record_key"), "old": prev.column("old"),
                          "new": cur.column("golden_id")})
    else:
        moved = prev.join(cur.rename_columns(["record_key", "new"]), "record_key", join_type="inner")
    moved = moved.filter(pc.not_equal(moved.column("old"), moved.column("new")))
    if moved.num_rows == 0:
        return {}
    pairs = moved.group_by(["old", "new"]).aggregate([("record_key", "count")]).rename_columns(
        ["old", "new", "n"])
    targets = cur.filter(pc.is_in(cur.column("golden_id"), value_set=pairs.column("new").unique()))
    size = targets.group_by("golden_id").aggregate([("record_key", "count")]).rename_columns(["new", "new_size"])
    pairs = pairs.join(size, "new", join_type="left outer")
    order = pc.sort_indices(pairs, sort_keys=[("old", "ascending"), ("n", "descending"),
                                              ("new_size", "descending"), ("new", "ascending")])
    pairs = pairs.take(order)
    first = np.r_[True, pc.not_equal(pairs.column("old").slice(1), pairs.column("old").slice(0, pairs.num_rows - 1))
                  .to_numpy(zero_copy_only=False)]
    best = pairs.filter(pa.array(first))
    return dict(zip(best.column("old").to_pylist(), best.column("new").to_pylist()))


def _crosswalk(data: pa.Table | pd.DataFrame, what: str) -> pa.Table:
    table = _as_table(data)
    missing = [c for c in ("record_key", "golden_id") if c not in table.column_names]
    if missing:
        raise ValueError(f"{what}: missing column(s) {missing}")
    table = table.select(["record_key", "golden_id"])
    table = pa.table({"record_key": table.column("record_key").cast(pa.string()),
                      "golden_id": table.column("golden_id").cast(pa.string())})
    return table.filter(pc.and_(table.column("record_key").is_valid(), table.column("golden_id").is_valid()))


# --------------------------------------------------------------------------- output


def _assemble(parts: list[dict[str, Any]], run_id: str) -> pa.Table:
    """Concatenate the parts (arrays, or a scalar / None for the whole part) and sort."""
    tables = []
    for part in parts:
        n = len(part["golden_id"])
        if not n:
            continue
        columns = []
        for f in GOLDEN_CHANGES:
            value = run_id if f.name == "run_id" else part[f.name]
            if value is None:
                columns.append(pa.nulls(n, f.type))
            elif isinstance(value, str):
                columns.append(pa.array(np.full(n, value, dtype=object), f.type))
            else:
                columns.append(value.cast(f.type))
        tables.append(pa.Table.from_arrays(columns, schema=GOLDEN_CHANGES))
    if not tables:
        return GOLDEN_CHANGES.empty_table()
    table = pa.concat_tables(tables)
    order = pc.sort_indices(table, sort_keys=[("change", "ascending"), ("golden_id", "ascending")])
    return table.take(order).combine_chunks()
