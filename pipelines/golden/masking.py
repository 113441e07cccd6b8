"""Masked golden customers: the golden table for readers who must not see personal data.

:func:`mask_golden` keeps every row, id, segment and link of the golden customers and masks
the values that reach a person or identify one on their own:

* ``phone`` and every element of ``phones``: the country code and the last two digits,
  with a fixed run of seven stars between them -- ``+79161234567`` -> ``+7*******67``,
  ``+380501234567`` -> ``+380*******67``. The country code is the one E.164 code the
  number starts with (codes are prefix-free; the list is phonenumbers'); a number without
  ``+`` or with an unknown code keeps no leading digits (``*******67``, ``+*******67``).
  The run of stars has one length for every number, so the mask does not tell how long the
  number was. Country analytics keep working; the number cannot be dialled or looked up.
* ``email`` and every element of ``emails``: the first character of the local part, three
  stars and the whole domain -- ``ivan.petrov@mail.ru`` -> ``i***@mail.ru``,
  ``a+b@x.org`` -> ``a***@x.org``, ``a@x.ru`` -> ``a***@x.ru`` (the local part's length is
  not told either). The split is at the last ``@``; a value without ``@`` keeps its first
  character and gets the stars.
* ``birth_date``: truncated to 1 January of its year. A Date32 column cannot hold a mask and
  GOLDEN_CUSTOMERS has no year column; the year alone lets analysts compute ages and age
  bands (to within a year) while the day and month -- which with a name single a person out
  and answer "secret questions" -- are gone. Consequence to know: a masked table is not a
  source for birthday reports (every masked date is 1 January).
* ``national_id`` and ``tax_id``: seven stars and the last two characters
  (``4510123456`` -> ``*******56``). ``national_id_type`` stays (it is a category). A
  company's tax id is public, but the column does not say whose it is, so it is masked too.

* names and the street address: with the year of birth and the city, a full name or a flat
  singles a person out, and the free-text ``address`` repeats street, house and flat. So
  ``full_name``, ``address``, ``street``, ``house`` and ``flat`` become null; ``last_name``
  and ``middle_name`` keep their initial (``Петров`` -> ``П.``); ``postcode`` keeps its first
  three characters (the region, ``127055`` -> ``127***``). ``first_name``, ``gender``,
  ``city``, ``region``, ``country``, company names, consent and every id of the hub stay:
  they are what analysts segment by, and none reaches a person alone.

Guarantees: the output has exactly the GOLDEN_CUSTOMERS columns and types in schema order
(columns the input lacks come out all null; columns outside the schema are dropped, since a
column this module does not know might carry personal data); rows keep their order;
nulls stay null, empty strings and empty lists stay empty, null list elements stay null;
deterministic and idempotent (``mask_golden(mask_golden(t)) == mask_golden(t)``: a masked
value masks to itself); no masked phone keeps a run of more than three of the original
digits, no masked e-mail keeps more than one character of the local part. Pure and
vectorised with ``pyarrow.compute`` (a few kernels per column, no Python loop over rows).
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc
from phonenumbers.phonenumberutil import COUNTRY_CODE_TO_REGION_CODE

from pipelines.schema import GOLDEN_CUSTOMERS

#: Stars between the kept parts of a masked phone or id.
STARS = "*******"
#: Stars after the kept first character of an e-mail's local part.
EMAIL_STARS = "***"

#: The columns :func:`mask_golden` changes.
MASKED_COLUMNS: tuple[str, ...] = ("birth_date", "phone", "phones", "email", "emails", "tax_id", "national_id",
                                   "full_name", "last_name", "middle_name", "address", "street", "house", "flat",
                                   "postcode")
#: Columns the masked table leaves empty.
DROPPED_COLUMNS: tuple[str, ...] = ("full_name", "address", "street", "house", "flat")

_CODES: dict[int, pa.Array] = {
    k: pa.array(sorted({str(c) for c in COUNTRY_CODE_TO_REGION_CODE if len(str(c)) == k}), pa.string())
    for k in (1, 2, 3)
}


def mask_golden(golden: pa.Table) -> pa.Table:
    """Golden customers with phones, e-mails, birth dates, tax and national ids, names and
    street addresses masked (module docstring, :data:`MASKED_COLUMNS`); every other
    GOLDEN_CUSTOMERS column unchanged. The input is not modified."""
    arrays = []
    for f in GOLDEN_CUSTOMERS:
        if f.name not in golden.column_names:
            arrays.append(pa.nulls(golden.num_rows, f.type))
            continue
        col = golden.column(f.name)
        if col.type != f.type:
            col = col.cast(f.type) if col.null_count < len(col) else pa.chunked_array(
                [pa.nulls(len(col), f.type)])
        arr = col.chunk(0) if col.num_chunks == 1 else col.combine_chunks()
        if f.name in ("phone", "phones"):
            arr = _each(arr, mask_phones)
        elif f.name in ("email", "emails"):
            arr = _each(arr, mask_emails)
        elif f.name in ("tax_id", "national_id"):
            arr = mask_ids(arr)
        elif f.name == "birth_date":
            arr = truncate_to_year(arr)
        elif f.name in DROPPED_COLUMNS:
            arr = pa.nulls(len(arr), f.type)
        elif f.name in ("last_name", "middle_name"):
            arr = _keep_blank(arr, pc.binary_join_element_wise(pc.utf8_slice_codeunits(arr, 0, 1), ".", ""))
        elif f.name == "postcode":
            arr = _keep_blank(arr, pc.binary_join_element_wise(pc.utf8_slice_codeunits(arr, 0, 3), "***", ""))
        arrays.append(arr)
    return pa.Table.from_arrays(arrays, schema=GOLDEN_CUSTOMERS)


def _each(arr: pa.Array, mask) -> pa.Array:
    """Apply a string mask to a string array, or to every element of a list array."""
    if not pa.types.is_list(arr.type):
        return mask(arr)
    values = mask(arr.flatten())  # flatten honours the array's offset
    offsets = pc.subtract(arr.offsets, arr.offsets[0])
    return pa.ListArray.from_arrays(offsets, values, type=arr.type, mask=arr.is_null())


def mask_phones(phones: pa.Array) -> pa.Array:
    """``+<country code>*******<last two digits>`` (module docstring); nulls and empty strings
    stay as they are; idempotent."""
    phones = phones.cast(pa.string())
    plus = pc.fill_null(pc.starts_with(phones, "+"), False)
    digits = pc.replace_substring_regex(phones, r"[^0-9]+", "")
    # the country code: the one E.164 code right after "+" (digits only, so a masked
    # "+7*******67" still shows "7"); codes are prefix-free, at most one length matches
    code = pa.array([""] * len(phones), pa.string()) if len(phones) else pa.array([], pa.string())
    tail = pc.utf8_slice_codeunits(digits, -2)
    for k in (1, 2, 3):
        head = pc.utf8_slice_codeunits(phones, 1, 1 + k)
        hit = pc.and_(plus, pc.fill_null(pc.is_in(head, value_set=_CODES[k]), False))
        code = pc.if_else(hit, head, code)
        # the last two digits after the code (fewer when the number is that short)
        tail = pc.if_else(hit, pc.utf8_slice_codeunits(pc.utf8_slice_codeunits(digits, k), -2), tail)
    sign = pc.if_else(plus, "+", "")
    return _keep_blank(phones, pc.binary_join_element_wise(sign, code, STARS, tail, ""))


def mask_emails(emails: pa.Array) -> pa.Array:
    """``<first character of the local part>***@<domain>`` (module docstring); nulls and empty
    strings stay as they are; idempotent."""
    emails = emails.cast(pa.string())
    parts = pc.split_pattern(emails, "@", max_splits=1, reverse=True)  # [local, domain] or [value]
    has_at = pc.equal(pc.list_value_length(parts), 2)
    local = pc.list_element(parts, 0)
    domain = pc.if_else(has_at, pc.binary_join_element_wise("@", pc.binary_join(pc.list_slice(parts, 1, 2), ""), ""),
                        "")
    first = pc.utf8_slice_codeunits(local, 0, 1)
    first = pc.if_else(pc.equal(first, "*"), "", first)  # a masked value keeps its shape
    return _keep_blank(emails, pc.binary_join_element_wise(first, EMAIL_STARS, domain, ""))


def mask_ids(ids: pa.Array) -> pa.Array:
    """``*******<last two characters>`` (stars of an already masked value do not count as
    characters, so masking is idempotent); nulls and empty strings stay as they are."""
    ids = ids.cast(pa.string())
    tail = pc.utf8_slice_codeunits(pc.replace_substring(ids, "*", ""), -2)
    return _keep_blank(ids, pc.binary_join_element_wise(STARS, tail, ""))


def truncate_to_year(dates: pa.Array) -> pa.Array:
    """1 January of each date's year (Date32); nulls stay null."""
    return pc.floor_temporal(dates.cast(pa.date32()), unit="year")


def _keep_blank(original: pa.Array, masked: pa.Array) -> pa.Array:
    """Masked values, except nulls and empty strings, which stay as they were."""
    blank = pc.fill_null(pc.equal(original, ""), False)
    return pc.if_else(blank, original, masked)
