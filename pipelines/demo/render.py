"""Render true values the way each source writes them (names, phones, addresses, cities).

Every function takes arrays for many rows at once and returns a new object array; the
random choices come from the generator and ``random.Random`` passed in, so the output is
reproducible.
"""

from __future__ import annotations

import random
from collections.abc import Mapping

import numpy as np
import pandas as pd

from pipelines.demo import translit
from pipelines.demo.messiness import (
    _FULL_TYPE, _SHORT_TYPE, _STREET_TYPES, PHONE_STYLES, format_phone, region_short, weighted_keys,
)
from pipelines.demo.tables import Tables
from pipelines.demo.vtext import cat, map_distinct


# ---------------------------------------------------------------- names


def initials(middle: str | None, first: str, spaced: bool) -> str:
    """"И.И." from first and middle name (just "И." without a patronymic)."""
    f = first[:1].upper() + "."
    if not middle:
        return f
    m = middle[:1].upper() + "."
    return f"{f} {m}" if spaced else f + m


def person_names_crm(rng: np.random.Generator, fmt: np.ndarray, last, first, middle) -> np.ndarray:
    """Full names in a CRM format mix (``fmt`` holds keys of ``Messiness.crm_name_formats``)."""
    n = len(fmt)
    out = np.empty(n, dtype=object)
    has_m = pd.notna(middle)
    mi_all = np.where(has_m, middle, "")
    codes, keys = pd.factorize(np.asarray(fmt, dtype=object))
    for k, key in enumerate(keys):
        idx = np.flatnonzero(codes == k)
        la, fi, mi, hm = last[idx], first[idx], mi_all[idx], has_m[idx]
        f1 = map_distinct(fi, lambda x: x[:1].upper())
        m1 = map_distinct(mi, lambda x: x[:1].upper())
        if key in ("Фамилия Имя Отчество", "ФАМИЛИЯ ИМЯ ОТЧЕСТВО", "фамилия имя отчество"):
            v = np.where(hm, cat(la, " ", fi, " ", mi), cat(la, " ", fi))
            if key != "Фамилия Имя Отчество":
                ser = pd.Series(v, dtype="str")
                v = (ser.str.upper() if key.isupper() else ser.str.lower()).to_numpy(dtype=object)
        elif key == "Имя Отчество Фамилия":
            v = np.where(hm, cat(fi, " ", mi, " ", la), cat(fi, " ", la))
        elif key == "Фамилия Имя":
            v = cat(la, " ", fi)
        elif key == "Имя Фамилия":
            v = cat(fi, " ", la)
        elif key == "Фамилия И.О.":
            v = cat(la, " ", f1, ".", np.where(hm, cat(m1, "."), ""))
        elif key == "Фамилия И. О.":
            v = cat(la, " ", f1, ".", np.where(hm, cat(" ", m1, "."), ""))
        else:  # "Фамилия ИО"
            v = cat(la, " ", f1, m1)
        out[idx] = v
    return out


def latin_first(name: str, scheme: str, t: Tables, r: random.Random) -> str:
    """A first name typed in Latin letters: an English-style spelling or a scheme."""
    variants = t.latin_first.get(name)
    if variants and r.random() < 0.45:
        return variants[0] if r.random() < 0.6 else r.choice(variants)
    return translit.latin(name, scheme)


