"""The only module that reads source snapshots and reads or writes Parquet and JSON.

Sources are read as text: every value arrives as a string (or null), so leading zeros in
ids, postcodes and phones survive. CSV reading tolerates real exports: encoding detection
(UTF-8, UTF-8 with BOM, cp1251), delimiter sniffing, quoted fields with embedded newlines,
and broken lines, which come back as :class:`MalformedRecord` (file and line number)
instead of aborting the read. Problems that make a file unreadable raise
:class:`SourceError` with a one-line message.
"""

from __future__ import annotations

import csv
import glob
import hashlib
import itertools
import json
import os
import secrets
import shutil
from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from pipelines.config import ConfigError, HubConfig, Source
from pipelines.schema import DECISION_COLUMNS

#: Longest CSV field accepted; a longer one is an unbalanced quote swallowing the file.
MAX_FIELD_CHARS = 1_000_000
csv.field_size_limit(MAX_FIELD_CHARS)

#: Candidate delimiters for sniffing, in order of preference on a tie.
DELIMITERS: tuple[str, ...] = (",", ";", "\t", "|")
#: Share of lines that may fail to decode in an explicitly configured encoding.
MAX_BAD_LINE_SHARE = 0.05
#: Technical columns added to every raw frame.
FILE_COL, LINE_COL = "_file", "_line"


class SourceError(RuntimeError):
    """A source file cannot be read at all; the message is one line for the operator."""


@dataclass
class FileReport:
    """What was read from one file (recorded in the manifest)."""

    path: str
    format: str
    sha256: str
    bytes: int
    rows: int = 0
    encoding: str | None = None
    delimiter: str | None = None
    empty: bool = False


@dataclass
class MalformedRecord:
    """A CSV record that could not be split into the header's columns."""

    file: str
    line: int
    detail: str
    text: str


@dataclass
class RawSource:
    """All files of one source: text columns plus ``_file`` and ``_line``."""

    frame: pd.DataFrame
    malformed: list[MalformedRecord] = field(default_factory=list)
    files: list[FileReport] = field(default_factory=list)


# --------------------------------------------------------------------------- sources


def source_files(config: HubConfig, source: Source) -> list[Path]:
    """Files matching the source's glob, sorted; :class:`SourceError` if there are none."""
    pattern = config.source_glob(source)
    files = sorted(Path(p) for p in glob.glob(pattern, recursive=True) if Path(p).is_file())
    if not files:
        raise SourceError(f"source {source.name}: no file matches {source.path!r} (looked for {pattern})")
    return files


def file_format(source: Source, path: Path) -> str:
    """``csv`` or ``parquet``: the configured format, else from the extension."""
    if source.format:
        return source.format
    suffix = path.suffix.lower()
    if suffix in {".parquet", ".pq"}:
        return "parquet"
    if suffix in {".csv", ".tsv", ".txt"}:
        return "csv"
    raise SourceError(f"source {source.name}: cannot tell the format of {path.name}; set format: csv or parquet")


def read_source(config: HubConfig, source: Source) -> RawSource:
    """Read every file of a source as text and check that mapped columns exist.

    A mapped column missing from a file raises :class:`ConfigError` naming file and column.
    Empty files are allowed (reported with ``empty=True`` and zero rows).
    """
    frames: list[pd.DataFrame] = []
    result = RawSource(frame=pd.DataFrame())
    for path in source_files(config, source):
        fmt = file_format(source, path)
        if fmt == "csv":
            frame, malformed, report = _read_csv(path, source)
        else:
            frame, report = _read_parquet_as_text(path, source)
            malformed = []
        if not report.empty:
            check_columns(source, path, list(frame.columns))
        result.files.append(report)
        result.malformed.extend(malformed)
        frames.append(frame)
    non_empty = [f for f in frames if len(f.columns)]
    result.frame = pd.concat(non_empty, ignore_index=True) if non_empty else _empty_frame(source)
    for col in source.required_columns():
        if col not in result.frame.columns:  # only possible when every file was empty
            result.frame[col] = pd.Series(dtype="object")
    return result


def check_columns(source: Source, path: Path, columns: list[str]) -> None:
    """Raise :class:`ConfigError` if a column the mapping names is absent from a file."""
    present = set(columns)
    for col in source.required_columns():
        if col not in present:
            hint = ", ".join(c for c in columns if not c.startswith("_"))[:300]
            raise ConfigError(
                f"source {source.name}: column {col!r} is mapped in hub.yml but missing from {path} "
                f"(columns there: {hint})"
            )


