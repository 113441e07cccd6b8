"""Junk, test and spam detection: table tests, name corpora and properties.

False positives are worse than misses here, so every predicate has a table of real values
that must pass, with names of many origins, short and unusual ones.
"""

from __future__ import annotations

import importlib
import os
import random
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipelines.cleanse import junk
from pipelines.cleanse.junk import (
    JUNK_NAME,
    SPAM,
    TEST_RECORD,
    is_junk_email,
    is_junk_phone,
    is_keyboard_mash,
    is_spam_text,
    is_test_email,
    is_test_value,
    junk_reasons,
)

# --------------------------------------------------------------------------- test markers

TEST_VALUES = [
    "тест", "Тест", "ТЕСТ", "test", "Test", "TEST", "Тест Тестов", "Тестов Тест Тестович", "Testov Test",
    "Тестовый клиент", "тестовая запись", "Иван Тест", "test123", "Test User", "testtest", "ТестТест",
    "проверка", "Проверка связи", "Иванова Тестовна", "Demo", "demo user", "Sample", "Example",
    "пример", "Dummy", "xxx", "XXX", "ааа", "Zzzz", "ффф ыыы", "123", "1111", "12345", "987654",
    "Тестов Тестова", "tеst",  # Cyrillic е inside a Latin word
]

NOT_TEST_VALUES = [
    "Иван Иванов", "Иванов Иван Иванович", "Вася Пупкин", "John Doe", "Jane Smith", "Тестов",
    "Тестов Иван Петрович", "Testov", "Joe Sample", "Anna Tester", "Пример Анна", "Демидов",
    "Тесла", "Testa Maria", "Contestabile", "Протестантов", "Attestatov", "Ли", "Ng", "Ой",
    "Ким Ир", "Xu Li", "Aa", "Ааа-Ли", "Клиент", "Покупатель", "Не указано", "-", "12",
    "Анна-Мария", "О'Нил", "Müller", "Zbigniew Brzęczyszczykiewicz", "Иванов И.И.",
]


@pytest.mark.parametrize("text", TEST_VALUES)
def test_is_test_value_positive(text: str) -> None:
    assert is_test_value(text)


@pytest.mark.parametrize("text", NOT_TEST_VALUES)
def test_is_test_value_negative(text: str) -> None:
    assert not is_test_value(text)


# --------------------------------------------------------------------------- keyboard mash

MASH = [
    "qwerty", "Qwerty", "QWERTY", "asdf", "asdfgh", "zxcv", "zxcvbn", "qwer", "ewq", "fdsa",
    "йцукен", "Йцукен", "фыва", "фывапролдж", "ячсмит", "ячсмитьбю", "ЙЦУКЕН ФЫВА", "asdf qwer",
    "jkjkjk", "hjhjhj", "лдлдлд", "фыфыфы", "asdasdasd", "sdfsdf", "фывфыв", "ааааа", "zzzzzz",
    "ghjkl", "dfghjk", "bcdfghk", "пврнгшщз", "qazwsx", "1qaz2wsx", "Ррррр", "xcvbnm", "Sdfsdf Sdfsdf",
]

NOT_MASH = [
    # short and consonant-heavy real names, in both scripts
    "Щукин", "Шмидт", "Ng", "Ли", "Ким", "Ой", "Ыйык", "Ооржак", "Пшеничный", "Кшиштоф", "Mkrtchyan",
    "Мкртчян", "Zbigniew", "Brzęczyszczykiewicz", "Sczepanski", "Chruschtschow", "Schtschupak",
    "Shchukin", "Wszczebrzeszyn", "Grzegorz Szczęsny", "Tskhvedadze", "Mgeladze", "Vlk", "Trnka", "Smrž",
    "Krk", "Hrvoje", "Nguyễn Thị Loan", "Xu", "Ye", "Öztürk", "Łukasz", "Torbjørn Strøm", "Məmmədov",
    "Kılıçdaroğlu", "Sasa", "Kiki", "Nana", "Lala", "Jojo", "Doherty", "Флаэрти", "Кукенгеймер",
    "Коломийцук", "Fertyuk", "Вапров", "Аннна",  # typo with three n: a real person
    "Rjdfktdf",  # "Ковалева" typed on the Latin layout: a real person
    "Иванов Qwerty",  # one mash word among real ones is not a mash name
    "Ζαχαρίας", "ნანა", "Լալա", "李小龙", "Фъстък", "Аль-Хашими",
]


