"""Splink 5 wrapper: train a Fellegi-Sunter model, score candidate pairs, explain one pair.

* :func:`train` -- unsupervised training on a match frame (features.match_frame):
  prior from deterministic rules, u by bounded random sampling sized to the data, m by EM
  on e-mail and birth-date blocks (never on name blocks: EM there absorbs namesakes into the
  match class; id and phone blocks only when those leave a comparison untrained). Returns
  the model as Splink saves it (settings with trained m/u and prior); every Splink warning
  and every parameter fallback is in :class:`TrainingReport` (:func:`train_with_report`)
  and logged.
* :func:`score` -- candidate pairs (blocking.py, with the block-size guard) scored by a model,
  returned as the pairs table of match_design.md (pyarrow).
* :func:`explain` -- per-comparison levels and weights of one pair.

The engine is a parameter: "duckdb" (embedded, default) or "spark" (Splink's SparkAPI, local
mode; needs pyspark). The model is engine-neutral: comparisons are rebuilt for the engine's
SQL dialect and the trained m/u values grafted on (see :func:`settings_for_engine`). On DuckDB,
pairs stay in the database until they are handed back as Arrow; threads = 2.
"""

from __future__ import annotations

import logging
import math
import time
from contextlib import contextmanager
from copy import deepcopy
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterator

import pandas as pd
import pyarrow as pa

from pipelines.match.blocking import (
    DEFAULT_MAX_BLOCK_SIZE,
    apply_guard,
    rule_names,
    splink_blocking_rules,
)
from pipelines.match.comparisons import COMPARISONS, build_comparisons, comparison_names

log = logging.getLogger(__name__)

ENGINES = ("duckdb", "spark")
DUCKDB_THREADS = 2

#: Deterministic rules (very few false positives) used to estimate the prior, with the
#: share of all true pairs they are assumed to find. Documented guess, not tuned: in
#: customer files a minority of duplicates share a verified identifier or an e-mail plus
#: first name.
PRIOR_RULES: tuple[str, ...] = (
    "l.national_id = r.national_id",
    "l.personal_tax_id = r.personal_tax_id",
    "l.email = r.email AND l.first_name_canon = r.first_name_canon",
    "l.dob = r.dob AND l.first_name_canon = r.first_name_canon "
    "AND l.last_name_stem = r.last_name_stem",
)
PRIOR_RECALL = 0.6
#: After EM, the recall of :data:`PRIOR_RULES` is estimated from the trained model instead of
#: assumed: a rule finds a true pair when both records hold its fields (fill rate squared) and
#: the fields agree (the m probability of the agreeing levels); rules combine as independent.
#: The prior is then rescaled from the assumed :data:`PRIOR_RECALL` to that estimate, within
#: these bounds. (On the 100k demo the estimate was ~0.37 where the rules found 38% of the
#: true pairs; the assumed 0.6 had set the prior 1.6x too low.)
PRIOR_RECALL_BOUNDS = (0.05, 1.0)
# (column whose fill rate counts, comparison, labels of the levels where the rule's key agrees)
_PRIOR_RULE_PARTS: tuple[tuple[tuple[str, str, tuple[str, ...]], ...], ...] = (
    (("national_id", "national_id", ("same national id",)),),
    (("personal_tax_id", "personal_tax_id", ("same personal tax id",)),),
    (("email", "email", ("same e-mail",)),
     ("first_name_canon", "first_name", ("same first name", "same first name, other spelling or script",
                                         "diminutive of the same name"))),
    (("dob", "dob", ("same birth date",)),
     ("first_name_canon", "first_name", ("same first name", "same first name, other spelling or script",
                                         "diminutive of the same name")),
     ("last_name_stem", "surname_contact", (
         "same surname, same phone or flat", "same surname, same building",
         "related surname (other gender form or similar), same phone or flat",
         "same surname, contacts unknown", "same surname, contacts differ",
         "related surname, no shared contact"))),
)

