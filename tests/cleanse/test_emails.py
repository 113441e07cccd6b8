"""E-mails: table cases written by hand from real exports and typo lists, plus properties."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipelines.cleanse import emails as E
from pipelines.cleanse.emails import EMAIL_COLUMNS, clean_email, clean_emails, suggest_domain

S = "email:standardised"
T = "email:typo_domain"

# (raw, email, emails, suggestion, qc, issues)
CASES = [
    # valid as given
    ("ivan.petrov@mail.ru", "ivan.petrov@mail.ru", None, None, 0, None),
    ("olga_smirnova85@yandex.ru", "olga_smirnova85@yandex.ru", None, None, 0, None),
    ("john.smith@gmail.com", "john.smith@gmail.com", None, None, 0, None),
    ("k.mueller@web.de", "k.mueller@web.de", None, None, 0, None),
    ("o'brien@eircom.net", "o'brien@eircom.net", None, None, 0, None),
    ("89161112233@mail.ru", "89161112233@mail.ru", None, None, 0, None),
    # plus-addressing is legal and kept
    ("ivan+shop@gmail.com", "ivan+shop@gmail.com", None, None, 0, None),
    ("Ivan+Promo@Yandex.RU", "ivan+promo@yandex.ru", None, None, 1, [S]),
    # IDN: Unicode form, also when written in Punycode
    ("иван@почта.рф", "иван@почта.рф", None, None, 0, None),
    ("Иван@Почта.РФ", "иван@почта.рф", None, None, 1, [S]),
    ("ivan@xn--80a1acny.xn--p1ai", "ivan@почта.рф", None, None, 1, [S]),
    # case and white space
    ("Ivan.Petrov@Mail.RU", "ivan.petrov@mail.ru", None, None, 1, [S]),
    ("  ivan@yandex.ru ", "ivan@yandex.ru", None, None, 1, [S]),
    ("IVAN@RAMBLER.RU", "ivan@rambler.ru", None, None, 1, [S]),
    # quoted garbage around one address
    ('"Иван Петров" <ivan@mail.ru>', "ivan@mail.ru", None, None, 1, [S]),
    ("<ivan@mail.ru>", "ivan@mail.ru", None, None, 1, [S]),
    ("'ivan@mail.ru'", "ivan@mail.ru", None, None, 1, [S]),
    ("«ivan@mail.ru»", "ivan@mail.ru", None, None, 1, [S]),
    ("mailto:ivan@mail.ru", "ivan@mail.ru", None, None, 1, [S]),
    ("ivan@mail.ru.", "ivan@mail.ru", None, None, 1, [S]),
    ("ivan @ mail.ru", "ivan@mail.ru", None, None, 1, [S]),
    ("e-mail: ivan@mail.ru (личный)", "ivan@mail.ru", None, None, 1, [S]),
    # several addresses: all kept, in order, once
    ("ivan@mail.ru; petr@yandex.ru", "ivan@mail.ru", ["ivan@mail.ru", "petr@yandex.ru"], None, 1,
     [S, "email:several"]),
    ("ivan@mail.ru, petr@bk.ru", "ivan@mail.ru", ["ivan@mail.ru", "petr@bk.ru"], None, 1, [S, "email:several"]),
    ("ivan@mail.ru petr@list.ru", "ivan@mail.ru", ["ivan@mail.ru", "petr@list.ru"], None, 1,
     [S, "email:several"]),
    ("ivan@mail.ru, IVAN@mail.ru", "ivan@mail.ru", None, None, 1, [S]),
    ("ivan@mail.ru; petr@", "ivan@mail.ru", None, None, 1, [S, "email:partly_invalid"]),
    ("ivan@mail.ru, нет", "ivan@mail.ru", None, None, 1, [S]),
    # domain typos: suggestion only, the address stays as typed
    ("ivan@gmail.con", "ivan@gmail.con", None, "ivan@gmail.com", 1, [T]),
    ("ivan@mail.ri", "ivan@mail.ri", None, "ivan@mail.ru", 1, [T]),
    ("ivan@gmial.com", "ivan@gmial.com", None, "ivan@gmail.com", 1, [T]),  # also on the disposable list
    ("ivan@gmai.com", "ivan@gmai.com", None, "ivan@gmail.com", 1, [T]),
    ("ivan@gmail.co", "ivan@gmail.co", None, "ivan@gmail.com", 1, [T]),
    ("ivan@yandex.ry", "ivan@yandex.ry", None, "ivan@yandex.ru", 1, [T]),
    ("ivan@yandx.ru", "ivan@yandx.ru", None, "ivan@yandex.ru", 1, [T]),
    ("ivan@hotmial.com", "ivan@hotmial.com", None, "ivan@hotmail.com", 1, [T]),
    ("petr@outlok.com", "petr@outlok.com", None, "petr@outlook.com", 1, [T]),
    ("olga@rambler.ry", "olga@rambler.ry", None, "olga@rambler.ru", 1, [T]),
    ("olga@inbox.ry", "olga@inbox.ry", None, "olga@inbox.ru", 1, [T]),
    ("Ivan@GMAIL.CON", "ivan@gmail.con", None, "ivan@gmail.com", 1, [S, T]),
    # wrong keyboard layout for one letter: Cyrillic "а" in a Latin address
    ("ivаn@mail.ru", "ivаn@mail.ru", None, "ivan@mail.ru", 1, ["email:mixed_script"]),
    # flagged for a human: disposable, role, placeholder
    ("x7@mailinator.com", "x7@mailinator.com", None, None, 2, ["email:disposable"]),
    ("anna@10minutemail.com", "anna@10minutemail.com", None, None, 2, ["email:disposable"]),
    ("info@romashka-shop.ru", "info@romashka-shop.ru", None, None, 2, ["email:role"]),
    ("sales@firma.ru", "sales@firma.ru", None, None, 2, ["email:role"]),
    ("buh@zavod.ru", "buh@zavod.ru", None, None, 2, ["email:role"]),
    ("Info+crm@Firma.ru", "info+crm@firma.ru", None, None, 2, [S, "email:role"]),
    ("test@test.ru", "test@test.ru", None, None, 2, ["email:test_like"]),
    ("asdf@mail.ru", "asdf@mail.ru", None, None, 2, ["email:test_like"]),
    ("test123@gmail.com", "test123@gmail.com", None, None, 2, ["email:test_like"]),
    ("aaaa@mail.ru", "aaaa@mail.ru", None, None, 2, ["email:test_like"]),
    ("ivan@example.com", "ivan@example.com", None, None, 2, ["email:test_like"]),
    ("noemail@noemail.ru", "noemail@noemail.ru", None, None, 2, ["email:test_like"]),
]

# (raw, issue): nothing valid, qc 3, every value null
REJECTED = [
    ("ivan@mail", "email:invalid_syntax"),
    ("ivan@@mail.ru", "email:invalid_syntax"),
    ("ivan..petrov@mail.ru", "email:invalid_syntax"),
    (".ivan@mail.ru@", "email:invalid_syntax"),
    ("@mail.ru", "email:invalid_syntax"),
    ("ivan@.ru", "email:invalid_syntax"),
    ("ivan@mail..ru", "email:invalid_syntax"),
    ("ivan@-mail.ru", "email:invalid_syntax"),
    ("ivan@mail.123", "email:invalid_syntax"),
    ("ivan@localhost", "email:invalid_syntax"),
    ("ivan@server.local", "email:invalid_syntax"),
    ("ivan@[192.168.0.1]", "email:invalid_syntax"),
    ("ivan.mail.ru", "email:no_address"),
    ("нет", "email:no_address"),
    ("-", "email:no_address"),
    ("не указан", "email:no_address"),
    ("=cmd|' /C calc'!A0", "email:no_address"),
    ("=HYPERLINK(\"http://x.ru\")@x", "email:invalid_syntax"),
]

# Real domains that look like typos of popular ones: a naive fixer changed most of them.
LOOKALIKES = [
    "vk.ru", "ok.ru", "bk.ru", "rt.ru", "main.ru", "mall.ru", "mai.ru", "mil.ru", "ya.ru", "gmail.ru",
    "mail.ua", "mail.kz", "mail.de", "mail.ee", "mail.bg", "mail.com", "email.it", "gmx.de", "gmx.net",
    "gmx.com", "gmx.at", "gmx.us", "web.de", "list.ru", "inbox.ru", "inbox.lv", "inbox.com", "ymail.com",
    "yandex.by", "yandex.kz", "yandex.com", "yandex.net", "live.ru", "live.com", "live.de", "me.com",
    "mac.com", "msn.com", "i.ua", "tut.by", "ukr.net", "pochta.ru", "mts.ru", "qq.com", "wp.pl", "o2.pl",
    "aol.com", "ro.ru",
]


def _norm(value):
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return None
    if hasattr(value, "item") and not isinstance(value, (list, str)):
        return value.item()
    return value


def _row(frame: pd.DataFrame, i: int) -> dict:
    return {c: _norm(frame[c].iloc[i]) for c in EMAIL_COLUMNS}


@pytest.mark.parametrize(("raw", "email", "emails", "suggestion", "qc", "issues"), CASES)
def test_table(raw, email, emails, suggestion, qc, issues):
    assert clean_email(raw) == {
        "email": email,
        "emails": emails or [email],
        "email_suggestion": suggestion,
        "qc_email": qc,
        "email_issues": issues,
    }


@pytest.mark.parametrize(("raw", "issue"), REJECTED)
def test_rejected(raw, issue):
    assert clean_email(raw) == {**{c: None for c in EMAIL_COLUMNS}, "qc_email": 3, "email_issues": [issue]}


@pytest.mark.parametrize("domain", LOOKALIKES)
def test_legitimate_lookalikes_are_never_corrected(domain):
    assert suggest_domain(domain) is None
    out = clean_email(f"ivan.petrov@{domain}")
    assert out["email"] == f"ivan.petrov@{domain}"
    assert out["email_suggestion"] is None
    assert out["qc_email"] == 0


def test_lookalike_table_is_disjoint_from_typos():
    assert len(LOOKALIKES) >= 38
    for domain in E.POPULAR_DOMAINS | E.LOOKALIKE_DOMAINS:
        assert suggest_domain(domain) is None, domain


@pytest.mark.parametrize(
    ("domain", "expected"),
    [
        ("gmail.con", "gmail.com"), ("gmail.cm", "gmail.com"), ("gmail.om", "gmail.com"),
        ("gmaill.com", "gmail.com"), ("gnail.com", "gmail.com"), ("mail.ri", "mail.ru"),
        ("mail.ry", "mail.ru"), ("maill.ru", "mail.ru"), ("yandex.ri", "yandex.ru"),
        ("yanex.ru", "yandex.ru"), ("yandeks.ru", "yandex.ru"), ("rambler.ry", "rambler.ru"),
        ("hotmail.co", "hotmail.com"), ("outlook.co", "outlook.com"), ("icloud.con", "icloud.com"),
        ("bk.ry", "bk.ru"),  # a short label, but ".ry" does not exist
        # no suggestion: too far, too short with a real TLD, or ambiguous
        ("vk.ry", None), ("gmail.de", None), ("mai.ru", None), ("company.ru", None),
        ("hotmail.es", None), ("mail.ua", None), ("yahoo.co.jp", None),
    ],
)
def test_suggest_domain(domain, expected):
    assert suggest_domain(domain) == expected


@pytest.mark.parametrize("raw", [None, "", "   ", "\t", float("nan"), pd.NA])
def test_blank_is_all_null(raw):
    assert clean_email(raw) == {c: None for c in EMAIL_COLUMNS}


def test_vectorised_table_and_index():
    raws = [c[0] for c in CASES] + [r[0] for r in REJECTED] + [f"a.b@{d}" for d in LOOKALIKES]
    raws += [None, "", "  "]
    values = pd.Series(raws + raws[:5], index=range(7, 7 + len(raws) + 5), dtype=object)
    frame = clean_emails(values)
    assert list(frame.columns) == EMAIL_COLUMNS
    assert frame.index.equals(values.index)
    assert str(frame["qc_email"].dtype) == "Int8"
    for i, raw in enumerate(values.tolist()):
        assert _row(frame, i) == clean_email(raw), raw


def test_vectorised_empty_and_not_mutated():
    assert list(clean_emails(pd.Series([], dtype=object)).columns) == EMAIL_COLUMNS
    values = pd.Series([" Ivan@Mail.ru ", None], dtype=object)
    before = values.copy()
    frame = clean_emails(values)
    assert values.equals(before)
    assert frame["qc_email"].isna().tolist() == [False, True]


# --------------------------------------------------------------------------------------
# Properties
# --------------------------------------------------------------------------------------

atext = "abcdefghijklmnopqrstuvwxyz0123456789_!#$%&'*+-/=?^`{|}~"
local_parts = st.one_of(
    st.text(atext + ".", min_size=1, max_size=70),
    st.from_regex(r"[a-z0-9]{1,12}(?:[._+-][a-z0-9]{1,8}){0,2}", fullmatch=True),
)
labels = st.one_of(
    st.from_regex(r"[a-z0-9](?:[a-z0-9-]{0,10}[a-z0-9])?", fullmatch=True),
    st.text("abcxn-0129", min_size=1, max_size=8),
    st.sampled_from(["xn--p1ai", "xn--80a1acny", "ab--cd", "a" * 64, "test", "local", "onion"]),
)
domains = st.one_of(
    st.lists(labels, min_size=1, max_size=4).map(".".join),
    st.sampled_from(sorted(E.POPULAR_DOMAINS | E.LOOKALIKE_DOMAINS)),
    st.sampled_from(["gmail.con", "mail.ri", "gmial.com", "yandex.ry", "mailinator.com", "x.y.123"]),
)
ascii_addresses = st.builds(lambda lo, d: f"{lo}@{d}", local_parts, domains)
addresses = st.one_of(
    ascii_addresses,
    st.builds(lambda lo, d: f"{lo}@{d}", st.sampled_from(["иван", "ivаn", "josé", "用户"]),
              st.sampled_from(["почта.рф", "mail.ru", "bücher.de", "пример.испытание"])),
)


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ascii_addresses)
def test_fast_syntax_agrees_with_email_validator(address):
    fast = E._fast_syntax(address)
    if fast is not E._DEFER:
        assert fast == E._slow_syntax(address)


def test_fast_syntax_covers_plain_addresses():
    for address in ["ivan@mail.ru", "a.b-c_d+e@sub.example.co.uk", "89161112233@bk.ru"]:
        assert E._fast_syntax(address) == address


cells = st.one_of(
    addresses,
    addresses.map(str.upper),
    addresses.map(lambda a: f"  {a} "),
    addresses.map(lambda a: f'"Иван" <{a}>'),
    st.lists(addresses, min_size=2, max_size=3).map("; ".join),
)


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cells)
def test_idempotent(raw):
    first = clean_email(raw)
    if first["email"] is None:
        return
    again = clean_email(first["email"])
    assert again["email"] == first["email"]
    assert again["email_suggestion"] == first["email_suggestion"]
    flags = [i for i in first["email_issues"] or [] if i not in (S, "email:several", "email:partly_invalid")]
    assert (again["email_issues"] or []) == flags
    assert again["qc_email"] == (first["qc_email"] if flags else 0)


junk = st.one_of(
    st.text(max_size=300),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=60),
    st.text(alphabet="ab@.;, <>\"'«»\x00\n\t\u200bия-+", max_size=60),
    st.binary(max_size=200).map(lambda b: b.decode("latin-1")),
    st.sampled_from([
        "=cmd|' /C calc'!A0", "a@b.ru" * 20_000, "@" * 100_000, "x@" + "a." * 200 + "ru",
        "\ud800@mail.ru", "mailto:" * 100, "a@xn--" + "9" * 300 + ".com", "@SUM(1+1)*cmd|' /C calc'!A0",
    ]),
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(junk, cells))
def test_never_raises(raw):
    out = clean_email(raw)
    assert set(out) == set(EMAIL_COLUMNS)
    assert out["qc_email"] in (None, 0, 1, 2, 3)
    if out["email"] is not None:
        assert out["emails"][0] == out["email"] and len(set(out["emails"])) == len(out["emails"])
        assert out["email"] == out["email"].lower() and out["email"].count("@") == 1
        assert out["email_suggestion"] != out["email"]
    else:
        assert out["emails"] is None and out["email_suggestion"] is None


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(junk, cells), max_size=25))
def test_vectorised_agrees_with_scalar(raws):
    frame = clean_emails(pd.Series(raws, dtype=object))
    assert len(frame) == len(raws)
    for i, raw in enumerate(raws):
        assert _row(frame, i) == clean_email(raw), raw


def test_plain_addresses_take_the_array_path():
    texts = ["ivan@mail.ru", "Ivan.Petrov@Mail.RU", "ivan@gmail.con", "info@firma.ru", "x@mailinator.com"]
    columns = {c: np.full(len(texts) + 1, None, dtype=object) for c in EMAIL_COLUMNS}
    done = E._hot_rows(texts, np.ones(len(texts), dtype=bool), np.arange(len(texts)), columns)
    assert done.all()
