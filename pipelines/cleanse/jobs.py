"""File-to-file jobs of the cleanse stage, run in worker processes (see :mod:`pipelines.parallel`).

Each job reads its inputs through :mod:`pipelines.io`, applies the pure transforms of
:mod:`pipelines.cleanse.transforms`, writes Parquet, and returns only paths and counts.
Jobs take plain arguments (strings, dates) so they can cross a process boundary, and they
import nothing from Prefect: workers must stay light.

For one customers source the chain is::

    ingest_job     source files -> mapped parts (+ malformed lines as quarantine rows)
    cleanse_job    one mapped part -> one cleansed part (with each row's own reasons)
    finalize_job   all cleansed parts -> accepted file + quarantine file (duplicate ids)
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict
from datetime import date
from pathlib import Path
from time import perf_counter
from typing import Any

import pandas as pd

from pipelines import io
from pipelines.cleanse import transforms
from pipelines.config import load_config
from pipelines.schema import CLEANSED_CUSTOMERS, QUARANTINE

KEY_COLUMNS = ["source_id", "updated_at", "file", "line"]


def warm_up() -> None:
    """Load every rule module's dictionaries (a worker pays this once, not per part)."""
    from pipelines.cleanse import names

    names.clean_names(pd.Series(["Иванов Иван Иванович", "John Smith"], dtype="object"), None, None, None)


def ingest_job(config_path: str, source_name: str, folder: str, rows_per_part: int) -> dict[str, Any]:
    """Read a source, map its columns, write mapped parts and its malformed lines."""
    config = load_config(config_path)
    source = config.source(source_name)
    out = Path(folder)
    t0 = perf_counter()
    raw = io.read_source(config, source)
    read_s = perf_counter() - t0
    t0 = perf_counter()
    mapped = transforms.map_fields(raw.frame, source)
    parts = io.write_parts(mapped, out / "mapped" / source.name, rows_per_part)
    malformed = io.write_parquet(transforms.malformed_quarantine(source, raw.malformed),
                                 out / "quarantine" / f"{source.name}.malformed.parquet", QUARANTINE)
    return {
        "source": source.name, "parts": [str(p) for p in parts], "malformed": str(malformed),
        "rows_in": len(raw.frame) + len(raw.malformed), "files": [asdict(f) for f in raw.files],
        "timings": {"read": read_s, "map": perf_counter() - t0},
    }


def cleanse_job(config_path: str, source_name: str, mapped_path: str, out_path: str, as_of: date) -> dict[str, Any]:
    """Cleanse one mapped part and write it with each row's own quarantine reasons."""
    config = load_config(config_path)
    source = config.source(source_name)
    t0 = perf_counter()
    mapped = io.read_frame(Path(mapped_path))
    cleansed = transforms.cleanse_fields(mapped, source, config.hub.default_country, as_of)
    part = transforms.assemble_part(mapped, cleansed, source)
    io.write_parquet(part, Path(out_path), PART_SCHEMA)
    return {"path": out_path, "rows": len(part), "seconds": perf_counter() - t0}


def finalize_job(source_name: str, part_paths: list[str], malformed_path: str, folder: str) -> dict[str, Any]:
    """Apply the source-wide duplicate rule and stream parts into accepted and quarantine files."""
    t0 = perf_counter()
    out = Path(folder)
    keys = [io.read_frame(Path(p), columns=KEY_COLUMNS) for p in part_paths]
    sizes = [len(k) for k in keys]
    all_keys = pd.concat(keys, ignore_index=True) if keys else pd.DataFrame(columns=KEY_COLUMNS)
    duplicates = transforms.duplicate_rows(all_keys)
    reasons: Counter[str] = Counter()
    cleansed_path = out / "cleansed" / f"{source_name}.parquet"
    quarantine_path = out / "quarantine" / f"{source_name}.parquet"
    with io.ParquetSink(cleansed_path, CLEANSED_CUSTOMERS) as accepted_sink, \
            io.ParquetSink(quarantine_path, QUARANTINE) as quarantine_sink:
        offset = 0
        for path, size in zip(part_paths, sizes):
            local = duplicates[(duplicates.index >= offset) & (duplicates.index < offset + size)]
            local.index = local.index - offset
            accepted, quarantined = transforms.split_part_table(io.read_table(Path(path)), local)
            accepted_sink.write(accepted)
            quarantine_sink.write(quarantined)
            reasons.update(code for codes in quarantined["reasons"] for code in codes)
            offset += size
        malformed = io.read_frame(Path(malformed_path))
        quarantine_sink.write(malformed)
        reasons.update(code for codes in malformed["reasons"] for code in codes)
    return {
        "source": source_name, "cleansed": str(cleansed_path), "quarantine": str(quarantine_path),
        "accepted": accepted_sink.rows, "quarantined": quarantine_sink.rows,
        "reasons": dict(sorted(reasons.items())), "seconds": perf_counter() - t0,
    }


def _part_schema():
    import pyarrow as pa

    return pa.schema([*CLEANSED_CUSTOMERS, pa.field("reasons", pa.list_(pa.string()))])


PART_SCHEMA = _part_schema()
