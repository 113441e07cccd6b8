"""How the sources damage the truth: one dataclass of rates and the text mangling helpers.

All rates live in :class:`Messiness`; ``Messiness().scaled(2.0)`` doubles every error rate
(format mixes stay as they are) so benchmarks can turn the mess up or down. The helpers
are pure: they take values and a random source and return new values.
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np
import pandas as pd

from pipelines.demo.tables import Tables


def _ro(d: dict) -> Mapping:
    return MappingProxyType(d)


@dataclass(frozen=True)
class Messiness:
    """Error and format rates of the demo sources (shares of rows or cells, 0..1).

    Fields typed ``float`` are rates and are multiplied by :meth:`scaled`; ``Mapping``
    fields are mixes of formats (weights, normalised when used) and are left alone.
    """

    # --- everywhere people type
    yo_as_e: float = 0.65                 # "ё" typed as "е"
    extra_spaces: float = 0.015           # doubled, leading or trailing blanks
    # --- crm: typed by managers, exported by 1C as cp1251 ";" CSV
    crm_internal_duplicates: float = 0.03  # persons entered twice (other id, variations)
    crm_duplicate_ids: float = 0.003      # same id exported twice (two versions)
    crm_broken_lines: float = 0.001       # unquoted ";" inside a field or a cut line
    crm_multiline: float = 0.002          # quoted comment with an embedded line break
    crm_test_records: float = 0.001
    crm_name_typo: float = 0.02
    crm_name_formats: Mapping[str, float] = field(default_factory=lambda: _ro({
        "Фамилия Имя Отчество": 0.70, "ФАМИЛИЯ ИМЯ ОТЧЕСТВО": 0.08, "фамилия имя отчество": 0.03,
        "Имя Отчество Фамилия": 0.04, "Фамилия Имя": 0.05, "Имя Фамилия": 0.02,
        "Фамилия И.О.": 0.05, "Фамилия И. О.": 0.02, "Фамилия ИО": 0.01,
    }))
    crm_foreign_in_latin: float = 0.4     # foreigners typed in Latin (else Cyrillic)
    crm_missing_birth_date: float = 0.3
    crm_missing_gender: float = 0.25
    crm_missing_email: float = 0.15
    crm_missing_mobile: float = 0.06
    crm_missing_address: float = 0.15
    crm_mobile_in_phone_column: float = 0.1
    crm_two_phones_in_cell: float = 0.01
    crm_phone_note: float = 0.006         # "89161234567 (жена)"
    crm_phone_typo: float = 0.005         # two digits swapped or one mistyped
    crm_email_typo: float = 0.015
    crm_email_upper: float = 0.02
    crm_birth_date_typo: float = 0.004    # a digit slipped in the year or day
    crm_wrong_gender: float = 0.003
    crm_mobile_formats: Mapping[str, float] = field(default_factory=lambda: _ro({
        "+7 (916) 123-45-67": 0.22, "8 (916) 123-45-67": 0.2, "89161234567": 0.16, "8-916-123-45-67": 0.1,
        "+79161234567": 0.08, "8 916 123 45 67": 0.06, "9161234567": 0.05, "+7 916 1234567": 0.04,
        "8(916)123-45-67": 0.04, "7(916)1234567": 0.02, "(916) 123-45-67": 0.02, "916-123-45-67": 0.01,
    }))
    crm_landline_formats: Mapping[str, float] = field(default_factory=lambda: _ro({
        "(916) 123-45-67": 0.3, "8 (916) 123-45-67": 0.25, "123-45-67": 0.15, "+7 (916) 123-45-67": 0.1,
        "89161234567": 0.08, "8-916-123-45-67": 0.07, "+7 916 1234567": 0.05,
    }))
    crm_address_formats: Mapping[str, float] = field(default_factory=lambda: _ro({
        "г. Москва, ул. Ленина, д. 5, кв. 12": 0.34, "Москва, ул. Ленина, 5-12": 0.12,
        "Москва, Ленина 5-12": 0.08, "123456, г. Москва, ул. Ленина, д. 5, кв. 12": 0.12,
        "г Москва ул Ленина д 5 кв 12": 0.06, "Москва г, Ленина ул, дом 5, квартира 12": 0.05,
        "ул. Ленина, д. 5, кв. 12": 0.08, "Московская обл., г. Химки, ул. Ленина, д. 5, кв. 12": 0.08,
        "Россия, 123456, Московская область, Химки, улица Ленина, дом 5, квартира 12": 0.07,
    }))
    # --- web: leads typed by the persons themselves, UTF-8 "," CSV
    web_repeat_leads: float = 0.08
    web_test_leads: float = 0.02
    web_spam_leads: float = 0.015
    web_junk_leads: float = 0.005
    web_name_formats: Mapping[str, float] = field(default_factory=lambda: _ro({
        "Имя": 0.28, "Имя Фамилия": 0.3, "Фамилия Имя": 0.1, "Фамилия Имя Отчество": 0.1,
        "Имя Отчество": 0.03, "Name Surname": 0.12, "Name": 0.04, "Surname Name": 0.03,
    }))
    web_diminutive: float = 0.12
    web_lower: float = 0.18
    web_upper: float = 0.03
    web_name_typo: float = 0.04
    web_wrong_layout: float = 0.003       # Cyrillic typed on a Latin layout ("Bdfy")
    web_missing_phone: float = 0.03
    web_phone_extension: float = 0.004
    web_phone_typo: float = 0.01
    web_missing_email: float = 0.35
    web_email_typo: float = 0.04
    web_email_upper: float = 0.06
    web_missing_city: float = 0.45
    web_mobile_formats: Mapping[str, float] = field(default_factory=lambda: _ro({
        "+7 (916) 123-45-67": 0.3, "89161234567": 0.18, "8 (916) 123-45-67": 0.1, "+79161234567": 0.1,
        "9161234567": 0.08, "+7 916 1234567": 0.06, "8-916-123-45-67": 0.05, "8 916 123 45 67": 0.05,
        "+7 916 123 45 67": 0.04, "+7-916-123-45-67": 0.02, "79161234567": 0.02,
    }))
    # --- loyalty: app and till registrations, Parquet with string columns
    loyalty_second_card: float = 0.02
    loyalty_upper: float = 0.1
    loyalty_lower: float = 0.04
    loyalty_missing_middle_name: float = 0.3
    loyalty_swapped_names: float = 0.01
    loyalty_name_typo: float = 0.012
    loyalty_missing_birth_date: float = 0.12
    loyalty_placeholder_birth_date: float = 0.005   # 19000101 entered to get through the till
    loyalty_missing_email: float = 0.35
    loyalty_missing_address: float = 0.3
    loyalty_phone_formats: Mapping[str, float] = field(default_factory=lambda: _ro({
        "79161234567": 0.7, "+79161234567": 0.2, "89161234567": 0.1,
    }))
    # --- billing: accounts, UTF-8 with BOM, TAB
    billing_upper: float = 0.2
    billing_contact_initials: float = 0.3  # B2B contacts as "Иванов И.И."
    billing_invalid_inn: float = 0.02
    billing_second_account: float = 0.12   # a company contact with a second account (branch)
    billing_personal_inn: float = 0.45     # individuals with their INN filled in
    billing_passport: float = 0.3
    billing_missing_email: float = 0.45
    billing_phone_formats: Mapping[str, float] = field(default_factory=lambda: _ro({
        "8 (916) 123-45-67": 0.35, "+7 (916) 123-45-67": 0.25, "89161234567": 0.2, "(916) 123-45-67": 0.1,
        "+7 916 1234567": 0.1,
    }))
    # --- shop
    shop_unknown_customer: float = 0.003

    def scaled(self, factor: float) -> Messiness:
        """The same mixes with every error rate multiplied by ``factor`` (capped at 0.95)."""
        changes = {
            f.name: min(0.95, max(0.0, getattr(self, f.name) * factor))
            for f in dataclasses.fields(self)
            if f.type in ("float", float)
        }
        return dataclasses.replace(self, **changes)


def weighted_keys(rng: np.random.Generator, mix: Mapping[str, float], n: int) -> np.ndarray:
    """``n`` keys of a format mix drawn with its weights (object array)."""
    keys = np.asarray(list(mix), dtype=object)
    w = np.asarray(list(mix.values()), dtype=float)
    return keys[rng.choice(len(keys), size=n, p=w / w.sum())]


# ---------------------------------------------------------------- typing errors

_KEYBOARD_RU = "йцукенгшщзхъ фывапролджэ ячсмитьбю"
_KEYBOARD_EN = "qwertyuiop[] asdfghjkl;' zxcvbnm,."
_LAYOUT = str.maketrans(
    _KEYBOARD_RU.replace(" ", "") + _KEYBOARD_RU.replace(" ", "").upper(),
    _KEYBOARD_EN.replace(" ", "") + _KEYBOARD_EN.replace(" ", "").upper(),
)
_ROWS_RU = ("йцукенгшщзхъ", "фывапролджэ", "ячсмитьбю")
_ROWS_EN = ("qwertyuiop", "asdfghjkl", "zxcvbnm")
_NEIGHBOURS: dict[str, str] = {}
for _rows in (_ROWS_RU, _ROWS_EN):
    for _row in _rows:
        for _i, _c in enumerate(_row):
            _NEIGHBOURS[_c] = (_row[_i - 1] if _i else "") + (_row[_i + 1] if _i + 1 < len(_row) else "")
_SOUNDS = {"а": "о", "о": "а", "е": "и", "и": "е", "ы": "и", "я": "а", "ю": "у", "э": "е",
           "a": "o", "o": "a", "e": "i", "i": "e", "y": "i"}


def typo(text: str, r: random.Random) -> str:
    """One realistic slip in a word of ``text``: neighbour key, vowel by ear, a doubled,
    dropped or swapped letter. Words of fewer than four letters are left alone."""
    words = text.split(" ")
    cands = [i for i, w in enumerate(words) if len(w) >= 4 and w.isalpha()]
    if not cands:
        return text
    wi = r.choice(cands)
    w = words[wi]
    i = r.randrange(1, len(w) - 1)
    kind = r.random()
    c = w[i]
    lower = c.lower()
    if kind < 0.3 and _NEIGHBOURS.get(lower):
        rep = r.choice(_NEIGHBOURS[lower])
        w = w[:i] + (rep.upper() if c.isupper() else rep) + w[i + 1:]
    elif kind < 0.5 and lower in _SOUNDS:
        rep = _SOUNDS[lower]
        w = w[:i] + (rep.upper() if c.isupper() else rep) + w[i + 1:]
    elif kind < 0.65:
        w = w[:i] + c + w[i:]
    elif kind < 0.85:
        w = w[:i] + w[i + 1:]
    else:
        w = w[:i] + w[i + 1] + w[i] + w[i + 2:]
    words[wi] = w
    return " ".join(words)


def phone_typo(number: str, r: random.Random) -> str:
    """A slip in the subscriber digits of a number: neighbours swapped or one digit wrong."""
    digits = list(number)
    lo = max(1, len(digits) - 7)
    i = r.randrange(lo, len(digits) - 1)
    if digits[i] != digits[i + 1] and r.random() < 0.6:
        digits[i], digits[i + 1] = digits[i + 1], digits[i]
    else:
        digits[i] = str((int(digits[i]) + r.randrange(1, 10)) % 10)
    return "".join(digits)


def wrong_layout(text: str) -> str:
    """Cyrillic typed with the Latin keyboard layout on ("Иван" -> "Bdfy")."""
    return text.translate(_LAYOUT)


def extra_spaces(text: str, r: random.Random) -> str:
    """Doubled inner blank, or a leading/trailing one."""
    k = r.random()
    if k < 0.5 and " " in text:
        i = text.index(" ")
        return text[:i] + "  " + text[i + 1:]
    if k < 0.75:
        return text + " "
    return " " + text


def drop_yo(values: np.ndarray, rng: np.random.Generator, rate: float) -> np.ndarray:
    """Replace ё/Ё by е/Е in a share ``rate`` of the cells that contain one."""
    out = values.copy()
    pick = np.flatnonzero(rng.random(len(values)) < rate)
    if not len(pick):
        return out
    sub = pd.Series(out[pick], dtype="str")
    has = sub.str.contains("[ёЁ]", regex=True).fillna(False).to_numpy(dtype=bool)
    idx = pick[has]
    if len(idx):
        out[idx] = sub[has].str.replace("ё", "е").str.replace("Ё", "Е").to_numpy(dtype=object)
    return out


def apply_rate(
    values: np.ndarray, rng: np.random.Generator, rate: float, fn, r: random.Random,
) -> tuple[np.ndarray, np.ndarray]:
    """Apply ``fn(value, r)`` to a share ``rate`` of the non-empty cells; returns (values, mask)."""
    out = values.copy()
    mask = rng.random(len(values)) < rate
    for i in np.flatnonzero(mask):
        v = out[i]
        if isinstance(v, str) and v:
            out[i] = fn(v, r)
        else:
            mask[i] = False
    return out, mask


def recase(values: np.ndarray, rng: np.random.Generator, lower: float, upper: float) -> np.ndarray:
    """Lower-case a share ``lower`` and upper-case a share ``upper`` of the cells."""
    out = values.copy()
    u = rng.random(len(values))
    for mask, fn in ((u < lower, "lower"), ((u >= lower) & (u < lower + upper), "upper")):
        idx = np.flatnonzero(mask & pd.notna(out))
        if len(idx):
            ser = pd.Series(out[idx], dtype="str")
            out[idx] = getattr(ser.str, fn)().to_numpy(dtype=object)
    return out


# ---------------------------------------------------------------- phones

#: Format name (how a Moscow mobile looks in it) -> (prefix, code format, local separator).
PHONE_STYLES: dict[str, tuple[str, str | None, str]] = {
    "+7 (916) 123-45-67": ("+7 ", "({}) ", "-"),
    "+7 916 123-45-67": ("+7 ", "{} ", "-"),
    "+79161234567": ("+7", "{}", ""),
    "89161234567": ("8", "{}", ""),
    "79161234567": ("7", "{}", ""),
    "9161234567": ("", "{}", ""),
    "8 (916) 123-45-67": ("8 ", "({}) ", "-"),
    "8(916)123-45-67": ("8", "({})", "-"),
    "8-916-123-45-67": ("8-", "{}-", "-"),
    "8 916 123 45 67": ("8 ", "{} ", " "),
    "+7 916 1234567": ("+7 ", "{} ", ""),
    "+7 916 123 45 67": ("+7 ", "{} ", " "),
    "+7-916-123-45-67": ("+7-", "{}-", "-"),
    "7(916)1234567": ("7", "({})", ""),
    "(916) 123-45-67": ("", "({}) ", "-"),
    "916-123-45-67": ("", "{}-", "-"),
    "123-45-67": ("", None, "-"),
    "+7 (916) 1234567": ("+7 ", "({}) ", ""),
}

_FOREIGN_CC = ("1", "44", "49", "33", "39", "34", "48", "31", "46")


def _group_local(local: str, sep: str) -> str:
    if not sep:
        return local
    head = len(local) - 4
    return f"{local[:head]}{sep}{local[head:head + 2]}{sep}{local[head + 2:]}" if head > 0 else local


def format_phone(number: str, style: str, code_len: int = 3) -> str:
    """Render an E.164 number (digits, no "+") in a named style.

    Russian numbers use ``code_len`` digits of area code (3 for mobiles, 3-5 for
    landlines); foreign numbers are written internationally whatever the style.
    """
    if not number.startswith("7") or len(number) != 11:
        cc = next((c for c in _FOREIGN_CC if number.startswith(c)), number[:2])
        rest = number[len(cc):]
        if style.startswith("8") or style.startswith("9") or style.startswith("("):
            return f"00{cc} {rest[:3]} {rest[3:]}" if len(rest) > 6 else f"+{cc}{rest}"
        if " " in style:
            return f"+{cc} {rest[:3]} {rest[3:]}"
        return f"+{cc}{rest}"
    prefix, code_fmt, sep = PHONE_STYLES[style]
    code, local = number[1:1 + code_len], number[1 + code_len:]
    if code_fmt is None:
        return _group_local(local, sep)
    return prefix + code_fmt.format(code) + _group_local(local, sep)


_EXT = (" доб. {}", " (доб. {})", " доб.{}", ", вн. {}", " доп. {}", " ext. {}", " #{}")


def with_extension(text: str, ext: str, k: int) -> str:
    """Append an extension in one of the usual spellings."""
    return text + _EXT[k % len(_EXT)].format(ext)


_PHONE_NOTES = (" (жена)", " (муж)", " раб.", " моб.", " после 18:00", " Ольга", " (мама)", " доп")


def phone_note(text: str, k: int) -> str:
    """A word left in a phone cell by whoever typed it."""
    return text + _PHONE_NOTES[k % len(_PHONE_NOTES)]


# ---------------------------------------------------------------- e-mails


def email_typo(email: str, t: Tables, r: random.Random) -> str:
    """A domain typo when the domain has known ones (gmail.con, mail.ri), else a local slip."""
    local, _, dom = email.partition("@")
    typos = t.email_typos.get(dom)
    k = r.random()
    if typos and k < 0.8:
        return f"{local}@{r.choice(typos)}"
    if k < 0.88:
        return f"{local}@{dom.replace('.', ',', 1)}"
    if k < 0.94:
        return f"{local} @{dom}"
    return f"{typo(local, r) if len(local) >= 4 else local}@{dom}"


def email_upper(email: str, r: random.Random) -> str:
    """Upper-cased whole or first letter (phones auto-capitalise the first letter)."""
    return email.upper() if r.random() < 0.3 else email[:1].upper() + email[1:]


# ---------------------------------------------------------------- addresses

_STREET_TYPES = {
    "ул": (("ул.", 0.7), ("ул", 0.2), ("улица", 0.1)),
    "пр": (("пр-т", 0.45), ("просп.", 0.25), ("проспект", 0.2), ("пр.", 0.1)),
    "пер": (("пер.", 0.8), ("переулок", 0.2)),
    "бул": (("б-р", 0.6), ("бульвар", 0.3), ("бул.", 0.1)),
    "ш": (("ш.", 0.7), ("шоссе", 0.3)),
    "наб": (("наб.", 0.7), ("набережная", 0.3)),
    "проезд": (("пр-д", 0.5), ("проезд", 0.5)),
    "мкр": (("мкр.", 0.7), ("микрорайон", 0.3)),
}
_FULL_TYPE = {"ул": "улица", "пр": "проспект", "пер": "переулок", "бул": "бульвар", "ш": "шоссе",
              "наб": "набережная", "проезд": "проезд", "мкр": "микрорайон"}
_SHORT_TYPE = {"ул": "ул", "пр": "пр-кт", "пер": "пер", "бул": "б-р", "ш": "ш", "наб": "наб",
               "проезд": "проезд", "мкр": "мкр"}


def region_short(region: str, r: random.Random) -> str:
    """Region as people abbreviate it ("Свердловская обл.", "Респ. Татарстан", "ХМАО")."""
    if region.endswith(" область"):
        base = region[: -len(" область")]
        return r.choice((f"{base} обл.", f"{base} обл", f"{base} область", f"обл. {base}"))
    if region.startswith("Республика "):
        base = region[len("Республика "):]
        return r.choice((f"Респ. {base}", f"Республика {base}", base))
    if region.endswith(" Республика"):
        base = region[: -len(" Республика")]
        return r.choice((f"{base} Респ.", region, f"{base} Республика"))
    if region.endswith(" край"):
        return r.choice((region, region.replace(" край", " кр.")))
    if region.startswith("Ханты-Мансийский"):
        return r.choice(("ХМАО", "ХМАО-Югра", "Ханты-Мансийский АО"))
    return region