@pytest.mark.parametrize("text", MASH)
def test_is_keyboard_mash_positive(text: str) -> None:
    assert is_keyboard_mash(text)


@pytest.mark.parametrize("text", NOT_MASH)
def test_is_keyboard_mash_negative(text: str) -> None:
    assert not is_keyboard_mash(text)


# --------------------------------------------------------------------------- spam

SPAM_NAMES = [
    "http://spam.ru", "https://bit.ly/abc", "www.casino-online.com", "Иван www.site.ru",
    "t.me/joinchat/abc", "<a href='http://x.ru'>Иван</a>", "<script>alert(1)</script>",
    "[url=http://x]click[/url]", "Заработок в интернете", "заработок от 100000 в месяц", "Viagra",
    "VIAGRA недорого", "Cialis", "порно", "Быстрые деньги", "казино онлайн", "Ставки на спорт",
    "@crypto_king", "Иван @ivan_money", "ivanov.ru", "Иван 100$ в день", "1000 руб за клик",
    "Купить диплом", "Продам гараж", "Bitcoin Ivan", "Биткоин инвестиции", "Криптовалюта",
    "Займ без отказа", "Скидка 50%", "Бесплатно!", "Промокод SALE", "AAAAAAAAAAAA",
    "Иван!!!!!!!!!!", "Знакомства 18+",
]

NOT_SPAM_NAMES = [
    "Иван Петров", "Анна-Мария Иванова", "Mary O'Neil", "Nguyễn Thị Loan", "Seo Ji-ho", "Pornchanok",
    "Порнова Анна", "Кредитов", "Казино", "Casino Marco", "Bonus", "Free", "Сексов",
    "Купитман", "Продамов", "Иванов И.И.", "John Smith Jr.", "Dr. Hans von Müller", "Ли Мин",
    "Ng", "Акцияев", "Зарабоков", "Иван ----------", "Анна          Петрова", "Smith, John",
    "Маша 💕", "Мамедов Эльдар Рашид оглы", "O'Brien-Smith", "José María Fernández y García",
    "Иванов (Петров)", "ООО «Ромашка»", "Pavel.Ivanov",
]


@pytest.mark.parametrize("text", SPAM_NAMES)
def test_is_spam_text_positive(text: str) -> None:
    assert is_spam_text(text)


@pytest.mark.parametrize("text", NOT_SPAM_NAMES)
def test_is_spam_text_negative(text: str) -> None:
    assert not is_spam_text(text)


COMPANY_SPAM = ["http://romashka.ru", "www.romashka.ru", "<b>Ромашка</b>", "Заработок в интернете",
                "ООО «Viagra»", "ООО РРРРРРРРРР"]
COMPANY_NOT_SPAM = ['ООО "Микрозайм"', "Bitcoin Suisse AG", "Booking.com B.V.", "Кредит Европа Банк",
                    "АО «КриптоПро»", "ООО «Купи Продай»", "Casino Guichard-Perrachon SA", "@Home Ltd",
                    'ООО "Бонус"', "Ozon.ru", "ООО «Инвестиции и финансы»", "ООО «Скидка»"]


@pytest.mark.parametrize("text", COMPANY_SPAM)
def test_is_spam_text_company_positive(text: str) -> None:
    assert is_spam_text(text, "company")


@pytest.mark.parametrize("text", COMPANY_NOT_SPAM)
def test_is_spam_text_company_negative(text: str) -> None:
    assert not is_spam_text(text, "company")


# --------------------------------------------------------------------------- e-mails

