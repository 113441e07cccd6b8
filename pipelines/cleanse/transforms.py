"""Pure transforms of the cleanse stage: raw source text in, cleansed records and quarantine out.

No I/O, no Prefect, no clock: ``as_of`` and the source configuration come in as arguments,
and inputs are never mutated. The three steps are

1. :func:`map_fields` - source columns to canonical fields, plus ``extra``/``raw`` JSON;
2. :func:`cleanse_fields` - every field kind through its rule module;
3. :func:`row_reasons` / :func:`duplicate_rows` / :func:`split_part` - quarantine rows with
   no id, no identity, junk, or an id already used by a newer row.

The flow runs step 2 on parts of a source in parallel worker processes, then the source-wide
duplicate rule. :func:`cleanse_source` chains everything in memory. Both guarantee
conservation: every input row (including malformed CSV lines) comes out exactly once,
either accepted or quarantined.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from pipelines.cleanse import addresses, company, dates, emails, flags, ids, junk, names, phones
from pipelines.cleanse.base import QC_CORRECTED, QC_INVALID, QC_SUSPICIOUS
from pipelines.config import Source
from pipelines.io import FILE_COL, LINE_COL, MalformedRecord
from pipelines.schema import (
    CLEANSED_CUSTOMERS, IDENTITY_FIELDS, MULTI_VALUE_FIELDS, MULTI_VALUE_SEPARATOR, QUARANTINE,
)

#: Quarantine reason codes (documented in README).
MALFORMED_LINE = "malformed_line"
BAD_ENCODING = "bad_encoding"
MISSING_SOURCE_ID = "missing_source_id"
DUPLICATE_SOURCE_ID = "duplicate_source_id"
NO_IDENTITY = "no_identity"

#: Raw mapped fields the junk rules look at.
JUNK_INPUT_FIELDS: tuple[str, ...] = ("full_name", "last_name", "first_name", "middle_name", "email", "phone",
                                      "company_name")
ADDRESS_PARTS: tuple[str, ...] = ("address", "postcode", "country", "region", "city", "street", "house", "flat")
_JOINERS = {"address": ", "}


@dataclass(frozen=True)
class CleanseResult:
    """Accepted records (CLEANSED_CUSTOMERS columns) and quarantined ones (QUARANTINE columns)."""

    accepted: pd.DataFrame
    quarantined: pd.DataFrame


def record_key(source: str, source_id: str) -> str:
    """The hub-wide key of a source record."""
    return f"{source}:{source_id}"


# --------------------------------------------------------------------------- mapping


def _join_columns(frame: pd.DataFrame, columns: list[str], separator: str) -> pd.Series:
    """Non-blank values of several columns, stripped and joined per row (None if all blank)."""
    parts = []
    for col in columns:
        text = pc.utf8_trim_whitespace(pa.array(frame[col].tolist(), type=pa.string(), from_pandas=True))
        parts.append(pc.if_else(pc.equal(text, ""), pa.scalar(None, pa.string()), text))
    if len(parts) == 1:
        return pd.Series(parts[0].to_pylist(), index=frame.index, dtype="object")
    # (pyarrow's binary_join_element_wise returns an empty array when every input is null)
    joined = [separator.join(v for v in row if v is not None) or None for row in zip(*(p.to_pylist() for p in parts))]
    return pd.Series(joined, index=frame.index, dtype="object")


def rows_to_json(frame: pd.DataFrame, columns: list[str]) -> pd.Series:
    """One JSON object per row with the given columns (values as text, nulls kept).

    Built by DuckDB's ``json_object``: ~7x faster than ``json.dumps`` per row.
    """
    if not columns:
        return pd.Series([None] * len(frame), index=frame.index, dtype="object")
    data = pd.DataFrame({f"c{i}": frame[c].astype("object") for i, c in enumerate(columns)})
    pairs = ", ".join(f"'{c.replace(chr(39), chr(39) * 2)}', c{i}" for i, c in enumerate(columns))
    con = duckdb.connect()
    try:
        con.register("data", data)
        result = con.sql(f"SELECT json_object({pairs}) AS j FROM data").to_arrow_table()
    finally:
        con.close()
    return pd.Series(result.column("j").to_pylist(), index=frame.index, dtype="object")


def map_fields(raw: pd.DataFrame, source: Source) -> pd.DataFrame:
    """Canonical text columns of a customers source, with provenance and JSON leftovers.

    Output columns: ``source_id``, ``file``, ``line``, one column per canonical field the
    source maps (several source columns are joined: phones and e-mails with ``"; "`` so all
    are kept), ``extra`` (JSON of unmapped columns) and ``raw`` (JSON of mapped columns as
    given). Values are stripped text or None.
    """
    out = pd.DataFrame(index=raw.index)
    out["source_id"] = _join_columns(raw, [source.id_column], "")
    out["file"] = raw[FILE_COL].astype("object")
    out["line"] = raw[LINE_COL].astype("int64")
    for field in source.fields:
        separator = MULTI_VALUE_SEPARATOR if field in MULTI_VALUE_FIELDS else _JOINERS.get(field, " ")
        out[field] = _join_columns(raw, source.columns_of(field), separator)
    if source.updated_at and "updated_at" not in source.fields:
        out["updated_at"] = _join_columns(raw, [source.updated_at], "")
    mapped = source.required_columns()
    unmapped = [c for c in raw.columns if c not in mapped and c not in (FILE_COL, LINE_COL)]
    out["extra"] = rows_to_json(raw, unmapped) if unmapped else None
    out["raw"] = rows_to_json(raw, mapped)
    return out


# --------------------------------------------------------------------------- cleansing


def _column(mapped: pd.DataFrame, field: str) -> pd.Series | None:
    return mapped[field] if field in mapped.columns else None


def _text_or_none(mapped: pd.DataFrame, field: str) -> pd.Series:
    if field in mapped.columns:
        return mapped[field]
    return pd.Series([None] * len(mapped), index=mapped.index, dtype="object")


def _merge_gender(named: pd.DataFrame, given: pd.DataFrame) -> pd.DataFrame:
    """Gender from the source's own field where usable, else from the name.

    A usable stated value (qc 0-2) wins, including a stated "other" (null gender): the name
    never overrides what the person said. A stated gender that contradicts the name's
    evidence is kept but flagged (qc 2). A gender filled in from the name has qc 1.
    """
    stated = given["gender"]
    derived = named["gender"]
    given_qc = given["qc_gender"].astype("Int8")
    stated_ok = (given_qc.notna() & (given_qc < QC_INVALID)).fillna(False).to_numpy(dtype=bool)
    gender = stated.where(stated_ok, derived)
    source = pd.Series(np.where(stated_ok, "source", named["gender_source"].to_numpy(dtype=object)),
                       index=named.index, dtype="object")
    filled = pd.Series(np.where(derived.notna(), QC_CORRECTED, pd.NA), index=named.index, dtype="Int8")
    qc = given_qc.where(stated_ok, filled.fillna(given_qc))
    conflict = stated_ok & stated.notna().to_numpy() & derived.notna().to_numpy() & (stated != derived).to_numpy()
    qc = qc.mask(conflict, QC_SUSPICIOUS)
    issues = pd.Series([list(v or []) + ["gender:conflicts_with_name"] if c else v
                        for v, c in zip(given["gender_issues"].tolist(), conflict)], index=named.index, dtype="object")
    return pd.DataFrame({"gender": gender, "gender_source": source, "qc_gender": qc, "gender_issues": issues})


def _combine_issues(frames: list[pd.DataFrame], index: pd.Index) -> pd.Series:
    """All ``*_issues`` list columns of the given frames concatenated per row (None if empty)."""
    lists = [col.tolist() for f in frames for name, col in f.items() if name.endswith("issues")]
    combined = []
    for row in zip(*lists) if lists else ([] for _ in range(len(index))):
        merged = [code for part in row if isinstance(part, (list, tuple, np.ndarray)) for code in part]
        combined.append(merged or None)
    return pd.Series(combined, index=index, dtype="object")


def cleanse_fields(mapped: pd.DataFrame, source: Source, default_country: str, as_of: date) -> pd.DataFrame:
    """Every canonical field through its rule; returns the cleansed columns of the schema.

    Provenance columns (``source``, ``record_key``, ...) are added by :func:`cleanse_source`.
    """
    idx = mapped.index
    name_parts = [_column(mapped, f) for f in ("full_name", "last_name", "first_name", "middle_name")]
    if all(p is None for p in name_parts):  # the source maps no name: all-null names, same index
        name_parts[0] = _text_or_none(mapped, "full_name")
    named = names.clean_names(*name_parts)
    gender = _merge_gender(named, flags.clean_gender_values(_text_or_none(mapped, "gender")))
    birth = dates.clean_birth_dates(_text_or_none(mapped, "birth_date"), source.date_format, as_of)
    created = dates.clean_timestamps(_text_or_none(mapped, "created_at"), source.date_format, kind="created_at")
    updated = dates.clean_timestamps(_text_or_none(mapped, "updated_at"), source.date_format, kind="updated_at")
    phone = phones.clean_phones(_text_or_none(mapped, "phone"), default_country)
    email = emails.clean_emails(_text_or_none(mapped, "email"))
    parts = pd.DataFrame({p: mapped[p] for p in ADDRESS_PARTS if p in mapped.columns}, index=idx)
    address = addresses.clean_addresses(parts, default_country)
    org = company.clean_company_names(_text_or_none(mapped, "company_name"))
    tax = ids.clean_tax_ids(_text_or_none(mapped, "tax_id"))
    national = ids.clean_national_ids(_text_or_none(mapped, "national_id"), default_country)
    consent = {f: flags.clean_booleans(_text_or_none(mapped, f), polarity=polarity)
               for f, polarity in (("consent_pd", "consent"), ("consent_marketing", "consent"),
                                   ("do_not_contact", "prohibition"))}
    qc_consent = pd.concat([c["qc"] for c in consent.values()], axis=1).max(axis=1, skipna=True).astype("Int8")
    consent_issues = pd.DataFrame({f"{f}_issues": c["issues"] for f, c in consent.items()}, index=idx)
    # Record timestamps have no qc column; only their real problems (qc >= 2) are worth an issue.
    date_issues = pd.DataFrame({f"{name}_issues": ts["issues"].where(ts["qc"].fillna(0).to_numpy() >= QC_SUSPICIOUS)
                                for name, ts in (("created", created), ("updated", updated))}, index=idx)

    out = pd.concat([
        named.drop(columns=["gender", "gender_source"]),
        gender,
        birth,
        phone,
        email,
        address,
        org,
        tax,
        national,
    ], axis=1)
    out["created_at"] = created["value"]
    out["updated_at"] = updated["value"]
    for f, c in consent.items():
        out[f] = c["value"]
    out["qc_consent"] = qc_consent
    out["issues"] = _combine_issues([named, gender, birth, phone, email, address, org, tax, national,
                                     consent_issues, date_issues], idx)
    return out.drop(columns=[c for c in out.columns if c.endswith("_issues")])


# --------------------------------------------------------------------------- selection


def _append_reason(reasons: list[list[str]], mask: np.ndarray, code: str) -> None:
    for i in np.flatnonzero(mask):
        reasons[i].append(code)


def row_reasons(mapped: pd.DataFrame, cleansed: pd.DataFrame) -> pd.Series:
    """Quarantine reasons that one row decides on its own (empty list = acceptable).

    ``missing_source_id``; ``no_identity`` (no name, phone, e-mail, tax or national id left
    after cleansing); and the junk rules of :mod:`pipelines.cleanse.junk` (``test_record``,
    ``junk_name``, ``spam``). Duplicate ids need the whole source: :func:`duplicate_rows`.
    """
    n = len(mapped)
    reasons: list[list[str]] = [[] for _ in range(n)]
    _append_reason(reasons, ~mapped["source_id"].notna().to_numpy(), MISSING_SOURCE_ID)
    identity = np.zeros(n, dtype=bool)
    for field in IDENTITY_FIELDS:
        if field in cleansed.columns:
            identity |= cleansed[field].notna().to_numpy()
    _append_reason(reasons, ~identity, NO_IDENTITY)
    junk_frame = pd.DataFrame({c: mapped[c] for c in JUNK_INPUT_FIELDS if c in mapped.columns}, index=mapped.index)
    for i, codes in enumerate(junk.junk_reasons(junk_frame).tolist()):
        if codes:
            reasons[i].extend(codes)
    return pd.Series(reasons, index=mapped.index, dtype="object")


def assemble_part(mapped: pd.DataFrame, cleansed: pd.DataFrame, source: Source) -> pd.DataFrame:
    """Cleansed columns in schema order plus provenance and the row's own ``reasons``.

    This is what a cleanse worker writes for a slice of a source; :func:`split_part` turns
    it into accepted and quarantined rows once duplicates across the source are known.
    """
    part = cleansed.copy()
    part["source"] = source.name
    part["source_id"] = mapped["source_id"]
    part["record_key"] = [None if s is None else record_key(source.name, s) for s in mapped["source_id"]]
    part["row_hash"] = _row_hash(mapped["raw"])
    for col in ("file", "line", "extra", "raw"):
        part[col] = mapped[col]
    part = part[list(CLEANSED_CUSTOMERS.names)].reset_index(drop=True)
    part["reasons"] = row_reasons(mapped, cleansed).reset_index(drop=True)
    return part


def duplicate_rows(keys: pd.DataFrame) -> pd.Series:
    """Rows that lose to another row with the same source id: position -> detail text.

    ``keys`` holds ``source_id``, ``updated_at``, ``file`` and ``line`` of every row of a
    source (in any order, any number of parts). The newest row by ``updated_at`` wins,
    then the later file and line; rows without an id are never duplicates.
    """
    order = pd.DataFrame({
        "sid": keys["source_id"].to_numpy(dtype=object),
        "ts": pd.to_datetime(keys["updated_at"]).to_numpy(),
        "file": keys["file"].to_numpy(dtype=object),
        "line": keys["line"].to_numpy(),
        "pos": np.arange(len(keys)),
    })
    order = order[pd.notna(order["sid"])]
    order = order.sort_values(["sid", "ts", "file", "line"], ascending=[True, False, False, False],
                              na_position="last", kind="stable")
    dup = order.duplicated("sid", keep="first").to_numpy()
    winner_line = order[~dup].set_index("sid")["line"]
    losers = order[dup]
    detail = [f"source id repeated; kept the newer row at line {int(winner_line.at[sid])}" for sid in losers["sid"]]
    return pd.Series(detail, index=losers["pos"].to_numpy(), dtype="object").sort_index()


def split_part(part: pd.DataFrame, duplicates: pd.Series) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Accepted rows (CLEANSED_CUSTOMERS) and quarantined rows (QUARANTINE) of one part.

    ``duplicates`` maps row positions *within this part* to the duplicate detail text.
    A quarantined row's ``raw`` is the whole original row: mapped and unmapped columns.
    """
    rejected = _rejected(part["reasons"], duplicates)
    accepted = part.loc[~rejected, list(CLEANSED_CUSTOMERS.names)].reset_index(drop=True)
    rej = part.loc[rejected, list(_QUARANTINE_INPUTS)]
    return accepted, _quarantine_rows({c: rej[c].tolist() for c in _QUARANTINE_INPUTS},
                                      np.flatnonzero(rejected), duplicates)


