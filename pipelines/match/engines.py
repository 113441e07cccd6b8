"""Spark plumbing of the match stage: the Spark session, Splink's SparkAPI, input registration.

:mod:`pipelines.match.model` asks for an engine by name; for ``"spark"`` it calls
:func:`spark_api`, :func:`register_spark` and :func:`close_spark` from here. The model, the
comparisons and the blocking rules are the same as on DuckDB (settings are rebuilt for the
Spark SQL dialect by ``model.settings_for_engine``).

Session. One Spark session per process, created on first use and reused by every train /
score / explain call (a session start costs seconds: a JVM is launched). Precedence:

1. an active session the caller made (``spark-submit``, a notebook, Databricks) is used as it
   is (set ``spark.sql.session.timeZone=UTC`` and ``spark.sql.ansi.enabled=false`` there too);
   Splink's similarity jar (:func:`splink_jar`) is needed on its classpath only with
   ``jaro_winkler="splink"``;
2. otherwise a session is built from :func:`configure_spark` options, else the environment
   (:data:`ENV_MASTER` etc.), else local mode sized for a small machine (:data:`LOCAL_CONF`):
   ``local[2]``, 4 shuffle partitions, no UI, bound to 127.0.0.1, UTC, quiet logging, all
   scratch space (warehouse, spark.local.dir, checkpoints, staged inputs) in one temporary
   folder that is removed when the process ends.

Inputs are handed to Spark as Parquet written to a staging folder (the temporary folder by
default; on a cluster a folder every executor can read, :data:`ENV_STAGING`), not through the
driver's memory. Splink's intermediate tables are written as Parquet checkpoints
(``break_lineage_method="parquet"``) under a per-linker folder that :func:`close_spark`
deletes; its temporary views are dropped there too. The session itself stays up until the
process ends (or :func:`stop_spark`).

Comparisons: Spark has ``arrays_overlap`` natively. Jaro-Winkler: Splink's Scala UDF jar
(put on the classpath here) is a different implementation from DuckDB's and moves a few
pairs across the 0.90 / 0.92 thresholds, so by default ``jaro_winkler`` is replaced by a
rapidfuzz UDF equal to DuckDB's (:func:`register_rapidfuzz_jaro_winkler`). Byte (DuckDB) vs
character semantics do not matter: the compared name columns are ASCII transliterations
(tests/match/test_spark.py).
"""

from __future__ import annotations

import atexit
import logging
import os
import shutil
import sys
import tempfile
import threading
import uuid
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import pandas as pd
import pyarrow as pa
import pyarrow.fs  # noqa: F401 - pa.fs
import pyarrow.parquet as pq

log = logging.getLogger(__name__)

#: Environment variables read when no options were configured (the ``match.spark`` config
#: section, if the lead adds one, wins over them).
ENV_MASTER = "GOLDEN_HUB_SPARK_MASTER"          # e.g. spark://host:7077, yarn, local[8]
ENV_DRIVER_MEMORY = "GOLDEN_HUB_SPARK_DRIVER_MEMORY"  # e.g. 4g (local mode: the whole heap)
ENV_PARTITIONS = "GOLDEN_HUB_SPARK_PARTITIONS"   # spark.sql.shuffle.partitions
ENV_STAGING = "GOLDEN_HUB_SPARK_STAGING"         # folder all executors can read (cluster)
ENV_JARO_WINKLER = "GOLDEN_HUB_SPARK_JARO_WINKLER"  # rapidfuzz (default) | splink

#: Local-mode defaults for a 2-core machine. Each is overridable through ``conf``.
LOCAL_CONF: dict[str, str] = {
    "spark.master": "local[2]",
    "spark.app.name": "golden-hub-match",
    "spark.driver.memory": "4g",
    "spark.sql.shuffle.partitions": "4",
    "spark.default.parallelism": "2",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.eventLog.enabled": "false",
    "spark.driver.host": "127.0.0.1",
    "spark.driver.bindAddress": "127.0.0.1",
    "spark.sql.catalogImplementation": "in-memory",
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    # Splink's SQL was written for Spark 3 semantics; ANSI mode (Spark 4's default) turns a
    # failed cast into an error instead of NULL: kept off so an odd value never fails a
    # nightly run (DuckDB's casts in the shared SQL are not ANSI-strict either).
    "spark.sql.ansi.enabled": "false",
}