# (email, junk, test)
EMAILS = [
    ("test@test.ru", True, True),
    ("TEST@mail.ru", True, True),
    ("test123@gmail.com", True, True),
    ("test.user@yandex.ru", True, True),
    ("тест@почта.рф", True, True),
    ("ivan@example.com", True, True),
    ("j.doe@example.org", True, True),
    ("user@shop.test", True, True),
    ("asdf@asdf.com", True, False),
    ("qwerty@mail.ru", True, False),
    ("a@a.ru", True, False),
    ("aaa@aaa.aa", True, False),
    ("x@x.x", True, False),
    ("noemail@mail.ru", True, False),
    ("nomail@yandex.ru", True, False),
    ("no-email@gmail.com", True, False),
    ("net@net.ru", True, False),
    ("нет@нет.рф", True, False),
    ("none@none.ru", True, False),
    ("noreply@company.ru", True, False),
    ("user@nomail.ru", True, False),
    ("123@mail.ru", True, False),
    ("1111@mail.ru", True, False),
    ("123456@bk.ru", True, False),
    ("mail@mail.ru", True, False),
    ("info@info.ru", True, False),
    ("нет", True, False),
    ("none", True, False),
    ("ivan.petrov@gmail.com", False, False),
    ("89161234567@mail.ru", False, False),  # a phone number as the address: common and real
    ("contest@mail.ru", False, False),
    ("testa.maria@gmail.com", False, False),
    ("celeste@yahoo.com", False, False),
    ("anna@anna.ru", False, False),
    ("info@romashka.ru", False, False),
    ("mail@romashka.ru", False, False),
    ("olga.smirnova@yandex.ru", False, False),
    ("a.b@c.com", False, False),
    ("nguyen.van.a@gmail.com", False, False),
    ("li@ng.cn", False, False),
    ("o'neil@example.co.uk", False, False),
    ("ivan@testov.ru", False, False),
    ("protest.group@mail.ru", False, False),
    ("Ivan.Petrov@Mail.Ru", False, False),
    ("1985ivan@mail.ru", False, False),
    ("ivanov", False, False),
]


@pytest.mark.parametrize(("email", "junk", "test"), EMAILS)
def test_email_predicates(email: str, junk: bool, test: bool) -> None:
    assert is_junk_email(email) is junk
    assert is_test_email(email) is test


# --------------------------------------------------------------------------- phones

JUNK_PHONES = ["1111111", "111-11-11", "123456", "1234567", "+7 (999) 999-99-99", "89999999999",
               "8 (916) 000-00-00", "0000000", "8 800 123-45-67", "9876543", "+7 111 111 11 11",
               "111-11-11; 222-22-22"]
REAL_PHONES = ["+7 916 482-17-39", "8 (495) 613-28-74", "9161834560", "+44 20 7946 0958",
               "8 916 111-22-33, 8 (495) 613-28-74", "1234", "", "доб. 123", "+7 (912) 570-94-16",
               "111-11-11; 8 916 482-17-39", "+7 495 777-77-78"]
# Subscriber parts that are digit runs are the classic fakes ("123-45-67", "765-43-21").
JUNK_PHONES += ["+7 916 123-45-67", "8 (495) 765-43-21", "+7 (912) 345-67-89"]


@pytest.mark.parametrize("phone", JUNK_PHONES)
def test_is_junk_phone_positive(phone: str) -> None:
    assert is_junk_phone(phone)


@pytest.mark.parametrize("phone", REAL_PHONES)
def test_is_junk_phone_negative(phone: str) -> None:
    assert not is_junk_phone(phone)


# --------------------------------------------------------------------------- records

# (record, reasons)
RECORDS = [
    ({"full_name": "Тест Тестов"}, [TEST_RECORD]),
    ({"last_name": "Тестов", "first_name": "Тест"}, [TEST_RECORD]),
    ({"full_name": "Иванов Иван", "email": "test@mail.ru"}, [TEST_RECORD]),
    ({"full_name": "Иванов Иван", "email": "ivan@mail.ru; test@example.com"}, [TEST_RECORD]),
    ({"last_name": "Тестов", "first_name": "Иван", "phone": "89999999999"}, [TEST_RECORD]),
    ({"last_name": "Тестов", "first_name": "Иван", "email": "net@net.ru"}, [TEST_RECORD]),
    ({"full_name": "asdf qwer"}, [JUNK_NAME]),
    ({"first_name": "Йцукен", "last_name": "Фыва"}, [JUNK_NAME]),
    ({"full_name": "Иван @crypto_king"}, [SPAM]),
    ({"full_name": "Иван Петров", "company_name": "<b>Ромашка</b>"}, [SPAM]),
    ({"full_name": "Test http://spam.ru"}, [TEST_RECORD, SPAM]),
    ({"full_name": "qwerty", "email": "test@test.ru"}, [TEST_RECORD, JUNK_NAME]),
    # kept: real people, even with junk contacts or a surname that looks like a marker
    ({"last_name": "Тестов", "first_name": "Иван", "phone": "+7 916 482-17-39"}, None),
    ({"full_name": "Иванов Иван Иванович", "phone": "111-11-11"}, None),
    ({"full_name": "Тестов", "last_name": "Тестов"}, None),  # the same surname twice is still a surname
    ({"full_name": "Иван Иванов", "email": "net@net.ru"}, None),
    ({"full_name": "Иванов Qwerty"}, None),
    ({"full_name": "Ng Li", "email": "li@ng.cn"}, None),
    ({"company_name": 'ООО "Микрозайм"', "full_name": "Петров Пётр"}, None),
    ({"full_name": "Mkrtchyan Armen", "phone": "+374 10 123456"}, None),
    ({"email": "noemail@mail.ru"}, None),  # nothing but a junk e-mail: no_identity, not a test
    ({}, None),
]

