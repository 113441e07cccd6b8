"""Typed configuration loaded from ``hub.yml`` (DESIGN.md, "Configuration contract").

:func:`load_config` validates the whole file at load time. Every error is a
:class:`ConfigError` whose one-line message names the file, the source and the key, and
says what was expected. Relative paths resolve against the directory of the config file.
"""

from __future__ import annotations

import hashlib
import re
from datetime import date
from pathlib import Path
from typing import Any, Literal

import phonenumbers
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from pipelines.schema import CUSTOMER_FIELDS, ORDER_FIELDS

REQUIRED_ORDER_FIELDS: tuple[str, ...] = ("order_id", "customer_id", "order_date", "amount")


class ConfigError(ValueError):
    """A configuration problem, with a one-line message fit for an operator."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class HubSettings(_Strict):
    """The ``hub:`` section."""

    out: Path = Path("data/hub")
    default_country: str = "RU"
    as_of: date | None = None
    #: successful runs whose data files stay in runs/<id>/ (older ones keep manifest and model)
    keep_runs: int = Field(default=3, ge=1)

    @field_validator("default_country")
    @classmethod
    def _known_country(cls, value: str) -> str:
        value = value.strip().upper()
        if value not in phonenumbers.SUPPORTED_REGIONS:
            raise ValueError(f"expected an ISO 3166 alpha-2 country code such as RU, got {value!r}")
        return value


class SparkSettings(_Strict):
    """``match.spark``: where Spark runs when ``match.engine`` is spark (README, "Matching on Spark")."""

    #: spark://host:7077, yarn, k8s://...; null: local mode on 2 cores
    master: str | None = None
    #: extra Spark properties, e.g. {spark.executor.memory: 8g}; they win over the defaults
    conf: dict[str, str] = Field(default_factory=dict)
    #: URI where inputs are staged as Parquet, readable by the driver and every executor
    staging_dir: str | None = None
    #: URI for Splink's intermediate tables (hdfs://..., file:///shared/...)
    checkpoint_dir: str | None = None
    #: rapidfuzz: equals DuckDB's Jaro-Winkler (executors need this Python environment);
    #: splink: the JVM function shipped with Splink (a few near-threshold pairs differ)
    jaro_winkler: Literal["rapidfuzz", "splink"] = "rapidfuzz"


class MatchSettings(_Strict):
    """The ``match:`` section: how records are linked into golden customers."""

    engine: Literal["duckdb", "spark"] = "duckdb"
    #: a model JSON saved by an earlier run (``runs/<id>/match_model.json``); trained when absent
    model: Path | None = None
    #: match probability at or above which two records are linked into one customer
    threshold: float = Field(default=0.9, gt=0.0, lt=1.0)
    #: grey zone sent to stewards: [low, high) match probability
    review: tuple[float, float] = (0.5, 0.9)
    #: scored pairs at or above this probability are kept in pairs.parquet (the explanations)
    pairs_threshold: float = Field(default=0.2, gt=0.0, lt=1.0)
    #: random pairs sampled to estimate u probabilities; default: sized to the data
    max_pairs: int | None = Field(default=None, ge=10_000)
    #: a blocking key shared by more records than this is skipped (and reported)
    max_block_size: int = Field(default=1000, ge=2)
    seed: int = 42
    spark: SparkSettings = SparkSettings()
    #: steward decisions (``hub review apply`` writes them), relative to hub.yml
    decisions: Path = Path("hub.decisions.csv")

    @model_validator(mode="after")
    def _band_ordered(self) -> "MatchSettings":
        low, high = self.review
        if not 0.0 <= low < high <= 1.0:
            raise ValueError(f"review: expected [low, high] with 0 <= low < high <= 1, got [{low}, {high}]")
        if self.pairs_threshold > low:
            raise ValueError(f"pairs_threshold: expected at most the review band's low end {low}, "
                             f"got {self.pairs_threshold}")
        return self


#: Survivorship criteria (README, "Golden record"): each orders a group's candidate values.
SurvivorshipRule = Literal["validated", "trust_decay", "most_recent", "most_complete", "most_frequent"]

#: Attribute groups of the golden record and their default criteria, applied in order; ties
#: are broken by source trust, then recency, then the smallest record key. Phones and e-mails
#: are aggregated (every distinct valid value, ordered by the criteria: primary first).
DEFAULT_SURVIVORSHIP: dict[str, tuple[str, ...]] = {
    "name": ("validated", "most_complete", "trust_decay"),
    "gender": ("validated", "most_frequent", "trust_decay"),
    "birth_date": ("validated", "most_frequent", "trust_decay"),
    "phones": ("validated", "most_frequent", "trust_decay"),
    "emails": ("validated", "most_frequent", "trust_decay"),
    "address": ("validated", "most_complete", "most_recent"),
    "company": ("validated", "most_recent"),
    "tax_id": ("validated", "most_frequent", "trust_decay"),
    "national_id": ("validated", "most_frequent", "trust_decay"),
}


class DecaySettings(_Strict):
    """``survivorship.decay``: a value's trust falls linearly from its source's trust to
    ``floor`` over ``period_days`` of the record's age (as of the run date); a record without
    a date is as old as the period."""

    period_days: int = Field(default=730, gt=0)
    floor: float = Field(default=0.2, ge=0.0, le=1.0)


class SurvivorshipSettings(_Strict):
    """The ``survivorship:`` section: which value of each attribute group wins."""

    decay: DecaySettings = DecaySettings()
    #: group -> criteria in order (a single name or a list); groups not given keep the defaults
    rules: dict[str, tuple[SurvivorshipRule, ...]] = Field(default_factory=dict)

    @field_validator("rules", mode="before")
    @classmethod
    def _rule_lists(cls, value: Any) -> Any:
        if not isinstance(value, dict):
            return value
        out = {}
        for group, rules in value.items():
            if group not in DEFAULT_SURVIVORSHIP:
                raise ValueError(f"{group}: unknown attribute group (expected one of: "
                                 f"{', '.join(DEFAULT_SURVIVORSHIP)})")
            out[group] = [rules] if isinstance(rules, str) else rules
            if not out[group]:
                raise ValueError(f"{group}: expected at least one rule")
        return out

    def rules_for(self, group: str) -> tuple[str, ...]:
        """The criteria of ``group``: configured, else the default."""
        return tuple(self.rules.get(group, DEFAULT_SURVIVORSHIP[group]))


class GoldenSettings(_Strict):
    """The ``golden:`` section: household and organisation linking limits."""

    #: an address or landline shared by more golden customers than this is no household
    max_household: int = Field(default=12, ge=2)
    #: a company key shared by more golden customers than this is skipped (a placeholder)
    max_organisation: int = Field(default=5000, ge=2)


ColumnRef = str | list[str]


class Source(_Strict):
    """One ``sources:`` entry: where a snapshot lies and how its columns map."""

    name: str = Field(pattern=r"^[a-z0-9_]+$")
    kind: Literal["customers", "orders"] = "customers"
    path: str
    format: Literal["csv", "parquet"] | None = None
    encoding: Literal["auto", "utf-8", "utf-8-sig", "cp1251"] = "auto"
    delimiter: Literal["auto", ",", ";", "\t", "|"] = "auto"
    id: str | None = None
    trust: float = Field(default=0.5, ge=0.0, le=1.0)
    updated_at: str | None = None
    date_format: str | None = None
    fields: dict[str, ColumnRef]
    customer_source: str | None = None

    @field_validator("fields")
    @classmethod
    def _columns_not_blank(cls, fields: dict[str, ColumnRef]) -> dict[str, ColumnRef]:
        for key, ref in fields.items():
            columns = [ref] if isinstance(ref, str) else ref
            if not columns or any(not isinstance(c, str) or not c.strip() for c in columns):
                raise ValueError(f"fields.{key}: expected a column name or a non-empty list of column names")
        return fields

    @field_validator("date_format")
    @classmethod
    def _strptime_format(cls, value: str | None) -> str | None:
        if value is not None and "%" not in value:
            raise ValueError(f"expected a strptime format such as '%Y%m%d', got {value!r}")
        return value

    @model_validator(mode="after")
    def _fields_fit_kind(self) -> "Source":
        allowed = CUSTOMER_FIELDS if self.kind == "customers" else ORDER_FIELDS
        unknown = sorted(set(self.fields) - set(allowed))
        if unknown:
            raise ValueError(
                f"fields: unknown {self.kind} field(s) {', '.join(unknown)}; expected some of: {', '.join(allowed)}"
            )
        if self.kind == "customers":
            if not self.id:
                raise ValueError("id: expected the name of the source's primary-key column")
            if self.customer_source is not None:
                raise ValueError("customer_source: only sources of kind 'orders' refer to a customer source")
        else:
            missing = [f for f in REQUIRED_ORDER_FIELDS if f not in self.fields]
            if missing:
                raise ValueError(f"fields: an orders source must map {', '.join(missing)}")
            if not self.customer_source:
                raise ValueError("customer_source: expected the name of the customers source whose ids orders use")
        return self

    def columns_of(self, field: str) -> list[str]:
        """Source columns that feed a canonical field (empty if the field is not mapped)."""
        ref = self.fields.get(field)
        if ref is None:
            return []
        return [ref] if isinstance(ref, str) else list(ref)

    @property
    def id_column(self) -> str:
        """The primary-key column (for orders: the column mapped to ``order_id``)."""
        return self.id or self.columns_of("order_id")[0]

    @property
    def updated_at_columns(self) -> list[str]:
        """Columns giving record recency: the ``updated_at`` key, else the mapped field."""
        return [self.updated_at] if self.updated_at else self.columns_of("updated_at")

    def required_columns(self) -> list[str]:
        """Every source column the mapping names; each must exist in every file."""
        cols = [self.id_column, *self.updated_at_columns]
        for field in self.fields:
            cols.extend(self.columns_of(field))
        return list(dict.fromkeys(cols))


class HubConfig(_Strict):
    """The whole ``hub.yml``. ``path`` and ``sha256`` describe the file it came from."""

    hub: HubSettings = HubSettings()
    sources: list[Source] = Field(min_length=1)
    match: MatchSettings = MatchSettings()
    survivorship: SurvivorshipSettings = SurvivorshipSettings()
    golden: GoldenSettings = GoldenSettings()
    #: erasure requests (CSV: email, phone, source + source_id), relative to hub.yml
    erasure: Path | None = None
    path: Path = Path("hub.yml")
    sha256: str = ""

    @model_validator(mode="after")
    def _sources_consistent(self) -> "HubConfig":
        names = [s.name for s in self.sources]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"sources: source names must be unique; repeated: {', '.join(dupes)}")
        customers = {s.name for s in self.sources if s.kind == "customers"}
        if not customers:
            raise ValueError("sources: expected at least one source of kind 'customers'")
        for s in self.sources:
            if s.customer_source and s.customer_source not in customers:
                raise ValueError(
                    f"sources[{s.name}].customer_source: {s.customer_source!r} is not a customers source "
                    f"(expected one of: {', '.join(sorted(customers))})"
                )
        return self

    @property
    def customer_sources(self) -> list[Source]:
        return [s for s in self.sources if s.kind == "customers"]

    @property
    def order_sources(self) -> list[Source]:
        return [s for s in self.sources if s.kind == "orders"]

    def source(self, name: str) -> Source:
        for s in self.sources:
            if s.name == name:
                return s
        raise KeyError(name)

    @property
    def base_dir(self) -> Path:
        return self.path.parent

    @property
    def out_dir(self) -> Path:
        """The published hub folder, absolute."""
        return _resolve(self.base_dir, self.hub.out)

    @property
    def model_path(self) -> Path | None:
        """The saved match model to reuse, absolute (None: train one)."""
        return None if self.match.model is None else _resolve(self.base_dir, self.match.model)

    @property
    def decisions_path(self) -> Path:
        """The steward decisions file, absolute (it may not exist yet)."""
        return _resolve(self.base_dir, self.match.decisions)

    @property
    def erasure_path(self) -> Path | None:
        """The erasure requests file, absolute (None: no erasure configured)."""
        return None if self.erasure is None else _resolve(self.base_dir, self.erasure)

    @property
    def erasure_salt_path(self) -> Path | None:
        """The secret salt of the erasure hashes: beside the requests file, never in the hub."""
        path = self.erasure_path
        return None if path is None else path.with_name(path.name + ".salt")

    def source_glob(self, source: Source) -> str:
        """The source's file pattern, absolute."""
        return str(_resolve(self.base_dir, Path(source.path)))


