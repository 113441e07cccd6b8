"""Splink wrapper: training, scoring (pairs-table contract), explain, engine neutrality.

Runs on a small synthetic population built here (couples sharing surname, flat and a
landline; people with 1-3 records across sources, with diminutives, missing fields and
e-mail typos), so the whole file stays within seconds.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import random

import pandas as pd
import pyarrow as pa
import pytest

from pipelines.cleanse.names import canonical_first_name, name_skeleton, transliterate
from pipelines.match import blocking, comparisons, features, model

MEN = ["Иван", "Сергей", "Алексей", "Дмитрий", "Андрей", "Павел", "Олег", "Николай", "Михаил",
       "Юрий", "Александр", "Евгений", "Владимир", "Игорь", "Роман"]
WOMEN = ["Анна", "Мария", "Ольга", "Елена", "Наталья", "Татьяна", "Ирина", "Светлана", "Юлия",
         "Марина", "Екатерина", "Людмила", "Галина", "Вера", "Ксения"]
SHORT = {"Александр": "Саша", "Ольга": "Оля", "Мария": "Маша", "Дмитрий": "Дима",
         "Екатерина": "Катя", "Наталья": "Наташа", "Михаил": "Миша"}
SURNAMES = ["Иванов", "Петров", "Сидоров", "Кузнецов", "Смирнов", "Попов", "Волков", "Соколов",
            "Лебедев", "Козлов", "Новиков", "Морозов", "Орлов", "Белов", "Зайцев", "Фролов",
            "Гусев", "Титов", "Комаров", "Медведев", "Жуков", "Карпов", "Носков", "Егоров"]
FATHERS = ["Иван", "Сергей", "Петр", "Николай", "Виктор", "Олег"]
STREETS = ["Ленина", "Мира", "Садовая", "Кирова", "Победы", "Гагарина"]


def _patronymic(father: str, female: bool) -> str:
    stem = {"Иван": "Иванов", "Сергей": "Сергеев", "Петр": "Петров", "Николай": "Николаев",
            "Виктор": "Викторов", "Олег": "Олегов"}[father]
    return stem + ("на" if female else "ич")


def _row(rid: str, person: dict, rng: random.Random, variant: int) -> dict:
    source = ["crm", "web", "loyalty"][variant % 3]
    first = person["first"]
    if source == "web" and first in SHORT and rng.random() < 0.7:
        first = SHORT[first]
    row = {"source": source, "source_id": rid, "record_key": f"{source}:{rid}", "qc_name": 0,
           "last_name": person["last"], "first_name": first, "gender": person["gender"],
           "gender_source": "source", "qc_gender": 0}
    if source != "web":
        row["middle_name"] = person["middle"]
        row["birth_date"] = person["dob"]
        row["qc_birth_date"] = 0
        row.update(city="г Москва", street=f"ул {person['street']}", house=person["house"],
                   flat=person["flat"], postcode="125109", qc_address=1)
    phones = [person["mobile"]]
    if source == "crm":
        phones.append(person["landline"])
    row["phones"] = phones
    row["qc_phone"] = 1
    if person["email"] and (source != "loyalty" or rng.random() < 0.5):
        email = person["email"]
        if source == "web" and rng.random() < 0.2:
            row["email_suggestion"] = email
            email = email.replace("mail.ru", "mial.ru")
        row["emails"] = [email]
        row["qc_email"] = 1 if "email_suggestion" in row else 0
    for part in ("last_name", "first_name", "middle_name"):
        if isinstance(row.get(part), str):
            row[f"{part}_lat"] = transliterate(row[part])
            if part != "middle_name":
                row[f"{part}_skel"] = name_skeleton(row[part])
    row["first_name_canonical_skel"] = name_skeleton(canonical_first_name(first, person["gender"]))
    return row


def population(seed: int = 7, households: int = 120) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Cleansed records and truth (record_key, entity_id, household_id)."""
    rng = random.Random(seed)
    rows, truth = [], []
    rid = 0
    for h in range(households):
        surname = SURNAMES[h % len(SURNAMES)]
        street, house, flat = STREETS[h % len(STREETS)], str(1 + h % 40), str(1 + h)
        landline = f"+7495{1000000 + h:07d}"
        members = [("M", rng.choice(MEN)), ("F", rng.choice(WOMEN))]
        for k, (gender, first) in enumerate(members):
            pid = f"P{h:03d}{k}"
            person = {
                "first": first, "gender": gender,
                "last": surname + ("а" if gender == "F" else ""),
                "middle": _patronymic(rng.choice(FATHERS), gender == "F"),
                "dob": dt.date(1950 + rng.randrange(50), 1 + rng.randrange(12), 1 + rng.randrange(28)),
                "mobile": f"+7916{rng.randrange(10**7):07d}",
                "landline": landline, "street": street, "house": house, "flat": flat,
                "email": (f"{transliterate(first)}.{transliterate(surname)}{rng.randrange(100)}@mail.ru"
                          if rng.random() < 0.7 else None),
            }
            for variant in range(1 + rng.randrange(3)):
                rid += 1
                rows.append(_row(f"{rid:05d}", person, rng, variant))
                truth.append({"record_key": rows[-1]["record_key"], "entity_id": pid,
                              "household_id": f"H{h:03d}"})
    return pd.DataFrame(rows), pd.DataFrame(truth)


