"""Erasure (right to be forgotten, 152-FZ / GDPR): who must disappear from the hub.

The ``erasure`` file named in hub.yml lists requests, one per row, by any of: ``email``,
``phone``, or ``source`` + ``source_id``. A request matches an accepted record holding that
e-mail (any of its e-mails, or the typo-corrected suggestion), that phone (any of its
phones, compared as E.164 after the same cleansing sources get), or that source record.
Every golden customer with a matching member disappears *with all its member records*
(the person's other records carry their name and history too). Quarantined rows go when
they are such a member's source record, match a request's source record, or hold the
requested e-mail or phone anywhere in their raw text (a quarantined row was never matched,
so its raw text is searched: an e-mail case-insensitively, a phone by its national digits).

The manifest gets only counts and salted SHA-256 hashes of the normalised identifiers
(:func:`request_hashes`): the salt is a secret kept beside hub.yml, never in the hub, so the
hashes prove which requests a run applied without letting anyone enumerate phone numbers.

Pure functions: frames in, new frames / sets out, no I/O.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from pipelines.cleanse.phones import clean_phone

#: Columns an erasure file may have (at least one of email, phone, source + source_id per row).
ERASURE_COLUMNS: tuple[str, ...] = ("email", "phone", "source", "source_id")
#: Extra columns tolerated for the operators' bookkeeping (never read).
NOTE_COLUMNS: tuple[str, ...] = ("requested_at", "note", "ticket")

_NON_DIGIT = re.compile(r"\D+")


class ErasureError(ValueError):
    """A problem with the erasure file, with a one-line message naming the line."""


@dataclass(frozen=True)
class ErasureKeys:
    """Normalised identifiers of the erasure requests."""

    emails: frozenset[str] = frozenset()
    phones: frozenset[str] = frozenset()      # E.164
    records: frozenset[tuple[str, str]] = frozenset()  # (source, source_id)
    requests: int = 0
    digits: frozenset[str] = field(default=frozenset(), compare=False)  # national digits of the phones

    def __bool__(self) -> bool:
        return self.requests > 0


def _text(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    value = value.strip()
    return value or None


def parse_requests(frame: pd.DataFrame, *, default_country: str, where: str) -> ErasureKeys:
    """Normalise the rows of an erasure file (text cells, ``None`` or "" for empty).

    Raises :class:`ErasureError` naming ``where`` and the line (header = line 1) for an
    unknown column, a row with nothing to match, a ``source`` without ``source_id`` (or the
    reverse), an e-mail without "@", or a phone that is not a phone number.
    """
    unknown = [c for c in frame.columns if c not in ERASURE_COLUMNS + NOTE_COLUMNS]
    if unknown:
        raise ErasureError(f"{where}: unknown column(s) {', '.join(map(str, unknown))} "
                           f"(expected: {', '.join(ERASURE_COLUMNS)})")
    if not any(c in frame.columns for c in ERASURE_COLUMNS):
        raise ErasureError(f"{where}: expected at least one of the columns {', '.join(ERASURE_COLUMNS)}")
    emails: set[str] = set()
    phones: set[str] = set()
    digits: set[str] = set()
    records: set[tuple[str, str]] = set()
    requests = 0
    for n, row in enumerate(frame.to_dict("records"), start=2):
        email, phone = _text(row.get("email")), _text(row.get("phone"))
        source, source_id = _text(row.get("source")), _text(row.get("source_id"))
        if not (email or phone or source or source_id):
            continue
        requests += 1
        if (source is None) != (source_id is None):
            raise ErasureError(f"{where} line {n}: source and source_id go together")
        if source is not None and source_id is not None:
            records.add((source, source_id))
        if email is not None:
            if "@" not in email:
                raise ErasureError(f"{where} line {n}: the email has no '@'")
            emails.add(email.lower())
        if phone is not None:
            cleaned = clean_phone(phone, default_country)
            if not cleaned["phones"]:
                raise ErasureError(f"{where} line {n}: the phone is not a phone number")
            for number in cleaned["phones"]:
                phones.add(number)
                digits.add(_national_digits(number))
    return ErasureKeys(frozenset(emails), frozenset(phones), frozenset(records), requests, frozenset(digits))


def _national_digits(e164: str) -> str:
    """The last ten digits of an E.164 number (the national number of most countries; what
    a raw cell holds whatever prefix, 8 or +7, it was typed with)."""
    return _NON_DIGIT.sub("", e164)[-10:]


def request_hashes(keys: ErasureKeys, salt: str) -> list[str]:
    """Salted SHA-256 of every normalised identifier (``email:...``, ``phone:...``,
    ``record:source:source_id``), sorted: what the manifest may say about the requests."""
    items = ([f"email:{e}" for e in keys.emails] + [f"phone:{p}" for p in keys.phones]
             + [f"record:{s}:{i}" for s, i in keys.records])
    return sorted(hashlib.sha256(f"{salt}|{item}".encode()).hexdigest() for item in items)


def _holds(values: pd.Series, wanted: frozenset[str], *, lower: bool = False) -> np.ndarray:
    """Per row: a string or any element of a list is in ``wanted``."""
    out = np.zeros(len(values), dtype=bool)
    if not wanted:
        return out
    for k, value in enumerate(values.tolist()):
        items: Iterable[Any] = value if isinstance(value, (list, tuple, np.ndarray)) else (value,)
        for item in items:
            if isinstance(item, str) and (item.lower() if lower else item) in wanted:
                out[k] = True
                break
    return out


def erased_golden_ids(members: pd.DataFrame, keys: ErasureKeys) -> set[str]:
    """Golden ids with a member matching a request.

    ``members``: accepted records with ``golden_id``, ``source``, ``source_id`` and any of
    ``email``, ``emails``, ``email_suggestion``, ``phone``, ``phones`` (missing = null).
    """
    if not keys or members.empty:
        return set()
    hit = np.zeros(len(members), dtype=bool)
    for column in ("email", "emails", "email_suggestion"):
        if column in members.columns:
            hit |= _holds(members[column], keys.emails, lower=True)
    for column in ("phone", "phones"):
        if column in members.columns:
            hit |= _holds(members[column], keys.phones)
    if keys.records:
        pairs = list(zip(members["source"].tolist(), members["source_id"].tolist()))
        hit |= np.fromiter((p in keys.records for p in pairs), dtype=bool, count=len(pairs))
    return set(members.loc[hit, "golden_id"].tolist())


def quarantine_hits(quarantine: pd.DataFrame, keys: ErasureKeys, erased_records: set[tuple[str, str]]) -> np.ndarray:
    """Per quarantined row (``source``, ``source_id``, ``raw``): does it belong to an erased
    person? Its source record is erased or requested, or its raw text holds a requested
    e-mail (case-insensitive) or a requested phone's national digits."""
    n = len(quarantine)
    out = np.zeros(n, dtype=bool)
    if n == 0 or not (keys or erased_records):
        return out
    wanted = erased_records | set(keys.records)
    pairs = zip(quarantine["source"].tolist(), quarantine["source_id"].tolist())
    out |= np.fromiter((p in wanted for p in pairs), dtype=bool, count=n)
    if keys.emails or keys.digits:
        for k, raw in enumerate(quarantine["raw"].tolist()):
            if out[k] or not isinstance(raw, str):
                continue
            text = raw.lower()
            if any(e in text for e in keys.emails):
                out[k] = True
                continue
            numbers = [_NON_DIGIT.sub("", cell) for cell in _cells(raw)]
            out[k] = any(d in cell for d in keys.digits for cell in numbers)
    return out


def _cells(raw: str) -> list[str]:
    """The text cells of a quarantined row's raw JSON (the whole text if it is not JSON), so
    a phone's digits are searched within one cell, never across two."""
    try:
        data = json.loads(raw)
    except ValueError:
        return [raw]
    if isinstance(data, dict):
        return [v if isinstance(v, str) else json.dumps(v) for v in data.values()]
    return [raw]
