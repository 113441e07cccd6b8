"""The match stage alone, exactly as the flow runs it, on cleansed files: time, memory, accuracy.

``python -m benchmarks.match_stage --cleansed 'DIR/cleansed/*.parquet' [--truth truth.parquet]
[--model m.json] [--threshold 0.9]`` runs :func:`pipelines.match.jobs.match_job` in this
process (features, training or the given model, scoring, clustering, golden ids, review
queue) into a temporary hub folder, then prints seconds per step, peak RSS and, with
``--truth``, cluster-level pairwise precision / recall / F1 of the crosswalk.
"""

from __future__ import annotations

import argparse
import glob
import resource
import sys
import tempfile
from pathlib import Path
from time import perf_counter

import pandas as pd
import yaml

from benchmarks.accuracy import evaluate, name_keys, truth_by_record
from pipelines.match.jobs import CROSSWALK_FILE, match_job


def _config(folder: Path, args: argparse.Namespace) -> Path:
    match: dict[str, object] = {"threshold": args.threshold}
    if args.model:
        match["model"] = str(Path(args.model).resolve())
    if args.threshold < 0.9:
        match["review"] = [min(0.5, args.threshold / 2), args.threshold]
    data = {"hub": {"out": str(folder / "hub")}, "match": match,
            "sources": [{"name": "bench", "path": "none/*.csv", "id": "id", "fields": {"full_name": "name"}}]}
    path = folder / "hub.yml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.match_stage", description=__doc__)
    parser.add_argument("--cleansed", required=True, help="glob of cleansed Parquet files (one per source)")
    parser.add_argument("--truth", help="ground truth (demo truth/entities.parquet) to score the crosswalk")
    parser.add_argument("--model", help="a saved model JSON (default: train)")
    parser.add_argument("--threshold", type=float, default=0.9)
    args = parser.parse_args(argv)
    paths = sorted(glob.glob(args.cleansed))
    if not paths:
        print(f"error: no file matches {args.cleansed!r}", file=sys.stderr)
        return 2
    folder = Path(tempfile.mkdtemp(prefix="hub-match-stage-"))
    config = _config(folder, args)
    t0 = perf_counter()
    result = match_job(str(config), paths, str(folder / "run"), "bench")
    wall = perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{result['records']:,} records -> {result['golden_ids']:,} golden ids; {result['pairs']:,} pairs kept, "
          f"{result['vetoed_links']:,} links vetoed, review queue {result['review_queue']:,} "
          f"({result['model_source']} model)")
    print("seconds: " + ", ".join(f"{k} {v:.1f}" for k, v in result["timings"].items())
          + f"; total {wall:.1f} s = {result['records'] / wall:,.0f} records/s; peak RSS {peak:,.0f} MiB")
    if args.truth:
        crosswalk = pd.read_parquet(Path(result["files"][CROSSWALK_FILE]))
        clusters = pd.Series(crosswalk["golden_id"].to_numpy(), index=pd.Index(crosswalk["record_key"].to_numpy(
            dtype=object), name="record_key"))
        cleansed = pd.concat([pd.read_parquet(p, columns=["record_key", "last_name_skel", "first_name_skel",
                                                          "first_name_canonical_skel"]) for p in paths])
        ev = evaluate(clusters, truth_by_record(pd.read_parquet(args.truth)), name_keys(cleansed))
        s, fp = ev.scores, ev.false_positives
        print(f"clusters at {args.threshold}: P {s.precision:.4f} R {s.recall:.4f} F1 {s.f1:.4f} "
              f"(FP pairs {s.false_positives:,}: household {fp.get('household', 0):,}, "
              f"namesake {fp.get('namesake', 0):,})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