@pytest.fixture(scope="module")
def data():
    cleansed, truth = population()
    return features.match_frame(cleansed), truth


@pytest.fixture(scope="module")
def trained(data):
    mf, _ = data
    return model.train_with_report(mf, max_pairs=None, seed=42)


@pytest.fixture(scope="module")
def pairs(data, trained):
    mf, _ = data
    return model.score_with_report(mf, trained[0], threshold=0.0)


def test_model_is_splink_json(trained):
    m, report = trained
    json.dumps(m)
    assert m["link_type"] == "dedupe_only" and m["sql_dialect"] == "duckdb"
    assert 0 < m["probability_two_random_records_match"] < 1
    names = [c["output_column_name"] for c in m["comparisons"]]
    assert names == comparisons.comparison_names()
    for comp in m["comparisons"]:
        for level in comp["comparison_levels"]:
            if not level.get("is_null_level"):
                assert 0 < level["m_probability"] <= 1 and 0 < level["u_probability"] <= 1
    assert report.u_max_pairs == model.U_MIN_PAIRS and report.records > 0
    assert {"guard", "prior", "u_sampling", "em_email", "em_dob"} <= set(report.seconds)
    assert isinstance(report.warnings, list) and isinstance(report.fallbacks, list)


def test_u_sample_sized_to_the_data():
    assert model._u_max_pairs(1_000, None) == model.U_MIN_PAIRS
    assert model._u_max_pairs(1_000_000, None) == 5_000_000
    assert model._u_max_pairs(10_000_000, None) == model.U_MAX_PAIRS
    assert model._u_max_pairs(10, 1234) == 1234


def test_pairs_table_contract(pairs, trained):
    table, report = pairs
    assert table.schema == model.pairs_schema()
    assert report.candidate_pairs >= table.num_rows > 0
    df = table.to_pandas()
    assert (df.record_key_l < df.record_key_r).all()
    assert not df.duplicated(["record_key_l", "record_key_r"]).any()
    assert set(df.match_key) <= set(blocking.rule_names())
    prior = trained[0]["probability_two_random_records_match"]
    mw_cols = [f"mw_{n}" for n in comparisons.comparison_names()]
    total = math.log2(prior / (1 - prior)) + df[mw_cols].sum(axis=1)
    assert (total - df.match_weight).abs().max() < 1e-6
    for n in comparisons.comparison_names():
        labels = comparisons.level_labels(n)
        assert set(df[f"gamma_{n}"].unique()) <= set(labels)
        assert (df.loc[df[f"gamma_{n}"] == -1, f"mw_{n}"] == 0).all()


def test_threshold_filters(data, trained):
    mf, _ = data
    high = model.score(mf, trained[0], threshold=0.9)
    assert pa.compute.min(high.column("match_probability")).as_py() >= 0.9


def test_duplicates_match_and_spouses_do_not(pairs, data):
    df = pairs[0].to_pandas()
    truth = data[1].set_index("record_key")
    df["same"] = truth.entity_id.reindex(df.record_key_l).values == truth.entity_id.reindex(df.record_key_r).values
    df["household"] = (truth.household_id.reindex(df.record_key_l).values
                       == truth.household_id.reindex(df.record_key_r).values) & ~df.same
    assert df.household.sum() > 50
    assert (df.loc[df.household, "match_probability"] < 0.5).mean() > 0.95
    assert (df.loc[df.same, "match_probability"] > 0.9).mean() > 0.9


