"""Survivorship: each rule and tie-breaker as a table of hand-written cases, plus invariants."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipelines.config import DEFAULT_SURVIVORSHIP, SurvivorshipSettings
from pipelines.golden.survivorship import MEMBER_COLUMNS, build_golden
from pipelines.schema import CLEANSED_CUSTOMERS, GOLDEN_ATTRIBUTES, GOLDEN_CUSTOMERS, LINEAGE

AS_OF = dt.date(2026, 11, 1)
TRUST = {"crm": 0.9, "web": 0.4, "shop": 0.6, "bill": 0.9}
T = dt.datetime


def member(golden_id: str, key: str, **values: Any) -> dict[str, Any]:
    source, source_id = key.split(":")
    row = {"golden_id": golden_id, "record_key": key, "source": source, "source_id": source_id}
    row.update(values)
    return row


def table(rows: list[dict[str, Any]]) -> pa.Table:
    fields = [pa.field("golden_id", pa.string())] + [CLEANSED_CUSTOMERS.field(c) for c in MEMBER_COLUMNS]
    return pa.Table.from_pylist(rows, schema=pa.schema(fields))


def run(rows: list[dict[str, Any]], rules: dict[str, Any] | None = None, **decay: Any,
        ) -> tuple[dict[str, dict[str, Any]], list[dict[str, Any]]]:
    conf = SurvivorshipSettings(rules=rules or {}, **({"decay": decay} if decay else {}))
    golden, lineage = build_golden(table(rows), trust=TRUST, settings=conf, as_of=AS_OF)
    return {r["golden_id"]: r for r in golden.to_pylist()}, lineage.to_pylist()


def why(lineage: list[dict[str, Any]], golden_id: str, attribute: str) -> tuple[str, str]:
    """(record_key, rule) of a scalar attribute's lineage row."""
    rows = [r for r in lineage if r["golden_id"] == golden_id and r["attribute"] == attribute]
    assert len(rows) == 1, rows
    return rows[0]["record_key"], rows[0]["rule"]


