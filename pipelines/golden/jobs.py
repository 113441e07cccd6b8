"""The golden-record job of a run: read the members, build golden customers, write them.

Runs in the flow's worker pool after the match job (paths in, a summary dict out).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from time import perf_counter
from typing import Any

import pandas as pd
import pyarrow as pa

from pipelines import io
from pipelines.config import load_config
from pipelines.golden import changes, erasure, households, masking, survivorship
from pipelines.match import jobs as match_jobs
from pipelines.schema import GOLDEN_CHANGES, GOLDEN_CUSTOMERS, LINEAGE

GOLDEN_FILE = "golden_customers.parquet"
LINEAGE_FILE = "lineage.parquet"
CHANGES_FILE = "golden_changes.parquet"
MASKED_FILE = "golden_customers_masked.parquet"
FILES: tuple[str, ...] = (GOLDEN_FILE, LINEAGE_FILE, CHANGES_FILE, MASKED_FILE)


def golden_job(config_path: str, cleansed_paths: list[str], match_files: dict[str, str], run_folder: str,
               run_id: str, as_of: date) -> dict[str, Any]:
    """Build the golden customers, their lineage, the change feed against the published hub
    and the masked golden customers for one run.

    ``match_files``: the match job's files (crosswalk and golden-id history of this run).
    Guarantees: exactly one golden row per golden id of the crosswalk; lineage covers
    every non-null golden attribute. Files are written under ``<run_folder>/golden``.
    """
    config = load_config(config_path)
    out = Path(run_folder) / "golden"
    timings: dict[str, float] = {}
    t0 = perf_counter()
    columns = list(dict.fromkeys(survivorship.MEMBER_COLUMNS + households.MEMBER_COLUMNS))
    crosswalk_path = Path(match_files[match_jobs.CROSSWALK_FILE])
    members = io.read_members([Path(p) for p in cleansed_paths], crosswalk_path, columns)
    timings["read"] = perf_counter() - t0
    t0 = perf_counter()
    trust = {s.name: s.trust for s in config.customer_sources}
    with io.ParquetSink(out / LINEAGE_FILE, LINEAGE) as lineage:
        golden, lineage_rows = survivorship.build_golden_streaming(
            members, trust=trust, settings=config.survivorship, as_of=as_of, lineage_sink=lineage.write)
    timings["survivorship"] = perf_counter() - t0
    t0 = perf_counter()
    links, household_report = households.link_households(
        members.select(["golden_id", *households.MEMBER_COLUMNS]).to_pandas(),
        max_household=config.golden.max_household, max_organisation=config.golden.max_organisation)
    golden = with_households(golden, links)
    timings["households"] = perf_counter() - t0
    t0 = perf_counter()
    published = config.out_dir
    previous = published / GOLDEN_FILE
    previous_crosswalk = published / match_jobs.CROSSWALK_FILE
    with_previous = previous.exists() and previous_crosswalk.exists()
    feed = changes.change_feed(
        io.read_table(previous) if with_previous else None, golden,
        io.read_table(Path(match_files[match_jobs.HISTORY_FILE])), run_id=run_id,
        previous_crosswalk=io.read_table(previous_crosswalk, ["record_key", "golden_id"]) if with_previous else None,
        current_crosswalk=io.read_table(crosswalk_path, ["record_key", "golden_id"]) if with_previous else None)
    timings["changes"] = perf_counter() - t0
    t0 = perf_counter()
    io.write_parquet(golden, out / GOLDEN_FILE, GOLDEN_CUSTOMERS)
    io.write_parquet(feed, out / CHANGES_FILE, GOLDEN_CHANGES)
    io.write_parquet(masking.mask_golden(golden), out / MASKED_FILE, GOLDEN_CUSTOMERS)
    timings["write"] = perf_counter() - t0
    counts = feed.group_by("change").aggregate([("golden_id", "count")]).to_pylist()
    return {
        "records": members.num_rows, "golden_customers": golden.num_rows, "lineage_rows": lineage_rows,
        "households": household_report,
        "changes": {row["change"]: row["golden_id_count"] for row in counts},
        "timings": timings,
        "files": {name: str(out / name) for name in FILES},
    }


def with_households(golden: pa.Table, links: pd.DataFrame) -> pa.Table:
    """``golden`` with ``household_id`` / ``organisation_id`` from :func:`households.link_households`
    (one row per golden id, both sorted by golden id)."""
    if list(links["golden_id"]) != golden.column("golden_id").to_pylist():
        raise RuntimeError("golden: household links do not cover exactly the golden customers")
    for name in ("household_id", "organisation_id"):
        column = pa.array(links[name].astype(object).where(links[name].notna(), None).tolist(), pa.string())
        golden = golden.set_column(golden.schema.get_field_index(name), name, column)
    return golden


ERASURE_DIR = "erasure"
#: Columns of the accepted records the erasure rules read.
ERASURE_MEMBER_COLUMNS: tuple[str, ...] = ("record_key", "source", "source_id", "email", "emails",
                                           "email_suggestion", "phone", "phones")


def erasure_job(config_path: str, results: list[dict[str, Any]], match_files: dict[str, str],
                run_folder: str) -> dict[str, Any]:
    """Apply the erasure requests of hub.yml to this run's files (golden/erasure.py).

    Writes copies without the erased people under ``<run_folder>/erasure`` and returns
    ``{"results": ..., "files": ..., "report": ...}``: the per-source results and match files
    with their paths replaced, and the manifest's report (counts and salted hashes only).
    Without an ``erasure`` file in the config, returns the inputs unchanged and no report.
    """
    config = load_config(config_path)
    path = config.erasure_path
    if path is None:
        return {"results": results, "files": match_files, "report": None}
    keys = erasure.parse_requests(io.read_csv_text(path), default_country=config.hub.default_country,
                                  where=str(path))
    salt = io.read_secret(config.erasure_salt_path)  # type: ignore[arg-type]
    crosswalk = Path(match_files[match_jobs.CROSSWALK_FILE])
    members = io.read_members([Path(r["cleansed"]) for r in results], crosswalk,
                              list(ERASURE_MEMBER_COLUMNS)).to_pandas()
    golden_ids = erasure.erased_golden_ids(members, keys)
    erased = members[members["golden_id"].isin(golden_ids)]
    record_keys = set(erased["record_key"])
    records = set(zip(erased["source"], erased["source_id"]))
    out = Path(run_folder) / ERASURE_DIR
    new_results, quarantined = [], 0
    for r in results:
        cleansed = out / "cleansed" / Path(r["cleansed"]).name
        io.filter_parquet(Path(r["cleansed"]), cleansed, "record_key", record_keys)
        table = io.read_table(Path(r["quarantine"]))
        hits = erasure.quarantine_hits(table.select(["source", "source_id", "raw"]).to_pandas(), keys, records)
        quarantined += int(hits.sum())
        quarantine = io.write_parquet(table.filter(pa.array(~hits)), out / "quarantine" / Path(r["quarantine"]).name)
        new_results.append({**r, "cleansed": str(cleansed), "quarantine": str(quarantine)})
    files = dict(match_files)
    for name, columns in ((match_jobs.CROSSWALK_FILE, ("golden_id",)),
                          (match_jobs.PAIRS_FILE, ("record_key_l", "record_key_r")),
                          (match_jobs.REVIEW_FILE, ("record_key_l", "record_key_r")),
                          (match_jobs.HISTORY_FILE, ("golden_id", "successor_id"))):
        src = Path(match_files[name])
        for column in columns:
            dst = out / "match" / name
            drop = golden_ids if "golden_id" in column or column == "successor_id" else record_keys
            io.filter_parquet(src, dst, column, drop)
            src = dst
        files[name] = str(src)
    report = {
        "requests": keys.requests, "golden_ids": len(golden_ids), "records": len(record_keys),
        "quarantined_rows": quarantined, "hashes": erasure.request_hashes(keys, salt),
    }
    return {"results": new_results, "files": files, "report": report}
