"""map_distinct: one rule call per distinct value, results mapped back row by row."""

from __future__ import annotations

import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from pipelines.cleanse.base import blank_to_none, map_distinct


def test_blank_cells_give_null_rows_and_index_is_kept() -> None:
    values = pd.Series(["a", " a ", None, "", "b", float("nan"), "  "], index=[5, 6, 7, 8, 9, 10, 11])
    out = map_distinct(values, lambda v: {"upper": v.upper(), "length": len(v)}, ["upper", "length"],
                       {"length": "Int64"})
    assert list(out.index) == [5, 6, 7, 8, 9, 10, 11]
    assert out["upper"].tolist() == ["A", "A", None, None, "B", None, None]
    assert out["length"].tolist() == [1, 1, pd.NA, pd.NA, 1, pd.NA, pd.NA]


def test_rule_runs_once_per_distinct_stripped_value() -> None:
    calls: list[str] = []

    def rule(v: str) -> dict:
        calls.append(v)
        return {"v": v}

    map_distinct(pd.Series(["x", "x ", " x", "y", "x"]), rule, ["v"])
    assert calls == ["x", "y"]


def test_empty_input_has_the_columns() -> None:
    out = map_distinct(pd.Series([], dtype="object"), lambda v: {"a": v}, ["a", "b"])
    assert list(out.columns) == ["a", "b"] and len(out) == 0


@given(st.lists(st.one_of(st.none(), st.text(max_size=5)), max_size=30))
def test_same_as_applying_the_rule_to_every_row(cells: list[str | None]) -> None:
    values = pd.Series(cells, dtype="object")
    out = map_distinct(values, lambda v: {"r": v[::-1]}, ["r"])
    expected = [None if blank_to_none(c) is None else blank_to_none(c)[::-1] for c in cells]
    assert out["r"].tolist() == expected
