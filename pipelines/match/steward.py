"""The steward loop in pure form: a review sheet people can decide on, and their decisions.

``hub review export`` writes :func:`review_sheet` as CSV; a steward fills the ``decision``
column with ``match`` or ``no_match`` (blank: undecided); ``hub review apply`` merges the
sheet into the decisions file with :func:`merge_decisions`. Later runs turn decisions into
must-link / cannot-link constraints that win over the model.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

DECISIONS = ("match", "no_match")

#: Record attributes shown side by side for each pair (what a steward needs to decide).
SHEET_FIELDS: tuple[str, ...] = ("last_name", "first_name", "middle_name", "birth_date", "gender", "phone",
                                 "email", "postcode", "city", "street", "house", "flat", "national_id")

_DECISION_COLUMNS = ["record_key_l", "record_key_r", "decision", "decided_at", "note"]


class DecisionError(ValueError):
    """A steward sheet that cannot be applied; one-line message naming the row."""


def review_sheet(queue: pd.DataFrame, records: pd.DataFrame) -> pd.DataFrame:
    """The review queue with both records' attributes side by side and an empty decision.

    ``records`` holds ``record_key`` and any of :data:`SHEET_FIELDS`. Row order is the
    queue's (highest impact first). Columns: pair keys, golden ids, probability, reason,
    impact, ``<field>_l`` / ``<field>_r`` pairs, ``decision`` (empty), ``note`` (empty).
    """
    fields = [f for f in SHEET_FIELDS if f in records.columns]
    details = records[["record_key", *fields]].drop_duplicates("record_key").set_index("record_key")
    head = ["record_key_l", "record_key_r", "golden_id_l", "golden_id_r", "match_probability", "reason", "impact"]
    sheet = queue[[c for c in head if c in queue.columns]].reset_index(drop=True).copy()
    for side in ("l", "r"):
        part = details.reindex(sheet[f"record_key_{side}"].to_numpy())
        for field in fields:
            values = part[field].astype(object)
            sheet[f"{field}_{side}"] = pd.Series(values.where(values.notna(), None).to_numpy(), dtype=object)
    ordered = [c for c in sheet.columns if c in head] + [f"{f}_{s}" for f in fields for s in ("l", "r")]
    sheet = sheet[ordered]
    sheet["match_probability"] = sheet["match_probability"].round(4)
    sheet["decision"] = ""
    sheet["note"] = ""
    return sheet


def merge_decisions(existing: pd.DataFrame, sheet: pd.DataFrame, decided_at: str,
                    known_keys: Iterable[str] | None = None) -> tuple[pd.DataFrame, int]:
    """Decisions file after applying a filled sheet; also how many decisions were new.

    Rows with a blank decision are skipped. A decision other than ``match`` / ``no_match``,
    a pair of a record with itself, or (when ``known_keys`` is given) a record key the hub
    does not know raises :class:`DecisionError` naming the sheet row (1 = first data row).
    Pairs are stored with the smaller key on the left; the newest decision per pair wins.
    """
    for column in ("record_key_l", "record_key_r", "decision"):
        if column not in sheet.columns:
            raise DecisionError(f"the sheet has no column {column!r}")
    known = set(known_keys) if known_keys is not None else None
    rows = []
    for i, (left, right, decision, note) in enumerate(zip(
            sheet["record_key_l"], sheet["record_key_r"], sheet["decision"],
            sheet["note"] if "note" in sheet.columns else [None] * len(sheet)), start=1):
        value = "" if decision is None or pd.isna(decision) else str(decision).strip().lower()
        if not value:
            continue
        if value not in DECISIONS:
            raise DecisionError(f"row {i}: decision {decision!r} is not one of: {', '.join(DECISIONS)}")
        left, right = str(left).strip(), str(right).strip()
        if left == right:
            raise DecisionError(f"row {i}: a record cannot be paired with itself ({left})")
        if known is not None:
            unknown = [k for k in (left, right) if k not in known]
            if unknown:
                raise DecisionError(f"row {i}: record {unknown[0]} is not in the published hub")
        left, right = min(left, right), max(left, right)
        text = None if note is None or pd.isna(note) or not str(note).strip() else str(note).strip()
        rows.append({"record_key_l": left, "record_key_r": right, "decision": value, "decided_at": decided_at,
                     "note": text})
    new = pd.DataFrame(rows, columns=_DECISION_COLUMNS, dtype="object")
    merged = pd.concat([existing[_DECISION_COLUMNS].astype("object"), new], ignore_index=True)
    merged = merged.drop_duplicates(["record_key_l", "record_key_r"], keep="last")
    return merged.reset_index(drop=True), len(new)
