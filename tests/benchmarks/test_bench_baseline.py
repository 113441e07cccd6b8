"""The recordlinkage baseline's driver (project venv) and, when a bench venv exists, its worker."""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import sys
from pathlib import Path

import pandas as pd
import pytest

from benchmarks import baseline_rl
from benchmarks.accuracy import evaluate, truth_by_record


def test_find_bench_python(tmp_path, monkeypatch):
    python = tmp_path / "bin" / "python"
    python.parent.mkdir()
    python.write_text("")
    monkeypatch.delenv(baseline_rl.ENV_BENCH_PYTHON, raising=False)
    assert baseline_rl.find_bench_python(str(python)) == python
    assert baseline_rl.find_bench_python(str(tmp_path / "missing")) is None
    monkeypatch.setenv(baseline_rl.ENV_BENCH_PYTHON, str(python))
    assert baseline_rl.find_bench_python() == python


def _cleansed(path: Path) -> Path:
    """Eight cleansed records: Ivanov twice (typo in the surname), Smith twice (no e-mail
    on one), two Petrovs of one household (different people) and two strangers."""
    d = dt.date
    rows = [
        ("crm:1", "crm", "ivan", "ivanov", d(1980, 5, 1), "+79161234567", "ivanov@mail.ru", "101000", "ul lenina", "5"),
        ("web:1", "web", "ivan", "ivanof", d(1980, 5, 1), "+79161234567", "ivanov@mail.ru", None, None, None),
        ("crm:2", "crm", "john", "smit", d(1975, 1, 2), "+447700900123", "js@example.com", "sw1a", "downing st", "10"),
        ("web:2", "web", "john", "smit", d(1975, 1, 2), "+447700900123", None, "sw1a", "downing st", "10"),
        ("crm:3", "crm", "petr", "petrov", d(1950, 3, 3), "+74951112233", None, "190000", "nevskii", "1"),
        ("crm:4", "crm", "anna", "petrova", d(1955, 4, 4), "+74951112233", None, "190000", "nevskii", "1"),
        ("crm:5", "crm", "oleg", "sidorov", d(1990, 6, 6), "+79030000001", "o@s.ru", "620000", "malyseva", "7"),
        ("crm:6", "crm", "maria", "kuznecova", d(1991, 7, 7), "+79030000002", "m@k.ru", "630000", "krasnyi", "9"),
    ]
    frame = pd.DataFrame(rows, columns=["record_key", "source", "first_name_skel", "last_name_skel", "birth_date",
                                        "phone", "email", "postcode", "street", "house"])
    frame.to_parquet(path, index=False)
    return path


@pytest.mark.skipif(importlib.util.find_spec("recordlinkage") is not None,
                    reason="recordlinkage importable here: the failure path cannot be provoked this way")
def test_worker_failure_is_one_line(tmp_path):
    with pytest.raises(baseline_rl.BaselineError) as err:
        baseline_rl.run_baseline(Path(sys.executable), _cleansed(tmp_path / "c.parquet"), tmp_path / "out")
    message = str(err.value)
    assert "\n" not in message and "recordlinkage" in message and "baseline.log" in message


@pytest.mark.bench_venv
def test_worker_in_the_bench_venv(tmp_path):
    bench = baseline_rl.find_bench_python()
    assert bench is not None, "no bench venv: run `make bench-venv` (or set HUB_BENCH_PYTHON)"
    cleansed = _cleansed(tmp_path / "c.parquet")
    stats = baseline_rl.run_baseline(bench, cleansed, tmp_path / "out")
    assert stats["records"] == 8 and stats["candidate_pairs"] >= 3
    assert stats["wall_s"] > 0 and stats["peak_rss_mib"] > 0
    assert json.loads((tmp_path / "out" / "stats.json").read_text())["mode"] == "dedupe"
    records = pd.read_parquet(tmp_path / "out" / "records.parquet")
    assert list(records["record_key"]) == list(pd.read_parquet(cleansed)["record_key"])
    pairs = pd.read_parquet(tmp_path / "out" / "pairs.parquet")
    assert (pairs["l"] < pairs["r"]).all()
    truth = truth_by_record(pd.DataFrame({
        "record_key": records["record_key"],
        "entity_id": ["P1", "P1", "P2", "P2", "P3", "P4", "P5", "P6"],
        "household_id": ["H1", "H1", "H2", "H2", "H3", "H3", "H5", "H6"],
    }))
    ev = evaluate(pd.Series(records["cluster_sum"].to_numpy(), index=records["record_key"]), truth)
    assert ev.scores.true_positives == 2           # both duplicates found by >= 4 agreeing features
    # Petr and Anna Petrov share last name (Jaro-Winkler 0.97), phone, postcode, street and
    # house: 5 agreeing features, so the classic sum rule merges the couple, and it is
    # reported as a household false positive.
    assert ev.false_positives["household"] == 1 and ev.false_positives["total"] == 1
