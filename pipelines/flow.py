"""The Prefect flow ``consolidate``: ingest and cleanse every source, then publish the hub.

Tasks sit at I/O boundaries and pass paths, not frames: each source's task reads its
snapshot, runs the pure cleanse transforms and writes its Parquet files into the run
folder; the publish task assembles the hub in a staging folder and swaps it in
atomically (see :mod:`pipelines.publish`).
"""

from __future__ import annotations

import traceback
from collections import Counter
from dataclasses import asdict
from datetime import date, datetime, timezone
from pathlib import Path
from time import perf_counter
from typing import Any

from prefect import flow, get_run_logger, task

from pipelines import __version__, io
from pipelines.cleanse.transforms import cleanse_source
from pipelines.config import HubConfig, load_config
from pipelines.io import SourceError
from pipelines.publish import MANIFEST, hub_lock, recover, run_dir, staging_dir, swap_in
from pipelines.schema import CLEANSED_CUSTOMERS, QUARANTINE

CLEANSED_FILE = "cleansed_customers.parquet"
QUARANTINE_FILE = "quarantine.parquet"


def _transient_io(task: Any, task_run: Any, state: Any) -> bool:
    """Retry only on operating-system I/O errors, never on bad data or bad config."""
    try:
        state.result()
    except SourceError:
        return False
    except OSError:
        return True
    except Exception:
        return False
    return False


def new_run_id(now: datetime) -> str:
    """Sortable, unique run id from the start time (UTC)."""
    return now.strftime("%Y%m%dT%H%M%S.%fZ")


@task(name="ingest-cleanse", retries=2, retry_delay_seconds=2, retry_condition_fn=_transient_io)
def ingest_customers(config_path: str, source_name: str, run_folder: str, as_of: date) -> dict[str, Any]:
    """Read one customers source, cleanse it, write accepted and quarantined rows.

    Returns paths and counts only. Guarantees rows_in == accepted + quarantined.
    """
    config = load_config(config_path)
    source = config.source(source_name)
    folder = Path(run_folder)
    timings: dict[str, float] = {}
    t0 = perf_counter()
    raw = io.read_source(config, source)
    timings["read"] = perf_counter() - t0
    t0 = perf_counter()
    result = cleanse_source(raw.frame, raw.malformed, source, config.hub.default_country, as_of)
    timings["cleanse"] = perf_counter() - t0
    t0 = perf_counter()
    cleansed_path = io.write_parquet(result.accepted, folder / "cleansed" / f"{source.name}.parquet",
                                     CLEANSED_CUSTOMERS)
    quarantine_path = io.write_parquet(result.quarantined, folder / "quarantine" / f"{source.name}.parquet",
                                       QUARANTINE)
    timings["write"] = perf_counter() - t0
    rows_in = len(raw.frame) + len(raw.malformed)
    accepted, quarantined = len(result.accepted), len(result.quarantined)
    if rows_in != accepted + quarantined:  # conservation is an invariant, not a hope
        raise RuntimeError(f"source {source.name}: {rows_in} rows in but {accepted} accepted + {quarantined} quarantined")
    reasons = Counter(code for codes in result.quarantined["reasons"] for code in codes)
    logger = get_run_logger()
    logger.info("source %s: %d rows in, %d accepted, %d quarantined (%.1f rows/s)", source.name, rows_in,
                accepted, quarantined, rows_in / max(1e-9, timings["read"] + timings["cleanse"]))
    for report in raw.files:
        if report.empty:
            logger.warning("source %s: file %s is empty", source.name, report.path)
    return {
        "source": source.name, "cleansed": str(cleansed_path), "quarantine": str(quarantine_path),
        "rows_in": rows_in, "accepted": accepted, "quarantined": quarantined,
        "reasons": dict(sorted(reasons.items())), "files": [asdict(f) for f in raw.files],
        "timings": timings,
    }


@task(name="publish", retries=1, retry_delay_seconds=2, retry_condition_fn=_transient_io)
def publish_hub(config_path: str, run_id: str, run_folder: str, results: list[dict[str, Any]],
                as_of: date, started: datetime, timings: dict[str, float]) -> dict[str, Any]:
    """Assemble the hub in a staging folder, write the manifest, swap it in atomically."""
    config = load_config(config_path)
    out = config.out_dir
    staging = staging_dir(out, run_id)
    t0 = perf_counter()
    outputs = {
        CLEANSED_FILE: io.concat_parquet([Path(r["cleansed"]) for r in results], staging / CLEANSED_FILE,
                                         CLEANSED_CUSTOMERS),
        QUARANTINE_FILE: io.concat_parquet([Path(r["quarantine"]) for r in results], staging / QUARANTINE_FILE,
                                           QUARANTINE),
    }
    timings = {**timings, "publish": perf_counter() - t0}
    manifest = build_manifest(config, run_id, as_of, started, results, outputs, timings)
    io.write_json(manifest, Path(run_folder) / MANIFEST)
    io.write_json(manifest, staging / MANIFEST)
    swap_in(out, staging)
    return manifest


def build_manifest(config: HubConfig, run_id: str, as_of: date, started: datetime, results: list[dict[str, Any]],
                   outputs: dict[str, int], timings: dict[str, float]) -> dict[str, Any]:
    """The run's manifest: what went in (with hashes), what came out, and how long it took."""
    finished = datetime.now(timezone.utc)
    timings = {**timings, "total": (finished - started).total_seconds()}
    return {
        "run_id": run_id,
        "status": "published",
        "version": __version__,
        "started_at": started.isoformat(),
        "finished_at": finished.isoformat(),
        "as_of": as_of.isoformat(),
        "config": {"path": str(config.path), "sha256": config.sha256},
        "inputs": [{"source": r["source"], **f} for r in results for f in r["files"]],
        "sources": {
            r["source"]: {k: r[k] for k in ("rows_in", "accepted", "quarantined", "reasons")} for r in results
        },
        "outputs": outputs,
        "timings": {k: round(v, 3) for k, v in timings.items()},
        "warnings": [f"source {r['source']}: file {f['path']} is empty" for r in results for f in r["files"]
                     if f["empty"]],
    }


@flow(name="consolidate")
def consolidate(config_path: str, as_of: date | None = None) -> dict[str, Any]:
    """One consolidation run over every source of ``hub.yml``; returns the manifest.

    Holds the hub's lock for the whole run; the published hub changes only at the very
    end, atomically, and only if every step succeeded.
    """
    config = load_config(config_path)
    as_of = as_of or config.hub.as_of or date.today()
    out = config.out_dir
    logger = get_run_logger()
    with hub_lock(out):
        for action in recover(out):
            logger.warning("recovery: %s", action)
        started = datetime.now(timezone.utc)
        run_id = new_run_id(started)
        folder = run_dir(out, run_id)
        folder.mkdir(parents=True, exist_ok=True)
        try:
            results = []
            timings: dict[str, float] = {}
            for source in config.customer_sources:
                t0 = perf_counter()
                results.append(ingest_customers(str(config.path), source.name, str(folder), as_of))
                timings[f"ingest_cleanse:{source.name}"] = perf_counter() - t0
            manifest = publish_hub(str(config.path), run_id, str(folder), results, as_of, started, timings)
        except BaseException as exc:
            io.write_json({"run_id": run_id, "status": "failed", "error": f"{type(exc).__name__}: {exc}",
                           "traceback": traceback.format_exc()}, folder / "failed.json")
            raise
    logger.info("published run %s to %s", run_id, out)
    return manifest
