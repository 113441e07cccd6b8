"""Write the demo sources, their ground truth and ``hub.yml`` (see the package docstring)."""

from __future__ import annotations

import csv
import gc
import io
import json
import random
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from pipelines.demo.messiness import Messiness
from pipelines.demo.orders import build_orders
from pipelines.demo.population import AS_OF, PopulationShape, build_population, object_frame
from pipelines.demo.sources import SourceRows, build_billing, build_crm, build_loyalty, build_web
from pipelines.demo.tables import load_tables

SOURCES = ("crm", "web", "loyalty", "billing", "shop")


@dataclass(frozen=True)
class DemoResult:
    """What :func:`generate_demo` wrote."""

    config: Path                              # hub.yml
    sources: dict[str, tuple[Path, ...]]      # source name -> its files
    rows: dict[str, int]                      # source name -> data rows (orders for shop)
    truth: Path                               # truth/entities.parquet
    customers: int
    seed: int


def generate_demo(
    out_dir: Path,
    customers: int = 5000,
    seed: int = 42,
    messiness: Messiness | None = None,
    shape: PopulationShape | None = None,
) -> DemoResult:
    """Generate ``customers`` persons seen through five sources under ``out_dir``.

    Deterministic: the same arguments give byte-identical files. Writes
    ``sources/<source>/...``, ``truth/entities.parquet`` (one row per customer-source row,
    including rows that should be quarantined), ``truth/persons.parquet``,
    ``truth/organisations.parquet`` and ``hub.yml``. Existing files of these sources are
    replaced; nothing else in ``out_dir`` is touched.
    """
    if customers < 1:
        raise ValueError("customers must be >= 1")
    out_dir = Path(out_dir)
    m = messiness or Messiness()
    t = load_tables()
    pop = build_population(customers, seed, shape)
    truth_dir = out_dir / "truth"
    truth_dir.mkdir(parents=True, exist_ok=True)
    _write_parquet(_persons_truth(pop, t), truth_dir / "persons.parquet", {"birth_date": pa.date32()})
    _write_parquet(_orgs_truth(pop, t), truth_dir / "organisations.parquet", {})
    src_root = out_dir / "sources"
    for name in SOURCES:
        d = src_root / name
        if d.exists():
            shutil.rmtree(d)
        d.mkdir(parents=True)
    files: dict[str, tuple[Path, ...]] = {}
    rows: dict[str, int] = {}
    truths: list[pa.Table] = []
    # build, write and drop one source at a time: peak memory stays near one source
    for build in (build_crm, build_web, build_loyalty, build_billing):
        built = build(pop, t, m, seed)
        if built.name == "crm":
            ids = built.frame["Код клиента"].to_numpy(dtype=object)
            first = ~pd.Series(ids).duplicated().to_numpy() & built.truth["entity_id"].notna().to_numpy()
            crm_ids, crm_created = ids[first], built.extra["created"][first]
        written, truth = _WRITERS[built.name](built, src_root / built.name, seed)
        files[built.name] = written
        rows[built.name] = len(built.frame)
        rel = {f: Path(f).relative_to(out_dir).as_posix() for f in truth["file"].unique()}
        truth["file"] = truth["file"].map(rel).astype(object)
        truths.append(_arrow(truth[_TRUTH_COLUMNS], {"record_no": pa.int64()}))  # compact until written
        del built, written, truth
        gc.collect()  # pandas frames hold reference cycles: free each source before the next
    del pop
    orders = build_orders(crm_ids, crm_created, seed, m)
    shop_path = src_root / "shop" / "orders.parquet"
    _write_parquet(orders, shop_path, {"order_date": pa.timestamp("ms"), "amount": pa.float64()})
    files["shop"] = (shop_path,)
    rows["shop"] = len(orders)
    del orders
    truth_path = truth_dir / "entities.parquet"
    pq.write_table(pa.concat_tables(truths), truth_path, compression="zstd", write_statistics=True)
    config = out_dir / "hub.yml"
    config.write_text(_hub_yml(customers, seed), encoding="utf-8")
    return DemoResult(config=config, sources=files, rows=rows, truth=truth_path, customers=customers, seed=seed)


