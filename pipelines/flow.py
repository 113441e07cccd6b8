"""The Prefect flow ``consolidate``: ingest and cleanse every source, match, build golden records, publish.

Tasks sit at I/O boundaries and pass paths, not frames. Per customers source:
``ingest-<source>`` reads the snapshot and writes mapped parts; ``cleanse-<source>`` runs
the pure cleanse transforms on every part; ``finalize-<source>`` applies the source-wide
duplicate rule and writes accepted and quarantined rows. ``match`` links the accepted
records into golden ids, ``golden`` builds one golden customer per id (survivorship with
lineage). Then ``publish`` assembles the
hub in a staging folder and swaps it in atomically (see :mod:`pipelines.publish`). The
CPU-heavy work inside the per-source tasks runs as jobs in one pool of worker processes
(:mod:`pipelines.parallel`), so sources proceed concurrently on every core.
"""

from __future__ import annotations

import traceback
from concurrent.futures import Executor
from datetime import date, datetime, timezone
from pathlib import Path
from time import perf_counter
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from pipelines import __version__, io
from pipelines.cleanse import jobs
from pipelines.golden import jobs as golden_jobs
from pipelines.match import jobs as match_jobs
from pipelines.config import HubConfig, Source, load_config
from pipelines.io import SourceError
from pipelines.parallel import part_rows, run_all, worker_count, worker_pool
from pipelines.publish import MANIFEST, hub_lock, prune_runs, recover, run_dir, staging_dir, swap_in
from pipelines.schema import (
    CLEANSED_CUSTOMERS, CROSSWALK, GOLDEN_CHANGES, GOLDEN_CUSTOMERS, GOLDEN_ID_HISTORY, LINEAGE, QUARANTINE,
)

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


def _input_bytes(config: HubConfig, source: Source) -> int:
    return sum(p.stat().st_size for p in io.source_files(config, source))


def new_run_id(now: datetime) -> str:
    """Sortable, unique run id from the start time (UTC)."""
    return now.strftime("%Y%m%dT%H%M%S.%fZ")


@task(name="ingest", task_run_name="ingest-{source}", retries=2, retry_delay_seconds=2,
      retry_condition_fn=_transient_io, cache_policy=NO_CACHE)
def ingest_source(pool: Executor, config_path: str, source: str, run_folder: str) -> dict[str, Any]:
    """Read one customers source and write its mapped parts (a job in the worker pool)."""
    result = pool.submit(jobs.ingest_job, config_path, source, run_folder, part_rows()).result()
    logger = get_run_logger()
    logger.info("source %s: read %d rows in %.1f s into %d part(s)", source, result["rows_in"],
                result["timings"]["read"], len(result["parts"]))
    for f in result["files"]:
        if f["empty"]:
            logger.warning("source %s: file %s is empty", source, f["path"])
    return result


@task(name="cleanse", task_run_name="cleanse-{source}", cache_policy=NO_CACHE)
def cleanse_source(pool: Executor, config_path: str, source: str, ingested: dict[str, Any], run_folder: str,
                   as_of: date) -> list[str]:
    """Cleanse every mapped part of one source in the worker pool; cleansed part paths."""
    folder = Path(run_folder) / "parts" / source
    calls = [(config_path, source, mapped, str(folder / f"part-{i:05d}.parquet"), as_of)
             for i, mapped in enumerate(ingested["parts"])]
    return [r["path"] for r in run_all(pool, jobs.cleanse_job, calls)]


@task(name="finalize", task_run_name="finalize-{source}", cache_policy=NO_CACHE)
def finalize_source(pool: Executor, source: str, ingested: dict[str, Any], parts: list[str],
                    run_folder: str) -> dict[str, Any]:
    """Source-wide duplicate rule; accepted and quarantine files of one source. Checks conservation."""
    final = pool.submit(jobs.finalize_job, source, parts, ingested["malformed"], run_folder).result()
    rows_in = ingested["rows_in"]
    if rows_in != final["accepted"] + final["quarantined"]:  # conservation is an invariant, not a hope
        raise RuntimeError(f"source {source}: {rows_in} rows in but {final['accepted']} accepted "
                           f"+ {final['quarantined']} quarantined")
    get_run_logger().info("source %s: %d rows in, %d accepted, %d quarantined", source, rows_in,
                          final["accepted"], final["quarantined"])
    return {**final, "rows_in": rows_in, "files": ingested["files"], "timings": {
        **ingested["timings"], "finalize": final["seconds"]}}


