"""Baseline: recordlinkage's classic pipeline on the hub's cleansed records.

recordlinkage 0.16 requires pandas < 3 and the project runs pandas 3, so this file has two
halves that never meet in one interpreter:

* the **driver** (:func:`find_bench_python`, :func:`run_baseline`), imported by
  ``benchmarks.accuracy`` in the project's venv: it starts the worker as a subprocess in the
  bench venv (``.venv-bench``, see ``benchmarks/requirements-baseline.txt``) and reads its
  outputs; it imports nothing beyond the standard library;
* the **worker** (:func:`main`, run as ``<bench python> benchmarks/baseline_rl.py ...``), which
  needs only pandas < 3, pyarrow, scipy and recordlinkage, never the ``pipelines`` package.

The classic pipeline, as recordlinkage's documentation teaches it: candidate pairs from
several blocking keys (phone, e-mail, national id, surname + birth year, first name + birth
date, postcode + surname, first + last name), binary features from ``Compare``
(Jaro-Winkler >= 0.85 on names, street and city, exact on the rest, numeric on the birth year
(within a year)), then two classifiers: ``ECMClassifier`` (unsupervised EM) and the
threshold-on-sum rule (at least ``--sum-threshold`` agreeing features, the tutorial's
``sum > 3``). Matched pairs are clustered by connected components (transitive closure), as a
naive deduplication would. Blocks larger than ``--max-block`` records are dropped (reported),
so a shared placeholder e-mail cannot explode the pair count.

Worker outputs in ``--out``: ``records.parquet`` (record_key, cluster_ecm, cluster_sum; row
order = input order), ``pairs.parquet`` (candidate pairs as int32 row positions ``l < r``,
``features`` = number of agreeing features, ``ecm`` = ECM's verdict) and ``stats.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
from pathlib import Path
from time import perf_counter

REPO = Path(__file__).resolve().parents[1]
DEFAULT_BENCH_VENV = REPO / ".venv-bench"
ENV_BENCH_PYTHON = "HUB_BENCH_PYTHON"


class BaselineError(RuntimeError):
    """The baseline could not run; the message is one line for an operator."""


# --------------------------------------------------------------------------- driver (project venv)


def find_bench_python(explicit: str | None = None) -> Path | None:
    """The bench venv's interpreter: ``explicit``, else ``$HUB_BENCH_PYTHON``, else
    ``<repo>/.venv-bench/bin/python``; None when the chosen one does not exist."""
    chosen = explicit or os.environ.get(ENV_BENCH_PYTHON) or str(DEFAULT_BENCH_VENV / "bin" / "python")
    path = Path(chosen).expanduser()
    return path if path.exists() else None


def run_baseline(python: Path, cleansed: Path, out_dir: Path, mode: str = "dedupe",
                 extra_args: list[str] | None = None) -> dict:
    """Run the worker in ``python`` on ``cleansed`` (cleansed_customers.parquet); return its
    stats (with ``wall_s`` and ``peak_rss_mib`` of the subprocess). Outputs land in ``out_dir``.
    Raises :class:`BaselineError` with the worker's last error line when it fails."""
    out_dir.mkdir(parents=True, exist_ok=True)
    cmd = [str(python), str(Path(__file__).resolve()), "--input", str(cleansed), "--out", str(out_dir),
           "--mode", mode, *(extra_args or [])]
    log = out_dir / "baseline.log"
    with open(log, "wb") as sink:
        t0 = perf_counter()
        proc = subprocess.Popen(cmd, stdout=sink, stderr=subprocess.STDOUT, cwd=str(out_dir))
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        wall = perf_counter() - t0
    if proc.returncode != 0:
        lines = [ln for ln in log.read_text(errors="replace").splitlines() if ln.strip()]
        raise BaselineError(f"baseline failed (exit {proc.returncode}): {lines[-1] if lines else 'no output'}; "
                            f"log: {log}")
    stats = json.loads((out_dir / "stats.json").read_text())
    stats["wall_s"] = wall
    stats["peak_rss_mib"] = usage.ru_maxrss / 1024
    return stats


# --------------------------------------------------------------------------- worker (bench venv)

