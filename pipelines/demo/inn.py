"""Russian taxpayer numbers (ИНН) with their check digits.

A legal entity has 10 digits: region (2), tax office (2), serial (5), one check digit.
An individual has 12 digits: region (2), tax office (2), serial (6), two check digits.
Each check digit is the weighted digit sum modulo 11, then modulo 10.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

_W10 = (2, 4, 10, 3, 5, 9, 4, 6, 8)
_W11 = (7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
_W12 = (3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8)


def _check(digits: str, weights: tuple[int, ...]) -> str:
    return str(sum(int(d) * w for d, w in zip(digits, weights)) % 11 % 10)


def inn10(body: str) -> str:
    """Complete a 9-digit body to a valid 10-digit legal-entity INN."""
    if len(body) != 9 or not body.isdigit():
        raise ValueError(f"INN body must be 9 digits: {body!r}")
    return body + _check(body, _W10)


def inn12(body: str) -> str:
    """Complete a 10-digit body to a valid 12-digit personal INN."""
    if len(body) != 10 or not body.isdigit():
        raise ValueError(f"INN body must be 10 digits: {body!r}")
    eleven = body + _check(body, _W11)
    return eleven + _check(eleven, _W12)


def is_valid_inn(value: str) -> bool:
    """True when ``value`` is 10 or 12 digits with correct check digits."""
    if not value.isdigit():
        return False
    if len(value) == 10:
        return value[9] == _check(value[:9], _W10)
    if len(value) == 12:
        return value[10] == _check(value[:10], _W11) and value[11] == _check(value[:11], _W12)
    return False


def corrupt(value: str, k: int) -> str:
    """A plausible typing error that breaks the checksum (k selects the kind).

    0: last digit changed; 1: two neighbouring digits swapped; 2: one digit changed in the
    middle. Falls back to changing the last digit whenever the result would still be valid.
    """
    digits = list(value)
    if k % 3 == 1:
        i = 3 + (k // 3) % (len(digits) - 5)
        digits[i], digits[i + 1] = digits[i + 1], digits[i]
    elif k % 3 == 2:
        i = 4 + (k // 3) % (len(digits) - 6)
        digits[i] = str((int(digits[i]) + 1 + k % 7) % 10)
    out = "".join(digits)
    if out == value or is_valid_inn(out):
        out = value[:-1] + str((int(value[-1]) + 1 + k % 8) % 10)
        if is_valid_inn(out):
            out = value[:-1] + str((int(value[-1]) + 5) % 10)
    return out


def _padded(values: np.ndarray, width: int) -> np.ndarray:
    return pd.Series(values).astype(str).str.zfill(width).to_numpy(dtype=object, copy=True)


def _checks(digits: np.ndarray, weights: tuple[int, ...]) -> np.ndarray:
    return (digits[:, : len(weights)] * np.asarray(weights)).sum(axis=1) % 11 % 10


def inn12_many(bodies: np.ndarray) -> np.ndarray:
    """Vectorised :func:`inn12` for integer bodies (< 10**10); returns an object array."""
    bodies = np.asarray(bodies, dtype=np.int64)
    digits = (bodies[:, None] // 10 ** np.arange(9, -1, -1)) % 10
    c11 = _checks(digits, _W11)
    c12 = _checks(np.column_stack([digits, c11]), _W12)
    return _padded(bodies * 100 + c11 * 10 + c12, 12)


def inn10_many(bodies: np.ndarray) -> np.ndarray:
    """Vectorised :func:`inn10` for integer bodies (< 10**9); returns an object array."""
    bodies = np.asarray(bodies, dtype=np.int64)
    digits = (bodies[:, None] // 10 ** np.arange(8, -1, -1)) % 10
    c10 = _checks(digits, _W10)
    return _padded(bodies * 10 + c10, 10)
