"""Canonical column names and Arrow schemas of every dataset the hub reads or writes.

Anything that names a column of a published dataset takes the name from here.
"""

from __future__ import annotations

import pyarrow as pa

#: Canonical customer fields a source may map (DESIGN.md, configuration contract).
CUSTOMER_FIELDS: tuple[str, ...] = (
    "full_name", "last_name", "first_name", "middle_name", "gender", "birth_date",
    "phone", "email", "address", "postcode", "country", "region", "city", "street",
    "house", "flat", "company_name", "tax_id", "national_id", "consent_pd",
    "consent_marketing", "do_not_contact", "created_at", "updated_at",
)

#: Canonical order fields (``kind: orders``).
ORDER_FIELDS: tuple[str, ...] = (
    "order_id", "customer_id", "order_date", "amount", "currency", "channel", "status",
)

#: Fields that may list several source columns whose values are all kept (a list).
MULTI_VALUE_FIELDS: frozenset[str] = frozenset({"phone", "email"})

#: Separator used when several source columns feed one multi-value field.
MULTI_VALUE_SEPARATOR = "; "

#: Fields that identify a person on their own; a record needs one of them (after
#: cleansing) or it is quarantined as ``no_identity``.
IDENTITY_FIELDS: tuple[str, ...] = ("last_name", "first_name", "phone", "email", "tax_id", "national_id")

#: Quality-code columns, one per field kind.
QC_COLUMNS: tuple[str, ...] = (
    "qc_name", "qc_gender", "qc_birth_date", "qc_phone", "qc_email", "qc_address",
    "qc_company", "qc_tax_id", "qc_national_id", "qc_consent",
)

_qc = pa.int8()
_str = pa.string()

CLEANSED_CUSTOMERS = pa.schema([
    # provenance
    ("source", _str), ("source_id", _str), ("record_key", _str), ("row_hash", _str),
    ("file", _str), ("line", pa.int64()),
    # names
    ("full_name", _str), ("last_name", _str), ("first_name", _str), ("middle_name", _str),
    ("name_script", _str), ("last_name_lat", _str), ("first_name_lat", _str),
    ("middle_name_lat", _str), ("last_name_skel", _str), ("first_name_skel", _str),
    ("name_skeleton", _str), ("first_name_canonical", _str), ("first_name_canonical_skel", _str),
    ("qc_name", _qc),
    ("gender", _str), ("gender_source", _str), ("qc_gender", _qc),
    # dates
    ("birth_date", pa.date32()), ("qc_birth_date", _qc),
    ("created_at", pa.timestamp("us")), ("updated_at", pa.timestamp("us")),
    # contacts
    ("phone", _str), ("phones", pa.list_(_str)), ("phone_type", _str), ("phone_ext", _str),
    ("phone_country", _str), ("qc_phone", _qc),
    ("email", _str), ("emails", pa.list_(_str)), ("email_suggestion", _str), ("qc_email", _qc),
    # address
    ("address", _str), ("postcode", _str), ("country", _str), ("region", _str), ("city", _str),
    ("street", _str), ("house", _str), ("flat", _str), ("qc_address", _qc),
    # organisation and ids
    ("company_name", _str), ("company_name_norm", _str), ("qc_company", _qc),
    ("tax_id", _str), ("qc_tax_id", _qc), ("national_id", _str), ("national_id_type", _str),
    ("qc_national_id", _qc),
    # consent
    ("consent_pd", pa.bool_()), ("consent_marketing", pa.bool_()), ("do_not_contact", pa.bool_()),
    ("qc_consent", _qc),
    # explanations and leftovers
    ("issues", pa.list_(_str)), ("extra", _str), ("raw", _str),
])

QUARANTINE = pa.schema([
    ("source", _str), ("source_id", _str), ("reasons", pa.list_(_str)), ("detail", _str),
    ("file", _str), ("line", pa.int64()), ("raw", _str),
])

# --------------------------------------------------------------------------- matching

CROSSWALK = pa.schema([
    ("source", _str), ("source_id", _str), ("record_key", _str), ("golden_id", _str),
    # highest match probability of a link joining the record to its cluster; null: alone
    ("match_probability", pa.float64()),
])

#: Leading columns of ``pairs.parquet``; per-comparison ``gamma_<name>`` (int8 level, -1
#: null) and ``mw_<name>`` (float64 weight) columns follow, one pair per comparison.
PAIRS_KEY_COLUMNS: tuple[str, ...] = ("record_key_l", "record_key_r", "match_weight", "match_probability",
                                      "match_key")

#: Columns of ``review_queue.parquet``: these, then the pair's ``mw_<name>`` columns, then
#: :data:`REVIEW_TAIL_COLUMNS`.
REVIEW_KEY_COLUMNS: tuple[str, ...] = ("record_key_l", "record_key_r", "golden_id_l", "golden_id_r",
                                       "match_probability", "match_weight")
REVIEW_TAIL_COLUMNS: tuple[str, ...] = ("reason", "impact", "decision")

#: Columns of the steward decisions file (``hub review apply`` writes it beside hub.yml).
DECISION_COLUMNS: tuple[str, ...] = ("record_key_l", "record_key_r", "decision", "decided_at", "note")

GOLDEN_ID_HISTORY = pa.schema([
    ("golden_id", _str), ("successor_id", _str), ("run_id", _str),
    ("event", _str),  # merge | split | removed
    ("records", pa.int64()),
])

# --------------------------------------------------------------------------- golden record

GOLDEN_CUSTOMERS = pa.schema([
    ("golden_id", _str),
    # surviving attributes; each group survives from one record (see golden.survivorship)
    ("full_name", _str), ("last_name", _str), ("first_name", _str), ("middle_name", _str),
    ("gender", _str), ("birth_date", pa.date32()),
    ("phone", _str), ("phones", pa.list_(_str)), ("email", _str), ("emails", pa.list_(_str)),
    ("address", _str), ("postcode", _str), ("country", _str), ("region", _str), ("city", _str),
    ("street", _str), ("house", _str), ("flat", _str),
    ("company_name", _str), ("tax_id", _str), ("national_id", _str), ("national_id_type", _str),
    # consent: an opt-out or do-not-contact from any member record wins
    ("consent_pd", pa.bool_()), ("consent_marketing", pa.bool_()), ("do_not_contact", pa.bool_()),
    # membership
    ("record_count", pa.int64()), ("source_count", pa.int64()), ("sources", pa.list_(_str)),
    ("first_seen", pa.timestamp("us")), ("last_seen", pa.timestamp("us")),
    ("quality_score", pa.int8()),
    # family and organisation level links (golden.households)
    ("household_id", _str), ("organisation_id", _str),
])

#: Golden attributes with lineage: every non-null one has at least one lineage row (lists:
#: one row per element).
GOLDEN_ATTRIBUTES: tuple[str, ...] = (
    "full_name", "last_name", "first_name", "middle_name", "gender", "birth_date",
    "phone", "phones", "email", "emails", "address", "postcode", "country", "region", "city",
    "street", "house", "flat", "company_name", "tax_id", "national_id", "national_id_type",
    "consent_pd", "consent_marketing", "do_not_contact",
)

LINEAGE = pa.schema([
    ("golden_id", _str), ("attribute", _str), ("value", _str),
    ("source", _str), ("source_id", _str), ("record_key", _str), ("rule", _str),
])

GOLDEN_CHANGES = pa.schema([
    ("golden_id", _str),
    ("change", _str),  # created | updated | merged | split | retired
    ("changed_attributes", pa.list_(_str)),
    ("successor_id", _str),  # merged / retired: the id that now holds the records
    ("run_id", _str),
])
