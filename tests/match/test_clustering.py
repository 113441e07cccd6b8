"""Constrained clustering: conflict rules (table), scenarios, invariants (hypothesis)."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipelines.match.clustering import (
    ASSIGNMENT_COLUMNS, VETO_COLUMNS, birth_dates_conflict, cluster, date_key,
    names_compatible, pair_conflicts, record_conflicts, share_identifier,
)

D = dt.date


def R(first: str | None = None, last: str | None = None, middle: str | None = None, *,
      bd: Any = None, g: str | None = None, nid: str | None = None, nid_type: str | None = None,
      tax: str | None = None, idk: str | None = None, bd_any: Any = None) -> dict[str, Any]:
    return {"first_name_key": first, "last_name_key": last, "middle_name_key": middle,
            "birth_date": bd, "gender": g, "national_id": nid, "national_id_type": nid_type,
            "personal_tax_id": tax, "id_key": idk, "birth_date_any": bd_any}


# (left, right, expected conflict kinds) -- written from the domain, not from the code
CONFLICT_CASES: list[tuple[dict, dict, tuple[str, ...]]] = [
    # birth dates
    (R("ivan", "ivanov", bd=D(1985, 3, 12)), R("ivan", "ivanov", bd=D(1985, 12, 3)), ()),  # dd/mm swap
    (R("ivan", "ivanov", bd=D(1985, 3, 12)), R("ivan", "ivanov", bd=D(1985, 3, 12)), ()),
    (R("ivan", "ivanov", bd=D(1985, 3, 12)), R("ivan", "ivanov", bd=D(1987, 6, 1)), ("birth_date",)),
    (R("ivan", "ivanov", bd=D(1985, 3, 12)), R("ivan", "ivanov"), ()),  # one unknown
    (R("olga", "petrova", bd=D(1985, 3, 25)), R("olga", "petrova", bd=D(1985, 3, 26)), ("birth_date",)),
    # adjacent digits of the year swapped while typing: the same date
    (R("olga", "petrova", bd=D(1986, 9, 4)), R("olga", "petrova", bd=D(1968, 9, 4)), ()),
    (R("emma", "larsen", bd=D(1979, 11, 2)), R("emma", "larsen", bd=D(1997, 11, 2)), ()),
    (R("anna", "kim", bd=D(2001, 3, 5)), R("anna", "kim", bd=D(2010, 3, 5)), ()),
    (R("iurii", "gagarin", bd=D(1986, 4, 12)), R("iurii", "gagarin", bd=D(1968, 12, 4)), ()),  # both slips
    (R("olga", "petrova", bd=D(1986, 9, 4)), R("olga", "petrova", bd=D(1968, 9, 5)), ("birth_date",)),
    (R("olga", "petrova", bd=D(1986, 9, 4)), R("olga", "petrova", bd=D(1989, 9, 4)), ("birth_date",)),
    (R("olga", "petrova", bd=D(1986, 9, 4)), R("olga", "petrova", bd=D(1968, 4, 8)), ("birth_date",)),
    (R("petr", "sidorov", bd=D(1955, 1, 1)), R("petr", "sidorov", bd=D(1955, 1, 1)), ()),  # 55 / 55
    # a shared identifier (same document, same personal INN) waives birth date and gender
    (R("ivan", "ivanov", bd=D(1985, 3, 12), g="M", nid="4509123456", nid_type="passport_ru",
       idk="passport_ru:4509123456"),
     R("ivan", "ivanov", bd=D(1985, 3, 21), g="F", nid="4509123456", nid_type="passport_ru",
       idk="passport_ru:4509123456"), ()),
    (R("jack", "webb", bd=D(1934, 2, 3), idk="other:1804974"),
     R("jack", "webb", bd=D(1943, 7, 3), idk="other:1804974"), ()),  # FEBRL-style social security no.
    (R("chulpan", "hamatova", g="F", tax="165004785313"), R("chulpan", "hamatova", g="M", tax="165004785313"), ()),
    (R("jack", "webb", bd=D(1934, 2, 3), idk="other:1804974"),
     R("jack", "webb", bd=D(1943, 7, 3), idk="other:1804975"), ("birth_date",)),  # different ids: no waiver
    (R("jack", "webb", bd=D(1934, 2, 3), idk="other:1804974"),
     R("jack", "webb", bd=D(1943, 7, 3), idk="snils:1804974"), ("birth_date",)),  # other id type
    (R("ivan", "ivanov", bd=D(1985, 3, 12), tax="7707083893"),
     R("ivan", "ivanov", bd=D(1975, 3, 12), tax="7707083893"), ("birth_date",)),  # employer's INN
    # names are waived only with the shared identifier AND the same birth date
    (R("maria", "ivanova", bd=D(1960, 1, 1), idk="passport_ru:4509123456"),
     R("daria", "ivanova", bd=D(1990, 1, 1), idk="passport_ru:4509123456"),
     ("first_name",)),  # a parent's passport on a child's record: the dates are waived, not the names
    (R("maria", "ivanova", idk="passport_ru:4509123456"),
     R("daria", "ivanova", idk="passport_ru:4509123456"), ("first_name",)),  # no dates to agree
    (R("kiera", "everett", bd=D(1937, 10, 21), idk="other:2315324"),
     R("kira", "everett", bd=D(1937, 10, 21), idk="other:2315324"), ()),  # typo in a short name
    (R("harrison", "capurso", bd=D(1951, 2, 3), idk="other:4086030"),
     R("ruby", "capurso", bd=D(1951, 3, 2), idk="other:4086030"), ()),
    (R("elena", "sokolova", "petrovna", bd=D(1979, 6, 1), tax="500100732259"),
     R("tktif", "sokolova", "gtnhjdyf", bd=D(1979, 6, 1), tax="500100732259"), ()),  # wrong keyboard layout
    (R("maria", "ivanova", "petrovna", bd=D(2001, 5, 5), idk=":4509123456"),
     R("daria", "ivanova", "petrovna", bd=D(2001, 5, 5)), ("first_name",)),  # twins: one id only
    # an implausible age (qc 2: only in birth_date_any) agreeing, with the same id: one person
    (R("julis", "gascoigne", idk="other:4002060", bd_any=D(1909, 1, 4)),
     R("julia", "gascoigne", idk="other:4002060", bd_any=D(1909, 1, 4)), ()),
    (R("brody", "matthews", idk="other:7311371", bd_any=D(1909, 1, 4)),
     R("chelsea", "matthews", idk="other:7311371", bd_any=D(1951, 7, 11)), ("first_name",)),
    (R("brody", "matthews", idk="other:7311371", bd_any=D(1909, 1, 4)),
     R("chelsea", "matthews", idk="other:7311371"), ("first_name",)),  # one date unknown
    (R("maria", "ivanova", bd_any=D(1909, 1, 4)),
     R("daria", "ivanova", bd_any=D(1909, 1, 4)), ("first_name",)),  # no identifier
    (R("ivan", "ivanov", bd=D(1985, 3, 12), bd_any=D(1985, 3, 12), idk=":4509123456"),
     R("petr", "ivanov", bd_any=D(1985, 12, 3), idk=":4509123456"), ()),  # dd/mm swap still agrees
    (R("maria", "ivanova", "petrovna", bd=D(2001, 5, 5), idk=":4509123456"),
     R("daria", "ivanova", "petrovna", bd=D(2001, 5, 5), idk=":4509654321"), ("first_name",)),
    (R("anna", bd="1990-01-02"), R("anna", bd="1990-02-01"), ()),  # ISO strings, swap
    (R("anna", bd=pd.Timestamp("1990-01-02")), R("anna", bd=D(1990, 1, 2)), ()),
    (R("anna", bd=np.datetime64("2001-07-30")), R("anna", bd=D(2001, 7, 31)), ("birth_date",)),
    # gender
    (R("sasha", "smirnov", g="M"), R("sasha", "smirnova", g="F"), ("gender",)),
    (R("ivan", g="m"), R("ivan", g="M"), ()),
    (R("ivan", g=None), R("ivan", g="F"), ()),
    # national ids: compared only within one id type
    (R("ivan", nid="4509123456", nid_type="passport_ru"), R("ivan", nid="4511654321", nid_type="passport_ru"),
     ("national_id",)),
    (R("ivan", nid="4509123456", nid_type="passport_ru"), R("ivan", nid="11223344595", nid_type="snils"), ()),
    (R("ivan", nid="4509123456", nid_type="passport_ru"), R("ivan", nid="4509123456", nid_type="passport_ru"), ()),
    (R("john", nid="123-45-6789"), R("john", nid="987-65-4321"), ("national_id",)),  # no type: same ""
    # tax ids: only 12-digit personal INNs count
    (R("ivan", tax="500100732259"), R("ivan", tax="772801563204"), ("tax_id",)),
    (R("ivan", tax="7707083893"), R("ivan", tax="7736050003"), ()),  # company INNs of employers
    (R("ivan", tax="500100732259"), R("ivan", tax="7707083893"), ()),
    (R("ivan", tax="500100732259"), R("ivan", tax="500100732259"), ()),
    # first names: siblings and twins with near names must conflict
    (R("maria", "ivanova", bd=D(2001, 5, 5), g="F"), R("daria", "ivanova", bd=D(2001, 5, 5), g="F"),
     ("first_name",)),  # twins Masha / Dasha
    (R("maria", "kirsanova"), R("marina", "kirsanova"), ("first_name",)),
    (R("alina", "siniqkaia"), R("alena", "siniqkaia"), ("first_name",)),
    (R("arina", "merkulova"), R("alina", "merkulova"), ("first_name",)),
    (R("igor", "volkov"), R("egor", "volkov"), ("first_name",)),
    (R("murat", "musaev"), R("murad", "musaev"), ("first_name",)),
    (R("iana", "belova"), R("ana", "belova"), ("first_name",)),  # Яна / Анна
    (R("n", "malih"), R("sergei", "malih"), ("first_name",)),  # initial of another name
    # first names: the same person
    (R("aleksandr", "kuzin"), R("aleksandra", "kuzina"), ()),  # "Саша" resolved either way
    (R("evgeni", "orlov"), R("evgenia", "orlova"), ()),
    (R("n", "malih", "v"), R("nikolai", "malih", "vasilevic"), ()),  # "Н. В. Малых"
    (R("iu", "sokolova"), R("iulia", "sokolova"), ()),  # "Ю." skeleton is two letters
    (R("av", "fomenko"), R("aleksandr", "fomenko"), ()),  # "А.В." packed initials
    (R("konstantin", "lebedev"), R("konstnatin", "lebedev"), ()),  # typo: swapped letters
    (R("ekaterina", "prowina"), R("ekaterna", "prowina"), ()),
    (R("sergei", "kozlov"), R("segrei", "kozlov"), ()),
    (R("andersson", "karin"), R("karin", "andersson"), ()),  # first/last swapped in a source
    (R("j", "smit", "robert"), R("robert", "smit"), ()),  # "J. Robert Smith" / "Robert Smith"
    (R(None, "ivanov"), R("petr", "ivanov"), ()),
    (R("Ivan", "Ivanov"), R("ivan", "ivanov"), ()),  # case
    # middle names / patronymics
    (R("ivan", "petrov", "ivanovic", bd=D(1985, 1, 1)), R("ivan", "petrov", "petrovic", bd=D(1960, 2, 2)),
     ("birth_date", "middle_name")),  # father and son
    (R("ivan", "petrov", "sergeevic"), R("ivan", "petrov", "sergeevic"), ()),
    (R("ivan", "petrov", "a"), R("ivan", "petrov", "andreevic"), ()),
    (R("ivan", "petrov", "nikolaevic"), R("ivan", "petrov", "nikolaevc"), ()),
    (R("ivan", "petrov", "nikolaevic"), R("ivan", "petrov"), ()),
    # several at once
    (R("aleksandr", "kuzin", bd=D(1990, 4, 4), g="M"), R("aleksandra", "kuzina", bd=D(1992, 8, 9), g="F"),
     ("birth_date", "gender")),  # brother and sister
    (R("maria", "lutaia", "rudolfovna", bd=D(1964, 10, 22), g="F", tax="421262997726"),
     R("denis", "lutii", "nikolaevic", bd=D(1960, 5, 1), g="M", tax="342594802620"),
     ("birth_date", "gender", "tax_id", "first_name", "middle_name")),  # spouses
    (R(), R(), ()),
]


@pytest.mark.parametrize(("left", "right", "expected"), CONFLICT_CASES)
def test_record_conflicts_table(left: dict, right: dict, expected: tuple[str, ...]) -> None:
    assert record_conflicts(left, right) == expected
    assert record_conflicts(right, left) == expected  # symmetric


@pytest.mark.parametrize(("a", "b", "ok"), [
    ("ivan", "ivan", True), ("maria", "daria", False), ("n", "nikolai", True), ("s", "nikolai", False),
    ("aleksandr", "aleksandra", True), ("ivan", "ivana", True), ("olga", "olg", True), ("olga", "ola", False),
    ("stanislav", "stanislva", True),
    ("kristina", "kristian", True),  # one swap reads as a typo: the gender check separates them
    ("valentina", "valeriia", False), ("viaceslav", "iaroslav", False),
    # neighbouring letters swapped after the first: a typing slip, also in short names
    ("harry", "haryr", True), ("olga", "olag", True), ("ivan", "ivna", True), ("rahel", "rahle", True),
    ("petr", "pter", True), ("zane", "znae", True),
    ("nina", "inna", False),  # at the start: two real names (sisters Nina and Inna)
    ("ivan", "ivna ", False), ("ira", "iar", False),  # length differs / too short
    ("maria", "mraia", True), ("daria", "dalia", False), ("anna", "nana", False),
])
def test_names_compatible(a: str, b: str, ok: bool) -> None:
    assert names_compatible(a, b) is ok
    assert names_compatible(b, a) is ok


def test_date_key_and_conflict_edges() -> None:
    assert date_key(D(1985, 3, 12)) == date_key(D(1985, 12, 3))
    assert date_key(None) is None and date_key(pd.NaT) is None and date_key(float("nan")) is None
    assert date_key("not a date") is None and date_key(np.datetime64("NaT")) is None
    assert not birth_dates_conflict(None, D(1990, 1, 1))


# --------------------------------------------------------------------------------------------
# Scenarios
# --------------------------------------------------------------------------------------------

def frame(rows: dict[str, dict]) -> pd.DataFrame:
    return pd.DataFrame([{"record_key": k, **v} for k, v in rows.items()])


def pairs_of(edges: list[tuple[str, str, float]]) -> pd.DataFrame:
    return pd.DataFrame(edges, columns=["record_key_l", "record_key_r", "match_probability"])


def groups(assignments: pd.DataFrame) -> set[frozenset[str]]:
    return {frozenset(g["record_key"]) for _, g in assignments.groupby("cluster")}


def test_household_is_not_chained() -> None:
    """A family at one address and phone: the model links across people; vetoes keep them apart."""
    recs = frame({
        "crm:1": R("ivan", "petrov", "petrovic", bd=D(1960, 2, 2), g="M"),      # father
        "web:1": R("ivan", "petrov", None, g="M"),                              # father or son?
        "crm:2": R("ivan", "petrov", "ivanovic", bd=D(1985, 1, 1), g="M"),      # son
        "bil:2": R("ivan", "petrov", "ivanovic", bd=D(1985, 1, 1), g="M"),
        "crm:3": R("maria", "petrova", "ivanovna", bd=D(2001, 5, 5), g="F"),    # twin 1
        "loy:3": R("maria", "petrova", None, bd=D(2001, 5, 5)),
        "crm:4": R("daria", "petrova", "ivanovna", bd=D(2001, 5, 5), g="F"),    # twin 2
        "loy:4": R("daria", "petrova", None),
    })
    edges = [
        ("crm:1", "web:1", 0.97), ("bil:2", "crm:2", 0.999), ("web:1", "crm:2", 0.95),
        ("crm:3", "loy:3", 0.99), ("crm:4", "loy:4", 0.98), ("crm:3", "crm:4", 0.96),
        ("loy:3", "loy:4", 0.94), ("crm:2", "crm:3", 0.91), ("crm:1", "crm:2", 0.93),
    ]
    a, v = cluster(recs, pairs_of(edges), threshold=0.9)
    assert groups(a) == {frozenset({"crm:1", "web:1"}), frozenset({"bil:2", "crm:2"}),
                         frozenset({"crm:3", "loy:3"}), frozenset({"crm:4", "loy:4"})}
    reasons = {(r.record_key_l, r.record_key_r): r.reason for r in v.itertuples()}
    assert reasons[("crm:3", "crm:4")] == "first_name"
    assert reasons[("loy:3", "loy:4")] == "first_name"
    assert reasons[("crm:1", "crm:2")] == "birth_date+middle_name"
    assert reasons[("crm:2", "web:1")] == "chain:birth_date+middle_name"  # web:1 joined the father first
    assert reasons[("crm:2", "crm:3")] == "birth_date+gender+first_name+middle_name"
    assert list(v["match_probability"]) == sorted(v["match_probability"], reverse=True)


def test_split_on_weakest_link() -> None:
    recs = frame({"a": R("olga", bd=D(1980, 1, 1)), "b": R("olga"), "c": R("olga", bd=D(1990, 5, 5))})
    a, v = cluster(recs, pairs_of([("a", "b", 0.99), ("b", "c", 0.95), ("a", "c", 0.2)]), threshold=0.9)
    assert groups(a) == {frozenset({"a", "b"}), frozenset({"c"})}
    assert v.to_dict("records") == [{"record_key_l": "b", "record_key_r": "c",
                                     "match_probability": 0.95, "reason": "chain:birth_date"}]
    # the stronger link wins the other way round
    a, _ = cluster(recs, pairs_of([("a", "b", 0.95), ("b", "c", 0.99)]), threshold=0.9)
    assert groups(a) == {frozenset({"a"}), frozenset({"b", "c"})}


def test_a_record_joins_a_person_whose_other_record_it_agrees_with() -> None:
    """FEBRL-style: one person's records, one with a replaced first name (in through the
    shared id and birth date), one with a mistyped birth date (in through the shared id).
    A third record with a mistyped id agrees with the person's own name and birth date:
    it joins, although it conflicts with the odd records themselves."""
    recs = frame({
        "org": R("erin", "maynard", bd=D(1997, 4, 30), idk=":7429462"),
        "dup2": R("hayley", "maynard", bd=D(1997, 4, 30), idk=":7429462"),   # replaced name
        "dup3": R("erin", "maynard", bd=D(1950, 1, 3), idk=":7429462"),      # mistyped date
        "dup1": R("erin", "maynard", bd=D(1997, 4, 30), idk=":1815999"),     # mistyped id
    })
    edges = [("org", "dup2", 0.999), ("dup3", "org", 0.998), ("dup1", "dup2", 0.99),
             ("dup1", "dup3", 0.985), ("dup1", "org", 0.98)]
    a, v = cluster(recs, pairs_of(edges), threshold=0.9)
    assert groups(a) == {frozenset(recs["record_key"])}
    assert v.empty  # vetoes list links between clusters only
    # without the vouching record the conflicts stand
    a, v = cluster(recs[recs["record_key"] != "org"], pairs_of(edges[2:4]), threshold=0.9)
    assert groups(a) == {frozenset({"dup1"}), frozenset({"dup2"}), frozenset({"dup3"})}
    assert set(v["reason"]) == {"first_name", "birth_date"}


def test_household_members_do_not_vouch_for_each_other() -> None:
    """Twins share surname, birth date and address; a record agreeing with one twin's name
    joins that twin only, and a shared birth date does not excuse the other first name."""
    recs = frame({
        "a1": R("maria", "petrova", bd=D(2001, 5, 5), g="F"),
        "a2": R("maria", "petrova", bd=D(2001, 5, 5)),
        "b1": R("daria", "petrova", bd=D(2001, 5, 5), g="F"),
        "c1": R("ivan", "petrov", bd=D(1970, 1, 1), g="M"),   # father: same flat
    })
    edges = [("a1", "a2", 0.99), ("a2", "b1", 0.97), ("a1", "b1", 0.96), ("b1", "c1", 0.95)]
    a, v = cluster(recs, pairs_of(edges), threshold=0.9)
    assert groups(a) == {frozenset({"a1", "a2"}), frozenset({"b1"}), frozenset({"c1"})}


def test_clean_component_is_plain_connected_components() -> None:
    recs = frame({k: R("anna", "orlova", bd=D(1970, 7, 7)) for k in "abcde"})
    a, v = cluster(recs, pairs_of([("a", "b", 0.95), ("b", "c", 0.91), ("d", "e", 0.5)]), threshold=0.9)
    assert groups(a) == {frozenset("abc"), frozenset("d"), frozenset("e")}
    assert v.empty
    prob = dict(zip(a["record_key"], a["cluster_probability"]))
    assert prob["a"] == 0.95 and prob["b"] == 0.95 and prob["c"] == 0.91
    assert np.isnan(prob["d"]) and np.isnan(prob["e"])


def test_must_link_overrides_conflicts_and_cannot_link_vetoes() -> None:
    recs = frame({"a": R("ivan", bd=D(1980, 1, 1)), "b": R("ivan", bd=D(1981, 1, 1)),
                  "c": R("ivan", bd=D(1980, 1, 1)), "d": R("ivan")})
    pairs = pairs_of([("a", "b", 0.95), ("a", "c", 0.99), ("c", "d", 0.97)])
    a, v = cluster(recs, pairs, threshold=0.9,
                   must_link=pd.DataFrame({"record_key_l": ["b"], "record_key_r": ["a"]}),
                   cannot_link=pd.DataFrame({"record_key_l": ["d"], "record_key_r": ["c"]}))
    # a+b by the steward; c conflicts with b but has a's birth date, so a vouches for it;
    # d is cannot-linked to c
    assert groups(a) == {frozenset("abc"), frozenset("d")}
    prob = dict(zip(a["record_key"], a["cluster_probability"]))
    assert prob["a"] == 1.0 and prob["b"] == 1.0
    reasons = dict(zip(zip(v["record_key_l"], v["record_key_r"]), v["reason"]))
    assert reasons == {("c", "d"): "cannot_link"}
    # with a birth date of its own, c conflicts with the whole steward's unit
    recs.loc[recs["record_key"] == "c", "birth_date"] = D(1990, 1, 1)
    a, v = cluster(recs, pairs, threshold=0.9,
                   must_link=pd.DataFrame({"record_key_l": ["b"], "record_key_r": ["a"]}))
    assert groups(a) == {frozenset("ab"), frozenset("cd")}
    assert dict(zip(zip(v["record_key_l"], v["record_key_r"]), v["reason"])) == {("a", "c"): "birth_date"}


def test_must_link_without_a_scored_pair_and_contradicting_cannot_link() -> None:
    recs = frame({"a": R("ivan"), "b": R("petr"), "c": R("ivan")})
    a, v = cluster(recs, pairs_of([]), threshold=0.9,
                   must_link=pd.DataFrame({"record_key_l": ["a", "b", "zz:gone"],
                                           "record_key_r": ["b", "c", "a"]}),
                   cannot_link=pd.DataFrame({"record_key_l": ["a"], "record_key_r": ["c"]}))
    assert groups(a) == {frozenset("abc")}  # must-links win, unknown keys are ignored
    assert v.empty


def test_threshold_boundary_nan_duplicates_and_key_order() -> None:
    recs = frame({k: R("anna") for k in "abcd"})
    pairs = pairs_of([("b", "a", 0.9), ("c", "d", float("nan")), ("a", "b", 0.5), ("a", "a", 1.0)])
    a, _ = cluster(recs, pairs, threshold=0.9)
    assert groups(a) == {frozenset("ab"), frozenset("c"), frozenset("d")}
    assert list(a["cluster"]) == [0, 0, 1, 2]


def test_pyarrow_pairs_and_output_schema() -> None:
    recs = frame({"x:2": R("anna", bd=D(1970, 1, 1)), "x:1": R("anna", bd=D(1971, 1, 1)), "x:3": R("anna")})
    pairs = pa.table({"record_key_l": ["x:1", "x:1"], "record_key_r": ["x:2", "x:3"],
                      "match_probability": pa.array([0.99, 0.98], pa.float64()),
                      "match_weight": [9.0, 8.0]})
    a, v = cluster(recs, pairs, threshold=0.9)
    assert tuple(a.columns) == ASSIGNMENT_COLUMNS and tuple(v.columns) == VETO_COLUMNS
    assert list(a["record_key"]) == ["x:1", "x:2", "x:3"]
    assert str(a["cluster"].dtype) == "int64" and str(a["cluster_probability"].dtype) == "float64"
    assert groups(a) == {frozenset({"x:1", "x:3"}), frozenset({"x:2"})}
    assert v["reason"].tolist() == ["birth_date"]


def test_empty_and_bad_inputs() -> None:
    a, v = cluster(pd.DataFrame({"record_key": pd.Series([], dtype="str")}), pairs_of([]), threshold=0.9)
    assert a.empty and v.empty and tuple(a.columns) == ASSIGNMENT_COLUMNS
    recs = frame({"a": R(), "b": R()})
    with pytest.raises(ValueError, match="not in records"):
        cluster(recs, pairs_of([("a", "zz", 0.99)]), threshold=0.9)
    with pytest.raises(ValueError, match="duplicate record_key"):
        cluster(pd.DataFrame({"record_key": ["a", "a"]}), pairs_of([]), threshold=0.9)
    with pytest.raises(ValueError, match="threshold"):
        cluster(recs, pairs_of([]), threshold=1.5)
    with pytest.raises(ValueError, match="missing column"):
        cluster(recs, pd.DataFrame({"record_key_l": ["a"]}), threshold=0.9)
    # only record_key is required: no attributes means no conflicts
    a, _ = cluster(pd.DataFrame({"record_key": ["a", "b"]}), pairs_of([("a", "b", 0.95)]), threshold=0.9)
    assert groups(a) == {frozenset("ab")}


def test_inputs_not_mutated_and_pair_conflicts() -> None:
    recs = frame({"a": R("maria", bd=D(2001, 5, 5)), "b": R("daria", bd=D(2001, 5, 5)), "c": R("maria")})
    pairs = pairs_of([("a", "b", 0.95), ("a", "c", 0.97)])
    before = (recs.copy(deep=True), pairs.copy(deep=True))
    cluster(recs, pairs, threshold=0.9)
    pd.testing.assert_frame_equal(recs, before[0])
    pd.testing.assert_frame_equal(pairs, before[1])
    assert pair_conflicts(recs, pairs).tolist() == ["first_name", None]


# --------------------------------------------------------------------------------------------
# Invariants (hypothesis) against a brute-force reference
# --------------------------------------------------------------------------------------------

FIRSTS = [None, "ivan", "i", "maria", "daria", "aleksandr", "aleksandra"]
MIDDLES = [None, "petrovic", "ivanovic", "p"]
DATES = [None, D(1980, 1, 2), D(1980, 2, 1), D(1991, 7, 7), D(1908, 1, 2)]
GENDERS = [None, "M", "F"]
PROBS = [0.3, 0.9, 0.93, 0.95, 0.99, 1.0]

record_st = st.fixed_dictionaries({
    "first_name_key": st.sampled_from(FIRSTS), "last_name_key": st.sampled_from([None, "petrov"]),
    "middle_name_key": st.sampled_from(MIDDLES), "birth_date": st.sampled_from(DATES),
    "gender": st.sampled_from(GENDERS),
    "national_id": st.sampled_from([None, None, "4509123456", "4511654321"]),
    "personal_tax_id": st.sampled_from([None, None, "500100732259", "772801563204", "7707083893"]),
    "id_key": st.sampled_from([None, None, ":4509123456", "other:1804974"]),
    "birth_date_any": st.sampled_from([None, None, D(1908, 1, 2), D(1980, 1, 2)]),
})


@st.composite
def problems(draw: Any) -> tuple[pd.DataFrame, pd.DataFrame, list, list]:
    n = draw(st.integers(1, 9))
    keys = [f"s{k % 3}:{k:02d}" for k in range(n)]
    recs = pd.DataFrame([{"record_key": k, **draw(record_st)} for k in keys])
    all_pairs = list(itertools.combinations(keys, 2))
    chosen = draw(st.lists(st.sampled_from(all_pairs), unique=True, max_size=len(all_pairs))) if all_pairs else []
    edges = [(a, b, draw(st.sampled_from(PROBS))) for a, b in chosen]
    must = draw(st.lists(st.sampled_from(all_pairs), max_size=2, unique=True)) if all_pairs else []
    cannot = draw(st.lists(st.sampled_from(all_pairs), max_size=2, unique=True)) if all_pairs else []
    return recs, pairs_of(edges), must, cannot


class UF:
    def __init__(self, items: list[str]):
        self.p = {x: x for x in items}

    def find(self, x: str) -> str:
        while self.p[x] != x:
            x = self.p[x]
        return x

    def union(self, a: str, b: str) -> None:
        self.p[self.find(a)] = self.find(b)

    def groups(self) -> set[frozenset[str]]:
        out: dict[str, set[str]] = {}
        for x in self.p:
            out.setdefault(self.find(x), set()).add(x)
        return {frozenset(g) for g in out.values()}


def reference(recs: pd.DataFrame, pairs: pd.DataFrame, must: list, cannot: list, thr: float,
              ) -> set[frozenset[str]]:
    """Brute force: must-link units, then Kruskal over all links with pairwise checks."""
    keys = list(recs["record_key"])
    rows = {r["record_key"]: r for r in recs.to_dict("records")}
    unit = UF(keys)
    for a, b in must:
        unit.union(a, b)
    uf = UF(keys)
    for a, b in must:
        uf.union(a, b)
    cannot_set = {frozenset(p) for p in cannot}

    def kinds(x: str, y: str) -> set[str]:
        if unit.find(x) == unit.find(y):
            return set()
        return set(record_conflicts(rows[x], rows[y]))

    links = sorted(((-p, min(a, b), max(a, b)) for a, b, p in pairs.itertuples(index=False) if p >= thr))
    for _, a, b in links:
        ra, rb = uf.find(a), uf.find(b)
        if ra == rb or kinds(a, b):  # a link whose own two records conflict: never
            continue
        ga = [x for x in keys if uf.find(x) == ra]
        gb = [x for x in keys if uf.find(x) == rb]
        if any(frozenset((x, y)) in cannot_set and unit.find(x) != unit.find(y) for x in ga for y in gb):
            continue
        conflicting = set().union(*(kinds(x, y) for x in ga for y in gb))
        vouched = set().union(*(vouches(rows[x], rows[y]) for x in ga for y in gb))
        if not conflicting - vouched:
            uf.union(a, b)
    return uf.groups()


def vouches(x: dict, y: dict) -> set[str]:
    """Kinds on which two records vouch for joining their groups (clustering's docstring):
    equal known birth date / gender / first name / patronymic; a shared identifier vouches
    for birth date and gender, with compatible known birth dates also for the names."""
    def same(col: str) -> bool:
        return x.get(col) is not None and x.get(col) == y.get(col)

    def dkey(r: dict) -> Any:
        return date_key(r.get("birth_date"))

    def dany(r: dict) -> Any:
        return date_key(r.get("birth_date_any")) or dkey(r)

    shared = share_identifier(x, y)
    out = set()
    if shared or (dkey(x) is not None and dkey(x) == dkey(y)):
        out.add("birth_date")
    if shared or same("gender"):
        out.add("gender")
    if same("first_name_key"):
        out.add("first_name")
    if same("middle_name_key"):
        out.add("middle_name")
    if shared and dany(x) is not None and dany(y) is not None and not birth_dates_conflict(
            x.get("birth_date_any") or x.get("birth_date"), y.get("birth_date_any") or y.get("birth_date")):
        out |= {"first_name", "middle_name"}
    return out


def links(must: list) -> pd.DataFrame:
    return pd.DataFrame(must, columns=["record_key_l", "record_key_r"]) if must else None


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems(), st.sampled_from([0.9, 0.95]))
def test_invariants_against_reference(problem: tuple, thr: float) -> None:
    recs, pairs, must, cannot = problem
    a, v = cluster(recs, pairs, threshold=thr, must_link=links(must), cannot_link=links(cannot))
    got = groups(a)
    # every record exactly once, cluster numbers 0..k-1 by smallest key
    assert sorted(a["record_key"]) == sorted(recs["record_key"]) and a["record_key"].is_unique
    firsts = a.groupby("cluster")["record_key"].min().sort_values()
    assert list(firsts.index) == list(range(len(firsts)))
    # the same partition as the brute-force greedy
    assert got == reference(recs, pairs, must, cannot, thr)
    # never fewer clusters than connected components of all links; each cluster inside one
    comp = UF(list(recs["record_key"]))
    for x, y, p in pairs.itertuples(index=False):
        if p >= thr:
            comp.union(x, y)
    for x, y in must:
        comp.union(x, y)
    assert all(len({comp.find(x) for x in g}) == 1 for g in got)
    assert len(got) >= len(comp.groups())
    # no conflicting or cannot-linked pair together unless one must-link unit; units together
    unit = UF(list(recs["record_key"]))
    for x, y in must:
        unit.union(x, y)
    rows = {r["record_key"]: r for r in recs.to_dict("records")}
    cl = dict(zip(a["record_key"], a["cluster"]))
    for x, y in itertools.combinations(rows, 2):
        if unit.find(x) == unit.find(y):
            assert cl[x] == cl[y]
        elif cl[x] == cl[y]:
            # identifiers never conflict inside a cluster; other kinds only when vouched for
            assert not {"national_id", "tax_id"} & set(record_conflicts(rows[x], rows[y]))
            assert (x, y) not in cannot and (y, x) not in cannot
    # vetoes: exactly the links between different clusters
    across = {(min(x, y), max(x, y)) for x, y, p in pairs.itertuples(index=False)
              if p >= thr and x != y and cl[x] != cl[y]}
    assert set(zip(v["record_key_l"], v["record_key_r"])) == across
    # singletons and only singletons have no cluster probability
    size = a.groupby("cluster")["record_key"].transform("size")
    assert (a["cluster_probability"].isna() == (size == 1)).all()


@settings(max_examples=100, deadline=None)
@given(problems(), st.randoms(use_true_random=False))
def test_result_independent_of_row_order(problem: tuple, rnd: Any) -> None:
    recs, pairs, must, cannot = problem
    a1, v1 = cluster(recs, pairs, threshold=0.9, must_link=links(must), cannot_link=links(cannot))
    recs2 = recs.sample(frac=1, random_state=rnd.randint(0, 10**6)).reset_index(drop=True)
    pairs2 = pairs.sample(frac=1, random_state=rnd.randint(0, 10**6)).reset_index(drop=True)
    swap = np.asarray([rnd.random() < 0.5 for _ in range(len(pairs2))], dtype=bool)
    l, r = pairs2["record_key_l"].copy(), pairs2["record_key_r"].copy()
    pairs2.loc[swap, "record_key_l"], pairs2.loc[swap, "record_key_r"] = r[swap], l[swap]
    a2, v2 = cluster(recs2, pairs2, threshold=0.9, must_link=links(must[::-1]),
                     cannot_link=links([(y, x) for x, y in cannot]))
    pd.testing.assert_frame_equal(a1, a2)
    pd.testing.assert_frame_equal(v1, v2)


@settings(max_examples=100, deadline=None)
@given(problems())
def test_without_conflicts_equals_connected_components(problem: tuple) -> None:
    recs, pairs, _, _ = problem
    bare = recs[["record_key"]]
    a, v = cluster(bare, pairs, threshold=0.9)
    comp = UF(list(recs["record_key"]))
    for x, y, p in pairs.itertuples(index=False):
        if p >= 0.9:
            comp.union(x, y)
    assert groups(a) == comp.groups()
    assert v.empty


# --------------------------------------------------------------------------------------------
# Names alone never link (pairs that carry the model's gamma columns)
# --------------------------------------------------------------------------------------------

def scored(edges: list[tuple[str, str, float, dict[str, int]]]) -> pd.DataFrame:
    """Pairs with gamma columns: every evidence comparison null unless given."""
    rows = []
    for a, b, p, gammas in edges:
        row = {"record_key_l": a, "record_key_r": b, "match_probability": p}
        row.update({f"gamma_{n}": -1 for n in ("dob", "email", "surname_contact", "national_id",
                                                  "personal_tax_id")})
        row.update({f"gamma_{k}": v for k, v in gammas.items()})
        rows.append(row)
    return pd.DataFrame(rows)


def level(name: str, label: str) -> int:
    from pipelines.match.comparisons import level_labels
    return next(g for g, lab in level_labels(name).items() if lab == label)


def test_names_only_pairs_go_to_review_not_into_clusters() -> None:
    recs = frame({
        "billing:1": R("igor", "kliuwnicenko", "leonidovic", g="M"),
        "billing:2": R("igor", "kliuwnicenko", "leonidovic", g="M"),
        "crm:3": R("artem", "sliunin", bd=D(2003, 8, 26)),
        "loyalty:4": R("artem", "sliunin", "artemovic", bd=D(2003, 8, 26)),
        "web:5": R("marie", "lefebvre"),
        "crm:6": R("marie", "lefebvre"),
    })
    contacts_differ = level("surname_contact", "same surname, contacts differ")
    pairs = scored([
        ("billing:1", "billing:2", 0.994, {"surname_contact": contacts_differ}),  # namesakes
        ("crm:3", "loyalty:4", 0.97, {"dob": level("dob", "same birth date")}),
        ("web:5", "crm:6", 0.999, {"surname_contact": level("surname_contact",
                                                            "same surname, same phone or flat")}),
    ])
    a, v = cluster(recs, pairs, threshold=0.9)
    assert groups(a) == {frozenset({"billing:1"}), frozenset({"billing:2"}),
                         frozenset({"crm:3", "loyalty:4"}), frozenset({"web:5", "crm:6"})}
    assert v[["record_key_l", "record_key_r", "reason"]].values.tolist() == [
        ["billing:1", "billing:2", "names_only"]]
    # the rule can be switched off, and pairs without gamma columns are plain links
    a, v = cluster(recs, pairs, threshold=0.9, require_evidence=False)
    assert frozenset({"billing:1", "billing:2"}) in groups(a) and v.empty
    a, _ = cluster(recs, pairs[["record_key_l", "record_key_r", "match_probability"]], threshold=0.9)
    assert frozenset({"billing:1", "billing:2"}) in groups(a)


def test_names_only_pair_joined_through_others_is_no_veto_and_conflicts_win() -> None:
    recs = frame({"a": R("ivan", "petrov", bd=D(1980, 1, 2)), "b": R("ivan", "petrov"),
                  "c": R("ivan", "petrov", bd=D(1980, 1, 2)), "d": R("ivan", "petrov", bd=D(1991, 7, 7))})
    same_dob = level("dob", "same birth date")
    phone = level("surname_contact", "same surname, same phone or flat")
    pairs = scored([
        ("a", "b", 0.99, {}),                       # names only, but b joins a through c
        ("b", "c", 0.95, {"surname_contact": phone}),
        ("a", "c", 0.93, {"dob": same_dob}),
        ("c", "d", 0.92, {}),                       # names only and different birth dates
    ])
    a, v = cluster(recs, pairs, threshold=0.9)
    assert groups(a) == {frozenset("abc"), frozenset("d")}
    assert v[["record_key_l", "record_key_r", "reason"]].values.tolist() == [["c", "d", "birth_date"]]
    # an arrow table with nulls in the gamma columns behaves the same
    table = pa.Table.from_pandas(pairs.astype({c: "Int8" for c in pairs.columns if c.startswith("gamma_")}),
                                 preserve_index=False)
    a2, v2 = cluster(recs, table, threshold=0.9)
    pd.testing.assert_frame_equal(a, a2)
    pd.testing.assert_frame_equal(v, v2)