def _resolve(base: Path, path: Path) -> Path:
    path = path.expanduser()
    return path if path.is_absolute() else (base / path).resolve()


def load_config(path: str | Path) -> HubConfig:
    """Read and validate ``hub.yml``; raise :class:`ConfigError` with a one-line message."""
    path = Path(path).expanduser().resolve()
    try:
        raw_bytes = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read config file ({exc.strerror})") from None
    try:
        data = yaml.safe_load(raw_bytes.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: config file is not UTF-8 text") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise ConfigError(f"{path}: invalid YAML{where}: {problem}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping with keys 'hub' and 'sources'")
    for key in ("path", "sha256"):
        if key in data:
            raise ConfigError(f"{path}: {key}: unknown key")
    try:
        return HubConfig(**data, path=path, sha256=hashlib.sha256(raw_bytes).hexdigest())
    except ValidationError as exc:
        raise ConfigError(f"{path}: {_describe(exc, data)}") from None
    except TypeError as exc:  # e.g. a top-level key named like a model argument twice
        raise ConfigError(f"{path}: {exc}") from None


def _describe(exc: ValidationError, data: dict[str, Any]) -> str:
    """First validation error as 'sources[crm].fields.phone: what was expected'."""
    errors = exc.errors()
    # A misspelt key also makes the intended key "missing": name the misspelling first.
    err = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
    loc = list(err["loc"])
    parts: list[str] = []
    sources = data.get("sources") if isinstance(data.get("sources"), list) else []
    i = 0
    while i < len(loc):
        item = loc[i]
        if item == "sources" and i + 1 < len(loc) and isinstance(loc[i + 1], int):
            idx = loc[i + 1]
            entry = sources[idx] if idx < len(sources) else None
            name = entry.get("name") if isinstance(entry, dict) else None
            parts.append(f"sources[{name or idx}]")
            i += 2
            continue
        if isinstance(item, str) and item.startswith(("function-", "str", "list[", "literal")):
            i += 1  # pydantic's union-branch labels say nothing to an operator
            continue
        parts.append(str(item))
        i += 1
    where = ".".join(parts)
    message = err["msg"]
    if err["type"] == "extra_forbidden":
        message = "unknown key"
    elif err["type"] == "missing":
        message = "required key is missing"
    message = re.sub(r"^Value error, ", "", message)
    if err["type"] in {"literal_error", "string_pattern_mismatch", "float_parsing", "date_from_datetime_parsing",
                       "date_parsing", "greater_than_equal", "less_than_equal", "greater_than", "less_than",
                       "bool_parsing", "int_parsing", "tuple_type", "too_short", "too_long"}:
        message = f"{message} (got {err.get('input')!r})"
    return f"{where}: {message}" if where else message
