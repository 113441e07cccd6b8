"""The match job's feature step: reads only what it needs, and chunking changes nothing."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from pipelines import io
from pipelines.cleanse.transforms import cleanse_source
from pipelines.config import load_config
from pipelines.demo import generate_demo
from pipelines.match import features
from pipelines.match.jobs import FEATURE_INPUTS, build_features
from pipelines.schema import CLEANSED_CUSTOMERS


@pytest.fixture(scope="module")
def cleansed_files(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Cleansed files of a 150-person demo (four sources, as the flow writes them)."""
    folder = tmp_path_factory.mktemp("demo")
    config = load_config(generate_demo(folder, customers=150, seed=3).config)
    paths = []
    for source in config.customer_sources:
        raw = io.read_source(config, source)
        result = cleanse_source(raw.frame, raw.malformed, source, "RU", date(2026, 11, 1))
        paths.append(io.write_parquet(result.accepted, folder / "cleansed" / f"{source.name}.parquet",
                                      CLEANSED_CUSTOMERS))
    return paths


def test_features_need_only_the_listed_columns(cleansed_files: list[Path]) -> None:
    full = pd.concat([io.read_frame(p) for p in cleansed_files], ignore_index=True)
    assert len(full) > 150
    narrow = full[list(FEATURE_INPUTS)].copy()
    pd.testing.assert_frame_equal(features.match_frame(narrow), features.match_frame(full))
    pd.testing.assert_frame_equal(features.cluster_records(narrow), features.cluster_records(full))


def test_chunk_size_changes_nothing(cleansed_files: list[Path]) -> None:
    whole = build_features(cleansed_files, chunk_rows=100_000)
    chunked = build_features(cleansed_files, chunk_rows=7)
    assert whole[0].equals(chunked[0])
    pd.testing.assert_frame_equal(whole[1], chunked[1])
    pd.testing.assert_frame_equal(whole[2], chunked[2])
    assert whole[0].num_rows == len(whole[1]) == len(whole[2]) == sum(io.parquet_rows(p) for p in cleansed_files)


def test_no_records_give_empty_tables(tmp_path: Path) -> None:
    empty = io.write_parquet(CLEANSED_CUSTOMERS.empty_table(), tmp_path / "c.parquet")
    frame, records, keys = build_features([empty])
    assert frame.num_rows == len(records) == len(keys) == 0
    assert "unique_id" in frame.column_names and "record_key" in records.columns


def test_a_guard_computed_once_gives_the_same_pairs(cleansed_files: list[Path]) -> None:
    from pipelines.match import blocking, model

    frame = build_features(cleansed_files)[0]
    bundled = model.for_small_input(io.read_json(model.BUNDLED_MODEL), frame.num_rows)
    alone, report = model.score_with_report(frame, bundled, threshold=0.2)
    shared, shared_report = model.score_with_report(frame, bundled, threshold=0.2,
                                                    guarded=blocking.apply_guard(frame))
    keys = [("record_key_l", "ascending"), ("record_key_r", "ascending")]
    assert alone.num_rows > 0 and alone.sort_by(keys).equals(shared.sort_by(keys))
    assert report.guard == shared_report.guard