#: Settings that apply in every mode (cluster too): identical SQL semantics to the tests.
COMMON_CONF: dict[str, str] = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.ansi.enabled": "false",
}


@dataclass
class SparkOptions:
    """How to get a Spark session (the proposed ``match.spark`` config section).

    ``master``: Spark master URL (None: local[2]); ``conf``: extra Spark properties (win over
    the defaults); ``staging_dir``: where inputs are written as Parquet for Spark to read
    (None: the process's temporary folder, fine for local mode; on a cluster a URI that both
    pyarrow on the driver and every executor read under the same name: ``file:///shared/x``
    on a shared mount, or ``hdfs://...``); ``checkpoint_dir``: where Splink's
    intermediate tables go (None: under the temporary folder; on a cluster an HDFS/S3/shared
    path). ``jaro_winkler``: ``"rapidfuzz"`` (default) makes Spark SQL's ``jaro_winkler`` a
    vectorised Python UDF over rapidfuzz, whose values equal DuckDB's
    ``jaro_winkler_similarity`` exactly (executors need the project's Python environment);
    ``"splink"`` keeps the Scala UDF of Splink's jar (JVM only, but a different
    implementation: on the 100k demo 22 of 94,797 scored pairs got another name level and
    12 of 174,947 records another cluster).
    """

    master: str | None = None
    conf: dict[str, str] = field(default_factory=dict)
    staging_dir: str | None = None
    checkpoint_dir: str | None = None
    jaro_winkler: str = "rapidfuzz"

    @classmethod
    def from_env(cls) -> "SparkOptions":
        conf = {}
        if os.environ.get(ENV_DRIVER_MEMORY):
            conf["spark.driver.memory"] = os.environ[ENV_DRIVER_MEMORY]
        if os.environ.get(ENV_PARTITIONS):
            conf["spark.sql.shuffle.partitions"] = os.environ[ENV_PARTITIONS]
        return cls(master=os.environ.get(ENV_MASTER) or None, conf=conf,
                   staging_dir=os.environ.get(ENV_STAGING) or None,
                   jaro_winkler=os.environ.get(ENV_JARO_WINKLER) or "rapidfuzz")

    @property
    def local(self) -> bool:
        master = self.master or self.conf.get("spark.master") or LOCAL_CONF["spark.master"]
        return master.startswith("local")


_lock = threading.RLock()
_options: SparkOptions | None = None
_session: Any = None          # the session this module built (None: none, or a caller's)
_scratch: Path | None = None  # temporary folder of this process's Spark files


def configure_spark(options: SparkOptions | Mapping[str, Any] | None) -> None:
    """Set how the next Spark session is built (call before the first Spark match step).

    ``options`` is a :class:`SparkOptions` or a mapping with its fields (the ``match.spark``
    config section); None goes back to the environment / local defaults. A session already
    running is not rebuilt: call :func:`stop_spark` first to apply new options.
    """
    global _options
    if options is not None and not isinstance(options, SparkOptions):
        options = SparkOptions(**dict(options))
    with _lock:
        _options = options


def splink_jar() -> str:
    """Path of the Scala UDF jar Splink ships for the installed Spark major version (gives
    Spark SQL ``jaro_winkler``, ``jaro_sim``, ``damerau_levenshtein`` ...)."""
    from splink.backends.spark import similarity_jar_location

    return similarity_jar_location()


