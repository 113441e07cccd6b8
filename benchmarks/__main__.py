"""Entry point: ``python -m benchmarks ingest --customers 100000 [--data DIR]`` (speed) and
``python -m benchmarks accuracy --dataset demo10k|demo100k|febrl3|febrl4|all`` (accuracy)."""

from __future__ import annotations

import argparse
import sys

from benchmarks import accuracy, ingest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    ingest.add_arguments(sub.add_parser("ingest", help="ingest + cleanse throughput and peak memory"))
    accuracy.add_arguments(sub.add_parser("accuracy", help="pairwise precision / recall / F1 of the crosswalk "
                                                           "against ground truth, beside recordlinkage"))
    args = parser.parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
