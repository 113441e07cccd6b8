"""Source readers: encodings, delimiters, quoting, broken lines, Parquet as text."""

from __future__ import annotations

import csv
import io as stdio
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipelines import io
from pipelines.config import ConfigError
from tests.conftest import make_config


def crm_source(path: str = "src/*.csv", **extra) -> dict:
    return {"name": "crm", "path": path, "id": "Код клиента", "updated_at": "Дата изменения",
            "fields": {"full_name": "ФИО", "phone": "Телефон", "email": "Email"}, **extra}


def test_cp1251_semicolon_export_with_multiline_field_and_broken_line(tmp_path: Path, data_copy) -> None:
    data_copy("io/crm_cp1251.csv", "src/crm.csv")
    config = make_config(tmp_path, [crm_source()])
    raw = io.read_source(config, config.source("crm"))
    report = raw.files[0]
    assert (report.encoding, report.delimiter, report.rows, report.empty) == ("cp1251", ";", 4, False)
    frame = raw.frame
    assert frame["Код клиента"].tolist() == ["000123", "000124", "000126"]  # leading zeros survive
    assert frame["ФИО"].tolist()[1] == "Пётр Петров"
    assert frame["Комментарий"].tolist()[0] == "звонить\r\nпосле 18:00"
    assert frame[io.LINE_COL].tolist() == [2, 4, 6]
    [bad] = raw.malformed
    assert (bad.line, bad.detail) == (5, "expected 6 fields, found 7")
    assert bad.text.startswith("000125;Сидорова")


def test_bom_tab_file_with_trailing_delimiter(tmp_path: Path, data_copy) -> None:
    data_copy("io/web_utf8_bom.tsv", "web/leads.tsv")
    config = make_config(tmp_path, [{"name": "web", "path": "web/*.tsv", "id": "lead_id",
                                     "fields": {"full_name": "name", "phone": "phone"}}])
    raw = io.read_source(config, config.source("web"))
    assert (raw.files[0].encoding, raw.files[0].delimiter) == ("utf-8-sig", "\t")
    assert list(raw.frame.columns[:5]) == ["lead_id", "name", "phone", "email", "utm_source"]
    assert raw.frame["name"].tolist() == ["Yuliya Ivanova", "John Smith"]
    assert raw.malformed == []


def test_unbalanced_quote_costs_one_row(tmp_path: Path, data_copy) -> None:
    data_copy("io/unbalanced_quote.csv", "src/a.csv")
    config = make_config(tmp_path, [{"name": "s", "path": "src/*.csv", "id": "id", "fields": {"full_name": "name"}}])
    raw = io.read_source(config, config.source("s"))
    assert raw.frame["id"].tolist() == ["2", "3"]
    assert [(m.line, "unbalanced quote" in m.detail) for m in raw.malformed] == [(2, True)]
    assert raw.files[0].rows == 3


def test_mostly_utf8_file_keeps_utf8_and_flags_the_odd_line(tmp_path: Path, data_copy) -> None:
    data_copy("io/mostly_utf8.csv", "src/a.csv")
    config = make_config(tmp_path, [{"name": "s", "path": "src/*.csv", "id": "id", "fields": {"full_name": "name"}}])
    raw = io.read_source(config, config.source("s"))
    assert raw.frame["name"].tolist() == ["Анна", "Мария", "Ирина", "Олег"]
    assert [(m.line, m.detail) for m in raw.malformed] == [(3, "bytes not valid in utf-8")]


@pytest.mark.parametrize("name", ["io/empty.csv", "io/header_only.csv"])
def test_empty_files_are_allowed_and_reported(tmp_path: Path, data_copy, name: str) -> None:
    data_copy(name, "src/a.csv")
    config = make_config(tmp_path, [{"name": "s", "path": "src/*.csv", "id": "id", "fields": {"full_name": "name"}}])
    raw = io.read_source(config, config.source("s"))
    assert len(raw.frame) == 0 and raw.files[0].empty and raw.files[0].rows == 0
    assert {"id", "name"} <= set(raw.frame.columns)


def test_binary_file_is_a_one_line_source_error(tmp_path: Path, data_copy) -> None:
    data_copy("io/binary.csv", "src/a.csv")
    config = make_config(tmp_path, [{"name": "s", "path": "src/*.csv", "id": "id", "fields": {"full_name": "name"}}])
    with pytest.raises(io.SourceError, match="binary data"):
        io.read_source(config, config.source("s"))


def test_missing_mapped_column_names_file_and_column(tmp_path: Path, data_copy) -> None:
    data_copy("io/crm_cp1251.csv", "src/crm.csv")
    config = make_config(tmp_path, [crm_source(fields={"full_name": "ФИО", "birth_date": "Дата рождения"})])
    with pytest.raises(ConfigError) as err:
        io.read_source(config, config.source("crm"))
    assert "'Дата рождения'" in str(err.value) and "crm.csv" in str(err.value)
    # the header-only check used before a run says the same
    headers = io.read_columns(config, config.source("crm"))
    with pytest.raises(ConfigError, match="Дата рождения"):
        for path, columns in headers.items():
            io.check_columns(config.source("crm"), path, columns)


def test_no_matching_file_is_a_source_error(tmp_path: Path) -> None:
    config = make_config(tmp_path, [{"name": "s", "path": "nowhere/*.csv", "id": "id", "fields": {"email": "e"}}])
    with pytest.raises(io.SourceError, match="no file matches 'nowhere/\\*.csv'"):
        io.read_source(config, config.source("s"))