#: EM training blocks (name, SQL): pairs sharing an e-mail (the guarded key must exist, so
#: placeholder mailboxes shared by thousands stay out), pairs sharing a birth date. Never
#: name blocks: EM there absorbs namesakes into the match class. Splink leaves out of a
#: session the comparisons whose columns the rule names, so the e-mail comparison is trained
#: on the birth-date block and the birth-date comparison on the e-mail block. Households in
#: the e-mail block (a shared family mailbox) are the reason surname, phones and address are
#: one joint comparison (comparisons.py): as independent comparisons EM learned that
#: families "match". Measured alternatives on the 100k demo: keeping first names out of the
#: e-mail session (only compatible first names in the block) cost 8 points of pair recall;
#: keeping the surname/contact comparison out of it cost 4 points; neither gained precision.
EM_RULES: tuple[tuple[str, str], ...] = (
    ("email", "l.email = r.email AND l.bk_email IS NOT NULL"),
    ("dob", "l.dob = r.dob"),
)
#: Blocks tried, in order, only while some comparison is still untrained after EM_RULES (a
#: source set without e-mails or birth dates, e.g. FEBRL). The phone block holds families,
#: hence last. ``em_phone`` is the first guarded phone, added for training only.
FALLBACK_EM_RULES: tuple[tuple[str, str], ...] = (
    ("national_id", "l.national_id = r.national_id"),
    ("personal_tax_id", "l.personal_tax_id = r.personal_tax_id"),
    ("phone", "l.em_phone = r.em_phone"),
)

# u sampling: pairs ~ U_PAIRS_PER_RECORD x records, within bounds. 1e6 pairs was as good as
# 1e7 at 100k records (and 10x faster); at 1M records 1e6 left rare levels unobserved.
U_PAIRS_PER_RECORD = 5.0
U_MIN_PAIRS = 1_000_000
U_MAX_PAIRS = 10_000_000
# Smallest m probability a trained level keeps. EM sometimes drives a level it sees (almost)
# only among non-matches to m = 0 (a one-year birth-date typo then weighs -50 bits, a veto);
# customer data has typos in every field, so no single level may be a veto by itself.
M_FLOOR = 1e-3
# EM blocks are sampled down to this many pairs (Splink 5 EM sampling) when larger.
EM_MAX_PAIRS = 3_000_000


@dataclass
class TrainingReport:
    """What happened during training (times, sample sizes, warnings, guard report)."""

    records: int = 0
    u_max_pairs: int = 0
    prior: float | None = None
    prior_rules_recall: float | None = None
    seconds: dict[str, float] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    untrained: list[str] = field(default_factory=list)
    fallbacks: list[str] = field(default_factory=list)
    guard: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class ScoreReport:
    """Counts and times of one scoring run."""

    records: int = 0
    candidate_pairs: int = 0
    pairs_returned: int = 0
    seconds: dict[str, float] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    guard: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


# --------------------------------------------------------------------------------------------
# Engine plumbing
# --------------------------------------------------------------------------------------------

def _check_engine(engine: str) -> str:
    if engine not in ENGINES:
        raise ValueError(f"unknown match engine {engine!r}; expected one of {ENGINES}")
    return engine


def _db_api(engine: str) -> Any:
    """A fresh Splink database API for ``engine`` (DuckDB: in-memory, 2 threads; Spark: the
    process's shared session, see :mod:`pipelines.match.engines`)."""
    _check_engine(engine)
    if engine == "duckdb":
        import duckdb
        from splink import DuckDBAPI

        con = duckdb.connect()
        con.execute(f"SET threads = {DUCKDB_THREADS}")
        con.execute("SET preserve_insertion_order = false")
        return DuckDBAPI(connection=con)
    from pipelines.match import engines

    return engines.spark_api()


def _close(db_api: Any) -> None:
    if getattr(db_api, "sql_dialect", None) is not None and \
            db_api.sql_dialect.sql_dialect_str == "spark":
        from pipelines.match import engines

        engines.close_spark(db_api)
        return
    con = getattr(db_api, "_con", None)
    if con is not None:
        try:
            con.close()
        except Exception:  # noqa: BLE001 - closing is best effort
            pass


def _register(db_api: Any, table: pa.Table, engine: str) -> Any:
    if engine == "duckdb":
        return db_api.register(table)
    from pipelines.match import engines

    return engines.register_spark(db_api, table)