def person_names_web(
    rng: np.random.Generator, r: random.Random, t: Tables, fmt: np.ndarray, last, first, middle,
    scheme, western, diminutive_rate: float,
) -> np.ndarray:
    """Names as people type them into a lead form (``fmt``: ``Messiness.web_name_formats``)."""
    n = len(fmt)
    fmt = np.asarray(fmt, dtype=object)
    latin = np.isin(fmt, ["Name Surname", "Name", "Surname Name"])
    f_show = np.asarray(first, dtype=object).copy()
    l_show = np.asarray(last, dtype=object).copy()
    schemes = tuple(translit.SCHEME_WEIGHTS)
    own = rng.random(n) < 0.7
    for i in np.flatnonzero(latin & ~western):
        sch = scheme[i] if own[i] else r.choice(schemes)
        f_show[i] = latin_first(first[i], sch, t, r)
        l_show[i] = translit.latin(last[i], sch)
    has_dim = map_distinct(first, lambda x: x in t.diminutive_cyr).astype(bool)
    for i in np.flatnonzero((rng.random(n) < diminutive_rate) & has_dim & ~western):
        f_show[i] = r.choice(t.diminutive_lat[first[i]] if latin[i] else t.diminutive_cyr[first[i]])
    in_cyr = western & (rng.random(n) >= 0.85)
    f_show[in_cyr] = map_distinct(first[in_cyr], lambda x: t.western_cyrillic.get(x, x))
    l_show[in_cyr] = map_distinct(last[in_cyr], lambda x: t.western_cyrillic.get(x, x))
    has_m = pd.notna(middle) & ~western
    mi = np.where(has_m, middle, "")
    out = np.empty(n, dtype=object)
    codes, keys = pd.factorize(fmt)
    for k, key in enumerate(keys):
        i = np.flatnonzero(codes == k)
        f, la = f_show[i], l_show[i]
        if key in ("Имя", "Name"):
            v = f
        elif key in ("Имя Фамилия", "Name Surname"):
            v = cat(f, " ", la)
        elif key in ("Фамилия Имя", "Surname Name"):
            v = cat(la, " ", f)
        elif key == "Фамилия Имя Отчество":
            v = np.where(has_m[i], cat(la, " ", f, " ", mi[i]), cat(la, " ", f))
        else:  # "Имя Отчество"
            v = np.where(has_m[i], cat(f, " ", mi[i]), f)
        out[i] = v
    # foreigners write "First Last" whatever the form suggests
    w = western & ~np.isin(fmt, ["Имя", "Name"])
    out[w] = cat(f_show[w], " ", l_show[w])
    return out


# ---------------------------------------------------------------- phones


def phones(rng: np.random.Generator, numbers: np.ndarray, code_len: np.ndarray, mix: Mapping[str, float]) -> np.ndarray:
    """Numbers (E.164 digits or None) written in a format mix; None stays None."""
    n = len(numbers)
    styles = weighted_keys(rng, mix, n)
    out = np.full(n, None, dtype=object)
    idx = np.flatnonzero(pd.notna(numbers))
    if not len(idx):
        return out
    ser = pd.Series(numbers[idx], dtype="str")
    ru = ((ser.str.len() == 11) & ser.str.startswith("7")).to_numpy()
    for i in idx[~ru]:
        out[i] = format_phone(numbers[i], styles[i], int(code_len[i]))
    ri = idx[ru]
    scodes, skeys = pd.factorize(styles[ri])
    cl = np.asarray(code_len)[ri]
    for k, style in enumerate(skeys):
        prefix, code_fmt, sep = PHONE_STYLES[style]
        for c in np.unique(cl[scodes == k]).tolist():
            sub = ri[(scodes == k) & (cl == c)]
            num = pd.Series(numbers[sub], dtype="str")
            code = num.str.slice(1, 1 + c)
            local = num.str.slice(1 + c)
            head = 10 - c - 4
            if sep:
                local = (local.str.slice(0, head) + sep + local.str.slice(head, head + 2) + sep
                         + local.str.slice(head + 2))
            if code_fmt is None:
                text = local
            else:
                pre, post = code_fmt.split("{}")
                text = prefix + pre + code + post + local
            out[sub] = text.to_numpy(dtype=object)
    return out


# ---------------------------------------------------------------- addresses


