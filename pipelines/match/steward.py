"""The steward loop in pure form: a review sheet people can decide on, and their decisions.

``hub review export`` writes :func:`review_sheet` as CSV; a steward fills the ``decision``
column with ``match`` or ``no_match`` (blank: undecided); ``hub review apply`` merges the
sheet into the decisions file with :func:`merge_decisions`. Later runs turn decisions into
must-link / cannot-link constraints that win over the model.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from pipelines.match.review import decisions_to_links, normalise_decision
from pipelines.schema import DECISION_COLUMNS

#: Record attributes shown side by side for each pair (what a steward needs to decide).
SHEET_FIELDS: tuple[str, ...] = ("last_name", "first_name", "middle_name", "birth_date", "gender", "phone",
                                 "email", "postcode", "city", "street", "house", "flat", "national_id")


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

    Rows with a blank decision are skipped. The sheet is checked as later runs will read it
    (:func:`pipelines.match.review.decisions_to_links`): an unknown decision, a blank key or
    a record paired with itself raises :class:`DecisionError` naming the sheet row (1 = first
    data row); so does (when ``known_keys`` is given) a record key the hub does not know.
    Decisions are stored as ``match`` / ``no_match`` with the smaller key on the left; the
    newest decision per pair wins.
    """
    columns = list(DECISION_COLUMNS)
    for column in columns[:3]:
        if column not in sheet.columns:
            raise DecisionError(f"the sheet has no column {column!r}")
    try:
        decisions_to_links(sheet[columns[:3]])
    except ValueError as exc:
        raise DecisionError(str(exc)) from None
    known = set(known_keys) if known_keys is not None else None
    notes = sheet["note"] if "note" in sheet.columns else pd.Series([None] * len(sheet), dtype=object)
    rows = []
    for i, (left, right, decision, note) in enumerate(zip(sheet["record_key_l"], sheet["record_key_r"],
                                                          sheet["decision"], notes), start=1):
        value = normalise_decision(decision)
        if value is None:
            continue
        left, right = str(left).strip(), str(right).strip()
        unknown = [k for k in (left, right) if known is not None and k not in known]
        if unknown:
            raise DecisionError(f"decision row {i}: record {unknown[0]} is not in the published hub")
        text = None if note is None or pd.isna(note) or not str(note).strip() else str(note).strip()
        rows.append({"record_key_l": min(left, right), "record_key_r": max(left, right), "decision": value,
                     "decided_at": decided_at, "note": text})
    new = pd.DataFrame(rows, columns=columns, dtype="object")
    merged = pd.concat([existing[columns].astype("object"), new], ignore_index=True)
    merged = merged.drop_duplicates(["record_key_l", "record_key_r"], keep="last")
    return merged.reset_index(drop=True), len(new)