#: Blocking rules: lists of prepared columns that must agree exactly.
BLOCKING_RULES: list[list[str]] = [
    ["phone"], ["email"], ["national_id"], ["last_key", "birth_year"], ["first_key", "birth_date"],
    ["postcode", "last_key"], ["first_key", "last_key"],
]
#: Features: (label, method, column, threshold). method: jarowinkler | exact | year.
FEATURES: list[tuple[str, str, str, float | None]] = [
    ("first_name", "jarowinkler", "first_key", 0.85),
    ("last_name", "jarowinkler", "last_key", 0.85),
    ("middle_name", "jarowinkler", "middle", 0.85),
    ("birth_date", "exact", "birth_date", None),
    ("birth_year", "year", "birth_year_num", None),
    ("phone", "exact", "phone", None),
    ("email", "exact", "email", None),
    ("national_id", "exact", "national_id", None),
    ("postcode", "exact", "postcode", None),
    ("street", "jarowinkler", "street", 0.85),
    ("house", "exact", "house", None),
    ("city", "jarowinkler", "city", 0.85),
    ("region", "exact", "region", None),
]

_INPUT_COLUMNS = ["record_key", "source", "first_name_canonical_skel", "first_name_skel", "last_name_skel",
                  "middle_name_lat", "birth_date", "phone", "email", "national_id", "postcode", "street", "house",
                  "city", "region"]


def _prepare(df):  # pandas < 3 frame in, prepared frame out (worker only)
    import pandas as pd

    def text(col: str):
        if col not in df.columns:
            return pd.Series([None] * len(df), dtype=object)
        s = df[col].astype("string").str.strip().str.lower()
        s = s.where(s != "", pd.NA)
        return s.astype(object).where(s.notna(), None)

    first = text("first_name_canonical_skel")
    first = first.where(first.notna(), text("first_name_skel"))
    dob = text("birth_date")
    out = pd.DataFrame({
        "record_key": df["record_key"].astype(str).to_numpy(),
        "source": text("source").to_numpy(),
        "first_key": first.to_numpy(),
        "last_key": text("last_name_skel").to_numpy(),
        "middle": text("middle_name_lat").to_numpy(),
        "birth_date": dob.to_numpy(),
        "birth_year": dob.str[:4].to_numpy(),
        "phone": text("phone").to_numpy(),
        "email": text("email").to_numpy(),
        "national_id": text("national_id").to_numpy(),
        "postcode": text("postcode").to_numpy(),
        "street": text("street").to_numpy(),
        "house": text("house").to_numpy(),
        "city": text("city").to_numpy(),
        "region": text("region").to_numpy(),
    })
    out["birth_year_num"] = pd.to_numeric(out["birth_year"], errors="coerce")
    return out


def _block_keys(frame, rules: list[list[str]], max_block: int) -> tuple[list[str], list[dict]]:
    """Add one key column per usable rule (null if any part is null or the block is too big)."""
    used, report = [], []
    for i, rule in enumerate(rules):
        parts = frame[rule]
        if parts.isna().all(axis=None):
            continue
        key = parts[rule[0]].astype(str)
        for col in rule[1:]:
            key = key + "|" + parts[col].astype(str)
        key = key.where(parts.notna().all(axis=1), None)
        sizes = key.map(key.value_counts())
        big = sizes > max_block
        name = f"_block{i}"
        frame[name] = key.where(~big, None)
        used.append(name)
        report.append({"rule": "+".join(rule), "keys": int(key.nunique()),
                       "dropped_blocks": int(key[big].nunique()), "dropped_records": int(big.sum())})
    return used, report


def _features(frame, pairs, mode: str, left=None, right=None):
    import recordlinkage as rl

    compare = rl.Compare(n_jobs=1)
    labels = []
    for label, method, col, threshold in FEATURES:
        if frame[col].isna().all():
            continue  # a field the dataset does not have would be an all-zero feature
        labels.append(label)
        if method == "jarowinkler":
            compare.string(col, col, method="jarowinkler", threshold=threshold, missing_value=0, label=label)
        elif method == "year":
            compare.numeric(col, col, method="linear", offset=0.0, scale=1.0, missing_value=0, label=label)
        else:
            compare.exact(col, col, missing_value=0, label=label)
    features = compare.compute(pairs, left, right) if mode == "link" else compare.compute(pairs, frame)
    if "birth_year" in features.columns:  # linear similarity: 1 same year, 0.5 one apart, 0 beyond
        features["birth_year"] = (features["birth_year"] >= 0.5).astype(int)
    return features.astype("int8"), labels


