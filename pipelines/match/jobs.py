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
import pyarrow as pa

from pipelines import io
from pipelines.config import load_config
from pipelines.match import blocking, clustering, engines, features, model, review, stable_ids
from pipelines.schema import CLEANSED_CUSTOMERS, CROSSWALK, GOLDEN_ID_HISTORY

MODEL_FILE = "match_model.json"
CROSSWALK_FILE = "crosswalk.parquet"
PAIRS_FILE = "pairs.parquet"
REVIEW_FILE = "review_queue.parquet"
HISTORY_FILE = "golden_id_history.parquet"

#: Cleansed columns the match features are built from (tests check that nothing else is read).
FEATURE_INPUTS: tuple[str, ...] = (
    "record_key", "source", "source_id",
    "last_name", "first_name", "middle_name", "last_name_lat", "first_name_lat", "middle_name_lat",
    "last_name_skel", "first_name_skel", "first_name_canonical_skel", "qc_name",
    "gender", "gender_source", "qc_gender", "birth_date", "qc_birth_date",
    "phone", "phones", "qc_phone", "email", "emails", "email_suggestion", "qc_email",
    "postcode", "city", "street", "house", "flat", "qc_address",
    "tax_id", "qc_tax_id", "national_id", "national_id_type", "qc_national_id",
)
#: Records per chunk when building features (row-local, so chunking changes nothing but memory).
FEATURE_CHUNK_ROWS = 200_000


def build_features(paths: list[Path], chunk_rows: int = FEATURE_CHUNK_ROWS) -> tuple[pa.Table, pd.DataFrame,
                                                                                     pd.DataFrame]:
    """Match frame (Arrow), clustering records and record keys of cleansed files, chunk by chunk.

    Only :data:`FEATURE_INPUTS` are read, a chunk at a time: at 1.75M records reading every
    cleansed column as Python objects took 6 GB, chunks keep it to one chunk's worth.
    """
    frames: list[pa.Table] = []
    records: list[pd.DataFrame] = []
    keys: list[pd.DataFrame] = []
    for cleansed in io.iter_frames(paths, list(FEATURE_INPUTS), chunk_rows):
        frame = features.match_frame(cleansed)
        records.append(features.cluster_records(cleansed, frame=frame))
        keys.append(cleansed[["source", "source_id", "record_key"]])
        frames.append(pa.Table.from_pandas(frame, preserve_index=False))
    if not frames:  # no records at all: the shapes of an empty input
        empty = io.empty_frame(pa.schema([CLEANSED_CUSTOMERS.field(c) for c in FEATURE_INPUTS]))
        frame = features.match_frame(empty)
        return (pa.Table.from_pandas(frame, preserve_index=False), features.cluster_records(empty, frame=frame),
                empty[["source", "source_id", "record_key"]])
    return (pa.concat_tables(frames, promote_options="permissive"), pd.concat(records, ignore_index=True),
            pd.concat(keys, ignore_index=True))


def match_job(config_path: str, cleansed_paths: list[str], run_folder: str, run_id: str) -> dict[str, Any]:
    """Link every accepted record into golden customers; write the match outputs of a run.

    Guarantees: every record of ``cleansed_paths`` appears exactly once in the crosswalk;
    golden ids follow the stable-id rules against the currently published hub.
    """
    config = load_config(config_path)
    settings = config.match
    if settings.engine == "spark":
        engines.configure_spark(settings.spark.model_dump())
    out = Path(run_folder) / "match"
    timings: dict[str, float] = {}
    t0 = perf_counter()
    frame, records, keys = build_features([Path(p) for p in cleansed_paths])
    timings["features"] = perf_counter() - t0

    t0 = perf_counter()
    guarded = blocking.apply_guard(frame, max_block_size=settings.max_block_size)  # for training and scoring
    timings["guard"] = perf_counter() - t0
    t0 = perf_counter()
    training_notes: list[str] = []
    if config.model_path is not None:
        model_json, model_source = io.read_json(config.model_path), "saved"
    elif frame.num_rows < model.MIN_TRAIN_RECORDS:
        model_json, model_source = model.for_small_input(io.read_json(model.BUNDLED_MODEL), frame.num_rows), "bundled"
    else:
        model_json, training = model.train_with_report(frame, max_pairs=settings.max_pairs, seed=settings.seed,
                                                       engine=settings.engine, max_block_size=settings.max_block_size,
                                                       guarded=guarded)
        model_source = "trained"
        training_notes = training.warnings + training.fallbacks
    io.write_json(model_json, out / MODEL_FILE)
    timings["train"] = perf_counter() - t0

    t0 = perf_counter()
    pairs, scoring = model.score_with_report(frame, model_json, threshold=settings.pairs_threshold,
                                             engine=settings.engine, max_block_size=settings.max_block_size,
                                             guarded=guarded)
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
        io.read_frame(previous, columns=["record_key", "golden_id"]) if previous.exists() else None,
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
        "decisions": len(decisions), "candidate_pairs": scoring.candidate_pairs,
        # per blocking rule: pairs, largest block, keys skipped by the guard (masked examples)
        "blocking": scoring.guard, "training_notes": training_notes, "timings": timings,
        "files": {name: str(out / name) for name in (CROSSWALK_FILE, PAIRS_FILE, REVIEW_FILE, HISTORY_FILE,
                                                    MODEL_FILE)},
    }