# ---------------------------------------------------------------- writers


_CHUNK = 50_000


def _chunks(frame: pd.DataFrame, idx: np.ndarray | None = None):
    """Rows as lists of strings ("" for missing), a chunk at a time (bounded memory)."""
    idx = np.arange(len(frame)) if idx is None else idx
    for a in range(0, len(idx), _CHUNK):
        values = frame.iloc[idx[a:a + _CHUNK]].to_numpy(dtype=object)
        yield a, [["" if not isinstance(v, str) else v for v in row] for row in values]


def _quote(cell: str, delimiter: str) -> str:
    if any(ch in cell for ch in (delimiter, '"', "\n", "\r")):
        return '"' + cell.replace('"', '""') + '"'
    return cell


def _truth_with_file(truth: pd.DataFrame, path: Path, record_no: np.ndarray) -> pd.DataFrame:
    out = truth.copy()
    out["file"] = str(path)
    out["record_no"] = record_no
    return out


def _write_csv(path: Path, frame: pd.DataFrame, delimiter: str, newline: str, encoding: str,
               idx: np.ndarray | None = None, bom: bool = False, line_hook=None) -> None:
    """Header plus rows, minimal quoting, written and encoded chunk by chunk.

    ``line_hook(row_number, cells)`` may return a raw line to write instead of the row."""
    with open(path, "wb") as f:
        if bom:
            f.write("\ufeff".encode(encoding))
        buf = io.StringIO()
        w = csv.writer(buf, delimiter=delimiter, quoting=csv.QUOTE_MINIMAL, lineterminator=newline)
        w.writerow(list(frame.columns))
        for start, rows in _chunks(frame, idx):
            if line_hook is None:
                w.writerows(rows)
            else:
                for j, cells in enumerate(rows):
                    raw = line_hook(start + j, cells)
                    if raw is None:
                        w.writerow(cells)
                    else:
                        buf.write(raw + newline)
            f.write(buf.getvalue().encode(encoding, errors="replace"))
            buf.seek(0)
            buf.truncate()


def _write_crm(rows: SourceRows, folder: Path, seed: int) -> tuple[tuple[Path, ...], pd.DataFrame]:
    """cp1251, ";" separated, CRLF, minimal quoting; broken lines written as 1C would.

    Characters cp1251 lacks (ü, é, ł) become "?", as in a real 1C export."""
    path = folder / "crm_clients.csv"
    r = random.Random(f"{seed}:crm-writer")
    addr_col = list(rows.frame.columns).index("Адрес")
    broken = rows.broken if rows.broken is not None else np.zeros(len(rows.frame), dtype=np.int8)

    def hook(i: int, cells: list[str]) -> str | None:
        b = broken[i]
        if b == 0:
            return None
        if b == 1:  # a ";" typed inside the address and exported unquoted
            addr = cells[addr_col]
            cells[addr_col] = addr.replace(", ", "; ", 1) if ", " in addr else addr + "; кв."
            return ";".join(c if j == addr_col else _quote(c, ";") for j, c in enumerate(cells))
        k = r.randrange(3, len(cells) - 2)  # the line is cut short
        return ";".join(_quote(c, ";") for c in cells[:k])

    _write_csv(path, rows.frame, ";", "\r\n", "cp1251", line_hook=hook)
    return (path,), _truth_with_file(rows.truth, path, np.arange(1, len(rows.frame) + 1))


def _write_web(rows: SourceRows, folder: Path, seed: int) -> tuple[tuple[Path, ...], pd.DataFrame]:
    """UTF-8, "," separated, one file per year of the lead."""
    paths = []
    truths = []
    keys = rows.file_key
    for year in sorted(set(keys)):
        idx = np.flatnonzero(keys == year)
        path = folder / f"leads_{year}.csv"
        _write_csv(path, rows.frame, ",", "\n", "utf-8", idx=idx)
        paths.append(path)
        truths.append(_truth_with_file(rows.truth.iloc[idx], path, np.arange(1, len(idx) + 1)))
    return tuple(paths), pd.concat(truths, ignore_index=True)