# ---- one rule at a time: (case, members, rules, attribute, expected value, expected record, rule) ----
D = dt.date
CASES: list[tuple[str, list[dict[str, Any]], dict[str, Any], str, Any, str, str]] = [
    ("validated beats a more trusted suspicious value",
     [member("G1", "crm:1", birth_date=D(1900, 1, 1), qc_birth_date=2),
      member("G1", "web:1", birth_date=D(1985, 3, 12), qc_birth_date=0)],
     {"birth_date": ["validated", "trust_decay"]}, "birth_date", D(1985, 3, 12), "web:1", "validated"),
    ("a corrected value (qc 1) counts as validated, then trust decides",
     [member("G1", "crm:1", birth_date=D(1985, 3, 12), qc_birth_date=1, updated_at=T(2026, 10, 1)),
      member("G1", "web:1", birth_date=D(1985, 12, 3), qc_birth_date=0, updated_at=T(2026, 10, 1))],
     {"birth_date": ["validated", "trust_decay"]}, "birth_date", D(1985, 3, 12), "crm:1", "trust_decay"),
    ("qc 3 never survives, even alone",
     [member("G1", "crm:1", gender="M", qc_gender=3)],
     {}, "gender", None, "", ""),
    ("trust decays with age: a fresh web record beats a 3-year-old CRM record",
     [member("G1", "crm:1", gender="F", qc_gender=0, updated_at=T(2023, 10, 1)),
      member("G1", "web:1", gender="M", qc_gender=0, updated_at=T(2026, 10, 20))],
     {"gender": ["trust_decay"]}, "gender", "M", "web:1", "trust_decay"),
    ("trust decay: of two fresh records the more trusted source wins",
     [member("G1", "crm:1", gender="F", qc_gender=0, updated_at=T(2026, 10, 1)),
      member("G1", "web:1", gender="M", qc_gender=0, updated_at=T(2026, 10, 20))],
     {"gender": ["trust_decay"]}, "gender", "F", "crm:1", "trust_decay"),
    ("an undated record counts as old: the dated web record wins on decayed trust",
     [member("G1", "crm:1", gender="F", qc_gender=0),
      member("G1", "web:1", gender="M", qc_gender=0, updated_at=T(2026, 9, 1))],
     {"gender": ["trust_decay"]}, "gender", "M", "web:1", "trust_decay"),
    ("most recent uses updated_at, else created_at",
     [member("G1", "crm:1", company_name="ООО Ромашка", qc_company=0, updated_at=T(2025, 1, 1)),
      member("G1", "shop:1", company_name="ООО Лютик", qc_company=0, created_at=T(2026, 2, 1))],
     {"company": ["most_recent"]}, "company_name", "ООО Лютик", "shop:1", "most_recent"),
    ("most frequent: two records agree against a more trusted one",
     [member("G1", "crm:1", birth_date=D(1985, 3, 12), qc_birth_date=0),
      member("G1", "web:1", birth_date=D(1985, 3, 21), qc_birth_date=0),
      member("G1", "shop:1", birth_date=D(1985, 3, 21), qc_birth_date=0)],
     {"birth_date": ["most_frequent", "trust_decay"]}, "birth_date", D(1985, 3, 21), "shop:1", "most_frequent"),
    ("most complete: the address with a flat beats the one without",
     [member("G1", "crm:1", city="г Москва", street="ул Лесная", house="4", qc_address=0,
             updated_at=T(2026, 10, 1)),
      member("G1", "web:1", city="г Москва", street="ул Лесная", house="4", flat="12", postcode="127055",
             qc_address=1, updated_at=T(2020, 1, 1))],
     {"address": ["most_complete", "most_recent"]}, "flat", "12", "web:1", "most_complete"),
    ("ties: equal criteria fall to source trust",
     [member("G1", "shop:1", tax_id="772801563204", qc_tax_id=0),
      member("G1", "crm:1", tax_id="500100732259", qc_tax_id=0)],
     {"tax_id": ["validated"]}, "tax_id", "500100732259", "crm:1", "trust"),
    ("ties: equal trust falls to recency",
     [member("G1", "crm:1", tax_id="772801563204", qc_tax_id=0, updated_at=T(2024, 1, 1)),
      member("G1", "bill:1", tax_id="500100732259", qc_tax_id=0, updated_at=T(2025, 1, 1))],
     {"tax_id": ["validated"]}, "tax_id", "500100732259", "bill:1", "recency"),
    ("ties: everything equal falls to the smallest record key",
     [member("G1", "crm:2", tax_id="772801563204", qc_tax_id=0),
      member("G1", "crm:1", tax_id="500100732259", qc_tax_id=0)],
     {"tax_id": ["validated"]}, "tax_id", "500100732259", "crm:1", "record_key"),
    ("every candidate carries the winner's value: agreed",
     [member("G1", "crm:1", gender="F", qc_gender=0), member("G1", "web:1", gender="F", qc_gender=0)],
     {}, "gender", "F", "crm:1", "agreed"),
    ("a single candidate",
     [member("G1", "web:1", gender="F", qc_gender=0), member("G1", "crm:1")],
     {}, "gender", "F", "web:1", "only_candidate"),
]


@pytest.mark.parametrize("case, rows, rules, attribute, value, record, rule", CASES, ids=[c[0] for c in CASES])
def test_rule_table(case: str, rows: list, rules: dict, attribute: str, value: Any, record: str, rule: str) -> None:
    golden, lineage = run(rows, rules)
    assert golden["G1"][attribute] == value
    if value is None:
        assert not [r for r in lineage if r["attribute"] == attribute]
    else:
        assert why(lineage, "G1", attribute) == (record, rule)


