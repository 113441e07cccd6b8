"""Golden ids stable across runs: scenario tables and hypothesis properties."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipelines.match.stable_ids import (
    CROSSWALK_ID_COLUMNS, HISTORY_COLUMNS, assign_golden_ids, format_golden_id, parse_golden_id,
)


def G(n: int) -> str:
    return format_golden_id(n)


def clusters(*groups: str) -> pd.DataFrame:
    """Assignments from groups written as "a b c" (one string per cluster)."""
    rows = [(key, c) for c, group in enumerate(groups) for key in group.split()]
    return pd.DataFrame(rows, columns=["record_key", "cluster"])


def crosswalk(**ids: str) -> pd.DataFrame:
    """Previous crosswalk written as G<number>="a b c"."""
    rows = [(key, G(int(gid[1:]))) for gid, group in ids.items() for key in group.split()]
    return pd.DataFrame(rows, columns=["record_key", "golden_id"])


def as_dict(ids: pd.DataFrame) -> dict[str, str]:
    return dict(zip(ids["record_key"], ids["golden_id"]))


def history_rows(history: pd.DataFrame, run_id: str) -> list[tuple]:
    h = history[history["run_id"] == run_id]
    return [(r.golden_id, None if pd.isna(r.successor_id) else r.successor_id, r.event, r.records)
            for r in h.itertuples()]


def test_format_and_parse() -> None:
    assert G(42) == "G0000000042" and parse_golden_id("G0000000042") == 42
    for bad in ("G42", "g0000000042", "X0000000042", "G00000000420", None, 42):
        with pytest.raises(ValueError):
            parse_golden_id(bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        format_golden_id(0)


def test_first_run_numbers_clusters_by_smallest_key() -> None:
    ids, history = assign_golden_ids(clusters("crm:2 web:9", "crm:1", "web:3 bil:7"), None, None, run_id="r1")
    assert tuple(ids.columns) == CROSSWALK_ID_COLUMNS and tuple(history.columns) == HISTORY_COLUMNS
    assert as_dict(ids) == {"bil:7": G(1), "web:3": G(1), "crm:1": G(2), "crm:2": G(3), "web:9": G(3)}
    assert list(ids["record_key"]) == sorted(ids["record_key"])
    assert history.empty


# (previous crosswalk, previous history rows, new clusters, expected ids, expected new history rows)
SCENARIOS: list[tuple[str, dict, list, tuple, dict, list]] = [
    ("unchanged input keeps every id",
     dict(G1="a b", G2="c", G3="d e f"), [], ("a b", "c", "d e f"),
     dict(a=1, b=1, c=2, d=3, e=3, f=3), []),
    ("cluster numbers do not matter",
     dict(G1="a b", G2="c"), [], ("c", "b a"),
     dict(a=1, b=1, c=2), []),
    ("a new duplicate joins the existing id",
     dict(G1="a b", G2="c"), [], ("a b x", "c"),
     dict(a=1, b=1, x=1, c=2), []),
    ("a new person gets the next id",
     dict(G1="a", G7="c"), [], ("a", "c", "n"),
     dict(a=1, c=7, n=8), []),
    ("two clusters of equal size merge: the older id survives",
     dict(G3="a", G5="b"), [], ("a b",),
     dict(a=3, b=3), [(G(5), G(3), "merge", 1)]),
    ("merge: the older id survives even if the newer one held more records (DESIGN.md)",
     dict(G3="a", G5="b c"), [], ("a b c",),
     dict(a=3, b=3, c=3), [(G(5), G(3), "merge", 2)]),
    ("a cluster with a minority of an id's records does not take it over",
     dict(G2="a", G4="b c d"), [], ("a b", "c d"),
     dict(a=2, b=2, c=4, d=4), []),
    ("an id split with no majority part: its biggest part keeps it",
     dict(G2="a", G4="b c d e"), [], ("a b", "c d", "e"),
     dict(a=2, b=2, c=4, d=4, e=5), []),
    ("a split keeps the id on the bigger part; the rest is new, nothing retired",
     dict(G1="a b c", G2="d"), [], ("a", "b c", "d"),
     dict(a=3, b=1, c=1, d=2), []),
    ("an even split: the part with the smallest key keeps the id",
     dict(G1="a b c d"), [], ("c d", "a b"),
     dict(a=1, b=1, c=2, d=2), []),
    ("records removed: the id is retired as removed",
     dict(G1="a", G2="b c"), [], ("a",),
     dict(a=1), [(G(2), None, "removed", 0)]),
    ("a retired id is never reissued",
     dict(G1="a"), [(G(2), None, "r0", "removed", 0), (G(3), G(1), "r0", "merge", 4)], ("a", "n"),
     dict(a=1, n=4), []),
    ("each old id goes to one cluster; the other takes its next best",
     dict(G1="a b c d e f g h", G2="x"), [], ("a b c d e", "f g h x"),
     dict(a=1, b=1, c=1, d=1, e=1, f=2, g=2, h=2, x=2), []),
    ("an id spread over clusters that kept other ids retires as split",
     dict(G1="a b", G2="c d e", G3="f g h"), [], ("a c d e", "b f g h"),
     dict(a=2, c=2, d=2, e=2, b=3, f=3, g=3, h=3), [(G(1), G(2), "split", 1)]),
    ("merge plus removal of one of the merged id's records",
     dict(G1="a b c", G2="d e"), [], ("a b c d",),
     dict(a=1, b=1, c=1, d=1), [(G(2), G(1), "merge", 1)]),
]


@pytest.mark.parametrize(("name", "prev", "prev_hist", "groups", "expected", "events"), SCENARIOS,
                         ids=[s[0] for s in SCENARIOS])
def test_scenarios(name: str, prev: dict, prev_hist: list, groups: tuple, expected: dict,
                   events: list) -> None:
    history0 = (pd.DataFrame(prev_hist, columns=list(HISTORY_COLUMNS)) if prev_hist else None)
    ids, history = assign_golden_ids(clusters(*groups), crosswalk(**prev), history0, run_id="r2")
    assert as_dict(ids) == {k: G(v) for k, v in expected.items()}
    assert history_rows(history, "r2") == events
    if prev_hist:
        assert history.iloc[:len(prev_hist)]["golden_id"].tolist() == [r[0] for r in prev_hist]


def test_history_is_cumulative_over_runs() -> None:
    ids1, h1 = assign_golden_ids(clusters("a", "b", "c"), None, None, run_id="r1")
    ids2, h2 = assign_golden_ids(clusters("a b", "c"), ids1, h1, run_id="r2")
    ids3, h3 = assign_golden_ids(clusters("a b"), ids2, h2, run_id="r3")
    ids4, h4 = assign_golden_ids(clusters("a b", "d"), ids3, h3, run_id="r4")
    assert history_rows(h4, "r2") == [(G(2), G(1), "merge", 1)]
    assert history_rows(h4, "r3") == [(G(3), None, "removed", 0)]
    assert as_dict(ids4) == {"a": G(1), "b": G(1), "d": G(4)}  # G2, G3 never come back
    assert len(h4) == 2 and str(h4["records"].dtype) == "int64"


def test_bad_inputs() -> None:
    with pytest.raises(ValueError, match="golden id"):
        assign_golden_ids(clusters("a"), pd.DataFrame({"record_key": ["a"], "golden_id": ["G42"]}), None,
                          run_id="r")
    with pytest.raises(ValueError, match="duplicate"):
        assign_golden_ids(clusters("a", "a"), None, None, run_id="r")
    with pytest.raises(ValueError, match="duplicate"):
        assign_golden_ids(clusters("a"), crosswalk(G1="a", G2="a"), None, run_id="r")
    with pytest.raises(ValueError, match="run_id"):
        assign_golden_ids(clusters("a"), None, None, run_id=" ")
    ids, history = assign_golden_ids(clusters(), None, None, run_id="r")
    assert ids.empty and history.empty and tuple(ids.columns) == CROSSWALK_ID_COLUMNS


def test_inputs_not_mutated() -> None:
    a, prev = clusters("a b", "c"), crosswalk(G1="a", G2="b c")
    a0, prev0 = a.copy(), prev.copy()
    assign_golden_ids(a, prev, None, run_id="r")
    pd.testing.assert_frame_equal(a, a0)
    pd.testing.assert_frame_equal(prev, prev0)


# --------------------------------------------------------------------------------------------
# Properties
# --------------------------------------------------------------------------------------------

KEYS = [f"k{i:02d}" for i in range(14)]


@st.composite
def partitions(draw: Any) -> pd.DataFrame:
    keys = draw(st.lists(st.sampled_from(KEYS), unique=True, max_size=len(KEYS)))
    labels = [draw(st.integers(0, 5)) for _ in keys]
    return pd.DataFrame({"record_key": pd.Series(keys, dtype="str"),
                         "cluster": pd.Series(labels, dtype="int64")})


@settings(max_examples=100, deadline=None)
@given(partitions(), partitions(), partitions())
def test_properties(first: pd.DataFrame, second: pd.DataFrame, third: pd.DataFrame) -> None:
    ids1, h1 = assign_golden_ids(first, None, None, run_id="r1")
    ids2, h2 = assign_golden_ids(second, ids1, h1, run_id="r2")
    ids3, h3 = assign_golden_ids(third, ids2, h2, run_id="r3")
    for assignments, ids, prev, history, hist_prev, run in (
            (second, ids2, ids1, h2, h1, "r2"), (third, ids3, ids2, h3, h2, "r3")):
        merged = assignments.merge(ids, on="record_key")
        # one id per cluster and one cluster per id
        assert (merged.groupby("cluster")["golden_id"].nunique() == 1).all()
        assert (merged.groupby("golden_id")["cluster"].nunique() == 1).all()
        assert len(ids) == len(assignments)
        # cumulative history; every previous id is either alive or retired now, exactly once
        pd.testing.assert_frame_equal(history.iloc[:len(hist_prev)].reset_index(drop=True),
                                      hist_prev.reset_index(drop=True))
        new_rows = history.iloc[len(hist_prev):]
        assert (new_rows["run_id"] == run).all()
        alive, old = set(ids["golden_id"]), set(prev["golden_id"])
        assert set(new_rows["golden_id"]) == old - alive and new_rows["golden_id"].is_unique
        # retired ids never come back; successors are alive ids
        assert not alive & set(history["golden_id"])
        assert set(new_rows["successor_id"].dropna()) <= alive
        assert ((new_rows["event"] == "removed") == new_rows["successor_id"].isna()).all()
        # an inherited id covers at least one of its old records; new ids exceed all earlier ones
        prev_map = dict(zip(prev["record_key"], prev["golden_id"]))
        ever = [parse_golden_id(g) for g in list(prev["golden_id"]) + list(hist_prev["golden_id"])
                + list(hist_prev["successor_id"].dropna())]
        for gid, group in merged.groupby("golden_id"):
            if gid in old:
                assert any(prev_map.get(k) == gid for k in group["record_key"])
            else:
                assert parse_golden_id(gid) > max(ever, default=0)


@settings(max_examples=80, deadline=None)
@given(partitions(), partitions(), st.randoms(use_true_random=False))
def test_fixpoint_and_row_order(first: pd.DataFrame, second: pd.DataFrame, rnd: Any) -> None:
    ids1, h1 = assign_golden_ids(first, None, None, run_id="r1")
    ids2, h2 = assign_golden_ids(second, ids1, h1, run_id="r2")
    # re-running on its own output changes nothing and retires nothing
    again, h_again = assign_golden_ids(second, ids2, h2, run_id="r3")
    pd.testing.assert_frame_equal(again, ids2)
    pd.testing.assert_frame_equal(h_again, h2)
    # row order and cluster labels of the inputs do not matter
    shuffled = second.sample(frac=1, random_state=rnd.randint(0, 10**6)).reset_index(drop=True)
    shuffled["cluster"] = shuffled["cluster"].map(lambda c: f"label-{9 - c}")
    prev = ids1.sample(frac=1, random_state=rnd.randint(0, 10**6)).reset_index(drop=True)
    ids2b, h2b = assign_golden_ids(shuffled, prev, h1, run_id="r2")
    pd.testing.assert_frame_equal(ids2b, ids2)
    pd.testing.assert_frame_equal(h2b, h2)