_COLUMNS = ["full_name", "last_name", "first_name", "middle_name", "email", "phone", "company_name"]


def test_junk_reasons_table() -> None:
    frame = pd.DataFrame([{c: r.get(c) for c in _COLUMNS} for r, _ in RECORDS], dtype=object,
                         index=range(100, 100 + len(RECORDS)))
    out = junk_reasons(frame)
    assert list(out.index) == list(frame.index)
    for (record, expected), got in zip(RECORDS, out.tolist()):
        assert got == expected, record


def test_junk_reasons_any_subset_of_columns() -> None:
    assert junk_reasons(pd.DataFrame({"email": ["test@test.ru", None]}, dtype=object)).tolist() == [
        [TEST_RECORD], None]
    assert junk_reasons(pd.DataFrame(index=[7, 8])).tolist() == [None, None]
    assert junk_reasons(pd.DataFrame({"full_name": []}, dtype=object)).tolist() == []


# --------------------------------------------------------------------------- real-name corpora

_CORPUS_JUNK = {"ООО", "Ооо", "ППП", "ХХХ", "Грдцб", "Ппвкх", "ДСПМК-92"}  # junk rows inside the corpus


def _russian_names() -> list[str]:
    import russiannames

    data = Path(russiannames.__file__).parent / "data"
    rng = random.Random(5)
    names: list[str] = []
    for dataset, sample in (("names", None), ("midnames", 15_000), ("surnames", 30_000)):
        values = sorted({str(v) for v in pd.read_parquet(data / f"{dataset}.parquet", columns=["text"])["text"]
                         .dropna()})
        names.extend(values if sample is None else rng.sample(values, sample))
    return names


def _faker_names() -> list[str]:
    import faker

    names: set[str] = set()
    for locale in sorted(os.listdir(Path(faker.__file__).parent / "providers" / "person")):
        if locale.startswith("_"):
            continue
        provider = importlib.import_module(f"faker.providers.person.{locale}").Provider
        for attr in ("first_names", "first_names_male", "first_names_female", "last_names"):
            values = getattr(provider, attr, ())
            if isinstance(values, dict):
                values = list(values)
            if isinstance(values, (list, tuple, set, frozenset)):
                names.update(v for v in values if isinstance(v, str))
    return sorted(names)


@pytest.mark.parametrize("corpus", [_russian_names, _faker_names])
def test_real_name_corpora_are_not_junk(corpus) -> None:  # type: ignore[no-untyped-def]
    names = corpus()
    assert len(names) > 10_000
    assert {n for n in names if is_keyboard_mash(n)} <= _CORPUS_JUNK
    assert {n for n in names if is_spam_text(n)} == set()
    assert {n for n in names if is_test_value(n)} <= _CORPUS_JUNK | {"Демо", "Проверочный номер АТС-Ц"}
    pairs = pd.DataFrame({"full_name": [f"{a} {b}" for a, b in zip(names[::2], names[1::2])]}, dtype=object)
    flagged = junk_reasons(pairs)
    assert flagged.notna().sum() <= 3


# --------------------------------------------------------------------------- properties

_ANY_TEXT = st.one_of(
    st.text(max_size=50),
    st.text(alphabet="qwertyasdfgzxcvйцукфывячсм @.-_<>/:!$1", max_size=30),
    st.sampled_from(["=cmd|' /C calc'!A0", "\x00\x1f\x7f", "a" * 100_000, "@" * 5000, "<" * 3000 + ">",
                     "http://" + "x" * 50_000, "тест" * 25_000, "\ud7ff\ue000", "Иван\u0301"]),
)


@settings(max_examples=300, deadline=None)
@given(_ANY_TEXT)
def test_predicates_never_raise(text: str) -> None:
    for predicate in (is_test_value, is_keyboard_mash, is_spam_text, is_junk_email, is_test_email, is_junk_phone):
        assert isinstance(predicate(text), bool)
    assert isinstance(is_spam_text(text, "company"), bool)


