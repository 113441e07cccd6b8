"""Build the rows of each demo source from the true population, with their ground truth.

Each builder returns a :class:`SourceRows`: the table exactly as it will be written (all
cells strings or None, columns in file order) and one truth row per data row. The writers
in ``generate.py`` turn them into files. Column meanings and formats are documented in
``pipelines/demo/__init__.py``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from pipelines.demo import render
from pipelines.demo.inn import corrupt
from pipelines.demo.messiness import (
    Messiness, apply_rate, drop_yo, email_typo, email_upper, extra_spaces, phone_note, phone_typo, recase, typo,
    weighted_keys, with_extension, wrong_layout,
)
from pipelines.demo.population import AS_OF, LEGAL_FULL, Population, object_frame, rng_for
from pipelines.demo.tables import Tables
from pipelines.demo.vtext import cat, fmt_dates, map_distinct

_D = np.timedelta64(1, "D")
_S = np.timedelta64(1, "s")
AS_OF_S = AS_OF.astype("datetime64[s]")

#: Order of the tags in the truth ``note`` column (comma-separated, most important first).
NOTE_TAGS = (
    "test", "spam", "junk", "broken_line", "duplicate_id", "duplicate", "multiline", "partial",
    "namesake", "twin", "surname_change", "stale_phone", "shared_phone", "shared_email", "moved",
    "invalid_inn",
)


@dataclass
class SourceRows:
    """A source's rows (as written) and its truth (one row per data row, same order)."""

    name: str
    frame: pd.DataFrame
    truth: pd.DataFrame
    broken: np.ndarray | None = None              # crm: 0 fine, 1 extra field, 2 cut line
    file_key: np.ndarray | None = None            # web: file each row goes to
    extra: dict = field(default_factory=dict)


# ---------------------------------------------------------------- shared helpers


def _between(rng: np.random.Generator, lo: np.ndarray, hi: np.ndarray, power: float = 1.0) -> np.ndarray:
    """Datetimes (seconds) between ``lo`` and ``hi``; ``power`` > 1 leans towards ``lo``."""
    lo = lo.astype("datetime64[s]")
    hi = hi.astype("datetime64[s]")
    span = np.maximum((hi - lo).astype(np.int64), 0)
    return lo + (rng.random(len(lo)) ** power * span).astype(np.int64) * _S


def _working_time(rng: np.random.Generator, days: np.ndarray, start_h: int = 9, end_h: int = 19) -> np.ndarray:
    """A time of day in working hours on each day."""
    secs = rng.integers(start_h * 3600, end_h * 3600, len(days))
    return days.astype("datetime64[D]").astype("datetime64[s]") + secs * _S


_HOURS = np.array([0.3, 0.15, 0.08, 0.05, 0.05, 0.1, 0.3, 0.6, 0.9, 1.1, 1.3, 1.4,
                   1.5, 1.5, 1.4, 1.4, 1.5, 1.7, 1.9, 2.0, 1.9, 1.6, 1.0, 0.6])


def _day_time(rng: np.random.Generator, days: np.ndarray) -> np.ndarray:
    """A time of day on each day, following when people are awake and online."""
    hour = rng.choice(24, size=len(days), p=_HOURS / _HOURS.sum())
    return days.astype("datetime64[D]").astype("datetime64[s]") + (hour * 3600 + rng.integers(0, 3600, len(days))) * _S


def _ymd(values: np.ndarray) -> np.ndarray:
    """yyyymmdd strings (None for NaT)."""
    return fmt_dates(values, "%Y%m%d")


_EXCEL_EPOCH = np.datetime64("1899-12-30T00:00:00")