class _Geo:
    """Per-city and per-street lookup arrays (built once per tables object)."""

    def __init__(self, t: Tables) -> None:
        self.city = np.array([c.name for c in t.cities], dtype=object)
        self.region = np.array([c.region for c in t.cities], dtype=object)
        self.federal = np.array([c.region == c.name for c in t.cities])
        self.latin = np.array([c.latin for c in t.cities], dtype=object)
        self.official_region = np.array(
            ["г " + c.name if c.region == c.name else f"{c.region.replace(' область', ' обл')}, г {c.name}"
             for c in t.cities],
            dtype=object,
        )
        variants = []
        for c in t.cities:
            vs = sorted({region_short(c.region, random.Random(k)) for k in range(40)})
            variants.append((vs * 4)[:4])
        self.region_variants = np.array(variants, dtype=object)
        aliases = [list(c.aliases) or [c.name] for c in t.cities]
        width = max(len(a) for a in aliases)
        self.alias = np.array([(a * width)[:width] for a in aliases], dtype=object)
        self.alias_n = np.array([len(a) for a in aliases])
        names, kinds = zip(*(x.split("|") for x in t.streets))
        self.street = np.array(names, dtype=object)
        self.kind = np.array(kinds, dtype=object)
        self.adjective = np.array([k == "пр" and n.endswith(("ий", "ый", "ой")) for n, k in zip(names, kinds)])
        self.full_type = np.array([_FULL_TYPE[k] for k in kinds], dtype=object)
        self.short_type = np.array([_SHORT_TYPE[k] for k in kinds], dtype=object)


_GEO: dict[int, _Geo] = {}


def geo(t: Tables) -> _Geo:
    """Lookup arrays for the tables (cached)."""
    if id(t) not in _GEO:
        _GEO[id(t)] = _Geo(t)
    return _GEO[id(t)]


def street_types(rng: np.random.Generator, kinds: np.ndarray) -> np.ndarray:
    """A spelling of each street type ("ул.", "ул", "улица"; "пр-т", "просп.")."""
    out = np.empty(len(kinds), dtype=object)
    codes, keys = pd.factorize(np.asarray(kinds, dtype=object))
    for k, kind in enumerate(keys):
        idx = np.flatnonzero(codes == k)
        opts = _STREET_TYPES[kind]
        names = np.array([o for o, _ in opts], dtype=object)
        w = np.array([x for _, x in opts])
        out[idx] = names[rng.choice(len(names), size=len(idx), p=w / w.sum())]
    return out


def houses(rng: np.random.Generator, house: np.ndarray, korpus: np.ndarray) -> np.ndarray:
    """House numbers with the building ("корпус") in the usual spellings."""
    has_k = pd.notna(korpus)
    k = np.where(has_k, korpus, "")
    style = rng.integers(0, 6, len(house))
    with_k = np.select(
        [style == 0, style == 1, style == 2, style == 3, style == 4],
        [cat(house, " корп. ", k), cat(house, "к", k), cat(house, " к. ", k), cat(house, ", корп. ", k),
         cat(house, " корпус ", k)],
        cat(house, "/", k),
    )
    return np.where(has_k, with_k, house)


