"""The capital: a majority of the trailing window AND a lead over the runner-up; the crossing month; the lead."""

import numpy as np
import pytest

from conftest import make_params, run
from sim.metrics import CapitalTracker, share_lead

IDS = ["a", "b", "rest"]
ELIGIBLE = np.array([True, True, False])


def feed(tracker, months):
    for step, productions in enumerate(months, start=1):
        tracker.update(step, np.array(productions, dtype=float))
    return tracker


def test_a_majority_within_the_margin_is_no_capital():
    tracker = feed(CapitalTracker(IDS, 0.5, 2, ELIGIBLE, margin=0.1), [[52, 46, 2]] * 3)
    assert tracker.current is None  # 52 % against 46 %: a 6-point lead is inside the 10-point margin
    tracker = feed(CapitalTracker(IDS, 0.5, 2, ELIGIBLE, margin=0.05), [[52, 46, 2]] * 3)
    assert tracker.current == "a" and tracker.since == 2  # named once the window is full


def test_the_rest_of_the_country_counts_as_a_runner_up_but_never_leads():
    tracker = feed(CapitalTracker(IDS, 0.5, 1, ELIGIBLE, margin=0.1), [[54, 0, 46]])
    assert tracker.current is None  # a majority, but only 8 points ahead of the rest of the country
    lead = share_lead(tracker.trailing, ELIGIBLE)
    assert lead[0] == pytest.approx(0.08) and lead[1] == pytest.approx(-0.54) and np.isnan(lead[2])
    assert feed(CapitalTracker(IDS, 0.5, 1, ELIGIBLE, margin=0.1), [[60, 0, 40]]).current == "a"


def test_the_crossing_is_the_first_month_a_challenger_overtakes_the_first_leader():
    months = [[60, 40, 0]] * 3 + [[30, 70, 0]] * 4 + [[80, 20, 0]] * 3
    tracker = feed(CapitalTracker(IDS, 0.5, 2, ELIGIBLE, margin=0.1), months)
    # trailing of 2 months: step 4 = (60+30)/(100+100) = 45 % for a: b leads there first
    assert tracker.incumbent == 0 and tracker.challenger == "b" and tracker.crossing == 4
    assert tracker.current == "a"  # a took it back; the crossing stays the first overtaking


def test_no_crossing_while_the_first_leader_keeps_the_lead():
    tracker = feed(CapitalTracker(IDS, 0.5, 2, ELIGIBLE, margin=0.1), [[60, 40, 0]] * 12)
    assert tracker.crossing is None and tracker.challenger is None


@pytest.mark.slow
def test_over_seeds_a_named_capital_always_leads_by_the_margin_and_crossings_are_real():
    """20 seeds of two identical cities (a close race): the rules hold in every run's own table."""
    for seed in range(20):
        model = run(make_params(steps=48, seed=seed))
        summary = model.summary()
        table = model.city_table()
        trailing = table.pivot(index="step", columns="city", values="trailing_share")
        if summary["capital"] is not None:
            assert summary["share_lead"][summary["capital"]] >= model.params.capital_margin - 1e-12
        else:
            last = trailing.iloc[-1]
            top, second = sorted(last, reverse=True)[:2]
            assert top < model.params.capital_threshold or top - second < model.params.capital_margin
        if summary["crossing_step"] is not None:
            at = trailing.loc[summary["crossing_step"]]
            incumbent = trailing.loc[model.params.capital_window].idxmax()
            assert at[summary["challenger"]] > at[incumbent]
