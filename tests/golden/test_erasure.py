"""Erasure rules: request parsing, whom a request reaches, quarantined rows, hashes."""

from __future__ import annotations

import hashlib
import json

import pandas as pd
import pytest

from pipelines.golden.erasure import (
    ErasureError, ErasureKeys, erased_golden_ids, parse_requests, quarantine_hits, request_hashes,
)


def requests(*rows: dict) -> ErasureKeys:
    frame = pd.DataFrame(list(rows), dtype=object).fillna("")
    return parse_requests(frame, default_country="RU", where="erasure.csv")


def test_requests_are_normalised() -> None:
    keys = requests({"email": " Anna.K@Mail.RU ", "phone": "", "source": "", "source_id": ""},
                    {"email": "", "phone": "8 (916) 123-45-67", "source": "", "source_id": ""},
                    {"email": "", "phone": "", "source": "crm", "source_id": "000105"},
                    {"email": "", "phone": "", "source": "", "source_id": ""})  # blank line: ignored
    assert keys.emails == {"anna.k@mail.ru"}
    assert keys.phones == {"+79161234567"} and keys.digits == {"9161234567"}
    assert keys.records == {("crm", "000105")}  # leading zeros kept
    assert keys.requests == 3


@pytest.mark.parametrize("row, message", [
    ({"email": "anna.mail.ru"}, "erasure.csv line 2: the email has no '@'"),
    ({"phone": "not a phone"}, "erasure.csv line 2: the phone is not a phone number"),
    ({"source": "crm"}, "erasure.csv line 2: source and source_id go together"),
    ({"source_id": "17"}, "erasure.csv line 2: source and source_id go together"),
])
def test_bad_requests_name_the_line(row: dict, message: str) -> None:
    with pytest.raises(ErasureError) as err:
        requests(row)
    assert str(err.value) == message


def test_unknown_columns_are_an_error() -> None:
    with pytest.raises(ErasureError, match="unknown column"):
        parse_requests(pd.DataFrame({"mail": ["a@b.ru"]}), default_country="RU", where="erasure.csv")
    with pytest.raises(ErasureError, match="at least one of"):
        parse_requests(pd.DataFrame({"note": ["x"]}), default_country="RU", where="erasure.csv")


MEMBERS = pd.DataFrame([
    # Анна: three records, only one holds the requested e-mail
    {"golden_id": "G1", "source": "crm", "source_id": "1", "email": "anna.k@mail.ru", "emails": ["anna.k@mail.ru"],
     "phones": ["+79161234567"]},
    {"golden_id": "G1", "source": "web", "source_id": "L1", "email": None, "emails": None, "phones": None},
    {"golden_id": "G1", "source": "shop", "source_id": "9", "email": None, "emails": None, "phones": ["+79035550000"]},
    # Олег: the requested phone is his second number
    {"golden_id": "G2", "source": "crm", "source_id": "2", "email": None, "emails": None,
     "phones": ["+74951112233", "+79267654321"]},
    # a typo in the e-mail the request names correctly
    {"golden_id": "G3", "source": "web", "source_id": "L7", "email": "boris@gmail.con", "emails": ["boris@gmail.con"],
     "email_suggestion": "boris@gmail.com", "phones": None},
    {"golden_id": "G4", "source": "crm", "source_id": "000105", "email": None, "emails": None, "phones": None},
    {"golden_id": "G5", "source": "crm", "source_id": "3", "email": "other@mail.ru", "emails": ["other@mail.ru"],
     "phones": ["+79161234568"]},
])


@pytest.mark.parametrize("request_row, expected", [
    ({"email": "ANNA.K@mail.ru"}, {"G1"}),
    ({"phone": "+7 926 765-43-21"}, {"G2"}),
    ({"email": "boris@gmail.com"}, {"G3"}),
    ({"source": "crm", "source_id": "000105"}, {"G4"}),
    ({"source": "crm", "source_id": "105"}, set()),  # ids are compared as text
    ({"email": "nobody@mail.ru"}, set()),
])
def test_whom_a_request_reaches(request_row: dict, expected: set) -> None:
    assert erased_golden_ids(MEMBERS, requests(request_row)) == expected


def test_quarantined_rows_of_the_person() -> None:
    quarantine = pd.DataFrame([
        {"source": "crm", "source_id": "1", "raw": "{}"},                                   # an erased member's older copy
        {"source": "web", "source_id": "L9", "raw": json.dumps({"email": "ANNA.K@mail.ru"})},
        {"source": "web", "source_id": None, "raw": json.dumps({"line_text": "x;8 916 123-45-67;y"})},
        {"source": "web", "source_id": "L10", "raw": json.dumps({"phone": "916123", "zip": "4567"})},  # across cells
        {"source": "crm", "source_id": "7", "raw": json.dumps({"email": "someone@mail.ru"})},
    ])
    keys = requests({"email": "anna.k@mail.ru", "phone": "+79161234567"})
    assert quarantine_hits(quarantine, keys, {("crm", "1")}).tolist() == [True, True, True, False, False]
    assert not quarantine_hits(quarantine, ErasureKeys(), set()).any()


def test_hashes_are_salted_and_hold_no_identifier() -> None:
    keys = requests({"email": "anna.k@mail.ru"}, {"phone": "89161234567"}, {"source": "crm", "source_id": "1"})
    hashes = request_hashes(keys, "s3cret")
    assert len(hashes) == 3 and hashes == sorted(hashes)
    assert hashlib.sha256(b"s3cret|phone:+79161234567").hexdigest() in hashes
    assert request_hashes(keys, "other") != hashes
    assert all(len(h) == 64 and set(h) <= set("0123456789abcdef") for h in hashes)