class _Capture(logging.Handler):
    """Collects Splink's warnings (e.g. u or m values not trained) while a step runs."""

    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        msg = " ".join(record.getMessage().replace("WARNING:", " ").split())
        if msg and msg not in self.messages:
            self.messages.append(msg)


@contextmanager
def _splink_warnings() -> Iterator[_Capture]:
    # Splink prints each warning as a multi-line block; they are collected here and logged
    # once, summarised, by the caller (not propagated to the console a second time).
    handler = _Capture()
    logger = logging.getLogger("splink")
    propagate = logger.propagate
    logger.addHandler(handler)
    logger.propagate = False
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.propagate = propagate


@contextmanager
def _timed(seconds: dict[str, float], step: str) -> Iterator[None]:
    t0 = time.perf_counter()
    try:
        yield
    finally:
        seconds[step] = round(time.perf_counter() - t0, 3)


def _settings_creator(prior: float = 1e-4) -> Any:
    from splink import SettingsCreator

    return SettingsCreator(
        link_type="dedupe_only",
        comparisons=build_comparisons(),
        blocking_rules_to_generate_predictions=splink_blocking_rules(),
        probability_two_random_records_match=prior,
        retain_matching_columns=True,
        retain_intermediate_calculation_columns=True,
        unique_id_column_name="unique_id",
        em_convergence=1e-4,
        max_iterations=25,
    )


_LEVEL_PARAMS = ("m_probability", "u_probability", "tf_adjustment_column",
                 "tf_adjustment_weight", "tf_minimum_u_value")


#: Fewer records than this are too few to train on (EM needs many pairs per level): such
#: runs use the bundled model unless ``match.model`` names one.
MIN_TRAIN_RECORDS = 2_000
#: m/u trained on the 100k-person synthetic demo (regenerate after changing comparisons:
#: ``python -m benchmarks.match_model ... --model-out pipelines/match/data/default_model.json``).
BUNDLED_MODEL = Path(__file__).resolve().parent / "data" / "default_model.json"


def for_small_input(model: dict[str, Any], records: int) -> dict[str, Any]:
    """The bundled model adapted to a small input: same m/u, prior of one duplicate pair per
    record (the prior depends on the number of records; the bundled one was set for 175k).

    Returns a new dict; ``model`` is not modified.
    """
    adapted = deepcopy(model)
    adapted["probability_two_random_records_match"] = min(0.5, 1.0 / max(records, 2))
    return adapted


def settings_for_engine(model: dict[str, Any], engine: str) -> dict[str, Any]:
    """Splink settings for ``engine`` built from the current comparisons and blocking rules,
    with the trained parameters (prior, m/u of every level) taken from ``model``.

    Raises ValueError when the model's comparisons do not have the same names and number of
    levels as :data:`comparisons.COMPARISONS` (a model trained by another version).
    """
    dialect = _check_engine(engine)
    fresh = _settings_creator(model.get("probability_two_random_records_match", 1e-4))
    settings = fresh.create_settings_dict(dialect)
    trained = {c.get("output_column_name"): c for c in model.get("comparisons", [])}
    for comp in settings["comparisons"]:
        name = comp["output_column_name"]
        old = trained.get(name)
        if old is None or len(old["comparison_levels"]) != len(comp["comparison_levels"]):
            raise ValueError(f"model does not match the comparisons of this version ({name})")
        for new_level, old_level in zip(comp["comparison_levels"], old["comparison_levels"]):
            if bool(new_level.get("is_null_level")) != bool(old_level.get("is_null_level")):
                raise ValueError(f"model does not match the comparisons of this version ({name})")
            for key in ("m_probability", "u_probability"):
                if key in old_level:
                    new_level[key] = old_level[key]
    settings["sql_dialect"] = dialect
    return settings


def _estimate_prior(linker: Any, report: TrainingReport) -> None:
    """Prior from :data:`PRIOR_RULES`; when they find nothing (or more than the assumed recall
    allows, in tiny data) fall back to one duplicate pair per record."""
    n = max(report.records, 2)
    fallback = min(0.5, 1.0 / n)
    try:
        linker.training.estimate_probability_two_random_records_match(
            list(PRIOR_RULES), recall=PRIOR_RECALL)
        prior = linker._settings_obj._probability_two_random_records_match
    except ValueError as exc:
        report.warnings.append(f"prior: {exc}")
        prior = 0.0
    if not 0.0 < prior < 1.0:
        linker._settings_obj._probability_two_random_records_match = fallback
        report.fallbacks.append(f"prior: deterministic rules gave {prior:.3g}; "
                                f"set to {fallback:.3g} (one duplicate pair per record)")


