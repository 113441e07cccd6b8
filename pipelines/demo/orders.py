"""Shop orders of CRM customers: heavy-tailed counts, lifetimes, seasonality, prices.

Customers buy at their own pace during an active period that starts when they enter the
CRM and may end long before today (lost customers); order dates follow the retail calendar
(December and Black Friday peaks, 8 March and 23 February, a summer dip, busier weekends).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipelines.demo.messiness import Messiness
from pipelines.demo.population import AS_OF, object_frame, rng_for

_S = np.timedelta64(1, "s")
_MONTH = np.array([0.82, 0.95, 1.08, 0.98, 1.0, 0.9, 0.86, 0.88, 1.0, 1.05, 1.22, 1.55])
_WEEKDAY = np.array([0.92, 0.9, 0.93, 0.97, 1.08, 1.17, 1.03])  # Monday first
#: Average number of orders per CRM client.
ORDERS_PER_CUSTOMER = 3.0

_CHANNELS = ("online", "store", "marketplace", "phone")
_STATUS = ("paid", "cancelled", "returned")


def _day_weights(start: np.datetime64, end: np.datetime64) -> tuple[np.ndarray, np.ndarray]:
    days = np.arange(start, end, dtype="datetime64[D]")
    month = days.astype("datetime64[M]").astype(np.int64) % 12
    dom = (days - days.astype("datetime64[M]").astype("datetime64[D]")).astype(np.int64) + 1
    weekday = (days.astype(np.int64) + 3) % 7  # 1970-01-01 was a Thursday
    w = _MONTH[month] * _WEEKDAY[weekday]
    w = np.where((month == 1) & (dom >= 17) & (dom <= 23), w * 1.6, w)   # 23 February
    w = np.where((month == 2) & (dom >= 3) & (dom <= 8), w * 1.9, w)     # 8 March
    w = np.where((month == 10) & (dom >= 22) & (dom <= 30), w * 1.5, w)  # Black Friday week
    w = np.where((month == 11) & (dom >= 20), w * 1.4, w)                # New Year gifts
    w = np.where((month == 0) & (dom <= 8), w * 0.5, w)                  # New Year holidays
    # the shop grows over the years
    years = (days - start).astype(np.int64) / 365.25
    w = w * (1 + 0.12 * years)
    return days, np.cumsum(w)


def build_orders(crm_ids: np.ndarray, crm_created: np.ndarray, seed: int, m: Messiness) -> pd.DataFrame:
    """Orders referencing CRM client ids (``crm_ids`` unique, ``crm_created`` their dates)."""
    rng = rng_for(seed, "shop")
    k = len(crm_ids)
    start = crm_created.astype("datetime64[D]")
    life = (rng.exponential(3.5 * 365, k)).astype(np.int64)
    end = np.minimum(start + np.maximum(life, 1).astype("timedelta64[D]"), AS_OF)
    # each customer buys at an own yearly rate (gamma: a heavy tail of frequent buyers) for
    # as long as the customer is active; the rates are scaled to ~3 orders per customer
    years = np.maximum((end - start).astype(np.int64), 1) / 365.25
    rate = rng.gamma(0.55, 1.0, k)
    heavy = rng.random(k) < 0.01
    rate[heavy] *= 12
    rate *= ORDERS_PER_CUSTOMER / max(float((rate * years).mean()), 1e-9)
    counts = rng.poisson(rate * years)
    days, cum = _day_weights(np.datetime64("2012-01-01"), AS_OF)
    cust = np.repeat(np.arange(k), counts)
    n = len(cust)
    c0 = np.concatenate([[0.0], cum])
    i_start = (start - days[0]).astype(np.int64).clip(0, len(days) - 1)
    i_end = (end - days[0]).astype(np.int64).clip(1, len(days))
    lo, hi = c0[i_start][cust], c0[i_end][cust]
    u = lo + rng.random(n) * (hi - lo)
    day_idx = np.searchsorted(cum, u, side="left").clip(0, len(days) - 1)
    hour = rng.choice(24, size=n, p=_hour_weights())
    ts = days[day_idx].astype("datetime64[s]") + (hour * 3600 + rng.integers(0, 3600, n)) * _S
    ts = np.minimum(ts, AS_OF.astype("datetime64[s]") - _S)
    level = rng.lognormal(np.log(2300), 0.6, k)
    amount = rng.lognormal(np.log(level[cust]), 0.55)
    kopecks = rng.random(n) < 0.35
    amount = np.where(kopecks, np.round(amount, 2), np.round(amount / 10) * 10 - np.where(rng.random(n) < 0.4, 1, 0))
    amount = np.maximum(amount, 49.0)
    pref = rng.choice(len(_CHANNELS), size=k, p=[0.45, 0.38, 0.12, 0.05])
    chan = np.where(rng.random(n) < 0.8, pref[cust], rng.choice(len(_CHANNELS), size=n, p=[0.45, 0.38, 0.12, 0.05]))
    status = rng.choice(len(_STATUS), size=n, p=[0.89, 0.07, 0.04])
    customer = crm_ids[cust].astype(object)
    unknown = rng.random(n) < m.shop_unknown_customer
    width = len(crm_ids[0]) if k else 6
    top = max((int(x) for x in crm_ids), default=0)
    customer[unknown] = [f"{x:0{width}d}" for x in top + rng.integers(1, 5000, int(unknown.sum()))]
    guest = rng.random(n) < 0.004
    customer[guest] = None
    order = np.lexsort((cust, ts))
    codes = np.array(["SALE10", "WELCOME", "BF2025", "NY2026", "VIP15"], dtype=object)
    promo = np.where(rng.random(n) < 0.08, codes[rng.integers(0, 5, n)], None)
    frame = object_frame({
        "order_id": [f"{x:08d}" for x in 10_000_000 + np.arange(n)],
        "customer_id": customer[order],
        "order_date": ts[order].astype("datetime64[ms]"),
        "amount": amount[order],
        "currency": np.full(n, "RUB", dtype=object),
        "channel": np.asarray(_CHANNELS, dtype=object)[chan[order]],
        "status": np.asarray(_STATUS, dtype=object)[status[order]],
        "promo_code": promo,
    })
    return frame


def _hour_weights() -> np.ndarray:
    w = np.array([0.2, 0.1, 0.05, 0.05, 0.05, 0.1, 0.3, 0.6, 0.9, 1.1, 1.3, 1.4,
                  1.5, 1.5, 1.4, 1.4, 1.5, 1.7, 1.9, 2.0, 1.9, 1.6, 1.0, 0.5])
    return w / w.sum()