def test_address_parts_survive_together() -> None:
    """Never a street from one record with a city from another, even when the winner lacks a part."""
    rows = [
        member("G1", "crm:1", postcode="170144", city="г Тверь", street="ул Кирова", house="37", qc_address=0,
               updated_at=T(2026, 10, 1)),
        member("G1", "web:1", postcode="127055", region="г Москва", city="г Москва", street="ул Лесная", house="4",
               flat="12", qc_address=0, updated_at=T(2019, 1, 1)),
    ]
    golden, lineage = run(rows, {"address": ["most_recent"]})
    g = golden["G1"]
    assert (g["postcode"], g["city"], g["street"], g["house"], g["flat"], g["region"]) == (
        "170144", "г Тверь", "ул Кирова", "37", None, None)
    assert {r["record_key"] for r in lineage if r["attribute"] in ("postcode", "city", "street", "house")} == {"crm:1"}


def test_name_parts_survive_together() -> None:
    rows = [
        member("G1", "crm:1", last_name="Иванова", first_name="Мария", qc_name=0, updated_at=T(2026, 1, 1)),
        member("G1", "web:1", last_name="Петрова", first_name="Мария", middle_name="Ивановна", qc_name=0,
               updated_at=T(2026, 10, 1)),
    ]
    golden, _ = run(rows, {"name": ["most_recent"]})
    assert (golden["G1"]["last_name"], golden["G1"]["middle_name"]) == ("Петрова", "Ивановна")
    golden, _ = run(rows, {"name": ["trust_decay"]})
    assert (golden["G1"]["last_name"], golden["G1"]["middle_name"]) == ("Иванова", None)


def test_phones_and_emails_aggregate_primary_first() -> None:
    rows = [
        member("G1", "crm:1", phones=["+79161112233", "+74951234567"], qc_phone=0, emails=["a@x.ru"], qc_email=0),
        member("G1", "web:1", phones=["+79035554433"], qc_phone=2, emails=["b@y.ru"], qc_email=0),
        member("G1", "shop:1", phones=["+74951234567"], qc_phone=1, emails=None),
        member("G1", "bill:1", phones=["+79999999999"], qc_phone=3),  # invalid: never a candidate
    ]
    golden, lineage = run(rows)
    g = golden["G1"]
    # validated first, then the number two records hold, then trust
    assert g["phones"] == ["+74951234567", "+79161112233", "+79035554433"]
    assert g["phone"] == "+74951234567"
    assert why(lineage, "G1", "phone") == ("crm:1", "most_frequent")
    assert g["emails"] == ["a@x.ru", "b@y.ru"] and g["email"] == "a@x.ru"
    # both undated: decayed to the floor alike, so the source's own trust breaks the tie
    assert why(lineage, "G1", "email") == ("crm:1", "trust")
    elements = sorted((r["value"], r["record_key"], r["rule"]) for r in lineage if r["attribute"] == "phones")
    assert elements == [("+74951234567", "crm:1", "aggregate"), ("+79035554433", "web:1", "aggregate"),
                        ("+79161112233", "crm:1", "aggregate")]


CONSENT_CASES = [
    # (members' (consent_pd, consent_marketing, do_not_contact), expected golden, marketing record, rule)
    ([(True, True, False), (True, False, None)], (True, False, False), "web:1", "opt_out_wins"),
    ([(True, True, False), (True, True, None)], (True, True, False), "web:1", "opt_in"),
    ([(True, True, False), (None, None, True)], (True, False, True), "web:1", "do_not_contact_wins"),
    ([(False, True, None), (True, True, None)], (False, True, None), "web:1", "opt_in"),
    ([(None, None, None), (None, None, None)], (None, None, None), None, None),
    ([(None, True, None), (None, None, None)], (None, True, None), "crm:1", "opt_in"),
]


