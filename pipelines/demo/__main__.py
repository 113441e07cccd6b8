"""``python -m pipelines.demo --customers N --out DIR [--seed S]``: write the demo data."""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

from pipelines.demo.generate import generate_demo


def main(argv: list[str] | None = None) -> int:
    """Generate the demo sources and print what was written, the time and the peak memory."""
    ap = argparse.ArgumentParser(prog="python -m pipelines.demo", description=__doc__)
    ap.add_argument("--customers", type=int, default=5000)
    ap.add_argument("--out", type=Path, default=Path("data/demo"))
    ap.add_argument("--seed", type=int, default=42)
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    res = generate_demo(args.out, customers=args.customers, seed=args.seed)
    dt = time.perf_counter() - t0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    for name, n in res.rows.items():
        print(f"{name:8s} {n:>10,d} rows  {', '.join(p.name for p in res.sources[name])}")
    print(f"config   {res.config}")
    print(f"truth    {res.truth}")
    print(f"{args.customers:,d} customers in {dt:.1f} s, peak RSS {rss:,.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
