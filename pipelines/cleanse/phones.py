"""Phone number cleansing: every number in a cell to E.164, with type, country and extension.

Parsing and validation are phonenumbers' own, on three paths that give the same answer:

* ``clean_phones`` answers cells that are one plain number of the default country code
  (digits, spaces, ``-``, ``(``, ``)``, ``.``, an optional leading ``+``) column-wise: it
  replays phonenumbers' parsing steps (IDD, country code without ``+``, national prefix)
  and its validation with pyarrow's regular expressions over the metadata patterns of
  ``PhoneMetadata.metadata_for_region``;
* the same replay, scalar, with the patterns compiled once (``_fast_parse``), for plain
  numbers anywhere else; phonenumbers' ``parse`` spends most of its time on free-text
  handling plain numbers do not need (~12-26k numbers/s per core here, the replay ~5x
  that, the column-wise one far more);
* ``phonenumbers.parse`` for the rest, and ``PhoneNumberMatcher`` as a second pass for
  cells with words around the numbers.

Tests check the three against each other on generated numbers of many countries.
Cells are cleaned once per distinct value and numbers parsed once per distinct digit
string (an LRU cache), so "8 (916) 123-45-67" and "8-916-123-45-67" share one parse.

Geocoder, carrier and time-zone data are deliberately not used: for Russian mobiles they
name the original range holder and a country-wide list of zones, not facts about the line.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
import phonenumbers
import pyarrow as pa
import pyarrow.compute as pc
from phonenumbers import Leniency, PhoneMetadata, PhoneNumberMatcher, PhoneNumberType
from phonenumbers.phonenumberutil import (
    COUNTRY_CODE_TO_REGION_CODE,
    REGION_CODE_FOR_NON_GEO_ENTITY,
    ValidationResult,
)

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
    is_digit_run,
    object_array,
)

#: Output columns of :func:`clean_phones`, in order.
PHONE_COLUMNS: list[str] = [
    "phone", "phones", "phone_type", "phone_ext", "phone_country", "qc_phone", "phone_issues",
]

#: Column dtypes of :func:`clean_phones` (pandas' string dtype: missing is NaN).
_DTYPES: dict[str, str] = {
    "phone": "str", "phones": "object", "phone_type": "str", "phone_ext": "str",
    "phone_country": "str", "qc_phone": "Int8", "phone_issues": "object",
}

# phonenumbers' own limits (phonenumberutil): shorter/longer national numbers never parse.
_MIN_LENGTH_FOR_NSN = 2
_MAX_LENGTH_FOR_NSN = 17
_MAX_LENGTH_COUNTRY_CODE = 3
_MAX_INPUT_STRING_LENGTH = 250
#: Fewer digits than this cannot hold a subscriber number anywhere; no parser is consulted.
_MIN_DIGITS = 5

_TYPE_NAMES: dict[int, str] = {
    PhoneNumberType.MOBILE: "mobile",
    PhoneNumberType.FIXED_LINE: "fixed",
    PhoneNumberType.FIXED_LINE_OR_MOBILE: "fixed_or_mobile",
    PhoneNumberType.TOLL_FREE: "toll_free",
    PhoneNumberType.PREMIUM_RATE: "premium",
    PhoneNumberType.VOIP: "voip",
}

#: Valid numbers of these types are not a private person's line (a company hotline typed
#: into the customer's field, a paid service): kept, flagged for a human check.
_UNLIKELY_TYPES: dict[int, str] = {
    PhoneNumberType.PREMIUM_RATE: "phone:premium_rate",
    PhoneNumberType.TOLL_FREE: "phone:toll_free",
    PhoneNumberType.SHARED_COST: "phone:shared_cost",
    PhoneNumberType.PERSONAL_NUMBER: "phone:personal_number",
    PhoneNumberType.PAGER: "phone:pager",
    PhoneNumberType.UAN: "phone:uan",
    PhoneNumberType.VOICEMAIL: "phone:voicemail",
}

_ASCENDING = "01234567890123456789"
_DESCENDING = "98765432109876543210"

# Parse outcomes shared by both paths.
_VALID = "valid"
_POSSIBLE = "possible"  # right length for the country, but in no known numbering range
_TOO_SHORT = "too_short"
_TOO_LONG = "too_long"
_INVALID = "invalid"

_PLAIN_RE = re.compile(r"\+?[0-9 ().\-]+")
_PLAIN_DELETE = str.maketrans("", "", " ().-+")
_DIGIT_GROUPS_RE = re.compile(r"[0-9]+")

# Extension markers (phonenumbers knows "доб" and "ext", not "внутр", "вн", "доп").
_EXT_WORDS = (
    r"(?<![^\W\d_])(?:доб(?:авочный)?|доп|внутр(?:енний)?|вн|ext(?:ension)?|extn|x|"
    r"durchwahl|dw|poste|nebenstelle)(?![^\W\d_])|#"
)
_EXT_TAIL_RE = re.compile(
    rf"[\s,;(]*(?:{_EXT_WORDS})\.?\s*[:№#\-]?\s*([0-9]{{1,7}})\s*\)?\s*$", re.IGNORECASE
)
_EXT_ONLY_RE = re.compile(
    rf"^\s*\(?\s*(?:{_EXT_WORDS})\.?\s*[:№#\-]?\s*([0-9]{{1,7}})\s*\)?\s*$", re.IGNORECASE
)
_EXT_MARK_RE = re.compile(r"[^\W\d_]|#")
# Strong separators between numbers in one cell. "/" is not one: "030/1234567" is a
# German area code written with a slash.
_SPLIT_RE = re.compile(r"[,;\n\r|]+|\s+(?:или|либо|and|or|и|oder|ou)\s+", re.IGNORECASE)
_LEADING_00_RE = re.compile(r"^\s*00[\s\-.]*(?=[1-9])")
_DASHES = str.maketrans({c: "-" for c in "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe63\uff0d"})
_SPACES_RE = re.compile(r"[\s\u00a0\u2000-\u200b\u202f\u205f\u3000\ufeff]+")


# --------------------------------------------------------------------------------------
# Metadata compiled once per region
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Desc:
    """One PhoneNumberDesc: full-match pattern plus possible lengths."""

    pattern: re.Pattern[str] | None
    lengths: frozenset[int]


def _desc(desc: Any) -> _Desc | None:
    if desc is None:
        return None
    pattern = desc.national_number_pattern
    return _Desc(re.compile(pattern) if pattern else None, frozenset(desc.possible_length or ()))


@dataclass(frozen=True)
class _Region:
    """phonenumbers' metadata for one region, with every pattern compiled."""

    code: str
    country_code: int
    general: _Desc
    general_pattern: re.Pattern[str] | None
    lengths: tuple[int, ...]
    local_lengths: frozenset[int]
    national_prefix: re.Pattern[str] | None
    has_transform: bool
    idd: re.Pattern[str] | None
    leading_digits: re.Pattern[str] | None
    same_mobile_and_fixed: bool
    typed: tuple[tuple[int, _Desc | None], ...]
    fixed: _Desc | None
    mobile: _Desc | None