def address_free(
    rng: np.random.Generator, r: random.Random, t: Tables, fmt: np.ndarray,
    city, street, house, korpus, flat, postcode,
) -> np.ndarray:
    """Free-text addresses as typed into a CRM (``fmt``: ``Messiness.crm_address_formats``)."""
    g = geo(t)
    n = len(fmt)
    out = np.empty(n, dtype=object)
    cname, sname, kind = g.city[city], g.street[street], g.kind[street]
    stype = street_types(rng, kind)
    adj = g.adjective[street]
    st_before = np.where(adj, cat(sname, " ", stype), cat(stype, " ", sname))
    st_after = cat(sname, " ", stype)
    h = houses(rng, house, korpus)
    hf = pd.notna(flat)
    fl = np.where(hf, flat, "")
    reg_choice = g.region_variants[city, rng.integers(0, 4, n)]
    codes, keys = pd.factorize(np.asarray(fmt, dtype=object))
    for k, key in enumerate(keys):
        i = np.flatnonzero(codes == k)
        c, sb, hh, f, has = cname[i], st_before[i], h[i], fl[i], hf[i]
        if key == "г. Москва, ул. Ленина, д. 5, кв. 12":
            v = cat("г. ", c, ", ", sb, ", д. ", hh, np.where(has, cat(", кв. ", f), ""))
        elif key == "Москва, ул. Ленина, 5-12":
            v = cat(c, ", ", sb, ", ", hh, np.where(has, cat("-", f), ""))
        elif key == "Москва, Ленина 5-12":
            v = cat(c, ", ", sname[i], " ", hh, np.where(has, cat("-", f), ""))
        elif key == "123456, г. Москва, ул. Ленина, д. 5, кв. 12":
            v = cat(postcode[i], ", г. ", c, ", ", sb, ", д. ", hh, np.where(has, cat(", кв. ", f), ""))
        elif key == "г Москва ул Ленина д 5 кв 12":
            nodot = map_distinct(sb, lambda x: x.replace(".", ""))
            v = cat("г ", c, " ", nodot, " д ", hh, np.where(has, cat(" кв ", f), ""))
        elif key == "Москва г, Ленина ул, дом 5, квартира 12":
            v = cat(c, " г, ", st_after[i], ", дом ", hh, np.where(has, cat(", квартира ", f), ""))
        elif key == "ул. Ленина, д. 5, кв. 12":
            v = cat(sb, ", д. ", hh, np.where(has, cat(", кв. ", f), ""))
        elif key == "Московская обл., г. Химки, ул. Ленина, д. 5, кв. 12":
            reg = np.where(g.federal[city[i]], "", cat(reg_choice[i], ", "))
            v = cat(reg, "г. ", c, ", ", sb, ", д. ", hh, np.where(has, cat(", кв. ", f), ""))
        else:  # "Россия, 123456, Московская область, Химки, улица Ленина, дом 5, квартира 12"
            reg = np.where(g.federal[city[i]], "", cat(g.region[city[i]], ", "))
            v = cat("Россия, ", postcode[i], ", ", reg, c, ", ", g.full_type[street[i]], " ", sname[i], ", дом ", hh,
                    np.where(has, cat(", квартира ", f), ""))
        out[i] = v
    return out


def address_official(
    r: random.Random, t: Tables, city, street, house, korpus, flat, postcode, office=None,
    rng: np.random.Generator | None = None,
) -> np.ndarray:
    """Addresses as a billing system prints them: postcode, region, city, street, house."""
    g = geo(t)
    n = len(city)
    rng = rng or np.random.default_rng(r.randrange(2**32))
    has_k = pd.notna(korpus)
    v = cat(postcode, ", ", g.official_region[city], ", ", g.short_type[street], " ", g.street[street], ", д. ", house,
            np.where(has_k, cat(", корп. ", np.where(has_k, korpus, "")), ""))
    if office is not None:
        has_o = pd.notna(office)
        word = np.array([", офис ", ", оф. ", ", пом. "], dtype=object)[rng.integers(0, 3, n)]
        v = np.where(has_o, cat(v, word, np.where(has_o, office, "")), v)
    else:
        has_f = pd.notna(flat)
        v = np.where(has_f, cat(v, ", кв. ", np.where(has_f, flat, "")), v)
    v = np.where(rng.random(n) < 0.1, cat("Россия, ", v), v)
    return v.astype(object)


def city_typed(rng: np.random.Generator, r: random.Random, t: Tables, city: np.ndarray) -> np.ndarray:
    """A city name typed into a form: official, colloquial, lower case, with "г.", in Latin."""
    g = geo(t)
    n = len(city)
    u = rng.random(n)
    name = g.city[city]
    alias = g.alias[city, (rng.random(n) * g.alias_n[city]).astype(np.int64)]
    lower = map_distinct(name, str.lower)
    return np.select(
        [u < 0.55, u < 0.72, u < 0.88, u < 0.94],
        [name, alias, lower, cat("г. ", name)],
        g.latin[city],
    ).astype(object)