def _scratch_dir() -> Path:
    global _scratch
    if _scratch is None:
        _scratch = Path(tempfile.mkdtemp(prefix="golden-hub-spark-"))
        atexit.register(_cleanup_at_exit)
        # a multiprocessing worker (the flow's pool) leaves by os._exit, skipping atexit
        from multiprocessing import util

        util.Finalize(None, _cleanup_at_exit, exitpriority=10)
    return _scratch


def _log4j_properties(folder: Path) -> Path:
    # Spark's default log4j2 config prints INFO/WARN lines (native-hadoop, hostname, ...) on
    # stderr at every start; errors only.
    path = folder / "log4j2.properties"
    path.write_text(
        "rootLogger.level = error\n"
        "rootLogger.appenderRef.stderr.ref = console\n"
        "appender.console.type = Console\n"
        "appender.console.name = console\n"
        "appender.console.target = SYSTEM_ERR\n"
        "appender.console.layout.type = PatternLayout\n"
        "appender.console.layout.pattern = %d{HH:mm:ss} %p %c{1}: %m%n%ex\n"
        # the pyspark gateway counts as a shell: Spark lowers the root level to this
        # logger's (WARN by default) and says so on stderr unless it is configured
        "logger.repl.name = org.apache.spark.repl.Main\n"
        "logger.repl.level = error\n"
        "logger.gateway.name = org.apache.spark.api.python.PythonGatewayServer\n"
        "logger.gateway.level = error\n"
        # Janino cannot compile the whole-stage code of Splink's largest CASE expressions
        # (EM, u sampling); Spark then runs them interpreted (same results) after printing
        # a 200-line stack trace per query at ERROR level
        "logger.codegen.name = org.apache.spark.sql.catalyst.expressions.codegen.CodeGenerator\n"
        "logger.codegen.level = fatal\n",
        encoding="utf-8",
    )
    return path


def session_conf(options: SparkOptions, scratch: Path) -> dict[str, str]:
    """The Spark properties a new session gets for ``options`` (pure apart from the paths)."""
    conf: dict[str, str] = {}
    if options.local:
        conf.update(LOCAL_CONF)
        conf["spark.sql.warehouse.dir"] = str(scratch / "warehouse")
        conf["spark.local.dir"] = str(scratch / "local")
        log4j = _log4j_properties(scratch)
        conf["spark.driver.extraJavaOptions"] = (
            f"-Dlog4j.configurationFile=file:{log4j} -Dderby.system.home={scratch / 'derby'}")
    else:
        conf.update(COMMON_CONF)
        conf["spark.app.name"] = "golden-hub-match"
    if options.master:
        conf["spark.master"] = options.master
    conf["spark.jars"] = ",".join(j for j in (options.conf.get("spark.jars"), splink_jar()) if j)
    conf.update({k: str(v) for k, v in options.conf.items() if k != "spark.jars"})
    return conf


def spark_session() -> Any:
    """The process's Spark session: the caller's active one, else one built (once) from the
    configured options (see the module docstring)."""
    global _session
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:  # pragma: no cover - depends on the optional extra
        raise RuntimeError(
            "match engine 'spark' needs pyspark (pip install 'golden-hub[spark]') and Java 17"
        ) from exc
    with _lock:
        active = SparkSession.getActiveSession()
        if active is not None:
            return active
        options = _options or SparkOptions.from_env()
        scratch = _scratch_dir()
        conf = session_conf(options, scratch)
        if options.local:
            # resolve no host name (no network here): the driver talks to itself on loopback
            os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
            # Python workers (the Jaro-Winkler UDF) run this interpreter, not `python3` on
            # PATH (pyspark reads the variable, not spark.pyspark.python, in local mode)
            os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        # pyspark 4.3 warns on every pandas conversion under pandas 3 although the
        # conversions used here (Arrow, toPandas of flat tables) are tested
        warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas",
                                category=FutureWarning)
        builder = SparkSession.builder
        for key, value in conf.items():
            builder = builder.config(key, value)
        _session = builder.getOrCreate()
        _session.sparkContext.setLogLevel("ERROR")
        log.info("spark session started: master %s, %s partitions", conf.get("spark.master"),
                 _session.conf.get("spark.sql.shuffle.partitions"))
        return _session


