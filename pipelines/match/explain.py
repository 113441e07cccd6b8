"""Why two records match or not, as text: the per-comparison weights as a waterfall.

Pure: takes the explanation table (one row per comparison, the first one the prior) and
returns lines for a terminal. Weights are log2 Bayes factors (Splink's match weights); the
pair's match weight is their sum and its probability is ``2**w / (1 + 2**w)``.
"""

from __future__ import annotations

import math

import pandas as pd

BAR_WIDTH = 20


def probability(match_weight: float) -> float:
    """Match probability of a match weight (log2 odds)."""
    return 1.0 / (1.0 + 2.0 ** (-match_weight))


def _bar(weight: float, scale: float) -> str:
    cells = 0 if scale <= 0 else round(abs(weight) / scale * BAR_WIDTH)
    return ("+" if weight >= 0 else "-") * max(cells, 1 if weight else 0)


def _clip(text: object, width: int) -> str:
    value = "" if text is None or (isinstance(text, float) and math.isnan(text)) else str(text)
    return value if len(value) <= width else value[: width - 1] + "…"


def waterfall(explanation: pd.DataFrame, key_l: str, key_r: str, threshold: float) -> list[str]:
    """Text waterfall: one line per comparison with its level, values, weight and running total.

    ``explanation`` has columns comparison, level, left, right, mw. The last lines give the
    total weight, the probability and whether it reaches ``threshold``.
    """
    scale = max((abs(float(w)) for w in explanation["mw"]), default=1.0)
    lines = [f"{key_l}  vs  {key_r}",
             f"{'comparison':<16} {'level':<34} {'left':<24} {'right':<24} {'weight':>7} {'total':>7}"]
    total = 0.0
    for row in explanation.itertuples(index=False):
        weight = float(row.mw)
        total += weight
        lines.append(f"{_clip(row.comparison, 16):<16} {_clip(row.level, 34):<34} {_clip(row.left, 24):<24} "
                     f"{_clip(row.right, 24):<24} {weight:>+7.2f} {total:>+7.2f} {_bar(weight, scale)}")
    p = probability(total)
    verdict = "linked" if p >= threshold else "not linked"
    lines.append(f"match weight {total:+.2f} -> probability {p:.4f}; threshold {threshold}: {verdict} by the model")
    return lines