def read_columns(config: HubConfig, source: Source) -> dict[Path, list[str]]:
    """Header of every file of a source (cheap: for checks before a run starts)."""
    headers: dict[Path, list[str]] = {}
    for path in source_files(config, source):
        if file_format(source, path) == "parquet":
            try:
                headers[path] = pq.read_schema(path).names
            except (pa.ArrowInvalid, OSError) as exc:
                raise SourceError(f"source {source.name}: {path} is not a readable Parquet file ({_first_line(exc)})")
        else:
            text, _, _, _ = _decode(_read_bytes(path, source), source, path, head_only=True)
            if not text.strip():
                continue
            delimiter = _sniff_delimiter(text) if source.delimiter == "auto" else source.delimiter
            first = next(csv.reader(_lines(text), delimiter=delimiter), [])
            headers[path] = _clean_header(first)
    return headers


def _empty_frame(source: Source) -> pd.DataFrame:
    cols = {c: pd.Series(dtype="object") for c in source.required_columns()}
    cols[FILE_COL] = pd.Series(dtype="object")
    cols[LINE_COL] = pd.Series(dtype="int64")
    return pd.DataFrame(cols)


def _read_bytes(path: Path, source: Source) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise SourceError(f"source {source.name}: cannot read {path} ({exc.strerror})") from None


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]


# --------------------------------------------------------------------------- CSV


def _read_csv(path: Path, source: Source) -> tuple[pd.DataFrame, list[MalformedRecord], FileReport]:
    data = _read_bytes(path, source)
    report = FileReport(path=str(path), format="csv", sha256=hashlib.sha256(data).hexdigest(), bytes=len(data))
    if b"\x00" in data[:65536]:
        raise SourceError(f"source {source.name}: {path} holds binary data (NUL bytes), not CSV text")
    text, encoding, bad_lines, _ = _decode(data, source, path)
    report.encoding = encoding
    if not text.strip():
        report.empty = True
        return pd.DataFrame(), [], report
    delimiter = _sniff_delimiter(text) if source.delimiter == "auto" else source.delimiter
    report.delimiter = delimiter
    header, records, malformed = _parse_records(text, delimiter, str(path))
    if bad_lines:
        for line_no, values in records:
            if line_no in bad_lines:
                malformed.append(MalformedRecord(str(path), line_no, f"bytes not valid in {encoding}",
                                                 source_row_text(values, delimiter)))
        records = [r for r in records if r[0] not in bad_lines]
    malformed.sort(key=lambda m: m.line)
    lines = [line_no for line_no, _ in records]
    columns = list(zip(*(values for _, values in records))) if records else [() for _ in header]
    frame = pd.DataFrame({name: pd.Series(col, dtype="object") for name, col in zip(header, columns)})
    frame[FILE_COL] = str(path)
    frame[LINE_COL] = pd.Series(lines, dtype="int64")
    report.rows = len(frame) + len(malformed)
    if len(frame) == 0 and not malformed:
        report.empty = True
    return frame, malformed, report


def source_row_text(values: list[str], delimiter: str) -> str:
    """A parsed record joined back into one line (for a quarantined row's ``raw``)."""
    return delimiter.join(values)


def _decode(data: bytes, source: Source, path: Path, head_only: bool = False) -> tuple[str, str, set[int], int]:
    """Decode bytes; return text, encoding used, 1-based lines that failed, and their count.

    ``auto`` tries UTF-8 (BOM-aware); a file where a few lines are not UTF-8 but others hold
    UTF-8 multi-byte text stays UTF-8 and only those lines are marked; otherwise cp1251.
    """
    if head_only:
        data = data[:65536]
        data = data[: data.rfind(b"\n") + 1] or data
    encoding = source.encoding
    if encoding == "auto":
        if data.startswith(b"\xef\xbb\xbf"):
            encoding = "utf-8-sig"
        else:
            try:
                return data.decode("utf-8"), "utf-8", set(), 0
            except UnicodeDecodeError:
                encoding = "utf-8" if _mostly_utf8(data) else "cp1251"
    try:
        return data.decode(encoding), encoding, set(), 0
    except UnicodeDecodeError:
        pass
    # Decode line by line so that one bad line does not cost the file.
    parts: list[str] = []
    bad: set[int] = set()
    for i, raw_line in enumerate(data.split(b"\n"), start=1):
        try:
            parts.append(raw_line.decode(encoding))
        except UnicodeDecodeError:
            parts.append(raw_line.decode(encoding, errors="replace"))
            bad.add(i)
    if encoding == "utf-8-sig" and parts:
        parts[0] = parts[0].lstrip("\ufeff")
    total = max(1, len(parts))
    if source.encoding != "auto" and len(bad) / total > MAX_BAD_LINE_SHARE:
        raise SourceError(
            f"source {source.name}: {path} is not {encoding} text ({len(bad)} of {total} lines fail to decode); "
            "set encoding: auto, utf-8 or cp1251"
        )
    return "\n".join(parts), encoding, bad, len(bad)


