"""Speed and memory of constrained clustering on a synthetic 1.8M-record / 5M-pair input.

``python -m benchmarks.match_cluster [--persons 1000000] [--pairs 5000000] [--seed 42]``

The input imitates what the match stage hands to :func:`pipelines.match.clustering.cluster`:
people living in households (shared surname; different first names, birth dates and
patronymics; some twins), 1-3 records per person with missing values, and scored pairs of
three kinds -- duplicates of one person (mostly above the threshold), household members (a
third of them above the threshold: the chaining the vetoes must stop) and namesakes from
blocking (below it). Peak RSS is measured around the call (Linux ``clear_refs``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import resource
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

FIRST_M = ["aleksandr", "sergei", "dmitri", "andrei", "aleksei", "ivan", "mihail", "nikolai", "igor",
           "egor", "maksim", "artem", "denis", "pavel", "roman", "oleg", "vladimir", "evgeni", "iuri",
           "anton", "kirill", "ilia", "stanislav", "konstantin", "viktor", "boris", "petr", "gleb", "murat"]
FIRST_F = ["elena", "olga", "natalia", "tatiana", "irina", "svetlana", "anna", "maria", "marina", "daria",
           "iulia", "ekaterina", "anastasia", "alina", "alena", "arina", "viktoria", "ksenia", "polina",
           "sofia", "vera", "galina", "liudmila", "nadejda", "evgenia", "aleksandra", "valentina", "iana"]
LAST = [f"fam{i:05d}" for i in range(40000)]


def _rss_kb(field: str) -> int:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field):
                return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _reset_peak() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def generate(persons: int, n_pairs: int, seed: int) -> tuple[pd.DataFrame, pa.Table]:
    rng = np.random.default_rng(seed)
    # households of 1-5 people
    hh_size = rng.choice([1, 2, 3, 4, 5], size=persons, p=[0.3, 0.3, 0.2, 0.15, 0.05])
    hh_of = np.repeat(np.arange(len(hh_size)), hh_size)[:persons]
    n_hh = int(hh_of.max()) + 1
    gender = rng.integers(0, 2, persons)  # 0 M, 1 F
    first_idx = np.where(gender == 0, rng.integers(0, len(FIRST_M), persons),
                         len(FIRST_M) + rng.integers(0, len(FIRST_F), persons))
    first_pool = np.asarray(FIRST_M + FIRST_F, dtype=object)
    last = np.asarray(LAST, dtype=object)[rng.integers(0, len(LAST), n_hh)][hh_of]
    middle_pool = np.asarray([f + ("ovic" if g == 0 else "ovna") for f in FIRST_M for g in (0, 1)], dtype=object)
    middle = middle_pool[rng.integers(0, len(FIRST_M), persons) * 2 + gender]
    born = rng.integers(-20000, 15000, persons)
    twin = rng.random(persons) < 0.02  # twins: the previous person's birth date
    born[1:][twin[1:] & (hh_of[1:] == hh_of[:-1])] = born[:-1][twin[1:] & (hh_of[1:] == hh_of[:-1])]
    # 1-3 records per person
    k = rng.choice([1, 2, 3], size=persons, p=[0.4, 0.4, 0.2])
    person = np.repeat(np.arange(persons), k)
    n = len(person)
    epoch = dt.date(1970, 1, 1)
    date_pool = np.asarray([epoch + dt.timedelta(days=int(d)) for d in range(-20000, 15000)], dtype=object)
    bd = date_pool[born[person] + 20000]
    bd[rng.random(n) < 0.5] = None
    g = np.where(gender[person] == 0, "M", "F").astype(object)
    g[rng.random(n) < 0.2] = None
    mid = middle[person].copy()
    mid[rng.random(n) < 0.3] = None
    nid = np.asarray([f"{4500000000 + p}" for p in range(persons)], dtype=object)[person]
    nid[rng.random(n) < 0.95] = None
    tax = np.asarray([f"{500000000000 + p}" for p in range(persons)], dtype=object)[person]
    tax[rng.random(n) < 0.9] = None
    perm = rng.permutation(n)  # record keys unrelated to people
    keys = np.asarray([f"src{i % 4}:{i:09d}" for i in range(n)], dtype=object)[perm]
    records = pd.DataFrame({
        "record_key": keys, "birth_date": bd, "gender": g, "national_id": nid,
        "personal_tax_id": tax, "first_name_key": first_pool[first_idx][person],
        "last_name_key": last[person], "middle_name_key": mid,
    })

    start = np.concatenate([[0], np.cumsum(k)[:-1]])
    # duplicates of one person: all pairs of their records
    li, ri = [], []
    for a, b in ((0, 1), (0, 2), (1, 2)):
        sel = k > b
        li.append(start[sel] + a)
        ri.append(start[sel] + b)
    dup_l, dup_r = np.concatenate(li), np.concatenate(ri)
    dup_p = np.where(rng.random(len(dup_l)) < 0.9, rng.uniform(0.9, 1.0, len(dup_l)), rng.uniform(0.2, 0.9, len(dup_l)))
    # household members: first record of each person with the first record of the next one
    rec_hh = hh_of[person]
    same = np.flatnonzero(hh_of[1:] == hh_of[:-1])
    hh_l = np.concatenate([start[same], start[same] + (k[same] > 1)])
    hh_r = np.concatenate([start[same + 1], start[same + 1] + (k[same + 1] > 1)])
    hh_p = np.where(rng.random(len(hh_l)) < 0.35, rng.uniform(0.9, 0.99, len(hh_l)), rng.uniform(0.2, 0.9, len(hh_l)))
    # namesakes / random blocking pairs, below the threshold mostly
    rest = max(0, n_pairs - len(dup_l) - len(hh_l))
    rl, rr = rng.integers(0, n, rest), rng.integers(0, n, rest)
    ok = (rl != rr) & (rec_hh[rl] != rec_hh[rr])
    rl, rr = rl[ok], rr[ok]
    rp = np.where(rng.random(len(rl)) < 0.01, rng.uniform(0.9, 0.95, len(rl)), rng.uniform(0.2, 0.6, len(rl)))
    left = np.concatenate([dup_l, hh_l, rl])
    right = np.concatenate([dup_r, hh_r, rr])
    prob = np.concatenate([dup_p, hh_p, rp])
    kl, kr = keys[left], keys[right]
    swap = kl > kr
    kl, kr = np.where(swap, kr, kl), np.where(swap, kl, kr)
    pairs = pa.table({"record_key_l": pa.array(kl, pa.string()), "record_key_r": pa.array(kr, pa.string()),
                      "match_weight": pa.array(np.log2(prob / (1 - prob + 1e-12))),
                      "match_probability": pa.array(prob)})
    return records, pairs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.match_cluster", description=__doc__)
    parser.add_argument("--persons", type=int, default=1_000_000)
    parser.add_argument("--pairs", type=int, default=5_000_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--threshold", type=float, default=0.9)
    parser.add_argument("--pandas", action="store_true", help="pass the pairs as a pandas frame")
    parser.add_argument("--repeat", type=int, default=1, help="run cluster() this many times, report each")
    parser.add_argument("--all", action="store_true",
                        help="also time assign_golden_ids (first run, then against it) and review_queue")
    args = parser.parse_args(argv)
    from pipelines.match.clustering import cluster

    t0 = time.perf_counter()
    records, pairs = generate(args.persons, args.pairs, args.seed)
    links = pairs.to_pandas() if args.pandas else pairs
    print(f"generated {len(records):,} records, {pairs.num_rows:,} pairs in {time.perf_counter() - t0:.1f} s; "
          f"RSS {_rss_kb('VmRSS:') / 1024:.0f} MB")
    reset = _reset_peak()
    base = _rss_kb("VmRSS:")
    times = []
    for _ in range(max(1, args.repeat)):
        t0 = time.perf_counter()
        assignments, vetoes = cluster(records, links, threshold=args.threshold)
        times.append(time.perf_counter() - t0)
        del assignments, vetoes
    took = min(times)
    assignments, vetoes = cluster(records, links, threshold=args.threshold)
    peak = _rss_kb("VmHWM:")
    sizes = assignments.groupby("cluster").size()
    print(f"cluster(): {took:.2f} s (runs: {', '.join(f'{t:.2f}' for t in times)}); peak RSS {peak / 1024:.0f} MB "
          f"({'+' if reset else 'process peak, '}{(peak - base) / 1024:.0f} MB over the inputs)")
    print(f"clusters {len(sizes):,} (largest {sizes.max()}), vetoed links {len(vetoes):,}")
    print(vetoes["reason"].value_counts().head(8).to_string())
    if args.all:
        from pipelines.match.review import review_queue
        from pipelines.match.stable_ids import assign_golden_ids

        t0 = time.perf_counter()
        ids, history = assign_golden_ids(assignments, None, None, run_id="bench-1")
        print(f"assign_golden_ids, first run: {time.perf_counter() - t0:.2f} s")
        # next run: 1% of the records gone, the rest re-clustered with shuffled labels
        rng = np.random.default_rng(args.seed + 1)
        nxt = assignments[rng.random(len(assignments)) > 0.01].copy()
        nxt["cluster"] = rng.permutation(int(nxt["cluster"].max()) + 1)[nxt["cluster"].to_numpy()]
        t0 = time.perf_counter()
        ids2, history2 = assign_golden_ids(nxt, ids, history, run_id="bench-2")
        print(f"assign_golden_ids, against the previous run: {time.perf_counter() - t0:.2f} s; "
              f"{len(history2):,} retired ids")
        t0 = time.perf_counter()
        queue = review_queue(links, assignments, ids, vetoes, band=(0.5, args.threshold))
        print(f"review_queue: {time.perf_counter() - t0:.2f} s; {len(queue):,} rows")
    print(f"process peak RSS {_rss_kb('VmHWM:') / 1024:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
