"""End to end through Prefect: conservation, manifest, idempotence, failure leaves the hub."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

pytestmark = pytest.mark.flow

EXPECTED = {  # counted by hand from tests/data/flow (see the comments in test_published_hub)
    "crm": {"rows_in": 6, "accepted": 3, "quarantined": 3},
    "web": {"rows_in": 4, "accepted": 3, "quarantined": 1},
    "loyalty": {"rows_in": 3, "accepted": 2, "quarantined": 1},
}


def run_flow(config: Path) -> dict:
    from pipelines.flow import consolidate

    return consolidate(str(config))


def table(path: Path) -> list[dict]:
    return pq.read_table(path).to_pylist()


def test_published_hub(prefect_harness, flow_config: Path) -> None:
    manifest = run_flow(flow_config)
    hub = flow_config.parent / "hub"
    # crm: line 4 has 9 fields (malformed), "Тест Тестович" is a test record, id 000102 appears twice
    # (the older copy is quarantined); web: L3 has nothing but a date; loyalty: card 0000014 is empty.
    assert {k: {m: v[m] for m in ("rows_in", "accepted", "quarantined")} for k, v in manifest["sources"].items()} \
        == EXPECTED
    cleansed = table(hub / "cleansed_customers.parquet")
    quarantine = table(hub / "quarantine.parquet")
    for source, counts in EXPECTED.items():  # conservation, per source, in the published files
        assert sum(r["source"] == source for r in cleansed) == counts["accepted"]
        assert sum(r["source"] == source for r in quarantine) == counts["quarantined"]
    reasons = {(r["source"], r["line"]): r["reasons"] for r in quarantine}
    assert reasons[("crm", 4)] == ["malformed_line"]
    assert "test_record" in reasons[("crm", 5)]
    assert reasons[("crm", 6)] == ["duplicate_source_id"]
    assert reasons[("web", 4)] == ["no_identity"]
    keys = [r["record_key"] for r in cleansed]
    assert len(keys) == len(set(keys)) and "crm:000101" in keys and "loyalty:0000012" in keys
    maria = next(r for r in cleansed if r["record_key"] == "crm:000102")
    assert (maria["last_name"], maria["email"], maria["email_suggestion"]) == \
        ("Петрова", "maria.p@gmail.con", "maria.p@gmail.com")
    assert json.loads(next(r for r in cleansed if r["record_key"] == "crm:000101")["extra"]) == {"Менеджер": "Оля"}
    # manifest: inputs with true hashes, outputs, timings
    assert manifest == json.loads((hub / "manifest.json").read_text(encoding="utf-8"))
    for item in manifest["inputs"]:
        assert item["sha256"] == hashlib.sha256(Path(item["path"]).read_bytes()).hexdigest()
    assert {k: manifest["outputs"][k] for k in ("cleansed_customers.parquet", "quarantine.parquet",
                                                "crosswalk.parquet")} \
        == {"cleansed_customers.parquet": 8, "quarantine.parquet": 5, "crosswalk.parquet": 8}
    assert {"pairs.parquet", "review_queue.parquet", "golden_id_history.parquet"} <= manifest["outputs"].keys()
    # matching: Иванов Иван (crm, web lead in Latin, loyalty card) is one person, Петрова Мария
    # and the web lead "Маша Петрова" with her mobile are one; the other three stand alone
    crosswalk = table(hub / "crosswalk.parquet")
    assert sorted(r["record_key"] for r in crosswalk) == sorted(keys)
    groups = {}
    for r in crosswalk:
        groups.setdefault(r["golden_id"], set()).add(r["record_key"])
    assert sorted(map(sorted, groups.values())) == sorted([
        ["crm:000101", "loyalty:0000012", "web:L1"], ["crm:000102", "web:L2"], ["crm:000105"], ["web:L4"],
        ["loyalty:0000013"]])
    assert all(g.startswith("G") and len(g) == 11 for g in groups)
    assert manifest["match"]["records"] == 8 and manifest["match"]["golden_ids"] == 5
    # golden records: one per golden id; Иванов's full Cyrillic name (crm and loyalty agree, the
    # web lead's Latin "Ivan Ivanov" has no patronymic), the mobile all three records hold first
    golden = {r["golden_id"]: r for r in table(hub / "golden_customers.parquet")}
    assert golden.keys() == groups.keys() and manifest["outputs"]["golden_customers.parquet"] == 5
    ivanov = next(g for g in golden.values() if g["record_count"] == 3)
    assert (ivanov["last_name"], ivanov["first_name"], ivanov["middle_name"]) == ("Иванов", "Иван", "Иванович")
    assert ivanov["phones"] == ["+79161234567", "+74951234567"] and ivanov["phone"] == "+79161234567"
    assert str(ivanov["birth_date"]) == "1985-03-05" and ivanov["sources"] == ["crm", "loyalty", "web"]
    lineage = table(hub / "lineage.parquet")
    name_row = next(r for r in lineage if r["golden_id"] == ivanov["golden_id"] and r["attribute"] == "last_name")
    assert (name_row["source"], name_row["source_id"], name_row["rule"]) == ("crm", "000101", "most_complete")
    assert manifest["golden"]["golden_customers"] == 5 and "golden_stage" in manifest["timings"]
    # the first run creates every golden id; the masked copy hides contacts and names
    assert manifest["golden"]["changes"] == {"created": 5}
    masked = {r["golden_id"]: r for r in table(hub / "golden_customers_masked.parquet")}
    assert masked[ivanov["golden_id"]]["phones"] == ["+7*******67", "+7*******67"]
    assert (masked[ivanov["golden_id"]]["last_name"], masked[ivanov["golden_id"]]["full_name"]) == ("И.", None)
    # nobody here shares a flat or a landline with another customer
    assert all(g["household_id"] is None for g in golden.values())
    assert manifest["golden"]["households"]["households"] == 0
    assert {"phone", "email"} <= {b["rule"] for b in manifest["match"]["blocking"]}
    assert Path(manifest["match"]["model"]).is_file()
    assert {"cleanse_stage", "publish", "total"} <= manifest["timings"].keys()
    assert {"read", "map", "finalize"} <= manifest["source_timings"]["crm"].keys()
    assert (hub / "runs" / manifest["run_id"] / "manifest.json").exists()
    # an empty file is allowed, and reported
    assert [w for w in manifest["warnings"] if "leads_empty.csv is empty" in w]
    assert [i["rows"] for i in manifest["inputs"] if i["path"].endswith("leads_empty.csv")] == [0]


def test_same_input_gives_identical_outputs(prefect_harness, flow_config: Path) -> None:
    hub = flow_config.parent / "hub"
    first = run_flow(flow_config)
    before = {n: pq.read_table(hub / n) for n in ("cleansed_customers.parquet", "quarantine.parquet",
                                                   "crosswalk.parquet", "pairs.parquet", "review_queue.parquet",
                                                   "golden_id_history.parquet", "golden_customers.parquet",
                                                   "lineage.parquet", "golden_customers_masked.parquet")}
    second = run_flow(flow_config)
    assert second["run_id"] != first["run_id"]
    assert table(hub / "golden_changes.parquet") == [] and second["golden"]["changes"] == {}
    for name, t in before.items():
        assert pq.read_table(hub / name).equals(t), name
    assert sorted(p.name for p in (hub / "runs").iterdir()) == sorted([first["run_id"], second["run_id"]])


def test_failed_run_leaves_previous_hub_untouched(prefect_harness, flow_config: Path) -> None:
    from pipelines.io import SourceError

    good = run_flow(flow_config)
    hub = flow_config.parent / "hub"
    published = {p.name: p.read_bytes() for p in hub.iterdir() if p.is_file()}
    (flow_config.parent / "loyalty" / "cards.parquet").write_bytes(b"PAR1 truncated")
    with pytest.raises(SourceError, match="not a readable Parquet file"):
        run_flow(flow_config)
    assert {p.name: p.read_bytes() for p in hub.iterdir() if p.is_file()} == published
    failed = [p for p in (hub / "runs").iterdir() if (p / "failed.json").exists()]
    assert len(failed) == 1 and failed[0].name != good["run_id"]
    assert not list(flow_config.parent.glob(".hub.staging-*"))


def hub_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pipelines.cli", *args], capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (lambda cfg: cfg.replace("trust: 0.9", "trust: 9"), "sources[crm].trust"),
        (lambda cfg: cfg.replace("email: Email", "email: E-mail"), "column 'E-mail' is mapped in hub.yml but missing"),
        (lambda cfg: cfg.replace("path: web/*.csv", "path: nowhere/*.csv"), "no file matches 'nowhere/*.csv'"),
    ],
)
def test_cli_bad_input_is_one_line_and_exit_2(flow_config: Path, edit, expected: str) -> None:
    flow_config.write_text(edit(flow_config.read_text(encoding="utf-8")), encoding="utf-8")
    result = hub_cli("run", "--config", str(flow_config))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and expected in lines[0]
    assert not (flow_config.parent / "hub").exists()


def test_cli_rejects_a_bad_date_and_a_missing_config(tmp_path: Path) -> None:
    result = hub_cli("run", "--config", str(tmp_path / "none.yml"))
    assert result.returncode == 2 and "config file not found" in result.stderr
    result = hub_cli("run", "--as-of", "31.12.2026")
    assert result.returncode == 2 and "--as-of: expected a date" in result.stderr


def test_worker_processes_and_small_parts_give_the_same_hub(prefect_harness, flow_config: Path, monkeypatch) -> None:
    """Two spawned workers and 2-row parts (duplicates then span parts) change nothing."""
    hub = flow_config.parent / "hub"
    run_flow(flow_config)
    single = {n: pq.read_table(hub / n) for n in ("cleansed_customers.parquet", "quarantine.parquet")}
    monkeypatch.setenv("HUB_WORKERS", "2")
    monkeypatch.setenv("HUB_PART_ROWS", "2")
    manifest = run_flow(flow_config)
    assert manifest["workers"] == 2
    assert len(list((hub / "runs" / manifest["run_id"] / "parts" / "crm").glob("*.parquet"))) == 3
    for name, t in single.items():
        assert pq.read_table(hub / name).equals(t), name


def golden_ids(hub: Path) -> dict[str, str]:
    return {r["record_key"]: r["golden_id"] for r in table(hub / "crosswalk.parquet")}


def test_golden_ids_are_stable_and_a_new_duplicate_joins_its_customer(prefect_harness, flow_config: Path) -> None:
    hub = flow_config.parent / "hub"
    run_flow(flow_config)
    first = golden_ids(hub)
    leads = flow_config.parent / "web" / "leads.csv"
    # a new lead: Анна Ёлкина again, same mobile and e-mail as crm:000105
    leads.write_text(leads.read_text(encoding="utf-8")
                     + "L5,Анна Ёлкина,8 905 777-88-99,anna@bk.ru,2024-03-05T10:00:00+03:00,google\n",
                     encoding="utf-8")
    run_flow(flow_config)
    second = golden_ids(hub)
    assert {k: second[k] for k in first} == first  # nobody's id changed
    assert second["web:L5"] == first["crm:000105"]
    assert table(hub / "golden_id_history.parquet") == []
    # the change feed names only Анна's golden id, updated with the lead's source and counts
    feed = table(hub / "golden_changes.parquet")
    assert [(r["golden_id"], r["change"]) for r in feed] == [(first["crm:000105"], "updated")]
    assert {"record_count", "sources", "source_count"} <= set(feed[0]["changed_attributes"])


def test_steward_decisions_win_over_the_model(prefect_harness, flow_config: Path) -> None:
    hub = flow_config.parent / "hub"
    run_flow(flow_config)
    before = golden_ids(hub)
    assert before["crm:000102"] == before["web:L2"] and before["web:L4"] != before["loyalty:0000013"]
    sheet = flow_config.parent / "sheet.csv"
    sheet.write_text("record_key_l,record_key_r,decision\n"
                     "crm:000102,web:L2,no_match\n"
                     "web:L4,loyalty:0000013,match\n", encoding="utf-8")
    result = hub_cli("review", "apply", str(sheet), "--config", str(flow_config))
    assert result.returncode == 0, result.stderr
    assert "2 decisions applied" in result.stdout
    run_flow(flow_config)
    after = golden_ids(hub)
    assert after["crm:000102"] != after["web:L2"]  # cannot-link split them
    assert after["web:L4"] == after["loyalty:0000013"]  # must-link joined them
    # the older id stays with one side of each change; retired ids are recorded
    assert after["crm:000102"] == before["crm:000102"] or after["web:L2"] == before["web:L2"]
    events = {(r["golden_id"], r["event"]) for r in table(hub / "golden_id_history.parquet")}
    retired = {before["web:L4"], before["loyalty:0000013"]} - {after["web:L4"]}
    retired_id = retired.pop()
    assert events == {(retired_id, "merge")}
    feed = {(r["golden_id"], r["change"]): r for r in table(hub / "golden_changes.parquet")}
    assert feed[(retired_id, "merged")]["successor_id"] == after["web:L4"]
    split_id = before["crm:000102"]  # kept by one side of the split, the other side is new
    new_id = after["web:L2"] if after["crm:000102"] == split_id else after["crm:000102"]
    assert feed[(split_id, "split")]["successor_id"] == new_id and (new_id, "created") in feed


def test_cli_review_export_and_explain(prefect_harness, flow_config: Path) -> None:
    run_flow(flow_config)
    out = flow_config.parent / "review.csv"
    result = hub_cli("review", "export", "--config", str(flow_config), "--out", str(out))
    assert result.returncode == 0, result.stderr
    header = out.read_text(encoding="utf-8-sig").splitlines()[0].split(",")
    assert header[:2] == ["record_key_l", "record_key_r"] and header[-2:] == ["decision", "note"]
    result = hub_cli("explain", "crm:000101", "web:L1", "--config", str(flow_config))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "crm:000101  vs  web:L1"
    assert any(line.startswith("email ") for line in lines)
    assert any("as scored by run" in line for line in lines)  # the run's own weights
    assert "same golden customer" in lines[-1]
    result = hub_cli("explain", "crm:000101", "crm:999", "--config", str(flow_config))
    assert result.returncode == 2 and "record crm:999 is not in the published hub" in result.stderr


def test_a_saved_model_is_reused(prefect_harness, flow_config: Path) -> None:
    hub = flow_config.parent / "hub"
    first = run_flow(flow_config)
    assert first["match"]["model_source"] == "bundled"  # 8 records are too few to train on
    saved = Path(first["match"]["model"])
    flow_config.write_text(flow_config.read_text(encoding="utf-8") + f"match:\n  model: {saved}\n", encoding="utf-8")
    second = run_flow(flow_config)
    assert second["match"]["model_source"] == "saved"
    assert json.loads(Path(second["match"]["model"]).read_text()) == json.loads(saved.read_text())
    before = hub / "runs" / first["run_id"] / "match"
    assert pq.read_table(hub / "crosswalk.parquet").equals(pq.read_table(before / "crosswalk.parquet"))
    assert pq.read_table(hub / "pairs.parquet").equals(pq.read_table(before / "pairs.parquet"))


def test_block_size_guard_is_reported_without_personal_data(prefect_harness, flow_config: Path) -> None:
    # Иван Иванов's mobile is on three records: with blocks capped at 2 records the phone
    # rule skips it (he is still found through his e-mail) and the manifest says so, masked
    flow_config.write_text(flow_config.read_text(encoding="utf-8") + "match:\n  max_block_size: 2\n",
                           encoding="utf-8")
    manifest = run_flow(flow_config)
    phone = next(b for b in manifest["match"]["blocking"] if b["rule"] == "phone")
    assert phone["excluded_keys"] == 1 and phone["largest_excluded_block"] == 3
    text = json.dumps(manifest, ensure_ascii=False)
    assert "79161234567" not in text and "ivanov@mail.ru" not in text


def _hub_text(hub: Path) -> str:
    """Every value of every file under the hub (Parquet read as tables, the rest as text)."""
    parts = []
    for path in sorted(hub.rglob("*")):
        if path.suffix == ".parquet":
            parts.append(repr(pq.read_table(path).to_pylist()))
        elif path.is_file():
            parts.append(path.read_text(encoding="utf-8", errors="replace"))
    return "\n".join(parts)


def test_erasure_removes_the_person_everywhere(prefect_harness, flow_config: Path) -> None:
    hub = flow_config.parent / "hub"
    run_flow(flow_config)  # the person is published once, then erased
    before = golden_ids(hub)
    ivanov = before["crm:000101"]
    (flow_config.parent / "erasure.csv").write_text("email,phone,source,source_id,note\n"
                                                    "IVANOV@mail.ru,,,,ticket 17\n", encoding="utf-8")
    flow_config.write_text(flow_config.read_text(encoding="utf-8") + "erasure: erasure.csv\n", encoding="utf-8")
    manifest = run_flow(flow_config)
    after = golden_ids(hub)
    # Иван Иванов had three records (crm, the Latin web lead, the loyalty card): all gone
    assert set(before) - set(after) == {"crm:000101", "web:L1", "loyalty:0000012"}
    assert ivanov not in set(after.values())
    text = _hub_text(hub)
    for trace in ("ivanov@mail.ru", "Иванов", "Ivanov", "9161234567", "+74951234567", "4951234567", "000101"):
        assert trace not in text, trace
    # everyone else is still there, and the change feed tells downstream systems to forget him
    assert {k: after[k] for k in after} == {k: before[k] for k in after}
    feed = {r["golden_id"]: r["change"] for r in table(hub / "golden_changes.parquet")}
    assert feed == {ivanov: "retired"}
    report = manifest["erasure"]
    assert (report["requests"], report["golden_ids"], report["records"]) == (1, 1, 3)
    assert len(report["hashes"]) == 1 and len(report["hashes"][0]) == 64
    salt = (flow_config.parent / "erasure.csv.salt").read_text().strip()
    assert report["hashes"] == [hashlib.sha256(f"{salt}|email:ivanov@mail.ru".encode()).hexdigest()]
    assert manifest["outputs"]["golden_customers.parquet"] == 4 and manifest["match"]["golden_ids"] == 4
    # a bad request is one line naming the file and line, and the hub stays as it was
    (flow_config.parent / "erasure.csv").write_text("email,phone\n,not a phone\n", encoding="utf-8")
    result = hub_cli("run", "--config", str(flow_config))
    assert result.returncode != 0 and "erasure.csv line 2: the phone is not a phone number" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert golden_ids(hub) == after
