"""Entry point: ``python -m benchmarks ingest --customers 100000 [--data DIR]``."""

from __future__ import annotations

import argparse
import sys

from benchmarks import ingest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    ingest.add_arguments(sub.add_parser("ingest", help="ingest + cleanse throughput and peak memory"))
    args = parser.parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