def test_explain_adds_up_to_the_score(data, trained, pairs):
    mf, _ = data
    df = pairs[0].to_pandas().sort_values("match_probability").reset_index(drop=True)
    row = df.iloc[len(df) // 2]
    two = mf[mf.unique_id.isin([row.record_key_l, row.record_key_r])]
    out = model.explain(two, trained[0], tf_frame=mf)
    assert list(out.columns) == ["comparison", "gamma", "level", "left", "right", "mw"]
    assert list(out.comparison) == ["prior"] + comparisons.comparison_names()
    assert abs(out.mw.sum() - row.match_weight) < 1e-6
    for n in comparisons.comparison_names():
        assert out.set_index("comparison").loc[n, "gamma"] == row[f"gamma_{n}"]
    plain = model.explain(two, trained[0])
    assert len(plain) == len(out)
    with pytest.raises(ValueError):
        model.explain(mf.head(3), trained[0])


def test_model_reloads_and_scores_the_same(data, trained, pairs):
    mf, _ = data
    again = model.score(mf, json.loads(json.dumps(trained[0])), threshold=0.0)
    a = pairs[0].to_pandas().sort_values(["record_key_l", "record_key_r"]).reset_index(drop=True)
    b = again.to_pandas().sort_values(["record_key_l", "record_key_r"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b)


def test_settings_for_other_engines_keep_parameters(trained):
    m = trained[0]
    spark = model.settings_for_engine(m, "spark")
    assert spark["sql_dialect"] == "spark"
    assert spark["probability_two_random_records_match"] == m["probability_two_random_records_match"]
    for new, old in zip(spark["comparisons"], m["comparisons"]):
        for a, b in zip(new["comparison_levels"], old["comparison_levels"]):
            assert a.get("m_probability") == b.get("m_probability")
            assert a.get("u_probability") == b.get("u_probability")
    broken = json.loads(json.dumps(m))
    broken["comparisons"][0]["comparison_levels"].pop()
    with pytest.raises(ValueError):
        model.settings_for_engine(broken, "duckdb")


def test_unknown_engine_is_refused(data):
    with pytest.raises(ValueError):
        model.train(data[0], max_pairs=None, seed=1, engine="sqlite")


def test_input_frame_not_modified(data, trained):
    mf, _ = data
    before = mf.copy(deep=True)
    model.score(mf.head(40), trained[0], threshold=0.5)
    pd.testing.assert_frame_equal(mf, before)


def test_levels_recomputed_for_returned_pairs_equal_splinks_own(data, trained, pairs):
    """score() asks Splink for weights only and recomputes the levels of the returned pairs;
    they must equal what Splink reports when it keeps the matching columns."""
    from splink import Linker

    mf, _ = data
    keyed, _ = blocking.apply_guard(mf)
    settings = model.settings_for_engine(trained[0], "duckdb")
    settings["retain_matching_columns"] = True
    db_api = model._db_api("duckdb")
    try:
        linker = Linker(db_api.register(keyed), settings, log_level=None)
        ref = linker.inference.predict(threshold_match_probability=0.0).as_pandas_dataframe()
    finally:
        model._close(db_api)
    ours = pairs[0].to_pandas().set_index(["record_key_l", "record_key_r"]).sort_index()
    ref = ref.rename(columns={"unique_id_l": "record_key_l", "unique_id_r": "record_key_r"})
    ref = ref.set_index(["record_key_l", "record_key_r"]).sort_index()
    assert ours.index.equals(ref.index)
    for n in comparisons.comparison_names():
        assert (ours[f"gamma_{n}"].astype(int) == ref[f"gamma_{n}"].astype(int)).all(), n
    assert (ours.match_weight - ref.match_weight).abs().max() < 1e-9


def test_training_survives_a_missing_em_block():
    """Sources without e-mails (FEBRL): the empty EM block is reported and skipped, fallback
    blocks train what is left, scoring still separates people."""
    cleansed, truth = population(seed=3, households=50)
    mf = features.match_frame(cleansed.drop(columns=["emails", "email_suggestion", "qc_email"]))
    m, report = model.train_with_report(mf, max_pairs=100_000, seed=1)
    assert any("skipped" in w for w in report.warnings)
    assert [c["output_column_name"] for c in m["comparisons"]] == comparisons.comparison_names()
    assert 0 < m["probability_two_random_records_match"] < 0.5
    df = model.score(mf, m, threshold=0.0).to_pandas()
    t = truth.set_index("record_key")
    same = t.entity_id.reindex(df.record_key_l).values == t.entity_id.reindex(df.record_key_r).values
    assert df.match_probability[same].median() > 0.8
    assert df.match_probability[~same].median() < 0.1


def test_tiny_input_trains_with_defaults_and_says_so():
    cleansed, _ = population(seed=5, households=2)
    mf = features.match_frame(cleansed.head(3))
    m, report = model.train_with_report(mf, max_pairs=100_000, seed=1)
    assert report.warnings and 0 < m["probability_two_random_records_match"] < 1
    empty = model.score(mf.head(0), m, threshold=0.5)
    assert empty.num_rows == 0 and empty.schema == model.pairs_schema()


# ---- prior: recall of the deterministic rules estimated from the trained model ---------------

class _Level:
    def __init__(self, label: str, m: float | str | None):
        self.label_for_charts, self._m_probability = label, m


class _Comp:
    def __init__(self, name: str, levels: dict[str, float | str | None]):
        self.output_column_name = name
        self._comparison_levels_excluding_null = [_Level(k, v) for k, v in levels.items()]


class _Linker:
    def __init__(self, comps: list[_Comp]):
        self._settings_obj = type("S", (), {"comparisons": comps})()


def _keyed(n: int, filled: dict[str, int]) -> pa.Table:
    cols = ("national_id", "personal_tax_id", "email", "first_name_canon", "dob", "last_name_stem")
    return pa.table({c: pa.array(["x"] * filled.get(c, 0) + [None] * (n - filled.get(c, 0)), pa.string())
                     for c in cols})


def _fs_linker(m_email: float | str | None = 0.9) -> _Linker:
    return _Linker([
        _Comp("national_id", {"same national id": 0.95}),
        _Comp("personal_tax_id", {"same personal tax id": 0.95}),
        _Comp("email", {"same e-mail": m_email}),
        _Comp("first_name", {"same first name": 0.8, "same first name, other spelling or script": 0.05,
                             "diminutive of the same name": 0.05}),
        _Comp("dob", {"same birth date": 0.98}),
        _Comp("surname_contact", {label: 0.15 for label in (
            "same surname, same phone or flat", "same surname, same building",
            "related surname (other gender form or similar), same phone or flat",
            "same surname, contacts unknown", "same surname, contacts differ",
            "related surname, no shared contact")}),
    ])


@pytest.mark.parametrize(("filled", "m_email", "expected"), [
    # every record holds a national id (FEBRL's social security number): ~0.95
    ({"national_id": 100}, 0.9, 0.95),
    # half hold an e-mail, all a first name: 0.5^2 * 0.9 * 0.9
    ({"email": 50, "first_name_canon": 100}, 0.9, 0.2025),
    # e-mail rule and birth-date rule together, as independent
    ({"email": 50, "first_name_canon": 100, "dob": 50, "last_name_stem": 100}, 0.9,
     1 - (1 - 0.2025) * (1 - 0.25 * 0.98 * 0.9 * 0.9)),
    # no e-mail at all: its (untrained) m does not matter
    ({"dob": 100, "first_name_canon": 100, "last_name_stem": 100}, "level not observed", 0.98 * 0.9 * 0.9),
    # a needed m untrained: no estimate
    ({"email": 50, "first_name_canon": 100}, "level not observed", None),
])
def test_prior_rules_recall_from_fill_rates_and_m(filled, m_email, expected):
    got = model._prior_rules_recall(_fs_linker(m_email), _keyed(100, filled))
    if expected is None:
        assert got is None
    else:
        assert got == pytest.approx(expected, rel=1e-6)


def test_prior_rescaled_to_the_estimated_recall():
    linker = _fs_linker()
    linker._settings_obj._probability_two_random_records_match = 1e-4
    report = model.TrainingReport()
    model._rescale_prior(linker, _keyed(100, {"national_id": 100}), report)
    assert report.prior_rules_recall == pytest.approx(0.95)
    assert linker._settings_obj._probability_two_random_records_match == pytest.approx(1e-4 * 0.6 / 0.95)
    # the one-duplicate-per-record fallback is not a rule count: left alone
    linker._settings_obj._probability_two_random_records_match = 1e-3
    report = model.TrainingReport(fallbacks=["prior: deterministic rules gave 0; set to 0.001"])
    model._rescale_prior(linker, _keyed(100, {"national_id": 100}), report)
    assert linker._settings_obj._probability_two_random_records_match == 1e-3