def _name(record: dict[str, str | None]) -> str:
    return " ".join(v for v in (record["full_name"], record["last_name"]) if isinstance(v, str))


_RECORD = st.fixed_dictionaries({
    "full_name": st.one_of(st.none(), _ANY_TEXT, st.sampled_from(["Тест", "asdf", "Иван Петров", "Тестов"])),
    "last_name": st.one_of(st.none(), st.sampled_from(["Тестов", "Иванов", "qwer", "Ли", "@spam_bot"])),
    "email": st.one_of(st.none(), st.sampled_from(["test@test.ru", "net@net.ru", "ivan@mail.ru",
                                                   "a@b.ru; c@d.ru"])),
    "phone": st.one_of(st.none(), st.sampled_from(["1111111", "+7 916 482-17-39", "89999999999"])),
    "company_name": st.one_of(st.none(), st.sampled_from(["www.x.ru", 'ООО "Ромашка"'])),
})
_RECORD_COLUMNS = ["full_name", "last_name", "email", "phone", "company_name"]


@settings(max_examples=100, deadline=None)
@given(st.lists(_RECORD, max_size=12))
def test_junk_reasons_agrees_with_the_scalar_rules(records: list[dict[str, str | None]]) -> None:
    frame = pd.DataFrame(records, columns=_RECORD_COLUMNS, dtype=object)
    out = junk_reasons(frame).tolist()
    for i, record in enumerate(records):
        # the distinct-value machinery gives each row what it would get alone
        assert out[i] == junk_reasons(frame.iloc[[i]]).tolist()[0]
        reasons = out[i] or []
        name = _name(record)
        assert (JUNK_NAME in reasons) == (bool(name.strip()) and is_keyboard_mash(name))
        company = record["company_name"]
        assert (SPAM in reasons) == ((bool(name.strip()) and is_spam_text(name))
                                     or (company is not None and is_spam_text(company, "company")))
        if (name.strip() and is_test_value(name)) or (record["email"] and any(
                is_test_email(e) for e in record["email"].split("; "))):
            assert TEST_RECORD in reasons


# --------------------------------------------------------------------------- fast paths

# Pieces that make words close to what the screens look for: keyboard runs and columns,
# repeats, consonant clusters and digraphs, test and spam words, both scripts and cases.
_PIECES = ["qwe", "rty", "uiop", "asd", "fgh", "jkl", "zxc", "vbnm", "qaz", "wsx", "йцу", "кен", "фыв", "апр",
           "олдж", "ячс", "мить", "йфя", "цыч", "test", "тест", "крипто", "заработ", "bitcoin", "займ", "demo",
           "тестов", "sch", "tsch", "shch", "yy", "ь", "ъ", "й", "ё", "Ё", "a", "e", "y", "о", "у", "и", "nn",
           "аааа", "bcd", "рст", "mkrt", "Str", "Ива", "нов", "Ng", "Li", "ana", "ala", "сас"]
_WORDS = st.one_of(
    st.lists(st.sampled_from(_PIECES), min_size=1, max_size=4).map("".join),
    st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCWXYZ", min_size=1, max_size=12),
    st.text(alphabet="абвгдеёжзийклмнопрстуфхцчшщъыьэюяАБЁЙЪЫ", min_size=1, max_size=12),
    st.text(alphabet="aeoyаеоуpPсСхXkKмМ", min_size=1, max_size=8),  # look-alike letters mixed
    st.sampled_from(["Тест", "ТЕСТ", "Демо", "Sample", "Viagra", "Qwerty", "Фыва", "Иванов", "Мкртчян",
                     "Brzęczyszczykiewicz", "Nguyễn", "Ζαχαρίας"]),
)


def _clean_in_full(word: str) -> bool:
    facts = junk._word_facts(word)
    return facts is not None and not (facts.strong or facts.one_letter or facts.marker or facts.mash
                                      or facts.spam or facts.phrase)


@settings(max_examples=1500, deadline=None)
@given(_WORDS)
def test_clean_word_screen_agrees_with_the_word_facts(word: str) -> None:
    assert junk._is_clean_word(word) == _clean_in_full(word)