@pytest.mark.parametrize("flags, expected, record, rule", CONSENT_CASES)
def test_opt_out_and_do_not_contact_win(flags: list, expected: tuple, record: str | None, rule: str | None) -> None:
    """Whatever the source trust: an opt-out or black-list entry anywhere wins (web is the
    least trusted source and the newest record here)."""
    rows = [member("G1", key, consent_pd=pd_, consent_marketing=mk, do_not_contact=dnc,
                   updated_at=T(2026, 1, 1) if key == "crm:1" else T(2026, 6, 1))
            for key, (pd_, mk, dnc) in zip(["crm:1", "web:1"], flags)]
    golden, lineage = run(rows)
    g = golden["G1"]
    assert (g["consent_pd"], g["consent_marketing"], g["do_not_contact"]) == expected
    marketing = [r for r in lineage if r["attribute"] == "consent_marketing"]
    assert [(r["record_key"], r["rule"]) for r in marketing] == ([(record, rule)] if record else [])


def test_membership_columns_and_quality_score() -> None:
    rows = [
        member("G1", "crm:1", last_name="Иванов", first_name="Иван", qc_name=0, phones=["+79161112233"], qc_phone=0,
               birth_date=D(1980, 1, 2), qc_birth_date=2, created_at=T(2020, 5, 1), updated_at=T(2024, 1, 1)),
        member("G1", "web:1", emails=["i@x.ru"], qc_email=0, created_at=T(2019, 1, 1)),
        member("G1", "web:2", emails=["i@x.ru"], qc_email=0, updated_at=T(2026, 2, 1)),
        member("G2", "shop:7"),
    ]
    golden, _ = run(rows)
    g = golden["G1"]
    assert (g["record_count"], g["source_count"], g["sources"]) == (3, 2, ["crm", "web"])
    assert (g["first_seen"], g["last_seen"]) == (T(2019, 1, 1), T(2026, 2, 1))
    # name 25 + phones 20 + e-mails 15 + birth date 15 / 2 (suspicious) = 67.5 -> 68
    assert g["quality_score"] == 68
    assert golden["G2"]["quality_score"] == 0 and golden["G2"]["sources"] == ["shop"]


def test_config_defaults_cover_every_group() -> None:
    conf = SurvivorshipSettings()
    assert all(conf.rules_for(g) == tuple(r) for g, r in DEFAULT_SURVIVORSHIP.items())


# ---- invariants -------------------------------------------------------------------------------

NAMES = [("Иванов", "Иван", "Иванович"), ("Petrova", "Anna", None), (None, "Олег", None)]
member_st = st.fixed_dictionaries({
    "golden_id": st.sampled_from(["G1", "G2", "G3", "G4"]),
    "source": st.sampled_from(["crm", "web", "shop", "other"]),
    "name": st.one_of(st.none(), st.sampled_from(NAMES)),
    "qc_name": st.sampled_from([None, 0, 1, 2, 3]),
    "gender": st.sampled_from([None, "M", "F"]), "qc_gender": st.sampled_from([None, 0, 2, 3]),
    "birth_date": st.sampled_from([None, D(1980, 1, 2), D(1991, 7, 7)]),
    "qc_birth_date": st.sampled_from([None, 0, 1, 2]),
    "phones": st.one_of(st.none(), st.lists(st.sampled_from(["+79161112233", "+74951234567", "+37529315"]),
                                            max_size=3)),
    "qc_phone": st.sampled_from([None, 0, 2, 3]),
    "city": st.sampled_from([None, "г Москва", "Tver"]), "house": st.sampled_from([None, "1", "2"]),
    "qc_address": st.sampled_from([None, 0, 2]),
    "consent_marketing": st.sampled_from([None, True, False]), "do_not_contact": st.sampled_from([None, True, False]),
    "updated_at": st.sampled_from([None, T(2020, 1, 1), T(2026, 10, 1)]),
})


