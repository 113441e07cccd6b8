"""Rules of the quarantine's holding pen: test records, keyboard mash, spam.

Scalar predicates on text (each table-tested): :func:`is_test_value`,
:func:`is_keyboard_mash`, :func:`is_spam_text`, :func:`is_test_email`,
:func:`is_junk_email`, :func:`is_junk_phone`; and the record-level :func:`junk_reasons`,
which returns per row the quarantine reason codes ``test_record``, ``junk_name``, ``spam``.

False positives are worse than misses: a real customer sent to quarantine is lost to the
business until someone re-checks it. Hence:

* real names of any origin are never junk by shape alone: the keyboard-mash rules were
  tuned so that none of the ~450k surnames, first names and patronymics shipped by the
  ``russiannames`` package nor the person names of Faker's 80 locales are flagged (a test
  checks a sample of them);
* weak test markers ("Sample", "Demo", "Тестов") count only when nothing but markers
  surround them, or when the record's phone or e-mail is junk as well;
* an e-mail typed to fill a mandatory field ("net@net.ru", "noemail@mail.ru") is junk as an
  e-mail (:func:`is_junk_email`) but says nothing against the person: only a test marker in
  an e-mail ("test@...", "...@example.com") makes the record a test record;
* words that are spam in a person's name ("купить", "bitcoin", "займ") are ordinary in
  company names ("Микрозайм", "Bitcoin Suisse"), so companies are judged by the strong
  signals only (links, HTML, spam phrases such as "заработок в интернете").
Word lists: ``data/junk_words.csv``.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from collections.abc import Callable
from functools import lru_cache
from itertools import chain
from pathlib import Path
from typing import Literal, NamedTuple

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from pipelines.cleanse.base import is_digit_run
from pipelines.cleanse.company import fix_lookalikes

TEST_RECORD = "test_record"
JUNK_NAME = "junk_name"
SPAM = "spam"

NAME_FIELDS: tuple[str, ...] = ("full_name", "last_name", "first_name", "middle_name")

_DATA = Path(__file__).parent / "data" / "junk_words.csv"

#: Longest text the predicates read; a longer cell is judged by its beginning.
_SCAN_LIMIT = 2000

_TOKEN = re.compile(r"[^\W\d_]+|\d+")
_LATIN_VOWELS = frozenset("aeiouyıəøæœ")
# ъ is a vowel in Bulgarian ("Фъстък") and rare in Russian names, so it counts as one.
_CYRILLIC_VOWELS = frozenset("аеёиоуыэюяіїєәөүұъ")
_KEYBOARD_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm", "йцукенгшщзхъ", "фывапролджэ", "ячсмитьбю")
# Latin spellings of one sound, so that "Chruschtschow" or "Shchukin" count as few consonants.
_DIGRAPHS = re.compile(r"schtsch|shch|tsch|sch|tch|ch|sh|zh|kh|th|ph|gh|ts|tz|cz|sz|rz|dz|ck|ng|([b-df-hj-np-tv-z])\1")
# Key bounce repeats letters in real names ("Аннна", "Гайккккович"); five in a row is mash.
_SAME_LETTER_5 = re.compile(r"([^\W\d_])\1{4}")
_WHOLE_REPEAT = re.compile(r"^(.{2,4})\1+$")
_PART_REPEAT = re.compile(r"(.{2,3})\1\1")
# Keyboard columns, the other classic mash ("qazwsx" and its Russian twin "йфяцыч").
_COLUMN_MASH = ("qazwsx", "wsxedc", "zaqxsw", "йфяцыч", "цычувс")
_COLUMN_SHORT = frozenset({"qaz", "wsx", "edc", "rfv", "zaq", "xsw", "cde", "йфя", "цыч", "увс", "яфй"})
# The same key on the other layout: "Rjdfktdf" is "Ковалева" typed with Latin letters on.
_LAYOUT_LAT = "qwertyuiop[]asdfghjkl;'zxcvbnm,."
_LAYOUT_CYR = "йцукенгшщзхъфывапролджэячсмитьбю"
_TO_CYR = str.maketrans(_LAYOUT_LAT, _LAYOUT_CYR)
_TO_LAT = str.maketrans(_LAYOUT_CYR, _LAYOUT_LAT)
_TEST_REPEAT = re.compile(r"^(?:test|тест){2,}$")

# Cheap character tests before the full patterns: most names have none of these characters.
_LINK_TRIGGER = re.compile(r"[:/<>&\[]|www")
_NAME_TRIGGER = re.compile(r"[@.$€₽\d]")
_ANY_REPEAT = re.compile(r"(.)\1{7,}")
_URL = r"https?://|\bwww\.|\b(?:t\.me|wa\.me|vk\.com|vk\.cc|bit\.ly|tinyurl\.com|clck\.ru)/"
_HTML = r"<\s*/?\s*[a-z][a-z0-9]*(?:\s[^<>]*)?/?\s*>|&(?:lt|gt|amp|nbsp);|\[/?(?:url|img|b|link)[=\]]"
_LINK = re.compile(f"{_URL}|{_HTML}")
_HANDLE = r"(?:^|[\s,;(])@[A-Za-z0-9_]{4,}"
_BARE_DOMAIN = (r"\b[a-z0-9][a-z0-9-]*\.(?:ru|com|net|org|info|biz|io|me|xyz|online|site|shop|top|club|store|su|"
                r"pro|cc|ly|link|click|win|bet|рф)\b")
_MONEY = r"\d\s*[$€₽]|[$€₽]\s*\d|\d\s*(?:руб|usd|usdt|btc)\b"
_SPAM_IN_NAME = re.compile(f"{_HANDLE}|{_BARE_DOMAIN}|{_MONEY}")
# Separators ("----", "____", spaces) are repeated in legitimate exports; letters and "!" are not.
_REPEAT_SPAM_CHARS = frozenset("!?$€₽")
# Generic mailbox names: fine at a company ("info@romashka.ru"), junk at a same-named domain.
_GENERIC_LOCALS = frozenset({"info", "mail", "email", "e-mail", "post", "inbox", "user", "name", "почта", "site"})
_SPECIAL_TLDS = frozenset({"test", "example", "invalid", "localhost", "local"})
_EMAIL_SPLIT = re.compile(r"[;,\s]+")
_PHONE_SPLIT = re.compile(r"[;,]|\s{2,}")
_NON_DIGIT = re.compile(r"\D+")


@lru_cache(maxsize=1)
def _words() -> dict[str, frozenset[str]]:
    lists: dict[str, set[str]] = {}
    with _DATA.open(encoding="utf-8") as f:
        for row in csv.DictReader(line for line in f if not line.startswith("#")):
            lists.setdefault(row["list"], set()).add(row["word"])
    lists["test_marker"] = lists["test_weak"] | lists["test_surname"]
    lists["test_context"] = lists["test_marker"] | lists["test_filler"] | set("abcdefghijklmnopqrstuvwxyz")
    lists["test_context"] |= set("абвгдеёжзийклмнопрстуфхцчшщъыьэюя")
    return {k: frozenset(v) for k, v in lists.items()}


@lru_cache(maxsize=1)
def _keyboard_runs() -> tuple[frozenset[str], frozenset[str], frozenset[str]]:
    """(3-key runs from a row's end, 4-key runs from a row's end, 6-key runs anywhere).

    Rows are read both ways. Shorter runs inside a row are parts of real names ("Doherty"
    holds "erty", "Букенгольц" "укенг", "Коломийцук" "йцук", "Fertyuk" "ertyu"), so a run
    counts when it opens the word from a row's end ("asdf...", "фыва...") or is six keys long.
    """
    three, four, six = set(), set(), set()
    for row in _KEYBOARD_ROWS:
        for line in (row, row[::-1]):
            three.update({line[:3], line[-3:]})
            four.update({line[:4], line[-4:]})
            six.update(line[i:i + 6] for i in range(len(line) - 5))
    return frozenset(three), frozenset(four), frozenset(six)


@lru_cache(maxsize=1)
def _keyboard_pairs() -> frozenset[str]:
    """Pairs of neighbouring keys in one row, both ways ("as", "sa", "фы")."""
    pairs = set()
    for row in _KEYBOARD_ROWS:
        for a, b in zip(row, row[1:]):
            pairs.update({a + b, b + a})
    return frozenset(pairs)


@lru_cache(maxsize=1)
def _spam_vocabularies() -> tuple[re.Pattern[str], re.Pattern[str]]:
    words = _words()
    return _vocabulary(words["spam"]), _vocabulary(words["spam_name"])


def _vocabulary(entries: frozenset[str]) -> re.Pattern[str]:
    """One pattern for whole words, word prefixes ("заработ*") and phrases, to be searched
    in the space-joined tokens of a text."""
    alternatives = sorted((re.escape(e[:-1]) + r"\S*" if e.endswith("*") else re.escape(e) for e in entries),
                          key=len, reverse=True)
    return re.compile(r"(?<!\S)(?:" + "|".join(alternatives) + r")(?!\S)")


def _normalise(text: str) -> str:
    text = text[:_SCAN_LIMIT]
    if not text.isascii():
        if not unicodedata.is_normalized("NFKC", text):
            text = unicodedata.normalize("NFKC", text)
        text = fix_lookalikes(text)[0]
    return text.lower().replace("ё", "е")


def _tokens(text: str) -> list[str]:
    return _TOKEN.findall(_normalise(text))


def _analyse(text: str) -> tuple[str, list[str]]:
    """(normalised text, its letter and digit tokens)."""
    norm = _normalise(text)
    return norm, _TOKEN.findall(norm)


# --------------------------------------------------------------------------- test markers


def _test_level(words: list[str], digits: list[str]) -> str | None:
    """"strong", "weak" (a weak marker among other words) or None."""
    lists = _words()
    if not words:
        joined = "".join(digits)
        return "strong" if len(joined) >= 3 and (len(set(joined)) == 1 or is_digit_run(joined)) else None
    unique = set(words)
    if not unique.isdisjoint(lists["test"]):
        return "strong"
    if any(("test" in w or "тест" in w) and _TEST_REPEAT.match(w) for w in unique):
        return "strong"
    if all(len(w) >= 3 and len(set(w)) == 1 for w in unique):  # "xxx", "ааа", "zzz yyy"
        return "strong"
    markers = list(dict.fromkeys(w for w in words if w in lists["test_marker"]))  # a name may repeat
    if not markers:
        return None
    if unique <= lists["test_context"] and (len(markers) >= 2 or markers[0] in lists["test_weak"]):
        return "strong"  # "Sample", "Demo User", "Тестов Тестова"; a lone "Тестов" is a surname
    return "weak"


def is_test_value(text: str) -> bool:
    """True if the text marks a test or dummy entry rather than a real value.

    Strong markers anywhere ("тест", "Test", "Тестович", "проверка", "testtest"); weak ones
    ("Sample", "Demo", "example") only with nothing but markers and filler words ("user",
    "клиент") around them; "Тестов"/"Testov", a real surname, only next to another
    marker; a value made only of one repeated letter per word ("xxx", "ааа") or only of a
    digit run or repeated digit ("123", "1111"). Common or
    placeholder-looking real names ("Иван Иванов", "Вася Пупкин", "John Doe") are not test
    values. Never raises.
    """
    tokens = _tokens(text)
    words = [t for t in tokens if not t.isdigit()]
    digits = [t for t in tokens if t.isdigit()]
    return _test_level(words, digits) == "strong"


_CLEAN_NAME: tuple[str | None, bool, bool] = (None, False, False)


def _name_verdict(text: str) -> tuple[str | None, bool, bool]:
    """(test level, keyboard mash, spam) of a name, tokenised once.

    Most names are ordinary words and initials: such a name is clean at once when each of
    its words is (:func:`_is_clean_chunk`, judged once per word). Other names of words of
    letters only get a verdict assembled from per-word facts kept in a cache (names share
    their words); such names cannot hold links, handles or sums of money. The rest take
    :func:`_name_verdict_in_full`; all paths give the same answers.
    """
    chunks = text.split() if len(text) <= _SCAN_LIMIT else None
    if chunks and all(map(_is_clean_chunk, chunks)):
        return _CLEAN_NAME
    if chunks and all(c.isalpha() for c in chunks):
        facts = [_word_facts(c) for c in chunks]
        if all(f is not None for f in facts):
            return _verdict_from_facts(facts)  # type: ignore[arg-type]
    return _name_verdict_in_full(text)


def _name_verdict_in_full(text: str) -> tuple[str | None, bool, bool]:
    """The verdict of :func:`_name_verdict` by the general rules, for any text."""
    norm, tokens = _analyse(text)
    words = [t for t in tokens if not t.isdigit()]
    level = _test_level(words, [t for t in tokens if t.isdigit()] if len(words) < len(tokens) else [])
    return level, _mash_majority(tokens), _is_spam(norm, tokens, "name")


class _WordFacts(NamedTuple):
    word: str  # normalised
    strong: bool  # a strong test marker
    one_letter: bool  # "xxx", "ааа"
    marker: bool  # a weak marker or a marker surname
    weak: bool
    context: bool  # may stand next to a weak marker in a test name
    counts: bool  # two letters or more: takes part in the mash majority
    mash: bool
    spam: bool  # a spam word, or one letter eight times
    phrase: bool  # may open a spam phrase


@lru_cache(maxsize=1 << 18)
def _word_facts(chunk: str) -> _WordFacts | None:
    """Facts about one word of letters; None when normalising it leaves other characters."""
    word = _normalise(chunk)
    if not word.isalpha():
        return None
    lists = _words()
    spam_any, spam_name = _spam_vocabularies()
    repeat = _ANY_REPEAT.search(word)
    return _WordFacts(
        word=word,
        strong=word in lists["test"] or bool(_TEST_REPEAT.match(word)),
        one_letter=len(word) >= 3 and len(set(word)) == 1,
        marker=word in lists["test_marker"],
        weak=word in lists["test_weak"],
        context=word in lists["test_context"],
        counts=len(word) >= 2,
        mash=len(word) >= 2 and _token_is_mash(word),
        spam=bool(repeat or spam_any.search(word) or spam_name.search(word)),
        phrase=word in _phrase_openers(),
    )


# Initials: "А.", "J.R.". In a name they read as the words of their letters, and their dots
# open no link or domain (the rules need "www." or two letters after a dot).
_INITIALS = re.compile(r"(?:[A-Za-zА-Яа-яЁё]\.)+")
# Basic letters of one script: NFKC and the look-alike fix leave such a word alone.
_PLAIN_WORD = re.compile(r"[A-Za-z]+|[А-Яа-яЁё]+")


@lru_cache(maxsize=1 << 18)
def _is_clean_chunk(chunk: str) -> bool:
    """A word that is clean (:func:`_is_clean_word`), or initials whose letters are: a name
    made only of such chunks has the verdict :data:`_CLEAN_NAME`."""
    if _INITIALS.fullmatch(chunk):
        return all(_is_clean_word(letter) for letter in chunk[::2])
    return _is_clean_word(chunk)


def _is_clean_word(chunk: str) -> bool:
    """True when :func:`_word_facts` of ``chunk`` exists and says nothing: not a test marker,
    not one letter repeated, not mash, not spam, opens no spam phrase.

    Most words of real names are plain words of one script; those are screened by
    :func:`_plain_word_screen` and only the few it stops get the full facts.
    """
    if len(chunk) <= _SCAN_LIMIT and _PLAIN_WORD.fullmatch(chunk):
        word = chunk.lower().replace("ё", "е")  # what _normalise does to a plain word
        screen = _plain_word_screen()
        if not (word in screen.words or word.startswith(screen.prefixes) or screen.shapes.search(word)):
            return True
    facts = _word_facts(chunk)
    return facts is not None and not (facts.strong or facts.one_letter or facts.marker or facts.mash
                                      or facts.spam or facts.phrase)


class _Screen(NamedTuple):
    words: frozenset[str]
    prefixes: tuple[str, ...]
    shapes: re.Pattern[str]


@lru_cache(maxsize=1)
def _plain_word_screen() -> _Screen:
    """What a normalised plain word needs for :func:`_word_facts` to say anything: to be one
    of ``words``, to start with one of ``prefixes`` or to show one of the ``shapes``.

    Each entry is a necessary condition of one rule (a test marker, a spam word, a phrase
    opener, one of the keyboard-mash rules of :func:`_token_is_mash`); the screen may stop
    more words than the rules flag (they are then judged in full), never fewer. Spam entries
    can match a word without spaces only as a whole ("заработок") or a prefix ("крипто*").
    """
    lists = _words()
    three, four, six = _keyboard_runs()
    spam = lists["spam"] | lists["spam_name"]
    words = (lists["test"] | lists["test_marker"] | _phrase_openers() | three | _COLUMN_SHORT
             | {e for e in spam if not e.endswith("*")})
    prefixes = tuple(sorted(four | set(_COLUMN_MASH) | {e[:-1] for e in spam if e.endswith("*")}))
    shapes = "|".join([
        "test|тест",  # a test word doubled (_TEST_REPEAT)
        r"(.)\1\1",  # one letter (3+), five in a row (mash), eight in a row (spam)
        "|".join(re.escape(run) for run in sorted(six)),  # six neighbouring keys
        r"^(.{2,4})\2+$",  # _WHOLE_REPEAT
        r"(.{2,3})\3\3",  # _PART_REPEAT
        # _unpronounceable: no vowel in 5+ letters, or a run of 7 consonant sounds, which
        # needs 7 letters in a row that are not vowels (digraphs only shorten runs, but
        # "yy" counts as a consonant there, so y is no vowel here)
        "^[^aeiouyаеиоуыэюяъ]{5,}$",
        "[^aeiouаеиоуыэюяъ]{7}",
    ])
    return _Screen(frozenset(words), prefixes, re.compile(shapes))


@lru_cache(maxsize=1)
def _phrase_openers() -> frozenset[str]:
    words = _words()
    return frozenset(e.split()[0] for e in words["spam"] | words["spam_name"] if " " in e)


def _verdict_from_facts(facts: list[_WordFacts]) -> tuple[str | None, bool, bool]:
    """The same verdict as the general path of :func:`_name_verdict`, from per-word facts."""
    if any(f.strong for f in facts) or all(f.one_letter for f in facts):
        level: str | None = "strong"
    else:
        markers = list({f.word: f for f in facts if f.marker}.values())
        if not markers:
            level = None
        elif all(f.context for f in facts) and (len(markers) >= 2 or markers[0].weak):
            level = "strong"
        else:
            level = "weak"
    mash = sum(1 for f in facts if f.counts and f.mash)
    other = sum(1 for f in facts if f.counts and not f.mash)
    spam = any(f.spam for f in facts)
    if not spam and any(f.phrase for f in facts):
        joined = " ".join(f.word for f in facts)
        spam_any, spam_name = _spam_vocabularies()
        spam = bool(spam_any.search(joined) or spam_name.search(joined))
    return level, mash > other, spam


# --------------------------------------------------------------------------- keyboard mash


def _strip_latin_accents(token: str) -> str:
    if token.isascii():
        return token
    return "".join(ch for ch in unicodedata.normalize("NFD", token) if not unicodedata.combining(ch))


def _latin_or_cyrillic(token: str) -> bool:
    return all(ch < "\u0250" or "\u0400" <= ch <= "\u04ff" for ch in token)


def _longest_consonant_run(token: str) -> int:
    letters = _DIGRAPHS.sub("C", _strip_latin_accents(token)).replace("ь", "")
    longest = run = 0
    for ch in letters:
        run = 0 if ch in _LATIN_VOWELS or ch in _CYRILLIC_VOWELS or not ch.isalpha() else run + 1
        longest = max(longest, run)
    return longest


@lru_cache(maxsize=1 << 18)
def _token_is_mash(token: str) -> bool:
    """Keyboard mash within one lower-case letters-only token (see :func:`is_keyboard_mash`)."""
    n = len(token)
    if n < 3:
        return False
    three, four, six = _keyboard_runs()
    if n <= 4 and (token in three or token in _COLUMN_SHORT):
        return True
    if token[:4] in four or any(token[i:i + 6] in six for i in range(n - 5)):
        return True
    if token.startswith(_COLUMN_MASH):
        return True
    if len(set(token)) == 1 or _SAME_LETTER_5.search(token):
        return True
    whole = _WHOLE_REPEAT.match(token)
    if whole and _mash_unit(whole.group(1), min_keys=3):
        return True
    part = _PART_REPEAT.search(token)
    if part and _mash_unit(part.group(1), min_keys=2):
        return True
    if _unpronounceable(token):
        # Real words typed on the wrong layout ("Rjdfktdf" = "Ковалева") read fine once switched.
        switched = token.translate(_TO_CYR if token.isascii() else _TO_LAT)
        return switched == token or not _reads_as_word(switched)
    return False


def _reads_as_word(token: str) -> bool:
    """Strict shape test for a layout-switched word: letters only, 25-75% vowels, at most
    three consonants in a row and no run of four neighbouring keys anywhere."""
    if not token.isalpha() or not _latin_or_cyrillic(token):
        return False
    vowels = sum(1 for ch in token if ch in _LATIN_VOWELS or ch in _CYRILLIC_VOWELS)
    if not 0.25 <= vowels / len(token) <= 0.75 or _longest_consonant_run(token) > 3:
        return False
    fours = _keyboard_fours()
    return not any(token[i:i + 4] in fours for i in range(len(token) - 3))


@lru_cache(maxsize=1)
def _keyboard_fours() -> frozenset[str]:
    """Every run of four neighbouring keys in one row, both ways."""
    return frozenset(line[i:i + 4] for row in _KEYBOARD_ROWS for line in (row, row[::-1])
                     for i in range(len(line) - 3))


def _has_vowel(text: str) -> bool:
    return any(ch in _LATIN_VOWELS or ch in _CYRILLIC_VOWELS for ch in _strip_latin_accents(text))


def _mash_unit(unit: str, min_keys: int) -> bool:
    """A repeated chunk is mash when it is a run of neighbouring keys or has no vowel
    (judged for Latin and Cyrillic only: "Νανα", "ნანა" are names)."""
    pairs = _keyboard_pairs()
    if len(unit) >= min_keys and all(unit[i:i + 2] in pairs for i in range(len(unit) - 1)):
        return True
    return _latin_or_cyrillic(unit) and not _has_vowel(unit)


def _unpronounceable(token: str) -> bool:
    """No vowel in five or more letters, or seven consonant sounds in a row.

    Only Latin and Cyrillic words are judged (other scripts mark vowels differently). Six
    consonants occur in real names with a dropped vowel ("Скворчквская"), seven do not.
    """
    if not _latin_or_cyrillic(token):
        return False
    if len(token) >= 5 and not _has_vowel(token):
        return True
    return _longest_consonant_run(token) >= 7


def is_keyboard_mash(text: str) -> bool:
    """True if most words of the text are keyboard mash rather than words.

    A word is mash when it holds a run of neighbouring keys of one keyboard row on the
    Latin QWERTY or Russian ЙЦУКЕН layout (opening the word from a row's end: "qwer...",
    "asdf...", "фыва...", "ячсм...", or six keys anywhere), one letter only ("ааа"), a short
    chunk repeated ("jkjkjk", "sdfsdf"), one letter five times in a row, no vowel in five
    or more letters, or seven consonants in a row (counting Latin digraphs such as "sch",
    "kh", "rz" as one sound, so "Mkrtchyan", "Brzęczyszczykiewicz", "Chruschtschow" are
    words) unless the word reads fine on the other keyboard layout ("Rjdfktdf" is
    "Ковалева" typed in the wrong layout: a real name, not mash). The text is mash when
    mash words outnumber the other words of two or more letters (initials are ignored), so
    "Иванов Qwerty" is not mash but "asdf фыва" is. Never raises.
    """
    return _mash_majority(_tokens(text))


def _mash_majority(tokens: list[str]) -> bool:
    mash = other = 0
    for token in tokens:
        if token.isdigit() or len(token) < 2:
            continue
        if _token_is_mash(token):
            mash += 1
        else:
            other += 1
    return mash > other


# --------------------------------------------------------------------------- spam


def is_spam_text(text: str, field: Literal["name", "company"] = "name") -> bool:
    """True if the text is advertising or link spam rather than a name.

    Any field: links ("http", "www.", "t.me/"), HTML or BBCode tags, one character repeated
    eight or more times, spam phrases and words ("viagra", "заработок", "казино онлайн").
    In a person's name (``field="name"``) also: a messenger handle ("@crypto_king"), a bare
    domain ("ivan.ru"), sums of money ("100$"), and words that are normal in company names
    but not in a person's ("купить", "bitcoin", "займ", "казино"). Never raises.
    """
    return _is_spam(*_analyse(text), field)


def _is_spam(norm: str, tokens: list[str], field: str) -> bool:
    """Spam verdict on a normalised (lower-case) text and its tokens."""
    if _LINK_TRIGGER.search(norm) and _LINK.search(norm):
        return True
    repeat = _ANY_REPEAT.search(norm)
    if repeat and (repeat.group(1).isalpha() or repeat.group(1) in _REPEAT_SPAM_CHARS):
        return True
    joined = " ".join(tokens)
    spam_any, spam_name = _spam_vocabularies()
    if spam_any.search(joined):
        return True
    if field == "company":
        return False
    return bool((_NAME_TRIGGER.search(norm) and _SPAM_IN_NAME.search(norm)) or spam_name.search(joined))


# --------------------------------------------------------------------------- e-mails and phones


def _split_email(email: str) -> tuple[str, str] | None:
    email = _normalise(email.strip()).strip("<>\"' ")
    if email.startswith("mailto:"):
        email = email[7:]
    if email.count("@") != 1:
        return None
    local, domain = email.split("@")
    return local, domain.strip(".")


def is_test_email(email: str) -> bool:
    """True if an e-mail marks a test entry: a test word in the local part ("test@",
    "test.user1@", "тест@") or a test domain ("example.com", "test.ru", any ".test" or
    ".example"). Real addresses that merely contain the letters ("contest@", "testa.maria@")
    are not test e-mails. Never raises.
    """
    parts = _split_email(email)
    return parts is not None and _is_test_address(*parts)


def _is_test_address(local: str, domain: str) -> bool:
    if _domain_facts(domain)[0]:
        return True
    test = _words()["test"]
    return any(w in test or _TEST_REPEAT.match(w) for w in _TOKEN.findall(local) if not w.isdigit())


@lru_cache(maxsize=1 << 16)
def _domain_facts(domain: str) -> tuple[bool, bool, str]:
    """(test domain, junk domain, first label) - domains repeat, so they are judged once."""
    lists = _words()
    label = domain.split(".")[0] if domain else ""
    test = domain in lists["test_domain"] or domain.rsplit(".", 1)[-1] in _SPECIAL_TLDS
    junk = domain in lists["no_email_domain"] or _is_junk_part(label)
    return test, junk, label


def _is_junk_part(part: str) -> bool:
    """One repeated letter or keyboard mash as a local part or a domain name."""
    if len(part) >= 3 and len(set(part)) == 1:
        return True
    return part.isalpha() and (_token_is_mash(part) or part in _keyboard_runs()[0])


def is_junk_email(email: str) -> bool:
    """True if an e-mail is not a usable address of the customer.

    Test e-mails (:func:`is_test_email`); local parts typed to fill a mandatory field
    ("noemail@", "nomail@", "net@", "none@"); keyboard mash or one repeated letter as the
    local part or domain name ("asdf@", "qwerty@", "aaa@"); digit runs and repeated digits
    as the local part ("123@", "1111@", but not phone-number addresses such as
    "89161234567@mail.ru"); the local part repeating a short or generic domain name
    ("a@a.ru", "net@net.ru", "mail@mail.ru", "info@info.ru", but not "anna@anna.ru");
    placeholder domains ("nomail.ru") and reserved test TLDs (".test", ".example"). A cell
    without "@" is junk only when it is a "no e-mail" word ("нет", "none").
    Syntax is judged by the e-mail cleanser, not here. Never raises.
    """
    return _email_verdict(email)[1]


def _email_verdict(email: str) -> tuple[bool, bool]:
    """(test e-mail, junk e-mail) for one address."""
    lists = _words()
    parts = _split_email(email)
    if parts is None:
        return False, _normalise(email).strip(" .-") in lists["no_email"] | {"нет", "no", "-", ""}
    local, domain = parts
    if _is_test_address(local, domain):
        return True, True
    return False, _is_junk_address(local, domain)


def _is_junk_address(local: str, domain: str) -> bool:
    lists = _words()
    _, junk_domain, label = _domain_facts(domain)
    if junk_domain or local in lists["no_email"] or _is_junk_part(local):
        return True
    if local.isdigit() and len(local) <= 10 and (len(set(local)) == 1 or is_digit_run(local)):
        return True
    return bool(label) and local == label and (len(local) <= 3 or local in _GENERIC_LOCALS
                                               or local in lists["no_email"])


def is_junk_phone(text: str) -> bool:
    """True if every number in the cell is a placeholder: one digit repeated (1111111,
    8 999 999-99-99), a digit run (123456, 1234567), or a subscriber part of one repeated
    digit or zeros (+7 916 000-00-00). Cells with fewer than 5 digits are not judged
    (the phone cleanser rejects them anyway). Never raises.
    """
    text = text[:_SCAN_LIMIT]
    parts = _PHONE_SPLIT.split(text) if _PHONE_SPLIT.search(text) else [text]
    numbers = [n for n in (_NON_DIGIT.sub("", part) for part in parts) if len(n) >= 5]
    return bool(numbers) and all(_is_placeholder_number(n) for n in numbers)


def _is_placeholder_number(digits: str) -> bool:
    national = digits[1:] if len(digits) == 11 and digits[0] in "78" else digits
    subscriber = national[-7:]
    return len(set(national)) == 1 or is_digit_run(national) or len(set(subscriber)) == 1 or is_digit_run(subscriber)


# --------------------------------------------------------------------------- records


def _to_arrow(values: pd.Series) -> pa.StringArray | None:
    """``values`` (strings, None/NaN for missing) as an Arrow string array; None when a value
    is neither (or cannot be encoded: lone surrogates), for the callers' Python path."""
    try:
        array = pa.array(values, from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError, UnicodeEncodeError):
        return None
    if pa.types.is_null(array.type):
        return array.cast(pa.string())
    return array if pa.types.is_string(array.type) else None