@lru_cache(maxsize=None)
def _region(code: str) -> _Region | None:
    meta = PhoneMetadata.metadata_for_region(code, None)
    if meta is None:
        return None
    general = meta.general_desc
    typed = (
        (PhoneNumberType.PREMIUM_RATE, _desc(meta.premium_rate)),
        (PhoneNumberType.TOLL_FREE, _desc(meta.toll_free)),
        (PhoneNumberType.SHARED_COST, _desc(meta.shared_cost)),
        (PhoneNumberType.VOIP, _desc(meta.voip)),
        (PhoneNumberType.PERSONAL_NUMBER, _desc(meta.personal_number)),
        (PhoneNumberType.PAGER, _desc(meta.pager)),
        (PhoneNumberType.UAN, _desc(meta.uan)),
        (PhoneNumberType.VOICEMAIL, _desc(meta.voicemail)),
    )
    return _Region(
        code=code,
        country_code=meta.country_code,
        general=_desc(general),  # type: ignore[arg-type]
        general_pattern=re.compile(general.national_number_pattern)
        if general.national_number_pattern else None,
        lengths=tuple(sorted(general.possible_length or ())),
        local_lengths=frozenset(general.possible_length_local_only or ()),
        national_prefix=re.compile(meta.national_prefix_for_parsing)
        if meta.national_prefix_for_parsing else None,
        has_transform=bool(meta.national_prefix_transform_rule),
        idd=re.compile(meta.international_prefix) if meta.international_prefix else None,
        leading_digits=re.compile(meta.leading_digits) if meta.leading_digits else None,
        same_mobile_and_fixed=bool(meta.same_mobile_and_fixed_line_pattern),
        typed=typed,
        fixed=_desc(meta.fixed_line),
        mobile=_desc(meta.mobile),
    )


def _general_match(region: _Region, number: str) -> bool:
    """phonenumbers' ``_match_national_number(number, general_desc, False)`` (no lengths)."""
    return region.general_pattern is not None and region.general_pattern.fullmatch(number) is not None


def _length_result(region: _Region, nsn: str) -> int:
    """phonenumbers' ``_test_number_length`` for the general description."""
    n = len(nsn)
    if n in region.local_lengths:
        return ValidationResult.IS_POSSIBLE_LOCAL_ONLY
    if not region.lengths:
        return ValidationResult.INVALID_LENGTH
    if n == region.lengths[0] or n in region.lengths:
        return ValidationResult.IS_POSSIBLE
    if n < region.lengths[0]:
        return ValidationResult.TOO_SHORT
    if n > region.lengths[-1]:
        return ValidationResult.TOO_LONG
    return ValidationResult.INVALID_LENGTH


def _strip_national_prefix(region: _Region, number: str) -> str | None:
    """phonenumbers' ``_maybe_strip_national_prefix_carrier_code``; None = not replayable."""
    if not number or region.national_prefix is None:
        return number
    match = region.national_prefix.match(number)
    if match is None:
        return number
    if region.has_transform and match.groups() and match.groups()[-1] is not None:
        return None  # transform rules (AR, MX, ...) are left to phonenumbers itself
    if _general_match(region, number) and not _general_match(region, number[match.end():]):
        return number
    return number[match.end():]


def _number_type(region: _Region, nsn: str) -> int:
    """phonenumbers' ``_number_type_helper``, as one regular expression per length."""
    pattern = _type_pattern(region.code, len(nsn))
    if pattern is None:
        return PhoneNumberType.UNKNOWN
    match = pattern.fullmatch(nsn)
    return PhoneNumberType.UNKNOWN if match is None else int(match.lastgroup[1:])  # type: ignore[index]


def _fits(desc: _Desc | None, length: int) -> bool:
    return desc is not None and desc.pattern is not None and (not desc.lengths or length in desc.lengths)


@lru_cache(maxsize=None)
def _type_pattern(code: str, length: int) -> re.Pattern[str] | None:
    """The type tests of ``_number_type_helper`` for one number length, in its order.

    Alternatives are tried left to right, so the first type whose pattern matches wins, as
    in phonenumbers; each ends with an empty group named after its type, which is the
    last group closed on a match (``lastgroup``).
    """
    region = _region(code)
    if region is None or not _fits(region.general, length):
        return None

    def alt(desc: _Desc, kind: int, guard: str = "") -> str:
        return f"{guard}(?:{desc.pattern.pattern})(?P<t{kind}>)"  # type: ignore[union-attr]

    alts = [alt(desc, kind) for kind, desc in region.typed if _fits(desc, length)]  # type: ignore[arg-type]
    fixed, mobile = region.fixed, region.mobile
    if _fits(fixed, length):
        if region.same_mobile_and_fixed:
            alts.append(alt(fixed, PhoneNumberType.FIXED_LINE_OR_MOBILE))  # type: ignore[arg-type]
        else:
            if _fits(mobile, length):
                guard = f"(?=(?:{mobile.pattern.pattern})\\Z)"  # type: ignore[union-attr]
                alts.append(alt(fixed, PhoneNumberType.FIXED_LINE_OR_MOBILE, guard))  # type: ignore[arg-type]
            alts.append(alt(fixed, PhoneNumberType.FIXED_LINE))  # type: ignore[arg-type]
    if not region.same_mobile_and_fixed and _fits(mobile, length):
        alts.append(alt(mobile, PhoneNumberType.MOBILE))  # type: ignore[arg-type]
    if not alts:
        return None
    general = region.general.pattern.pattern  # type: ignore[union-attr]
    return re.compile(f"(?=(?:{general})\\Z)(?:{'|'.join(alts)})")


@lru_cache(maxsize=None)
def _regions_for_code(country_code: int) -> tuple[_Region, ...] | None:
    codes = COUNTRY_CODE_TO_REGION_CODE.get(country_code)
    if not codes or REGION_CODE_FOR_NON_GEO_ENTITY in codes:
        return None
    regions = tuple(r for r in (_region(c) for c in codes) if r is not None)
    return regions if len(regions) == len(codes) else None


