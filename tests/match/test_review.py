"""Review queue and steward decisions -> links (pure); the steward loop end to end."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipelines.match.clustering import cluster
from pipelines.match.review import decisions_to_links, review_queue
from pipelines.match.stable_ids import assign_golden_ids

COLUMNS = ["record_key_l", "record_key_r", "golden_id_l", "golden_id_r", "match_probability",
           "match_weight", "mw_first_name", "mw_birth_date", "reason", "impact", "decision"]


def scored(rows: list[tuple[str, str, float]]) -> pd.DataFrame:
    """Pairs with a weight and two per-comparison weights derived from the probability."""
    p = np.asarray([r[2] for r in rows], dtype=float)
    w = np.log2(np.clip(p, 1e-9, 1 - 1e-9) / np.clip(1 - p, 1e-9, 1))
    return pd.DataFrame({
        "record_key_l": [r[0] for r in rows], "record_key_r": [r[1] for r in rows],
        "match_weight": w, "match_probability": p,
        "gamma_first_name": np.ones(len(rows), dtype=np.int8), "mw_first_name": w / 2,
        "gamma_birth_date": np.zeros(len(rows), dtype=np.int8), "mw_birth_date": w / 2,
        "match_key": ["0"] * len(rows),
    })


def run(records: pd.DataFrame, pairs: pd.DataFrame, *, must: Any = None, cannot: Any = None,
        band: tuple[float, float] = (0.5, 0.9)) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    a, v = cluster(records, pairs, threshold=0.9, must_link=must, cannot_link=cannot)
    ids, _ = assign_golden_ids(a, None, None, run_id="r1")
    return review_queue(pairs, a, ids, v, band=band), a, ids


RECORDS = pd.DataFrame({
    "record_key": ["a:1", "a:2", "a:3", "b:1", "b:2", "c:1", "c:2", "c:3"],
    "first_name_key": ["ivan", "ivan", "ivan", "maria", "daria", "olga", "olga", "olga"],
    "birth_date": [dt.date(1980, 1, 1), None, None, dt.date(2001, 5, 5), dt.date(2001, 5, 5), None, None, None],
})
PAIRS = scored([
    ("a:1", "a:2", 0.99), ("a:2", "a:3", 0.95),            # cluster A (3 records)
    ("b:1", "b:2", 0.97),                                  # twins: vetoed (first_name)
    ("c:1", "c:2", 0.92),                                  # cluster C (2 records)
    ("a:3", "c:1", 0.85),                                  # grey, impact 2
    ("a:1", "a:3", 0.60),                                  # grey but inside cluster A: not listed
    ("c:3", "b:1", 0.70),                                  # grey, impact 1 (reversed key order)
    ("c:2", "c:3", 0.55),                                  # grey, impact 1
    ("a:1", "b:2", 0.30),                                  # below the band
])


def test_queue_rows_order_and_columns() -> None:
    q, _, ids = run(RECORDS, PAIRS)
    assert list(q.columns) == COLUMNS
    got = list(zip(q["record_key_l"], q["record_key_r"], q["reason"], q["impact"]))
    assert got == [
        ("a:3", "c:1", "grey_zone", 2),
        ("b:1", "b:2", "veto:first_name", 1),   # |0.97-0.9| = 0.07
        ("b:1", "c:3", "grey_zone", 1),         # |0.70-0.9| = 0.20
        ("c:2", "c:3", "grey_zone", 1),         # |0.55-0.9| = 0.35
    ]
    gid = dict(zip(ids["record_key"], ids["golden_id"]))
    assert list(q["golden_id_l"]) == [gid[k] for k in q["record_key_l"]]
    assert list(q["golden_id_r"]) == [gid[k] for k in q["record_key_r"]]
    assert q["decision"].isna().all()
    assert str(q["impact"].dtype) == "int64" and str(q["match_probability"].dtype) == "float64"
    veto = q[q["reason"] == "veto:first_name"].iloc[0]
    src = PAIRS.iloc[2]
    assert veto["match_weight"] == src["match_weight"] and veto["mw_first_name"] == src["mw_first_name"]


def test_pyarrow_pairs_give_the_same_queue() -> None:
    q1, a, ids = run(RECORDS, PAIRS)
    _, v = cluster(RECORDS, PAIRS, threshold=0.9)
    q2 = review_queue(pa.Table.from_pandas(PAIRS, preserve_index=False), a, ids, v, band=(0.5, 0.9))
    pd.testing.assert_frame_equal(q1, q2)


def test_vetoed_pair_inside_a_wider_band_is_listed_once() -> None:
    q, _, _ = run(RECORDS, PAIRS, band=(0.5, 0.99))
    pairs = list(zip(q["record_key_l"], q["record_key_r"]))
    assert len(pairs) == len(set(pairs))
    assert q.loc[(q["record_key_l"] == "b:1") & (q["record_key_r"] == "b:2"), "reason"].tolist() == [
        "veto:first_name"]


def test_decided_pairs_are_not_asked_again() -> None:
    cannot = pd.DataFrame({"record_key_l": ["a:1"], "record_key_r": ["a:2"]})
    q, _, _ = run(RECORDS, PAIRS, cannot=cannot)
    pairs = set(zip(q["record_key_l"], q["record_key_r"]))
    assert ("a:1", "a:2") not in pairs  # vetoed by the steward's cannot-link: decided
    assert ("a:3", "c:1") in pairs
    a, v = cluster(RECORDS, PAIRS, threshold=0.9)
    ids, _ = assign_golden_ids(a, None, None, run_id="r")
    decided = pd.DataFrame({"record_key_l": ["c:1", "b:2"], "record_key_r": ["a:3", "b:1"]})
    q = review_queue(PAIRS, a, ids, v, band=(0.5, 0.9), decided=decided)
    assert set(zip(q["record_key_l"], q["record_key_r"])) == {("b:1", "c:3"), ("c:2", "c:3")}


def test_empty_and_bad_band() -> None:
    empty = scored([])
    a, v = cluster(RECORDS, empty, threshold=0.9)
    ids, _ = assign_golden_ids(a, None, None, run_id="r")
    q = review_queue(empty, a, ids, v, band=(0.5, 0.9))
    assert q.empty and list(q.columns) == COLUMNS
    with pytest.raises(ValueError, match="band"):
        review_queue(empty, a, ids, v, band=(0.9, 0.5))


def test_inputs_not_mutated() -> None:
    a, v = cluster(RECORDS, PAIRS, threshold=0.9)
    ids, _ = assign_golden_ids(a, None, None, run_id="r")
    copies = [x.copy(deep=True) for x in (PAIRS, a, ids, v)]
    review_queue(PAIRS, a, ids, v, band=(0.5, 0.9))
    for before, after in zip(copies, (PAIRS, a, ids, v)):
        pd.testing.assert_frame_equal(before, after)


# --------------------------------------------------------------------------------------------
# Decisions -> links
# --------------------------------------------------------------------------------------------

def decisions(rows: list[tuple]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["record_key_l", "record_key_r", "decision", "decided_at", "note"])


def pairs_of(frame: pd.DataFrame) -> list[tuple[str, str]]:
    return list(zip(frame["record_key_l"], frame["record_key_r"]))


def test_decisions_to_links() -> None:
    must, cannot = decisions_to_links(decisions([
        ("crm:2", "crm:1", "match", "2026-11-01T10:00:00", "same passport"),
        ("web:5", "crm:9", " No_Match ", "2026-11-01", None),
        ("web:7", "web:8", None, None, None),             # undecided: skipped
        ("web:7", "web:9", "  ", None, None),             # blank: skipped
        ("bil:1", "bil:2", "no-match", None, None),
        ("loy:1", "loy:2", "MATCH", "2026-11-02 09:00", None),
    ]))
    assert pairs_of(must) == [("crm:1", "crm:2"), ("loy:1", "loy:2")]
    assert pairs_of(cannot) == [("bil:1", "bil:2"), ("crm:9", "web:5")]
    assert list(must.columns) == ["record_key_l", "record_key_r"]


@pytest.mark.parametrize(("rows", "must", "cannot"), [
    # later date wins, whatever the row order and key order
    ([("a", "b", "match", "2026-11-02", None), ("b", "a", "no_match", "2026-11-01", None)], [("a", "b")], []),
    ([("a", "b", "no_match", "2026-11-01", None), ("b", "a", "match", "2026-11-02", None)], [("a", "b")], []),
    # same or missing dates: the later row wins; an undated decision is older than a dated one
    ([("a", "b", "match", None, None), ("a", "b", "no_match", None, None)], [], [("a", "b")]),
    ([("a", "b", "no_match", "2026-11-01", None), ("a", "b", "match", None, None)], [], [("a", "b")]),
    ([("a", "b", "match", "2026-11-01T10:00:00+03:00", None),
      ("a", "b", "no_match", "2026-11-01T08:00:00Z", None)], [], [("a", "b")]),  # 07:00Z < 08:00Z
])
def test_latest_decision_wins(rows: list, must: list, cannot: list) -> None:
    m, c = decisions_to_links(decisions(rows))
    assert pairs_of(m) == must and pairs_of(c) == cannot


@pytest.mark.parametrize(("rows", "message"), [
    ([("a", "b", "match", None, None), ("c", "d", "maybe", None, None)],
     r"^decision row 2 \('c' / 'd'\): unknown decision 'maybe'"),
    ([("a", None, "match", None, None)], r"^decision row 1 \('a' / <blank>\): both record keys"),
    ([("a", "a", "no_match", None, None)], r"^decision row 1 .*itself"),
    ([("a", "b", "match", "yesterday", None)], r"^decision row 1 .*unreadable decided_at 'yesterday'"),
    ([("a", "b", "match", "now", None)], r"^decision row 1 .*unreadable decided_at"),
    ([("a", "b", "match", "2026-13-45", None)], r"^decision row 1 .*unreadable decided_at"),
])
def test_bad_decisions(rows: list, message: str) -> None:
    with pytest.raises(ValueError, match=message) as err:
        decisions_to_links(decisions(rows))
    assert "\n" not in str(err.value)


def test_missing_column_and_empty() -> None:
    with pytest.raises(ValueError, match="decision"):
        decisions_to_links(pd.DataFrame({"record_key_l": ["a"], "record_key_r": ["b"]}))
    must, cannot = decisions_to_links(decisions([]))
    assert must.empty and cannot.empty
    # decided_at and note are optional
    must, _ = decisions_to_links(pd.DataFrame({"record_key_l": ["b"], "record_key_r": ["a"],
                                               "decision": ["match"]}))
    assert pairs_of(must) == [("a", "b")]


def test_steward_loop_end_to_end() -> None:
    """Export the queue, decide, turn decisions into links: the next clustering honours them."""
    q, a, ids = run(RECORDS, PAIRS)
    sheet = q.copy()
    decide = {("a:3", "c:1"): "no_match", ("b:1", "b:2"): "match", ("b:1", "c:3"): "match"}
    sheet["decision"] = [decide.get(p) for p in zip(sheet["record_key_l"], sheet["record_key_r"])]
    sheet["decided_at"] = "2026-11-05T12:00:00"
    sheet["note"] = None
    # and a steward splits a model link the queue never showed
    extra = decisions([("a:2", "a:1", "no_match", "2026-11-05T12:01:00", "different people")])
    must, cannot = decisions_to_links(pd.concat([sheet[extra.columns], extra], ignore_index=True))
    a2, _ = cluster(RECORDS, PAIRS, threshold=0.9, must_link=must, cannot_link=cannot)
    cl = dict(zip(a2["record_key"], a2["cluster"]))
    assert cl["b:1"] == cl["b:2"] == cl["c:3"]     # twins merged by the steward, c:3 with them
    assert cl["a:1"] != cl["a:2"]                 # cannot-link wins over a 0.99 link
    q2 = review_queue(PAIRS, a2, assign_golden_ids(a2, ids, None, run_id="r2")[0],
                      cluster(RECORDS, PAIRS, threshold=0.9, must_link=must, cannot_link=cannot)[1],
                      band=(0.5, 0.9))
    assert ("b:1", "b:2") not in set(zip(q2["record_key_l"], q2["record_key_r"]))


# --------------------------------------------------------------------------------------------
# Properties
# --------------------------------------------------------------------------------------------

KEYS = [f"s:{i}" for i in range(8)]


@st.composite
def scored_pairs(draw: Any) -> pd.DataFrame:
    chosen = draw(st.lists(st.tuples(st.sampled_from(KEYS), st.sampled_from(KEYS)).filter(lambda t: t[0] != t[1]),
                           max_size=14, unique_by=lambda t: frozenset(t)))
    return scored([(x, y, draw(st.sampled_from([0.2, 0.5, 0.6, 0.8, 0.89, 0.9, 0.95]))) for x, y in chosen])


@settings(max_examples=60, deadline=None)
@given(scored_pairs(), st.randoms(use_true_random=False))
def test_queue_properties(pairs: pd.DataFrame, rnd: Any) -> None:
    recs = pd.DataFrame({"record_key": KEYS, "birth_date": [dt.date(1990, 1, 1 + i % 3) for i in range(8)]})
    q, a, _ = run(recs, pairs)
    size = a.groupby("cluster")["record_key"].size()
    cl = dict(zip(a["record_key"], a["cluster"]))
    for r in q.itertuples():
        assert r.record_key_l < r.record_key_r and cl[r.record_key_l] != cl[r.record_key_r]
        assert r.impact == min(size[cl[r.record_key_l]], size[cl[r.record_key_r]])
        assert (0.5 <= r.match_probability < 0.9) if r.reason == "grey_zone" else r.match_probability >= 0.9
    key = list(zip(-q["impact"], (q["match_probability"] - 0.9).abs(), q["record_key_l"], q["record_key_r"]))
    assert key == sorted(key)
    shuffled = pairs.sample(frac=1, random_state=rnd.randint(0, 10**6)).reset_index(drop=True)
    q2, _, _ = run(recs.sample(frac=1, random_state=1).reset_index(drop=True), shuffled)
    pd.testing.assert_frame_equal(q, q2)
