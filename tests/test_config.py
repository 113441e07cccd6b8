"""hub.yml validation: the contract's keys load; every mistake is one line naming source and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.config import ConfigError, load_config

VALID = """\
hub:
  out: data/hub
  default_country: ru
  as_of: 2026-11-01
sources:
  - name: crm
    kind: customers
    path: data/demo/crm/*.csv
    format: csv
    encoding: auto
    delimiter: auto
    id: client_id
    trust: 0.9
    updated_at: modified_at
    date_format: null
    fields:
      full_name: "ФИО"
      phone: ["Телефон", "Моб. телефон"]
      email: Email
  - name: shop
    kind: orders
    path: data/demo/shop/*.parquet
    customer_source: crm
    fields: {order_id: id, customer_id: client_id, order_date: created, amount: total}
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "conf" / "hub.yml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_contract_example_loads_and_resolves_paths_against_the_file(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, VALID))
    assert config.hub.default_country == "RU"
    assert config.out_dir == (tmp_path / "conf" / "data" / "hub").resolve()
    crm = config.source("crm")
    assert config.source_glob(crm) == str((tmp_path / "conf" / "data/demo/crm").resolve() / "*.csv")
    assert crm.columns_of("phone") == ["Телефон", "Моб. телефон"]
    assert crm.required_columns() == ["client_id", "modified_at", "ФИО", "Телефон", "Моб. телефон", "Email"]
    assert config.source("shop").id_column == "id"
    assert [s.name for s in config.customer_sources] == ["crm"]
    assert len(config.sha256) == 64


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("trust: 0.9", "trust: 1.5", "sources[crm].trust"),
        ("    fields:\n      full_name", "    fieldz:\n      full_name", "sources[crm].fieldz: unknown key"),
        ("email: Email", "emial: Email", "sources[crm]: fields: unknown customers field(s) emial"),
        ("customer_source: crm", "customer_source: erp", "sources[shop].customer_source: 'erp'"),
        ("default_country: ru", "default_country: XX", "hub.default_country"),
        ("name: shop", "name: crm", "source names must be unique; repeated: crm"),
        ("    id: client_id\n", "", "sources[crm]: id: expected"),
        ("name: crm", "name: CRM-1", "sources[CRM-1].name"),
        ("encoding: auto", "encoding: koi8", "sources[crm].encoding"),
        ("delimiter: auto", "delimiter: '#'", "sources[crm].delimiter"),
        ("date_format: null", "date_format: yyyymmdd", "sources[crm].date_format: expected a strptime format"),
        ("as_of: 2026-11-01", "as_of: yesterday", "hub.as_of"),
        ("kind: orders", "kind: invoices", "sources[shop].kind"),
        ("order_date: created, ", "", "sources[shop]: fields: an orders source must map order_date"),
        ("    customer_source: crm\n", "", "sources[shop]: customer_source: expected"),
        ('phone: ["Телефон", "Моб. телефон"]', "phone: []", "sources[crm].fields"),
    ],
)
def test_each_mistake_names_source_and_key(tmp_path: Path, old: str, new: str, expected: str) -> None:
    assert old in VALID
    with pytest.raises(ConfigError) as err:
        load_config(write(tmp_path, VALID.replace(old, new)))
    message = str(err.value)
    assert expected in message
    assert "\n" not in message
    assert str(tmp_path) in message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("hub: [unclosed", "invalid YAML at line 1"),
        ("- just\n- a list\n", "expected a mapping"),
        ("hub: {}\n", "sources: required key is missing"),
        ("hub: {}\nsources: []\n", "sources"),
        ("hub: {}\nsources:\n  - {name: o, kind: orders, path: x, customer_source: o,"
         " fields: {order_id: a, customer_id: b, order_date: c, amount: d}}\n", "customers"),
    ],
)
def test_broken_files_give_one_line(tmp_path: Path, text: str, expected: str) -> None:
    with pytest.raises(ConfigError) as err:
        load_config(write(tmp_path, text))
    assert expected in str(err.value)
    assert "\n" not in str(err.value)


def test_missing_and_non_utf8_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(tmp_path / "nope.yml")
    path = tmp_path / "hub.yml"
    path.write_bytes(VALID.encode("utf-16"))
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_config(path)


MATCH = VALID.replace("sources:\n", """match:
  engine: duckdb
  model: models/last.json
  threshold: 0.92
  review: [0.4, 0.92]
  pairs_threshold: 0.1
  max_pairs: 2000000
  max_block_size: 500
  seed: 7
  spark:
    master: spark://spark-master:7077
    conf: {spark.executor.memory: 8g}
sources:
""", 1)


def test_match_section_loads_with_paths_resolved_against_the_file(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, MATCH))
    assert config.match.threshold == 0.92 and config.match.review == (0.4, 0.92)
    assert config.model_path == (tmp_path / "conf" / "models" / "last.json").resolve()
    assert config.decisions_path == (tmp_path / "conf" / "hub.decisions.csv").resolve()
    assert config.match.spark.master == "spark://spark-master:7077"
    assert config.match.spark.conf == {"spark.executor.memory": "8g"}
    defaults = load_config(write(tmp_path, VALID))
    assert defaults.model_path is None and defaults.match.engine == "duckdb"


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("engine: duckdb", "engine: sqlite", "match.engine"),
        ("threshold: 0.92", "threshold: 1.2", "match.threshold"),
        ("threshold: 0.92", "threshold: high", "match.threshold"),
        ("review: [0.4, 0.92]", "review: [0.9, 0.5]", "match: review: expected [low, high]"),
        ("review: [0.4, 0.92]", "review: [0.5]", "match.review"),
        ("pairs_threshold: 0.1", "pairs_threshold: 0.6", "match: pairs_threshold: expected at most"),
        ("max_pairs: 2000000", "max_pairs: 10", "match.max_pairs"),
        ("seed: 7", "sead: 7", "match.sead: unknown key"),
        ("conf: {spark.executor.memory: 8g}", "jaro_winkler: levenshtein", "match.spark.jaro_winkler"),
    ],
)
def test_match_mistakes_name_the_key(tmp_path: Path, old: str, new: str, expected: str) -> None:
    assert old in MATCH
    with pytest.raises(ConfigError) as err:
        load_config(write(tmp_path, MATCH.replace(old, new)))
    assert expected in str(err.value) and "\n" not in str(err.value)


GOLDEN = VALID.replace("sources:\n", """\
survivorship:
  decay: {period_days: 365, floor: 0.1}
  rules:
    address: most_recent
    name: [validated, trust_decay]
golden: {max_household: 8}
erasure: requests/erasure.csv
sources:
""", 1)


def test_golden_sections_load_with_defaults_for_the_rest(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, GOLDEN))
    assert config.survivorship.rules_for("address") == ("most_recent",)
    assert config.survivorship.rules_for("name") == ("validated", "trust_decay")
    assert config.survivorship.rules_for("gender") == ("validated", "most_frequent", "trust_decay")
    assert config.survivorship.decay.period_days == 365 and config.golden.max_household == 8
    assert config.erasure_path == (tmp_path / "conf" / "requests" / "erasure.csv").resolve()
    assert config.erasure_salt_path == (tmp_path / "conf" / "requests" / "erasure.csv.salt").resolve()
    defaults = load_config(write(tmp_path, VALID))
    assert defaults.erasure_path is None and defaults.hub.keep_runs == 3


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("address: most_recent", "adress: most_recent", "survivorship.rules: adress: unknown attribute group"),
        ("address: most_recent", "address: oldest", "survivorship.rules.address.0"),
        ("address: most_recent", "address: []", "survivorship.rules: address: expected at least one rule"),
        ("floor: 0.1", "floor: 1.5", "survivorship.decay.floor"),
        ("period_days: 365", "period_days: 0", "survivorship.decay.period_days"),
        ("max_household: 8", "max_household: 1", "golden.max_household"),
        ("  as_of: 2026-11-01", "  keep_runs: 0", "hub.keep_runs"),
    ],
)
def test_golden_mistakes_name_the_key(tmp_path: Path, old: str, new: str, expected: str) -> None:
    assert old in GOLDEN
    with pytest.raises(ConfigError) as err:
        load_config(write(tmp_path, GOLDEN.replace(old, new)))
    assert expected in str(err.value) and "\n" not in str(err.value)
