"""Survivorship: one golden record per golden id, with the lineage of every attribute.

Set-based in DuckDB over the members of every golden customer (cleansed records joined to the
crosswalk). Attributes survive in *groups* (:data:`GROUPS`): all parts of a group come from
one record -- never a street from one source with a city from another, never a first name
from one record with another's surname. Each group's candidates are ordered by the
criteria configured for it (``survivorship.rules``, defaults in
:data:`pipelines.config.DEFAULT_SURVIVORSHIP`), then by the deterministic tie-breakers
source trust, recency, smallest record key:

* ``validated``     -- qc 0/1 before qc 2 (qc 3 values are null after cleansing and never
  candidates);
* ``trust_decay``   -- the record's source trust, falling linearly to ``decay.floor`` over
  ``decay.period_days`` of the record's age at ``as_of`` (a record without a date counts as
  old); a source trusted below the floor keeps its own trust;
* ``most_recent``   -- the newest ``updated_at`` (else ``created_at``); undated last;
* ``most_complete`` -- the most non-null parts of the group;
* ``most_frequent`` -- the value most member records carry.

Phones and e-mails are aggregated: every distinct valid value of the members (qc <= 2), the
list ordered by the same criteria applied per value (frequency = members carrying it, trust
and recency of its best record), primary first.

Consent is not configurable: an opt-out (``consent_pd`` / ``consent_marketing`` false) or a
``do_not_contact`` true from any member wins over opt-ins elsewhere, and ``do_not_contact``
also withdraws marketing consent. Lineage names the record that said so (the newest one).

Lineage: one row per non-null golden attribute (per element for ``phones`` / ``emails``)
with the record the value came from and the rule that chose it: the first criterion (or
tie-breaker ``trust`` / ``recency`` / ``record_key``; ``list_order`` for two values of one
record's list) on which the winner beat the best candidate with a *different* value;
``agreed`` when every candidate had the winner's value, ``only_candidate`` when there was
one; ``aggregate`` for list elements; ``opt_out_wins`` / ``opt_in`` / ``do_not_contact_wins``
/ ``no_do_not_contact`` for consent. The members' unmapped source columns (``extra``) are
kept in the lineage too, every non-empty value as ``extra.<column>`` with the rule
``source_extra`` (a web lead's ``utm_source``, a CRM's manager): nothing a source sent is lost.

Measured (``benchmarks/golden_stage.py``, 2 cores, lightly loaded): 1,751,011 records ->
1,068,923 golden customers and 22.2M lineage rows (4.4M of them unmapped source columns),
survivorship with the lineage streamed to Parquet 50 s, the whole stage 65 s, peak RSS
6.8 GB; golden ids with a single member (most of them) skip the window functions.

Everything here is pure: tables in, tables out, no I/O, no clock (``as_of`` is an argument).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
import duckdb
import pyarrow as pa

from pipelines.config import SurvivorshipSettings
from pipelines.schema import GOLDEN_CUSTOMERS, LINEAGE


@dataclass(frozen=True)
class Group:
    """An attribute group: golden columns that survive together from one record."""

    name: str
    columns: tuple[str, ...]   # golden (= cleansed) columns taken from the winning record
    qc: str                    # quality-code column of the cleansed record
    present: str               # SQL: the record has a value for this group
    key: str                   # SQL: the value compared by ``most_frequent``
    parts: tuple[str, ...]     # columns counted by ``most_complete``


def _key(*cols: str) -> str:
    """SQL: a 64-bit hash of the group's values (nulls count by position), for comparing
    values: equal values always hash equal, and two different values of one customer
    colliding is a 1 in 2^64 chance."""
    return f"hash({', '.join(cols)})"


#: The single-valued groups, in golden column order.
GROUPS: tuple[Group, ...] = (
    Group("name", ("full_name", "last_name", "first_name", "middle_name"), "qc_name",
          "coalesce(last_name, first_name, middle_name, full_name) IS NOT NULL",
          _key("last_name", "first_name", "middle_name", "full_name"), ("last_name", "first_name", "middle_name")),
    Group("gender", ("gender",), "qc_gender", "gender IS NOT NULL", _key("gender"), ("gender",)),
    Group("birth_date", ("birth_date",), "qc_birth_date", "birth_date IS NOT NULL", _key("birth_date"),
          ("birth_date",)),
    Group("address", ("address", "postcode", "country", "region", "city", "street", "house", "flat"),
          "qc_address", "coalesce(address, postcode, city, street, house) IS NOT NULL",
          _key("postcode", "country", "region", "city", "street", "house", "flat", "address"),
          ("postcode", "region", "city", "street", "house", "flat")),
    Group("company", ("company_name",), "qc_company", "company_name IS NOT NULL",
          _key("coalesce(company_name_norm, company_name)"), ("company_name",)),
    Group("tax_id", ("tax_id",), "qc_tax_id", "tax_id IS NOT NULL", _key("tax_id"), ("tax_id",)),
    Group("national_id", ("national_id", "national_id_type"), "qc_national_id", "national_id IS NOT NULL",
          _key("national_id_type", "national_id"), ("national_id", "national_id_type")),
)

#: Aggregated groups: (group, list column of the cleansed record, qc column, golden primary, golden list).
LISTS: tuple[tuple[str, str, str, str, str], ...] = (
    ("phones", "phones", "qc_phone", "phone", "phones"),
    ("emails", "emails", "qc_email", "email", "emails"),
)

#: Consent columns and the value that wins when any member says it.
CONSENT: tuple[tuple[str, bool], ...] = (
    ("consent_pd", False), ("consent_marketing", False), ("do_not_contact", True),
)

#: Columns of the member records this module reads (beyond golden_id).
MEMBER_COLUMNS: tuple[str, ...] = tuple(dict.fromkeys(
    ("record_key", "source", "source_id", "created_at", "updated_at", "company_name_norm", "extra",
     "phones", "emails", "qc_phone", "qc_email", "consent_pd", "consent_marketing", "do_not_contact")
    + tuple(c for g in GROUPS for c in g.columns + (g.qc,))
))

#: Weights of the quality score (sum 100): a surviving value counts fully when validated
#: (qc 0/1), half when suspicious (qc 2), nothing when missing.
QUALITY_WEIGHTS: dict[str, int] = {
    "name": 25, "phones": 20, "emails": 15, "birth_date": 15, "address": 15, "gender": 5, "national_id": 5,
}

#: Tie-breakers after the configured criteria, as (name, SQL order term).
_TIE_BREAKERS: tuple[tuple[str, str], ...] = (
    ("trust", "trust DESC"), ("recency", "seen_at DESC NULLS LAST"), ("record_key", "record_key ASC"),
)


def _criterion(rule: str) -> tuple[str, str]:
    """(SQL expression over a candidate row, direction) of one survivorship criterion."""
    return {
        "validated": ("CASE WHEN qc <= 1 OR qc IS NULL THEN 0 ELSE 1 END", "ASC"),
        "trust_decay": ("trust_now", "DESC"),
        "most_recent": ("coalesce(epoch_us(seen_at), -9223372036854775807)", "DESC"),
        "most_complete": ("completeness", "DESC"),
        "most_frequent": ("frequency", "DESC"),
    }[rule]


def _order(rules: tuple[str, ...]) -> str:
    """ORDER BY of the candidates: the criteria, then the tie-breakers (then, for list
    values of one record, their position in the record's list)."""
    terms = [f"{_criterion(rule)[0]} {_criterion(rule)[1]}" for rule in dict.fromkeys(rules)]
    return ", ".join(terms + [term for _, term in _TIE_BREAKERS] + ["pos ASC"])


def _why(rules: tuple[str, ...]) -> str:
    """CASE naming the first criterion (or tie-breaker) on which the winner ``w`` beats the
    best candidate ``r`` with another value (null: every candidate had the winner's value)."""
    cases = [f"WHEN w.v_{rule} IS DISTINCT FROM r.v_{rule} THEN '{rule}'" for rule in dict.fromkeys(rules)]
    cases += ["WHEN w.trust IS DISTINCT FROM r.trust THEN 'trust'",
              "WHEN w.seen_at IS DISTINCT FROM r.seen_at THEN 'recency'",
              "WHEN w.record_key IS DISTINCT FROM r.record_key THEN 'record_key'"]
    return (f"CASE WHEN w.candidates = 1 THEN 'only_candidate' WHEN r.golden_id IS NULL THEN 'agreed' "
            f"{' '.join(cases)} ELSE 'list_order' END")


def _criteria_values(rules: tuple[str, ...]) -> str:
    return ", ".join(f"{_criterion(rule)[0]} AS v_{rule}" for rule in dict.fromkeys(rules))


def _member_table(members: pa.Table) -> pa.Table:
    """``members`` with every column this module reads (absent ones all null, cleansed types)."""
    from pipelines.schema import CLEANSED_CUSTOMERS

    table = members
    for name in ("golden_id",) + MEMBER_COLUMNS:
        if name not in table.column_names:
            kind = CLEANSED_CUSTOMERS.field(name).type if name in CLEANSED_CUSTOMERS.names else pa.string()
            table = table.append_column(name, pa.nulls(table.num_rows, kind))
    return table.select(["golden_id", *MEMBER_COLUMNS])


def _load_members(con: duckdb.DuckDBPyConnection, members: pa.Table, trust: Mapping[str, float],
                  settings: SurvivorshipSettings, as_of: date) -> None:
    """Temp tables ``g`` (membership per golden id) and ``m`` (the members with ``trust``,
    ``seen_at``, ``trust_now`` and ``n``, the member count of their golden id)."""
    con.register("members_in", _member_table(members))
    con.register("trust_in", pa.table({"source": pa.array(list(trust), pa.string()),
                                       "trust": pa.array([float(v) for v in trust.values()], pa.float64())}))
    con.execute("""
        CREATE TEMP TABLE g AS
        SELECT golden_id, count(*) AS record_count, count(DISTINCT source) AS source_count,
               list_sort(list(DISTINCT source)) AS sources,
               min(coalesce(created_at, updated_at)) AS first_seen,
               max(coalesce(updated_at, created_at)) AS last_seen
        FROM members_in GROUP BY golden_id ORDER BY golden_id""")
    floor, period = float(settings.decay.floor), float(settings.decay.period_days)
    con.execute(f"""
        CREATE TEMP TABLE m AS
        SELECT *,
          CASE WHEN trust <= {floor} THEN trust
               WHEN seen_at IS NULL THEN {floor}
               ELSE {floor} + (trust - {floor}) * greatest(0.0, least(1.0,
                    1.0 - date_diff('day', CAST(seen_at AS DATE), DATE '{as_of.isoformat()}') / {period}))
          END AS trust_now
        FROM (
          SELECT mi.*, coalesce(t.trust, 0.5) AS trust, coalesce(mi.updated_at, mi.created_at) AS seen_at,
                 g.record_count AS n
          FROM members_in mi JOIN g USING (golden_id) LEFT JOIN trust_in t ON t.source = mi.source
        )""")
    con.unregister("members_in")
    con.unregister("trust_in")


def _lineage_sql(table: str, columns: tuple[str, ...]) -> list[str]:
    """One lineage SELECT per column of a winners table, ordered by golden id."""
    return [f"SELECT golden_id, '{c}' AS attribute, CAST({c} AS VARCHAR) AS value, source, source_id, record_key, "
            f"rule FROM {table} WHERE {c} IS NOT NULL ORDER BY golden_id" for c in columns]


def _survive_group(con: duckdb.DuckDBPyConnection, group: Group, rules: tuple[str, ...]) -> list[str]:
    """Temp table ``w_<group>`` (golden_id, the group's columns, qc, record, rule): the
    winning record per golden id; returns the group's lineage SELECTs.

    A golden id with one member needs no ranking (most golden ids: singletons are
    answered by a plain filter); the others rank their candidates with window functions,
    computing frequency and completeness only when a criterion uses them.
    """
    rules = tuple(dict.fromkeys(rules))
    cols = ", ".join(group.columns)
    valid = f"({group.present}) AND ({group.qc} IS NULL OR {group.qc} < 3)"
    parts = " + ".join(f"CAST({c} IS NOT NULL AS INTEGER)" for c in group.parts)
    frequency = "count(*) OVER (PARTITION BY golden_id, value_key)" if "most_frequent" in rules else "1"
    completeness = parts if "most_complete" in rules else "0"
    con.execute(f"""
        CREATE TEMP TABLE w_{group.name} AS
        WITH c AS (
          SELECT golden_id, record_key, source, source_id, trust, seen_at, trust_now, {cols},
                 {group.qc} AS qc, {group.key} AS value_key, {completeness} AS completeness, 0 AS pos
          FROM m WHERE n > 1 AND {valid}
        ), ranked AS (
          SELECT *, {_criteria_values(rules)},
                 row_number() OVER (PARTITION BY golden_id ORDER BY {_order(rules)}) AS rn,
                 count(*) OVER (PARTITION BY golden_id) AS candidates
          FROM (SELECT *, {frequency} AS frequency FROM c)
        ), winner AS (SELECT * FROM ranked WHERE rn = 1),
        runner AS (
          SELECT r.* FROM ranked r JOIN winner w ON w.golden_id = r.golden_id
          WHERE r.value_key <> w.value_key
          QUALIFY row_number() OVER (PARTITION BY r.golden_id ORDER BY r.rn) = 1
        )
        SELECT * FROM (
          SELECT w.golden_id, {", ".join(f"w.{c}" for c in group.columns)}, w.qc, w.record_key, w.source,
                 w.source_id, {_why(rules)} AS rule
          FROM winner w LEFT JOIN runner r ON r.golden_id = w.golden_id
          UNION ALL
          SELECT golden_id, {cols}, {group.qc} AS qc, record_key, source, source_id, 'only_candidate' AS rule
          FROM m WHERE n = 1 AND {valid}
        ) ORDER BY golden_id""")
    return _lineage_sql(f"w_{group.name}", group.columns)


def _aggregate_list(con: duckdb.DuckDBPyConnection, group: str, column: str, qc: str, primary: str,
                    listed: str, rules: tuple[str, ...]) -> list[str]:
    """Temp tables ``w_<group>`` (golden_id, primary value, ordered list, qc of the primary,
    the primary's record and rule) and ``e_<group>`` (each distinct value with its best
    record); returns the lineage SELECTs of the primary and of the list elements."""
    rules = tuple(dict.fromkeys(rules))
    valid = f"{column} IS NOT NULL AND ({qc} IS NULL OR {qc} < 3)"
    frequency = "count(*) OVER (PARTITION BY golden_id, value)" if "most_frequent" in rules else "1"
    con.execute(f"""
        CREATE TEMP TABLE e_{group} AS
        WITH c AS (  -- one row per (golden id, value, record); pos: place in the record's list
          SELECT golden_id, record_key, source, source_id, trust, seen_at, trust_now, qc, value, pos
          FROM (SELECT golden_id, record_key, source, source_id, trust, seen_at, trust_now, {qc} AS qc,
                       unnest({column}) AS value, generate_subscripts({column}, 1) AS pos
                FROM m WHERE {valid})
          WHERE value IS NOT NULL
          QUALIFY row_number() OVER (PARTITION BY golden_id, value, record_key ORDER BY pos) = 1
        )
        SELECT *, {_criteria_values(rules)} FROM (
          SELECT *, {frequency} AS frequency, 1 AS completeness, hash(value) AS value_key FROM c
        )
        QUALIFY row_number() OVER (PARTITION BY golden_id, value ORDER BY {_order(rules)}) = 1""")
    con.execute(f"""
        CREATE TEMP TABLE w_{group} AS
        WITH ranked AS (
          SELECT *, row_number() OVER (PARTITION BY golden_id ORDER BY {_order(rules)}) AS rn,
                 count(*) OVER (PARTITION BY golden_id) AS candidates
          FROM e_{group}
        ), lists AS (SELECT golden_id, list(value ORDER BY rn) AS {listed} FROM ranked GROUP BY golden_id)
        SELECT w.golden_id, w.value AS {primary}, l.{listed}, w.qc, w.record_key, w.source, w.source_id,
               {_why(rules)} AS rule
        FROM ranked w JOIN lists l USING (golden_id) LEFT JOIN ranked r ON r.golden_id = w.golden_id AND r.rn = 2
        WHERE w.rn = 1 ORDER BY w.golden_id""")
    return [f"SELECT golden_id, '{primary}' AS attribute, {primary} AS value, source, source_id, record_key, rule "
            f"FROM w_{group} ORDER BY golden_id",
            f"SELECT golden_id, '{listed}' AS attribute, value, source, source_id, record_key, 'aggregate' AS rule "
            f"FROM e_{group} ORDER BY golden_id, value"]


#: Lineage rule names of consent: (column wins with its value, the other value).
_CONSENT_RULES: dict[str, tuple[str, str]] = {
    "consent_pd": ("opt_out_wins", "opt_in"),
    "consent_marketing": ("opt_out_wins", "opt_in"),
    "do_not_contact": ("do_not_contact_wins", "no_do_not_contact"),
}


def _consent(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Temp tables ``k_<column>`` (golden_id, value, record, rule) of the consent columns;
    returns their lineage SELECTs."""
    selects = []
    for column, wins in CONSENT:
        win_rule, other_rule = _CONSENT_RULES[column]
        win = "TRUE" if wins else "FALSE"
        # marketing consent is withdrawn by a do-not-contact entry too
        said = (f"({column} = {win} OR do_not_contact)" if column == "consent_marketing" else f"{column} = {win}")
        con.execute(f"""
            CREATE TEMP TABLE k_{column} AS
            WITH c AS (
              SELECT golden_id, record_key, source, source_id, seen_at,
                     coalesce({said}, FALSE) AS says_win,
                     CASE WHEN {column} = {win} THEN '{win_rule}'
                          WHEN do_not_contact AND '{column}' = 'consent_marketing' THEN 'do_not_contact_wins'
                          ELSE '{other_rule}' END AS rule
              FROM m WHERE {column} IS NOT NULL OR ('{column}' = 'consent_marketing' AND do_not_contact)
            ), decided AS (SELECT golden_id, bool_or(says_win) AS any_win FROM c GROUP BY golden_id)
            SELECT c.golden_id, CASE WHEN d.any_win THEN {win} ELSE NOT {win} END AS value,
                   c.record_key, c.source, c.source_id, c.rule
            FROM c JOIN decided d USING (golden_id)
            WHERE c.says_win = d.any_win
            QUALIFY row_number() OVER (PARTITION BY c.golden_id
                                       ORDER BY c.seen_at DESC NULLS LAST, c.record_key) = 1""")
        selects.append(f"SELECT golden_id, '{column}' AS attribute, CAST(value AS VARCHAR) AS value, source, "
                       f"source_id, record_key, rule FROM k_{column} ORDER BY golden_id")
    return selects


#: Lineage rule of a source's unmapped column (``extra``): kept, not survived.
EXTRA_RULE = "source_extra"


def _extra_lineage() -> str:
    """Lineage SELECT of the members' unmapped source columns (DESIGN.md: they "survive into
    the golden record's lineage"): one row per non-empty value, attribute ``extra.<column>``."""
    return (f"SELECT m.golden_id, 'extra.' || j.key AS attribute, j.value ->> '$' AS value, m.source, m.source_id, "
            f"m.record_key, '{EXTRA_RULE}' AS rule "
            f"FROM m, json_each(m.extra) AS j "
            f"WHERE m.extra IS NOT NULL AND json_valid(m.extra) AND coalesce(j.value ->> '$', '') <> '' "
            f"ORDER BY m.golden_id, attribute, m.record_key")


def _golden_sql() -> str:
    """The golden customers: membership ``g`` joined with every group's winner."""
    cols, joins = ["g.golden_id"], []
    for group in GROUPS:
        cols += [f"w_{group.name}.{c}" for c in group.columns]
        joins.append(f"LEFT JOIN w_{group.name} USING (golden_id)")
    for group, _, _, primary, listed in LISTS:
        cols += [f"w_{group}.{primary}", f"w_{group}.{listed}"]
        joins.append(f"LEFT JOIN w_{group} USING (golden_id)")
    for column, _ in CONSENT:
        cols.append(f"k_{column}.value AS {column}")
        joins.append(f"LEFT JOIN k_{column} USING (golden_id)")
    score = " + ".join(
        f"{weight} * CASE WHEN w_{name}.record_key IS NULL THEN 0.0 "
        f"WHEN w_{name}.qc <= 1 OR w_{name}.qc IS NULL THEN 1.0 ELSE 0.5 END"
        for name, weight in QUALITY_WEIGHTS.items())
    cols += ["g.record_count", "g.source_count", "g.sources", "g.first_seen", "g.last_seen",
             f"CAST(round({score}) AS TINYINT) AS quality_score",
             "CAST(NULL AS VARCHAR) AS household_id", "CAST(NULL AS VARCHAR) AS organisation_id"]
    ordered = {c.split(" AS ")[-1].split(".")[-1]: c for c in cols}
    select = ", ".join(ordered[name] for name in GOLDEN_CUSTOMERS.names)
    return f"SELECT {select} FROM g {' '.join(joins)} ORDER BY g.golden_id"


def build_golden(
    members: pa.Table,
    *,
    trust: Mapping[str, float],
    settings: SurvivorshipSettings,
    as_of: date,
) -> tuple[pa.Table, pa.Table]:
    """Golden customers and lineage from the member records of every golden id.

    ``members``: one row per accepted record with ``golden_id`` and :data:`MEMBER_COLUMNS`
    (missing columns count as null); ``trust``: source -> trust 0..1 (a source not listed
    counts 0.5, the config default). Returns ``(golden, lineage)``: ``golden`` has exactly
    one row per distinct golden id, :data:`~pipelines.schema.GOLDEN_CUSTOMERS` schema
    (``household_id`` / ``organisation_id`` null: golden.households fills them), sorted by
    golden_id; ``lineage`` (:data:`~pipelines.schema.LINEAGE`) has a row for every non-null
    golden attribute (per element of ``phones`` / ``emails``), attribute by attribute in
    golden column order, each sorted by golden_id (list elements then by value), then the
    members' unmapped source columns. Deterministic: the row order of ``members`` does not
    matter. For millions of records use :func:`build_golden_streaming`.
    """
    parts: list[pa.Table] = []
    golden, _ = build_golden_streaming(members, trust=trust, settings=settings, as_of=as_of,
                                       lineage_sink=parts.append)
    return golden, pa.concat_tables(parts) if parts else LINEAGE.empty_table()


def build_golden_streaming(
    members: pa.Table,
    *,
    trust: Mapping[str, float],
    settings: SurvivorshipSettings,
    as_of: date,
    lineage_sink: Callable[[pa.Table], None],
    batch_rows: int = 1_000_000,
) -> tuple[pa.Table, int]:
    """:func:`build_golden` handing the lineage to ``lineage_sink`` in tables of at most
    ``batch_rows`` rows, in the documented order, instead of returning it (tens of millions
    of rows at 1M records: streamed, they never sit in memory at once). Returns the golden
    customers and the number of lineage rows."""
    con = duckdb.connect()
    try:
        con.execute("SET threads = 2")
        _load_members(con, members, trust, settings, as_of)
        lineage: list[str] = []
        for group in GROUPS:
            lineage += _survive_group(con, group, settings.rules_for(group.name))
        for group_name, column, qc, primary, listed in LISTS:
            lineage += _aggregate_list(con, group_name, column, qc, primary, listed, settings.rules_for(group_name))
        lineage += _consent(con)
        lineage.append(_extra_lineage())
        golden = con.sql(_golden_sql()).to_arrow_table().cast(GOLDEN_CUSTOMERS)
        rows = 0
        for query in lineage:
            reader = con.sql(query).to_arrow_reader(batch_rows)
            for batch in reader:
                if batch.num_rows:
                    lineage_sink(pa.Table.from_batches([batch]).cast(LINEAGE))
                    rows += batch.num_rows
    finally:
        con.close()
    return golden, rows