def _prior_rules_recall(linker: Any, keyed: pa.Table) -> float | None:
    """Estimated share of true pairs :data:`PRIOR_RULES` find (see
    :data:`PRIOR_RECALL_BOUNDS`), from fill rates and trained m probabilities; None when a
    needed m is not trained."""
    n = keyed.num_rows
    if n == 0:
        return None
    m_of: dict[str, dict[str, float]] = {}
    for comp in linker._settings_obj.comparisons:
        levels = {}
        for level in comp._comparison_levels_excluding_null:
            m = level._m_probability
            levels[level.label_for_charts] = m if isinstance(m, float) else float("nan")
        m_of[comp.output_column_name] = levels
    miss = 1.0
    for parts in _PRIOR_RULE_PARTS:
        recall = 1.0
        for column, comparison, labels in parts:
            fill = 1.0 - keyed.column(column).null_count / n if column in keyed.column_names else 0.0
            if fill == 0.0:  # the rule cannot fire: its m does not matter (and is untrained)
                recall = 0.0
                break
            m = sum(m_of.get(comparison, {}).get(label, float("nan")) for label in labels)
            if math.isnan(m):
                return None
            recall *= fill * fill * min(m, 1.0)
        miss *= 1.0 - recall
    return 1.0 - miss


def _rescale_prior(linker: Any, keyed: pa.Table, report: TrainingReport) -> None:
    """Replace the assumed :data:`PRIOR_RECALL` by the estimate of :func:`_prior_rules_recall`
    (the prior was estimated before EM, from the deterministic rules' pair count)."""
    if report.fallbacks and any(f.startswith("prior:") for f in report.fallbacks):
        return  # the prior is the one-duplicate-per-record fallback, not a rule count
    recall = _prior_rules_recall(linker, keyed)
    if recall is None or recall <= 0:
        report.warnings.append("prior: recall of the deterministic rules not estimable; "
                               f"kept the assumed {PRIOR_RECALL}")
        return
    lo, hi = PRIOR_RECALL_BOUNDS
    recall = min(hi, max(lo, recall))
    report.prior_rules_recall = round(recall, 4)
    settings = linker._settings_obj
    prior = settings._probability_two_random_records_match * PRIOR_RECALL / recall
    settings._probability_two_random_records_match = min(0.5, prior)


def _em_session(linker: Any, rule: str, report: TrainingReport) -> int:
    """One EM session on ``rule`` (1), or a warning when its block has no pairs (0)."""
    from splink.internals.exceptions import EMTrainingException

    # Splink's session edits the linker's model settings in place before it looks for pairs
    # (drops the comparisons the block uses, adjusts the prior) and does not undo that when it
    # finds none: keep a copy to restore.
    saved = deepcopy(linker._settings_obj.core_model_settings)
    try:
        linker.training.estimate_parameters_using_expectation_maximisation(
            rule, estimate_without_term_frequencies=True, max_pairs=EM_MAX_PAIRS)
    except (EMTrainingException, ValueError) as exc:
        # ValueError: on tiny blocks an EM step can drive an m to exactly 0, which Splink
        # refuses; the session is dropped like an empty one
        linker._settings_obj.core_model_settings = saved
        report.warnings.append(f"EM block `{rule}` skipped: {str(exc).splitlines()[0]}")
        return 0
    return 1


def _u_max_pairs(records: int, max_pairs: int | None) -> int:
    if max_pairs is not None:
        return int(max_pairs)
    return int(min(U_MAX_PAIRS, max(U_MIN_PAIRS, U_PAIRS_PER_RECORD * records)))


def _floor_m(linker: Any, floor: float) -> list[str]:
    """Raise trained m probabilities below ``floor`` to it (see :data:`M_FLOOR`)."""
    raised = []
    for comp in linker._settings_obj.comparisons:
        for level in comp._comparison_levels_excluding_null:
            if level._m_is_trained and not level._fix_m_probability and level.m_probability < floor:
                raised.append(f"{comp.output_column_name}: '{level.label_for_charts}' "
                              f"m {level.m_probability:.2g} raised to {floor:g}")
                level.m_probability = floor
    return raised