def _mostly_utf8(data: bytes) -> bool:
    """True when most lines with non-ASCII bytes are valid UTF-8.

    cp1251 Cyrillic practically never forms valid UTF-8 multi-byte sequences, so a file
    where most non-ASCII lines decode is UTF-8 with a few damaged lines, not cp1251.
    """
    good = bad = 0
    for raw_line in data.split(b"\n"):
        if raw_line.isascii():
            continue
        try:
            raw_line.decode("utf-8")
            good += 1
        except UnicodeDecodeError:
            bad += 1
    return good > bad


def _lines(text: str) -> Iterator[str]:
    """Physical lines with their terminators; only ``\\n`` ends a line (as csv expects)."""
    start = 0
    n = len(text)
    while start < n:
        end = text.find("\n", start)
        if end < 0:
            yield text[start:]
            return
        yield text[start : end + 1]
        start = end + 1


def _sniff_delimiter(text: str) -> str:
    """The candidate delimiter that splits the first lines most consistently."""
    head = "".join(line for _, line in zip(range(50), _lines(text)))
    best, best_score = ",", (-1.0, 0)
    for delim in DELIMITERS:
        rows = [r for r in csv.reader(_lines(head), delimiter=delim) if r]
        if not rows:
            continue
        width = len(rows[0])
        if width < 2:
            continue
        consistent = sum(1 for r in rows if len(r) == width) / len(rows)
        score = (consistent, width)
        if score > best_score:
            best, best_score = delim, score
    return best


def _clean_header(names: list[str]) -> list[str]:
    """Strip names and BOMs; name blank columns; make repeated names unique (``a``, ``a.2``)."""
    seen: Counter[str] = Counter()
    out: list[str] = []
    for i, name in enumerate(names, start=1):
        name = name.replace("\ufeff", "").strip() or f"column_{i}"
        seen[name] += 1
        out.append(name if seen[name] == 1 else f"{name}.{seen[name]}")
    return out


def _parse_records(text: str, delimiter: str, file: str) -> tuple[list[str], list[tuple[int, list[str]]], list[MalformedRecord]]:
    """Split CSV text into header, good records (with 1-based first line) and malformed ones.

    A record whose field count differs from the header's is malformed. If it spans several
    physical lines (an unbalanced quote swallowing what follows), only its first line is
    reported and parsing restarts on the next line, so one stray quote costs one row; a
    field longer than :data:`MAX_FIELD_CHARS` is taken for such a quote too.
    Trailing empty fields beyond the header's width are tolerated only when most rows have
    them (a delimiter closing every line); otherwise such a row is malformed, since an
    unquoted delimiter inside a value shifts every later column.
    """
    lines = list(_lines(text))
    header: list[str] | None = None
    width = 0
    records: list[tuple[int, list[str]]] = []
    padded: list[tuple[int, list[str], str]] = []
    malformed: list[MalformedRecord] = []
    pos = 0
    while pos < len(lines):
        # csv's C reader over a plain iterator; line_num counts the physical lines consumed.
        reader = csv.reader(itertools.islice(lines, pos, None), delimiter=delimiter)
        restart_at: int | None = None
        end = pos
        while True:
            start = end
            try:
                values = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:
                restart_at = start + 1
                malformed.append(MalformedRecord(file, start + 1, f"unparseable ({exc}); unbalanced quote?",
                                                 lines[start].rstrip("\r\n")[:1000]))
                break
            end = pos + reader.line_num  # exclusive
            if not values or (len(values) == 1 and not values[0].strip()):
                continue  # blank line
            if header is None:
                header = _clean_header(values)
                width = len(header)
                continue
            if len(values) == width:
                records.append((start + 1, values))
                continue
            if len(values) > width and end - start == 1 and not any(v.strip() for v in values[width:]):
                padded.append((start + 1, values, lines[start].rstrip("\r\n")))
                continue
            detail = f"expected {width} fields, found {len(values)}"
            if end - start > 1:
                malformed.append(MalformedRecord(file, start + 1, detail + " (unbalanced quote?)",
                                                 lines[start].rstrip("\r\n")))
                restart_at = start + 1
                break
            malformed.append(MalformedRecord(file, start + 1, detail, lines[start].rstrip("\r\n")))
        if restart_at is None:
            break
        pos = restart_at
    # Rows with extra empty trailing fields are an export quirk when most rows have them
    # (a delimiter after every line); in a file where few rows do, they are shifted rows.
    if padded and len(padded) * 2 >= len(records) + len(padded):
        records.extend((line, values[:width]) for line, values, _ in padded)
        records.sort(key=lambda r: r[0])
    else:
        malformed.extend(MalformedRecord(file, line, f"expected {width} fields, found {len(values)}", text)
                         for line, values, text in padded)
    return header or [], records, malformed