def test_clean_word_screen_agrees_on_real_names() -> None:
    rng = random.Random(11)
    names = rng.sample(_russian_names(), 4000) + rng.sample(_faker_names(), 4000)
    words = {w for n in names for w in n.split()} | {w.lower() for n in names for w in n.split()}
    assert [w for w in words if junk._is_clean_word(w) != _clean_in_full(w)] == []


_INITIALS_TEXT = st.lists(st.sampled_from("АВЕИКМОПСТЁJRAXYZ"), min_size=1, max_size=3).map(lambda cs: "".join(
    c + "." for c in cs))
_NAME = st.lists(st.one_of(_WORDS, _INITIALS_TEXT, st.sampled_from(["И.И.", "www.", "a.ru", "100$", "@ivan_x", "-",
                                                                "Jr.", "1985", "О'Нил", "Анна-Мария"])),
                 min_size=0, max_size=4).flatmap(
    lambda words: st.sampled_from([" ", "  ", "\t", " \u00a0"]).map(lambda sep: sep.join(words)))


@settings(max_examples=800, deadline=None)
@given(_NAME)
def test_name_verdict_shortcuts_agree_with_the_full_rules(name: str) -> None:
    assert junk._name_verdict(name) == junk._name_verdict_in_full(name)
    if junk._clean_names([name])[0]:
        assert junk._name_verdict_in_full(name) == junk._CLEAN_NAME


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.none(), _NAME, _ANY_TEXT), max_size=20))
def test_clean_names_in_arrow_and_in_python_agree(names: list[str | None]) -> None:
    python = junk._clean_names(names)
    assert list(python) == [isinstance(n, str) and len(n) <= 2000 and bool(n.split())
                            and all(map(junk._is_clean_chunk, n.split())) for n in names]
    try:
        array = pa.array(names, type=pa.string())
    except UnicodeEncodeError:  # lone surrogates: only the Python path takes them
        return
    # Arrow splits at spaces only, so a name with other white space is left to the full rules
    arrow = junk._clean_names(array)
    assert all(p for a, p in zip(arrow, python) if a)
    assert list(arrow) == [p and not any(ch.isspace() and ch != " " for ch in n) for n, p in zip(names, python)]


_NAME_PART = st.one_of(st.none(), st.just(""), st.just(float("nan")), _NAME, st.sampled_from(["Тест", "Тестов",
                                                                                               "qwer", "Ли"]))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(_NAME_PART, _NAME_PART, _NAME_PART), max_size=12))
def test_names_joined_in_arrow_and_in_python_agree(rows: list[tuple]) -> None:
    frame = pd.DataFrame(rows, columns=["last_name", "first_name", "middle_name"], dtype=object)
    codes, names = junk._distinct_names(frame)
    if isinstance(names, pa.Array):
        names = names.to_pylist()
    joined = [names[c] if c >= 0 else None for c in codes]
    assert joined == [" ".join(v for v in row if isinstance(v, str)) for row in rows]


@settings(max_examples=100, deadline=None)
@given(st.lists(_RECORD, min_size=1, max_size=12))
def test_junk_reasons_in_arrow_and_in_python_agree(records: list[dict[str, str | None]]) -> None:
    frame = pd.DataFrame(records, columns=_RECORD_COLUMNS, dtype=object)
    # a lone surrogate cannot go to Arrow: that frame takes the Python path in every column
    odd = pd.DataFrame([dict.fromkeys(_RECORD_COLUMNS, "\ud800")], dtype=object)
    both = pd.concat([frame, odd], ignore_index=True)
    assert junk_reasons(both).tolist()[:-1] == junk_reasons(frame).tolist()


_EMAIL_CELLS = st.one_of(
    st.emails().map(str),
    st.lists(st.sampled_from(["test", "Test", "TEST", "тест", "x", "ivan", ".", "@", "example", "com", "ru",
                              "local", "localhost", "invalid", "dummy", ";", ", ", " ", "mailto:", "<", "tеst"]),
             max_size=8).map("".join),
    _ANY_TEXT,
)


@settings(max_examples=500, deadline=None)
@given(_EMAIL_CELLS)
def test_test_email_screen_never_hides_a_test_email(cell: str) -> None:
    try:
        screened = junk._may_hold_test_email(pa.array([cell], type=pa.string()))[0]
    except UnicodeEncodeError:
        return
    assert screened or not junk._any_test_email(cell)
    assert screened == (not cell.isascii() or bool(junk._test_email_hint().search(cell.lower())))