def _untrained_comparisons(linker: Any) -> list[str]:
    """Comparisons no EM session has trained at all (every free m still unset)."""
    from splink.internals.constants import LEVEL_NOT_OBSERVED_TEXT

    out = []
    for comp in linker._settings_obj.comparisons:
        free = [lv for lv in comp._comparison_levels_excluding_null if not lv._fix_m_probability]
        if free and all(lv._m_probability in (None, LEVEL_NOT_OBSERVED_TEXT) for lv in free):
            out.append(comp.output_column_name)
    return out


def _fill_unobserved(linker: Any, kind: str, value: float) -> list[str]:
    """Give levels the u sample or the EM blocks never saw a documented fallback.

    Splink would use 1e-6 (u) or a generic default (m). u: the level was not seen in the
    sampled pairs, so u ~ 1 / pairs sampled. m: a level of a trained comparison that no EM
    block contained gets :data:`M_FLOOR`. A comparison no session trained keeps Splink's
    defaults (listed in the report's ``untrained``).
    """
    from splink.internals.constants import LEVEL_NOT_OBSERVED_TEXT

    skip = set(_untrained_comparisons(linker)) if kind == "m" else set()
    filled = []
    for comp in linker._settings_obj.comparisons:
        if comp.output_column_name in skip:
            continue
        for level in comp._comparison_levels_excluding_null:
            if kind == "m" and level._fix_m_probability:
                continue
            raw = level._u_probability if kind == "u" else level._m_probability
            if raw is None or raw == LEVEL_NOT_OBSERVED_TEXT:
                if kind == "u":
                    level.u_probability = value
                else:
                    level.m_probability = value
                filled.append(f"{comp.output_column_name}: '{level.label_for_charts}' "
                              f"{kind} not observed, set to {value:.3g}")
    return filled


# --------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------

def train_with_report(
    frame: pd.DataFrame | pa.Table,
    *,
    max_pairs: int | None,
    seed: int,
    engine: str = "duckdb",
    max_block_size: int = DEFAULT_MAX_BLOCK_SIZE,
    guarded: tuple[pa.Table, list[dict[str, Any]]] | None = None,
) -> tuple[dict[str, Any], TrainingReport]:
    """Like :func:`train`, also returning the :class:`TrainingReport`.

    ``guarded``: the result of :func:`blocking.apply_guard` on ``frame`` with this
    ``max_block_size``, when the caller already has it (training then scoring one frame
    need the guard once); computed here otherwise.
    """
    from splink import Linker

    _check_engine(engine)
    report = TrainingReport()
    secs = report.seconds
    with _timed(secs, "guard"):
        keyed, report.guard = guarded or apply_guard(frame, max_block_size=max_block_size)
    report.records = keyed.num_rows
    report.u_max_pairs = _u_max_pairs(keyed.num_rows, max_pairs)

    first_phone = pa.compute.list_element(keyed.column("bk_phone"), 0) if keyed.num_rows else \
        pa.array([], pa.string())
    keyed = keyed.append_column("em_phone", first_phone)
    db_api = _db_api(engine)
    try:
        with _splink_warnings() as captured:
            linker = Linker(_register(db_api, keyed, engine), _settings_creator(), log_level=None)
            training = linker.training
            with _timed(secs, "prior"):
                _estimate_prior(linker, report)
            with _timed(secs, "u_sampling"):
                training.estimate_u_using_random_sampling(
                    max_pairs=report.u_max_pairs, seed=seed)
            report.fallbacks += _fill_unobserved(linker, "u", 1.0 / report.u_max_pairs)
            sessions = 0
            for name, rule in EM_RULES:
                with _timed(secs, f"em_{name}"):
                    sessions += _em_session(linker, rule, report)
            for name, rule in FALLBACK_EM_RULES:
                if not _untrained_comparisons(linker):
                    break
                with _timed(secs, f"em_{name}"):
                    sessions += _em_session(linker, rule, report)
            if not sessions:
                report.warnings.append("no EM block had record pairs: m probabilities are "
                                       "Splink's defaults (the data is too small or lacks "
                                       "e-mails, birth dates, ids and phones)")
            report.fallbacks += _fill_unobserved(linker, "m", M_FLOOR)
            report.fallbacks += _floor_m(linker, M_FLOOR)
            _rescale_prior(linker, keyed, report)
            report.untrained = list(linker._settings_obj._not_trained_messages())
            model = linker.misc.save_model_to_json()
        report.warnings += [m for m in captured.messages
                            if "default value for `max_pairs`" not in m]
    finally:
        _close(db_api)
    report.prior = model.get("probability_two_random_records_match")
    if report.warnings or report.fallbacks:
        log.warning("match training: %d Splink warnings, %d parameter fallbacks (first: %s)",
                    len(report.warnings), len(report.fallbacks),
                    (report.warnings + report.fallbacks)[0])
    for msg in report.warnings + report.fallbacks:
        log.info("match training: %s", msg)
    log.info("match training: %s", {k: v for k, v in report.as_dict().items() if k != "guard"})
    return model, report