def _rows(draws: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for k, d in enumerate(draws):
        d = dict(d)
        name = d.pop("name")
        if name is not None:
            d["last_name"], d["first_name"], d["middle_name"] = name
        out.append(member(d.pop("golden_id"), f"{d.pop('source')}:{k:03d}", **d))
    return out


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(member_st, min_size=1, max_size=12), st.sampled_from(list(DEFAULT_SURVIVORSHIP["name"]) +
                                                                      ["most_recent", "most_frequent"]),
       st.randoms(use_true_random=False))
def test_invariants(draws: list[dict[str, Any]], rule: str, rnd: random.Random) -> None:
    rows = _rows(draws)
    rules = {g: [rule] for g in DEFAULT_SURVIVORSHIP}
    golden_t, lineage_t = build_golden(table(rows), trust=TRUST, settings=SurvivorshipSettings(rules=rules),
                                       as_of=AS_OF)
    assert golden_t.schema == GOLDEN_CUSTOMERS and lineage_t.schema == LINEAGE
    golden = golden_t.to_pylist()
    lineage = lineage_t.to_pylist()
    # exactly one golden row per golden id of the members, sorted
    assert [g["golden_id"] for g in golden] == sorted({r["golden_id"] for r in rows})
    by_key = {r["record_key"]: r for r in rows}
    covered = {(r["golden_id"], r["attribute"], r["value"]) for r in lineage}
    for g in golden:
        for attribute in GOLDEN_ATTRIBUTES:
            value = g[attribute]
            values = value if isinstance(value, list) else [value]
            for v in values:
                if v is None:
                    continue
                # lineage covers every non-null golden attribute ...
                text = str(v).lower() if isinstance(v, bool) else (v.isoformat() if isinstance(v, dt.date) else v)
                assert (g["golden_id"], attribute, text) in covered, (attribute, v)
    for r in lineage:
        # ... and points at a member of that golden id
        assert by_key[r["record_key"]]["golden_id"] == r["golden_id"]
    # nothing survives from a qc 3 value
    for g in golden:
        members = [r for r in rows if r["golden_id"] == g["golden_id"]]
        if g["gender"] is not None:
            assert any(m.get("gender") == g["gender"] and m.get("qc_gender") != 3 for m in members)
        # an opt-out or do-not-contact anywhere wins
        if any(m.get("consent_marketing") is False or m.get("do_not_contact") for m in members):
            assert g["consent_marketing"] is False
        if any(m.get("do_not_contact") for m in members):
            assert g["do_not_contact"] is True
    # the row order of the input does not matter
    shuffled = list(rows)
    rnd.shuffle(shuffled)
    again = build_golden(table(shuffled), trust=TRUST, settings=SurvivorshipSettings(rules=rules), as_of=AS_OF)
    assert again[0].equals(golden_t) and again[1].equals(lineage_t)


def test_empty_members() -> None:
    golden, lineage = build_golden(table([]), trust=TRUST, settings=SurvivorshipSettings(), as_of=AS_OF)
    assert golden.num_rows == 0 and lineage.num_rows == 0
    assert golden.schema == GOLDEN_CUSTOMERS and lineage.schema == LINEAGE


def test_unmapped_source_columns_are_kept_in_the_lineage() -> None:
    rows = [member("G1", "web:1", extra='{"utm_source": "yandex", "message": "", "page": "/sale"}'),
            member("G1", "crm:1", extra='{"Менеджер": "Оля"}'),
            member("G2", "crm:2", extra=None), member("G3", "crm:3", extra="not json")]
    _, lineage = run(rows)
    extras = sorted((r["golden_id"], r["attribute"], r["value"], r["record_key"], r["rule"])
                    for r in lineage if r["attribute"].startswith("extra."))
    assert extras == [("G1", "extra.page", "/sale", "web:1", "source_extra"),
                      ("G1", "extra.utm_source", "yandex", "web:1", "source_extra"),
                      ("G1", "extra.Менеджер", "Оля", "crm:1", "source_extra")]