@task(name="match", cache_policy=NO_CACHE)
def match_records(pool: Executor, config_path: str, results: list[dict[str, Any]], run_folder: str,
                  run_id: str) -> dict[str, Any]:
    """Link the accepted records of every source into golden customers (a job in the pool)."""
    accepted = sum(r["accepted"] for r in results)
    result = pool.submit(match_jobs.match_job, config_path, [r["cleansed"] for r in results], run_folder,
                         run_id).result()
    if result["records"] != accepted:  # conservation: every accepted record gets a golden id
        raise RuntimeError(f"match: {accepted} accepted records but {result['records']} in the crosswalk")
    get_run_logger().info(
        "match: %d records -> %d golden ids; %d scored pairs, %d links vetoed, %d pairs for review (%s model)",
        result["records"], result["golden_ids"], result["pairs"], result["vetoed_links"], result["review_queue"],
        result["model_source"])
    return result


@task(name="erase", cache_policy=NO_CACHE)
def erase_requested(pool: Executor, config_path: str, results: list[dict[str, Any]], matched: dict[str, Any],
                    run_folder: str) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Apply the erasure requests (a job in the pool): the run's results and match files
    without the erased people, and the match summary with the erasure report."""
    out = pool.submit(golden_jobs.erasure_job, config_path, results, matched["files"], run_folder).result()
    report = out["report"]
    matched = {**matched, "files": out["files"], "erasure": report}
    if report is not None:
        matched["records"] -= report["records"]
        matched["golden_ids"] -= report["golden_ids"]
        get_run_logger().info("erasure: %d requests -> %d golden customers (%d records, %d quarantined rows) removed",
                              report["requests"], report["golden_ids"], report["records"], report["quarantined_rows"])
    return out["results"], matched


@task(name="golden", cache_policy=NO_CACHE)
def build_golden_records(pool: Executor, config_path: str, results: list[dict[str, Any]], matched: dict[str, Any],
                         run_folder: str, run_id: str, as_of: date) -> dict[str, Any]:
    """Survivorship over the crosswalk: one golden customer per golden id (a job in the pool)."""
    result = pool.submit(golden_jobs.golden_job, config_path, [r["cleansed"] for r in results], matched["files"],
                         run_folder, run_id, as_of).result()
    if result["golden_customers"] != matched["golden_ids"]:  # one golden row per golden id
        raise RuntimeError(f"golden: {matched['golden_ids']} golden ids but {result['golden_customers']} golden rows")
    get_run_logger().info("golden: %d records -> %d golden customers, %d lineage rows", result["records"],
                          result["golden_customers"], result["lineage_rows"])
    return result


@task(name="publish", retries=1, retry_delay_seconds=2, retry_condition_fn=_transient_io, cache_policy=NO_CACHE)
def publish_hub(config_path: str, run_id: str, run_folder: str, results: list[dict[str, Any]],
                matched: dict[str, Any], golden: dict[str, Any], as_of: date, started: datetime,
                timings: dict[str, float], workers: int) -> dict[str, Any]:
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
        match_jobs.CROSSWALK_FILE: io.concat_parquet([Path(matched["files"][match_jobs.CROSSWALK_FILE])],
                                                     staging / match_jobs.CROSSWALK_FILE, CROSSWALK),
        match_jobs.HISTORY_FILE: io.concat_parquet([Path(matched["files"][match_jobs.HISTORY_FILE])],
                                                   staging / match_jobs.HISTORY_FILE, GOLDEN_ID_HISTORY),
        golden_jobs.GOLDEN_FILE: io.concat_parquet([Path(golden["files"][golden_jobs.GOLDEN_FILE])],
                                                   staging / golden_jobs.GOLDEN_FILE, GOLDEN_CUSTOMERS),
        golden_jobs.LINEAGE_FILE: io.concat_parquet([Path(golden["files"][golden_jobs.LINEAGE_FILE])],
                                                    staging / golden_jobs.LINEAGE_FILE, LINEAGE),
        golden_jobs.CHANGES_FILE: io.concat_parquet([Path(golden["files"][golden_jobs.CHANGES_FILE])],
                                                    staging / golden_jobs.CHANGES_FILE, GOLDEN_CHANGES),
        golden_jobs.MASKED_FILE: io.concat_parquet([Path(golden["files"][golden_jobs.MASKED_FILE])],
                                                   staging / golden_jobs.MASKED_FILE, GOLDEN_CUSTOMERS),
    }
    for name in (match_jobs.PAIRS_FILE, match_jobs.REVIEW_FILE):  # columns follow the model's comparisons
        outputs[name] = io.parquet_rows(io.copy_file(Path(matched["files"][name]), staging / name))
    timings = {**timings, "publish": perf_counter() - t0}
    manifest = build_manifest(config, run_id, as_of, started, results, matched, golden, outputs, timings, workers)
    io.write_json(manifest, Path(run_folder) / MANIFEST)
    io.write_json(manifest, staging / MANIFEST)
    swap_in(out, staging)
    erasure = matched.get("erasure")
    for folder in prune_runs(out, keep=config.hub.keep_runs, purge=bool(erasure and erasure["requests"])):
        get_run_logger().info("run folder %s: data files removed (hub.keep_runs, erasure)", folder)
    return manifest


def build_manifest(config: HubConfig, run_id: str, as_of: date, started: datetime, results: list[dict[str, Any]],
                   matched: dict[str, Any], golden: dict[str, Any], outputs: dict[str, int],
                   timings: dict[str, float], workers: int) -> dict[str, Any]:
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
        "source_timings": {r["source"]: {k: round(v, 3) for k, v in r["timings"].items()} for r in results},
        "sources": {
            r["source"]: {k: r[k] for k in ("rows_in", "accepted", "quarantined", "reasons")} for r in results
        },
        "match": {k: v for k, v in matched.items() if k not in ("files", "timings", "erasure")}
        | {"model": matched["files"][match_jobs.MODEL_FILE],
           "timings": {k: round(v, 3) for k, v in matched["timings"].items()}},
        "erasure": matched.get("erasure"),
        "golden": {k: v for k, v in golden.items() if k not in ("files", "timings")}
        | {"timings": {k: round(v, 3) for k, v in golden["timings"].items()}},
        "outputs": outputs,
        "timings": {k: round(v, 3) for k, v in timings.items()},
        "workers": workers,
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
            t0 = perf_counter()
            workers = worker_count(sum(_input_bytes(config, s) for s in config.customer_sources))
            with worker_pool(workers) as pool:
                # Sources move through ingest -> cleanse -> finalize independently; their
                # jobs share the pool, so both cores stay busy whatever the source sizes.
                chains = []
                for source in config.customer_sources:
                    ingested = ingest_source.submit(pool, str(config.path), source.name, str(folder))
                    parts = cleanse_source.submit(pool, str(config.path), source.name, ingested, str(folder), as_of)
                    final = finalize_source.submit(pool, source.name, ingested, parts, str(folder))
                    chains.append((ingested, parts, final))
                # Wait link by link: a failed link raises its own error (its successors never run).
                results = [[link.result() for link in chain][-1] for chain in chains]
                timings = {"cleanse_stage": perf_counter() - t0}
                t0 = perf_counter()
                matched = match_records(pool, str(config.path), results, str(folder), run_id)
                timings["match_stage"] = perf_counter() - t0
                results, matched = erase_requested(pool, str(config.path), results, matched, str(folder))
                t0 = perf_counter()
                golden = build_golden_records(pool, str(config.path), results, matched, str(folder), run_id, as_of)
                timings["golden_stage"] = perf_counter() - t0
            manifest = publish_hub(str(config.path), run_id, str(folder), results, matched, golden, as_of, started,
                                   timings, workers)
        except BaseException as exc:
            io.write_json({"run_id": run_id, "status": "failed", "error": f"{type(exc).__name__}: {exc}",
                           "traceback": traceback.format_exc()}, folder / "failed.json")
            raise
    logger.info("published run %s to %s", run_id, out)
    return manifest
