"""Ingest + cleanse benchmark on generated demo data: records/s, stage times, peak RSS.

Runs exactly the jobs the flow runs (ingest, cleanse, finalize in a pool of worker
processes) without Prefect, so the numbers are the stage's own. Demo data is generated in
a separate process first (not timed, and not counted in peak RSS). Peak RSS is reported for
this process and for the largest worker process (``RUSAGE_CHILDREN`` keeps the maximum).
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
from datetime import date
from pathlib import Path
from time import perf_counter

from pipelines.cleanse import jobs
from pipelines.config import load_config
from pipelines.parallel import part_rows, run_all, worker_count, worker_pool


def _peak_mib(who: int) -> float:
    return resource.getrusage(who).ru_maxrss / 1024  # Linux reports KiB


def run(args: argparse.Namespace) -> int:
    folder = Path(args.data) if args.data else Path(tempfile.mkdtemp(prefix="hub-bench-"))
    config_path = folder / "hub.yml"
    if not config_path.exists() or args.regenerate:
        t0 = perf_counter()
        subprocess.run([sys.executable, "-m", "pipelines.demo", "--customers", str(args.customers), "--out",
                        str(folder), "--seed", str(args.seed)], check=True, stdout=subprocess.DEVNULL)
        print(f"generated {args.customers:,} people in {perf_counter() - t0:.1f} s into {folder}")
    config = load_config(config_path)
    as_of = config.hub.as_of or date.today()
    work = Path(tempfile.mkdtemp(prefix="hub-bench-run-"))
    sources = [s.name for s in config.customer_sources]
    input_bytes = sum(p.stat().st_size for s in config.customer_sources for p in Path(folder).glob("sources/**/*")
                      if p.is_file())
    workers = args.workers or worker_count(input_bytes)
    t_all = perf_counter()
    with worker_pool(workers) as pool:
        t0 = perf_counter()
        ingested = run_all(pool, jobs.ingest_job, [(str(config_path), s, str(work), part_rows()) for s in sources])
        t_ingest = perf_counter() - t0
        calls = [(str(config_path), r["source"], p, str(work / "parts" / r["source"] / Path(p).name), as_of)
                 for r in ingested for p in r["parts"]]
        t0 = perf_counter()
        run_all(pool, jobs.cleanse_job, calls)
        t_cleanse = perf_counter() - t0
        t0 = perf_counter()
        finals = run_all(pool, jobs.finalize_job,
                         [(r["source"], [c[3] for c in calls if c[1] == r["source"]], r["malformed"], str(work))
                          for r in ingested])
        t_finalize = perf_counter() - t0
    elapsed = perf_counter() - t_all
    rows = sum(r["rows_in"] for r in ingested)
    for r, f in zip(ingested, finals):
        print(f"  {r['source']:<10} {r['rows_in']:>10,} rows  read {r['timings']['read']:6.1f} s  "
              f"accepted {f['accepted']:>10,}  quarantined {f['quarantined']:>8,}")
    print(f"workers {workers}, parts {len(calls)} of <= {part_rows():,} rows")
    print(f"stages: ingest {t_ingest:.1f} s, cleanse {t_cleanse:.1f} s, finalize {t_finalize:.1f} s")
    print(f"total {rows:,} records in {elapsed:.1f} s = {rows / elapsed:,.0f} records/s; peak RSS: main "
          f"{_peak_mib(resource.RUSAGE_SELF):,.0f} MiB, largest worker {_peak_mib(resource.RUSAGE_CHILDREN):,.0f} MiB")
    return 0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--customers", type=int, default=100_000, help="people to generate (default 100000)")
    parser.add_argument("--data", help="folder for the generated data (reused if it holds hub.yml)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--workers", type=int, default=0, help="worker processes (default: as the flow decides)")
    parser.add_argument("--regenerate", action="store_true", help="generate even if --data holds data")
    parser.set_defaults(run=run)