def _write_loyalty(rows: SourceRows, folder: Path, seed: int) -> tuple[tuple[Path, ...], pd.DataFrame]:
    """Parquet, every column a string."""
    path = folder / "loyalty_cards.parquet"
    _write_parquet(rows.frame, path, {})
    return (path,), _truth_with_file(rows.truth, path, np.arange(1, len(rows.frame) + 1))


def _write_billing(rows: SourceRows, folder: Path, seed: int) -> tuple[tuple[Path, ...], pd.DataFrame]:
    """UTF-8 with BOM, TAB separated, CRLF."""
    path = folder / "billing_accounts.tsv"
    _write_csv(path, rows.frame, "\t", "\r\n", "utf-8", bom=True)
    return (path,), _truth_with_file(rows.truth, path, np.arange(1, len(rows.frame) + 1))


_WRITERS = {"crm": _write_crm, "web": _write_web, "loyalty": _write_loyalty, "billing": _write_billing}


_TRUTH_COLUMNS = ["source", "source_id", "entity_id", "household_id", "organisation_id", "note", "file", "record_no"]


def _arrow(frame, types: dict[str, pa.DataType]) -> pa.Table:
    """A frame or a dict of arrays as an Arrow table: strings as ``string``, no pandas metadata."""
    arrays = []
    names = list(frame.columns) if isinstance(frame, pd.DataFrame) else list(frame)
    for col in names:
        values = np.asarray(frame[col])
        if col in types:
            arrays.append(pa.array(values, type=types[col], from_pandas=True))
        elif values.dtype == bool:
            arrays.append(pa.array(values, type=pa.bool_()))
        else:
            arrays.append(pa.array(values.astype(object), type=pa.string(), from_pandas=True))
    return pa.Table.from_arrays(arrays, names=names)


def _write_parquet(frame, path: Path, types: dict[str, pa.DataType]) -> None:
    """Write a frame or a dict of arrays as Parquet (deterministic bytes)."""
    pq.write_table(_arrow(frame, types), path, compression="zstd", write_statistics=True)


# ---------------------------------------------------------------- truth tables


def _persons_truth(pop, t) -> dict[str, np.ndarray]:
    p = pop.persons
    cities = np.array([c.name for c in t.cities], dtype=object)
    regions = np.array([c.region for c in t.cities], dtype=object)
    streets = np.array([s.replace("|", " ") for s in t.streets], dtype=object)
    cols = ["entity_id", "household_id", "household_type", "role", "group", "country", "gender", "last_name",
            "first_name", "middle_name", "maiden_name", "mobile", "landline", "email", "postcode", "house", "korpus",
            "flat", "inn", "passport", "consent_marketing", "do_not_contact", "namesake", "twin", "shared_phone",
            "shared_email"]
    out = {c: p[c] for c in cols}
    out.update({
        "birth_date": p["birth_date"].astype("datetime64[D]"), "mobile_previous": p["mobile_prev"],
        "email_previous": p["email_prev"], "region": regions[p["city"]], "city": cities[p["city"]],
        "street": streets[p["street"]], "organisation_id": p["org_id"],
    })
    return out


def _orgs_truth(pop, t) -> pd.DataFrame:
    o = pop.orgs
    return object_frame({
        "organisation_id": o["organisation_id"], "kind": o["kind"], "legal_form": o["legal_form"],
        "name": o["name"], "inn": o["inn"], "kpp": o["kpp"],
        "city": [t.cities[c].name for c in o["city"].to_numpy()], "postcode": o["postcode"],
        "phone": o["phone"], "domain": o["domain"],
    })


# ---------------------------------------------------------------- hub.yml