# --------------------------------------------------------------------------- Parquet sources


def _read_parquet_as_text(path: Path, source: Source) -> tuple[pd.DataFrame, FileReport]:
    data = _read_bytes(path, source)
    report = FileReport(path=str(path), format="parquet", sha256=hashlib.sha256(data).hexdigest(), bytes=len(data))
    if not data:
        report.empty = True
        return pd.DataFrame(), report
    try:
        table = pq.read_table(pa.BufferReader(data))
    except (pa.ArrowInvalid, OSError) as exc:
        raise SourceError(f"source {source.name}: {path} is not a readable Parquet file ({_first_line(exc)})") from None
    columns = {name: _arrow_to_text(table.column(name)) for name in _clean_header(table.column_names)}
    frame = pd.DataFrame(columns) if columns else pd.DataFrame()
    frame[FILE_COL] = str(path)
    frame[LINE_COL] = pd.Series(range(1, table.num_rows + 1), dtype="int64")
    report.rows = table.num_rows
    report.empty = table.num_rows == 0
    return frame, report


def _arrow_to_text(column: pa.ChunkedArray) -> pd.Series:
    """A Parquet column as text, the way a person would type the value."""
    typ = column.type
    if pa.types.is_dictionary(typ):
        column = column.cast(typ.value_type)
        typ = column.type
    if pa.types.is_string(typ) or pa.types.is_large_string(typ):
        return pd.Series(column.to_pylist(), dtype="object")
    if pa.types.is_floating(typ):
        # 31048.0 reads better as 31048; keep real fractions.
        values = column.to_pylist()
        return pd.Series([None if v is None else (str(int(v)) if float(v).is_integer() else repr(v)) for v in values],
                         dtype="object")
    if pa.types.is_nested(typ):
        return pd.Series([None if v is None else json.dumps(v, ensure_ascii=False, default=str)
                          for v in column.to_pylist()], dtype="object")
    try:
        text = column.cast(pa.string())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return pd.Series([None if v is None else str(v) for v in column.to_pylist()], dtype="object")
    return pd.Series(text.to_pylist(), dtype="object")


# --------------------------------------------------------------------------- hub files


def write_parquet(frame: pd.DataFrame | pa.Table, path: Path, schema: pa.Schema | None = None) -> Path:
    """Write a frame or table to Parquet (zstd), through a temporary file and a rename.

    With a schema, columns are selected and cast to it, so published files always carry
    the documented types even when a frame is empty.
    """
    table = frame if isinstance(frame, pa.Table) else pa.Table.from_pandas(frame, preserve_index=False)
    if schema is not None:
        table = conform(table, schema)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    pq.write_table(table, tmp, compression="zstd")
    os.replace(tmp, path)
    return path


