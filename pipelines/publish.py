"""Run folders, the run lock, and the atomic replacement of the published hub.

Layout around ``hub.out`` (say ``data/hub``)::

    data/hub/                      the published hub (what readers open)
    data/hub/runs/<run_id>/        working files of each run (kept for audit)
    data/.hub.lock                 held (flock) by the one run working on this hub
    data/.hub.staging-<run_id>/    next hub, built during publishing
    data/.hub.old-<run_id>/        previous hub, for a moment during the swap

A run builds the next hub in the staging folder and swaps it in with renames. If a run is
killed, :func:`recover` (called under the lock before every run) finishes or undoes the
swap, so readers always find a complete hub: the previous one or the new one.
"""

from __future__ import annotations

import fcntl
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

RUNS = "runs"
MANIFEST = "manifest.json"


class LockError(RuntimeError):
    """Another run holds the hub; one-line message."""


def _sibling(out: Path, kind: str, run_id: str = "") -> Path:
    suffix = f"-{run_id}" if run_id else ""
    return out.parent / f".{out.name}.{kind}{suffix}"


def lock_path(out: Path) -> Path:
    return _sibling(out, "lock")


def staging_dir(out: Path, run_id: str) -> Path:
    """Where the next hub is assembled before the swap."""
    return _sibling(out, "staging", run_id)


def run_dir(out: Path, run_id: str) -> Path:
    return out / RUNS / run_id


@contextmanager
def hub_lock(out: Path) -> Iterator[None]:
    """Hold an exclusive lock on a hub for the duration of a run.

    The lock is an ``flock`` on a file beside the hub: the kernel releases it when the
    process dies, so a killed run never leaves a stale lock behind.
    """
    out.parent.mkdir(parents=True, exist_ok=True)
    path = lock_path(out)
    handle = open(path, "a+", encoding="utf-8")
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "unknown process"
            raise LockError(f"another run is already working on {out} ({holder}); try again when it ends") from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}")
        handle.flush()
        yield
    finally:
        handle.close()


def recover(out: Path) -> list[str]:
    """Finish or undo a publish that a killed run left half done; say what was done.

    Call only while holding :func:`hub_lock`.
    """
    actions: list[str] = []
    stagings = sorted(out.parent.glob(f".{out.name}.staging-*"))
    olds = sorted(out.parent.glob(f".{out.name}.old-*"))
    if not out.exists():
        complete = [s for s in stagings if (s / MANIFEST).exists()]
        if complete:
            complete[-1].rename(out)
            stagings.remove(complete[-1])
            actions.append(f"completed the interrupted publish of {complete[-1].name}")
        elif olds:
            olds[-1].rename(out)
            olds.remove(olds[-1])
            actions.append("restored the previous hub after an interrupted publish")
    for staging in stagings:
        runs = staging / RUNS
        if runs.exists() and out.exists() and not (out / RUNS).exists():
            runs.rename(out / RUNS)
            actions.append("moved run folders back into the hub")
        shutil.rmtree(staging, ignore_errors=True)
        actions.append(f"removed unfinished {staging.name}")
    for old in olds:
        if out.exists():
            shutil.rmtree(old, ignore_errors=True)
    return actions


def swap_in(out: Path, staging: Path) -> None:
    """Replace the published hub with ``staging`` (which must hold its manifest).

    Run folders move along with the hub. Each step is a rename on one file system; a crash
    between steps is repaired by :func:`recover`.
    """
    if not (staging / MANIFEST).exists():
        raise RuntimeError(f"refusing to publish {staging}: it has no {MANIFEST}")
    out.mkdir(parents=True, exist_ok=True)
    if (out / RUNS).exists():
        (out / RUNS).rename(staging / RUNS)
    old = staging.with_name(staging.name.replace(".staging-", ".old-", 1))
    out.rename(old)
    staging.rename(out)
    shutil.rmtree(old, ignore_errors=True)


def prune_runs(out: Path, *, keep: int, purge: bool = False) -> list[str]:
    """Delete the data files (``*.parquet``) of old run folders; manifests, failure reports
    and match models stay (a saved model may be reused).

    Run folders hold copies of source data with personal data in them: the newest ``keep``
    folders (by name, which is the run's start time) keep their files for audit; with
    ``purge`` (erasure requests were applied) every folder loses them, since they were
    written before the erasure. Returns the folders pruned.
    """
    runs = out / RUNS
    if not runs.exists():
        return []
    folders = sorted((p for p in runs.iterdir() if p.is_dir()), key=lambda p: p.name)
    pruned = []
    for folder in folders if purge else folders[:-keep]:
        files = list(folder.rglob("*.parquet"))
        for f in files:
            f.unlink(missing_ok=True)
        if files:
            pruned.append(folder.name)
    return pruned
