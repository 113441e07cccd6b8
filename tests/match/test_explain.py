"""The explain waterfall: running totals, probability and verdict."""

from __future__ import annotations

import pandas as pd
import pytest

from pipelines.match.explain import probability, waterfall


@pytest.mark.parametrize(("weight", "expected"), [(0.0, 0.5), (1.0, 2 / 3), (-1.0, 1 / 3), (10.0, 1024 / 1025)])
def test_probability_of_a_weight(weight: float, expected: float) -> None:
    assert probability(weight) == pytest.approx(expected)


def test_waterfall_sums_weights_in_order_and_gives_the_verdict() -> None:
    table = pd.DataFrame({
        "comparison": ["prior", "first_name", "dob", "email"],
        "level": ["", "exact", "day/month swapped", "null"],
        "left": [None, "ivan", "1985-03-05", ""],
        "right": [None, "ivan", "1985-05-03", ""],
        "mw": [-13.0, 6.5, 4.0, 0.0],
    })
    lines = waterfall(table, "crm:1", "web:2", threshold=0.9)
    assert lines[0] == "crm:1  vs  web:2"
    assert lines[3].split()[-2:] == ["-6.50", "++++++++++"]  # first_name: +6.5, total -6.5, half of the widest bar
    assert "-2.50 -> probability 0.1502" in lines[-1] and lines[-1].endswith("not linked by the model")
    table.loc[3, "mw"] = 10.0
    assert waterfall(table, "crm:1", "web:2", threshold=0.9)[-1].endswith(": linked by the model")