def train(
    frame: pd.DataFrame | pa.Table,
    *,
    max_pairs: int | None,
    seed: int,
    engine: str = "duckdb",
    max_block_size: int = DEFAULT_MAX_BLOCK_SIZE,
) -> dict[str, Any]:
    """Train the match model on a match frame (:func:`features.match_frame`).

    Steps: block-size guard; prior (probability two random records match) from
    :data:`PRIOR_RULES` at assumed recall :data:`PRIOR_RECALL`, rescaled after EM to the
    rules' recall estimated from fill rates and the trained m (:data:`PRIOR_RECALL_BOUNDS`,
    ``TrainingReport.prior_rules_recall``); u by random sampling of
    ``max_pairs`` pairs (None: sized to the data, ~5 pairs per record within [1e6, 1e7]),
    reproducible with ``seed``; m by EM (without term frequencies, fixed u) on the blocks of
    :data:`EM_RULES`. Levels the sample never observed get documented fallbacks (u = 1 /
    pairs sampled, m = 1e-4) instead of Splink's 1e-6, and every Splink warning is logged
    (see :func:`train_with_report`). ``max_block_size`` is the block-size guard's limit (the
    e-mail EM block uses the guarded key). Returns the model dict as Splink saves it.
    """
    model, _ = train_with_report(frame, max_pairs=max_pairs, seed=seed, engine=engine,
                                 max_block_size=max_block_size)
    return model


def _pairs_projection_sql(linker: Any, predictions: str, records: str) -> str:
    """SQL turning Splink's predictions into the pairs table.

    Scoring runs with ``retain_matching_columns`` off, so Splink's output carries only ids,
    weights and match_key (materialising both records' columns for every returned pair cost
    ~1 GB per 500k pairs). The levels (gamma) are recomputed here for the returned pairs only,
    with the CASE expressions Splink generated for the model, over the input records joined
    back by id.
    """
    comps = linker._settings_obj.comparisons
    needed: list[str] = []
    for cc in comps:
        for col in cc._input_columns_used_by_case_statement:
            name = col.unquote().name
            if name not in needed:
                needed.append(name)
    sides = [f"l.{c} AS {c}_l" for c in needed] + [f"r.{c} AS {c}_r" for c in needed]
    joined = (f"SELECT p.*, {', '.join(sides)} FROM {predictions} AS p "
              f"JOIN {records} AS l ON l.unique_id = p.unique_id_l "
              f"JOIN {records} AS r ON r.unique_id = p.unique_id_r")
    mk = " ".join(f"WHEN '{i}' THEN '{n}'" for i, n in enumerate(rule_names()))
    cols = [
        "CASE WHEN unique_id_l < unique_id_r THEN unique_id_l ELSE unique_id_r END AS record_key_l",
        "CASE WHEN unique_id_l < unique_id_r THEN unique_id_r ELSE unique_id_l END AS record_key_r",
        "CAST(match_weight AS DOUBLE) AS match_weight",
        "CAST(match_probability AS DOUBLE) AS match_probability",
    ]
    for cc in comps:
        case = cc._case_statement.rsplit(" as ", 1)[0]
        cols.append(f"CAST(({case}) AS TINYINT) AS gamma_{cc.output_column_name}")
    for cc in comps:
        n = cc.output_column_name
        tf = f" + coalesce(mw_tf_adj_{n}, 0)" if cc._has_tf_adjustments else ""
        cols.append(f"CAST(mw_{n}{tf} AS DOUBLE) AS mw_{n}")
    cols.append(f"CASE CAST(match_key AS VARCHAR) {mk} END AS match_key")
    return f"SELECT {', '.join(cols)} FROM ({joined}) AS pairs"


