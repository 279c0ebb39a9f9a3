"""Binomial intervals and bands against known values."""

import numpy as np
import pytest

from experiments.analysis.intervals import band, chance_text, wilson


def test_wilson_interval_matches_the_textbook_value():
    # 8 of 10 at 95 %: centre (0.8 + 1.96^2/20) / (1 + 1.96^2/10) = 0.7167, half-width 0.2266 (Wilson 1927)
    low, high = wilson(8, 10)
    assert low == pytest.approx(0.4902, abs=1e-4) and high == pytest.approx(0.9433, abs=1e-4)


def test_wilson_interval_stays_in_the_unit_interval_at_the_edges():
    assert wilson(0, 20)[0] == 0.0 and wilson(0, 20)[1] == pytest.approx(0.1611, abs=1e-4)
    assert wilson(20, 20)[1] == pytest.approx(1.0) and wilson(20, 20)[0] == pytest.approx(1 - 0.1611, abs=1e-4)
    assert all(np.isnan(wilson(0, 0)))


def test_a_ten_run_eighty_percent_is_loose_and_two_hundred_runs_tighten_it():
    assert wilson(8, 10)[0] < 0.5 < 0.7 < wilson(160, 200)[0]
    assert chance_text(145, 200) == "72% (95% interval 66-78%, 200 runs)"


def test_band_is_the_central_ninety_percent():
    assert band(np.arange(101.0)) == pytest.approx((5.0, 95.0))
    assert all(np.isnan(band(np.array([np.nan]))))


def test_every_capital_probability_carries_its_wilson_interval_and_run_count():
    import pandas as pd

    from experiments.batch.capital import capital_probability

    runs = pd.DataFrame({"point_id": [0] * 10 + [1] * 4, "k": [0.1] * 10 + [0.2] * 4,
                         "status": ["ok"] * 13 + ["failed"],
                         "capital": ["east"] * 8 + [None] * 2 + ["west"] * 3 + [None]})
    table = capital_probability(runs, ["k"], ["east", "west"]).set_index("point_id")
    assert table.loc[0, "runs_ok"] == 10 and table.loc[1, "runs_ok"] == 3 and table.loc[1, "runs_failed"] == 1
    assert table.loc[0, "P(capital=east)"] == 0.8
    assert (table.loc[0, "P(capital=east) low"], table.loc[0, "P(capital=east) high"]) == pytest.approx(wilson(8, 10))
    assert (table.loc[1, "P(capital=west) low"], table.loc[1, "P(capital=west) high"]) == pytest.approx(wilson(3, 3))
    assert (table.loc[0, "P(capital=none) low"], table.loc[0, "P(capital=none) high"]) == pytest.approx(wilson(2, 10))