def split_part_table(part: pa.Table, duplicates: pd.Series) -> tuple[pa.Table, pd.DataFrame]:
    """:func:`split_part` on an Arrow table: accepted rows stay Arrow (no pandas round trip).

    Same guarantees and the same rows as :func:`split_part`.
    """
    has_reason = pc.fill_null(pc.greater(pc.list_value_length(part["reasons"]), 0), False)
    rejected = has_reason.to_numpy(zero_copy_only=False).copy()
    rejected[duplicates.index.to_numpy(dtype=np.int64)] = True
    accepted = part.filter(pa.array(~rejected)).select(list(CLEANSED_CUSTOMERS.names))
    rej = part.filter(pa.array(rejected)).select(list(_QUARANTINE_INPUTS))
    return accepted, _quarantine_rows({c: rej[c].to_pylist() for c in _QUARANTINE_INPUTS},
                                      np.flatnonzero(rejected), duplicates)


_QUARANTINE_INPUTS = ("source", "source_id", "reasons", "file", "line", "raw", "extra")


def _rejected(reasons: pd.Series, duplicates: pd.Series) -> np.ndarray:
    rejected = np.fromiter((bool(r) for r in reasons), dtype=bool, count=len(reasons))
    rejected[duplicates.index.to_numpy(dtype=np.int64)] = True
    return rejected