def pairs_schema() -> pa.Schema:
    """Arrow schema of the pairs table (match_design.md)."""
    fields = [pa.field("record_key_l", pa.string()), pa.field("record_key_r", pa.string()),
              pa.field("match_weight", pa.float64()), pa.field("match_probability", pa.float64())]
    fields += [pa.field(f"gamma_{n}", pa.int8()) for n in comparison_names()]
    fields += [pa.field(f"mw_{n}", pa.float64()) for n in comparison_names()]
    fields.append(pa.field("match_key", pa.string()))
    return pa.schema(fields)


def score_with_report(
    frame: pd.DataFrame | pa.Table,
    model: dict[str, Any],
    *,
    threshold: float,
    engine: str = "duckdb",
    max_block_size: int = DEFAULT_MAX_BLOCK_SIZE,
    guarded: tuple[pa.Table, list[dict[str, Any]]] | None = None,
) -> tuple[pa.Table, ScoreReport]:
    """Like :func:`score`, also returning the :class:`ScoreReport`.

    ``guarded``: the result of :func:`blocking.apply_guard` on ``frame`` with this
    ``max_block_size``, when the caller already has it (training then scoring one frame
    need the guard once); computed here otherwise.
    """
    from splink import Linker

    _check_engine(engine)
    report = ScoreReport()
    secs = report.seconds
    with _timed(secs, "guard"):
        keyed, report.guard = guarded or apply_guard(frame, max_block_size=max_block_size)
    report.records = keyed.num_rows
    settings = settings_for_engine(model, engine)
    settings["retain_matching_columns"] = False
    settings["retain_intermediate_calculation_columns"] = True
    db_api = _db_api(engine)
    try:
        with _splink_warnings() as captured:
            records = _register(db_api, keyed, engine)
            linker = Linker(records, settings, log_level=None)
            with _timed(secs, "blocking"):
                blocked = linker.inference.compute_blocked_pairs_for_predict()
                report.candidate_pairs = int(linker.misc.query_sql(
                    f"SELECT count(*) AS n FROM {blocked.physical_name}",
                    output_type="pandas")["n"].iloc[0])
            with _timed(secs, "predict"):
                predictions = linker.inference.predict(threshold_match_probability=threshold)
                blocked.drop_table_from_database_and_remove_from_cache()
            with _timed(secs, "to_arrow"):
                projected = linker.misc.query_sql(_pairs_projection_sql(
                    linker, predictions.physical_name, records.physical_name))
                table = projected.as_pyarrow_table()
                projected.drop_table_from_database_and_remove_from_cache()
                predictions.drop_table_from_database_and_remove_from_cache()
        report.warnings = captured.messages
    finally:
        _close(db_api)
    table = table.cast(pairs_schema())
    report.pairs_returned = table.num_rows
    if report.warnings:
        log.warning("match scoring: %d Splink warnings (first: %s)", len(report.warnings),
                    report.warnings[0])
    return table, report


def score(
    frame: pd.DataFrame | pa.Table,
    model: dict[str, Any],
    *,
    threshold: float,
    engine: str = "duckdb",
    max_block_size: int = DEFAULT_MAX_BLOCK_SIZE,
) -> pa.Table:
    """Score the candidate pairs of a match frame with a trained model.

    Candidate pairs come from :data:`blocking.BLOCKING_RULES` after the block-size guard.
    Returns pairs with match_probability >= ``threshold`` as a pyarrow Table with
    :func:`pairs_schema`: record_key_l < record_key_r, match_weight, match_probability,
    gamma_<comparison> (int8, -1 = null), mw_<comparison> (float64, the level's weight
    including term-frequency adjustment; match_weight = prior weight + sum of mw_*) and
    match_key (name of the first blocking rule that found the pair). Blocking keys whose
    block exceeds ``max_block_size`` records are dropped first (blocking.apply_guard).
    """
    table, _ = score_with_report(frame, model, threshold=threshold, engine=engine,
                                 max_block_size=max_block_size)
    return table


