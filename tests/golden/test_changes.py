"""Change feed: created / updated / merged / split / retired rows, null and list handling,
the link with stable golden ids, and properties checked against a row-by-row reference."""

from __future__ import annotations

import datetime as dt
import random
import time

import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipelines.golden.changes import COMPARED_COLUMNS, change_feed
from pipelines.match.stable_ids import assign_golden_ids
from pipelines.schema import GOLDEN_CHANGES, GOLDEN_CUSTOMERS, GOLDEN_ID_HISTORY

RUN = "20261123T020000"


def g(n: int) -> str:
    return f"G{n:010d}"


def customer(n: int, **values) -> dict:
    row = {"golden_id": g(n), "full_name": f"Иванов Иван {n}", "last_name": "Иванов", "first_name": "Иван",
           "birth_date": dt.date(1985, 2, 1), "phone": f"+7916123{n:04d}", "phones": [f"+7916123{n:04d}"],
           "email": f"user{n}@mail.ru", "emails": [f"user{n}@mail.ru"], "record_count": 1, "source_count": 1,
           "sources": ["crm"], "first_seen": dt.datetime(2026, 1, 1), "last_seen": dt.datetime(2026, 1, 1),
           "quality_score": 90, "consent_pd": True}
    row.update(values)
    return row


def table(*rows: dict) -> pa.Table:
    return pa.Table.from_pylist(list(rows), schema=GOLDEN_CUSTOMERS)


def history(*rows: tuple) -> pa.Table:
    """(golden_id number, successor number or None, event[, run_id])"""
    out = [{"golden_id": g(r[0]), "successor_id": None if r[1] is None else g(r[1]),
            "run_id": r[3] if len(r) > 3 else RUN, "event": r[2], "records": 1} for r in rows]
    return pa.Table.from_pylist(out, schema=GOLDEN_ID_HISTORY)


NO_HISTORY = GOLDEN_ID_HISTORY.empty_table()


def rows(feed: pa.Table) -> list[tuple]:
    assert feed.schema == GOLDEN_CHANGES
    assert set(feed.column("run_id").to_pylist()) <= {RUN}
    return [(r["golden_id"], r["change"], r["changed_attributes"], r["successor_id"]) for r in feed.to_pylist()]


# --------------------------------------------------------------------------- basic cases


def test_first_run_everything_created():
    current = table(customer(2), customer(1), customer(3))
    assert rows(change_feed(None, current, NO_HISTORY, run_id=RUN)) == [
        (g(1), "created", None, None), (g(2), "created", None, None), (g(3), "created", None, None)]


def test_first_run_empty_hub_and_empty_history():
    feed = change_feed(None, GOLDEN_CUSTOMERS.empty_table(), NO_HISTORY, run_id=RUN)
    assert feed.num_rows == 0 and feed.schema == GOLDEN_CHANGES


def test_unchanged_rerun_is_empty_whatever_the_row_order():
    previous = table(customer(1), customer(2), customer(3, phones=None, emails=[]))
    current = previous.take([2, 0, 1])
    for hist in (NO_HISTORY, None):
        feed = change_feed(previous, current, hist, run_id=RUN)
        assert feed.num_rows == 0 and feed.schema == GOLDEN_CHANGES


def test_one_attribute_changed():
    previous = table(customer(1), customer(2))
    current = table(customer(1), customer(2, email="new@mail.ru"))
    assert rows(change_feed(previous, current, NO_HISTORY, run_id=RUN)) == [(g(2), "updated", ["email"], None)]


def test_changed_attributes_are_sorted_and_bookkeeping_counts():
    previous = table(customer(1))
    current = table(customer(1, quality_score=70, city="Москва", record_count=2, sources=["crm", "shop"],
                              last_seen=dt.datetime(2026, 2, 1), household_id="H1"))
    assert rows(change_feed(previous, current, NO_HISTORY, run_id=RUN)) == [
        (g(1), "updated", ["city", "household_id", "last_seen", "quality_score", "record_count", "sources"], None)]


def test_every_column_but_golden_id_is_compared():
    assert set(COMPARED_COLUMNS) == set(GOLDEN_CUSTOMERS.names) - {"golden_id"}
    assert list(COMPARED_COLUMNS) == sorted(COMPARED_COLUMNS)