def _quarantine_rows(rej: dict[str, list], positions: np.ndarray, duplicates: pd.Series) -> pd.DataFrame:
    """QUARANTINE rows for the rejected rows ``rej`` found at ``positions`` of their part."""
    reasons = [list(r or ()) for r in rej["reasons"]]
    detail: list[str | None] = [None] * len(positions)
    for i, pos in enumerate(positions):
        text = duplicates.get(pos)
        if text is not None:
            reasons[i].append(DUPLICATE_SOURCE_ID)
            detail[i] = text
    return pd.DataFrame({
        "source": pd.Series(rej["source"], dtype=object),
        "source_id": pd.Series(rej["source_id"], dtype=object),
        "reasons": pd.Series(reasons, dtype=object),
        "detail": pd.Series(detail, dtype=object),
        "file": pd.Series(rej["file"], dtype=object),
        "line": pd.Series(rej["line"], dtype="Int64"),
        "raw": pd.Series([_merge_json(r, e) for r, e in zip(rej["raw"], rej["extra"])], dtype=object),
    }, columns=list(QUARANTINE.names))


def _merge_json(raw: str | None, extra: str | None) -> str:
    """One JSON object with the mapped columns, then the unmapped ones."""
    merged = json.loads(raw) if raw else {}
    if extra:
        merged.update(json.loads(extra))
    return json.dumps(merged, ensure_ascii=False)


