"""The demo generator: determinism, file formats, truth coverage, hub.yml, realism checks."""

from __future__ import annotations

import csv
import hashlib
import io
import re
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml

from pipelines.demo import Messiness, generate_demo

N = 3000


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    return generate_demo(out, customers=N, seed=7)


@pytest.fixture(scope="module")
def truth(demo) -> pd.DataFrame:
    return pd.read_parquet(demo.truth)


@pytest.fixture(scope="module")
def persons(demo) -> pd.DataFrame:
    return pd.read_parquet(demo.truth.parent / "persons.parquet")


def _crm_records(path: Path) -> list[list[str]]:
    text = path.read_bytes().decode("cp1251")
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))


def _csv_records(path: Path, delimiter: str, encoding: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_bytes().decode(encoding), newline=""), delimiter=delimiter))


def _source_ids(demo) -> dict[tuple[str, str], list[str]]:
    """(source, relative file) -> ids in file order, read back from the written files."""
    root = demo.config.parent
    out = {}
    for path in demo.sources["crm"]:
        out[("crm", path.relative_to(root).as_posix())] = [r[0] for r in _crm_records(path)[1:]]
    for path in demo.sources["web"]:
        out[("web", path.relative_to(root).as_posix())] = [r[0] for r in _csv_records(path, ",", "utf-8")[1:]]
    for path in demo.sources["loyalty"]:
        out[("loyalty", path.relative_to(root).as_posix())] = pd.read_parquet(path)["card_no"].tolist()
    for path in demo.sources["billing"]:
        out[("billing", path.relative_to(root).as_posix())] = [r[0] for r in _csv_records(path, "\t", "utf-8-sig")[1:]]
    return out