def test_phone_order_is_a_change():
    """The list is primary first: a new order is a change (and a new primary, usually)."""
    previous = table(customer(1, phones=["+79161234567", "+74951112233"]))
    current = table(customer(1, phones=["+74951112233", "+79161234567"]))
    assert rows(change_feed(previous, current, NO_HISTORY, run_id=RUN)) == [(g(1), "updated", ["phones"], None)]


@pytest.mark.parametrize("before, after, changed", [
    (None, None, False),
    (None, "x@y.ru", True),
    ("x@y.ru", None, True),
    ("x@y.ru", "x@y.ru", False),
])
def test_null_handling_scalars(before, after, changed):
    feed = change_feed(table(customer(1, email=before)), table(customer(1, email=after)), NO_HISTORY, run_id=RUN)
    assert rows(feed) == ([(g(1), "updated", ["email"], None)] if changed else [])


@pytest.mark.parametrize("before, after, changed", [
    (None, None, False),
    (None, [], True),            # no list vs an empty list: different values
    ([], [], False),
    (["a@b.ru"], ["a@b.ru", "c@d.ru"], True),
    (["a@b.ru", None], ["a@b.ru", None], False),
    (["a@b.ru", None], ["a@b.ru", "c@d.ru"], True),
    ([None], [], True),
])
def test_null_handling_lists(before, after, changed):
    feed = change_feed(table(customer(1, emails=before)), table(customer(1, emails=after)), NO_HISTORY,
                       run_id=RUN)
    assert rows(feed) == ([(g(1), "updated", ["emails"], None)] if changed else [])


def test_null_dates_timestamps_booleans():
    previous = table(customer(1, birth_date=None, first_seen=None, consent_pd=None, gender=None))
    same = table(customer(1, birth_date=None, first_seen=None, consent_pd=None, gender=None))
    assert change_feed(previous, same, NO_HISTORY, run_id=RUN).num_rows == 0
    current = table(customer(1, birth_date=dt.date(1990, 1, 1), first_seen=None, consent_pd=False, gender=None))
    assert rows(change_feed(previous, current, NO_HISTORY, run_id=RUN)) == [
        (g(1), "updated", ["birth_date", "consent_pd"], None)]


# --------------------------------------------------------------------------- merges, splits, retirements


def test_merge_gives_merged_row_and_updated_survivor():
    previous = table(customer(1), customer(2))
    current = table(customer(1, record_count=2, phones=["+79161230001", "+79161230002"]))
    feed = change_feed(previous, current, history((2, 1, "merge")), run_id=RUN)
    assert rows(feed) == [(g(2), "merged", None, g(1)),
                          (g(1), "updated", ["phones", "record_count"], None)]


def test_merge_with_unchanged_survivor_gives_only_merged_row():
    previous = table(customer(1), customer(2))
    current = table(customer(1))
    assert rows(change_feed(previous, current, history((2, 1, "merge")), run_id=RUN)) == [
        (g(2), "merged", None, g(1))]


def _split_case():
    previous = table(customer(1, record_count=3), customer(2))
    current = table(customer(1, record_count=2), customer(2), customer(5, record_count=1))
    prev_cw = pa.table({"record_key": ["crm:1", "crm:2", "crm:3", "crm:4"],
                        "golden_id": [g(1), g(1), g(1), g(2)]})
    cur_cw = pa.table({"record_key": ["crm:1", "crm:2", "crm:3", "crm:4"],
                       "golden_id": [g(1), g(1), g(5), g(2)]})
    return previous, current, prev_cw, cur_cw


@pytest.mark.parametrize("shuffle", [False, True])
def test_split_keeping_the_id_gives_split_row_pointing_to_the_new_part(shuffle):
    previous, current, prev_cw, cur_cw = _split_case()
    if shuffle:  # not the same record order: the crosswalks are joined
        cur_cw = cur_cw.take([3, 1, 0, 2])
    feed = change_feed(previous, current, NO_HISTORY, run_id=RUN, previous_crosswalk=prev_cw,
                       current_crosswalk=cur_cw)
    assert rows(feed) == [(g(5), "created", None, None),
                          (g(1), "split", ["record_count"], g(5))]


def test_split_without_crosswalks_is_updated_plus_created():
    previous, current, _, _ = _split_case()
    assert rows(change_feed(previous, current, NO_HISTORY, run_id=RUN)) == [
        (g(5), "created", None, None), (g(1), "updated", ["record_count"], None)]