def _region_for_number(regions: tuple[_Region, ...], nsn: str) -> _Region | None:
    """phonenumbers' ``region_code_for_number`` (leading digits, else full validation)."""
    if len(regions) == 1:
        return regions[0]
    for region in regions:
        if region.leading_digits is not None:
            if region.leading_digits.match(nsn):
                return region
        elif _number_type(region, nsn) != PhoneNumberType.UNKNOWN:
            return region
    return None


# --------------------------------------------------------------------------------------
# Parsing one plain number (has_plus, digits): fast path and slow path
# --------------------------------------------------------------------------------------


class _Parsed(NamedTuple):
    """Outcome of parsing one number; ``e164``/``nsn`` are set when it parsed at all."""

    status: str
    e164: str | None = None
    nsn: str | None = None
    country: str | None = None
    type_code: int | None = None


def _classify(regions: tuple[_Region, ...], country_code: int, nsn: str) -> _Parsed:
    main = regions[0]
    region = _region_for_number(regions, nsn)
    e164 = f"+{country_code}{nsn}"
    if region is not None:
        kind = _number_type(region, nsn)
        if kind != PhoneNumberType.UNKNOWN:
            return _Parsed(_VALID, e164, nsn, region.code, kind)
    length = _length_result(main, nsn)
    status = {
        ValidationResult.IS_POSSIBLE: _POSSIBLE,
        ValidationResult.TOO_SHORT: _TOO_SHORT,
        ValidationResult.TOO_LONG: _TOO_LONG,
    }.get(length, _INVALID)
    if status == _POSSIBLE and not any(_general_match(r, nsn) for r in regions):
        status = _INVALID
    return _Parsed(status, e164, nsn, None if region is None else region.code)


def _fast_parse(has_plus: bool, digits: str, default_region: str) -> _Parsed | None:
    """Replay phonenumbers' parse + validation on a plain digit string.

    Returns None when the input needs a step this replay does not cover (non-geographic
    country codes, national-prefix transform rules, parse errors); the caller then asks
    phonenumbers itself. Where it answers, it answers exactly as phonenumbers would.
    """
    default = _region(default_region)
    if default is None or not _MIN_DIGITS <= len(digits) <= _MAX_INPUT_STRING_LENGTH:
        return None
    international = has_plus
    number = digits
    if not international and default.idd is not None:
        match = default.idd.match(number)
        if match is not None:
            rest = number[match.end():]
            if not rest.startswith("0"):
                international, number = True, rest
    if international:
        if len(number) <= _MIN_LENGTH_FOR_NSN or number.startswith("0"):
            return None
        country_code = 0
        for size in range(1, min(len(number), _MAX_LENGTH_COUNTRY_CODE) + 1):
            if int(number[:size]) in COUNTRY_CODE_TO_REGION_CODE:
                country_code, number = int(number[:size]), number[size:]
                break
        if country_code == 0:
            return None
        regions = _regions_for_code(country_code)
        if regions is None:
            return None
        rules = regions[0]
    else:
        rules = default
        regions = _regions_for_code(default.country_code)
        if regions is None:
            return None
        country_code = default.country_code
        code_str = str(country_code)
        if number.startswith(code_str):
            potential = _strip_national_prefix(default, number[len(code_str):])
            if potential is None:
                return None
            if (not _general_match(default, number) and _general_match(default, potential)) or (
                _length_result(default, number) == ValidationResult.TOO_LONG
            ):
                number = potential
    if len(number) < _MIN_LENGTH_FOR_NSN:
        return None
    stripped = _strip_national_prefix(rules, number)
    if stripped is None:
        return None
    if _length_result(rules, stripped) not in (
        ValidationResult.TOO_SHORT,
        ValidationResult.IS_POSSIBLE_LOCAL_ONLY,
        ValidationResult.INVALID_LENGTH,
    ):
        number = stripped
    if not _MIN_LENGTH_FOR_NSN <= len(number) <= _MAX_LENGTH_FOR_NSN:
        return None
    if number.startswith("0") and number.strip("0") == "":
        return None  # all-zero numbers hit phonenumbers' Italian-leading-zero corner
    return _classify(regions, country_code, number)


def _slow_parse(has_plus: bool, digits: str, default_region: str) -> _Parsed:
    """Parse a plain digit string with phonenumbers itself."""
    text = ("+" if has_plus else "") + digits
    try:
        number = phonenumbers.parse(text, default_region)
    except phonenumbers.NumberParseException as error:
        if error.error_type == phonenumbers.NumberParseException.TOO_LONG:
            return _Parsed(_TOO_LONG)
        if error.error_type in (
            phonenumbers.NumberParseException.TOO_SHORT_NSN,
            phonenumbers.NumberParseException.TOO_SHORT_AFTER_IDD,
        ):
            return _Parsed(_TOO_SHORT)
        return _Parsed(_INVALID)
    return _from_number(number)


def _from_number(number: phonenumbers.PhoneNumber) -> _Parsed:
    """Classify a PhoneNumber exactly as :func:`_classify` does."""
    nsn = phonenumbers.national_significant_number(number)
    e164 = f"+{number.country_code}{nsn}"
    region = phonenumbers.region_code_for_number(number)
    if phonenumbers.is_valid_number(number):
        return _Parsed(_VALID, e164, nsn, region, phonenumbers.number_type(number))
    length = phonenumbers.is_possible_number_with_reason(number)
    status = {
        ValidationResult.IS_POSSIBLE: _POSSIBLE,
        ValidationResult.TOO_SHORT: _TOO_SHORT,
        ValidationResult.TOO_LONG: _TOO_LONG,
    }.get(length, _INVALID)
    if status == _POSSIBLE and not _in_general_range(number.country_code, nsn):
        status = _INVALID
    if region == REGION_CODE_FOR_NON_GEO_ENTITY:
        region = None
    return _Parsed(status, e164, nsn, region)


def _in_general_range(country_code: int, nsn: str) -> bool:
    """Whether any region of the country code describes numbers like ``nsn`` at all.

    phonenumbers' "possible" only checks the length; a number outside every region's
    general pattern (a Russian number starting with 0, 1, 2, 5 or 6) cannot be one.
    """
    codes = COUNTRY_CODE_TO_REGION_CODE.get(country_code, ())
    for code in codes:
        meta = PhoneMetadata.metadata_for_region_or_calling_code(country_code, code)
        pattern = meta.general_desc.national_number_pattern if meta is not None else None
        if pattern is None or re.fullmatch(pattern, nsn):
            return True
    return not codes