def stop_spark() -> None:
    """Stop the session this module started (not a caller's) and remove its scratch folder."""
    global _session, _scratch
    with _lock:
        if _session is not None:
            try:
                _session.stop()
            except Exception:  # noqa: BLE001 - best effort at shutdown
                pass
            _session = None
        if _scratch is not None:
            shutil.rmtree(_scratch, ignore_errors=True)
            _scratch = None


def _cleanup_at_exit() -> None:
    stop_spark()


def spark_api() -> Any:
    """A fresh Splink SparkAPI on the shared session, with its own checkpoint folder.

    Splink writes its intermediate tables (blocked pairs, comparison vectors, predictions,
    term frequencies) as Parquet there, which keeps Spark's query plans short; the folder and
    the API's temporary views go at :func:`close_spark`.
    """
    spark = spark_session()
    options = _options or SparkOptions.from_env()
    run = uuid.uuid4().hex[:12]
    if options.checkpoint_dir:
        checkpoints = f"{options.checkpoint_dir.rstrip('/')}/golden-hub-{run}"
    else:
        checkpoints = str(_scratch_dir() / "checkpoints" / run)
    spark.sparkContext.setCheckpointDir(checkpoints)
    partitions = int(spark.conf.get("spark.sql.shuffle.partitions"))
    api = _api_class()(spark_session=spark, break_lineage_method="parquet",
                       num_partitions_on_repartition=max(1, partitions // 2))
    if options.jaro_winkler == "rapidfuzz":
        register_rapidfuzz_jaro_winkler(spark)
    elif options.jaro_winkler != "splink":
        raise ValueError(f"jaro_winkler must be 'rapidfuzz' or 'splink', not {options.jaro_winkler!r}")
    api._gh_run = run
    api._gh_checkpoints = spark.sparkContext._jsc.sc().getCheckpointDir().get()
    api._gh_staged = []
    api._gh_inputs = 0
    api._gh_views_before = _temp_views(spark)
    return api


def _jaro_winkler_column(a: pd.Series, b: pd.Series) -> pd.Series:
    # the type hints are pyspark's pandas_udf signature (Series, Series) -> Series
    from rapidfuzz.distance import JaroWinkler

    # NULL in, NULL out and an empty string scores 0 (as DuckDB); never NaN: Spark orders
    # NaN above every number
    values = [(JaroWinkler.similarity(x, y) if x and y else 0.0)
              if isinstance(x, str) and isinstance(y, str) else None
              for x, y in zip(a, b)]
    return pd.Series(values, dtype="Float64")


def register_rapidfuzz_jaro_winkler(spark: Any, name: str = "jaro_winkler") -> None:
    """Register Spark SQL ``name(a, b)``: Jaro-Winkler similarity by rapidfuzz, which gives
    exactly DuckDB's ``jaro_winkler_similarity`` (checked on 259,560 name pairs), so both
    engines put every pair on the same side of a threshold. Replaces the Scala UDF Splink
    registers under the same name."""
    from pyspark.sql.functions import pandas_udf

    spark.udf.register(name, pandas_udf(_jaro_winkler_column, "double"))


_API_CLASS: Any = None


def _api_class() -> Any:
    """Splink's SparkAPI with typed registration of in-memory records.

    Splink registers Python records (``score_pair``, i.e. :func:`model.explain`) through
    ``createDataFrame``, which cannot type a column that is null in every record; here such
    records become an Arrow table typed like the input table registered before them.
    """
    global _API_CLASS
    if _API_CLASS is None:
        from splink import SparkAPI

        class GoldenHubSparkAPI(SparkAPI):
            def _table_registration(self, input: Any, table_name: str) -> None:
                if isinstance(input, (list, dict)):
                    input = _records_to_arrow(input, getattr(self, "_gh_schema", None))
                super()._table_registration(input, table_name)

        _API_CLASS = GoldenHubSparkAPI
    return _API_CLASS


def _records_to_arrow(records: list[dict[str, Any]] | dict[str, list[Any]],
                      schema: pa.Schema | None) -> pa.Table:
    table = pa.Table.from_pydict(records) if isinstance(records, dict) else pa.Table.from_pylist(records)
    fields = []
    for f in table.schema:
        known = schema.field(f.name).type if schema is not None and f.name in schema.names else None
        fields.append(pa.field(f.name, known or _plain_type(f.type)))
    return table.cast(pa.schema(fields))


def _temp_views(spark: Any) -> set[str]:
    return {t.name for t in spark.catalog.listTables() if t.isTemporary}


def _staging_dir(api: Any) -> str:
    options = _options or SparkOptions.from_env()
    if options.staging_dir:
        return f"{options.staging_dir.rstrip('/')}/golden-hub-{api._gh_run}"
    return str(_scratch_dir() / "staging" / api._gh_run)


def register_spark(api: Any, table: pa.Table) -> Any:
    """Register an Arrow table with Splink's SparkAPI; returns Splink's input table.

    The table is written as Parquet to the staging folder and read by Spark, so it never
    passes through the JVM driver's heap (which Arrow -> createDataFrame would need).
    """
    folder = _staging_dir(api)
    path = f"{folder}/input-{api._gh_inputs}.parquet"
    api._gh_inputs += 1
    fs, fs_path = pa.fs.FileSystem.from_uri(path) if "://" in path else (None, path)
    if fs is None:
        Path(folder).mkdir(parents=True, exist_ok=True)
    if folder not in api._gh_staged:
        api._gh_staged.append(folder)
    # pandas-3 conversions can give large_string / string_view; Spark reads plain strings
    table = _plain_types(table)
    api._gh_schema = table.schema
    pq.write_table(table, fs_path, filesystem=fs, compression="zstd")
    frame = api.spark.read.parquet(path)
    return api.register(frame)


def _plain_type(t: pa.DataType) -> pa.DataType:
    if pa.types.is_large_string(t) or pa.types.is_string_view(t):
        return pa.string()
    if pa.types.is_large_list(t) or pa.types.is_list_view(t):
        return pa.list_(_plain_type(t.value_type))
    if pa.types.is_list(t):
        return pa.list_(_plain_type(t.value_type))
    if pa.types.is_null(t):
        return pa.string()
    return t


def _plain_types(table: pa.Table) -> pa.Table:
    schema = pa.schema([pa.field(f.name, _plain_type(f.type)) for f in table.schema])
    return table if schema == table.schema else table.cast(schema)


def close_spark(api: Any) -> None:
    """Release what one SparkAPI created: temporary views, cached data, checkpoint and staged
    Parquet. The session stays up for the next step (see :func:`stop_spark`)."""
    spark = api.spark
    try:
        for name in _temp_views(spark) - api._gh_views_before:
            spark.catalog.dropTempView(name)
        spark.catalog.clearCache()
    except Exception:  # noqa: BLE001 - cleaning up is best effort
        log.debug("spark cleanup failed", exc_info=True)
    for path in [api._gh_checkpoints, *api._gh_staged]:
        _remove(path)


def _remove(path: str) -> None:
    if path.startswith("file:"):
        path = path[len("file:"):]
    if "://" in path:
        try:
            fs, fs_path = pa.fs.FileSystem.from_uri(path)
            fs.delete_dir_contents(fs_path, missing_dir_ok=True)
            fs.delete_dir(fs_path)
        except Exception:  # noqa: BLE001 - a remote store may refuse; leave it
            log.debug("could not remove %s", path, exc_info=True)
        return
    p = Path(path)
    if p.is_dir():
        shutil.rmtree(p, ignore_errors=True)
    elif p.exists():
        p.unlink()