def _excel(values: np.ndarray, with_time: bool) -> np.ndarray:
    """Excel 1900-system serials as text: "44927" or "45598.4375"."""
    secs = (values.astype("datetime64[s]") - _EXCEL_EPOCH).astype(np.int64)
    if not with_time:
        return np.array([str(s // 86400) for s in secs], dtype=object)
    return np.array([f"{s / 86400:.5f}".rstrip("0").rstrip(".") for s in secs], dtype=object)


def _notes(n: int, tags: dict[str, np.ndarray]) -> np.ndarray:
    out = np.full(n, "", dtype=object)
    for tag in NOTE_TAGS:
        mask = tags.get(tag)
        if mask is None or not mask.any():
            continue
        out[mask] = np.where(out[mask] == "", tag, out[mask] + "," + tag)
    return np.where(out == "", None, out)


def _snapshot(a: dict[str, np.ndarray], pids: np.ndarray, when: np.ndarray) -> dict[str, np.ndarray]:
    """What was true about each person at the row's date (``when``, datetime64)."""
    day = when.astype("datetime64[D]")
    maiden = a["maiden_name"][pids]
    use_maiden = pd.notna(maiden) & (day < a["marriage_date"][pids])
    prev_m = a["mobile_prev"][pids]
    use_prev_m = pd.notna(prev_m) & (day < a["mobile_change"][pids])
    prev_e = a["email_prev"][pids]
    use_prev_e = pd.notna(prev_e) & (day < a["email_change"][pids])
    use_prev_a = a["moved"][pids] & (day < a["move_date"][pids])
    out = {
        "last": np.where(use_maiden, maiden, a["last_name"][pids]),
        "first": a["first_name"][pids],
        "middle": a["middle_name"][pids],
        "mobile": np.where(use_prev_m, prev_m, a["mobile"][pids]),
        "email": np.where(use_prev_e, prev_e, a["email"][pids]),
        "stale_phone": use_prev_m,
        "surname_change": use_maiden,
        "moved": use_prev_a,
    }
    for part in ("city", "street", "house", "korpus", "flat", "postcode"):
        out[part] = np.where(use_prev_a, a["prev_" + part][pids], a[part][pids])
    return out


def _other_contacts(rng: np.random.Generator, a: dict[str, np.ndarray], pids: np.ndarray, snap: dict[str, np.ndarray],
                    email_share: float, mobile_share: float) -> None:
    """Some rows carry the person's other mailbox or second mobile instead of the main one."""
    e2 = a["email2"][pids]
    use = pd.notna(e2) & (rng.random(len(pids)) < email_share)
    snap["email"] = np.where(use, e2, snap["email"])
    m2 = a["mobile2"][pids]
    use = pd.notna(m2) & (rng.random(len(pids)) < mobile_share)
    snap["mobile"] = np.where(use, m2, snap["mobile"])


def _person_tags(a: dict[str, np.ndarray], pids: np.ndarray, snap: dict[str, np.ndarray], shown_phone: np.ndarray,
                 shown_email: np.ndarray) -> dict[str, np.ndarray]:
    return {
        "namesake": a["namesake"][pids],
        "twin": a["twin"][pids],
        "surname_change": snap["surname_change"],
        "stale_phone": snap["stale_phone"] & shown_phone,
        "shared_phone": a["shared_phone"][pids] & shown_phone,
        "shared_email": a["shared_email"][pids] & shown_email,
        "moved": snap["moved"],
    }


def _truth(source: str, ids: np.ndarray, a: dict[str, np.ndarray], pids: np.ndarray, notes: np.ndarray,
           org: np.ndarray | None = None) -> pd.DataFrame:
    real = pids >= 0
    safe = np.where(real, pids, 0)
    return object_frame({
        "source": np.full(len(ids), source, dtype=object),
        "source_id": ids,
        "entity_id": np.where(real, a["entity_id"][safe], None),
        "household_id": np.where(real, a["household_id"][safe], None),
        "organisation_id": org if org is not None else np.full(len(ids), None, dtype=object),
        "note": notes,
    })


def _code_len(numbers: np.ndarray) -> np.ndarray:
    """Area-code length for rendering: 3 for mobiles, else the landline code length."""
    out = np.full(len(numbers), 3, dtype=np.int64)
    idx = np.flatnonzero(pd.notna(numbers))
    if not len(idx):
        return out
    ser = pd.Series(numbers[idx], dtype="str")
    land = (ser.str.startswith("7") & ~ser.str.startswith("79") & (ser.str.len() == 11)).to_numpy()
    sub = ser[land]
    cl = np.full(len(sub), 3, dtype=np.int64)
    for length in (3, 4, 5):
        codes = [c for c, k in _LANDLINE_CODE_LEN.items() if k == length]
        if codes:
            cl = np.where(sub.str.slice(1, 1 + length).isin(codes).to_numpy(), length, cl)
    out[idx[land]] = cl
    return out


_LANDLINE_CODE_LEN: dict[str, int] = {}


def _init_codes(t: Tables) -> None:
    if not _LANDLINE_CODE_LEN:
        for c in t.cities:
            for code in c.phone_codes:
                _LANDLINE_CODE_LEN[code] = len(code)


def _full_names(a: dict[str, np.ndarray], pids, last) -> np.ndarray:
    first = a["first_name"][pids]
    middle = a["middle_name"][pids]
    return np.array([f"{la} {fi} {mi}" if isinstance(mi, str) else f"{la} {fi}"
                     for la, fi, mi in zip(last, first, middle)], dtype=object)


# ---------------------------------------------------------------- crm

_COMMENTS = (
    "VIP", "постоянный клиент", "звонить после 18:00", "оптовик", "перезвонить", "скидка 5%",
    "жена тоже клиент", "карта лояльности", "не берёт трубку", "предпочитает e-mail", "доставка курьером",
    "самовывоз", "претензия от 12.03, решено", "сотрудник компании", "по рекомендации",
)
_MULTILINE = (
    "Клиент просил перезвонить\nпосле 18:00", "Адрес доставки:\nсо двора, 2 подъезд", "VIP\nскидка 10%",
    "Жалоба на доставку\nвопрос закрыт", "Оптовик\nработает через ИП",
)
_TEST_NAMES = ("Тест Тестович Тестов", "ТЕСТ", "Тестовый клиент", "test test", "Проверка Проверка", "Иванов Тест")


def build_crm(pop: Population, t: Tables, m: Messiness, seed: int) -> SourceRows:
    """CRM clients: managers' typing, internal duplicates, repeated ids, broken lines."""
    _init_codes(t)
    rng = rng_for(seed, "crm")
    r = random.Random(f"{seed}:crm")
    a = pop.persons
    base = np.flatnonzero(a["in_crm"])
    k2 = int(round(len(base) * m.crm_internal_duplicates))
    d2 = rng.choice(base, size=k2, replace=False) if k2 else np.empty(0, dtype=np.int64)
    d3 = d2[rng.random(len(d2)) < 0.1]
    k_test = int(round(len(base) * m.crm_test_records))
    pids = np.concatenate([base, d2, d3, np.full(k_test, -1)])
    dup = np.concatenate([np.zeros(len(base), bool), np.ones(len(d2) + len(d3), bool), np.zeros(k_test, bool)])
    n = len(pids)
    safe = np.where(pids >= 0, pids, 0)
    birth = a["birth_date"][safe]
    lo = np.maximum(birth + 16 * 365 * _D, np.datetime64("2012-01-10"))
    lo = np.where(pids >= 0, lo, np.datetime64("2014-01-01"))
    hi = np.full(n, AS_OF - 2 * _D)
    lo = np.minimum(lo, hi - _D)
    created_day = _between(rng, lo, hi).astype("datetime64[D]")
    # a duplicate is entered later than the first record of the person
    first_created = np.full(len(a["pid"]), np.datetime64("NaT"), dtype="datetime64[D]")
    first_created[base] = created_day[: len(base)]
    later = dup
    delay = rng.integers(20, 1500, int(later.sum())) * _D
    created_day[later] = np.minimum(first_created[pids[later]] + delay, hi[later])
    created = _working_time(rng, created_day)
    touched = rng.random(n) < 0.7
    upd_day = _between(rng, created + 3600 * _S, np.full(n, AS_OF_S - 86400 * _S), power=1.5).astype("datetime64[D]")
    upd_time = _working_time(rng, upd_day)
    nightly = rng.random(n) < 0.08  # bulk updates by the nightly integration job
    upd_time[nightly] = _working_time(rng, upd_day[nightly], 1, 4)
    updated = np.where(touched, np.maximum(upd_time, created + 60 * _S), created + rng.integers(5, 600, n) * _S)

    order = np.lexsort((np.arange(n), created))
    pids, dup, created, updated = pids[order], dup[order], created[order], updated[order]
    gaps = 1 + np.where(rng.random(n) < 0.05, rng.integers(1, 30, n), 0)
    id_num = np.cumsum(gaps)
    width = max(6, len(str(int(id_num[-1]))) if n else 6)

    # the same id exported twice: an older version right before the current one
    k_dup_id = int(round(n * m.crm_duplicate_ids))
    real_rows = np.flatnonzero((pids >= 0) & (updated - created > 86400 * _S))
    dup_rows = np.sort(rng.choice(real_rows, size=min(k_dup_id, len(real_rows)), replace=False))
    older = _working_time(rng, _between(rng, created[dup_rows], updated[dup_rows]).astype("datetime64[D]"))
    older = np.clip(older, created[dup_rows] + 60 * _S, updated[dup_rows] - 60 * _S)
    take = np.sort(np.concatenate([np.arange(n), dup_rows]), kind="stable")
    is_old_version = np.zeros(len(take), dtype=bool)
    first_pos = np.searchsorted(take, dup_rows, side="left")
    is_old_version[first_pos] = True
    pids, dup, created, id_num = pids[take], dup[take], created[take], id_num[take]
    upd = updated[take]
    upd[is_old_version] = older
    updated = upd
    dup_id = np.zeros(len(take), dtype=bool)
    dup_id[first_pos] = True
    dup_id[first_pos + 1] = True
    n = len(pids)
    ids = np.array([f"{x:0{width}d}" for x in id_num], dtype=object)

    real = pids >= 0
    safe = np.where(real, pids, 0)
    snap = _snapshot(a, safe, updated)
    _other_contacts(rng, a, safe, snap, 0.3, 0.0)
    western = a["group"][safe] == "western"
    latin = western & (rng.random(n) < m.crm_foreign_in_latin)
    last = np.where(western & ~latin, a["last_name_cyr"][safe], snap["last"])
    first = np.where(western & ~latin, a["first_name_cyr"][safe], snap["first"])
    fmt = weighted_keys(rng, m.crm_name_formats, n)
    fio = render.person_names_crm(rng, fmt, last, first, snap["middle"])
    fio = drop_yo(fio, rng, m.yo_as_e)
    fio, _ = apply_rate(fio, rng, m.crm_name_typo, typo, r)
    fio, _ = apply_rate(fio, rng, m.extra_spaces, extra_spaces, r)
    test_rows = ~real
    fio[test_rows] = np.asarray(_TEST_NAMES, dtype=object)[rng.integers(0, len(_TEST_NAMES), int(test_rows.sum()))]

    bd = a["birth_date"][safe].copy()
    bd_txt = fmt_dates(bd, "%d.%m.%Y")
    bad = rng.random(n) < m.crm_birth_date_typo
    for i in np.flatnonzero(bad):
        s = bd_txt[i]
        bd_txt[i] = s[:8] + s[9] + s[8] if r.random() < 0.6 else s[1] + s[0] + s[2:]
    bd_txt[(rng.random(n) < m.crm_missing_birth_date) | test_rows] = None

    gender = np.where(a["gender"][safe] == "M", "М", "Ж").astype(object)
    wrong = rng.random(n) < m.crm_wrong_gender
    gender[wrong] = np.where(gender[wrong] == "М", "Ж", "М")
    gender[(rng.random(n) < m.crm_missing_gender) | test_rows] = None

    # phones: "Моб. телефон" the mobile, "Телефон" a landline, office line or second mobile
    mob_num = snap["mobile"].copy()
    mob_num[rng.random(n) < m.crm_missing_mobile] = None
    mob_num, _ = apply_rate(mob_num, rng, m.crm_phone_typo, phone_typo, r)
    land = a["landline"][safe]
    org = a["org_id"][safe]
    org_phone = pd.Series(org).map(pop.orgs.set_index("organisation_id")["phone"]).to_numpy(dtype=object)
    tel_num = np.full(n, None, dtype=object)
    u = rng.random(n)
    use_land = pd.notna(land) & (u < 0.65)
    tel_num[use_land] = land[use_land]
    use_work = ~use_land & pd.notna(org_phone) & (u < 0.8)
    tel_num[use_work] = org_phone[use_work]
    use_m2 = pd.isna(tel_num) & pd.notna(a["mobile2"][safe]) & (rng.random(n) < 0.5)
    tel_num[use_m2] = a["mobile2"][safe][use_m2]
    swap = pd.notna(mob_num) & pd.isna(tel_num) & (rng.random(n) < m.crm_mobile_in_phone_column)
    tel_num[swap] = mob_num[swap]
    mob_num[swap] = None
    mob = render.phones(rng, mob_num, _code_len(mob_num), m.crm_mobile_formats)
    tel = np.full(n, None, dtype=object)
    land_like = pd.notna(tel_num)
    is_mobile_in_tel = np.array([isinstance(x, str) and x.startswith("79") for x in tel_num])
    fixed = land_like & ~is_mobile_in_tel
    tel[fixed] = render.phones(rng, tel_num[fixed], _code_len(tel_num[fixed]), m.crm_landline_formats)
    tel[is_mobile_in_tel] = render.phones(rng, tel_num[is_mobile_in_tel], _code_len(tel_num[is_mobile_in_tel]),
                                          m.crm_mobile_formats)
    ext = a["work_ext"][safe]
    for i in np.flatnonzero(use_work & pd.notna(ext)):
        tel[i] = with_extension(tel[i], ext[i], int(rng.integers(0, 7)))
    two = pd.notna(tel) & pd.notna(a["mobile2"][safe]) & (rng.random(n) < m.crm_two_phones_in_cell) & ~use_m2
    two_idx = np.flatnonzero(two)
    second_txt = render.phones(rng, a["mobile2"][safe][two_idx], np.full(len(two_idx), 3), m.crm_mobile_formats)
    seps = np.array([", ", "; ", " / ", " "], dtype=object)[rng.integers(0, 4, len(two_idx))]
    tel[two_idx] = cat(tel[two_idx], seps, second_txt)
    noted = pd.notna(mob) & (rng.random(n) < m.crm_phone_note)
    for i in np.flatnonzero(noted):
        mob[i] = phone_note(mob[i], int(rng.integers(0, 8)))
    test_phone = np.array(["+7 (999) 999-99-99", "111-11-11", "89000000000", "+7 (000) 000-00-00", None], dtype=object)
    mob[test_rows] = test_phone[rng.integers(0, len(test_phone), int(test_rows.sum()))]
    tel[test_rows] = None

    email = snap["email"].copy()
    email[rng.random(n) < m.crm_missing_email] = None
    email, _ = apply_rate(email, rng, m.crm_email_typo, lambda v, rr: email_typo(v, t, rr), r)
    email, _ = apply_rate(email, rng, m.crm_email_upper, email_upper, r)
    email[test_rows] = np.where(rng.random(int(test_rows.sum())) < 0.5, "test@test.ru", None)

    addr_fmt = weighted_keys(rng, m.crm_address_formats, n)
    addr = render.address_free(rng, r, t, addr_fmt, snap["city"], snap["street"], snap["house"], snap["korpus"],
                               snap["flat"], snap["postcode"])
    addr = drop_yo(addr, rng, m.yo_as_e)
    addr, _ = apply_rate(addr, rng, m.extra_spaces, extra_spaces, r)
    addr[(rng.random(n) < m.crm_missing_address) | test_rows] = None

    consent = a["consent_marketing"][safe] ^ (rng.random(n) < 0.12)
    consent_txt = np.where(consent, "Да", "Нет").astype(object)
    consent_txt[rng.random(n) < 0.2] = None

    managers = _managers(rng_for(seed, "crm-managers"), t, 24)
    manager = managers[rng.integers(0, len(managers), n)]
    comment = np.full(n, None, dtype=object)
    cmask = rng.random(n) < 0.06
    comment[cmask] = np.asarray(_COMMENTS, dtype=object)[rng.integers(0, len(_COMMENTS), int(cmask.sum()))]
    dnc = real & a["do_not_contact"][safe] & (rng.random(n) < 0.35)
    comment[dnc] = np.where(rng.random(int(dnc.sum())) < 0.5, "просит не звонить", "НЕ ЗВОНИТЬ! отказ от рассылки")
    multiline = rng.random(n) < m.crm_multiline
    comment[multiline] = np.asarray(_MULTILINE, dtype=object)[rng.integers(0, len(_MULTILINE), int(multiline.sum()))]

    columns = {
        "Код клиента": ids, "ФИО": fio, "Дата рождения": bd_txt, "Пол": gender, "Телефон": tel,
        "Моб. телефон": mob, "Email": email, "Адрес": addr, "Согласие на рассылку": consent_txt,
        "Дата создания": fmt_dates(created, "%d.%m.%Y"), "Дата изменения": fmt_dates(updated, "%d.%m.%Y %H:%M:%S"),
        "Менеджер": manager, "Комментарий": comment,
    }
    # an older version of a record equals the current one except what changed in between
    old = np.flatnonzero(is_old_version)
    cur = old + 1
    changed = {
        "ФИО": snap["surname_change"][old] != snap["surname_change"][cur],
        "Моб. телефон": snap["mobile"][old] != snap["mobile"][cur],
        "Email": snap["email"][old] != snap["email"][cur],
        "Адрес": snap["moved"][old] != snap["moved"][cur],
    }
    filled_later = rng.choice(["Дата рождения", "Email", "Пол", "Телефон", ""], size=len(old))
    for col, values in columns.items():
        if col == "Дата изменения":
            continue
        keep = changed.get(col, np.zeros(len(old), dtype=bool))
        values[old[~keep]] = values[cur[~keep]]
        values[old[filled_later == col]] = None
    frame = object_frame(columns)

    broken = np.zeros(n, dtype=np.int8)
    bmask = real & ~multiline & (rng.random(n) < m.crm_broken_lines)
    broken[bmask] = np.where(rng.random(int(bmask.sum())) < 0.6, 1, 2)
    # an unquoted ";" needs a comma to replace in the address
    no_addr = (broken == 1) & pd.isna(addr)
    broken[no_addr] = 2

    shown_phone = pd.notna(mob)
    tags = _person_tags(a, safe, snap, shown_phone, pd.notna(email))
    tags = {k: v & real for k, v in tags.items()}
    tags.update({"test": test_rows, "duplicate": dup, "duplicate_id": dup_id, "broken_line": broken > 0,
                 "multiline": multiline})
    notes = _notes(n, tags)
    truth = _truth("crm", ids, a, pids, notes)
    return SourceRows("crm", frame, truth, broken=broken, extra={"created": created})


def _managers(rng: np.random.Generator, t: Tables, k: int) -> np.ndarray:
    sn = t.surnames
    idx = rng.choice(len(sn.male), size=k, p=sn.p_by_group["russian"])
    fem = rng.random(k) < 0.7
    out = []
    for i in range(k):
        g = "f" if fem[i] else "m"
        first = t.first_ru[(g, 1980)].sample(rng, 1)[0]
        father = t.first_ru[("m", 1950)].sample(rng, 1)[0]
        pat = t.patronymic[father][1 if fem[i] else 0]
        last = sn.female[idx[i]] if fem[i] else sn.male[idx[i]]
        out.append(f"{last} {first[0]}.{pat[0]}.")
    return np.asarray(out, dtype=object)


# ---------------------------------------------------------------- web

_TEST_LEADS = ("тест", "Тест Тестов", "test", "TEST", "тест тест", "Test Testov", "проверка", "ТЕСТ ЗАЯВКА",
               "qa test", "Тестовая заявка", "тест не звонить", "Иван Тестовый")
_TEST_PHONES = ("1111111", "123456", "+7 (999) 999-99-99", "89999999999", "+7 (000) 000-00-00", "79000000000",
                "1234567890", "111-11-11", "+7 (111) 111-11-11", "")
_TEST_EMAILS = ("test@test.ru", "test@test.com", "qa@example.com", "", "test@mail.ru", "1@1.ru", "asdf@asdf.ru", "")
_JUNK = ("asdf", "qwerty", "фыва", "йцукен", "ааа", "123", "-", ".", "xxx", "ddd", "jjjjj", "Ghbdtn", "ывапр",
         "zzz", "нет", "...", "ФФФ", "qweqwe")
_SPAM = (
    "Заработок от 150 000 руб/мес {url}", "Выиграй iPhone! >>> {url}", "Кредит без отказа {url}",
    "Crypto bonus 0.5 BTC → {url}", "SEO продвижение сайтов {url}", "Casino Vulkan {url}",
    "Hello! We offer backlinks {url}", "💰 Пассивный доход {url}", "Ставки на спорт {url}",
    "Займ за 5 минут {url}",
)
_SPAM_HOSTS = ("bit.ly", "promo-win.ru", "credit-fast.biz", "t.me", "seo-top.ru", "vulkan-casino.xyz",
               "linkbuild.io", "cutt.ly", "easy-money.top", "clck.ru")
_MESSAGES = ("Хочу узнать цену", "Перезвоните пожалуйста", "Интересует доставка", "Есть ли в наличии?",
             "Нужна консультация", "Когда будет скидка?", "Хочу оформить заказ", "Подскажите по срокам",
             "Please call me back", "Можно в WhatsApp")
_UTM = (("yandex", "cpc"), ("google", "cpc"), ("vk", "social"), ("telegram", "social"), ("email", "email"),
        ("direct", "none"), ("yandex", "organic"), ("google", "organic"), ("partner", "referral"), ("", ""))
_CAMPAIGNS = ("black_friday", "spring_sale", "new_year", "retargeting", "brand", "summer", "8_march", "")
_PAGES = ("/", "/catalog", "/catalog/sale", "/promo", "/contacts", "/delivery", "/product/{n}")


def build_web(pop: Population, t: Tables, m: Messiness, seed: int) -> SourceRows:
    """Web-form leads: self-typed names and contacts, repeated leads, tests, spam, junk."""
    _init_codes(t)
    rng = rng_for(seed, "web")
    r = random.Random(f"{seed}:web")
    a = pop.persons
    base = np.flatnonzero(a["in_web"])
    nb = len(base)
    k2 = int(round(nb * m.web_repeat_leads))
    rep = rng.choice(base, size=k2, replace=False) if k2 else np.empty(0, dtype=np.int64)
    rep3 = rep[rng.random(len(rep)) < 0.15]
    n_test, n_spam, n_junk = (int(round(nb * x)) for x in (m.web_test_leads, m.web_spam_leads, m.web_junk_leads))
    kind = np.concatenate([np.zeros(nb + len(rep) + len(rep3), np.int8), np.full(n_test, 1, np.int8),
                           np.full(n_spam, 2, np.int8), np.full(n_junk, 3, np.int8)])
    pids = np.concatenate([base, rep, rep3, np.full(n_test + n_spam + n_junk, -1)])
    dup = np.concatenate([np.zeros(nb, bool), np.ones(len(rep) + len(rep3), bool),
                          np.zeros(n_test + n_spam + n_junk, bool)])
    n = len(pids)
    real = pids >= 0
    safe = np.where(real, pids, 0)
    lo = np.maximum(a["birth_date"][safe] + 14 * 365 * _D, np.datetime64("2019-01-01"))
    lo = np.where(real, lo, np.datetime64("2019-01-01"))
    hi = np.full(n, AS_OF - _D)
    lo = np.minimum(lo, hi - _D)
    created = _day_time(rng, _between(rng, lo, hi).astype("datetime64[D]"))
    first_lead = np.full(len(a["pid"]), np.datetime64("NaT"), dtype="datetime64[s]")
    first_lead[base] = created[:nb]
    shift = rng.integers(1, 400, int(dup.sum())) * np.where(rng.random(int(dup.sum())) < 0.7, 1, -1)
    created[dup] = np.clip(first_lead[pids[dup]] + shift * 86400 * _S + rng.integers(-3600, 3600, int(dup.sum())) * _S,
                           lo[dup].astype("datetime64[s]"), hi[dup].astype("datetime64[s]"))
    # a lead's first copy is the earliest one: the others are the repeats
    order0 = np.lexsort((np.arange(n), created, pids))
    is_first = np.ones(n, bool)
    sp = pids[order0]
    is_first[order0[1:]] = (sp[1:] != sp[:-1]) | (sp[1:] < 0)
    dup = real & ~is_first

    order = np.lexsort((np.arange(n), created))
    pids, kind, dup, created = pids[order], kind[order], dup[order], created[order]
    real, safe = pids >= 0, np.where(pids >= 0, pids, 0)
    gaps = 1 + np.where(rng.random(n) < 0.03, rng.integers(1, 5, n), 0)
    ids = (100000 + np.cumsum(gaps)).astype(str).astype(object)

    snap = _snapshot(a, safe, created)
    _other_contacts(rng, a, safe, snap, 0.4, 0.25)
    western = a["group"][safe] == "western"
    fmt = weighted_keys(rng, m.web_name_formats, n)
    name = render.person_names_web(rng, r, t, fmt, snap["last"], snap["first"], snap["middle"], a["scheme"][safe],
                                   western, m.web_diminutive)
    name = drop_yo(name, rng, m.yo_as_e)
    name, _ = apply_rate(name, rng, m.web_name_typo, typo, r)
    name = recase(name, rng, m.web_lower, m.web_upper)
    name, _ = apply_rate(name, rng, m.web_wrong_layout, lambda v, rr: wrong_layout(v), r)
    name, _ = apply_rate(name, rng, m.extra_spaces * 2, extra_spaces, r)

    phone_num = snap["mobile"].copy()
    no_mob = pd.isna(phone_num)
    phone_num[no_mob] = a["landline"][safe][no_mob]
    phone_num[rng.random(n) < m.web_missing_phone] = None
    phone_num, _ = apply_rate(phone_num, rng, m.web_phone_typo, phone_typo, r)
    phone = render.phones(rng, phone_num, _code_len(phone_num), m.web_mobile_formats)
    for i in np.flatnonzero(pd.notna(phone) & (rng.random(n) < m.web_phone_extension)):
        phone[i] = with_extension(phone[i], str(rng.integers(10, 999)), int(rng.integers(0, 3)))

    email = snap["email"].copy()
    email[rng.random(n) < m.web_missing_email] = None
    email, _ = apply_rate(email, rng, m.web_email_typo, lambda v, rr: email_typo(v, t, rr), r)
    email, _ = apply_rate(email, rng, m.web_email_upper, email_upper, r)
    email, _ = apply_rate(email, rng, m.extra_spaces, lambda v, rr: v + " ", r)

    city = render.city_typed(rng, r, t, snap["city"])
    city[rng.random(n) < m.web_missing_city] = None

    # leads with just a first name and a phone
    partial = real & np.isin(fmt, ["Имя", "Name"]) & pd.isna(email)
    city[partial & (rng.random(n) < 0.7)] = None

    # junk rows
    for k, names in ((1, _TEST_LEADS), (3, _JUNK)):
        idx = np.flatnonzero(kind == k)
        name[idx] = np.asarray(names, dtype=object)[rng.integers(0, len(names), len(idx))]
        phone[idx] = np.asarray(_TEST_PHONES, dtype=object)[rng.integers(0, len(_TEST_PHONES), len(idx))]
        email[idx] = np.asarray(_TEST_EMAILS, dtype=object)[rng.integers(0, len(_TEST_EMAILS), len(idx))]
    city[~real] = None
    idx = np.flatnonzero(kind == 2)
    urls = [f"https://{_SPAM_HOSTS[x % len(_SPAM_HOSTS)]}/{y:x}"
            for x, y in zip(rng.integers(0, 1000, len(idx)), rng.integers(4096, 10**7, len(idx)))]
    name[idx] = [_SPAM[x % len(_SPAM)].format(url=u) for x, u in zip(rng.integers(0, 1000, len(idx)), urls)]
    spam_num = np.array([f"79{x:09d}" if x % 3 else None for x in rng.integers(0, 10**9, len(idx)).tolist()],
                        dtype=object)
    phone[idx] = render.phones(rng, spam_num, np.full(len(idx), 3), m.web_mobile_formats)
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
    email[idx] = [f"{''.join(r.choice(alphabet) for _ in range(9))}@gmail.com" if x % 2 else None
                  for x in rng.integers(0, 100, len(idx))]
    for col in (phone, email):
        col[:] = np.where(col == "", None, col)

    consent = np.where(rng.random(n) < 0.97, "true", None).astype(object)
    sub = (a["consent_marketing"][safe] ^ (rng.random(n) < 0.15)) & real
    subscribe = np.where(sub, "true", "false").astype(object)
    utm = rng.integers(0, len(_UTM), n)
    msg = np.full(n, None, dtype=object)
    mm = rng.random(n) < 0.25
    msg[mm] = np.asarray(_MESSAGES, dtype=object)[rng.integers(0, len(_MESSAGES), int(mm.sum()))]
    msg[kind == 2] = [f"Посетите {u}" for u in urls]
    pages = np.asarray(_PAGES, dtype=object)[rng.integers(0, len(_PAGES), n)]
    pages = np.array([p.format(n=x) for p, x in zip(pages, rng.integers(100, 99999, n))], dtype=object)
    frame = object_frame({
        "lead_id": ids,
        "created_at": fmt_dates(created, "%Y-%m-%dT%H:%M:%S+03:00"),
        "name": name, "phone": phone, "email": email, "city": city,
        "consent": consent, "subscribe": subscribe,
        "utm_source": np.array([_UTM[i][0] for i in utm], dtype=object),
        "utm_medium": np.array([_UTM[i][1] for i in utm], dtype=object),
        "utm_campaign": np.asarray(_CAMPAIGNS, dtype=object)[rng.integers(0, len(_CAMPAIGNS), n)],
        "page": pages, "message": msg,
    })
    for col in frame.columns:
        v = frame[col].to_numpy()
        frame[col] = pd.Series(np.where(v == "", None, v), dtype=object)
    tags = _person_tags(a, safe, snap, pd.notna(phone), pd.notna(email))
    tags = {k: v & real for k, v in tags.items()}
    tags.update({"test": kind == 1, "spam": kind == 2, "junk": kind == 3, "duplicate": dup, "partial": partial})
    truth = _truth("web", ids, a, pids, _notes(n, tags))
    year = created.astype("datetime64[Y]").astype(np.int64) + 1970
    return SourceRows("web", frame, truth, file_key=year.astype(str).astype(object))


# ---------------------------------------------------------------- loyalty

_LEVELS = ("Silver", "Silver", "Silver", "Gold", "Gold", "Platinum")


def build_loyalty(pop: Population, t: Tables, m: Messiness, seed: int) -> SourceRows:
    """Loyalty cards: separate name and address columns, yyyymmdd dates, consent flags."""
    _init_codes(t)
    rng = rng_for(seed, "loyalty")
    r = random.Random(f"{seed}:loyalty")
    a = pop.persons
    base = np.flatnonzero(a["in_loyalty"])
    k2 = int(round(len(base) * m.loyalty_second_card))
    second = rng.choice(base, size=k2, replace=False) if k2 else np.empty(0, dtype=np.int64)
    pids = np.concatenate([base, second])
    dup = np.concatenate([np.zeros(len(base), bool), np.ones(len(second), bool)])
    n = len(pids)
    lo = np.maximum(a["birth_date"][pids] + 14 * 365 * _D, np.datetime64("2015-03-01"))
    hi = np.full(n, AS_OF - _D)
    lo = np.minimum(lo, hi - _D)
    reg = _between(rng, lo, hi)
    first_reg = np.full(len(a["pid"]), np.datetime64("NaT"), dtype="datetime64[s]")
    first_reg[base] = reg[: len(base)]
    delay = rng.integers(60, 1500, int(dup.sum())) * 86400 * _S
    reg[dup] = np.minimum(first_reg[pids[dup]] + delay, hi[dup].astype("datetime64[s]"))
    upd = np.where(rng.random(n) < 0.75, _between(rng, reg, np.full(n, AS_OF_S - 60 * _S), power=0.5), reg)
    order = np.lexsort((np.arange(n), reg))
    pids, dup, reg, upd = pids[order], dup[order], reg[order], upd[order]
    gaps = 1 + np.where(rng.random(n) < 0.1, rng.integers(1, 50, n), 0)
    card = np.array([f"{x:010d}" for x in 10000 + np.cumsum(gaps)], dtype=object)
    snap = _snapshot(a, pids, upd)
    _other_contacts(rng, a, pids, snap, 0.3, 0.1)
    western = a["group"][pids] == "western"
    cyr = western & (rng.random(n) < 0.3)
    last = np.where(cyr, a["last_name_cyr"][pids], snap["last"]).astype(object)
    first = np.where(cyr, a["first_name_cyr"][pids], snap["first"]).astype(object)
    middle = snap["middle"].copy()
    middle[rng.random(n) < m.loyalty_missing_middle_name] = None
    u = rng.random(n)
    case_up = u < m.loyalty_upper
    case_low = (u >= m.loyalty_upper) & (u < m.loyalty_upper + m.loyalty_lower)
    cols = []
    for col in (last, first, middle):
        col = drop_yo(col, rng, m.yo_as_e)
        col, _ = apply_rate(col, rng, m.loyalty_name_typo, typo, r)
        col[case_up] = [v.upper() if isinstance(v, str) else v for v in col[case_up]]
        col[case_low] = [v.lower() if isinstance(v, str) else v for v in col[case_low]]
        cols.append(col)
    last, first, middle = cols
    swap = rng.random(n) < m.loyalty_swapped_names
    last[swap], first[swap] = first[swap], last[swap].copy()

    sex = np.where(a["gender"][pids] == "M", "M", "F").astype(object)
    sex[rng.random(n) < 0.15] = None
    bd = _ymd(a["birth_date"][pids])
    bd[rng.random(n) < m.loyalty_missing_birth_date] = None
    bd[rng.random(n) < m.loyalty_placeholder_birth_date] = "19000101"

    phone_num = snap["mobile"].copy()
    phone_num[rng.random(n) < 0.02] = None
    phone = render.phones(rng, phone_num, _code_len(phone_num), m.loyalty_phone_formats)
    email = snap["email"].copy()
    email[rng.random(n) < m.loyalty_missing_email] = None
    email, _ = apply_rate(email, rng, m.web_email_typo / 2, lambda v, rr: email_typo(v, t, rr), r)

    no_addr = rng.random(n) < m.loyalty_missing_address
    postcode = snap["postcode"].copy()
    postcode[no_addr | (rng.random(n) < 0.2)] = None
    g = render.geo(t)
    city = g.city[snap["city"]]
    cu = rng.random(n)
    city = np.select([cu < 0.1, cu < 0.18], [cat("г. ", city), map_distinct(city, str.lower)], city).astype(object)
    sname, kind = g.street[snap["street"]], g.kind[snap["street"]]
    x = rng.integers(0, 4, n)
    typed = np.where(kind == "ул", "ул. ", cat(kind, ". "))
    street = np.select([x == 0, x == 2], [cat(typed, sname), cat(sname, " ", kind, ".")], sname).astype(object)
    k = snap["korpus"]
    has_k = pd.notna(k)
    kk = np.where(has_k, k, "")
    hs = snap["house"]
    with_k = np.select([x == 0, x == 1, x == 2], [cat(hs, "к", kk), cat(hs, " корп ", kk), cat(hs, "/", kk)],
                       cat(hs, " к.", kk))
    house = np.where(has_k, with_k, hs).astype(object)
    flat = snap["flat"].copy()
    flat[rng.random(n) < 0.12] = None  # the app does not require the flat
    street = drop_yo(street, rng, m.yo_as_e)
    for col in (city, street, house, flat):
        col[no_addr] = None

    consent_pd = np.where(rng.random(n) < 0.985, "1", "0").astype(object)
    subscribed = np.where(a["consent_marketing"][pids] ^ (rng.random(n) < 0.1), "1", "0").astype(object)
    dnc = a["do_not_contact"][pids] & (rng.random(n) < 0.8)
    dnc_txt = np.where(dnc, "1", "0").astype(object)
    frame = object_frame({
        "card_no": card, "last_name": last, "first_name": first, "middle_name": middle, "sex": sex,
        "birth_date": bd, "phone": phone, "email": email, "postcode": postcode, "city": city,
        "street": street, "house": house, "flat": flat, "consent_pd": consent_pd, "subscribed": subscribed,
        "do_not_contact": dnc_txt, "registered": _ymd(reg), "updated": _ymd(upd),
        "card_level": np.asarray(_LEVELS, dtype=object)[rng.integers(0, len(_LEVELS), n)],
        "store_id": np.array([f"{t.cities[c].latin[:3].upper()}-{s:03d}"
                              for c, s in zip(snap["city"], rng.integers(1, 60, n))], dtype=object),
        "bonus_balance": np.array([f"{x / 100:.2f}" for x in rng.integers(0, 2_000_000, n)], dtype=object),
    })
    tags = _person_tags(a, pids, snap, pd.notna(phone), pd.notna(email))
    tags["duplicate"] = dup
    truth = _truth("loyalty", card, a, pids, _notes(n, tags))
    return SourceRows("loyalty", frame, truth)


# ---------------------------------------------------------------- billing

_TARIFFS = ("Базовый", "Стандарт", "Премиум", "Бизнес", "Бизнес+", "Эконом")


def _company_name(legal: str, name: str, k: int) -> str:
    full = LEGAL_FULL.get(legal, legal)
    return (f'{legal} "{name}"', f"{legal} «{name}»", f'{full} "{name}"', f"{legal} {name}",
            f'"{name}" {legal}', f'{legal} "{name.upper()}"', f'{legal} "{name}"', f"{legal} «{name}»")[k % 8]


def build_billing(pop: Population, t: Tables, m: Messiness, seed: int) -> SourceRows:
    """Billing accounts: individuals, company contacts (10-digit INN), sole traders."""
    _init_codes(t)
    rng = rng_for(seed, "billing")
    r = random.Random(f"{seed}:billing")
    a = pop.persons
    orgs = pop.orgs.set_index("organisation_id")
    ind = np.flatnonzero(a["in_billing"])
    org_id = a["org_id"]
    kinds = pd.Series(org_id).map(orgs["kind"]).to_numpy(dtype=object)
    b2b = np.flatnonzero(kinds == "company")
    branch = b2b[rng.random(len(b2b)) < m.billing_second_account]
    ip = np.flatnonzero(kinds == "sole_trader")
    pids = np.concatenate([ind, b2b, branch, ip])
    typ = np.concatenate([np.full(len(ind), "ФЛ"), np.full(len(b2b) + len(branch), "ЮЛ"),
                          np.full(len(ip), "ИП")]).astype(object)
    dup = np.concatenate([np.zeros(len(ind) + len(b2b), bool), np.ones(len(branch), bool), np.zeros(len(ip), bool)])
    n = len(pids)
    lo = np.maximum(a["birth_date"][pids] + 18 * 365 * _D, np.datetime64("2016-01-11"))
    hi = np.full(n, AS_OF - 3 * _D)
    lo = np.minimum(lo, hi - _D)
    created = _working_time(rng, _between(rng, lo, hi).astype("datetime64[D]"))
    changed = _between(rng, created, np.full(n, AS_OF_S - 3600 * _S), power=0.7)
    updated = np.where(rng.random(n) < 0.75, changed, created)
    order = np.lexsort((np.arange(n), created))
    pids, typ, dup, created, updated = pids[order], typ[order], dup[order], created[order], updated[order]
    acc = np.array([f"{x}" for x in 7_000_000 + np.cumsum(1 + rng.integers(0, 3, n))], dtype=object)
    snap = _snapshot(a, pids, updated)
    _other_contacts(rng, a, pids, snap, 0.3, 0.1)
    is_ul, is_ip, is_fl = typ == "ЮЛ", typ == "ИП", typ == "ФЛ"
    oid = np.where(is_fl, None, org_id[pids]).astype(object)
    o_legal = pd.Series(oid).map(orgs["legal_form"]).to_numpy(dtype=object)
    o_name = pd.Series(oid).map(orgs["name"]).to_numpy(dtype=object)
    o_inn = pd.Series(oid).map(orgs["inn"]).to_numpy(dtype=object)
    o_kpp = pd.Series(oid).map(orgs["kpp"]).to_numpy(dtype=object)
    o_phone = pd.Series(oid).map(orgs["phone"]).to_numpy(dtype=object)

    western = a["group"][pids] == "western"
    full = _full_names(a, pids, snap["last"])
    contact = full.copy()
    ini = is_ul & (rng.random(n) < m.billing_contact_initials)
    contact[ini] = [f"{la} {render.initials(mi if isinstance(mi, str) else None, fi, False)}"
                    for la, fi, mi in zip(snap["last"][ini], snap["first"][ini], snap["middle"][ini])]
    contact = drop_yo(contact, rng, m.yo_as_e)
    up = (rng.random(n) < m.billing_upper) & ~western
    contact[up] = [v.upper() for v in contact[up]]
    contact, _ = apply_rate(contact, rng, m.crm_name_typo / 2, typo, r)

    company = np.full(n, None, dtype=object)
    ks = rng.integers(0, 8, n)
    for i in np.flatnonzero(is_ul):
        company[i] = _company_name(o_legal[i], o_name[i], int(ks[i]))
    for i in np.flatnonzero(is_ip):
        company[i] = (f"ИП {full[i]}", f"ИП {contact[i]}", f"Индивидуальный предприниматель {full[i]}")[ks[i] % 3]

    inn = np.full(n, None, dtype=object)
    inn[is_ul] = o_inn[is_ul]
    inn[is_ip] = a["inn"][pids][is_ip]
    fl_inn = is_fl & (rng.random(n) < m.billing_personal_inn)
    inn[fl_inn] = a["inn"][pids][fl_inn]
    bad_inn = is_ul & (rng.random(n) < m.billing_invalid_inn)
    bad_inn |= (is_fl | is_ip) & pd.notna(inn) & (rng.random(n) < m.billing_invalid_inn / 4)
    for i in np.flatnonzero(bad_inn):
        inn[i] = corrupt(inn[i], int(rng.integers(0, 1000)))
    kpp = np.where(is_ul, o_kpp, None).astype(object)

    passport = np.full(n, None, dtype=object)
    pm = is_fl & (rng.random(n) < m.billing_passport)
    pstyle = rng.integers(0, 3, n)
    for i in np.flatnonzero(pm):
        p = a["passport"][pids[i]]
        passport[i] = (p, p.replace(" ", ""), f"{p[:2]} {p[2:]}")[pstyle[i]]

    # addresses: home for individuals and sole traders, the office for companies
    home = render.address_official(r, t, snap["city"], snap["street"], snap["house"], snap["korpus"], snap["flat"],
                                   snap["postcode"])
    oo = orgs.loc[[o for o in oid[is_ul]]] if is_ul.any() else None
    address = home.copy()
    if oo is not None:
        address[is_ul] = render.address_official(
            r, t, oo["city"].to_numpy(), oo["street"].to_numpy(), oo["house"].to_numpy(), oo["korpus"].to_numpy(),
            np.full(len(oo), None, dtype=object), oo["postcode"].to_numpy(), office=oo["office"].to_numpy(),
        )
    address[is_fl & (rng.random(n) < 0.05)] = None

    land = a["landline"][pids]
    home_line = is_fl & pd.notna(land) & (rng.random(n) < 0.6)
    phone_num = np.where(is_ul, o_phone, np.where(home_line, land, snap["mobile"])).astype(object)
    phone_num = np.where(pd.isna(phone_num), land, phone_num)
    phone = render.phones(rng, phone_num, _code_len(phone_num), m.billing_phone_formats)
    ext = a["work_ext"][pids]
    for i in np.flatnonzero(is_ul & pd.notna(ext) & pd.notna(phone) & (rng.random(n) < 0.7)):
        phone[i] = with_extension(phone[i], ext[i], int(rng.integers(0, 7)))

    email = np.where(is_ul, a["work_email"][pids], snap["email"]).astype(object)
    email[is_fl & (rng.random(n) < m.billing_missing_email)] = None
    email, _ = apply_rate(email, rng, m.crm_email_upper, email_upper, r)

    frame = object_frame({
        "account": acc, "type": typ, "company": company, "inn": inn, "kpp": kpp, "contact_name": contact,
        "passport": passport, "address": address, "phone": phone, "email": email,
        "created": _excel(created, with_time=False), "updated": _excel(updated, with_time=True),
        "tariff": np.asarray(_TARIFFS, dtype=object)[rng.integers(0, len(_TARIFFS), n)],
        "balance": np.array([f"{x / 100:.2f}" for x in rng.integers(-500_000, 5_000_000, n)], dtype=object),
    })
    tags = _person_tags(a, pids, snap, pd.notna(phone) & (typ != "ЮЛ"), pd.notna(email) & (typ != "ЮЛ"))
    tags["duplicate"] = dup
    tags["invalid_inn"] = bad_inn
    truth = _truth("billing", acc, a, pids, _notes(n, tags), org=oid)
    return SourceRows("billing", frame, truth)