def conform(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """Select and cast a table's columns to a schema; absent columns become nulls."""
    arrays = []
    for f in schema:
        column = table.column(f.name) if f.name in table.column_names else None
        if column is None or column.null_count == len(column):
            # absent, or all null (pandas may have typed it float or object): nulls of the right type
            arrays.append(pa.nulls(table.num_rows, f.type))
        else:
            arrays.append(column.cast(f.type))
    return pa.Table.from_arrays(arrays, schema=schema)


def read_parquet(path: Path, columns: list[str] | None = None) -> pd.DataFrame:
    """Read a hub Parquet file into pandas."""
    return pq.read_table(path, columns=columns).to_pandas()


def read_frame(path: Path, columns: list[str] | None = None) -> pd.DataFrame:
    """Read Parquet into pandas with text columns as objects holding ``str`` or ``None``.

    (pandas' own conversion gives NaN for missing text, which is truthy and not None.)
    Lists come back as Python lists, timestamps as datetime64, dates as ``date`` objects.
    """
    return _table_to_frame(pq.read_table(path, columns=columns))


def _table_to_frame(table: pa.Table) -> pd.DataFrame:
    data: dict[str, pd.Series] = {}
    for name, column in zip(table.column_names, table.columns):
        typ = column.type
        if pa.types.is_string(typ) or pa.types.is_large_string(typ) or pa.types.is_null(typ) \
                or pa.types.is_list(typ) or pa.types.is_boolean(typ):
            data[name] = pd.Series(column.to_pylist(), dtype="object")
        else:
            data[name] = column.to_pandas()
    return pd.DataFrame(data, index=pd.RangeIndex(table.num_rows))


def empty_frame(schema: pa.Schema) -> pd.DataFrame:
    """A frame with no rows and the schema's columns, typed as :func:`read_frame` types them."""
    return _table_to_frame(schema.empty_table())


def iter_frames(paths: list[Path], columns: list[str], rows: int) -> Iterator[pd.DataFrame]:
    """The rows of several Parquet files as frames of at most ``rows`` rows (as
    :func:`read_frame`; columns a file lacks are all null), so memory stays bounded."""
    for path in paths:
        parquet = pq.ParquetFile(path)
        present = [c for c in columns if c in parquet.schema_arrow.names]
        for batch in parquet.iter_batches(batch_size=rows, columns=present):
            table = pa.Table.from_batches([batch])
            for c in columns:
                if c not in present:
                    table = table.append_column(c, pa.nulls(table.num_rows, pa.string()))
            yield _table_to_frame(table.select(columns))


def read_table(path: Path, columns: list[str] | None = None) -> pa.Table:
    """Read a hub Parquet file as an Arrow table."""
    return pq.read_table(path, columns=columns)


def read_members(cleansed: list[Path], crosswalk: Path, columns: list[str]) -> pa.Table:
    """Accepted records with their golden id: ``golden_id`` then ``columns`` of the cleansed
    files (columns a file lacks are null), joined to the crosswalk on ``record_key``; one row
    per crosswalk record found in the files."""
    tables = []
    for path in cleansed:
        present = set(parquet_columns(path))
        table = pq.read_table(path, columns=[c for c in columns if c in present])
        for c in columns:
            if c not in present:
                table = table.append_column(c, pa.nulls(table.num_rows, pa.string()))
        tables.append(table.select(columns))
    records = pa.concat_tables(tables, promote_options="permissive") if tables else None
    keys = pq.read_table(crosswalk, columns=["record_key", "golden_id"])
    if records is None:
        return pa.table({"golden_id": pa.array([], pa.string())})
    con = duckdb.connect()
    try:
        con.register("records", records)
        con.register("keys", keys)
        select = ", ".join(f'r."{c}"' for c in columns)
        return con.sql(f"SELECT k.golden_id, {select} FROM records r JOIN keys k USING (record_key)").to_arrow_table()
    finally:
        con.close()


def parquet_columns(path: Path) -> list[str]:
    """Column names from the Parquet footer (no data read)."""
    return list(pq.read_schema(path).names)


def copy_file(src: Path, dst: Path) -> Path:
    """Copy a file through a temporary name and a rename (readers never see half a file)."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.with_name(f".{dst.name}.tmp")
    shutil.copyfile(src, tmp)
    os.replace(tmp, dst)
    return dst


def read_decisions(path: Path) -> pd.DataFrame:
    """Steward decisions (CSV, UTF-8); an absent file means no decisions yet.

    Raises :class:`SourceError` with a one-line message if the file is unreadable or a
    required column is missing. Values are text (``None`` for empty cells).
    """
    if not path.exists():
        return pd.DataFrame({c: pd.Series(dtype="object") for c in DECISION_COLUMNS})
    frame = read_csv_text(path)
    missing = [c for c in DECISION_COLUMNS[:3] if c not in frame.columns]
    if missing:
        raise SourceError(f"{path}: steward decisions need column(s) {', '.join(missing)}")
    for column in DECISION_COLUMNS:
        if column not in frame.columns:
            frame[column] = ""
    frame = frame[list(DECISION_COLUMNS)].astype("object")
    return frame.where(frame.map(lambda v: isinstance(v, str) and v.strip() != ""), None)


def write_csv(frame: pd.DataFrame, path: Path) -> Path:
    """Write CSV for people (UTF-8 with BOM so spreadsheet tools read Cyrillic), via a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    frame.to_csv(tmp, index=False, encoding="utf-8-sig")
    os.replace(tmp, path)
    return path


def read_rows(path: Path, column: str, values: list[str], columns: list[str] | None = None) -> pd.DataFrame:
    """Rows of a hub Parquet file whose ``column`` is one of ``values`` (as :func:`read_frame`)."""
    table = pq.read_table(path, columns=columns, filters=[(column, "in", list(values))] if values else None)
    if not values:
        table = table.slice(0, 0)
    return _table_to_frame(table)


def read_csv_text(path: Path) -> pd.DataFrame:
    """A small CSV written by people or spreadsheets (UTF-8, BOM allowed), every cell as text.

    Raises :class:`SourceError` with a one-line message if it cannot be read.
    """
    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig").astype("object")
    except FileNotFoundError:
        raise SourceError(f"{path}: file not found") from None
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise SourceError(f"{path}: cannot read CSV ({_first_line(exc)})") from None


def read_secret(path: Path) -> str:
    """A secret kept in a file (created with 32 random hex digits, mode 0600, if absent)."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(secrets.token_hex(16) + "\n", encoding="ascii")
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    return path.read_text(encoding="ascii").strip()


def filter_parquet(src: Path, dst: Path, column: str, drop: set[str]) -> int:
    """Copy a Parquet file without the rows whose ``column`` is in ``drop``; returns rows kept."""
    table = pq.read_table(src)
    if drop and table.num_rows:
        keep = pc.invert(pc.fill_null(pc.is_in(table[column], value_set=pa.array(sorted(drop), pa.string())), False))
        table = table.filter(keep)
    write_parquet(table, dst)
    return table.num_rows


def parquet_rows(path: Path) -> int:
    """Row count from the Parquet footer (no data read)."""
    return pq.ParquetFile(path).metadata.num_rows


def write_json(data: Any, path: Path) -> Path:
    """Write JSON (UTF-8, indented, keys in insertion order) through a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False, indent=2, default=_json_default) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    return path


