"""Shared vocabulary of the cleansing rules.

Quality codes follow Dadata's convention, one code per field kind and record:

* ``QC_VALID`` (0): the value was valid as given;
* ``QC_CORRECTED`` (1): the value was corrected or standardised;
* ``QC_SUSPICIOUS`` (2): kept, but flagged for a human check;
* ``QC_INVALID`` (3): the value is unusable; the clean column is null, the raw value stays
  in the record's ``raw`` JSON.

A field that was empty in the source has a null quality code: there was nothing to judge.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

QC_VALID = 0
QC_CORRECTED = 1
QC_SUSPICIOUS = 2
QC_INVALID = 3

#: Longest value any rule looks at; longer cells are absurd for a customer field.
MAX_VALUE_LENGTH = 1000


def blank_to_none(value: object) -> str | None:
    """Return the value stripped of surrounding white space, or None when nothing is left.

    Non-string values (None, NaN, pandas NA) count as blank.
    """
    if not isinstance(value, str):
        return None
    value = value.strip()
    return value or None


def map_distinct(
    values: pd.Series,
    rule: Callable[[str], dict[str, Any]],
    columns: list[str],
    dtypes: dict[str, str] | None = None,
) -> pd.DataFrame:
    """Apply a scalar rule once per distinct non-blank value and map the results back.

    ``rule`` takes a stripped, non-empty string and returns a dict keyed by ``columns``
    (missing keys mean null). Blank cells get all-null rows. The result has the same index
    as ``values`` and exactly ``columns``, in order, cast to ``dtypes`` where given.
    Customer fields repeat a lot, so this is much faster than applying the rule per row;
    the mapping back is a vectorised take on ``pd.factorize`` codes.
    """
    codes, uniques = pd.factorize(values.astype("object"), use_na_sentinel=True)
    results: dict[str, tuple] = {}
    per_column: list[list[Any]] = [[] for _ in columns]
    for raw in uniques.tolist():
        key = blank_to_none(raw)
        if key is None:
            row: tuple = tuple(None for _ in columns)
        elif key in results:
            row = results[key]
        else:
            out = rule(key)
            row = results[key] = tuple(out.get(c) for c in columns)
        for i, value in enumerate(row):
            per_column[i].append(value)
    frame = pd.DataFrame(index=values.index)
    for name, column in zip(columns, per_column):
        table = np.empty(len(column) + 1, dtype=object)
        table[: len(column)] = column
        table[len(column)] = None  # code -1 (missing) takes the last slot
        frame[name] = pd.Series(table[codes], index=values.index, dtype="object")
    for col, dtype in (dtypes or {}).items():
        frame[col] = frame[col].astype(dtype)
    return frame


def expand_distinct(distinct: np.ndarray, codes: np.ndarray, dtype: str) -> Any:
    """Row values from per-distinct values (``codes`` index ``distinct``; ``distinct[-1]`` is
    the value of blank cells, code -1), as a pandas array of ``dtype`` ("str", "Int8", ...)."""
    if dtype == "str":
        spare = len(distinct) - 1
        taken = pa.array(distinct, type=pa.string(), from_pandas=True).take(
            pa.array(np.where(codes < 0, spare, codes), type=pa.int64())
        )
        return pd.array(taken.to_pandas(), dtype="str")
    if dtype == "Int8":
        missing = np.array([v is None for v in distinct.tolist()], dtype=bool)
        numbers = np.array([0 if v is None else v for v in distinct.tolist()], dtype=np.int8)
        return pd.arrays.IntegerArray(numbers[codes], missing[codes])
    return pd.array(distinct[codes], dtype=dtype)


def object_array(items: list[Any]) -> np.ndarray:
    """A 1-d object array holding ``items`` as they are (lists stay list objects)."""
    out = np.empty(len(items), dtype=object)
    for k, item in enumerate(items):
        out[k] = item
    return out


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause automatic garbage collection while a batch allocates many long-lived objects.

    Cleansing a column builds millions of small containers (rows, cached tokens, lists);
    CPython's cyclic collector would walk all of them again and again as they accumulate
    (a fifth to a third of the run time, measured on names and addresses). The rules create
    no reference cycles, so there is nothing for it to free; its previous state is restored.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def arrow_mask(array: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """A boolean Arrow result as a numpy mask, null counting as False."""
    return np.asarray(array.fill_null(False).to_numpy(zero_copy_only=False), dtype=bool)


def is_digit_run(digits: str) -> bool:
    """Ascending or descending digit run, wrapping 9-0: 123456789, 98765, 8901."""
    return digits in "01234567890123456789" or digits in "98765432109876543210"