def test_split_with_unchanged_attributes_still_reported():
    previous, current, prev_cw, cur_cw = _split_case()
    current = table(customer(1, record_count=3), customer(2), customer(5))  # e.g. a record arrived too
    feed = change_feed(previous, current, NO_HISTORY, run_id=RUN, previous_crosswalk=prev_cw,
                       current_crosswalk=cur_cw)
    assert rows(feed) == [(g(5), "created", None, None), (g(1), "split", [], g(5))]


def test_three_way_split_names_the_largest_departed_part():
    previous = table(customer(1, record_count=6))
    current = table(customer(1, record_count=3), customer(7, record_count=1), customer(8, record_count=2))
    prev_cw = pa.table({"record_key": [f"k{i}" for i in range(6)], "golden_id": [g(1)] * 6})
    cur_cw = pa.table({"record_key": [f"k{i}" for i in range(6)],
                       "golden_id": [g(1), g(1), g(1), g(7), g(8), g(8)]})
    feed = change_feed(previous, current, NO_HISTORY, run_id=RUN, previous_crosswalk=prev_cw,
                       current_crosswalk=cur_cw)
    assert rows(feed) == [(g(7), "created", None, None), (g(8), "created", None, None),
                          (g(1), "split", ["record_count"], g(8))]


def test_record_moving_to_an_existing_id_is_a_split_of_its_old_id():
    previous = table(customer(1, record_count=2), customer(2))
    current = table(customer(1), customer(2, record_count=2))
    prev_cw = pa.table({"record_key": ["a", "b", "c"], "golden_id": [g(1), g(1), g(2)]})
    cur_cw = pa.table({"record_key": ["a", "b", "c"], "golden_id": [g(1), g(2), g(2)]})
    feed = change_feed(previous, current, NO_HISTORY, run_id=RUN, previous_crosswalk=prev_cw,
                       current_crosswalk=cur_cw)
    assert rows(feed) == [(g(1), "split", ["record_count"], g(2)), (g(2), "updated", ["record_count"], None)]


def test_dissolved_split_from_history():
    previous = table(customer(1), customer(2), customer(3))
    current = table(customer(1, record_count=2), customer(3, record_count=2))
    feed = change_feed(previous, current, history((2, 3, "split")), run_id=RUN)
    assert rows(feed) == [(g(2), "split", None, g(3)),
                          (g(1), "updated", ["record_count"], None), (g(3), "updated", ["record_count"], None)]


def test_gone_without_history_and_removed_are_retired():
    previous = table(customer(1), customer(2), customer(3))
    current = table(customer(1))
    feed = change_feed(previous, current, history((3, None, "removed")), run_id=RUN)
    assert rows(feed) == [(g(2), "retired", None, None), (g(3), "retired", None, None)]


def test_history_of_other_runs_is_ignored():
    previous = table(customer(1), customer(2))
    current = table(customer(1))
    hist = pa.concat_tables([history((9, 1, "merge", "older-run")), history((2, 1, "merge"))])
    assert rows(change_feed(previous, current, hist, run_id=RUN)) == [(g(2), "merged", None, g(1))]
    # the same history as pandas (as stable_ids returns it)
    assert rows(change_feed(previous, current, hist.to_pandas(), run_id=RUN)) == [(g(2), "merged", None, g(1))]


def test_sorted_by_change_then_id():
    previous = table(customer(1), customer(2), customer(3), customer(4), customer(6))
    current = table(customer(6, email="x@y.ru"), customer(1, email="z@y.ru"), customer(9), customer(8), customer(4))
    feed = change_feed(previous, current, history((2, 4, "merge"), (3, None, "removed")), run_id=RUN)
    assert [(r[1], r[0]) for r in rows(feed)] == [
        ("created", g(8)), ("created", g(9)), ("merged", g(2)), ("retired", g(3)),
        ("updated", g(1)), ("updated", g(6))]


def test_column_missing_from_previous_counts_as_null():
    previous = table(customer(1), customer(2, household_id="H1")).drop_columns(["household_id"])
    current = table(customer(1), customer(2, household_id="H1"))
    assert rows(change_feed(previous, current, NO_HISTORY, run_id=RUN)) == [
        (g(2), "updated", ["household_id"], None)]


def test_chunked_and_cast_inputs():
    previous = pa.concat_tables([table(customer(1)), table(customer(2))])
    current = table(customer(1), customer(2, quality_score=5))
    current = current.set_column(current.schema.get_field_index("quality_score"), "quality_score",
                                 current.column("quality_score").cast(pa.int64()))
    assert rows(change_feed(previous, current, NO_HISTORY, run_id=RUN)) == [
        (g(2), "updated", ["quality_score"], None)]