@lru_cache(maxsize=1 << 18)
def _parse_digits(has_plus: bool, digits: str, default_region: str) -> tuple[_Parsed, bool]:
    """Parse one plain number; the flag says a common prefix slip was repaired.

    Policies on top of phonenumbers, applied the same way on both paths:

    * a leading ``00`` is the international prefix even where the national one differs
      (Russia dials 8~10; customers write 00 49 ... anyway);
    * a ``+`` in front of a national number ("+8 916 ...", "+916 ...") that makes not even
      a possible number is dropped if the number is then valid in the default country
      (not for possible ones: an E.164 number this module wrote must read back the same).
    """
    if not has_plus and digits.startswith("00") and len(digits) > 4:
        region = _region(default_region)
        if region is not None and (region.idd is None or not region.idd.match(digits)):
            has_plus, digits = True, digits[2:]
    if len(digits) < _MIN_DIGITS:
        return _Parsed(_TOO_SHORT), False
    parsed = _fast_parse(has_plus, digits, default_region) or _slow_parse(has_plus, digits, default_region)
    if has_plus and parsed.status != _VALID:
        unstripped = _unstripped_valid(digits, parsed)
        if unstripped is not None:
            return unstripped, False
    if has_plus and parsed.status not in (_VALID, _POSSIBLE):
        retry = _fast_parse(False, digits, default_region) or _slow_parse(False, digits, default_region)
        if retry.status == _VALID:
            return retry, True
    if _national_prefix_kept(has_plus, digits, parsed, default_region):
        return _Parsed(_TOO_SHORT, None, parsed.nsn, parsed.country), False
    return parsed, False


def _unstripped_valid(digits: str, parsed: _Parsed) -> _Parsed | None:
    """The international number read without removing a national prefix, if that makes one.

    phonenumbers strips a national prefix even after the country code ("+375 8 10 ..."
    loses its 8), so an E.164 number this module wrote from "8 10 ..." would not read
    back the same. Called only when the stripped reading is not valid: then the digits
    as written after the country code win if they make a valid or possible number.
    """
    if parsed.e164 is None or parsed.nsn is None:
        return None
    code = parsed.e164[1:len(parsed.e164) - len(parsed.nsn)]
    rest = digits[len(code):]
    if not code or not digits.startswith(code) or rest == parsed.nsn or not rest or rest.startswith("0"):
        return None
    as_written = _from_number(phonenumbers.PhoneNumber(country_code=int(code), national_number=int(rest)))
    return as_written if as_written.status in (_VALID, _POSSIBLE) else None


def _national_prefix_kept(has_plus: bool, digits: str, parsed: _Parsed, default_region: str) -> bool:
    """A number in national format that is only "possible" because the prefix stayed on.

    "8 916 111 22 3" (a digit missing) is too short once the trunk prefix 8 is removed, so
    phonenumbers keeps the 8 and finds a 10-digit number of a possible length: that is a
    short number, not a new one.
    """
    if has_plus or parsed.status != _POSSIBLE or parsed.nsn != digits:
        return False
    region = _region(default_region)
    return region is not None and region.national_prefix is not None and bool(region.national_prefix.match(digits))


# --------------------------------------------------------------------------------------
# Junk patterns
# --------------------------------------------------------------------------------------

def _is_run(digits: str) -> bool:
    return len(digits) >= 5 and is_digit_run(digits)


def _junk_kind(nsn: str) -> str | None:
    """'junk' for placeholder numbers, 'suspicious' for a run in the subscriber part.

    Junk: the whole national number is one repeated digit (89999999999) or a run
    (1234567890), or its last seven digits are one repeated digit (8 916 111-11-11,
    (495) 000-00-00). Suspicious only: the last seven digits are a run
    (8 916 123-45-67): such lines exist, but the pattern is a classic filler.
    """
    if len(set(nsn)) == 1 or _is_run(nsn):
        return "junk"
    tail = nsn[-7:]
    if len(tail) == 7 and len(set(tail)) == 1:
        return "junk"
    if len(tail) == 7 and _is_run(tail):
        return "suspicious"
    return None


# --------------------------------------------------------------------------------------
# The same replay over whole arrays (pyarrow compute; RE2 runs phonenumbers' patterns)
# --------------------------------------------------------------------------------------

#: Status codes of the array replay, as indexes into this tuple.
_STATUS_BY_CODE = (_VALID, _POSSIBLE, _TOO_SHORT, _TOO_LONG, _INVALID)
_UNNAMED_GROUP_RE = re.compile(r"\((?!\?)")


def _re2(pattern: str) -> str:
    """A metadata pattern with capturing groups made non-capturing (pyarrow's extract)."""
    return _UNNAMED_GROUP_RE.sub("(?:", pattern)


@dataclass(frozen=True)
class _VDesc:
    pattern: str
    lengths: tuple[int, ...]


@dataclass(frozen=True)
class _VRegion:
    """A region's patterns as RE2 strings for pyarrow compute."""

    region: _Region
    general: str
    general_desc: _VDesc
    prefix_literal: str | None
    prefix_regex: str | None
    leading: str | None
    typed: tuple[tuple[int, _VDesc | None], ...]
    fixed: _VDesc | None
    mobile: _VDesc | None


def _vdesc(desc: _Desc | None) -> _VDesc | None:
    if desc is None or desc.pattern is None:
        return None
    return _VDesc(f"^(?:{_re2(desc.pattern.pattern)})$", tuple(sorted(desc.lengths)))


@lru_cache(maxsize=None)
def _vregion(code: str) -> _VRegion | None:
    """RE2 form of a region, or None when pyarrow cannot replay it exactly."""
    region = _region(code)
    if region is None or region.has_transform or region.general_pattern is None:
        return None
    prefix = region.national_prefix.pattern if region.national_prefix is not None else None
    literal = prefix if prefix is not None and prefix.isdigit() else None
    vr = _VRegion(
        region=region,
        general=f"^(?:{_re2(region.general_pattern.pattern)})$",
        general_desc=_vdesc(region.general),  # type: ignore[arg-type]
        prefix_literal=literal,
        prefix_regex=f"^(?P<p>{_re2(prefix)})(?P<r>.*)$" if prefix is not None and literal is None else None,
        leading=f"^(?:{_re2(region.leading_digits.pattern)})" if region.leading_digits is not None else None,
        typed=tuple((kind, _vdesc(desc)) for kind, desc in region.typed),
        fixed=_vdesc(region.fixed),
        mobile=_vdesc(region.mobile),
    )
    probe = pa.array(["12345"])
    try:
        for pattern in [vr.general, vr.leading, *(d.pattern for _, d in vr.typed if d)] + [
            d.pattern for d in (vr.fixed, vr.mobile) if d
        ]:
            if pattern is not None:
                pc.match_substring_regex(probe, pattern)
        if vr.prefix_regex is not None:
            pc.extract_regex(probe, vr.prefix_regex)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    return vr


