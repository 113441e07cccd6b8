"""E-mail cleansing: syntax, standard form, several addresses per cell, typo suggestions, flags.

* Syntax: a strict ASCII path (regular expressions equivalent to email-validator's rules
  for plain ASCII addresses, ~100x faster) and email-validator itself, without DNS, for
  everything else (IDN domains, Unicode local parts, anything unusual).
* Standard form: trimmed, lowercased, IDN domains in Unicode (``почта.рф``, also when
  written in Punycode). Plus-addressing is kept as given.
* Domain typos (gmail.con, mail.ri, gmial.com) are never applied: the corrected address
  goes to ``email_suggestion`` with qc 1 and ``email`` keeps what the customer typed.
  Targets are a table of popular providers; real look-alike domains (main.ru, mall.ru)
  are a table that is never corrected; a domain whose registrable label is shorter than
  four letters (vk.ru, ok.ru, bk.ru, rt.ru) is only corrected when its top-level domain
  does not exist (checked offline against the Public Suffix List).
* Flags (qc 2): disposable domains (``disposable-email-domains``), role addresses
  (info@, sales@) and placeholder / test addresses.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from disposable_email_domains import blocklist as _DISPOSABLE
from email_validator import EmailNotValidError, validate_email
from publicsuffixlist import PublicSuffixList
from rapidfuzz import process
from rapidfuzz.distance import OSA

from pipelines.cleanse.base import (
    MAX_VALUE_LENGTH,
    QC_CORRECTED,
    QC_INVALID,
    QC_SUSPICIOUS,
    QC_VALID,
    arrow_mask,
    blank_to_none,
    expand_distinct,
    gc_paused,
    object_array,
)

#: Output columns of :func:`clean_emails`, in order.
EMAIL_COLUMNS: list[str] = ["email", "emails", "email_suggestion", "qc_email", "email_issues"]

_DTYPES: dict[str, str] = {
    "email": "str", "emails": "object", "email_suggestion": "str", "qc_email": "Int8",
    "email_issues": "object",
}

_DATA = Path(__file__).parent / "data"


def _lines(name: str) -> list[str]:
    lines = (line.split("#", 1)[0].strip().lower() for line in (_DATA / name).read_text("utf-8").splitlines())
    return list(dict.fromkeys(line for line in lines if line))


def _table(name: str) -> frozenset[str]:
    return frozenset(_lines(name))


#: Correction targets, most used first (the order breaks ties between equally close ones).
_POPULAR_LIST: list[str] = _lines("emails_popular_domains.txt")
_POPULAR_RANK: dict[str, int] = {d: i for i, d in enumerate(_POPULAR_LIST)}
POPULAR_DOMAINS: frozenset[str] = frozenset(_POPULAR_LIST)
LOOKALIKE_DOMAINS: frozenset[str] = _table("emails_lookalike_domains.txt")
ROLE_LOCALS: frozenset[str] = _table("emails_role_locals.txt")
TEST_LOCALS: frozenset[str] = _table("emails_test_locals.txt")
TEST_DOMAINS: frozenset[str] = _table("emails_test_domains.txt")

#: Registrable labels shorter than this are never typo-corrected when their top-level
#: domain exists: two- and three-letter domains are mostly real (vk.ru, ok.ru, mai.ru).
MIN_CORRECTABLE_LABEL = 4

_PSL = PublicSuffixList()

# email-validator's ASCII rules (rfc_constants.py), lowercase only: we lowercase first.
_ATEXT = r"a-z0-9_!#$%&'*+\-/=?^`{|}~"
_LOCAL_RE = re.compile(rf"[{_ATEXT}]+(?:\.[{_ATEXT}]+)*")
_LABEL = r"(?:[a-z0-9](?:[a-z0-9\-]*[a-z0-9])?)"
_DOMAIN_RE = re.compile(rf"{_LABEL}(?:\.{_LABEL})+")
_SPECIAL_USE = ("arpa", "invalid", "local", "localhost", "onion", "test")
_EMAIL_MAX_LENGTH = 254
_DOMAIN_MAX_LENGTH = 253
_LABEL_MAX_LENGTH = 63

_MAILTO_RE = re.compile(r"mailto:", re.IGNORECASE)
_AT_SPACES_RE = re.compile(r"\s*@\s*")
_SPLIT_RE = re.compile(r"[;,\s]+")
# Wrapping punctuation around an address in free text. Not "{" "}" "'" (legal in local
# parts at either end), but quotes of every other kind, brackets and sentence endings.
_WRAP = "\"«»“”„‘’<>()[]:;!?.,"
_TRAILING_JUNK_RE = re.compile(r"(?:[^\w@]|_)+$")
_SAME_CHAR_RE = re.compile(r"(.)\1{3,}")
_TEST_LOCAL_RE = re.compile(r"test[._\-]?\d*|asdf+|qwe(?:rty)?\d*")

# Cyrillic letters that look like Latin ones: an address that mixes both scripts in one
# part was typed with the wrong keyboard layout for a letter or two.
_HOMOGLYPHS = str.maketrans("аеорсухкмтнвіјѕԁ", "aeopcyxkmthbijsd")
_CYRILLIC_RE = re.compile(r"[а-яё]")
_LATIN_RE = re.compile(r"[a-z]")

_DEFER = "defer"


# --------------------------------------------------------------------------------------
# Syntax
# --------------------------------------------------------------------------------------


def _fast_syntax(address: str) -> str | None:
    """The ASCII path: the address if valid, None if invalid, ``_DEFER`` if unsure.

    Only answers for lowercase ASCII; Punycode labels and anything email-validator treats
    specially (quoted local parts, R-LDH labels) are deferred to it.
    """
    if not address.isascii():
        return _DEFER
    if address.count("@") != 1:
        return None if '"' not in address else _DEFER
    local, domain = address.split("@")
    if "xn--" in domain or '"' in local:
        return _DEFER
    if len(address) > _EMAIL_MAX_LENGTH or len(domain) > _DOMAIN_MAX_LENGTH:
        return None
    if _LOCAL_RE.fullmatch(local) is None or _DOMAIN_RE.fullmatch(domain) is None:
        return None
    if not domain[-1].isalpha():
        return None
    labels = domain.split(".")
    for label in labels:
        if len(label) > _LABEL_MAX_LENGTH:
            return None
        if label[2:4] == "--":
            return _DEFER
    if labels[-1] in _SPECIAL_USE:
        return None
    return address


def _slow_syntax(address: str) -> str | None:
    """email-validator (no DNS): the normalised, lowercased address, or None."""
    try:
        result = validate_email(address, check_deliverability=False)
    except (EmailNotValidError, ValueError, UnicodeError):
        return None
    normalized = unicodedata.normalize("NFC", result.normalized.lower())
    return normalized if normalized == address else _recheck(normalized)


@lru_cache(maxsize=1 << 16)
def _recheck(normalized: str) -> str | None:
    """Lowercasing or NFC may change a valid address; keep it only if still valid."""
    try:
        result = validate_email(normalized, check_deliverability=False)
    except (EmailNotValidError, ValueError, UnicodeError):
        return None
    again = unicodedata.normalize("NFC", result.normalized.lower())
    return again if again == normalized else None


def _syntax(address: str) -> str | None:
    """The standard form of one lowercased candidate address, or None if invalid."""
    fast = _fast_syntax(address)
    if fast is not _DEFER:
        return fast
    return _slow_syntax(address)


# --------------------------------------------------------------------------------------
# Domain knowledge (cached per domain: domains repeat far more than addresses)
# --------------------------------------------------------------------------------------


def _known_tld(domain: str) -> bool:
    return _PSL.publicsuffix(domain, accept_unknown=False) is not None


def _registrable_label(domain: str) -> str:
    suffix = _PSL.publicsuffix(domain) or domain.rsplit(".", 1)[-1]
    head = domain[: -len(suffix) - 1] if domain.endswith("." + suffix) else domain
    return head.rsplit(".", 1)[-1]


@lru_cache(maxsize=1 << 16)
def suggest_domain(domain: str) -> str | None:
    """A popular mail domain the given one is probably a typo of, or None.

    Guarantees: popular and known look-alike domains are never changed; a domain whose
    registrable label is shorter than :data:`MIN_CORRECTABLE_LABEL` is only changed when
    its top-level domain does not exist; the answer is the closest popular domain
    (optimal string alignment distance 1, or 2 for labels of 7+ letters or an unknown
    top-level domain), the most used of equally close ones (yandex.ry: yandex.ru, not .by).
    """
    domain = domain.lower()
    if domain in POPULAR_DOMAINS or domain in LOOKALIKE_DOMAINS or not domain.isascii():
        return None
    known = _known_tld(domain)
    label = _registrable_label(domain)
    if known and len(label) < MIN_CORRECTABLE_LABEL:
        return None
    limit = 2 if (not known and len(label) >= MIN_CORRECTABLE_LABEL) or len(label) >= 7 else 1
    matches = process.extract(domain, _POPULAR_LIST, scorer=OSA.distance, score_cutoff=limit, limit=None)
    if not matches:
        return None
    best = min(score for _, score, _ in matches)
    return min((m for m, score, _ in matches if score == best), key=_POPULAR_RANK.__getitem__)


@lru_cache(maxsize=1 << 16)
def _is_disposable(domain: str) -> bool:
    parts = domain.split(".")
    return any(".".join(parts[i:]) in _DISPOSABLE for i in range(len(parts) - 1))


def _is_role(local: str) -> bool:
    return local.split("+", 1)[0] in ROLE_LOCALS


def _is_test_like(local: str, domain: str) -> bool:
    base = local.split("+", 1)[0]
    return (
        base in TEST_LOCALS
        or domain in TEST_DOMAINS
        or _TEST_LOCAL_RE.fullmatch(base) is not None
        or _SAME_CHAR_RE.fullmatch(base) is not None
    )


def _mixed_script_fix(address: str) -> str | None:
    """Latin spelling of an address whose local part or domain mixes Latin and Cyrillic."""
    if address.isascii():
        return None
    local, _, domain = address.rpartition("@")
    if not any(_CYRILLIC_RE.search(p) and _LATIN_RE.search(p) for p in (local, domain)):
        return None
    fixed = address.translate(_HOMOGLYPHS)
    if not fixed.isascii():
        return None
    return _syntax(fixed)


# --------------------------------------------------------------------------------------
# Cells
# --------------------------------------------------------------------------------------

_EMPTY: dict[str, Any] = {c: None for c in EMAIL_COLUMNS}


def _tokens(lowered: str) -> list[str]:
    """Candidate addresses of a cell: pieces with an '@', wrapping punctuation removed."""
    text = _AT_SPACES_RE.sub("@", _MAILTO_RE.sub(" ", lowered))
    out = []
    for piece in _SPLIT_RE.split(text):
        # A domain ends with a letter or digit: anything after that is wrapping. At the
        # start only wrapping punctuation goes ("'", "{" and friends are legal there),
        # and a quote that closes at the end too.
        piece = _TRAILING_JUNK_RE.sub("", piece.lstrip(_WRAP))
        if piece.startswith("'") and piece.count("'") == 1:
            piece = piece[1:]
        if "@" in piece:
            out.append(piece)
    return out


def clean_email(raw: str) -> dict[str, Any]:
    """Clean one e-mail cell; returns a dict keyed by :data:`EMAIL_COLUMNS`.

    Guarantees: never raises; blank input gives all-null values (qc null); ``email`` is
    the first syntactically valid address of the cell, trimmed and lowercased, never
    typo-corrected; ``emails`` lists every valid address once, in order; a typo fix only
    ever appears in ``email_suggestion``; qc 0 only when the cell was exactly ``email``;
    cleaning ``email`` again gives the same address (qc 0, or the same flags again).
    """
    text = blank_to_none(raw)
    if text is None:
        return dict(_EMPTY)
    if len(text) > MAX_VALUE_LENGTH:
        return {**_EMPTY, "qc_email": QC_INVALID, "email_issues": ["email:too_long_text"]}
    lowered = text.lower()
    single = _fast_syntax(lowered)
    if single is not None and single is not _DEFER:
        found, invalid, tokens = [single], 0, 1
    else:
        candidates = _tokens(lowered)
        tokens = len(candidates)
        found = []
        invalid = 0
        for candidate in candidates:
            address = _syntax(candidate)
            if address is None:
                invalid += 1
            elif address not in found:
                found.append(address)
    if not found:
        issue = "email:invalid_syntax" if tokens else "email:no_address"
        return {**_EMPTY, "qc_email": QC_INVALID, "email_issues": [issue]}
    primary = found[0]
    local, _, domain = primary.rpartition("@")
    suggestion = None
    mixed = _mixed_script_fix(primary)
    if mixed is not None and mixed != primary:
        suggestion = mixed
        local, _, domain = mixed.rpartition("@")
    fixed_domain = suggest_domain(domain)
    if fixed_domain is not None:
        suggestion = f"{local}@{fixed_domain}"
    qc, issues = _verdict(
        raw == primary,  # not the stripped text: " a@b.ru " was standardised
        len(found) > 1,
        invalid > 0,
        fixed_domain is not None,
        mixed is not None and mixed != primary,
        # Typo-squatting domains (gmial.com) are on the disposable list too; the typo is
        # the better explanation, and the suggestion the remedy.
        fixed_domain is None and _is_disposable(domain),
        _is_role(local),
        _is_test_like(local, domain),
    )
    return {
        "email": primary,
        "emails": found,
        "email_suggestion": suggestion,
        "qc_email": qc,
        "email_issues": list(issues) if issues else None,
    }


@lru_cache(maxsize=None)
def _verdict(
    as_given: bool,
    several: bool,
    partly_invalid: bool,
    typo: bool,
    mixed_script: bool,
    disposable: bool,
    role: bool,
    test_like: bool,
) -> tuple[int, tuple[str, ...]]:
    """Quality code and issue codes of a kept primary address (shared by both paths)."""
    issues: list[str] = []
    qc = QC_VALID
    if not as_given:
        qc = QC_CORRECTED
        issues.append("email:standardised")
    if several:
        qc = QC_CORRECTED
        issues.append("email:several")
    if partly_invalid:
        qc = QC_CORRECTED
        issues.append("email:partly_invalid")
    if typo:
        qc = QC_CORRECTED
        issues.append("email:typo_domain")
    if mixed_script:
        qc = QC_CORRECTED
        issues.append("email:mixed_script")
    if disposable:
        qc = QC_SUSPICIOUS
        issues.append("email:disposable")
    if role:
        qc = QC_SUSPICIOUS
        issues.append("email:role")
    if test_like:
        qc = QC_SUSPICIOUS
        issues.append("email:test_like")
    return qc, tuple(issues)


def clean_emails(values: pd.Series) -> pd.DataFrame:
    """Vectorised :func:`clean_email`: same index, exactly :data:`EMAIL_COLUMNS`.

    Every distinct non-blank cell is cleaned once and mapped back; cells that are one
    plain ASCII address are checked column-wise (:func:`_hot_rows`), the rest by
    :func:`clean_email`, with identical results. Dtypes: pandas ``str`` for ``email`` and
    ``email_suggestion`` (missing = NaN), ``Int8`` for ``qc_email``, object (lists or
    None) for ``emails`` and ``email_issues``.
    """
    codes, uniques = pd.factorize(values.to_numpy(dtype=object), use_na_sentinel=True)
    raws = uniques.tolist()
    texts = [blank_to_none(u) for u in raws]
    verbatim = np.array([t is not None and len(t) == len(u) for u, t in zip(raws, texts)], dtype=bool)
    # One spare slot at the end: code -1 (a blank cell) picks it and gets nulls.
    columns = {c: np.full(len(texts) + 1, None, dtype=object) for c in EMAIL_COLUMNS}
    todo = np.array([i for i, t in enumerate(texts) if t is not None], dtype=np.int64)
    with gc_paused():
        done = _hot_rows(texts, verbatim, todo, columns)
        for i in todo[~done].tolist():
            out = clean_email(raws[i])
            for c in EMAIL_COLUMNS:
                columns[c][i] = out[c]
    frame = {c: expand_distinct(columns[c], codes, _DTYPES[c]) for c in EMAIL_COLUMNS}
    return pd.DataFrame(frame, index=values.index, columns=EMAIL_COLUMNS)


# The ASCII path as one RE2 pattern for pyarrow (no look-arounds): labels of 1-63
# characters, the last one ending with a letter. Labels with "--" in 3rd-4th place
# (Punycode, R-LDH) and special-use names are split off before, as _fast_syntax does.
_LABEL_63 = r"[a-z0-9](?:[a-z0-9\-]{0,61}[a-z0-9])?"
_LAST_LABEL_63 = r"(?:[a-z]|[a-z0-9][a-z0-9\-]{0,61}[a-z])"
_V_ADDRESS = rf"^[{_ATEXT}]+(?:\.[{_ATEXT}]+)*@(?:{_LABEL_63}\.)+{_LAST_LABEL_63}$"
_V_DOUBLE_DASH = r"[@.][^.@]{2}--"
_V_SPECIAL = r"\.(?:" + "|".join(_SPECIAL_USE) + r")$"
_V_SAME_CHAR = "^(?:" + "|".join(re.escape(c) + "{4,}" for c in "abcdefghijklmnopqrstuvwxyz0123456789_!#$%&'*+-/=?^`{|}~.") + ")$"


def _hot_rows(
    texts: list[str | None], verbatim: np.ndarray, todo: np.ndarray, columns: dict[str, np.ndarray]
) -> np.ndarray:
    """Fill ``columns`` for cells that are one valid plain ASCII address; mask over todo.

    ``texts`` are the stripped cells, ``verbatim`` says which had nothing to strip.
    """
    done = np.zeros(len(todo), dtype=bool)
    if not len(todo):
        return done
    try:
        arr = pa.array([texts[i] for i in todo.tolist()], type=pa.string())
    except (pa.ArrowInvalid, UnicodeEncodeError):  # lone surrogates: scalar path
        return done
    ascii_ = arrow_mask(pc.string_is_ascii(arr))
    lowered = pc.ascii_lower(arr)
    hot = (
        ascii_
        & (_np_lengths(arr) <= _EMAIL_MAX_LENGTH)
        & arrow_mask(pc.match_substring_regex(lowered, _V_ADDRESS))
        & ~arrow_mask(pc.match_substring_regex(lowered, _V_DOUBLE_DASH))
        & ~arrow_mask(pc.match_substring_regex(lowered, _V_SPECIAL))
    )
    rows = np.flatnonzero(hot)
    if not len(rows):
        return done
    done[rows] = True
    take = pa.array(rows, type=pa.int64())
    arr, lowered = arr.take(take), lowered.take(take)
    parts = pc.extract_regex(lowered, r"^(?P<local>[^@]*)@(?P<domain>.*)$")
    local = parts.field("local")
    domain = parts.field("domain")
    base = pc.extract_regex(local, r"^(?P<base>[^+]*)").field("base")
    target = todo[rows]
    as_given = arrow_mask(pc.equal(arr, lowered)) & verbatim[target]
    role = arrow_mask(pc.is_in(base, value_set=pa.array(sorted(ROLE_LOCALS))))
    test = (
        arrow_mask(pc.is_in(base, value_set=pa.array(sorted(TEST_LOCALS))))
        | arrow_mask(pc.is_in(domain, value_set=pa.array(sorted(TEST_DOMAINS))))
        | arrow_mask(pc.match_substring_regex(base, r"^(?:test[._\-]?\d*|asdf+|qwe(?:rty)?\d*)$"))
        | arrow_mask(pc.match_substring_regex(base, _V_SAME_CHAR))
    )
    # Domain facts once per distinct domain.
    encoded = domain.dictionary_encode()
    domain_codes = np.asarray(encoded.indices.to_numpy(zero_copy_only=False), dtype=np.int64)
    domain_values = encoded.dictionary
    fixes = [suggest_domain(d) for d in domain_values.to_pylist()]
    fix_of_row = np.array(fixes + [None], dtype=object)[domain_codes]
    typo = np.array([f is not None for f in fixes] + [False], dtype=bool)[domain_codes]
    disposable = ~typo & np.array([_is_disposable(d) for d in domain_values.to_pylist()] + [False], dtype=bool)[
        domain_codes
    ]
    keys = (
        as_given.astype(np.int64)
        + 2 * typo.astype(np.int64)
        + 4 * disposable.astype(np.int64)
        + 8 * role.astype(np.int64)
        + 16 * test.astype(np.int64)
    )
    present = np.flatnonzero(np.bincount(keys))
    slot = np.zeros(int(present[-1]) + 1, dtype=np.int64)
    slot[present] = np.arange(len(present))
    qc_by_key: list[int] = []
    issues_by_key: list[list[str] | None] = []
    for key in present.tolist():
        qc, issues = _verdict(
            bool(key & 1), False, False, bool(key & 2), False, bool(key & 4), bool(key & 8), bool(key & 16)
        )
        qc_by_key.append(qc)
        issues_by_key.append(list(issues) if issues else None)
    inverse = slot[keys]
    emails = lowered.to_pylist()
    columns["email"][target] = emails
    columns["emails"][target] = object_array([[e] for e in emails])
    typo_rows = np.flatnonzero(typo)
    if len(typo_rows):
        local_list = local.take(pa.array(typo_rows, type=pa.int64())).to_pylist()
        columns["email_suggestion"][target[typo_rows]] = [
            f"{loc}@{fix}" for loc, fix in zip(local_list, fix_of_row[typo_rows].tolist())
        ]
    columns["qc_email"][target] = np.array(qc_by_key, dtype=object)[inverse]
    columns["email_issues"][target] = object_array(issues_by_key)[inverse]
    return done


def _np_lengths(array: Any) -> np.ndarray:
    return np.asarray(pc.utf8_length(array).to_numpy(zero_copy_only=False), dtype=np.int64)
