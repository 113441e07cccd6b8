"""Vectorised text building for a million rows: dates, zero-padded numbers, concatenation.

Object arrays of Python strings are what the writers need; building them cell by cell in
Python costs ~1 µs per cell, these helpers ~0.1 µs. ``None`` marks a missing value.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd

_TWO = np.array([f"{i:02d}" for i in range(100)], dtype=object)
_YEAR = np.array([str(i) for i in range(3000)], dtype=object)


def cat(*parts) -> np.ndarray:
    """Element-wise concatenation of object arrays and plain strings (no None allowed).

    One ``"".join`` per row: three times faster than adding object arrays pairwise, which
    allocates every intermediate string."""
    n = next((len(p) for p in parts if not isinstance(p, str)), None)
    if n is None:
        return np.array(["".join(parts)], dtype=object)
    cols = [itertools.repeat(p, n) if isinstance(p, str) else p for p in parts]
    return np.fromiter(map("".join, zip(*cols)), dtype=object, count=n)


def fmt_dates(values: np.ndarray, pattern: str) -> np.ndarray:
    """Format datetimes with ``%Y %m %d %H %M %S`` codes; NaT becomes None."""
    v = np.asarray(values).astype("datetime64[s]")
    nat = np.isnat(v)
    safe = np.where(nat, np.datetime64("2000-01-01T00:00:00"), v)
    day = safe.astype("datetime64[D]")
    month = safe.astype("datetime64[M]")
    parts = {
        "Y": _YEAR[safe.astype("datetime64[Y]").astype(np.int64) + 1970],
        "m": _TWO[month.astype(np.int64) % 12 + 1],
        "d": _TWO[(day - month.astype("datetime64[D]")).astype(np.int64) + 1],
    }
    secs = (safe - day.astype("datetime64[s]")).astype(np.int64)
    parts["H"] = _TWO[secs // 3600]
    parts["M"] = _TWO[secs // 60 % 60]
    parts["S"] = _TWO[secs % 60]
    pieces = []
    i = 0
    literal = ""
    while i < len(pattern):
        ch = pattern[i]
        if ch == "%" and i + 1 < len(pattern):
            if literal:
                pieces.append(literal)
                literal = ""
            pieces.append(parts[pattern[i + 1]])
            i += 2
        else:
            literal += ch
            i += 1
    if literal:
        pieces.append(literal)
    out = cat(*pieces)
    if len(out) != len(v):
        out = np.full(len(v), out[0], dtype=object)
    out = out.astype(object)
    out[nat] = None
    return out


def map_distinct(values: np.ndarray, fn) -> np.ndarray:
    """``fn`` applied once per distinct value of an object array, mapped back."""
    codes, uniq = pd.factorize(np.asarray(values, dtype=object), use_na_sentinel=False)
    mapped = np.empty(len(uniq), dtype=object)
    mapped[:] = [fn(u) for u in uniq]
    return mapped[codes] if len(codes) else np.empty(0, dtype=object)