def _v_general(vr: _VRegion, numbers: pa.Array) -> np.ndarray:
    return arrow_mask(pc.match_substring_regex(numbers, vr.general))


def _v_length_codes(region: _Region, lengths: np.ndarray) -> np.ndarray:
    """Vectorised :func:`_length_result`: 0 possible, 1 local only, 2 too short, 3 too long,
    4 invalid length."""
    out = np.full(lengths.shape, 4, dtype=np.int8)
    if region.lengths:
        out[lengths > region.lengths[-1]] = 3
        out[lengths < region.lengths[0]] = 2
        out[np.isin(lengths, region.lengths)] = 0
    else:
        out[:] = 4
    if region.local_lengths:
        out[np.isin(lengths, list(region.local_lengths))] = 1
    return out


def _v_lengths(numbers: pa.Array) -> np.ndarray:
    return np.asarray(pc.utf8_length(numbers).to_numpy(zero_copy_only=False), dtype=np.int64)


def _v_strip(vr: _VRegion, numbers: pa.Array) -> pa.Array:
    """Vectorised :func:`_strip_national_prefix` (no transform rules here)."""
    if vr.prefix_literal is not None:
        matched = arrow_mask(pc.starts_with(numbers, vr.prefix_literal))
        after = pc.utf8_slice_codeunits(numbers, len(vr.prefix_literal))
    elif vr.prefix_regex is not None:
        parts = pc.extract_regex(numbers, vr.prefix_regex)
        matched = arrow_mask(parts.is_valid())
        after = pc.fill_null(parts.field("r"), "")
    else:
        return numbers
    take = matched & ~(_v_general(vr, numbers) & ~_v_general(vr, after))
    return pc.if_else(pa.array(take), after, numbers)


def _v_desc(desc: _VDesc | None, numbers: pa.Array, lengths: np.ndarray) -> np.ndarray:
    if desc is None:
        return np.zeros(len(numbers), dtype=bool)
    ok = arrow_mask(pc.match_substring_regex(numbers, desc.pattern))
    if desc.lengths:
        ok &= np.isin(lengths, desc.lengths)
    return ok


def _v_number_type(vr: _VRegion, numbers: pa.Array, lengths: np.ndarray) -> np.ndarray:
    """Vectorised :func:`_number_type`."""
    out = np.full(len(numbers), PhoneNumberType.UNKNOWN, dtype=np.int16)
    open_ = _v_desc(vr.general_desc, numbers, lengths)
    for kind, desc in vr.typed:
        hit = open_ & _v_desc(desc, numbers, lengths)
        out[hit] = kind
        open_ &= ~hit
    fixed = open_ & _v_desc(vr.fixed, numbers, lengths)
    mobile = _v_desc(vr.mobile, numbers, lengths)
    if vr.region.same_mobile_and_fixed:
        out[fixed] = PhoneNumberType.FIXED_LINE_OR_MOBILE
    else:
        out[fixed & mobile] = PhoneNumberType.FIXED_LINE_OR_MOBILE
        out[fixed & ~mobile] = PhoneNumberType.FIXED_LINE
        out[open_ & ~fixed & mobile] = PhoneNumberType.MOBILE
    return out


@dataclass
class _VParsed:
    """Column-wise :class:`_Parsed` for the rows the array replay could answer."""

    handled: np.ndarray
    status: np.ndarray  # index into _STATUS_BY_CODE
    nsn: pa.Array
    type_code: np.ndarray
    region_index: np.ndarray  # into the country code's regions, -1 = none


def _v_parse(has_plus: np.ndarray, digits: pa.Array, default_region: str) -> tuple[_VParsed, tuple[_Region, ...]] | None:
    """Array form of :func:`_fast_parse` for numbers of the default country code.

    Rows it does not answer (``handled`` False) must go through the scalar path: other
    country codes, IDD prefixes, parse errors, a ``+`` before a number that is not valid.
    """
    vdefault = _vregion(default_region)
    if vdefault is None:
        return None
    default = vdefault.region
    regions = _regions_for_code(default.country_code)
    if regions is None:
        return None
    vmain = _vregion(regions[0].code)
    vregions = [_vregion(r.code) for r in regions]
    if vmain is None or any(v is None for v in vregions):
        return None
    code = str(default.country_code)
    lengths = _v_lengths(digits)
    handled = (lengths >= _MIN_DIGITS) & (lengths <= _MAX_INPUT_STRING_LENGTH)
    starts_code = arrow_mask(pc.starts_with(digits, code))
    handled &= ~has_plus | starts_code
    if default.idd is not None:
        idd = f"^(?:{_re2(default.idd.pattern)})"
        handled &= has_plus | ~arrow_mask(pc.match_substring_regex(digits, idd))
    handled &= has_plus | ~arrow_mask(pc.starts_with(digits, "00"))
    after_code = pc.utf8_slice_codeunits(digits, len(code))
    # International rows: the main region's rules after the country code.
    plus_numbers = after_code
    handled &= ~has_plus | (lengths - len(code) > 0) & (lengths > _MIN_LENGTH_FOR_NSN)
    # National rows: phonenumbers' "country code without +" test.
    potential = _v_strip(vdefault, after_code)
    take_potential = starts_code & (
        (~_v_general(vdefault, digits) & _v_general(vdefault, potential))
        | (_v_length_codes(default, lengths) == 3)
    )
    national = pc.if_else(pa.array(take_potential), potential, digits)
    numbers = pc.if_else(pa.array(has_plus), plus_numbers, national)
    number_lengths = _v_lengths(numbers)
    handled &= number_lengths >= _MIN_LENGTH_FOR_NSN
    # The national prefix, by the rules of the region the number is parsed for.
    plus_stripped = _v_strip(vmain, numbers)
    national_stripped = _v_strip(vdefault, numbers) if vdefault is not vmain else plus_stripped
    stripped = pc.if_else(pa.array(has_plus), plus_stripped, national_stripped)
    stripped_lengths = _v_lengths(stripped)
    codes = np.where(
        has_plus,
        _v_length_codes(vmain.region, stripped_lengths),
        _v_length_codes(default, stripped_lengths),
    )
    keep = ~np.isin(codes, (1, 2, 4))
    nsn = pc.if_else(pa.array(keep), stripped, numbers)
    nsn_lengths = np.where(keep, stripped_lengths, number_lengths)
    handled &= (nsn_lengths >= _MIN_LENGTH_FOR_NSN) & (nsn_lengths <= _MAX_LENGTH_FOR_NSN)
    handled &= ~arrow_mask(pc.match_substring_regex(nsn, "^0+$"))
    # Which region of the country code, then the type in that region.
    region_index = np.full(len(digits), -1, dtype=np.int16)
    type_code = np.full(len(digits), PhoneNumberType.UNKNOWN, dtype=np.int16)
    if len(regions) == 1:
        region_index[:] = 0
    for i, vr in enumerate(vregions):
        open_ = region_index == -1
        if len(regions) > 1:
            if vr.leading is not None:  # type: ignore[union-attr]
                hit = open_ & arrow_mask(pc.match_substring_regex(nsn, vr.leading))  # type: ignore[union-attr]
                region_index[hit] = i
            else:
                kinds = _v_number_type(vr, nsn, nsn_lengths)  # type: ignore[arg-type]
                hit = open_ & (kinds != PhoneNumberType.UNKNOWN)
                region_index[hit] = i
                type_code[hit] = kinds[hit]
                continue
        mine = region_index == i
        if mine.any():
            kinds = _v_number_type(vr, nsn, nsn_lengths)  # type: ignore[arg-type]
            type_code[mine] = kinds[mine]
    status = np.where(
        type_code != PhoneNumberType.UNKNOWN,
        0,
        np.choose(_v_length_codes(vmain.region, nsn_lengths), [1, 4, 2, 3, 4]),
    ).astype(np.int8)
    in_range = np.zeros(len(digits), dtype=bool)
    for vr in vregions:
        in_range |= _v_general(vr, nsn)  # type: ignore[arg-type]
    status[(status == 1) & ~in_range] = 4
    handled &= ~has_plus | (status == 0)
    return _VParsed(handled, status, nsn, type_code, region_index), regions