def _components(n: int, left, right):
    import numpy as np
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    graph = coo_matrix((np.ones(len(left), dtype=np.int8), (left, right)), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    # Number clusters by their first record so ids do not depend on scipy's order.
    _, first, inverse = np.unique(labels, return_index=True, return_inverse=True)
    rank = np.empty(len(first), dtype=np.int64)
    rank[np.argsort(first, kind="stable")] = np.arange(len(first))
    return rank[inverse]


def main(argv: list[str] | None = None) -> int:
    """Worker entry point (bench venv)."""
    ap = argparse.ArgumentParser(description="recordlinkage classic baseline on cleansed_customers.parquet")
    ap.add_argument("--input", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--mode", choices=["dedupe", "link"], default="dedupe",
                    help="link: exactly two sources, only pairs across them (FEBRL4's task)")
    ap.add_argument("--max-block", type=int, default=1000, help="drop blocks with more records than this")
    ap.add_argument("--sum-threshold", type=int, default=4, help="match when at least this many features agree")
    args = ap.parse_args(argv)

    import numpy as np
    import pandas as pd
    import pyarrow.parquet as pq
    import recordlinkage as rl

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    timings: dict[str, float] = {}
    t0 = perf_counter()
    present = set(pq.read_schema(args.input).names)
    df = pd.read_parquet(args.input, columns=[c for c in _INPUT_COLUMNS if c in present])
    frame = _prepare(df)
    del df
    n = len(frame)
    block_cols, block_report = _block_keys(frame, BLOCKING_RULES, args.max_block)
    timings["prepare"] = perf_counter() - t0

    t0 = perf_counter()
    indexer = rl.Index()
    for col in block_cols:
        indexer.block(left_on=col)
    left = right = None
    if args.mode == "link":
        sources = sorted(frame["source"].dropna().unique())
        if len(sources) != 2:
            raise SystemExit(f"error: --mode link needs exactly two sources, found {len(sources)}")
        left, right = (frame[frame["source"] == s] for s in sources)
        pairs = indexer.index(left, right)
    else:
        pairs = indexer.index(frame)
    timings["index"] = perf_counter() - t0

    t0 = perf_counter()
    features, labels = _features(frame, pairs, args.mode, left, right)
    timings["compare"] = perf_counter() - t0

    t0 = perf_counter()
    varying = [c for c in features.columns if features[c].nunique() > 1]
    if len(features) and varying:
        ecm = rl.ECMClassifier()
        ecm_links = ecm.fit_predict(features[varying])
        ecm_flag = features.index.isin(ecm_links)
    else:
        ecm_flag = np.zeros(len(features), dtype=bool)
    timings["ecm"] = perf_counter() - t0
    score = features.sum(axis=1).to_numpy()
    sum_flag = score >= args.sum_threshold

    a = features.index.get_level_values(0).to_numpy(dtype=np.int64)
    b = features.index.get_level_values(1).to_numpy(dtype=np.int64)
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    t0 = perf_counter()
    cluster_ecm = _components(n, lo[ecm_flag], hi[ecm_flag])
    cluster_sum = _components(n, lo[sum_flag], hi[sum_flag])
    timings["cluster"] = perf_counter() - t0

    pd.DataFrame({"record_key": frame["record_key"], "cluster_ecm": cluster_ecm,
                  "cluster_sum": cluster_sum}).to_parquet(out / "records.parquet", index=False)
    pd.DataFrame({"l": lo.astype(np.int32), "r": hi.astype(np.int32), "features": score.astype(np.int8),
                  "ecm": ecm_flag}).to_parquet(out / "pairs.parquet", index=False)
    stats = {
        "records": n, "mode": args.mode, "candidate_pairs": int(len(features)), "blocking": block_report,
        "features": labels, "ecm_features": varying, "ecm_matches": int(ecm_flag.sum()),
        "sum_threshold": args.sum_threshold, "sum_matches": int(sum_flag.sum()), "timings": timings,
        "worker_peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "versions": {"recordlinkage": rl.__version__, "pandas": pd.__version__},
    }
    (out / "stats.json").write_text(json.dumps(stats, indent=2))
    print(json.dumps({k: stats[k] for k in ("records", "candidate_pairs", "ecm_matches", "sum_matches")}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
