"""Latin spellings of Russian names as people type them (several schemes, cached per word).

People who type their Cyrillic name in Latin letters follow no single standard: the foreign
passport (ICAO Doc 9303 since 2013: Iuliia, Kseniia), older passports (MVD: Yuliya,
Natal'ya), Wikipedia/BGN-like habits (Yuliya, Aleksandr), "English" equivalents
(Julia, Alexander, Eugene) and home-made mixtures (Aleksandr with "h" for "х").
"""

from __future__ import annotations

import functools
import re
import unicodedata

import iuliia

#: Scheme name -> iuliia schema (or None for our home-made "naive" scheme).
SCHEMES = {
    "icao": iuliia.ICAO_DOC_9303,
    "wikipedia": iuliia.WIKIPEDIA,
    "mosmetro": iuliia.MOSMETRO,
    "yandex_money": iuliia.YANDEX_MONEY,
    "mvd_310": iuliia.MVD_310,
    "gost_7034": iuliia.GOST_7034,
    "telegram": iuliia.TELEGRAM,
    "naive": None,
}

#: How often each scheme is used for a name typed in Latin letters (web forms, e-mails).
SCHEME_WEIGHTS = {
    "icao": 0.24, "wikipedia": 0.16, "mosmetro": 0.12, "yandex_money": 0.1, "mvd_310": 0.1,
    "gost_7034": 0.04, "telegram": 0.06, "naive": 0.18,
}

_NAIVE = str.maketrans({
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "e", "ж": "zh", "з": "z",
    "и": "i", "й": "y", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o", "п": "p", "р": "r",
    "с": "s", "т": "t", "у": "u", "ф": "f", "х": "h", "ц": "c", "ч": "ch", "ш": "sh", "щ": "sch",
    "ъ": "", "ы": "y", "ь": "", "э": "e", "ю": "yu", "я": "ya",
})

_NON_EMAIL = re.compile(r"[^a-z0-9]")
_FOLD = str.maketrans({"ß": "ss", "ł": "l", "Ł": "L", "ø": "o", "Ø": "O", "æ": "ae", "œ": "oe", "đ": "d"})


def ascii_fold(text: str) -> str:
    """Drop diacritics the way people do on an English keyboard (Müller -> Muller)."""
    text = unicodedata.normalize("NFKD", text.translate(_FOLD))
    return "".join(c for c in text if not unicodedata.combining(c))


@functools.lru_cache(maxsize=200_000)
def latin(word: str, scheme: str) -> str:
    """Latin spelling of a Cyrillic word in a scheme; non-Cyrillic words come back unchanged."""
    if not word or not re.search("[А-Яа-яЁё]", word):
        return word
    schema = SCHEMES[scheme]
    if schema is None:
        lower = word.lower().replace("кс", "x")
        out = lower.translate(_NAIVE)
        out = out[:1].upper() + out[1:] if word[:1].isupper() else out
    else:
        out = schema.translate(word)
    if scheme != "gost_7034":
        out = out.replace("'", "").replace("’", "")
    return out


_BASE = {
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "e", "ж": "zh", "з": "z",
    "и": "i", "й": "y", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o", "п": "p", "р": "r",
    "с": "s", "т": "t", "у": "u", "ф": "f", "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh", "щ": "shch",
    "ъ": "", "ы": "y", "ь": "", "э": "e", "ю": "yu", "я": "ya",
}
#: Letter-by-letter approximations of the schemes, fast enough for a million e-mails.
_EMAIL_TABLES = {
    name: str.maketrans({**_BASE, **over})
    for name, over in {
        "icao": {"й": "i", "ю": "iu", "я": "ia", "ъ": "ie"},
        "wikipedia": {"ё": "yo"},
        "mosmetro": {"щ": "sch"},
        "yandex_money": {"й": "i", "щ": "sch"},
        "mvd_310": {},
        "gost_7034": {"й": "j", "х": "x", "ц": "c", "щ": "shh", "ё": "yo"},
        "telegram": {"й": "i", "х": "h", "ц": "c", "ю": "iu", "я": "ia", "щ": "sc"},
        "naive": {"х": "h", "ц": "c", "щ": "sch"},
    }.items()
}


@functools.lru_cache(maxsize=400_000)
def email_part(word: str, scheme: str) -> str:
    """Lower-case ASCII letters/digits only: a name as it appears in an e-mail local part."""
    lower = word.lower()
    if scheme == "naive":
        lower = lower.replace("кс", "x")
    out = lower.translate(_EMAIL_TABLES[scheme])
    if not out.isascii():
        out = ascii_fold(out)
    return _NON_EMAIL.sub("", out)