def _distinct(values: pd.Series | list) -> tuple[np.ndarray, list]:
    """(codes, distinct values) of ``values``; code -1 marks a missing value."""
    codes, uniques = pd.factorize(np.asarray(values, dtype=object), use_na_sentinel=True)
    return codes, uniques.tolist()


def _flags_per_distinct(values: pd.Series, rule: Callable[[str], bool],
                        screen: Callable[[pa.StringArray], np.ndarray] | None = None) -> np.ndarray:
    """``rule`` applied once per distinct string (False for missing and non-strings), mapped
    back to the rows as a bool array.

    ``screen``, given the distinct values as an Arrow array, marks those that may break the
    rule; the others are known to be False without calling it.
    """
    array = _to_arrow(values)
    if array is None:  # values Arrow cannot hold: the same, value by value
        codes, uniques = _distinct(values)
        hits = np.zeros(len(uniques) + 1, dtype=bool)  # the last slot is for code -1 (missing)
        hits[:-1] = [isinstance(v, str) and bool(rule(v)) for v in uniques]
        return hits[codes]
    encoded = pc.dictionary_encode(array)
    distinct = encoded.dictionary
    hits = np.zeros(len(distinct) + 1, dtype=bool)
    judged = np.flatnonzero(screen(distinct)) if screen is not None else np.arange(len(distinct))
    hits[judged] = [bool(rule(v)) for v in distinct.take(judged).to_pylist()]
    return hits[pc.fill_null(encoded.indices, -1).to_numpy()]