_SAME_DIGIT_RE2 = "^(?:" + "|".join(f"{d}+" for d in "0123456789") + ")$"
_RUNS = sorted(
    {s[i:j] for s in (_ASCENDING, _DESCENDING) for i in range(len(s)) for j in range(i + 5, len(s) + 1)}
)
_RUNS_ARRAY = pa.array(_RUNS)


def _v_junk(nsn: pa.Array, lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Vectorised :func:`_junk_kind`: (junk, suspicious) masks."""
    same = arrow_mask(pc.match_substring_regex(nsn, _SAME_DIGIT_RE2))
    run = arrow_mask(pc.is_in(nsn, value_set=_RUNS_ARRAY))
    tail = pc.utf8_slice_codeunits(nsn, -7)
    has_tail = lengths >= 7
    tail_same = has_tail & arrow_mask(pc.match_substring_regex(tail, _SAME_DIGIT_RE2))
    tail_run = has_tail & arrow_mask(pc.is_in(tail, value_set=_RUNS_ARRAY))
    junk = same | run | tail_same
    return junk, ~junk & tail_run


# --------------------------------------------------------------------------------------
# Cells
# --------------------------------------------------------------------------------------


class _Candidate(NamedTuple):
    """One number found in a cell."""

    parsed: _Parsed
    ext: str | None
    repaired: bool
    junk: str | None


def _candidate(has_plus: bool, digits: str, ext: str | None, default_region: str) -> _Candidate:
    parsed, repaired = _parse_digits(has_plus, digits, default_region)
    junk = _junk_kind(parsed.nsn) if parsed.nsn else None
    if (
        junk is None
        and parsed.status != _VALID
        and len(digits) >= _MIN_DIGITS
        and (len(set(digits)) == 1 or _is_run(digits))
    ):
        junk = "junk"
    return _Candidate(parsed, ext, repaired, junk)


def _from_plain(text: str, ext: str | None, default_region: str) -> _Candidate:
    text = text.strip()
    digits = text.translate(_PLAIN_DELETE)
    return _candidate(text.startswith("+"), digits, ext, default_region)


_OTHER_DIGITS_RE = re.compile(r"(?![0-9])\d")
_LINE_BREAKS_RE = re.compile(r"[\n\r\v\f\u2028\u2029\x85]+")


def _normalise_text(text: str) -> str:
    """NFKC, ASCII digits and dashes, one kind of space, line breaks as ';', no controls."""
    text = unicodedata.normalize("NFKC", text).translate(_DASHES)
    text = _SPACES_RE.sub(" ", _LINE_BREAKS_RE.sub(";", text))
    if text.isprintable():  # no control or format characters left to drop
        return _OTHER_DIGITS_RE.sub(lambda m: str(unicodedata.digit(m.group())), text)
    out = []
    for ch in text:
        category = unicodedata.category(ch)
        if category == "Nd":
            out.append(str(unicodedata.digit(ch)))
        elif category[0] != "C":
            out.append(ch)
    return "".join(out)


def _split_extension(chunk: str) -> tuple[str, str | None]:
    if _EXT_MARK_RE.search(chunk) is None:  # no letter, no "#": no extension to look for
        return chunk, None
    match = _EXT_TAIL_RE.search(chunk)
    if match is None:
        return chunk, None
    return chunk[: match.start()], match.group(1)


def _chunks(text: str) -> list[tuple[str, str | None]]:
    """Split a cell on strong separators; an extension-only piece joins the number before."""
    pieces: list[tuple[str, str | None]] = []
    for piece in _SPLIT_RE.split(text):
        if not piece or not piece.strip():
            continue
        ext_only = _EXT_ONLY_RE.match(piece)
        if ext_only is not None and pieces and pieces[-1][1] is None:
            pieces[-1] = (pieces[-1][0], ext_only.group(1))
            continue
        body, ext = _split_extension(piece)
        pieces.append((body, ext))
    return pieces


def _split_glued(groups: list[str], default_region: str) -> list[_Candidate] | None:
    """Two numbers written with spaces only ("8 916 111 22 33 8 495 765 43 21")."""
    for cut in range(1, len(groups)):
        left = _candidate(False, "".join(groups[:cut]), None, default_region)
        if left.parsed.status != _VALID or left.junk == "junk":
            continue
        right = _candidate(False, "".join(groups[cut:]), None, default_region)
        if right.parsed.status == _VALID and right.junk != "junk":
            return [left, right]
    return None


def _from_free_text(chunk: str, ext: str | None, default_region: str) -> list[_Candidate]:
    """Numbers inside a chunk with words around them (phonenumbers' matcher)."""
    found: list[_Candidate] = []
    stripped = _LEADING_00_RE.sub("+", chunk)
    for match in PhoneNumberMatcher(stripped, default_region, leniency=Leniency.POSSIBLE):
        raw = match.raw_string
        body, raw_ext = _split_extension(raw)
        number_ext = raw_ext or match.number.extension or None
        if _PLAIN_RE.fullmatch(body.strip() or "x"):
            found.append(_from_plain(body, number_ext, default_region))
        else:
            parsed = _from_number(match.number)
            junk = _junk_kind(parsed.nsn) if parsed.nsn else None
            found.append(_Candidate(parsed, number_ext, False, junk))
    if found:
        if ext is not None and found[-1].ext is None:
            last = found[-1]
            found[-1] = _Candidate(last.parsed, ext, last.repaired, last.junk)
        return found
    groups = _DIGIT_GROUPS_RE.findall(chunk)
    if len(groups) > 1:
        glued = _split_glued(groups, default_region)
        if glued is not None:
            return glued
    digits = "".join(groups)
    if not digits:
        return []
    return [_candidate(chunk.lstrip().startswith("+"), digits, ext, default_region)]


def _candidates(text: str, default_region: str) -> list[_Candidate]:
    if _PLAIN_RE.fullmatch(text):
        if not any(ch.isdigit() for ch in text):
            return []
        first = _from_plain(text, None, default_region)
        if first.parsed.status == _VALID or len(text.translate(_PLAIN_DELETE)) <= _MAX_LENGTH_FOR_NSN + 3:
            return [first]
    text = _normalise_text(text)
    found: list[_Candidate] = []
    for chunk, ext in _chunks(text):
        body = _LEADING_00_RE.sub("+", chunk).strip()
        if body and _PLAIN_RE.fullmatch(body):
            candidate = _from_plain(body, ext, default_region)
            if candidate.parsed.status == _VALID or len(_DIGIT_GROUPS_RE.findall(body)) < 2:
                found.append(candidate)
                continue
        found.extend(_from_free_text(chunk, ext, default_region))
    return found


_EMPTY: dict[str, Any] = {c: None for c in PHONE_COLUMNS}


def _failure_issue(candidates: list[_Candidate]) -> str:
    if not candidates:
        return "phone:no_number"
    if any(c.junk == "junk" for c in candidates):
        return "phone:junk_pattern"
    statuses = {c.parsed.status for c in candidates}
    if statuses == {_TOO_SHORT}:
        return "phone:too_short"
    if statuses == {_TOO_LONG}:
        return "phone:too_long"
    return "phone:invalid"


def clean_phone(raw: str, default_country: str = "RU") -> dict[str, Any]:
    """Clean one phone cell; returns a dict keyed by :data:`PHONE_COLUMNS`.

    Guarantees: never raises; blank input gives all-null values (qc null); ``phone`` is the
    first valid number of the cell in E.164 (or, when no number is valid, the first one of a
    possible length, with qc 2), ``phones`` lists every kept number once, primary first;
    ``qc_phone`` is 0 only when the cell was exactly that E.164 string; placeholder numbers
    (89999999999, 111-11-11, 1234567890) are never kept. Cleaning ``phone`` again gives
    the same number with qc 0 (or 2 again when the number itself is suspicious).
    """
    text = blank_to_none(raw)
    if text is None:
        return dict(_EMPTY)
    if len(text) > MAX_VALUE_LENGTH:
        return {**_EMPTY, "qc_phone": QC_INVALID, "phone_issues": ["phone:too_long_text"]}
    region = (default_country or "").upper()
    if _region(region) is None:
        raise ValueError(f"unknown default country for phones: {default_country!r}")
    candidates = _candidates(text, region)
    kept = [c for c in candidates if c.parsed.status == _VALID and c.junk != "junk"]
    if not kept:  # no valid number: the possible ones, flagged by _verdict
        kept = [c for c in candidates if c.parsed.status == _POSSIBLE and c.junk != "junk"]
    if not kept:
        return {**_EMPTY, "qc_phone": QC_INVALID, "phone_issues": [_failure_issue(candidates)]}

    phones: list[str] = []
    for c in kept:
        if c.parsed.e164 not in phones:
            phones.append(c.parsed.e164)  # type: ignore[arg-type]
    primary = kept[0]
    parsed = primary.parsed
    qc, issues = _verdict(
        raw == parsed.e164,  # not the stripped text: " +7916... " was standardised
        parsed.status,
        parsed.type_code,
        primary.junk,
        parsed.country is not None and parsed.country != region,
        len(phones) > 1,
        bool(primary.ext),
        primary.repaired,
        len(kept) < len(candidates),
    )
    return {
        "phone": parsed.e164,
        "phones": phones,
        "phone_type": None if parsed.type_code is None else _TYPE_NAMES.get(parsed.type_code, "other"),
        "phone_ext": primary.ext,
        "phone_country": parsed.country,
        "qc_phone": qc,
        "phone_issues": list(issues) if issues else None,
    }


@lru_cache(maxsize=None)
def _verdict(
    as_given: bool,
    status: str,
    type_code: int | None,
    junk: str | None,
    foreign: bool,
    several: bool,
    extension: bool,
    repaired: bool,
    partly_invalid: bool,
) -> tuple[int, tuple[str, ...]]:
    """Quality code and issue codes of a kept primary number (shared by both paths)."""
    issues: list[str] = []
    qc = QC_VALID if as_given else QC_CORRECTED
    if not as_given:
        issues.append("phone:reformatted")
    if several:
        issues.append("phone:several_numbers")
    if extension:
        issues.append("phone:extension")
    if repaired:
        issues.append("phone:wrong_prefix")
    if partly_invalid:
        issues.append("phone:partly_invalid")
    if foreign:
        issues.append("phone:foreign")
    if status == _POSSIBLE:
        qc = QC_SUSPICIOUS
        issues.append("phone:possibly_valid")
    elif type_code in _UNLIKELY_TYPES:
        qc = QC_SUSPICIOUS
        issues.append(_UNLIKELY_TYPES[type_code])  # type: ignore[index]
    if junk == "suspicious":
        qc = QC_SUSPICIOUS
        issues.append("phone:suspicious_pattern")
    return qc, tuple(issues)


def clean_phones(values: pd.Series, default_country: str = "RU") -> pd.DataFrame:
    """Vectorised :func:`clean_phone`: same index, exactly :data:`PHONE_COLUMNS`.

    Every distinct non-blank cell is cleaned once. Cells that are one plain number of the
    default country code are answered by the array replay (:func:`_v_parse`), the rest by
    :func:`clean_phone`; both give identical rows. Dtypes: pandas ``str`` for the text
    columns (missing = NaN), ``Int8`` for ``qc_phone``, object (lists or None) for
    ``phones`` and ``phone_issues``.
    """
    region = (default_country or "").upper()
    if _region(region) is None:
        raise ValueError(f"unknown default country for phones: {default_country!r}")
    codes, uniques = pd.factorize(values.to_numpy(dtype=object), use_na_sentinel=True)
    raws = uniques.tolist()
    texts = [blank_to_none(u) for u in raws]
    verbatim = np.array([t is not None and len(t) == len(u) for u, t in zip(raws, texts)], dtype=bool)
    # One spare slot at the end: code -1 (a blank cell) picks it and gets nulls.
    columns = {c: np.full(len(texts) + 1, None, dtype=object) for c in PHONE_COLUMNS}
    todo = np.array([i for i, t in enumerate(texts) if t is not None], dtype=np.int64)
    done = _hot_rows(texts, verbatim, todo, region, columns)
    for i in todo[~done].tolist():
        out = clean_phone(raws[i], region)
        for c in PHONE_COLUMNS:
            columns[c][i] = out[c]
    frame = {c: expand_distinct(columns[c], codes, _DTYPES[c]) for c in PHONE_COLUMNS}
    return pd.DataFrame(frame, index=values.index, columns=PHONE_COLUMNS)


def _hot_rows(
    texts: list[str | None],
    verbatim: np.ndarray,
    todo: np.ndarray,
    region: str,
    columns: dict[str, np.ndarray],
) -> np.ndarray:
    """Fill ``columns`` for the plain one-number cells the array replay answers.

    ``texts`` are the stripped cells, ``verbatim`` says which had nothing to strip.
    Returns a mask over ``todo`` of the cells it filled.
    """
    done = np.zeros(len(todo), dtype=bool)
    if _vregion(region) is None or not len(todo):
        return done
    try:
        arr = pa.array([texts[i] for i in todo.tolist()], type=pa.string())
    except (pa.ArrowInvalid, UnicodeEncodeError):  # lone surrogates: scalar path
        return done
    rows = np.flatnonzero(arrow_mask(pc.match_substring_regex(arr, r"^\+?[0-9 ().\-]+$")))
    arr = arr.take(pa.array(rows, type=pa.int64()))
    digits = arr
    for mark in " ().-+":  # plain cells hold nothing else; literal passes beat one regex
        digits = pc.replace_substring(digits, mark, "")
    digit_lengths = _v_lengths(digits)
    keep = (digit_lengths >= _MIN_DIGITS) & (digit_lengths <= _MAX_LENGTH_FOR_NSN)
    rows, arr, digits = rows[keep], arr.filter(pa.array(keep)), digits.filter(pa.array(keep))
    if not len(rows):
        return done
    has_plus = arrow_mask(pc.starts_with(arr, "+"))
    result = _v_parse(has_plus, digits, region)
    if result is None:
        return done
    parsed, regions = result
    prefix = _region(region).national_prefix  # type: ignore[union-attr]
    if prefix is not None:  # _national_prefix_kept, column-wise
        kept_prefix = (
            (parsed.status == 1)
            & ~has_plus
            & arrow_mask(pc.equal(parsed.nsn, digits))
            & arrow_mask(pc.match_substring_regex(digits, f"^(?:{_re2(prefix.pattern)})"))
        )
        parsed.status[kept_prefix] = 2
    handled = parsed.handled
    rows, arr, digits, nsn = rows[handled], arr.filter(pa.array(handled)), digits.filter(
        pa.array(handled)
    ), parsed.nsn.filter(pa.array(handled))
    status = parsed.status[handled]
    type_code = parsed.type_code[handled]
    region_index = parsed.region_index[handled]
    done[rows] = True
    target = todo[rows]

    junk, suspicious = _v_junk(nsn, _v_lengths(nsn))
    junk |= (status != 0) & ~junk & ~suspicious & (
        arrow_mask(pc.match_substring_regex(digits, _SAME_DIGIT_RE2))
        | arrow_mask(pc.is_in(digits, value_set=_RUNS_ARRAY))
    )
    kept = ~junk & (status <= 1)

    # Rejected cells: one issue each.
    failed = ~kept
    issue_code = np.where(junk, 0, np.where(status == 2, 1, np.where(status == 3, 2, 3)))[failed]
    failure_lists = object_array(
        [["phone:junk_pattern"], ["phone:too_short"], ["phone:too_long"], ["phone:invalid"]]
    )
    columns["qc_phone"][target[failed]] = QC_INVALID
    columns["phone_issues"][target[failed]] = failure_lists[issue_code]

    # Kept cells: E.164, type, country, then qc and issues from a handful of distinct keys.
    idx = np.flatnonzero(kept)
    if not len(idx):
        return done
    code = str(regions[0].country_code)
    e164 = pc.binary_join_element_wise(f"+{code}", nsn.filter(pa.array(kept)), "")
    as_given = arrow_mask(pc.equal(arr.filter(pa.array(kept)), e164)) & verbatim[target[idx]]
    e164_list = e164.to_pylist()
    k_status = status[idx]
    k_type = np.where(k_status == 0, type_code[idx], -1)
    k_region = region_index[idx]
    region_codes = np.array([r.code for r in regions] + [None], dtype=object)
    country = region_codes[k_region]  # -1 picks the trailing None
    foreign = (k_region >= 0) & (country != region)
    k_suspicious = suspicious[idx]
    keys = (
        as_given.astype(np.int64)
        + 2 * k_status.astype(np.int64)
        + 4 * foreign.astype(np.int64)
        + 8 * k_suspicious.astype(np.int64)
        + 16 * (k_type.astype(np.int64) + 1)
    )
    present = np.flatnonzero(np.bincount(keys))
    slot = np.zeros(int(present[-1]) + 1, dtype=np.int64)
    slot[present] = np.arange(len(present))
    inverse = slot[keys]
    qc_by_key: list[int] = []
    # One issues list per distinct verdict, shared by its rows (as map_distinct shares one
    # result between equal cells): a list per row would cost a million allocations.
    issues_by_key: list[list[str] | None] = []
    for key in present.tolist():
        kind = key // 16 - 1
        qc, issues = _verdict(
            bool(key & 1),
            _STATUS_BY_CODE[(key >> 1) & 1],
            None if kind < 0 else kind,
            "suspicious" if key & 8 else None,
            bool(key & 4),
            False,
            False,
            False,
            False,
        )
        qc_by_key.append(qc)
        issues_by_key.append(list(issues) if issues else None)
    type_names = {kind: _TYPE_NAMES.get(kind, "other") for kind in set(k_type.tolist()) if kind >= 0}
    kept_target = target[idx]
    columns["phone"][kept_target] = e164_list
    with gc_paused():
        columns["phones"][kept_target] = object_array([[p] for p in e164_list])
    columns["phone_type"][kept_target] = [type_names.get(k) for k in k_type.tolist()]
    columns["phone_country"][kept_target] = country
    columns["qc_phone"][kept_target] = np.array(qc_by_key, dtype=object)[inverse]
    columns["phone_issues"][kept_target] = object_array(issues_by_key)[inverse]
    return done
