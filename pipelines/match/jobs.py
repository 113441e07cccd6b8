"""The match stage as one job: cleansed records in, crosswalk, pairs and review queue out.

Runs in a worker process (plain arguments and paths in, a small dict out) so the memory
Splink and DuckDB take is returned to the system when the stage ends. Every file goes
through :mod:`pipelines.io`; the decisions are the pure modules' (features, model,
clustering, stable_ids, review).
"""

from __future__ import annotations

from pathlib import Path
from time import perf_counter
from typing import Any

import pandas as pd

from pipelines import io
from pipelines.config import load_config
from pipelines.match import clustering, features, model, review, stable_ids
from pipelines.schema import CROSSWALK, GOLDEN_ID_HISTORY

MODEL_FILE = "match_model.json"
CROSSWALK_FILE = "crosswalk.parquet"
PAIRS_FILE = "pairs.parquet"
REVIEW_FILE = "review_queue.parquet"
HISTORY_FILE = "golden_id_history.parquet"

#: Cleansed columns the match stage never needs (large free text).
_SKIP = {"raw", "extra", "issues"}


def _read_cleansed(paths: list[str]) -> pd.DataFrame:
    frames = [io.read_frame(Path(p), columns=[c for c in io.parquet_columns(Path(p)) if c not in _SKIP])
              for p in paths]
    frames = [f for f in frames if len(f)]
    if not frames:
        return io.read_frame(Path(paths[0]), columns=[c for c in io.parquet_columns(Path(paths[0]))
                                                       if c not in _SKIP]) if paths else pd.DataFrame()
    return pd.concat(frames, ignore_index=True)


def match_job(config_path: str, cleansed_paths: list[str], run_folder: str, run_id: str) -> dict[str, Any]:
    """Link every accepted record into golden customers; write the match outputs of a run.

    Guarantees: every record of ``cleansed_paths`` appears exactly once in the crosswalk;
    golden ids follow the stable-id rules against the currently published hub.
    """
    config = load_config(config_path)
    settings = config.match
    out = Path(run_folder) / "match"
    timings: dict[str, float] = {}
    t0 = perf_counter()
    cleansed = _read_cleansed(cleansed_paths)
    frame = features.match_frame(cleansed)
    records = features.cluster_records(cleansed, frame=frame)
    keys = cleansed[["source", "source_id", "record_key"]].copy()
    del cleansed
    timings["features"] = perf_counter() - t0

    t0 = perf_counter()
    if config.model_path is not None:
        model_json, model_source = io.read_json(config.model_path), "saved"
    elif len(frame) < model.MIN_TRAIN_RECORDS:
        model_json, model_source = model.for_small_input(io.read_json(model.BUNDLED_MODEL), len(frame)), "bundled"
    else:
        model_json = model.train(frame, max_pairs=settings.max_pairs, seed=settings.seed, engine=settings.engine,
                                 max_block_size=settings.max_block_size)
        model_source = "trained"
    io.write_json(model_json, out / MODEL_FILE)
    timings["train"] = perf_counter() - t0

    t0 = perf_counter()
    pairs = model.score(frame, model_json, threshold=settings.pairs_threshold, engine=settings.engine,
                        max_block_size=settings.max_block_size)
    timings["score"] = perf_counter() - t0

    t0 = perf_counter()
    decisions = io.read_decisions(config.decisions_path)
    must_link, cannot_link = review.decisions_to_links(decisions)
    assignments, vetoes = clustering.cluster(records, pairs, threshold=settings.threshold,
                                             must_link=must_link, cannot_link=cannot_link)
    previous = config.out_dir / CROSSWALK_FILE
    previous_history = config.out_dir / HISTORY_FILE
    ids, history = stable_ids.assign_golden_ids(
        assignments,
        io.read_frame(previous) if previous.exists() else None,
        io.read_frame(previous_history) if previous_history.exists() else None,
        run_id=run_id,
    )
    crosswalk = keys.merge(assignments, on="record_key", how="left").merge(ids, on="record_key", how="left")
    crosswalk["match_probability"] = crosswalk["cluster_probability"]
    queue = review.review_queue(pairs, assignments, ids, vetoes, band=settings.review, threshold=settings.threshold,
                                decided=pd.concat([must_link, cannot_link], ignore_index=True))
    timings["cluster"] = perf_counter() - t0

    io.write_parquet(crosswalk[list(CROSSWALK.names)], out / CROSSWALK_FILE, CROSSWALK)
    io.write_parquet(pairs, out / PAIRS_FILE)
    io.write_parquet(queue, out / REVIEW_FILE)
    io.write_parquet(history, out / HISTORY_FILE, GOLDEN_ID_HISTORY)
    return {
        "records": len(keys), "pairs": pairs.num_rows, "golden_ids": int(crosswalk["golden_id"].nunique()),
        "review_queue": len(queue), "vetoed_links": len(vetoes), "model_source": model_source,
        "decisions": len(decisions), "timings": timings,
        "files": {name: str(out / name) for name in (CROSSWALK_FILE, PAIRS_FILE, REVIEW_FILE, HISTORY_FILE,
                                                    MODEL_FILE)},
    }
