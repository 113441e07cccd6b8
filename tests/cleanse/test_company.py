"""Organisation names: table tests and properties."""

from __future__ import annotations

import re

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipelines.cleanse import company
from pipelines.cleanse.company import (
    COMPANY_COLUMNS,
    clean_company_name,
    clean_company_names,
    fix_lookalikes,
    normalise_company_name,
)

LEGAL = "company:legal_form_standardised"
REFORMATTED = "company:reformatted"

# (raw, display, norm, qc, issues)
COMPANIES = [
    ('ООО "Ромашка"', 'ООО "Ромашка"', "ромашка", 0, None),
    ("ООО Ромашка", 'ООО "Ромашка"', "ромашка", 1, [REFORMATTED]),
    ("ООО «Ромашка»", 'ООО "Ромашка"', "ромашка", 1, [REFORMATTED]),
    ("ооо ромашка", 'ООО "Ромашка"', "ромашка", 1, [LEGAL]),
    ('ООО"Ромашка"', 'ООО "Ромашка"', "ромашка", 1, [LEGAL]),
    ('"ООО Ромашка"', 'ООО "Ромашка"', "ромашка", 1, [LEGAL]),
    ('""ООО ""Ромашка""""', 'ООО "Ромашка"', "ромашка", 1, [LEGAL]),  # CSV-doubled quotes
    ("Общество с ограниченной ответственностью «Ромашка»", 'ООО "Ромашка"', "ромашка", 1, [LEGAL]),
    ("ОБЩЕСТВО С ОГРАНИЧЕННОЙ ОТВЕТСТВЕННОСТЬЮ \"ВЕКТОР\"", 'ООО "ВЕКТОР"', "вектор", 1, [LEGAL]),
    ("Ромашка, ООО", 'ООО "Ромашка"', "ромашка", 1, [LEGAL]),
    ("Ромашка ООО", 'ООО "Ромашка"', "ромашка", 1, [LEGAL]),
    ("О.О.О. Ромашка", 'ООО "Ромашка"', "ромашка", 1, [LEGAL]),
    ("ООО ООО Ромашка", 'ООО "Ромашка"', "ромашка", 1, [REFORMATTED]),
    ("ПАО «Сбербанк России»", 'ПАО "Сбербанк России"', "сбербанк россии", 1, [REFORMATTED]),
    ("Банк ВТБ (ПАО)", 'ПАО "Банк ВТБ"', "банк втб", 1, [LEGAL]),
    ("Публичное акционерное общество «Магнит»", 'ПАО "Магнит"', "магнит", 1, [LEGAL]),
    ("Открытое акционерное общество \"Российские железные дороги\"", 'ОАО "Российские железные дороги"',
     "российские железные дороги", 1, [LEGAL]),
    ("ЗАО «Торговый дом «Перекрёсток»»", 'ЗАО "Торговый дом "Перекрёсток""', "торговый дом перекресток", 1,
     [REFORMATTED]),
    ("АО «Тинькофф Банк»", 'АО "Тинькофф Банк"', "тинькофф банк", 1, [REFORMATTED]),
    ("ФГУП «Почта России»", 'ФГУП "Почта России"', "почта россии", 1, [REFORMATTED]),
    ("Муниципальное унитарное предприятие \"Водоканал\"", 'МУП "Водоканал"', "водоканал", 1, [LEGAL]),
    ("ТОО «Казахтелеком»", 'ТОО "Казахтелеком"', "казахтелеком", 1, [REFORMATTED]),
    ("ИП Иванов Иван Иванович", "ИП Иванов Иван Иванович", "иванов иван иванович", 0, None),
    ("ИП ПЕТРОВА А.С.", "ИП Петрова А.С.", "петрова а с", 1, [REFORMATTED]),
    ("Индивидуальный предприниматель Сидоров П.П.", "ИП Сидоров П.П.", "сидоров п п", 1, [LEGAL]),
    ("Глава КФХ Ахметов Р.Р.", "ГКФХ Ахметов Р.Р.", "ахметов р р", 1, [LEGAL]),
    ("Pомашка", "Ромашка", "ромашка", 1, ["company:lookalike_fixed"]),  # Latin P
    ("OOO Romashka", 'ООО "Romashka"', "romashka", 1, [LEGAL]),
    ("Рога и Копыта", "Рога и Копыта", "рога и копыта", 0, None),
    ("Рога & Копыта", "Рога & Копыта", "рога и копыта", 0, None),
    ("Apple Inc.", "Apple Inc", "apple", 1, [LEGAL]),
    ("ACME, INC.", "ACME Inc", "acme", 1, [LEGAL]),
    ("Microsoft Corporation", "Microsoft Corp", "microsoft", 1, [LEGAL]),
    ("Siemens Aktiengesellschaft", "Siemens AG", "siemens", 1, [LEGAL]),
    ("Volkswagen AG", "Volkswagen AG", "volkswagen", 0, None),
    ("Robert Bosch GmbH", "Robert Bosch GmbH", "robert bosch", 0, None),
    ("Müller GmbH & Co. KG", "Müller GmbH & Co. KG", "muller", 0, None),
    ("Nestlé S.A.", "Nestlé SA", "nestle", 1, [LEGAL]),
    ("Booking.com B.V.", "Booking.com BV", "booking com", 1, [LEGAL]),
    ("Tesco PLC", "Tesco PLC", "tesco", 0, None),
    ("Macy's, Inc.", "Macy's Inc", "macys", 1, [LEGAL]),
    ("Johnson & Johnson", "Johnson & Johnson", "johnson and johnson", 0, None),
    ("LLC Romashka", "Romashka LLC", "romashka", 1, [LEGAL]),
    ("Grand Hotel Spa", "Grand Hotel Spa", "grand hotel spa", 0, None),  # "Spa" is not S.p.A.
    ("Ferrari S.p.A.", "Ferrari SpA", "ferrari", 1, [LEGAL]),
    ("Firma Kowalski Sp. z o.o.", "Firma Kowalski Sp. z o.o.", "firma kowalski", 0, None),
    ("Яндекс", "Яндекс", "яндекс", 0, None),
    ("  ООО   \"Ромашка\"  ", 'ООО "Ромашка"', "ромашка", 0, None),  # spacing is not content
    ('ООО "123"', 'ООО "123"', "123", 2, ["company:no_letters"]),
    ("ЗАО Ромашка Лтд", 'ЗАО "Ромашка"', "ромашка", 2, ["company:multiple_legal_forms", REFORMATTED]),
    ('ООО "АО"', None, None, 3, ["company:legal_form_only"]),
    ("iPhoneСервис", "iPhoneСервис", "iphoneсервис", 2, ["company:mixed_script"]),
    ("ООО", None, None, 3, ["company:legal_form_only"]),
    ("GmbH & Co. KG", None, None, 3, ["company:legal_form_only"]),
    ("нет", None, None, 3, ["company:placeholder"]),
    ("-", None, None, 3, ["company:placeholder"]),
    ("N/A", None, None, 3, ["company:placeholder"]),
    ("физ. лицо", None, None, 3, ["company:not_a_company"]),
    ("Частное лицо", None, None, 3, ["company:not_a_company"]),
    ("???", None, None, 3, ["company:placeholder"]),
]


