"""Match-model benchmark: features, guard, training, scoring on cleansed demo outputs.

Reports wall time per step, peak RSS, blocking recall, and *pairwise* precision / recall / F1
of the scored pairs at a threshold (clusters are the clustering benchmark's business), plus
the false positives that matter most: household members (same household, different person)
and namesakes (same first name and surname, different person) scoring above the threshold.

    python -m benchmarks.match_model --cleansed '/tmp/run/cleansed/*.parquet' \
        --truth /tmp/bench100k/truth/entities.parquet [--threshold 0.9] [--json out.json]

Ground truth: ``source, source_id, entity_id, household_id`` (the demo generator's
truth/entities.parquet); true pairs are records of one entity_id.
"""

from __future__ import annotations

import argparse
import glob
import json
import resource
import sys
from time import perf_counter
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def _pair_metrics(con: duckdb.DuckDBPyConnection, threshold: float) -> dict[str, Any]:
    """Pairwise metrics of the scored pairs (table ``pairs``) against ``truth``."""
    tp_all = con.execute("""
        SELECT count(*) FROM truth l JOIN truth r
        ON l.entity_id = r.entity_id AND l.record_key < r.record_key""").fetchall()[0][0]
    row = con.execute(f"""
        WITH p AS (
            SELECT p.record_key_l, p.record_key_r, p.match_probability,
                   tl.entity_id = tr.entity_id AS same_entity,
                   tl.household_id = tr.household_id AND tl.entity_id <> tr.entity_id AS household,
                   coalesce(ml.first_name_canon = mr.first_name_canon
                            AND ml.last_name_stem = mr.last_name_stem, false)
                       AND tl.entity_id <> tr.entity_id AS namesake
            FROM pairs p
            JOIN truth tl ON tl.record_key = p.record_key_l
            JOIN truth tr ON tr.record_key = p.record_key_r
            JOIN mf ml ON ml.unique_id = p.record_key_l
            JOIN mf mr ON mr.unique_id = p.record_key_r
            WHERE p.match_probability >= {threshold}
        )
        SELECT count(*), count(*) FILTER (WHERE same_entity),
               count(*) FILTER (WHERE household), count(*) FILTER (WHERE namesake)
        FROM p""").fetchall()[0]
    predicted, tp, household, namesake = (int(v) for v in row)
    precision = tp / predicted if predicted else 1.0
    recall = tp / tp_all if tp_all else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"threshold": threshold, "predicted_pairs": predicted, "true_positives": tp,
            "false_positives": predicted - tp, "truth_pairs": int(tp_all),
            "precision": round(precision, 5), "recall": round(recall, 5), "f1": round(f1, 5),
            "household_pairs_above": household, "namesake_pairs_above": namesake}