def _any_test_email(cell: str) -> bool:
    """A cell that may hold several addresses holds a test e-mail."""
    if cell.isascii() and not _test_email_hint().search(cell.lower()):
        return False  # the common case, decided without splitting the addresses
    return any(is_test_email(e) for e in _EMAIL_SPLIT.split(cell) if e)


def _may_hold_test_email(cells: pa.StringArray) -> np.ndarray:
    """The first test of :func:`_any_test_email`, on many cells at once."""
    plain = pc.and_(pc.string_is_ascii(cells),
                    pc.invert(pc.match_substring_regex(pc.utf8_lower(cells), _test_email_hint().pattern)))
    return ~plain.to_numpy(zero_copy_only=False)


@lru_cache(maxsize=1)
def _test_email_hint() -> re.Pattern[str]:
    """Strings one of which every test address holds.

    A test address has a test domain, a reserved TLD, or a test word (or "test" doubled)
    as a word of its local part. For an ASCII cell, normalising is lower-casing, so all of
    these are substrings of the lower-cased cell: a cell without any is no test e-mail.
    """
    lists = _words()
    needles = lists["test_domain"] | _SPECIAL_TLDS | lists["test"] | {"test", "тест"}
    return re.compile("|".join(re.escape(n) for n in sorted(needles)))


