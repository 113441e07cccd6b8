"""Pure transforms of the cleanse stage: raw source text in, cleansed records and quarantine out.

No I/O, no Prefect, no clock: ``as_of`` and the source configuration come in as arguments,
and inputs are never mutated. The three steps are

1. :func:`map_fields` - source columns to canonical fields, plus ``extra``/``raw`` JSON;
2. :func:`cleanse_fields` - every field kind through its rule module;
3. :func:`select_records` - quarantine rows with no id, duplicate ids, no identity, or junk.

:func:`cleanse_source` chains them and guarantees conservation: every input row (including
malformed CSV lines) comes out exactly once, either accepted or quarantined.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import duckdb
import numpy as np
import pandas as pd

from pipelines.cleanse import addresses, company, dates, emails, flags, ids, junk, names, phones
from pipelines.cleanse.base import QC_CORRECTED, QC_SUSPICIOUS, blank_to_none
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
    """Non-blank values of several columns joined into one text per row (None if all blank)."""
    if len(columns) == 1:
        return frame[columns[0]].map(blank_to_none)
    parts = [frame[c].map(blank_to_none).tolist() for c in columns]
    joined = [separator.join(v for v in row if v is not None) or None for row in zip(*parts)]
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
    out["source_id"] = raw[source.id_column].map(blank_to_none)
    out["file"] = raw[FILE_COL].astype("object")
    out["line"] = raw[LINE_COL].astype("int64")
    for field in source.fields:
        separator = MULTI_VALUE_SEPARATOR if field in MULTI_VALUE_FIELDS else _JOINERS.get(field, " ")
        out[field] = _join_columns(raw, source.columns_of(field), separator)
    if source.updated_at and "updated_at" not in source.fields:
        out["updated_at"] = raw[source.updated_at].map(blank_to_none)
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
    """Gender from the source's own field where valid, else from the name.

    A stated gender that contradicts the name's evidence is kept but flagged (qc 2).
    """
    stated = given["gender"]
    derived = named["gender"]
    has_stated = stated.notna()
    gender = stated.where(has_stated, derived)
    source = pd.Series(np.where(has_stated, "source", None), index=named.index, dtype="object")
    source = source.where(has_stated, named["gender_source"])
    qc = given["qc_gender"].astype("Int8")
    qc = qc.where(has_stated | given["qc_gender"].notna(), pd.Series(np.where(derived.notna(), QC_CORRECTED, pd.NA),
                                                                     index=named.index, dtype="Int8"))
    conflict = has_stated & derived.notna() & (stated != derived)
    qc = qc.mask(conflict, QC_SUSPICIOUS)
    issues = given["gender_issues"].copy()
    issues[conflict] = [list(v or []) + ["gender:conflicts_with_name"] for v in issues[conflict]]
    return pd.DataFrame({"gender": gender, "gender_source": source, "qc_gender": qc, "gender_issues": issues})


def _combine_issues(frames: list[pd.DataFrame], index: pd.Index) -> pd.Series:
    """All ``*_issues`` list columns of the given frames concatenated per row (None if empty)."""
    lists = [col.tolist() for f in frames for name, col in f.items() if name.endswith("issues")]
    combined = []
    for row in zip(*lists) if lists else ([] for _ in range(len(index))):
        merged = [code for part in row if part is not None for code in part]
        combined.append(merged or None)
    return pd.Series(combined, index=index, dtype="object")


def cleanse_fields(mapped: pd.DataFrame, source: Source, default_country: str, as_of: date) -> pd.DataFrame:
    """Every canonical field through its rule; returns the cleansed columns of the schema.

    Provenance columns (``source``, ``record_key``, ...) are added by :func:`cleanse_source`.
    """
    idx = mapped.index
    named = names.clean_names(_column(mapped, "full_name"), _column(mapped, "last_name"),
                              _column(mapped, "first_name"), _column(mapped, "middle_name"))
    gender = _merge_gender(named, flags.clean_gender_values(_text_or_none(mapped, "gender")))
    birth = dates.clean_birth_dates(_text_or_none(mapped, "birth_date"), source.date_format, as_of)
    created = dates.clean_timestamps(_text_or_none(mapped, "created_at"), source.date_format)
    updated = dates.clean_timestamps(_text_or_none(mapped, "updated_at"), source.date_format)
    phone = phones.clean_phones(_text_or_none(mapped, "phone"), default_country)
    email = emails.clean_emails(_text_or_none(mapped, "email"))
    parts = pd.DataFrame({p: mapped[p] for p in ADDRESS_PARTS if p in mapped.columns}, index=idx)
    address = addresses.clean_addresses(parts, default_country)
    org = company.clean_company_names(_text_or_none(mapped, "company_name"))
    tax = ids.clean_tax_ids(_text_or_none(mapped, "tax_id"))
    national = ids.clean_national_ids(_text_or_none(mapped, "national_id"), default_country)
    consent = {f: flags.clean_booleans(_text_or_none(mapped, f)) for f in ("consent_pd", "consent_marketing",
                                                                            "do_not_contact")}
    qc_consent = pd.concat([c["qc"] for c in consent.values()], axis=1).max(axis=1, skipna=True).astype("Int8")
    consent_issues = pd.DataFrame({f"{f}_issues": c["issues"] for f, c in consent.items()}, index=idx)
    date_issues = pd.DataFrame({"created_issues": created["issues"], "updated_issues": updated["issues"]}, index=idx)

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


def select_records(mapped: pd.DataFrame, cleansed: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """Quarantine reasons per row (empty list = accepted) and a detail text per row.

    Rules, all reported (a row may have several reasons):
    ``missing_source_id``; ``duplicate_source_id`` (the newest row by ``updated_at`` wins,
    then the later line); ``no_identity`` (no name, phone, e-mail, tax or national id left
    after cleansing); and the junk rules of :mod:`pipelines.cleanse.junk`
    (``test_record``, ``junk_name``, ``spam``).
    """
    n = len(mapped)
    reasons: list[list[str]] = [[] for _ in range(n)]
    detail: list[str | None] = [None] * n
    has_id = mapped["source_id"].notna().to_numpy()
    _append_reason(reasons, ~has_id, MISSING_SOURCE_ID)

    order = pd.DataFrame({
        "sid": mapped["source_id"].to_numpy(),
        "ts": pd.to_datetime(cleansed["updated_at"]).to_numpy(),
        "file": mapped["file"].to_numpy(),
        "line": mapped["line"].to_numpy(),
        "pos": np.arange(n),
    })[has_id]
    order = order.sort_values(["sid", "ts", "file", "line"], ascending=[True, False, False, False],
                              na_position="last", kind="stable")
    dup = order.duplicated("sid", keep="first")
    winners = order[~dup].set_index("sid")
    for pos, sid in zip(order.loc[dup, "pos"], order.loc[dup, "sid"]):
        reasons[pos].append(DUPLICATE_SOURCE_ID)
        detail[pos] = f"source id repeated; kept the newer row at line {int(winners.at[sid, 'line'])}"

    identity = np.zeros(n, dtype=bool)
    for field in IDENTITY_FIELDS:
        if field in cleansed.columns:
            identity |= cleansed[field].notna().to_numpy()
    _append_reason(reasons, ~identity, NO_IDENTITY)

    junk_frame = pd.DataFrame({c: mapped[c] for c in JUNK_INPUT_FIELDS if c in mapped.columns}, index=mapped.index)
    for i, codes in enumerate(junk.junk_reasons(junk_frame).tolist()):
        if codes:
            reasons[i].extend(codes)
    return pd.Series(reasons, index=mapped.index), pd.Series(detail, index=mapped.index, dtype="object")


def malformed_quarantine(source: Source, malformed: list[MalformedRecord]) -> pd.DataFrame:
    """Quarantine rows for CSV records that could not be parsed (reason ``malformed_line``)."""
    rows = []
    for m in malformed:
        code = BAD_ENCODING if m.detail.startswith("bytes not valid") else MALFORMED_LINE
        rows.append({
            "source": source.name, "source_id": None, "reasons": [code],
            "detail": f"line {m.line}: {m.detail}", "file": m.file, "line": m.line, "text": m.text,
        })
    frame = pd.DataFrame(rows, columns=["source", "source_id", "reasons", "detail", "file", "line", "text"])
    frame["raw"] = rows_to_json(frame.rename(columns={"text": "line_text"}), ["line_text"]) if rows else []
    return frame.drop(columns=["text"])[list(QUARANTINE.names)]


def cleanse_source(raw: pd.DataFrame, malformed: list[MalformedRecord], source: Source,
                   default_country: str, as_of: date) -> CleanseResult:
    """Raw text of one customers source to accepted and quarantined records.

    Guarantees: ``len(accepted) + len(quarantined) == len(raw) + len(malformed)``; accepted
    records have unique ``source_id``; every quarantined row has at least one reason.
    """
    mapped = map_fields(raw, source)
    cleansed = cleanse_fields(mapped, source, default_country, as_of)
    reasons, detail = select_records(mapped, cleansed)
    rejected = reasons.map(bool).to_numpy()

    accepted = cleansed[~rejected].copy()
    keep = mapped[~rejected]
    accepted.insert(0, "source", source.name)
    accepted.insert(1, "source_id", keep["source_id"])
    accepted.insert(2, "record_key", [record_key(source.name, s) for s in keep["source_id"]])
    accepted.insert(3, "row_hash", _row_hash(keep["raw"]))
    accepted.insert(4, "file", keep["file"])
    accepted.insert(5, "line", keep["line"])
    accepted["extra"] = keep["extra"]
    accepted["raw"] = keep["raw"]
    accepted = accepted[list(CLEANSED_CUSTOMERS.names)].reset_index(drop=True)

    rej = mapped[rejected]
    original_columns = [c for c in raw.columns if c not in (FILE_COL, LINE_COL)]
    quarantined = pd.DataFrame({
        "source": source.name, "source_id": rej["source_id"], "reasons": reasons[rejected],
        "detail": detail[rejected], "file": rej["file"], "line": rej["line"],
        "raw": rows_to_json(raw[rejected], original_columns),
    })
    quarantined = pd.concat([quarantined, malformed_quarantine(source, malformed)], ignore_index=True)
    return CleanseResult(accepted=accepted, quarantined=quarantined[list(QUARANTINE.names)])


def _row_hash(raw_json: pd.Series) -> list[str]:
    """Content hash of a record's mapped source values (reused by incremental runs)."""
    con = duckdb.connect()
    try:
        con.register("r", pd.DataFrame({"raw": raw_json.astype("object")}))
        return con.sql("SELECT md5(raw) AS h FROM r").to_arrow_table().column("h").to_pylist()
    finally:
        con.close()