def test_inputs_not_mutated():
    previous, current, prev_cw, cur_cw = _split_case()
    hist = history((9, 1, "merge", "older")).to_pandas()
    copies = [previous.to_pylist(), current.to_pylist(), prev_cw.to_pylist(), cur_cw.to_pylist(), hist.copy()]
    change_feed(previous, current, hist, run_id=RUN, previous_crosswalk=prev_cw, current_crosswalk=cur_cw)
    assert [previous.to_pylist(), current.to_pylist(), prev_cw.to_pylist(), cur_cw.to_pylist()] == copies[:4]
    pd.testing.assert_frame_equal(hist, copies[4])


@pytest.mark.parametrize("kwargs, message", [
    ({"run_id": ""}, "run_id"),
    ({"run_id": RUN, "previous_crosswalk": pa.table({"record_key": ["a"], "golden_id": [g(1)]})}, "both crosswalks"),
])
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        change_feed(table(customer(1)), table(customer(1)), NO_HISTORY, **kwargs)


def test_contradictory_inputs_raise():
    with pytest.raises(ValueError, match="live in the current"):
        change_feed(table(customer(1), customer(2)), table(customer(1), customer(2)), history((2, 1, "merge")),
                    run_id=RUN)
    with pytest.raises(ValueError, match="not in the previous"):
        change_feed(table(customer(1)), table(customer(1)), history((7, 1, "merge")), run_id=RUN)
    with pytest.raises(ValueError, match="duplicate golden_id"):
        change_feed(None, table(customer(1), customer(1)), NO_HISTORY, run_id=RUN)
    with pytest.raises(ValueError, match="null golden_id"):
        change_feed(None, table(customer(1, golden_id=None)), NO_HISTORY, run_id=RUN)
    with pytest.raises(ValueError, match="missing column"):
        change_feed(None, table(customer(1)).drop_columns(["phones"]), NO_HISTORY, run_id=RUN)
    with pytest.raises(ValueError, match="unknown event"):
        change_feed(table(customer(1), customer(2)), table(customer(1)), history((2, 1, "vanished")), run_id=RUN)
    with pytest.raises(ValueError, match="two rows"):
        change_feed(table(customer(1), customer(2)), table(customer(1)),
                    history((2, 1, "merge"), (2, None, "removed")), run_id=RUN)


# --------------------------------------------------------------------------- with stable golden ids


def _golden_from(crosswalk: pd.DataFrame) -> pa.Table:
    counts = crosswalk.groupby("golden_id").size()
    return table(*[customer(int(gid[1:]), record_count=int(n)) for gid, n in counts.items()])


def test_with_stable_ids_merge_split_and_removal():
    """Run 1: {a,b,c} {d,e} {f} {h,i}. Run 2: {d,e} and {f} merge, {a,b,c} loses c to a new
    cluster, h and i are gone (removed), j is new."""
    run1 = pd.DataFrame({"record_key": list("abcdefhi"), "cluster": [1, 1, 1, 2, 2, 3, 4, 4]})
    cw1, hist1 = assign_golden_ids(run1, None, None, run_id="run1")
    run2 = pd.DataFrame({"record_key": list("abcdefj"), "cluster": [1, 1, 5, 2, 2, 2, 6]})
    cw2, hist2 = assign_golden_ids(run2, cw1, hist1, run_id=RUN)
    ids1 = dict(zip(cw1["record_key"], cw1["golden_id"]))
    ids2 = dict(zip(cw2["record_key"], cw2["golden_id"]))

    feed = change_feed(_golden_from(cw1), _golden_from(cw2), hist2, run_id=RUN,
                       previous_crosswalk=cw1, current_crosswalk=cw2)
    got = {(r[0], r[1]): r for r in rows(feed)}
    assert got.pop((ids2["c"], "created")) == (ids2["c"], "created", None, None)
    assert got.pop((ids2["j"], "created")) == (ids2["j"], "created", None, None)
    assert got.pop((ids1["a"], "split")) == (ids1["a"], "split", ["record_count"], ids2["c"])
    assert got.pop((ids1["f"], "merged")) == (ids1["f"], "merged", None, ids2["d"])
    assert got.pop((ids1["d"], "updated")) == (ids1["d"], "updated", ["record_count"], None)
    assert got.pop((ids1["h"], "retired")) == (ids1["h"], "retired", None, None)
    assert got == {}

    # and a rerun on the same input reports nothing
    cw3, hist3 = assign_golden_ids(run2, cw2, hist2, run_id="run3")
    assert change_feed(_golden_from(cw2), _golden_from(cw3), hist3, run_id="run3",
                       previous_crosswalk=cw2, current_crosswalk=cw3).num_rows == 0