def malformed_quarantine(source: Source, malformed: list[MalformedRecord]) -> pd.DataFrame:
    """Quarantine rows for CSV records that could not be parsed (``malformed_line``, ``bad_encoding``)."""
    rows = []
    for m in malformed:
        code = BAD_ENCODING if m.detail.startswith("bytes not valid") else MALFORMED_LINE
        rows.append({
            "source": source.name, "source_id": None, "reasons": [code],
            "detail": f"line {m.line}: {m.detail}", "file": m.file, "line": m.line,
            "raw": json.dumps({"line_text": m.text}, ensure_ascii=False),
        })
    return pd.DataFrame(rows, columns=list(QUARANTINE.names))


def cleanse_source(raw: pd.DataFrame, malformed: list[MalformedRecord], source: Source,
                   default_country: str, as_of: date) -> CleanseResult:
    """Raw text of one customers source to accepted and quarantined records, in memory.

    The flow runs the same steps on parts of a source in worker processes; this is the
    one-piece composition (tests, benchmarks). Guarantees: ``len(accepted) +
    len(quarantined) == len(raw) + len(malformed)``; accepted records have unique
    ``source_id``; every quarantined row has at least one reason.
    """
    mapped = map_fields(raw, source)
    part = assemble_part(mapped, cleanse_fields(mapped, source, default_country, as_of), source)
    accepted, quarantined = split_part(part, duplicate_rows(part))
    quarantined = pd.concat([quarantined, malformed_quarantine(source, malformed)], ignore_index=True)
    return CleanseResult(accepted=accepted, quarantined=quarantined)


def _row_hash(raw_json: pd.Series) -> list[str]:
    """Content hash of a record's mapped source values (reused by incremental runs)."""
    con = duckdb.connect()
    try:
        con.register("r", pd.DataFrame({"raw": raw_json.astype("object")}))
        return con.sql("SELECT md5(raw) AS h FROM r").to_arrow_table().column("h").to_pylist()
    finally:
        con.close()
