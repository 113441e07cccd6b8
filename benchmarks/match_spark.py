"""Spark vs DuckDB benchmark of the match stage: same model, same records, same results?

Builds the match frame from cleansed outputs once, then scores it (and optionally trains)
with each engine in its own worker process, measuring wall seconds and the peak RSS of the
worker's whole process tree (for Spark: Python plus the JVM it launches). Then compares the
pairs (keys, levels, probabilities) and the clusters (pipelines.match.clustering at the
cluster threshold) of the engines.

    python -m benchmarks.match_spark --cleansed '/tmp/mh/cleansed/*.parquet' \
        [--model pipelines/match/data/default_model.json] [--train] [--json out.json]

Without ``--model`` the bundled model is used (trained on the 100k demo); both engines score
with that same model. ``--train`` also trains a model with each engine (timed; the two models'
prior, m and u are compared: u comes from each engine's own random pair sample, so they are
close, not equal).
Spark options come from the environment (pipelines.match.engines: GOLDEN_HUB_SPARK_*).
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq


# ------------------------------------------------------------------ peak RSS of a tree


def _children(pid: int) -> list[int]:
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        if ppid == pid:
            out.append(int(entry))
    return out


def _rss_kib(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


class TreeRss:
    """Samples the summed RSS of this process and its descendants every ``interval`` s."""

    def __init__(self, interval: float = 0.5) -> None:
        self.interval = interval
        self.peak_kib = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self) -> int:
        todo, total = [os.getpid()], 0
        while todo:
            pid = todo.pop()
            total += _rss_kib(pid)
            todo.extend(_children(pid))
        return total

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak_kib = max(self.peak_kib, self._sample())
            self._stop.wait(self.interval)

    def __enter__(self) -> "TreeRss":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak_kib = max(self.peak_kib, self._sample())

    @property
    def peak_mib(self) -> float:
        return round(self.peak_kib / 1024, 1)


# ------------------------------------------------------------------ worker


def worker(engine: str, frame_path: str, model_path: str, out_dir: str, train: bool,
           threshold: float, seed: int) -> dict[str, Any]:
    """Score (and optionally train) with one engine; pairs and model go to ``out_dir``."""
    from pipelines.match import model

    result: dict[str, Any] = {"engine": engine}
    with TreeRss() as rss:
        t0 = time.perf_counter()
        frame = pq.read_table(frame_path)
        if engine == "spark":
            from pipelines.match import engines

            t1 = time.perf_counter()
            engines.spark_session()
            result["session_s"] = round(time.perf_counter() - t1, 1)
        if train:
            t1 = time.perf_counter()
            trained, report = model.train_with_report(frame, max_pairs=None, seed=seed, engine=engine)
            result["train_s"] = round(time.perf_counter() - t1, 1)
            result["train_steps"] = report.seconds
            Path(out_dir, f"model_{engine}.json").write_text(json.dumps(trained), encoding="utf-8")
        with open(model_path, encoding="utf-8") as f:
            model_json = json.load(f)
        t1 = time.perf_counter()
        pairs, report = model.score_with_report(frame, model_json, threshold=threshold, engine=engine)
        result["score_s"] = round(time.perf_counter() - t1, 1)
        result["score_steps"] = report.seconds
        result["candidate_pairs"] = report.candidate_pairs
        result["pairs"] = pairs.num_rows
        pq.write_table(pairs, Path(out_dir, f"pairs_{engine}.parquet"))
        result["wall_s"] = round(time.perf_counter() - t0, 1)
    result["peak_rss_mib"] = rss.peak_mib
    return result


# ------------------------------------------------------------------ comparison


def compare_pairs(a: pa.Table, b: pa.Table, tol: float = 1e-9) -> dict[str, Any]:
    """Differences between two pairs tables: pairs only in one, gamma / weight mismatches."""
    key = ["record_key_l", "record_key_r"]
    da, db = a.to_pandas(), b.to_pandas()
    merged = da.merge(db, on=key, how="outer", suffixes=("_a", "_b"), indicator=True)
    both = merged[merged["_merge"] == "both"]
    out: dict[str, Any] = {
        "pairs_a": len(da), "pairs_b": len(db),
        "only_a": int((merged["_merge"] == "left_only").sum()),
        "only_b": int((merged["_merge"] == "right_only").sum()),
    }
    gammas = [c for c in da.columns if c.startswith("gamma_")]
    out["gamma_mismatch"] = {c: int((both[f"{c}_a"] != both[f"{c}_b"]).sum()) for c in gammas}
    diff = (both["match_probability_a"] - both["match_probability_b"]).abs()
    out["max_probability_diff"] = float(diff.max()) if len(both) else 0.0
    out["probability_diff_over_tol"] = int((diff > tol).sum())
    wdiff = (both["match_weight_a"] - both["match_weight_b"]).abs()
    out["max_weight_diff"] = float(wdiff.max()) if len(both) else 0.0
    return out


def pair_differences(a: pa.Table, b: pa.Table, limit: int = 20) -> list[dict[str, Any]]:
    """The pairs that differ (only in one table, or another level), for the report."""
    key = ["record_key_l", "record_key_r"]
    da, db = a.to_pandas(), b.to_pandas()
    merged = da.merge(db, on=key, how="outer", suffixes=("_a", "_b"), indicator=True)
    gammas = [c for c in da.columns if c.startswith("gamma_")]
    differs = merged["_merge"] != "both"
    for c in gammas:
        differs |= (merged[f"{c}_a"] != merged[f"{c}_b"]) & (merged["_merge"] == "both")
    rows = []
    for _, r in merged[differs].head(limit).iterrows():
        row = {"pair": f"{r.record_key_l} {r.record_key_r}", "in": str(r["_merge"]),
               "p_a": r.get("match_probability_a"), "p_b": r.get("match_probability_b")}
        row.update({c: [r.get(f"{c}_a"), r.get(f"{c}_b")] for c in gammas
                    if r.get(f"{c}_a") != r.get(f"{c}_b")})
        rows.append({k: (None if isinstance(v, float) and v != v else v) for k, v in row.items()})
    return rows


def compare_models(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    """Prior of both models and the largest differences of their m and u (log2 ratio: the
    change of a level's match weight in bits)."""
    import math

    out: dict[str, Any] = {"prior": [a["probability_two_random_records_match"],
                                     b["probability_two_random_records_match"]]}
    for key in ("m_probability", "u_probability"):
        worst = (0.0, "")
        for ca, cb in zip(a["comparisons"], b["comparisons"]):
            for la, lb in zip(ca["comparison_levels"], cb["comparison_levels"]):
                va, vb = la.get(key), lb.get(key)
                if isinstance(va, float) and isinstance(vb, float) and va > 0 and vb > 0:
                    bits = abs(math.log2(va / vb))
                    if bits > worst[0]:
                        worst = (bits, f"{ca['output_column_name']}: {la.get('label_for_charts')}")
        out[f"max_{key[0]}_diff_bits"] = [round(worst[0], 3), worst[1]]
    return out


def partition(assignments: pd.DataFrame) -> set[frozenset[str]]:
    """The clustering as a set of record-key sets (cluster numbers do not matter)."""
    groups = assignments.groupby("cluster")["record_key"].apply(frozenset)
    return set(groups.tolist())


def compare_clusters(records: pd.DataFrame, a: pa.Table, b: pa.Table, threshold: float) -> dict[str, Any]:
    """Cluster both pairs tables; count clusters and the records whose cluster differs."""
    from pipelines.match import clustering

    ca, _ = clustering.cluster(records, a, threshold=threshold)
    cb, _ = clustering.cluster(records, b, threshold=threshold)
    pa_, pb_ = partition(ca), partition(cb)
    differing = set().union(*(pa_ - pb_)) if pa_ - pb_ else set()
    return {"clusters_a": len(pa_), "clusters_b": len(pb_), "identical": pa_ == pb_,
            "clusters_only_a": len(pa_ - pb_), "clusters_only_b": len(pb_ - pa_),
            "records_in_differing_clusters": len(differing)}


# ------------------------------------------------------------------ main


def _run_worker(engine: str, args: argparse.Namespace, frame_path: str, model_path: str,
                out_dir: str) -> dict[str, Any]:
    cmd = [sys.executable, "-m", "benchmarks.match_spark", "--worker", engine, "--frame", frame_path,
           "--model", model_path, "--out", out_dir, "--threshold", str(args.threshold),
           "--seed", str(args.seed)] + (["--train"] if args.train else [])
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"{engine} worker failed:\n{proc.stderr[-4000:]}")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    result["process_s"] = round(time.perf_counter() - t0, 1)
    return result


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cleansed", help="glob of cleansed Parquet files")
    ap.add_argument("--model", help="model JSON (default: the bundled model)")
    ap.add_argument("--train", action="store_true", help="also train with each engine")
    ap.add_argument("--threshold", type=float, default=0.2, help="pairs threshold")
    ap.add_argument("--cluster-threshold", type=float, default=0.9)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--engines", default="duckdb,spark")
    ap.add_argument("--json", help="write the results here")
    ap.add_argument("--keep", help="keep frame, pairs and models in this folder")
    ap.add_argument("--compare-only", action="store_true",
                    help="only compare the pairs already in --keep")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--frame", help=argparse.SUPPRESS)
    ap.add_argument("--out", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    if args.worker:
        res = worker(args.worker, args.frame, args.model, args.out, args.train, args.threshold, args.seed)
        print(json.dumps(res))
        return 0

    from pipelines.match import features, model

    paths = sorted(glob.glob(args.cleansed))
    if not paths:
        raise SystemExit(f"no file matches {args.cleansed}")
    skip = {"raw", "extra", "issues"}
    cleansed = pd.concat([pd.read_parquet(p, columns=[c for c in pq.read_schema(p).names if c not in skip])
                          for p in paths], ignore_index=True)
    t0 = time.perf_counter()
    frame = features.match_frame(cleansed)
    records = features.cluster_records(cleansed, frame=frame)
    del cleansed
    out: dict[str, Any] = {"records": len(frame), "features_s": round(time.perf_counter() - t0, 1)}
    with tempfile.TemporaryDirectory(prefix="match-spark-bench-") as tmp_dir:
        tmp = args.keep or tmp_dir
        Path(tmp).mkdir(parents=True, exist_ok=True)
        frame_path = str(Path(tmp, "frame.parquet"))
        pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), frame_path)
        model_path = args.model or str(model.BUNDLED_MODEL)
        engines_ = args.engines.split(",")
        out["runs"] = {}
        for engine in engines_:
            if args.compare_only:
                continue
            out["runs"][engine] = _run_worker(engine, args, frame_path, model_path, tmp)
            print(json.dumps(out["runs"][engine]), flush=True)
        if len(engines_) == 2:
            a, b = (pq.read_table(Path(tmp, f"pairs_{e}.parquet")) for e in engines_)
            out["pairs_compare"] = compare_pairs(a, b)
            print(json.dumps(out["pairs_compare"]), flush=True)
            out["pair_differences"] = pair_differences(a, b)
            out["clusters_compare"] = compare_clusters(records, a, b, args.cluster_threshold)
            if args.train:
                ma, mb = (json.loads(Path(tmp, f"model_{e}.json").read_text()) for e in engines_)
                out["trained_models"] = compare_models(ma, mb)
    print(json.dumps({k: v for k, v in out.items() if k != "runs"}, indent=2))
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