# --------------------------------------------------------------------------- properties

_VALUES = {
    "full_name": st.sampled_from([None, "Иванов Иван", "Петров Пётр"]),
    "birth_date": st.sampled_from([None, dt.date(1980, 1, 1), dt.date(1990, 5, 6)]),
    "phones": st.one_of(st.none(), st.lists(st.sampled_from(["+79161234567", "+74951112233", None]), max_size=3)),
    "sources": st.one_of(st.none(), st.lists(st.sampled_from(["crm", "shop"]), max_size=2)),
    "quality_score": st.sampled_from([None, 0, 50, 100]),
    "consent_pd": st.sampled_from([None, True, False]),
    "last_seen": st.sampled_from([None, dt.datetime(2026, 1, 1), dt.datetime(2026, 1, 1, 0, 0, 1)]),
}


@st.composite
def golden_tables(draw, ids=st.sets(st.integers(1, 12), max_size=8)):
    rows_ = []
    for n in sorted(draw(ids)):
        rows_.append({"golden_id": g(n), **{c: draw(s) for c, s in _VALUES.items()}})
    random.Random(draw(st.integers(0, 1000))).shuffle(rows_)
    return table(*rows_)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(golden_tables())
def test_property_same_table_gives_empty_feed(current):
    assert change_feed(current, current, NO_HISTORY, run_id=RUN).num_rows == 0


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(golden_tables(), golden_tables())
def test_property_matches_row_by_row_reference(previous, current):
    prev = {r["golden_id"]: r for r in previous.to_pylist()}
    cur = {r["golden_id"]: r for r in current.to_pylist()}
    expected = []
    for gid in sorted(cur.keys() - prev.keys()):
        expected.append((gid, "created", None, None))
    for gid in sorted(prev.keys() - cur.keys()):
        expected.append((gid, "retired", None, None))
    for gid in sorted(prev.keys() & cur.keys()):
        changed = sorted(c for c in COMPARED_COLUMNS if prev[gid][c] != cur[gid][c])
        if changed:
            expected.append((gid, "updated", changed, None))
    expected.sort(key=lambda r: (r[1], r[0]))
    assert rows(change_feed(previous, current, NO_HISTORY, run_id=RUN)) == expected


# --------------------------------------------------------------------------- speed


def _synthetic(n: int, seed: int) -> pa.Table:
    import numpy as np
    rng = np.random.default_rng(seed)
    ids = pa.array([g(i + 1) for i in range(n)], pa.string())
    phones = pa.array([f"+7916{i:07d}" for i in range(n)], pa.string())
    cols = {f.name: pa.nulls(n, f.type) for f in GOLDEN_CUSTOMERS}
    cols.update({
        "golden_id": ids, "full_name": pa.array(np.char.add("name", rng.integers(0, 10**6, n).astype(str))),
        "phone": phones, "phones": pa.ListArray.from_arrays(pa.array(np.arange(n + 1, dtype=np.int32)), phones),
        "record_count": pa.array(rng.integers(1, 4, n)), "quality_score": pa.array(rng.integers(0, 100, n), pa.int8()),
        "birth_date": pa.array(rng.integers(0, 15000, n).astype(np.int32), pa.date32()),
    })
    return pa.table([cols[f.name] for f in GOLDEN_CUSTOMERS], schema=GOLDEN_CUSTOMERS)


def test_speed_100k_rows():
    """A light version of the 1M benchmark (reported separately): 100k ids, 1% changed."""
    previous = _synthetic(100_000, 1)
    score = previous.column("quality_score").to_numpy().copy()
    score[::100] = score[::100] // 2 + 101
    current = previous.set_column(previous.schema.get_field_index("quality_score"), "quality_score",
                                  pa.array(score, pa.int8()))
    start = time.perf_counter()
    feed = change_feed(previous, current, NO_HISTORY, run_id=RUN)
    assert time.perf_counter() - start < 5
    assert feed.num_rows == 1000