def _digest(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


# ---------------------------------------------------------------- determinism and API


def test_same_seed_gives_identical_bytes(tmp_path):
    a = generate_demo(tmp_path / "a", customers=800, seed=11)
    b = generate_demo(tmp_path / "b", customers=800, seed=11)
    da, db = _digest(tmp_path / "a"), _digest(tmp_path / "b")
    assert da == db
    assert len(da) >= 10
    assert a.rows == b.rows


def test_other_seed_gives_other_data(tmp_path):
    generate_demo(tmp_path / "a", customers=300, seed=1)
    generate_demo(tmp_path / "b", customers=300, seed=2)
    a = (tmp_path / "a/sources/crm/crm_clients.csv").read_bytes()
    b = (tmp_path / "b/sources/crm/crm_clients.csv").read_bytes()
    assert a != b


def test_regenerating_replaces_old_source_files(tmp_path):
    generate_demo(tmp_path, customers=300, seed=3)
    stale = tmp_path / "sources/web/leads_1999.csv"
    stale.write_text("lead_id\n1\n", encoding="utf-8")
    res = generate_demo(tmp_path, customers=200, seed=3)
    assert not stale.exists()
    assert all(p.exists() for files in res.sources.values() for p in files)


def test_result_describes_what_was_written(demo):
    assert demo.config.name == "hub.yml" and demo.config.exists()
    assert set(demo.sources) == {"crm", "web", "loyalty", "billing", "shop"}
    assert demo.truth.exists()
    assert demo.rows["crm"] > 0.5 * N and demo.rows["shop"] > demo.rows["crm"]
    assert len(demo.sources["web"]) >= 5  # one file per year of leads


def test_rejects_zero_customers(tmp_path):
    with pytest.raises(ValueError):
        generate_demo(tmp_path, customers=0)


# ---------------------------------------------------------------- truth covers every row exactly once


def test_every_source_row_has_exactly_one_truth_row(demo, truth):
    ids = _source_ids(demo)
    for (source, file), file_ids in ids.items():
        t = truth[(truth["source"] == source) & (truth["file"] == file)].sort_values("record_no")
        assert t["record_no"].tolist() == list(range(1, len(file_ids) + 1)), file
        assert t["source_id"].tolist() == file_ids, file
    assert len(truth) == sum(len(v) for v in ids.values())
    assert set(truth["source"]) == {"crm", "web", "loyalty", "billing"}


def test_truth_columns_and_nulls(truth):
    assert {"source", "source_id", "entity_id", "household_id", "organisation_id", "note"} <= set(truth.columns)
    junk = truth["note"].fillna("").str.contains(r"\b(?:test|spam|junk)\b")
    assert junk.any()
    assert truth.loc[junk, "entity_id"].isna().all()
    assert truth.loc[~junk, "entity_id"].notna().all()
    assert truth.loc[~junk, "household_id"].notna().all()
    orgs = truth["organisation_id"].notna()
    assert orgs.any() and (truth.loc[orgs, "source"] == "billing").all()


def test_notes_mark_the_hard_cases(truth):
    tags = set(truth["note"].dropna().str.split(",").explode())
    for tag in ("duplicate", "test", "spam", "partial", "namesake", "stale_phone", "moved", "shared_phone"):
        assert tag in tags, tag


def test_persons_appear_in_several_sources(truth, persons):
    per_entity = truth.dropna(subset=["entity_id"]).groupby("entity_id")["source"].nunique()
    assert per_entity.index.nunique() == len(persons)  # every person is somewhere
    assert (per_entity >= 2).mean() > 0.4
    shares = truth.dropna(subset=["entity_id"]).groupby("source")["entity_id"].nunique() / len(persons)
    assert 0.5 < shares["crm"] < 0.75
    assert 0.25 < shares["web"] < 0.45
    assert 0.3 < shares["loyalty"] < 0.55
    assert 0.12 < shares["billing"] < 0.35


# ---------------------------------------------------------------- file formats


def test_crm_is_cp1251_semicolon_with_crlf(demo):
    raw = demo.sources["crm"][0].read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    text = raw.decode("cp1251")
    header = text.split("\r\n", 1)[0].split(";")
    assert header == ["Код клиента", "ФИО", "Дата рождения", "Пол", "Телефон", "Моб. телефон", "Email", "Адрес",
                      "Согласие на рассылку", "Дата создания", "Дата изменения", "Менеджер", "Комментарий"]
    records = _crm_records(demo.sources["crm"][0])[1:]
    ids = [r[0] for r in records]
    assert all(re.fullmatch(r"\d{6,}", i) for i in ids)
    assert any(i.startswith("000") for i in ids)
    assert all(re.fullmatch(r"\d\d\.\d\d\.\d{4}", r[2]) for r in records if len(r) == 13 and r[2])
    assert all(re.fullmatch(r"\d\d\.\d\d\.\d{4} \d\d:\d\d:\d\d", r[10]) for r in records if len(r) == 13)


def test_crm_has_duplicate_ids_broken_lines_and_multiline_fields(tmp_path):
    m = Messiness(crm_broken_lines=0.02, crm_multiline=0.02, crm_duplicate_ids=0.02)
    res = generate_demo(tmp_path, customers=1500, seed=5, messiness=m)
    records = _crm_records(res.sources["crm"][0])
    lengths = [len(r) for r in records[1:]]
    assert any(n > 13 for n in lengths)          # an unquoted ";" inside the address
    assert any(n < 13 for n in lengths)          # a line cut short
    assert any("\n" in c for r in records for c in r)  # a quoted comment with a line break
    truth = pd.read_parquet(res.truth)
    crm = truth[truth["source"] == "crm"]
    assert crm["source_id"].duplicated().any()
    dup_ids = crm[crm["source_id"].duplicated(keep=False)]
    assert (dup_ids.groupby("source_id")["entity_id"].nunique() == 1).all()
    assert crm["note"].fillna("").str.contains("broken_line").sum() == sum(n != 13 for n in lengths)


def test_crm_typing_variants(demo):
    names = [r[1] for r in _crm_records(demo.sources["crm"][0])[1:] if len(r) > 1]
    assert any(re.search(r"^[А-ЯЁ][а-яё]+ [А-Я]\.\s?[А-Я]\.$", n) for n in names)   # Иванов И.И.
    assert any(n.isupper() for n in names)
    assert any(n == n.lower() and n.strip() for n in names)
    phones = [r[5] for r in _crm_records(demo.sources["crm"][0])[1:] if len(r) > 5 and r[5]]
    assert any(p.startswith("+7 (") for p in phones) and any(p.startswith("8") for p in phones)


def test_web_is_utf8_comma_with_messy_leads(demo):
    rows = []
    for path in demo.sources["web"]:
        recs = _csv_records(path, ",", "utf-8")
        assert recs[0][:4] == ["lead_id", "created_at", "name", "phone"]
        rows.extend(recs[1:])
    frame = pd.DataFrame(rows, columns=recs[0])
    assert frame["created_at"].str.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+03:00").all()
    assert frame["name"].str.contains("http", na=False).any()
    assert frame["name"].str.fullmatch(r"[A-Za-z' -]+").any()            # Latin spellings
    domains = frame["email"].str.split("@").str[1].dropna()
    assert domains.isin(["gmail.con", "gmial.com", "mail.ri", "mail.ry", "yandex.ry", "gmail.ru", "mai.ru",
                         "gmai.com", "gmail.co", "yandex.ri", "mail.rru", "bk.ry", "list.ry", "inbox.ry"]).any()
    assert frame["email"].str.contains(r"[A-Z]", na=False).any()
    phones = frame["phone"][frame["phone"] != ""]
    assert phones.str.fullmatch(r"\d{10}").any() and phones.str.startswith("+7").any()


def test_loyalty_is_parquet_of_strings(demo):
    import pyarrow.parquet as pq

    schema = pq.read_schema(demo.sources["loyalty"][0])
    assert all(str(f.type) in ("string", "large_string") for f in schema)
    frame = pd.read_parquet(demo.sources["loyalty"][0])
    assert frame["card_no"].str.fullmatch(r"0\d{9}").all()
    assert frame["birth_date"].dropna().str.fullmatch(r"\d{8}").all()
    assert frame["do_not_contact"].isin(["0", "1"]).all()


def test_billing_is_bom_tab_with_excel_serials(demo):
    raw = demo.sources["billing"][0].read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    recs = _csv_records(demo.sources["billing"][0], "\t", "utf-8-sig")
    frame = pd.DataFrame(recs[1:], columns=recs[0])
    assert set(frame["type"]) == {"ФЛ", "ЮЛ", "ИП"}
    assert frame["created"].str.fullmatch(r"4\d{4}").all()          # 2016..2026 are 42xxx..46xxx
    assert frame["updated"].str.fullmatch(r"4\d{4}(\.\d+)?").all()
    assert frame["address"].str.contains(r"\b\d{6}, ", na=False).mean() > 0.8


def test_shop_orders(demo, truth):
    orders = pd.read_parquet(demo.sources["shop"][0])
    crm_ids = set(truth.loc[(truth["source"] == "crm") & truth["entity_id"].notna(), "source_id"])
    known = orders["customer_id"].isin(crm_ids)
    assert known.mean() > 0.98
    assert (~known & orders["customer_id"].notna()).any()      # ids the CRM does not know
    assert orders["customer_id"].isna().any()                  # guest orders
    assert 2.0 < len(orders) / len(crm_ids) < 4.5
    per_customer = orders.groupby("customer_id").size()
    assert per_customer.max() > 15  # a heavy tail
    assert orders["order_date"].max() < pd.Timestamp("2026-11-01")
    month = orders["order_date"].dt.month.value_counts()
    assert month[12] > month[7]
    assert (orders["amount"] > 0).all()


# ---------------------------------------------------------------- hub.yml


def test_hub_yml_follows_the_contract(demo):
    cfg = yaml.safe_load(demo.config.read_text(encoding="utf-8"))
    assert cfg["hub"] == {"out": "hub", "default_country": "RU", "as_of": "2026-11-01"}
    by_name = {s["name"]: s for s in cfg["sources"]}
    assert set(by_name) == {"crm", "web", "loyalty", "billing", "shop"}
    assert by_name["crm"]["encoding"] == "cp1251" and by_name["crm"]["delimiter"] == ";"
    assert by_name["crm"]["fields"]["phone"] == ["Телефон", "Моб. телефон"]
    assert by_name["billing"]["delimiter"] == "\t"
    assert by_name["loyalty"]["date_format"] == "%Y%m%d"
    assert by_name["shop"]["kind"] == "orders" and by_name["shop"]["customer_source"] == "crm"
    for s in cfg["sources"]:
        assert list((demo.config.parent).glob(s["path"])), s["name"]


def test_hub_yml_loads_through_the_config_loader(demo):
    config = pytest.importorskip("pipelines.config")
    hub = config.load_config(demo.config)
    assert [s.name for s in hub.sources] == ["crm", "web", "loyalty", "billing", "shop"]
    assert str(hub.hub.as_of) == "2026-11-01"


def test_mapped_columns_exist_and_some_are_left_unmapped(demo):
    cfg = yaml.safe_load(demo.config.read_text(encoding="utf-8"))
    headers = {
        "crm": _crm_records(demo.sources["crm"][0])[0],
        "web": _csv_records(demo.sources["web"][0], ",", "utf-8")[0],
        "loyalty": list(pd.read_parquet(demo.sources["loyalty"][0]).columns),
        "billing": _csv_records(demo.sources["billing"][0], "\t", "utf-8-sig")[0],
        "shop": list(pd.read_parquet(demo.sources["shop"][0]).columns),
    }
    for s in cfg["sources"]:
        cols = headers[s["name"]]
        mapped = {c for v in s["fields"].values() for c in ([v] if isinstance(v, str) else v)}
        assert mapped <= set(cols), s["name"]
        if "id" in s:
            assert s["id"] in cols
        if s.get("updated_at"):
            assert s["updated_at"] in cols
    assert {"Менеджер", "Комментарий"} <= set(headers["crm"])
    assert "utm_source" in headers["web"]


# ---------------------------------------------------------------- realism of the truth


def _inn_ok(value: str) -> bool:
    """Independent INN check (Federal Tax Service algorithm)."""
    d = [int(c) for c in value]
    if len(d) == 10:
        return d[9] == sum(x * w for x, w in zip(d, (2, 4, 10, 3, 5, 9, 4, 6, 8))) % 11 % 10
    if len(d) == 12:
        n11 = sum(x * w for x, w in zip(d, (7, 2, 4, 10, 3, 5, 9, 4, 6, 8))) % 11 % 10
        n12 = sum(x * w for x, w in zip(d, (3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8))) % 11 % 10
        return d[10] == n11 and d[11] == n12
    return False


def test_inn_checksums_valid_where_intended(demo, truth, persons):
    recs = _csv_records(demo.sources["billing"][0], "\t", "utf-8-sig")
    frame = pd.DataFrame(recs[1:], columns=recs[0])
    notes = truth[truth["source"] == "billing"].set_index("source_id")["note"].fillna("")
    frame["bad"] = frame["account"].map(notes).str.contains("invalid_inn")
    with_inn = frame[frame["inn"] != ""]
    ok = with_inn["inn"].map(_inn_ok)
    assert (ok == ~with_inn["bad"]).all()
    assert with_inn["bad"].any()
    company = with_inn[with_inn["type"] == "ЮЛ"]
    assert company["inn"].str.len().eq(10).all()
    assert with_inn[with_inn["type"] != "ЮЛ"]["inn"].str.len().eq(12).all()
    assert persons["inn"].map(_inn_ok).all()
    assert persons["inn"].is_unique
    orgs = pd.read_parquet(demo.truth.parent / "organisations.parquet")
    assert orgs["inn"].map(_inn_ok).all() and orgs["inn"].is_unique


def test_household_members_share_address_but_not_identity(persons):
    multi = persons[persons.groupby("household_id")["entity_id"].transform("size") > 1]
    assert multi["household_id"].nunique() > 0.1 * persons["household_id"].nunique()
    addr = multi.groupby("household_id")[["city", "street", "house", "flat", "postcode"]].nunique(dropna=False)
    assert (addr == 1).all().all()
    assert not multi.duplicated(["household_id", "first_name", "birth_date"]).any()
    families = multi[multi["household_type"] == "family"]
    children = families[families["role"] == "child"]
    sib = children.groupby("household_id").filter(lambda g: len(g) > 1)
    assert not sib.duplicated(["household_id", "first_name"]).any()
    # Russian children carry the father's name: siblings share the patronymic stem
    ru = sib[sib["group"] == "russian"]
    stems = ru["middle_name"].str.replace(r"(ович|евич|ич|овна|евна|ична|инична)$", "", regex=True)
    assert (stems.groupby(ru["household_id"]).nunique() == 1).mean() > 0.9
    twins = persons[persons["twin"]]
    assert len(twins) >= 2
    tw = twins.groupby(["household_id", "birth_date"])["first_name"].nunique()
    assert (tw >= 2).all()


def test_names_are_gender_consistent(persons):
    ru = persons[(persons["group"] == "russian") & persons["middle_name"].notna()]
    male = ru[ru["gender"] == "M"]
    female = ru[ru["gender"] == "F"]
    assert male["middle_name"].str.endswith("ич").mean() > 0.99
    assert female["middle_name"].str.endswith("на").mean() > 0.99
    assert female["last_name"].str.contains(r"(?:а|я|ая|яя)$").mean() > 0.75
    assert not male["last_name"].str.endswith(("ова", "ева", "ина", "ская")).any()
    west = persons[persons["group"] == "western"]
    assert west["middle_name"].isna().all()
    assert persons["middle_name"].fillna("").str.contains(r" (?:оглы|кызы|угли|кизи|уулу)$").any()


def test_name_frequencies_are_skewed(persons):
    ru = persons[persons["group"] == "russian"]
    top = ru["last_name"].str.replace(r"(а)$", "", regex=True).value_counts()
    assert top.index[:30].isin(["Иванов", "Смирнов", "Кузнецов", "Попов", "Петров", "Васильев", "Соколов",
                                 "Михайлов", "Новиков", "Федоров", "Козлов", "Волков", "Павлов", "Семенов",
                                 "Морозов", "Андреев", "Егоров", "Алексеев", "Макаров", "Степанов"]).sum() >= 3
    first = ru["first_name"].value_counts(normalize=True)
    assert first.iloc[0] > 0.03
    assert persons["group"].value_counts(normalize=True)["russian"] > 0.78
    assert persons["last_name"].isin(["Ким", "Пак", "Ли", "Цой", "Тен", "Хан"]).any()
    years = pd.to_datetime(persons["birth_date"]).dt.year
    assert years.min() >= 1940 and years.max() <= 2008


def test_namesakes_differ_in_birth_date_and_city(persons):
    key = (persons["last_name"].str.lower() + "|" + persons["first_name"].str.lower() + "|"
           + persons["middle_name"].fillna(""))
    groups = persons[key.duplicated(keep=False)].assign(key=key).groupby("key")
    assert len(groups) >= 5
    differing = [g for _, g in groups if g["birth_date"].nunique() == len(g) and g["city"].nunique() > 1]
    assert len(differing) >= 3
    assert persons.loc[key.duplicated(keep=False), "namesake"].all()
    # same last and first name, another patronymic
    two = persons.assign(k2=persons["last_name"] + "|" + persons["first_name"])
    other_middle = two[two["middle_name"].notna()].groupby("k2")["middle_name"].nunique()
    assert (other_middle > 1).sum() >= 10


def test_contacts_look_real(persons):
    mob = persons["mobile"].dropna()
    assert mob.str.fullmatch(r"79\d{9}|(?:1|3[0-9]|4[0-9])\d{9,12}").all()
    dup = persons["mobile"].notna() & persons["mobile"].duplicated(keep=False)
    assert persons.loc[dup, "shared_phone"].all()              # only family members share a mobile
    dup = persons["email"].notna() & persons["email"].duplicated(keep=False)
    assert persons.loc[dup, "shared_email"].all()
    land = persons["landline"].dropna()
    assert land.str.fullmatch(r"7[3-8]\d{9}").all()
    email = persons["email"].dropna()
    assert email.str.fullmatch(r"[a-z0-9._-]+@[a-z0-9.-]+\.[a-z]+").all()
    domains = email.str.split("@").str[1].value_counts(normalize=True)
    assert domains.index[0] in ("mail.ru", "gmail.com", "yandex.ru")
    assert persons["postcode"].str.fullmatch(r"[1-6]\d{5}").all()
    moscow = persons[persons["city"] == "Москва"]
    assert moscow["postcode"].str.startswith("1").all()


def test_messiness_scaling():
    m = Messiness()
    hot = m.scaled(2.0)
    assert hot.crm_name_typo == pytest.approx(2 * m.crm_name_typo)
    assert hot.crm_name_formats == m.crm_name_formats
    assert m.scaled(0.0).web_spam_leads == 0.0
    assert m.scaled(100).web_repeat_leads <= 0.95


def test_clean_demo_has_no_duplicates_or_junk(tmp_path):
    res = generate_demo(tmp_path, customers=500, seed=9, messiness=Messiness().scaled(0.0))
    t = pd.read_parquet(res.truth)
    tags = set(t["note"].dropna().str.split(",").explode())
    assert not tags & {"test", "spam", "junk", "duplicate", "duplicate_id", "broken_line", "invalid_inn"}


def test_twenty_thousand_customers_timing(tmp_path):
    start = time.perf_counter()
    res = generate_demo(tmp_path, customers=20_000, seed=42)
    took = time.perf_counter() - start
    print(f"\n20,000 customers: {took:.1f} s, rows {res.rows}")
    assert res.rows["crm"] > 10_000


def test_no_source_date_after_as_of(demo):
    as_of = pd.Timestamp("2026-11-01")
    crm = _crm_records(demo.sources["crm"][0])[1:]
    for r in crm:
        if len(r) == 13:
            assert pd.to_datetime(r[10], format="%d.%m.%Y %H:%M:%S") < as_of
            assert pd.to_datetime(r[9], format="%d.%m.%Y") <= pd.to_datetime(r[10][:10], format="%d.%m.%Y")
    for path in demo.sources["web"]:
        recs = _csv_records(path, ",", "utf-8")
        created = pd.to_datetime(pd.Series([r[1] for r in recs[1:]]).str[:19], format="%Y-%m-%dT%H:%M:%S")
        assert (created < as_of).all()
        assert (created.dt.year == int(path.stem.split("_")[1])).all()
    loyalty = pd.read_parquet(demo.sources["loyalty"][0])
    assert (pd.to_datetime(loyalty["updated"], format="%Y%m%d") < as_of).all()
    assert (loyalty["registered"] <= loyalty["updated"]).all()
    recs = _csv_records(demo.sources["billing"][0], "\t", "utf-8-sig")
    serials = pd.Series([float(r[recs[0].index("updated")]) for r in recs[1:]])
    assert (pd.Timestamp("1899-12-30") + pd.to_timedelta(serials, unit="D") < as_of).all()


def test_cli_entry_point(tmp_path, capsys):
    from pipelines.demo.__main__ import main

    assert main(["--customers", "200", "--out", str(tmp_path), "--seed", "4"]) == 0
    out = capsys.readouterr().out
    assert "crm" in out and "peak RSS" in out
    assert (tmp_path / "hub.yml").exists()
