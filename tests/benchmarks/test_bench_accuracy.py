"""Pairwise metrics of benchmarks.accuracy on tiny clusterings whose numbers were worked out by hand."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pandas as pd
import pytest

from benchmarks.accuracy import (
    PairScores,
    blocking_recall,
    cluster_purity,
    evaluate,
    false_positive_breakdown,
    false_positive_pairs,
    matching_pairs,
    name_keys,
    pairs_within,
    pairwise_scores,
    split_off_by_note,
    target_verdict,
    truth_by_record,
    with_match_options,
)

N = None

# (keys, pairs that agree on every key), counted by hand.
PAIRS_WITHIN = [
    ([[1, 1, 1, 2, 2]], 3 + 1),
    ([["x", "y", "z"]], 0),
    ([[7, 7, 7, 7]], 6),
    ([[1, 1, N, 1]], 3),                        # a null pairs with nobody
    ([[N, N, N]], 0),                           # two nulls are not a pair
    ([[]], 0),
    ([[1, 1, 1, 2, 2], ["x", "x", "y", "y", "y"]], 1 + 1),  # cells (1,x)=2, (1,y)=1, (2,y)=2
    ([[1, 1, 1], ["x", N, "x"]], 1),
    ([[1, 1, 2, 2], ["a", "a", "a", "a"], [5, 5, 5, 6]], 1),  # (1,a,5)=2, (2,a,5)=1, (2,a,6)=1
    ([["a", "a", "b", "b"], ["a", "b", "a", "b"]], 0),
    ([[0, 0, 0], [np.nan, 1.0, 1.0]], 1),       # NaN is null too
    ([[True, True, False], ["k", "k", "k"]], 1),
]


@pytest.mark.parametrize("keys, expected", PAIRS_WITHIN)
def test_pairs_within(keys, expected):
    assert pairs_within(*keys) == expected


def test_pairs_within_ignores_series_index_and_checks_lengths():
    a = pd.Series([1, 1, 2], index=[10, 20, 30])
    b = pd.Series(["x", "x", "x"], index=[30, 20, 10])  # positional, not aligned on the index
    assert pairs_within(a, b) == 1
    with pytest.raises(ValueError):
        pairs_within([1, 1], [1, 1, 1])
    with pytest.raises(ValueError):
        pairs_within()


def test_pairs_within_large_counts_do_not_overflow():
    labels = np.zeros(2_000_000, dtype=np.int64)
    assert pairs_within(labels) == 2_000_000 * 1_999_999 // 2
    assert pairs_within(labels, labels) == 2_000_000 * 1_999_999 // 2


F = Fraction
# (predicted clusters, truth entities, true pairs, predicted pairs, true positives, precision, recall, f1)
SCORES = [
    # perfect
    ([1, 1, 2, 2, 2, 3], ["a", "a", "b", "b", "b", "c"], 4, 4, 4, F(1), F(1), F(1)),
    # nothing merged: no claim made (precision 1 by convention), nothing found
    ([1, 2, 3, 4, 5, 6], ["a", "a", "b", "b", "b", "c"], 4, 0, 0, F(1), F(0), F(0)),
    # everything merged: C(6,2) = 15 claims, 4 right
    ([9] * 6, ["a", "a", "b", "b", "b", "c"], 4, 15, 4, F(4, 15), F(1), F(8, 19)),
    # one entity of four split in halves: 2 of 6 pairs found
    ([1, 1, 2, 2], ["a"] * 4, 6, 2, 2, F(1), F(1, 3), F(1, 2)),
    # a test record (null entity) pulled into a true pair
    ([1, 1, 1], ["a", "a", N], 1, 3, 1, F(1, 3), F(1), F(1, 2)),
    # null cluster labels are singletons
    ([N, N], ["a", "a"], 1, 0, 0, F(1), F(0), F(0)),
    # clusters {a,a} and {a,b,b,c}: claims 1 + 6, right (a,a) and (b,b)
    ([1, 1, 2, 2, 2, 2], ["a", "a", "a", "b", "b", "c"], 4, 7, 2, F(2, 7), F(1, 2), F(4, 11)),
    # no true pair and none claimed
    ([1, 2], ["a", "b"], 0, 0, 0, F(1), F(1), F(1)),
    # no true pair, one claimed
    ([1, 1], ["a", "b"], 0, 1, 0, F(0), F(1), F(0)),
    # cluster ids of any type; the crosswalk's golden ids
    (["G0000000001", "G0000000001", "G0000000002"], [17, 17, 17], 3, 1, 1, F(1), F(1, 3), F(1, 2)),
]


@pytest.mark.parametrize("pred, truth, t, p, tp, precision, recall, f1", SCORES)
def test_pairwise_scores(pred, truth, t, p, tp, precision, recall, f1):
    s = pairwise_scores(pred, truth)
    assert (s.records, s.true_pairs, s.predicted_pairs, s.true_positives) == (len(pred), t, p, tp)
    assert s.false_positives == p - tp and s.false_negatives == t - tp
    assert s.precision == pytest.approx(float(precision))
    assert s.recall == pytest.approx(float(recall))
    assert s.f1 == pytest.approx(float(f1))


def test_scores_as_dict_is_complete():
    d = PairScores(records=4, true_pairs=6, predicted_pairs=2, true_positives=2).as_dict()
    assert d["false_positives"] == 0 and d["false_negatives"] == 4
    assert d["precision"] == 1.0 and d["recall"] == pytest.approx(1 / 3) and d["f1"] == pytest.approx(0.5)


# Eight records in three predicted clusters (worked out pair by pair):
#   cluster 1: r0-r1 same household (FP), r0-r2 namesakes (FP), r1-r2 nothing shared (FP)
#   cluster 2: r3-r5 the same person (TP); r3-r4 and r4-r5 household AND namesake (FP)
#   cluster 3: r6-r7 nothing shared (FP)
FAMILY = pd.DataFrame({
    "pred":      [1, 1, 1, 2, 2, 2, 3, 3],
    "entity":    ["A", "B", "C", "D", "E", "D", "F", "G"],
    "household": ["H1", "H1", N, "H2", "H2", "H2", "H3", "H4"],
    "name":      ["ivanov|ivan", "ivanov|petr", "ivanov|ivan", "smith|john", "smith|john", "smith|john", "x|y", "z|w"],
})


def test_false_positive_pairs_by_relation():
    f = FAMILY
    assert false_positive_pairs(f.pred, f.entity, f.household) == 3
    assert false_positive_pairs(f.pred, f.entity, f.name) == 3
    assert false_positive_pairs(f.pred, f.entity, f.household, f.name) == 2
    assert false_positive_pairs(f.pred, f.entity) == 6


def test_false_positive_breakdown_is_inclusion_exclusion():
    f = FAMILY
    out = false_positive_breakdown(f.pred, f.entity, {"household": f.household, "namesake": f.name})
    assert out == {"household": 3, "namesake": 3, "household+namesake": 2, "total": 6, "none": 2}
    assert false_positive_breakdown(f.pred, f.entity, {}) == {"total": 6, "none": 6}


def test_household_pair_of_the_same_person_is_not_a_false_positive():
    # two records of one person in one household: a true pair, never counted
    assert false_positive_pairs([1, 1], ["P1", "P1"], ["H1", "H1"]) == 0
    # the same two records split: no claim, no false positive
    assert false_positive_pairs([1, 2], ["P1", "P2"], ["H1", "H1"]) == 0


# (predicted, truth, clusters, entities, mixed clusters, split entities)
PURITY = [
    (FAMILY.pred, FAMILY.entity, 3, 7, 3, 0),
    ([1, 2, 2], ["a", "a", "b"], 2, 2, 1, 1),
    ([1, 1, 2, 2], ["a", "a", "b", "b"], 2, 2, 0, 0),
    ([1, 1, 1], ["a", N, N], 1, 1, 1, 0),        # two unknown records are two entities
    ([N, N, 5], ["a", "a", "a"], 3, 1, 0, 1),    # null clusters are singletons
]


@pytest.mark.parametrize("pred, truth, clusters, entities, mixed, split", PURITY)
def test_cluster_purity(pred, truth, clusters, entities, mixed, split):
    assert cluster_purity(pred, truth) == {"clusters": clusters, "entities": entities, "mixed_clusters": mixed,
                                           "split_entities": split}


def test_matching_pairs_and_blocking_recall():
    left = ["a", "a", "b", N, "c"]
    right = ["a", "b", "b", N, N]
    assert matching_pairs(left, right) == 2
    assert blocking_recall(left, right, 4) == 0.5
    assert blocking_recall([], [], 0) == 1.0


def _truth(rows):
    return pd.DataFrame(rows, columns=["source", "source_id", "entity_id", "household_id", "organisation_id"])


def test_truth_by_record_collapses_repeated_ids_and_rejects_conflicts():
    t = truth_by_record(_truth([
        ("crm", "000588", "P1", "H1", N),
        ("crm", "000588", "P1", "H1", N),   # the demo repeats a source id; the hub keeps one row
        ("web", "17", "P1", "H1", N),
    ]))
    assert list(t.index) == ["crm:000588", "web:17"]
    assert list(t["entity_id"]) == ["P1", "P1"]
    with pytest.raises(ValueError):
        truth_by_record(_truth([("crm", "1", "P1", N, N), ("crm", "1", "P2", N, N)]))


def test_name_keys():
    cleansed = pd.DataFrame({
        "record_key": ["a:1", "a:2", "a:3", "a:4", "a:5"],
        "last_name_skel": ["ivanov", "ivanov", N, "smit", "gren"],
        "first_name_skel": ["sasa", "aleksandr", "ivan", N, "micel"],
        "first_name_canonical_skel": ["aleksandr", N, "ivan", N, N],
    })
    keys = name_keys(cleansed)
    assert list(keys.index) == ["a:1", "a:2", "a:3", "a:4", "a:5"]
    assert list(keys) == ["ivanov|aleksandr", "ivanov|aleksandr", N, N, "gren|micel"]


def test_evaluate_scores_the_crosswalk_universe_and_counts_what_is_lost():
    truth = truth_by_record(_truth([
        ("crm", "1", "P1", "H1", N),
        ("crm", "2", "P1", "H1", N),
        ("web", "1", "P1", "H1", N),       # quarantined: not in the crosswalk
        ("web", "2", "P2", "H1", N),       # P1's relative
        ("web", "3", N, N, N),             # a test record that was accepted
    ]))
    clusters = pd.Series(["G1", "G1", "G1", "G2", "G3"], index=["crm:1", "crm:2", "web:2", "web:3", "bill:9"])
    names = pd.Series(["ivanov|ivan", "ivanov|ivan", "ivanov|petr", N, N], index=clusters.index)
    ev = evaluate(clusters, truth, names)
    assert ev.scores.true_pairs == 1 and ev.scores.predicted_pairs == 3 and ev.scores.true_positives == 1
    assert ev.false_positives["household"] == 2 and ev.false_positives["namesake"] == 0
    assert ev.false_positives["total"] == 2 and ev.false_positives["none"] == 0
    assert ev.records_not_in_truth == 1            # bill:9
    assert ev.truth_records_not_scored == 1        # web:1 (quarantined)
    assert ev.true_pairs_lost == 3 - 1             # P1 had 3 pairs among its 3 records, 1 is scored
    assert ev.as_dict()["scores"]["precision"] == pytest.approx(1 / 3)
    with pytest.raises(ValueError):
        evaluate(pd.Series(["G1", "G1"], index=["crm:1", "crm:1"]), truth)


def test_target_verdict():
    truth = truth_by_record(_truth([("f", "1", "E1", N, N), ("f", "2", "E1", N, N), ("f", "3", "E2", N, N)]))
    good = evaluate(pd.Series([1, 1, 2], index=["f:1", "f:2", "f:3"]), truth)
    bad = evaluate(pd.Series([1, 1, 1], index=["f:1", "f:2", "f:3"]), truth)
    assert target_verdict("febrl3", good) == "met"
    assert target_verdict("febrl3", bad) == "NOT met: F1 0.5000 < 0.998; precision 0.3333 < 1.0"
    assert target_verdict("other", good) == "no target"


def test_split_off_by_note():
    pred = [1, 1, 2, 3, 3, 4, 5]
    entity = ["A", "A", "A", "B", "B", "C", N]
    notes = ["duplicate", N, "partial,moved", "duplicate", "twin", "x", "test"]
    # A's third record sits apart from the other two; B is whole; C has one record; the test
    # record has no entity.
    table = split_off_by_note(pred, entity, notes)
    assert [tuple(r) for r in table.itertuples(index=False)] == [
        ("moved", 1, 1), ("partial", 1, 1), ("(no note)", 1, 0), ("duplicate", 2, 0), ("twin", 1, 0)]
    # a tie keeps the cluster seen first: the second record is the one split off
    assert [tuple(r) for r in split_off_by_note([7, 8], ["A", "A"], ["a", "b"]).itertuples(index=False)] == [
        ("b", 1, 1), ("a", 1, 0)]


def test_with_match_options(tmp_path):
    import yaml

    from benchmarks.accuracy import BenchError
    from benchmarks.febrl import hub_yml
    from pipelines.config import load_config

    config = tmp_path / "hub.yml"
    config.write_text(hub_yml("febrl3"), encoding="utf-8")
    assert with_match_options(config, []) == config
    bench = with_match_options(config, ["threshold=0.95", "review=[0.4, 0.95]"])
    assert bench == tmp_path / "hub.bench.yml"
    assert yaml.safe_load(bench.read_text())["match"] == {"threshold": 0.95, "review": [0.4, 0.95]}
    loaded = load_config(bench)
    assert loaded.out_dir == load_config(config).out_dir   # same hub folder, same sources
    with pytest.raises(BenchError):
        with_match_options(config, ["threshold"])
