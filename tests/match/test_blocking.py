"""Blocking rules, the block-size guard and blocking recall."""

from __future__ import annotations

import json

import pandas as pd
import pyarrow as pa
import pytest

from pipelines.match import blocking as B
from pipelines.match.features import MATCH_COLUMNS


def mf(*rows: dict) -> pd.DataFrame:
    """A match frame from partial rows (unset columns are null)."""
    full = []
    for i, r in enumerate(rows):
        row = {c: None for c in MATCH_COLUMNS}
        row["unique_id"] = f"s:{i:04d}"
        row["source_dataset"] = "s"
        row.update(r)
        full.append(row)
    df = pd.DataFrame(full, columns=list(MATCH_COLUMNS))
    df["dob_days"] = df["dob_days"].astype("Int32")
    df["last_name_known"] = df["last_name_known"].astype("boolean")
    df["first_name_known"] = df["first_name_known"].astype("boolean")
    return df


def keyed_dict(table: pa.Table) -> dict[str, dict]:
    return {r["unique_id"]: r for r in table.to_pylist()}


def test_rules_are_data_with_unique_names():
    names = B.rule_names()
    assert len(names) == len(set(names)) >= 8
    assert {"phone", "email", "name_birth_year", "postcode_last_name", "dob_first_name"} <= set(names)
    assert len(B.splink_blocking_rules()) == len(names)


def test_key_needs_every_part():
    table, _ = B.apply_guard(mf(
        {"last_name_stem": "ivanov", "first_name_canon": "sergei", "birth_year": "1980"},
        {"last_name_stem": "ivanov", "first_name_canon": "sergei"},
    ))
    rows = keyed_dict(table)
    assert rows["s:0000"]["bk_name_birth_year"] == "ivanov|sergei|1980"
    assert rows["s:0001"]["bk_name_birth_year"] is None


def test_guard_drops_keys_of_oversized_blocks_only():
    office = "+74951110000"
    rows = [{"phones": [office, f"+7916000{i:04d}"], "email": "noreply@shop.ru"} for i in range(6)]
    rows.append({"phones": ["+79160000000"], "email": "noreply@shop.ru"})
    table, report = B.apply_guard(mf(*rows), max_block_size=5)
    out = keyed_dict(table)
    assert out["s:0000"]["bk_phone"] == ["+79160000000"]          # personal phone kept
    assert all(office not in (r["bk_phone"] or []) for r in out.values())
    assert all(r["bk_email"] is None for r in out.values())        # 7 records share it
    phone = next(r for r in report if r["rule"] == "phone")
    assert phone["excluded_keys"] == 1 and phone["largest_excluded_block"] == 6
    assert phone["largest_block"] == 2 and phone["pairs"] == 1
    email = next(r for r in report if r["rule"] == "email")
    assert email["excluded_keys"] == 1 and email["excluded_records"] == 7 and email["keys"] == 0


def test_report_never_shows_raw_values():
    rows = [{"phones": ["+74951110000"], "email": "noreply@shop.ru", "dob": "1980-01-01",
             "first_name_canon": "sergei"} for _ in range(4)]
    _, report = B.apply_guard(mf(*rows), max_block_size=2)
    text = json.dumps(report)
    for raw in ("+74951110000", "noreply", "shop.ru", "1980-01-01", "sergei"):
        assert raw not in text
    phone = next(r for r in report if r["rule"] == "phone")
    assert phone["excluded_examples"] == ["+**********0"]
    dob_first = next(r for r in report if r["rule"] == "dob_first_name")
    assert dob_first["excluded_examples"] == ["1********1|s****i"]


@pytest.mark.parametrize("value, masked", [
    ("+74951110000", "+**********0"), ("noreply@shop.ru", "n*************u"), ("ab", "**"),
    ("ivanov|sergei|1980", "i****v|s****i|1**0"), ("", "")])
def test_mask_key(value, masked):
    assert B.mask_key(value) == masked


def test_guard_keeps_rows_order_and_columns():
    frame = mf(*[{"email": f"u{i}@x.ru"} for i in range(50)])
    table, _ = B.apply_guard(frame)
    assert table.column("unique_id").to_pylist() == frame["unique_id"].tolist()
    assert table.column_names[: len(MATCH_COLUMNS)] == list(MATCH_COLUMNS)
    assert {f"bk_{n}" for n in B.rule_names()} <= set(table.column_names)
    assert "bk_swapped_names_r" in table.column_names


def test_swapped_names_rule_pairs_only_swaps():
    table, report = B.apply_guard(mf(
        {"last_name_skel": "ivanov", "first_name_skel": "sergei"},
        {"last_name_skel": "sergei", "first_name_skel": "ivanov"},
        {"last_name_skel": "ivanov", "first_name_skel": "sergei"},
        {"last_name_skel": "petrov", "first_name_skel": "oleg"},
    ))
    swap = next(r for r in report if r["rule"] == "swapped_names")
    assert swap["pairs"] == 2            # record 1 against records 0 and 2
    rows = keyed_dict(table)
    assert rows["s:0003"]["bk_swapped_names"] is None   # no swapped counterpart anywhere


def test_blocking_recall():
    frame = mf(
        {"email": "a@x.ru"}, {"email": "a@x.ru"},          # entity A, found by e-mail
        {"phones": ["+79160000001"]}, {"phones": ["+79160000002"]},   # entity B, not found
        {"email": "c@x.ru"},                                 # entity C, single record
    )
    table, _ = B.apply_guard(frame)
    truth = pd.DataFrame({"record_key": [f"s:{i:04d}" for i in range(5)] + ["gone:1"],
                          "entity_id": ["A", "A", "B", "B", "C", "A"]})
    rec = B.blocking_recall(table, truth)
    assert rec["truth_pairs"] == 2 and rec["found_pairs"] == 1 and rec["recall"] == 0.5
    assert rec["per_rule"]["email"] == 1 and rec["only_rule"]["email"] == 1


@pytest.mark.parametrize("max_block_size", [1, 2, 1000])
def test_guard_pairs_count_is_exact(max_block_size):
    rows = [{"postcode": "125109", "last_name_stem": "ivanov"} for _ in range(3)]
    _, report = B.apply_guard(mf(*rows), max_block_size=max_block_size)
    rule = next(r for r in report if r["rule"] == "postcode_last_name")
    assert rule["pairs"] == (3 if max_block_size >= 3 else 0)
    assert rule["excluded_keys"] == (0 if max_block_size >= 3 else 1)