def explain(
    records: pd.DataFrame,
    model: dict[str, Any],
    *,
    tf_frame: pd.DataFrame | None = None,
    engine: str = "duckdb",
) -> pd.DataFrame:
    """Explain the score of one pair: one row per comparison, plus the prior.

    ``records`` holds exactly two rows of a match frame. Term frequencies come from
    ``tf_frame`` (the whole match frame the pair was scored in; then the weights equal the
    pairs table's); without it the weights are the plain level weights, without the
    term-frequency adjustment. Columns: comparison, gamma, level (label),
    left, right (the compared values, as text), mw (weight incl. TF adjustment). The first row
    is the prior ("prior", weight of probability_two_random_records_match); the sum of mw is
    the pair's match_weight. ``records`` is not modified.
    """
    from splink import Linker

    if len(records) != 2:
        raise ValueError("explain needs exactly two records")
    settings = settings_for_engine(model, engine)
    settings["blocking_rules_to_generate_predictions"] = []
    if tf_frame is None:
        # two records are no basis for term frequencies: report the plain level weights
        for comp in settings["comparisons"]:
            for level in comp["comparison_levels"]:
                for key in ("tf_adjustment_column", "tf_adjustment_weight", "tf_minimum_u_value"):
                    level.pop(key, None)
    base = tf_frame if tf_frame is not None else records
    base_t = pa.Table.from_pandas(base.reset_index(drop=True), preserve_index=False)
    db_api = _db_api(engine)
    try:
        linker = Linker(_register(db_api, base_t, engine), settings, log_level=None)
        recs = records.reset_index(drop=True)
        # Arrow round trip turns pandas NA / numpy values into plain Python values
        rows = pa.Table.from_pandas(recs, preserve_index=False).to_pylist()
        result = linker.inference.score_pair(rows[0], rows[1])
        scored = result.as_pandas_dataframe().iloc[0].to_dict()
        result.drop_table_from_database_and_remove_from_cache()
    finally:
        _close(db_api)

    prior = float(model.get("probability_two_random_records_match", 1e-4))
    out = [{"comparison": "prior", "gamma": None, "level": "probability two random records match",
            "left": None, "right": None, "mw": math.log2(prior / (1 - prior))}]
    from pipelines.match.comparisons import level_labels

    for spec in COMPARISONS:
        n = spec.name
        gamma = scored.get(f"gamma_{n}")
        mw = float(scored.get(f"mw_{n}") or 0.0)
        tf = scored.get(f"mw_tf_adj_{n}")
        if tf is not None and not (isinstance(tf, float) and math.isnan(tf)):
            mw += float(tf)
        cols = _explain_columns(n)
        left = "; ".join(t for t in (_text(rows[0].get(c)) for c in cols) if t)
        right = "; ".join(t for t in (_text(rows[1].get(c)) for c in cols) if t)
        g = int(gamma) if gamma is not None else None
        out.append({"comparison": n, "gamma": g, "level": level_labels(n).get(g, ""),
                    "left": left, "right": right, "mw": mw})
    frame = pd.DataFrame(out, columns=["comparison", "gamma", "level", "left", "right", "mw"])
    frame["gamma"] = frame["gamma"].astype("Int8")
    return frame


_EXPLAIN_COLUMNS = {
    "surname_contact": ("last_name", "phones", "address_flat_key", "postcode"),
    "email": ("email", "email_suggestion"),
    "first_name": ("first_name", "first_initial"),
    "middle_name": ("middle_name", "middle_initial"),
    "gender": ("gender",),
    "dob": ("dob",),
    "national_id": ("national_id",),
    "personal_tax_id": ("personal_tax_id",),
}


def _explain_columns(name: str) -> tuple[str, ...]:
    return _EXPLAIN_COLUMNS.get(name, (name,))


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and math.isnan(value):
        return ""
    if isinstance(value, (list, tuple)):
        return ",".join(str(v) for v in value)
    return str(value)