def _q(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


def _fields(mapping: dict[str, str | list[str]]) -> str:
    lines = []
    for k, v in mapping.items():
        val = "[" + ", ".join(_q(x) for x in v) + "]" if isinstance(v, list) else _q(v)
        lines.append(f"      {k}: {val}")
    return "\n".join(lines)


def _hub_yml(customers: int, seed: int) -> str:
    crm = {
        "full_name": "ФИО", "birth_date": "Дата рождения", "gender": "Пол", "phone": ["Телефон", "Моб. телефон"],
        "email": "Email", "address": "Адрес", "consent_marketing": "Согласие на рассылку",
        "created_at": "Дата создания", "updated_at": "Дата изменения",
    }
    web = {
        "full_name": "name", "phone": "phone", "email": "email", "city": "city", "consent_pd": "consent",
        "consent_marketing": "subscribe", "created_at": "created_at",
    }
    loyalty = {
        "last_name": "last_name", "first_name": "first_name", "middle_name": "middle_name", "gender": "sex",
        "birth_date": "birth_date", "phone": "phone", "email": "email", "postcode": "postcode", "city": "city",
        "street": "street", "house": "house", "flat": "flat", "consent_pd": "consent_pd",
        "consent_marketing": "subscribed", "do_not_contact": "do_not_contact", "created_at": "registered",
        "updated_at": "updated",
    }
    billing = {
        "full_name": "contact_name", "company_name": "company", "tax_id": "inn", "national_id": "passport",
        "address": "address", "phone": "phone", "email": "email", "created_at": "created", "updated_at": "updated",
    }
    shop = {
        "order_id": "order_id", "customer_id": "customer_id", "order_date": "order_date", "amount": "amount",
        "currency": "currency", "channel": "channel", "status": "status",
    }
    return f"""# Demo configuration written by pipelines.demo ({customers} customers, seed {seed}).
# Paths are relative to this file. Ground truth lives in truth/ and is never read by the hub.
hub:
  out: hub
  default_country: RU
  as_of: {_q(str(AS_OF))}
sources:
  - name: crm
    kind: customers
    path: sources/crm/*.csv
    format: csv
    encoding: cp1251
    delimiter: ";"
    id: {_q("Код клиента")}
    trust: 0.9
    updated_at: {_q("Дата изменения")}
    date_format: null        # dd.mm.yyyy dates, "dd.mm.yyyy HH:MM:SS" modification times
    fields:
{_fields(crm)}
    # unmapped, kept in `extra`: Менеджер, Комментарий
  - name: web
    kind: customers
    path: sources/web/*.csv
    format: csv
    encoding: utf-8
    delimiter: ","
    id: lead_id
    trust: 0.5
    updated_at: created_at
    date_format: null        # ISO 8601 timestamps with +03:00
    fields:
{_fields(web)}
    # unmapped, kept in `extra`: utm_source, utm_medium, utm_campaign, page, message
  - name: loyalty
    kind: customers
    path: sources/loyalty/*.parquet
    format: parquet
    id: card_no
    trust: 0.8
    updated_at: updated
    date_format: "%Y%m%d"
    fields:
{_fields(loyalty)}
    # unmapped, kept in `extra`: card_level, store_id, bonus_balance
  - name: billing
    kind: customers
    path: sources/billing/*.tsv
    format: csv
    encoding: auto           # UTF-8 with BOM
    delimiter: "\\t"
    id: account
    trust: 0.85
    updated_at: updated
    date_format: null        # created/updated are Excel serial numbers (1900 system, "44927", "45598.4375")
    fields:
{_fields(billing)}
    # unmapped, kept in `extra`: type (ФЛ/ЮЛ/ИП), kpp, tariff, balance
  - name: shop
    kind: orders
    path: sources/shop/*.parquet
    format: parquet
    id: order_id
    customer_source: crm
    fields:
{_fields(shop)}
    # unmapped, kept in `extra`: promo_code
"""