def test_glob_reads_several_files_in_order(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "b.csv").write_text("id,email\n2,b@x.ru\n", encoding="utf-8")
    (tmp_path / "src" / "a.csv").write_text("id;email\n1;a@x.ru\n", encoding="utf-8")
    config = make_config(tmp_path, [{"name": "s", "path": "src/*.csv", "id": "id", "fields": {"email": "email"}}])
    raw = io.read_source(config, config.source("s"))
    assert raw.frame["id"].tolist() == ["1", "2"]
    assert [Path(f.path).name for f in raw.files] == ["a.csv", "b.csv"]


def test_repeated_and_blank_headers_get_unique_names(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "a.csv").write_text("id,phone,phone,\n1,111,222,x\n", encoding="utf-8")
    config = make_config(tmp_path, [{"name": "s", "path": "src/*.csv", "id": "id",
                                     "fields": {"phone": ["phone", "phone.2"]}}])
    raw = io.read_source(config, config.source("s"))
    assert list(raw.frame.columns[:4]) == ["id", "phone", "phone.2", "column_4"]


def test_parquet_values_arrive_as_text(tmp_path: Path) -> None:
    import datetime

    (tmp_path / "src").mkdir()
    table = pa.table({
        "card": ["000042", None], "serial": [31048.0, 1.5], "n": [7, None],
        "ts": [datetime.datetime(2024, 1, 2, 3, 4, 5), None], "ok": [True, False],
    })
    pq.write_table(table, tmp_path / "src" / "a.parquet")
    config = make_config(tmp_path, [{"name": "s", "path": "src/*.parquet", "id": "card", "fields": {"phone": "n"}}])
    raw = io.read_source(config, config.source("s"))
    frame = raw.frame
    assert frame["card"].tolist() == ["000042", None]
    assert frame["serial"].tolist() == ["31048", "1.5"]
    assert frame["n"].tolist() == ["7", None]
    assert frame["ts"].tolist()[0].startswith("2024-01-02 03:04:05")
    assert frame["ok"].tolist() == ["true", "false"]
    assert frame[io.LINE_COL].tolist() == [1, 2]


def test_corrupt_parquet_is_a_source_error(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "a.parquet").write_bytes(b"PAR1 not really")
    config = make_config(tmp_path, [{"name": "s", "path": "src/*.parquet", "id": "id", "fields": {"phone": "p"}}])
    with pytest.raises(io.SourceError, match="not a readable Parquet file"):
        io.read_source(config, config.source("s"))


_cell = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00\r"), max_size=12)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.lists(_cell, min_size=3, max_size=3), max_size=15),
       delimiter=st.sampled_from([",", ";", "\t"]),
       encoding=st.sampled_from(["utf-8", "utf-8-sig"]))
def test_any_well_formed_csv_round_trips(tmp_path: Path, rows: list[list[str]], delimiter: str, encoding: str) -> None:
    """Whatever the cells hold (quotes, delimiters, newlines), a proper CSV reads back exactly."""
    buffer = stdio.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\n", quoting=csv.QUOTE_NONNUMERIC)
    writer.writerow(["id", "name", "note"])
    kept = [r for r in rows if any(c.strip() for c in r)]  # blank lines are not records
    for i, row in enumerate(kept):
        writer.writerow([str(i), row[1], row[2]])
    folder = tmp_path / f"case{abs(hash((delimiter, encoding, str(rows))))}"
    (folder / "src").mkdir(parents=True)
    (folder / "src" / "a.csv").write_bytes(buffer.getvalue().encode(encoding))
    config = make_config(folder, [{"name": "s", "path": "src/*.csv", "id": "id", "delimiter": delimiter,
                                   "fields": {"full_name": "name"}}])
    raw = io.read_source(config, config.source("s"))
    assert raw.malformed == []
    assert raw.frame[["name", "note"]].values.tolist() == [[r[1], r[2]] for r in kept]


def test_trailing_delimiter_on_every_row_is_a_quirk_but_on_one_row_a_shift(tmp_path: Path) -> None:
    (tmp_path / "q").mkdir()
    (tmp_path / "q" / "a.csv").write_text("id;name;note\n1;Анна;x;\n2;Олег;y;\n3;Ира;z;\n", encoding="utf-8")
    (tmp_path / "s").mkdir()
    # row 3: an unquoted ';' inside the address shifted the note into an extra column
    (tmp_path / "s" / "a.csv").write_text("id;addr;note\n1;Москва;x\n2;ул. Ленина; д. 5;\n3;Тверь;z\n",
                                          encoding="utf-8")
    config = make_config(tmp_path, [{"name": "q", "path": "q/*.csv", "id": "id", "fields": {"full_name": "name"}},
                                    {"name": "s", "path": "s/*.csv", "id": "id", "fields": {"address": "addr"}}])
    quirk = io.read_source(config, config.source("q"))
    assert quirk.frame["note"].tolist() == ["x", "y", "z"] and quirk.malformed == []
    shifted = io.read_source(config, config.source("s"))
    assert shifted.frame["id"].tolist() == ["1", "3"]
    assert [(m.line, m.detail) for m in shifted.malformed] == [(3, "expected 3 fields, found 4")]