def _all_junk_emails(cell: str) -> bool:
    """Every address of a cell is junk (and there is at least one)."""
    emails = [e for e in _EMAIL_SPLIT.split(cell) if e]
    return bool(emails) and all(is_junk_email(e) for e in emails)


def junk_reasons(frame: pd.DataFrame) -> pd.Series:
    """Quarantine reasons per record, from the raw mapped values.

    ``frame`` holds any subset of ``full_name, last_name, first_name, middle_name, email,
    phone, company_name`` (object dtype, None for missing; e-mail and phone cells may list
    several values separated by ";" or ","). Returns a Series with the same index holding a
    list of reason codes, in the order below, or None:

    * ``test_record``: a test marker in the name (:func:`is_test_value` on the name parts
      joined) or a test e-mail (:func:`is_test_email`); a weak marker ("Тестов Иван")
      counts only when the phone or the e-mail is junk as well;
    * ``junk_name``: the name is keyboard mash (:func:`is_keyboard_mash`);
    * ``spam``: spam text in the name or the company name (:func:`is_spam_text`).

    Every rule runs once per distinct value (names, e-mails and phones repeat).
    """
    n = len(frame)
    none = np.zeros(n, dtype=bool)
    strong_test, weak_test, mash, spam = _name_flags(frame)
    if "company_name" in frame.columns:
        spam |= _flags_per_distinct(frame["company_name"], lambda v: is_spam_text(v, "company"))

    test_email = none
    if "email" in frame.columns:
        test_email = _flags_per_distinct(frame["email"], _any_test_email, _may_hold_test_email)
    # junk contacts only matter next to a weak marker, which is rare: judge those rows only
    corroborated = none.copy()
    weak_rows = np.flatnonzero(weak_test & ~strong_test & ~test_email)
    if len(weak_rows):
        for column, rule in (("email", _all_junk_emails), ("phone", is_junk_phone)):
            if column in frame.columns:
                corroborated[weak_rows] |= _flags_per_distinct(frame[column].iloc[weak_rows], rule)

    test = strong_test | test_email | corroborated
    out: list[list[str] | None] = [None] * n
    for i in np.flatnonzero(test | mash | spam):
        out[i] = [code for code, hit in ((TEST_RECORD, test[i]), (JUNK_NAME, mash[i]), (SPAM, spam[i])) if hit]
    return pd.Series(out, index=frame.index, dtype=object)


