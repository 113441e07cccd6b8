"""Steward loop: the review sheet shows both records; filled sheets become decisions."""

from __future__ import annotations

import pandas as pd
import pytest

from pipelines.match.steward import DecisionError, merge_decisions, review_sheet

QUEUE = pd.DataFrame({
    "record_key_l": ["crm:1", "web:7"], "record_key_r": ["web:5", "web:9"],
    "golden_id_l": ["G0000000001", "G0000000003"], "golden_id_r": ["G0000000002", "G0000000003"],
    "match_probability": [0.712345, 0.61], "match_weight": [1.3, 0.6], "reason": ["grey_zone", "veto:birth_date"],
    "impact": [1, 2], "decision": [None, None],
})
RECORDS = pd.DataFrame({
    "record_key": ["crm:1", "web:5", "web:7", "web:9"],
    "last_name": ["Иванова", "Иванова", "Петров", "Петров"],
    "first_name": ["Анна", "Аня", "Пётр", "Павел"],
    "birth_date": ["1990-01-02", None, "1970-05-05", "1971-05-05"],
})
NO_DECISIONS = pd.DataFrame(columns=["record_key_l", "record_key_r", "decision", "decided_at", "note"], dtype=object)


def test_sheet_puts_both_records_side_by_side_in_queue_order() -> None:
    sheet = review_sheet(QUEUE, RECORDS)
    assert sheet["record_key_l"].tolist() == ["crm:1", "web:7"]
    assert sheet[["first_name_l", "first_name_r"]].values.tolist() == [["Анна", "Аня"], ["Пётр", "Павел"]]
    assert sheet["birth_date_r"].tolist() == [None, "1971-05-05"]
    assert sheet["decision"].tolist() == ["", ""]
    assert sheet["match_probability"].tolist() == [0.7123, 0.61]
    assert "middle_name_l" not in sheet.columns  # only the fields the hub has


def sheet(rows: list[tuple[str, str, str | None]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["record_key_l", "record_key_r", "decision"], dtype=object)


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        ([("crm:1", "web:5", "match")], [("crm:1", "web:5", "match")]),
        ([("web:5", "crm:1", " MATCH ")], [("crm:1", "web:5", "match")]),  # ordered, normalised
        ([("crm:1", "web:5", "No-Match")], [("crm:1", "web:5", "no_match")]),
        ([("crm:1", "web:5", "")], []),  # undecided rows are skipped
        ([("crm:1", "web:5", None)], []),
        ([("crm:1", "web:5", "match"), ("web:5", "crm:1", "no_match")], [("crm:1", "web:5", "no_match")]),
        ([("web:7", "web:9", "no_match"), ("crm:1", "web:5", "match")],
         [("web:7", "web:9", "no_match"), ("crm:1", "web:5", "match")]),
    ],
)
def test_filled_sheets_become_decisions(rows: list, expected: list) -> None:
    merged, count = merge_decisions(NO_DECISIONS, sheet(rows), "2026-11-23T10:00:00")
    assert list(zip(merged["record_key_l"], merged["record_key_r"], merged["decision"])) == expected
    assert count == len([r for r in rows if r[2] and r[2].strip()])


def test_newer_decision_replaces_an_older_one_for_the_same_pair() -> None:
    first, _ = merge_decisions(NO_DECISIONS, sheet([("crm:1", "web:5", "match"), ("web:7", "web:9", "match")]), "t1")
    second, count = merge_decisions(first, sheet([("web:5", "crm:1", "no_match")]), "t2")
    assert count == 1
    got = {(l, r): (d, t) for l, r, d, t in zip(second["record_key_l"], second["record_key_r"], second["decision"],
                                                second["decided_at"])}
    assert got == {("crm:1", "web:5"): ("no_match", "t2"), ("web:7", "web:9"): ("match", "t1")}


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([("crm:1", "web:5", "yes")], "decision row 1 ('crm:1' / 'web:5'): unknown decision 'yes'"),
        ([("crm:1", "web:5", ""), ("crm:1", "crm:1", "match")],
         "decision row 2 ('crm:1' / 'crm:1'): a record cannot be paired with itself"),
        ([("crm:1", "web:99", "match")], "decision row 1: record web:99 is not in the published hub"),
        ([("crm:1", "", "match")], "decision row 1 ('crm:1' / <blank>): both record keys are required"),
    ],
)
def test_bad_sheets_fail_with_a_line_naming_the_row(rows: list, message: str) -> None:
    with pytest.raises(DecisionError) as err:
        merge_decisions(NO_DECISIONS, sheet(rows), "t", known_keys=RECORDS["record_key"])
    assert message in str(err.value) and "\n" not in str(err.value)


def test_sheet_without_decision_column_is_refused() -> None:
    with pytest.raises(DecisionError, match="no column 'decision'"):
        merge_decisions(NO_DECISIONS, QUEUE.drop(columns=["decision"]), "t")
