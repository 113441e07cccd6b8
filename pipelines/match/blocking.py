"""Blocking: which record pairs are scored at all.

Blocking rules are declared as data (:data:`BLOCKING_RULES`): a rule is a name and the key
parts that must all be equal (and non-null) for two records to become a candidate pair; a rule
on a list column (phones) pairs records that share any element.

Common values would explode a rule (a shared office phone, a placeholder e-mail, "Ivanov
Sergei 1980" in a national file). The **block-size guard** runs before Splink: it counts,
in DuckDB, how many records carry each key value and drops the values held by more than
``max_block_size`` records from that rule (the records stay; they can still be paired by
other rules). The surviving key is materialised as one column per rule, ``bk_<rule>``, and
Splink blocks on exact equality of that column, so the guard and Splink always agree and the
rules stay engine-neutral. The guard's report never shows a raw key value: only counts and
masked examples of the excluded values (see :func:`mask_key`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable

import duckdb
import pandas as pd
import pyarrow as pa

#: Default largest block (records sharing one key value) a rule may generate.
DEFAULT_MAX_BLOCK_SIZE = 1000

#: Prefix of the materialised blocking key columns.
KEY_PREFIX = "bk_"


@dataclass(frozen=True)
class BlockingRule:
    """A blocking rule: records agreeing on every part (all non-null) are compared.

    ``parts`` are DuckDB SQL expressions over the match frame. ``array`` marks a rule whose
    single part is a list column: records sharing any element are compared. ``cross`` gives
    other parts for the right-hand record (``l.parts = r.cross``; the relation must be
    symmetric, e.g. last|first against first|last), materialised as ``bk_<name>_r``.
    """

    name: str
    parts: tuple[str, ...]
    description: str
    array: bool = False
    cross: tuple[str, ...] | None = None

    @property
    def column(self) -> str:
        """Name of the materialised key column."""
        return f"{KEY_PREFIX}{self.name}"

    @property
    def cross_column(self) -> str:
        """Name of the materialised right-hand key column of a cross rule."""
        return f"{KEY_PREFIX}{self.name}_r"

    def key_sql(self, parts: tuple[str, ...] | None = None) -> str:
        """DuckDB expression of the key (NULL unless every part is non-null)."""
        parts = parts or self.parts
        if self.array:
            return parts[0]
        nonnull = " AND ".join(f"({p}) IS NOT NULL" for p in parts)
        joined = " || '|' || ".join(f"CAST(({p}) AS VARCHAR)" for p in parts)
        return f"CASE WHEN {nonnull} THEN {joined} END"


#: Rules that generate the candidate pairs, in order (Splink's match_key is the index).
BLOCKING_RULES: tuple[BlockingRule, ...] = (
    BlockingRule("phone", ("phones",), "share any phone number", array=True),
    BlockingRule("email", ("coalesce(email_suggestion, email)",),
                 "same e-mail (after typo correction)"),
    BlockingRule("national_id", ("national_id",), "same national id"),
    BlockingRule("personal_tax_id", ("personal_tax_id",), "same personal tax id"),
    BlockingRule("name_birth_year", ("last_name_stem", "first_name_canon", "birth_year"),
                 "same surname stem, first name and birth year"),
    BlockingRule("dob_first_name", ("dob", "first_name_canon"), "same birth date and first name"),
    BlockingRule("dob_last_name", ("dob", "last_name_stem"), "same birth date and surname"),
    BlockingRule("postcode_last_name", ("postcode", "last_name_stem"),
                 "same postcode and surname stem"),
    BlockingRule("address_first_name", ("address_key", "first_name_canon"),
                 "same building and first name"),
    BlockingRule("full_name", ("last_name_stem", "first_name_canon", "middle_name_skel"),
                 "same surname, first name and patronymic"),
    BlockingRule("swapped_names", ("last_name_skel", "first_name_skel"),
                 "first and last name swapped", cross=("first_name_skel", "last_name_skel")),
    BlockingRule("email_local_name", ("email_local", "first_name_canon"),
                 "same e-mail local part and first name"),
)


def rule_names(rules: Iterable[BlockingRule] = BLOCKING_RULES) -> list[str]:
    """Names of the rules, in match_key order."""
    return [r.name for r in rules]


def splink_blocking_rules(rules: Iterable[BlockingRule] = BLOCKING_RULES) -> list[Any]:
    """Splink blocking rule creators on the guarded key columns (engine-neutral)."""
    from splink import block_on
    from splink.blocking_rule_library import CustomRule

    out = []
    for r in rules:
        if r.array:
            out.append(block_on(r.column, arrays_to_explode=[r.column]))
        elif r.cross:
            out.append(CustomRule(f"l.{r.column} = r.{r.cross_column}"))
        else:
            out.append(block_on(r.column))
    return out


def mask_key(value: object) -> str:
    """A key value masked for reports: every part (parts are joined by "|") keeps its first
    and last character, the rest becomes "*" ("+74951110000" -> "+**********0", "noreply@x.ru"
    -> "n**********u"). Deterministic, so reruns give identical reports; no hash, because
    phone numbers and birth dates are few enough to reverse any plain hash by enumeration."""
    parts = []
    for part in str(value).split("|"):
        parts.append(part[0] + "*" * (len(part) - 2) + part[-1] if len(part) > 2 else "*" * len(part))
    return "|".join(parts)


def _connect(con: duckdb.DuckDBPyConnection | None) -> duckdb.DuckDBPyConnection:
    if con is not None:
        return con
    new = duckdb.connect()
    new.execute("SET threads = 2")
    return new


def apply_guard(
    frame: pd.DataFrame | pa.Table,
    *,
    max_block_size: int = DEFAULT_MAX_BLOCK_SIZE,
    rules: Iterable[BlockingRule] = BLOCKING_RULES,
    con: duckdb.DuckDBPyConnection | None = None,
) -> tuple[pa.Table, list[dict[str, Any]]]:
    """Add the guarded blocking key columns ``bk_<rule>`` to the match frame.

    Returns (table, report). The table is ``frame`` as Arrow plus one key column per rule
    (string, or list of strings for array rules): the rule's key, or null where any part is
    null or the key value is held by more than ``max_block_size`` distinct records. The report
    has one dict per rule: ``rule``, ``keys`` (distinct kept values), ``records`` (records with
    a kept key), ``pairs`` (pairs the rule generates before de-duplication across rules:
    sum of n(n-1)/2 over kept values), ``largest_block``, ``excluded_keys``,
    ``excluded_records``, ``largest_excluded_block`` and ``excluded_examples`` (the largest
    excluded blocks' values, at most 5, masked by :func:`mask_key`). The input is not modified.
    """
    rules = tuple(rules)
    c = _connect(con)
    table = frame if isinstance(frame, pa.Table) else pa.Table.from_pandas(frame, preserve_index=False)
    table = table.append_column("__gh_row", pa.array(range(table.num_rows), pa.int64()))
    name = "__gh_guard_input"
    c.register(name, table)
    report: list[dict[str, Any]] = []
    joins: list[str] = []
    selects: list[str] = []
    try:
        for r in rules:
            key = r.key_sql()
            if r.array:
                c.execute(f"""CREATE OR REPLACE TEMP TABLE __gh_elems_{r.name} AS
                    SELECT DISTINCT __gh_row, k FROM (
                        SELECT __gh_row, unnest({key}) AS k FROM {name}) WHERE k IS NOT NULL""")
                counts_sql = f"SELECT k, count(*) AS n FROM __gh_elems_{r.name} GROUP BY k"
            elif r.cross:
                rkey = r.key_sql(r.cross)
                # a key's block holds the records with it on either side; pairs are n_l * n_r
                counts_sql = f"""
                    SELECT k, count(*) AS n, count(*) FILTER (WHERE side = 'l') AS nl,
                           count(*) FILTER (WHERE side = 'r') AS nr
                    FROM (SELECT {key} AS k, 'l' AS side FROM {name}
                          UNION ALL SELECT {rkey} AS k, 'r' AS side FROM {name})
                    WHERE k IS NOT NULL GROUP BY k HAVING nl > 0 AND nr > 0"""
            else:
                counts_sql = f"""
                    SELECT k, count(*) AS n FROM (SELECT {key} AS k FROM {name})
                    WHERE k IS NOT NULL GROUP BY k"""
            c.execute(f"CREATE OR REPLACE TEMP TABLE __gh_counts_{r.name} AS {counts_sql}")
            counts = f"__gh_counts_{r.name}"
            # a symmetric cross rule sees every pair under two keys (k and its mirror)
            pairs_expr = "nl * nr / 2" if r.cross else "n * (n - 1) // 2"
            stats = c.execute(f"""
                SELECT
                    count(*) FILTER (WHERE n <= {max_block_size}),
                    coalesce(sum(n) FILTER (WHERE n <= {max_block_size}), 0),
                    CAST(coalesce(sum({pairs_expr}) FILTER (WHERE n <= {max_block_size}), 0) AS BIGINT),
                    coalesce(max(n) FILTER (WHERE n <= {max_block_size}), 0),
                    count(*) FILTER (WHERE n > {max_block_size}),
                    coalesce(sum(n) FILTER (WHERE n > {max_block_size}), 0),
                    coalesce(max(n) FILTER (WHERE n > {max_block_size}), 0)
                FROM {counts}""").fetchall()[0]
            worst = c.execute(f"""
                SELECT k FROM {counts} WHERE n > {max_block_size}
                ORDER BY n DESC, k LIMIT 5""").fetchall()
            report.append({
                "rule": r.name,
                "keys": int(stats[0]),
                "records": int(stats[1]),
                "pairs": int(stats[2]),
                "largest_block": int(stats[3]),
                "excluded_keys": int(stats[4]),
                "excluded_records": int(stats[5]),
                "largest_excluded_block": int(stats[6]),
                "excluded_examples": [mask_key(row[0]) for row in worst],
            })
            if r.array:
                c.execute(f"""CREATE OR REPLACE TEMP TABLE __gh_arr_{r.name} AS
                    SELECT e.__gh_row, list(e.k ORDER BY e.k) AS v
                    FROM __gh_elems_{r.name} e JOIN {counts} n ON n.k = e.k
                    WHERE n.n <= {max_block_size}
                    GROUP BY e.__gh_row""")
                joins.append(f"LEFT JOIN __gh_arr_{r.name} AS a_{r.name} "
                             f"ON a_{r.name}.__gh_row = i.__gh_row")
                selects.append(f"a_{r.name}.v AS {r.column}")
            elif r.cross:
                # keep only keys seen on both sides and not too frequent: others pair nothing
                rkey = r.key_sql(r.cross)
                kept = f"(SELECT k FROM {counts} WHERE n <= {max_block_size})"
                joins.append(f"LEFT JOIN {kept} AS xl_{r.name} ON xl_{r.name}.k = ({key})")
                joins.append(f"LEFT JOIN {kept} AS xr_{r.name} ON xr_{r.name}.k = ({rkey})")
                selects.append(f"xl_{r.name}.k AS {r.column}")
                selects.append(f"xr_{r.name}.k AS {r.cross_column}")
            elif int(stats[4]) == 0:
                selects.append(f"{key} AS {r.column}")
            else:
                joins.append(f"LEFT JOIN (SELECT k FROM {counts} WHERE n > {max_block_size}) "
                             f"AS x_{r.name} ON x_{r.name}.k = ({key})")
                selects.append(f"CASE WHEN x_{r.name}.k IS NULL THEN {key} END AS {r.column}")
        sql = (f"SELECT i.* EXCLUDE (__gh_row), {', '.join(selects)} FROM {name} AS i "
               f"{' '.join(joins)} ORDER BY i.__gh_row")
        out = c.sql(sql).to_arrow_table()
    finally:
        c.unregister(name)
        for r in rules:
            for t in ("counts", "elems", "arr"):
                c.execute(f"DROP TABLE IF EXISTS __gh_{t}_{r.name}")
        if con is None:
            c.close()
    return out, report


def blocking_recall(
    keyed: pa.Table | pd.DataFrame,
    truth: pd.DataFrame,
    *,
    rules: Iterable[BlockingRule] = BLOCKING_RULES,
    con: duckdb.DuckDBPyConnection | None = None,
) -> dict[str, Any]:
    """Share of true pairs that at least one rule generates (the recall ceiling of matching).

    ``keyed`` is the output of :func:`apply_guard`; ``truth`` has ``record_key`` and
    ``entity_id`` (records of one entity are true pairs; records absent from ``keyed`` are
    ignored). Returns ``truth_pairs``, ``found_pairs``, ``recall``, ``per_rule`` (rule ->
    pairs that rule finds, regardless of other rules) and ``only_rule`` (rule -> pairs no
    other rule finds).
    """
    rules = tuple(rules)
    c = _connect(con)
    keyed_t = keyed if isinstance(keyed, pa.Table) else pa.Table.from_pandas(keyed, preserve_index=False)
    key_cols = [r.column for r in rules] + [r.cross_column for r in rules if r.cross]
    cols = ", ".join(key_cols)
    c.register("__gh_keyed", keyed_t.select(["unique_id"] + key_cols))
    c.register("__gh_truth", pa.Table.from_pandas(truth[["record_key", "entity_id"]].astype(str),
                                                  preserve_index=False))
    try:
        hits = []
        for r in rules:
            if r.array:
                hits.append(f"coalesce(len(list_intersect(l.{r.column}, r.{r.column})) > 0, false)"
                            f" AS {r.name}")
            elif r.cross:
                hits.append(f"coalesce(l.{r.column} = r.{r.cross_column} "
                            f"OR r.{r.column} = l.{r.cross_column}, false) AS {r.name}")
            else:
                hits.append(f"coalesce(l.{r.column} = r.{r.column}, false) AS {r.name}")
        c.execute(f"""
            CREATE OR REPLACE TEMP TABLE __gh_tp AS
            WITH t AS (
                SELECT k.unique_id, t.entity_id, {cols}
                FROM __gh_keyed k JOIN __gh_truth t ON t.record_key = k.unique_id
            )
            SELECT {', '.join(hits)}
            FROM t AS l JOIN t AS r ON l.entity_id = r.entity_id AND l.unique_id < r.unique_id
        """)
        any_hit = " OR ".join(r.name for r in rules)
        total, found = c.execute(
            f"SELECT count(*), count(*) FILTER (WHERE {any_hit}) FROM __gh_tp").fetchall()[0]
        per_rule = {}
        only_rule = {}
        for r in rules:
            others = " OR ".join(o.name for o in rules if o.name != r.name) or "false"
            n, only = c.execute(
                f"SELECT count(*) FILTER (WHERE {r.name}), "
                f"count(*) FILTER (WHERE {r.name} AND NOT ({others})) FROM __gh_tp").fetchall()[0]
            per_rule[r.name] = int(n)
            only_rule[r.name] = int(only)
    finally:
        c.unregister("__gh_keyed")
        c.unregister("__gh_truth")
        c.execute("DROP TABLE IF EXISTS __gh_tp")
        if con is None:
            c.close()
    return {
        "truth_pairs": int(total),
        "found_pairs": int(found),
        "recall": (found / total) if total else 1.0,
        "per_rule": per_rule,
        "only_rule": only_rule,
    }
