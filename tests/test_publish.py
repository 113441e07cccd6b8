"""Atomic publishing: the lock, the swap, and recovery from a run killed mid-publish."""

from __future__ import annotations

import json
import multiprocessing
from pathlib import Path

import pytest

from pipelines.publish import LockError, MANIFEST, hub_lock, recover, run_dir, staging_dir, swap_in


def published(folder: Path, run: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "golden_customers.parquet").write_text(run)
    (folder / MANIFEST).write_text(json.dumps({"run_id": run}))
    return folder


def current_run(out: Path) -> str:
    return json.loads((out / MANIFEST).read_text())["run_id"]


def test_swap_replaces_hub_and_keeps_run_folders(tmp_path: Path) -> None:
    out = tmp_path / "hub"
    published(out, "r1")
    run_dir(out, "r1").mkdir(parents=True)
    run_dir(out, "r2").mkdir(parents=True)
    swap_in(out, published(staging_dir(out, "r2"), "r2"))
    assert current_run(out) == "r2"
    assert sorted(p.name for p in (out / "runs").iterdir()) == ["r1", "r2"]
    assert [p.name for p in tmp_path.iterdir()] == ["hub"]


def test_swap_refuses_a_staging_folder_without_manifest(tmp_path: Path) -> None:
    out = published(tmp_path / "hub", "r1")
    staging = staging_dir(out, "r2")
    staging.mkdir()
    with pytest.raises(RuntimeError, match="no manifest.json"):
        swap_in(out, staging)
    assert current_run(out) == "r1"


def test_recover_undoes_an_unfinished_build(tmp_path: Path) -> None:
    out = published(tmp_path / "hub", "r1")
    (staging_dir(out, "r2")).mkdir()
    (staging_dir(out, "r2") / "golden_customers.parquet").write_text("half")
    actions = recover(out)
    assert current_run(out) == "r1" and actions
    assert not staging_dir(out, "r2").exists()


def test_recover_after_kill_between_renames_completes_the_publish(tmp_path: Path) -> None:
    out = published(tmp_path / "hub", "r1")
    (out / "runs" / "r1").mkdir(parents=True)
    staging = published(staging_dir(out, "r2"), "r2")
    # the swap was killed after moving runs and renaming the old hub away
    (out / "runs").rename(staging / "runs")
    out.rename(tmp_path / ".hub.old-r2")
    recover(out)
    assert current_run(out) == "r2"
    assert (out / "runs" / "r1").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hub"]


def test_recover_after_kill_before_renaming_moves_runs_back(tmp_path: Path) -> None:
    out = published(tmp_path / "hub", "r1")
    (out / "runs" / "r1").mkdir(parents=True)
    staging = published(staging_dir(out, "r2"), "r2")
    (out / "runs").rename(staging / "runs")
    recover(out)
    assert current_run(out) == "r1"
    assert (out / "runs" / "r1").exists()
    assert not staging.exists()


def test_recover_restores_old_hub_when_new_one_was_incomplete(tmp_path: Path) -> None:
    out = published(tmp_path / "hub", "r1")
    staging = staging_dir(out, "r2")
    staging.mkdir()
    out.rename(tmp_path / ".hub.old-r2")
    recover(out)
    assert current_run(out) == "r1"


def _hold_lock(out: str, ready, release) -> None:  # runs in a child process
    with hub_lock(Path(out)):
        ready.set()
        release.wait(10)


def test_second_run_on_the_same_hub_is_refused_with_a_clear_message(tmp_path: Path) -> None:
    out = tmp_path / "hub"
    ctx = multiprocessing.get_context("spawn")
    ready, release = ctx.Event(), ctx.Event()
    child = ctx.Process(target=_hold_lock, args=(str(out), ready, release))
    child.start()
    try:
        assert ready.wait(30)
        with pytest.raises(LockError, match=r"another run is already working on .*hub \(pid \d+\)"):
            with hub_lock(out):
                pass
    finally:
        release.set()
        child.join(10)
    with hub_lock(out):  # released when the holder ended
        pass


def test_lock_is_released_when_the_holder_dies(tmp_path: Path) -> None:
    out = tmp_path / "hub"
    ctx = multiprocessing.get_context("spawn")
    ready, release = ctx.Event(), ctx.Event()
    child = ctx.Process(target=_hold_lock, args=(str(out), ready, release))
    child.start()
    assert ready.wait(30)
    child.kill()
    child.join(10)
    with hub_lock(out):
        pass


def test_prune_runs_keeps_the_newest_data_and_every_manifest(tmp_path: Path) -> None:
    from pipelines.publish import prune_runs

    out = tmp_path / "hub"
    for run in ("20260101T000000Z", "20260102T000000Z", "20260103T000000Z"):
        folder = out / "runs" / run
        (folder / "parts" / "crm").mkdir(parents=True)
        (folder / "parts" / "crm" / "part-00000.parquet").write_bytes(b"x")
        (folder / "match").mkdir()
        (folder / "match" / "match_model.json").write_text("{}")
        (folder / "manifest.json").write_text("{}")
    assert prune_runs(out, keep=2) == ["20260101T000000Z"]
    data = sorted(p.relative_to(out / "runs").parts[0] for p in out.rglob("*.parquet"))
    assert data == ["20260102T000000Z", "20260103T000000Z"]
    assert len(list(out.rglob("manifest.json"))) == 3 and len(list(out.rglob("match_model.json"))) == 3
    # erasure applied: no run keeps data written before it
    assert prune_runs(out, keep=2, purge=True) == ["20260102T000000Z", "20260103T000000Z"]
    assert not list(out.rglob("*.parquet")) and len(list(out.rglob("manifest.json"))) == 3
    assert prune_runs(tmp_path / "none", keep=1) == []
