"""A pool of worker processes for the CPU-heavy, file-to-file jobs of a run.

Prefect tasks orchestrate; inside a task the pure cleansing work fans out to processes so
that both cores of a small machine work (threads would share one core under the GIL).
Workers are *spawned*, never forked: the parent runs Prefect's threads, and forking a
threaded process can copy a held lock. Each worker imports the rule modules and loads
their dictionaries once, in :func:`_warm_up`.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from contextlib import contextmanager
from typing import Any, TypeVar

T = TypeVar("T")

#: Environment variable that sets the number of worker processes (default: CPU count, max 8).
WORKERS_ENV = "HUB_WORKERS"
#: Rows per part of a source handed to one cleanse job.
PART_ROWS_ENV = "HUB_PART_ROWS"
DEFAULT_PART_ROWS = 50_000
#: Below this many input bytes a run cleanses in-process: spawning workers costs seconds.
SMALL_INPUT_BYTES = 8 * 1024 * 1024


def worker_count(input_bytes: int) -> int:
    """How many worker processes to use for inputs of this size (1 means in-process)."""
    configured = os.environ.get(WORKERS_ENV)
    if configured:
        return max(1, int(configured))
    if input_bytes < SMALL_INPUT_BYTES:
        return 1
    return max(1, min(8, os.cpu_count() or 1))


def part_rows() -> int:
    return max(1, int(os.environ.get(PART_ROWS_ENV, DEFAULT_PART_ROWS)))


class InlineExecutor(Executor):
    """Runs each job at once in this process (one worker: no spawning, same results)."""

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        future: Future[T] = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # noqa: BLE001 - handed to the caller through the future
            future.set_exception(exc)
        return future


def _warm_up() -> None:
    """Import the rule modules and load their dictionaries once per worker."""
    from pipelines.cleanse import jobs

    jobs.warm_up()


@contextmanager
def worker_pool(workers: int) -> Iterator[Executor]:
    """An executor with ``workers`` spawned processes, or in-process for one worker."""
    if workers <= 1:
        yield InlineExecutor()
        return
    context = multiprocessing.get_context("spawn")
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_warm_up)
    try:
        yield pool
    except BaseException:
        pool.shutdown(wait=True, cancel_futures=True)  # a failed run should not finish queued jobs
        raise
    pool.shutdown(wait=True)


def run_all(pool: Executor, fn: Callable[..., T], calls: Iterable[tuple]) -> list[T]:
    """Submit every call, wait for all, return results in call order; first error wins."""
    futures = [pool.submit(fn, *args) for args in calls]
    try:
        return [f.result() for f in futures]
    finally:
        for f in futures:
            f.cancel()