@pytest.mark.parametrize(("raw", "display", "norm", "qc", "issues"), COMPANIES)
def test_clean_company_name_table(raw: str, display: str | None, norm: str | None, qc: int,
                                  issues: list[str] | None) -> None:
    assert clean_company_name(raw) == {"company_name": display, "company_name_norm": norm, "qc_company": qc,
                                       "company_issues": issues}


@pytest.mark.parametrize(("a", "b"), [
    ('ООО "Ромашка"', "Общество с ограниченной ответственностью «РОМАШКА»"),
    ("Ромашка, ООО", "ООО Pомашка"),
    ("ЗАО «Ёлка»", "Елка ЗАО"),
    ("Рога и копыта", "Рога & Копыта"),
    ("Apple Inc.", "APPLE INCORPORATED"),
    ("Nestlé S.A.", "Nestle SA"),
])
def test_spellings_of_one_company_share_the_key(a: str, b: str) -> None:
    assert clean_company_name(a)["company_name_norm"] == clean_company_name(b)["company_name_norm"]


@pytest.mark.parametrize(("a", "b"), [
    ('ООО "Ромашка"', 'ООО "Ромашка-2"'),
    ('ООО "Альфа"', 'ООО "Альфа Плюс"'),
    ("ИП Иванов И.И.", "ИП Иванов И.П."),
])
def test_different_companies_keep_different_keys(a: str, b: str) -> None:
    assert clean_company_name(a)["company_name_norm"] != clean_company_name(b)["company_name_norm"]


@pytest.mark.parametrize(("text", "fixed", "changed", "unfixable"), [
    ("Pомашка", "Ромашка", True, False),
    ("Аcme", "Acme", True, False),  # Cyrillic А in a Latin word
    ("СТPОЙMАРКЕТ", "СТРОЙМАРКЕТ", True, False),
    ("Ромашка", "Ромашка", False, False),
    ("IT-Сервис", "IT-Сервис", False, False),  # two words, each in one script
    ("Сервисdesk", "Сервисdesk", False, True),
])
def test_fix_lookalikes(text: str, fixed: str, changed: bool, unfixable: bool) -> None:
    assert fix_lookalikes(text) == (fixed, changed, unfixable)


def test_normalise_company_name() -> None:
    assert normalise_company_name("  «Торговый  дом»  Ёлка-2 ") == "торговый дом елка 2"


def test_vectorised_columns_index_and_blanks() -> None:
    values = pd.Series(["ООО Ромашка", None, " ", "ООО Ромашка"], index=[5, 6, 7, 8], dtype=object)
    out = clean_company_names(values)
    assert list(out.columns) == COMPANY_COLUMNS
    assert list(out.index) == [5, 6, 7, 8]
    assert str(out["qc_company"].dtype) == "Int8"
    assert out.loc[6].isna().all() and out.loc[7].isna().all()
    assert out.loc[8, "company_name"] == 'ООО "Ромашка"'


