"""The golden-record stage alone, exactly as the flow runs it, on cleansed files and a crosswalk.

``python -m benchmarks.golden_stage --cleansed 'DIR/cleansed/*.parquet' --crosswalk crosswalk.parquet``
runs :func:`pipelines.golden.jobs.golden_job` in this process (read members, survivorship
with lineage, households, change feed against an empty hub, masking, write) and prints seconds per step, records/s and peak RSS. Without a
crosswalk, ``--truth`` (the demo's truth/entities.parquet) stands in: each true entity is one
golden id, so the stage sees realistic cluster sizes without running the match stage first.
Issue 4's target: 1M source records in <= 60 s on 2 cores.
"""

from __future__ import annotations

import argparse
import glob
import resource
import sys
import tempfile
from datetime import date
from pathlib import Path
from time import perf_counter

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import yaml

from pipelines.golden.jobs import golden_job
from pipelines.match.jobs import CROSSWALK_FILE, HISTORY_FILE
from pipelines.schema import GOLDEN_ID_HISTORY


def _config(folder: Path, sources: list[str]) -> Path:
    trust = {"crm": 0.9, "billing": 0.8, "loyalty": 0.7, "web": 0.4}
    data = {"hub": {"out": str(folder / "hub")},
            "sources": [{"name": s, "path": "none/*.csv", "id": "id", "trust": trust.get(s, 0.5),
                         "fields": {"full_name": "name"}} for s in sources]}
    path = folder / "hub.yml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def _crosswalk_from_truth(truth: Path, out: Path) -> Path:
    table = pq.read_table(truth, columns=["source", "source_id", "entity_id"])
    keys = pc.binary_join_element_wise(table["source"], table["source_id"], ":")
    golden = pc.binary_join_element_wise("G", pc.cast(table["entity_id"], pa.string()), "")
    pq.write_table(pa.table({"record_key": keys, "golden_id": golden}), out)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.golden_stage", description=__doc__)
    parser.add_argument("--cleansed", required=True, help="glob of cleansed Parquet files (one per source)")
    parser.add_argument("--crosswalk", help="a crosswalk.parquet (record_key, golden_id) of these records")
    parser.add_argument("--truth", help="demo truth/entities.parquet: true entities as golden ids")
    parser.add_argument("--as-of", default="2026-11-01")
    args = parser.parse_args(argv)
    paths = sorted(glob.glob(args.cleansed))
    if not paths or not (args.crosswalk or args.truth):
        print("error: need --cleansed files and --crosswalk or --truth", file=sys.stderr)
        return 2
    folder = Path(tempfile.mkdtemp(prefix="hub-golden-stage-"))
    crosswalk = Path(args.crosswalk) if args.crosswalk else _crosswalk_from_truth(Path(args.truth),
                                                                                 folder / "crosswalk.parquet")
    config = _config(folder, [Path(p).stem for p in paths])
    t0 = perf_counter()
    history = folder / "history.parquet"
    pq.write_table(GOLDEN_ID_HISTORY.empty_table(), history)
    files = {CROSSWALK_FILE: str(crosswalk), HISTORY_FILE: str(history)}
    result = golden_job(str(config), paths, files, str(folder / "run"), "bench", date.fromisoformat(args.as_of))
    wall = perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{result['records']:,} records -> {result['golden_customers']:,} golden customers, "
          f"{result['lineage_rows']:,} lineage rows")
    print("seconds: " + ", ".join(f"{k} {v:.1f}" for k, v in result["timings"].items()))
    print(f"wall {wall:.1f} s = {result['records'] / wall:,.0f} records/s; peak RSS {peak:,.0f} MiB; "
          f"outputs in {folder / 'run' / 'golden'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