def run(args: argparse.Namespace) -> int:
    from pipelines.match import blocking, features, model

    timings: dict[str, float] = {}
    files = sorted(glob.glob(args.cleansed))
    if not files:
        print(f"no files match {args.cleansed}", file=sys.stderr)
        return 2
    t0 = perf_counter()
    cleansed = pd.concat([pd.read_parquet(f) for f in files], ignore_index=True)
    timings["read_cleansed"] = perf_counter() - t0

    t0 = perf_counter()
    mf = features.match_frame(cleansed)
    timings["match_frame"] = perf_counter() - t0
    del cleansed

    truth = pd.read_parquet(args.truth)
    truth["record_key"] = truth["source"].astype(str) + ":" + truth["source_id"].astype(str)
    # a source may repeat an id (the generator's "duplicate_id" rows): one record, one entity
    truth = truth[truth["record_key"].isin(set(mf["unique_id"]))].drop_duplicates("record_key")

    t0 = perf_counter()
    keyed, guard_report = blocking.apply_guard(mf, max_block_size=args.max_block_size)
    timings["guard"] = perf_counter() - t0
    t0 = perf_counter()
    recall = blocking.blocking_recall(keyed, truth)
    timings["blocking_recall"] = perf_counter() - t0
    del keyed

    t0 = perf_counter()
    trained, train_report = model.train_with_report(
        mf, max_pairs=args.max_pairs, seed=args.seed, max_block_size=args.max_block_size)
    timings["train"] = perf_counter() - t0

    t0 = perf_counter()
    pairs, score_report = model.score_with_report(
        mf, trained, threshold=args.pairs_threshold, max_block_size=args.max_block_size)
    timings["score"] = perf_counter() - t0

    con = duckdb.connect()
    con.execute("SET threads = 2")
    con.register("pairs", pairs)
    con.register("truth", pa.Table.from_pandas(
        truth[["record_key", "entity_id", "household_id"]].astype(str), preserve_index=False))
    con.register("mf", pa.Table.from_pandas(
        mf[["unique_id", "first_name_canon", "last_name_stem"]], preserve_index=False))
    metrics = [_pair_metrics(con, t) for t in sorted(set([args.threshold] + args.also))]
    by_key = con.execute(f"""
        SELECT match_key, count(*) FROM pairs WHERE match_probability >= {args.threshold}
        GROUP BY 1 ORDER BY 2 DESC""").fetchall()
    con.close()

    result = {
        "records": int(len(mf)),
        "seconds": {k: round(v, 2) for k, v in timings.items()},
        "train_seconds": train_report.seconds,
        "score_seconds": score_report.seconds,
        "peak_rss_mib": round(_peak_mib(), 1),
        "u_max_pairs": train_report.u_max_pairs,
        "prior": train_report.prior,
        "prior_rules_recall": train_report.prior_rules_recall,
        "candidate_pairs": score_report.candidate_pairs,
        "pairs_above_pairs_threshold": score_report.pairs_returned,
        "blocking_recall": {k: (round(v, 5) if isinstance(v, float) else v)
                            for k, v in recall.items()},
        "guard": guard_report,
        "pairs_by_match_key": dict(by_key),
        "metrics": metrics,
        "training_warnings": train_report.warnings,
        "training_fallbacks": train_report.fallbacks,
    }
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(result, f, indent=2)
    if args.model_out:
        with open(args.model_out, "w", encoding="utf-8") as f:
            json.dump(trained, f, indent=2)
    print(f"records {result['records']:,}; peak RSS {result['peak_rss_mib']:.0f} MiB; prior {result['prior']:.3g} "
          f"(deterministic rules' estimated recall {result['prior_rules_recall']})")
    print("seconds:", result["seconds"], "train:", train_report.seconds, "score:", score_report.seconds)
    br = result["blocking_recall"]
    print(f"blocking: {score_report.candidate_pairs:,} candidate pairs, recall {br['recall']:.4f} "
          f"({br['found_pairs']:,} of {br['truth_pairs']:,} true pairs)")
    for m in metrics:
        print(f"t={m['threshold']}: P {m['precision']:.4f} R {m['recall']:.4f} F1 {m['f1']:.4f} "
              f"(pairs {m['predicted_pairs']:,}, FP {m['false_positives']:,}, "
              f"household FP {m['household_pairs_above']:,}, namesake FP {m['namesake_pairs_above']:,})")
    for w in train_report.warnings + train_report.fallbacks:
        print("training:", " ".join(w.split()))
    return 0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--cleansed", required=True, help="glob of cleansed Parquet files")
    parser.add_argument("--truth", required=True, help="truth entities.parquet")
    parser.add_argument("--threshold", type=float, default=0.9)
    parser.add_argument("--also", type=float, nargs="*", default=[0.5, 0.99],
                        help="more thresholds to report")
    parser.add_argument("--pairs-threshold", type=float, default=0.2)
    parser.add_argument("--max-pairs", type=int, default=None, help="u sample (default: sized)")
    parser.add_argument("--max-block-size", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--json", help="write the full result as JSON here")
    parser.add_argument("--model-out", help="write the trained model JSON here")
    parser.set_defaults(run=run)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.match_model", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(parser)
    args = parser.parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