def read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def _json_default(value: Any) -> Any:
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "__dataclass_fields__"):
        return asdict(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def concat_parquet(paths: list[Path], out: Path, schema: pa.Schema) -> int:
    """Stream several Parquet files into one with the given schema; return the row count.

    Files are read batch by batch, so memory stays flat whatever the total size.
    """
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    rows = 0
    with pq.ParquetWriter(tmp, schema, compression="zstd") as writer:
        for path in paths:
            parquet = pq.ParquetFile(path)
            for batch in parquet.iter_batches(batch_size=100_000):
                table = conform(pa.Table.from_batches([batch]), schema)
                writer.write_table(table)
                rows += table.num_rows
    os.replace(tmp, out)
    return rows


def write_parts(frame: pd.DataFrame, folder: Path, rows_per_part: int) -> list[Path]:
    """Write a frame as numbered Parquet parts of at most ``rows_per_part`` rows.

    Always writes at least one part (possibly empty), so every source has a part to follow.
    """
    folder.mkdir(parents=True, exist_ok=True)
    table = pa.Table.from_pandas(frame, preserve_index=False)
    paths = []
    for i, start in enumerate(range(0, max(1, table.num_rows), rows_per_part)):
        paths.append(write_parquet(table.slice(start, rows_per_part), folder / f"part-{i:05d}.parquet"))
    return paths


class ParquetSink:
    """Append tables to one Parquet file with a fixed schema; the file appears on close.

    Used to stream many parts into one file without holding them all in memory.
    """

    def __init__(self, path: Path, schema: pa.Schema) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.schema = schema
        self.rows = 0
        self._tmp = path.with_name(f".{path.name}.tmp")
        self._writer = pq.ParquetWriter(self._tmp, schema, compression="zstd")

    def write(self, frame: pd.DataFrame | pa.Table) -> None:
        table = frame if isinstance(frame, pa.Table) else pa.Table.from_pandas(frame, preserve_index=False)
        table = conform(table, self.schema)
        self._writer.write_table(table)
        self.rows += table.num_rows

    def close(self) -> Path:
        self._writer.close()
        os.replace(self._tmp, self.path)
        return self.path

    def __enter__(self) -> "ParquetSink":
        return self

    def __exit__(self, exc_type: Any, *_: Any) -> None:
        if exc_type is None:
            self.close()
        else:
            self._writer.close()
            self._tmp.unlink(missing_ok=True)