# --------------------------------------------------------------------------- properties

_NAME_TEXT = st.one_of(
    st.text(max_size=60),
    st.builds(lambda form, name, q: f"{form} {q[0]}{name}{q[1]}",
              st.sampled_from(["ООО", "ооо", "АО", "ИП", "Общество с ограниченной ответственностью", "LLC", ""]),
              st.text(alphabet="абвгдеёжзийклмнопрстуфхцчшщэюяАБВГДЕЁЖЗABCDEFxyz -.&'«»\"0123", max_size=25),
              st.sampled_from([("", ""), ("«", "»"), ('"', '"'), ("'", "'"), ('""', '""')])),
    st.builds(lambda name, form: f"{name} {form}", st.text(alphabet="abcdefXYZ .,&'-", max_size=20),
              st.sampled_from(["Inc.", "Ltd", "GmbH", "S.A.", "AG", "LLC", "(ПАО)", ", ООО"])),
    st.sampled_from(["=cmd|' /C calc'!A0", "\x00\x07\x1b[31m", "Ромашка" * 20_000, '"""""', "«»", "ООО «»"]),
)


@settings(max_examples=400, deadline=None)
@given(_NAME_TEXT)
def test_company_never_raises_and_is_idempotent(raw: str) -> None:
    first = clean_company_name(raw)
    if first["company_name"] is None:
        return
    second = clean_company_name(first["company_name"])
    assert second["company_name"] == first["company_name"]
    assert second["company_name_norm"] == first["company_name_norm"]
    # clean values are valid; a suspicious one may stay suspicious
    assert second["qc_company"] in ((0, 2) if first["qc_company"] == 2 else (0,))


def _row(frame: pd.DataFrame, i: int) -> dict:
    return {k: v if isinstance(v, list) or not pd.isna(v) else None for k, v in frame.iloc[i].items()}


@settings(max_examples=50, deadline=None)
@given(st.lists(st.one_of(st.none(), _NAME_TEXT), max_size=15))
def test_vectorised_agrees_with_scalar(values: list[str | None]) -> None:
    out = clean_company_names(pd.Series(values, dtype=object))
    for i, raw in enumerate(values):
        blank = raw is None or not raw.strip()
        assert _row(out, i) == (dict.fromkeys(COMPANY_COLUMNS) if blank else clean_company_name(raw.strip()))


# --------------------------------------------------------------------------- fast paths

_ANY_UNICODE = st.text(alphabet=st.characters(codec=None), max_size=30)
_SEPARATED = st.lists(st.one_of(st.sampled_from(["ООО", "Ромашка", "a", "-", "'", "Inc.", "S.A.,", "²", "Ⅻ", "_"]),
                                st.text(max_size=6)),
                      max_size=6).flatmap(
    lambda words: st.lists(st.sampled_from([" ", '"', "«", "»", "(", ")", ",", ";", "[", "\t"]),
                           min_size=len(words) + 1, max_size=len(words) + 1).map(
        lambda seps: "".join(s + w for s, w in zip(seps, [*words, ""]))))


@settings(max_examples=500, deadline=None)
@given(st.one_of(_ANY_UNICODE, _SEPARATED))
def test_alnum_pattern_is_str_isalnum(text: str) -> None:
    assert (company._ALNUM.search(text) is not None) == any(ch.isalnum() for ch in text)


@settings(max_examples=500, deadline=None)
@given(st.one_of(_ANY_UNICODE, _SEPARATED), st.data())
def test_span_between_words_agrees_with_match_offsets(text: str, data: st.DataObject) -> None:
    spans = [m.span() for m in company._WORD_TOKEN.finditer(text)]
    words = [text[a:b] for a, b in spans]
    first = data.draw(st.integers(0, len(words)))
    last = data.draw(st.integers(first, len(words)))
    expected = (spans[first - 1][1] if first else 0, spans[last][0] if last < len(words) else len(text))
    assert company._span_between(text, words, first, last) == expected


@settings(max_examples=300, deadline=None)
@given(st.lists(_NAME_TEXT, min_size=1, max_size=8))
def test_finished_names_do_not_depend_on_what_came_before(values: list[str]) -> None:
    # the cache of finished names (and of legal-form spellings) must not leak between values
    in_order = [clean_company_name(v) for v in values]
    company._finish_company_name.cache_clear()
    company._finish_person_name.cache_clear()
    company._lead_candidates.cache_clear()
    company._trail_candidates.cache_clear()
    assert [clean_company_name(v) for v in reversed(values)] == in_order[::-1]


@settings(max_examples=300, deadline=None)
@given(st.one_of(_ANY_UNICODE, st.text(alphabet=" \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f\x85\xa0\u2000\u2028\u3000aя", max_size=20)))
def test_str_split_spaces_like_the_whitespace_pattern(text: str) -> None:
    # clean_company_name collapses white space with str.split(), the same white space as \s
    assert " ".join(text.split()) == re.sub(r"\s+", " ", text).strip()
