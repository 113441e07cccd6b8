"""Splink comparisons of the match stage, declared as data.

Each comparison is a name and an ordered list of levels (most specific first, Splink
evaluates them as a CASE). Column names refer to :data:`pipelines.match.features.MATCH_COLUMNS`;
in a level's SQL ``x_l`` / ``x_r`` are the left / right record's values.

Rules every comparison follows:

* the first level is the null level (gamma -1, weight 0): a missing value is never
  agreement and never disagreement;
* string similarity (Jaro-Winkler) only ever sees lowercase ASCII columns: DuckDB's
  ``jaro_winkler_similarity`` works on UTF-8 bytes, so on Cyrillic text unrelated names look
  alike (Анна/Олег 0.67) and one typo counts as two;
* two different *known* first names (Мария / Марина, Ivan / Ivana) are different names, not a
  typo: fuzzy name levels require at least one side to be unknown to the name tables, and
  names that differ only by a gender ending have their own level (husband and wife,
  brother and sister), so EM can learn that this is household evidence, not identity;
* term-frequency adjustment on exact name / e-mail levels, so a match on "Ivanov" counts
  less than a match on "Zapotylok" -- but a rare name counts as at least moderately common
  (:data:`TF_MIN_NAME`, :data:`TF_MIN_SURNAME`): name parts are not independent evidence;
* evidence a family shares (surname, phones, flat) is one joint comparison
  (``surname_contact``), because Fellegi-Sunter adds independent weights and families agree
  on all of them at once;
* no level is a veto by itself (model.M_FLOOR), except through documented priors: the
  m of "different first name" (:data:`FIRST_NAME_DIFFERS_M`) and of identifier agreement
  (:data:`IDENTIFIER_M`) are fixed, not estimated.

The SQL is engine-neutral apart from placeholders resolved per dialect (``{jw}``: the
Jaro-Winkler function Splink's dialect names; ``{dl}``: its Damerau-Levenshtein distance;
``{overlap:col}``: two lists share an element).

Comparisons (gamma_<name> / mw_<name> in the pairs table): first_name, middle_name, gender,
dob, email, surname_contact, national_id, personal_tax_id.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

import splink.comparison_level_library as cll
import splink.comparison_library as cl
from splink.internals.comparison_level_creator import ComparisonLevelCreator
from splink.internals.dialects import SplinkDialect


# --------------------------------------------------------------------------------------------
# Level vocabulary
# --------------------------------------------------------------------------------------------

_OVERLAP = re.compile(r"\{overlap:(\w+)\}")
_OVERLAP_SQL = {
    "duckdb": "list_has_any({c}_l, {c}_r)",
    "spark": "arrays_overlap({c}_l, {c}_r)",
}


class _SqlLevel(ComparisonLevelCreator):
    """A level given as SQL with dialect placeholders: ``{jw}`` (Jaro-Winkler function),
    ``{dl}`` (Damerau-Levenshtein distance) and ``{overlap:col}`` (the two lists in ``col``
    share an element)."""

    def __init__(self, sql: str, label: str):
        self.sql = sql
        self.label = label

    def create_sql(self, sql_dialect: SplinkDialect) -> str:
        sql = self.sql.replace("{jw}", sql_dialect.jaro_winkler_function_name)
        sql = sql.replace("{dl}", sql_dialect.damerau_levenshtein_function_name)
        template = _OVERLAP_SQL.get(sql_dialect.sql_dialect_str)
        if template is None and _OVERLAP.search(sql):
            raise ValueError(f"no list-overlap SQL for dialect {sql_dialect.sql_dialect_str}")
        return _OVERLAP.sub(lambda m: template.format(c=m.group(1)), sql)

    def create_label_for_charts(self) -> str:
        return self.label


def null(sql: str, label: str = "null") -> ComparisonLevelCreator:
    """The null level: ``sql`` is true when the comparison has nothing to compare."""
    return _SqlLevel(sql, label).configure(is_null_level=True)


def when(sql: str, label: str, tf: str | None = None, tf_own_u: bool = False,
         tf_min: float | None = None) -> ComparisonLevelCreator:
    """A level true when ``sql`` holds.

    ``tf`` names a column for term-frequency adjustment: the level's weight moves by
    log2(u_base / tf(value)), where u_base is the u of the comparison's exact-match level on
    ``tf`` (Splink's default), or this level's own u with ``tf_own_u`` -- right only when this
    level's u is about the probability that two random records agree on ``tf``. ``tf_min``
    is the smallest frequency the adjustment uses (Splink's tf_minimum_u_value): a value rarer
    than that counts as that frequent (see :data:`TF_MIN_NAME`).
    """
    level = _SqlLevel(sql, label)
    if tf:
        level.configure(tf_adjustment_column=tf, tf_adjustment_weight=1.0)
        if tf_own_u:
            level.configure(disable_tf_exact_match_detection=True)
        if tf_min:
            level.configure(tf_minimum_u_value=tf_min)
    return level


def exact(col: str, label: str, tf: bool = True, tf_min: float | None = None) -> ComparisonLevelCreator:
    """Exact agreement on ``col`` (with term-frequency adjustment unless ``tf`` is False)."""
    return when(f"{col}_l = {col}_r", label, tf=col if tf else None, tf_min=tf_min)


def overlap(col: str, label: str) -> ComparisonLevelCreator:
    """The two lists in ``col`` share at least one element."""
    return cll.ArrayIntersectLevel(col, min_intersection=1).configure(label_for_charts=label)


def else_(label: str = "different", m: float | None = None) -> ComparisonLevelCreator:
    """Everything else (disagreement); ``m`` fixes its m probability (see :func:`identifier`)."""
    level = cll.ElseLevel().configure(label_for_charts=label)
    if m is not None:
        level.configure(m_probability=m, fix_m_probability=True)
    return level


def identifier(col: str, label: str, m: float) -> ComparisonLevelCreator:
    """Exact agreement on an identifier with a fixed m probability.

    Identifiers (passport, personal INN) are held by one source or few records, so EM blocks
    rarely contain two of them and cannot estimate how often a person's two records agree:
    the m probability is a documented prior (typing errors make ~5% of a person's values
    differ), u is still estimated from the data.
    """
    return when(f"{col}_l = {col}_r", label).configure(m_probability=m, fix_m_probability=True)


def _both_known(col: str) -> str:
    return f"(coalesce({col}_l, false) AND coalesce({col}_r, false))"


@dataclass(frozen=True)
class ComparisonSpec:
    """One comparison: output name (gamma_<name>, mw_<name>), description, ordered levels."""

    name: str
    description: str
    levels: tuple[ComparisonLevelCreator, ...]

    def creator(self) -> cl.CustomComparison:
        """The Splink comparison creator (dialect-neutral until a linker resolves it)."""
        return cl.CustomComparison(
            comparison_levels=list(self.levels),
            output_column_name=self.name,
            comparison_description=self.description,
        )


# --------------------------------------------------------------------------------------------
# The comparisons
# --------------------------------------------------------------------------------------------

#: Jaro-Winkler thresholds (on lowercase ASCII transliterations).
JW_LAST = 0.92
JW_FIRST = 0.90
JW_MIDDLE = 0.92
#: Shortest name on which one edit (Damerau-Levenshtein) counts as similar even below the
#: Jaro-Winkler threshold (jarod / jatod: 0.89, a slip in the middle of a short name).
TYPO_MIN_LENGTH = 5
#: m probability of agreement on a personal identifier (see :func:`identifier`).
IDENTIFIER_M = 0.95
#: m probability of two ids of one person one typing slip apart (one digit changed, added,
#: dropped, or two neighbours swapped): most of the ~5% of differing values are single
#: slips (Damerau 1964: ~80% of misspellings). Ids are compared from this length on.
ID_TYPO_M = 0.03
ID_TYPO_MIN_LENGTH = 6
#: m probability of "different first name" (after spelling, script, diminutive, gender form,
#: typo and initial levels): a documented prior, not an EM estimate. EM can only learn it on
#: blocks where families sit among the matches -- twins share a birth date, spouses a mailbox
#: -- and it then reads their different first names as common among matches (it gave
#: 0.02-0.06), which makes the one fact that tells siblings apart weigh almost nothing.
FIRST_NAME_DIFFERS_M = 0.01

#: Smallest frequencies the term-frequency adjustment of names uses. Term frequencies may
#: lower the weight of a common name (Ivanov, Aleksandr) but raise a rare one only a little:
#: the frequency of a rare name in one customer file is a poor estimate of its frequency in
#: the population, and homonyms are not independent across the name parts -- first name,
#: patronymic and surname run in families and regions (Kurbanov Ibragim Magomedovich is rare
#: in a Moscow file and common in Makhachkala), so three rare parts added as independent
#: evidence made full-name namesakes with no other agreement score 0.98-1.0 on the 100k demo.
#: A first name or patronymic counts as at least 1 in 200 people, a surname (at the
#: joint level, whose own u is already about one surname agreement) as at least 1 in 10,000.
TF_MIN_NAME = 1 / 200
TF_MIN_SURNAME = 1 / 10_000

_PHONE = "{overlap:phones}"
_NO_PHONE = "phones_l IS NULL OR phones_r IS NULL"
_FLAT = "address_flat_key_l = address_flat_key_r"
_BUILDING = "address_key_l = address_key_r"
_NO_ADDRESS = ("(address_key_l IS NULL AND postcode_l IS NULL) OR "
               "(address_key_r IS NULL AND postcode_r IS NULL)")

_NAME_SWAP = ("last_name_skel_l = first_name_skel_r AND first_name_skel_l = last_name_skel_r")
_NO_SURNAME = "last_name_skel_l IS NULL OR last_name_skel_r IS NULL"
# same surname: same skeleton, swapped with the first name, or a typo (similar spelling, one
# side unknown to the surname tables, not merely the other gender's form)
_SAME_SURNAME = (
    f"last_name_skel_l = last_name_skel_r OR ({_NAME_SWAP}) OR "
    f"({{jw}}(last_name_l, last_name_r) >= {JW_LAST} "
    f"AND NOT {_both_known('last_name_known')} AND last_name_stem_l <> last_name_stem_r)"
)
# related surname: the other gender's form (Иванов / Иванова) or a similar known surname
_RELATED_SURNAME = (
    f"last_name_stem_l = last_name_stem_r OR {{jw}}(last_name_l, last_name_r) >= {JW_LAST}"
)
_STRONG_CONTACT = f"{_PHONE} OR {_FLAT}"


COMPARISONS: tuple[ComparisonSpec, ...] = (
    ComparisonSpec("first_name", "First name (transliteration, skeleton, diminutives)", (
        null("(first_name_skel_l IS NULL AND first_initial_l IS NULL) OR "
             "(first_name_skel_r IS NULL AND first_initial_r IS NULL)"),
        exact("first_name", "same first name", tf_min=TF_MIN_NAME),
        when("first_name_skel_l = first_name_skel_r", "same first name, other spelling or script",
             tf="first_name", tf_min=TF_MIN_NAME),
        when(_NAME_SWAP, "first and last name swapped"),
        when("first_name_canon_l = first_name_canon_r", "diminutive of the same name",
             tf="first_name", tf_min=TF_MIN_NAME),
        when("first_name_skel_l || 'a' = first_name_skel_r OR first_name_skel_r || 'a' = first_name_skel_l",
             "same name, other gender form (Aleksandr / Aleksandra)"),
        when(f"({{jw}}(first_name_l, first_name_r) >= {JW_FIRST} OR (least(length(first_name_l), "
             f"length(first_name_r)) >= {TYPO_MIN_LENGTH} AND {{dl}}(first_name_l, first_name_r) <= 1)) "
             f"AND NOT {_both_known('first_name_known')}",
             "first name typo (similar, one side unknown)"),
        when("(first_name_skel_l IS NULL AND "
             "substr(coalesce(first_name_skel_r, first_initial_r), 1, 1) = first_initial_l) OR "
             "(first_name_skel_r IS NULL AND "
             "substr(coalesce(first_name_skel_l, first_initial_l), 1, 1) = first_initial_r)",
             "initial agrees"),
        else_("different first name", m=FIRST_NAME_DIFFERS_M),
    )),
    ComparisonSpec("middle_name", "Middle name / patronymic", (
        null("(middle_name_skel_l IS NULL AND middle_initial_l IS NULL) OR "
             "(middle_name_skel_r IS NULL AND middle_initial_r IS NULL)"),
        exact("middle_name_skel", "same patronymic", tf_min=TF_MIN_NAME),
        when("middle_name_stem_l = middle_name_stem_r",
             "same father's name, other gender form"),
        when(f"{{jw}}(middle_name_l, middle_name_r) >= {JW_MIDDLE}", "patronymic typo"),
        when("(middle_name_skel_l IS NULL AND "
             "substr(coalesce(middle_name_skel_r, middle_initial_r), 1, 1) = middle_initial_l) OR "
             "(middle_name_skel_r IS NULL AND "
             "substr(coalesce(middle_name_skel_l, middle_initial_l), 1, 1) = middle_initial_r)",
             "initial agrees"),
        else_("different patronymic"),
    )),
    # Gender as recorded by the source or read from the patronymic or surname (a gender read
    # from the first name is left out of the match frame: no second vote for one fact).
    ComparisonSpec("gender", "Gender (not inferred from the first name)", (
        null("gender_l IS NULL OR gender_r IS NULL"),
        exact("gender", "same gender", tf=False),
        else_("different gender"),
    )),
    ComparisonSpec("dob", "Birth date", (
        null("dob_l IS NULL OR dob_r IS NULL"),
        exact("dob", "same birth date"),
        when("dob_swapped_l = dob_r", "day and month swapped"),
        when("birth_ym_l = birth_ym_r", "same year and month"),
        when("birth_md_l = birth_md_r", "same day and month, other year"),
        when("abs(dob_days_l - dob_days_r) <= 365", "within a year"),
        else_("different birth date"),
    )),
    ComparisonSpec("email", "E-mail", (
        null("email_l IS NULL OR email_r IS NULL"),
        exact("email", "same e-mail"),
        when("coalesce(email_suggestion_l, email_l) = coalesce(email_suggestion_r, email_r)",
             "same e-mail after typo correction"),
        else_("different e-mail"),
    )),
    # Surname, phones and address are compared jointly. A family shares all three, so
    # scoring them as independent comparisons adds their weights for every household pair
    # (surname +12 and phone +17 against a first-name disagreement of -5: spouses merge).
    # Jointly, the u of "same surname and same phone" is measured on random pairs, where it
    # is dominated by families, and the level weighs what it really proves.
    ComparisonSpec("surname_contact", "Surname with phone numbers and postal address, jointly", (
        null(f"({_NO_SURNAME}) AND ({_NO_PHONE}) AND ({_NO_ADDRESS})"),
        when(f"({_SAME_SURNAME}) AND ({_STRONG_CONTACT})", "same surname, same phone or flat"),
        when(f"({_SAME_SURNAME}) AND {_BUILDING}", "same surname, same building"),
        when(f"({_RELATED_SURNAME}) AND ({_STRONG_CONTACT})",
             "related surname (other gender form or similar), same phone or flat"),
        when(f"({_NO_SURNAME}) AND ({_STRONG_CONTACT})", "unknown surname, same phone or flat"),
        when(f"{_STRONG_CONTACT}", "different surname, same phone or flat"),
        # contacts unknown: no term-frequency adjustment, this level's u (surname agreement
        # AND no contacts) is far below the chance of a surname agreement, the adjustment's base
        when(f"({_SAME_SURNAME}) AND ({_NO_PHONE}) AND ({_NO_ADDRESS})",
             "same surname, contacts unknown"),
        when(f"{_SAME_SURNAME}", "same surname, contacts differ", tf="last_name", tf_own_u=True,
             tf_min=TF_MIN_SURNAME),
        when(f"{_RELATED_SURNAME}", "related surname, no shared contact"),
        when(f"{_BUILDING}", "other or unknown surname, same building"),
        when("postcode_l = postcode_r", "same postcode only"),
        when(f"({_NO_PHONE}) AND ({_NO_ADDRESS})", "different surname, contacts unknown"),
        else_("different surname and contacts"),
    )),
    ComparisonSpec("national_id", "National id (passport)", (
        null("national_id_l IS NULL OR national_id_r IS NULL"),
        identifier("national_id", "same national id", m=IDENTIFIER_M),
        when(f"length(national_id_l) >= {ID_TYPO_MIN_LENGTH} AND {{dl}}(national_id_l, national_id_r) <= 1",
             "national id one typo apart").configure(m_probability=ID_TYPO_M, fix_m_probability=True),
        else_("different national id", m=1 - IDENTIFIER_M - ID_TYPO_M),
    )),
    ComparisonSpec("personal_tax_id", "Personal tax id (12-digit INN)", (
        null("personal_tax_id_l IS NULL OR personal_tax_id_r IS NULL"),
        identifier("personal_tax_id", "same personal tax id", m=IDENTIFIER_M),
        else_("different personal tax id", m=1 - IDENTIFIER_M),
    )),
)


def comparison_names() -> list[str]:
    """Output names of the comparisons, in model order (gamma_<name>, mw_<name>)."""
    return [c.name for c in COMPARISONS]


def build_comparisons() -> list[cl.CustomComparison]:
    """Splink comparison creators for :data:`COMPARISONS` (dialect resolved by the linker)."""
    return [c.creator() for c in COMPARISONS]


def gamma_sql(name: str, dialect: str = "duckdb") -> str:
    """The CASE expression computing ``gamma_<name>`` in ``dialect`` (for tests and explain)."""
    spec = next(c for c in COMPARISONS if c.name == name)
    comparison = spec.creator().get_comparison(dialect)
    whens = "\n".join(lv._when_then_comparison_vector_value_sql for lv in comparison.comparison_levels)
    return f"CASE\n{whens}\nEND"


def level_labels(name: str) -> dict[int, str]:
    """gamma value -> level label of one comparison (-1 is the null level)."""
    spec = next(c for c in COMPARISONS if c.name == name)
    comparison = spec.creator().get_comparison("duckdb")
    return {int(lv.comparison_vector_value): lv.label_for_charts for lv in comparison.comparison_levels}


#: Levels that are evidence beyond the names: a pair agreeing on none of them agrees on names
#: (and perhaps gender, postcode, a year) only. Full-name namesakes are common -- name parts
#: run in families and regions -- and on the 100k demo such pairs above the link threshold
#: were ~15% different people (the same share at every score), so clustering never links on
#: names alone: those pairs go to the review queue (clustering.NAMES_ONLY).
EVIDENCE_LEVELS: dict[str, tuple[str, ...]] = {
    "dob": ("same birth date", "day and month swapped"),
    "email": ("same e-mail", "same e-mail after typo correction"),
    "surname_contact": (
        "same surname, same phone or flat", "same surname, same building",
        "related surname (other gender form or similar), same phone or flat",
        "unknown surname, same phone or flat", "different surname, same phone or flat",
        "other or unknown surname, same building",
    ),
    "national_id": ("same national id", "national id one typo apart"),
    "personal_tax_id": ("same personal tax id",),
}


@lru_cache(maxsize=1)
def evidence_gammas() -> dict[str, tuple[int, ...]]:
    """comparison name -> gamma values of its :data:`EVIDENCE_LEVELS` (checked: every label
    exists, so renaming a level cannot silently drop it)."""
    out = {}
    for name, labels in EVIDENCE_LEVELS.items():
        by_label = {label: gamma for gamma, label in level_labels(name).items()}
        missing = [label for label in labels if label not in by_label]
        if missing:
            raise ValueError(f"EVIDENCE_LEVELS: {name} has no level {missing}")
        out[name] = tuple(sorted(by_label[label] for label in labels))
    return out


def has_evidence(gammas: dict[str, Any]) -> np.ndarray:
    """Per pair: does it agree on anything beyond the names (see :data:`EVIDENCE_LEVELS`)?

    ``gammas`` maps ``gamma_<name>`` to an array-like of levels (the pairs table's columns).
    A missing column counts as no evidence from that comparison."""
    result: np.ndarray | None = None
    for name, values in evidence_gammas().items():
        col = gammas.get(f"gamma_{name}")
        if col is None:
            continue
        arr = np.asarray(col, dtype=np.float64)
        hit = np.isin(np.nan_to_num(arr, nan=-1.0), np.asarray(values, dtype=np.float64))
        result = hit if result is None else (result | hit)
    if result is None:
        raise ValueError("no gamma column of the evidence comparisons")
    return result


def describe() -> list[dict[str, Any]]:
    """A readable table of the comparisons: name, gamma, label, SQL (duckdb dialect)."""
    rows = []
    for spec in COMPARISONS:
        comparison = spec.creator().get_comparison("duckdb")
        for lv in comparison.comparison_levels:
            rows.append({"comparison": spec.name, "gamma": int(lv.comparison_vector_value),
                         "label": lv.label_for_charts, "sql": lv.sql_condition})
    return rows