def _name_flags(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(strong test marker, weak test marker, mash, spam) per row, judged once per distinct name."""
    codes, names = _distinct_names(frame)
    # one slot per distinct name and a last one for code -1 (missing); most names are clean
    flags = np.zeros((4, len(names) + 1), dtype=bool)
    unclean = np.flatnonzero(~_clean_names(names))
    values = names.take(unclean).to_pylist() if isinstance(names, pa.Array) else [names[i] for i in unclean]
    for i, value in zip(unclean.tolist(), values):
        if isinstance(value, str):
            level, mash, spam = _name_verdict(value)
            flags[:, i] = (level == "strong", level == "weak", mash, spam)
    strong, weak, mash_rows, spam_rows = flags[:, codes]
    return strong, weak, mash_rows, spam_rows


def _distinct_names(frame: pd.DataFrame) -> tuple[np.ndarray, pa.StringArray | list]:
    """(codes, distinct names) of the rows; a row's name is its name fields joined by spaces,
    missing ones skipped. Code -1 marks a row without name fields."""
    columns = [frame[c] for c in NAME_FIELDS if c in frame.columns]
    if not columns:
        return np.full(len(frame), -1), []
    arrays = [_to_arrow(c) for c in columns]
    if all(a is not None for a in arrays):
        names = arrays[0]
        for part in arrays[1:]:
            # joined where both are present, else the one present (binary_join_element_wise
            # with null_handling="skip" drops all-null rows in pyarrow 26)
            names = pc.coalesce(pc.binary_join_element_wise(names, part, " "), names, part)
        if len(arrays) > 1:
            names = pc.coalesce(names, "")  # no part at all: an empty name, as in Python
        encoded = pc.dictionary_encode(names)
        return pc.fill_null(encoded.indices, -1).to_numpy(), encoded.dictionary
    # values Arrow cannot hold: the same in Python
    lists = [c.tolist() for c in columns]
    joined = lists[0] if len(lists) == 1 else [" ".join(v for v in row if isinstance(v, str)) for row in zip(*lists)]
    return _distinct(joined)


def _clean_names(names: pa.StringArray | list) -> np.ndarray:
    """Per name: made of clean chunks only, so its verdict is :data:`_CLEAN_NAME` (the first
    test of :func:`_name_verdict`, run for many names at once: each distinct chunk is judged
    once and the verdicts are counted back to their names with numpy)."""
    owner, chunk_codes, chunks = _name_chunks(names)
    unclean = np.fromiter((not _is_clean_chunk(c) for c in chunks), dtype=bool, count=len(chunks))
    unclean_per_name = np.bincount(owner, weights=unclean[chunk_codes], minlength=len(names))
    chunks_per_name = np.bincount(owner, minlength=len(names))
    return (chunks_per_name > 0) & (unclean_per_name == 0)


def _name_chunks(names: pa.StringArray | list) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """(owner, code, distinct chunks): the chunks of names up to ``_SCAN_LIMIT`` long, as the
    name each belongs to and its code among the distinct chunks.

    Arrow splits at ASCII spaces only, Python's ``str.split`` at any white space; a chunk
    holding other white space is never clean, so a name clean by Arrow's chunks is clean by
    ``str.split``'s too (and the few others are judged in full).
    """
    if isinstance(names, pa.Array):
        pieces = pc.split_pattern(names, " ")
        flat = pc.list_flatten(pieces)
        owner = pc.list_parent_indices(pieces).to_numpy()
        short = pc.fill_null(pc.less_equal(pc.utf8_length(names), _SCAN_LIMIT), False).to_numpy(zero_copy_only=False)
        keep = pc.not_equal(flat, "").to_numpy(zero_copy_only=False) & short[owner]
        encoded = pc.dictionary_encode(flat.filter(pa.array(keep)))
        return owner[keep], encoded.indices.to_numpy(), encoded.dictionary.to_pylist()
    split = [v.split() if isinstance(v, str) and len(v) <= _SCAN_LIMIT else [] for v in names]
    owner = np.repeat(np.arange(len(split)), [len(c) for c in split])
    codes, chunks = pd.factorize(np.array(list(chain.from_iterable(split)), dtype=object))
    return owner, codes, chunks.tolist()
